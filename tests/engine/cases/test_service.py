"""engine/cases/service.py: the case façade on SQLite (locking, validation, authorization, ids, index, withdraw, mail, versions)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from engine import CITIZEN, Actor, CaseService, Conflict, DefinitionInvalid, Forbidden, InvalidData, NotFound, Submitted
from engine.audit.replay import replay_case
from engine.cases import access
from engine.cases import ids as ids_module
from engine.cases.migration import Migrations
from engine.db.tables import AuditEvent, Case, Definition, Incident, Notification, OpenTask, OutboxMail, User
from engine.definitions.bundle import Bundle, project_bundle
from engine.runtime import scripting
from tests.engine.support import (
    BPN,
    KESEHATAN,
    KOMINFO,
    PENDIDIKAN,
    PUSAT,
    TO_BALASAN,
    TO_SELESAI,
    audit_types,
    do,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    model_script,
    open_row,
    open_rows,
    snapshot,
    submit,
    wib,
    with_script,
)
from tests.reliability.support import assert_consistent
from tests.scenarios import ACCEPT_SATKER, ANSWER_SATKER, COMPLAINT, FORWARD_SATKER, SATISFIED, Do

TRACKING_ID = re.compile(r"^LPR-[0-9A-HJKMNP-TV-Z]{8}$")


def task_completed_count(session: Session, task_id: str) -> int:
    query = select(func.count()).select_from(AuditEvent).where(AuditEvent.task == task_id, AuditEvent.type == "task_completed")
    return session.scalar(query) or 0


# ---- optimistic locking -------------------------------------------------------------------


def _race(db_engine, clock, submitted) -> tuple[str, int, Callable[[], None]]:
    """Two staff sessions hold the same case and Disposisi task; the first completes and commits.

    Returns (task id, version after the winner committed, the loser's completion as a callable).
    """
    with Session(db_engine) as reader:
        task_id = open_row(reader, submitted.case.id, "Task_Disposisi").id
    winner, loser = Session(db_engine), Session(db_engine)
    held = [(s.get(Case, submitted.case.id), s.get(OpenTask, task_id)) for s in (winner, loser)]  # strong refs keep them loaded
    assert all(case is not None and row is not None for case, row in held)
    CaseService(winner, clock).complete_task(task_id, {"unit": "dinas-pendidikan"}, KOMINFO)
    winner.commit()
    version = held[0][0].version
    winner.close()

    def lose() -> None:
        stale_case, stale_row = held[1]  # still in the loser's identity map, as loaded before the winner committed
        assert stale_case.version < version and stale_row.id == task_id
        try:
            CaseService(loser, clock).complete_task(task_id, {"unit": "dinas-kesehatan"}, KOMINFO)
        finally:
            loser.rollback()
            loser.close()

    return task_id, version, lose


def test_stale_concurrent_completion_of_same_task_gets_conflict(service, db_engine, clock):
    submitted = submit(service, COMPLAINT)
    _task_id, _version, lose = _race(db_engine, clock, submitted)
    with pytest.raises(Conflict):
        lose()


def test_stale_concurrent_completion_leaves_case_and_audit_untouched(service, db_engine, clock):
    submitted = submit(service, COMPLAINT)
    task_id, version, lose = _race(db_engine, clock, submitted)
    with Session(db_engine) as fresh:
        before = snapshot(fresh, submitted.case.id)
    with pytest.raises(Conflict):
        lose()
    with Session(db_engine) as fresh:
        after = snapshot(fresh, submitted.case.id)
        assert after == before
        assert after["case"]["version"] == version
        assert (after["case"]["status"], after["case"]["unit_id"]) == ("didisposisikan", "dinas-pendidikan")
        assert task_completed_count(fresh, task_id) == 1
        assert [(r.spec_name, r.unit_id) for r in open_rows(fresh, submitted.case.id)] == [("Task_Terima_Satker", "dinas-pendidikan")]


def test_completing_a_task_bumps_the_case_version_once(service, db_engine):
    submitted = submit(service, COMPLAINT)
    before = submitted.case.version
    do(service, submitted, FORWARD_SATKER)
    with Session(db_engine) as fresh:
        assert fresh.get(Case, submitted.case.id).version == before + 1


def test_second_completion_of_same_task_gets_conflict(service, session):
    submitted = submit(service, COMPLAINT)
    task_id = open_row(session, submitted.case.id, "Task_Disposisi").id
    service.complete_task(task_id, {"unit": "dinas-pendidikan"}, KOMINFO)
    session.commit()
    before = snapshot(session, submitted.case.id)
    with pytest.raises(Conflict):
        service.complete_task(task_id, {"unit": "dinas-pendidikan"}, KOMINFO)
    session.commit()
    assert snapshot(session, submitted.case.id) == before
    assert task_completed_count(session, task_id) == 1


# ---- bad form data ------------------------------------------------------------------------


def _without(data: dict[str, Any], *path: str) -> dict[str, Any]:
    copy = {**data, "reporter": dict(data["reporter"])}
    target = copy
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return copy


@pytest.mark.parametrize(
    ("complaint", "field"),
    [
        (_without(COMPLAINT, "title"), "title"),
        ({**COMPLAINT, "title": "abc"}, "title"),
        (_without(COMPLAINT, "reporter", "email"), "reporter.email"),
        ({**COMPLAINT, "reporter": {**COMPLAINT["reporter"], "email": "bukan-email"}}, "reporter.email"),
        ({**COMPLAINT, "incident_date": "2026-12-01"}, "incident_date"),  # the FakeClock says Monday 2026-11-30 (WIB)
        ({**COMPLAINT, "category": "olahraga"}, "category"),
        ({**COMPLAINT, "body": "terlalu pendek"}, "body"),
    ],
    ids=["title_missing", "title_short", "email_missing", "email_invalid", "incident_in_future", "unknown_category", "body_short"],
)
def test_invalid_complaint_names_the_field_and_creates_nothing(service, session, complaint, field):
    counts = [session.scalar(select(func.count()).select_from(t)) for t in (Case, AuditEvent, OutboxMail, Notification)]
    with pytest.raises(InvalidData) as raised:
        service.submit(complaint)
    assert field in raised.value.errors, raised.value.errors
    session.commit()
    assert [session.scalar(select(func.count()).select_from(t)) for t in (Case, AuditEvent, OutboxMail, Notification)] == counts


def test_several_bad_fields_are_reported_together(service):
    with pytest.raises(InvalidData) as raised:
        service.submit({**_without(COMPLAINT, "reporter", "email"), "title": "", "incident_date": "2030-01-01"})
    assert {"title", "reporter.email", "incident_date"} <= set(raised.value.errors)


def test_incident_date_is_judged_in_jakarta_time(service, clock):
    clock.set(wib(2026, 12, 1, 1, 0))  # already Tuesday in Jakarta, still Monday in UTC
    service.submit({**COMPLAINT, "incident_date": "2026-12-01"})
    with pytest.raises(InvalidData) as raised:
        service.submit({**COMPLAINT, "incident_date": "2026-12-02"})
    assert set(raised.value.errors) == {"incident_date"}


@pytest.mark.parametrize(
    ("before", "task", "data", "field"),
    [
        ([], "Task_Disposisi", {}, "units"),
        ([], "Task_Disposisi", {"unit": "dinas-pariwisata"}, "unit"),
        ([FORWARD_SATKER], "Task_Terima_Satker", {"decision": "mungkin"}, "decision"),
        ([FORWARD_SATKER, ACCEPT_SATKER], "Task_Tanggapan_Satker", {"response": "ok"}, "response"),
        ([FORWARD_SATKER, ACCEPT_SATKER, ANSWER_SATKER], "Task_Teruskan", {"decision": "teruskan"}, "answer"),
    ],
    ids=["unit_missing", "unit_unknown", "decision_unknown", "response_short", "answer_required_with_teruskan"],
)
def test_invalid_task_data_names_the_field_and_changes_nothing(service, session, before, task, data, field):
    submitted = submit(service, COMPLAINT, before)
    row = open_row(session, submitted.case.id, task)
    state = snapshot(session, submitted.case.id)
    with pytest.raises(InvalidData) as raised:
        service.complete_task(row.id, data, KOMINFO if row.role == "kominfo" else PENDIDIKAN)
    assert field in raised.value.errors, raised.value.errors
    session.commit()  # even committing what the failed command left in the session changes nothing
    assert snapshot(session, submitted.case.id) == state


def test_kembalikan_needs_no_answer(service, session):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER, ACCEPT_SATKER, ANSWER_SATKER])
    case = do(service, submitted, Do("Task_Teruskan", {"decision": "kembalikan", "note": "Lengkapi tanggal."}))
    assert [r.spec_name for r in open_rows(session, case.id)] == ["Task_Tanggapan_Satker"]


def test_invalid_reply_changes_nothing(service, session):
    submitted = submit(service, COMPLAINT, TO_BALASAN)
    state = snapshot(session, submitted.case.id)
    with pytest.raises(InvalidData) as raised:
        service.reply(submitted.case.tracking_id, submitted.access_token, {"text": "tanpa pilihan"})
    assert "satisfied" in raised.value.errors
    session.commit()
    assert snapshot(session, submitted.case.id) == state


# ---- authorization ------------------------------------------------------------------------


def test_role_that_does_not_act_in_the_lane_is_forbidden(service, session):
    submitted = submit(service, COMPLAINT)
    row = open_row(session, submitted.case.id, "Task_Disposisi")
    for actor in (PENDIDIKAN, BPN, CITIZEN):
        with pytest.raises(Forbidden):
            service.complete_task(row.id, {"unit": "dinas-pendidikan"}, actor)


def test_staff_cannot_answer_the_citizens_reply_task(service, session):
    submitted = submit(service, COMPLAINT, TO_BALASAN)
    row = open_row(session, submitted.case.id, "Task_Balasan")
    with pytest.raises(Forbidden):
        service.complete_task(row.id, {"satisfied": True}, KOMINFO)


def test_other_units_task_is_not_found(service, session):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER])
    row = open_row(session, submitted.case.id, "Task_Terima_Satker")
    state = snapshot(session, submitted.case.id)
    with pytest.raises(NotFound):
        service.complete_task(row.id, {"decision": "terima"}, KESEHATAN)
    with pytest.raises(NotFound):
        service.claim(row.id, KESEHATAN)
    session.commit()
    assert snapshot(session, submitted.case.id) == state


def test_unknown_task_id_is_not_found(service):
    submit(service, COMPLAINT)
    with pytest.raises(NotFound):
        service.complete_task("00000000-0000-0000-0000-000000000000", {"unit": "dinas-pendidikan"}, KOMINFO)


def test_unit_holder_completes_own_task(service, session):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER])
    row = open_row(session, submitted.case.id, "Task_Terima_Satker")
    case = service.complete_task(row.id, {"decision": "terima"}, PENDIDIKAN)
    assert case.status == "ditindaklanjuti"


# ---- tracking id and access token ---------------------------------------------------------


def test_tracking_ids_are_short_crockford_and_distinct(service):
    tracking_ids = [submit(service, COMPLAINT).case.tracking_id for _ in range(5)]
    assert all(TRACKING_ID.match(t) for t in tracking_ids), tracking_ids
    assert len(set(tracking_ids)) == 5


def test_access_token_is_only_stored_hashed(service, session):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER])
    token = submitted.access_token
    assert len(token) >= 22  # at least 128 bits of url-safe base64
    row = session.execute(text('SELECT * FROM "case" WHERE id = :id'), {"id": submitted.case.id}).mappings().one()
    assert not [column for column, value in row.items() if value is not None and token in str(value)]
    assert ids_module.token_matches(token, row["access_token_hash"])
    assert not [e.type for e in session.scalars(select(AuditEvent).where(AuditEvent.case_id == submitted.case.id)) if token in e.data]


# ---- open-task index and timers -----------------------------------------------------------


def test_forwarded_task_is_indexed_for_the_unit_with_its_sop_deadline(service, session):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER])
    [row] = open_rows(session, submitted.case.id)
    assert (row.spec_name, row.lane, row.role, row.unit_id, row.form) == (
        "Task_Terima_Satker",
        "Satuan Kerja",
        "satker",
        "dinas-pendidikan",
        "terima",
    )
    assert row.due_at == wib(2026, 12, 1, 23, 59, 59)
    assert row.ceiling_at is None
    assert row.overdue is False


def test_disposisi_task_has_target_and_national_ceiling(service, session):
    submitted = submit(service, COMPLAINT)
    row = open_row(session, submitted.case.id, "Task_Disposisi")
    assert (row.role, row.unit_id) == ("kominfo", None)
    assert row.due_at == wib(2026, 12, 1, 23, 59, 59)
    assert row.ceiling_at == wib(2026, 12, 3, 23, 59, 59)


def test_task_becomes_overdue_when_its_target_timer_fires(service, session, clock):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER])
    row = open_row(session, submitted.case.id, "Task_Terima_Satker")
    clock.set(wib(2026, 12, 1, 23, 59, 58))
    assert service.due_case_ids() == []
    assert service.fire_timers(submitted.case.id) == 0
    clock.set(wib(2026, 12, 2, 0, 0, 1))
    assert service.due_case_ids() == [submitted.case.id]
    assert service.fire_timers(submitted.case.id) == 1
    session.commit()
    same = open_row(session, submitted.case.id, "Task_Terima_Satker")
    assert same.id == row.id  # a non-interrupting deadline keeps the task open
    assert same.overdue is True
    assert audit_types(session, submitted.case.id).count("timer_fired") == 1
    assert service.fire_timers(submitted.case.id) == 0  # nothing fires twice


def test_next_timer_is_the_earliest_waiting_one_and_none_once_closed(service, session, clock):
    submitted = submit(service, COMPLAINT)
    case = submitted.case
    assert case.next_timer_at == wib(2026, 12, 1, 23, 59, 59)  # Disposisi target, before the 3-day ceiling
    clock.set(wib(2026, 12, 2, 8, 0))
    assert service.fire_timers(case.id) == 1
    session.commit()
    assert case.next_timer_at == wib(2026, 12, 3, 23, 59, 59)  # the ceiling is what is left
    do(service, submitted, FORWARD_SATKER)
    assert case.next_timer_at == wib(2026, 12, 3, 23, 59, 59)  # Terima target: 1 working day after Wednesday
    for step in TO_SELESAI[1:]:
        do(service, submitted, step)
    assert case.status == "selesai"
    assert case.next_timer_at is None
    assert open_rows(session, case.id) == []


# ---- withdraw and reply -------------------------------------------------------------------


def test_withdraw_closes_the_case(service, session, clock):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER])
    case = service.withdraw(submitted.case.tracking_id, submitted.access_token, reason="Sudah diperbaiki.")
    session.commit()
    assert case.status == "dicabut"
    assert case.closed_at == clock.now()
    assert open_rows(session, case.id) == []
    assert case.next_timer_at is None
    assert "case_withdrawn" in audit_types(session, case.id)
    clock.advance(days=30)
    assert service.due_case_ids() == []


def test_withdraw_tells_the_units_staff(service, session):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER])
    service.withdraw(submitted.case.tracking_id, submitted.access_token)
    session.commit()
    pendidikan = session.scalar(select(User).where(User.username == "pendidikan"))
    kinds = session.scalars(select(Notification.kind).where(Notification.user_id == pendidikan.id, Notification.case_id == submitted.case.id))
    assert "dicabut" in list(kinds)


def test_withdrawing_twice_gets_conflict(service, session):
    submitted = submit(service, COMPLAINT)
    service.withdraw(submitted.case.tracking_id, submitted.access_token)
    session.commit()
    state = snapshot(session, submitted.case.id)
    with pytest.raises(Conflict):
        service.withdraw(submitted.case.tracking_id, submitted.access_token)
    session.commit()
    assert snapshot(session, submitted.case.id) == state


def test_closed_case_cannot_be_withdrawn(service):
    submitted = submit(service, COMPLAINT, TO_SELESAI)
    with pytest.raises(Conflict):
        service.withdraw(submitted.case.tracking_id, submitted.access_token)


def test_withdraw_with_wrong_token_is_not_found(service):
    submitted = submit(service, COMPLAINT)
    with pytest.raises(NotFound):
        service.withdraw(submitted.case.tracking_id, "salah")
    assert submitted.case.status == "diterima"


def test_task_of_a_withdrawn_case_can_no_longer_be_completed(service, session):
    submitted = submit(service, COMPLAINT)
    task_id = open_row(session, submitted.case.id, "Task_Disposisi").id
    service.withdraw(submitted.case.tracking_id, submitted.access_token)
    session.commit()
    with pytest.raises(NotFound):
        service.complete_task(task_id, {"unit": "dinas-pendidikan"}, KOMINFO)


def test_reply_when_no_reply_is_expected_gets_conflict(service, session):
    submitted = submit(service, COMPLAINT)
    state = snapshot(session, submitted.case.id)
    with pytest.raises(Conflict):
        service.reply(submitted.case.tracking_id, submitted.access_token, {"satisfied": True})
    session.commit()
    assert snapshot(session, submitted.case.id) == state


def test_reply_closes_a_satisfied_case(service, session):
    submitted = submit(service, COMPLAINT, TO_BALASAN)
    assert submitted.case.status == "dijawab"
    case = service.reply(submitted.case.tracking_id, submitted.access_token, {"satisfied": True, "text": "Terima kasih."})
    session.commit()
    assert case.status == "selesai"
    with pytest.raises(Conflict):
        service.reply(submitted.case.tracking_id, submitted.access_token, {"satisfied": True})


# ---- notifications ------------------------------------------------------------------------


def test_submit_queues_the_receipt_with_the_private_link(service, session):
    submitted = submit(service, COMPLAINT)
    mails = list(session.scalars(select(OutboxMail).where(OutboxMail.case_id == submitted.case.id, OutboxMail.to_addr == "siti@example.id")))
    [receipt] = [m for m in mails if "Laporan Anda telah diterima" in m.subject]
    assert submitted.case.tracking_id in receipt.subject
    assert f"/lacak/{submitted.case.tracking_id}#token={submitted.access_token}" in receipt.body  # never in a query: logged
    assert receipt.sent_at is None


def test_submit_notifies_admin_kominfo(service, session):
    submitted = submit(service, COMPLAINT)
    kominfo = session.scalar(select(User).where(User.username == "kominfo"))
    [note] = session.scalars(select(Notification).where(Notification.user_id == kominfo.id, Notification.case_id == submitted.case.id))
    assert note.kind == "perlu_disposisi"
    assert submitted.case.tracking_id in note.message
    assert note.read is False
    assert session.scalar(select(OutboxMail.id).where(OutboxMail.case_id == submitted.case.id, OutboxMail.to_addr == kominfo.email)) is not None


def test_anonymous_reporter_identity_never_reaches_staff(service, session):
    complaint = {**COMPLAINT, "category": "pertanahan", "anonymous": True}
    steps = [
        Do("Task_Disposisi", {"unit": "kanwil-bpn-jatim"}),
        Do("Task_Terima_Vertikal", {"decision": "terima"}),
        Do("Task_Tanggapan_Vertikal", {"response": "Sertifikat dapat diambil di loket 3."}),
        Do("Task_Teruskan", {"decision": "kembalikan", "note": "Sebutkan jam layanan."}),
        Do("Task_Tanggapan_Vertikal", {"response": "Sertifikat dapat diambil di loket 3, pukul 08.00-15.00."}),
        Do("Task_Teruskan", {"decision": "teruskan", "answer": "Sertifikat Anda dapat diambil di loket 3 Kanwil BPN."}),
        SATISFIED,
    ]
    submitted = submit(service, complaint, steps)
    identity = [v for v in complaint["reporter"].values()]
    reporter = complaint["reporter"]["email"]
    staff_mails = list(session.scalars(select(OutboxMail).where(OutboxMail.case_id == submitted.case.id, OutboxMail.to_addr != reporter)))
    notes = list(session.scalars(select(Notification).where(Notification.case_id == submitted.case.id)))
    assert len(staff_mails) >= 5 and len(notes) >= 5  # kominfo and the unit were told at every step
    for mail in staff_mails:
        assert not [v for v in identity if v in mail.subject or v in mail.body], mail.subject
    for note in notes:
        assert not [v for v in identity if v in note.message], note.message


# ---- deployments --------------------------------------------------------------------------


def _changed(bundle: Bundle) -> Bundle:
    text_ = bundle.files[bundle.bpmn_name]
    changed = text_.replace('exporterVersion="1"', 'exporterVersion="2"')
    assert changed != text_
    return Bundle(bundle.bpmn_name, {**bundle.files, bundle.bpmn_name: changed})


def test_changed_deployment_gets_next_number_and_only_new_cases_use_it(service, session):
    old = submit(service, COMPLAINT)
    first = service.current_definition()
    definition, created = service.deploy(_changed(project_bundle()), by="analis", note="versi 2")
    session.commit()
    assert (created, definition.number, definition.deployed_by) == (True, 2, "analis")
    assert service.current_definition().id == definition.id
    new = submit(service, COMPLAINT)
    assert new.case.definition_id == definition.id
    assert old.case.definition_id == first.id != definition.id
    case = do(service, old, FORWARD_SATKER)  # the old case still runs on version 1
    assert (case.status, case.definition_id) == ("didisposisikan", first.id)


def test_deploying_identical_content_returns_the_existing_version(service, session):
    existing = service.current_definition()
    definition, created = service.deploy(project_bundle())
    assert (definition.id, created) == (existing.id, False)
    assert session.scalar(select(func.count()).select_from(Definition)) == 1


def test_broken_deployment_is_refused_and_stores_nothing(service, session):
    bundle = project_bundle()
    broken = Bundle(
        bundle.bpmn_name, {**bundle.files, bundle.bpmn_name: bundle.files[bundle.bpmn_name].replace("<bpmn:process ", "<bpmn:process", 1)}
    )
    with pytest.raises(DefinitionInvalid) as raised:
        service.deploy(broken)
    assert raised.value.findings
    assert session.scalar(select(func.count()).select_from(Definition)) == 1


# ---- a system step that fails: the case waits at its last good state for a retry ----------------------------------

RAISES = "rekam_pengaduan()\ngagal = 1 / 0"  # asks for the record, then raises: nothing of it may be written
KIRIM_UNIT = model_script("Task_KirimUnit") + "\n"
ANALIS = Actor("analis", "analis")


def _deploy(service: CaseService, bundle: Bundle) -> Definition:
    definition, created = service.deploy(bundle, by="analis")
    assert created
    service.session.commit()
    return definition


def _incident(session: Session, case_id: int) -> Incident:
    [incident] = session.scalars(select(Incident).where(Incident.case_id == case_id)).all()
    return incident


def _notifications(session: Session, case_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Notification).where(Notification.case_id == case_id)) or 0


def _received_only(service: CaseService, submitted: Submitted) -> Case:
    """The case as a failed submission leaves it: received, the citizen's receipt queued, nothing of the system steps."""
    session = service.session
    case = session.get(Case, submitted.case.id)
    assert case is not None
    assert TRACKING_ID.match(case.tracking_id) and case.status == "diterima"
    assert access.case_for_citizen(session, case.tracking_id, submitted.access_token, service.clock.now()).id == case.id
    # no complaint_recorded, no notice to kominfo: the history says the steps failed (the replay does not run them)
    assert audit_types(session, case.id) == ["case_started", "notification_queued", "step_failed"]
    [receipt] = session.scalars(select(OutboxMail).where(OutboxMail.case_id == case.id)).all()
    assert (receipt.to_addr, receipt.topic) == (COMPLAINT["reporter"]["email"], "laporan_diterima")
    assert open_rows(session, case.id) == [] and _notifications(session, case.id) == 0 and case.next_timer_at is None
    assert_consistent(session, case.id)
    return case


def test_a_script_that_raises_at_submission_keeps_the_complaint_as_received(service, session, clock):
    _deploy(service, with_script("Task_Rekam", RAISES))
    submitted = submit(service, COMPLAINT)
    case = _received_only(service, submitted)
    incident = _incident(session, case.id)
    assert (incident.command, incident.element, incident.element_name) == ("submit", "Task_Rekam", "Rekam pengaduan")
    assert (incident.actor, incident.count) == ("pelapor", 1)
    assert "ZeroDivisionError" in incident.message and "Traceback" in incident.detail and incident.resolved_at is None
    assert case.retry_at == clock.now() + timedelta(minutes=1)


class _Receipt:
    """What a helper of another service might hand back: an object the workflow state cannot hold."""


@pytest.mark.parametrize("script", ["bukti = 2j", 'bukti = b"bukti"', "bukti = jenis_unit(narahubung)"], ids=["complex", "bytes", "object"])
def test_a_value_the_serializer_cannot_store_is_a_failed_step(service, session, monkeypatch, script):
    monkeypatch.setitem(scripting.HELPERS, "jenis_unit", lambda unit_id: _Receipt())  # only the "object" script calls it
    _deploy(service, with_script("Task_NotifKominfo", f'ubah_status("diterima")\nberi_tahu(narahubung, "perlu_disposisi")\n{script}'))
    submitted = submit(service, COMPLAINT)
    case = _received_only(service, submitted)
    incident = _incident(session, case.id)
    assert (incident.command, incident.element, incident.error) == ("submit", "Task_NotifKominfo", "builtins.TypeError")
    assert "is not JSON serializable" in incident.message and case.retry_at is not None


def test_an_effect_that_cannot_be_applied_undoes_every_step_of_the_run(service, session):
    """Kominfo's notice asks for a topic no mail template has: the status change the same script asked for first, and the
    record asked for by the step before it, are not applied either."""
    _deploy(service, with_script("Task_NotifKominfo", 'ubah_status("didisposisikan")\nberi_tahu(narahubung, "tidak_ada")'))
    submitted = submit(service, COMPLAINT)
    case = _received_only(service, submitted)
    incident = _incident(session, case.id)
    assert (incident.element, incident.error) == ("Task_NotifKominfo", "builtins.KeyError") and "tidak_ada" in incident.message


def test_a_step_failing_after_a_staff_completion_keeps_the_completion_and_waits(service, session, clock):
    """Camunda-like: the user's completion is saved; the script after it waits with an incident, nothing of it written."""
    failing = _deploy(service, with_script("Task_KirimUnit", KIRIM_UNIT + "gagal = 1 / 0"))
    submitted = submit(service, COMPLAINT)
    task_id = open_row(session, submitted.case.id, "Task_Disposisi").id
    before = audit_types(session, submitted.case.id)
    outbox = session.scalar(select(func.count()).select_from(OutboxMail)) or 0
    clock.advance(minutes=10)

    case = service.complete_task(task_id, {"unit": "dinas-pendidikan", "note": "Mohon dicek."}, KOMINFO)
    session.commit()

    assert (case.status, case.unit_id) == ("diterima", None)  # ubah_status of the failed step is not applied
    assert audit_types(session, case.id) == [*before, "task_completed", "step_failed"]
    assert open_rows(session, case.id) == [] and session.scalar(select(func.count()).select_from(OutboxMail)) == outbox
    incident = _incident(session, case.id)
    assert (incident.command, incident.element, incident.task, incident.actor) == ("complete_task", "Task_KirimUnit", task_id, "kominfo")
    assert case.retry_at == clock.now() + timedelta(minutes=1)
    assert_consistent(session, case.id)
    with pytest.raises(Conflict, match="sudah diselesaikan"):  # saved: the same form again is a double submission
        service.complete_task(task_id, {"unit": "dinas-kesehatan"}, KOMINFO)
    session.rollback()

    fixed = _deploy(service, with_script("Task_KirimUnit", KIRIM_UNIT + "# diperbaiki"))
    [moved] = Migrations(service).migrate(failing.number, [case.id], fixed.number, ANALIS)
    assert moved.ok, moved.reason
    session.commit()
    case = service.retry(case.id, PUSAT)
    session.commit()
    assert (case.status, case.unit_id, case.retry_at) == ("didisposisikan", "dinas-pendidikan", None)
    assert [row.spec_name for row in open_rows(session, case.id)] == ["Task_Terima_Satker"]
    assert (incident.resolved_by, incident.resolved_at) == ("pusat", clock.now())
    assert_consistent(session, case.id)


def test_a_fixed_version_and_a_migration_let_the_retry_advance_a_failed_submission(service, session, clock):
    failing = _deploy(service, with_script("Task_Rekam", RAISES))
    submitted = submit(service, COMPLAINT)
    case_id = submitted.case.id
    clock.advance(minutes=5)
    assert service.retry(case_id, PUSAT).retry_at == clock.now() + timedelta(minutes=2)  # still broken: counted, waits longer
    session.commit()
    assert _incident(session, case_id).count == 2  # a retry that fails again changes nothing, in the history neither
    assert audit_types(session, case_id) == ["case_started", "notification_queued", "step_failed"]

    fixed = _deploy(service, with_script("Task_Rekam", "rekam_pengaduan()  # diperbaiki"))
    [moved] = Migrations(service).migrate(failing.number, [case_id], fixed.number, ANALIS)
    assert moved.ok, moved.reason
    session.commit()
    clock.advance(minutes=1)
    case = service.retry(case_id, PUSAT)
    session.commit()

    assert (case.status, case.retry_at, case.definition_id) == ("diterima", None, fixed.id)
    types = audit_types(session, case_id)
    assert types[:2] == ["case_started", "notification_queued"] and "complaint_recorded" in types
    assert types[types.index("steps_retried") + 1] == "complaint_recorded"  # the retry's steps, after the move
    assert [row.spec_name for row in open_rows(session, case_id)] == ["Task_Disposisi"] and _notifications(session, case_id) > 0
    assert case.next_timer_at == wib(2026, 12, 1, 23, 59, 59)  # Disposisi's SOP target runs from the retry
    assert _incident(session, case_id).resolved_by == "pusat"
    assert_consistent(session, case_id)


def test_only_admin_pusat_retries_and_only_a_waiting_case(service, session):
    submitted = submit(service, COMPLAINT)
    with pytest.raises(Conflict, match="tidak sedang menunggu"):
        service.retry(submitted.case.id, PUSAT)
    with pytest.raises(Forbidden):
        service.retry(submitted.case.id, KOMINFO)


def test_a_step_that_sends_the_case_to_a_unit_that_does_not_exist_waits_too(service, session):
    """The database would refuse that unit id (a foreign key) and fail the whole command; the engine refuses it first, as
    a failed step: the completion stays saved and the case waits, as for a script that raises."""
    _deploy(service, with_script("Task_KirimUnit", KIRIM_UNIT + 'unit_tujuan = "unit-tak-ada"'))
    submitted = submit(service, COMPLAINT)
    task_id = open_row(session, submitted.case.id, "Task_Disposisi").id
    case = service.complete_task(task_id, {"unit": "dinas-pendidikan"}, KOMINFO)
    session.commit()
    assert (case.status, case.unit_id) == ("diterima", None) and case.retry_at is not None
    assert audit_types(session, case.id)[-2:] == ["task_completed", "step_failed"] and open_rows(session, case.id) == []
    incident = _incident(session, case.id)
    assert (incident.command, incident.element) == ("complete_task", "Task_KirimUnit") and "unit-tak-ada" in incident.message
    assert_consistent(session, case.id)


def test_staff_record_a_complaint_of_any_channel_without_email_and_its_replay_verifies(service, session):
    """Admin Kominfo types in a complaint received by phone (issue 18): the channel, the coordinates and who recorded
    it are kept, the reporter without email gets no mail, and the deterministic replay rebuilds the case."""
    complaint = {**COMPLAINT, "reporter": {"name": "Pak Darmo"}, "latitude": -7.2575, "longitude": 112.752088}
    submitted = service.submit(complaint, channel="telepon", recorded_by=KOMINFO)
    session.commit()
    case = submitted.case
    assert (case.channel, case.latitude, case.longitude) == ("telepon", -7.2575, 112.752088)
    started = session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id, AuditEvent.type == "case_started"))
    assert started.actor == KOMINFO.username
    assert json.loads(started.data)["recorded_by"] == {"role": "kominfo"}
    to_reporter = select(func.count()).select_from(OutboxMail).where(OutboxMail.case_id == case.id, OutboxMail.user_id.is_(None))
    assert session.scalar(to_reporter) == 0
    assert replay_case(session, case).matches
    do(service, submitted, FORWARD_SATKER)
    assert replay_case(session, case).matches

    with pytest.raises(Forbidden):  # a unit may not record complaints
        service.submit(complaint, channel="telepon", recorded_by=PENDIDIKAN)
    with pytest.raises(InvalidData) as refused:  # a reporter on their own: self-service channels only, email required
        service.submit(complaint, channel="telepon")
    assert set(refused.value.errors) == {"channel"}
    with pytest.raises(InvalidData) as refused:
        service.submit(complaint, channel="aplikasi")
    assert "reporter.email" in refused.value.errors
    with pytest.raises(InvalidData) as refused:
        service.submit(complaint, channel="merpati", recorded_by=PUSAT)
    assert set(refused.value.errors) == {"channel"}
