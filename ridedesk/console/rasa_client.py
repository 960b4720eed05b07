"""A small client for the Rasa server's token-protected HTTP API (what the console needs).

Endpoints used (Rasa 3.6, ``rasa run --enable-api --auth-token ...``):

* ``GET  /conversations/{id}/tracker``: the transcript;
* ``POST /conversations/{id}/tracker/events?output_channel=latest&execute_side_effects=true``:
  append events; with side effects, ``bot`` events are also pushed to the rider's latest
  input channel (socket.io for the widget, room = the session id);
* ``POST /conversations/{id}/trigger_intent?output_channel=latest``: tell the bot an agent handed
  the rider back, so it asks for a rating (a whole bot turn, under the conversation lock).

Retries (tenacity): reads are retried on any transient failure; writes only when the
connection could not be opened at all, because a write that timed out may already have
reached the rider and must not be sent twice.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional
from urllib.parse import quote

import aiohttp
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

logger = logging.getLogger(__name__)


class RasaError(Exception):
    """Rasa could not be reached or refused the request.

    Attributes:
        status: HTTP status, or ``None`` when no response arrived.
    """

    def __init__(self, message: str, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.status = status


class _Transient(RasaError):
    """A failure worth retrying (connection refused, 502/503/504, read timeout on GET)."""


class RasaClient:
    """Talks to one Rasa server.

    Args:
        base_url: e.g. ``http://127.0.0.1:5005``.
        token: The server's ``--auth-token``.
        timeout: Seconds per request.
        attempts: Tries per call (reads; writes only on connection failures).
        turn_timeout: Seconds for a request that runs a whole bot turn (``trigger_intent``).
            It is longer because giving up does not stop the turn cleanly: Rasa's server
            cancels a request whose client has gone, so the rating request would be lost.
    """

    def __init__(
        self, base_url: str, token: str, timeout: float = 10.0, attempts: int = 3, turn_timeout: float = 30.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.turn_timeout = aiohttp.ClientTimeout(total=turn_timeout)
        self.attempts = attempts
        self._session: Optional[aiohttp.ClientSession] = None

    async def close(self) -> None:
        """Closes the connection pool."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    def _url(self, conversation_id: str, suffix: str) -> str:
        return f"{self.base_url}/conversations/{quote(conversation_id, safe='')}/{suffix}"

    async def _request(
        self, method: str, url: str, params: Dict[str, str], body: Any = None,
        timeout: Optional[aiohttp.ClientTimeout] = None,
    ) -> Any:
        is_read = method == "GET"
        params = dict(params, token=self.token)

        async def once() -> Any:
            try:
                async with self._http().request(
                    method, url, params=params, json=body, timeout=timeout or self.timeout
                ) as response:
                    text = await response.text()
                    if response.status in (502, 503, 504) and is_read:
                        raise _Transient(f"Rasa {method} {response.status}", response.status)
                    if response.status >= 400:
                        raise RasaError(f"Rasa {method} {url.split('?')[0]} → {response.status}: {text[:300]}", response.status)
                    return await response.json(content_type=None) if text else None
            except aiohttp.ClientConnectorError as error:  # never reached the server
                raise _Transient(f"Rasa unreachable: {error}") from error
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                if is_read:
                    raise _Transient(f"Rasa {method} failed: {error!r}") from error
                raise RasaError(f"Rasa {method} failed: {error!r}") from error

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=0.2, max=2),
            retry=retry_if_exception(lambda e: isinstance(e, _Transient)),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await once()
        except _Transient as error:
            raise RasaError(str(error), error.status) from error
        raise RasaError("unreachable")  # pragma: no cover

    # --- API ------------------------------------------------------------------------------
    async def tracker(self, conversation_id: str) -> Dict[str, Any]:
        """The conversation's tracker (events after the last restart)."""
        return await self._request("GET", self._url(conversation_id, "tracker"), {}) or {}

    async def append_events(
        self, conversation_id: str, events: List[Dict[str, Any]], *, side_effects: bool = True
    ) -> Dict[str, Any]:
        """Appends events; ``bot`` events reach the rider's channel when ``side_effects``."""
        params = {"output_channel": "latest", "execute_side_effects": "true" if side_effects else "false"}
        return await self._request("POST", self._url(conversation_id, "tracker/events"), params, events) or {}

    async def trigger_intent(self, conversation_id: str, intent: str) -> Dict[str, Any]:
        """Injects an external intent; the bot answers it on the rider's latest channel.

        Unlike ``/execute``, this runs a whole bot turn under Rasa's conversation lock and
        ends with ``action_listen``, so a rider answering at once is never handled mid-turn.
        """
        params = {"output_channel": "latest"}
        path = self._url(conversation_id, "trigger_intent")
        return await self._request("POST", path, params, {"name": intent}, timeout=self.turn_timeout) or {}

    # --- what the console says in a conversation ------------------------------------------
    async def say(self, conversation_id: str, text: str, *, kind: str, agent: Optional[str] = None) -> bool:
        """Records a message in the transcript and pushes it to the rider's widget.

        Two appends, because Rasa's socket.io output sends only ``{"text": ...}`` for a text
        message and drops the metadata, so the widget could not tell an agent (小王) from the
        bot:

        1. the record: ``{"event": "bot", "text", "metadata": {"agent", "kind"}}`` without
           side effects: this is the transcript (console, widget history, summaries);
        2. the delivery: a ``bot`` event without text whose ``data.custom`` makes Rasa emit
           ``bot_uttered`` with ``{"kind", "agent", "text"}`` on the rider's channel
           (``output_channel=latest``).

        Returns:
            True if delivered; False if recorded but the push failed (the widget still shows
            it from the history when it reconnects).

        Raises:
            RasaError: the record could not be stored (nothing was sent).
        """
        metadata: Dict[str, Any] = {"kind": kind}
        if agent is not None:
            metadata["agent"] = agent
        await self.append_events(
            conversation_id, [{"event": "bot", "text": text, "metadata": metadata}], side_effects=False
        )
        payload = dict(metadata, text=text)
        delivery = {
            "event": "bot",
            "metadata": dict(metadata, delivery=True),
            "data": {"custom": {"data": payload}},
        }
        try:
            await self.append_events(conversation_id, [delivery])
        except RasaError as error:
            logger.warning("recorded but not delivered to %s: %s", conversation_id, error)
            return False
        return True

    async def resume(self, conversation_id: str) -> None:
        """Hands the conversation back to the bot (``resume`` event)."""
        await self.append_events(conversation_id, HAND_BACK, side_effects=False)


RESUME = {"event": "resume"}
# The bot paused right after action_handoff, before listening; the hand-back completes that
# turn so the next intent is predicted from a normal "bot is listening" state.
HAND_BACK = [RESUME, {"event": "action", "name": "action_listen"}]

__all__ = ["RasaClient", "RasaError", "RESUME", "HAND_BACK"]
