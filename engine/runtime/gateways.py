"""The gateway classes the engine runs in place of SpiffWorkflow's own, where its own get a case wrong."""

from __future__ import annotations

from uuid import UUID

from SpiffWorkflow.bpmn.specs.defaults import ParallelGateway
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState


class LoopSafeParallelGateway(ParallelGateway):
    """A parallel join that counts only the tokens of the current pass through a loop.

    SpiffWorkflow 3.2's join counts a branch as arrived when any join task of that branch has a completed parent. When
    one join task fires, its siblings from the other branches are cancelled, and they stay in the tree: on the next pass
    through a loop (the units' split and join, entered again after ``kembalikan`` or when every unit declined) such a
    cancelled sibling made the join fire before the branch of this pass had arrived. Here a cancelled join task is no
    token; otherwise the rule is SpiffWorkflow's own.

    The same goes for the data the join merges: SpiffWorkflow merges the data of every finished join task of this spec
    that is not an ancestor, so on a later pass the cancelled siblings of an earlier pass merged their stale data over
    this pass's (an answer a unit revised after ``kembalikan`` came back as it was before). Here only the join tasks of
    this pass are merged: those after the join this pass started from.

    Who descends from whom is read from sets of task ids made once per call, not by ``Task.is_descendant_of`` per join
    task: that walks up the tree each time, and a case that loops has many join tasks and a deep tree (a third of a
    looping case's step went there)."""

    def _check_threshold_unstructured(self, my_task: Task) -> bool:
        waiting_inputs = set(self.inputs)

        def remove_ancestor(task: Task) -> None:  # trace a task's parents up to one of the join's inputs
            if task.task_spec in waiting_inputs:
                waiting_inputs.remove(task.task_spec)
            elif task.parent is not None:
                remove_ancestor(task.parent)

        above, below = _ancestors(my_task), _descendants(my_task)
        for task in my_task.workflow.get_tasks(spec_name=self.name):
            if task.id in below:  # the first pass: this one is reached only after the join completes
                remove_ancestor(task)
            elif task.id in above or task.state == TaskState.CANCELLED:  # an earlier pass
                continue
            elif task.parent.state == TaskState.COMPLETED and task.parent.task_spec in waiting_inputs:
                waiting_inputs.remove(task.parent.task_spec)
        return len(waiting_inputs) == 0

    def _run_hook(self, my_task: Task) -> bool:
        previous = my_task.parent
        while previous is not None and previous.task_spec != self:  # the join the last pass went through, if any
            previous = previous.parent
        above, after_previous = _ancestors(my_task), _descendants(previous) if previous is not None else None
        arrived = [
            task
            for task in my_task.workflow.get_tasks(spec_name=self.name)
            if task is not my_task
            and task.has_state(TaskState.FINISHED_MASK)
            and task.id not in above
            and (after_previous is None or task.id in after_previous)
        ]
        for task in sorted(arrived, key=lambda t: t.last_state_change):
            DeepMerge.merge(my_task.data, task.parent.data)
            if task.has_state(TaskState.COMPLETED):
                task._drop_children(force=True)
        my_task._inherit_data()
        return True


def _ancestors(task: Task) -> set[UUID]:
    """The ids of the tasks ``task`` descends from (``task.is_descendant_of`` of each is true)."""
    found = set()
    parent = task.parent
    while parent is not None:
        found.add(parent.id)
        parent = parent.parent
    return found


def _descendants(task: Task) -> set[UUID]:
    """The ids of the tasks that descend from ``task`` (each one's ``is_descendant_of(task)`` is true)."""
    found: set[UUID] = set()
    pending = list(task.children)
    while pending:
        child = pending.pop()
        found.add(child.id)
        pending.extend(child.children)
    return found
