"""Workflow state without its spec, packed and compressed.

A case row stores only the task tree and data; the spec is parsed once per definition version and handed back in
on load. ``dumps`` stores SpiffWorkflow's JSON packed (PACKED): each workflow's tasks as columns, where a task's id is
written once, as 16 bytes beside the compressed text (a parent and children become offsets), its timestamp as the
difference from the previous task's, and the fields at their default are left out; the text is zlib-compressed with a
preset dictionary (DICTIONARY, a typical packed state: a small state compresses as well as a large one). A closed
straight case takes 2.3 KB instead of 5.7 KB. ``state_json`` gives back exactly the JSON SpiffWorkflow's converter
made, whichever format a row holds: PACKED, COMPRESSED (zlib-compressed JSON, written before PACKED) or plain JSON
(written before compression). SpiffWorkflow's serializer flips a shared flag while encoding, so each thread gets its
own (``state_serializer()``).
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import re
import struct
import threading
import zlib
from pathlib import Path
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
COMPRESSED = "z1:"  # a stored state's marker: zlib-compressed JSON in base64 follows (written until PACKED)
PACKED = "z2:"  # a stored state's marker: the packed JSON zlib-compressed with DICTIONARY, then the ids, in base64 follows
# The preset dictionary of PACKED: a JSON list of the packed states of a closed desk case and a closed straight case
# (bench/lifecycle.py's, on the model of 2026-12), every id and every text a citizen or an officer wrote blanked. A
# state written with it reads only with these exact bytes: never edit the file; a better dictionary needs a new marker.
DICTIONARY = Path(__file__).with_name("state_dictionary.json").read_bytes()
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


# ---- packing: SpiffWorkflow's JSON of a workflow's tasks as columns, and back ----------------------------------------

TASK_FIELDS = ("id", "parent", "children", "last_state_change", "state", "task_spec", "triggered", "internal_data", "data", "delta", "typename")
OPTIONAL_FIELDS = TASK_FIELDS[6:]  # packed only where not at their default
# What SpiffWorkflow's TaskConverter writes for most tasks: the root holds its data whole, every other task a delta from
# its parent's. Compared against only: a task rebuilt gets fresh objects (the converter consumes what it loads).
ROOT_DEFAULTS = {"triggered": False, "internal_data": {}, "data": {}, "delta": {}, "typename": "Task"}
CHILD_DEFAULTS = {**ROOT_DEFAULTS, "delta": {"updates": {}, "deletions": []}}
CANONICAL_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")  # as str(UUID) writes it


def _same(value: Any, default: Any) -> bool:
    return type(value) is type(default) and value == default  # False is not 0: only what comes back the same is left out


def _packable(tasks: dict[str, Any]) -> bool:
    """Whether every task has the shape ``_unpack_tasks`` rebuilds: its fields in TASK_FIELDS' order, its canonical id
    as key, a float timestamp, children among these tasks, and as parent the first task listing it as a child."""
    parents: dict[str, str] = {}
    for task_id, task in tasks.items():
        if not (type(task) is dict and tuple(task) == TASK_FIELDS and task["id"] == task_id and CANONICAL_ID.fullmatch(task_id)):
            return False
        if type(task["last_state_change"]) is not float or type(task["children"]) is not list:
            return False
        for child in task["children"]:
            if type(child) is not str or child not in tasks:
                return False
            parents.setdefault(child, task_id)
    return all(task["parent"] == parents.get(task_id) for task_id, task in tasks.items())


def _pack_tasks(tasks: dict[str, Any], ids: bytearray) -> list[Any] | dict[str, Any]:
    """A workflow's ``tasks`` as [specs, states, children, stamps, others], their ids' 16 bytes each appended to ``ids``
    (random bytes: stored beside the compressed text, not in it). Children are offsets from the task's place; a
    timestamp is its float's bits less the previous task's (exact, and a few digits); others holds by place the fields
    of OPTIONAL_FIELDS not at their default. Tasks in a shape this does not foresee stay as they are (the dict)."""
    if not _packable(tasks):
        return tasks
    places = {task_id: place for place, task_id in enumerate(tasks)}
    bits = struct.unpack(f"<{len(tasks)}q", struct.pack(f"<{len(tasks)}d", *(task["last_state_change"] for task in tasks.values())))
    specs, states, children, others = [], [], [], {}
    for place, task in enumerate(tasks.values()):
        specs.append(task["task_spec"])
        states.append(task["state"])
        children.append([places[child] - place for child in task["children"]])
        defaults = ROOT_DEFAULTS if task["parent"] is None else CHILD_DEFAULTS
        other = {field: task[field] for field in OPTIONAL_FIELDS if not _same(task[field], defaults[field])}
        if other:
            others[str(place)] = other
    ids += bytes.fromhex("".join(tasks).replace("-", ""))
    return [specs, states, children, [b - a for a, b in itertools.pairwise((0, *bits))], others]


def _unpack_tasks(packed: list[Any], raw: memoryview) -> dict[str, Any]:
    """``_pack_tasks`` undone, the ids read from the start of ``raw``."""
    specs, states, children, stamps, others = packed
    count = len(specs)
    if not (len(states) == len(children) == len(stamps) == count and 16 * count <= len(raw)):
        raise ValueError("kolom tugas tidak sama panjang")
    h = raw[: 16 * count].hex()
    ids = [f"{h[i : i + 8]}-{h[i + 8 : i + 12]}-{h[i + 12 : i + 16]}-{h[i + 16 : i + 20]}-{h[i + 20 : i + 32]}" for i in range(0, len(h), 32)]
    parents: dict[str, str] = {}
    for place, offsets in enumerate(children):
        for offset in offsets:
            parents.setdefault(ids[place + offset], ids[place])
    times = struct.unpack(f"<{count}d", struct.pack(f"<{count}q", *itertools.accumulate(stamps)))
    tasks: dict[str, Any] = {}
    for place, task_id in enumerate(ids):
        parent = parents.get(task_id)
        task = tasks[task_id] = {
            "id": task_id,
            "parent": parent,
            "children": [ids[place + offset] for offset in children[place]],
            "last_state_change": times[place],
            "state": states[place],
            "task_spec": specs[place],
            "triggered": False,
            "internal_data": {},
            "data": {},
            "delta": {} if parent is None else {"updates": {}, "deletions": []},
            "typename": "Task",
        }
        task.update(others.get(str(place), ()))
    return tasks


def _workflows(dct: dict[str, Any]) -> list[dict[str, Any]]:
    """The top workflow and each sub-process (each instance of a multi-instance one is a workflow of its own)."""
    subprocesses = dct.get("subprocesses")
    return [dct, *(subprocesses.values() if isinstance(subprocesses, dict) else ())]


def _pack(dct: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """SpiffWorkflow's JSON of a workflow with each workflow's tasks packed (``_pack_tasks``), and the tasks' ids in the
    same order; ``_unpack`` undoes it."""
    packed, ids = dict(dct), bytearray()
    if isinstance(packed.get("subprocesses"), dict):
        packed["subprocesses"] = {key: dict(sub) for key, sub in packed["subprocesses"].items()}
    for workflow in _workflows(packed):
        if isinstance(workflow.get("tasks"), dict):
            workflow["tasks"] = _pack_tasks(workflow["tasks"], ids)
    return packed, bytes(ids)


def _unpack(dct: dict[str, Any], ids: bytes) -> dict[str, Any]:
    """``_pack``'s output back as it was, in place."""
    view = memoryview(ids)
    for workflow in _workflows(dct):
        if isinstance(workflow, dict) and isinstance(workflow.get("tasks"), list):
            count = len(workflow["tasks"][0])
            workflow["tasks"] = _unpack_tasks(workflow["tasks"], view)
            view = view[16 * count :]
    if len(view):
        raise ValueError("ada id tugas yang tersisa")
    return dct


def stored(dct: dict[str, Any], encoder: type[json.JSONEncoder] = json.JSONEncoder) -> str:
    """A workflow's JSON as ``dumps`` stores it (``state_json`` reads it back equal): the packed JSON compressed, then
    the ids (the compressed stream knows where it ends)."""
    packed, ids = _pack(dct)
    compressor = zlib.compressobj(9, zdict=DICTIONARY)
    text = json.dumps(packed, cls=encoder, separators=(",", ":")).encode()
    return PACKED + base64.b64encode(compressor.compress(text) + compressor.flush() + ids).decode("ascii")


class StateSerializer:
    def __init__(self) -> None:
        registry = BpmnWorkflowSerializer.configure(CONFIG)
        self._converter = _SpeclessWorkflowConverter(BpmnWorkflow, registry)
        self._serializer = BpmnWorkflowSerializer(registry)

    def dumps(self, workflow: BpmnWorkflow) -> str:
        """Return the workflow's state as stored: its JSON without the spec, packed and compressed (``state_json`` reads it)."""
        registry = self._serializer.registry
        registry._encoder_mode = True
        try:
            dct = self._converter.to_dict(workflow)
            dct[FORMAT_VERSION] = self._serializer.VERSION
            return stored(dct, self._serializer._encoder_cls)
        finally:
            registry._encoder_mode = False

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
    """A stored state as the JSON object SpiffWorkflow's converter made: packed (PACKED), compressed (COMPRESSED) or
    plain (stored before compression). Raises ValueError for a state that is none of them."""
    try:
        if state.startswith(PACKED):
            decompressor = zlib.decompressobj(zdict=DICTIONARY)
            text = decompressor.decompress(base64.b64decode(state[len(PACKED) :], validate=True)) + decompressor.flush()
            if not decompressor.eof:
                raise ValueError("keadaan tersimpan terpotong")
            value = json.loads(text)
            if isinstance(value, dict):
                _unpack(value, decompressor.unused_data)
        else:
            if state.startswith(COMPRESSED):
                state = zlib.decompress(base64.b64decode(state[len(COMPRESSED) :], validate=True)).decode()
            value = json.loads(state)
    except (binascii.Error, zlib.error, struct.error, UnicodeDecodeError, KeyError, IndexError, TypeError) as error:
        raise ValueError(f"keadaan tersimpan tidak terbaca: {error}") from None
    if not isinstance(value, dict):
        raise ValueError("keadaan tersimpan bukan objek JSON")
    return value


_local = threading.local()


def state_serializer() -> StateSerializer:
    serializer = getattr(_local, "serializer", None)
    if serializer is None:
        serializer = _local.serializer = StateSerializer()
    return serializer
