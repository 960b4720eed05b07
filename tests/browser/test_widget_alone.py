"""The rider's widget on its own, against real Rasa and action servers (no console needed).

One rider's conversation on a phone-sized screen: greeting, a fault report that becomes a
ticket, the rating question answered with a quick-reply button, IME-safe Enter, empty input,
the length limit, a reload that keeps the history, and a connection drop with a message typed
while offline.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import (
    BOT_BUBBLES,
    RIDER_BUBBLES,
    TICKET,
    open_widget,
    rider_says,
    screenshot,
    user_texts,
    wait_for,
    wait_js,
)

pytestmark = pytest.mark.browser


def test_rider_chats_with_the_bot_in_the_widget(widget_site, stack, rider_context):
    page = rider_context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    open_widget(page, widget_site)
    session_id = page.evaluate("window.RideDesk.sessionId")
    assert re.fullmatch(r"[0-9a-f-]{36}", session_id)
    assert page.evaluate("localStorage.getItem('ridedesk.session_id')") == session_id
    box = page.locator("#input")

    # Empty or whitespace-only input is not sent; a gentle hint instead.
    box.fill("   \n  ")
    page.locator("#send").click()
    expect(page.locator("#hint")).to_contain_text("请输入内容")
    assert page.locator(RIDER_BUBBLES).count() == 0

    # IME: Enter that confirms a candidate (isComposing) must not send.
    box.fill("你好")
    box.dispatch_event("keydown", {"key": "Enter", "code": "Enter", "isComposing": True, "bubbles": True, "cancelable": True})
    # ... nor a real Enter between compositionstart and compositionend (browsers without isComposing).
    box.dispatch_event("compositionstart", {"data": ""})
    box.press("Enter")
    box.dispatch_event("compositionend", {"data": "你好"})
    page.wait_for_timeout(300)
    assert page.locator(RIDER_BUBBLES).count() == 0
    # Shift+Enter is a new line, not a send.
    box.fill("第一行")
    box.press("End")
    box.press("Shift+Enter")
    assert box.input_value() == "第一行\n"
    assert page.locator(RIDER_BUBBLES).count() == 0
    assert page.evaluate("window.RideDesk.pending") == 0
    assert not user_texts(stack.tracker(session_id)), "an IME Enter reached Rasa"

    # The typing indicator shows while the bot works.
    page.evaluate("""() => {
        const t = document.getElementById('typing');
        new MutationObserver(() => { if (!t.hidden) window.__typingSeen = true; })
            .observe(t, {attributes: true, attributeFilter: ['hidden']});
    }""")
    box.fill("你好")
    box.press("Enter")
    expect(page.locator(RIDER_BUBBLES).last).to_have_text("你好")
    try:
        expect(page.locator(BOT_BUBBLES).first).to_contain_text("小蓝助手")
    except AssertionError:
        if any(e.get("event") == "bot" for e in stack.tracker(session_id)["events"]):
            pytest.fail(
                "Rasa answered (the reply is in the tracker) but socket.io never delivered it: the "
                "socket did not join the session's room. Rasa 3.6 calls python-socketio 5.x's "
                "coroutine AsyncServer.enter_room without await (RasaHQ/rasa#13027); credentials.yml "
                "must use a socket.io channel that awaits it."
            )
        raise
    assert box.input_value() == ""
    assert page.evaluate("window.__typingSeen === true")

    rider_says(page, "刹车坏了，车号862104573")
    expect(page.locator(BOT_BUBBLES).filter(has_text=TICKET)).to_have_count(1, timeout=30_000)
    ticket = TICKET.search(page.locator(BOT_BUBBLES).filter(has_text=TICKET).inner_text()).group(0)
    expect(page.locator("#typing")).to_be_hidden()

    # The rating question comes with quick-reply buttons; clicking sends the payload, shows the title.
    rider_says(page, "谢谢")
    five = page.locator(".quick__btn", has_text="5 非常满意")
    expect(five).to_be_enabled()
    screenshot(page, "widget.png")
    five.click()
    expect(page.locator(RIDER_BUBBLES).last).to_have_text("5 非常满意")
    for button in page.locator(".quick__btn").all():
        expect(button).to_be_disabled()
    expect(page.locator(BOT_BUBBLES).last).to_contain_text("谢谢您的评价")
    tracker_texts = user_texts(stack.tracker(session_id))
    assert tracker_texts[-1].startswith("/rate_service"), tracker_texts

    # The length limit: maxlength 1000 with a counter.
    box.click()
    page.keyboard.insert_text("长" * 1200)
    assert len(box.input_value()) == 1000
    expect(page.locator("#counter")).to_have_text("1000/1000")
    box.fill("")
    expect(page.locator("#counter")).to_have_text("0/1000")

    # A reload keeps the session and shows the history, buttons no longer clickable.
    shown_before = page.locator(".msg__bubble").all_inner_texts()
    page.reload()
    wait_js(page, "!!(window.RideDesk && window.RideDesk.ready)")
    assert page.evaluate("window.RideDesk.sessionId") == session_id
    expect(page.locator(BOT_BUBBLES).filter(has_text=ticket)).to_have_count(1)
    assert page.locator(".msg__bubble").all_inner_texts() == shown_before
    assert page.locator(".quick__btn:enabled").count() == 0

    # Connection lost: a visible notice, a message typed offline waits and goes out after reconnecting.
    rider_context.set_offline(True)
    page.evaluate("window.RideDesk.socket.io.engine.close()")
    expect(page.locator("#banner")).to_contain_text("重新连接中")
    rider_says(page, "你好")
    expect(page.locator(".msg--pending")).to_have_count(1)
    assert page.evaluate("JSON.parse(localStorage.getItem('ridedesk.outbox')).length") == 1
    bots_before = page.locator(BOT_BUBBLES).count()
    rider_context.set_offline(False)
    expect(page.locator("#banner")).to_be_hidden(timeout=20_000)
    expect(page.locator(".msg--pending")).to_have_count(0)
    expect(page.locator(BOT_BUBBLES)).to_have_count(bots_before + 1)
    expect(page.locator(BOT_BUBBLES).last).to_contain_text("小蓝助手")
    wait_for(lambda: user_texts(stack.tracker(session_id)).count("你好") == 2, message="the offline message in the tracker")
    assert page.evaluate("JSON.parse(localStorage.getItem('ridedesk.outbox')).length") == 0
    assert not errors, errors
