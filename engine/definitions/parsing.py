"""A parsed definition: SpiffWorkflow's specs of a bundle, and what the engine reads from them (forms, lanes, tasks, timers).

Parsing only: ``parse`` expects files already read safely and validated (engine/definitions/validation.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.parser.task_parsers import GatewayParser
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.specs.defaults import UserTask

from engine.contract import FORM_PROPERTY
from engine.definitions.bpmn_xml import BPMN_NS
from engine.definitions.bundle import Bundle
from engine.runtime.gateways import LoopSafeParallelGateway

PROCESS_ID = "sp4n_lapor"  # the process of the bundle the service runs


class ModelParser(SpiffBpmnParser):
    """SpiffWorkflow's parser of spiff-extended BPMN, with the loop-safe parallel join."""

    OVERRIDE_PARSER_CLASSES = {**SpiffBpmnParser.OVERRIDE_PARSER_CLASSES, full_tag("parallelGateway"): (GatewayParser, LoopSafeParallelGateway)}


@dataclass
class Parsed:
    """A parsed, validated definition, shared by every case on that version."""

    content_hash: str
    spec: Any
    subprocess_specs: dict[str, Any]
    forms: dict[str, dict[str, Any]]
    bpmn: str = ""  # the diagram's XML, for drawing it
    flows: dict[tuple[str, str], str] = field(default_factory=dict)  # (source id, target id) -> sequence flow id
    lanes: list[str] = field(default_factory=list)
    user_tasks: list[Any] = field(default_factory=list)
    timers: list[Any] = field(default_factory=list)

    def all_specs(self) -> list[Any]:
        """The process's own task specs and those inside its sub-processes (each unit's accept and answer tasks)."""
        return [*self.spec.task_specs.values(), *(s for sub in self.subprocess_specs.values() for s in sub.task_specs.values())]

    def form_of(self, task_spec: Any) -> str | None:
        filename = task_spec.extensions.get("properties", {}).get(FORM_PROPERTY)
        return filename[: -len(".schema.json")] if filename else None

    @property
    def start_form(self) -> str:
        return "pengaduan"


def attached_task(timer_spec: Any) -> str | None:
    """The BPMN id of the task a boundary timer sits on (None for an intermediate timer)."""
    split = next((s for s in timer_spec.inputs if isinstance(s, BoundaryEventSplit)), None)
    return split.name.removesuffix(".BoundaryEventSplit") if split else None


def _connect_loops(process: Any) -> None:
    """Let each loop and multi-instance activity hear its instances complete, on every workflow that runs this spec.

    SpiffWorkflow connects an instance's spec to its multi-instance only when it creates an instance, or when it rebuilds
    a serialized spec; a spec parsed afresh (a restart, another version after a migration) would leave a running
    multi-instance deaf to the instances it made before, and the case would wait for ever at that activity."""
    for task_spec in process.task_specs.values():
        if isinstance(task_spec, LoopTask):
            child = process.task_specs[task_spec.task_spec]
            if not child.completed_event.is_connected(task_spec.merge_child):
                child.completed_event.connect(task_spec.merge_child)


def _connect_event_subprocesses(process: Any) -> None:
    """Give each event sub-process (started by a message) the process's start as its input and the end as its output.

    SpiffWorkflow 3.2 makes that connection the first time one is triggered, in the spec every workflow of the version
    shares, and makes it as an output of the start too: workflows made after a first trigger in this process then
    start an instance at once (a bigger state, a process that never completes), those made before do not. Made here,
    as an input only, every case of a version starts alike (a replay gives the state it recorded, whatever ran before
    in the process) and each trigger starts an instance of its own."""
    for name in process.start.trigger_specs:
        sub_process = process.task_specs[name]
        if process.start not in sub_process.inputs:
            sub_process._connect_notify(process.start)
            sub_process.connect(process.end)


def parse(bundle: Bundle, roots: dict[str, Any]) -> Parsed:
    """SpiffWorkflow's parse of the (already safely read) files. Raises ValidationException and others for a broken model."""
    parser = ModelParser(validator=VALIDATOR)
    flows: dict[tuple[str, str], str] = {}
    for name in sorted(roots):
        root = roots[name]
        if name.endswith(".bpmn"):
            parser.add_bpmn_xml(root, filename=name)
            for flow in root.iterfind(".//bpmn:sequenceFlow", BPMN_NS):
                flows[(flow.get("sourceRef"), flow.get("targetRef"))] = flow.get("id")
        elif name.endswith(".dmn"):
            parser.add_dmn_xml(root, filename=name)
    spec = parser.get_spec(PROCESS_ID)
    subprocess_specs = parser.get_subprocess_specs(PROCESS_ID)
    for process in (spec, *subprocess_specs.values()):
        _connect_loops(process)
        _connect_event_subprocesses(process)
    specs = [*spec.task_specs.values(), *(s for sub in subprocess_specs.values() for s in sub.task_specs.values())]  # all_specs
    return Parsed(
        content_hash=bundle.content_hash,
        spec=spec,
        subprocess_specs=subprocess_specs,
        forms=bundle.forms(),
        bpmn=bundle.files[bundle.bpmn_name],
        flows=flows,
        lanes=sorted({s.lane for s in specs if getattr(s, "lane", None)}),
        user_tasks=[s for s in specs if isinstance(s, UserTask)],
        timers=[s for s in specs if isinstance(s, CatchingEvent) and isinstance(s.event_definition, TimerEventDefinition)],
    )
