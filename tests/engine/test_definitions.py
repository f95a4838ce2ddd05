"""engine/definitions.py and `lapor validate`: the project's model is valid, complete and drawn; broken copies are named."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import SpiffWorkflow
from click.testing import CliRunner
from lxml import etree

from engine.definitions import BPMN_NS, LANE_ROLES, Bundle, attached_task, parsed, project_bundle, project_file, read_bundle, validate
from web.cli import main

BPMN = project_file("processes", "sp4n_lapor.bpmn")
DMN = project_file("processes", "kategori.dmn")
XSD = Path(SpiffWorkflow.__file__).parent / "bpmn" / "parser" / "schema" / "BPMN20.xsd"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
DESIGN_LANES = ["Masyarakat", "Sistem dan Admin Pusat", "Admin Kominfo", "Satuan Kerja", "Instansi Vertikal"]
USER_TASK_FORMS = {
    "Task_Disposisi": "disposisi",
    "Task_Terima_Satker": "terima",
    "Task_Terima_Vertikal": "terima",
    "Task_Tanggapan_Satker": "tanggapan",
    "Task_Tanggapan_Vertikal": "tanggapan",
    "Task_Teruskan": "teruskan",
    "Task_Balasan": "balasan",
}


@pytest.fixture(scope="module")
def model():
    result, findings = validate(project_bundle())
    assert findings == []
    return result


@pytest.fixture(scope="module")
def root():
    return etree.parse(str(BPMN)).getroot()


@pytest.fixture(scope="module")
def bpmn20() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


def test_project_bundle_validates_without_findings():
    result, findings = validate(project_bundle())
    assert findings == []
    assert result is not None
    assert result.spec.name == "sp4n_lapor"


def test_project_bundle_holds_the_bpmn_its_dmn_and_every_referenced_form():
    bundle = project_bundle()
    assert set(bundle.files) == {
        "sp4n_lapor.bpmn",
        "kategori.dmn",
        *(f"forms/{name}.schema.json" for name in ("pengaduan", "disposisi", "terima", "tanggapan", "teruskan", "balasan")),
    }


def test_content_hash_is_stable_and_covers_every_file():
    bundle = project_bundle()
    assert bundle.content_hash == project_bundle().content_hash
    assert Bundle.from_json(bundle.to_json()).content_hash == bundle.content_hash
    changed_form = dict(bundle.files)
    changed_form["forms/balasan.schema.json"] = changed_form["forms/balasan.schema.json"].replace("Pesan", "Pesan Anda")
    assert Bundle(bundle.bpmn_name, changed_form).content_hash != bundle.content_hash


def test_parsed_definition_is_cached_per_content_hash():
    bundle = project_bundle()
    assert parsed(bundle.to_json(), bundle.content_hash) is parsed(bundle.to_json(), bundle.content_hash)


# ---- the model as an analyst sees it --------------------------------------------------------


def test_bpmn_is_valid_against_the_bpmn20_xsd_shipped_in_spiffworkflow(bpmn20, root):
    assert bpmn20.validate(root.getroottree()), bpmn20.error_log


def test_the_xsd_check_is_real(bpmn20):
    """Spiff extensions pass inside extensionElements (##other, lax) but the same element elsewhere fails."""
    text = BPMN.read_text(encoding="utf-8")
    properties = (
        '<spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" value="disposisi.schema.json" /></spiffworkflow:properties>'
    )
    assert properties in text
    misplaced = text.replace(f"<bpmn:extensionElements>{properties}</bpmn:extensionElements>", properties, 1)
    assert misplaced != text
    assert not bpmn20.validate(etree.fromstring(misplaced.encode()).getroottree())
    bogus_attribute = text.replace('<bpmn:userTask id="Task_Disposisi"', '<bpmn:userTask priority="1" id="Task_Disposisi"', 1)
    assert not bpmn20.validate(etree.fromstring(bogus_attribute.encode()).getroottree())
    [error] = list(bpmn20.error_log)
    assert error.line == text[: text.index('id="Task_Disposisi"')].count("\n") + 1


def test_model_has_the_five_design_lanes(model, root):
    names = root.xpath("//bpmn:laneSet/bpmn:lane/@name", namespaces=BPMN_NS)
    assert sorted(names) == sorted(DESIGN_LANES)
    assert len(names) == 5
    assert sorted(model.lanes) == sorted(DESIGN_LANES) == sorted(LANE_ROLES)


def test_every_user_task_has_a_form_in_the_bundle(model):
    assert {task.bpmn_id: model.form_of(task) for task in model.user_tasks} == USER_TASK_FORMS
    assert all(model.form_of(task) in model.forms for task in model.user_tasks)


def test_user_tasks_sit_in_the_lane_of_the_role_that_does_them(model):
    lanes = {task.bpmn_id: task.lane for task in model.user_tasks}
    assert lanes["Task_Disposisi"] == lanes["Task_Teruskan"] == "Admin Kominfo"
    assert lanes["Task_Terima_Satker"] == lanes["Task_Tanggapan_Satker"] == "Satuan Kerja"
    assert lanes["Task_Terima_Vertikal"] == lanes["Task_Tanggapan_Vertikal"] == "Instansi Vertikal"
    assert lanes["Task_Balasan"] == "Masyarakat"


def test_start_event_carries_the_complaint_form(root):
    [start] = root.xpath("//bpmn:process/bpmn:startEvent", namespaces=BPMN_NS)
    forms = start.xpath(".//spiffworkflow:property[@name='formJsonSchemaFilename']/@value", namespaces={"spiffworkflow": SPIFF_NS})
    assert forms == ["pengaduan.schema.json"]


def test_every_flow_node_and_sequence_flow_is_drawn(root):
    drawn_shapes = set(root.xpath("//bpmndi:BPMNShape/@bpmnElement", namespaces=BPMN_NS))
    drawn_edges = set(root.xpath("//bpmndi:BPMNEdge/@bpmnElement", namespaces=BPMN_NS))
    process = root.xpath("//bpmn:process", namespaces=BPMN_NS)[0]
    nodes = [e.get("id") for e in process if etree.QName(e).localname not in ("laneSet", "sequenceFlow", "documentation", "extensionElements")]
    flows = process.xpath("bpmn:sequenceFlow/@id", namespaces=BPMN_NS)
    lanes = root.xpath("//bpmn:lane/@id", namespaces=BPMN_NS)
    assert len(nodes) > 30 and len(flows) > 30
    assert [n for n in nodes if n not in drawn_shapes] == []
    assert [f for f in flows if f not in drawn_edges] == []
    assert [lane for lane in lanes if lane not in drawn_shapes] == []


def test_every_sequence_flow_joins_existing_nodes(root):
    ids = set(root.xpath("//bpmn:process/*/@id", namespaces=BPMN_NS))
    for flow in root.xpath("//bpmn:sequenceFlow", namespaces=BPMN_NS):
        assert flow.get("sourceRef") in ids and flow.get("targetRef") in ids, flow.get("id")


def test_timers_are_working_day_deadlines_on_user_tasks(model):
    assert {attached_task(timer) for timer in model.timers} == set(USER_TASK_FORMS) - {"Task_Teruskan"}
    assert all(timer.event_definition.expression.startswith("batas_hari_kerja(") for timer in model.timers)
    interrupting = [timer.bpmn_id for timer in model.timers if timer.cancel_activity]
    assert interrupting == ["Timer_Balasan"]  # only the citizen's silence closes a case; staff deadlines escalate


# ---- broken copies --------------------------------------------------------------------------


def _line(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


SOURCE = BPMN.read_text(encoding="utf-8")
BROKEN = {
    "unknown_target": (
        '<bpmn:sequenceFlow id="Flow_Notif" sourceRef="Task_NotifKominfo" targetRef="Task_Disposisi" />',
        '<bpmn:sequenceFlow id="Flow_Notif" sourceRef="Task_NotifKominfo" targetRef="Task_Hilang" />',
    ),
    "malformed_xml": (
        '<bpmn:userTask id="Task_Disposisi" name="Teruskan laporan ke unit kerja">',
        '<bpmn:userTask id="Task_Disposisi" name="Teruskan laporan ke unit kerja>',
    ),
    "xsd_violation": ('<bpmn:userTask id="Task_Disposisi"', '<bpmn:userTask priority="1" id="Task_Disposisi"'),
    "missing_shape": ('bpmnElement="Task_Teruskan"', 'bpmnElement="Task_Lain"'),
    "missing_form": ('value="teruskan.schema.json"', 'value="hilang.schema.json"'),
    "bad_timer": ("batas_hari_kerja(10)", "batas_tidak_ada(10)"),
}


def _write_broken(tmp_path: Path, name: str) -> tuple[Path, str]:
    old, new = BROKEN[name]
    assert SOURCE.count(old) >= 1
    text = SOURCE.replace(old, new, 1)
    folder = tmp_path / "processes"
    folder.mkdir()
    shutil.copy(DMN, folder / DMN.name)
    path = folder / f"{name}.bpmn"
    path.write_text(text, encoding="utf-8")
    return path, text


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_copy_yields_findings_with_file_and_line(tmp_path, name):
    path, _text = _write_broken(tmp_path, name)
    result, findings = validate(read_bundle(path))
    assert result is None
    assert findings
    assert all(f.file == path.name for f in findings), findings
    assert all(isinstance(f.line, int) and f.line > 0 for f in findings), findings
    assert all(str(f).startswith(f"{path.name}:{f.line}") for f in findings)


@pytest.mark.parametrize(
    ("name", "needle", "slack"),
    [
        ("malformed_xml", '<bpmn:userTask id="Task_Disposisi"', 1),  # libxml2 notices the open quote on the next line
        ("xsd_violation", '<bpmn:userTask priority="1"', 0),
        ("missing_shape", '<bpmn:userTask id="Task_Teruskan"', 0),
        ("missing_form", '<bpmn:userTask id="Task_Teruskan"', 0),
        ("bad_timer", '<bpmn:boundaryEvent id="Timer_Balasan"', 0),
    ],
)
def test_finding_points_at_the_broken_element(tmp_path, name, needle, slack):
    path, text = _write_broken(tmp_path, name)
    _result, [finding] = validate(read_bundle(path))
    assert 0 <= finding.line - _line(text, needle) <= slack, finding


def test_unknown_target_finding_names_the_missing_node(tmp_path):
    path, _text = _write_broken(tmp_path, "unknown_target")
    _result, findings = validate(read_bundle(path))
    assert any("Task_Hilang" in str(f) for f in findings), findings


def test_lane_outside_the_contract_is_a_finding(tmp_path):
    folder = tmp_path / "processes"
    folder.mkdir()
    shutil.copy(DMN, folder / DMN.name)
    path = folder / "lane.bpmn"
    path.write_text(SOURCE.replace('name="Instansi Vertikal"', 'name="Instansi Lain"', 1), encoding="utf-8")
    result, findings = validate(read_bundle(path))
    assert result is None
    assert any("Instansi Lain" in str(f) and f.file == "lane.bpmn" for f in findings)


def test_forms_beside_the_process_folder_win_over_the_projects(tmp_path):
    (tmp_path / "processes").mkdir()
    (tmp_path / "forms").mkdir()
    shutil.copy(BPMN, tmp_path / "processes" / BPMN.name)
    shutil.copy(DMN, tmp_path / "processes" / DMN.name)
    for form in project_file("forms", "").glob("*.schema.json"):
        shutil.copy(form, tmp_path / "forms" / form.name)
    own = (tmp_path / "forms" / "balasan.schema.json").read_text(encoding="utf-8").replace('"Pesan"', '"Pesan (versi daerah)"')
    (tmp_path / "forms" / "balasan.schema.json").write_text(own, encoding="utf-8")
    bundle = read_bundle(tmp_path / "processes" / BPMN.name)
    assert bundle.files["forms/balasan.schema.json"] == own
    assert validate(bundle)[1] == []


def test_missing_dmn_is_a_finding(tmp_path):
    folder = tmp_path / "processes"
    folder.mkdir()
    path = folder / BPMN.name
    shutil.copy(BPMN, path)
    result, findings = validate(read_bundle(path))
    assert result is None and findings


# ---- lapor validate -------------------------------------------------------------------------


def test_lapor_validate_lists_what_the_model_defines(model):
    result = CliRunner().invoke(main, ["validate", str(BPMN)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for heading in ("Lajur:", "Tugas pengguna:", "Formulir:", "Timer:"):
        assert heading in out
    for lane in DESIGN_LANES:
        assert f"  - {lane}\n" in out
    for task_id in USER_TASK_FORMS:
        assert f"  - {task_id}:" in out
    for form in model.forms:
        assert f"forms/{form}.schema.json" in out
    for timer in model.timers:
        assert f"  - {timer.bpmn_id}:" in out


@pytest.mark.parametrize("name", ["unknown_target", "malformed_xml", "missing_shape"])
def test_lapor_validate_fails_and_prints_file_and_line_for_a_broken_model(tmp_path, name):
    path, _text = _write_broken(tmp_path, name)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code != 0
    assert re.search(rf"{re.escape(path.name)}:\d+", result.stderr), result.output
    assert "Lajur:" not in result.stdout
