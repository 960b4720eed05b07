"""The whole loop in two browsers at once: a rider in the widget, an agent in the console.

Both served by the console (``python -m ridedesk.console serve``), the rider talking to Rasa
over socket.io, the agent's replies reaching the rider through Rasa's HTTP API.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from ridedesk.db.models import ConversationNote, Handoff, SurveyResponse, Ticket
from ridedesk.db.session import session_scope
from tests.browser.helpers import (
    AGENT_BUBBLES,
    BOT_BUBBLES,
    NOTICES,
    RIDER_BUBBLES,
    TICKET,
    open_widget,
    rider_says,
    screenshot,
    side_by_side,
    user_texts,
    wait_for,
    wait_js,
)

pytestmark = pytest.mark.browser

XSS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    "[点我](javascript:window.__xss=1)",
]


def handoff_of(stack, conversation_id):
    """The conversation's latest hand-off row (or None)."""
    with session_scope(stack.database_url) as session:
        return session.execute(
            select(Handoff).where(Handoff.conversation_id == conversation_id).order_by(Handoff.id.desc())
        ).scalars().first()


def agent_logs_in(page, console):
    page.goto(console.url + "/console/login")
    page.locator("input[name=username]").fill(console.agent_user)
    page.locator("input[name=password]").fill(console.agent_password)
    page.locator("form.login__form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/console/?$"))
    expect(page.locator(".topbar__me")).to_contain_text(console.agent_name)


def agent_claims(page, console, handoff_id):
    """From the queue: the rider is listed; 接入 opens the conversation."""
    item = page.locator(f"#waiting-list .qitem[data-id='{handoff_id}']")
    expect(item).to_be_visible(timeout=20_000)
    item.locator("[data-action=claim]").click()
    page.wait_for_url(re.compile(rf"/console/handoffs/{handoff_id}$"))
    expect(page.locator("#reply-text")).to_be_visible()


def agent_replies(page, text):
    page.locator("#reply-text").fill(text)
    page.locator("#reply-form button[type=submit]").click()
    expect(page.locator("#transcript .msg--agent .msg__text").filter(has_text=text)).to_have_count(1)


def test_rider_and_agent_loop(console, stack, rider_context, agent_context):
    rider = rider_context.new_page()
    agent = agent_context.new_page()
    errors = []
    rider.on("pageerror", lambda e: errors.append(f"rider: {e}"))
    agent.on("pageerror", lambda e: errors.append(f"agent: {e}"))

    # The agent is at work (online); the rider reports a fault, then asks for a human.
    agent_logs_in(agent, console)
    open_widget(rider, console.url)
    sid = rider.evaluate("window.RideDesk.sessionId")
    rider_says(rider, "你好")
    expect(rider.locator(BOT_BUBBLES).first).to_contain_text("小蓝助手")
    rider_says(rider, "刹车坏了，车号862104573")
    expect(rider.locator(BOT_BUBBLES).filter(has_text=TICKET)).to_have_count(1)
    bot_ticket = TICKET.search(rider.locator(BOT_BUBBLES).filter(has_text=TICKET).inner_text()).group(0)
    rider_says(rider, "转人工")
    expect(rider.locator(BOT_BUBBLES).last).to_contain_text("转接人工客服")
    # The place in the queue and the estimated wait, in one notice kept up to date.
    queue_notice = rider.locator(".notice--queue")
    expect(queue_notice).to_have_text(re.compile(r"前面还有 \d+ 位，预计等待 \d+ 分钟"))
    expect(rider.locator("#status")).to_contain_text("转接人工客服")
    handoff = wait_for(lambda: handoff_of(stack, sid), message="the hand-off row")
    assert handoff.status == "waiting"
    rider.wait_for_timeout(5_500)  # one more status poll: still a single notice
    expect(queue_notice).to_have_count(1)

    # The agent sees the rider in the queue (without reloading) and claims.
    agent_claims(agent, console, handoff.id)
    expect(queue_notice).to_have_count(0)

    # Summary and transcript.
    expect(agent.locator(".side")).to_contain_text("862104573")
    expect(agent.locator("#transcript")).to_contain_text("刹车坏了，车号862104573")
    expect(agent.locator("#transcript")).to_contain_text(bot_ticket)
    expect(agent.locator("#tickets")).to_contain_text(bot_ticket)

    # The agent's reply reaches the rider, named and styled apart from the bot.
    expect(rider.locator(NOTICES).filter(has_text=re.compile(r"客服小王已接入"))).to_have_count(1)
    reply = "您好，我是客服小王。刹车问题已经记录，我再帮您确认一下处理进度。"
    agent_replies(agent, reply)
    agent_bubble = rider.locator(AGENT_BUBBLES).filter(has_text=reply)
    expect(agent_bubble).to_have_count(1)
    expect(rider.locator(".msg--agent .msg__name").last).to_contain_text("小王")
    bot_bg = rider.locator(BOT_BUBBLES).first.evaluate("e => getComputedStyle(e).backgroundColor")
    agent_bg = agent_bubble.evaluate("e => getComputedStyle(e).backgroundColor")
    assert bot_bg != agent_bg
    expect(rider.locator("#status")).to_contain_text("小王")

    # The rider writes back; the agent sees it without reloading.
    rider_says(rider, "好的，麻烦尽快处理，谢谢")
    expect(agent.locator("#transcript .msg--rider").filter(has_text="好的，麻烦尽快处理，谢谢")).to_have_count(1, timeout=20_000)
    expect(rider.locator("#typing")).to_be_hidden()

    # An internal note (never shown to the rider) and a ticket opened by the agent.
    note = "内部备注：用户描述清楚，车辆已停在原地"
    agent.locator("#note-form textarea[name=text]").fill(note)
    agent.locator("#note-form button[type=submit]").click()
    expect(agent.locator("#notes")).to_contain_text(note)
    agent.locator("details:has(#ticket-form) > summary").click()
    agent.locator("#ticket-form select[name=category]").select_option("callback")
    agent.locator("#ticket-form textarea[name=description]").fill("用户希望处理完成后电话回访")
    agent.locator("#ticket-form button[type=submit]").click()
    expect(agent.locator("#tickets .ticket")).to_have_count(2, timeout=15_000)
    screenshot(agent, "console.png")
    rider_shot = rider.screenshot()
    agent_shot = agent.screenshot()

    # The agent hands the rider back; the rider is told, asked for a rating, and rates 5.
    agent.once("dialog", lambda dialog: dialog.accept())
    agent.locator("[data-action=resolve]").first.click()
    expect(rider.locator(NOTICES).filter(has_text="客服已结束会话")).to_have_count(1, timeout=20_000)
    five = rider.locator(".quick__btn:enabled", has_text="5")
    expect(five).to_have_count(1, timeout=20_000)
    five.click()
    expect(rider.locator(RIDER_BUBBLES).last).to_contain_text("5")
    expect(rider.locator(BOT_BUBBLES).last).to_contain_text("谢谢您的评价")
    assert note not in rider.locator("#log").inner_text()
    assert rider.locator(NOTICES).filter(has_text="客服小王已接入").count() == 1
    side_by_side(rider_context.browser, [rider_shot, agent_shot], "loop.png")

    # The database: transcript in Rasa's tracker, note, rating with the agent, both tickets.
    tracker = stack.tracker(sid)
    said = user_texts(tracker)
    assert "转人工" in said and "好的，麻烦尽快处理，谢谢" in said
    agent_events = [e for e in tracker["events"] if e.get("event") == "bot" and (e.get("metadata") or {}).get("kind") == "agent"]
    assert any(reply in (e.get("text") or "") or reply in str(e.get("data")) for e in agent_events)
    with session_scope(stack.database_url) as session:
        notes = session.execute(select(ConversationNote).where(ConversationNote.conversation_id == sid)).scalars().all()
        assert [(n.author, n.body) for n in notes] == [(console.agent_user, note)]
        rating = wait_for(lambda: session.execute(
            select(SurveyResponse).where(SurveyResponse.conversation_id == sid)).scalars().all(), message="the rating")
        assert [(r.rating, r.agent, r.handoff_id) for r in rating] == [(5, console.agent_user, handoff.id)]
        tickets = session.execute(select(Ticket).where(Ticket.conversation_id == sid)).scalars().all()
        assert {t.category for t in tickets} == {"fault", "callback"}
        assert session.get(Handoff, handoff.id).status == "resolved"
    assert not errors, errors


def test_markup_from_rider_and_agent_stays_text(console, stack, rider_context, agent_context):
    rider = rider_context.new_page()
    agent = agent_context.new_page()
    agent_logs_in(agent, console)
    open_widget(rider, console.url)
    sid = rider.evaluate("window.RideDesk.sessionId")
    for text in XSS:
        rider_says(rider, text)
        expect(rider.locator(RIDER_BUBBLES).last).to_have_text(text)
        expect(rider.locator("#typing")).to_be_hidden(timeout=30_000)
    rider_says(rider, "转人工")
    handoff = wait_for(lambda: handoff_of(stack, sid), message="the hand-off row")

    agent_claims(agent, console, handoff.id)
    transcript = agent.locator("#transcript")
    for text in XSS:
        expect(transcript.locator(".msg--rider .msg__text").filter(has_text=text)).to_have_count(1)
    agent_replies(agent, XSS[1])
    expect(rider.locator(AGENT_BUBBLES).last).to_have_text(XSS[1])

    # After a reload both sides render the stored transcript: still text.
    rider.reload()
    wait_js(rider, "!!(window.RideDesk && window.RideDesk.ready)")
    agent.reload()
    for text in XSS:
        expect(rider.locator(RIDER_BUBBLES).filter(has_text=text)).to_have_count(1)
        expect(agent.locator("#transcript .msg--rider .msg__text").filter(has_text=text)).to_have_count(1)
    expect(rider.locator(AGENT_BUBBLES).filter(has_text=XSS[1])).to_have_count(1)
    for page in (rider, agent):
        assert page.evaluate("typeof window.__xss") == "undefined"
        assert page.locator("#log img, #transcript img, script:not([src])").count() == 0
        assert page.locator("a[href^='javascript']").count() == 0
