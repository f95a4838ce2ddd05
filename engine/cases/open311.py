"""What Open311 GeoReport v2 (web/open311.py) publishes of the cases: the public ones, as service requests.

The public see a case unless it is confidential (engine/cases/access.py ``public_cases``) or was archived as
``bukan_pengaduan`` (not a complaint at all: the public case page answers it 404 too). A request carries the
complaint's text (the redacted text where Admin Kominfo wrote one), its place, its status and dates, the units
handling it and the published answer; never the reporter. Reads only; the web layer decides the format.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from engine.cases.access import public_cases
from engine.contract import FINISHED_STATUSES, OPEN_STATUSES
from engine.db.connection import in_chunks
from engine.db.tables import AuditEvent, Case, CaseUnit, Unit

# Open311's two statuses over the contract's eight
STATUS_GROUPS: dict[str, tuple[str, ...]] = {"open": OPEN_STATUSES, "closed": FINISHED_STATUSES}
MAX_RESULTS = 1000  # the specification's default bound


@dataclass(frozen=True)
class PublicRequest:
    """One public case as a service request: only what the public may read of it."""

    tracking_id: str
    status: str  # the contract's status
    open311_status: str  # "open" or "closed"
    category: str
    title: str
    description: str
    address: str | None
    latitude: float | None
    longitude: float | None
    submitted_at: datetime
    updated_at: datetime
    answer: str | None
    archive_reason: str | None
    units: tuple[str, ...]  # the names of the units handling it (or that answered), in the order they got it


def listed() -> ColumnElement[bool]:
    """The query condition of the cases Open311 shows: public, and not archived as not a complaint."""
    return and_(public_cases(), or_(Case.archive_reason.is_(None), Case.archive_reason != "bukan_pengaduan"))


def public_requests(
    session: Session,
    *,
    tracking_ids: Sequence[str] = (),
    categories: Sequence[str] = (),
    statuses: Sequence[str] = (),
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = MAX_RESULTS,
) -> list[PublicRequest]:
    """The public cases matching every filter given (``statuses``: ``open``/``closed``; ``start``/``end`` bound the
    submission instant, both included), newest first, at most ``limit``. ``tracking_ids`` given: those cases only
    (the others filters still apply; the caller drops them when the specification says the ids override them)."""
    query = select(Case).where(listed())
    if tracking_ids:
        query = query.where(Case.tracking_id.in_(list(tracking_ids)))
    if categories:
        query = query.where(Case.category.in_(list(categories)))
    if statuses:
        query = query.where(Case.status.in_([status for group in statuses for status in STATUS_GROUPS[group]]))
    if start is not None:
        query = query.where(Case.submitted_at >= start)
    if end is not None:
        query = query.where(Case.submitted_at <= end)
    cases = list(session.scalars(query.order_by(Case.submitted_at.desc(), Case.id.desc()).limit(limit)))
    return _as_requests(session, cases)


def public_request(session: Session, tracking_id: str) -> PublicRequest | None:
    """One public case as a request; None when it is unknown or not public."""
    case = session.scalar(select(Case).where(listed(), Case.tracking_id == tracking_id))
    return _as_requests(session, [case])[0] if case is not None else None


def _as_requests(session: Session, cases: list[Case]) -> list[PublicRequest]:
    ids = [case.id for case in cases]
    complaints = _complaints(session, ids)
    units = _unit_names(session, ids)
    return [
        PublicRequest(
            tracking_id=case.tracking_id,
            status=case.status,
            open311_status="closed" if case.status in FINISHED_STATUSES else "open",
            category=case.category,
            title=case.title,
            description=case.redacted_body or str(complaints.get(case.id, {}).get("body") or ""),
            address=complaints.get(case.id, {}).get("location") or None,
            latitude=case.latitude,
            longitude=case.longitude,
            submitted_at=case.submitted_at,
            updated_at=case.updated_at,
            answer=case.answer_text,
            archive_reason=case.archive_reason,
            units=tuple(units.get(case.id, ())),
        )
        for case in cases
    ]


def _complaints(session: Session, case_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Each case's complaint as submitted (its case_started event, as views.complaint_of reads it), in few queries."""
    found: dict[int, dict[str, Any]] = {}
    for chunk in in_chunks(case_ids):
        rows = session.execute(select(AuditEvent.case_id, AuditEvent.data).where(AuditEvent.case_id.in_(chunk), AuditEvent.seq == 1))
        for case_id, data in rows:
            complaint = json.loads(data).get("data")
            found[case_id] = complaint if isinstance(complaint, dict) else {}
    return found


def _unit_names(session: Session, case_ids: list[int]) -> dict[int, list[str]]:
    """The units each case went to and that still hold it or answered it (not those that declined it)."""
    names: dict[int, list[str]] = {}
    for chunk in in_chunks(case_ids):
        rows = session.execute(
            select(CaseUnit.case_id, Unit.name)
            .join(Unit, Unit.id == CaseUnit.unit_id)
            .where(CaseUnit.case_id.in_(chunk), CaseUnit.state != "bukan_wewenang")
            .order_by(CaseUnit.since, Unit.name)
        )
        for case_id, name in rows:
            names.setdefault(case_id, []).append(name)
    return names
