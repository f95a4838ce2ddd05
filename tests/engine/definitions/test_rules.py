"""engine/definitions/rules.py: the service's contract on a model (lanes, forms, gateways, languages) and the sandbox check of every expression."""

from __future__ import annotations

import shutil

from engine.definitions.bpmn_xml import BPMN_NS
from engine.definitions.bundle import Bundle, project_bundle, read_bundle
from engine.definitions.validation import validate
from tests.engine.definitions.support import DMN, DMN_SOURCE, FIXTURES, KINDS, PUAS, SOURCE, line_of

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def test_start_event_carries_the_complaint_form(root):
    [start] = root.xpath("//bpmn:process/bpmn:startEvent", namespaces=BPMN_NS)
    forms = start.xpath(".//spiffworkflow:property[@name='formJsonSchemaFilename']/@value", namespaces={"spiffworkflow": SPIFF_NS})
    assert forms == ["pengaduan.schema.json"]


def test_lane_outside_the_contract_is_a_finding(tmp_path):
    folder = tmp_path / "processes"
    folder.mkdir()
    shutil.copy(DMN, folder / DMN.name)
    path = folder / "lane.bpmn"
    path.write_text(SOURCE.replace('name="Instansi Vertikal"', 'name="Instansi Lain"', 1), encoding="utf-8")
    result, findings = validate(read_bundle(path))
    assert result is None
    assert any("Instansi Lain" in str(f) and f.file == "lane.bpmn" for f in findings)


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
    "condition": (f">{PUAS}<", f">{PUAS} or print(1)<", "Flow_Puas", "Fungsi 'print' tidak diizinkan."),
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
            assert matching[0].line == line_of(content, new), (where, matching[0])
    assert len(refused) == len(SANDBOX_EDITS) + len(DMN_SANDBOX_EDITS), refused


def test_a_sandbox_finding_names_file_line_element_and_what_is_forbidden():
    bundle = project_bundle()
    text = SOURCE.replace("<bpmn:script>rekam_pengaduan()", "<bpmn:script>rekam_pengaduan()\n_x = ().__class__\nimport os", 1)
    _result, findings = validate(Bundle(bundle.bpmn_name, {**bundle.files, bundle.bpmn_name: text}))
    line = line_of(text, "_x = ")
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
