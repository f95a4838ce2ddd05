"""Issue 15, finding 5: the citizen's access code never reaches a server's access log.

The mailed private link carries the code after "#" (never sent by a client); web/static/track.js posts it with the
lookup form, the answer is a 303 to the bare tracking URL with the case's cookie, and the page's forms need nothing
else. Each test runs a real server on a loopback port, Werkzeug's (`lapor serve`) and gunicorn (production), goes
through the link as a browser does and reads the server's own access log: every request is there, the code is not.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from engine.db.connection import make_engine
from engine.db.tables import OutboxMail
from tests.engine.support import free_port
from tests.reliability.processes import STARTUP_TIMEOUT, Child, complaint, environment
from tests.scenarios import COMPLAINT

TIMEOUT = 60  # seconds for one request
CHROMIUM = Path("/usr/bin/chromium")


def mailed_link(db_url: str, tracking_id: str) -> str:
    """The private link of the case's receipt mail, as the citizen's mail client shows it."""
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            body = session.scalar(select(OutboxMail.body).where(OutboxMail.subject == f"Laporan Anda telah diterima: {tracking_id}"))
    finally:
        engine.dispose()
    assert body is not None, f"no receipt mail for {tracking_id}"
    return re.search(rf"https?://\S+/lacak/{tracking_id}\S*", body).group(0)


def csrf_of(page: requests.Response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def follow_the_private_link(base: str, tracking_id: str, link: str) -> str:
    """Do what a browser does with the mailed link: ask for the page (the fragment stays behind), post the code as
    track.js does, follow the 303, then withdraw the complaint with the page's form. Returns the code."""
    page_url, _hash, fragment = link.partition("#")
    token = fragment.removeprefix("token=")
    assert page_url == f"{base}/lacak/{tracking_id}" and len(token) >= 22, link
    browser = requests.Session()
    lookup = browser.get(page_url, timeout=TIMEOUT)
    assert lookup.status_code == 200 and "/static/track.js" in lookup.text and 'id="status"' not in lookup.text
    opened = browser.post(f"{base}/lacak", data={"tracking_id": tracking_id, "token": token, "csrf_token": csrf_of(lookup)}, timeout=TIMEOUT)
    assert [r.status_code for r in opened.history] == [303] and opened.url == page_url
    assert opened.status_code == 200 and 'id="status">diterima<' in opened.text and token not in opened.text
    assert {(c.name, c.path) for c in browser.cookies if c.value == token} == {("lacak", f"/lacak/{tracking_id}")}
    withdrawn = browser.post(f"{page_url}/cabut", data={"reason": "Sudah diperbaiki", "csrf_token": csrf_of(opened)}, timeout=TIMEOUT)
    assert [r.status_code for r in withdrawn.history] == [302] and withdrawn.url == page_url
    assert 'id="status">dicabut<' in withdrawn.text
    return token


def open_the_old_link(base: str, tracking_id: str, token: str) -> None:
    """A link mailed before the code moved behind "#" (``?token=``): a 303 to the bare tracking URL, the case open."""
    opened = requests.get(f"{base}/lacak/{tracking_id}?token={token}", timeout=TIMEOUT)
    assert [r.status_code for r in opened.history] == [303] and opened.url == f"{base}/lacak/{tracking_id}"
    assert opened.status_code == 200 and 'id="status">' in opened.text


def assert_logged_without_the_code(log: str, tracking_id: str, token: str) -> None:
    """Every request of follow_the_private_link and open_the_old_link is in the access log (the check below is not
    vacuous), the old link's with its code hidden; the code is not."""
    old_link = f"GET /lacak/{tracking_id}?token=[disembunyikan] "
    for request_line in (f"GET /lacak/{tracking_id} ", "POST /lacak ", f"POST /lacak/{tracking_id}/cabut ", old_link):
        assert request_line in log, f"{request_line!r} not in the access log:\n{log}"
    assert token not in log, log


@contextmanager
def werkzeug_server(app: Flask) -> Iterator[str]:
    """The app on Werkzeug's threaded server (what `lapor serve` runs) on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=TIMEOUT)


def test_the_private_link_never_reaches_werkzeugs_access_log(make_app, db_url, caplog):
    caplog.set_level(logging.INFO, logger="werkzeug")
    app = make_app(RATELIMIT_ENABLED=False)
    with werkzeug_server(app) as base:
        app.config["LAPOR_BASE_URL"] = base  # the mailed link points at this server
        submitted = requests.post(f"{base}/api/v1/complaints", json=COMPLAINT, timeout=TIMEOUT)
        assert submitted.status_code == 201, submitted.text
        tracking_id = submitted.json()["tracking_id"]
        token = follow_the_private_link(base, tracking_id, mailed_link(db_url, tracking_id))
        open_the_old_link(base, tracking_id, token)
    log = "\n".join(r.getMessage() for r in caplog.records if r.name == "werkzeug")
    assert_logged_without_the_code(log, tracking_id, token)


def test_the_private_link_never_reaches_gunicorns_access_log_and_gunicorn_has_no_mailbox(db_url, tmp_path):
    """gunicorn as the README runs it in production (its access log on), with no MAIL_SERVER."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    access_log = tmp_path / "access.log"
    config = tmp_path / "gunicorn.conf.py"  # says when a worker has loaded the app: the test waits on that line, not on a clock
    config.write_text('def post_worker_init(worker):\n    print("READY", flush=True)\n')
    args = [sys.executable, "-m", "gunicorn", "--config", str(config), "--workers", "1", "--worker-class", "gthread", "--threads", "4"]
    args += ["--bind", f"127.0.0.1:{port}", "--access-logfile", str(access_log), "--graceful-timeout", "10", "web:create_app()"]
    env = environment(db_url, LAPOR_BASE_URL=base, LAPOR_ATTACHMENTS_DIR=str(tmp_path / "files"))
    child = Child(args, env, tmp_path / "gunicorn.log")
    try:
        child.wait_for("READY")
        submitted = requests.post(f"{base}/api/v1/complaints", json=complaint(), timeout=TIMEOUT)
        assert submitted.status_code == 201, submitted.text
        tracking_id = submitted.json()["tracking_id"]
        token = follow_the_private_link(base, tracking_id, mailed_link(db_url, tracking_id))
        open_the_old_link(base, tracking_id, token)
        # the development mailbox (every citizen's private link) is not part of the production app, even asked from this machine
        assert requests.get(f"{base}/dev/kotak-surat", timeout=TIMEOUT).status_code == 404
        os.killpg(child.process.pid, signal.SIGTERM)  # a graceful stop writes every access line before the process ends
        assert child.process.wait(STARTUP_TIMEOUT) == 0, child.tail()
    finally:
        child.kill()
    assert_logged_without_the_code(access_log.read_text(), tracking_id, token)


def test_a_browser_opens_the_mailed_link_through_track_js(make_app, db_url, caplog):
    """Chromium, with the page's real policy (no inline script), follows the link from the receipt mail to the case
    page; the code is then in no request line of the server's log, nor in the address bar."""
    playwright = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not installed ({CHROMIUM})")
    caplog.set_level(logging.INFO, logger="werkzeug")
    app = make_app(RATELIMIT_ENABLED=False)
    seen: dict = {}
    with werkzeug_server(app) as base:
        app.config["LAPOR_BASE_URL"] = base
        submitted = requests.post(f"{base}/api/v1/complaints", json=COMPLAINT, timeout=TIMEOUT)
        tracking_id = submitted.json()["tracking_id"]
        link = mailed_link(db_url, tracking_id)

        def browse() -> None:
            # in a thread of its own: the sync API refuses a thread with a running event loop (the browser tests'
            # session-wide Playwright may have left one in this process's main thread)
            try:
                with playwright.sync_playwright() as p:
                    browser = p.chromium.launch(
                        executable_path=str(CHROMIUM),
                        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
                    )
                    page = browser.new_page()
                    seen["violations"] = violations = []
                    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
                    page.goto(link)
                    page.locator("#status").wait_for(timeout=20_000)
                    seen["status"], seen["url"] = page.locator("#status").inner_text(), page.url
                    browser.close()
            except BaseException as error:  # noqa: BLE001 - handed to the test's thread below
                seen["error"] = error

        browser_thread = threading.Thread(target=browse)
        browser_thread.start()
        browser_thread.join(timeout=120)
    assert not browser_thread.is_alive(), "the browser did not finish within two minutes"
    if "error" in seen:
        raise seen["error"]
    token = link.partition("#token=")[2]
    assert seen["status"] == "diterima" and seen["url"] == f"{base}/lacak/{tracking_id}" and seen["violations"] == []
    log = "\n".join(r.getMessage() for r in caplog.records if r.name == "werkzeug")
    assert "POST /lacak " in log and token not in log, log
