"""What each reader is shown of a case, once the loaders of engine/cases/access.py have said they may open it:
the staff's case view and history, the auditor's history and its export, the citizen's view and timeline.
Each takes a :class:`~engine.cases.access.SeenCase` (or, for the citizen, the case their token opened), so the
redaction rule is applied where the case was loaded, never again here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.audit.trail import step_numbers, verify_chain
from engine.cases import attachments, extensions
from engine.cases.access import SeenCase
from engine.cases.context import INTERIM, task_context
from engine.cases.migration import MIGRATED, REVERTED
from engine.contract import CITIZEN, SYSTEM
from engine.db.tables import Attachment, AuditEvent, Case, CaseUnit, Definition, OpenTask, Unit, User
from engine.messages import N_, Message
from engine.notifications.notify import ARCHIVE_REASON_TEXTS

STATUS_MESSAGES = {
    "diterima": N_("Laporan Anda telah diterima dan menunggu diteruskan oleh Admin Kominfo."),
    "menunggu_kelengkapan": N_("Admin Kominfo meminta Anda melengkapi laporan. Tambahkan keterangan yang diminta di halaman laporan Anda."),
    "didisposisikan": N_("Laporan Anda telah diteruskan kepada unit kerja yang berwenang."),
    "ditindaklanjuti": N_("Unit kerja sedang menindaklanjuti laporan Anda."),
    "dijawab": N_("Jawaban atas laporan Anda telah terbit."),
    "selesai": N_("Laporan Anda telah selesai."),
    "diarsipkan": N_("Laporan Anda diarsipkan dan tidak ditindaklanjuti lebih lanjut."),
    "dicabut": N_("Laporan Anda telah dicabut."),
}
# a loop back to Admin Kominfo, by the status it came from: what happened and what happens next, never the receipt again
RETURNED_MESSAGES = {
    "dijawab": N_("Anda belum puas dengan jawaban; Admin Kominfo meninjau kembali laporan Anda."),
    "didisposisikan": N_("Unit kerja menyatakan laporan di luar kewenangannya; Admin Kominfo meneruskannya ke unit lain."),
    "menunggu_kelengkapan": N_("Tambahan keterangan Anda telah diterima; Admin Kominfo memverifikasi kembali laporan Anda."),
}
NEW_ANSWER = N_("Jawaban baru atas laporan Anda telah terbit.")
INTERIM_ANSWER = N_("Unit kerja menyampaikan jawaban sementara; tindak lanjut masih berjalan dan jawaban akhir akan menyusul.")
# the SOP's steps as the citizen knows them, by the status that marks each (the tracking page's stepper)
CITIZEN_STEPS = ("diterima", "didisposisikan", "ditindaklanjuti", "dijawab", "selesai")
# what the citizen's view reads of a case's history: never a staff note, only the unit chosen and their own replies
_CITIZEN_EVENTS = ("status_changed", "answer_published", INTERIM, "task_completed", "additions_requested", "addition_received")
REDACTED = "(dirahasiakan)"
# the events a case page lists; mail and claim bookkeeping stay in the full audit history
STAFF_HISTORY_TYPES = (
    "case_started",
    "task_completed",
    "timer_fired",
    "status_changed",
    "case_withdrawn",
    "deadline_missed",
    "task_reassigned",
    "additions_requested",
    "addition_received",
    "case_archived",
    "case_protected",
    extensions.REQUESTED,
    extensions.DECIDED,
    INTERIM,
    MIGRATED,  # an analyst moved the case to another process version: its steps may be named differently since
    REVERTED,
)


def complaint_of(session: Session, case: Case) -> dict[str, Any]:
    """The complaint as submitted (from the case_started event)."""
    event = session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id, AuditEvent.seq == 1))
    return json.loads(event.data)["data"] if event is not None else {}


def redact_complaint(complaint: dict[str, Any], hide_reporter: bool) -> dict[str, Any]:
    """The complaint with ``reporter`` set to None when ``hide_reporter`` (see SeenCase.hides_reporter)."""
    if not hide_reporter:
        return complaint
    return {**complaint, "reporter": None}


def units_of(session: Session, case: Case) -> list[dict[str, Any]]:
    """Every unit the case went to, in the order it went, with where the unit stands (``aktif``, ``bukan_wewenang``,
    ``dialihkan``)."""
    rows = session.execute(
        select(CaseUnit.unit_id, CaseUnit.state, Unit.name)
        .join(Unit, Unit.id == CaseUnit.unit_id)
        .where(CaseUnit.case_id == case.id)
        .order_by(CaseUnit.since, Unit.name)
    )
    return [{"unit": row.unit_id, "name": row.name, "state": row.state} for row in rows]


def unit_name(session: Session, unit_id: str | None) -> str | None:
    unit = session.get(Unit, unit_id) if unit_id else None
    return unit.name if unit else None


def _citizen_events(session: Session, case: Case) -> list[tuple[AuditEvent, dict[str, Any]]]:
    """The case's events the citizen's view reads, in order, each with its data."""
    query = select(AuditEvent).where(AuditEvent.case_id == case.id, AuditEvent.type.in_(_CITIZEN_EVENTS)).order_by(AuditEvent.seq)
    return [(event, json.loads(event.data)) for event in session.scalars(query)]


def timeline(session: Session, case: Case) -> list[dict[str, Any]]:
    """The citizen's timeline: one line per status the case reached, in plain Indonesian. A loop back to Admin Kominfo
    says why and what comes next; each ``dijawab`` line carries the answer published with it (``answer``), so every
    answer stays; a forwarding names the unit chosen then (unless the case is confidential)."""
    items: list[dict[str, Any]] = [{"at": case.submitted_at.isoformat(), "status": "diterima", "message": STATUS_MESSAGES["diterima"]}]
    unit, answer, answers, question = None, None, 0, None
    for event, data in _citizen_events(session, case):
        if event.type == "task_completed" and data.get("form") == "disposisi":
            chosen = (data.get("data") or {}).get("units") or [(data.get("data") or {}).get("unit")]
            unit = chosen[0] if len(chosen) == 1 else ""  # several units: the line names none of them
        elif event.type == "answer_published":
            answer = data.get("text")
        elif event.type == INTERIM:  # published at once, while the case stays at its status
            text = (data.get("data") or {}).get("response")
            items.append({"at": event.at.isoformat(), "status": items[-1]["status"], "message": INTERIM_ANSWER, "answer": text, "interim": True})
        elif event.type == "additions_requested":
            question = data.get("question")
        elif event.type == "status_changed":
            status, item = data["to"], {"at": event.at.isoformat(), "status": data["to"]}
            item["message"] = STATUS_MESSAGES[status]
            if status == "diterima":
                item["message"] = RETURNED_MESSAGES.get(str(data.get("from")), RETURNED_MESSAGES["didisposisikan"])
            elif status == "didisposisikan" and not case.confidential and (name := unit_name(session, case.unit_id if unit is None else unit)):
                item["message"] = Message(N_("Laporan Anda telah diteruskan kepada %(unit)s."), unit=name)
            elif status == "dijawab":
                answers += 1
                item["message"] = STATUS_MESSAGES[status] if answers == 1 else NEW_ANSWER
                item["answer"], answer = answer, None
            elif status == "menunggu_kelengkapan":
                item["question"], question = question, None
            elif status == "diarsipkan" and case.archive_reason in ARCHIVE_REASON_TEXTS:
                item["reason"] = Message(ARCHIVE_REASON_TEXTS[case.archive_reason], duplicate_of=case.duplicate_of or "")
            items.append(item)
    return items


def documents(files: list[tuple[Attachment, str]], file_url: Callable[[Attachment], str] | None) -> list[dict[str, Any]]:
    """Answer documents as the citizen reads them: each one's name and ``url``, the link ``file_url`` gives it (the
    web's, for the reader's own way in: a page or the API; None without one)."""
    return [{"name": shown, "url": file_url(item) if file_url else None} for item, shown in files]


def conversation(
    session: Session, case: Case, complaint: dict[str, Any], file_url: Callable[[Attachment], str] | None = None
) -> list[dict[str, Any]]:
    """The exchange in order: the complaint as the citizen wrote it, what Admin Kominfo asked them to add and what they
    added, each published answer with its documents (links by ``file_url``), each reply of the citizen (``satisfied``,
    their ``rating`` and their text)."""
    items: list[dict[str, Any]] = [{"kind": "complaint", "at": case.submitted_at.isoformat(), "text": complaint.get("body")}]
    for event, data in _citizen_events(session, case):
        if event.type == "answer_published":
            sent = documents(attachments.of_answer(session, case.id, data.get("attachments") or []), file_url)
            items.append({"kind": "answer", "at": event.at.isoformat(), "text": data.get("text"), "attachments": sent})
        elif event.type == INTERIM:
            interim = data.get("data") or {}
            sent = documents(attachments.of_answer(session, case.id, interim.get("attachments") or []), file_url)
            items.append({"kind": "answer", "interim": True, "at": event.at.isoformat(), "text": interim.get("response"), "attachments": sent})
        elif event.type == "additions_requested":  # Admin Kominfo's question
            items.append({"kind": "question", "at": event.at.isoformat(), "text": data.get("question")})
        elif event.type == "addition_received" or (event.type == "task_completed" and data.get("form") == "kelengkapan"):
            text = data.get("text") if event.type == "addition_received" else (data.get("data") or {}).get("text")
            items.append({"kind": "addition", "at": event.at.isoformat(), "text": text})
        elif event.type == "task_completed" and event.actor == CITIZEN.username and data.get("form") == "balasan":
            reply = data.get("data") or {}
            items.append(
                {
                    "kind": "reply",
                    "at": event.at.isoformat(),
                    "satisfied": reply.get("satisfied"),
                    "rating": reply.get("rating"),  # 1..5, None when the citizen gave none
                    "text": reply.get("text") or None,
                }
            )
    return items


def waits_until(session: Session, case: Case) -> datetime | None:
    """The deadline of the step the case now waits on: the earliest due date of its open tasks, None when none has one."""
    return session.scalar(select(func.min(OpenTask.due_at)).where(OpenTask.case_id == case.id))


def extension_decisions(session: Session, case: Case) -> dict[str, list[dict[str, Any]]]:
    """Admin Kominfo's decisions on the units' requests for more time (``extension_decided``), oldest first, by the
    answer task they were asked for: at, decision (setuju, tolak, gugur), working_days, note, due_at, ceiling_at."""
    query = select(AuditEvent).where(AuditEvent.case_id == case.id, AuditEvent.type == extensions.DECIDED).order_by(AuditEvent.seq)
    decided: dict[str, list[dict[str, Any]]] = {}
    for event in session.scalars(query):
        decided.setdefault(event.task or "", []).append({"at": event.at.isoformat(), **json.loads(event.data)})
    return decided


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


def audit_history(session: Session, seen: SeenCase) -> list[dict[str, Any]]:
    """Every audit event of a case with its hashes, for auditors; the reporter's identity redacted as the viewer requires."""
    history = []
    for event in session.scalars(select(AuditEvent).where(AuditEvent.case_id == seen.case.id).order_by(AuditEvent.seq)):
        data = json.loads(event.data)
        if event.type == "case_started" and isinstance(data.get("data"), dict):
            data["data"] = redact_complaint(data["data"], seen.hides_reporter)
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


def auditor_history(session: Session, seen: SeenCase) -> list[dict[str, Any]]:
    """audit_history with, for each event, its step (the command it belongs to) and the actor's role and unit.

    The role and unit of a completed task are those recorded with it; other staff actors' are their
    account's now; ``sistem`` and ``pelapor`` are the system and the citizen.
    """
    rows = audit_history(session, seen)
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


def history_export(session: Session, seen: SeenCase, reader: str, now: datetime) -> dict[str, Any]:
    """One case's whole history as an auditor downloads it (JSON; the CSV has one row per event),
    redacted as the viewer requires, with whether its hash chain verifies."""
    case = seen.case
    broken = verify_chain(session, case)
    definition = session.get(Definition, case.definition_id)
    return {
        "tracking_id": case.tracking_id,
        "title": case.title,
        "category": case.category,
        "status": case.status,
        "anonymous": case.anonymous,
        "confidential": case.confidential,
        "reporter_redacted": seen.hides_reporter,
        "definition": {"number": definition.number, "content_hash": definition.content_hash} if definition else None,
        "verified": broken is None,
        "broken": {"seq": broken.seq, "reason": broken.reason} if broken else None,
        "exported_at": now.isoformat(),
        "exported_by": reader,
        "events": auditor_history(session, seen),
    }


def _complaint_and_answer(case: Case, complaint: dict[str, Any], body: str | None = None) -> dict[str, Any]:
    """What every reader of a case is shown alike: the complaint (``body``: the text this reader reads, the reporter's
    own by default) and the published answer; where it came from, and why it was archived."""
    return {
        "tracking_id": case.tracking_id,
        "status": case.status,
        "title": case.title,
        "category": case.category,
        "channel": case.channel,
        "body": complaint.get("body") if body is None else body,
        "location": complaint.get("location"),
        "latitude": case.latitude,
        "longitude": case.longitude,
        "incident_date": complaint.get("incident_date"),
        "submitted_at": case.submitted_at.isoformat(),
        "answer": {"text": case.answer_text, "at": case.answered_at.isoformat()} if case.answer_text and case.answered_at else None,
        "archive_reason": case.archive_reason,
        "duplicate_of": case.duplicate_of,
    }


def question_of(session: Session, case: Case) -> str | None:
    """What Admin Kominfo asked the reporter to add, while the case waits for it (status ``menunggu_kelengkapan``)."""
    if case.status != "menunggu_kelengkapan":
        return None
    query = select(AuditEvent.data).where(AuditEvent.case_id == case.id, AuditEvent.type == "additions_requested").order_by(AuditEvent.seq.desc())
    asked = session.scalar(query.limit(1))
    return json.loads(asked).get("question") if asked is not None else None


def staff_case(session: Session, seen: SeenCase) -> dict[str, Any]:
    """The case as a staff member may see it (its page, its task pages, GET /api/v1/tasks/{id})."""
    case = seen.case
    complaint = redact_complaint(complaint_of(session, case), seen.hides_reporter)
    redacted = case.redacted_body is not None and not seen.sight.original_text  # the units read staff's text only
    return {
        **_complaint_and_answer(case, complaint, case.redacted_body if redacted else None),
        # beside the reporter's own text, for those who read both: the text the units read instead
        "redacted_body": case.redacted_body if seen.sight.original_text else None,
        "body_redacted": redacted,
        "classification": case.classification,
        "anonymous": case.anonymous,
        "confidential": case.confidential,
        "reporter": complaint.get("reporter"),
        "reporter_hidden": seen.hides_reporter,
        "unit": case.unit_id,
        "unit_name": unit_name(session, case.unit_id),
        "units": units_of(session, case),
        "late": case.late,
        "history": [{"at": h["at"].isoformat(), "type": h["type"], "actor": h["actor"], "data": h["data"]} for h in staff_history(session, case)],
        "context": task_context(session, case),
    }


def citizen_case(session: Session, case: Case, file_url: Callable[[Attachment], str] | None = None) -> dict[str, Any]:
    """The case as its reporter sees it (the tracking page and the API's GET /complaints/{tracking_id};
    docs/architecture.md): their complaint, the timeline, the whole conversation, and the deadline it waits on. The
    answer lists every document published with an answer, linked by ``file_url``."""
    complaint = complaint_of(session, case)
    due = waits_until(session, case)
    shown = _complaint_and_answer(case, complaint)
    if shown["answer"] is not None:
        shown["answer"]["attachments"] = documents(attachments.published_of(session, case.id), file_url)
    return {
        **shown,
        "question": question_of(session, case),
        "due_at": due.isoformat() if due else None,
        "timeline": timeline(session, case),
        "conversation": conversation(session, case, complaint, file_url),
    }
