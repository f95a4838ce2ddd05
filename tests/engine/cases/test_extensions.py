"""Deadline extensions (engine/cases/extensions.py) and the rest of the follow-up through the case façade: a unit asks
for more time and Admin Kominfo decides (the moved deadline, the classification's maximum, the record), an interim
answer, a joint answer returned to one unit. The
timers themselves are checked in tests/engine/test_scenarios.py by moving the clock; every case walked here replays
as a match and its hash chain verifies."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import select

from engine import Conflict, InvalidData, NotFound, Submitted
from engine.audit.replay import replay_case
from engine.audit.trail import verify_chain
from engine.cases import extensions, views
from engine.db.tables import AuditEvent, Case, OutboxMail
from tests.engine.support import (
    KESEHATAN,
    KOMINFO,
    PENDIDIKAN,
    ask_extension,
    do,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    open_row,
    open_rows,
    submit,
    wib,
)
from tests.scenarios import (
    ACCEPT_SATKER,
    ANSWER_SATKER,
    ANSWER_VERTIKAL,
    BOTH_ACCEPTED,
    COMPLAINT,
    FORWARD_SATKER,
    INTERIM_SATKER,
    TWO_UNITS,
    AskExtension,
    Do,
)

REASON = "Perbaikan atap menunggu pengadaan bahan dari penyedia."


def _events(session, case_id: int, kind: str) -> list[dict]:
    query = select(AuditEvent.data).where(AuditEvent.case_id == case_id, AuditEvent.type == kind).order_by(AuditEvent.seq)
    return [json.loads(data) for data in session.scalars(query)]


def _replays(session, submitted: Submitted) -> None:
    case = session.get(Case, submitted.case.id)
    result = replay_case(session, case)
    assert result.difference is None and result.matches
    assert verify_chain(session, case) is None


def _at_answer(service, complaint=COMPLAINT, forward=FORWARD_SATKER) -> Submitted:
    return submit(service, complaint, [forward, ACCEPT_SATKER])


def test_a_granted_extension_moves_the_units_deadline_and_is_recorded(service, session):
    submitted = _at_answer(service)
    answer = open_row(session, submitted.case.id, "Task_Tanggapan_Satker")
    assert answer.due_at == wib(2026, 12, 1, 23, 59, 59)  # Monday's case: the SOP's 1 working day
    decision = ask_extension(service, submitted, AskExtension("Task_Tanggapan_Satker", 3))
    assert decision is not None and (decision.form, decision.role) == ("perpanjangan", "kominfo")
    assert decision.due_at == wib(2026, 12, 1, 23, 59, 59)  # Admin Kominfo's own 1-working-day target
    [requested] = _events(session, submitted.case.id, extensions.REQUESTED)
    assert (requested["unit"], requested["working_days"], requested["reason"]) == ("dinas-pendidikan", 3, REASON)
    assert requested["due_at"] == "2026-12-01T23:59:59+07:00"
    mails = session.scalars(select(OutboxMail.subject).where(OutboxMail.case_id == submitted.case.id)).all()
    assert any("Permintaan perpanjangan" in subject for subject in mails)

    do(service, submitted, Do("Task_Perpanjangan", {"decision": "setuju", "working_days": 2, "note": "Disetujui dua hari."}))
    answer = open_row(session, submitted.case.id, "Task_Tanggapan_Satker")
    assert answer.due_at == wib(2026, 12, 3, 23, 59, 59)  # two working days later: Thursday
    assert answer.ceiling_at == wib(2026, 12, 7, 23, 59, 59)  # still inside the 5-day ceiling: unmoved
    assert not answer.overdue
    [decided] = _events(session, submitted.case.id, extensions.DECIDED)
    assert decided == {
        "unit": "dinas-pendidikan",
        "decision": "setuju",
        "working_days": 2,
        "note": "Disetujui dua hari.",
        "due_at": "2026-12-03T23:59:59+07:00",
        "ceiling_at": "2026-12-07T23:59:59+07:00",
    }
    assert views.waits_until(session, session.get(Case, submitted.case.id)) == answer.due_at
    _replays(session, submitted)


def test_an_extension_never_passes_the_classifications_maximum(service, session):
    """An information request: 10 working days to follow up, 17 at most (UU 14/2008); 60 asked and granted stop there."""
    forward = Do("Task_Disposisi", {"unit": "dinas-pendidikan", "classification": "permintaan_informasi"})
    submitted = _at_answer(service, forward=forward)
    ask_extension(service, submitted, AskExtension("Task_Tanggapan_Satker", 60))
    [request] = [r for r in open_rows(session, submitted.case.id) if r.form == "perpanjangan"]
    do(service, submitted, Do("Task_Perpanjangan", {"decision": "setuju"}))
    answer = open_row(session, submitted.case.id, "Task_Tanggapan_Satker")
    limit = datetime.fromisoformat(_events(session, submitted.case.id, extensions.REQUESTED)[0]["limit_at"])
    assert limit == wib(2026, 12, 23, 23, 59, 59)  # 17 working days from Monday 30 November (no holiday between)
    assert answer.due_at == answer.ceiling_at == limit  # the target stops at the maximum; the ceiling moves there too
    assert request.id not in {r.id for r in open_rows(session, submitted.case.id)}
    _replays(session, submitted)


def test_a_refused_extension_leaves_the_deadline(service, session):
    submitted = _at_answer(service)
    ask_extension(service, submitted, AskExtension("Task_Tanggapan_Satker", 3))
    do(service, submitted, Do("Task_Perpanjangan", {"decision": "tolak", "note": "Mohon jawab sesuai batas SOP."}))
    answer = open_row(session, submitted.case.id, "Task_Tanggapan_Satker")
    assert answer.due_at == wib(2026, 12, 1, 23, 59, 59)
    [decided] = _events(session, submitted.case.id, extensions.DECIDED)
    assert (decided["decision"], decided["working_days"]) == ("tolak", 0)
    _replays(session, submitted)


def test_a_grant_is_at_most_what_the_unit_asked_for(service, session):
    submitted = _at_answer(service)
    ask_extension(service, submitted, AskExtension("Task_Tanggapan_Satker", 2))
    [request] = [r for r in open_rows(session, submitted.case.id) if r.form == "perpanjangan"]
    with pytest.raises(InvalidData) as refused:
        service.complete_task(request.id, {"decision": "setuju", "working_days": 3}, KOMINFO)
    assert set(refused.value.errors) == {"working_days"}


def test_a_request_is_the_answering_units_own_and_one_at_a_time(service, session):
    submitted = _at_answer(service)
    answer = open_row(session, submitted.case.id, "Task_Tanggapan_Satker")
    request = {"working_days": 2, "reason": REASON}
    with pytest.raises(NotFound):  # another unit's task
        service.request_extension(answer.id, request, KESEHATAN)
    with pytest.raises(InvalidData) as refused:
        service.request_extension(answer.id, {"working_days": 0, "reason": "singkat"}, PENDIDIKAN)
    assert set(refused.value.errors) == {"working_days", "reason"}
    service.request_extension(answer.id, request, PENDIDIKAN)
    session.commit()
    with pytest.raises(Conflict):  # one request waits for its decision
        service.request_extension(answer.id, request, PENDIDIKAN)
    session.rollback()
    accept_only = submit(service, COMPLAINT, [FORWARD_SATKER])
    with pytest.raises(Conflict):  # not an answer task
        service.request_extension(open_row(session, accept_only.case.id, "Task_Terima_Satker").id, request, PENDIDIKAN)


def test_a_request_lapses_when_the_unit_answers_first(service, session):
    submitted = _at_answer(service)
    ask_extension(service, submitted, AskExtension("Task_Tanggapan_Satker", 2))
    do(service, submitted, ANSWER_SATKER)
    assert [r.form for r in open_rows(session, submitted.case.id)] == ["teruskan"]
    [decided] = _events(session, submitted.case.id, extensions.DECIDED)
    assert (decided["decision"], decided["due_at"]) == (extensions.LAPSED, None)
    _replays(session, submitted)


def test_an_interim_answer_goes_to_the_reporter_at_once_and_the_task_stays_open(service, session):
    submitted = _at_answer(service)
    answer = open_row(session, submitted.case.id, "Task_Tanggapan_Satker")
    do(service, submitted, INTERIM_SATKER)
    assert open_row(session, submitted.case.id, "Task_Tanggapan_Satker").id == answer.id  # the same task, still open
    case = session.get(Case, submitted.case.id)
    assert case.status == "ditindaklanjuti" and case.answer_text is None
    [interim] = views.conversation(session, case, COMPLAINT)[1:]
    assert (interim["kind"], interim.get("interim"), interim["text"]) == ("answer", True, INTERIM_SATKER.data["response"])
    assert views.timeline(session, case)[-1]["answer"] == INTERIM_SATKER.data["response"]
    mail = session.scalars(select(OutboxMail).where(OutboxMail.case_id == case.id).order_by(OutboxMail.id.desc())).first()
    assert mail.to_addr == COMPLAINT["reporter"]["email"] and INTERIM_SATKER.data["response"] in mail.body
    do(service, submitted, ANSWER_SATKER)
    assert [r.form for r in open_rows(session, submitted.case.id)] == ["teruskan"]
    _replays(session, submitted)


def test_kembalikan_names_only_units_that_answered(service, session):
    steps = [
        TWO_UNITS,
        Do("Task_Terima_Satker", {"decision": "terima"}, "dinas-pendidikan"),
        Do("Task_Terima_Vertikal", {"decision": "bukan_wewenang", "note": "Bukan urusan pertanahan."}, "kanwil-bpn-jatim"),
        Do("Task_Tanggapan_Satker", {"response": "Atap diperbaiki minggu depan."}, "dinas-pendidikan"),
    ]
    submitted = submit(service, COMPLAINT, steps)
    review = open_row(session, submitted.case.id, "Task_Teruskan")
    with pytest.raises(InvalidData) as refused:
        service.complete_task(review.id, {"decision": "kembalikan", "units": ["kanwil-bpn-jatim"]}, KOMINFO)
    assert set(refused.value.errors) == {"units"}


def test_a_joint_answer_returned_to_one_unit_keeps_the_others_answer(service, session):
    steps = [
        *BOTH_ACCEPTED,
        Do("Task_Tanggapan_Satker", {"response": "Atap diperbaiki minggu depan."}, "dinas-pendidikan"),
        ANSWER_VERTIKAL,
        Do("Task_Teruskan", {"decision": "kembalikan", "units": ["dinas-pendidikan"], "note": "Mohon sebutkan tanggalnya."}),
    ]
    submitted = submit(service, COMPLAINT, steps)
    assert [(r.spec_name, r.unit_id) for r in open_rows(session, submitted.case.id)] == [("Task_Tanggapan_Satker", "dinas-pendidikan")]
    do(service, submitted, Do("Task_Tanggapan_Satker", {"response": "Atap diperbaiki 7 Desember 2026."}, "dinas-pendidikan"))
    _parsed, workflow = service.load(session.get(Case, submitted.case.id))
    [review] = [t for t in workflow.get_tasks() if t.task_spec.bpmn_id == "Task_Teruskan" and t.state == 16]
    assert sorted((a["unit"], a["response"]) for a in review.data["jawaban"]) == [
        ("dinas-pendidikan", "Atap diperbaiki 7 Desember 2026."),
        ("kanwil-bpn-jatim", "Status tanah sekolah sudah jelas."),
    ]
    _replays(session, submitted)


def test_two_units_requests_decided_in_the_other_order_replay_as_recorded(service, session):
    submitted = submit(service, COMPLAINT, BOTH_ACCEPTED)
    ask_extension(service, submitted, AskExtension("Task_Tanggapan_Satker", 2, "dinas-pendidikan"))
    ask_extension(service, submitted, AskExtension("Task_Tanggapan_Vertikal", 3, "kanwil-bpn-jatim"))
    _parsed, workflow = service.load(session.get(Case, submitted.case.id))
    asking = {str(t.id): t.data[extensions.REQUEST]["unit"] for t in workflow.get_tasks() if extensions.REQUEST in t.data and t.state == 16}
    by_unit = {unit: task_id for task_id, unit in asking.items()}
    service.complete_task(by_unit["kanwil-bpn-jatim"], {"decision": "setuju"}, KOMINFO)  # the later request first
    session.commit()
    service.complete_task(by_unit["dinas-pendidikan"], {"decision": "tolak"}, KOMINFO)
    session.commit()
    decided = {d["unit"]: d["decision"] for d in _events(session, submitted.case.id, extensions.DECIDED)}
    assert decided == {"kanwil-bpn-jatim": "setuju", "dinas-pendidikan": "tolak"}
    _replays(session, submitted)
