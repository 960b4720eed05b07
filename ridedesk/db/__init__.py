"""Database layer: models, engine/session handling, migrations and demo data.

Importing this package never connects to a database.
"""
from ridedesk.db.session import (
    dispose_all,
    dispose_engine,
    downgrade,
    get_engine,
    migrate,
    session_scope,
)

__all__ = ["get_engine", "session_scope", "migrate", "downgrade", "dispose_engine", "dispose_all"]
