"""The append-only, hash-chained history of each case.

Each event's hash covers the previous event's hash and the event's own canonical JSON; the first
event of a case chains from the content hash of the definition version the case runs on.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .store import AuditEvent, Case, Definition


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(prev_hash: str, case_id: int, seq: int, at: datetime, type_: str, actor: str, task: str | None, data: str) -> str:
    body = canonical({"case": case_id, "seq": seq, "at": at.astimezone(UTC).isoformat(), "type": type_, "actor": actor, "task": task, "data": data})
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


class AuditLog:
    """Appends events within the caller's transaction; remembers each case's chain head."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._heads: dict[int, tuple[int, str]] = {}

    def _head(self, case: Case) -> tuple[int, str]:
        if case.id in self._heads:
            return self._heads[case.id]
        last = self.session.execute(
            select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq.desc()).limit(1)
        ).first()
        if last is not None:
            return last[0], last[1]
        definition_hash = self.session.get(Definition, case.definition_id).content_hash  # type: ignore[union-attr]
        return 0, definition_hash

    def append(self, case: Case, type_: str, actor: str, at: datetime, task: str | None = None, data: Any = None) -> AuditEvent:
        seq, prev = self._head(case)
        seq += 1
        data_json = canonical(data if data is not None else {})
        event = AuditEvent(
            case_id=case.id,
            seq=seq,
            at=at,
            type=type_,
            actor=actor,
            task=task,
            data=data_json,
            prev_hash=prev,
            hash=event_hash(prev, case.id, seq, at, type_, actor, task, data_json),
        )
        self.session.add(event)
        self._heads[case.id] = (seq, event.hash)
        return event


def first_broken(session: Session, case: Case) -> int | None:
    """Return the seq of the first event whose chain does not verify, or None if all do."""
    prev = session.get(Definition, case.definition_id).content_hash  # type: ignore[union-attr]
    expected_seq = 1
    for event in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq)):
        if (
            event.seq != expected_seq
            or event.prev_hash != prev
            or event.hash != event_hash(prev, case.id, event.seq, event.at, event.type, event.actor, event.task, event.data)
        ):
            return event.seq
        prev, expected_seq = event.hash, expected_seq + 1
    return None
