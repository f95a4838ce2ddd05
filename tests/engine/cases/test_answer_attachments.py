"""Documents with the answer (engine/cases/attachments.py): a unit's files on its ``tanggapan`` task, their names and
limit, which ids a form may list, publishing with the answer, who may upload, what the audit keeps, and that a case
with documents replays as a match."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from engine import Actor, CaseService, Conflict, Forbidden, InvalidData, NotFound
from engine.audit.replay import replay_case
from engine.audit.trail import verify_chain
from engine.cases import attachments
from engine.cases.attachments import StoredFile
from engine.db.tables import Attachment, AuditEvent, OpenTask
from tests.engine.support import BPN, KESEHATAN, KOMINFO, PENDIDIKAN, do, fast_password_hashing, open_row, submit  # noqa: F401
from tests.scenarios import ACCEPT_SATKER, COMPLAINT, FORWARD_SATKER, Do

PDF, PNG = "application/pdf", "image/png"
STAFF_PENDIDIKAN = Actor("guru", "satker", "dinas-pendidikan")  # a colleague of the unit: holds its tasks too
TWO_UNITS = Do("Task_Disposisi", {"units": ["dinas-pendidikan", "dinas-kesehatan"]})


def _file(n: int, kind: str = PDF, size: int = 100) -> StoredFile:
    return StoredFile(f"{n:032x}", kind, size)


def _answering(service: CaseService):
    """A case whose answer task waits for Dinas Pendidikan; returns (submitted, the task's row)."""
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER, ACCEPT_SATKER])
    return submitted, open_row(service.session, submitted.case.id, "Task_Tanggapan_Satker")


def _events(session, case_id: int) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.type == attachments.ANSWER_FILE_ADDED)
    return list(session.scalars(query.order_by(AuditEvent.seq)))


def test_answer_documents_have_their_own_names_and_never_count_as_the_citizens(service, session, clock):
    submitted, row = _answering(service)
    case_id = submitted.case.id
    attachments.record(session, case_id, [_file(1, PNG)], clock.now())
    first = attachments.record_for_answer(session, case_id, row.id, row.unit_id, _file(2), clock.now())
    attachments.record(session, case_id, [_file(3)], clock.now())  # the citizen adds one later: still lampiran-2
    second = attachments.record_for_answer(session, case_id, row.id, row.unit_id, _file(4, PNG), clock.now())
    assert [shown for _item, shown in (first, second)] == ["jawaban-1.pdf", "jawaban-2.png"]
    assert (first[0].unit_id, first[0].task_id, first[0].filename, first[0].published_at) == ("dinas-pendidikan", row.id, "jawaban-1.pdf", None)
    assert [shown for _item, shown in attachments.of_case(session, case_id)] == ["lampiran-1.png", "lampiran-2.pdf"]
    assert [shown for _item, shown in attachments.answer_files(session, case_id)] == ["jawaban-1.pdf", "jawaban-2.png"]
    assert [shown for _item, shown in attachments.of_task(session, case_id, row.id)] == ["jawaban-1.pdf", "jawaban-2.png"]
    assert [shown for _item, shown in attachments.for_staff(session, case_id)] == [
        "lampiran-1.png",
        "lampiran-2.pdf",
        "jawaban-1.pdf",
        "jawaban-2.png",
    ]
    assert [shown for _item, shown in attachments.for_citizen(session, case_id)] == ["lampiran-1.png", "lampiran-2.pdf"]  # none published yet


def test_a_fourth_document_for_one_answer_task_is_refused(service, session, clock):
    submitted, row = _answering(service)
    for n in range(3):
        attachments.record_for_answer(session, submitted.case.id, row.id, row.unit_id, _file(n), clock.now())
    with pytest.raises(InvalidData) as refused:
        attachments.record_for_answer(session, submitted.case.id, row.id, row.unit_id, _file(9), clock.now())
    assert refused.value.errors == {"file": "Paling banyak 3 dokumen untuk satu jawaban."}
    assert len(attachments.answer_files(session, submitted.case.id)) == 3


def test_each_units_answer_task_has_its_own_limit(service, session, clock):
    submitted = submit(service, COMPLAINT, [TWO_UNITS, Do("Task_Terima_Satker", {"decision": "terima"}, "dinas-pendidikan")])
    do(service, submitted, Do("Task_Terima_Satker", {"decision": "terima"}, "dinas-kesehatan"))
    rows = {r.unit_id: r for r in service.session.scalars(select(OpenTask).where(OpenTask.case_id == submitted.case.id))}
    for n in range(3):
        attachments.record_for_answer(session, submitted.case.id, rows["dinas-pendidikan"].id, "dinas-pendidikan", _file(n), clock.now())
    _item, shown = attachments.record_for_answer(session, submitted.case.id, rows["dinas-kesehatan"].id, "dinas-kesehatan", _file(7), clock.now())
    assert shown == "jawaban-4.pdf"  # numbered across the case: every name stays unique


def test_a_form_lists_only_documents_uploaded_for_its_own_task(service, session, clock):
    submitted, row = _answering(service)
    other, other_row = _answering(service)
    attachments.record(session, submitted.case.id, [_file(1)], clock.now())
    [citizens] = attachments.of_case(session, submitted.case.id)
    mine, _shown = attachments.record_for_answer(session, submitted.case.id, row.id, row.unit_id, _file(2), clock.now())
    theirs, _shown = attachments.record_for_answer(session, other.case.id, other_row.id, other_row.unit_id, _file(3), clock.now())
    attachments.check_answer_files(session, submitted.case.id, row.id, [mine.id])
    attachments.check_answer_files(session, submitted.case.id, row.id, [])
    for listed in ([theirs.id], [mine.id, theirs.id], [citizens[0].id], [987654], [True]):
        with pytest.raises(InvalidData) as refused:
            attachments.check_answer_files(session, submitted.case.id, row.id, listed)
        assert refused.value.errors == {"attachments": "Pilih hanya dokumen yang diunggah untuk tugas ini."}
    with pytest.raises(InvalidData):  # the right case, another task
        attachments.check_answer_files(session, submitted.case.id, other_row.id, [mine.id])


def test_publishing_marks_only_the_cases_own_documents_and_keeps_the_first_date(service, session, clock):
    submitted, row = _answering(service)
    other, other_row = _answering(service)
    first, _ = attachments.record_for_answer(session, submitted.case.id, row.id, row.unit_id, _file(1), clock.now())
    second, _ = attachments.record_for_answer(session, submitted.case.id, row.id, row.unit_id, _file(2, PNG), clock.now())
    theirs, _ = attachments.record_for_answer(session, other.case.id, other_row.id, other_row.unit_id, _file(3), clock.now())
    published_at = clock.now()
    attachments.publish(session, submitted.case.id, [second.id, theirs.id], published_at)
    assert [(item.id, shown) for item, shown in attachments.published_of(session, submitted.case.id)] == [(second.id, "jawaban-2.png")]
    assert theirs.published_at is None
    clock.advance(days=1)
    attachments.publish(session, submitted.case.id, [first.id, second.id], clock.now())
    assert [item.published_at for item, _ in attachments.published_of(session, submitted.case.id)] == [clock.now(), published_at]
    assert [shown for _item, shown in attachments.of_answer(session, submitted.case.id, [second.id, first.id, theirs.id])] == [
        "jawaban-1.pdf",
        "jawaban-2.png",
    ]
    assert [shown for _item, shown in attachments.for_citizen(session, submitted.case.id)] == ["jawaban-1.pdf", "jawaban-2.png"]


def test_the_holder_of_the_answer_task_uploads_and_the_audit_keeps_its_name_type_and_size(service, session, clock):
    submitted, row = _answering(service)
    item, shown = service.add_answer_file(row.id, _file(1, PNG, 2048), STAFF_PENDIDIKAN)
    session.commit()
    assert (shown, item.unit_id, item.task_id, item.created_at) == ("jawaban-1.png", "dinas-pendidikan", row.id, clock.now())
    [event] = _events(session, submitted.case.id)
    assert (event.actor, event.task, event.at) == ("guru", row.id, clock.now())
    assert json.loads(event.data) == {
        "task": "Task_Tanggapan_Satker",
        "unit": "dinas-pendidikan",
        "id": item.id,
        "name": "jawaban-1.png",
        "content_type": PNG,
        "size": 2048,
    }
    assert verify_chain(session, submitted.case) is None


def test_only_the_holder_of_an_open_answer_task_uploads(service, session):
    submitted, row = _answering(service)
    with pytest.raises(NotFound):  # another unit of the same kind: the task does not exist for it
        service.add_answer_file(row.id, _file(1), KESEHATAN)
    with pytest.raises(Forbidden):  # a role that does not act in the unit's lane
        service.add_answer_file(row.id, _file(1), BPN)
    with pytest.raises(NotFound):
        service.add_answer_file("00000000-0000-0000-0000-000000000000", _file(1), PENDIDIKAN)
    pending = submit(service, COMPLAINT, [FORWARD_SATKER])
    accept = open_row(session, pending.case.id, "Task_Terima_Satker")
    with pytest.raises(Conflict, match="tugas memberi tanggapan"):  # the unit's task, but not its answer
        service.add_answer_file(accept.id, _file(1), PENDIDIKAN)
    do(service, submitted, Do("Task_Tanggapan_Satker", {"response": "Perbaikan atap dijadwalkan minggu depan."}))
    with pytest.raises(Conflict, match="sudah diselesaikan"):  # answered meanwhile (a colleague, another tab)
        service.add_answer_file(row.id, _file(1), PENDIDIKAN)
    session.rollback()
    assert attachments.answer_files(session, submitted.case.id) == []
    assert _events(session, submitted.case.id) == []


def test_documents_listed_with_the_answer_are_published_with_it_and_the_case_replays(service, session, clock):
    submitted, row = _answering(service)
    kept, _ = service.add_answer_file(row.id, _file(1), PENDIDIKAN)
    clock.advance(minutes=5)
    dropped, _ = service.add_answer_file(row.id, _file(2, PNG), PENDIDIKAN)
    session.commit()
    with pytest.raises(InvalidData):  # a document of no task of this case
        service.complete_task(row.id, {"response": "Perbaikan atap dijadwalkan minggu depan.", "attachments": [kept.id + 100]}, PENDIDIKAN)
    session.rollback()
    clock.advance(hours=1)
    do(service, submitted, Do("Task_Tanggapan_Satker", {"response": "Perbaikan atap dijadwalkan minggu depan.", "attachments": [kept.id]}))
    assert attachments.published_of(session, submitted.case.id) == []  # not before Admin Kominfo publishes the answer
    clock.advance(hours=1)
    do(service, submitted, Do("Task_Teruskan", {"decision": "teruskan", "answer": "Atap diperbaiki minggu depan; jadwal terlampir."}))
    assert [(item.id, item.published_at) for item, _ in attachments.published_of(session, submitted.case.id)] == [(kept.id, clock.now())]
    assert session.get(Attachment, dropped.id).published_at is None
    result = replay_case(session, submitted.case)
    assert result.difference is None, result.difference
    assert verify_chain(session, submitted.case) is None


def test_kominfo_cannot_upload_for_a_unit(service, session):
    _submitted, row = _answering(service)
    with pytest.raises(Forbidden):
        service.add_answer_file(row.id, _file(1), KOMINFO)
