"""The console's Alembic revision: up, down, and on PostgreSQL."""
from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from ridedesk.db.session import alembic_config, current_revision, downgrade, get_engine, migrate

NEW_TABLES = {"agents", "agent_sessions", "conversation_notes"}


def test_revision_adds_and_removes_the_console_tables(db_url):
    assert current_revision(db_url) == "0002_agent_console"
    assert NEW_TABLES <= set(inspect(get_engine(db_url)).get_table_names())
    downgrade(db_url, "0001_initial")
    get_engine(db_url).dispose()
    assert not NEW_TABLES & set(inspect(get_engine(db_url)).get_table_names())
    migrate(db_url)
    assert current_revision(db_url) == "0002_agent_console"


def test_revision_renders_for_postgresql(capsys):
    command.upgrade(alembic_config("postgresql://u:p@localhost/ridedesk"), "0001_initial:0002_agent_console", sql=True)
    sql = capsys.readouterr().out
    assert "CREATE TABLE agents" in sql and "BOOLEAN NOT NULL" in sql
    assert "CONSTRAINT ck_agents_role CHECK (role IN ('agent', 'admin'))" in sql
    assert "REFERENCES agents (id) ON DELETE CASCADE" in sql
    assert "CREATE TABLE conversation_notes" in sql
