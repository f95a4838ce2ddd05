"""Issue 5 / issue 8 figure 5, issue 20: replaying and verifying a case of about 50 audit events.

The case: submitted, forwarded, accepted, answered, then Admin Kominfo returns the answer until the
history holds at least 50 events, then forwards it and the citizen replies satisfied. Timed: the
hash-chain check (``verify_chain``) and the deterministic re-execution (``replay_case``), each the
median of several runs on a SQLite file, then where a replay's time goes: the façade's commands (what
the case's steps cost, measured by the lifecycle benchmark) and the replay's own share around them (the
throwaway database, reading the record, finding each step's task, comparing), each the median over
further runs, timed by wrapping the replay's parts (a part called inside another counts once, in the inner).

    .venv/bin/python bench/replay.py [--events 50] [--runs 9]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.common import database, median, seed, table  # noqa: E402
from engine import Actor, CaseService, FakeClock  # noqa: E402
from engine.audit import replay  # noqa: E402
from engine.audit.trail import verify_chain  # noqa: E402
from engine.db.connection import make_engine  # noqa: E402
from engine.db.tables import AuditEvent, Case, OpenTask  # noqa: E402
from tests.scenarios import ACCEPT_SATKER, ANSWER_SATKER, COMPLAINT, FORWARD_SATKER, PUBLISH, SATISFIED  # noqa: E402

START = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
KOMINFO = Actor("kominfo", "kominfo")
UNIT = Actor("pendidikan", "satker", "dinas-pendidikan")
RETURN = {"decision": "kembalikan", "note": "Mohon lengkapi tanggal perbaikan."}

COMMANDS = "façade commands (with their commit)"
# The replay's parts, each timed without the parts it calls. A part with no label of its own (a commit) counts for
# the part that called it, or for the commands when the replay's step loop did.
PARTS: list[tuple[Any, str, str | None]] = [
    (replay.Replay, "__init__", "reading the stored case"),
    (replay, "_events", "reading audit events (the record once, each step's produced)"),
    (replay.Replay, "__enter__", "throwaway database: schema and seed"),
    (replay.Replay, "__exit__", "throwaway database: schema and seed"),
    (replay.Replay, "_apply", COMMANDS),
    (Session, "commit", None),
    (replay.Replay, "_open_row", "finding each step's open task"),
    (replay.Replay, "_compare_events", "comparing each step's events"),
    (replay.Replay, "_compare_final", "comparing the final state"),
]
OTHER = "the rest of the replay's own work"


def build(session: Session, clock: FakeClock, events: int) -> int:
    service = CaseService(session, clock)
    submitted = service.submit(COMPLAINT)
    session.commit()
    case_id = submitted.case.id

    def do(spec: str, data: dict, actor: Actor) -> None:
        row = session.scalar(select(OpenTask).where(OpenTask.case_id == case_id, OpenTask.spec_name == spec))
        assert row is not None, spec
        service.complete_task(row.id, data, actor)
        session.commit()

    do(FORWARD_SATKER.task, FORWARD_SATKER.data, KOMINFO)
    do(ACCEPT_SATKER.task, ACCEPT_SATKER.data, UNIT)
    do(ANSWER_SATKER.task, ANSWER_SATKER.data, UNIT)
    count = lambda: session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.case_id == case_id)) or 0  # noqa: E731
    while count() < events - 8:  # publishing and the satisfied reply add about 8 more
        do(PUBLISH.task, RETURN, KOMINFO)
        do(ANSWER_SATKER.task, ANSWER_SATKER.data, UNIT)
    do(PUBLISH.task, PUBLISH.data, KOMINFO)
    service.reply(submitted.case.tracking_id, submitted.access_token, SATISFIED.data)
    session.commit()
    return case_id


def clocks() -> tuple[float, float]:
    """Wall-clock and CPU seconds: on a shared machine the CPU time of this process moves less with the load."""
    return time.perf_counter(), time.process_time()


def timed(function: Callable[[], Any], runs: int) -> tuple[tuple[float, float], Any]:
    """The median wall-clock and CPU seconds of ``runs`` calls, and the last call's result."""
    result = function()  # warm-up: parse cache, imports, the replay's schema template
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = clocks()
        result = function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return (median(walls), median(cpus)), result


class Breakdown:
    """Where one call's time goes: exclusive wall-clock and CPU seconds per label of the wrapped parts (``PARTS``)."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        self._stack: list[tuple[str, list[float]]] = []  # (label, the seconds of the wrapped parts it called)

    def wrap(self, function: Callable[..., Any], label: str | None) -> Callable[..., Any]:
        def timed_part(*args: Any, **kwargs: Any) -> Any:
            own = label or (self._stack[-1][0] if self._stack else COMMANDS)
            self._stack.append((own, [0.0, 0.0]))
            started = clocks()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = [end - start for end, start in zip(clocks(), started, strict=True)]
                _, inner = self._stack.pop()
                for i in (0, 1):
                    self.seconds[own][i] += elapsed[i] - inner[i]
                    if self._stack:
                        self._stack[-1][1][i] += elapsed[i]

        return timed_part

    @contextmanager
    def watching(self) -> Iterator[None]:
        originals = [(owner, name, getattr(owner, name)) for owner, name, _ in PARTS]
        for (owner, name, label), (_, _, function) in zip(PARTS, originals, strict=True):
            setattr(owner, name, self.wrap(function, label))
        try:
            yield
        finally:
            for owner, name, function in originals:
                setattr(owner, name, function)


def breakdown(function: Callable[[], Any], runs: int) -> tuple[dict[str, tuple[float, float]], tuple[float, float]]:
    """The median wall-clock and CPU seconds of each part over ``runs`` calls (the rest: the total minus the parts), and
    of the replay's own share (everything but the commands)."""
    parts: dict[str, list[list[float]]] = defaultdict(lambda: [[], []])
    own: list[list[float]] = [[], []]
    labels = [*dict.fromkeys(label or COMMANDS for _, _, label in PARTS), OTHER]
    for _ in range(runs):
        watch = Breakdown()
        with watch.watching():
            started = clocks()
            function()
            total = [end - start for end, start in zip(clocks(), started, strict=True)]
        for i in (0, 1):
            for label in labels[:-1]:
                parts[label][i].append(watch.seconds[label][i])
            parts[OTHER][i].append(total[i] - sum(seconds[i] for seconds in watch.seconds.values()))
            own[i].append(total[i] - watch.seconds[COMMANDS][i])
    return {label: (median(parts[label][0]), median(parts[label][1])) for label in labels}, (median(own[0]), median(own[1]))


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


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
            assert case is not None
            events = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.case_id == case_id))
            load_before = load()
            verify_time, broken = timed(lambda: verify_chain(session, case), args.runs)
            replay_time, result = timed(lambda: replay.replay_case(session, case), args.runs)
            parts, own = breakdown(lambda: replay.replay_case(session, case), args.runs)
        engine.dispose()
    assert broken is None, broken
    assert result.matches, result
    ms = lambda seconds: f"{seconds * 1000:.1f}"  # noqa: E731
    print(f"\nOne closed case of {events} audit events in {result.steps} steps, median of {args.runs} runs (goal: verify and replay under 50 ms)")
    print(f"load average before: {load_before}; after: {load()}")
    both = (verify_time[0] + replay_time[0], verify_time[1] + replay_time[1])
    rows = [
        ("verify the hash chain", *map(ms, verify_time)),
        ("replay and compare every step", *map(ms, replay_time)),
        ("verify and replay", *map(ms, both)),
    ]
    print(table(("what", "ms", "CPU ms"), rows))
    print(f"\nWhere a replay's time goes (wrapped parts, median of {args.runs} further runs each)")
    rows = [(label, *map(ms, seconds)) for label, seconds in parts.items()]
    print(table(("part", "ms", "CPU ms"), [*rows, ("the replay's own share (all but the commands)", *map(ms, own))]))


if __name__ == "__main__":
    main()
