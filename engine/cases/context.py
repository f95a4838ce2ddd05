"""What the holder of a task needs in order to decide, read from what the case went through: the unit's latest
answer, why the case came back (a unit declined it, the reporter was not satisfied, Admin Kominfo returned the
answer) and by whom, and which units declined it.

The pages and the API read it from the audit trail (:func:`task_context`); the mail that tells Admin Kominfo a case
is back reads the reason from the workflow (:func:`came_back_in`), because the completion that sent it back is not
written yet when its mail is made. Both name the reason through :func:`reason_of`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.tables import AuditEvent, Case, Unit
from engine.definitions.parsing import Parsed

DECLINED = "bukan_wewenang"  # a unit said the case is not within its authority (form terima)
NOT_SATISFIED = "tidak_puas"  # the reporter was not satisfied with the published answer (form balasan)
RETURNED = "dikembalikan"  # Admin Kominfo returned the unit's answer with a note (form teruskan)
COMPLETED = "dilengkapi"  # the reporter added what Admin Kominfo asked for (form kelengkapan)
INTERIM = "interim_answer_published"  # the audit event of a unit's interim answer (form tanggapan, data as task_completed's)


@dataclass(frozen=True)
class Step:
    """One completed user task as the audit trail recorded it."""

    form: str
    data: dict[str, Any]
    at: datetime
    actor: str
    unit: str | None  # the acting unit (None for Admin Kominfo and the reporter)
    kind: str = "task_completed"  # or INTERIM: a unit's interim answer, its task still open


def reason_of(form: str, data: dict[str, Any]) -> str | None:
    """Why completing ``form`` with ``data`` sends the case back (DECLINED, NOT_SATISFIED, RETURNED, COMPLETED), or None."""
    if form == "terima" and data.get("decision") == "bukan_wewenang":
        return DECLINED
    if form == "balasan" and (data.get("satisfied") is False or data.get("rating") in (1, 2)):  # as Gateway_Puas decides
        return NOT_SATISFIED
    if form == "teruskan" and data.get("decision") == "kembalikan":
        return RETURNED
    if form == "kelengkapan":
        return COMPLETED
    return None


def came_back_in(parsed: Parsed, workflow: BpmnWorkflow) -> str:
    """The reason the workflow's last completed user task sent the case back ("" when it did not, or none was done)."""
    done = workflow.get_tasks(state=TaskState.COMPLETED, manual=True)
    if not done:
        return ""
    last = max(done, key=lambda task: task.last_state_change)
    form = parsed.form_of(last.task_spec)
    data = last.data.get(form) if form else None
    return (reason_of(form, data) or "") if form and isinstance(data, dict) else ""


def steps_of(session: Session, case: Case, kinds: tuple[str, ...] = ("task_completed",)) -> list[Step]:
    """The case's completed user tasks (and the events of ``kinds`` read like them), in order."""
    query = select(AuditEvent).where(AuditEvent.case_id == case.id, AuditEvent.type.in_(kinds))
    steps = []
    for event in session.scalars(query.order_by(AuditEvent.seq)):
        done = json.loads(event.data)
        steps.append(Step(done.get("form") or "", done.get("data") or {}, event.at, event.actor, done.get("unit"), event.type))
    return steps


def _answer(step: Step, names: dict[str, str], interim: list[Step] | None = None) -> dict[str, Any]:
    answer = {
        "text": step.data["response"],
        "unit": step.unit,
        "unit_name": names.get(step.unit or ""),
        "at": step.at.isoformat(),
        "attachments": list(step.data.get("attachments") or []),  # ids of the documents sent with it
    }
    return answer if interim is None else {**answer, "interim": [_answer(s, names) for s in interim]}


def task_context(session: Session, case: Case) -> dict[str, Any]:
    """``answer``: the latest answer of a unit (text, unit, unit_name, at, attachments: ids) or None; ``answers``: each
    unit's latest answer since the case was last forwarded, oldest first, with ``interim``: the interim answers the unit
    published since then, oldest first (Admin Kominfo's review of several units' answers); ``interim``: the interim answers
    each unit published after its latest answer (or since the case was forwarded), its task still open, oldest first;
    ``came_back``: why the last completed task sent the case back (reason, at, actor, unit, unit_name, text: the unit's or
    Admin Kominfo's note, the reporter's message) or None; ``declined_units``: the ids of the units that declined the
    case, in order."""
    events = steps_of(session, case, ("task_completed", INTERIM))
    steps = [s for s in events if s.kind == "task_completed"]
    names = {row.id: row.name for row in session.execute(select(Unit.id, Unit.name))}
    answered = next((s for s in reversed(steps) if s.form == "tanggapan" and s.data.get("response")), None)
    last = steps[-1] if steps else None
    reason = reason_of(last.form, last.data) if last else None
    came_back = None
    if last is not None and reason is not None:
        # a decline names the unit that declined; the reporter and Admin Kominfo answer about the case's unit
        unit = last.unit if reason == DECLINED else case.unit_id
        text = last.data.get("text") if reason in (NOT_SATISFIED, COMPLETED) else last.data.get("note")
        came_back = {
            "reason": reason,
            "at": last.at.isoformat(),
            "actor": last.actor,
            "unit": unit,
            "unit_name": names.get(unit or ""),
            "text": text or None,
        }
    declined = [s.unit for s in steps if s.unit and reason_of(s.form, s.data) == DECLINED]
    # each unit's latest answer since the case was last forwarded (several units answer one case)
    forwarded = max((i for i, s in enumerate(events) if s.form == "disposisi"), default=-1)
    latest = {s.unit: s for s in events[forwarded + 1 :] if s.kind == "task_completed" and s.form == "tanggapan" and s.data.get("response")}
    interim = [s for s in events[forwarded + 1 :] if s.kind == INTERIM]
    # published while the unit's task stays open: after the unit's latest answer, if it has one
    answered_at = {s.unit: i for i, s in enumerate(events) if i > forwarded and s.kind == "task_completed" and s.form == "tanggapan"}
    pending = [s for i, s in enumerate(events) if i > forwarded and s.kind == INTERIM and i > answered_at.get(s.unit, -1)]
    return {
        "answer": _answer(answered, names) if answered else None,
        "answers": [_answer(s, names, [i for i in interim if i.unit == s.unit]) for s in sorted(latest.values(), key=lambda s: s.at)],
        "interim": [_answer(s, names) for s in pending],
        "came_back": came_back,
        "declined_units": list(dict.fromkeys(declined)),
    }
