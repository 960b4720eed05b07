"""Fixtures for the core (database + services) tests.

Besides the SQLite-backed defaults, a throwaway PostgreSQL cluster for the live tests
(``test_postgres_live.py``, ``test_redis_live.py``); it only starts when a test asks for it.
"""
from __future__ import annotations

import os
import pwd
import shlex
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, List, Optional, Tuple
from urllib.parse import quote

import pytest

from ridedesk.clock import FrozenClock
from ridedesk.db import demo as demo_data
from ridedesk.db.session import dispose_all, dispose_engine, migrate

from tests.net import free_port

# Monday 2026-11-23 10:00 in Shanghai (02:00 UTC): a working day, mid-morning.
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock():
    """A clock frozen at :data:`NOW`; tests move it with ``clock.advance(...)``."""
    return FrozenClock(NOW)


@pytest.fixture
def demo(session, clock):
    """The demo data, seeded and committed relative to the frozen clock."""
    demo_data.seed(session, clock)
    session.commit()
    return demo_data


# --- a throwaway PostgreSQL cluster (tests/core/test_*_live.py) ------------------------------

PG_ROOT = Path("/usr/lib/postgresql")
PG_USER = "ridedesk"
# URL-hostile on purpose ('%', '@', ':', '/'): proves the migration path and Rasa's tracker
# store pass the password through intact (alembic_config avoids configparser for '%').
PG_PASSWORD = "r1de%desk@pg:pw/x"
PG_TEMPLATE_DB = "ridedesk_template"
PG_INSTALL_HINT = "apt-get install postgresql"
REDIS_INSTALL_HINT = "apt-get install redis-server"


def require_tool(found: bool, message: str) -> None:
    """Skips the test when a live-service binary is missing, or fails it under CI.

    A developer without PostgreSQL or Redis still gets a green run of everything else; CI
    installs both (``.ci/run``), so there a missing binary is a broken setup, not a skip.

    Args:
        found: Whether the binary is available.
        message: What is missing and how to install it.
    """
    if found:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set, so this is an error, not a skip)", pytrace=False)
    pytest.skip(message)


def _version_key(bindir: Path) -> Tuple[int, ...]:
    # "15" > "9.6": compare numerically, not as strings.
    return tuple(int(part) for part in bindir.parent.name.split(".") if part.isdigit())


def find_pg_bindir(root: Optional[Path] = None) -> Optional[Path]:
    """Newest ``/usr/lib/postgresql/<version>/bin`` that has ``initdb`` and ``pg_ctl``.

    Args:
        root: Where Debian installs PostgreSQL versions side by side (default
            :data:`PG_ROOT`, read at call time so a test can point it elsewhere).

    Returns:
        The ``bin`` directory, or ``None`` if no version is installed.
    """
    root = PG_ROOT if root is None else root
    candidates = [
        bindir
        for bindir in root.glob("*/bin")
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file()
    ]
    return max(candidates, key=_version_key, default=None)




@dataclass
class PostgresCluster:
    """Handle on the running throwaway cluster.

    Attributes:
        bindir: The PostgreSQL ``bin`` directory used.
        host: TCP address it listens on (also listens on a unix socket in ``socket_dir``).
        port: TCP port.
        user: Superuser name (password authentication over TCP).
        password: That user's password.
        socket_dir: Directory holding the unix socket.
    """

    bindir: Path
    host: str
    port: int
    user: str
    password: str
    socket_dir: Path

    def url(self, database: str) -> str:
        """SQLAlchemy URL (psycopg2) of ``database``, password percent-escaped.

        Escaped by hand: SQLAlchemy 1.4's ``URL.render_as_string`` leaves ``%`` as is, which
        ``make_url`` then decodes into a different password.
        """
        password = quote(self.password, safe="")
        return f"postgresql+psycopg2://{self.user}:{password}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str, template: Optional[str] = None) -> str:
        """Creates database ``name`` (optionally copied from ``template``) and returns its URL."""
        import psycopg2
        from psycopg2 import sql

        # CREATE DATABASE cannot run inside a transaction: a raw autocommit connection.
        connection = psycopg2.connect(
            host=self.host, port=self.port, user=self.user, password=self.password, dbname="postgres"
        )
        try:
            connection.autocommit = True
            statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template is not None:
                statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            with connection.cursor() as cursor:
                cursor.execute(statement)
        finally:
            connection.close()
        return self.url(name)


def _as_cluster_owner(argv: List[str]) -> List[str]:
    # initdb and postgres refuse to run as root; Debian's package creates a 'postgres' user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


def _run(argv: List[str]) -> None:
    result = subprocess.run(_as_cluster_owner(argv), capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        # CalledProcessError would hide the tool's own explanation.
        pytest.fail(f"{Path(argv[0]).name} failed ({result.returncode}):\n{result.stderr}{result.stdout}")


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """Starts a throwaway PostgreSQL cluster for the whole test session, then removes it.

    Debian's own binaries (newest installed version), data in a fresh temp directory,
    listening on 127.0.0.1 on a free port and on a unix socket in that directory, with
    durability off (``fsync``, ``synchronous_commit``, ``full_page_writes``) because the data
    is thrown away. Skips (or fails under ``CI``) when PostgreSQL is not installed.
    """
    bindir = find_pg_bindir()
    require_tool(
        bindir is not None,
        f"PostgreSQL binaries (initdb, pg_ctl) not found under {PG_ROOT}/<version>/bin: {PG_INSTALL_HINT}",
    )
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            owner = None
        require_tool(owner is not None, f"running as root needs the 'postgres' user: {PG_INSTALL_HINT}")

    # Not tmp_path_factory: pytest's base temp dir is private to root (0700), so the
    # 'postgres' user could not reach a cluster inside it. /tmp itself is world-traversable,
    # and a short path keeps the unix socket under the 107-byte limit.
    workdir = Path(tempfile.mkdtemp(prefix="ridedesk-pg-"))
    data, log, pwfile = workdir / "data", workdir / "server.log", workdir / "pwfile"
    pwfile.write_text(PG_PASSWORD + "\n")
    if os.geteuid() == 0:
        os.chown(workdir, owner.pw_uid, owner.pw_gid)
        os.chown(pwfile, owner.pw_uid, owner.pw_gid)

    cluster = None
    try:
        _run([
            str(bindir / "initdb"), "-D", str(data), "-U", PG_USER, "--pwfile", str(pwfile),
            "-E", "UTF8", "--no-locale", "--no-sync",
            # Local socket: trust (only the owner can reach the 0700 directory). TCP: a
            # real password check, as production has.
            "--auth-local=trust", "--auth-host=scram-sha-256",
        ])
        for _attempt in range(3):  # the free port may be taken between probe and start
            port = free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -c port={port} "
                # pg_ctl hands these to a shell, hence the quoting.
                f"-c unix_socket_directories={shlex.quote(str(workdir))} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            started = subprocess.run(
                _as_cluster_owner([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log),
                                   "-o", options, "-w", "-t", "60", "start"]),
                capture_output=True, text=True, timeout=120,
            )
            if started.returncode == 0:
                cluster = PostgresCluster(bindir, "127.0.0.1", port, PG_USER, PG_PASSWORD, workdir)
                break
        if cluster is None:
            pytest.fail(f"PostgreSQL did not start:\n{log.read_text() if log.exists() else started.stderr}")
        yield cluster
    finally:
        dispose_all()  # close pooled connections before the server goes away
        # Also after a start that timed out: the server may be running anyway.
        if (data / "postmaster.pid").exists():
            # Immediate: the data is discarded anyway, no need for a clean checkpoint.
            subprocess.run(
                _as_cluster_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                capture_output=True, timeout=60,
            )
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_template_url(postgres_cluster) -> str:
    """A database migrated to head once per session, the template of every test database."""
    url = postgres_cluster.create_database(PG_TEMPLATE_DB)
    migrate(url)
    # CREATE DATABASE ... TEMPLATE refuses a template that has open connections.
    dispose_engine(url)
    return url


@pytest.fixture
def pg_url(postgres_cluster, pg_template_url) -> Iterator[str]:
    """URL of a fresh, fully migrated PostgreSQL database private to this test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = postgres_cluster.create_database(name, template=PG_TEMPLATE_DB)
    yield url
    dispose_engine(url)
