"""Console command line.

Usage::

    python -m ridedesk.console serve [--host 127.0.0.1] [--port 8080]
    python -m ridedesk.console create-admin --username U [--display-name 管理员]
    python -m ridedesk.console create-agent --username U --display-name 小王 [--role agent|admin]
    python -m ridedesk.console set-password --username U

Passwords are never arguments and never defaults: ``create-admin`` reads
``RIDEDESK_ADMIN_PASSWORD``, ``create-agent`` / ``set-password`` read
``RIDEDESK_AGENT_PASSWORD``; otherwise the password is read from standard input (typed twice
at a terminal, or the first line of a pipe: ``printf '%s\\n' "$PW" | python -m ...``).
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import List, Optional


def _read_password(env_var: str) -> str:
    password = os.environ.get(env_var)
    if password:
        return password
    if sys.stdin.isatty():
        first = getpass.getpass("密码（至少 10 位）: ")
        second = getpass.getpass("再输入一次: ")
        if first != second:
            raise SystemExit("两次输入的密码不一致")
        return first
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def _create(args: argparse.Namespace, role: str, env_var: str) -> int:
    from ridedesk.console.presenters import error_message
    from ridedesk.db.session import session_scope
    from ridedesk.services.agents import Agents
    from ridedesk.services.errors import ServiceError

    password = _read_password(env_var)
    if not password:
        print(f"no password: set {env_var} or pipe it on standard input", file=sys.stderr)
        return 2
    try:
        with session_scope(args.url) as session:
            agent = Agents(session).create(args.username, password, args.display_name, role=role)
            print(f"created {agent.role} {agent.username} ({agent.display_name})")
    except ServiceError as error:
        print(f"{error.code}: {error_message(error.code)}", file=sys.stderr)
        return 1
    return 0


def _set_password(args: argparse.Namespace) -> int:
    from ridedesk.console.presenters import error_message
    from ridedesk.db.session import session_scope
    from ridedesk.services.agents import Agents
    from ridedesk.services.errors import ServiceError

    password = _read_password("RIDEDESK_AGENT_PASSWORD")
    try:
        with session_scope(args.url) as session:
            Agents(session).set_password(args.username, password)
    except ServiceError as error:
        print(f"{error.code}: {error_message(error.code)}", file=sys.stderr)
        return 1
    print(f"password changed for {args.username}; its sessions were logged out")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from ridedesk.console.app import create_app
    from ridedesk.settings import get_settings

    settings = get_settings()
    if args.url:
        settings = settings.copy(update={"database_url": args.url})
    app = create_app(settings, name="ridedesk-console")
    app.run(host=args.host, port=args.port, access_log=args.access_log, workers=1)
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    """Runs the CLI; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m ridedesk.console", description="RideDesk agent console")
    parser.add_argument("--url", help="database URL (default: settings.database_url)")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the console and widget web app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--access-log", action="store_true")

    admin = commands.add_parser("create-admin", help="create an admin (password: RIDEDESK_ADMIN_PASSWORD or stdin)")
    admin.add_argument("--username", required=True)
    admin.add_argument("--display-name", default="管理员")

    agent = commands.add_parser("create-agent", help="create an agent (password: RIDEDESK_AGENT_PASSWORD or stdin)")
    agent.add_argument("--username", required=True)
    agent.add_argument("--display-name", required=True, help="name riders see, e.g. 小王")
    agent.add_argument("--role", choices=("agent", "admin"), default="agent")

    reset = commands.add_parser("set-password", help="change a password (RIDEDESK_AGENT_PASSWORD or stdin)")
    reset.add_argument("--username", required=True)

    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "create-admin":
        return _create(args, "admin", "RIDEDESK_ADMIN_PASSWORD")
    if args.command == "create-agent":
        return _create(args, args.role, "RIDEDESK_AGENT_PASSWORD")
    return _set_password(args)


if __name__ == "__main__":
    sys.exit(main())
