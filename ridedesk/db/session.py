"""Engines, sessions and migrations.

Nothing touches the database at import time: engines are created on first use and cached
per URL, so importing ``ridedesk`` in the Rasa action server, the console or a test is free.

SQLite specifics (the development and test backend):
    * ``foreign_keys=ON`` on every connection (SQLite ignores FKs otherwise);
    * WAL journal, so readers never block the single writer;
    * every transaction starts with ``BEGIN IMMEDIATE``. pysqlite's default deferred
      transactions fail with "database is locked" when two writers both read first and then
      try to write; taking the write lock up front makes concurrent writers simply queue
      (up to the busy timeout). It also makes SAVEPOINTs work, which the idempotent
      ``open``/``enqueue`` paths rely on.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, Optional

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.engine.url import URL
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Seconds a writer waits for SQLite's write lock before giving up.
SQLITE_BUSY_TIMEOUT = 30

_engines: Dict[str, Engine] = {}
_factories: Dict[str, sessionmaker] = {}
_lock = threading.Lock()


def _resolve_url(url: Optional[str]) -> str:
    if url is not None:
        return str(url)
    from ridedesk.settings import get_settings

    return get_settings().database_url


def _prepare_sqlite_file(url: URL) -> None:
    """Creates the parent directory of a file database (e.g. ``var/``) on first use."""
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # pragma: no cover - trivial
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see module doc).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # Recommended with WAL: no fsync per commit, still never corrupts the database.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # pragma: no cover - trivial
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def get_engine(url: Optional[str] = None) -> Engine:
    """Returns the engine for ``url`` (default: ``settings.database_url``), cached per URL.

    Args:
        url: SQLAlchemy database URL; ``None`` uses the configured one.

    Returns:
        A 2.0-style (``future=True``) engine.
    """
    key = _resolve_url(url)
    engine = _engines.get(key)
    if engine is not None:
        return engine
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            parsed = make_url(key)
            kwargs = {}
            if parsed.get_backend_name() == "sqlite":
                _prepare_sqlite_file(parsed)
                kwargs["connect_args"] = {
                    "check_same_thread": False,
                    "timeout": SQLITE_BUSY_TIMEOUT,
                }
            else:
                kwargs["pool_pre_ping"] = True
            engine = create_engine(key, future=True, **kwargs)
            if parsed.get_backend_name() == "sqlite":
                _configure_sqlite(engine)
            _engines[key] = engine
    return engine


def dispose_engine(url: Optional[str] = None) -> None:
    """Closes and forgets the cached engine for ``url`` (tests, ``reset``)."""
    key = _resolve_url(url)
    with _lock:
        engine = _engines.pop(key, None)
        _factories.pop(key, None)
    if engine is not None:
        engine.dispose()


def dispose_all() -> None:
    """Closes every cached engine (process shutdown, test teardown)."""
    for key in list(_engines):
        dispose_engine(key)


def session_factory(url: Optional[str] = None) -> sessionmaker:
    """Returns the cached ``sessionmaker`` bound to ``get_engine(url)``.

    ``expire_on_commit=False`` so objects returned by a service stay readable after the
    ``session_scope`` block commits (actions format replies after the transaction ends).
    """
    key = _resolve_url(url)
    factory = _factories.get(key)
    if factory is None:
        factory = sessionmaker(bind=get_engine(key), future=True, expire_on_commit=False)
        _factories[key] = factory
    return factory


@contextmanager
def session_scope(url: Optional[str] = None) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any exception, always closes.

    Example:
        >>> with session_scope() as session:
        ...     ticket, created = Tickets(session).open(...)
    """
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: Optional[str] = None):
    """Builds an Alembic ``Config`` from the package path, so it works from any cwd.

    The URL is passed through ``config.attributes`` rather than the ini option because
    ``configparser`` would choke on ``%`` in passwords.
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["url"] = _resolve_url(url)
    # Tells env.py not to reconfigure logging of the host process.
    config.attributes["programmatic"] = True
    return config


def migrate(url: Optional[str] = None, revision: str = "head") -> None:
    """Upgrades the database schema to ``revision`` (default: the newest)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: Optional[str] = None, revision: str = "base") -> None:
    """Downgrades the schema to ``revision`` (default: empty database). Dev/test only."""
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def current_revision(url: Optional[str] = None) -> Optional[str]:
    """Returns the schema revision stamped in the database, or ``None`` if unmigrated."""
    from alembic.runtime.migration import MigrationContext

    with get_engine(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
