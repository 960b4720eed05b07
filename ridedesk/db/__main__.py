"""Database command line.

Usage::

    python -m ridedesk.db migrate          # alembic upgrade head
    python -m ridedesk.db seed             # migrate, then add missing demo data (idempotent)
    python -m ridedesk.db reset --yes      # development only: drop everything, migrate, seed

``--url`` overrides ``RIDEDESK_DATABASE_URL``.
"""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from sqlalchemy.engine import make_url


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def main(argv: Optional[List[str]] = None) -> int:
    """Runs the CLI; returns the process exit code."""
    from ridedesk.settings import get_settings

    parser = argparse.ArgumentParser(prog="python -m ridedesk.db", description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="database URL (default: settings.database_url)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="upgrade the schema to the newest revision")
    commands.add_parser("seed", help="migrate, then insert missing demo data")
    reset = commands.add_parser("reset", help="development only: drop all tables, migrate, seed")
    reset.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    args = parser.parse_args(argv)

    from ridedesk.db import demo
    from ridedesk.db.session import downgrade, migrate, session_scope

    settings = get_settings()
    url = args.url or settings.database_url

    if args.command == "reset":
        if settings.env != "development":
            print(f"refusing to reset: RIDEDESK_ENV is {settings.env!r}, not 'development'", file=sys.stderr)
            return 2
        if not args.yes:
            answer = input(f"Drop ALL data in {_safe(url)}? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("aborted")
                return 1
        downgrade(url, "base")
        print("dropped all tables")

    migrate(url)
    print(f"schema up to date: {_safe(url)}")
    if args.command in ("seed", "reset"):
        with session_scope(url) as session:
            added = demo.seed(session)
        print("demo data added: " + ", ".join(f"{table}={count}" for table, count in added.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
