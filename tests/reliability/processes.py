"""Running the web app in its own process for the kill tests (tests/reliability/launch_web.py), and talking to it.

Each process is started from this checkout's interpreter with the test's database in
LAPOR_DATABASE_URL, and always ended by the test (SIGKILL on its process group).
Reading what a process prints happens in a thread, so the test blocks on a queue with a timeout
instead of polling.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests.scenarios import COMPLAINT

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 60  # seconds


def environment(db_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAPOR_", "MAIL_"))}
    env.update(LAPOR_DATABASE_URL=db_url, LAPOR_SECRET_KEY="reliability-tests", PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", **extra)
    return env


class Child:
    """A child process whose stdout lines arrive on a queue; killed with its whole process group at the end."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._stderr = log.open("w")
        self.process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=self._stderr, text=True, start_new_session=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, prefix: str, timeout: float = STARTUP_TIMEOUT) -> str:
        """Block until the child prints a line starting with ``prefix``; return it. Fails (with the child's log) after ``timeout``."""
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no {prefix!r} within {timeout} s; exit code {self.process.poll()}; log:\n{self.tail()}") from None
            if line.startswith(prefix):
                return line

    def tail(self) -> str:
        self._stderr.flush()
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])

    def kill(self) -> None:
        """SIGKILL the process and everything it started (gunicorn's workers too)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(STARTUP_TIMEOUT)
        self._stderr.close()


def launch_web(db_url: str, log: Path, hook: str = "none") -> tuple[Child, str]:
    """The werkzeug launcher (tests/reliability/launch_web.py); returns the child and its base URL."""
    child = Child([sys.executable, "-m", "tests.reliability.launch_web", "--hook", hook], environment(db_url), log)
    port = child.wait_for("PORT ").split()[1]
    return child, f"http://127.0.0.1:{port}"


def call(method: str, url: str, body: Any = None, token: str | None = None, timeout: float = 60) -> tuple[int, Any]:
    """One JSON request; returns (status, decoded body). Connection failures raise (OSError)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        payload = error.read()
        try:
            return error.code, json.loads(payload or b"null")
        except ValueError:
            return error.code, payload.decode(errors="replace")


def complaint(**changes: Any) -> dict[str, Any]:
    """The scenario complaint, dated yesterday in Jakarta (the servers run on the real clock)."""
    yesterday = (datetime.now(ZoneInfo("Asia/Jakarta")) - timedelta(days=1)).date().isoformat()
    return {**COMPLAINT, "incident_date": yesterday, **changes}
