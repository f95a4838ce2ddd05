"""A page of a test's app in a real Chromium: the app served on loopback with its real headers, the browser driven
from a thread of its own (Playwright's sync API refuses a thread with a running event loop, which the browser tests'
session-wide Playwright leaves in a worker's main thread when xdist gives both to one process)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def in_chromium(app: Any, visit: Callable[[Any, str], Any], timeout: float = 60) -> Any:
    """Serve ``app``, run ``visit(page, origin)`` in Chromium and return what it returns (its error raised here).
    Skips without Playwright or Chromium."""
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not installed ({CHROMIUM})")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    outcome: dict[str, Any] = {}

    def browse() -> None:
        try:
            with playwright.sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                outcome["result"] = visit(browser.new_page(), f"http://127.0.0.1:{server.server_port}")
                browser.close()
        except BaseException as error:  # noqa: BLE001 - handed to the test's thread below
            outcome["error"] = error

    browsing = threading.Thread(target=browse)
    try:
        browsing.start()
        browsing.join(timeout=timeout)
    finally:
        server.shutdown()
        serving.join(timeout=5)
    assert not browsing.is_alive(), f"the browser did not finish within {timeout} seconds"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]
