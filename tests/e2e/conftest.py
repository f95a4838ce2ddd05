"""Fixtures of the browser tests (marked ``e2e``): Debian's Chromium driven by Playwright, a real server
process per scenario on a fresh SQLite database with the demo accounts, a real SMTP server.

Chromium: ``LAPOR_E2E_CHROMIUM`` if set, else /usr/bin/chromium, else ``chromium`` on PATH (Debian:
``apt-get install -y chromium``; the tests never use ``playwright install``). Without it the tests skip
and say so; under ``CI=true`` a skipped browser test is a failure.

Screenshots: every step of every scenario is saved under the test's tmp_path (the path is printed
with ``-rA`` or on failure). ``LAPOR_E2E_SCREENSHOTS=docs/e2e`` also copies the main ones (the
complaint form, the inbox, a task, the case diagram, the tracking page with the answer, the replay)
to that folder, relative to the project root.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.e2e.support import LaporServer, MailCatcher, Screenshots, Stage, expect, init_demo_database

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def find_chromium() -> str | None:
    """LAPOR_E2E_CHROMIUM if set (an empty or wrong path counts as missing), else /usr/bin/chromium, else chromium on PATH."""
    chosen = os.environ.get("LAPOR_E2E_CHROMIUM")
    if chosen is not None:
        return chosen if chosen and os.access(chosen, os.X_OK) else None
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[pytest.TestReport]:
    """Under CI=true a skipped browser test is a failure (an expected failure, xfail, stays one)."""
    report = yield
    if IN_CI and report.skipped and not hasattr(report, "wasxfail") and item.get_closest_marker("e2e"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"CI=true: a browser test may not be skipped ({reason})"
    return report


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = find_chromium()
    if path is None:
        pytest.skip(
            "browser tests skipped: Chromium not found (LAPOR_E2E_CHROMIUM, /usr/bin/chromium, or chromium on PATH). "
            "Install Debian's package (apt-get install -y chromium); test.sh does so when it runs as root. "
            "Under CI=true this is a failure."
        )
    return path


@pytest.fixture(scope="session")
def browser(chromium_executable: str):
    if expect is None:
        pytest.skip("browser tests skipped: the playwright package is missing (pip install -e '.[test]')")
    from playwright.sync_api import sync_playwright

    expect.set_options(timeout=10_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_executable, headless=True, args=list(CHROMIUM_FLAGS))
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`lapor init --demo` once per pytest process; each scenario runs on its own copy."""
    path = tmp_path_factory.mktemp("e2e-template") / "lapor.db"
    init_demo_database(path)
    return path


@pytest.fixture
def mail() -> Iterator[MailCatcher]:
    catcher = MailCatcher()
    catcher.start()
    yield catcher
    catcher.stop()


@pytest.fixture
def stage(request: pytest.FixtureRequest, tmp_path: Path, browser, demo_database: Path, mail: MailCatcher) -> Iterator[Callable[..., Stage]]:
    """Start the scenario's server and return its Stage: ``stage()`` runs `lapor serve`, ``stage(clock=instant)``
    the same server with its clock read from a file, starting at ``instant``."""
    started: list[Stage] = []
    publish = os.environ.get("LAPOR_E2E_SCREENSHOTS")
    publish_to = (request.config.rootpath / publish) if publish else None

    def start(clock: datetime | None = None) -> Stage:
        database = tmp_path / "lapor.db"
        shutil.copyfile(demo_database, database)
        server = LaporServer(tmp_path, database, mail.port, clock)
        server.start()
        shots = Screenshots(tmp_path / "screenshots", "_".join(request.node.name.removeprefix("test_").split("_")[:2]), publish_to)
        started.append(Stage(server, mail, browser, shots))
        return started[-1]

    yield start
    for each in started:
        each.close()
        each.server.stop()
        print(f"\nscreenshots of {request.node.name}: {each.shots.folder} ({len(each.shots.taken)})")
        if each.shots.published:
            print("copied for the docs: " + ", ".join(str(p.relative_to(request.config.rootpath)) for p in each.shots.published))
