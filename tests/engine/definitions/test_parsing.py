"""engine/definitions/parsing.py: the parsed model's lanes, user tasks and their forms."""

from __future__ import annotations

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.contract import LANE_ROLES
from engine.definitions.bpmn_xml import BPMN_NS
from engine.definitions.bundle import project_bundle
from engine.definitions.validation import validate
from engine.runtime.scripting import make_script_engine
from engine.runtime.serialization import state_serializer
from tests.engine.definitions.support import CONTRACT_LANES, USER_TASK_FORMS
from tests.engine.support import run_task
from tests.scenarios import COMPLAINT


def test_model_has_the_five_design_lanes(model, root):
    names = root.xpath("//bpmn:laneSet/bpmn:lane/@name", namespaces=BPMN_NS)
    assert sorted(names) == sorted(CONTRACT_LANES)
    assert len(names) == 5
    assert sorted(model.lanes) == sorted(CONTRACT_LANES) == sorted(LANE_ROLES)


def test_every_user_task_has_a_form_in_the_bundle(model):
    assert {task.bpmn_id: model.form_of(task) for task in model.user_tasks} == USER_TASK_FORMS
    assert all(model.form_of(task) in model.forms for task in model.user_tasks)


def test_user_tasks_sit_in_the_lane_of_the_role_that_does_them(model):
    lanes = {task.bpmn_id: task.lane for task in model.user_tasks}
    assert lanes["Task_Disposisi"] == lanes["Task_Teruskan"] == "Admin Kominfo"
    assert lanes["Task_Terima_Satker"] == lanes["Task_Tanggapan_Satker"] == "Satuan Kerja"
    assert lanes["Task_Terima_Vertikal"] == lanes["Task_Tanggapan_Vertikal"] == "Instansi Vertikal"
    assert lanes["Task_Balasan"] == "Masyarakat"


def test_a_units_multi_instance_completes_on_a_spec_parsed_after_its_instances_began():
    """After a restart (or a migration) the spec is parsed afresh: the instances a multi-instance made before must still
    report to it when they complete, or the case would wait at the units' sub-process for ever."""
    first, _ = validate(project_bundle())
    workflow = BpmnWorkflow(first.spec, first.subprocess_specs, script_engine=make_script_engine())
    workflow.get_tasks(state=TaskState.READY)[0].data.update(pengaduan=COMPLAINT, tracking_id="LPR-TEST0000")
    workflow.do_engine_steps()
    run_task(workflow, "Task_Disposisi", "disposisi", {"units": ["dinas-pendidikan", "dinas-kesehatan"]})
    state = state_serializer().dumps(workflow)
    fresh, _ = validate(project_bundle())  # another parse of the same files: its specs never made an instance
    assert fresh.spec is not first.spec
    workflow = state_serializer().loads(state, fresh.spec, fresh.subprocess_specs)
    for unit in ("dinas-pendidikan", "dinas-kesehatan"):
        run_task(workflow, "Task_Terima_Satker", "terima", {"decision": "terima"}, unit)
        run_task(workflow, "Task_Tanggapan_Satker", "tanggapan", {"response": "Sudah kami tindak lanjuti."}, unit)
    assert [t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.READY, manual=True)] == ["Task_Teruskan"]
