"""Workflow state without its spec, compressed.

A case row stores only the task tree and data; the spec is parsed once per definition version and handed back in
on load. The JSON is stored zlib-compressed, in base64 behind the marker COMPRESSED (a tree of completed tasks
repeats the same keys and ids: 17 KB of JSON become about 4 KB); a state stored before the marker existed is plain
JSON and loads as it is. SpiffWorkflow's serializer flips a shared flag while encoding, so each thread gets its own
(``state_serializer()``).
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import zlib
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.task_spec import ParallelGatewayConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from engine.runtime.gateways import LoopSafeParallelGateway
from engine.runtime.scripting import make_script_engine

CONFIG = {**SPIFF_CONFIG, LoopSafeParallelGateway: ParallelGatewayConverter}  # the engine's own gateway serializes as SpiffWorkflow's

FORMAT_VERSION = BpmnWorkflowSerializer.VERSION_KEY
COMPRESSED = "z1:"  # a stored state's marker: zlib-compressed JSON in base64 follows
# SpiffWorkflow's migrations from these formats eval() timer expressions found in the stored state itself, outside
# the sandbox. This service has always run SpiffWorkflow 3.2.0 (format 1.5) and never wrote them: a state that claims one is refused.
UNSAFE_FORMATS = ("1.0", "1.1")


class _SpeclessWorkflowConverter(BpmnWorkflowConverter):
    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def restore_with_spec(self, dct: dict[str, Any], spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class StateSerializer:
    def __init__(self) -> None:
        registry = BpmnWorkflowSerializer.configure(CONFIG)
        self._converter = _SpeclessWorkflowConverter(BpmnWorkflow, registry)
        self._serializer = BpmnWorkflowSerializer(registry)

    def dumps(self, workflow: BpmnWorkflow) -> str:
        """Return the workflow's state as stored: compact JSON without the spec, compressed (``state_json`` reads it)."""
        registry = self._serializer.registry
        registry._encoder_mode = True
        try:
            dct = self._converter.to_dict(workflow)
            dct[FORMAT_VERSION] = self._serializer.VERSION
            # keys sorted: SpiffWorkflow rebuilds some dicts (a multi-instance's data) in another order after a load
            text = json.dumps(dct, cls=self._serializer._encoder_cls, separators=(",", ":"))
        finally:
            registry._encoder_mode = False
        return COMPRESSED + base64.b64encode(zlib.compress(text.encode(), 6)).decode("ascii")

    def storable(self, data: dict[str, Any]) -> bool:
        """Whether ``dumps`` can store this task data (a set becomes a list; an object, bytes, a complex number cannot)."""
        registry = self._serializer.registry
        registry._encoder_mode = True
        try:
            json.dumps(registry.convert(data), cls=self._serializer._encoder_cls)
        except (TypeError, ValueError, RecursionError):
            return False
        finally:
            registry._encoder_mode = False
        return True

    def loads(self, state: str, spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
        """Rebuild a workflow from ``dumps`` output and its parsed spec; attaches the script engine (the sandbox's).

        Raises ValueError for a state in one of the UNSAFE_FORMATS."""
        dct = state_json(state)
        if dct.get(FORMAT_VERSION) in UNSAFE_FORMATS:
            raise ValueError(f"format status {dct[FORMAT_VERSION]} tidak dimuat: migrasinya menjalankan ekspresi di luar sandbox")
        self._serializer.migrate(dct)
        workflow = self._converter.restore_with_spec(dct, spec, subprocess_specs)
        workflow.script_engine = make_script_engine()
        return workflow


def state_json(state: str) -> dict[str, Any]:
    """A stored state as its JSON object, compressed (COMPRESSED) or plain (stored before compression). Raises ValueError
    for a state that is neither."""
    if state.startswith(COMPRESSED):
        try:
            state = zlib.decompress(base64.b64decode(state[len(COMPRESSED) :], validate=True)).decode()
        except (binascii.Error, zlib.error, UnicodeDecodeError) as error:
            raise ValueError(f"keadaan tersimpan tidak terbaca: {error}") from None
    value = json.loads(state)
    if not isinstance(value, dict):
        raise ValueError("keadaan tersimpan bukan objek JSON")
    return value


_local = threading.local()


def state_serializer() -> StateSerializer:
    serializer = getattr(_local, "serializer", None)
    if serializer is None:
        serializer = _local.serializer = StateSerializer()
    return serializer
