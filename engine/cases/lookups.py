"""The reads the pages show beside a case or a list, each a named query so that no route holds one: a case's open
tasks, the units, the open escalations, the public pages' counts and list, the development mailbox, the versions'
open tasks. Who may open the case or the page is decided before (engine/cases/access.py and the role policy);
these only read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from engine.cases.access import public_cases
from engine.cases.inbox import PAGE_SIZE
from engine.contract import CITIZEN
from engine.db.tables import Case, Definition, OpenTask, OutboxMail, Unit
from engine.reports.filters import Period

# ---- a case -----------------------------------------------------------------------------------


_OPEN_TASKS = select(OpenTask).where(OpenTask.case_id == bindparam("case_id")).order_by(OpenTask.created_at)


def open_tasks(session: Session, case_id: int) -> list[OpenTask]:
    """The case's open tasks, oldest first (its staff page, every command that syncs them, the replay's comparison)."""
    return list(session.scalars(_OPEN_TASKS, {"case_id": case_id}))


def citizen_task(session: Session, case_id: int, form: str = "balasan") -> OpenTask | None:
    """The task of ``form`` that waits for the reporter on the case, if any: their reply (step 7, ``balasan``) or the
    additions step 3 asked for (``kelengkapan``)."""
    return session.scalar(select(OpenTask).where(OpenTask.case_id == case_id, OpenTask.role == CITIZEN.role, OpenTask.form == form))


def definition_of(session: Session, case: Case) -> Definition | None:
    """The definition version the case runs on."""
    return session.get(Definition, case.definition_id)


def open_task_names(session: Session, case_ids: Sequence[int]) -> dict[int, list[str]]:
    """The names of each case's open tasks, oldest first (the cases a migration lists)."""
    names: dict[int, list[str]] = {}
    if case_ids:
        for row in session.scalars(select(OpenTask).where(OpenTask.case_id.in_(case_ids)).order_by(OpenTask.created_at)):
            names.setdefault(row.case_id, []).append(row.name)
    return names


# ---- Admin Pusat's lists ---------------------------------------------------------------------------


def units(session: Session) -> list[Unit]:
    """Every unit, active or not, by name (the filters of the case list and the SLA report)."""
    return list(session.scalars(select(Unit).order_by(Unit.name)))


def recent_mail(session: Session, limit: int = 50) -> list[OutboxMail]:
    """The newest mail of the outbox, sent or not (the development mailbox)."""
    return list(session.scalars(select(OutboxMail).order_by(OutboxMail.id.desc()).limit(limit)))


# ---- the public pages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicPage:
    cases: list[Case]
    total: int
    page: int
    pages: int


def public_counts(session: Session) -> dict[str, int]:
    """How many cases the public may see, by status (the home page)."""
    rows = session.execute(select(Case.status, func.count()).where(public_cases()).group_by(Case.status))
    return {status: count for status, count in rows}


def public_page(
    session: Session, category: str | None, status: str | None, page: int, per_page: int = PAGE_SIZE, month: Period | None = None
) -> PublicPage:
    """One page of the cases the public may see, newest first, filtered by category, status and the month they were
    submitted in (None: any); a page past the end shows the last one."""
    query = select(Case).where(public_cases())
    if month is not None:
        first, after = month.bounds()
        query = query.where(Case.submitted_at >= first, Case.submitted_at < after)
    if category:
        query = query.where(Case.category == category)
    if status:
        query = query.where(Case.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    cases = session.scalars(query.order_by(Case.submitted_at.desc(), Case.id.desc()).limit(per_page).offset((page - 1) * per_page))
    return PublicPage(list(cases), total, page, pages)
