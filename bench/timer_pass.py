"""Issue figures: one worker pass (engine.worker.run_once) over N waiting cases of which 100 are due.

A pass claims the due cases through the ``next_timer_at`` index, so it should cost in proportion to
the due cases, not to all open cases: the goal is a ratio under 2 between 100,000 and 1,000 waiting.

Population is fast and realistic: one real case is submitted through the façade, then its row and its
open-task row are copied N times (new case ids, tracking ids and workflow task ids), with ``next_timer_at`` far in the future,
plus 100 copies whose timer is due. Each timed pass fires those 100 (the SOP target of Disposisi);
between runs the 100 fired copies are deleted with all they wrote and 100 fresh due copies inserted.

    .venv/bin/python bench/timer_pass.py [--backend sqlite|postgresql|both] [--sizes 1000 100000] [--runs 7]

PostgreSQL: server from LAPOR_TEST_PG_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres);
the benchmark creates its own databases and drops them, as it removes its SQLite files.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.scenarios holds the sample complaint

from sqlalchemy import Engine, delete, func, insert, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.common import pg_database, pg_unavailable, renumbered, seed, sqlite_database  # noqa: E402
from engine import CaseService, FakeClock  # noqa: E402
from engine.audit.trail import guards_lifted  # noqa: E402
from engine.db.connection import make_engine  # noqa: E402
from engine.db.tables import AuditEvent, Case, Escalation, Notification, OpenTask, OutboxMail  # noqa: E402
from engine.worker import run_once  # noqa: E402
from tests.scenarios import COMPLAINT  # noqa: E402

WIB = ZoneInfo("Asia/Jakarta")
SUBMITTED = datetime(2026, 11, 30, 9, 0, tzinfo=WIB)  # Monday: the Disposisi target ends Tuesday 23:59:59
PASS_AT = datetime(2026, 12, 2, 0, 0, 30, tzinfo=WIB)  # Wednesday: the copies marked due fire their target
FAR_FUTURE = datetime(2099, 1, 1, tzinfo=WIB)
DUE = 100
CHUNK = 2000


class Population:
    """N copies of one real waiting case; ``refresh_due`` replaces the due copies by fresh ones."""

    def __init__(self, engine: Engine, waiting: int) -> None:
        self.engine = engine
        clock = FakeClock(SUBMITTED)
        seed(engine, clock)
        with Session(engine) as session:
            source = CaseService(session, clock).submit(COMPLAINT).case
            session.commit()
            self.due_at = source.next_timer_at
            assert self.due_at is not None and self.due_at < PASS_AT
            connection = session.connection()
            self.case_row = dict(connection.execute(select(Case.__table__).where(Case.id == source.id)).mappings().one())
            self.task_rows = [dict(r) for r in connection.execute(select(OpenTask.__table__).where(OpenTask.case_id == source.id)).mappings()]
            source.next_timer_at = FAR_FUTURE  # the original waits too
            session.commit()
            self.next_id = source.id + 1
        self.due_ids: list[int] = []
        self._insert(waiting - 1, FAR_FUTURE)
        self.refresh_due()
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))

    def _insert(self, count: int, next_timer_at: datetime) -> list[int]:
        ids: list[int] = []
        for start in range(0, count, CHUNK):
            cases, tasks = [], []
            for _ in range(min(CHUNK, count - start)):
                case_id, self.next_id = self.next_id, self.next_id + 1
                ids.append(case_id)
                state, fresh = renumbered(self.case_row["state"])  # each copy has its own task ids, in its state and open-task rows alike
                cases.append({**self.case_row, "id": case_id, "tracking_id": f"B{case_id:011d}", "state": state, "next_timer_at": next_timer_at})
                tasks.extend({**row, "id": fresh[row["id"]], "case_id": case_id} for row in self.task_rows)
            with self.engine.begin() as connection:
                connection.execute(insert(Case.__table__), cases)
                connection.execute(insert(OpenTask.__table__), tasks)
        if self.engine.dialect.name == "postgresql":
            with self.engine.begin() as connection:
                connection.execute(text("SELECT setval(pg_get_serial_sequence('\"case\"', 'id'), :v)"), {"v": self.next_id})
        return ids

    def refresh_due(self) -> None:
        """Delete the due copies (fired or not) with everything they wrote; insert DUE fresh ones."""
        if self.due_ids:
            with self.engine.begin() as connection, guards_lifted(connection):  # the benchmark's own rows, reset between runs
                for table in (AuditEvent, Escalation, OutboxMail, Notification, OpenTask):
                    connection.execute(delete(table).where(table.case_id.in_(self.due_ids)))  # type: ignore[attr-defined]
                connection.execute(delete(Case).where(Case.id.in_(self.due_ids)))
        self.due_ids = self._insert(DUE, self.due_at)  # type: ignore[arg-type]

    def count(self) -> tuple[int, int]:
        with Session(self.engine) as session:
            total = session.scalar(select(func.count()).select_from(Case)) or 0
            due = session.scalar(select(func.count()).select_from(Case).where(Case.next_timer_at <= PASS_AT)) or 0
        return total, due

    def claim_plan(self) -> str:
        """The query plan of one claim, to show it is an index range scan."""
        clock = FakeClock(PASS_AT)
        with Session(self.engine) as session:
            query = select(Case.id).where(Case.next_timer_at <= clock.now()).order_by(Case.next_timer_at).limit(1).with_for_update(skip_locked=True)
            compiled = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
            prefix = "EXPLAIN QUERY PLAN " if self.engine.dialect.name == "sqlite" else "EXPLAIN "
            rows = session.execute(text(prefix + str(compiled))).all()
        return " | ".join(str(row[-1]).strip() for row in rows)


def one_pass(population: Population) -> float:
    """Time one worker pass over ``population``; it must fire exactly the DUE due timers."""
    engine = population.engine
    start = time.perf_counter()
    result = run_once(lambda: Session(engine), FakeClock(PASS_AT), "http://lapor.test", None, batch=DUE)
    elapsed = time.perf_counter() - start
    assert result.timers_fired == DUE, result
    assert population.count()[1] == 0
    return elapsed


def bench_backend(backend: str, sizes: tuple[int, int], runs: int) -> tuple[float, float]:
    """Populate both sizes, then alternate their passes (so a busy moment on the machine hits both alike)."""
    with ExitStack() as stack:
        populations = []
        for size in sizes:
            url = stack.enter_context(sqlite_database() if backend == "sqlite" else pg_database())
            engine = make_engine(url)
            stack.callback(engine.dispose)
            started = time.perf_counter()
            population = Population(engine, size)
            assert population.count() == (size + DUE, DUE)
            print(f"{backend:10} {size:>7,} waiting + {DUE} due: populated in {time.perf_counter() - started:.1f} s")
            print(f"{'':10} claim plan: {population.claim_plan()}")
            one_pass(population)  # warm-up (parse cache, imports, database caches): not counted
            populations.append(population)
        times: list[list[float]] = [[], []]
        for _ in range(runs):
            for i, population in enumerate(populations):
                population.refresh_due()
                times[i].append(one_pass(population))
        for size, series in zip(sizes, times, strict=True):
            print(f"{'':10} {size:>7,} waiting: passes {', '.join(f'{t * 1000:.0f}' for t in series)} ms")
        return statistics.median(times[0]), statistics.median(times[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--sizes", type=int, nargs=2, default=(1000, 100_000), metavar=("SMALL", "LARGE"))
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    rows = []
    for backend in backends:
        if backend == "postgresql" and (reason := pg_unavailable()) is not None:
            print(f"postgresql: skipped, no server ({reason})")
            continue
        small, large = bench_backend(backend, tuple(args.sizes), args.runs)
        rows.append((backend, small, large, large / small))
    small_n, large_n = args.sizes
    print()
    print(f"one worker pass firing {DUE} due timers (median of {args.runs} passes)")
    print(f"{'backend':10} | {f'{small_n:,} waiting':>16} | {f'{large_n:,} waiting':>16} | ratio (goal < 2)")
    print(f"{'-' * 10}-+-{'-' * 16}-+-{'-' * 16}-+-----------------")
    for backend, small, large, ratio in rows:
        print(f"{backend:10} | {small * 1000:13.0f} ms | {large * 1000:13.0f} ms | {ratio:.2f}")


if __name__ == "__main__":
    main()
