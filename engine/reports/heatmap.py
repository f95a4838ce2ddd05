"""The heatmap, one computation for the version page (``/proses/versi/<n>``) and the SLA diagram (``/rekap``): per BPMN
element of a process version, how often cases completed it on that version and the median time it took.

Read from the audit events alone, each case's events in order (``seq``):

* **Counted** is every element the trail shows completed: the start event (``case_started``), a user task
  (``task_completed``), a timer (``timer_fired``), the script tasks that record the complaint and publish the answer
  (``complaint_recorded``, ``answer_published``) and the one that escalates a missed deadline (``deadline_missed``).
  A task still open, cut short by an interrupting timer or by a withdrawal was not completed and is not counted.
  Gateways, notification scripts and end events leave no event of their own and carry no numbers.
* **Duration**: a user task stays open from the step that moved its holder on to its completion, as
  engine/reports/facts.py measures a pass (``Starts``: a unit's task from that unit's own previous step or the
  forwarding, whichever came later; Admin Kominfo's and the reporter's from the case's latest step); a loop
  (``kembalikan``, ``bukan_wewenang``) completes the same task again. A timer's is the time its task had been open
  when it fired (of the timer's unit when the event names one, else since the case's latest step); a system step's,
  the engine's ``duration_ms``. Medians are over these.
* **Versions**: a case takes each step on the version it ran on at that moment. ``case_migrated`` and
  ``case_migration_reverted`` move it, so a migrated case's steps before the move stay with the version it left.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.cases.migration import MIGRATED, REVERTED
from engine.db.tables import AuditEvent, Case, Definition
from engine.definitions.cache import parsed
from engine.diagram.render import HeatInfo
from engine.reports.facts import Starts, median
from engine.reports.filters import CaseFilter, case_query
from engine.reports.model import ModelFacts, model_facts

_MOVES = (MIGRATED, REVERTED)
_STEPS = ("case_started", "task_completed", "timer_fired", "deadline_missed", "complaint_recorded", "answer_published")


def heat(session: Session, filters: CaseFilter | None = None) -> dict[str, HeatInfo]:
    """Per BPMN element id: how many times the cases ``filters`` selects completed it, and the median time it took.

    ``filters.definition_id``: the steps taken on that version, by every case that ran on it (a migrated case counts
    on each version for the steps it took there); None: every step on any version. Period, unit and category pick
    the cases as the SLA report does. Returns {} when no case matches or there is no such version; an element never
    completed is absent.
    """
    filters = filters or CaseFilter()
    number_of = dict(session.execute(select(Definition.id, Definition.number)).all())
    cases = case_query(replace(filters, definition_id=None))
    wanted: int | None = None  # the version number whose steps count (None: every version's)
    if filters.definition_id is not None:
        if filters.definition_id not in number_of:
            return {}
        wanted = number_of[filters.definition_id]
        moved = select(AuditEvent.case_id).where(AuditEvent.type.in_(_MOVES))
        cases = cases.where(or_(Case.definition_id == filters.definition_id, Case.id.in_(moved)))
    current = dict(session.execute(cases.with_only_columns(Case.id, Case.definition_id)).all())
    rows = session.execute(
        select(AuditEvent.case_id, AuditEvent.at, AuditEvent.type, AuditEvent.data)
        .where(AuditEvent.case_id.in_(cases.with_only_columns(Case.id)), AuditEvent.type.in_((*_STEPS, *_MOVES)))
        .order_by(AuditEvent.case_id, AuditEvent.seq)
    ).all()
    models = _Models(session)
    counts: Counter[str] = Counter()
    durations: dict[str, list[timedelta]] = defaultdict(list)
    for case_id, events in groupby(rows, key=lambda row: row.case_id):
        steps = [(row.type, row.at, json.loads(row.data)) for row in events]
        first_move = next((data for kind, _at, data in steps if kind == MIGRATED), None)
        on = first_move["from"] if first_move else number_of.get(current[case_id])
        starts = Starts()  # when each holder's open task started
        for kind, at, data in steps:
            if kind in _MOVES:
                on = data.get("to")
                continue
            if wanted is None or on == wanted:
                node, took = _completed(kind, at, data, starts.of(data.get("unit")), models.get(on))
                if node:
                    counts[node] += 1
                    if took is not None:
                        durations[node].append(took)
            if kind == "case_started" or (kind == "timer_fired" and data.get("interrupting") and data.get("attached_to")):
                starts.moved(at)
            elif kind == "task_completed":
                starts.moved(at, data.get("unit"))
    return {node: HeatInfo(count, median(durations[node])) for node, count in counts.items()}


def _completed(
    kind: str, at: datetime, data: dict[str, Any], moved_at: datetime | None, model: ModelFacts | None
) -> tuple[str | None, timedelta | None]:
    """The element one step event completed (None: none the diagram shows) and the time it took (None: not measured)."""
    since_start = at - moved_at if moved_at is not None else None
    if kind == "task_completed":
        return data.get("task"), since_start
    if kind == "timer_fired":
        return data.get("timer"), since_start if data.get("attached_to") else None
    if model is None:
        return None, None
    if kind == "case_started":
        return model.start_node, None
    if kind == "deadline_missed":
        return model.escalation_nodes.get((data.get("stage", ""), data.get("clock", ""))), None
    took = data.get("duration_ms")
    return model.system_nodes.get(kind), timedelta(milliseconds=took) if took is not None else None


class _Models:
    """The model facts of each version number, read when first needed."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.cache: dict[int, ModelFacts | None] = {}

    def get(self, number: int | None) -> ModelFacts | None:
        if number is None:
            return None
        if number not in self.cache:
            definition = self.session.scalar(select(Definition).where(Definition.number == number))
            self.cache[number] = model_facts(parsed(definition.bundle, definition.content_hash)) if definition else None
        return self.cache[number]
