"""engine/runtime/serialization.py: a case row stores its workflow state without the spec, and it loads back the same."""

from __future__ import annotations

import json
import threading
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
from engine.runtime.serialization import COMPRESSED, state_json, state_serializer
from engine.runtime.serialization import CONFIG as SPIFF_CONFIG
from engine.timekeeping import clock as clocks
from tests.engine.support import (
    TO_BALASAN,
    do,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    open_rows,
    submit,
)
from tests.scenarios import COMPLAINT, SATISFIED, Do

PARSED, _FINDINGS = validate(project_bundle())


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


def test_a_state_is_stored_compressed_and_one_stored_before_compression_still_loads(service, session):
    """States stored before compression are plain JSON: they load as they are, and the next save compresses them."""
    submitted = submit(service, COMPLAINT, TO_BALASAN)
    stored = submitted.case.state
    assert stored.startswith(COMPRESSED) and len(stored) < len(json.dumps(state_json(stored))) / 3
    parsed = service.parsed_of(submitted.case)
    plain = json.dumps(state_json(stored), separators=(",", ":"))
    loaded = state_serializer().loads(plain, parsed.spec, parsed.subprocess_specs)
    assert state_json(state_serializer().dumps(loaded)) == state_json(stored)
    session.execute(update(Case).where(Case.id == submitted.case.id).values(state=plain))
    session.commit()
    do(service, submitted, SATISFIED)  # the old-format case goes on, and is stored compressed from then on
    assert session.get(Case, submitted.case.id).status == "selesai"
    assert session.get(Case, submitted.case.id).state.startswith(COMPRESSED)


def test_an_unreadable_compressed_state_is_refused_not_guessed():
    with pytest.raises(ValueError):
        state_json(COMPRESSED + "not base64 at all")
