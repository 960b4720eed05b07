"""Real processes: a migrated SQLite database, `rasa run actions` and `rasa run` on free ports.

Started once per test session; each test chats over the REST channel with its own sender id.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
import requests
from tests.net import free_port

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "ridedesk.tar.gz"
BIN = Path(sys.executable).parent
TOKEN = "test-token-not-for-production"




@dataclass
class RideDesk:
    """Handles to the running servers."""

    rasa_url: str
    actions_url: str
    database_url: str
    token: str
    logs: Path

    def say(self, sender: str, text: str) -> List[Dict]:
        """Sends one rider message over REST and returns the bot's replies."""
        response = requests.post(
            f"{self.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60
        )
        response.raise_for_status()
        return response.json()

    def agent_online(self, username: str = "xiaowang") -> None:
        """Marks an agent present in the console right now (a fresh heartbeat)."""
        from ridedesk.db.session import session_scope
        from ridedesk.services.agents import AgentPresence, Agents

        with session_scope(self.database_url) as session:
            agents = Agents(session)
            agent = agents.by_username(username) or agents.create(username, "a-long-password-1", "小王")
            AgentPresence(session).heartbeat(agent.id)

    def agents_offline(self) -> None:
        """Every agent leaves the console."""
        from ridedesk.db.session import session_scope
        from ridedesk.services.agents import AgentPresence, Agents

        with session_scope(self.database_url) as session:
            for agent in Agents(session).list():
                AgentPresence(session).go_offline(agent.id)

    def tracker(self, sender: str) -> Dict:
        """Reads a conversation through Rasa's token-protected HTTP API."""
        response = requests.get(
            f"{self.rasa_url}/conversations/{sender}/tracker", params={"token": self.token}, timeout=30
        )
        response.raise_for_status()
        return response.json()


def _wait_ready(url: str, proc: subprocess.Popen, log: Path, seconds: int = 240) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited early; log:\n{log.read_text(errors='replace')[-4000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise RuntimeError(f"not ready after {seconds}s: {url}; log:\n{log.read_text(errors='replace')[-4000:]}")


@pytest.fixture(scope="session")
def ridedesk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RideDesk]:
    """A running RideDesk: database migrated and seeded, action server and Rasa server up."""
    if not MODEL.exists():
        pytest.fail("models/ridedesk.tar.gz is missing: run `make train` (make test does) first")
    work = tmp_path_factory.mktemp("servers")
    database_url = f"sqlite:///{work / 'ridedesk.db'}"
    actions_port, rasa_port = free_port(), free_port()
    env = dict(
        os.environ,
        RIDEDESK_ENV="development",
        RIDEDESK_DATABASE_URL=database_url,
        RIDEDESK_RASA_TOKEN=TOKEN,
        RIDEDESK_ACTION_ENDPOINT=f"http://127.0.0.1:{actions_port}/webhook",
        RIDEDESK_TRACKER_DIALECT="sqlite",
        RIDEDESK_TRACKER_DB=str(work / "tracker.db"),
        # Agents work around the clock here, so results do not depend on the hour.
        RIDEDESK_SERVICE_HOURS="00:00-24:00",
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    for command in ("migrate", "seed"):
        subprocess.run([sys.executable, "-m", "ridedesk.db", command], env=env, cwd=ROOT, check=True)
    actions_log, rasa_log = work / "actions.log", work / "rasa.log"
    procs = []
    try:
        with open(actions_log, "wb") as out:
            procs.append(subprocess.Popen(
                [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "-p", str(actions_port)],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            ))
        with open(rasa_log, "wb") as out:
            procs.append(subprocess.Popen(
                [str(BIN / "rasa"), "run", "--enable-api", "--auth-token", TOKEN, "-i", "127.0.0.1",
                 "-p", str(rasa_port), "--model", str(MODEL), "--endpoints", "endpoints.yml",
                 "--credentials", "credentials.yml"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            ))
        _wait_ready(f"http://127.0.0.1:{actions_port}/health", procs[0], actions_log)
        _wait_ready(f"http://127.0.0.1:{rasa_port}/status?token={TOKEN}", procs[1], rasa_log)
        # The model loads lazily on the first message in some versions; warm it up.
        _wait_ready(f"http://127.0.0.1:{rasa_port}/", procs[1], rasa_log)
        yield RideDesk(f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{actions_port}", database_url, TOKEN, work)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def sender() -> str:
    """A fresh rider id for one conversation."""
    return f"test-rider-{uuid.uuid4().hex[:10]}"
