"""What the public is shown of one case: its page, /pengaduan/<tracking_id>, and which cases have one.

A case has a public page once its answer is published, unless it is confidential or was archived as not a complaint
(the cases Open311 lists, engine/cases/open311.py ``listed``). Any other case raises the same NotFound as an
unknown id, so the 404 tells nothing. The page reads what Open311 publishes of the case (the redacted text where
Admin Kominfo wrote one, the units handling it, never the reporter) with the answer's date and the steps the case
went through (when it reached each status, never who acted, what was asked of the reporter or what they replied)
and the documents published with the answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from engine.cases import views
from engine.cases.attachments import published_of
from engine.cases.open311 import listed, public_request
from engine.db.tables import Case
from engine.errors import NotFound
from engine.messages import N_


def has_page() -> ColumnElement[bool]:
    """The query condition of the cases with a public page."""
    return and_(listed(), Case.answered_at.is_not(None))


def with_page(session: Session, tracking_ids: Iterable[str]) -> set[str]:
    """Those of ``tracking_ids`` that have a public page (the list's links, a duplicate's link to the case it repeats)."""
    wanted = sorted(set(tracking_ids))
    if not wanted:
        return set()
    return set(session.scalars(select(Case.tracking_id).where(has_page(), Case.tracking_id.in_(wanted))))


def steps(session: Session, case: Case) -> list[dict[str, Any]]:
    """The citizen's timeline (engine/cases/views.py ``timeline``) without its words to the reporter: when the case
    reached each status, and whether a later ``diterima`` sent it back to Admin Kominfo for another look."""
    return [
        {"at": item["at"], "status": item["status"], "returned": index > 0 and item["status"] == "diterima"}
        for index, item in enumerate(views.timeline(session, case))
    ]


def public_case(session: Session, tracking_id: str) -> dict[str, Any]:
    """The case's public page. Raises NotFound when it has none."""
    case = session.scalar(select(Case).where(has_page(), Case.tracking_id == tracking_id))
    published = public_request(session, tracking_id) if case is not None else None
    if case is None or published is None or case.answered_at is None:
        raise NotFound(N_("Laporan tidak ditemukan."))
    return {
        "tracking_id": case.tracking_id,
        "title": published.title,
        "body": published.description,
        "category": published.category,
        "location": published.address,
        "latitude": published.latitude,
        "longitude": published.longitude,
        "status": published.status,
        "units": list(published.units),
        "submitted_at": published.submitted_at.isoformat(),
        "answer": {"text": published.answer, "at": case.answered_at.isoformat()},
        "archive_reason": published.archive_reason,
        "duplicate_of": case.duplicate_of,
        "timeline": steps(session, case),
        "documents": published_of(session, case.id),  # (attachment, the name shown), published with the answer
    }
