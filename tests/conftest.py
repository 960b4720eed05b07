"""Shared fixtures: a real, migrated SQLite database per test.

Kept generic on purpose; feature-specific fixtures belong in each subfolder's conftest.
"""
from __future__ import annotations

import pytest

from ridedesk.db.session import dispose_engine, migrate, session_factory


@pytest.fixture
def db_url(tmp_path):
    """URL of a fresh SQLite file database built by running the Alembic migrations."""
    url = f"sqlite:///{tmp_path / 'ridedesk.db'}"
    migrate(url)
    yield url
    dispose_engine(url)


@pytest.fixture
def session(db_url):
    """A 2.0-style ORM session on ``db_url``; uncommitted work is rolled back at the end."""
    session = session_factory(db_url)()
    try:
        yield session
    finally:
        session.close()
