"""Alembic environment for RideDesk.

The database URL comes from, in order: ``config.attributes["url"]`` (set by
:func:`ridedesk.db.session.migrate`), ``alembic -x url=...``, ``sqlalchemy.url`` in the ini
file, and finally ``settings.database_url``.
"""
from __future__ import annotations

from logging.config import fileConfig

from alembic import context

from ridedesk.db.models import Base

config = context.config

# Only the alembic CLI configures logging; a programmatic migrate() inside the Rasa action
# server or a test must not replace the host's logging setup.
if config.config_file_name is not None and not config.attributes.get("programmatic"):
    fileConfig(config.config_file_name)

target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("url") or context.get_x_argument(as_dictionary=True).get("url")
    url = url or config.get_main_option("sqlalchemy.url")
    if not url:
        from ridedesk.settings import get_settings

        url = get_settings().database_url
    return url


def run_migrations_offline() -> None:
    """Emits SQL to stdout (``alembic upgrade head --sql``)."""
    url = _url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Runs migrations on the same engine (and SQLite pragmas) the application uses."""
    from ridedesk.db.session import get_engine

    engine = get_engine(_url())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            compare_type=True,
            # SQLite cannot ALTER most things; batch mode recreates tables instead.
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        if connection.in_transaction():
            connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
