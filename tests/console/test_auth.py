"""Login, logout, session expiry, and every console endpoint refusing anonymous and
CSRF-less requests, through real HTTP."""
from __future__ import annotations

import re

from ridedesk.console.app import create_app

PASSWORD = "correct-horse-battery"  # same as conftest.PASSWORD
PUBLIC = {
    "/healthz",
    "/favicon.ico",
    "/",
    "/widget/config.json",
    "/widget/vendor/socket.io.min.js",
    "/api/widget/status",
    "/api/widget/history",
    "/console/login",
}


def _console_routes(settings):
    """(method, concrete path) of every console route, from the app's own router."""
    app = create_app(settings)
    app.router.finalize()
    routes = []
    for route in app.router.routes:
        path = "/" + route.path
        if path in PUBLIC or path.startswith("/widget/") or path.startswith("/console/static/"):
            continue
        path = path.replace("<handoff_id:int>", "1").replace("<number:str>", "GD202611230001")
        for method in route.methods:
            routes.append((method, path))
    app.ctx.executor.shutdown()
    return sorted(routes)


def test_route_list_is_complete(settings):
    routes = _console_routes(settings)
    assert ("POST", "/console/api/handoffs/1/claim") in routes
    assert ("GET", "/console") in routes and ("POST", "/console/logout") in routes
    assert len(routes) >= 18


def test_every_console_endpoint_refuses_anonymous_access(server, browser, settings):
    anonymous = browser()
    for method, path in _console_routes(settings):
        if method == "GET":
            response = anonymous.get(path)
        else:
            response = anonymous.post(path, {"text": "hi"}, csrf=False)
        if path.startswith("/console/api/"):
            assert response.status_code == 401, (method, path)
            assert response.json()["error"] == "login_required"
            assert response.json()["message"] == "请先登录。"
        else:
            assert response.status_code == 303, (method, path)
            assert response.headers["Location"].startswith("/console/login")


def test_every_state_change_needs_the_csrf_token(agent_browser, settings, make_agent):
    make_agent("boss", "管理员", role="admin")
    posts = [path for method, path in _console_routes(settings) if method == "POST"]
    assert len(posts) >= 10
    for path in posts:
        no_token = agent_browser.post(path, {"text": "hi"}, csrf=False)
        assert no_token.status_code == 403, path
        assert no_token.json()["error"] == "csrf_failed"
        wrong = agent_browser.post(path, {"text": "hi"}, csrf=False, headers={"X-CSRF-Token": "forged"})
        assert wrong.status_code == 403, path
    # A cross-site form post carries the cookie but neither the token nor our Origin.
    forged = agent_browser.post(
        "/console/api/heartbeat", {}, headers={"Origin": "https://evil.example"}
    )
    assert forged.status_code == 403
    assert agent_browser.post("/console/api/heartbeat", {}).status_code == 200


def test_login_sets_a_safe_cookie_and_redirects(browser, make_agent):
    make_agent("wang", "小王")
    b = browser()
    page = b.get("/console/login")
    assert page.status_code == 200 and "登录" in page.text
    response = b.login("wang")
    assert response.status_code == 303 and response.headers["Location"] == "/console/"
    cookie = [h for h in response.raw.headers.getlist("Set-Cookie") if h.startswith("rd_session=")][0]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    me = b.get("/console/api/me").json()
    assert me["username"] == "wang" and me["display_name"] == "小王" and me["role"] == "agent"
    assert b.get("/console/").status_code == 200


def test_wrong_password_is_refused_without_saying_which(browser, make_agent):
    make_agent("wang", "小王")
    for username, password in (("wang", "wrong-password"), ("nobody", PASSWORD)):
        response = browser().login(username, password)
        assert response.status_code == 401
        assert "用户名或密码错误" in response.text


def test_login_form_needs_its_csrf_token(server, browser, make_agent):
    make_agent("wang", "小王")
    b = browser()
    b.get("/console/login")
    response = b.http.post(
        server.url + "/console/login",
        data={"username": "wang", "password": PASSWORD, "csrf_token": "forged"},
        allow_redirects=False,
    )
    assert response.status_code == 403
    assert "rd_session" not in b.http.cookies


def test_repeated_failures_are_throttled(browser, make_agent):
    make_agent("wang", "小王")
    for _ in range(5):
        assert browser().login("wang", "wrong-password").status_code == 401
    blocked = browser().login("wang", PASSWORD)
    assert blocked.status_code == 429 and "次数过多" in blocked.text


def test_logout_ends_the_session_and_presence(agent_browser, browser, make_agent):
    make_agent("li", "小李")
    li = browser()
    li.login("li")
    assert li.get("/console/api/queue").json()["agents_online"] == 2
    page = agent_browser.get("/console/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = agent_browser.http.post(
        agent_browser.base + "/console/logout", data={"csrf_token": token}, allow_redirects=False
    )
    assert response.status_code == 303
    assert agent_browser.get("/console/api/me").status_code == 401
    assert li.get("/console/api/queue").json()["agents_online"] == 1


def test_session_expires(agent_browser, clock):
    assert agent_browser.get("/console/api/me").status_code == 200
    clock.advance(hours=12, seconds=1)
    assert agent_browser.get("/console/api/me").status_code == 401
    redirect = agent_browser.get("/console/")
    assert redirect.status_code == 303 and redirect.headers["Location"].startswith("/console/login")


def test_next_parameter_cannot_redirect_off_site(server, browser, make_agent):
    make_agent("wang", "小王")
    b = browser()
    page = b.get("/console/login?next=//evil.example/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert 'value="/console/"' in page.text
    response = b.http.post(
        server.url + "/console/login",
        data={"username": "wang", "password": PASSWORD, "csrf_token": token, "next": "https://evil.example/"},
        allow_redirects=False,
    )
    assert response.headers["Location"] == "/console/"


def test_only_admins_create_agents(agent_browser, browser, make_agent):
    denied = agent_browser.post("/console/api/agents", {"username": "li", "display_name": "小李", "password": PASSWORD})
    assert denied.status_code == 403
    make_agent("boss", "管理员", role="admin")
    boss = browser()
    boss.login("boss")
    created = boss.post("/console/api/agents", {"username": "li", "display_name": "小李", "password": PASSWORD})
    assert created.status_code == 201 and created.json()["agent"] == {"username": "li", "display_name": "小李", "role": "agent"}
    weak = boss.post("/console/api/agents", {"username": "zhao", "display_name": "小赵", "password": "123"})
    assert weak.status_code == 400 and weak.json()["message"] == "密码至少 10 位。"
    assert browser().login("li").status_code == 303
    listed = boss.get("/console/api/agents").json()["agents"]
    assert {a["username"] for a in listed} == {"wang", "boss", "li"}
