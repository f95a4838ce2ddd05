"""engine/runtime/serialization.py: a case row stores its workflow state without the spec, and it loads back the same."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import threading
import zlib
from typing import Any

import pytest
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import update

from engine import make_script_engine
from engine.db.tables import Case
from engine.definitions.bundle import project_bundle
from engine.definitions.validation import validate
from engine.runtime.scripting import RunContext, running
from engine.runtime.serialization import COMPRESSED, DICTIONARY, PACKED, state_json, state_serializer, stored
from engine.runtime.serialization import CONFIG as SPIFF_CONFIG
from engine.timekeeping import clock as clocks
from tests.engine.support import (
    TO_BALASAN,
    TO_SELESAI,
    do,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    open_rows,
    submit,
)
from tests.scenarios import COMPLAINT, SATISFIED, SCENARIOS, Do

PARSED, _FINDINGS = validate(project_bundle())
LOOP = [s for s in SCENARIOS["kembalikan_loop"][1] if isinstance(s, Do)][3:5]  # kembalikan, and the unit's revised answer


def run(workflow: BpmnWorkflow, clock, action=lambda: None) -> None:
    with clocks.using(clock), running(RunContext()):
        action()
        workflow.do_engine_steps()


def complete(workflow: BpmnWorkflow, clock, step: Do) -> None:
    [task] = [t for t in workflow.get_tasks(state=TaskState.READY, manual=True) if t.task_spec.bpmn_id == step.task]

    def action() -> None:
        task.data[PARSED.form_of(task.task_spec)] = step.data
        task.run()

    run(workflow, clock, action)


@pytest.fixture
def at_balasan(clock) -> BpmnWorkflow:
    """A plain SpiffWorkflow case in memory, answered and waiting for the citizen's reply."""
    workflow = BpmnWorkflow(PARSED.spec, PARSED.subprocess_specs, script_engine=make_script_engine())
    workflow.get_tasks(state=TaskState.READY)[0].data.update(pengaduan=dict(COMPLAINT), tracking_id="LPR-TEST0000")
    run(workflow, clock)
    for step in TO_BALASAN:
        complete(workflow, clock, step)
    return workflow


def picture(workflow: BpmnWorkflow) -> dict[str, Any]:
    """What must survive a round trip: every task's spec, state and data, the READY tasks and the timers' due instants."""
    return {
        "tasks": {str(t.id): (t.task_spec.name, t.state, t.data) for t in workflow.get_tasks()},
        "ready": sorted((str(t.id), t.task_spec.bpmn_id) for t in workflow.get_tasks(state=TaskState.READY, manual=True)),
        "timers": {str(t.id): t.internal_data.get("event_value") for t in workflow.get_tasks(state=TaskState.WAITING)},
        "data": workflow.data,
        "completed": workflow.completed,
    }


def test_stored_case_state_leaves_the_spec_out(service, session):
    submitted = submit(service, COMPLAINT, TO_BALASAN)
    assert [r.spec_name for r in open_rows(session, submitted.case.id)] == ["Task_Balasan"]
    state = state_json(submitted.case.state)
    assert "spec" not in state and "subprocess_specs" not in state
    assert "sp4n_lapor" not in json.dumps(state.get("subprocesses", {}))


def test_stored_case_state_waiting_at_balasan_is_under_10_kb(service):
    submitted = submit(service, COMPLAINT, TO_BALASAN)
    assert len(submitted.case.state.encode()) < 10 * 1024


def test_stored_state_of_a_new_case_is_under_10_kb(service):
    submitted = submit(service, COMPLAINT)
    assert len(submitted.case.state.encode()) < 10 * 1024


def test_spec_less_state_is_a_fraction_of_the_full_serialization(at_balasan):
    registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
    full = BpmnWorkflowSerializer(registry).serialize_json(at_balasan)
    assert "spec" in json.loads(full)
    assert len(state_serializer().dumps(at_balasan)) < len(full) / 3


def test_stored_case_state_loads_back_with_the_open_tasks_of_the_index(service, session):
    submitted = submit(service, COMPLAINT, TO_BALASAN)
    workflow = state_serializer().loads(submitted.case.state, PARSED.spec, PARSED.subprocess_specs)
    ready = sorted((str(t.id), t.task_spec.bpmn_id) for t in workflow.get_tasks(state=TaskState.READY, manual=True))
    assert ready == [(r.id, r.spec_name) for r in open_rows(session, submitted.case.id)]
    [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
    assert task.data["teruskan"]["decision"] == "teruskan"
    assert task.data["pengaduan"]["reporter"]["email"] == COMPLAINT["reporter"]["email"]


def test_state_loads_back_equal(at_balasan):
    state = state_serializer().dumps(at_balasan)
    loaded = state_serializer().loads(state, PARSED.spec, PARSED.subprocess_specs)
    assert picture(loaded) == picture(at_balasan)
    assert [t.task_spec.bpmn_id for t in loaded.get_tasks(state=TaskState.READY, manual=True)] == ["Task_Balasan"]
    assert state_json(state_serializer().dumps(loaded)) == state_json(state)  # a multi-instance's data comes back in another key order


def test_waiting_timer_keeps_its_due_instant(at_balasan):
    before = {str(t.id): t.internal_data["event_value"] for t in at_balasan.get_tasks(state=TaskState.WAITING) if "event_value" in t.internal_data}
    assert before  # Timer_Balasan: 10 working days
    loaded = state_serializer().loads(state_serializer().dumps(at_balasan), PARSED.spec, PARSED.subprocess_specs)
    after = {str(t.id): t.internal_data["event_value"] for t in loaded.get_tasks(state=TaskState.WAITING) if "event_value" in t.internal_data}
    assert after == before


def test_loaded_workflow_has_a_script_engine_and_runs_to_the_end(at_balasan, clock):
    loaded = state_serializer().loads(state_serializer().dumps(at_balasan), PARSED.spec, PARSED.subprocess_specs)
    complete(loaded, clock, Do("Task_Balasan", {"satisfied": True}))
    assert loaded.completed


def test_loaded_workflow_fires_its_timer_when_due(at_balasan, clock):
    loaded = state_serializer().loads(state_serializer().dumps(at_balasan), PARSED.spec, PARSED.subprocess_specs)
    clock.advance(days=30)
    run(loaded, clock, loaded.refresh_timers)
    assert loaded.completed
    assert loaded.get_tasks(state=TaskState.READY, manual=True) == []


def test_each_thread_gets_its_own_serializer():
    mine = state_serializer()
    assert state_serializer() is mine
    theirs: list[Any] = []
    thread = threading.Thread(target=lambda: theirs.append(state_serializer()))
    thread.start()
    thread.join()
    assert theirs and theirs[0] is not mine


def old_format(state: str, marker: str) -> str:
    """``state`` as a row written before PACKED holds it: plain JSON (before compression) or COMPRESSED."""
    plain = json.dumps(state_json(state), separators=(",", ":"))
    return plain if marker == "plain" else COMPRESSED + base64.b64encode(zlib.compress(plain.encode(), 6)).decode("ascii")


@pytest.mark.parametrize("marker", ["plain", COMPRESSED])
def test_a_state_is_stored_packed_and_one_stored_in_an_older_format_still_loads(service, session, marker):
    """States stored before PACKED (plain JSON, then COMPRESSED) load as they are, and the next save packs them."""
    submitted = submit(service, COMPLAINT, TO_BALASAN)
    state = submitted.case.state
    assert state.startswith(PACKED) and len(state) < len(json.dumps(state_json(state))) / 6
    parsed = service.parsed_of(submitted.case)
    old = old_format(state, marker)
    assert state_json(old) == state_json(state)
    loaded = state_serializer().loads(old, parsed.spec, parsed.subprocess_specs)
    assert state_json(state_serializer().dumps(loaded)) == state_json(state)
    session.execute(update(Case).where(Case.id == submitted.case.id).values(state=old))
    session.commit()
    do(service, submitted, SATISFIED)  # the old-format case goes on, and is stored packed from then on
    assert session.get(Case, submitted.case.id).status == "selesai"
    assert session.get(Case, submitted.case.id).state.startswith(PACKED)


def test_state_json_gives_back_exactly_the_json_spiffworkflow_makes(at_balasan):
    """Packing leaves nothing out that SpiffWorkflow wrote: the same keys in the same order, the same values, floats to
    the last bit (replay compares states; bench/common.py renumbers their text)."""
    registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
    full = json.loads(BpmnWorkflowSerializer(registry).serialize_json(at_balasan))
    del full["spec"], full["subprocess_specs"], full["typename"]  # what the spec-less converter leaves out
    state = state_json(state_serializer().dumps(at_balasan))
    assert json.dumps(state) == json.dumps(full)
    assert stored(full).startswith(PACKED) and state_json(stored(full)) == full


def test_tasks_in_a_shape_packing_does_not_foresee_are_stored_as_they_are(at_balasan):
    full = state_json(state_serializer().dumps(at_balasan))
    sub = next(iter(full["subprocesses"].values()))
    first, second, third = list(full["tasks"].values())[:3]
    first["triggered"] = 0  # equal to its default False, but not the same
    second["extra"] = {"kept": True}  # a field SpiffWorkflow does not write (this workflow's tasks stay a dict)
    third["last_state_change"] = 17  # an int, not a float
    next(iter(sub["tasks"].values()))["parent"] = first["id"]  # a parent that does not list it as a child
    back = state_json(stored(copy.deepcopy(full)))
    assert json.dumps(back) == json.dumps(full)
    assert type(back["tasks"][first["id"]]["triggered"]) is int


def shape(workflow: BpmnWorkflow) -> list[tuple[str, int, int, dict[str, Any]]]:
    """Every task in tree order (sub-processes included) as (spec, state, depth, data): what two runs of the same inputs
    share when their task ids differ."""
    return [(t.task_spec.name, t.state, t.depth, t.data) for t in workflow.get_tasks()]


def test_a_workflow_stored_at_every_step_runs_to_the_end_as_one_never_stored(clock):
    steps = [*TO_BALASAN[:3], *LOOP, *TO_BALASAN[3:], SATISFIED]  # answered, returned once by kembalikan, published, closed
    kept = BpmnWorkflow(PARSED.spec, PARSED.subprocess_specs, script_engine=make_script_engine())
    kept.get_tasks(state=TaskState.READY)[0].data.update(pengaduan=dict(COMPLAINT), tracking_id="LPR-TEST0000")
    run(kept, clock)
    stored_each_step = state_serializer().loads(state_serializer().dumps(kept), PARSED.spec, PARSED.subprocess_specs)
    for step in steps:
        complete(kept, clock, step)
        complete(stored_each_step, clock, step)
        assert shape(stored_each_step) == shape(kept)
        stored_each_step = state_serializer().loads(state_serializer().dumps(stored_each_step), PARSED.spec, PARSED.subprocess_specs)
        assert shape(stored_each_step) == shape(kept)
    assert kept.completed and stored_each_step.completed


def test_every_stage_of_the_straight_path_is_stored_in_under_4_kb(service, session):
    submitted = submit(service, COMPLAINT)
    sizes = [len(submitted.case.state)]
    for step in TO_SELESAI:
        sizes.append(len(do(service, submitted, step).state))
    assert session.get(Case, submitted.case.id).status == "selesai"
    assert max(sizes) < 4 * 1024, sizes


def test_the_preset_dictionary_never_changes():
    """A PACKED state decompresses only with the dictionary it was written with: a new one needs a new marker."""
    assert hashlib.sha256(DICTIONARY).hexdigest() == "e3a23b930185c377e825c59b80ccf5950abebbc4e6c8ec686309a0d5a4fde02e"


@pytest.mark.parametrize(
    "state",
    [COMPRESSED + "not base64 at all", PACKED + "not base64 at all", PACKED + base64.b64encode(b"not zlib").decode(), "[1, 2]"],
)
def test_an_unreadable_state_is_refused_not_guessed(state):
    with pytest.raises(ValueError):
        state_json(state)


def test_a_cut_or_padded_packed_state_is_refused(at_balasan):
    raw = base64.b64decode(state_serializer().dumps(at_balasan)[len(PACKED) :])
    for broken in (raw[: len(raw) // 2], raw[:-8], raw + bytes(16)):  # the text cut; an id cut; an id too many
        with pytest.raises(ValueError):
            state_json(PACKED + base64.b64encode(broken).decode())
