"""Fixtures for the action tests: real actions against a real, migrated, demo-seeded SQLite file.

Nothing is mocked: every action opens its own session through ``ridedesk.db.session`` on the
URL in ``RIDEDESK_DATABASE_URL``, exactly as in the action server. Trackers are built from
tracker-JSON-like dicts (the shape Rasa posts to the action server), some of them kept as
readable JSON files under ``trackers/``; helpers live in ``action_helpers.py``.
"""
from __future__ import annotations

from typing import Any, Dict

import pytest
import yaml
from rasa_sdk import Tracker

from action_helpers import DOMAIN_FILE, Db, Result, point_actions_at, run_action
from ridedesk.db import demo as demo_data
from ridedesk.db.session import dispose_all, session_scope
from ridedesk.settings import get_settings


@pytest.fixture
def db(db_url, monkeypatch):
    """The database the actions use: migrated, seeded with the demo data (relative to now)."""
    point_actions_at(monkeypatch, db_url)
    # Always open, so the tests do not depend on the hour they run at; the closed path
    # sets its own hours.
    monkeypatch.setenv("RIDEDESK_SERVICE_HOURS", "00:00-24:00")
    get_settings.cache_clear()
    assert get_settings().database_url == db_url and get_settings().env == "test"
    with session_scope(db_url) as session:
        demo_data.seed(session)
    yield Db(db_url)
    get_settings.cache_clear()
    dispose_all()


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    """``domain.yml`` as the dict the action server receives."""
    return yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))


@pytest.fixture
def run(domain):
    """``await run(action, tracker)``: runs the action with the real domain."""

    async def _run(action, tracker: Tracker) -> Result:
        return await run_action(action, tracker, domain)

    return _run


@pytest.fixture
def agent_online(db):
    """An agent with a fresh console heartbeat, so riders can be queued for a person."""
    from ridedesk.services.agents import AgentPresence, Agents

    with session_scope(db.url) as session:
        agent = Agents(session).create("xiaowang", "a-long-password-1", "小王")
        AgentPresence(session).heartbeat(agent.id)
    return "xiaowang"
