"""What each reader may see of a case. Redaction lives here, once, for pages, API and exports.

Anonymous: no staff member sees the reporter's name, email or phone. Confidential: the case is on
no public page. Citizens see their own case through its access token.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .audit import step_numbers, verify_chain
from .cases import CITIZEN, SYSTEM
from .errors import NotFound
from .ids import normalize_tracking_id
from .store import AuditEvent, Case, Definition, Unit, User

STATUS_MESSAGES = {
    "diterima": "Laporan Anda telah diterima dan menunggu diteruskan oleh Admin Kominfo.",
    "didisposisikan": "Laporan Anda telah diteruskan kepada unit kerja yang berwenang.",
    "ditindaklanjuti": "Unit kerja sedang menindaklanjuti laporan Anda.",
    "dijawab": "Jawaban atas laporan Anda telah terbit.",
    "selesai": "Laporan Anda telah selesai.",
    "dicabut": "Laporan Anda telah dicabut.",
}
REDACTED = "(dirahasiakan)"
# the events a case page lists; mail and claim bookkeeping stay in the full audit history
STAFF_HISTORY_TYPES = ("case_started", "task_completed", "timer_fired", "status_changed", "case_withdrawn", "deadline_missed", "task_reassigned")


def complaint_of(session: Session, case: Case) -> dict[str, Any]:
    """The complaint as submitted (from the case_started event)."""
    event = session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id, AuditEvent.seq == 1))
    return json.loads(event.data)["data"] if event is not None else {}


def redact_complaint(complaint: dict[str, Any], anonymous: bool) -> dict[str, Any]:
    if not anonymous:
        return complaint
    return {**complaint, "reporter": None}


def unit_name(session: Session, unit_id: str | None) -> str | None:
    unit = session.get(Unit, unit_id) if unit_id else None
    return unit.name if unit else None


def timeline(session: Session, case: Case) -> list[dict[str, Any]]:
    """The citizen's timeline: one line per status the case reached, in plain Indonesian."""
    items = [{"at": case.submitted_at.isoformat(), "status": "diterima", "message": STATUS_MESSAGES["diterima"]}]
    events = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id, AuditEvent.type == "status_changed").order_by(AuditEvent.seq))
    for event in events:
        status = json.loads(event.data)["to"]
        message = STATUS_MESSAGES[status]
        if status == "didisposisikan" and not case.confidential and case.unit_id:
            message = f"Laporan Anda telah diteruskan kepada {unit_name(session, case.unit_id)}."
        items.append({"at": event.at.isoformat(), "status": status, "message": message})
    return items


def staff_history(session: Session, case: Case) -> list[dict[str, Any]]:
    """Completed steps with their data, for the task and case pages (reporter identity redacted)."""
    history = []
    for event in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq)):
        if event.type not in STAFF_HISTORY_TYPES:
            continue
        data = json.loads(event.data)
        if event.type == "case_started":  # the complaint itself is shown above, redacted; never repeat it here
            data = {"channel": data.get("channel")}
        history.append({"seq": event.seq, "at": event.at, "type": event.type, "actor": event.actor, "data": data})
    return history


def case_by_tracking_id(session: Session, tracking_id: str) -> Case:
    """A case by its tracking id, for staff (who are then checked for what they may see). Raises NotFound."""
    case = session.scalar(select(Case).where(Case.tracking_id == normalize_tracking_id(tracking_id)))
    if case is None:
        raise NotFound("Laporan tidak ditemukan.")
    return case


def audit_history(session: Session, case: Case, hide_reporter: bool | None = None) -> list[dict[str, Any]]:
    """Every audit event of a case with its hashes, for auditors; the reporter's identity redacted when
    ``hide_reporter`` (by default: for an anonymous complaint; see hides_reporter)."""
    hide = case.anonymous if hide_reporter is None else hide_reporter
    history = []
    for event in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq)):
        data = json.loads(event.data)
        if event.type == "case_started" and isinstance(data.get("data"), dict):
            data["data"] = redact_complaint(data["data"], hide)
        history.append(
            {
                "seq": event.seq,
                "at": event.at.isoformat(),
                "type": event.type,
                "actor": event.actor,
                "task": event.task,
                "data": data,
                "prev_hash": event.prev_hash,
                "hash": event.hash,
            }
        )
    return history


def hides_reporter(case: Case, role: str | None) -> bool:
    """Whether a reader of ``role`` must not see the reporter's name, email and phone in a case's history.

    Anonymous: hidden from every staff member. Confidential: hidden from the auditor too, who checks
    how the case was handled, not who complained; Admin Pusat, who may have to reach the reporter, sees it.
    """
    return bool(case.anonymous or (case.confidential and role == "auditor"))


def auditor_history(session: Session, case: Case, hide_reporter: bool) -> list[dict[str, Any]]:
    """audit_history with, for each event, its step (the command it belongs to) and the actor's role and unit.

    The role and unit of a completed task are those recorded with it; other staff actors' are their
    account's now; ``sistem`` and ``pelapor`` are the system and the citizen.
    """
    rows = audit_history(session, case, hide_reporter)
    steps = step_numbers([(row["type"], datetime.fromisoformat(row["at"])) for row in rows])
    names = {row["actor"] for row in rows} - {SYSTEM.username, CITIZEN.username}
    accounts: dict[str, tuple[str | None, str | None]] = {
        u.username: (u.role, u.unit_id) for u in (session.scalars(select(User).where(User.username.in_(names))) if names else [])
    }
    accounts.update({SYSTEM.username: (SYSTEM.role, None), CITIZEN.username: (CITIZEN.role, None)})
    for row, step in zip(rows, steps, strict=True):
        data = row["data"]
        if row["type"] == "task_completed" and isinstance(data, dict):
            role, unit = data.get("role"), data.get("unit")
        else:
            role, unit = accounts.get(row["actor"], (None, None))
        row.update(step=step, role=role, unit=unit)
    return rows


def history_export(session: Session, case: Case, reader: str, role: str, now: datetime) -> dict[str, Any]:
    """One case's whole history as an auditor downloads it (JSON; the CSV has one row per event),
    redacted as ``role`` requires, with whether its hash chain verifies."""
    hide = hides_reporter(case, role)
    broken = verify_chain(session, case)
    definition = session.get(Definition, case.definition_id)
    return {
        "tracking_id": case.tracking_id,
        "title": case.title,
        "category": case.category,
        "status": case.status,
        "anonymous": case.anonymous,
        "confidential": case.confidential,
        "reporter_redacted": hide,
        "definition": {"number": definition.number, "content_hash": definition.content_hash} if definition else None,
        "verified": broken is None,
        "broken": {"seq": broken.seq, "reason": broken.reason} if broken else None,
        "exported_at": now.isoformat(),
        "exported_by": reader,
        "events": auditor_history(session, case, hide),
    }


def staff_case(session: Session, case: Case) -> dict[str, Any]:
    """The case as any staff member may see it."""
    complaint = redact_complaint(complaint_of(session, case), case.anonymous)
    return {
        "tracking_id": case.tracking_id,
        "status": case.status,
        "title": case.title,
        "category": case.category,
        "body": complaint.get("body"),
        "location": complaint.get("location"),
        "incident_date": complaint.get("incident_date"),
        "anonymous": case.anonymous,
        "confidential": case.confidential,
        "reporter": complaint.get("reporter"),
        "submitted_at": case.submitted_at.isoformat(),
        "unit": case.unit_id,
        "unit_name": unit_name(session, case.unit_id),
        "late": case.late,
        "answer": {"text": case.answer_text, "at": case.answered_at.isoformat()} if case.answer_text and case.answered_at else None,
        "history": [{"at": h["at"].isoformat(), "type": h["type"], "actor": h["actor"], "data": h["data"]} for h in staff_history(session, case)],
    }


def citizen_case(session: Session, case: Case) -> dict[str, Any]:
    """The case as its reporter sees it (DESIGN.md: GET /complaints/{tracking_id})."""
    return {
        "tracking_id": case.tracking_id,
        "status": case.status,
        "title": case.title,
        "category": case.category,
        "submitted_at": case.submitted_at.isoformat(),
        "timeline": timeline(session, case),
        "answer": {"text": case.answer_text, "at": case.answered_at.isoformat()} if case.answer_text and case.answered_at else None,
    }
