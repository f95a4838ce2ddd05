"""Reading a workflow's timer events: when each falls due, and a user task's two deadlines."""

from __future__ import annotations

from datetime import datetime
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


def deadlines(task: Any, now: datetime) -> tuple[datetime | None, datetime | None, bool]:
    """(SOP target, national ceiling, overdue) of a user task, from its boundary timers."""
    due = ceiling = None
    fired = False
    parent = task.parent
    if parent is not None and isinstance(parent.task_spec, BoundaryEventSplit):
        for sibling in parent.children:
            if sibling is task or not is_timer(sibling):
                continue
            kind = sibling.task_spec.extensions.get("properties", {}).get(DEADLINE_PROPERTY, TARGET)
            at = timer_due(sibling)
            if kind == CEILING:
                ceiling = at
            else:
                due = at
                fired = fired or sibling.state != TaskState.WAITING
    return due, ceiling, fired or (due is not None and due <= now)
