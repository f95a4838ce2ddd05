"""A case's attachments as recorded: one row per file the citizen attached, kept under a random name (the web checks,
strips and writes the files: web/attachments.py). Staff see and download each as ``lampiran-<n>.<ext>``, its place in
the case and its detected type, never under the citizen's own file name, which is not kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.db.tables import Attachment

EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


@dataclass(frozen=True)
class StoredFile:
    """A file written for a case: its random name in the attachments folder, detected type and size in bytes."""

    stored_name: str
    content_type: str
    size: int


def name(position: int, kind: str) -> str:
    """What staff see and download: ``lampiran-<position>.<extension of the detected type>``."""
    return f"lampiran-{position}.{EXTENSIONS.get(kind, 'bin')}"


def record(session: Session, case_id: int, files: Sequence[StoredFile], now: datetime) -> None:
    """Record files written for the case, numbered after the ones it has."""
    before = session.scalar(select(func.count()).select_from(Attachment).where(Attachment.case_id == case_id)) or 0
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
    """The case's attachments in upload order, each with its name (``name``: its place in the case, 1-based)."""
    items = session.scalars(select(Attachment).where(Attachment.case_id == case_id).order_by(Attachment.id))
    return [(item, name(position, item.content_type)) for position, item in enumerate(items, 1)]
