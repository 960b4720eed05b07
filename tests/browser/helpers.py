"""Small helpers shared by the browser tests."""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any, Callable, TypeVar

from tests.servers.conftest import ROOT

SCREENSHOTS = ROOT / "docs" / "img"
TICKET = re.compile(r"GD\d{12}")
T = TypeVar("T")

RIDER_BUBBLES = ".msg--rider .msg__bubble"
BOT_BUBBLES = ".msg--bot .msg__bubble"
AGENT_BUBBLES = ".msg--agent .msg__bubble"
NOTICES = ".notice"


def wait_for(predicate: Callable[[], T], timeout: float = 30.0, interval: float = 0.3, message: str = "condition") -> T:
    """Polls ``predicate`` until it returns something truthy (database and tracker checks)."""
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {message}")
        time.sleep(interval)


def screenshot(page: Any, name: str, **kwargs: Any) -> Path:
    """Saves a README screenshot under docs/img."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), **kwargs)
    return path


def wait_js(page: Any, expression: str, timeout: float = 30.0) -> Any:
    """Polls a JavaScript expression from Python until it is truthy.

    (``page.wait_for_function`` evaluates strings with ``eval``, which the widget's
    Content-Security-Policy forbids; ``page.evaluate`` is not subject to it.)
    """
    return wait_for(lambda: page.evaluate(expression), timeout=timeout, interval=0.2, message=expression)


def open_widget(page: Any, base_url: str) -> None:
    """Opens the widget and waits until its socket session is confirmed."""
    page.goto(base_url + "/")
    wait_js(page, "!!(window.RideDesk && window.RideDesk.ready)")


def rider_says(page: Any, text: str) -> None:
    """Types into the composer like a rider and presses Enter."""
    box = page.locator("#input")
    box.click()
    box.fill(text)
    box.press("Enter")


def user_texts(tracker: dict) -> list:
    """What the Rasa tracker holds as the rider's messages."""
    return [e.get("text") for e in tracker.get("events", []) if e.get("event") == "user"]


def side_by_side(browser: Any, shots: list, name: str, height: int = 860) -> Path:
    """Puts screenshots (PNG bytes) next to each other, same height, into docs/img/<name>."""
    import base64

    images = "".join(
        f'<img src="data:image/png;base64,{base64.b64encode(shot).decode()}" style="height:{height}px">'
        for shot in shots
    )
    context = browser.new_context(viewport={"width": 800, "height": height + 48})
    try:
        page = context.new_page()
        page.set_content(
            '<body style="margin:0;display:inline-flex;gap:24px;padding:24px;background:#dfe3ea">'
            f"{images}</body>"
        )
        page.wait_for_function("Array.from(document.images).every(i => i.complete)")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / name
        page.locator("body").screenshot(path=str(path))
        return path
    finally:
        context.close()
