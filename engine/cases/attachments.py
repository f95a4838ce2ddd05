"""A case's files as recorded: one row per file, kept under a random name (the web checks, strips and writes the
files: web/attachments.py). Nobody downloads a file under the name it was uploaded with, which is not kept.

- The citizen's files (``unit_id`` null): staff and the citizen see each as ``lampiran-<n>.<ext>``, its place among
  the citizen's files of the case and its detected type.
- Documents with the answer: the unit holding an answer task (form ``tanggapan``) uploads up to MAX_PER_ANSWER files
  for it (CaseService.add_answer_file, audited as ``answer_file_added``: its name, type and size, never its content), then
  lists the ones to send in the form's ``attachments`` (:func:`check_answer_files`). They are shown as
  ``jawaban-<n>.<ext>``, numbered across the case's answer files. Staff who may open the case see every one; the
  citizen, and for a case with a public page the public, see those published with an answer (:func:`publish`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from engine.audit.trail import AuditLog
from engine.db.tables import Attachment, Case, OpenTask
from engine.errors import InvalidData
from engine.messages import N_, Message

EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
CITIZEN_FILE, ANSWER_FILE = "lampiran", "jawaban"  # what each kind of file is called
MAX_PER_ANSWER = 3
ANSWER_FILE_ADDED = "answer_file_added"
ANSWER_TASK_ONLY = N_("Dokumen hanya dapat diunggah untuk tugas memberi tanggapan.")  # the Conflict for a task of another form
ANSWER_FILES_SOURCE = "answer_files"  # the form field listing them (``attachments``): its choices are the task's documents


@dataclass(frozen=True)
class StoredFile:
    """A file written for a case: its random name in the attachments folder, detected type and size in bytes."""

    stored_name: str
    content_type: str
    size: int


def name(position: int, kind: str, prefix: str = CITIZEN_FILE) -> str:
    """What people see and download: ``<prefix>-<position>.<extension of the detected type>``."""
    return f"{prefix}-{position}.{EXTENSIONS.get(kind, 'bin')}"


def _citizens() -> ColumnElement[bool]:
    return Attachment.unit_id.is_(None)


def _numbered(session: Session, case_id: int, kind: ColumnElement[bool], prefix: str) -> list[tuple[Attachment, str]]:
    """The case's files of one kind in upload order, each with its name (its place among them, 1-based)."""
    items = session.scalars(select(Attachment).where(Attachment.case_id == case_id, kind).order_by(Attachment.id))
    return [(item, name(position, item.content_type, prefix)) for position, item in enumerate(items, 1)]


# ---- the citizen's files ----------------------------------------------------------------------------


def record(session: Session, case_id: int, files: Sequence[StoredFile], now: datetime) -> None:
    """Record files the citizen attached, numbered after the ones they attached before."""
    before = session.scalar(select(func.count()).select_from(Attachment).where(Attachment.case_id == case_id, _citizens())) or 0
    for position, file in enumerate(files, before + 1):
        session.add(
            Attachment(
                case_id=case_id,
                stored_name=file.stored_name,
                filename=name(position, file.content_type),
                content_type=file.content_type,
                size=file.size,
                created_at=now,
            )
        )


def of_case(session: Session, case_id: int) -> list[tuple[Attachment, str]]:
    """The citizen's files of the case in upload order, each with its name (``lampiran-<n>``); no answer document."""
    return _numbered(session, case_id, _citizens(), CITIZEN_FILE)


# ---- documents with the answer --------------------------------------------------------------------------


def answer_files(session: Session, case_id: int) -> list[tuple[Attachment, str]]:
    """Every answer document of the case, published or not, in upload order with its name (``jawaban-<n>``)."""
    return _numbered(session, case_id, Attachment.unit_id.is_not(None), ANSWER_FILE)


def of_task(session: Session, case_id: int, task_id: str) -> list[tuple[Attachment, str]]:
    """The documents uploaded for the answer task ``task_id``, in upload order."""
    return [(item, shown) for item, shown in answer_files(session, case_id) if item.task_id == task_id]


def of_answer(session: Session, case_id: int, ids: Sequence[Any]) -> list[tuple[Attachment, str]]:
    """The case's answer documents among ``ids`` (a form's or a published answer's ``attachments``), in upload order."""
    wanted = set(ids)
    return [(item, shown) for item, shown in answer_files(session, case_id) if item.id in wanted]


def published_of(session: Session, case_id: int) -> list[tuple[Attachment, str]]:
    """The answer documents published to the citizen (and on the public page), in upload order."""
    return [(item, shown) for item, shown in answer_files(session, case_id) if item.published_at is not None]


def for_staff(session: Session, case_id: int) -> list[tuple[Attachment, str]]:
    """What staff who may open the case download: the citizen's files and every answer document."""
    return of_case(session, case_id) + answer_files(session, case_id)


def for_citizen(session: Session, case_id: int) -> list[tuple[Attachment, str]]:
    """What the citizen downloads: their own files and the documents published with an answer."""
    return of_case(session, case_id) + published_of(session, case_id)


def record_for_answer(
    session: Session, case_id: int, task_id: str, unit_id: str | None, file: StoredFile, now: datetime, attachment_id: int | None = None
) -> tuple[Attachment, str]:
    """Record a document ``unit_id`` uploaded for its answer task ``task_id`` (``attachment_id``: the id it was
    recorded under, for the replay); returns its row and name. Raises InvalidData (``file``) for one more than
    MAX_PER_ANSWER for the task."""
    files = answer_files(session, case_id)
    if sum(1 for item, _shown in files if item.task_id == task_id) >= MAX_PER_ANSWER:
        raise InvalidData({"file": Message(N_("Paling banyak %(count)s dokumen untuk satu jawaban."), count=MAX_PER_ANSWER)})
    shown = name(len(files) + 1, file.content_type, ANSWER_FILE)
    item = Attachment(
        id=attachment_id,
        case_id=case_id,
        stored_name=file.stored_name,
        filename=shown,
        content_type=file.content_type,
        size=file.size,
        created_at=now,
        unit_id=unit_id,
        task_id=task_id,
    )
    session.add(item)
    session.flush()  # its id: the form lists the documents by it
    return item, shown


def check_answer_files(session: Session, case_id: int, task_id: str, ids: Sequence[Any]) -> None:
    """Raises InvalidData (``attachments``) unless every one of ``ids`` is a document uploaded for the answer task
    ``task_id`` of the case."""
    uploaded = {item.id for item, _shown in of_task(session, case_id, task_id)}
    if any(isinstance(value, bool) or value not in uploaded for value in ids):
        raise InvalidData({"attachments": N_("Pilih hanya dokumen yang diunggah untuk tugas ini.")})


def publish(session: Session, case_id: int, ids: Sequence[Any], now: datetime) -> None:
    """Mark the case's answer documents among ``ids`` published at ``now`` (one already published keeps its date)."""
    for item, _shown in of_answer(session, case_id, ids):
        if item.published_at is None:
            item.published_at = now


def added(
    session: Session, audit: AuditLog, case: Case, row: OpenTask, actor: str, file: StoredFile, now: datetime, attachment_id: int | None = None
) -> tuple[Attachment, str]:
    """Record ``file`` (written already) for the open answer task ``row`` and the audit event ``answer_file_added``
    (the task's BPMN id and unit, the document's id, name, type and size; never its content). Returns the row and its
    name. The caller holds the case's write lock (CaseService.add_answer_file)."""
    item, shown = record_for_answer(session, case.id, row.id, row.unit_id, file, now, attachment_id)
    data = {"task": row.spec_name, "unit": row.unit_id, "id": item.id, "name": shown, "content_type": file.content_type, "size": file.size}
    audit.append(case, ANSWER_FILE_ADDED, actor, now, task=row.id, data=data)
    return item, shown


def recorded_again(session: Session, audit: AuditLog, case: Case, row: OpenTask, actor: str, now: datetime, data: dict[str, Any]) -> None:
    """The replay of ``answer_file_added`` on the replay's open task ``row``: the row again, under its recorded id (the
    completed form names the documents by it) and without its file, which the record does not hold; then its event."""
    file = StoredFile(f"replay-{data.get('id')}", str(data.get("content_type")), int(data.get("size") or 0))
    added(session, audit, case, row, actor, file, now, data.get("id"))
    session.flush()
