"""What the tests of engine/definitions/ share: the project's model and its broken copies, every kind of finding, versions of the model."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from engine.contract import Actor
from engine.definitions.bundle import Bundle, project_bundle, project_file
from tests.engine.support import bpmn_without

BPMN = project_file("processes", "sp4n_lapor.bpmn")
DMN = project_file("processes", "kategori.dmn")


def copy_decisions(folder: Path) -> None:
    """Copy the project's decision tables (every processes/*.dmn) into ``folder``, beside a copied model."""
    for table in DMN.parent.glob("*.dmn"):
        shutil.copy(table, folder / table.name)


SOURCE = BPMN.read_text(encoding="utf-8")
DMN_SOURCE = DMN.read_text(encoding="utf-8")
PUAS = 'balasan["satisfied"] and balasan.get("rating") not in (1, 2)'  # Flow_Puas's condition (a rating of 2 or less reopens)
FORM_TERIMA = project_file("forms", "terima.schema.json").read_text(encoding="utf-8")
FIXTURES = Path(__file__).parents[2] / "fixtures" / "bpmn"
CONTRACT_LANES = ["Masyarakat", "Sistem dan Admin Pusat", "Admin Kominfo", "Satuan Kerja", "Instansi Vertikal"]
USER_TASK_FORMS = {
    "Task_Disposisi": "disposisi",
    "Task_Terima_Satker": "terima",
    "Task_Terima_Vertikal": "terima",
    "Task_Tanggapan_Satker": "tanggapan",
    "Task_Tanggapan_Vertikal": "tanggapan",
    "Task_Teruskan": "teruskan",
    "Task_Balasan": "balasan",
    "Task_Kelengkapan": "kelengkapan",
    "Task_Perpanjangan": "perpanjangan",
}


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


# ---- broken copies of the model ------------------------------------------------------------------


BROKEN = {
    "unknown_target": (
        '<bpmn:sequenceFlow id="Flow_Notif" sourceRef="Task_NotifKominfo" targetRef="Task_Disposisi" />',
        '<bpmn:sequenceFlow id="Flow_Notif" sourceRef="Task_NotifKominfo" targetRef="Task_Hilang" />',
    ),
    "malformed_xml": (
        '<bpmn:userTask id="Task_Disposisi" name="Verifikasi laporan">',
        '<bpmn:userTask id="Task_Disposisi" name="Verifikasi laporan>',
    ),
    "xsd_violation": ('<bpmn:userTask id="Task_Disposisi"', '<bpmn:userTask priority="1" id="Task_Disposisi"'),
    "missing_shape": ('bpmnElement="Task_Teruskan"', 'bpmnElement="Task_Lain"'),
    "missing_form": ('value="teruskan.schema.json"', 'value="hilang.schema.json"'),
    "bad_timer": ("batas_hari_kerja(10)", "batas_tidak_ada(10)"),
}


def write_broken(tmp_path: Path, name: str) -> tuple[Path, str]:
    old, new = BROKEN[name]
    assert SOURCE.count(old) >= 1
    text = SOURCE.replace(old, new, 1)
    folder = tmp_path / "processes"
    folder.mkdir()
    copy_decisions(folder)
    path = folder / f"{name}.bpmn"
    path.write_text(text, encoding="utf-8")
    return path, text


# ---- every kind of finding: (code, element, the file the finding is in, edit of the BPMN, edits of other files, the text on the finding's line)


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
        lambda t: t.replace(f">{PUAS}<", '>balasan["text"] == "terima kasih"<'),
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
    "timer_unquoted": ("timer", "Timer_Balasan", "sp4n_lapor.bpmn", lambda t: t.replace("batas_hari_kerja(10)", "P10D", 1), {}, ">P10D<"),
    "timer_without_offset": (
        "timer",
        "Timer_Balasan",
        "sp4n_lapor.bpmn",
        lambda t: t.replace("batas_hari_kerja(10)", '"2026-12-24T23:59:59"', 1),
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


# ---- versions of the model ---------------------------------------------------------------------------


ANALIS = Actor("analis", "analis")
PLAFON = ("Timer_Disposisi_Plafon", "Task_Eskalasi_Disposisi_Plafon", "End_Eskalasi_Disposisi_Plafon")
PLAFON_FLOWS = ("Flow_Lewat_Disposisi_Plafon", "Flow_EskalasiSelesai_Disposisi_Plafon")


def variant(*replacements: tuple[str, str], remove: tuple[str, ...] = (), forms: dict[str, str] | None = None) -> Bundle:
    bundle = project_bundle()
    text = bundle.files[bundle.bpmn_name]
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    if remove:
        text = bpmn_without(text, *remove)
    return Bundle(bundle.bpmn_name, {**bundle.files, bundle.bpmn_name: text, **(forms or {})})


NO_PLAFON = variant(remove=PLAFON + PLAFON_FLOWS)
RENAMED = variant(('name="Verifikasi laporan"', 'name="Verifikasi dan teruskan laporan"'))
