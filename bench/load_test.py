"""Load test on loopback: complaints from concurrent citizens while staff complete tasks and a worker fires timers.

    .venv/bin/python bench/load_test.py [--complaints 200] [--clients 20] [--web-workers 2] [--time-limit 50]

Runs against PostgreSQL (LAPOR_TEST_PG_URL's server; a throwaway database, dropped at the end) the way
production does: `gunicorn 'web:create_app()'` with two worker processes and one `lapor worker` loop, all
on one database. In the load generator (threads of this process, plain HTTP on 127.0.0.1):

- ``clients`` citizens submit ``complaints`` complaints between them through the JSON API, then each
  reads its complaint and replies as soon as its answer is published;
- two Admin Kominfo officers (the same inbox, so they collide, as colleagues do) forward each complaint to the
  unit of its category and publish each unit's answer; one member of staff per unit accepts and answers;
- the worker's clock runs ahead by the SOP target (one working day), so the target timers of the tasks
  being handled fall due during the run and race the staff's completions.

Every request loop is bounded (``time_limit``) and the run stops by itself. Prints throughput and latency
percentiles per request kind; with ``--json FILE`` writes them as JSON (bench/results/load_test.json by
default). tests/reliability/test_load.py runs it and checks every case's end state and audit chain.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from SpiffWorkflow.util.task import TaskState  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from engine import CaseService  # noqa: E402
from engine.audit.trail import first_broken  # noqa: E402
from engine.db.connection import make_engine  # noqa: E402
from engine.db.tables import AuditEvent, Case, Incident, OpenTask, OutboxMail  # noqa: E402
from engine.timekeeping.calendar import WorkingCalendar  # noqa: E402
from engine.timekeeping.timers import is_timer, timer_due  # noqa: E402
from tests.engine.support import free_port  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "load_test.json"
STARTUP_TIMEOUT = 60  # seconds for a process to start listening
WIB = ZoneInfo("Asia/Jakarta")
UNIT_OF = {  # category -> (unit, the unit's demo account)
    "pendidikan": ("dinas-pendidikan", "pendidikan"),
    "kesehatan": ("dinas-kesehatan", "kesehatan"),
    "infrastruktur": ("dinas-pu-bina-marga", "binamarga"),
    "pertanahan": ("kanwil-bpn-jatim", "bpn"),
    "keagamaan": ("kanwil-kemenag-jatim", "kemenag"),
}
CATEGORIES = list(UNIT_OF)
PAGE = 20  # tasks a member of staff takes from the inbox at a time
IDLE_LOOK = 0.2  # seconds: an idle member of staff looks at the inbox at most this often


# ---- the processes under test -------------------------------------------------------------------


class Process:
    """A child process in its own session; its output (stdout and stderr) goes to a log file and, line by line, to a queue."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log.open("w")
        self.process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.log.write(line)
            self.log.flush()
            self.lines.put(line)

    def wait_for(self, needle: str, timeout: float = STARTUP_TIMEOUT) -> None:
        """Block until the process prints a line containing ``needle``. Raises RuntimeError after ``timeout`` or when it exits."""
        end = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(f"{self.process.args}: no {needle!r} within {timeout} s (exit code {self.process.poll()})") from None
            if needle in line:
                return

    def stop(self) -> int | None:
        """SIGTERM (gunicorn and the worker stop gracefully), SIGKILL after 20 s. Returns the exit code."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(20)
        self.log.close()
        return self.process.returncode


def _environment(db_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAPOR_", "MAIL_"))}
    env.update(LAPOR_DATABASE_URL=db_url, LAPOR_SECRET_KEY="load-test", PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", **extra)
    env["LAPOR_SUBMIT_RATE_LIMIT"] = "100000 per minute"  # every citizen of the load sends from 127.0.0.1
    return env


def start_web(db_url: str, workers: int, log: Path) -> tuple[Process, str]:
    port = free_port()
    args = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--worker-class", "gthread", "--threads", "4"]
    args += ["--bind", f"127.0.0.1:{port}", "--graceful-timeout", "10", "--log-level", "info", "web:create_app()"]
    web = Process(args, _environment(db_url), log)
    web.wait_for("Listening at")
    for _ in range(workers):
        web.wait_for("Booting worker")
    base = f"http://127.0.0.1:{port}"
    warm = [threading.Thread(target=urllib.request.urlopen, args=(f"{base}/api/v1/openapi.json", None, 60)) for _ in range(4 * workers)]
    for thread in warm:  # every worker loads the app before the clock starts (gunicorn imports it after "Booting worker")
        thread.start()
    for thread in warm:
        thread.join()
    return web, base


def worker_offset(now: datetime | None = None) -> timedelta:
    """How far ahead the worker's clock runs: just past the SOP target (end of the next working day) of a task made now."""
    now = now or datetime.now(UTC)
    return WorkingCalendar().add_working_days(now, 1) - now + timedelta(minutes=1)


def start_worker(db_url: str, log: Path, offset: timedelta, interval: float = 0.2) -> Process:
    args = [sys.executable, str(Path(__file__).resolve()), "worker", "--offset-seconds", str(offset.total_seconds())]
    worker = Process(args, _environment(db_url, LAPOR_WORKER_INTERVAL=str(interval)), log)
    worker.wait_for("worker running")
    return worker


class AheadClock:
    """The system clock moved ahead by a fixed offset (the worker of a load test)."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def _run_worker(offset_seconds: float) -> None:
    """`lapor worker` (web/cli.py's loop) with its clock ahead by ``offset_seconds``; stops on SIGTERM."""
    from web import settings
    from web.cli import _worker_loop

    config = settings.from_environment()
    config["LAPOR_CLOCK"] = AheadClock(timedelta(seconds=offset_seconds))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"worker running, clock ahead by {offset_seconds:.0f} s", flush=True)
    _worker_loop(config, stop)


# ---- the load --------------------------------------------------------------------------------------


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            self.statuses[(kind, status)] += 1


class Client:
    """Plain JSON over HTTP; every request is timed under a kind (submit, complete, ...)."""

    def __init__(self, base: str, stats: Stats) -> None:
        self.base, self.stats = base, stats

    def call(self, kind: str, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
        except OSError as error:  # no answer at all: counted as a failure, like a 5xx
            self.stats.add(kind, 599, time.perf_counter() - started)
            with self.stats.lock:
                self.stats.failures.append(f"{method} {path}: {error!r}")
            return 599, None
        self.stats.add(kind, status, time.perf_counter() - started)
        if status >= 500:
            with self.stats.lock:
                self.stats.failures.append(f"{method} {path}: {status} {payload[:300]!r}")
        try:
            return status, json.loads(payload or b"null")
        except ValueError:
            return status, payload.decode(errors="replace")


def _complaint(number: int, client: int) -> dict[str, Any]:
    yesterday = (datetime.now(WIB) - timedelta(days=1)).date().isoformat()
    category = CATEGORIES[number % len(CATEGORIES)]
    return {
        "title": f"Keluhan uji beban {number}",
        "body": f"Laporan nomor {number} dari klien {client}: jalan rusak dan lampu penerangan mati sejak sebulan.",
        "category": category,
        "incident_date": yesterday,
        "location": "Surabaya",
        "anonymous": False,
        "confidential": number % 7 == 0,
        "reporter": {"name": f"Warga {client}", "email": f"warga{client}@example.id", "phone": "081234567890"},
    }


def _task_data(task: dict[str, Any]) -> dict[str, Any]:
    form = task["form"]
    if form == "disposisi":
        return {"unit": UNIT_OF[task["category"]][0], "note": "Mohon ditindaklanjuti."}
    if form == "terima":
        return {"decision": "terima"}
    if form == "tanggapan":
        return {"response": f"Tanggapan unit atas {task['tracking_id']}: perbaikan dijadwalkan pekan ini."}
    if form == "teruskan":
        return {"decision": "teruskan", "answer": f"Jawaban atas {task['tracking_id']}: perbaikan dijadwalkan pekan ini."}
    raise ValueError(f"no data for form {form}")


def load(base: str, complaints: int, clients: int, time_limit: float) -> dict[str, Any]:
    """Drive the running service; returns the client-side figures (and which complaints did not close)."""
    stats = Stats()
    http = Client(base, stats)
    deadline = time.monotonic() + time_limit
    changed = threading.Condition()
    all_closed = threading.Event()
    answered: dict[int, queue.Queue[str]] = {c: queue.Queue() for c in range(clients)}
    owner: dict[str, int] = {}
    closed: set[str] = set()
    submitted: dict[str, str] = {}  # tracking id -> access token
    book = threading.Lock()

    def poke() -> None:
        with changed:
            changed.notify_all()

    def time_left() -> float:
        return deadline - time.monotonic()

    def citizen(index: int) -> None:
        mine = [n for n in range(complaints) if n % clients == index]
        for number in mine:
            status, body = http.call("submit", "POST", "/api/v1/complaints", _complaint(number, index))
            if status != 201:
                continue
            with book:
                owner[body["tracking_id"]] = index
                submitted[body["tracking_id"]] = body["access_token"]
            poke()
        waiting = len(mine)
        while waiting and time_left() > 0:
            try:
                tracking_id = answered[index].get(timeout=max(0.01, min(1.0, time_left())))
            except queue.Empty:
                continue
            token = submitted[tracking_id]
            status, body = http.call("read_complaint", "GET", f"/api/v1/complaints/{tracking_id}", token=token)
            if status != 200 or not body.get("answer"):
                with stats.lock:
                    stats.failures.append(f"{tracking_id}: published but the citizen reads {status} {body!r:.200}")
                continue
            reply = {"satisfied": True, "text": "Terima kasih."}
            status, body = http.call("reply", "POST", f"/api/v1/complaints/{tracking_id}/replies", reply, token)
            if status == 200:
                waiting -= 1
                with book:
                    closed.add(tracking_id)
                    if len(closed) == complaints:
                        all_closed.set()
                poke()

    def staff(username: str, from_the_end: bool) -> None:
        """One member of staff: takes a page of the inbox, completes each task, and again; idle, waits for a change.
        ``from_the_end``: works from the inbox's last page (a second officer sharing the inbox)."""
        status, body = http.call("token", "POST", "/api/v1/auth/token", {"username": username, "password": "demo-lapor"})
        if status != 200:
            with stats.lock:
                stats.failures.append(f"{username} cannot sign in: {status}")
            return
        token = body["token"]
        page = 1
        while not all_closed.is_set() and time_left() > 0:
            status, body = http.call("list_tasks", "GET", f"/api/v1/tasks?per_page={PAGE}&page={page}", token=token)
            tasks = body["tasks"] if status == 200 else []
            if from_the_end and status == 200:
                last = max(1, body["pages"])
                if page != last:  # the inbox grew or shrank: go to its last page
                    page = last
                    continue
            done = 0
            for task in reversed(tasks) if from_the_end else tasks:
                if time_left() <= 0:
                    return
                status, _ = http.call("complete", "POST", f"/api/v1/tasks/{task['id']}/complete", {"data": _task_data(task)}, token)
                if status == 200:
                    done += 1
                    if task["form"] == "teruskan":
                        with book:
                            citizen_index = owner.get(task["tracking_id"])
                        if citizen_index is not None:
                            answered[citizen_index].put(task["tracking_id"])
                    poke()
            if not done:  # nothing to do: wait for someone else's change, and look at most every IDLE_LOOK seconds
                looked = time.monotonic()
                with changed:
                    changed.wait(timeout=max(0.01, min(1.0, time_left())))
                all_closed.wait(max(0.0, IDLE_LOOK - (time.monotonic() - looked)))

    threads = [threading.Thread(target=citizen, args=(i,), name=f"citizen-{i}") for i in range(clients)]
    threads += [threading.Thread(target=staff, args=("kominfo", end), name=f"kominfo-{i}") for i, end in enumerate((False, True))]
    threads += [threading.Thread(target=staff, args=(account, False), name=account) for _unit, account in UNIT_OF.values()]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(time_limit + 60)
    elapsed = time.perf_counter() - started
    hung = [t.name for t in threads if t.is_alive()]

    requests = sum(len(v) for v in stats.latencies.values())
    per_kind = {
        kind: {
            "count": len(values),
            "p50_ms": round(_percentile(values, 0.50) * 1000, 1),
            "p90_ms": round(_percentile(values, 0.90) * 1000, 1),
            "p95_ms": round(_percentile(values, 0.95) * 1000, 1),
            "p99_ms": round(_percentile(values, 0.99) * 1000, 1),
            "max_ms": round(max(values) * 1000, 1),
        }
        for kind, values in sorted(stats.latencies.items())
    }
    statuses = Counter()
    for (_kind, status), count in stats.statuses.items():
        statuses[status] += count
    writes = sum(len(stats.latencies[k]) for k in ("submit", "complete", "reply"))
    return {
        "complaints": complaints,
        "clients": clients,
        "submitted": len(submitted),
        "closed": len(closed),
        "seconds": round(elapsed, 2),
        "requests": requests,
        "requests_per_s": round(requests / elapsed, 1),
        "writes_per_s": round(writes / elapsed, 1),
        "complaints_closed_per_s": round(len(closed) / elapsed, 2),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "server_errors": sum(v for k, v in statuses.items() if k >= 500),
        "conflicts_409": statuses.get(409, 0),
        "latency": per_kind,
        "failures": stats.failures[:20],
        "hung_threads": hung,
        "not_closed": sorted(set(submitted) - closed),
    }


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


# ---- after the run: the database's view --------------------------------------------------------------


# tasks completed by the time a case has each status, on the path this load drives (no loops)
COMPLETED_BY_STATUS = {"diterima": {0}, "didisposisikan": {1}, "ditindaklanjuti": {2, 3}, "dijawab": {4}, "selesai": {5}}


def _inconsistency(session: Session, case: Case, completed: int) -> str | None:
    """Why a case's stored rows disagree with its workflow state or its history (None when they agree)."""
    _parsed, workflow = CaseService(session).workflow_of(case)
    ready = {str(t.id) for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
    rows = set(session.scalars(select(OpenTask.id).where(OpenTask.case_id == case.id)))
    if rows != ready:
        return f"open_task rows {sorted(rows)} but ready user tasks {sorted(ready)}"
    dues = [d for d in (timer_due(t) for t in workflow.get_tasks(state=TaskState.WAITING) if is_timer(t)) if d is not None]
    if case.next_timer_at != (min(dues) if dues else None):
        return f"next_timer_at {case.next_timer_at} but the waiting timers say {min(dues) if dues else None}"
    if first_broken(session, case) is not None:
        return f"audit chain broken at seq {first_broken(session, case)}"
    if completed not in COMPLETED_BY_STATUS.get(case.status, set()):
        return f"status {case.status} after {completed} completed tasks"
    if (case.status == "selesai") != workflow.completed:
        return f"status {case.status} but the workflow is {'complete' if workflow.completed else 'running'}"
    return None


def check_database(db_url: str) -> dict[str, Any]:
    """Every case's stored end state: status, leftovers, consistency with its workflow, the audit chains, duplicate timers."""
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            cases = session.scalars(select(Case).order_by(Case.id)).all()
            completed = Counter(session.scalars(select(AuditEvent.case_id).where(AuditEvent.type == "task_completed")))
            fired = Counter(session.execute(select(AuditEvent.case_id, AuditEvent.task).where(AuditEvent.type == "timer_fired")).all())
            inconsistent = {case.tracking_id: why for case in cases if (why := _inconsistency(session, case, completed[case.id]))}
            return {
                "cases": len(cases),
                "statuses": dict(Counter(case.status for case in cases)),
                "inconsistent": inconsistent,
                "broken_chains": [case.tracking_id for case in cases if first_broken(session, case) is not None],
                "open_tasks_left": session.scalar(select(func.count()).select_from(OpenTask)),
                "task_completions": sum(completed.values()),
                "timers_fired": sum(fired.values()),
                "timers_fired_twice": [f"{case_id}/{task}" for (case_id, task), count in fired.items() if count > 1],
                "incidents": session.scalar(select(func.count()).select_from(Incident)),
                "mails_queued": session.scalar(select(func.count()).select_from(OutboxMail)),
            }
    finally:
        engine.dispose()


def run_load(db_url: str, logs: Path, complaints: int = 200, clients: int = 20, web_workers: int = 2, time_limit: float = 50.0) -> dict[str, Any]:
    """Start gunicorn (``web_workers`` processes) and the worker on ``db_url`` (schema, demo accounts and process
    deployed), run the load, stop them; return the client figures and the database's view."""
    logs.mkdir(parents=True, exist_ok=True)
    offset = worker_offset()
    web, base = start_web(db_url, web_workers, logs / "gunicorn.log")
    try:
        worker = start_worker(db_url, logs / "worker.log", offset)
        try:
            figures = load(base, complaints, clients, time_limit)
        finally:
            figures_worker_exit = worker.stop()
    finally:
        web_exit = web.stop()
    figures["web_processes"] = web_workers
    figures["worker_clock_ahead_h"] = round(offset.total_seconds() / 3600, 1)
    figures["exit_codes"] = {"gunicorn": web_exit, "worker": figures_worker_exit}
    figures["database"] = check_database(db_url)
    figures["logged_tracebacks"] = sum(path.read_text(errors="replace").count("Traceback") for path in logs.glob("*.log"))
    return figures


def report(figures: dict[str, Any]) -> str:
    lines = [
        f"{figures['complaints']} complaints, {figures['clients']} citizen clients, 7 staff clients, "
        f"{figures['web_processes']} gunicorn processes + 1 worker (clock {figures['worker_clock_ahead_h']} h ahead), PostgreSQL",
        f"closed {figures['closed']}/{figures['submitted']} in {figures['seconds']} s: {figures['requests']} requests "
        f"({figures['requests_per_s']}/s), {figures['writes_per_s']} writes/s, {figures['complaints_closed_per_s']} complaints closed/s",
        f"statuses {figures['statuses']}; 5xx: {figures['server_errors']}; 409 (colleague or timer was first): {figures['conflicts_409']}",
        "| request | count | p50 ms | p90 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, row in figures["latency"].items():
        lines.append(f"| {kind} | {row['count']} | {row['p50_ms']} | {row['p90_ms']} | {row['p95_ms']} | {row['p99_ms']} | {row['max_ms']} |")
    lines.append(f"database: {figures['database']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Load test on loopback (PostgreSQL, gunicorn, worker).")
    sub = parser.add_subparsers(dest="command")
    worker = sub.add_parser("worker", help="(internal) the worker process, clock ahead")
    worker.add_argument("--offset-seconds", type=float, required=True)
    parser.add_argument("--complaints", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--time-limit", type=float, default=50.0)
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.command == "worker":
        _run_worker(args.offset_seconds)
        return

    import tempfile

    from bench.common import pg_database, pg_unavailable, seed
    from engine import FakeClock

    if (reason := pg_unavailable()) is not None:
        sys.exit(f"PostgreSQL is needed: {reason}")
    with pg_database() as url, tempfile.TemporaryDirectory(prefix="lapor-load-") as folder:
        engine = make_engine(url)
        seed(engine, FakeClock(datetime.now(UTC)))
        engine.dispose()
        figures = run_load(url, Path(folder), args.complaints, args.clients, args.web_workers, args.time_limit)
    print(report(figures))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"at": datetime.now(UTC).isoformat(timespec="seconds"), **figures}, indent=2) + "\n")
    print(f"written to {args.json}")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
