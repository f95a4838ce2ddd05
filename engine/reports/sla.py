"""Reports and records: the SOP's "disimpan sebagai data elektronik dan manual".

Everything here is read from what the engine already writes (the case rows, the open-task index and
the hash-chained audit events); reports record nothing new and never deserialize a workflow.

How a step's duration is measured (one method for the SLA report, the CSV and the case sheet, all built
on :func:`case_facts`; engine/reports/heatmap.py follows the same rule for the heatmap, by version):

* A **pass** is one instance of a user task (a loop such as ``bukan_wewenang`` makes a second pass
  of the same task). The SOP model is sequential, with at most one user task open per case, so a pass
  starts with the event that moved the case on: ``case_started`` for the first task, then each
  ``task_completed`` (and an interrupting ``timer_fired``, which leaves one task for the next). It
  ends at its own ``task_completed`` (``data.task`` is the BPMN id, ``data.form`` the stage), or at
  the interrupting timer that closed it (``Timer_Balasan``). A pass still open is read from its
  ``open_task`` row (``created_at``, ``due_at``, ``ceiling_at``).
* A pass's **deadlines** are its boundary timers in the case's own definition version: ``jenisBatas``
  says which clock (``target``: the SOP's standard time; ``plafon``: the national ceiling) and the
  expression ``batas_hari_kerja(n)`` how many working days (``batas_menit(n)`` and quoted ISO
  durations are understood too). The due instant is the one the engine armed when the timer fired
  (``timer_fired.data.due``) or the open task's row holds; otherwise it is recomputed from the pass's
  start with the working calendar, exactly as the engine computes it.
* A clock is **missed** when its timer fired during the pass, or when the pass ended (or, while open,
  ``now`` is) after the due instant: a task completed late while no worker ran still counts as late.
  It is **met** when the pass ended in time, **open** while it may still be met, and ``None`` where
  the task has no such clock.
* The system's one-minute steps are measured in the engine: ``complaint_recorded`` and
  ``answer_published`` carry ``duration_ms`` (the engine steps of that command); a step meets the SOP
  when it took at most 60 000 ms.
* **Medians** are over finished passes only; a count includes the passes still open. A step
  cancelled by a withdrawal (``case_withdrawn``) is not counted.

Which cases: a report covers the cases *submitted* in its period (local dates, inclusive), optionally
of one unit (the case's current unit), one category and one definition version.

Redaction (engine/cases/access.py's rule and loader): the export, the register and the case sheet are made
for one viewer, from the cases ``views.seen_cases`` gives that viewer, so each shows a reporter's name,
email and phone only where the rule does (never an anonymous reporter's, and never
any to auditors), exactly as the staff case page does. Figures (the SLA report) keep no reporter.
Confidentiality keeps a case off public pages, not away from the office that handles it; the export
flags it in a ``confidential`` column.
"""

from __future__ import annotations

import csv
import io
import json
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.cases.access import REDACTED, SeenCase, redact_complaint, seen_cases
from engine.contract import CEILING, DEADLINE_PROPERTY, STAGES, TARGET, Actor
from engine.db.tables import AuditEvent, Case, Definition, OpenTask, Unit
from engine.definitions.validation import Parsed, attached_task, parsed
from engine.timekeeping import clock as clocks
from engine.timekeeping.calendar import WorkingCalendar, zone

SYSTEM_STEP_LIMIT_MS = 60_000  # the SOP's standard time for the system's own steps: 1 minute
SYSTEM_STEPS = {"complaint_recorded": "rekam_pengaduan", "answer_published": "terbitkan_jawaban"}  # event -> helper the script calls
MET, MISSED, OPEN = "met", "missed", "open"
_EVENT_TYPES = ("case_started", "task_completed", "timer_fired", *SYSTEM_STEPS)


# ---- which cases -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Local calendar days ``start`` to ``end``, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("the period ends before it starts")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        first = date(year, month, 1)
        following = date(year + month // 12, month % 12 + 1, 1)
        return cls(first, following - timedelta(days=1))

    @classmethod
    def parse_month(cls, text: str) -> Period:
        """``2026-11`` -> November 2026. Raises ValueError."""
        found = re.fullmatch(r"(\d{4})-(\d{1,2})", text.strip())
        if not found or not 1 <= int(found.group(2)) <= 12:
            raise ValueError(f"not a month: {text!r}")
        return cls.month(int(found.group(1)), int(found.group(2)))

    @classmethod
    def containing(cls, instant: datetime) -> Period:
        """The local month ``instant`` falls in."""
        local = instant.astimezone(zone())
        return cls.month(local.year, local.month)

    def bounds(self) -> tuple[datetime, datetime]:
        """[first instant, first instant after) in UTC."""
        tz = zone()
        return (
            datetime.combine(self.start, time(0), tz).astimezone(UTC),
            datetime.combine(self.end + timedelta(days=1), time(0), tz).astimezone(UTC),
        )

    @property
    def is_month(self) -> bool:
        return self.start.day == 1 and self == Period.month(self.start.year, self.start.month)


@dataclass(frozen=True)
class CaseFilter:
    period: Period | None = None
    unit_id: str | None = None
    category: str | None = None
    definition_id: int | None = None


def case_query(filters: CaseFilter):  # type: ignore[no-untyped-def]
    query = select(Case)
    if filters.period is not None:
        first, after = filters.period.bounds()
        query = query.where(Case.submitted_at >= first, Case.submitted_at < after)
    if filters.unit_id:
        query = query.where(Case.unit_id == filters.unit_id)
    if filters.category:
        query = query.where(Case.category == filters.category)
    if filters.definition_id is not None:
        query = query.where(Case.definition_id == filters.definition_id)
    return query


def cases_in(session: Session, filters: CaseFilter) -> list[Case]:
    """The cases a report covers, oldest submission first."""
    return list(session.scalars(case_query(filters).order_by(Case.submitted_at, Case.id)))


# ---- what the model says about deadlines and nodes ------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """One boundary timer of a user task, read from the model."""

    clock: str  # target | plafon
    timer: str  # the timer's BPMN id
    working_days: int | None = None  # batas_hari_kerja(n)
    delta: timedelta | None = None  # batas_menit(n) or an ISO duration

    def due(self, start: datetime, calendar: WorkingCalendar) -> datetime | None:
        if self.working_days is not None:
            return calendar.add_working_days(start, self.working_days)
        return start + self.delta if self.delta is not None else None


_WORKING_DAYS = re.compile(r"\s*batas_hari_kerja\(\s*(\d+)\s*\)\s*")
_MINUTES = re.compile(r"\s*batas_menit\(\s*(\d+(?:\.\d+)?)\s*\)\s*")
_ISO = re.compile(r"""\s*["'](P[^"']+)["']\s*""")
_ESCALATION = re.compile(r"""eskalasi\(\s*["'](\w+)["']\s*,\s*["'](\w+)["']\s*\)""")


def _deadline(timer: Any) -> Deadline:
    clock = timer.extensions.get("properties", {}).get(DEADLINE_PROPERTY, TARGET)
    expression = timer.event_definition.expression or ""
    if found := _WORKING_DAYS.fullmatch(expression):
        return Deadline(clock, timer.bpmn_id, working_days=int(found.group(1)))
    if found := _MINUTES.fullmatch(expression):
        return Deadline(clock, timer.bpmn_id, delta=timedelta(minutes=float(found.group(1))))
    if found := _ISO.fullmatch(expression):
        try:
            return Deadline(clock, timer.bpmn_id, delta=TimerEventDefinition.parse_iso_duration(found.group(1)))
        except Exception:  # noqa: BLE001 - an expression we cannot read: rely on the timer firing
            pass
    return Deadline(clock, timer.bpmn_id)


@dataclass(frozen=True)
class ModelFacts:
    """What reports need from one definition version."""

    deadlines: dict[str, dict[str, Deadline]]  # user task id -> clock -> deadline
    stage_of: dict[str, str]  # user task id -> stage (its form: disposisi, terima, ...)
    names: dict[str, str]  # node id -> name
    # the nodes of the events that name none (engine/reports/heatmap.py counts them)
    start_node: str | None
    system_nodes: dict[str, str]  # audit event type (complaint_recorded, answer_published) -> script task id
    escalation_nodes: dict[tuple[str, str], str]  # (stage, clock) -> script task id


_model_cache: dict[str, ModelFacts] = {}


def model_facts(model: Parsed) -> ModelFacts:
    """Deadlines, stages and special nodes of a parsed definition (cached per content hash)."""
    hit = _model_cache.get(model.content_hash)
    if hit is not None:
        return hit
    deadlines: dict[str, dict[str, Deadline]] = defaultdict(dict)
    for timer in model.timers:
        task = attached_task(timer)
        if task is not None:
            deadline = _deadline(timer)
            deadlines[task][deadline.clock] = deadline
    stage_of = {t.bpmn_id: form for t in model.user_tasks if (form := model.form_of(t))}
    names: dict[str, str] = {}
    start_node = None
    system_nodes: dict[str, str] = {}
    escalation_nodes: dict[tuple[str, str], str] = {}
    for spec in model.spec.task_specs.values():
        node = getattr(spec, "bpmn_id", None)
        if node is None:
            continue
        names[node] = getattr(spec, "bpmn_name", None) or node
        if type(spec).__name__ == "StartEvent" and start_node is None:
            start_node = node
        script = getattr(spec, "script", None) or ""
        for event, helper in SYSTEM_STEPS.items():
            if f"{helper}(" in script:
                system_nodes.setdefault(event, node)
        for stage, clock in _ESCALATION.findall(script):
            escalation_nodes.setdefault((stage, clock), node)
    facts = ModelFacts(dict(deadlines), stage_of, names, start_node, system_nodes, escalation_nodes)
    _model_cache[model.content_hash] = facts
    return facts


# ---- what happened to each case -------------------------------------------------------------


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


def _aware(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        return None
    return instant if instant.tzinfo else instant.replace(tzinfo=zone())


def case_facts(
    session: Session,
    cases: Sequence[Case],
    now: datetime | None = None,
    calendar: WorkingCalendar | None = None,
    identity: Collection[int] = (),
) -> list[CaseFacts]:
    """Passes, timers and system steps of each case, from its audit events and open tasks (two queries for all cases).

    ``identity``: ids of the cases whose reporter the reader may see (from views.seen_cases); every other
    complaint comes without its reporter.
    """
    if not cases:
        return []
    now = now or clocks.now()
    calendar = calendar or WorkingCalendar()
    ids = [case.id for case in cases]
    events: dict[int, list[AuditEvent]] = defaultdict(list)
    opens: dict[int, list[OpenTask]] = defaultdict(list)
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
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
    moved_at = case.submitted_at  # when the case last moved on: the next pass starts here
    fires: list[tuple[AuditEvent, dict[str, Any]]] = []
    for event in events:
        data = json.loads(event.data)
        if event.type == "case_started":
            facts.complaint = redact_complaint(data.get("data") or {}, facts.reporter_hidden)
            moved_at = event.at
        elif event.type == "task_completed":
            node = data.get("task") or ""
            facts.passes.append(
                Pass(
                    node=node,
                    stage=data.get("form") or model.stage_of.get(node, ""),
                    name=data.get("name") or model.names.get(node, node),
                    start=moved_at,
                    end=event.at,
                    ended_by="completed",
                    task_id=event.task,
                    actor=event.actor,
                    unit=data.get("unit"),
                    data=data.get("data") or {},
                )
            )
            moved_at = event.at
        elif event.type == "timer_fired":
            fires.append((event, data))
            if data.get("interrupting") and data.get("attached_to"):
                node = data["attached_to"]
                facts.passes.append(
                    Pass(
                        node=node,
                        stage=model.stage_of.get(node, ""),
                        name=model.names.get(node, node),
                        start=moved_at,
                        end=event.at,
                        ended_by="timer",
                    )
                )
                moved_at = event.at
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
        owner = next(
            (p for p in facts.passes if p.node == data.get("attached_to") and p.start <= event.at and (p.end is None or event.at <= p.end)), None
        )
        clock = data.get("clock")
        if owner is not None and clock:
            owner.fired.add(clock)
            armed = _aware(data.get("due"))
            if armed is not None:
                owner.due[clock] = armed
    for item in facts.passes:
        for clock, deadline in model.deadlines.get(item.node, {}).items():
            due = item.due.get(clock) or deadline.due(item.start, calendar)
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


# ---- medians ---------------------------------------------------------------------------------


def median(values: Sequence[timedelta]) -> timedelta | None:
    """The middle duration (the mean of the two middle ones for an even count); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


# ---- the SLA report ------------------------------------------------------------------------


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
        return sorted({d.working_days for d in self.deadlines if d.working_days is not None})

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
    unit_id: str | None
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


def _stage_order(stage: str) -> tuple[int, str]:
    return (STAGES.index(stage) if stage in STAGES else len(STAGES), stage)


def sla_report(session: Session, filters: CaseFilter, now: datetime | None = None, calendar: WorkingCalendar | None = None) -> SlaReport:
    """The SLA figures of the cases ``filters`` selects: per stage (SOP target, national ceiling, medians), the system's steps, late cases."""
    cases = cases_in(session, filters)
    facts = case_facts(session, cases, now, calendar)
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
        for entry in item.case.breached or []:
            stage, _sep, clock = entry.partition(":")
            if clock == CEILING:
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
            item.case.unit_id,
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
    )


# ---- the export (CSV) and the register -----------------------------------------------------


def _local(instant: datetime | None) -> str:
    return instant.astimezone(zone()).isoformat(timespec="seconds") if instant else ""


def unit_names(session: Session) -> dict[str, str]:
    return {row.id: row.name for row in session.execute(select(Unit.id, Unit.name))}


def _reporter(item: CaseFacts) -> dict[str, str]:
    if item.reporter_hidden:
        return {"name": REDACTED, "email": REDACTED, "phone": REDACTED}
    reporter = item.complaint.get("reporter") or {}
    return {key: str(reporter.get(key) or "") for key in ("name", "email", "phone")}


def export_columns() -> list[str]:
    columns = [
        "tracking_id",
        "submitted_at",
        "category",
        "unit",
        "unit_name",
        "status",
        "channel",
        "anonymous",
        "confidential",
        "title",
        "location",
        "reporter_name",
        "reporter_email",
        "reporter_phone",
        "recorded_ms",
    ]
    for stage in STAGES:
        columns += [f"{stage}_started_at", f"{stage}_completed_at", f"{stage}_target", f"{stage}_ceiling"]
    columns += ["published_ms", "all_targets_met", "late", "breached", "answered_at", "closed_at"]
    return columns


def _seen_facts(session: Session, seen: Sequence[SeenCase], now: datetime | None, calendar: WorkingCalendar | None) -> list[CaseFacts]:
    """case_facts of cases as one viewer may see them (views.seen_cases / views.case_for)."""
    return case_facts(session, [item.case for item in seen], now, calendar, identity={item.case.id for item in seen if item.sight.identity})


def export_rows(
    session: Session, filters: CaseFilter, viewer: Actor, now: datetime | None = None, calendar: WorkingCalendar | None = None
) -> list[dict[str, str]]:
    """One row per case ``viewer`` may see (oldest first) with the columns of ``export_columns``; a reporter the viewer
    may not see reads ``(dirahasiakan)``.

    Stage columns: the first pass's start and the last finished pass's end; ``_target`` / ``_ceiling`` are
    ``met``, ``missed``, ``open`` or empty (no such clock at that stage, or the case never reached it).
    """
    names = unit_names(session)
    rows = []
    for item in _seen_facts(session, seen_cases(session, cases_in(session, filters), viewer), now, calendar):
        case = item.case
        reporter = _reporter(item)
        recorded = next((s.duration_ms for s in item.system_steps if s.event == "complaint_recorded"), None)
        published = [s.duration_ms for s in item.system_steps if s.event == "answer_published" and s.duration_ms is not None]
        row = {
            "tracking_id": case.tracking_id,
            "submitted_at": _local(case.submitted_at),
            "category": case.category,
            "unit": case.unit_id or "",
            "unit_name": names.get(case.unit_id or "", ""),
            "status": case.status,
            "channel": case.channel,
            "anonymous": _yes(case.anonymous),
            "confidential": _yes(case.confidential),
            "title": case.title,
            "location": str(item.complaint.get("location") or ""),
            "reporter_name": reporter["name"],
            "reporter_email": reporter["email"],
            "reporter_phone": reporter["phone"],
            "recorded_ms": "" if recorded is None else f"{recorded:g}",
        }
        for stage in STAGES:
            passes = item.stage_passes(stage)
            ends = [p.end for p in passes if p.end is not None]
            row[f"{stage}_started_at"] = _local(passes[0].start) if passes else ""
            row[f"{stage}_completed_at"] = _local(max(ends)) if ends else ""
            row[f"{stage}_target"] = item.stage_result(stage, TARGET) or ""
            row[f"{stage}_ceiling"] = item.stage_result(stage, CEILING) or ""
        met = item.all_targets_met
        row.update(
            {
                "published_ms": f"{max(published):g}" if published else "",
                "all_targets_met": "" if met is None else _yes(met),
                "late": _yes(item.late),
                "breached": " ".join(case.breached or []),
                "answered_at": _local(case.answered_at),
                "closed_at": _local(case.closed_at),
            }
        )
        rows.append(row)
    return rows


def _yes(value: bool) -> str:
    return "yes" if value else "no"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    """Neutralise a spreadsheet formula (CSV injection): a citizen's title may start with '='."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def to_csv(rows: Iterable[dict[str, str]], columns: Sequence[str] | None = None) -> str:
    """CSV text (comma, CRLF, a UTF-8 BOM for spreadsheet programs) with every cell made formula-safe."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=list(columns or export_columns()), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell(str(value)) for key, value in row.items()})
    return out.getvalue()


@dataclass
class RegisterEntry:
    """One line of the monthly register (buku agenda pengaduan)."""

    number: int
    facts: CaseFacts
    reporter: str | None  # None: hidden from the reader (anonymous, or confidential for an auditor)
    unit_name: str | None

    @property
    def case(self) -> Case:
        return self.facts.case


def register(
    session: Session, period: Period, viewer: Actor, now: datetime | None = None, calendar: WorkingCalendar | None = None
) -> list[RegisterEntry]:
    """Every case submitted in ``period`` that ``viewer`` may see, numbered in order of submission."""
    names = unit_names(session)
    entries = []
    for number, item in enumerate(_seen_facts(session, seen_cases(session, cases_in(session, CaseFilter(period)), viewer), now, calendar), 1):
        reporter = None if item.reporter_hidden else str((item.complaint.get("reporter") or {}).get("name") or "")
        entries.append(RegisterEntry(number, item, reporter, names.get(item.case.unit_id or "")))
    return entries


def sheet_facts(session: Session, seen: SeenCase, now: datetime | None = None, calendar: WorkingCalendar | None = None) -> CaseFacts:
    """The facts of one case for its printable sheet (passes in order, with their deadlines), as the viewer may see it."""
    [item] = _seen_facts(session, [seen], now, calendar)
    item.passes.sort(key=lambda p: (p.start, p.end is None, p.end or p.start))
    return item
