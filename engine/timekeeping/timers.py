"""Reading a workflow's timer events: when each falls due, a user task's two deadlines, and what a timer's
expression says without running it (for reports, which read a definition but run no workflow)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.util.task import TaskState

from engine.contract import CEILING, DEADLINE_PROPERTY, TARGET


def is_timer(task: Any) -> bool:
    spec = task.task_spec
    return isinstance(spec, CatchingEvent) and isinstance(spec.event_definition, TimerEventDefinition)


def timer_due(task: Any) -> datetime | None:
    """The instant a timer task falls due (set once the timer is armed)."""
    value = task.internal_data.get("event_value")
    return TimerEventDefinition.get_datetime(value) if isinstance(value, str) else None


def boundary_timers(task: Any) -> Iterator[tuple[str, Any]]:
    """The boundary timers of a user task, each with its clock (TARGET or CEILING)."""
    parent = task.parent
    if parent is None or not isinstance(parent.task_spec, BoundaryEventSplit):
        return
    for sibling in parent.children:
        if sibling is not task and is_timer(sibling):
            yield sibling.task_spec.extensions.get("properties", {}).get(DEADLINE_PROPERTY, TARGET), sibling


def deadlines(task: Any, now: datetime) -> tuple[datetime | None, datetime | None, bool]:
    """(SOP target, national ceiling, overdue) of a user task, from its boundary timers."""
    due = ceiling = None
    fired = False
    for kind, timer in boundary_timers(task):
        at = timer_due(timer)
        if kind == CEILING:
            ceiling = at
        else:
            due = at
            fired = fired or timer.state != TaskState.WAITING
    return due, ceiling, fired or (due is not None and due <= now)


@dataclass(frozen=True)
class WorkingDays:
    """``batas_hari_kerja(count)``: due at the end of the count-th working day from the start."""

    count: int


def read_timer_expression(expression: str) -> WorkingDays | timedelta | None:
    """What a timer expression says, read as Python syntax and never run.

    ``batas_hari_kerja(<int>)`` -> WorkingDays; ``batas_menit(<number>)`` or a string constant holding an ISO-8601
    duration (``"P1D"``, ``"PT30M"``) -> its length. Anything else -> None: a date, a name, an f-string, a nested
    call, or a duration in months or years (its length depends on the month it starts in).
    """
    try:
        body = ast.parse(expression.strip(), mode="eval").body
    except (SyntaxError, ValueError):
        return None
    if isinstance(body, ast.Constant) and isinstance(body.value, str):
        return _iso_duration(body.value)
    if not (isinstance(body, ast.Call) and isinstance(body.func, ast.Name) and len(body.args) == 1 and not body.keywords):
        return None
    argument = body.args[0]
    if not isinstance(argument, ast.Constant) or isinstance(argument.value, bool) or not isinstance(argument.value, int | float):
        return None
    if body.func.id == "batas_hari_kerja" and isinstance(argument.value, int):
        return WorkingDays(argument.value)
    if body.func.id == "batas_menit":
        try:
            return timedelta(minutes=argument.value)
        except OverflowError:
            return None
    return None


def _iso_duration(text: str) -> timedelta | None:
    if not text.startswith("P"):
        return None  # an ISO date (or nothing a timer reads)
    try:
        parts = TimerEventDefinition.parse_iso_duration(text)
    except Exception:  # noqa: BLE001 - SpiffWorkflow raises a bare Exception for a malformed duration
        return None
    if not parts or "years" in parts or "months" in parts:
        return None
    try:
        return timedelta(**parts)
    except OverflowError:
        return None
