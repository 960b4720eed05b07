"""The Rasa HTTP client: retries reads, never repeats a write that may have landed."""
from __future__ import annotations

import asyncio
import socket

import pytest

from ridedesk.console.rasa_client import RasaClient, RasaError


def run(coro):
    return asyncio.new_event_loop().run_until_complete(coro)


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_reads_and_writes_use_the_token_and_quote_the_id(fake_rasa):
    async def go():
        client = RasaClient(fake_rasa.url, "fake-rasa-token", attempts=2)
        try:
            await client.append_events("a/b c", [{"event": "resume"}], side_effects=False)
            tracker = await client.tracker("a/b c")
            await client.trigger_intent("a/b c", "EXTERNAL_handed_back")
            return tracker
        finally:
            await client.close()

    tracker = run(go())
    assert tracker["events"][0]["event"] == "resume"
    assert [(r.method, r.path) for r in fake_rasa.requests] == [
        ("POST", "/conversations/a%2Fb%20c/tracker/events"),
        ("GET", "/conversations/a%2Fb%20c/tracker"),
        ("POST", "/conversations/a%2Fb%20c/trigger_intent"),
    ]
    assert all(r.query["token"] == "fake-rasa-token" for r in fake_rasa.requests)


def test_wrong_token_is_an_error(fake_rasa):
    async def go():
        client = RasaClient(fake_rasa.url, "wrong", attempts=3)
        try:
            await client.tracker("x")
        finally:
            await client.close()

    with pytest.raises(RasaError) as error:
        run(go())
    assert error.value.status == 401
    assert len(fake_rasa.requests) == 1  # a 401 is not transient


def test_a_failed_write_is_not_repeated(fake_rasa):
    fake_rasa.down = True

    async def go():
        client = RasaClient(fake_rasa.url, "fake-rasa-token", attempts=3)
        try:
            await client.append_events("x", [{"event": "bot", "text": "hi"}])
        finally:
            await client.close()

    with pytest.raises(RasaError):
        run(go())
    assert len(fake_rasa.requests) == 1


def test_unreachable_rasa_is_retried_then_reported():
    async def go():
        client = RasaClient(closed_port_url(), "t", attempts=3)
        try:
            await client.tracker("x")
        finally:
            await client.close()

    with pytest.raises(RasaError) as error:
        run(go())
    assert error.value.status is None and "unreachable" in str(error.value)


def test_say_records_then_delivers_and_survives_a_failed_push(fake_rasa):
    fake_rasa.fail_paths.append("/nothing")

    async def go():
        client = RasaClient(fake_rasa.url, "fake-rasa-token", attempts=1)
        try:
            return await client.say("c", "你好", kind="agent", agent="小王")
        finally:
            await client.close()

    assert run(go()) is True
    record, push = fake_rasa.posted()
    assert record.query["execute_side_effects"] == "false" and record.body[0]["text"] == "你好"
    assert push.query["execute_side_effects"] == "true" and push.query["output_channel"] == "latest"
    assert push.body[0]["data"]["custom"]["data"] == {"kind": "agent", "agent": "小王", "text": "你好"}
    assert "text" not in push.body[0]


def test_a_slow_bot_turn_is_waited_for_longer_than_a_plain_request(fake_rasa):
    # On a loaded machine a bot turn can outlast the plain timeout; giving up would make
    # Rasa cancel the turn and the rider would never be asked for a rating.
    fake_rasa.slow_paths = {"/trigger_intent": 1.0, "/tracker/events": 1.0}

    async def go():
        client = RasaClient(fake_rasa.url, "fake-rasa-token", timeout=0.3, attempts=1, turn_timeout=5)
        try:
            turn = await client.trigger_intent("x", "EXTERNAL_handed_back")
            with pytest.raises(RasaError, match="failed"):
                await client.append_events("x", [{"event": "resume"}])
            return turn
        finally:
            await client.close()

    assert run(go())["sender_id"] == "x"
    assert [r.path for r in fake_rasa.posted()] == ["/conversations/x/trigger_intent", "/conversations/x/tracker/events"]
