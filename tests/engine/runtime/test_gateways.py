"""engine/runtime/gateways.py: the units' parallel join waits for this pass's branches, however often the case loops."""

from __future__ import annotations

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.definitions.bundle import project_bundle
from engine.definitions.validation import validate
from engine.runtime.gateways import LoopSafeParallelGateway
from engine.runtime.scripting import make_script_engine
from tests.engine.support import run_task
from tests.scenarios import COMPLAINT

PARSED, _FINDINGS = validate(project_bundle())


def _ready(workflow: BpmnWorkflow) -> list[tuple[str, str | None]]:
    return sorted((t.task_spec.bpmn_id, t.data.get("unit_tujuan")) for t in workflow.get_tasks(state=TaskState.READY, manual=True))


def test_the_models_parallel_gateways_are_the_loop_safe_ones():
    assert isinstance(PARSED.spec.task_specs["Gateway_GabungUnit"], LoopSafeParallelGateway)


def test_after_every_unit_declined_the_next_pass_waits_for_its_own_unit():
    """Both units decline: back to Admin Kominfo. The case goes to one unit again: the join must not take the first pass's
    branches as arrived (SpiffWorkflow's own join did, and reopened step 3 while the unit had yet to answer)."""
    workflow = BpmnWorkflow(PARSED.spec, PARSED.subprocess_specs, script_engine=make_script_engine())
    workflow.get_tasks(state=TaskState.READY)[0].data.update(pengaduan=COMPLAINT, tracking_id="LPR-TEST0000")
    workflow.do_engine_steps()
    run_task(workflow, "Task_Disposisi", "disposisi", {"units": ["dinas-pendidikan", "kanwil-bpn-jatim"]})
    run_task(workflow, "Task_Terima_Satker", "terima", {"decision": "bukan_wewenang"}, "dinas-pendidikan")
    run_task(workflow, "Task_Terima_Vertikal", "terima", {"decision": "bukan_wewenang"}, "kanwil-bpn-jatim")
    assert _ready(workflow) == [("Task_Disposisi", None)]

    run_task(workflow, "Task_Disposisi", "disposisi", {"units": ["dinas-pendidikan"]})
    assert _ready(workflow) == [("Task_Terima_Satker", "dinas-pendidikan")]
    run_task(workflow, "Task_Terima_Satker", "terima", {"decision": "terima"}, "dinas-pendidikan")
    run_task(workflow, "Task_Tanggapan_Satker", "tanggapan", {"response": "Sudah kami perbaiki."}, "dinas-pendidikan")
    assert _ready(workflow) == [("Task_Teruskan", None)]
    assert workflow.last_task.data["jawaban"] == [{"unit": "dinas-pendidikan", "response": "Sudah kami perbaiki.", "attachments": []}]
