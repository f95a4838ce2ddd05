"""engine/definitions/parsing.py: the parsed model's lanes, user tasks and their forms."""

from __future__ import annotations

from engine.contract import LANE_ROLES
from engine.definitions.bpmn_xml import BPMN_NS
from tests.engine.definitions.support import CONTRACT_LANES, USER_TASK_FORMS


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
