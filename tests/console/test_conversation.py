"""Serving a rider from the console: claim (with the race), reply, notes, tickets, resolve,
and rider text that must never run in the agent's browser. Rasa is a recording fake."""
from __future__ import annotations

import threading
from html.parser import HTMLParser

from sqlalchemy import select

from ridedesk.console.app import STATIC
from ridedesk.db.models import Order
from ridedesk.db.session import session_scope
from ridedesk.services.handoff import HandoffQueue
from ridedesk.services.notes import ConversationNotes
from ridedesk.services.tickets import Tickets

CONV = "0f8fad5b-d9cb-469f-a165-70867728950e"


def record(text, **metadata):
    return {"event": "bot", "text": text, "metadata": metadata}


def delivery(text, **metadata):
    return {
        "event": "bot",
        "metadata": dict(metadata, delivery=True),
        "data": {"custom": {"data": dict(metadata, text=text)}},
    }


def events_path(conversation=CONV):
    return f"/conversations/{conversation}/tracker/events"


# --- claim ----------------------------------------------------------------------------------
def test_claim_tells_the_rider_through_rasa(agent_browser, enqueue, fake_rasa, db_url):
    handoff_id = enqueue(CONV)
    response = agent_browser.post(f"/console/api/handoffs/{handoff_id}/claim")
    assert response.status_code == 200
    body = response.json()
    assert body["handoff"]["status"] == "claimed" and body["handoff"]["claimed_by"] == "wang"
    assert body["handoff"]["claimed_by_name"] == "小王" and body["notice_sent"] is True

    notice = "客服小王已接入，正在为您处理，请问有什么可以帮您？"
    posted = fake_rasa.posted()
    assert [(r.path, r.query, r.body) for r in posted] == [
        (events_path(), {"output_channel": "latest", "execute_side_effects": "false", "token": "fake-rasa-token"},
         [record(notice, kind="system")]),
        (events_path(), {"output_channel": "latest", "execute_side_effects": "true", "token": "fake-rasa-token"},
         [delivery(notice, kind="system")]),
    ]
    with session_scope(db_url) as session:
        assert HandoffQueue(session).get(handoff_id).claimed_by == "wang"


def test_two_agents_claiming_at_once_exactly_one_wins(agent_browser, browser, make_agent, enqueue):
    make_agent("li", "小李")
    li = browser()
    li.login("li")
    for round_ in range(3):
        handoff_id = enqueue(f"race-{round_}-0000-0000-0000-000000000000")
        barrier = threading.Barrier(2)
        results = {}

        def claim(name, agent):
            barrier.wait()
            results[name] = agent.post(f"/console/api/handoffs/{handoff_id}/claim")

        threads = [threading.Thread(target=claim, args=(n, a)) for n, a in (("wang", agent_browser), ("li", li))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        codes = sorted(r.status_code for r in results.values())
        assert codes == [200, 409], codes
        winner = next(n for n, r in results.items() if r.status_code == 200)
        loser = next(r for r in results.values() if r.status_code == 409).json()
        winner_name = {"wang": "小王", "li": "小李"}[winner]
        assert loser["error"] == "handoff_not_waiting"
        assert loser["message"] == f"该会话已被客服{winner_name}接入，请选择其他会话。"


def test_claiming_a_finished_handoff_is_refused_in_chinese(agent_browser, enqueue, db_url, clock):
    handoff_id = enqueue(CONV)
    with session_scope(db_url) as session:
        HandoffQueue(session, clock).abandon(handoff_id)
    response = agent_browser.post(f"/console/api/handoffs/{handoff_id}/claim")
    assert response.status_code == 409
    assert response.json()["message"] == "该会话已结束或用户已离开，无法接入。"
    assert agent_browser.post("/console/api/handoffs/999/claim").status_code == 404


def test_claim_survives_rasa_being_down(agent_browser, enqueue, fake_rasa):
    handoff_id = enqueue(CONV)
    fake_rasa.down = True
    response = agent_browser.post(f"/console/api/handoffs/{handoff_id}/claim")
    assert response.status_code == 200
    assert response.json()["notice_sent"] is False and "未能发送" in response.json()["warning"]


# --- queue ----------------------------------------------------------------------------------
def test_queue_shows_order_position_and_wait(agent_browser, enqueue, clock):
    enqueue("c-normal-0000-0000-0000-000000000000", category="deposit")
    clock.advance(minutes=3)
    enqueue("c-urgent-0000-0000-0000-000000000000", priority="urgent", category="safety")
    clock.advance(minutes=2)
    assert agent_browser.get("/console/api/queue").json()["agents_online"] == 0  # last beat 5 min ago
    assert agent_browser.post("/console/api/heartbeat").json() == {"agents_online": 1}
    queue = agent_browser.get("/console/api/queue").json()
    waiting = queue["waiting"]
    assert [h["priority"] for h in waiting] == ["urgent", "normal"]
    assert [h["position"] for h in waiting] == [1, 2]
    assert [h["waiting_seconds"] for h in waiting] == [120, 300]
    assert waiting[0]["category_label"] == "安全" and waiting[0]["priority_label"] == "紧急"
    assert queue["agents_online"] == 1 and queue["in_service_hours"] is True
    assert queue["service_hours"] == "08:00–22:00"


# --- reply, notes, tickets ------------------------------------------------------------------
def test_reply_reaches_the_rider_as_the_agent(agent_browser, enqueue, fake_rasa):
    handoff_id = enqueue(CONV)
    agent_browser.post(f"/console/api/handoffs/{handoff_id}/claim")
    fake_rasa.clear()
    response = agent_browser.post(f"/console/api/handoffs/{handoff_id}/reply", {"text": "  您好，车辆已为您锁定  "})
    assert response.status_code == 200 and response.json() == {"ok": True, "delivered": True}
    assert [(r.path, r.query["execute_side_effects"], r.body) for r in fake_rasa.posted()] == [
        (events_path(), "false", [record("您好，车辆已为您锁定", kind="agent", agent="小王")]),
        (events_path(), "true", [delivery("您好，车辆已为您锁定", kind="agent", agent="小王")]),
    ]
    assert agent_browser.post(f"/console/api/handoffs/{handoff_id}/reply", {"text": "  "}).status_code == 400
    assert agent_browser.post(f"/console/api/handoffs/{handoff_id}/reply", {"text": "长" * 1001}).status_code == 400


def test_only_the_claiming_agent_may_reply(agent_browser, browser, make_agent, enqueue, fake_rasa):
    make_agent("li", "小李")
    li = browser()
    li.login("li")
    handoff_id = enqueue(CONV)
    waiting = agent_browser.post(f"/console/api/handoffs/{handoff_id}/reply", {"text": "hi"})
    assert waiting.status_code == 409 and waiting.json()["message"] == "该会话已不在服务中。"
    agent_browser.post(f"/console/api/handoffs/{handoff_id}/claim")
    fake_rasa.clear()
    other = li.post(f"/console/api/handoffs/{handoff_id}/reply", {"text": "hi"})
    assert other.status_code == 409 and other.json()["message"] == "该会话由其他客服负责，不能操作。"
    assert li.post(f"/console/api/handoffs/{handoff_id}/resolve").status_code == 409
    assert fake_rasa.posted() == []


def test_reply_when_rasa_is_down_says_so(agent_browser, enqueue, fake_rasa):
    handoff_id = enqueue(CONV)
    agent_browser.post(f"/console/api/handoffs/{handoff_id}/claim")
    fake_rasa.down = True
    response = agent_browser.post(f"/console/api/handoffs/{handoff_id}/reply", {"text": "在吗"})
    assert response.status_code == 502
    assert response.json()["message"] == "发送失败：机器人服务暂时无法连接，请稍后重试。"


def test_notes_are_stored_and_never_sent_to_the_rider(agent_browser, enqueue, fake_rasa, db_url):
    handoff_id = enqueue(CONV)
    fake_rasa.clear()
    created = agent_browser.post(f"/console/api/handoffs/{handoff_id}/notes", {"text": "用户是老客户，语气客气点"})
    assert created.status_code == 201
    note = created.json()["note"]
    assert (note["author"], note["author_name"], note["text"], note["handoff_id"]) == ("wang", "小王", "用户是老客户，语气客气点", handoff_id)
    listed = agent_browser.get(f"/console/api/handoffs/{handoff_id}/notes").json()["notes"]
    assert [n["text"] for n in listed] == ["用户是老客户，语气客气点"]
    assert agent_browser.post(f"/console/api/handoffs/{handoff_id}/notes", {"text": " "}).status_code == 400
    assert fake_rasa.requests == []
    with session_scope(db_url) as session:
        assert [n.body for n in ConversationNotes(session).list_for(CONV)] == ["用户是老客户，语气客气点"]


def test_open_and_update_a_ticket_from_the_console(agent_browser, enqueue, db_url):
    handoff_id = enqueue(CONV, rider_id="rider-7")
    opened = agent_browser.post(
        f"/console/api/handoffs/{handoff_id}/tickets",
        {"category": "complaint", "description": "客服电话一直打不通", "place": "  ", "bike_number": ""},
    )
    assert opened.status_code == 201
    ticket = opened.json()["ticket"]
    assert opened.json()["created"] is True
    assert (ticket["category"], ticket["status"], ticket["conversation_id"], ticket["place"]) == ("complaint", "open", CONV, None)
    number = ticket["number"]
    again = agent_browser.post(
        f"/console/api/handoffs/{handoff_id}/tickets", {"category": "complaint", "description": "客服电话一直打不通！"}
    )
    assert again.status_code == 200 and again.json()["created"] is False and again.json()["ticket"]["number"] == number

    bad = agent_browser.post(f"/console/api/handoffs/{handoff_id}/tickets", {"category": "fault", "description": "坏了", "bike_number": "12"})
    assert bad.status_code == 400 and bad.json()["message"] == "车号应为 9 位数字。"

    moved = agent_browser.post(f"/console/api/tickets/{number}", {"status": "in_progress", "note": "已转客服主管"})
    assert moved.status_code == 200 and moved.json()["ticket"]["status"] == "in_progress"
    no_note = agent_browser.post(f"/console/api/tickets/{number}", {"status": "resolved"})
    assert no_note.status_code == 400 and no_note.json()["message"] == "标记为已解决时必须填写处理结果。"
    noted = agent_browser.post(f"/console/api/tickets/{number}", {"note": "已回电，用户满意"})
    assert noted.status_code == 200
    done = agent_browser.post(f"/console/api/tickets/{number}", {"status": "resolved", "note": "已致歉并回电"})
    assert done.json()["ticket"]["status"] == "resolved"
    skip = agent_browser.post(f"/console/api/tickets/{number}", {"status": "open"})
    assert skip.status_code == 409
    assert agent_browser.post("/console/api/tickets/GD202611230999", {"note": "x"}).status_code == 404

    with session_scope(db_url) as session:
        stored = Tickets(session).get(number)
        assert stored.status == "resolved" and stored.resolution == "已致歉并回电"
        assert stored.rider_id == "rider-7"
        assert [e.note for e in stored.events if e.author == "wang"] == [
            "由人工客服在会话中创建（wang）", "已转客服主管", "已回电，用户满意", "已致歉并回电",
        ]
    detail = agent_browser.get(f"/console/api/handoffs/{handoff_id}").json()
    assert [t["number"] for t in detail["tickets"]] == [number]


# --- hand back -------------------------------------------------------------------------------
def test_resolve_resumes_the_bot_and_asks_for_a_rating(agent_browser, enqueue, fake_rasa, db_url):
    handoff_id = enqueue(CONV)
    agent_browser.post(f"/console/api/handoffs/{handoff_id}/claim")
    fake_rasa.clear()
    response = agent_browser.post(f"/console/api/handoffs/{handoff_id}/resolve")
    assert response.status_code == 200
    body = response.json()
    assert body["handoff"]["status"] == "resolved"
    assert body["notice_sent"] is True and body["rating_requested"] is True
    notice = "客服已结束会话，感谢您的耐心。接下来由小蓝继续为您服务。"
    assert [(r.path, r.query, r.body) for r in fake_rasa.posted()] == [
        (events_path(), {"output_channel": "latest", "execute_side_effects": "false", "token": "fake-rasa-token"},
         [{"event": "resume"}, {"event": "action", "name": "action_listen"}]),
        (events_path(), {"output_channel": "latest", "execute_side_effects": "false", "token": "fake-rasa-token"},
         [record(notice, kind="system")]),
        (events_path(), {"output_channel": "latest", "execute_side_effects": "true", "token": "fake-rasa-token"},
         [delivery(notice, kind="system")]),
        (f"/conversations/{CONV}/trigger_intent", {"output_channel": "latest", "token": "fake-rasa-token"},
         {"name": "EXTERNAL_handed_back"}),
    ]
    with session_scope(db_url) as session:
        assert HandoffQueue(session).get(handoff_id).status == "resolved"
    assert agent_browser.post(f"/console/api/handoffs/{handoff_id}/resolve").status_code == 409


def test_resolve_changes_nothing_while_rasa_is_down(agent_browser, enqueue, fake_rasa, db_url):
    handoff_id = enqueue(CONV)
    agent_browser.post(f"/console/api/handoffs/{handoff_id}/claim")
    fake_rasa.down = True
    response = agent_browser.post(f"/console/api/handoffs/{handoff_id}/resolve")
    assert response.status_code == 502 and "结束会话失败" in response.json()["message"]
    with session_scope(db_url) as session:
        assert HandoffQueue(session).get(handoff_id).status == "claimed"


def test_resolve_reports_a_failed_rating_request(agent_browser, enqueue, fake_rasa):
    handoff_id = enqueue(CONV)
    agent_browser.post(f"/console/api/handoffs/{handoff_id}/claim")
    fake_rasa.fail_paths.append("/trigger_intent")
    body = agent_browser.post(f"/console/api/handoffs/{handoff_id}/resolve").json()
    assert body["handoff"]["status"] == "resolved" and body["rating_requested"] is False


def test_release_puts_the_rider_back_in_line(agent_browser, enqueue, fake_rasa):
    first = enqueue(CONV)
    enqueue("later-0000-0000-0000-000000000000")
    agent_browser.post(f"/console/api/handoffs/{first}/claim")
    fake_rasa.clear()
    released = agent_browser.post(f"/console/api/handoffs/{first}/release")
    assert released.status_code == 200 and released.json()["handoff"]["status"] == "waiting"
    assert [h["id"] for h in agent_browser.get("/console/api/queue").json()["waiting"]][0] == first
    assert fake_rasa.posted()[0].body == [record("客服暂时离开，已为您重新排队，请稍候。", kind="system")]


# --- transcript and safety ------------------------------------------------------------------
class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def parse_tags(html):
    parser = _Tags()
    parser.feed(html)
    return parser.tags


XSS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "javascript:alert(1)"]


def hostile_tracker():
    return {
        "sender_id": CONV,
        "paused": True,
        "events": [
            {"event": "user", "text": XSS[0], "timestamp": 1.0, "parse_data": {"intent": {"name": "request_human"}}},
            {"event": "bot", "text": "正在为您转接", "timestamp": 2.0},
            {"event": "user", "text": XSS[1], "timestamp": 3.0},
            {"event": "user", "text": f'<a href="{XSS[2]}">点我</a>', "timestamp": 4.0},
            {"event": "bot", "text": "好的", "metadata": {"kind": "agent", "agent": "小王"}, "timestamp": 5.0},
            {"event": "bot", "metadata": {"kind": "agent", "agent": "小王", "delivery": True},
             "data": {"custom": {"data": {"text": "好的"}}}, "timestamp": 5.1},
            {"event": "action", "name": "action_listen", "timestamp": 6.0},
        ],
    }


def test_transcript_api_lists_messages_and_skips_deliveries(agent_browser, enqueue, fake_rasa):
    handoff_id = enqueue(CONV)
    fake_rasa.trackers[CONV] = hostile_tracker()
    body = agent_browser.get(f"/console/api/handoffs/{handoff_id}/transcript").json()
    assert body["paused"] is True and body["status"] == "waiting" and body["error"] is None
    assert [(m["role"], m["text"]) for m in body["messages"]] == [
        ("rider", XSS[0]), ("bot", "正在为您转接"), ("rider", XSS[1]),
        ("rider", f'<a href="{XSS[2]}">点我</a>'), ("agent", "好的"),
    ]
    assert body["messages"][0]["intent"] == "request_human" and body["messages"][4]["agent"] == "小王"
    assert fake_rasa.requests[-1].path == f"/conversations/{CONV}/tracker"
    fake_rasa.down = True
    down = agent_browser.get(f"/console/api/handoffs/{handoff_id}/transcript")
    assert down.status_code == 502 and "无法读取" in down.json()["error"]


def test_rider_text_is_escaped_everywhere_in_the_page(agent_browser, enqueue, fake_rasa, db_url):
    summary = {
        "reason": "requested",
        "topic": XSS[0],
        "intents": [XSS[1]],
        "last_message": XSS[0],
        "slots": {"place": XSS[1], "bike_number": XSS[2]},
        "last_turns": [{"role": "rider", "text": XSS[1]}],
        "tickets": [],
        XSS[0]: XSS[2],
    }
    handoff_id = enqueue(CONV, summary=summary)
    agent_browser.post(f"/console/api/handoffs/{handoff_id}/notes", {"text": XSS[1]})
    with session_scope(db_url) as session:
        Tickets(session).open(CONV, "complaint", XSS[0], conversation_id=CONV)
    fake_rasa.trackers[CONV] = hostile_tracker()

    page = agent_browser.get(f"/console/handoffs/{handoff_id}")
    assert page.status_code == 200
    html = page.text
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    # Parsed as a browser would: the only script is our file, no element has an event
    # handler attribute, no link or source points at javascript:.
    tags = parse_tags(html)
    assert [attrs for tag, attrs in tags if tag == "script"] == [{"src": "/console/static/console.js"}]
    assert not [(tag, name) for tag, attrs in tags for name in attrs if name.startswith("on")]
    assert not [
        (tag, value) for tag, attrs in tags for name, value in attrs.items()
        if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith("javascript:")
    ]
    assert not [tag for tag, _ in tags if tag in ("img", "iframe", "object", "embed")]
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Cache-Control"] == "no-store"


def test_console_javascript_never_parses_html():
    source = (STATIC / "console.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in source, sink
    assert "textContent" in source


def test_detail_shows_facts_from_the_core(agent_browser, enqueue, db_url, clock):
    from ridedesk.db import demo

    with session_scope(db_url) as session:
        demo.seed(session, clock)
        order = session.execute(select(Order).where(Order.status == "completed").limit(1)).scalar_one()
        rider, number, bike = order.rider_id, order.number, order.bike_number
    handoff_id = enqueue(CONV, rider_id=rider, summary={
        "reason": "requested", "last_message": "这单怎么这么贵", "slots": {"order_number": number, "bike_number": bike},
    })
    detail = agent_browser.get(f"/console/api/handoffs/{handoff_id}").json()
    titles = [g["title"] for g in detail["facts"]]
    assert titles[:3] == [f"订单 {number}", f"车辆 {bike}", "押金"]
    order_facts = {f["label"]: f["value"] for f in detail["facts"][0]["items"]}
    assert order_facts["车号"] == bike and order_facts["合计"].endswith("元")
    assert detail["summary"]["slots"] == [{"label": "订单号", "value": number}, {"label": "车号", "value": bike}]
    assert detail["prefill"] == {"bike_number": bike, "order_number": number, "place": ""}
    page = agent_browser.get(f"/console/handoffs/{handoff_id}").text
    assert "这单怎么这么贵" in page and number in page

    stranger = enqueue("other-0000-0000-0000-000000000000", rider_id="someone-else", summary={
        "reason": "requested", "slots": {"order_number": number}})
    facts = agent_browser.get(f"/console/api/handoffs/{stranger}").json()["facts"]
    assert facts[0]["error"] == "查不到这个订单（或不属于该用户）。"
