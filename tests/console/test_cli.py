"""``python -m ridedesk.console create-admin`` / ``create-agent``: no default passwords."""
from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from ridedesk.console.__main__ import main
from ridedesk.db.session import session_scope
from ridedesk.services.agents import Agents

ROOT = Path(__file__).resolve().parents[2]


def test_create_admin_from_the_environment(db_url, monkeypatch, capsys):
    monkeypatch.setenv("RIDEDESK_ADMIN_PASSWORD", "a-very-long-admin-password")
    assert main(["--url", db_url, "create-admin", "--username", "Boss"]) == 0
    assert "created admin boss" in capsys.readouterr().out
    with session_scope(db_url) as session:
        agent = Agents(session).authenticate("boss", "a-very-long-admin-password")
        assert agent is not None and agent.role == "admin" and agent.display_name == "管理员"


def test_create_agent_reads_the_password_from_stdin(db_url, monkeypatch, capsys):
    monkeypatch.delenv("RIDEDESK_AGENT_PASSWORD", raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO("piped-password-123\n"))
    assert main(["--url", db_url, "create-agent", "--username", "wang", "--display-name", "小王"]) == 0
    with session_scope(db_url) as session:
        assert Agents(session).authenticate("wang", "piped-password-123").display_name == "小王"
    monkeypatch.setattr(sys, "stdin", io.StringIO("another-password-1\n"))
    assert main(["--url", db_url, "set-password", "--username", "wang"]) == 0
    with session_scope(db_url) as session:
        assert Agents(session).authenticate("wang", "another-password-1") is not None


def test_no_password_no_account(db_url, monkeypatch, capsys):
    monkeypatch.delenv("RIDEDESK_ADMIN_PASSWORD", raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["--url", db_url, "create-admin", "--username", "boss"]) == 2
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["--url", db_url, "create-admin", "--username", "boss"]) == 1
    assert "密码至少 10 位" in capsys.readouterr().err
    monkeypatch.setenv("RIDEDESK_ADMIN_PASSWORD", "a-very-long-admin-password")
    assert main(["--url", db_url, "create-admin", "--username", "boss"]) == 0
    assert main(["--url", db_url, "create-admin", "--username", "boss"]) == 1  # taken
    with session_scope(db_url) as session:
        assert [a.username for a in Agents(session).list()] == ["boss"]


def test_module_runs_as_a_command(db_url):
    result = subprocess.run(
        [sys.executable, "-m", "ridedesk.console", "--url", db_url, "create-agent", "--username", "li",
         "--display-name", "小李"],
        input="subprocess-password\n", capture_output=True, text=True, cwd=ROOT, timeout=60,
        env={"PATH": "", "RIDEDESK_ENV": "development"},
    )
    assert result.returncode == 0, result.stderr
    assert "created agent li (小李)" in result.stdout
