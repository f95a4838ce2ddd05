"""Issue 8, figures 1, 4 and 6: a whole case, N times, four ways in one run; what it stores.

The same case each time: submit, Admin Kominfo forwards, the unit accepts and answers, Admin Kominfo
forwards the answer, the citizen replies satisfied.

  a  plain SpiffWorkflow in memory on processes/sp4n_lapor.bpmn (no database)
  b  the engine façade, SQLite file (WAL); each step a fresh session and commit, as a request is
  c  the same on PostgreSQL
  d  the JSON API over HTTP on loopback against `lapor serve` (SQLite), one client, keep-alive

Also: bytes per stored case state in each status, bytes per audit event, database size per 1,000
closed cases, and the submit request's latency (the liaison's notification and mail are queued
inside it: the SOP's 1-minute step is done when the response returns).

    .venv/bin/python bench/lifecycle.py [--cases N] [--skip-http] [--skip-pg]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.common import database, median, percentile, pg_unavailable, seed, table  # noqa: E402
from engine import CaseService, FakeClock, make_script_engine  # noqa: E402
from engine.db.connection import make_engine  # noqa: E402
from engine.db.tables import AuditEvent, OpenTask  # noqa: E402
from engine.definitions.bundle import project_bundle  # noqa: E402
from engine.definitions.validation import validate  # noqa: E402
from engine.runtime.scripting import RunContext, running  # noqa: E402
from engine.timekeeping import clock as clocks  # noqa: E402
from tests.engine.support import free_port, holder  # noqa: E402
from tests.scenarios import ACCEPT_SATKER, ANSWER_SATKER, COMPLAINT, FORWARD_SATKER, PUBLISH, SATISFIED  # noqa: E402

STEPS = [FORWARD_SATKER, ACCEPT_SATKER, ANSWER_SATKER, PUBLISH, SATISFIED]
START = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
ROOT = Path(__file__).resolve().parent.parent


def plain(n: int) -> float:
    """Seconds for n whole cases in SpiffWorkflow alone (the model's scripts record effects, nothing is written)."""
    parsed, _ = validate(project_bundle())
    started = time.perf_counter()
    with clocks.using(FakeClock(START)), running(RunContext()):
        for _ in range(n):
            workflow = BpmnWorkflow(parsed.spec, parsed.subprocess_specs, script_engine=make_script_engine())
            workflow.get_tasks(state=TaskState.READY)[0].data.update(pengaduan=COMPLAINT, tracking_id="LPR-BENCH000")
            workflow.do_engine_steps()
            for step in STEPS:
                [task] = [t for t in workflow.get_tasks(state=TaskState.READY, manual=True) if t.task_spec.bpmn_id == step.task]
                task.data[parsed.form_of(task.task_spec)] = step.data
                task.run()
                workflow.do_engine_steps()
    return time.perf_counter() - started


def facade(backend: str, n: int) -> tuple[float, dict[str, list[int]], dict[str, float]]:
    """Seconds for n whole cases through CaseService; state bytes per status; storage figures."""
    clock = FakeClock(START)
    with database(backend) as url:
        engine = make_engine(url)
        seed(engine, clock)
        baseline = _database_bytes(engine)
        sizes: dict[str, list[int]] = defaultdict(list)
        started = time.perf_counter()
        for _ in range(n):
            with Session(engine) as session:
                submitted = CaseService(session, clock).submit(COMPLAINT)
                case_id, tracking_id, token = submitted.case.id, submitted.case.tracking_id, submitted.access_token
                sizes[submitted.case.status].append(len(submitted.case.state))  # read before the commit expires them
                session.commit()
            for step in STEPS:
                with Session(engine) as session:  # a fresh request: load, complete, save, commit
                    service = CaseService(session, clock)
                    row = session.scalar(select(OpenTask).where(OpenTask.case_id == case_id, OpenTask.spec_name == step.task))
                    if row.role == "masyarakat":
                        case = service.reply(tracking_id, token, step.data)
                    else:
                        case = service.complete_task(row.id, step.data, holder(row))
                    sizes[f"{case.status} after {step.task}"].append(len(case.state))
                    session.commit()
        elapsed = time.perf_counter() - started
        storage = _storage(engine, n, baseline)
        engine.dispose()
    return elapsed, sizes, storage


def _database_bytes(engine) -> int:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            return connection.scalar(text("PRAGMA page_count")) * connection.scalar(text("PRAGMA page_size"))
        return connection.scalar(text("SELECT pg_database_size(current_database())"))


def _storage(engine, closed_cases: int, baseline: int) -> dict[str, float]:
    grown = _database_bytes(engine) - baseline  # the seeded schema, accounts and process are not the cases' doing
    with engine.connect() as connection:
        events = connection.scalar(select(func.count()).select_from(AuditEvent))
        if engine.dialect.name == "sqlite":
            event_bytes = connection.scalar(select(func.sum(func.length(AuditEvent.data) + 2 * 64 + 60))) / events
        else:
            event_bytes = connection.scalar(text("SELECT pg_total_relation_size('audit_event')")) / events
    return {"events_per_case": events / closed_cases, "bytes_per_event": event_bytes, "db_bytes_per_1000": grown / closed_cases * 1000}


class Client:
    """The mobile app's side of the JSON API, one keep-alive connection."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.tokens: dict[str, str] = {}

    def call(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
        headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
        self.connection.request(method, "/api/v1" + path, json.dumps(body) if body is not None else None, headers)
        response = self.connection.getresponse()
        payload = response.read()
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:200]!r}")
        return json.loads(payload) if payload else {}

    def token(self, username: str) -> str:
        if username not in self.tokens:
            self.tokens[username] = self.call("POST", "/auth/token", {"username": username, "password": "demo-lapor"})["token"]
        return self.tokens[username]

    def step(self, username: str, tracking_id: str, data: dict) -> None:
        token = self.token(username)
        [task] = [t for t in self.call("GET", "/tasks", token=token)["tasks"] if t["tracking_id"] == tracking_id]
        self.call("POST", f"/tasks/{task['id']}/complete", {"data": data}, token)


def over_http(n: int) -> tuple[float, list[float]]:
    """Seconds for n whole cases through the JSON API of a real `lapor serve`; submit latencies."""
    with tempfile.TemporaryDirectory(prefix="lapor-bench-http-") as folder:
        port = free_port()
        env = {**os.environ, "LAPOR_DATABASE_URL": f"sqlite:///{folder}/http.db", "LAPOR_SECRET_KEY": "bench", "LAPOR_ATTACHMENTS_DIR": folder}
        env["LAPOR_SUBMIT_RATE_LIMIT"] = "100000 per minute"  # n complaints from 127.0.0.1
        lapor = str(Path(sys.executable).parent / "lapor")
        subprocess.run([lapor, "init", "--demo"], env=env, check=True, capture_output=True, cwd=ROOT)
        server = subprocess.Popen([lapor, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("lapor serve did not start") from None
                    time.sleep(0.1)
            client = Client(port)
            for username in ("kominfo", "pendidikan"):
                client.token(username)  # sign in once, outside the timing (argon2 is deliberately slow)
            users = {"Task_Disposisi": "kominfo", "Task_Teruskan": "kominfo"}
            latencies = []
            started = time.perf_counter()
            for _ in range(n):
                sent = time.perf_counter()
                case = client.call("POST", "/complaints", COMPLAINT)
                latencies.append(time.perf_counter() - sent)
                for step in STEPS:
                    if step is SATISFIED:
                        client.call("POST", f"/complaints/{case['tracking_id']}/replies", step.data, case["access_token"])
                    else:
                        client.step(users.get(step.task, "pendidikan"), case["tracking_id"], step.data)
            return time.perf_counter() - started, latencies
        finally:
            server.terminate()
            server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-pg", action="store_true")
    args = parser.parse_args()
    n = args.cases
    plain(5)  # warm-up: parse cache, imports
    rows, per_second = [], {}
    a = plain(n)
    per_second["a"] = n / a
    rows.append(("a", "plain SpiffWorkflow, in memory", f"{n / a:.1f}", "1.00"))
    b, sizes, storage_sqlite = facade("sqlite", n)
    per_second["b"] = n / b
    rows.append(("b", "engine façade, SQLite file", f"{n / b:.1f}", f"{a / b:.2f}"))
    storage = {"sqlite": storage_sqlite}
    if not args.skip_pg and (reason := pg_unavailable()) is None:
        c, _sizes, storage["postgresql"] = facade("postgresql", n)
        rows.append(("c", "engine façade, PostgreSQL", f"{n / c:.1f}", f"{a / c:.2f}"))
    elif not args.skip_pg:
        print(f"PostgreSQL skipped: {reason}")
    latencies: list[float] = []
    if not args.skip_http:
        d, latencies = over_http(n)
        rows.append(("d", "JSON API over HTTP (lapor serve, SQLite)", f"{n / d:.1f}", f"{a / d:.2f}"))
    print(f"\nWhole case lifecycle (submit + 5 steps), {n} cases each, one run")
    print(table(("", "how", "cases/s", "ratio to a"), rows))
    print("\nStored case state, bytes (spec excluded), median by status after each step")
    print(table(("status", "median bytes", "max bytes"), [(k, int(median(v)), max(v)) for k, v in sizes.items()]))
    print("\nStorage per closed case")
    print(
        table(
            ("backend", "audit events / case", "bytes / audit event", "database size / 1,000 closed cases"),
            [(k, f"{v['events_per_case']:.1f}", f"{v['bytes_per_event']:.0f}", f"{v['db_bytes_per_1000'] / 1e6:.1f} MB") for k, v in storage.items()],
        )
    )
    if latencies:
        print(
            f"\nPOST /complaints (records the case, queues the liaison's notification and mail): "
            f"median {median(latencies) * 1000:.1f} ms, p99 {percentile(latencies, 0.99) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms"
        )


if __name__ == "__main__":
    main()
