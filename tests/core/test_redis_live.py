"""``endpoints.multi.yml`` on live services: Redis lock store and PostgreSQL tracker store.

Several ``rasa run`` processes share conversations through the stores configured in
``endpoints.multi.yml``. These tests load that file with Rasa's own reader, build the stores
with Rasa's own factories, and check what several processes rely on: one conversation is
processed by one process at a time (the Redis ticket lock), other conversations are not held
up, and a tracker written by one process is read by another. Each "process" is a separate
store instance with its own connections. A throwaway ``redis-server`` is started for the
session; without it (or without PostgreSQL, for the tracker test) these tests skip, or fail
when ``CI`` is set.
"""
from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import redis
from rasa.core.lock_store import LockStore, RedisLockStore
from rasa.core.utils import AvailableEndpoints

from tests.net import free_port

from .conftest import REDIS_INSTALL_HINT, require_tool

ROOT = Path(__file__).resolve().parents[2]
ENDPOINTS = ROOT / "endpoints.multi.yml"
# Short polling so the tests are quick; Rasa's default is one second between attempts.
POLL = 0.05


@pytest.fixture(scope="session")
def redis_port(tmp_path_factory) -> Iterator[int]:
    """Port of a throwaway ``redis-server`` on 127.0.0.1, without persistence."""
    binary = shutil.which("redis-server")
    require_tool(binary is not None, f"redis-server not found on PATH: {REDIS_INSTALL_HINT}")
    workdir = tmp_path_factory.mktemp("redis")
    for _attempt in range(3):  # the free port may be taken between probe and start
        port = free_port()
        # No RDB snapshots, no AOF: nothing is written, nothing survives the test run.
        process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
             "--dir", str(workdir), "--logfile", str(workdir / "redis.log"), "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process.poll() is None:
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        client.close()
        if process.poll() is None and time.monotonic() < deadline:
            break
        process.kill()
        process.wait(10)
    else:
        log = workdir / "redis.log"
        pytest.fail(f"redis-server did not start:\n{log.read_text() if log.exists() else ''}")
    try:
        yield port
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def multi_env(monkeypatch, redis_port):
    """The environment ``endpoints.multi.yml`` reads, pointing at the live Redis.

    Rasa expands every ``${...}`` of the file when it loads it, so the tracker store's
    variables must exist too; placeholders suffice for tests that never build that store
    (the tracker store test replaces them with the live PostgreSQL's).
    """
    values = {
        "RIDEDESK_ACTION_ENDPOINT": "http://127.0.0.1:5055/webhook",
        "RIDEDESK_TRACKER_HOST": "127.0.0.1",
        "RIDEDESK_TRACKER_PORT": "5432",
        "RIDEDESK_TRACKER_DB": "unused",
        "RIDEDESK_TRACKER_USER": "unused",
        "RIDEDESK_TRACKER_PASSWORD": "unused",
        "RIDEDESK_REDIS_HOST": "127.0.0.1",
        "RIDEDESK_REDIS_PORT": str(redis_port),
        "RIDEDESK_REDIS_DB": "3",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def endpoints(multi_env) -> AvailableEndpoints:
    """``endpoints.multi.yml`` as ``rasa run --endpoints endpoints.multi.yml`` reads it."""
    return AvailableEndpoints.read_endpoints(str(ENDPOINTS))


def _lock_stores(endpoints: AvailableEndpoints):
    # Two factory calls, two Redis clients: what two `rasa run` processes would have.
    first, second = LockStore.create(endpoints.lock_store), LockStore.create(endpoints.lock_store)
    assert isinstance(first, RedisLockStore) and isinstance(second, RedisLockStore)
    assert first.red is not second.red
    return first, second


def test_endpoints_file_reads_every_setting_from_the_environment(endpoints, multi_env, redis_port):
    assert endpoints.action.url == multi_env["RIDEDESK_ACTION_ENDPOINT"]
    tracker = endpoints.tracker_store
    assert (tracker.type, tracker.url) == ("SQL", "127.0.0.1")
    assert tracker.kwargs == {"dialect": "postgresql", "port": "5432", "db": "unused",
                              "username": "unused", "password": "unused"}
    lock = endpoints.lock_store
    assert (lock.type, lock.url) == ("redis", "127.0.0.1")
    assert lock.kwargs == {"port": str(redis_port), "db": "3", "key_prefix": "ridedesk"}


async def test_two_processes_take_turns_on_one_conversation(endpoints, redis_port):
    first, second = _lock_stores(endpoints)
    conversation = f"rider-{uuid.uuid4().hex}"
    timeline = []
    first_holds, first_may_finish = asyncio.Event(), asyncio.Event()

    async def process_one():
        async with first.lock(conversation, wait_time_in_seconds=POLL):
            timeline.append("one starts")
            first_holds.set()
            await first_may_finish.wait()
            timeline.append("one ends")

    async def process_two():
        await first_holds.wait()  # the rider's second message arrives while the first runs
        async with second.lock(conversation, wait_time_in_seconds=POLL):
            timeline.append("two starts")

    tasks = [asyncio.create_task(process_one()), asyncio.create_task(process_two())]
    await first_holds.wait()
    await asyncio.sleep(10 * POLL)  # process two polls the lock several times meanwhile
    assert timeline == ["one starts"]
    # Both tickets live in the shared Redis, under the configured prefix: process one's is
    # being served, process two's waits behind it.
    lock = first.get_lock(conversation)
    assert [ticket.number for ticket in lock.tickets] == [0, 1] and lock.now_serving == 0
    raw = redis.Redis(host="127.0.0.1", port=redis_port, db=3)
    assert raw.exists(f"ridedesk:lock:{conversation}")
    first_may_finish.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)
    assert timeline == ["one starts", "one ends", "two starts"]
    # The last one out deletes the lock: no key is left behind.
    assert second.get_lock(conversation) is None and not raw.exists(f"ridedesk:lock:{conversation}")
    raw.close()


async def test_other_conversations_are_not_held_up(endpoints):
    first, second = _lock_stores(endpoints)
    busy, other = f"rider-{uuid.uuid4().hex}", f"rider-{uuid.uuid4().hex}"
    async with first.lock(busy, wait_time_in_seconds=POLL):
        started = time.monotonic()
        # Rasa's default one-second wait: acquiring without a single retry is well under it.
        async with second.lock(other, wait_time_in_seconds=1):
            waited = time.monotonic() - started
        assert first.get_lock(busy).now_serving == 0  # still held by process one
    assert waited < 0.5


async def test_tracker_written_by_one_process_is_read_by_another(endpoints, monkeypatch, postgres_cluster):
    from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    import rasa.core.tracker_store as tracker_store_module

    database = f"rasa_{uuid.uuid4().hex[:8]}"
    postgres_cluster.create_database(database)
    for name, value in {
        "RIDEDESK_TRACKER_HOST": postgres_cluster.host,
        "RIDEDESK_TRACKER_PORT": str(postgres_cluster.port),
        "RIDEDESK_TRACKER_DB": database,
        "RIDEDESK_TRACKER_USER": postgres_cluster.user,
        "RIDEDESK_TRACKER_PASSWORD": postgres_cluster.password,
    }.items():
        monkeypatch.setenv(name, value)

    def refuse_to_retry(_seconds):
        # Rasa retries an unreachable database forever (sleep(5) in a loop); a wrong
        # setting must fail this test, not hang it.
        raise AssertionError("SQLTrackerStore could not connect with endpoints.multi.yml")

    monkeypatch.setattr(tracker_store_module, "sleep", refuse_to_retry)
    config = AvailableEndpoints.read_endpoints(str(ENDPOINTS)).tracker_store
    domain = Domain.load(str(ROOT / "domain.yml"))
    writer = TrackerStore.create(config, domain=domain)
    reader = TrackerStore.create(config, domain=domain)
    try:
        for store in (writer, reader):
            assert isinstance(store, SQLTrackerStore)
            assert store.engine.dialect.name == "postgresql" and store.engine.url.database == database
        sender = f"rider-{uuid.uuid4().hex}"
        tracker = DialogueStateTracker.from_events(
            sender,
            [
                ActionExecuted("action_listen"),
                UserUttered("我的车刹车坏了", intent={"name": "inform", "confidence": 0.98}),
            ],
            slots=domain.slots,
        )
        await writer.save(tracker)
        restored = await reader.retrieve(sender)
        assert restored is not None and restored.sender_id == sender
        user_events = [event for event in restored.events if isinstance(event, UserUttered)]
        assert [(e.text, e.intent_name) for e in user_events] == [("我的车刹车坏了", "inform")]
        assert restored.latest_message.text == "我的车刹车坏了"
        assert sender in await reader.keys()
    finally:
        for store in (writer, reader):
            store.engine.dispose()
