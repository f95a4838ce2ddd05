"""Deadline extensions: a unit that holds its answer task (form ``tanggapan``) asks for more working days; Admin
Kominfo decides on a task of its own (form ``perpanjangan``, in the model's event sub-process "Perpanjangan batas
waktu", started by the message ``perpanjangan``); a grant moves that unit's deadlines.

A moved deadline is the same boundary timer re-armed, never a second timer: a timer still waiting gets its new
instant; one that already fired (its escalation sent) is reset to wait again, so the escalation comes once more
after the moved deadline. The SOP target moves by the days granted, never past the classification's maximum
(``batas_maksimal`` working days from the complaint's receipt, klasifikasi.dmn); the national ceiling moves to that
maximum only when the moved target passes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.contract import CEILING, TARGET
from engine.definitions.forms import UNSAFE_TEXT
from engine.definitions.parsing import Parsed
from engine.errors import InvalidData
from engine.messages import N_, Message
from engine.timekeeping.calendar import WorkingCalendar, zone
from engine.timekeeping.timers import boundary_timers, timer_due

MESSAGE = "perpanjangan"  # the message that starts the model's event sub-process
REQUEST = "permintaan_perpanjangan"  # the message's payload, in the decision task's data
FORM = "perpanjangan"  # Admin Kominfo's decision
MAX_DAYS = 60
DEFAULT_LIMIT_DAYS = 60  # a model without klasifikasi.dmn's batas_maksimal: Perpres 76/2013's 60 working days
REQUESTED, DECIDED = "extension_requested", "extension_decided"
LAPSED = "gugur"  # the decision recorded when the unit answered before Admin Kominfo decided
ANSWER_TASK_ONLY = N_("Perpanjangan batas waktu hanya dapat diminta untuk tugas memberi tanggapan.")  # another form's task


def local_iso(at: datetime | None) -> str | None:
    """An instant as the request and the decision record it: in the office's time zone, as the timers hold it."""
    return at.astimezone(zone()).isoformat() if at is not None else None


def checked_request(data: Any) -> tuple[int, str]:
    """``{working_days: 1..60, reason: 10..2000 characters}`` -> (days, reason). Raises InvalidData per field."""
    if not isinstance(data, dict):
        raise InvalidData({"_": N_("Data formulir harus berupa objek JSON.")})
    errors: dict[str, Any] = {}
    days, reason = data.get("working_days"), data.get("reason")
    if isinstance(days, str) and days.strip().isdigit():  # a page's form posts text
        days = int(days)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        errors["working_days"] = N_("Isi jumlah hari kerja dari 1 sampai 60.")
    if not isinstance(reason, str) or not 10 <= len(reason.strip()) <= 2000:
        errors["reason"] = N_("Tuliskan alasan 10 sampai 2000 karakter.")
    elif UNSAFE_TEXT.search(reason):
        errors["reason"] = N_("Teks berisi karakter yang tidak diizinkan.")
    unknown = set(data) - {"working_days", "reason"}
    if unknown:
        errors.update({name: Message(N_("Isian tidak dikenal: %(fields)s."), fields=name) for name in sorted(unknown)})
    if errors:
        raise InvalidData(errors)
    assert isinstance(days, int) and isinstance(reason, str)
    return days, reason.strip()


def open_answer(workflow: BpmnWorkflow, task_id: str) -> Task | None:
    """The answer task ``task_id`` while it is still open (not answered, not cancelled)."""
    try:
        task = workflow.get_task_from_id(UUID(task_id))
    except TaskNotFoundException:
        return None
    return task if task.state == TaskState.READY else None


def decisions_waiting(parsed: Parsed, workflow: BpmnWorkflow, task_id: str) -> list[Task]:
    """Admin Kominfo's open decisions on requests for the answer task ``task_id``."""
    return [
        t
        for t in workflow.get_tasks(state=TaskState.READY, manual=True)
        if parsed.form_of(t.task_spec) == FORM and str((t.data.get(REQUEST) or {}).get("task")) == task_id
    ]


def limit(calendar: WorkingCalendar, received_at: datetime, task: Task) -> datetime:
    """The latest any deadline of the case's follow-up may move to: ``batas_maksimal`` working days (the
    classification's maximum, set by klasifikasi.dmn before the units got the case) from the complaint's receipt."""
    days = task.data.get("batas_maksimal")
    return calendar.add_working_days(received_at, days if isinstance(days, int) and days > 0 else DEFAULT_LIMIT_DAYS)


@dataclass(frozen=True)
class Grant:
    """What granting ``days`` makes of an answer task's deadlines."""

    due_at: datetime  # the moved SOP target
    capped: bool  # the days would have moved it past the maximum: it stops there
    ceiling_at: datetime | None  # the national ceiling after the grant (the maximum when the moved target passes it)


def grant(due: datetime | None, ceiling: datetime | None, days: int, latest: datetime, calendar: WorkingCalendar) -> Grant:
    """The deadlines after a grant of ``days`` working days: the target moves by them, never past ``latest``; the
    ceiling moves to ``latest`` only when the moved target passes it (Admin Kominfo's decision page shows the same)."""
    wanted = calendar.add_working_days(due, days) if due is not None else latest
    moved = min(wanted, latest)
    return Grant(moved, wanted > latest, latest if ceiling is not None and ceiling < moved else ceiling)


def move_deadlines(task: Task, days: int, latest: datetime, calendar: WorkingCalendar) -> None:
    """Grant ``days`` on the answer task (``grant``), re-arming each of its timers that moves."""
    timers = dict(boundary_timers(task))
    target, ceiling = timers.get(TARGET), timers.get(CEILING)
    if target is None:
        return
    ceiling_due = timer_due(ceiling) if ceiling is not None else None
    moved = grant(timer_due(target), ceiling_due, days, latest, calendar)
    _rearm(target, moved.due_at)
    if ceiling is not None and moved.ceiling_at != ceiling_due:
        _rearm(ceiling, latest)


def _rearm(timer: Task, at: datetime) -> None:
    if timer.state != TaskState.WAITING:  # fired: its escalation ran; wait again, and escalate again when it falls due
        timer.reset_branch(None)
    timer.internal_data["event_value"] = local_iso(at)
    timer.internal_data.pop("event_fired", None)


def drop_waiting(parsed: Parsed, workflow: BpmnWorkflow, task_id: str) -> list[dict[str, Any]]:
    """The unit answered: Admin Kominfo's open decisions on its requests lapse (each one's event sub-process is
    cancelled). Returns the requests dropped."""
    dropped = []
    for decision in decisions_waiting(parsed, workflow, task_id):
        holder = workflow.get_task_from_id(decision.workflow.parent_task_id)  # the event sub-process's task
        holder.cancel()
        dropped.append(dict(decision.data[REQUEST]))
    return dropped
