"""Internal notes: a staff-only thread on a case (who, when, what; newest last).

The office and its auditors who may open the case read its notes (engine/cases/access.py ``case_for_staff``, roles
``NOTE_READERS``: not analysts, since free text may name the reporter); only the office handling cases (``HANDLERS``)
writes them. The citizen, the public and a unit that no longer holds the case never see
them. The audit records that a note was added (``note_added``) with a SHA-256 hash of its text and the units it
mentions, never the text itself: the chain proves a note existed, ``case_note`` holds what it said.

Mentioning a unit by its id (``@dinas-pendidikan``, any active unit) tells that unit's staff: an inbox notification
and a mail (topic ``catatan_internal``) that says only that a note on the case mentions them, with the link; never
the note's text or who reported the case.

The CaseService verb ``add_note`` (engine/cases/service.py) loads and locks the case and calls :func:`add_note`; the
replay (engine/audit/replay.py) calls :func:`append_event` with the recorded data, which it cannot re-derive.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.audit.trail import AuditLog
from engine.contract import SYSTEM, Actor
from engine.db.tables import Case, CaseNote, Unit
from engine.definitions.forms import UNSAFE_TEXT
from engine.errors import InvalidData
from engine.messages import N_
from engine.notifications.notify import Notifier

NOTE_ADDED = "note_added"
TOPIC = "catatan_internal"  # the staff notification of a mention (engine/notifications/notify.py TEMPLATES)
MAX_LENGTH = 5000
# a unit id as engine/accounts/administration.py SLUG allows it, after "@" and not inside a word or an address
MENTION = re.compile(r"(?<![\w@.-])@([a-z0-9]+(?:-[a-z0-9]+)*)(?![\w-])")


@dataclass(frozen=True)
class NoteItem:
    """One note as staff read it."""

    id: int
    at: datetime
    author: str
    author_role: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        """The API's shape: ``{id, at, author, text}``."""
        return {"id": self.id, "at": self.at.isoformat(), "author": self.author, "text": self.text}


def checked_text(text: Any) -> str:
    """The note's text, stripped. Raises InvalidData (``text``) unless it is a string of 1 to MAX_LENGTH characters
    without control characters."""
    if not isinstance(text, str) or not 1 <= len(text.strip()) <= MAX_LENGTH:
        raise InvalidData({"text": N_("Tuliskan catatan 1 sampai 5000 karakter.")})
    if UNSAFE_TEXT.search(text):
        raise InvalidData({"text": N_("Catatan tidak boleh berisi karakter kontrol.")})
    return text.strip()


def text_hash(text: str) -> str:
    """The SHA-256 of the note's text (UTF-8), as the audit records it."""
    return hashlib.sha256(text.encode()).hexdigest()


def mentions_in(session: Session, text: str) -> list[str]:
    """The active units ``text`` mentions (``@unit-id``), each once, sorted: a mention of anything else is plain text."""
    named = {match.lower() for match in MENTION.findall(text.lower())}
    if not named:
        return []
    return sorted(session.scalars(select(Unit.id).where(Unit.id.in_(named), Unit.active.is_(True))))


def append_event(session: Session, audit: AuditLog, notifier: Notifier, case: Case, actor: str, now: datetime, data: dict[str, Any]) -> None:
    """Append ``note_added`` with ``data`` ({"sha256", "mentions"}) and tell each mentioned unit's staff, each telling
    recorded (``notification_queued``) as every staff notification is. The replay calls this with the recorded data."""
    audit.append(case, NOTE_ADDED, actor, now, data=data)
    for unit_id in data.get("mentions") or []:
        unit = session.get(Unit, unit_id)
        sent = notifier.to_staff(case, unit_id, TOPIC, now, unit=unit.name if unit is not None else unit_id)
        audit.append(
            case, "notification_queued", SYSTEM.username, now, data={"to": unit_id, "topic": TOPIC, "users": sent.users, "mails": sent.mails}
        )


def add_note(session: Session, audit: AuditLog, notifier: Notifier, case: Case, actor: Actor, text: Any, now: datetime) -> CaseNote:
    """Record a note by ``actor`` on ``case`` at ``now``: the row, its audit event and the mentioned units' notifications.
    The caller has checked that ``actor`` may write on the case and holds the case row's lock (the audit seq). Raises
    InvalidData (``text``)."""
    clean = checked_text(text)
    note = CaseNote(case_id=case.id, at=now, author=actor.username, author_role=actor.role, text=clean)
    session.add(note)
    append_event(session, audit, notifier, case, actor.username, now, {"sha256": text_hash(clean), "mentions": mentions_in(session, clean)})
    session.flush()
    return note


def notes_of(session: Session, case: Case) -> list[NoteItem]:
    """The case's notes, oldest first (a thread reads down to the newest). The caller has checked the reader may open the case."""
    rows = session.scalars(select(CaseNote).where(CaseNote.case_id == case.id).order_by(CaseNote.at, CaseNote.id))
    return [NoteItem(row.id, row.at, row.author, row.author_role, row.text) for row in rows]
