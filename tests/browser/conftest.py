"""Browser tests: real servers on free ports and a headless Debian Chromium driven by Playwright.

Processes (started once per session, only by the tests that need them):
  - a migrated and seeded SQLite database, ``rasa run actions`` and
    ``rasa run --enable-api ... --credentials credentials.yml`` (socket.io channel);
  - ``console``: ``python -m ridedesk.console serve`` with an agent account made by its CLI;
    it serves the rider widget too (``widget_site``).

Playwright drives ``/usr/bin/chromium`` (``scripts/browser_deps.sh`` installs it); it never
downloads browsers.
"""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List
from urllib.parse import quote

import pytest
import requests
from playwright.sync_api import expect

from tests.net import free_port
from tests.servers.conftest import BIN, MODEL, ROOT, TOKEN, _wait_ready

WIDGET = ROOT / "ridedesk" / "widget"
SOCKET_IO_JS = WIDGET / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
AGENT_USER, AGENT_NAME, AGENT_PASSWORD = "wang", "小王", "correct-horse-battery-42"


@dataclass
class Stack:
    """Handles to the running Rasa and action servers."""

    rasa_url: str
    actions_url: str
    database_url: str
    token: str
    env: Dict[str, str]
    work: Path

    def tracker(self, sender: str) -> Dict[str, Any]:
        response = requests.get(
            f"{self.rasa_url}/conversations/{quote(sender, safe='')}/tracker",
            params={"token": self.token}, timeout=30,
        )
        response.raise_for_status()
        return response.json()


def _start(command: List[str], env: Dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def _stop(procs: List[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Database migrated and seeded, action server and Rasa server (socket.io + HTTP API) up."""
    if not MODEL.exists():
        pytest.fail("models/ridedesk.tar.gz is missing: run `make train` (make test does) first")
    if not SOCKET_IO_JS.exists():
        pytest.fail("ridedesk/widget/node_modules is missing: run scripts/browser_deps.sh")
    work = tmp_path_factory.mktemp("browser")
    database_url = f"sqlite:///{work / 'ridedesk.db'}"
    actions_port, rasa_port = free_port(), free_port()
    rasa_url = f"http://127.0.0.1:{rasa_port}"
    env = dict(
        os.environ,
        RIDEDESK_ENV="development",
        RIDEDESK_DATABASE_URL=database_url,
        RIDEDESK_RASA_URL=rasa_url,
        RIDEDESK_RASA_PUBLIC_URL=rasa_url,
        RIDEDESK_RASA_TOKEN=TOKEN,
        RIDEDESK_SERVICE_HOURS="00:00-24:00",   # agents "work" whenever the tests run
        RIDEDESK_ACTION_ENDPOINT=f"http://127.0.0.1:{actions_port}/webhook",
        RIDEDESK_TRACKER_DIALECT="sqlite",
        RIDEDESK_TRACKER_DB=str(work / "tracker.db"),
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONWARNINGS="ignore",
    )
    for command in ("migrate", "seed"):
        subprocess.run([sys.executable, "-m", "ridedesk.db", command], env=env, cwd=ROOT, check=True)
    procs: List[subprocess.Popen] = []
    try:
        procs.append(_start(
            [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "-p", str(actions_port)],
            env, work / "actions.log",
        ))
        procs.append(_start(
            [str(BIN / "rasa"), "run", "--enable-api", "--auth-token", TOKEN, "-i", "127.0.0.1",
             "-p", str(rasa_port), "--model", str(MODEL), "--endpoints", "endpoints.yml",
             "--credentials", "credentials.yml", "--cors", "*"],
            env, work / "rasa.log",
        ))
        _wait_ready(f"http://127.0.0.1:{actions_port}/health", procs[0], work / "actions.log")
        _wait_ready(f"{rasa_url}/status?token={TOKEN}", procs[1], work / "rasa.log")
        # Warm the model up (the first message loads lazily-built parts), off the clock of the tests.
        requests.post(f"{rasa_url}/webhooks/rest/webhook", json={"sender": "browser-warmup", "message": "你好"}, timeout=120)
        yield Stack(rasa_url, f"http://127.0.0.1:{actions_port}", database_url, TOKEN, env, work)
    finally:
        _stop(procs)


# --- the console ----------------------------------------------------------------------------
@dataclass
class Console:
    url: str
    agent_user: str
    agent_name: str
    agent_password: str


@pytest.fixture(scope="session")
def console(stack: Stack) -> Iterator[Console]:
    """The agent console (which also serves the widget) with one agent account."""
    package = ROOT / "ridedesk" / "console"
    if not (package / "__main__.py").exists():
        pytest.fail("the console is not there yet: ridedesk/console/__main__.py (python -m ridedesk.console) is missing")
    env = dict(stack.env, RIDEDESK_SECRET_KEY="browser-test-secret-key-0123456789")
    create = subprocess.run(
        [sys.executable, "-m", "ridedesk.console", "create-agent", "--username", AGENT_USER,
         "--display-name", AGENT_NAME],
        cwd=ROOT, env=dict(env, RIDEDESK_AGENT_PASSWORD=AGENT_PASSWORD), capture_output=True, text=True,
    )
    if create.returncode != 0:
        pytest.fail(f"console create-agent failed:\n{create.stdout}\n{create.stderr}")
    port = free_port()
    log = stack.work / "console.log"
    proc = _start([sys.executable, "-m", "ridedesk.console", "serve", "--host", "127.0.0.1", "--port", str(port)],
                  env, log)
    try:
        _wait_ready(f"http://127.0.0.1:{port}/healthz", proc, log, seconds=90)
        yield Console(f"http://127.0.0.1:{port}", AGENT_USER, AGENT_NAME, AGENT_PASSWORD)
    finally:
        _stop([proc])


@pytest.fixture(scope="session")
def widget_site(console: Console) -> str:
    """Where riders open the widget: the console serves it, with its real history/status API."""
    return console.url


# --- Playwright -----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium; never a downloaded one."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/browser_deps.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# Bot turns take a few seconds on a busy machine; Playwright's default expect timeout is 5 s.
expect.set_options(timeout=30_000)

MOBILE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
          "has_touch": True, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
DESKTOP = {"viewport": {"width": 1280, "height": 860}, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


@pytest.fixture
def rider_context(browser: Any) -> Iterator[Any]:
    """A fresh phone-sized browser profile (its own localStorage, so its own rider)."""
    context = browser.new_context(**MOBILE)
    context.set_default_timeout(30_000)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def agent_context(browser: Any) -> Iterator[Any]:
    """A fresh desktop-sized browser profile for the agent."""
    context = browser.new_context(**DESKTOP)
    context.set_default_timeout(30_000)
    try:
        yield context
    finally:
        context.close()


