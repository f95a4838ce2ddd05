"""Where a case stands on its diagram: the path taken, the open tasks, the timers waiting and fired.

Read from the workflow's own task tree, so the picture is what the engine ran, not a second guess.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.definitions.parsing import Parsed
from engine.diagram.render import Overlay
from engine.timekeeping.timers import deadlines, is_timer

OPEN = TaskState.READY | TaskState.STARTED


def _flow_node(task: Any) -> str | None:
    """The BPMN id of the element a task runs (None for the engine's own bookkeeping tasks)."""
    return getattr(task.task_spec, "bpmn_id", None)


def _previous_node(task: Any) -> str | None:
    parent = task.parent
    while parent is not None and _flow_node(parent) is None:
        parent = parent.parent
    return _flow_node(parent) if parent is not None else None


def overlay_of(parsed: Parsed, workflow: BpmnWorkflow, now: datetime) -> Overlay:
    overlay = Overlay()
    for task in workflow.get_tasks():
        node = _flow_node(task)
        if node is None or not task.state & (TaskState.COMPLETED | OPEN | TaskState.WAITING):
            continue
        if is_timer(task):
            # a timer that fired completed; one still armed waits (a cancelled one is left out)
            (overlay.timers_fired if task.state == TaskState.COMPLETED else overlay.timers_waiting).add(node)
            if task.state != TaskState.COMPLETED:
                continue
        elif task.state & OPEN:
            overlay.active.add(node)
            if deadlines(task, now)[2]:
                overlay.overdue.add(node)
        elif task.state == TaskState.COMPLETED:
            overlay.completed.add(node)
        else:
            continue
        previous = _previous_node(task)
        flow = parsed.flows.get((previous, node)) if previous is not None else None
        if flow is not None:
            overlay.flows_taken.add(flow)
    return overlay
