"""Turns a Rasa tracker (``GET /conversations/{id}/tracker``) into a plain transcript.

One message per rider utterance, bot reply, agent reply or system notice::

    {"role": "rider"|"bot"|"agent"|"system", "text": str, "timestamp": float,
     "agent": "小王"|None, "buttons": [{"title", "payload"}], "display_text": str|None,
     "intent": str|None}

Agent replies and notices are recorded as ``bot`` events with ``metadata.kind`` ``agent`` /
``system``. Each one is sent to Rasa twice (see :mod:`ridedesk.console.messaging`): the
record (with ``text``) and a delivery event (no ``text``, ``metadata.delivery``) that pushes
the labelled payload to the widget; only the record is part of the transcript.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

MAX_TEXT = 4000
# A Rasa button payload is an intent with entities (``/rate_service{"rating": 5}``); keep
# only payloads of that shape so nothing else can ride along into the widget.
_PAYLOAD = re.compile(r"^/[A-Za-z0-9_]+(\{.*\})?$", re.S)


def _text(value: Any) -> str:
    return value[:MAX_TEXT] if isinstance(value, str) else ""


def _buttons(data: Any) -> List[Dict[str, str]]:
    if not isinstance(data, dict):
        return []
    found = data.get("buttons") or data.get("quick_replies") or []
    buttons = []
    for button in found if isinstance(found, list) else []:
        if not isinstance(button, dict):
            continue
        title, payload = _text(button.get("title")), _text(button.get("payload"))
        if title and _PAYLOAD.match(payload or ""):
            buttons.append({"title": title, "payload": payload})
    return buttons


def messages_from_tracker(tracker: Optional[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The transcript of a tracker dump, oldest first (events Rasa returned)."""
    messages: List[Dict[str, Any]] = []
    for event in (tracker or {}).get("events") or []:
        if not isinstance(event, dict):
            continue
        kind = event.get("event")
        metadata = event.get("metadata") if isinstance(event.get("metadata"), dict) else {}
        timestamp = event.get("timestamp")
        if kind == "user":
            text = _text(event.get("text"))
            if not text:
                continue
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            display = metadata.get("display_text")
            messages.append(
                {
                    "role": "rider",
                    "text": text,
                    "timestamp": timestamp,
                    "agent": None,
                    "buttons": [],
                    "display_text": _text(display) or None,
                    "intent": intent if isinstance(intent, str) else None,
                }
            )
        elif kind == "bot":
            if metadata.get("delivery"):
                continue
            text = _text(event.get("text"))
            buttons = _buttons(event.get("data"))
            if not text and not buttons:
                continue
            role = metadata.get("kind") if metadata.get("kind") in ("agent", "system") else "bot"
            agent = _text(metadata.get("agent")) or None if role == "agent" else None
            messages.append(
                {
                    "role": role,
                    "text": text,
                    "timestamp": timestamp,
                    "agent": agent,
                    "buttons": buttons if role == "bot" else [],
                    "display_text": None,
                    "intent": None,
                }
            )
    return messages


def is_paused(tracker: Optional[Dict[str, Any]]) -> bool:
    """True if the bot is paused (a hand-off is in progress)."""
    return bool((tracker or {}).get("paused"))


__all__ = ["messages_from_tracker", "is_paused"]
