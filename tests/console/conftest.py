"""Fixtures for the console tests: the real app on a free port, a real migrated SQLite file,
and a tiny fake of Rasa's HTTP API that records every request.

Nothing of ours is mocked: the app runs in a background thread with its own event loop
(Sanic 21.12 ``create_server``), talks to the ``db_url`` database through the services, and
to the fake Rasa over HTTP exactly as it would to a real one.
"""
from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional
from urllib.parse import parse_qs, unquote, urlparse

import pytest
import requests
from sanic import Sanic

from ridedesk.clock import FrozenClock
from ridedesk.console.app import create_app
from ridedesk.console.rasa_client import RasaClient
from ridedesk.db.session import session_scope
from ridedesk.services import agents as agents_module
from ridedesk.services.agents import Agents
from ridedesk.services.handoff import HandoffQueue
from ridedesk.settings import Settings
from tests.net import free_port

# Sanic rewrites its protocol methods ("touch-up") when a server starts; test mode keeps the
# originals so several apps can start one after another in this process (as sanic-testing does).
Sanic.test_mode = True

# Monday 2026-11-23 10:00 in Shanghai (02:00 UTC): inside the default 08:00-22:00 hours.
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
RASA_TOKEN = "fake-rasa-token"
PASSWORD = "correct-horse-battery"




@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch):
    """Cheaper scrypt for speed (as Django's test hashers); the parameters are stored in each
    hash, so verification is unchanged. test_services checks the production cost."""
    monkeypatch.setattr(agents_module, "SCRYPT_N", 2**10)


# --- fake Rasa ------------------------------------------------------------------------------
@dataclass
class RasaRequest:
    method: str
    path: str
    query: Dict[str, str]
    body: Any


@dataclass
class FakeRasa:
    """Records requests; serves trackers from ``trackers``; fails while ``down`` is set."""

    url: str = ""
    requests: List[RasaRequest] = field(default_factory=list)
    trackers: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    down: bool = False
    fail_paths: List[str] = field(default_factory=list)
    # Seconds to wait before answering, by path suffix: a bot turn on a loaded machine.
    slow_paths: Dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def posted(self) -> List[RasaRequest]:
        return [r for r in self.requests if r.method == "POST"]

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()


def _handler(fake: FakeRasa):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _reply(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self, method: str) -> None:
            parsed = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            with fake.lock:
                fake.requests.append(RasaRequest(method, parsed.path, query, body))
            if query.get("token") != RASA_TOKEN:
                return self._reply(401, {"reason": "NotAuthenticated"})
            time.sleep(max([d for p, d in fake.slow_paths.items() if parsed.path.endswith(p)], default=0))
            if fake.down or any(parsed.path.endswith(p) for p in fake.fail_paths):
                return self._reply(500, {"reason": "ConversationError"})
            match = re.match(r"^/conversations/([^/]+)/(tracker/events|tracker|trigger_intent)$", parsed.path)
            if not match:
                return self._reply(404, {})
            conversation = unquote(match.group(1))
            tracker = fake.trackers.setdefault(conversation, {"sender_id": conversation, "events": [], "paused": False})
            if match.group(2) == "tracker/events" and method == "POST":
                for event in body if isinstance(body, list) else [body]:
                    tracker["events"].append(dict(event, timestamp=1795000000.0 + len(tracker["events"])))
                    if event.get("event") == "resume":
                        tracker["paused"] = False
            return self._reply(200, tracker)

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

    return Handler


@pytest.fixture
def fake_rasa():
    fake = FakeRasa()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


# --- the console, served for real -----------------------------------------------------------
class ServerThread:
    """Runs a Sanic app on 127.0.0.1:<free port> in a thread with its own event loop."""

    def __init__(self, app) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.error: Optional[BaseException] = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.server = self.loop.run_until_complete(self._start())
        except BaseException as error:  # pragma: no cover - surfaced by start()
            self.error = error
            self.ready.set()
            return
        self.ready.set()
        self.loop.run_forever()

    async def _start(self):
        server = await self.app.create_server(
            host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False
        )
        await server.startup()
        await server.before_start()
        await server.after_start()
        return server

    def start(self) -> "ServerThread":
        self.thread.start()
        self.ready.wait(20)
        if self.error:
            raise self.error
        return self

    def stop(self) -> None:
        async def shutdown():
            await self.server.before_stop()
            self.server.close()
            await self.server.wait_closed()
            await self.server.after_stop()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(20)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(20)
        self.app.ctx.executor.shutdown(wait=True)


@pytest.fixture
def clock():
    return FrozenClock(NOW)


@pytest.fixture
def settings(db_url, fake_rasa):
    return Settings(
        env="development",
        database_url=db_url,
        rasa_url=fake_rasa.url,
        rasa_token=RASA_TOKEN,
        rasa_public_url="http://127.0.0.1:5005",
        service_hours="08:00-22:00",
        timezone="Asia/Shanghai",
    )


@pytest.fixture
def server(settings, clock):
    app = create_app(settings, clock=clock, rasa=RasaClient(settings.rasa_url, settings.rasa_token, timeout=5, attempts=2))
    running = ServerThread(app).start()
    yield running
    running.stop()


# --- data helpers ---------------------------------------------------------------------------
@pytest.fixture
def make_agent(db_url, clock):
    def make(username: str, display_name: str, role: str = "agent", password: str = PASSWORD) -> None:
        with session_scope(db_url) as session:
            Agents(session, clock).create(username, password, display_name, role=role)

    return make


@pytest.fixture
def enqueue(db_url, clock):
    def put(conversation_id: str, summary: Optional[Dict[str, Any]] = None, priority: str = "normal",
            category: str = "fault", rider_id: Optional[str] = None) -> int:
        with session_scope(db_url) as session:
            handoff, _ = HandoffQueue(session, clock).enqueue(
                conversation_id, rider_id or conversation_id, "requested",
                summary or {"reason": "requested", "last_message": "转人工", "slots": {}},
                priority=priority, category=category,
            )
            return handoff.id

    return put


class Browser:
    """An agent's browser: a cookie jar, the login form, and the CSRF token for the API."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.csrf: Optional[str] = None

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        return self.http.get(self.base + path, timeout=15, **kwargs)

    def post(self, path: str, json_body: Any = None, *, csrf: bool = True, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if csrf and self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        kwargs.setdefault("allow_redirects", False)
        return self.http.post(self.base + path, json=json_body, headers=headers, timeout=15, **kwargs)

    def login(self, username: str, password: str = PASSWORD) -> requests.Response:
        page = self.get("/console/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        response = self.http.post(
            self.base + "/console/login",
            data={"username": username, "password": password, "csrf_token": token, "next": "/console/"},
            allow_redirects=False,
            timeout=15,
        )
        if response.status_code == 303:
            self.csrf = self.get("/console/api/me").json()["csrf_token"]
        return response


@pytest.fixture
def browser(server):
    def open_browser() -> Browser:
        return Browser(server.url)

    return open_browser


@pytest.fixture
def agent_browser(browser, make_agent):
    """A logged-in agent 'wang' (小王)."""
    make_agent("wang", "小王")
    b = browser()
    assert b.login("wang").status_code == 303
    return b
