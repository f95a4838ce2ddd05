"""What happened to each case, the one measure the SLA report, the CSV export and the case sheet are all built on
(engine/reports/heatmap.py follows the same rule per version), and the median of durations.

* A **pass** is one instance of a user task (a loop such as ``bukan_wewenang`` makes a second pass
  of the same task). It starts with the event that moved its holder on (:class:`Starts`): a task of Admin
  Kominfo or of the reporter with the latest step of the case (``case_started``, a ``task_completed``, an
  interrupting ``timer_fired``), as they wait for every unit; a unit's task (``data.unit``; a case goes to one to
  five units at once, each with its own tasks) with that unit's own previous step, or with the latest step
  that was no unit's (the forwarding, a returned answer) when that came later. It ends at its own
  ``task_completed`` (``data.task`` is the BPMN id, ``data.form`` the stage), or at the interrupting timer that
  closed it (``Timer_Balasan``). A pass still open is read from its ``open_task`` row (``created_at``, ``due_at``,
  ``ceiling_at``).
* A pass's **deadlines** are its task's (engine/reports/model.py). The due instant is the one the engine armed
  when the timer fired (``timer_fired.data.due``) or the open task's row holds; otherwise it is recomputed from
  the pass's start with the working calendar, exactly as the engine computes it. A timer that fired belongs to
  the pass of its task that was open then and whose deadline it was: several units may hold the same task.
* A clock is **missed** when its timer fired during the pass, or when the pass ended (or, while open,
  ``now`` is) after the due instant: a task completed late while no worker ran still counts as late.
  It is **met** when the pass ended in time, **open** while it may still be met, and ``None`` where
  the task has no such clock.
* The system's one-minute steps are measured in the engine: ``complaint_recorded`` and
  ``answer_published`` carry ``duration_ms`` (the engine steps of that command); a step meets the SOP
  when it took at most 60 000 ms.
* **Medians** are over finished passes only; a count includes the passes still open. A step
  cancelled by a withdrawal (``case_withdrawn``) is not counted.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.cases.views import redact_complaint
from engine.contract import CEILING, TARGET
from engine.db.connection import in_chunks
from engine.db.tables import AuditEvent, Case, Definition, OpenTask
from engine.definitions.cache import parsed
from engine.reports.filters import CaseFilter, cases_in
from engine.reports.model import SYSTEM_STEPS, ModelFacts, model_facts
from engine.timekeeping import clock as clocks
from engine.timekeeping.calendar import WorkingCalendar, zone

SYSTEM_STEP_LIMIT_MS = 60_000  # the SOP's standard time for the system's own steps: 1 minute
MET, MISSED, OPEN = "met", "missed", "open"
_EVENT_TYPES = ("case_started", "task_completed", "timer_fired", *SYSTEM_STEPS)


@dataclass
class Pass:
    """One instance of a user task: when it started and ended, and whether it kept each clock."""

    node: str  # BPMN id of the user task
    stage: str  # its form: disposisi, terima, tanggapan, teruskan, balasan
    name: str
    start: datetime
    end: datetime | None = None  # None while open
    ended_by: str | None = None  # completed | timer | None (open)
    task_id: str | None = None
    actor: str | None = None
    unit: str | None = None  # the acting unit (None for Admin Kominfo and the citizen)
    data: dict[str, Any] = field(default_factory=dict)  # the completed form's data
    due: dict[str, datetime | None] = field(default_factory=dict)  # clock -> due instant
    outcome: dict[str, str | None] = field(default_factory=dict)  # clock -> met | missed | open (absent: no such clock)
    fired: set[str] = field(default_factory=set)  # clocks whose timer fired during the pass

    @property
    def duration(self) -> timedelta | None:
        return self.end - self.start if self.end is not None else None

    def result(self, clock: str) -> str | None:
        return self.outcome.get(clock)


@dataclass(frozen=True)
class SystemStep:
    event: str  # complaint_recorded | answer_published
    at: datetime
    duration_ms: float | None

    @property
    def met(self) -> bool | None:
        return None if self.duration_ms is None else self.duration_ms <= SYSTEM_STEP_LIMIT_MS


@dataclass
class CaseFacts:
    case: Case
    complaint: dict[str, Any]  # as submitted, ``reporter`` None unless the viewer may see it (see case_facts)
    reporter_hidden: bool = True
    passes: list[Pass] = field(default_factory=list)
    system_steps: list[SystemStep] = field(default_factory=list)

    def stage_passes(self, stage: str) -> list[Pass]:
        return [p for p in self.passes if p.stage == stage]

    def stage_result(self, stage: str, clock: str) -> str | None:
        """missed if any pass of the stage missed the clock, open if one may still meet it, met if all did; None: no such clock."""
        results = {p.result(clock) for p in self.stage_passes(stage)} - {None}
        for value in (MISSED, OPEN, MET):
            if value in results:
                return value
        return None

    @property
    def late(self) -> bool:
        """Past a national ceiling: flagged by the engine's timer, or found here (a ceiling passed while no worker ran)."""
        return self.case.late or any(p.result(CEILING) == MISSED for p in self.passes)

    def clock_result(self, clock: str) -> str | None:
        """The whole case against one clock: missed if any pass missed it, open while one may still, met if all did; None: never clocked."""
        results = {p.result(clock) for p in self.passes} - {None}
        for value in (MISSED, OPEN, MET):
            if value in results:
                return value
        return None

    @property
    def all_targets_met(self) -> bool | None:
        """True when every clocked pass met its SOP target; None while one is open and none missed."""
        result = self.clock_result(TARGET)
        return None if result == OPEN else result != MISSED


class Starts:
    """When the pass that ends at a case's next step started, fed the case's steps in order (see the module's rule);
    engine/reports/heatmap.py times its tasks with it too."""

    def __init__(self, started: datetime | None = None) -> None:
        self.latest = started  # the case's latest step: what Admin Kominfo's and the reporter's tasks wait for
        self.shared = started  # the latest step that was no unit's own: it starts the units' next tasks
        self.of_unit: dict[str, datetime] = {}  # each unit's own latest step

    def of(self, unit: str | None) -> datetime | None:
        """The start of the pass of ``unit``'s task (None: Admin Kominfo's or the reporter's) that ends now."""
        if unit is None:
            return self.latest
        own = self.of_unit.get(unit)
        return own if own is not None and (self.shared is None or own > self.shared) else self.shared

    def moved(self, at: datetime, unit: str | None = None) -> None:
        """A step at ``at`` moved the case on, taken by ``unit`` (None: by anyone else, or a timer)."""
        self.latest = at
        if unit is None:
            self.shared = at
        else:
            self.of_unit[unit] = at


def _aware(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        return None
    return instant if instant.tzinfo else instant.replace(tzinfo=zone())


def facts_in(session: Session, filters: CaseFilter, now: datetime | None = None, calendar: WorkingCalendar | None = None) -> list[CaseFacts]:
    """The facts of the cases ``filters`` selects: what the SLA report and the charts of one page both read, once."""
    return case_facts(session, cases_in(session, filters), now, calendar)


def case_facts(
    session: Session,
    cases: Sequence[Case],
    now: datetime | None = None,
    calendar: WorkingCalendar | None = None,
    identity: Collection[int] = (),
) -> list[CaseFacts]:
    """Passes, timers and system steps of each case, from its audit events and open tasks (two queries for all cases).

    ``identity``: ids of the cases whose reporter the reader may see (from access.seen_cases); every other
    complaint comes without its reporter.
    """
    if not cases:
        return []
    now = now or clocks.now()
    calendar = calendar or WorkingCalendar()
    ids = [case.id for case in cases]
    events: dict[int, list[AuditEvent]] = defaultdict(list)
    opens: dict[int, list[OpenTask]] = defaultdict(list)
    for chunk in in_chunks(ids):
        query = select(AuditEvent).where(AuditEvent.case_id.in_(chunk), AuditEvent.type.in_(_EVENT_TYPES))
        for event in session.scalars(query.order_by(AuditEvent.case_id, AuditEvent.seq)):
            events[event.case_id].append(event)
        for row in session.scalars(select(OpenTask).where(OpenTask.case_id.in_(chunk)).order_by(OpenTask.created_at)):
            opens[row.case_id].append(row)
    models: dict[int, ModelFacts] = {}
    for definition in session.scalars(select(Definition).where(Definition.id.in_({case.definition_id for case in cases}))):
        models[definition.id] = model_facts(parsed(definition.bundle, definition.content_hash))
    return [_facts_of(case, events[case.id], opens[case.id], models[case.definition_id], now, calendar, case.id in identity) for case in cases]


def _facts_of(
    case: Case, events: list[AuditEvent], opens: list[OpenTask], model: ModelFacts, now: datetime, calendar: WorkingCalendar, identity: bool
) -> CaseFacts:
    facts = CaseFacts(case=case, complaint={}, reporter_hidden=not identity)
    starts = Starts(case.submitted_at)
    fires: list[tuple[AuditEvent, dict[str, Any]]] = []
    for event in events:
        data = json.loads(event.data)
        if event.type == "case_started":
            facts.complaint = redact_complaint(data.get("data") or {}, facts.reporter_hidden)
            starts.moved(event.at)
        elif event.type == "task_completed":
            node, unit = data.get("task") or "", data.get("unit")
            facts.passes.append(
                Pass(
                    node=node,
                    stage=data.get("form") or model.stage_of.get(node, ""),
                    name=data.get("name") or model.names.get(node, node),
                    start=starts.of(unit) or event.at,
                    end=event.at,
                    ended_by="completed",
                    task_id=event.task,
                    actor=event.actor,
                    unit=unit,
                    data=data.get("data") or {},
                )
            )
            starts.moved(event.at, unit)
        elif event.type == "timer_fired":
            fires.append((event, data))
            if data.get("interrupting") and data.get("attached_to"):
                node = data["attached_to"]
                facts.passes.append(
                    Pass(
                        node=node,
                        stage=model.stage_of.get(node, ""),
                        name=model.names.get(node, node),
                        start=starts.of(None) or event.at,
                        end=event.at,
                        ended_by="timer",
                    )
                )
                starts.moved(event.at)
        elif event.type in SYSTEM_STEPS:
            facts.system_steps.append(SystemStep(event.type, event.at, data.get("duration_ms")))
    for row in opens:
        facts.passes.append(
            Pass(
                node=row.spec_name,
                stage=row.form or model.stage_of.get(row.spec_name, ""),
                name=row.name,
                start=row.created_at,
                task_id=row.id,
                unit=row.unit_id,
                due={TARGET: row.due_at, CEILING: row.ceiling_at},
            )
        )
    for event, data in fires:
        clock, armed = data.get("clock"), _aware(data.get("due"))
        owner = _owner_of(facts.passes, data, event.at, armed, model, calendar, case.classification)
        if owner is not None and clock:
            owner.fired.add(clock)
            if armed is not None:
                owner.due[clock] = armed
    for item in facts.passes:
        for clock, deadline in model.deadlines.get(item.node, {}).items():
            due = item.due.get(clock) or deadline.due(item.start, calendar, case.classification)
            item.due[clock] = due
            reference = item.end if item.end is not None else now
            if clock in item.fired or (due is not None and reference > due):
                item.outcome[clock] = MISSED
            else:
                item.outcome[clock] = MET if item.end is not None else OPEN
        for clock in list(item.due):
            if clock not in item.outcome:
                del item.due[clock]  # an open row's empty ceiling: the task has no such clock
    return facts


def _owner_of(
    passes: list[Pass],
    fired: dict[str, Any],
    at: datetime,
    armed: datetime | None,
    model: ModelFacts,
    calendar: WorkingCalendar,
    classification: str | None,
) -> Pass | None:
    """The pass a timer that fired at ``at`` belongs to: one of its task open then (of the timer's unit when the event
    names one); among several units' passes, one not yet fired on that clock, whose own deadline is closest to the
    one the timer was armed with."""
    node, clock, unit = fired.get("attached_to"), fired.get("clock") or "", fired.get("unit")
    deadline = model.deadlines.get(node or "", {}).get(clock)

    def rank(item: Pass) -> tuple[bool, timedelta]:
        due = item.due.get(clock) or (deadline.due(item.start, calendar, classification) if deadline else None)
        return clock in item.fired, abs(due - armed) if due is not None and armed is not None else timedelta.max

    candidates = [p for p in passes if p.node == node and p.start <= at and (p.end is None or at <= p.end) and unit in (None, p.unit)]
    return min(candidates, key=rank) if candidates else None


def counted_for(item: Pass, unit_id: str | None) -> bool:
    """Whether a pass counts in the report of ``unit_id`` (None: every unit's): one unit's report leaves out another
    unit's own steps of a shared case (they are that unit's figures) and keeps the steps of no unit."""
    return not unit_id or item.unit in (None, unit_id)


def median(values: Sequence[timedelta]) -> timedelta | None:
    """The middle duration (the mean of the two middle ones for an even count); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
