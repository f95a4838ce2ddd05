"""engine/definitions/diff.py: what changed between two versions (tasks, timers, flows, events, form fields, decision tables)."""

from __future__ import annotations

import json

from engine.definitions.bundle import Bundle, project_bundle
from engine.definitions.diff import diff
from tests.engine.definitions.support import NO_PLAFON, variant


def kinds(changes, change: str) -> set[tuple[str, str]]:
    return {(c.kind, c.element) for c in changes if c.change == change}


def test_identical_bundles_have_no_differences():
    assert diff(project_bundle(), project_bundle()) == []


def test_first_version_lists_every_element_as_added():
    changes = diff(None, project_bundle())
    assert {c.change for c in changes} == {"added"}
    assert ("task", "Task_Disposisi") in kinds(changes, "added") and ("form", "pengaduan") in kinds(changes, "added")
    assert ("decision", "kategori") in kinds(changes, "added")


def test_diff_names_removed_and_added_tasks_timers_flows_and_events():
    removed = diff(project_bundle(), NO_PLAFON)
    assert kinds(removed, "removed") == {
        ("task", "Task_Eskalasi_Disposisi_Plafon"),
        ("timer", "Timer_Disposisi_Plafon"),
        ("flow", "Flow_Lewat_Disposisi_Plafon"),
        ("flow", "Flow_EskalasiSelesai_Disposisi_Plafon"),
        ("event", "End_Eskalasi_Disposisi_Plafon"),
    }
    assert kinds(removed, "added") == kinds(removed, "changed") == set()
    added = diff(NO_PLAFON, project_bundle())
    assert kinds(added, "added") == kinds(removed, "removed")
    [timer] = [c for c in added if c.element == "Timer_Disposisi_Plafon"]
    assert timer.name == "Batas nasional 3 hari kerja"


def test_diff_names_what_changed_in_a_task_a_timer_and_a_flow():
    changed = variant(
        ('name="Verifikasi laporan"', 'name="Teruskan ke unit"'),
        ("batas_hari_kerja(3)", "batas_hari_kerja(2)"),
        ('teruskan["decision"] == "kembalikan"', 'teruskan["decision"] != "teruskan"'),
    )
    changes = {c.element: c for c in diff(project_bundle(), changed)}
    assert set(changes) == {"Task_Disposisi", "Timer_Disposisi_Plafon", "Flow_Dikembalikan"}
    assert changes["Task_Disposisi"].details == (("name", "Verifikasi laporan", "Teruskan ke unit"),)
    assert changes["Timer_Disposisi_Plafon"].kind == "timer"
    assert changes["Timer_Disposisi_Plafon"].details == (("expression", "batas_hari_kerja(3)", "batas_hari_kerja(2)"),)
    assert changes["Flow_Dikembalikan"].details == (("condition", 'teruskan["decision"] == "kembalikan"', 'teruskan["decision"] != "teruskan"'),)


def test_diff_names_form_fields_added_removed_and_changed():
    terima = json.loads(project_bundle().files["forms/terima.schema.json"])
    terima["properties"]["alasan"] = {"type": "string", "title": "Alasan"}
    del terima["properties"]["note"]
    terima["properties"]["decision"]["enum"].append("tunda")
    terima["required"].append("alasan")
    bundle = project_bundle()
    changed = Bundle(
        bundle.bpmn_name,
        {**bundle.files, "forms/terima.schema.json": json.dumps(terima), "forms/baru.schema.json": '{"type": "object"}'},
    )
    changes = [c for c in diff(bundle, changed) if c.kind == "form"]
    assert kinds(changes, "added") == {("form", "baru")}
    [terima_change] = [c for c in changes if c.change == "changed"]
    assert terima_change.element == "terima"
    assert set(terima_change.details) == {
        ("field_added", "", "alasan"),
        ("field_removed", "note", ""),
        ("field_changed", "decision", "enum"),
        ("required", "decision", "decision, alasan"),
    }


def test_diff_notices_a_changed_decision_table():
    bundle = project_bundle()
    dmn = bundle.files["kategori.dmn"].replace(
        '<outputEntry id="OutUnit_pendidikan"><text>"dinas-pendidikan"</text>', '<outputEntry id="OutUnit_pendidikan"><text>"dinas-kesehatan"</text>'
    )
    assert dmn != bundle.files["kategori.dmn"]
    [change] = diff(bundle, Bundle(bundle.bpmn_name, {**bundle.files, "kategori.dmn": dmn}))
    assert (change.kind, change.element, change.change) == ("decision", "kategori", "changed")
    assert change.details == (("rules", "6", "6"),)
