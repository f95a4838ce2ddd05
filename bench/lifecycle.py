"""Issue 8, figures 1, 4 and 6, as issue 20 asks them measured: whole cases several ways, in alternated rounds.

Two kinds of case (``--kind``):

  straight  the SOP's straight path: submit, Admin Kominfo forwards, the unit accepts and answers, Admin Kominfo
            publishes the answer, the citizen replies satisfied (6 steps)
  desk      what a desk does beyond it: forwarded to two units (tests/scenarios.py's two_units_one_returned), both accept,
            Dinas Pendidikan asks a deadline extension and Admin Kominfo grants it (extension_granted), Admin Kominfo
            writes an internal note, both answer, Admin Kominfo sends one answer back (kembalikan) to Dinas Pendidikan,
            which revises it, publishes, and the citizen replies satisfied (13 commands)

Ways, each a number of whole cases (``--cases``) in one run:

  plain            SpiffWorkflow alone, in memory, on processes/sp4n_lapor.bpmn: the model's scripts record their
                   effects, nothing is written (the note is no workflow step; moving a granted deadline is the façade's)
  sqlite           the engine façade on a SQLite file (WAL): each command a fresh session and commit, as a request is
  postgresql       the same on PostgreSQL (a throwaway database on LAPOR_TEST_PG_URL's server)
  http-sqlite      the JSON API on loopback, served as the README's "Running in production" serves it (gunicorn, 4
  http-postgresql  workers, gthread, 4 threads; no `lapor worker`: nothing in the path waits for it), one client with
                   keep-alive; the straight kind only. Each staff member's app takes its task from the answer to its own
                   previous step (``next_tasks``) and asks ``GET /tasks?tracking_id=`` only when the case comes to it from
                   someone else: 6 steps and 3 look-ups (Admin Kominfo twice, the unit once), 9 requests per case

Noise: each round (``--rounds``) runs every way ``--runs`` times, the ways taking turns run by run, so a burst of load
from elsewhere hits them alike. A way's figure in a round is the median of its runs; a ratio (a way's cases/s ÷ plain's
in the same round) is reported as the median over the rounds with min–max beside it. Each round and kind gets fresh
databases (unique names, removed at the end); the two gunicorn servers, each on its own database and free port, serve
all rounds.

Also: SQL statements and milliseconds per façade command by kind of command (a ``before_cursor_execute`` listener on
the façade's engine; BEGIN and COMMIT are not statements the listener sees), bytes per stored case state after each
step, storage per closed case, and the submit request's latency over HTTP (the liaison's notification and mail are
queued inside it: the SOP's 1-minute step is done when the response returns).

    .venv/bin/python bench/lifecycle.py [--cases N] [--runs R] [--rounds K] [--kind straight|desk|both] [--skip-http] [--skip-pg]
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from SpiffWorkflow.bpmn.util.event import BpmnEvent  # noqa: E402
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402
from sqlalchemy import Engine, event, func, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.common import PG_SERVER_URL, database, median, pg_unavailable, seed, table  # noqa: E402
from bench.load_test import start_web  # noqa: E402
from engine import CaseService, FakeClock, make_script_engine  # noqa: E402
from engine.cases import extensions  # noqa: E402
from engine.db.connection import make_engine  # noqa: E402
from engine.db.tables import AuditEvent, OpenTask  # noqa: E402
from engine.definitions.bundle import project_bundle  # noqa: E402
from engine.definitions.validation import validate  # noqa: E402
from engine.runtime.scripting import RunContext, running  # noqa: E402
from engine.timekeeping import clock as clocks  # noqa: E402
from tests.engine.support import KOMINFO, TO_SELESAI, holder, run_task  # noqa: E402
from tests.scenarios import COMPLAINT, SATISFIED, SCENARIOS, AskExtension, Do  # noqa: E402

START = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
WEB_WORKERS = 4  # README, "Running in production": gunicorn --workers 4 --worker-class gthread --threads 4
MIN_P99_SAMPLES = 1000  # below this a "p99" is one of the few largest samples: report the maximum, labelled so
GOALS = {"sqlite": 0.5, "postgresql": 0.35, "http-sqlite": 0.25, "http-postgresql": 0.25}  # a way's cases/s ÷ plain's
HOW = {
    "plain": "plain SpiffWorkflow, in memory",
    "sqlite": "engine façade, SQLite file",
    "postgresql": "engine façade, PostgreSQL",
    "http-sqlite": "JSON API over HTTP, gunicorn, SQLite",
    "http-postgresql": "JSON API over HTTP, gunicorn, PostgreSQL",
}


@dataclass(frozen=True)
class Note:
    """Admin Kominfo writes an internal note on the case (CaseService.add_note)."""

    text: str = "Sudah dikoordinasikan dengan kedua unit melalui telepon; jawaban gabungan menunggu revisi Dinas Pendidikan."


Step = Do | AskExtension | Note
_RETURNED = [s for s in SCENARIOS["two_units_one_returned"][1] if isinstance(s, Do)]  # forward to two .. publish
_EXTENSION = [s for s in SCENARIOS["extension_granted"][1] if isinstance(s, AskExtension) or (isinstance(s, Do) and s.task == "Task_Perpanjangan")]
KINDS: dict[str, list[Step]] = {
    "straight": list(TO_SELESAI),
    "desk": [*_RETURNED[:3], *_EXTENSION, Note(), *_RETURNED[3:], SATISFIED],  # the extension asked once both accepted
}


def label(step: Step) -> str:
    if isinstance(step, Note):
        return "internal note"
    if isinstance(step, AskExtension):
        return f"extension asked ({step.task})"
    decision = step.data.get("decision")
    return step.task + (f" {decision}" if decision else "") + (f" ({step.unit})" if step.unit else "")


def spread(values: Sequence[float], digits: int = 2) -> str:
    """``median (min–max)``."""
    return f"{median(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def tail(values: Sequence[float]) -> str:
    """The tail of a latency sample in ms: its p99 when there are enough samples for one, else its maximum, so labelled."""
    ordered = sorted(values)
    if len(ordered) >= MIN_P99_SAMPLES:
        return f"p99 {ordered[math.ceil(len(ordered) * 0.99) - 1] * 1000:.1f} ms"  # nearest rank
    return f"max {ordered[-1] * 1000:.1f} ms (no p99: {len(ordered)} samples < {MIN_P99_SAMPLES})"


# ---- the ways ----------------------------------------------------------------------------------------------------


class Plain:
    """SpiffWorkflow alone: the parsed model once, then whole cases in memory."""

    name = "plain"

    def __init__(self, steps: list[Step]) -> None:
        parsed, _ = validate(project_bundle())
        assert parsed is not None
        self.parsed, self.steps = parsed, steps
        self.forms = {spec.bpmn_id: parsed.form_of(spec) for spec in parsed.user_tasks}

    def run(self, n: int) -> float:
        started = time.perf_counter()
        with clocks.using(FakeClock(START)):
            for _ in range(n):
                self._case()
        return time.perf_counter() - started

    def _case(self) -> None:
        with running(RunContext()):  # a fresh context per case, as the façade has per command
            workflow = BpmnWorkflow(self.parsed.spec, self.parsed.subprocess_specs, script_engine=make_script_engine())
            workflow.get_tasks(state=TaskState.READY)[0].data.update(pengaduan=COMPLAINT, tracking_id="LPR-BENCH000")
            workflow.do_engine_steps()
            for step in self.steps:
                if isinstance(step, Do):
                    run_task(workflow, step.task, self.forms[step.task], step.data, step.unit)
                elif isinstance(step, AskExtension):
                    ready = workflow.get_tasks(state=TaskState.READY, manual=True)
                    [task] = [t for t in ready if t.task_spec.bpmn_id == step.task and step.unit in (None, t.data.get("unit_tujuan"))]
                    request = {"task": str(task.id), "unit": task.data["unit_tujuan"], "working_days": step.working_days, "reason": step.reason}
                    workflow.catch(BpmnEvent(MessageEventDefinition(extensions.MESSAGE), request))
                    workflow.do_engine_steps()
            if not workflow.is_completed():
                raise RuntimeError("plain SpiffWorkflow: the case did not end")


class Facade:
    """CaseService on a fresh, seeded database (made on entry to ``stack``), counting the SQL statements it sends."""

    def __init__(self, backend: str, steps: list[Step], stack: ExitStack) -> None:
        self.name, self.steps, self.clock = backend, steps, FakeClock(START)
        self.engine = make_engine(stack.enter_context(database(backend)))
        stack.callback(self.engine.dispose)
        seed(self.engine, self.clock)
        self.baseline = _database_bytes(self.engine)
        self.closed = 0
        self.statements = 0
        event.listen(self.engine, "before_cursor_execute", self._count)
        self.per_command: dict[str, list[tuple[int, float]]] = defaultdict(list)  # kind of command -> (statements, seconds)
        self.sizes: list[list[int]] = [[] for _ in range(len(steps) + 1)]  # stored state bytes after submit and each step

    def _count(self, *_args: Any) -> None:
        self.statements += 1

    def warm_up(self) -> None:
        """One case untimed and unrecorded: the process's model cache, the connection pool."""
        self.run(1)
        self.per_command.clear()
        self.sizes = [[] for _ in self.sizes]

    def run(self, n: int) -> float:
        """Seconds the commands of n whole cases took (a fresh session each, committed); the bench's own look-up of
        each task's id (a client has it from its inbox) is neither timed nor counted."""
        seconds = 0.0
        for _ in range(n):
            seconds += self._case()
            self.closed += 1
        return seconds

    def _command(self, kind: str, act: Callable[[CaseService], Any]) -> tuple[Any, float]:
        """One request's worth: a fresh session, the command, its commit. What it returns stays readable afterwards."""
        with Session(self.engine, expire_on_commit=False) as session:
            statements, started = self.statements, time.perf_counter()
            result = act(CaseService(session, self.clock))
            session.commit()
            seconds = time.perf_counter() - started
        self.per_command[kind].append((self.statements - statements, seconds))
        return result, seconds

    def _case(self) -> float:
        submitted, seconds = self._command("submit", lambda service: service.submit(COMPLAINT))
        case = submitted.case
        case_id, tracking_id, token = case.id, case.tracking_id, submitted.access_token
        self.sizes[0].append(len(case.state))
        for index, step in enumerate(self.steps, start=1):
            if isinstance(step, Note):
                kind, act = "add_note", lambda service, s=step: service.add_note(tracking_id, s.text, KOMINFO)
            else:
                row = self._open_task(case_id, step)
                if isinstance(step, AskExtension):
                    data = {"working_days": step.working_days, "reason": step.reason}
                    kind, act = "request_extension", lambda service, r=row, d=data: service.request_extension(r.id, d, holder(r))
                elif row.role == "masyarakat":
                    kind, act = "reply", lambda service, s=step: service.reply(tracking_id, token, s.data)
                else:
                    kind, act = f"complete_task {row.form}", lambda service, r=row, s=step: service.complete_task(r.id, s.data, holder(r))
            result, took = self._command(kind, act)
            seconds += took
            if isinstance(step, Do):  # a note and an extension request answer no case
                case = result
                self.sizes[index].append(len(case.state))
        if case.status != "selesai":
            raise RuntimeError(f"{self.name}: the case ended in status {case.status!r}")
        return seconds

    def _open_task(self, case_id: int, step: Do | AskExtension) -> Any:
        """The task's id, role, unit and form, read on a connection of its own (the command's session must load its rows itself)."""
        columns = select(OpenTask.id, OpenTask.role, OpenTask.unit_id, OpenTask.form)
        where = [OpenTask.case_id == case_id, OpenTask.spec_name == step.task, *([OpenTask.unit_id == step.unit] if step.unit else [])]
        with self.engine.connect() as connection:
            statements = self.statements
            row = connection.execute(columns.where(*where)).one()
            self.statements = statements  # the bench's look-up, not the command's
        return row

    def storage(self) -> dict[str, float]:
        grown = _database_bytes(self.engine) - self.baseline  # the seeded schema, accounts and process are not the cases' doing
        with self.engine.connect() as connection:
            events = connection.scalar(select(func.count()).select_from(AuditEvent))
            if self.engine.dialect.name == "sqlite":
                event_bytes = connection.scalar(select(func.sum(func.length(AuditEvent.data) + 2 * 64 + 60))) / events
            else:
                event_bytes = connection.scalar(text("SELECT pg_total_relation_size('audit_event')")) / events
        return {"events_per_case": events / self.closed, "bytes_per_event": event_bytes, "db_bytes_per_1000": grown / self.closed * 1000}


def _database_bytes(engine: Engine) -> int:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            return connection.scalar(text("PRAGMA page_count")) * connection.scalar(text("PRAGMA page_size"))
        return connection.scalar(text("SELECT pg_database_size(current_database())"))


class Client:
    """The mobile app's side of the JSON API: one keep-alive connection; counts the requests it makes, and of them
    the look-ups of a task (``GET /tasks?tracking_id=``)."""

    def __init__(self, port: int, tokens: dict[str, str]) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.tokens = tokens
        self.requests = 0
        self.lookups = 0

    def call(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
        headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
        self.connection.request(method, "/api/v1" + path, json.dumps(body) if body is not None else None, headers)
        response = self.connection.getresponse()
        payload = response.read()
        self.requests += 1
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:200]!r}")
        return json.loads(payload) if payload else {}

    def token(self, username: str) -> str:
        if username not in self.tokens:
            self.tokens[username] = self.call("POST", "/auth/token", {"username": username, "password": "demo-lapor"})["token"]
        return self.tokens[username]

    def complete(self, username: str, tracking_id: str, data: dict, offered: list[dict]) -> list[dict]:
        """Complete the staff member's open task of this case: the one their previous step's answer offered
        (``offered``, its ``next_tasks``), else the one a look-up finds (the case came from someone else, whose
        answers never show another's task). Returns this step's ``next_tasks``."""
        token = self.token(username)
        if not offered:
            offered = self.call("GET", f"/tasks?tracking_id={tracking_id}", token=token)["tasks"]
            self.lookups += 1
        [task] = offered
        return self.call("POST", f"/tasks/{task['id']}/complete", {"data": data}, token)["next_tasks"]


class Served:
    """gunicorn on a fresh, seeded database for the whole benchmark (stopped and removed with ``stack``)."""

    def __init__(self, backend: str, stack: ExitStack, logs: Path) -> None:
        self.name = f"http-{backend}"
        url = stack.enter_context(database(backend))
        engine = make_engine(url)
        seed(engine, FakeClock(datetime.now(UTC)))
        engine.dispose()
        web, base = start_web(url, WEB_WORKERS, logs / f"gunicorn-{backend}.log")
        stack.callback(web.stop)
        self.port = int(base.rsplit(":", 1)[1])
        self.tokens: dict[str, str] = {}
        Client(self.port, self.tokens).token("kominfo")  # sign in outside the timing (argon2 is deliberately slow)
        Client(self.port, self.tokens).token("pendidikan")
        self.latencies: list[float] = []  # POST /complaints
        self.requests_per_case: list[float] = []
        self.lookups_per_case: list[float] = []
        for _ in range(2 * WEB_WORKERS):  # a case on each of a few connections, so most workers have served the steps once
            self.run(1)
        self.latencies.clear()
        self.requests_per_case.clear()
        self.lookups_per_case.clear()

    def run(self, n: int) -> float:
        client = Client(self.port, self.tokens)  # a new connection per run: gunicorn closes one idle for 2 s
        users = {"Task_Disposisi": "kominfo", "Task_Teruskan": "kominfo"}
        started = time.perf_counter()
        for _ in range(n):
            sent = time.perf_counter()
            case = client.call("POST", "/complaints", COMPLAINT)
            self.latencies.append(time.perf_counter() - sent)
            offered: dict[str, list[dict]] = {}  # user -> the next_tasks of their last step on this case
            for step in TO_SELESAI:
                if step is SATISFIED:
                    status = client.call("POST", f"/complaints/{case['tracking_id']}/replies", step.data, case["access_token"])["status"]
                else:
                    user = users.get(step.task, "pendidikan")
                    offered[user] = client.complete(user, case["tracking_id"], step.data, offered.get(user, []))
            if status != "selesai":
                raise RuntimeError(f"{self.name}: the case ended in status {status!r}")
        elapsed = time.perf_counter() - started
        client.connection.close()
        self.requests_per_case.append(client.requests / n)
        self.lookups_per_case.append(client.lookups / n)
        return elapsed


# ---- the run -----------------------------------------------------------------------------------------------------


@dataclass
class Figures:
    """One kind of case's measurements over all rounds."""

    seconds: dict[str, list[list[float]]]  # way -> per round, its runs' seconds
    per_command: dict[str, dict[str, list[tuple[int, float]]]]  # backend -> kind of command -> (statements, seconds)
    sizes: list[list[int]]  # SQLite: stored state bytes after submit and each step
    storage: dict[str, list[dict[str, float]]]  # backend -> per round

    def ratios(self, way: str) -> list[float]:
        """Per round: the way's cases/s ÷ plain's (both the median of the round's runs)."""
        return [median(plain) / median(mine) for plain, mine in zip(self.seconds["plain"], self.seconds[way], strict=True)]


def measure(kind: str, backends: list[str], servers: list[Served], n: int, runs: int, rounds: int) -> Figures:
    steps = KINDS[kind]
    plain = Plain(steps)
    plain.run(3)  # warm-up: imports, SpiffWorkflow's caches
    figures = Figures(defaultdict(list), {b: defaultdict(list) for b in backends}, [[] for _ in range(len(steps) + 1)], defaultdict(list))
    for number in range(1, rounds + 1):
        with ExitStack() as stack:
            facades = [Facade(backend, steps, stack) for backend in backends]
            for facade in facades:
                facade.warm_up()
            ways: list[Plain | Facade | Served] = [plain, *facades, *(servers if kind == "straight" else [])]
            for way in ways:
                figures.seconds[way.name].append([])
            for _ in range(runs):
                for way in ways:
                    figures.seconds[way.name][-1].append(way.run(n))
            for facade in facades:
                figures.storage[facade.name].append(facade.storage())
                for command, values in facade.per_command.items():
                    figures.per_command[facade.name][command] += values
                if facade.name == "sqlite":
                    for index, sizes in enumerate(facade.sizes):
                        figures.sizes[index] += sizes
        line = ", ".join(f"{w} {n * runs / sum(figures.seconds[w][-1]):.1f}" for w in figures.seconds)
        print(f"  {kind}, round {number}/{rounds}: cases/s {line} (load average {os.getloadavg()[0]:.2f})", flush=True)
    return figures


def report(kind: str, figures: Figures, n: int, runs: int, rounds: int) -> None:
    steps = KINDS[kind]
    print(f"\n### {kind}: {len(steps) + 1} commands per case, {n} cases a run, {runs} runs a round, {rounds} rounds\n")
    rows = []
    for way, per_round in figures.seconds.items():
        rates = [n / median(runs_seconds) for runs_seconds in per_round]
        ratio = spread(figures.ratios(way)) if way != "plain" else "1.00"
        goal = GOALS.get(way)
        reached = "" if goal is None else f"≥ {goal}: " + ("reached" if median(figures.ratios(way)) >= goal else "not reached")
        rows.append((way, HOW[way], spread(rates, 1), ratio, reached))
    print(table(("way", "how", "cases/s, median of rounds (min–max)", "÷ plain, median of rounds (min–max)", "goal"), rows))
    print("\nPer round (each the median of its runs), ÷ plain:\n")
    others = [w for w in figures.seconds if w != "plain"]
    per_round = zip(*(figures.ratios(w) for w in others), strict=True)
    print(table(("round", *others), [(i, *(f"{r:.3f}" for r in ratios)) for i, ratios in enumerate(per_round, start=1)]))

    print("\nFaçade commands: SQL statements (median, min–max) and milliseconds (median) per command, by kind of command\n")
    backends = list(figures.per_command)
    commands = list(figures.per_command[backends[0]])
    rows = []
    for command in commands:
        cells: list[str] = [command, str(len(figures.per_command[backends[0]][command]))]
        for backend in backends:
            samples = figures.per_command[backend][command]
            statements = [s for s, _ in samples]
            cells.append(f"{median(statements):.0f} ({min(statements)}–{max(statements)})")
        cells += [f"{median([t for _, t in figures.per_command[b][command]]) * 1000:.1f}" for b in backends]
        rows.append(cells)
    print(table(("command", "samples per backend", *(f"statements, {b}" for b in backends), *(f"ms, {b}" for b in backends)), rows))

    print("\nStored case state after each command, bytes (spec excluded), SQLite\n")
    labels = ["submit", *map(label, steps)]
    print(table(("after", "median", "max"), [(labels[i], int(median(s)), max(s)) for i, s in enumerate(figures.sizes) if s]))

    print("\nStorage per closed case (median of rounds)\n")
    rows = []
    for backend, per_round_storage in figures.storage.items():
        pick = {key: median([s[key] for s in per_round_storage]) for key in per_round_storage[0]}
        rows.append((backend, f"{pick['events_per_case']:.1f}", f"{pick['bytes_per_event']:.0f}", f"{pick['db_bytes_per_1000'] / 1e6:.1f} MB"))
    print(table(("backend", "audit events / case", "bytes / audit event", "database growth / 1,000 closed cases"), rows))


def machine(backends: list[str]) -> str:
    pg = ""
    if "postgresql" in backends:
        engine = make_engine(PG_SERVER_URL)
        with engine.connect() as connection:
            pg = f", PostgreSQL {connection.scalar(text('SHOW server_version'))}"
        engine.dispose()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores, {memory:.0f} GiB, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}{pg}, "
        f"SpiffWorkflow {version('SpiffWorkflow')}, SQLAlchemy {version('SQLAlchemy')}, gunicorn {version('gunicorn')}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=12, help="whole cases per run (12: about 5 minutes on 2 quiet cores)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each way per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--kind", choices=("straight", "desk", "both"), default="both")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-pg", action="store_true")
    args = parser.parse_args()
    backends = ["sqlite"]
    if not args.skip_pg:
        if (reason := pg_unavailable()) is None:
            backends.append("postgresql")
        else:
            print(f"PostgreSQL skipped: {reason}")
    kinds = ["straight", "desk"] if args.kind == "both" else [args.kind]
    began, load_before = time.monotonic(), os.getloadavg()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine(backends)}")
    print(f"bench/lifecycle.py {' '.join(sys.argv[1:])}; load average before: {' '.join(f'{x:.2f}' for x in load_before)}", flush=True)
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="lapor-bench-logs-") as logs:
        servers = [] if args.skip_http or "straight" not in kinds else [Served(b, stack, Path(logs)) for b in backends]
        measured = {kind: measure(kind, backends, servers, args.cases, args.runs, args.rounds) for kind in kinds}
    for kind, figures in measured.items():
        report(kind, figures, args.cases, args.runs, args.rounds)
    for server in servers:
        latencies = server.latencies
        print(
            f"\n{server.name}: {statistics.median(server.requests_per_case):.0f} requests per case (6 steps; "
            f"{statistics.median(server.lookups_per_case):.0f} look-ups GET /tasks?tracking_id=, the rest from next_tasks); "
            f"POST /complaints (records the case, queues the liaison's notification and mail) over {len(latencies)} submissions: "
            f"median {median(latencies) * 1000:.1f} ms, {tail(latencies)}"
        )
    print(f"\nTook {time.monotonic() - began:.0f} s; load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
