"""engine/definitions/versions.py: the diff between versions, deploying only on change, where cases spend time, moving running cases."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine import Actor, Conflict
from engine.audit.trail import first_broken
from engine.db.tables import AuditEvent, Case, Definition, OpenTask
from engine.definitions.validation import Bundle, project_bundle, project_file
from engine.definitions.versions import MIGRATED, REVERTED, Migrations, ProcessWatcher, diff, summaries, version
from engine.reports.heatmap import heat
from engine.reports.sla import CaseFilter
from tests.engine.support import (
    KOMINFO,
    audit_types,
    bpmn_without,
    do,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    open_row,
    snapshot,
    submit,
)
from tests.scenarios import ACCEPT_SATKER, ANSWER_SATKER, COMPLAINT, FORWARD_SATKER, PUBLISH, SATISFIED

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
RENAMED = variant(('name="Teruskan laporan ke unit kerja"', 'name="Teruskan laporan ke unit yang berwenang"'))


def kinds(changes, change: str) -> set[tuple[str, str]]:
    return {(c.kind, c.element) for c in changes if c.change == change}


# ---- diff -------------------------------------------------------------------------------------------


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
        ('name="Teruskan laporan ke unit kerja"', 'name="Teruskan ke unit"'),
        ("batas_hari_kerja(3)", "batas_hari_kerja(2)"),
        ('teruskan["decision"] == "kembalikan"', 'teruskan["decision"] != "teruskan"'),
    )
    changes = {c.element: c for c in diff(project_bundle(), changed)}
    assert set(changes) == {"Task_Disposisi", "Timer_Disposisi_Plafon", "Flow_Dikembalikan"}
    assert changes["Task_Disposisi"].details == (("name", "Teruskan laporan ke unit kerja", "Teruskan ke unit"),)
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


# ---- deploying, and which version a case runs on ----------------------------------------------------


def test_deploy_stores_who_when_and_note_only_when_the_content_changed(service, session, clock):
    first = service.current_definition()
    again, created = service.deploy(project_bundle(), by="analis", note="sama")
    assert (again.id, created) == (first.id, False)
    clock.advance(hours=1)
    definition, created = service.deploy(RENAMED, by="analis", note="nama tugas diperjelas")
    session.commit()
    assert created and definition.number == first.number + 1
    assert (definition.deployed_by, definition.note, definition.deployed_at) == ("analis", "nama tugas diperjelas", clock.now())
    assert definition.content_hash == RENAMED.content_hash
    assert service.deploy(RENAMED, by="lain")[1] is False
    assert session.scalar(select(func.count()).select_from(Definition)) == 2


def test_new_cases_start_on_the_new_version_and_running_cases_stay_on_theirs(service, session):
    running = submit(service, COMPLAINT)
    v2, _created = service.deploy(RENAMED, by="analis", note="v2")
    session.commit()
    fresh = submit(service, COMPLAINT)
    assert fresh.case.definition_id == v2.id != running.case.definition_id
    assert open_row(session, fresh.case.id, "Task_Disposisi").name == "Teruskan laporan ke unit yang berwenang"
    assert open_row(session, running.case.id, "Task_Disposisi").name == "Teruskan laporan ke unit kerja"
    [newest, oldest] = summaries(session)
    assert (newest.definition.number, newest.running, newest.finished, newest.current) == (2, 1, 0, True)
    assert (oldest.definition.number, oldest.running, oldest.finished, oldest.current) == (1, 1, 0, False)


def test_summaries_count_finished_cases_apart(service, session):
    submit(service, COMPLAINT, [FORWARD_SATKER, ACCEPT_SATKER, ANSWER_SATKER, PUBLISH, SATISFIED])
    submit(service, COMPLAINT)
    [only] = summaries(session)
    assert (only.running, only.finished) == (1, 1)


# ---- heat: where cases spend time -------------------------------------------------------------------


def heat_on(session, definition: Definition):
    """engine/reports/heatmap.py's figures for one version, as its page /proses/versi/<n> shows them."""
    return heat(session, CaseFilter(definition_id=definition.id))


def test_heat_counts_completions_per_node_with_the_median_time_open(service, session, clock):
    a = submit(service, COMPLAINT)
    b = submit(service, COMPLAINT)
    clock.advance(hours=2)
    do(service, a, FORWARD_SATKER)
    clock.advance(hours=2)
    do(service, b, FORWARD_SATKER)  # open 4 hours
    clock.advance(hours=1)
    do(service, a, ACCEPT_SATKER)  # open 3 hours
    result = heat_on(session, service.current_definition())
    assert result["Start_Pengaduan"].count == 2
    assert result["Task_Disposisi"].count == 2 and result["Task_Disposisi"].median == timedelta(hours=3)
    assert result["Task_Terima_Satker"].count == 1 and result["Task_Terima_Satker"].median == timedelta(hours=3)
    assert "Task_Tanggapan_Satker" not in result


def test_heat_counts_fired_timers_and_belongs_to_the_version_the_case_ran_on(service, session, clock):
    case = submit(service, COMPLAINT)
    clock.advance(days=2)
    assert service.fire_timers(case.case.id) == 1  # the SOP target (1 working day) passed, the ceiling (3) not yet
    session.commit()
    v1 = service.current_definition()
    assert heat_on(session, v1)["Timer_Disposisi_Target"].count == 1
    v2, _ = service.deploy(RENAMED, by="analis")
    Migrations(service).migrate(1, [case.case.id], v2.number, ANALIS)
    session.commit()
    clock.advance(hours=1)
    do(service, case, FORWARD_SATKER)
    assert "Task_Disposisi" not in heat_on(session, v1)  # completed after the move: counted on version 2
    assert heat_on(session, v2)["Task_Disposisi"].count == 1
    assert heat_on(session, v1)["Timer_Disposisi_Target"].count == 1 and "Timer_Disposisi_Target" not in heat_on(session, v2)


# ---- migration --------------------------------------------------------------------------------------


def test_dry_run_lists_what_would_move_and_what_cannot_and_writes_nothing(service, session, clock):
    waiting = submit(service, COMPLAINT)
    escalated = submit(service, COMPLAINT)
    closed = submit(service, COMPLAINT, [FORWARD_SATKER, ACCEPT_SATKER, ANSWER_SATKER, PUBLISH, SATISFIED])
    clock.advance(days=4)  # both deadlines of the escalated case pass: its history now holds the ceiling's escalation
    service.fire_timers(escalated.case.id)
    session.commit()
    v2, _ = service.deploy(NO_PLAFON, by="analis", note="tanpa plafon disposisi")
    session.commit()
    before = [snapshot(session, s.case.id) for s in (waiting, escalated, closed)]
    ok, refused = Migrations(service).check(1, [closed.case.id, escalated.case.id, waiting.case.id], v2.number)  # oldest first
    assert ok.ok and ok.open_tasks == ["Teruskan laporan ke unit kerja"] and (ok.from_number, ok.to_number) == (1, 2)
    assert ok.notes == ["Timer 'Batas nasional 3 hari kerja' tidak ada di versi tujuan dan dihapus."]
    assert not refused.ok and refused.reason == "Laporan sudah melewati 'Batas nasional 3 hari kerja', yang tidak ada di versi 2."
    assert [snapshot(session, s.case.id) for s in (waiting, escalated, closed)] == before


def test_only_open_cases_of_the_from_version_are_checked_or_moved(service, session, clock):
    """A closed case, or one on another version, is neither listed nor moved, whatever ids the caller passes."""
    closed = submit(service, COMPLAINT, [FORWARD_SATKER, ACCEPT_SATKER, ANSWER_SATKER, PUBLISH, SATISFIED])
    waiting = submit(service, COMPLAINT)
    v2, _ = service.deploy(RENAMED, by="analis")
    session.commit()
    newer = submit(service, COMPLAINT)  # starts on version 2
    every = [closed.case.id, waiting.case.id, newer.case.id, 10**6]
    before = [snapshot(session, s.case.id) for s in (closed, waiting, newer)]
    migrations = Migrations(service)
    assert [c.tracking_id for c in migrations.check(1, every, v2.number)] == [waiting.case.tracking_id]
    assert migrations.check(2, [closed.case.id, waiting.case.id], 1) == [] and migrations.check(1, [], v2.number) == []
    assert migrations.migrate(1, [closed.case.id, newer.case.id], v2.number, ANALIS) == []
    assert migrations.migrate(2, [closed.case.id, waiting.case.id], 1, ANALIS) == []
    session.commit()
    assert [snapshot(session, s.case.id) for s in (closed, waiting, newer)] == before
    [moved] = migrations.migrate(1, every, v2.number, ANALIS)
    assert moved.ok and moved.tracking_id == waiting.case.tracking_id


def test_open_task_missing_in_the_target_refuses_the_move(service, session):
    case = submit(service, COMPLAINT, [FORWARD_SATKER])  # waits at Task_Terima_Satker
    v2, _ = service.deploy(_renamed_terima(), by="analis")
    [check] = Migrations(service).check(1, [case.case.id], v2.number)
    assert check.reason == "Tugas yang sedang terbuka 'Terima laporan' tidak ada di versi 2."


def _renamed_terima() -> Bundle:
    """Task_Terima_Satker under a new id (every reference and its DI follow)."""
    bundle = project_bundle()
    text = bundle.files[bundle.bpmn_name].replace("Task_Terima_Satker", "Task_Terima_Satuan")
    return Bundle(bundle.bpmn_name, {**bundle.files, bundle.bpmn_name: text})


def test_migrate_keeps_task_ids_data_and_deadlines_and_is_an_audit_event(service, session, clock):
    case = submit(service, COMPLAINT)
    row = open_row(session, case.case.id, "Task_Disposisi")
    task_id, due, ceiling = row.id, row.due_at, row.ceiling_at
    v2, _ = service.deploy(RENAMED, by="analis")
    session.commit()
    clock.advance(hours=3)
    [result] = Migrations(service).migrate(1, [case.case.id], v2.number, ANALIS)
    session.commit()
    assert result.ok and result.notes == []
    stored = session.get(Case, case.case.id)
    assert stored.definition_id == v2.id
    row = open_row(session, case.case.id, "Task_Disposisi")
    assert (row.id, row.due_at, row.ceiling_at) == (task_id, due, ceiling)
    assert row.name == "Teruskan laporan ke unit yang berwenang"
    event = session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.case.id, AuditEvent.type == MIGRATED))
    data = json.loads(event.data)
    assert (event.actor, event.at, data["from"], data["to"]) == ("analis", clock.now(), 1, 2)
    assert data["open_tasks"] == ["Task_Disposisi"] and set(data["timers"]) == {"Timer_Disposisi_Target", "Timer_Disposisi_Plafon"}
    assert "pengaduan" not in event.data and COMPLAINT["reporter"]["email"] not in event.data  # no personal data in the record
    # the case runs on, on version 2, to its end
    for step in (FORWARD_SATKER, ACCEPT_SATKER, ANSWER_SATKER, PUBLISH, SATISFIED):
        do(service, case, step)
    assert session.get(Case, case.case.id).status == "selesai"


def test_migrate_and_revert_put_a_removed_deadline_back_as_it_was(service, session, clock):
    case = submit(service, COMPLAINT)
    ceiling = open_row(session, case.case.id, "Task_Disposisi").ceiling_at
    assert ceiling is not None
    v2, _ = service.deploy(NO_PLAFON, by="analis")
    session.commit()
    migrations = Migrations(service)
    [moved] = migrations.migrate(1, [case.case.id], v2.number, ANALIS)
    session.commit()
    assert moved.ok and open_row(session, case.case.id, "Task_Disposisi").ceiling_at is None
    [record] = migrations.records(number=2)
    assert (record.tracking_id, record.from_number, record.to_number, record.revertible) == (case.case.tracking_id, 1, 2, True)
    clock.advance(hours=5)
    reverted = migrations.revert(case.case.id, ANALIS)
    session.commit()
    assert reverted.notes == ["Timer 'Batas nasional 3 hari kerja' kembali dengan batas semula."]
    assert session.get(Case, case.case.id).definition_id == service.session.scalar(select(Definition.id).where(Definition.number == 1))
    assert open_row(session, case.case.id, "Task_Disposisi").ceiling_at == ceiling
    assert audit_types(session, case.case.id)[-2:] == [MIGRATED, REVERTED]
    [record] = migrations.records(number=2)
    assert record.reverted and not record.revertible
    with pytest.raises(Conflict):
        migrations.revert(case.case.id, ANALIS)
    for step in (FORWARD_SATKER, ACCEPT_SATKER):
        do(service, case, step)


def test_moving_to_a_version_that_adds_a_deadline_arms_it_from_the_migration(service, session, clock):
    v1 = service.current_definition()
    v2, _ = service.deploy(NO_PLAFON, by="analis")
    session.commit()
    case = submit(service, COMPLAINT)  # runs on version 2: no national ceiling on the disposition
    assert open_row(session, case.case.id, "Task_Disposisi").ceiling_at is None
    clock.advance(days=1)  # Tuesday 09:00 WIB
    [moved] = Migrations(service).migrate(v2.number, [case.case.id], v1.number, ANALIS)
    session.commit()
    assert moved.notes == ["Timer baru 'Batas nasional 3 hari kerja' mulai dihitung saat pemindahan."]
    ceiling = open_row(session, case.case.id, "Task_Disposisi").ceiling_at
    assert ceiling == service.calendar.add_working_days(clock.now(), 3)


def test_nothing_to_revert_is_a_conflict(service, session):
    case = submit(service, COMPLAINT)
    with pytest.raises(Conflict):
        Migrations(service).revert(case.case.id, ANALIS)


def test_revert_after_the_case_moved_on_keeps_its_progress(service, session):
    case = submit(service, COMPLAINT)
    v2, _ = service.deploy(RENAMED, by="analis")
    Migrations(service).migrate(1, [case.case.id], v2.number, ANALIS)
    session.commit()
    do(service, case, FORWARD_SATKER)  # a step on version 2 after the move
    assert Migrations(service).records(case_id=case.case.id)[0].revertible
    reverted = Migrations(service).revert(case.case.id, ANALIS)
    session.commit()
    assert reverted.ok and reverted.open_tasks == ["Terima laporan"]
    assert session.get(Case, case.case.id).definition_id == version(session, 1).id
    assert open_row(session, case.case.id, "Task_Terima_Satker").unit_id == "dinas-pendidikan"
    do(service, case, ACCEPT_SATKER)


def test_a_migrated_case_stays_claimed_and_completable_by_its_holder(service, session):
    case = submit(service, COMPLAINT)
    row = open_row(session, case.case.id, "Task_Disposisi")
    service.claim(row.id, KOMINFO)
    session.commit()
    v2, _ = service.deploy(RENAMED, by="analis")
    Migrations(service).migrate(1, [case.case.id], v2.number, ANALIS)
    session.commit()
    assert session.get(OpenTask, row.id).claimed_by == "kominfo"
    do(service, case, FORWARD_SATKER)


def test_a_migrated_case_history_still_verifies(service, session):
    case = submit(service, COMPLAINT)
    v2, _ = service.deploy(RENAMED, by="analis")
    Migrations(service).migrate(1, [case.case.id], v2.number, ANALIS)
    session.commit()
    assert first_broken(session, session.get(Case, case.case.id)) is None


def test_unknown_version_is_not_found(service):
    from engine import NotFound

    with pytest.raises(NotFound):
        version(service.session, 99)


# ---- the development server's watch ----------------------------------------------------------------


def test_watcher_deploys_an_edited_process_and_reports_a_broken_one(service, session, clock, tmp_path):
    (tmp_path / "processes").mkdir()
    (tmp_path / "forms").mkdir()
    bpmn = tmp_path / "processes" / "sp4n_lapor.bpmn"
    shutil.copy(project_file("processes", "sp4n_lapor.bpmn"), bpmn)
    shutil.copy(project_file("processes", "kategori.dmn"), tmp_path / "processes" / "kategori.dmn")
    for form in project_file("forms", "").glob("*.schema.json"):
        shutil.copy(form, tmp_path / "forms" / form.name)
    watcher = ProcessWatcher(bpmn, tmp_path / "forms")

    first = watcher.check(session, clock)  # the files as deployed by the seed: nothing new
    assert first is not None and (first.number, first.created) == (1, False)
    assert watcher.check(session, clock) is None  # nothing changed since

    bpmn.write_text(RENAMED.files["sp4n_lapor.bpmn"], encoding="utf-8")
    outcome = watcher.check(session, clock)
    session.commit()
    assert outcome.ok and (outcome.number, outcome.created) == (2, True)
    assert service.current_definition().deployed_by == "lapor serve"

    bpmn.write_text(RENAMED.files["sp4n_lapor.bpmn"].replace("batas_hari_kerja(10)", "batas_tidak_ada(10)"), encoding="utf-8")
    failed = watcher.check(session, clock)
    session.commit()
    assert not failed.ok and failed.number is None and watcher.last_failure is failed
    assert [f.element for f in failed.findings] == ["Timer_Balasan"]
    assert service.current_definition().number == 2  # nothing deployed

    (tmp_path / "forms" / "balasan.schema.json").write_text(
        (tmp_path / "forms" / "balasan.schema.json").read_text(encoding="utf-8").replace('"Pesan"', '"Pesan Anda"'), encoding="utf-8"
    )
    bpmn.write_text(RENAMED.files["sp4n_lapor.bpmn"], encoding="utf-8")
    fixed = watcher.check(session, clock)
    session.commit()
    assert fixed.ok and (fixed.number, fixed.created) == (3, True) and watcher.last_failure is None
