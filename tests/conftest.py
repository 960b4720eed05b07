"""Shared fixtures: a real, migrated SQLite database per test.

Kept generic on purpose; feature-specific fixtures belong in each subfolder's conftest.
"""
from __future__ import annotations

import shutil

import pytest

from ridedesk.db.session import dispose_engine, migrate, session_factory


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory):
    """A SQLite file built once per test run by running the Alembic migrations."""
    path = tmp_path_factory.mktemp("db-template") / "template.db"
    url = f"sqlite:///{path}"
    migrate(url)
    dispose_engine(url)  # closing the last connection checkpoints the WAL into the file
    return path


@pytest.fixture
def db_url(tmp_path, _migrated_template):
    """URL of a fresh, fully migrated SQLite file database private to this test."""
    path = tmp_path / "ridedesk.db"
    shutil.copyfile(_migrated_template, path)  # much faster than migrating every test
    url = f"sqlite:///{path}"
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
