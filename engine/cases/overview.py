"""Where the roles that hold no task of the model start: Admin Pusat's overview (the open escalations of the cases
still under way and the staff tasks past their time, each with its case) and the cases of one process version, which
the version page lists for analysts, auditors and Admin Pusat. Reads only; who may open the page is decided before
(the role policy), and a version's cases go through the one loader (engine/cases/access.py, ``seen_cases``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, defer

from engine.cases.access import SeenCase, seen_cases
from engine.contract import CITIZEN, OPEN_STATUSES, Actor
from engine.db.tables import Case, Escalation, OpenTask

OVERVIEW_LIMIT = 20  # each of the overview's lists: the newest, enough to act on; the case search has the rest
VERSION_PAGE_SIZE = 25


def open_escalations(session: Session, limit: int = OVERVIEW_LIMIT) -> list[tuple[Escalation, str]]:
    """The newest missed deadlines of cases still under way, each with its case's tracking id (a closed case's
    escalations need no one any more)."""
    query = (
        select(Escalation, Case.tracking_id)
        .join(Case, Case.id == Escalation.case_id)
        .where(Escalation.resolved_at.is_(None), Case.status.in_(OPEN_STATUSES))
        .order_by(Escalation.at.desc(), Escalation.id.desc())
        .limit(limit)
    )
    return [(escalation, tracking_id) for escalation, tracking_id in session.execute(query)]


def overdue_tasks(session: Session, now: datetime, limit: int = OVERVIEW_LIMIT) -> list[tuple[OpenTask, str]]:
    """The staff tasks open past their SOP time (flagged by a fired deadline, or due by ``now``), the longest overdue
    first, each with its case's tracking id. The reporter's reply window is not staff work: left out."""
    query = (
        select(OpenTask, Case.tracking_id)
        .join(Case, Case.id == OpenTask.case_id)
        .where(OpenTask.role != CITIZEN.role, or_(OpenTask.overdue.is_(True), OpenTask.due_at <= now))
        .order_by(OpenTask.due_at, OpenTask.id)
        .limit(limit)
    )
    return [(row, tracking_id) for row, tracking_id in session.execute(query)]


@dataclass(frozen=True)
class VersionCases:
    """One page of a version's cases, as the viewer may see them."""

    cases: list[SeenCase]
    page: int
    has_next: bool


def version_cases(session: Session, definition_id: int, viewer: Actor, page: int = 1, per_page: int = VERSION_PAGE_SIZE) -> VersionCases:
    """The cases running or finished on a version, newest first, as ``viewer`` may see them."""
    page = max(1, page)
    query = (
        select(Case)
        .options(defer(Case.state), defer(Case.access_token_hash))
        .where(Case.definition_id == definition_id)
        .order_by(Case.submitted_at.desc(), Case.id.desc())
        .limit(per_page + 1)
        .offset((page - 1) * per_page)
    )
    found = list(session.scalars(query))
    return VersionCases(seen_cases(session, found[:per_page], viewer), page, len(found) > per_page)
