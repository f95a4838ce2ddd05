"""Queries over the open-task index: what each inbox holds (by the holder rule of engine/cases/access.py), and
Admin Pusat's search over all cases.

Nothing here deserializes a workflow: the inbox is one indexed query however many cases exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import Select, bindparam, case, func, select
from sqlalchemy.orm import Session, defer

from engine.cases import ids
from engine.cases.access import held_by
from engine.contract import Actor
from engine.db.tables import Case, OpenTask

PAGE_SIZE = 20


@dataclass(frozen=True)
class InboxPage:
    rows: list[tuple[OpenTask, Case]]
    total: int
    page: int
    pages: int


def inbox(
    session: Session, actor: Actor, status: str | None = None, category: str | None = None, page: int = 1, per_page: int = PAGE_SIZE
) -> InboxPage:
    """The actor's open tasks, soonest deadline first (tasks without one last)."""
    where = [held_by(actor)]
    if status:
        where.append(Case.status == status)
    if category:
        where.append(Case.category == category)
    held = select(OpenTask.due_at).join(Case, Case.id == OpenTask.case_id) if status or category else select(OpenTask.due_at)
    # all of them and those with a deadline in one pass over the open-task index: never the case rows with their state
    counted = held.where(*where).subquery()
    total, dated = session.execute(select(func.count(), func.count(counted.c.due_at))).one()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    query = (
        select(OpenTask, Case)
        .join(Case, Case.id == OpenTask.case_id)
        .where(*where)
        .options(defer(Case.state), defer(Case.access_token_hash))  # a page lists cases; it never runs them
    )
    # Tasks with a deadline in deadline order, then those without: two index walks that stop at the page's
    # end, instead of sorting every open task of the unit by "due_at IS NULL" (which no index serves).
    offset = (page - 1) * per_page
    rows: list[tuple[OpenTask, Case]] = []
    if offset < dated:
        ordered = query.where(OpenTask.due_at.is_not(None)).order_by(OpenTask.due_at, OpenTask.created_at, OpenTask.id)
        rows += [(t, c) for t, c in session.execute(ordered.limit(per_page).offset(offset))]
    if len(rows) < per_page:
        undated = query.where(OpenTask.due_at.is_(None)).order_by(OpenTask.created_at, OpenTask.id)
        rows += [(t, c) for t, c in session.execute(undated.limit(per_page - len(rows)).offset(max(0, offset - dated)))]
    return InboxPage(rows, total, page, pages)


@cache
def _case_tasks_query(role: str, unit_id: str | None) -> Select[OpenTask, Case]:
    """``case_tasks``'s statement, made once per kind of holder: building it costs more than running it."""
    return (
        select(OpenTask, Case)
        .join(Case, Case.id == OpenTask.case_id)
        .where(held_by(Actor("", role, unit_id)), Case.tracking_id == bindparam("tracking_id"))  # the rule reads no username
        .options(defer(Case.state), defer(Case.access_token_hash))  # a list of tasks never runs the case
        .order_by(OpenTask.due_at.is_(None), OpenTask.due_at, OpenTask.created_at, OpenTask.id)
    )


def case_tasks(session: Session, actor: Actor, tracking_id: str) -> list[tuple[OpenTask, Case]]:
    """The open tasks ``actor`` holds on the case ``tracking_id`` (as stored), with the case, in the inbox's order (by
    the inbox's holder rule: never another unit's, Admin Kominfo's, or staff tasks to the citizen); none for an
    unknown case."""
    return [(row, case) for row, case in session.execute(_case_tasks_query(actor.role, actor.unit_id), {"tracking_id": tracking_id})]


def counts(session: Session, actor: Actor) -> tuple[int, int]:
    """(open tasks, of which overdue) for the navigation bar: one pass over the open-task index."""
    overdue = func.sum(case((OpenTask.overdue.is_(True), 1), else_=0))
    total, late = session.execute(select(func.count(), overdue).where(held_by(actor))).one()
    return total or 0, late or 0


@dataclass(frozen=True)
class CaseSearch:
    """Admin Pusat's and the auditors' filters over all cases; every field optional."""

    text: str = ""  # a tracking id (found exactly, however typed) or words of the title
    status: str | None = None
    category: str | None = None
    unit: str | None = None
    late: bool = False
    overdue: bool = False


def search_cases(session: Session, search: CaseSearch, page: int = 1, per_page: int = PAGE_SIZE) -> tuple[list[Case], bool]:
    """One page of matching cases, newest first, and whether there is a next page."""
    query = select(Case).options(defer(Case.state), defer(Case.access_token_hash))
    text = search.text.strip()
    if text and ids.looks_like_tracking_id(text):
        query = query.where(Case.tracking_id == ids.normalize_tracking_id(text))  # the unique index, not a scan
    elif text:
        # autoescape: "%" and "_" are searched for as typed, never wildcards that match every title
        query = query.where(Case.title.contains(text, autoescape=True) | Case.tracking_id.contains(text.upper(), autoescape=True))
    for column in ("status", "category"):
        if getattr(search, column):
            query = query.where(getattr(Case, column) == getattr(search, column))
    if search.unit:
        query = query.where(Case.unit_id == search.unit)
    if search.late:
        query = query.where(Case.late.is_(True))
    if search.overdue:
        query = query.where(Case.id.in_(select(OpenTask.case_id).where(OpenTask.overdue.is_(True))))
    page = max(1, page)
    rows = list(session.scalars(query.order_by(Case.submitted_at.desc()).limit(per_page + 1).offset((page - 1) * per_page)))
    return rows[:per_page], len(rows) > per_page
