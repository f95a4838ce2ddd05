"""Workflows kept warm between the commands of a process, keyed by the exact state they were stored as.

Rebuilding a case's workflow from its stored state costs more than the step a command runs on it. A command that
saved a case leaves its workflow here with the state string it wrote; the next command on that case in this process
takes it back only when the case row it read holds that same string, on the same definition version. The key is the
content, not a version number: a transaction that rolled back, another process's write, a migration or an edit by
hand all leave a different string in the row, and the workflow is then rebuilt from the row as before. The version
guard on the case row (CaseService._lock_case) still decides every write.

A workflow is taken out while a command uses it, so two threads never share one, and a command that fails leaves
nothing behind. Only commands take and keep; pages that read a case rebuild their own copy.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from engine.runtime.scripting import make_script_engine

CAPACITY = 256  # cases per process: a few MB; the cases worked on now, not the archive


class WarmWorkflows:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._lock = threading.Lock()
        self._entries: OrderedDict[int, tuple[str, str, BpmnWorkflow]] = OrderedDict()

    def take(self, case_id: int, definition_hash: str, state: str) -> BpmnWorkflow | None:
        """The workflow stored as ``state`` on that definition version, removed from the cache; None when not kept."""
        with self._lock:
            entry = self._entries.pop(case_id, None)
        if entry is None or entry[0] != definition_hash or entry[1] != state:
            return None
        workflow = entry[2]
        workflow.script_engine = make_script_engine()  # as a rebuilt one gets: nothing of a former command's scripts
        return workflow

    def keep(self, case_id: int, definition_hash: str, state: str, workflow: BpmnWorkflow) -> None:
        """Keep ``workflow``, just stored as ``state``, for the case's next command; the least recently kept goes first."""
        with self._lock:
            self._entries.pop(case_id, None)
            self._entries[case_id] = (definition_hash, state, workflow)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)


WARM = WarmWorkflows()
