"""Issue 18's desk work at step 3 (verification) through the case façade on the test database: every channel a
complaint comes in by, protection of the reporter on their behalf (anonymous, confidential, the redacted text the
units read), archiving with its reasons and duplicates, asking the reporter for more, and several units at once.
Every case walked here replays as a match and its hash chain verifies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from engine import Actor, Conflict, Forbidden, InvalidData, NotFound, Submitted
from engine.audit.replay import replay_case
from engine.audit.trail import verify_chain
from engine.cases import access
from engine.cases.similar import duplicates_of, similar_cases
from engine.cases.views import audit_history, staff_case
from engine.contract import CHANNELS, SELF_SERVICE_CHANNELS
from engine.db.tables import AuditEvent, Case, CaseUnit, Escalation, OutboxMail, User
from engine.notifications.notify import ARCHIVE_REASON_TEXTS
from tests.engine.support import (
    BPN,
    KESEHATAN,
    KOMINFO,
    PENDIDIKAN,
    PUSAT,
    do,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    fire_due,
    open_rows,
    snapshot,
    submit,
)
from tests.scenarios import ACCEPT_SATKER, ADDITION, ASK_REPORTER, COMPLAINT, TWO_UNITS, Do, archive

AUDITOR = Actor("auditor", "auditor")
ANALIS = Actor("analis", "analis")
STAFF_CHANNELS = tuple(channel for channel in CHANNELS if channel not in SELF_SERVICE_CHANNELS)
# what staff write for the units in place of the reporter's own text (COMPLAINT["body"]): no school named
REDACTED = "Atap ruang kelas sebuah sekolah menengah negeri di Surabaya bocor sejak dua bulan."
REDACTED_AGAIN = "Atap ruang kelas sebuah sekolah negeri bocor; mohon diperiksa kewenangannya."
PROTECT = Do(
    "Task_Disposisi",
    {"unit": "dinas-pendidikan", "anonymous": True, "confidential": True, "redacted_body": REDACTED, "note": "Lindungi pelapor."},
)
DECLINE_SATKER = Do("Task_Terima_Satker", {"decision": "bukan_wewenang", "note": "Ini urusan dinas kesehatan."})


def fresh(session, submitted: Submitted) -> Case:
    """The case as stored now."""
    session.expire_all()
    case = session.get(Case, submitted.case.id)
    assert case is not None
    return case


def replays(session, submitted: Submitted) -> None:
    """The case replays as a match ("cocok", ``lapor replay``) and its hash chain verifies (``lapor verify``)."""
    case = fresh(session, submitted)
    result = replay_case(session, case)
    assert result.matches, result.difference
    assert verify_chain(session, case) is None


def events(session, case_id: int, kind: str) -> list[dict[str, Any]]:
    query = select(AuditEvent.data).where(AuditEvent.case_id == case_id, AuditEvent.type == kind).order_by(AuditEvent.seq)
    return [json.loads(data) for data in session.scalars(query)]


def reporter_mail(session, case_id: int, topic: str | None = None) -> list[OutboxMail]:
    """The mail queued to the reporter's own address (``user_id`` None), of ``topic`` when given."""
    query = select(OutboxMail).where(OutboxMail.case_id == case_id, OutboxMail.user_id.is_(None)).order_by(OutboxMail.id)
    return [mail for mail in session.scalars(query) if topic in (None, mail.topic)]


def staff_mail(session, case_id: int, topic: str) -> list[tuple[str, str | None, str]]:
    """(role, unit, to_addr) of each staff mail of ``topic`` queued for the case."""
    query = select(User.role, User.unit_id, OutboxMail.to_addr).join(User, User.id == OutboxMail.user_id)
    query = query.where(OutboxMail.case_id == case_id, OutboxMail.topic == topic).order_by(OutboxMail.id)
    return [tuple(row) for row in session.execute(query)]


def view(session, tracking_id: str, viewer: Actor) -> dict[str, Any]:
    return staff_case(session, access.case_for_staff(session, tracking_id, viewer))


# ---- every channel -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", CHANNELS)
def test_every_channel_is_kept_on_the_case_and_replays(service, session, channel):
    """Staff channels are typed in by Admin Kominfo (the first one by Admin Pusat) without the reporter's email and no
    mail goes to the reporter; the self-service ones come from the reporter, whose receipt is queued."""
    if channel in SELF_SERVICE_CHANNELS:
        submitted = service.submit(COMPLAINT, channel=channel)
        author = "pelapor"
    else:
        recorder = PUSAT if channel == STAFF_CHANNELS[0] else KOMINFO
        complaint = {**COMPLAINT, "reporter": {"name": "Pak Darmo", "phone": "081333444555"}}
        submitted = service.submit(complaint, channel=channel, recorded_by=recorder)
        author = recorder.username
    session.commit()
    case = fresh(session, submitted)
    assert (case.channel, case.status) == (channel, "diterima")
    [started] = events(session, case.id, "case_started")
    assert started["channel"] == channel
    assert session.scalar(select(AuditEvent.actor).where(AuditEvent.case_id == case.id, AuditEvent.seq == 1)) == author
    receipts = reporter_mail(session, case.id)
    if channel in SELF_SERVICE_CHANNELS:
        assert "recorded_by" not in started
        assert [(m.topic, m.to_addr) for m in receipts] == [("laporan_diterima", COMPLAINT["reporter"]["email"])]
    else:
        assert started["recorded_by"] == {"role": author}
        assert receipts == []  # nobody to write to: the caller gave no email
    assert [r.spec_name for r in open_rows(session, case.id)] == ["Task_Disposisi"]
    replays(session, submitted)
    do(service, submitted, PROTECT)
    assert fresh(session, submitted).status == "didisposisikan"
    replays(session, submitted)


@pytest.mark.parametrize("channel", STAFF_CHANNELS)
def test_a_reporter_on_their_own_cannot_use_a_staff_channel_nor_a_unit_record_one(service, session, channel):
    before = session.scalars(select(Case.id)).all()
    with pytest.raises(InvalidData) as refused:
        service.submit(COMPLAINT, channel=channel)
    assert set(refused.value.errors) == {"channel"}
    for unit_staff in (PENDIDIKAN, BPN):
        with pytest.raises(Forbidden):
            service.submit(COMPLAINT, channel=channel, recorded_by=unit_staff)
    assert session.scalars(select(Case.id)).all() == before  # nothing added, not even pending in the session


def test_an_unknown_channel_is_refused_to_staff_too(service, session):
    for channel, recorder in (("merpati", KOMINFO), ("merpati", None), ("", PUSAT)):
        with pytest.raises(InvalidData) as refused:
            service.submit(COMPLAINT, channel=channel, recorded_by=recorder)
        assert set(refused.value.errors) == {"channel"}
    assert session.scalars(select(Case.id)).all() == []


# ---- protecting the reporter on their behalf --------------------------------------------------------------------


def test_staff_protect_the_reporter_and_the_units_read_only_the_redacted_text(service, session):
    submitted = submit(service, COMPLAINT, [PROTECT])
    case = fresh(session, submitted)
    assert (case.anonymous, case.confidential, case.redacted_body) == (True, True, REDACTED)
    [protected] = events(session, case.id, "case_protected")
    assert protected == {"anonymous": True, "confidential": True, "redacted": True}  # which flags, never a text
    raw = session.scalar(select(AuditEvent.data).where(AuditEvent.case_id == case.id, AuditEvent.type == "case_protected"))
    assert REDACTED not in raw and COMPLAINT["body"] not in raw

    tid = case.tracking_id
    for reader in (PENDIDIKAN, ANALIS):  # the unit it went to and the analyst read staff's text only
        shown = view(session, tid, reader)
        assert (shown["body"], shown["redacted_body"], shown["body_redacted"]) == (REDACTED, None, True), reader
        assert COMPLAINT["body"] not in json.dumps(shown, default=str), reader
    for reader in (KOMINFO, PUSAT, AUDITOR):  # the liaison, Admin Pusat and auditors read both, told which is which
        shown = view(session, tid, reader)
        assert (shown["body"], shown["redacted_body"], shown["body_redacted"]) == (COMPLAINT["body"], REDACTED, False), reader
    for reader in (PENDIDIKAN, ANALIS, KOMINFO, PUSAT, AUDITOR):  # anonymous now: the reporter is hidden from everybody
        shown = view(session, tid, reader)
        assert (shown["reporter"], shown["reporter_hidden"]) == (None, True), reader
        assert COMPLAINT["reporter"]["name"] not in json.dumps(shown, default=str), reader
    for reader in (PUSAT, AUDITOR):  # the full audit history too
        history = json.dumps(audit_history(session, access.oversight_case(session, tid, reader)))
        assert COMPLAINT["reporter"]["email"] not in history and COMPLAINT["reporter"]["name"] not in history
    with pytest.raises(NotFound):  # another unit never opens it
        access.case_for_staff(session, tid, KESEHATAN)
    # the similar-complaint search reads the redacted text, not the reporter's own words
    assert "Negeri 1" not in case.search_text and "sebuah sekolah menengah" in case.search_text
    replays(session, submitted)


def test_a_later_verification_never_clears_the_flags_and_may_give_a_new_text(service, session):
    submitted = submit(service, COMPLAINT, [PROTECT, DECLINE_SATKER])
    assert fresh(session, submitted).status == "diterima"
    later = {"unit": "dinas-kesehatan", "anonymous": False, "confidential": False, "redacted_body": REDACTED_AGAIN}
    do(service, submitted, Do("Task_Disposisi", later))
    case = fresh(session, submitted)
    assert (case.anonymous, case.confidential, case.redacted_body) == (True, True, REDACTED_AGAIN)
    assert events(session, case.id, "case_protected")[-1] == {"anonymous": True, "confidential": True, "redacted": True}
    shown = view(session, case.tracking_id, KESEHATAN)
    assert (shown["body"], shown["reporter"], shown["reporter_hidden"]) == (REDACTED_AGAIN, None, True)
    with pytest.raises(NotFound):  # the unit that declined it no longer opens it
        access.case_for_staff(session, case.tracking_id, PENDIDIKAN)

    # a verification that says nothing about protection records none and changes nothing
    protected = len(events(session, case.id, "case_protected"))
    do(service, submitted, Do("Task_Terima_Satker", {"decision": "bukan_wewenang", "note": "Bukan urusan kesehatan."}))
    do(service, submitted, Do("Task_Disposisi", {"unit": "dinas-pendidikan", "anonymous": False}))
    case = fresh(session, submitted)
    assert (case.anonymous, case.confidential, case.redacted_body) == (True, True, REDACTED_AGAIN)
    assert len(events(session, case.id, "case_protected")) == protected
    replays(session, submitted)


def test_a_text_for_the_units_alone_keeps_the_reporter_shown_to_the_office(service, session):
    data = {"unit": "dinas-pendidikan", "redacted_body": REDACTED}
    submitted = submit(service, COMPLAINT, [Do("Task_Disposisi", data)])
    case = fresh(session, submitted)
    assert (case.anonymous, case.confidential, case.redacted_body) == (False, False, REDACTED)
    assert events(session, case.id, "case_protected") == [{"anonymous": False, "confidential": False, "redacted": True}]
    unit = view(session, case.tracking_id, PENDIDIKAN)
    assert (unit["body"], unit["body_redacted"], unit["reporter"]) == (REDACTED, True, COMPLAINT["reporter"])
    replays(session, submitted)


# ---- archiving ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["bukan_pengaduan", "di_luar_kewenangan", "tidak_lengkap", "duplikat"])
def test_archiving_closes_the_case_and_tells_the_reporter_why(service, session, clock, reason):
    first = submit(service, COMPLAINT) if reason == "duplikat" else None
    step = archive(reason)
    if first is not None:
        step = Do(step.task, {**step.data, "duplicate_of": first.case.tracking_id})
    submitted = submit(service, COMPLAINT)
    clock.advance(hours=3)
    do(service, submitted, step)
    case = fresh(session, submitted)
    duplicate_of = first.case.tracking_id if first else None
    assert (case.status, case.closed_at, case.archive_reason, case.duplicate_of) == ("diarsipkan", clock.now(), reason, duplicate_of)
    assert open_rows(session, case.id) == [] and case.next_timer_at is None
    assert events(session, case.id, "case_archived") == [{"reason": reason, "duplicate_of": duplicate_of}]
    [mail] = reporter_mail(session, case.id, "diarsipkan")
    assert mail.to_addr == COMPLAINT["reporter"]["email"] and case.tracking_id in mail.subject
    assert ARCHIVE_REASON_TEXTS[reason] % {"duplicate_of": duplicate_of or ""} in mail.body
    if first is not None:
        assert first.case.tracking_id in mail.body
        # linked both ways: the duplicate names the case it repeats, which lists its duplicates
        assert duplicates_of(session, first.case.tracking_id) == [case.tracking_id]
        assert view(session, case.tracking_id, KOMINFO)["duplicate_of"] == first.case.tracking_id
        [listed] = [s for s in similar_cases(session, fresh(session, first), now=clock.now()) if s.tracking_id == case.tracking_id]
        assert listed.duplicate_of == first.case.tracking_id
    replays(session, submitted)


@pytest.mark.parametrize("duplicate_of", ["itself", "LPR-ZZZZ9999", None])
def test_a_duplicate_of_nothing_or_of_itself_is_refused_and_changes_nothing(service, session, duplicate_of):
    submit(service, COMPLAINT)  # another case exists: the refusal is not for want of cases
    submitted = submit(service, COMPLAINT)
    [row] = open_rows(session, submitted.case.id)
    before = snapshot(session, submitted.case.id)
    data = {**archive("duplikat").data}
    if duplicate_of is not None:
        data["duplicate_of"] = submitted.case.tracking_id if duplicate_of == "itself" else duplicate_of
    with pytest.raises(InvalidData) as refused:
        service.complete_task(row.id, data, KOMINFO)
    assert set(refused.value.errors) == {"duplicate_of"}
    session.rollback()
    assert snapshot(session, submitted.case.id) == before
    assert duplicates_of(session, submitted.case.tracking_id) == []


def test_a_duplicate_of_with_another_reason_is_refused_and_changes_nothing(service, session):
    """Only a duplicate names the case it repeats: the form is refused rather than failing the model's step later."""
    first = submit(service, COMPLAINT)
    submitted = submit(service, COMPLAINT)
    [row] = open_rows(session, submitted.case.id)
    before = snapshot(session, submitted.case.id)
    with pytest.raises(InvalidData) as refused:
        service.complete_task(row.id, {**archive("bukan_pengaduan").data, "duplicate_of": first.case.tracking_id}, KOMINFO)
    assert set(refused.value.errors) == {"duplicate_of"}
    session.rollback()
    assert snapshot(session, submitted.case.id) == before


# ---- asking the reporter for more ---------------------------------------------------------------------------------


def test_asking_for_more_tells_the_reporter_and_their_addition_brings_the_task_back(service, session, clock):
    submitted = submit(service, COMPLAINT)
    clock.advance(hours=1)
    do(service, submitted, ASK_REPORTER)
    case = fresh(session, submitted)
    question = ASK_REPORTER.data["question"]
    assert case.status == "menunggu_kelengkapan" and case.closed_at is None
    assert [(r.spec_name, r.role) for r in open_rows(session, case.id)] == [("Task_Kelengkapan", "masyarakat")]
    assert events(session, case.id, "additions_requested") == [{"question": question}]
    [asked] = reporter_mail(session, case.id, "minta_kelengkapan")
    assert asked.to_addr == COMPLAINT["reporter"]["email"] and question in asked.body
    waiting_since = len(staff_mail(session, case.id, "perlu_disposisi"))

    clock.advance(days=2)
    do(service, submitted, ADDITION)
    case = fresh(session, submitted)
    assert case.status == "diterima"
    assert [(r.spec_name, r.role, r.unit_id) for r in open_rows(session, case.id)] == [("Task_Disposisi", "kominfo", None)]
    kominfo = session.scalars(select(User.email).where(User.role == "kominfo", User.active.is_(True))).all()
    told = staff_mail(session, case.id, "perlu_disposisi")[waiting_since:]
    assert kominfo and sorted(to for _role, _unit, to in told) == sorted(kominfo)
    assert {role for role, _unit, _to in told} == {"kominfo"}
    [added] = events(session, case.id, "task_completed")[-1:]
    assert (added["form"], added["data"]) == ("kelengkapan", ADDITION.data)
    replays(session, submitted)


def test_no_addition_in_ten_working_days_archives_as_incomplete_and_a_late_addition_is_refused(service, session, clock):
    submitted = submit(service, COMPLAINT, [ASK_REPORTER])
    clock.advance(days=13)  # Sunday 13 December: the 10 working days end Monday 14 December, 23:59:59
    fire_due(service)
    assert fresh(session, submitted).status == "menunggu_kelengkapan"
    clock.advance(days=2)
    fire_due(service)
    case = fresh(session, submitted)
    assert (case.status, case.archive_reason, case.closed_at) == ("diarsipkan", "tidak_lengkap", clock.now())
    assert open_rows(session, case.id) == []
    assert events(session, case.id, "case_archived") == [{"reason": "tidak_lengkap", "duplicate_of": None}]
    [mail] = reporter_mail(session, case.id, "diarsipkan")
    assert ARCHIVE_REASON_TEXTS["tidak_lengkap"] in mail.body
    replays(session, submitted)

    before = snapshot(session, case.id)
    with pytest.raises(Conflict):
        service.add_to_complaint(case.tracking_id, submitted.access_token, ADDITION.data["text"])
    session.rollback()
    assert snapshot(session, case.id) == before


# ---- several units -------------------------------------------------------------------------------------------


def test_a_unit_that_declined_no_longer_opens_the_case_while_the_other_does(service, session):
    submitted = submit(service, COMPLAINT, [TWO_UNITS])
    tid = submitted.case.tracking_id
    for unit_staff in (PENDIDIKAN, BPN):
        assert access.case_for_staff(session, tid, unit_staff).case.id == submitted.case.id
    do(service, submitted, Do("Task_Terima_Vertikal", {"decision": "bukan_wewenang", "note": "Bukan urusan pertanahan."}, "kanwil-bpn-jatim"))
    with pytest.raises(NotFound):
        access.case_for_staff(session, tid, BPN)
    assert access.case_for_staff(session, tid, PENDIDIKAN).case.id == submitted.case.id
    states = dict(session.execute(select(CaseUnit.unit_id, CaseUnit.state).where(CaseUnit.case_id == submitted.case.id)).all())
    assert states == {"dinas-pendidikan": "aktif", "kanwil-bpn-jatim": "bukan_wewenang"}
    assert [(r.spec_name, r.unit_id) for r in open_rows(session, submitted.case.id)] == [("Task_Terima_Satker", "dinas-pendidikan")]
    do(service, submitted, ACCEPT_SATKER)
    with pytest.raises(NotFound):
        access.case_for_staff(session, tid, BPN)
    replays(session, submitted)


def test_each_unit_that_misses_the_accept_target_is_named_in_its_own_escalation(service, session, clock):
    submitted = submit(service, COMPLAINT, [TWO_UNITS])  # Monday: each unit must accept by Tuesday 23:59:59
    clock.advance(days=1, hours=14)  # Tuesday 23:00: not yet
    fire_due(service)
    assert session.scalars(select(Escalation).where(Escalation.case_id == submitted.case.id)).all() == []
    clock.advance(hours=2)
    fire_due(service)
    rows = session.execute(select(Escalation.stage, Escalation.clock, Escalation.unit_id).where(Escalation.case_id == submitted.case.id)).all()
    assert sorted(tuple(r) for r in rows) == [("terima", "target", "dinas-pendidikan"), ("terima", "target", "kanwil-bpn-jatim")]
    reminded = {(role, unit) for role, unit, _to in staff_mail(session, submitted.case.id, "pengingat")}
    assert reminded == {("satker", "dinas-pendidikan"), ("vertikal", "kanwil-bpn-jatim")}  # each unit its own reminder
    escalated = session.scalars(
        select(OutboxMail.body).where(OutboxMail.case_id == submitted.case.id, OutboxMail.topic == "eskalasi").order_by(OutboxMail.id)
    ).all()
    for unit_id in ("dinas-pendidikan", "kanwil-bpn-jatim"):  # Admin Pusat is told which unit missed it
        assert any(service.units()[unit_id][0] in body for body in escalated), unit_id
    assert {r.overdue for r in open_rows(session, submitted.case.id)} == {True}
    replays(session, submitted)
