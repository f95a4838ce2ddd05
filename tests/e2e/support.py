"""What the browser tests drive: the server process, the SMTP server that catches its mail, the actors'
browsers, the screenshots, and the list of everything that went wrong on a page.

Nothing here sleeps for a fixed time: the browser side waits with Playwright's auto-waiting
(``expect``), the mail side on a condition variable with a deadline, the server start-up by polling
with a deadline.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller

from tests.e2e.fileclock import set_clock
from tests.engine.support import free_port

try:  # a declared test dependency; without it the browser fixture skips (a failure under CI=true)
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Locator, Page, Request, Response, WebError, expect
except ImportError:  # pragma: no cover - only on a machine without the test extras
    Browser = BrowserContext = ConsoleMessage = Locator = Page = Request = Response = WebError = Any  # type: ignore[misc, assignment]
    expect = None  # type: ignore[assignment]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "demo-lapor"  # every demo account (README, "Two commands")
LANDING = {"pusat": "/ikhtisar", "auditor": "/kasus", "analis": "/proses"}  # where a sign-in lands; the rest on /tugas
T = TypeVar("T")


def wait_until(what: str, check: Callable[[], T | None], timeout: float = 15.0, interval: float = 0.05) -> T:
    """Poll ``check`` until it returns something truthy; return it. Fails the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}", pytrace=False)
        time.sleep(interval)  # polling interval, not a wait for an outcome


def tiny_png(width: int = 48, height: int = 32) -> bytes:
    """A valid PNG (a blue-to-green gradient), built by hand so the test needs no image library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"".join(bytes((20, 60 + 4 * x, 200 - 4 * y)) for x in range(width)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


# ---- mail ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    to: tuple[str, ...]
    subject: str
    text: str
    html: str


class MailCatcher:
    """A real SMTP server (aiosmtpd) on a free loopback port; keeps every message it accepts."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mails: list[Mail] = []
        self._changed = threading.Condition()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = message_from_bytes(envelope.content, policy=policy.default)
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        mail = Mail(
            to=tuple(envelope.rcpt_tos),
            subject=str(message["Subject"]),
            text=text.get_content() if text is not None else "",
            html=html.get_content() if html is not None else "",
        )
        with self._changed:
            self.mails.append(mail)
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def wait_for(self, to: str, subject: str, timeout: float = 15.0) -> Mail:
        """The first mail to ``to`` whose subject contains ``subject``, waiting for it up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for mail in self.mails:
                    if to in mail.to and subject in mail.subject:
                        return mail
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = "\n".join(f"  {', '.join(m.to)}: {m.subject}" for m in self.mails) or "  (none)"
                    pytest.fail(f"no mail to {to} with {subject!r} within {timeout:.0f} s; the SMTP server got:\n{seen}", pytrace=False)
                self._changed.wait(left)

    def to(self, address: str) -> list[Mail]:
        with self._changed:
            return [m for m in self.mails if address in m.to]


# ---- the server process ----------------------------------------------------------------------------


class LaporServer:
    """One real server process on a free loopback port, on its own copy of a fresh SQLite database.

    ``clock=None`` runs the real `lapor serve` (system clock); a datetime runs tests/e2e/serve_with_clock.py
    (`lapor serve` with the clock read from a file), starting at that instant.
    """

    def __init__(self, workdir: Path, database: Path, smtp_port: int, clock: datetime | None) -> None:
        self.workdir = workdir
        self.database = database
        self.smtp_port = smtp_port
        self.clock_file = workdir / "clock.txt" if clock is not None else None
        self.log_path = workdir / "server.log"
        self.port = 0
        self.url = ""
        self.process: subprocess.Popen[bytes] | None = None
        if clock is not None:
            self.set_clock(clock)

    def set_clock(self, instant: datetime) -> None:
        """Move the server's clock (web requests and worker loop alike) to ``instant``."""
        if self.clock_file is None:
            raise RuntimeError("this server runs on the system clock (started with clock=None)")
        set_clock(self.clock_file, instant)

    def _command(self) -> list[str]:
        if self.clock_file is None:
            return [lapor_executable(), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        return [
            sys.executable,
            "-m",
            "tests.e2e.serve_with_clock",
            "--port",
            str(self.port),
            "--clock-file",
            str(self.clock_file),
            "--attachments",
            str(self.workdir / "attachments"),
        ]

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LAPOR_", "MAIL_"))}
        env.update(
            LAPOR_DATABASE_URL=f"sqlite:///{self.database}",
            LAPOR_BASE_URL=self.url,
            LAPOR_SECRET_KEY=os.urandom(16).hex(),
            LAPOR_WORKER_INTERVAL="0.2",
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=str(self.smtp_port),
            PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")])),
            PYTHONUNBUFFERED="1",
        )
        return env

    def start(self, timeout: float = 30.0) -> None:
        for _attempt in range(3):  # a free port can be taken between choosing and binding it: choose again
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            with self.log_path.open("ab") as log:
                self.process = subprocess.Popen(
                    self._command(), cwd=PROJECT_ROOT, env=self._environment(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                try:
                    with urllib.request.urlopen(self.url + "/", timeout=2) as response:
                        if response.status == 200:
                            return
                except (OSError, urllib.error.URLError):
                    pass
                time.sleep(0.05)  # polling interval for the port to open
            else:
                self.stop()
                pytest.fail(f"the server did not answer on {self.url} within {timeout:.0f} s:\n{self.log_tail()}", pytrace=False)
            if "Address already in use" not in self.log():
                break
        pytest.fail(f"the server exited with {self.process.returncode if self.process else '?'}:\n{self.log_tail()}", pytrace=False)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)  # its own session: ends only the server this test started
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def tracebacks(self) -> list[str]:
        """Every traceback the server logged (a failed request, a failed worker pass), with the line before it."""
        lines = self.log().splitlines()
        found = []
        for i, line in enumerate(lines):
            if line.startswith("Traceback (most recent call last)"):
                end = next((j for j in range(i + 1, len(lines)) if lines[j] and not lines[j].startswith((" ", "\t"))), len(lines) - 1)
                found.append("\n".join(lines[max(0, i - 1) : end + 1]))
        return found


def lapor_executable() -> str:
    """The `lapor` command of this environment (the console script beside the interpreter)."""
    beside = Path(sys.executable).with_name("lapor")
    found = str(beside) if beside.exists() else shutil.which("lapor")
    if not found:
        pytest.fail("the `lapor` command is not installed in this environment (pip install -e '.[test]')", pytrace=False)
    return found


def init_demo_database(path: Path) -> None:
    """`lapor init --demo` into a new SQLite file: the schema, the project's process, the demo units and accounts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAPOR_", "MAIL_"))}
    env.update(LAPOR_DATABASE_URL=f"sqlite:///{path}", LAPOR_SECRET_KEY="e2e-init")
    result = subprocess.run([lapor_executable(), "init", "--demo"], cwd=path.parent, env=env, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        pytest.fail(f"lapor init --demo failed ({result.returncode}):\n{result.stdout}\n{result.stderr}", pytrace=False)


# ---- what went wrong in the browsers ---------------------------------------------------------------


@dataclass
class Problems:
    """Console errors, uncaught page errors, failed requests and unexpected HTTP errors on any page of any actor."""

    found: list[tuple[str, str]] = field(default_factory=list)  # (kind, detail)
    expected: set[tuple[str, int, str]] = field(default_factory=set)  # (actor, status, path) a step asked for
    downloads: set[tuple[str, str]] = field(default_factory=set)  # (actor, path) a step downloaded

    def watch(self, context: BrowserContext, actor: str) -> None:
        context.on("console", lambda message: self._console(actor, message))
        context.on("weberror", lambda error: self.found.append(("pageerror", f"{actor}: {error.error}")))
        context.on("requestfailed", lambda request: self._failed(actor, request))
        context.on("response", lambda response: self._response(actor, response))

    def expect_error(self, actor: str, status: int, path: str) -> None:
        """A step of ``actor`` asks for an error page on purpose (a 404 for a case the user may not see)."""
        self.expected.add((actor, status, path))

    def _console(self, actor: str, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        where = urlsplit(message.location.get("url") or "").path
        if message.text.startswith("Failed to load resource") and any(a == actor and path == where for a, _status, path in self.expected):
            return
        self.found.append(("console", f"{actor}: {message.text} @ {where}"))

    def expect_download(self, actor: str, path: str) -> None:
        """A step of ``actor`` downloads ``path``: Chromium reports the request turned into a download as aborted."""
        self.downloads.add((actor, path))

    def _failed(self, actor: str, request: Request) -> None:
        path = urlsplit(request.url).path
        if request.failure == "net::ERR_ABORTED" and (actor, path) in self.downloads:
            return
        # a page the test leaves at once (a click lands while its deferred script is still on the way): the browser
        # cancels that load. A static file that is missing or broken still answers >= 400, which _response reports.
        if request.failure == "net::ERR_ABORTED" and request.method == "GET" and path.startswith("/static/"):
            return
        self.found.append(("requestfailed", f"{actor}: {request.method} {request.url}: {request.failure}"))

    def _response(self, actor: str, response: Response) -> None:
        if response.status >= 400 and (actor, response.status, urlsplit(response.url).path) not in self.expected:
            self.found.append(("response", f"{actor}: {response.request.method} {response.url} answered {response.status}"))

    def check(self) -> None:
        """Fail on any problem seen on the pages."""
        if self.found:
            pytest.fail("problems on the pages:\n" + "\n".join(f"  [{kind}] {detail}" for kind, detail in self.found), pytrace=False)


# ---- screenshots -----------------------------------------------------------------------------------


DOC_HEIGHT = 1400


class Screenshots:
    """One screenshot per step into ``folder`` (the whole page); the steps named for the docs are also saved to
    ``publish_to`` (if set) as ``<doc>.png``, cut to the page's top DOC_HEIGHT pixels."""

    def __init__(self, folder: Path, prefix: str, publish_to: Path | None) -> None:
        self.folder = folder
        self.prefix = prefix
        self.publish_to = publish_to
        self.count = 0
        self.taken: list[Path] = []
        self.published: list[Path] = []
        folder.mkdir(parents=True, exist_ok=True)

    def take(self, page: Page, step: str, doc: str | None = None) -> Path:
        self.count += 1
        path = self.folder / f"{self.prefix}-{self.count:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        if doc and self.publish_to is not None:  # for a README: the page's top, at most DOC_HEIGHT pixels of it
            self.publish_to.mkdir(parents=True, exist_ok=True)
            target = self.publish_to / f"{doc}.png"
            height = min(DOC_HEIGHT, int(page.evaluate("document.documentElement.scrollHeight")))
            page.screenshot(path=str(target), full_page=True, clip={"x": 0, "y": 0, "width": page.viewport_size["width"], "height": height})
            self.published.append(target)
        return path


# ---- the actors ------------------------------------------------------------------------------------


class Actor:
    """One person with their own browser context (cookies, session) and one page."""

    def __init__(self, stage: Stage, name: str, forbidden: tuple[str, ...] = ()) -> None:
        self.stage = stage
        self.name = name
        self.forbidden = forbidden  # texts no page this actor opens may contain (an anonymous reporter's identity, a confidential case)
        self.context = stage.browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID", timezone_id="Asia/Jakarta")
        stage.problems.watch(self.context, name)
        self.page = self.context.new_page()

    @property
    def url(self) -> str:
        return self.stage.server.url

    def goto(self, path: str, status: int = 200) -> Response:
        """Open ``path`` (a path on the server or a full URL) and check the final status."""
        target = path if path.startswith("http") else self.url + path
        if status >= 400:
            self.stage.problems.expect_error(self.name, status, urlsplit(target).path)
        response = self.page.goto(target)
        assert response is not None and response.status == status, f"{self.name}: GET {target} answered {response and response.status}, not {status}"
        self.check_identity()
        return response

    def open_mailed_link(self, link: str) -> Response:
        """Open a link from a mail as a click in the mail client does: a fresh page load, even when the browser shows the
        same page already (the private link differs from the tracking page only by its "#token=...", which would
        otherwise be a same-page jump that loads nothing)."""
        self.page.goto("about:blank")
        return self.goto(link)

    def shot(self, step: str, doc: str | None = None) -> None:
        self.check_identity()
        self.stage.shots.take(self.page, f"{self.name}-{step}", doc)

    def check_identity(self) -> None:
        if not self.forbidden:
            return
        html = self.page.content()
        leaked = [text for text in self.forbidden if text.lower() in html.lower()]
        assert not leaked, f"{self.name} sees {leaked} on {self.page.url} (an anonymous reporter's identity, or a confidential case)"

    def fill(self, values: dict[str, Any]) -> None:
        """Fill form fields by their name (dotted for nested ones) as the form renders them (web/templates/_field.html)."""
        form = self.page
        for name, value in values.items():
            if isinstance(value, bool):
                radio = form.locator(f'input[type=radio][name="{name}"][value="{str(value).lower()}"]')
                if radio.count():
                    radio.check()
                else:
                    form.locator(f'input[type=checkbox][name="{name}"]').set_checked(value)
                continue
            if isinstance(value, list):  # several of a list: tick these boxes, untick the others
                for box in form.locator(f'input[type=checkbox][name="{name}"]').all():
                    box.set_checked(box.get_attribute("value") in value)
                continue
            radio = form.locator(f'input[type=radio][name="{name}"][value="{value}"]')
            if radio.count():
                radio.check()
                continue
            element = form.locator(f'[name="{name}"]')
            if element.evaluate("e => e.tagName") == "SELECT":
                element.select_option(str(value))
            else:
                element.fill(str(value))

    def download(self, link: str) -> bytes:
        """Click the link named ``link`` and return the content of the file it downloads."""
        target = self.page.get_by_role("link", name=link, exact=True)
        self.stage.problems.expect_download(self.name, urlsplit(target.get_attribute("href") or "").path)
        with self.page.expect_download() as download:
            target.click()
        return Path(download.value.path()).read_bytes()

    # -- staff

    def login(self, username: str) -> None:
        self.goto("/masuk")
        self.page.locator("#username").fill(username)
        self.page.locator("#password").fill(PASSWORD)
        self.page.get_by_role("button", name="Masuk", exact=True).click()
        expect(self.page).to_have_url(self.url + LANDING.get(username, "/tugas"))
        expect(self.page.locator("header")).to_contain_text(f"Keluar ({username})")
        # the landing page's stylesheet too: a test reading computed styles (the phone's cards) must not read them before it
        self.page.wait_for_load_state("load")

    def inbox_row(self, tracking_id: str, task: str | None = None) -> Locator:
        rows = self.page.locator("tr.task-row", has_text=tracking_id)
        return rows.filter(has=self.page.get_by_role("link", name=task, exact=True)) if task else rows

    def open_task(self, tracking_id: str, task: str) -> str:
        """From the inbox, open the task named ``task`` of this case; return its id."""
        self.goto("/tugas")
        row = self.inbox_row(tracking_id, task)
        expect(row).to_have_count(1)
        task_id = row.get_attribute("data-task")
        row.get_by_role("link", name=task, exact=True).click()
        expect(self.page).to_have_url(f"{self.url}/tugas/{task_id}")
        expect(self.page.locator("h1")).to_have_text(task)
        return task_id or ""

    def complete_task(self, values: dict[str, Any], step: str) -> None:
        """Fill the open task's form, screenshot it, submit, and check the inbox confirms it."""
        self.fill(values)
        self.shot(f"{step}-isi")
        self.page.get_by_role("button", name="Selesaikan tugas").click()
        # the browser keeps the task page's fragment (#dokumen after an upload) across the redirect to the inbox
        expect(self.page).to_have_url(re.compile(re.escape(self.url + "/tugas") + "(#[^/]*)?$"))
        expect(self.page.locator(".flash.info")).to_contain_text("Tugas selesai")
        self.shot(f"{step}-selesai")


@dataclass
class Stage:
    """Everything one scenario drives: its server, its SMTP server, the browser, the screenshots, the problems."""

    server: LaporServer
    mail: MailCatcher
    browser: Browser
    shots: Screenshots
    problems: Problems = field(default_factory=Problems)
    actors: list[Actor] = field(default_factory=list)

    def actor(self, name: str, forbidden: tuple[str, ...] = ()) -> Actor:
        actor = Actor(self, name, forbidden)
        self.actors.append(actor)
        return actor

    def close(self) -> None:
        for actor in self.actors:
            actor.context.close()

    def finish(self) -> None:
        """The end of a scenario: nothing went wrong on any page, nor in the server's log."""
        tracebacks = self.server.tracebacks()
        assert not tracebacks, "the server logged errors:\n" + "\n\n".join(tracebacks)
        self.problems.check()


TRACKING_ID = re.compile(r"LPR-[0-9A-HJKMNP-TV-Z]{8}")
