"""The rider widget's endpoints: public, but only ever about the session id they are given."""
from __future__ import annotations

import pytest
import requests

from ridedesk.console.app import SOCKET_IO_DIST, WIDGET

SID = "3b241101-e2bb-4255-8caf-4136c566a962"
OTHER = "9c5b94b1-35ad-49bb-b118-8e8fc24abf80"


def status(server, sid=SID):
    return requests.get(f"{server.url}/api/widget/status", params={"session_id": sid}, timeout=10)


def test_status_follows_the_handoff(server, enqueue, agent_browser, clock):
    assert status(server).json() == {
        "state": "bot", "position": None, "wait_minutes": None, "agent": None,
        "agents_online": 1, "in_service_hours": True, "service_hours": "08:00–22:00",
    }
    enqueue(OTHER)
    clock.advance(seconds=1)
    handoff_id = enqueue(SID)
    waiting = status(server).json()
    assert (waiting["state"], waiting["position"], waiting["wait_minutes"]) == ("waiting", 2, 8)
    assert status(server, OTHER).json()["position"] == 1

    clock.advance(seconds=61)  # wang's heartbeat is now too old: no estimate
    offline = status(server).json()
    assert offline["agents_online"] == 0 and offline["wait_minutes"] is None and offline["position"] == 2

    agent_browser.post("/console/api/heartbeat")
    agent_browser.post(f"/console/api/handoffs/{handoff_id}/claim")
    with_agent = status(server).json()
    assert (with_agent["state"], with_agent["agent"], with_agent["position"]) == ("with_agent", "小王", None)

    agent_browser.post(f"/console/api/handoffs/{handoff_id}/resolve")
    assert status(server).json()["state"] == "closed"
    clock.advance(minutes=11)
    assert status(server).json()["state"] == "bot"


def test_status_outside_service_hours(server, clock):
    clock.advance(hours=13)  # 23:00 in Shanghai
    body = status(server).json()
    assert body["in_service_hours"] is False and body["agents_online"] == 0


@pytest.mark.parametrize("bad", ["", "demo-rider-1", "../../etc", "1234", SID + "x", "<script>"])
def test_widget_endpoints_need_a_uuid_session_id(server, fake_rasa, bad):
    for path in ("/api/widget/status", "/api/widget/history"):
        response = requests.get(f"{server.url}{path}", params={"session_id": bad}, timeout=10)
        assert response.status_code == 400 and response.json()["error"] == "session_id_invalid"
    assert fake_rasa.requests == []


def test_history_is_the_riders_own_transcript(server, fake_rasa):
    fake_rasa.trackers[SID] = {
        "sender_id": SID,
        "events": [
            {"event": "action", "name": "action_session_start", "timestamp": 1.0},
            {"event": "user", "text": "/rate_service{\"rating\": 5}", "timestamp": 2.0,
             "metadata": {"display_text": "5 非常满意"}, "parse_data": {"intent": {"name": "rate_service"}}},
            {"event": "bot", "text": "请打分", "timestamp": 3.0,
             "data": {"buttons": [{"title": "5 非常满意", "payload": "/rate_service{\"rating\": 5}"},
                                  {"title": "坏按钮", "payload": "javascript:alert(1)"}]}},
            {"event": "bot", "text": "您好，我是小王", "metadata": {"kind": "agent", "agent": "小王"}, "timestamp": 4.0},
            {"event": "bot", "metadata": {"kind": "agent", "agent": "小王", "delivery": True},
             "data": {"custom": {"data": {"text": "您好，我是小王"}}}, "timestamp": 4.1},
            {"event": "bot", "text": "客服已结束会话", "metadata": {"kind": "system"}, "timestamp": 5.0},
        ],
    }
    response = requests.get(f"{server.url}/api/widget/history", params={"session_id": SID}, timeout=10)
    assert response.status_code == 200
    assert response.json() == {
        "session_id": SID,
        "messages": [
            {"role": "rider", "text": "/rate_service{\"rating\": 5}", "timestamp": 2.0, "agent": None,
             "buttons": [], "display_text": "5 非常满意"},
            {"role": "bot", "text": "请打分", "timestamp": 3.0, "agent": None,
             "buttons": [{"title": "5 非常满意", "payload": "/rate_service{\"rating\": 5}"}], "display_text": None},
            {"role": "agent", "text": "您好，我是小王", "timestamp": 4.0, "agent": "小王", "buttons": [], "display_text": None},
            {"role": "system", "text": "客服已结束会话", "timestamp": 5.0, "agent": None, "buttons": [], "display_text": None},
        ],
    }
    assert [(r.method, r.path, r.query) for r in fake_rasa.requests] == [
        ("GET", f"/conversations/{SID}/tracker", {"token": "fake-rasa-token"})
    ]
    fake_rasa.down = True
    down = requests.get(f"{server.url}/api/widget/history", params={"session_id": SID}, timeout=10)
    assert down.status_code == 502


def test_widget_config_and_files(server):
    config = requests.get(f"{server.url}/widget/config.json", timeout=10)
    assert config.json() == {"socket_url": "http://127.0.0.1:5005", "socket_path": "/socket.io/"}
    csp = config.headers["Content-Security-Policy"]
    assert "connect-src 'self' http://127.0.0.1:5005 ws://127.0.0.1:5005" in csp and "unsafe-inline" not in csp
    for path in ("/widget/node_modules/socket.io-client/package.json", "/widget/../console/app.py",
                 "/widget/%2e%2e/console/app.py", "/widget/.hidden", "/widget/package.json", "/widget/nope.js"):
        assert requests.get(server.url + path, timeout=10).status_code == 404, path
    if (WIDGET / "index.html").is_file():
        index = requests.get(server.url + "/", timeout=10)
        assert index.status_code == 200 and "text/html" in index.headers["Content-Type"]
        assert requests.get(server.url + "/widget/widget.js", timeout=10).headers["Content-Type"].startswith("application/javascript")
    if SOCKET_IO_DIST.is_file():
        vendor = requests.get(server.url + "/widget/vendor/socket.io.min.js", timeout=10)
        assert vendor.status_code == 200 and vendor.content == SOCKET_IO_DIST.read_bytes()
    assert requests.get(server.url + "/healthz", timeout=10).json() == {"ok": True}
    assert requests.get(server.url + "/console/static/console.css", timeout=10).status_code == 200
