"""The SLA report: per stage how many passes met the SOP target and the national ceiling, with medians; the
system's one-minute steps; the cases past a ceiling; the citizens' ratings. Figures only, so no reporter appears here. Each case is
measured as engine/reports/facts.py describes.

One unit's report (``filters.unit_id``) covers every case the unit got (engine/reports/filters.py), each counted once;
its stage rows count that unit's own steps and the steps of no unit (Admin Kominfo's, the reporter's), never the
steps another unit took on a case they shared."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.contract import CEILING, CHANNELS, STAGES
from engine.db.tables import Case, Definition
from engine.definitions.cache import parsed
from engine.reports.facts import MET, MISSED, OPEN, SYSTEM_STEP_LIMIT_MS, CaseFacts, counted_for, facts_in, median
from engine.reports.filters import CaseFilter
from engine.reports.model import SYSTEM_STEPS, Deadline, model_facts
from engine.reports.ratings import RatingReport, rating_report
from engine.timekeeping.calendar import WorkingCalendar


@dataclass
class ClockRow:
    met: int = 0
    missed: int = 0
    open: int = 0
    deadlines: set[Deadline] = field(default_factory=set)  # as the model(s) define it

    @property
    def decided(self) -> int:
        return self.met + self.missed

    @property
    def working_days(self) -> list[int]:
        return sorted({days for d in self.deadlines for days in d.all_working_days})

    @property
    def met_share(self) -> float | None:
        return self.met / self.decided if self.decided else None


@dataclass
class StageRow:
    stage: str
    passes: int = 0
    finished: int = 0
    open: int = 0
    cases: int = 0
    median: timedelta | None = None
    longest: timedelta | None = None
    late_cases: int = 0  # cases past the national ceiling at this stage
    clocks: dict[str, ClockRow] = field(default_factory=dict)  # target | plafon (absent: the stage has none)


@dataclass
class SystemStepRow:
    event: str  # complaint_recorded | answer_published
    count: int = 0
    met: int = 0
    missed: int = 0
    median_ms: float | None = None
    max_ms: float | None = None


@dataclass
class LateCase:
    tracking_id: str
    units: list[str]  # the units whose own steps went past the ceiling; else the case's unit (none before forwarding)
    status: str
    stages: list[str]  # stages past the ceiling


@dataclass
class SlaReport:
    filters: CaseFilter
    cases: int
    by_status: dict[str, int]
    all_targets_met: int  # cases whose every finished step met the SOP target
    any_target_missed: int
    late: int
    stages: list[StageRow]
    system: list[SystemStepRow]
    late_cases: list[LateCase]
    by_channel: dict[str, int] = field(default_factory=dict)  # cases per channel (engine/contract.py CHANNELS), in its order
    ratings: RatingReport | None = None  # the citizens' ratings of the answers (engine/reports/ratings.py)


def _stage_order(stage: str) -> tuple[int, str]:
    return (STAGES.index(stage) if stage in STAGES else len(STAGES), stage)


def sla_report(
    session: Session,
    filters: CaseFilter,
    now: datetime | None = None,
    calendar: WorkingCalendar | None = None,
    facts: Sequence[CaseFacts] | None = None,
) -> SlaReport:
    """The SLA figures of the cases ``filters`` selects: per stage (SOP target, national ceiling, medians), the system's steps, late cases.
    ``facts``: those cases' facts when the caller read them already (``facts_in``)."""
    facts = facts_in(session, filters, now, calendar) if facts is None else facts
    cases = [item.case for item in facts]
    deadlines_by_stage: dict[str, dict[str, set[Deadline]]] = defaultdict(lambda: defaultdict(set))
    rows: dict[str, StageRow] = {}
    definitions = {case.definition_id for case in cases}
    newest = select(Definition).order_by(Definition.number.desc()).limit(1)
    query = select(Definition).where(Definition.id.in_(definitions)) if definitions else newest
    for definition in session.scalars(query):  # with no case, the stages of the newest version, all zero
        model = model_facts(parsed(definition.bundle, definition.content_hash))
        for stage in model.stage_of.values():
            rows.setdefault(stage, StageRow(stage))
        for node, clocks_of in model.deadlines.items():
            for clock, deadline in clocks_of.items():
                deadlines_by_stage[model.stage_of.get(node, "")][clock].add(deadline)
    finished: dict[str, list[timedelta]] = defaultdict(list)
    stage_cases: dict[str, set[int]] = defaultdict(set)
    late_at: dict[str, set[int]] = defaultdict(set)
    for item in facts:
        for p in item.passes:
            if not counted_for(p, filters.unit_id):
                continue  # one unit's report: another unit's own steps of a shared case are that unit's figures
            row = rows.setdefault(p.stage, StageRow(p.stage))
            row.passes += 1
            stage_cases[p.stage].add(item.case.id)
            if p.duration is not None:
                row.finished += 1
                finished[p.stage].append(p.duration)
            else:
                row.open += 1
            for clock, result in p.outcome.items():
                counter = row.clocks.setdefault(clock, ClockRow())
                if result == MET:
                    counter.met += 1
                elif result == MISSED:
                    counter.missed += 1
                    if clock == CEILING:
                        late_at[p.stage].add(item.case.id)
                elif result == OPEN:
                    counter.open += 1
        # the engine's flags name no unit: in one unit's report, a stage other units took part in is judged by the passes
        others = {p.stage for p in item.passes if p.unit not in (None, filters.unit_id)} if filters.unit_id else set()
        for entry in item.case.breached or []:
            stage, _sep, clock = entry.partition(":")
            if clock == CEILING and stage not in others:
                late_at[stage].add(item.case.id)
    for stage, row in rows.items():
        row.cases = len(stage_cases[stage])
        row.median = median(finished[stage])
        row.longest = max(finished[stage]) if finished[stage] else None
        row.late_cases = len(late_at[stage])
        for clock, defined in deadlines_by_stage.get(stage, {}).items():
            row.clocks.setdefault(clock, ClockRow()).deadlines |= defined
    system = []
    for event in SYSTEM_STEPS:
        durations = [s.duration_ms for item in facts for s in item.system_steps if s.event == event and s.duration_ms is not None]
        system.append(
            SystemStepRow(
                event,
                count=len(durations),
                met=sum(1 for d in durations if d <= SYSTEM_STEP_LIMIT_MS),
                missed=sum(1 for d in durations if d > SYSTEM_STEP_LIMIT_MS),
                median_ms=statistics.median(durations) if durations else None,
                max_ms=max(durations) if durations else None,
            )
        )
    late_cases = [
        LateCase(
            item.case.tracking_id,
            sorted({p.unit for p in item.passes if p.unit and p.outcome.get(CEILING) == MISSED and counted_for(p, filters.unit_id)})
            or ([item.case.unit_id] if item.case.unit_id else []),
            item.case.status,
            sorted({stage for stage, ids in late_at.items() if item.case.id in ids}, key=_stage_order),
        )
        for item in facts
        if item.late
    ]
    return SlaReport(
        filters=filters,
        cases=len(cases),
        by_status=dict(Counter(case.status for case in cases)),
        all_targets_met=sum(1 for item in facts if item.all_targets_met is True),
        any_target_missed=sum(1 for item in facts if item.all_targets_met is False),
        late=len(late_cases),
        stages=[rows[s] for s in sorted(rows, key=_stage_order)],
        system=system,
        late_cases=late_cases,
        by_channel=_per_channel(cases),
        ratings=rating_report(facts),
    )


def _per_channel(cases: Sequence[Case]) -> dict[str, int]:
    """How many of ``cases`` came through each channel: the contract's channels in their order, then any other."""
    counts = Counter(case.channel for case in cases)
    order = {channel: index for index, channel in enumerate(CHANNELS)}
    return dict(sorted(counts.items(), key=lambda item: (order.get(item[0], len(order)), item[0])))
