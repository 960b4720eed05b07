"""Migrations build exactly the models' schema, and the session layer behaves."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from ridedesk.db import demo
from ridedesk.db.__main__ import main as db_cli
from ridedesk.db.models import Base, Rider
from ridedesk.db.session import (
    current_revision,
    dispose_engine,
    downgrade,
    get_engine,
    migrate,
    session_scope,
)

TABLES = {
    "riders",
    "bikes",
    "orders",
    "deposits",
    "tickets",
    "ticket_events",
    "handoffs",
    "survey_responses",
    "agents",
    "agent_sessions",
    "conversation_notes",
}
HEAD = "0002_agent_console"
REPO_ROOT = Path(__file__).resolve().parents[2]


def test_migrations_create_all_tables(db_url):
    names = set(inspect(get_engine(db_url)).get_table_names())
    assert names == TABLES | {"alembic_version"}
    assert current_revision(db_url) == HEAD


def test_migrated_schema_matches_models_exactly(db_url):
    with get_engine(db_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_partial_unique_indexes_are_partial(db_url):
    with get_engine(db_url).connect() as connection:
        sql = dict(
            connection.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name LIKE 'ux_%'")
            ).all()
        )
    assert "WHERE status IN ('open', 'in_progress')" in sql["ux_tickets_active_subject"]
    assert "WHERE status IN ('waiting', 'claimed')" in sql["ux_handoffs_active_conversation"]


def test_downgrade_base_drops_everything_and_upgrade_again(db_url):
    downgrade(db_url, "base")
    assert set(inspect(get_engine(db_url)).get_table_names()) <= {"alembic_version"}
    assert current_revision(db_url) is None
    migrate(db_url)
    assert TABLES <= set(inspect(get_engine(db_url)).get_table_names())


def test_downgrade_works_with_data_present(db_url, session, clock):
    demo.seed(session, clock)
    session.commit()
    session.close()
    downgrade(db_url, "base")
    assert current_revision(db_url) is None


def test_migration_renders_for_postgresql(tmp_path, capsys):
    """Offline SQL for PostgreSQL: the same revision must work on the production backend."""
    from alembic import command

    from ridedesk.db.session import alembic_config

    command.upgrade(alembic_config("postgresql://u:p@localhost/ridedesk"), "head", sql=True)
    sql = capsys.readouterr().out
    assert "CREATE TABLE tickets" in sql and "TIMESTAMP WITH TIME ZONE" in sql
    assert "CREATE UNIQUE INDEX ux_tickets_active_subject ON tickets (subject_key) WHERE status IN ('open', 'in_progress')" in sql
    assert "CREATE UNIQUE INDEX ux_handoffs_active_conversation ON handoffs (conversation_id) WHERE status IN ('waiting', 'claimed')" in sql
    assert "JSON" in sql
    # Check constraints carry the names the models give them, prefixed once.
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateTable

    from ridedesk.db.models import Base

    rendered = "".join(str(CreateTable(t).compile(dialect=postgresql.dialect())) for t in Base.metadata.sorted_tables)
    model_checks = set(re.findall(r"CONSTRAINT (ck_\w+) CHECK", rendered))
    migration_checks = set(re.findall(r"CONSTRAINT (ck_\w+) CHECK", sql))
    assert model_checks and model_checks == migration_checks
    assert not any(name.count("ck_") > 1 for name in migration_checks)


def test_sqlite_pragmas(db_url):
    with get_engine(db_url).connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_foreign_keys_are_enforced(session, clock):
    from ridedesk.db.models import Deposit

    session.add(Deposit(rider_id="nobody", amount_fen=100, status="held", paid_at=clock()))
    with pytest.raises(IntegrityError):
        session.flush()


def test_engine_is_cached_per_url(db_url, tmp_path):
    assert get_engine(db_url) is get_engine(db_url)
    other = f"sqlite:///{tmp_path / 'other.db'}"
    try:
        assert get_engine(other) is not get_engine(db_url)
    finally:
        dispose_engine(other)


def test_session_scope_commits_and_rolls_back(db_url, clock):
    with session_scope(db_url) as session:
        session.add(Rider(id="kept", created_at=clock()))
    with pytest.raises(RuntimeError):
        with session_scope(db_url) as session:
            session.add(Rider(id="dropped", created_at=clock()))
            session.flush()
            raise RuntimeError("boom")
    with session_scope(db_url) as session:
        assert session.get(Rider, "kept") is not None
        assert session.get(Rider, "dropped") is None


def test_times_come_back_as_aware_utc(db_url, clock):
    with session_scope(db_url) as session:
        session.add(Rider(id="tz", created_at=clock()))
    with session_scope(db_url) as session:
        created = session.get(Rider, "tz").created_at
    assert created == clock()
    assert created.utcoffset().total_seconds() == 0


def test_import_does_not_touch_the_database(tmp_path):
    target = tmp_path / "never.db"
    code = "import ridedesk.db, ridedesk.db.demo, ridedesk.services"
    env = {"RIDEDESK_DATABASE_URL": f"sqlite:///{target}", "PATH": ""}
    subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, check=True)
    assert not target.exists()


def test_cli_migrate_seed_and_reset(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    try:
        assert db_cli(["--url", url, "migrate"]) == 0
        assert current_revision(url) == HEAD
        assert db_cli(["--url", url, "seed"]) == 0
        assert "orders=15" in capsys.readouterr().out
        assert db_cli(["--url", url, "seed"]) == 0
        assert "orders=0" in capsys.readouterr().out  # idempotent
        assert db_cli(["--url", url, "reset", "--yes"]) == 0
        assert "orders=15" in capsys.readouterr().out
    finally:
        dispose_engine(url)


def test_cli_reset_refused_outside_development(tmp_path, monkeypatch):
    from ridedesk.settings import get_settings

    monkeypatch.setenv("RIDEDESK_ENV", "test")
    monkeypatch.setenv("RIDEDESK_SECRET_KEY", "test-secret")
    monkeypatch.setenv("RIDEDESK_RASA_TOKEN", "test-token")
    get_settings.cache_clear()
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    try:
        assert db_cli(["--url", url, "reset", "--yes"]) == 2
        assert not (tmp_path / "cli.db").exists()
    finally:
        get_settings.cache_clear()
        dispose_engine(url)


def test_alembic_cli_from_repo_root(tmp_path):
    url = f"sqlite:///{tmp_path / 'alembic.db'}"
    alembic = Path(sys.executable).with_name("alembic")
    subprocess.run(
        [str(alembic), "-x", f"url={url}", "upgrade", "head"],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    )
    try:
        assert current_revision(url) == HEAD
    finally:
        dispose_engine(url)
