"""Issue 20, "Scale out": 1, 2 and 4 worker processes on one PostgreSQL fire N due timers, each exactly once.

Each configuration gets a fresh database holding N copies of one real case whose Disposisi target is due
(bench/timer_pass.py's population, all of it due). The workers are separate OS processes (multiprocessing,
spawn), each running ``engine.worker.run_once`` passes as ``lapor worker`` does, with a FakeClock fixed after the
due instant and no mail transport, until a pass does nothing; a hard timeout kills stragglers. Then the database
is searched for double work: ``timer_fired`` audit events per (case, timer), escalations per (case, stage, clock)
and outbox mails per (case, topic, recipient), each more than once.

Then 2 worker processes deliver the outbox of another such database (each fired case queued 2 mails) to a real
aiosmtpd server on 127.0.0.1; a Message-ID the server receives twice is a mail delivered twice.

    .venv/bin/python bench/timer_workers.py [--cases 10000] [--workers 1 2 4] [--mails 2000] [--timeout 1200]

PostgreSQL: server from LAPOR_TEST_PG_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres); every
database is created for the run and dropped.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import queue
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from threading import BrokenBarrierError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.scenarios holds the sample complaint

from sqlalchemy import Engine, func, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.common import pg_database, pg_unavailable, table  # noqa: E402
from bench.timer_pass import DUE, PASS_AT, Population  # noqa: E402
from engine import FakeClock  # noqa: E402
from engine.db.connection import make_engine  # noqa: E402
from engine.db.tables import AuditEvent, Escalation, Incident, OutboxMail  # noqa: E402
from engine.worker import run_once  # noqa: E402

BASE_URL = "http://lapor.test"
MAX_PASSES = 10_000  # a worker that never goes idle stops here (each pass handles up to a batch of cases)


class DuePopulation(Population):
    """bench/timer_pass.py's population with every copy due: the source case waits far off, ``cases`` copies are due."""

    def __init__(self, engine: Engine, cases: int) -> None:
        super().__init__(engine, 1)  # the source case and DUE due copies
        self.due_ids += self._insert(cases - DUE, self.due_at)  # type: ignore[arg-type]
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))


def worker_process(url: str, smtp_port: int | None, start: multiprocessing.synchronize.Barrier, results: multiprocessing.Queue) -> None:
    """One `lapor worker`: passes until one fires no timer and sends no mail; reports (timers, mails, passes, finished, CPU s)."""
    from web.mail import FlaskMailTransport  # Flask, only where a mail server is used

    engine = make_engine(url)
    transport = None if smtp_port is None else FlaskMailTransport({"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_port})
    clock = FakeClock(PASS_AT)
    fired = sent = passes = 0
    try:
        with engine.connect():  # connected before the start, like a running worker
            start.wait()
        cpu = time.process_time()
        while passes < MAX_PASSES:
            result = run_once(lambda: Session(engine), clock, BASE_URL, transport)
            passes += 1
            fired, sent = fired + result.timers_fired, sent + result.mails_sent
            if not result.timers_fired and not result.mails_sent:
                break
        results.put((fired, sent, passes, time.monotonic(), time.process_time() - cpu))  # CLOCK_MONOTONIC is one clock for every process
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Run:
    seconds: float
    reports: list[tuple[int, int, int, float, float]]  # per process: timers fired, mails sent, passes, finished, CPU seconds
    stragglers: int  # processes killed at the timeout (or that died)
    busy: float  # share of the machine's CPU time in use meanwhile (all processes: workers, PostgreSQL, anyone else)

    def worker_cpu_ms(self, done: int) -> str:
        """The workers' own CPU time per timer fired or mail sent (start-up left out), whatever else runs on the machine."""
        return f"{sum(r[4] for r in self.reports) * 1000 / done:.1f}" if done else "-"


def run_workers(url: str, count: int, smtp_port: int | None, timeout: float) -> Run:
    """Start ``count`` worker processes, release them together once each is connected, wait until each stops."""
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(count + 1), context.Queue()
    processes = [context.Process(target=worker_process, args=(url, smtp_port, start, results)) for _ in range(count)]
    for process in processes:
        process.start()
    reports: list[tuple[int, int, int, float, float]] = []
    cpu_before = cpu_times()
    try:
        start.wait(timeout)
        started = time.monotonic()
        for _ in processes:
            reports.append(results.get(timeout=max(0.0, started + timeout - time.monotonic())))
    except (BrokenBarrierError, queue.Empty):
        started = time.monotonic()  # no figure: the stragglers are reported
    idle, total = (after - before for before, after in zip(cpu_before, cpu_times(), strict=True))
    for process in processes:
        process.join(10)
        if process.is_alive():
            process.kill()
            process.join()
    stragglers = sum(process.exitcode != 0 for process in processes)
    return Run(max((r[3] for r in reports), default=started) - started, reports, stragglers, 1 - idle / total if total else 0.0)


def cpu_times() -> tuple[int, int]:
    """(idle, total) CPU ticks of the whole machine since boot, from Linux's /proc/stat."""
    ticks = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return ticks[3] + ticks[4], sum(ticks)  # idle and iowait


@dataclass(frozen=True)
class Doubles:
    fired: int  # timer_fired events of the copies
    timers: int  # (case, timer) fired more than once
    escalations: int  # (case, stage, clock) recorded more than once
    mails: int  # (case, topic, recipient) queued more than once
    incidents: int
    left_due: int


def doubles(population: DuePopulation) -> Doubles:
    """What the workers wrote, searched for anything done twice."""
    with Session(population.engine) as session:
        fired_events = session.execute(select(AuditEvent.case_id, AuditEvent.data).where(AuditEvent.type == "timer_fired")).all()
        per_timer = Counter((case_id, json.loads(data)["timer"]) for case_id, data in fired_events)
        escalations = select(Escalation.case_id).group_by(Escalation.case_id, Escalation.stage, Escalation.clock).having(func.count() > 1)
        recipient = (OutboxMail.user_id, OutboxMail.to_addr)  # a member of staff, or the reporter (no user)
        mails = select(OutboxMail.case_id).group_by(OutboxMail.case_id, OutboxMail.topic, *recipient).having(func.count() > 1)
        return Doubles(
            fired=len(fired_events),
            timers=sum(n > 1 for n in per_timer.values()),
            escalations=session.scalar(select(func.count()).select_from(escalations.subquery())) or 0,
            mails=session.scalar(select(func.count()).select_from(mails.subquery())) or 0,
            incidents=session.scalar(select(func.count()).select_from(Incident)) or 0,
            left_due=population.count()[1],
        )


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def fire_with(count: int, cases: int, timeout: float) -> list[object]:
    """One configuration on a fresh database: its row of the timer table."""
    with pg_database() as url:
        engine = make_engine(url)
        try:
            began = time.perf_counter()
            population = DuePopulation(engine, cases)
            assert population.count()[1] == cases
            print(f"{count} worker(s): {cases:,} due cases populated in {time.perf_counter() - began:.1f} s; load {load()}", flush=True)
            before = load()
            run = run_workers(url, count, None, timeout)
            after = load()
            found = doubles(population)
        finally:
            engine.dispose()
    passes = ", ".join(str(r[2]) for r in run.reports)
    print(f"  {run.seconds:.1f} s, fired per process {[r[0] for r in run.reports]}, passes {passes}, stragglers {run.stragglers}; {found}")
    return [
        count,
        f"{run.seconds:.1f}",
        f"{found.fired / run.seconds:.0f}" if run.seconds else "-",
        f"{found.fired:,} / {cases:,}",
        run.worker_cpu_ms(found.fired),
        f"{run.busy:.0%}",
        found.left_due,
        found.timers,
        found.escalations,
        found.mails,
        found.incidents,
        run.stragglers,
        f"{before} → {after}",
    ]


def send_with(count: int, mails: int, timeout: float) -> list[object]:
    """``count`` workers deliver about ``mails`` queued mails to aiosmtpd: its row of the mail table."""
    from tests.engine.mail_support import SmtpServer  # aiosmtpd on a free loopback port, keeping what it accepts

    with pg_database() as url:
        engine = make_engine(url)
        server = SmtpServer()
        try:
            population = DuePopulation(engine, max(DUE, mails // 2))  # each fired case queues 2 mails
            while run_once(lambda: Session(engine), FakeClock(PASS_AT), BASE_URL, None, batch=1000).timers_fired:
                pass
            with Session(engine) as session:
                queued = session.scalar(select(func.count()).select_from(OutboxMail).where(OutboxMail.status == "queued")) or 0
            print(f"{count} mail worker(s): {queued:,} queued mails; load {load()}", flush=True)
            server.start()
            before = load()
            run = run_workers(url, count, server.port, timeout)
            after = load()
            server.stop()
            with Session(engine) as session:
                statuses = dict(session.execute(select(OutboxMail.status, func.count()).group_by(OutboxMail.status)).all())
            assert population.count()[1] == 0
        finally:
            if server.controller is not None:
                server.stop()
            engine.dispose()
    received = Counter(server.message_ids())
    print(f"  {run.seconds:.1f} s, sent per process {[r[1] for r in run.reports]}, stragglers {run.stragglers}; rows {statuses}")
    return [
        count,
        f"{run.seconds:.1f}",
        f"{len(received) / run.seconds:.0f}" if run.seconds else "-",
        f"{len(received):,} / {queued:,}",
        run.worker_cpu_ms(len(received)),
        f"{run.busy:.0%}",
        sum(n > 1 for n in received.values()),
        statuses.get("queued", 0),
        run.stragglers,
        f"{before} → {after}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000, help=f"due timers per configuration (at least {DUE})")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--mails", type=int, default=2000, help="queued mails for the 2 mail workers (0: skip)")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds a configuration may run before its workers are killed")
    args = parser.parse_args()
    if args.cases < DUE:
        parser.error(f"--cases must be at least {DUE}")
    if (reason := pg_unavailable()) is not None:
        sys.exit(f"postgresql: no server ({reason})")
    print(f"started {datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} cores, load average (1/5/15 min) {load()}")
    rows = [fire_with(count, args.cases, args.timeout) for count in args.workers]
    print()
    print(f"worker processes firing {args.cases:,} due timers on one PostgreSQL (each case's Disposisi target, once)")
    headers = ["workers", "wall s", "timers/s", "fired", "worker CPU ms/timer", "machine CPU busy", "left due"]
    print(table([*headers, "double timers", "double escalations", "double mails", "incidents", "killed", "load before → after"], rows))
    if args.mails:
        mail_row = send_with(2, args.mails, args.timeout)
        print()
        print("worker processes delivering the outbox to aiosmtpd on 127.0.0.1")
        headers = ["workers", "wall s", "mails/s", "delivered", "worker CPU ms/mail", "machine CPU busy"]
        print(table([*headers, "delivered twice", "left queued", "killed", "load before → after"], [mail_row]))


if __name__ == "__main__":
    main()
