"""Queries over the open-task index: whose task is it, and what does each inbox hold.

Nothing here deserializes a workflow: the inbox is one indexed query however many cases exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from .cases import Actor
from .errors import NotFound
from .store import Case, OpenTask

PAGE_SIZE = 20


def is_holder(row: OpenTask, actor: Actor) -> bool:
    """True when ``actor`` is among the people who act on this task (its lane's role, its unit)."""
    return row.role == actor.role and (row.unit_id is None or row.unit_id == actor.unit_id)


def _mine(actor: Actor) -> Select:
    query = select(OpenTask, Case).join(Case, Case.id == OpenTask.case_id).where(OpenTask.role == actor.role)
    if actor.unit_id is not None:
        query = query.where(OpenTask.unit_id == actor.unit_id)
    return query


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
    query = _mine(actor)
    if status:
        query = query.where(Case.status == status)
    if category:
        query = query.where(Case.category == category)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    ordered = query.order_by(OpenTask.due_at.is_(None), OpenTask.due_at, OpenTask.created_at, OpenTask.id)
    rows = [(t, c) for t, c in session.execute(ordered.limit(per_page).offset((page - 1) * per_page))]
    return InboxPage(rows, total, page, pages)


def counts(session: Session, actor: Actor) -> tuple[int, int]:
    """(open tasks, of which overdue) for the navigation bar."""
    query = _mine(actor).subquery()
    total = session.scalar(select(func.count()).select_from(query)) or 0
    overdue = session.scalar(select(func.count()).select_from(query).where(query.c.overdue.is_(True))) or 0
    return total, overdue


def own_task(session: Session, task_id: str, actor: Actor) -> tuple[OpenTask, Case]:
    """The actor's open task with its case. Raises NotFound for a task that is not theirs."""
    row = session.get(OpenTask, task_id)
    if row is None or not is_holder(row, actor):
        raise NotFound("Tugas tidak ditemukan.")
    return row, session.get(Case, row.case_id)  # type: ignore[return-value]
