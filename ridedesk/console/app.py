"""The console web app (Sanic 21.12): agent pages and JSON API, rider widget files and API.

Routes (details in each handler's docstring)::

    GET  /                              widget page (public)
    GET  /widget/config.json            {"socket_url", "socket_path"} (public)
    GET  /widget/vendor/socket.io.min.js, /widget/<file>   widget files (public)
    GET  /api/widget/status?session_id= rider's hand-off state (public, one session)
    GET  /api/widget/history?session_id= rider's own transcript (public, one session)
    GET  /healthz                       {"ok": true}

    GET  /console/login  POST /console/login  POST /console/logout
    GET  /console/                      queue (login required)
    GET  /console/handoffs/<id>         queue + conversation (login required)
    /console/api/...                    JSON, login required; POSTs need the CSRF token

Security: server-side sessions (random token in an HttpOnly, SameSite=Lax cookie; only its
digest is stored), a per-session CSRF token sent back in ``X-CSRF-Token`` (or a
``csrf_token`` form field), Jinja2 autoescaping, a Content-Security-Policy without inline
scripts, and rider text only ever placed with ``textContent`` in the browser.

Database work runs in a thread pool (the services are synchronous SQLAlchemy), one
``session_scope`` per call.
"""
from __future__ import annotations

import asyncio
import functools
import hmac
import logging
import re
import secrets
import time
import uuid
from datetime import datetime
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Dict, Optional
from urllib.parse import quote, urlparse

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Sanic, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request

from ridedesk.clock import Clock, utcnow
from ridedesk.console import presenters
from ridedesk.console.rasa_client import RasaClient, RasaError
from ridedesk.console.transcript import is_paused, messages_from_tracker
from ridedesk.db.session import session_scope
from ridedesk.services.agents import AgentPresence, Agents, claimed_handoffs, conversation_status
from ridedesk.services.errors import InvalidTransition, NotFound, NotYours, ServiceError
from ridedesk.services.handoff import HandoffQueue
from ridedesk.services.notes import ConversationNotes
from ridedesk.services.service_hours import describe as describe_hours
from ridedesk.services.tickets import Tickets
from ridedesk.settings import Settings, get_settings

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
WIDGET = HERE.parent / "widget"
SOCKET_IO_DIST = WIDGET / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"

SESSION_COOKIE = "rd_session"
LOGIN_CSRF_COOKIE = "rd_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
MAX_REPLY_LENGTH = 1000
# Widget session ids are UUIDs made by the widget: unguessable, so knowing one is the key.
SESSION_ID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
LOGIN_FAILURES_ALLOWED = 5
LOGIN_FAILURE_WINDOW = 15 * 60

NOTICE_CLAIMED = "客服{name}已接入，正在为您处理，请问有什么可以帮您？"
NOTICE_RESOLVED = "客服已结束会话，感谢您的耐心。接下来由小蓝继续为您服务。"
NOTICE_RELEASED = "客服暂时离开，已为您重新排队，请稍候。"
# The bot asks for a rating when it is told an agent handed the rider back (data/rules/survey.yml).
HANDED_BACK_INTENT = "EXTERNAL_handed_back"

CONSOLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def _widget_csp(rasa_public_url: str) -> str:
    parsed = urlparse(rasa_public_url)
    origin = f"{parsed.scheme}://{parsed.netloc}"
    ws = ("wss" if parsed.scheme == "https" else "ws") + f"://{parsed.netloc}"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
        f"connect-src 'self' {origin} {ws}; object-src 'none'; base-uri 'none'; form-action 'none'"
    )


def _json_error(code: str, message: str, http_status: int, **extra: Any) -> response.HTTPResponse:
    return response.json(dict({"error": code, "message": message}, **extra), status=http_status, ensure_ascii=False)


def _ok(body: Dict[str, Any], status: int = 200) -> response.HTTPResponse:
    return response.json(body, status=status, ensure_ascii=False)


def _service_error(error: ServiceError) -> response.HTTPResponse:
    if isinstance(error, NotYours):
        status = 403
    elif isinstance(error, NotFound):
        status = 404
    elif isinstance(error, InvalidTransition):
        status = 409
    else:
        status = 400
    return _json_error(error.code, presenters.error_message(error.code), status)


def _rasa_down(action: str) -> response.HTTPResponse:
    return _json_error("rasa_unavailable", f"{action}失败：机器人服务暂时无法连接，请稍后重试。", 502)


def _body(request: Request) -> Dict[str, Any]:
    """JSON body or form fields as a dict (first value of each field)."""
    content_type = request.headers.get("content-type", "")
    if "application/json" in content_type:
        try:
            data = request.json
        except InvalidUsage:
            return {}
        return data if isinstance(data, dict) else {}
    return {key: values[0] for key, values in (request.form or {}).items()}


def _clean(value: Any) -> Optional[str]:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def create_app(
    settings: Optional[Settings] = None,
    *,
    name: Optional[str] = None,
    clock: Clock = utcnow,
    rasa: Optional[RasaClient] = None,
) -> Sanic:
    """Builds the console app.

    Args:
        settings: Configuration; default :func:`get_settings`.
        name: Sanic app name (unique per process); default a fresh unique one.
        clock: Source of "now" (tests pass a ``FrozenClock``).
        rasa: Rasa client; default one for ``settings.rasa_url`` / ``rasa_token``.
    """
    settings = settings or get_settings()
    app = Sanic(name or f"ridedesk-console-{uuid.uuid4().hex[:12]}")
    app.config.REQUEST_MAX_SIZE = 1_000_000
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.ctx.settings = settings
    app.ctx.clock = clock
    app.ctx.rasa = rasa or RasaClient(settings.rasa_url, settings.rasa_token)
    app.ctx.executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="ridedesk-db")
    app.ctx.login_failures = {}  # username -> monotonic times of recent failed logins
    jinja = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    jinja.filters["hm"] = lambda value: presenters.local_hm(
        datetime.fromisoformat(value) if isinstance(value, str) else value, settings.timezone
    )
    widget_csp = _widget_csp(settings.rasa_public_url)
    url = settings.database_url

    async def db(fn: Callable[[Any], Any]) -> Any:
        """Runs ``fn(session)`` in one unit of work on a worker thread."""

        def run() -> Any:
            with session_scope(url) as session:
                return fn(session)

        return await asyncio.get_running_loop().run_in_executor(app.ctx.executor, run)

    app.ctx.db = db

    def render(template: str, status: int = 200, **context: Any) -> response.HTTPResponse:
        body = jinja.get_template(template).render(**context)
        return response.html(body, status=status)

    def set_cookie(resp: response.HTTPResponse, key: str, value: str, *, max_age: int, path: str = "/",
                   samesite: str = "Lax") -> None:
        resp.cookies[key] = value
        cookie = resp.cookies[key]
        cookie["httponly"] = True
        cookie["samesite"] = samesite
        cookie["path"] = path
        cookie["max-age"] = max_age
        if settings.console_secure_cookies:
            cookie["secure"] = True

    # --- security headers ---------------------------------------------------------------
    @app.on_response
    async def security_headers(request: Request, resp: response.HTTPResponse) -> None:
        headers = resp.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        path = request.path
        if path == "/" or path.startswith("/widget/"):
            headers.setdefault("Content-Security-Policy", widget_csp)
        else:
            headers.setdefault("Content-Security-Policy", CONSOLE_CSP)
            headers.setdefault("X-Frame-Options", "DENY")
        if path.startswith("/console") and not path.startswith("/console/static/") or path.startswith("/api/"):
            headers.setdefault("Cache-Control", "no-store")

    @app.listener("after_server_stop")
    async def close_rasa(app_: Sanic, _loop: Any) -> None:
        await app_.ctx.rasa.close()
        app_.ctx.executor.shutdown(wait=False)

    # --- authentication -----------------------------------------------------------------
    def login_required(*, api: bool = True, csrf: bool = False, admin: bool = False) -> Callable:
        """Puts the agent in ``request.ctx.agent`` or answers 401 / a redirect to the login."""

        def decorator(handler: Callable) -> Callable:
            @functools.wraps(handler)
            async def wrapper(request: Request, *args: Any, **kwargs: Any) -> response.HTTPResponse:
                token = request.cookies.get(SESSION_COOKIE)
                agent = None
                if token:
                    def lookup(session):
                        login = Agents(session, clock).session_for(token)
                        if login is None:
                            return None
                        a = login.agent
                        return {"id": a.id, "username": a.username, "display_name": a.display_name,
                                "role": a.role, "csrf_token": login.csrf_token}

                    agent = await db(lookup)
                if agent is None:
                    if api:
                        return _json_error("login_required", "请先登录。", 401)
                    target = request.path if request.path.startswith("/console") else "/console/"
                    return response.redirect(f"/console/login?next={quote(target)}", status=303)
                if csrf and not _csrf_ok(request, agent["csrf_token"]):
                    return _json_error("csrf_failed", "页面已过期，请刷新页面后重试。", 403)
                if admin and agent["role"] != "admin":
                    return _json_error("admin_required", "只有管理员可以这样做。", 403)
                request.ctx.agent = agent
                return await handler(request, *args, **kwargs)

            return wrapper

        return decorator

    def _same_origin(request: Request) -> bool:
        origin = request.headers.get("origin")
        if not origin or origin == "null":
            return origin is None
        return urlparse(origin).netloc == request.host

    def _csrf_ok(request: Request, expected: str) -> bool:
        if not _same_origin(request):
            return False
        sent = request.headers.get(CSRF_HEADER)
        if not sent and "application/json" not in request.headers.get("content-type", ""):
            sent = _body(request).get("csrf_token")
        return bool(sent) and hmac.compare_digest(str(sent), expected)

    # --- public: health, widget ---------------------------------------------------------
    @app.get("/healthz")
    async def healthz(request: Request) -> response.HTTPResponse:
        return _ok({"ok": True})

    @app.get("/favicon.ico")
    async def favicon(request: Request) -> response.HTTPResponse:
        return response.empty()

    @app.get("/")
    async def widget_index(request: Request) -> response.HTTPResponse:
        """The rider chat page."""
        index = WIDGET / "index.html"
        if not index.is_file():
            return response.text("widget not installed", status=404)
        return await response.file(str(index), mime_type="text/html; charset=utf-8")

    @app.get("/widget/config.json")
    async def widget_config(request: Request) -> response.HTTPResponse:
        """``{"socket_url": settings.rasa_public_url, "socket_path": "/socket.io/"}``."""
        return _ok({"socket_url": settings.rasa_public_url, "socket_path": "/socket.io/"})

    @app.get("/widget/vendor/socket.io.min.js")
    async def widget_socket_io(request: Request) -> response.HTTPResponse:
        if not SOCKET_IO_DIST.is_file():
            return response.text("socket.io-client not installed (npm install in ridedesk/widget)", status=404)
        return await response.file(str(SOCKET_IO_DIST), mime_type="application/javascript; charset=utf-8")

    @app.get("/widget/<name:path>")
    async def widget_file(request: Request, name: str) -> response.HTTPResponse:
        """Files of ``ridedesk/widget/`` (not node_modules, not dotfiles, no traversal)."""
        return await _static_file(WIDGET, name, deny=("node_modules", "package.json", "package-lock.json"))

    @app.get("/console/static/<name:path>")
    async def console_static(request: Request, name: str) -> response.HTTPResponse:
        return await _static_file(STATIC, name)

    async def _static_file(root: Path, name: str, deny: tuple = ()) -> response.HTTPResponse:
        parts = Path(name).parts
        if not parts or any(p.startswith(".") or p in deny for p in parts):
            return response.text("not found", status=404)
        path = (root / name).resolve()
        if root.resolve() not in path.parents or not path.is_file():
            return response.text("not found", status=404)
        mime = {
            ".js": "application/javascript; charset=utf-8",
            ".css": "text/css; charset=utf-8",
            ".html": "text/html; charset=utf-8",
            ".svg": "image/svg+xml",
            ".png": "image/png",
            ".json": "application/json",
        }.get(path.suffix)
        return await response.file(str(path), mime_type=mime)

    def _session_id(request: Request) -> Optional[str]:
        value = request.args.get("session_id", "")
        return value if SESSION_ID.match(value or "") else None

    @app.get("/api/widget/status")
    async def widget_status(request: Request) -> response.HTTPResponse:
        """``{"state": "bot"|"waiting"|"with_agent"|"closed", "position", "wait_minutes",
        "agent", "agents_online", "in_service_hours"}`` for one widget session."""
        sid = _session_id(request)
        if sid is None:
            return _json_error("session_id_invalid", "会话编号无效。", 400)
        status = await db(
            lambda s: conversation_status(
                s, sid, clock=clock, hours=settings.service_hours, zone=settings.timezone,
                window_seconds=settings.presence_window_seconds,
            )
        )
        status["service_hours"] = describe_hours(settings.service_hours)
        return _ok(status)

    @app.get("/api/widget/history")
    async def widget_history(request: Request) -> response.HTTPResponse:
        """``{"session_id", "messages": [{"role", "text", "timestamp", "agent", "buttons",
        "display_text"}]}``: the rider's own transcript from Rasa's tracker."""
        sid = _session_id(request)
        if sid is None:
            return _json_error("session_id_invalid", "会话编号无效。", 400)
        try:
            tracker = await app.ctx.rasa.tracker(sid)
        except RasaError:
            return _rasa_down("读取聊天记录")
        messages = [
            {k: m[k] for k in ("role", "text", "timestamp", "agent", "buttons", "display_text")}
            for m in messages_from_tracker(tracker)
        ]
        return _ok({"session_id": sid, "messages": messages})

    # --- login / logout -----------------------------------------------------------------
    def _safe_next(value: Optional[str]) -> str:
        if value and value.startswith("/console") and not value.startswith("//") and "\\" not in value:
            return value
        return "/console/"

    @app.get("/console/login")
    async def login_page(request: Request) -> response.HTTPResponse:
        token = secrets.token_urlsafe(24)
        resp = render("login.html", csrf_token=token, next=_safe_next(request.args.get("next")), error=None)
        set_cookie(resp, LOGIN_CSRF_COOKIE, token, max_age=3600, path="/console/login", samesite="Strict")
        return resp

    def _too_many_failures(username: str) -> bool:
        now = time.monotonic()
        recent = [t for t in app.ctx.login_failures.get(username, []) if now - t < LOGIN_FAILURE_WINDOW]
        app.ctx.login_failures[username] = recent
        return len(recent) >= LOGIN_FAILURES_ALLOWED

    @app.post("/console/login")
    async def login(request: Request) -> response.HTTPResponse:
        """Form ``username``, ``password``, ``csrf_token`` (double-submit with a cookie)."""
        form = _body(request)
        username = str(form.get("username") or "").strip().lower()[:64]
        next_url = _safe_next(form.get("next"))
        cookie_token = request.cookies.get(LOGIN_CSRF_COOKIE)
        sent = form.get("csrf_token")
        if not (_same_origin(request) and cookie_token and sent and hmac.compare_digest(str(sent), cookie_token)):
            fresh = secrets.token_urlsafe(24)
            resp = render("login.html", status=403, csrf_token=fresh, next=next_url,
                          error="页面已过期，请重新登录。")
            set_cookie(resp, LOGIN_CSRF_COOKIE, fresh, max_age=3600, path="/console/login", samesite="Strict")
            return resp
        if _too_many_failures(username):
            return render("login.html", status=429, csrf_token=cookie_token, next=next_url,
                          error="登录失败次数过多，请 15 分钟后再试。")
        password = str(form.get("password") or "")

        def attempt(session):
            agents = Agents(session, clock)
            agent = agents.authenticate(username, password)
            if agent is None:
                return None
            token, _ = agents.start_session(agent, hours=settings.console_session_hours)
            AgentPresence(session, clock, settings.presence_window_seconds).heartbeat(agent.id)
            return token

        token = await db(attempt)
        if token is None:
            failures = app.ctx.login_failures
            if len(failures) > 10_000:  # many different names: forget the stale ones
                cutoff = time.monotonic() - LOGIN_FAILURE_WINDOW
                for name in [n for n, times in failures.items() if not times or times[-1] < cutoff]:
                    del failures[name]
            failures.setdefault(username, []).append(time.monotonic())
            return render("login.html", status=401, csrf_token=cookie_token, next=next_url,
                          error="用户名或密码错误。")
        app.ctx.login_failures.pop(username, None)
        resp = response.redirect(next_url, status=303)
        set_cookie(resp, SESSION_COOKIE, token, max_age=settings.console_session_hours * 3600)
        set_cookie(resp, LOGIN_CSRF_COOKIE, "", max_age=0, path="/console/login", samesite="Strict")
        return resp

    @app.post("/console/logout")
    @login_required(api=False, csrf=True)
    async def logout(request: Request) -> response.HTTPResponse:
        token = request.cookies.get(SESSION_COOKIE)
        agent_id = request.ctx.agent["id"]

        def end(session):
            Agents(session, clock).end_session(token)
            AgentPresence(session, clock, settings.presence_window_seconds).go_offline(agent_id)

        await db(end)
        resp = response.redirect("/console/login", status=303)
        set_cookie(resp, SESSION_COOKIE, "", max_age=0)
        return resp

    # --- shared reads -------------------------------------------------------------------
    def queue_view(session, me: str) -> Dict[str, Any]:
        now = clock()
        queue = HandoffQueue(session, clock)
        waiting = queue.waiting()
        claimed = claimed_handoffs(session)
        mine = [h for h in claimed if h.claimed_by == me]
        others = [h for h in claimed if h.claimed_by != me]
        names = Agents(session, clock).display_names([h.claimed_by for h in mine + others])
        availability = AgentPresence(session, clock, settings.presence_window_seconds).availability(
            settings.service_hours, settings.timezone
        )
        return {
            "waiting": [presenters.handoff_json(h, now, position=i + 1) for i, h in enumerate(waiting)],
            "mine": [presenters.handoff_json(h, now, names=names, me=me) for h in mine],
            "others": [presenters.handoff_json(h, now, names=names, me=me) for h in others],
            "agents_online": availability.agents_online,
            "in_service_hours": availability.in_service_hours,
            "service_hours": describe_hours(settings.service_hours),
        }

    def handoff_detail(session, handoff_id: int, me: str) -> Dict[str, Any]:
        now = clock()
        queue = HandoffQueue(session, clock)
        handoff = queue.get(handoff_id)
        tickets = Tickets(session, clock)
        notes = ConversationNotes(session, clock).list_for(handoff.conversation_id)
        names = Agents(session, clock).display_names(
            [n.author for n in notes] + ([handoff.claimed_by] if handoff.claimed_by else [])
        )
        summary = handoff.summary if isinstance(handoff.summary, dict) else {}
        rider_tickets = tickets.list_for(handoff.rider_id, limit=20)
        return {
            "handoff": presenters.handoff_json(
                handoff, now, position=queue.position(handoff.id), names=names, me=me
            ),
            "summary": presenters.summary_view(summary),
            "facts": presenters.rider_facts(session, handoff.rider_id, summary, clock),
            "tickets": [presenters.ticket_json(t, tickets) for t in rider_tickets],
            "notes": [presenters.note_json(n, names) for n in notes],
            "prefill": presenters.ticket_prefill(summary),
        }

    async def transcript_for(conversation_id: str) -> Dict[str, Any]:
        try:
            tracker = await app.ctx.rasa.tracker(conversation_id)
        except RasaError as error:
            logger.warning("transcript of %s unavailable: %s", conversation_id, error)
            return {"messages": [], "paused": None, "error": "聊天记录暂时无法读取（机器人服务未连接），稍后自动重试。"}
        return {"messages": messages_from_tracker(tracker), "paused": is_paused(tracker), "error": None}

    # --- pages --------------------------------------------------------------------------
    def page_context(request: Request, **extra: Any) -> Dict[str, Any]:
        agent = request.ctx.agent
        return dict(
            me=agent,
            csrf_token=agent["csrf_token"],
            ticket_categories=presenters.TICKET_CATEGORY_CHOICES,
            **extra,
        )

    @app.get("/console/")
    @login_required(api=False)
    async def console_page(request: Request) -> response.HTTPResponse:
        me = request.ctx.agent["username"]
        queue = await db(lambda s: queue_view(s, me))
        return render("console.html", **page_context(request, queue=queue, detail=None, transcript=None))

    @app.get("/console/handoffs/<handoff_id:int>")
    @login_required(api=False)
    async def handoff_page(request: Request, handoff_id: int) -> response.HTTPResponse:
        me = request.ctx.agent["username"]

        def load(session):
            return queue_view(session, me), handoff_detail(session, handoff_id, me)

        try:
            queue, detail = await db(load)
        except NotFound:
            return render("console.html", status=404, **page_context(
                request, queue=await db(lambda s: queue_view(s, me)), detail=None, transcript=None,
                error="找不到这个会话。"))
        transcript = await transcript_for(detail["handoff"]["conversation_id"])
        return render("console.html", **page_context(request, queue=queue, detail=detail, transcript=transcript))

    # --- JSON API -----------------------------------------------------------------------
    @app.get("/console/api/me")
    @login_required()
    async def api_me(request: Request) -> response.HTTPResponse:
        """``{"username", "display_name", "role", "csrf_token"}``."""
        return _ok(dict(request.ctx.agent))

    @app.post("/console/api/heartbeat")
    @login_required(csrf=True)
    async def api_heartbeat(request: Request) -> response.HTTPResponse:
        """Marks the agent online; ``{"agents_online": int}``."""
        agent_id = request.ctx.agent["id"]

        def beat(session):
            presence = AgentPresence(session, clock, settings.presence_window_seconds)
            presence.heartbeat(agent_id)
            session.flush()
            return presence.online_count()

        return _ok({"agents_online": await db(beat)})

    @app.get("/console/api/queue")
    @login_required()
    async def api_queue(request: Request) -> response.HTTPResponse:
        """``{"waiting": [handoff], "mine": [handoff], "others": [handoff], "agents_online",
        "in_service_hours", "service_hours"}``."""
        me = request.ctx.agent["username"]
        return _ok(await db(lambda s: queue_view(s, me)))

    @app.get("/console/api/handoffs/<handoff_id:int>")
    @login_required()
    async def api_handoff(request: Request, handoff_id: int) -> response.HTTPResponse:
        """``{"handoff", "summary", "facts", "tickets", "notes"}``."""
        me = request.ctx.agent["username"]
        try:
            return _ok(await db(lambda s: handoff_detail(s, handoff_id, me)))
        except ServiceError as error:
            return _service_error(error)

    async def _conversation_of(handoff_id: int) -> Dict[str, Any]:
        def read(session):
            h = HandoffQueue(session, clock).get(handoff_id)
            return {"conversation_id": h.conversation_id, "rider_id": h.rider_id,
                    "status": h.status, "claimed_by": h.claimed_by}

        return await db(read)

    @app.get("/console/api/handoffs/<handoff_id:int>/transcript")
    @login_required()
    async def api_transcript(request: Request, handoff_id: int) -> response.HTTPResponse:
        """``{"messages": [...], "paused": bool|null, "error": str|null, "status"}``."""
        try:
            info = await _conversation_of(handoff_id)
        except ServiceError as error:
            return _service_error(error)
        transcript = await transcript_for(info["conversation_id"])
        transcript["status"] = info["status"]
        return _ok(transcript, status=200 if transcript["error"] is None else 502)

    @app.post("/console/api/handoffs/<handoff_id:int>/claim")
    @login_required(csrf=True)
    async def api_claim(request: Request, handoff_id: int) -> response.HTTPResponse:
        """Claims a waiting rider: 200 ``{"handoff", "notice_sent"}``; 409 when another agent
        was faster (``{"error": "handoff_not_waiting", "message": "该会话已被客服小李接入…"}``)."""
        agent = request.ctx.agent
        me = agent["username"]

        def claim(session):
            queue = HandoffQueue(session, clock)
            try:
                handoff = queue.claim(handoff_id, me)
            except InvalidTransition as error:
                by = error.details.get("claimed_by")
                if error.details.get("status") == "claimed" and by == me:
                    return {"ok": True, "already": True, "handoff": presenters.handoff_json(
                        queue.get(handoff_id), clock(), me=me)}
                name = Agents(session, clock).display_names([by]).get(by, by) if by else None
                return {"ok": False, "status": error.details.get("status"), "by": name}
            return {"ok": True, "already": False,
                    "handoff": presenters.handoff_json(handoff, clock(), names={me: agent["display_name"]}, me=me)}

        try:
            result = await db(claim)
        except ServiceError as error:
            return _service_error(error)
        if not result["ok"]:
            if result["status"] == "claimed":
                message = f"该会话已被客服{result['by'] or '同事'}接入，请选择其他会话。"
            else:
                message = "该会话已结束或用户已离开，无法接入。"
            return _json_error("handoff_not_waiting", message, 409, status=result["status"])
        notice_sent = True
        if not result["already"]:
            try:
                notice_sent = await app.ctx.rasa.say(
                    result["handoff"]["conversation_id"],
                    NOTICE_CLAIMED.format(name=agent["display_name"]),
                    kind="system",
                )
            except RasaError as error:
                logger.warning("claim notice failed: %s", error)
                notice_sent = False
        body = {"handoff": result["handoff"], "notice_sent": notice_sent, "already": result["already"]}
        if not notice_sent:
            body["warning"] = "已接入，但“客服已接入”提示未能发送给用户（机器人服务未连接）。"
        return _ok(body)

    async def _require_mine(handoff_id: int, me: str) -> Any:
        """The conversation info if ``me`` holds the hand-off, else an error response."""
        try:
            info = await _conversation_of(handoff_id)
        except ServiceError as error:
            return _service_error(error)
        if info["status"] != "claimed":
            return _json_error("handoff_not_claimed", "该会话已不在服务中。", 409)
        if info["claimed_by"] != me:
            return _json_error("handoff_not_yours", "该会话由其他客服负责，不能操作。", 409)
        return info

    @app.post("/console/api/handoffs/<handoff_id:int>/reply")
    @login_required(csrf=True)
    async def api_reply(request: Request, handoff_id: int) -> response.HTTPResponse:
        """Body ``{"text"}``: sends the agent's reply to the rider. ``{"ok", "delivered"}``."""
        agent = request.ctx.agent
        text = str(_body(request).get("text") or "").strip()
        if not text:
            return _json_error("reply_required", presenters.error_message("reply_required"), 400)
        if len(text) > MAX_REPLY_LENGTH:
            return _json_error("reply_too_long", presenters.error_message("reply_too_long"), 400)
        info = await _require_mine(handoff_id, agent["username"])
        if isinstance(info, response.HTTPResponse):
            return info
        try:
            delivered = await app.ctx.rasa.say(
                info["conversation_id"], text, kind="agent", agent=agent["display_name"]
            )
        except RasaError:
            return _rasa_down("发送")
        body: Dict[str, Any] = {"ok": True, "delivered": delivered}
        if not delivered:
            body["warning"] = "消息已保存，但未能实时推送给用户；用户重新连接后可以看到。"
        return _ok(body)

    @app.post("/console/api/handoffs/<handoff_id:int>/release")
    @login_required(csrf=True)
    async def api_release(request: Request, handoff_id: int) -> response.HTTPResponse:
        """Puts the rider back in the queue (keeps their place). ``{"handoff"}``."""
        me = request.ctx.agent["username"]
        try:
            handoff = await db(lambda s: presenters.handoff_json(
                HandoffQueue(s, clock).release(handoff_id, me), clock(), me=me))
        except ServiceError as error:
            return _service_error(error)
        try:
            await app.ctx.rasa.say(handoff["conversation_id"], NOTICE_RELEASED, kind="system")
        except RasaError as error:
            logger.warning("release notice failed: %s", error)
        return _ok({"handoff": handoff})

    @app.post("/console/api/handoffs/<handoff_id:int>/resolve")
    @login_required(csrf=True)
    async def api_resolve(request: Request, handoff_id: int) -> response.HTTPResponse:
        """Hands the rider back to the bot: ``resume`` in Rasa, the hand-off resolved, a
        notice, then ``action_ask_rating``. ``{"handoff", "notice_sent", "rating_requested"}``.

        The bot is resumed *before* the hand-off is marked resolved: if Rasa is down nothing
        changes (502) and the agent retries, rather than a "resolved" rider stuck with a
        paused bot.
        """
        me = request.ctx.agent["username"]
        info = await _require_mine(handoff_id, me)
        if isinstance(info, response.HTTPResponse):
            return info
        conversation_id = info["conversation_id"]
        try:
            await app.ctx.rasa.resume(conversation_id)
        except RasaError:
            return _rasa_down("结束会话")
        try:
            handoff = await db(lambda s: presenters.handoff_json(
                HandoffQueue(s, clock).resolve(handoff_id, me), clock(), me=me))
        except ServiceError as error:
            return _service_error(error)
        notice_sent = rating_requested = True
        try:
            notice_sent = await app.ctx.rasa.say(conversation_id, NOTICE_RESOLVED, kind="system")
        except RasaError as error:
            logger.warning("resolve notice failed: %s", error)
            notice_sent = False
        try:
            await app.ctx.rasa.trigger_intent(conversation_id, HANDED_BACK_INTENT)
        except RasaError as error:
            logger.warning("rating request failed: %s", error)
            rating_requested = False
        return _ok({"handoff": handoff, "notice_sent": notice_sent, "rating_requested": rating_requested})

    @app.get("/console/api/handoffs/<handoff_id:int>/notes")
    @login_required()
    async def api_notes(request: Request, handoff_id: int) -> response.HTTPResponse:
        """``{"notes": [{"id", "author", "author_name", "text", "created_at", "handoff_id"}]}``."""
        def read(session):
            h = HandoffQueue(session, clock).get(handoff_id)
            notes = ConversationNotes(session, clock).list_for(h.conversation_id)
            names = Agents(session, clock).display_names([n.author for n in notes])
            return [presenters.note_json(n, names) for n in notes]

        try:
            return _ok({"notes": await db(read)})
        except ServiceError as error:
            return _service_error(error)

    @app.post("/console/api/handoffs/<handoff_id:int>/notes")
    @login_required(csrf=True)
    async def api_add_note(request: Request, handoff_id: int) -> response.HTTPResponse:
        """Body ``{"text"}``: an internal note (never sent to the rider). 201 ``{"note"}``."""
        agent = request.ctx.agent
        text = str(_body(request).get("text") or "")

        def add(session):
            h = HandoffQueue(session, clock).get(handoff_id)
            note = ConversationNotes(session, clock).add(h.conversation_id, agent["username"], text, handoff_id=h.id)
            return presenters.note_json(note, {agent["username"]: agent["display_name"]})

        try:
            return _ok({"note": await db(add)}, status=201)
        except ServiceError as error:
            return _service_error(error)

    @app.post("/console/api/handoffs/<handoff_id:int>/tickets")
    @login_required(csrf=True)
    async def api_open_ticket(request: Request, handoff_id: int) -> response.HTTPResponse:
        """Body ``{"category", "description", "bike_number"?, "order_number"?, "place"?,
        "fault_part"?}``: opens a ticket for the rider (or returns their active one for the
        same subject). 201 ``{"ticket", "created": true}`` / 200 ``{"ticket", "created": false}``."""
        me = request.ctx.agent["username"]
        form = _body(request)

        def open_(session):
            h = HandoffQueue(session, clock).get(handoff_id)
            tickets = Tickets(session, clock)
            ticket, created = tickets.open(
                h.rider_id,
                str(form.get("category") or ""),
                str(form.get("description") or ""),
                conversation_id=h.conversation_id,
                bike_number=_clean(form.get("bike_number")),
                order_number=_clean(form.get("order_number")),
                place=_clean(form.get("place")),
                fault_part=_clean(form.get("fault_part")),
            )
            if created:
                tickets.add_note(ticket.number, me, f"由人工客服在会话中创建（{me}）")
            return presenters.ticket_json(ticket, tickets), created

        try:
            ticket, created = await db(open_)
        except ServiceError as error:
            return _service_error(error)
        return _ok({"ticket": ticket, "created": created}, status=201 if created else 200)

    @app.post("/console/api/tickets/<number>")
    @login_required(csrf=True)
    async def api_update_ticket(request: Request, number: str) -> response.HTTPResponse:
        """Body ``{"status"?, "note"?}``: moves the ticket (``status``, with ``note``; a note
        is required for ``resolved``) or adds a follow-up note. ``{"ticket"}``."""
        me = request.ctx.agent["username"]
        form = _body(request)
        status, note = _clean(form.get("status")), _clean(form.get("note"))

        def update(session):
            tickets = Tickets(session, clock)
            if status:
                tickets.transition(number, status, me, note)
            else:
                tickets.add_note(number, me, note or "")
            return presenters.ticket_json(tickets.get(number), tickets)

        try:
            return _ok({"ticket": await db(update)})
        except ServiceError as error:
            return _service_error(error)

    @app.get("/console/api/agents")
    @login_required(admin=True)
    async def api_agents(request: Request) -> response.HTTPResponse:
        """Admins: ``{"agents": [{"username", "display_name", "role", "active", "online"}]}``."""
        def read(session):
            online = {a.id for a in AgentPresence(session, clock, settings.presence_window_seconds).online()}
            return [
                {"username": a.username, "display_name": a.display_name, "role": a.role,
                 "active": a.active, "online": a.id in online}
                for a in Agents(session, clock).list()
            ]

        return _ok({"agents": await db(read)})

    @app.post("/console/api/agents")
    @login_required(csrf=True, admin=True)
    async def api_create_agent(request: Request) -> response.HTTPResponse:
        """Admins: body ``{"username", "display_name", "password", "role"?}``. 201 ``{"agent"}``."""
        form = _body(request)

        def create(session):
            a = Agents(session, clock).create(
                str(form.get("username") or ""),
                str(form.get("password") or ""),
                str(form.get("display_name") or ""),
                role=str(form.get("role") or "agent"),
            )
            return {"username": a.username, "display_name": a.display_name, "role": a.role}

        try:
            return _ok({"agent": await db(create)}, status=201)
        except ServiceError as error:
            return _service_error(error)

    return app


__all__ = ["create_app"]
