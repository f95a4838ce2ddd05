"""engine/definitions/validation.py and `lapor validate`: the project's model is valid, complete and drawn; broken copies are named."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import SpiffWorkflow
from click.testing import CliRunner
from lxml import etree

from engine.contract import LANE_ROLES
from engine.definitions import validation as definitions
from engine.definitions.validation import BPMN_NS, Bundle, attached_task, parsed, project_bundle, project_file, read_bundle, validate
from tests.engine.support import bpmn_without
from web.cli import main

BPMN = project_file("processes", "sp4n_lapor.bpmn")
DMN = project_file("processes", "kategori.dmn")
XSD = Path(SpiffWorkflow.__file__).parent / "bpmn" / "parser" / "schema" / "BPMN20.xsd"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CONTRACT_LANES = ["Masyarakat", "Sistem dan Admin Pusat", "Admin Kominfo", "Satuan Kerja", "Instansi Vertikal"]
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
    assert {attached_task(timer) for timer in model.timers} == set(USER_TASK_FORMS)
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
    ("name", "element", "needle", "slack"),
    [
        ("malformed_xml", None, '<bpmn:userTask id="Task_Disposisi"', 1),  # libxml2 notices the open quote on the next line
        ("xsd_violation", "Task_Disposisi", '<bpmn:userTask priority="1"', 0),
        ("missing_shape", "Task_Teruskan", '<bpmn:userTask id="Task_Teruskan"', 0),
        ("missing_form", "Task_Teruskan", '<bpmn:userTask id="Task_Teruskan"', 0),
        ("bad_timer", "Timer_Balasan", "batas_tidak_ada(10)", 0),  # the line of the expression itself
        ("unknown_target", "Flow_Notif", '<bpmn:sequenceFlow id="Flow_Notif"', 0),
    ],
)
def test_finding_points_at_the_broken_element(tmp_path, name, element, needle, slack):
    path, text = _write_broken(tmp_path, name)
    _result, findings = validate(read_bundle(path))
    [finding] = [f for f in findings if f.element == element]
    assert 0 <= finding.line - _line(text, needle) <= slack, finding


def test_each_consequence_of_a_broken_copy_is_named_too(tmp_path):
    """One mistake, every place it shows: the shape drawn for an id that does not exist, the scripts reading a form no task fills."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    path, _text = _write_broken(tmp_path / "a", "missing_shape")
    _result, findings = validate(read_bundle(path))
    assert {(f.code, f.element) for f in findings} == {("diagram", "Task_Teruskan"), ("reference", "Task_Teruskan_di")}
    assert any("'Task_Lain'" in f.message for f in findings)
    path, _text = _write_broken(tmp_path / "b", "missing_form")
    _result, findings = validate(read_bundle(path))
    assert {(f.code, f.element) for f in findings} == {
        ("form", "Task_Teruskan"),
        ("name", "Task_Terbitkan"),
        ("name", "Flow_Diteruskan"),
        ("name", "Flow_Dikembalikan"),
    }


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
    for lane in CONTRACT_LANES:
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


# ---- every kind of finding names file, line and element -----------------------------------------

FIXTURES = Path(__file__).parents[2] / "fixtures" / "bpmn"
DMN_SOURCE = DMN.read_text(encoding="utf-8")
FORM_TERIMA = project_file("forms", "terima.schema.json").read_text(encoding="utf-8")


def _subprocess_without_start(text: str) -> str:
    start = text.index('<bpmn:scriptTask id="Task_Rekam"')
    end = text.index("</bpmn:scriptTask>", start) + len("</bpmn:scriptTask>")
    task = text[start:end].replace("bpmn:scriptTask", "bpmn:subProcess").replace("<bpmn:script>rekam_pengaduan()</bpmn:script>", "")
    return text[:start] + task + text[end:]


KINDS = {
    # name: (code, element, the file the finding is in, edit of the BPMN, edits of other files, the text on the finding's line)
    "spiffworkflow_xsd": (
        "xsd",
        "Task_Disposisi",
        "sp4n_lapor.bpmn",
        lambda t: t.replace(
            '<spiffworkflow:property name="formJsonSchemaFilename" value="disposisi.schema.json" />', '<spiffworkflow:property nama="x" />'
        ),
        {},
        '<spiffworkflow:property nama="x" />',
    ),
    "dmn_xsd": (
        "xsd",
        "DecisionTable_Kategori",
        "kategori.dmn",
        None,
        {"kategori.dmn": DMN_SOURCE.replace('hitPolicy="UNIQUE"', 'hitPolicy="SEMUA"')},
        'hitPolicy="SEMUA"',
    ),
    "duplicate_id": (
        "xsd",
        "Task_Disposisi",
        "sp4n_lapor.bpmn",
        lambda t: t.replace('id="Task_Rekam"', 'id="Task_Disposisi"', 1),
        {},
        '<bpmn:userTask id="Task_Disposisi"',  # libxml2 names the second one,
    ),
    "reference": (
        "reference",
        "Gateway_Puas",
        "sp4n_lapor.bpmn",
        lambda t: t.replace('<bpmn:exclusiveGateway id="Gateway_Puas"', '<bpmn:exclusiveGateway default="Flow_Hilang" id="Gateway_Puas"', 1),
        {},
        '<bpmn:exclusiveGateway default="Flow_Hilang"',
    ),
    "lane": (
        "lane",
        "Lane_InstansiVertikal",
        "sp4n_lapor.bpmn",
        lambda t: t.replace('name="Instansi Vertikal">', 'name="Instansi Lain">', 1),
        {},
        '<bpmn:lane id="Lane_InstansiVertikal"',
    ),
    "task_without_lane": (
        "lane",
        "Task_Teruskan",
        "sp4n_lapor.bpmn",
        lambda t: t.replace("<bpmn:flowNodeRef>Task_Teruskan</bpmn:flowNodeRef>", ""),
        {},
        '<bpmn:userTask id="Task_Teruskan"',
    ),
    "task_without_form": (
        "form",
        "Task_Teruskan",
        "sp4n_lapor.bpmn",
        lambda t: t.replace('<spiffworkflow:property name="formJsonSchemaFilename" value="teruskan.schema.json" />', ""),
        {},
        '<bpmn:userTask id="Task_Teruskan"',
    ),
    "form_not_a_schema": (
        "schema",
        "type",
        "forms/terima.schema.json",
        None,
        {"forms/terima.schema.json": FORM_TERIMA.replace('"type": "string"', '"type": "teks"', 1)},
        '"type": "teks"',
    ),
    "form_not_json": (
        "json",
        None,
        "forms/terima.schema.json",
        None,
        {"forms/terima.schema.json": FORM_TERIMA.replace('"required"', "required", 1)},
        "required",
    ),
    "field": (
        "field",
        "Flow_Diterima_Satker",
        "sp4n_lapor.bpmn",
        lambda t: t.replace('terima["decision"] == "terima"', 'terima["keputusan"] == "terima"', 1),
        {},
        'terima["keputusan"]',  # the condition's own line,
    ),
    "dmn_field": (
        "field",
        "InputExpression_Kategori",
        "kategori.dmn",
        None,
        {"kategori.dmn": DMN_SOURCE.replace('pengaduan["category"]', 'pengaduan["kategori"]')},
        'pengaduan["kategori"]',
    ),
    "name": (
        "name",
        "Task_NotifKominfo",
        "sp4n_lapor.bpmn",
        lambda t: t.replace('beri_tahu(narahubung, "perlu_disposisi")', 'beri_tahu(narahubng, "perlu_disposisi")'),
        {},
        '<bpmn:script>ubah_status("diterima")',
    ),
    "syntax": ("syntax", "Task_Rekam", "sp4n_lapor.bpmn", lambda t: t.replace("rekam_pengaduan()", "rekam_pengaduan((", 1), {}, "rekam_pengaduan(("),
    "gateway_gap": (
        "gateway",
        "Gateway_Teruskan",
        "sp4n_lapor.bpmn",
        lambda t: t.replace('teruskan["decision"] == "kembalikan"', 'teruskan["decision"] == "kembali"'),
        {},
        '<bpmn:exclusiveGateway id="Gateway_Teruskan"',
    ),
    "gateway_open": (
        "gateway",
        "Gateway_Puas",
        "sp4n_lapor.bpmn",
        lambda t: t.replace('>balasan["satisfied"]<', '>balasan["text"] == "terima kasih"<'),
        {},
        '<bpmn:exclusiveGateway id="Gateway_Puas"',
    ),
    "gateway_no_condition": (
        "gateway",
        "Gateway_Puas",
        "sp4n_lapor.bpmn",
        lambda t: re.sub(r'(<bpmn:sequenceFlow id="Flow_TidakPuas"[^>]*>)\s*<bpmn:conditionExpression[^<]*</bpmn:conditionExpression>', r"\1", t),
        {},
        '<bpmn:exclusiveGateway id="Gateway_Puas"',
    ),
    "timer_unquoted": ("timer", "Timer_Balasan", "sp4n_lapor.bpmn", lambda t: t.replace("batas_hari_kerja(10)", "P10D"), {}, ">P10D<"),
    "timer_without_offset": (
        "timer",
        "Timer_Balasan",
        "sp4n_lapor.bpmn",
        lambda t: t.replace("batas_hari_kerja(10)", '"2026-12-24T23:59:59"'),
        {},
        '"2026-12-24T23:59:59"',
    ),
    "deadline_missing": (
        "deadline",
        "Task_Terima_Satker",
        "sp4n_lapor.bpmn",
        lambda t: bpmn_without(t, "Timer_Terima_Satker_Target", "Flow_Lewat_Terima_Satker_Target"),
        {},
        '<bpmn:userTask id="Task_Terima_Satker"',
    ),
    "deadline_kind": (
        "deadline",
        "Timer_Disposisi_Plafon",
        "sp4n_lapor.bpmn",
        lambda t: t.replace('value="plafon"', 'value="nasional"', 1),
        {},
        '<bpmn:boundaryEvent id="Timer_Disposisi_Plafon"',
    ),
    "decision": (
        "decision",
        "Task_Kategori",
        "sp4n_lapor.bpmn",
        lambda t: t.replace(">kategori</spiffworkflow:calledDecisionId>", ">kategori_lama</spiffworkflow:calledDecisionId>"),
        {},
        "kategori_lama",
    ),
    "edge_missing": (
        "diagram",
        "Flow_Notif",
        "sp4n_lapor.bpmn",
        lambda t: re.sub(r'<bpmndi:BPMNEdge id="Flow_Notif_di".*?</bpmndi:BPMNEdge>', "", t),
        {},
        '<bpmn:sequenceFlow id="Flow_Notif"',
    ),
    "process_id": (
        "process",
        "Process_Lain",
        "sp4n_lapor.bpmn",
        lambda t: t.replace('id="sp4n_lapor"', 'id="Process_Lain"').replace('processRef="sp4n_lapor"', 'processRef="Process_Lain"'),
        {},
        '<bpmn:process id="Process_Lain"',
    ),
    "spiffworkflow_parser": ("spiff", "Task_Rekam", "sp4n_lapor.bpmn", _subprocess_without_start, {}, '<bpmn:subProcess id="Task_Rekam"'),
    "sandbox": (
        "sandbox",
        "Task_KirimUnit",
        "sp4n_lapor.bpmn",
        lambda t: t.replace('ubah_status("didisposisikan")', 'ubah_status("didisposisikan")\nimport os', 1),
        {},
        "import os",  # the line of the import, inside the script
    ),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_of_finding_names_file_line_and_element(kind):
    code, element, file, edit_bpmn, other_files, needle = KINDS[kind]
    bundle = project_bundle()
    text = edit_bpmn(SOURCE) if edit_bpmn else SOURCE
    assert text != SOURCE or other_files, "the edit changed nothing"
    result, findings = validate(Bundle(bundle.bpmn_name, {**bundle.files, bundle.bpmn_name: text, **other_files}))
    assert result is None
    matching = [f for f in findings if f.code == code and f.element == element]
    assert len(matching) == 1, findings
    [finding] = matching
    assert finding.file == file
    if needle is not None:
        content = {**bundle.files, bundle.bpmn_name: text, **other_files}[file]
        assert finding.line == _line(content, needle), finding
    assert str(finding).startswith(f"{file}:{finding.line}: "), finding


def test_findings_speak_the_analysts_language():
    bundle = project_bundle()
    text = KINDS["gateway_gap"][3](SOURCE)
    _result, [finding] = validate(Bundle(bundle.bpmn_name, {**bundle.files, bundle.bpmn_name: text}))
    assert finding.message == ("Tidak ada alur keluar untuk teruskan[\"decision\"] = 'kembalikan'; tambahkan kondisinya atau alur bawaan (default).")
    text = KINDS["spiffworkflow_xsd"][3](SOURCE)
    _result, findings = validate(Bundle(bundle.bpmn_name, {**bundle.files, bundle.bpmn_name: text}))
    assert "Tidak sesuai skema spiffworkflow: atribut 'nama' tidak boleh ada pada <spiffworkflow:property>." in [f.message for f in findings]


def test_a_gateway_with_a_default_flow_needs_no_proof(tmp_path):
    bundle = project_bundle()
    text = KINDS["gateway_open"][3](SOURCE).replace(
        '<bpmn:exclusiveGateway id="Gateway_Puas"', '<bpmn:exclusiveGateway id="Gateway_Puas" default="Flow_TidakPuas"'
    )
    assert validate(Bundle(bundle.bpmn_name, {**bundle.files, bundle.bpmn_name: text}))[1] == []


def test_scripts_in_another_language_and_camunda_expressions_are_named_as_such():
    _result, findings = validate(read_bundle(FIXTURES / "camunda_collaboration.bpmn"))
    messages = {(f.element, f.message) for f in findings}
    assert ("Task_Tolak", "Skrip ini ditulis dalam groovy; SpiffWorkflow hanya menjalankan Python.") in messages
    assert any(element == "Flow_TidakLengkap" and "${!lengkap}" in message and "Python" in message for element, message in messages)
    assert all(f.line for f in findings)


# ---- the sandbox: what no expression may do (tests/security/test_sandbox.py tries the escapes) ----------------

SANDBOX_EDITS = {
    # where: (old text, new text, the element named, what its finding starts with)
    "pre-script": (
        '<spiffworkflow:property name="formJsonSchemaFilename" value="disposisi.schema.json" /></spiffworkflow:properties>',
        '<spiffworkflow:property name="formJsonSchemaFilename" value="disposisi.schema.json" /></spiffworkflow:properties>'
        '<spiffworkflow:preScript>catatan = open("/etc/passwd").read()</spiffworkflow:preScript>',
        "Task_Disposisi",
        "Fungsi 'open' tidak diizinkan.",
    ),
    "post-script": (
        '<spiffworkflow:property name="formJsonSchemaFilename" value="teruskan.schema.json" /></spiffworkflow:properties>',
        '<spiffworkflow:property name="formJsonSchemaFilename" value="teruskan.schema.json" /></spiffworkflow:properties>'
        "<spiffworkflow:postScript>import os</spiffworkflow:postScript>",
        "Task_Teruskan",
        "Impor 'os' tidak diizinkan: model hanya memakai fungsi bantu dan data tugas.",
    ),
    "multi-instance": (
        "<bpmn:outgoing>Flow_Rekam</bpmn:outgoing>",
        '<bpmn:outgoing>Flow_Rekam</bpmn:outgoing><bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>__import__("os")'
        "</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>",
        "Task_Rekam",
        "Nama '__import__' tidak diizinkan",
    ),
    "condition": ('>balasan["satisfied"]<', '>balasan["satisfied"] or print(1)<', "Flow_Puas", "Fungsi 'print' tidak diizinkan."),
    "timer": ("batas_hari_kerja(10)", 'batas_hari_kerja(10) if globals() else ""', "Timer_Balasan", "Fungsi 'globals' tidak diizinkan."),
}
DMN_SANDBOX_EDITS = {
    "input entry": ('<text>"kesehatan"</text>', '<text>? == "kesehatan" or vars()</text>', "In_kesehatan", "Fungsi 'vars' tidak diizinkan."),
    "output entry": ('<text>"dinas-kesehatan"</text>', '<text>"dinas-kesehatan".__class__</text>', "OutUnit_kesehatan", "Atribut '__class__'"),
    "input expression": (
        '<text>pengaduan["category"]</text>',
        "<text>pengaduan.format_map({})</text>",
        "InputExpression_Kategori",
        "Atribut 'format_map'",
    ),
}


def test_every_expression_the_engine_runs_is_checked_by_the_sandbox():
    bundle = project_bundle()
    text, dmn = SOURCE, DMN_SOURCE
    for old, new, *_rest in SANDBOX_EDITS.values():
        assert text.count(old) >= 1, old
        text = text.replace(old, new, 1)
    for old, new, *_rest in DMN_SANDBOX_EDITS.values():
        assert dmn.count(old) >= 1, old
        dmn = dmn.replace(old, new, 1)
    result, findings = validate(Bundle(bundle.bpmn_name, {**bundle.files, bundle.bpmn_name: text, "kategori.dmn": dmn}))
    assert result is None
    refused = [f for f in findings if f.code == "sandbox"]
    for file, content, edits in (("sp4n_lapor.bpmn", text, SANDBOX_EDITS), ("kategori.dmn", dmn, DMN_SANDBOX_EDITS)):
        for where, (_old, new, element, message) in edits.items():
            matching = [f for f in refused if (f.file, f.element) == (file, element) and f.message.startswith(message)]
            assert len(matching) == 1, (where, refused)
            assert matching[0].line == _line(content, new), (where, matching[0])
    assert len(refused) == len(SANDBOX_EDITS) + len(DMN_SANDBOX_EDITS), refused


def test_a_sandbox_finding_names_file_line_element_and_what_is_forbidden():
    bundle = project_bundle()
    text = SOURCE.replace("<bpmn:script>rekam_pengaduan()", "<bpmn:script>rekam_pengaduan()\n_x = ().__class__\nimport os", 1)
    _result, findings = validate(Bundle(bundle.bpmn_name, {**bundle.files, bundle.bpmn_name: text}))
    line = _line(text, "_x = ")
    assert [str(f) for f in findings if f.code == "sandbox"] == [
        f"sp4n_lapor.bpmn:{line}: Task_Rekam: Nama '_x' tidak diizinkan: nama yang diawali garis bawah (_) tertutup bagi model.",
        f"sp4n_lapor.bpmn:{line}: Task_Rekam: Atribut '__class__' tidak diizinkan: model hanya memakai data tugas, bukan bagian dalam objek Python.",
        f"sp4n_lapor.bpmn:{line + 1}: Task_Rekam: Impor 'os' tidak diizinkan: model hanya memakai fungsi bantu dan data tugas.",
    ]


def test_ordinary_python_passes_the_sandbox_check():
    bundle = project_bundle()
    script = (
        "rekam_pengaduan()\n"
        'catatan = len(pengaduan["title"]) &gt; 0\n'
        'kata = [k.lower() for k in pengaduan["title"].split() if len(k) &gt; 3]\n'
        'ringkas = {"judul": pengaduan["title"], "kata": kata, "lokasi": pengaduan.get("location", "")}\n'
        "label = f\"{pengaduan['category']}: {len(kata):02d}\"\n"
        "hash = sum(len(k) for k in kata)\n"  # a builtin's name the model sets itself is the model's own
        "panjang = hash + 1"
    )
    text = SOURCE.replace("<bpmn:script>rekam_pengaduan()</bpmn:script>", f"<bpmn:script>{script}</bpmn:script>", 1)
    assert text != SOURCE
    assert validate(Bundle(bundle.bpmn_name, {**bundle.files, bundle.bpmn_name: text}))[1] == []


# ---- hostile files: refused without reading files or expanding entities --------------------------


def _no_parsing(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("the XML parser must not see this file")

    monkeypatch.setattr(etree, "fromstring", refuse)
    monkeypatch.setattr(etree, "parse", refuse)


@pytest.mark.parametrize("fixture", ["billion_laughs.bpmn", "external_entity.bpmn"])
def test_entity_declarations_are_refused_before_the_parser_sees_them(monkeypatch, fixture):
    bundle = Bundle(fixture, {fixture: (FIXTURES / fixture).read_text(encoding="utf-8")})
    _no_parsing(monkeypatch)
    result, [finding] = validate(bundle)
    assert result is None
    assert (finding.file, finding.line, finding.code) == (fixture, 3, "doctype")
    assert finding.message == definitions.MSG_DOCTYPE
    assert "root:" not in str(finding)


def test_the_parser_itself_expands_no_entity_and_reads_no_file():
    """The second lock, should a declaration ever slip past the scan: libxml2 with entities off refuses both files."""
    bomb = (FIXTURES / "billion_laughs.bpmn").read_bytes()
    with pytest.raises(etree.XMLSyntaxError, match="amplification"):
        etree.fromstring(bomb, definitions._xml_parser())
    small_bomb = bomb.replace(b"&lol9;</bpmn:documentation>", b"&lol2;</bpmn:documentation>")
    root = etree.fromstring(small_bomb, definitions._xml_parser())
    documentation = root.find(".//bpmn:documentation", BPMN_NS)
    assert documentation.text is None and [type(n).__name__ for n in documentation] == ["_Entity"]  # left as a reference
    with pytest.raises(etree.XMLSyntaxError, match="external entity"):
        etree.fromstring((FIXTURES / "external_entity.bpmn").read_bytes(), definitions._xml_parser())
    in_text = (FIXTURES / "external_entity.bpmn").read_bytes().replace(b'name="&rahasia;"', b'name="x"').replace(b"&jaringan;", b"&rahasia;")
    root = etree.fromstring(in_text, definitions._xml_parser())
    assert b"root:" not in etree.tostring(root)


def test_a_huge_file_is_refused_without_parsing(monkeypatch):
    padding = "<!-- " + "x" * definitions.MAX_FILE_BYTES + " -->"
    bundle = Bundle("besar.bpmn", {"besar.bpmn": SOURCE.replace("<bpmn:process ", padding + "<bpmn:process ", 1)})
    _no_parsing(monkeypatch)
    result, [finding] = validate(bundle)
    assert result is None and finding.code == "size" and finding.file == "besar.bpmn"
    assert finding.message == f"Berkas terlalu besar: {len(bundle.files['besar.bpmn'].encode()) // 1024} KB, batasnya 2048 KB."


def test_a_deeply_nested_file_is_refused():
    deep = SOURCE.replace("<bpmn:documentation>", "<bpmn:documentation>" + "<a>" * 300 + "</a>" * 300, 1)
    _result, [finding] = validate(Bundle("dalam.bpmn", {"dalam.bpmn": deep}))
    assert finding.code == "xml" and "depth" in finding.message


# ---- uploads ---------------------------------------------------------------------------------------


def test_upload_bundle_keeps_the_running_name_dmn_and_forms_and_takes_uploaded_forms():
    base = project_bundle()
    own = FORM_TERIMA.replace('"Catatan"', '"Catatan unit"')
    bundle, findings = definitions.bundle_from_upload(
        ("sp4n_lapor (revisi 2).bpmn", SOURCE.encode()), forms=[("terima.schema.json", own.encode())], base=base
    )
    assert findings == [] and bundle.bpmn_name == "sp4n_lapor.bpmn"
    assert bundle.files["kategori.dmn"] == base.files["kategori.dmn"]
    assert bundle.files["forms/terima.schema.json"] == own
    assert set(bundle.files) == set(base.files)
    same, _findings = definitions.bundle_from_upload(("lain.bpmn", ("\ufeff" + SOURCE).encode()), base=base)
    assert same.content_hash == base.content_hash  # a byte order mark and another file name: the same version


def test_upload_bundle_refuses_wrong_kind_size_and_encoding_before_decoding():
    base = project_bundle()
    cases = [
        (("proses.xml", b"<x/>"), "file"),
        (("proses.bpmn", SOURCE.encode("utf-16")), "encoding"),
        (("proses.bpmn", b" " * (definitions.MAX_FILE_BYTES + 1)), "size"),
    ]
    for upload, code in cases:
        bundle, [finding] = definitions.bundle_from_upload(upload, base=base)
        assert bundle is None and finding.code == code, finding


def test_form_names_in_the_model_cannot_leave_the_forms_folder(tmp_path):
    (tmp_path / "processes").mkdir()
    (tmp_path / "forms").mkdir()
    (tmp_path / "rahasia.schema.json").write_text('{"type": "object"}', encoding="utf-8")
    text = SOURCE.replace('value="teruskan.schema.json"', 'value="../rahasia.schema.json"')
    (tmp_path / "processes" / "sp4n_lapor.bpmn").write_text(text, encoding="utf-8")
    shutil.copy(DMN, tmp_path / "processes" / DMN.name)
    bundle = read_bundle(tmp_path / "processes" / "sp4n_lapor.bpmn", tmp_path / "forms")
    assert not any("rahasia" in name for name in bundle.files)
    _result, findings = validate(bundle)
    assert ("form", "Task_Teruskan") in {(f.code, f.element) for f in findings}


# ---- lapor validate / lapor deploy: exit codes ----------------------------------------------------


def test_lapor_validate_refuses_a_hostile_file_with_exit_1():
    result = CliRunner().invoke(main, ["validate", str(FIXTURES / "billion_laughs.bpmn")])
    assert result.exit_code == 1
    assert "billion_laughs.bpmn:3: Berkas memuat deklarasi DOCTYPE" in result.stderr


def test_lapor_validate_of_a_missing_file_is_a_usage_error():
    assert CliRunner().invoke(main, ["validate", "/tidak/ada.bpmn"]).exit_code == 2


@pytest.fixture
def cli_env(monkeypatch, db_url):
    monkeypatch.setenv("LAPOR_DATABASE_URL", db_url)
    monkeypatch.setenv("LAPOR_SECRET_KEY", "test")
    return db_url


def _definition_count(db_url: str) -> int:
    from sqlalchemy import create_engine, func, select

    from engine.db.tables import Definition

    engine = create_engine(db_url)
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).select_from(Definition))
    engine.dispose()
    return count


def test_lapor_deploy_stores_a_changed_file_once_and_refuses_a_broken_one(cli_env, tmp_path):
    (tmp_path / "processes").mkdir()
    changed = tmp_path / "processes" / "sp4n_lapor.bpmn"
    changed.write_text(SOURCE.replace('name="Teruskan laporan ke unit kerja"', 'name="Teruskan laporan"'), encoding="utf-8")
    shutil.copy(DMN, tmp_path / "processes" / DMN.name)

    result = CliRunner().invoke(main, ["deploy", str(changed), "--note", "nama tugas", "--by", "analis"])
    assert result.exit_code == 0, result.output
    assert "Versi 2" in result.stdout and "dipasang" in result.stdout
    assert "Task_Disposisi" in result.stdout  # what changed against version 1
    assert _definition_count(cli_env) == 2

    again = CliRunner().invoke(main, ["deploy", str(changed)])
    assert again.exit_code == 0 and "tidak berubah" in again.stdout
    assert _definition_count(cli_env) == 2

    (tmp_path / "rusak").mkdir()
    broken, _text = _write_broken(tmp_path / "rusak", "bad_timer")
    refused = CliRunner().invoke(main, ["deploy", str(broken)])
    assert refused.exit_code == 1
    timer_line = _line(_text, "batas_tidak_ada(10)")  # the finding points at the timer's expression
    assert f"bad_timer.bpmn:{timer_line}: Timer_Balasan:" in refused.stderr and "tidak ada yang dipasang" in refused.stderr.lower()
    assert _definition_count(cli_env) == 2
