"""A script or service task that fails after a user completes a task: everything rolls back, the user keeps
their input, Admin Pusat sees an incident. Runs on the backend LAPOR_TEST_DB chooses.

The failure is made by replacing one helper the model's scripts call (``beri_tahu``, the notification
the "Kirim laporan ke unit" script task sends after Disposisi) with one that raises, as a mail gateway
or a unit directory that is down would.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import CaseService, incidents, scripting
from engine.store import Case, Incident, OpenTask
from tests.engine.support import KOMINFO, open_row, snapshot, submit
from tests.reliability.support import assert_consistent
from tests.scenarios import COMPLAINT
from tests.web.pages import csrf, login
from web import db

FAILURE = "gerbang notifikasi unit tidak menjawab"
NOTE = "Mohon segera ditindaklanjuti, warga sudah menunggu dua bulan."


@pytest.fixture
def failing_unit_notification(monkeypatch):
    """The script task after Disposisi raises (notifications to roles still work)."""
    real = scripting.HELPERS["beri_tahu"]

    def beri_tahu(kepada: str, jenis: str) -> None:
        if kepada not in scripting.ROLE_RECIPIENTS:
            raise ConnectionError(FAILURE)
        real(kepada, jenis)

    monkeypatch.setitem(scripting.HELPERS, "beri_tahu", beri_tahu)
    return monkeypatch


def test_a_failing_script_rolls_the_whole_completion_back(service, session, db_engine, failing_unit_notification):
    submitted = submit(service, COMPLAINT)
    task_id = open_row(session, submitted.case.id, "Task_Disposisi").id
    before = snapshot(session, submitted.case.id)
    with pytest.raises(Exception, match=FAILURE):
        service.complete_task(task_id, {"unit": "dinas-pendidikan", "note": NOTE}, KOMINFO)
    session.rollback()
    with Session(db_engine) as fresh:
        assert snapshot(fresh, submitted.case.id) == before
        assert_consistent(fresh, submitted.case.id)


def _incident_rows(app) -> list[Incident]:
    with app.app_context():
        rows = db.session.scalars(select(Incident).order_by(Incident.id)).all()
        db.session.expunge_all()
        return rows


def test_the_task_page_keeps_the_input_shows_the_error_and_admin_pusat_sees_the_incident(app, api, failing_unit_notification):
    tracking_id = api.submit()["tracking_id"]
    task_id = api.task_of("kominfo", tracking_id)["id"]
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.tracking_id == tracking_id))
        case_id, version = case.id, case.version
        before = snapshot(db.session, case_id)
    staff = login(app, "kominfo")
    form = {"unit": "dinas-kesehatan", "note": NOTE, "csrf_token": csrf(staff, f"/tugas/{task_id}")}

    page = staff.post(f"/tugas/{task_id}", data=form)

    assert page.status_code == 500
    html = page.get_data(as_text=True)
    [incident] = _incident_rows(app)
    assert f"insiden #{incident.id}" in html and "tidak ada yang tersimpan" in html
    assert NOTE in html, "the note the user typed is still in the form"
    assert re.search(r'<option value="dinas-kesehatan"[^>]*selected', html), "the unit the user chose is still chosen"
    with app.app_context():
        assert snapshot(db.session, case_id) == before, "nothing of the completion was saved"
        assert db.session.get(OpenTask, task_id) is not None and db.session.get(Case, case_id).version == version
        assert_consistent(db.session, case_id)
    assert (incident.command, incident.case_id, incident.task, incident.actor, incident.count) == ("complete_task", case_id, task_id, "kominfo", 1)
    assert FAILURE in incident.message and "ConnectionError" in incident.message and "beri_tahu" in incident.detail

    again = staff.post(f"/tugas/{task_id}", data=form)  # the user tries again while it is still broken
    assert again.status_code == 500
    [incident] = _incident_rows(app)
    assert incident.count == 2, "a repeat counts on the same open incident"

    pusat = login(app, "pusat")
    overview = pusat.get("/kasus").get_data(as_text=True)
    assert 'id="insiden"' in overview and tracking_id in overview and FAILURE in overview and "(2×)" in overview
    assert 'id="insiden"' not in login(app, "auditor").get("/kasus").get_data(as_text=True), "incidents are Admin Pusat's"

    failing_unit_notification.undo()  # the gateway is back: the same form goes through
    done = staff.post(f"/tugas/{task_id}", data=form)
    assert done.status_code == 302
    with app.app_context():
        assert db.session.get(Case, case_id).status == "didisposisikan"
        assert_consistent(db.session, case_id)

    resolved = pusat.post(f"/insiden/{incident.id}/selesai", data={"csrf_token": csrf(pusat, "/kasus")})
    assert resolved.status_code == 302
    assert 'id="insiden"' not in pusat.get("/kasus").get_data(as_text=True)
    [incident] = _incident_rows(app)
    assert incident.resolved_by == "pusat" and incident.resolved_at is not None


def test_only_admin_pusat_resolves_incidents(app, session, clock):
    from datetime import UTC, datetime

    incident = incidents.record(session, clock.now(), "fire_timers", RuntimeError("x"), actor="sistem")
    session.commit()
    kominfo = login(app, "kominfo")
    response = kominfo.post(f"/insiden/{incident.id}/selesai", data={"csrf_token": csrf(kominfo, "/tugas")})
    assert response.status_code == 403
    assert incidents.resolve(session, incident.id, "pusat", datetime.now(UTC)) is True
    assert incidents.resolve(session, incident.id, "pusat", datetime.now(UTC)) is False
    assert incidents.open_incidents(session) == []


def test_a_completion_that_fails_leaves_the_case_for_the_next_command(service, session, failing_unit_notification):
    """After the rollback the same service (and session) can complete a different case's task."""
    first = submit(service, COMPLAINT)
    second = submit(service, {**COMPLAINT, "category": "kesehatan"})
    with pytest.raises(Exception, match=FAILURE):
        service.complete_task(open_row(session, first.case.id, "Task_Disposisi").id, {"unit": "dinas-pendidikan"}, KOMINFO)
    session.rollback()
    failing_unit_notification.undo()
    CaseService(session, service.clock).complete_task(open_row(session, second.case.id, "Task_Disposisi").id, {"unit": "dinas-kesehatan"}, KOMINFO)
    session.commit()
    assert session.get(Case, second.case.id).status == "didisposisikan"
    assert session.get(Case, first.case.id).status == "diterima"
