"""Issue 20: a case that loops ``kembalikan`` costs per step what one that does not costs? And its stored state?

Through the engine façade on a SQLite file: a case is forwarded, accepted and answered, then Admin Kominfo sends the
answer back (``kembalikan``) and the unit revises it, ``--loops`` times, then the answer is published. Each loop is
two commands (a fresh session and a commit each, as a request is). Reported per loop number, the median over
``--cases`` cases: the milliseconds of the loop's two commands (wall clock and this process's CPU time, which moves
less with other load on a shared machine) and the stored state's bytes after the loop. The goal: the last loop's
commands within 1.5× of the first's.

    .venv/bin/python bench/loops.py [--loops 20] [--cases 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.common import database, median, seed, table  # noqa: E402
from engine import CaseService, FakeClock  # noqa: E402
from engine.db.connection import make_engine  # noqa: E402
from engine.db.tables import Case, OpenTask  # noqa: E402
from tests.engine.support import holder  # noqa: E402
from tests.scenarios import ACCEPT_SATKER, ANSWER_SATKER, COMPLAINT, FORWARD_SATKER, PUBLISH, Do  # noqa: E402

START = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
RETURN = Do(PUBLISH.task, {"decision": "kembalikan", "note": "Mohon lengkapi tanggal perbaikan."})
GOAL = 1.5


def one_case(engine: object, clock: FakeClock, loops: int) -> list[tuple[float, float, int]]:
    """(wall ms, CPU ms, state bytes) of each loop's two commands, in loop order."""

    def command(step: Do, case_id: int) -> tuple[float, float, int]:
        with Session(engine, expire_on_commit=False) as session:  # type: ignore[call-overload]
            row = session.scalar(select(OpenTask).where(OpenTask.case_id == case_id, OpenTask.spec_name == step.task))
            wall, cpu = time.perf_counter(), time.process_time()
            case = CaseService(session, clock).complete_task(row.id, step.data, holder(row))
            session.commit()
            return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000, len(case.state)

    with Session(engine) as session:  # type: ignore[call-overload]
        case_id = CaseService(session, clock).submit(COMPLAINT).case.id
        session.commit()
    for step in (FORWARD_SATKER, ACCEPT_SATKER, ANSWER_SATKER):
        command(step, case_id)
    costs = []
    for _ in range(loops):
        back, revised = command(RETURN, case_id), command(ANSWER_SATKER, case_id)
        costs.append((back[0] + revised[0], back[1] + revised[1], revised[2]))
    command(PUBLISH, case_id)
    with Session(engine) as session:  # type: ignore[call-overload]
        assert session.scalar(select(Case.answered_at).where(Case.id == case_id)) is not None  # the loops did not derail it
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loops", type=int, default=20)
    parser.add_argument("--cases", type=int, default=5)
    args = parser.parse_args()
    started = f"{datetime.now().astimezone():%Y-%m-%d %H:%M %Z}"
    print(f"{started}; bench/loops.py --loops {args.loops} --cases {args.cases}; load average {os.getloadavg()}")
    with ExitStack() as stack:
        engine = make_engine(stack.enter_context(database("sqlite")))
        stack.callback(engine.dispose)
        clock = FakeClock(START)
        seed(engine, clock)
        one_case(engine, clock, 1)  # warm-up: the model cache, the pool
        runs = [one_case(engine, clock, args.loops) for _ in range(args.cases)]
    rows = []
    for loop in range(args.loops):
        walls, cpus, sizes = zip(*(run[loop] for run in runs), strict=True)
        rows.append((loop + 1, f"{median(walls):.1f}", f"{median(cpus):.1f}", int(median(sizes))))
    print(table(("loop", "ms, wall (both commands)", "ms, CPU", "state bytes after it"), rows))
    first, last = (median([run[i][1] for run in runs]) for i in (0, args.loops - 1))
    verdict = "reached" if last / first <= GOAL else "not reached"
    print(f"loop {args.loops} ÷ loop 1, CPU: {last / first:.2f} (goal ≤ {GOAL}: {verdict}); load average after {os.getloadavg()}")


if __name__ == "__main__":
    main()
