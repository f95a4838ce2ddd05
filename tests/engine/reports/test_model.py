"""engine/reports/model.py: what reports read from a definition version: each user task's deadlines and stage,
and the nodes the audit events do not name."""

from __future__ import annotations

from datetime import timedelta

from engine.contract import CEILING, TARGET
from engine.definitions.bundle import Bundle, project_bundle
from engine.definitions.validation import validate
from engine.reports.model import Deadline, ModelFacts, model_facts


def facts_of(bundle: Bundle) -> ModelFacts:
    model, findings = validate(bundle)
    assert model is not None, findings
    return model_facts(model)


def test_the_sop_model_gives_each_user_task_its_deadlines_and_stage_and_the_nodes_no_event_names():
    facts = facts_of(project_bundle())
    assert facts.deadlines["Task_Disposisi"] == {
        TARGET: Deadline(TARGET, "Timer_Disposisi_Target", working_days=1),
        CEILING: Deadline(CEILING, "Timer_Disposisi_Plafon", working_days=3),
    }
    assert set(facts.deadlines["Task_Terima_Satker"]) == {TARGET} and facts.stage_of["Task_Terima_Satker"] == "terima"
    assert facts.start_node == "Start_Pengaduan"
    assert facts.system_nodes == {"complaint_recorded": "Task_Rekam", "answer_published": "Task_Terbitkan"}
    assert facts.escalation_nodes[("disposisi", TARGET)] == "Task_Eskalasi_Disposisi_Target"
    assert facts.escalation_nodes[("disposisi", CEILING)] == "Task_Eskalasi_Disposisi_Plafon"


def test_a_deadline_written_as_an_iso_duration_has_that_length():
    bundle = project_bundle()
    text = bundle.files[bundle.bpmn_name].replace(">batas_hari_kerja(1)</bpmn:timeDate>", '>"PT30M"</bpmn:timeDate>', 1)  # the disposition's target
    facts = facts_of(Bundle(bundle.bpmn_name, {**bundle.files, bundle.bpmn_name: text}))
    assert facts.deadlines["Task_Disposisi"][TARGET] == Deadline(TARGET, "Timer_Disposisi_Target", delta=timedelta(minutes=30))
