"""engine/cases/migration.py: moving running cases between versions (a dry run first), and reverting a move."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from engine import Conflict
from engine.audit.trail import first_broken
from engine.cases.migration import MIGRATED, REVERTED, Migrations
from engine.db.tables import AuditEvent, Case, Definition, OpenTask
from engine.definitions.bundle import Bundle, project_bundle
from engine.definitions.versions import version
from tests.engine.definitions.support import ANALIS, NO_PLAFON, RENAMED
from tests.engine.support import (
    KOMINFO,
    audit_types,
    do,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    open_row,
    open_rows,
    snapshot,
    submit,
)
from tests.scenarios import ACCEPT_SATKER, ANSWER_SATKER, ASK_REPORTER, COMPLAINT, FORWARD_SATKER, PUBLISH, SATISFIED, TWO_UNITS, Do


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
    assert ok.ok and ok.open_tasks == ["Verifikasi laporan"] and (ok.from_number, ok.to_number) == (1, 2)
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
    case = submit(service, COMPLAINT)  # waits at Task_Disposisi
    v2, _ = service.deploy(_renamed("Task_Disposisi", "Task_Verifikasi"), by="analis")
    [check] = Migrations(service).check(1, [case.case.id], v2.number)
    assert check.reason == "Tugas yang sedang terbuka 'Verifikasi laporan' tidak ada di versi 2."


def test_a_case_inside_its_units_sub_processes_moves_and_goes_on(service, session):
    """Two units work on the case, each in its own copy of a unit's sub-process: both copies move with it."""
    case = submit(service, COMPLAINT, [TWO_UNITS, ACCEPT_SATKER])
    before = {row.id: (row.spec_name, row.unit_id, row.due_at) for row in open_rows(session, case.case.id)}
    v2, _ = service.deploy(RENAMED, by="analis")
    [moved] = Migrations(service).migrate(1, [case.case.id], v2.number, ANALIS)
    session.commit()
    assert moved.ok, moved.reason
    assert {row.id: (row.spec_name, row.unit_id, row.due_at) for row in open_rows(session, case.case.id)} == before
    do(service, case, ANSWER_SATKER)
    do(service, case, Do("Task_Terima_Vertikal", {"decision": "terima"}, "kanwil-bpn-jatim"))
    do(service, case, Do("Task_Tanggapan_Vertikal", {"response": "Status tanah sekolah sudah jelas."}, "kanwil-bpn-jatim"))
    assert [row.spec_name for row in open_rows(session, case.case.id)] == ["Task_Teruskan"]


def test_a_units_open_task_missing_in_the_target_refuses_the_move(service, session):
    case = submit(service, COMPLAINT, [FORWARD_SATKER])  # waits at Task_Terima_Satker, inside SubProcess_Satker
    v2, _ = service.deploy(_renamed("Task_Terima_Satker", "Task_Terima_Satuan"), by="analis")
    [check] = Migrations(service).check(1, [case.case.id], v2.number)
    assert check.reason == "Tugas yang sedang terbuka 'Terima laporan' tidak ada di versi 2."


def _renamed(old: str, new: str) -> Bundle:
    """Element ``old`` under the id ``new`` (every reference and its DI follow)."""
    bundle = project_bundle()
    text = bundle.files[bundle.bpmn_name].replace(old, new)
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
    assert row.name == "Verifikasi dan teruskan laporan"
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
    do(service, case, ASK_REPORTER)  # a step on version 2 after the move: the reporter is asked to complete the report
    assert Migrations(service).records(case_id=case.case.id)[0].revertible
    reverted = Migrations(service).revert(case.case.id, ANALIS)
    session.commit()
    assert reverted.ok and reverted.open_tasks == ["Lengkapi laporan"]
    assert session.get(Case, case.case.id).definition_id == version(session, 1).id
    assert session.get(Case, case.case.id).status == "menunggu_kelengkapan"
    service.add_to_complaint(case.case.tracking_id, case.access_token, "Lokasinya di depan SMA Negeri 1 Surabaya.")
    assert open_row(session, case.case.id, "Task_Disposisi").role == "kominfo"


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
