"""Internal notes (engine/cases/notes.py, CaseService.add_note): who writes and reads them, what the audit keeps (a hash,
never the text), who a mention tells, and that a case with notes replays as a match and verifies."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import Actor, CaseService, Conflict, Forbidden, InvalidData, NotFound
from engine.audit.replay import replay_case
from engine.audit.trail import verify_chain
from engine.cases import access, notes
from engine.db.tables import AuditEvent, Case, CaseNote, Notification, OutboxMail, Unit, User
from tests.engine.support import KESEHATAN, KOMINFO, PENDIDIKAN, PUSAT, audit_types, do, fast_password_hashing, submit  # noqa: F401
from tests.scenarios import COMPLAINT, FORWARD_SATKER, Do

AUDITOR = Actor("auditor", "auditor")
ANALIS = Actor("analis", "analis")
DECLINE_SATKER = Do("Task_Terima_Satker", {"decision": "bukan_wewenang", "note": "Bukan urusan kami."})
TEXT = "Sudah saya telepon kepala sekolahnya; @dinas-kesehatan mohon cek juga sanitasinya."


def _events(session: Session, case_id: int, type_: str) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.type == type_).order_by(AuditEvent.seq)
    return list(session.scalars(query))


def _forwarded(service: CaseService):
    return submit(service, COMPLAINT, [FORWARD_SATKER])


def test_a_note_is_stored_with_its_author_and_the_audit_keeps_only_its_hash(service, session, clock):
    submitted = _forwarded(service)
    case = submitted.case
    note = service.add_note(case.tracking_id, f"  {TEXT}\n", PENDIDIKAN)
    session.commit()
    assert (note.author, note.author_role, note.text, note.at) == ("pendidikan", "satker", TEXT, clock.now())
    [event] = _events(session, case.id, "note_added")
    assert event.actor == "pendidikan"
    assert json.loads(event.data) == {"sha256": hashlib.sha256(TEXT.encode()).hexdigest(), "mentions": ["dinas-kesehatan"]}
    texts = " ".join(row.data for row in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id)))
    assert "sanitasinya" not in texts and "kepala sekolahnya" not in texts
    assert verify_chain(session, case) is None


def test_notes_read_oldest_first_by_every_staff_member_who_may_open_the_case(service, session, clock):
    case = _forwarded(service).case
    service.add_note(case.tracking_id, "Catatan pertama.", KOMINFO)
    clock.advance(minutes=5)
    service.add_note(case.tracking_id, "Catatan kedua.", PENDIDIKAN)
    session.commit()
    for reader in (KOMINFO, PENDIDIKAN, PUSAT, AUDITOR, ANALIS):
        seen = access.case_for_staff(session, case.tracking_id, reader)
        thread = notes.notes_of(session, seen.case)
        assert [(n.author, n.text) for n in thread] == [("kominfo", "Catatan pertama."), ("pendidikan", "Catatan kedua.")]
    assert thread[0].to_dict() == {"id": thread[0].id, "at": thread[0].at.isoformat(), "author": "kominfo", "text": "Catatan pertama."}
    with pytest.raises(NotFound):  # another unit: the case does not exist for it, nor do its notes
        access.case_for_staff(session, case.tracking_id, KESEHATAN)


def test_only_the_office_handling_cases_writes_notes(service, session):
    case = _forwarded(service).case
    for reader in (AUDITOR, ANALIS):
        with pytest.raises(Forbidden):
            service.add_note(case.tracking_id, "Diperiksa.", reader)
    with pytest.raises(Forbidden):  # refused before looking: an unknown tracking id answers the same
        service.add_note("LPR-00000000", "Diperiksa.", AUDITOR)
    with pytest.raises(NotFound):
        service.add_note(case.tracking_id, "Bukan kasus kami.", KESEHATAN)
    with pytest.raises(NotFound):
        service.add_note("LPR-00000000", "Tidak ada.", KOMINFO)
    assert session.scalars(select(CaseNote)).all() == []
    assert "note_added" not in audit_types(session, case.id)


def test_a_unit_that_declined_the_case_no_longer_writes_notes(service, session):
    submitted = _forwarded(service)
    service.add_note(submitted.case.tracking_id, "Kami pelajari dulu.", PENDIDIKAN)
    session.commit()
    do(service, submitted, DECLINE_SATKER)
    with pytest.raises(NotFound):
        service.add_note(submitted.case.tracking_id, "Masih bisa?", PENDIDIKAN)
    with pytest.raises(NotFound):
        access.case_for_staff(session, submitted.case.tracking_id, PENDIDIKAN)


@pytest.mark.parametrize("text", ["", "   \n\t ", "x" * 5001, None, 42])
def test_a_note_needs_1_to_5000_characters(service, session, text):
    case = _forwarded(service).case
    with pytest.raises(InvalidData) as refused:
        service.add_note(case.tracking_id, text, KOMINFO)
    assert set(refused.value.errors) == {"text"}
    assert session.scalars(select(CaseNote)).all() == []


def test_5000_characters_after_stripping_are_enough(service, session):
    case = _forwarded(service).case
    note = service.add_note(case.tracking_id, "  " + "x" * 5000 + "  ", KOMINFO)
    assert len(note.text) == 5000


def test_a_mention_tells_the_units_staff_without_the_text_or_the_reporter(service, session):
    case = _forwarded(service).case
    service.add_note(case.tracking_id, TEXT, PENDIDIKAN)
    session.commit()
    staff = session.scalar(select(User).where(User.username == "kesehatan"))
    assert staff is not None
    [notice] = session.scalars(select(Notification).where(Notification.user_id == staff.id)).all()
    assert (notice.kind, notice.case_id) == ("catatan_internal", case.id)
    [mail] = session.scalars(select(OutboxMail).where(OutboxMail.user_id == staff.id)).all()
    assert mail.topic == "catatan_internal" and case.tracking_id in mail.subject
    assert f"/kasus/{case.tracking_id}" in mail.body and "Dinas Kesehatan" in mail.body
    for part in (mail.subject, mail.body, mail.html or "", notice.message):
        for secret in ("sanitasinya", "kepala sekolah", "Siti Aminah", "siti@example.id", "081234567890"):
            assert secret not in part
    queued = [json.loads(e.data) for e in _events(session, case.id, "notification_queued")]
    assert {"to": "dinas-kesehatan", "topic": "catatan_internal", "users": 1, "mails": 1} in queued


def test_only_active_units_mentioned_as_a_word_are_told(service, session):
    case = _forwarded(service).case
    closed = session.get(Unit, "kanwil-kemenag-jatim")
    assert closed is not None
    closed.active = False
    text = "Tanya @kanwil-kemenag-jatim, @dinas-tak-ada, surel staf@dinas-pu-bina-marga, lalu @dinas-kesehatan dan @DINAS-KESEHATAN."
    service.add_note(case.tracking_id, text, KOMINFO)
    session.commit()
    [event] = _events(session, case.id, "note_added")
    assert json.loads(event.data)["mentions"] == ["dinas-kesehatan"]
    told = {json.loads(e.data)["to"] for e in _events(session, case.id, "notification_queued")}
    assert "dinas-pu-bina-marga" not in told and "kanwil-kemenag-jatim" not in told


def test_a_case_with_notes_replays_as_a_match_and_verifies(service, session, clock):
    submitted = _forwarded(service)
    case = submitted.case
    service.add_note(case.tracking_id, TEXT, PENDIDIKAN)
    session.commit()
    clock.advance(hours=1)
    service.add_note(case.tracking_id, "Tanpa sebutan.", KOMINFO)
    session.commit()
    do(service, submitted, Do("Task_Terima_Satker", {"decision": "terima"}))
    result = replay_case(session, case)
    assert result.matches, result.difference
    assert verify_chain(session, case) is None


def test_a_note_written_on_a_stale_case_is_refused(db_engine, clock, service, session):
    """Two staff write at once: the one who read the case before the other's note committed gets Conflict, not a
    collision on the audit sequence."""
    case_id = _forwarded(service).case.id
    tracking_id = session.get(Case, case_id).tracking_id  # type: ignore[union-attr]
    late = Session(db_engine)
    stale = late.get(Case, case_id)  # read before the first note
    assert stale is not None
    service.add_note(tracking_id, "Pertama.", KOMINFO)
    session.commit()
    with pytest.raises(Conflict):
        CaseService(late, clock).add_note(tracking_id, "Kedua.", PENDIDIKAN)
    late.rollback()
    late.close()
    assert [n.text for n in notes.notes_of(session, session.get(Case, case_id))] == ["Pertama."]  # type: ignore[arg-type]
