"""The one-time keys of submitted complaints (table ``submission_key``): which case a key made, and the fingerprint of
the request it came with. Only hashes are stored; web/submissions.py derives them and decides what a key sent again
gets back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from engine.db.tables import Case, SubmissionKey


def stored(session: Session, key_hash: str) -> tuple[str, Case | None] | None:
    """(the fingerprint of the request, the case it made) stored under the key; None when the key is new."""
    row = session.get(SubmissionKey, key_hash)
    if row is None:
        return None
    return row.fingerprint, session.get(Case, row.case_id)


def remember(session: Session, key_hash: str, fingerprint: str, case: Case, now: datetime) -> None:
    """Store the key with the case it made. Flushes: raises IntegrityError when another request stored the key
    meanwhile (the key hash is the primary key, so this one waited for the other's commit)."""
    session.add(SubmissionKey(key_hash=key_hash, fingerprint=fingerprint, case_id=case.id, created_at=now))
    session.flush()
