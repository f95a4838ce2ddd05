"""Issue 2 figures: bytes of one stored case state, and one task completion through the engine on
SQLite (file, WAL) beside the same step in plain SpiffWorkflow with no database.

    .venv/bin/python bench/task_completion.py [--cases N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.scenarios holds the sample complaint

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from engine import Actor, CaseService, FakeClock, make_script_engine  # noqa: E402
from engine import clock as clocks  # noqa: E402
from engine.accounts import seed_demo  # noqa: E402
from engine.database import create_schema, make_engine  # noqa: E402
from engine.definitions import project_bundle, validate  # noqa: E402
from engine.scripting import RunContext, running  # noqa: E402
from engine.store import Case, OpenTask  # noqa: E402
from tests.scenarios import COMPLAINT  # noqa: E402

KOMINFO = Actor("kominfo", "kominfo")
FORWARD = {"unit": "dinas-pendidikan", "note": "Mohon ditindaklanjuti."}


def plain(n: int, clock: FakeClock) -> list[float]:
    parsed, _ = validate(project_bundle())
    times = []
    with clocks.using(clock), running(RunContext()):
        for _ in range(n):
            wf = BpmnWorkflow(parsed.spec, parsed.subprocess_specs, script_engine=make_script_engine())
            wf.get_tasks(state=TaskState.READY)[0].data.update(pengaduan=COMPLAINT, tracking_id="LPR-BENCH000")
            wf.do_engine_steps()
            [task] = wf.get_tasks(state=TaskState.READY, manual=True)
            start = time.perf_counter()
            task.data["disposisi"] = FORWARD
            task.run()
            wf.do_engine_steps()
            times.append(time.perf_counter() - start)
    return times


def facade(n: int, clock: FakeClock, folder: Path) -> tuple[list[float], list[int]]:
    engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
    create_schema(engine)
    with Session(engine) as session:
        seed_demo(session)
        CaseService(session).deploy(project_bundle())
        session.commit()
    times, sizes = [], []
    for _ in range(n):
        with Session(engine) as session:
            service = CaseService(session, clock)
            case = service.submit(COMPLAINT).case
            session.commit()
            task_id = session.scalar(select(OpenTask.id).where(OpenTask.case_id == case.id))
        with Session(engine) as session:  # a fresh request: load, complete, save, commit
            start = time.perf_counter()
            CaseService(session, clock).complete_task(task_id, FORWARD, KOMINFO)
            session.commit()
            times.append(time.perf_counter() - start)
            sizes.append(session.scalar(select(func.length(Case.state)).where(Case.id == case.id)))
    return times, sizes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=300)
    n = parser.parse_args().cases
    clock = FakeClock(datetime(2026, 11, 30, 9, tzinfo=ZoneInfo("Asia/Jakarta")))
    plain(20, clock)  # warm-up: parse cache, imports
    a = plain(n, clock)
    with tempfile.TemporaryDirectory() as folder:
        facade(20, clock, Path(folder))
        b, sizes = facade(n, clock, Path(folder))
    ms = lambda xs: f"median {statistics.median(xs) * 1000:.2f} ms, p95 {sorted(xs)[int(len(xs) * 0.95)] * 1000:.2f} ms"  # noqa: E731
    print(f"task completion (disposisi), {n} cases")
    print(f"  plain SpiffWorkflow, in memory : {ms(a)}")
    print(f"  engine façade, SQLite file     : {ms(b)}  (load + validate + run + index + audit + save + commit)")
    print(f"  ratio façade/plain             : {statistics.median(b) / statistics.median(a):.1f}x")
    print(f"stored case state after forwarding: median {int(statistics.median(sizes))} bytes (spec excluded)")


if __name__ == "__main__":
    main()
