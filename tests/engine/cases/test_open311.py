"""engine/cases/open311.py: which cases Open311 publishes, filtered and bounded, and what it reads of each."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.cases.open311 import listed, public_request, public_requests
from engine.db.tables import Case, CaseUnit, Unit
from tests.engine.support import submit
from tests.scenarios import COMPLAINT


def _submit(service, clock, **changes):
    case = submit(service, {**COMPLAINT, **changes}).case
    clock.advance(hours=1)
    return case


def test_only_public_cases_not_archived_as_not_a_complaint_are_listed(service, session, clock):
    public = _submit(service, clock, title="Jalan rusak di Gresik")
    secret = _submit(service, clock, title="Pungutan liar di sekolah", confidential=True)
    not_a_complaint = _submit(service, clock, title="Salam dari warga Malang")
    not_a_complaint.status, not_a_complaint.archive_reason = "diarsipkan", "bukan_pengaduan"
    duplicate = _submit(service, clock, title="Jalan rusak di Gresik lagi")
    duplicate.status, duplicate.archive_reason = "diarsipkan", "duplikat"
    session.flush()
    found = [r.tracking_id for r in public_requests(session)]
    assert found == [duplicate.tracking_id, public.tracking_id]  # newest first
    assert public_request(session, secret.tracking_id) is None
    assert public_request(session, not_a_complaint.tracking_id) is None
    assert public_request(session, "LPR-00000000") is None
    assert session.scalar(select(Case.id).where(listed(), Case.id == duplicate.id)) == duplicate.id
    assert public_request(session, duplicate.tracking_id).open311_status == "closed"


def test_a_request_reads_the_complaint_but_never_the_reporter(service, session, clock):
    case = _submit(service, clock, location="Jl. Ahmad Yani 1, Surabaya", latitude=-7.25, longitude=112.75)
    found = public_request(session, case.tracking_id)
    assert (found.description, found.address, found.latitude, found.longitude) == (COMPLAINT["body"], "Jl. Ahmad Yani 1, Surabaya", -7.25, 112.75)
    assert (found.status, found.open311_status, found.category, found.units, found.answer) == ("diterima", "open", "pendidikan", (), None)
    reporter = COMPLAINT["reporter"]
    assert not any(value in repr(found) for value in (reporter["name"], reporter["email"], reporter["phone"]))


def test_the_redacted_text_replaces_the_citizens_own(service, session, clock):
    case = _submit(service, clock)
    case.redacted_body = "Atap ruang kelas sebuah SMA negeri di Surabaya bocor."
    session.flush()
    assert public_request(session, case.tracking_id).description == case.redacted_body


def test_the_units_holding_the_case_are_named_but_not_one_that_declined(service, session, clock):
    case = _submit(service, clock)
    session.add_all(
        [
            CaseUnit(case_id=case.id, unit_id="dinas-pendidikan", state="aktif", since=clock.now()),
            CaseUnit(case_id=case.id, unit_id="dinas-kesehatan", state="bukan_wewenang", since=clock.now()),
        ]
    )
    session.flush()
    assert public_request(session, case.tracking_id).units == (session.get(Unit, "dinas-pendidikan").name,)


def test_filters_combine_and_the_limit_bounds_the_answer(service, session, clock):
    start = clock.now()
    first = _submit(service, clock, category="kesehatan")
    second = _submit(service, clock, category="pendidikan")
    third = _submit(service, clock, category="kesehatan")
    third.status = "selesai"
    session.flush()

    def ids(**filters):
        return [r.tracking_id for r in public_requests(session, **filters)]

    assert ids(categories=["kesehatan"]) == [third.tracking_id, first.tracking_id]
    assert ids(statuses=["open"]) == [second.tracking_id, first.tracking_id]
    assert ids(statuses=["closed"]) == [third.tracking_id]
    assert ids(statuses=["open", "closed"], categories=["kesehatan", "pendidikan"]) == [third.tracking_id, second.tracking_id, first.tracking_id]
    assert ids(start=start + timedelta(minutes=30), end=start + timedelta(hours=1)) == [second.tracking_id]
    assert ids(start=first.submitted_at, end=first.submitted_at) == [first.tracking_id]  # both ends included
    assert ids(tracking_ids=[first.tracking_id, third.tracking_id, "LPR-00000000"]) == [third.tracking_id, first.tracking_id]
    assert ids(limit=2) == [third.tracking_id, second.tracking_id]
