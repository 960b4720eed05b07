"""Helpers for the action tests: tracker builders, running an action, reading its output.

Imported by the tests as ``action_helpers`` (no package: a ``tests/actions`` package would
shadow the project's own ``actions`` package).
"""
from __future__ import annotations

import copy
import json
import re
import string
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from ridedesk.db import demo as demo_data
from ridedesk.db.session import session_scope
from ridedesk.settings import PROJECT_ROOT, get_settings

DOMAIN_FILE = PROJECT_ROOT / "domain.yml"
TRACKERS = Path(__file__).resolve().parent / "trackers"


def point_actions_at(monkeypatch, url: str) -> None:
    """Makes every action use ``url`` (test env, non-default secrets, fresh settings)."""
    monkeypatch.setenv("RIDEDESK_DATABASE_URL", url)
    monkeypatch.setenv("RIDEDESK_ENV", "test")
    monkeypatch.setenv("RIDEDESK_SECRET_KEY", "actions-test-secret")
    monkeypatch.setenv("RIDEDESK_RASA_TOKEN", "actions-test-token")
    get_settings.cache_clear()


class Db:
    """Reads rows back after an action ran (each call is its own committed session)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def all(self, model, *where) -> List[Any]:
        with session_scope(self.url) as session:
            query = select(model)
            for condition in where:
                query = query.where(condition)
            return list(session.execute(query).scalars())

    def one(self, model, *where) -> Any:
        rows = self.all(model, *where)
        assert len(rows) == 1, f"expected one {model.__name__}, found {len(rows)}"
        return rows[0]

    def get(self, model, key) -> Any:
        with session_scope(self.url) as session:
            return session.get(model, key)

    def session(self):
        return session_scope(self.url)


# --- trackers -------------------------------------------------------------------------------
def user(text: str, intent: Optional[str] = None, entities: Sequence[Dict[str, Any]] = (), **extra) -> Dict[str, Any]:
    """A ``user`` event as Rasa stores it."""
    parse = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9 if intent else 0.0},
        "entities": list(entities),
        "intent_ranking": [{"name": intent, "confidence": 0.9}] if intent else [],
    }
    parse.update(extra)
    return {"event": "user", "text": text, "parse_data": parse, "timestamp": None}


def bot(text: str) -> Dict[str, Any]:
    return {"event": "bot", "text": text, "timestamp": None}


def action(name: str) -> Dict[str, Any]:
    return {"event": "action", "name": name, "timestamp": None}


def slot(name: str, value: Any) -> Dict[str, Any]:
    return {"event": "slot", "name": name, "value": value, "timestamp": None}


def entity(name: str, value: Any) -> Dict[str, Any]:
    return {"entity": name, "value": value, "start": 0, "end": 0, "extractor": "test"}


def default_slots(domain: Dict[str, Any]) -> Dict[str, Any]:
    slots = {name: spec.get("initial_value") for name, spec in domain["slots"].items()}
    slots["requested_slot"] = None
    return slots


def build_tracker(
    domain: Dict[str, Any],
    *,
    sender_id: str = demo_data.DEMO_RIDER,
    slots: Optional[Dict[str, Any]] = None,
    events: Optional[List[Dict[str, Any]]] = None,
    latest_message: Optional[Dict[str, Any]] = None,
    active_loop: Optional[str] = None,
    latest_action_name: Optional[str] = "action_listen",
    paused: bool = False,
    followup_action: Optional[str] = None,
) -> Tracker:
    """A rasa_sdk ``Tracker`` from tracker-JSON-like parts.

    ``latest_message`` defaults to the parse data of the last ``user`` event.
    """
    events = copy.deepcopy(events or [])
    all_slots = default_slots(domain)
    all_slots.update(slots or {})
    unknown = set(all_slots) - set(domain["slots"]) - {"requested_slot"}
    assert not unknown, f"slots not in domain.yml: {unknown}"
    if latest_message is None:
        users = [e for e in events if e["event"] == "user"]
        latest_message = copy.deepcopy(users[-1]["parse_data"]) if users else {"text": "", "intent": {}, "entities": []}
    return Tracker.from_dict(
        {
            "sender_id": sender_id,
            "slots": all_slots,
            "latest_message": latest_message,
            "events": events,
            "paused": paused,
            "followup_action": followup_action,
            "active_loop": {"name": active_loop} if active_loop else {},
            "latest_action_name": latest_action_name,
        }
    )


def load_tracker(domain: Dict[str, Any], name: str, **overrides: Any) -> Tracker:
    """A tracker from ``trackers/<name>.json``; keyword arguments override its fields."""
    state = json.loads((TRACKERS / f"{name}.json").read_text(encoding="utf-8"))
    slots = {**state.get("slots", {}), **overrides.pop("slots", {})}
    state.update(overrides)
    return build_tracker(
        domain,
        sender_id=state.get("sender_id", demo_data.DEMO_RIDER),
        slots=slots,
        events=state.get("events", []),
        latest_message=state.get("latest_message"),
        active_loop=(state.get("active_loop") or {}).get("name") if isinstance(state.get("active_loop"), dict) else state.get("active_loop"),
        latest_action_name=state.get("latest_action_name", "action_listen"),
    )


def form_tracker(
    domain: Dict[str, Any],
    form: str,
    requested: str,
    value: Any,
    *,
    text: Optional[str] = None,
    intent: str = "inform",
    slots: Optional[Dict[str, Any]] = None,
    sender_id: str = demo_data.DEMO_RIDER,
) -> Tracker:
    """The tracker a form validation action gets: the slot candidate at the end of the events."""
    text = str(value) if text is None else text
    current = {"requested_slot": requested, **(slots or {}), requested: value}
    events = [
        action(form),
        slot("requested_slot", requested),
        action("action_listen"),
        user(text, intent),
        slot(requested, value),
    ]
    return build_tracker(domain, sender_id=sender_id, slots=current, events=events, active_loop=form)


# --- running actions ------------------------------------------------------------------------
class Result:
    """What one action run produced: the dispatcher's messages and the returned events."""

    def __init__(self, dispatcher: CollectingDispatcher, events: List[Dict[str, Any]], domain: Dict[str, Any], tracker: Tracker):
        self.dispatcher = dispatcher
        self.messages = dispatcher.messages
        self.events = events
        self.domain = domain
        self.tracker = tracker

    @property
    def responses(self) -> List[str]:
        return [m["response"] for m in self.messages]

    def message(self, response: str) -> Dict[str, Any]:
        found = [m for m in self.messages if m["response"] == response]
        assert len(found) == 1, f"{response} uttered {len(found)} times: {self.responses}"
        return found[0]

    @property
    def texts(self) -> List[str]:
        """Every message rendered with its response template, as the rider would read it."""
        return [render(self.domain, m, self.tracker) for m in self.messages]

    def slots(self) -> Dict[str, Any]:
        """Slot values set by the returned events (last one wins)."""
        return {e["name"]: e["value"] for e in self.events if e.get("event") == "slot"}

    def sets(self, name: str) -> bool:
        return any(e.get("event") == "slot" and e["name"] == name for e in self.events)

    def of_kind(self, kind: str) -> List[Dict[str, Any]]:
        return [e for e in self.events if e.get("event") == kind]

    @property
    def followups(self) -> List[str]:
        return [e["name"] for e in self.of_kind("followup")]

    @property
    def deactivates_loop(self) -> bool:
        return any(e.get("name") is None for e in self.of_kind("active_loop"))


_FIELDS = string.Formatter()


def render(domain: Dict[str, Any], message: Dict[str, Any], tracker: Tracker) -> str:
    """Fills the response template the way Rasa does (message kwargs, then slots).

    Fails when the response does not exist or a placeholder has no value, which would reach
    the rider as a literal ``{ticket_number}``.
    """
    name = message["response"]
    assert name in domain["responses"], f"{name} is not in domain.yml"
    template = domain["responses"][name][0]["text"]
    values = {k: v for k, v in tracker.current_slot_values().items() if v is not None}
    values.update({k: v for k, v in message.items() if v is not None})
    missing = [f for _, f, _, _ in _FIELDS.parse(template) if f and f not in values]
    assert not missing, f"{name}: no value for {missing}"
    return template.format(**values)


async def run_action(action, tracker: Tracker, domain: Dict[str, Any]) -> Result:
    """Runs an action like the action server does; every message must render."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain)
    result = Result(dispatcher, list(events or []), domain, tracker)
    result.texts  # noqa: B018 - renders (and so checks) every message
    return result


def utter_names_in(sources: Iterable[Path]) -> set:
    """Every ``utter_*`` string literal in the given Python files."""
    names = set()
    for path in sources:
        names.update(re.findall(r"[\"'](utter_[a-z0-9_/]+)[\"']", path.read_text(encoding="utf-8")))
    return names
