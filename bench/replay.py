"""Issue 5 / issue 8 figure 5: replaying and verifying a case of about 50 audit events.

The case: submitted, forwarded, accepted, answered, then Admin Kominfo returns the answer until the
history holds at least 50 events, then forwards it and the citizen replies satisfied. Timed: the
hash-chain check (``verify_chain``) and the deterministic re-execution (``replay_case``), each the
median of several runs on a SQLite file.

    .venv/bin/python bench/replay.py [--events 50] [--runs 9]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.common import database, median, seed, table  # noqa: E402
from engine import Actor, CaseService, FakeClock  # noqa: E402
from engine.audit.replay import replay_case  # noqa: E402
from engine.audit.trail import verify_chain  # noqa: E402
from engine.db.connection import make_engine  # noqa: E402
from engine.db.tables import AuditEvent, Case, OpenTask  # noqa: E402
from tests.scenarios import ACCEPT_SATKER, ANSWER_SATKER, COMPLAINT, FORWARD_SATKER, PUBLISH, SATISFIED  # noqa: E402

START = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
KOMINFO = Actor("kominfo", "kominfo")
UNIT = Actor("pendidikan", "satker", "dinas-pendidikan")
RETURN = {"decision": "kembalikan", "note": "Mohon lengkapi tanggal perbaikan."}


def build(session: Session, clock: FakeClock, events: int) -> int:
    service = CaseService(session, clock)
    submitted = service.submit(COMPLAINT)
    session.commit()
    case_id = submitted.case.id

    def do(spec: str, data: dict, actor: Actor) -> None:
        row = session.scalar(select(OpenTask).where(OpenTask.case_id == case_id, OpenTask.spec_name == spec))
        service.complete_task(row.id, data, actor)
        session.commit()

    do(FORWARD_SATKER.task, FORWARD_SATKER.data, KOMINFO)
    do(ACCEPT_SATKER.task, ACCEPT_SATKER.data, UNIT)
    do(ANSWER_SATKER.task, ANSWER_SATKER.data, UNIT)
    count = lambda: session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.case_id == case_id))  # noqa: E731
    while count() < events - 8:  # publishing and the satisfied reply add about 8 more
        do(PUBLISH.task, RETURN, KOMINFO)
        do(ANSWER_SATKER.task, ANSWER_SATKER.data, UNIT)
    do(PUBLISH.task, PUBLISH.data, KOMINFO)
    service.reply(submitted.case.tracking_id, submitted.access_token, SATISFIED.data)
    session.commit()
    return case_id


def timed(function, runs: int) -> tuple[float, object]:
    result = function()  # warm-up: parse cache, imports
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    clock = FakeClock(START)
    with database("sqlite") as url:
        engine = make_engine(url)
        seed(engine, clock)
        with Session(engine) as session:
            case_id = build(session, clock, args.events)
            case = session.get(Case, case_id)
            events = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.case_id == case_id))
            verify_time, broken = timed(lambda: verify_chain(session, case), args.runs)
            replay_time, result = timed(lambda: replay_case(session, case), args.runs)
        engine.dispose()
    assert broken is None, broken
    assert result.matches, result
    print(f"\nOne closed case of {events} audit events, median of {args.runs} runs (goal: replay under 0.5 s)")
    print(
        table(
            ("what", "ms"), [("verify the hash chain", f"{verify_time * 1000:.1f}"), ("replay and compare every step", f"{replay_time * 1000:.1f}")]
        )
    )


if __name__ == "__main__":
    main()
