"""A system step of the model that fails never loses what a citizen or a member of staff sent: the case waits at its
last good state, Admin Pusat sees an incident and retries it ("Coba lagi"); only a command that fails whole is rolled
back with the user's input shown again. Runs on the backend LAPOR_TEST_DB chooses.

Failures come from a model whose script is replaced (``with_script``, deployed as a new version), or from one helper
the model's scripts call (``teruskan_ke_unit``, after Disposisi) replaced with one that raises, as a mail gateway
or a unit directory that is down would.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine import CaseService
from engine.audit import replay
from engine.audit import trail as audit
from engine.cases import incidents
from engine.db.tables import Case, Incident, OpenTask, OutboxMail
from engine.definitions.bundle import Bundle
from engine.runtime import scripting
from tests.engine.support import TO_BALASAN, audit_types, snapshot, with_script
from tests.engine.support import submit as submit_case
from tests.reliability.support import assert_consistent
from tests.scenarios import COMPLAINT
from tests.web.conftest import bearer
from tests.web.pages import csrf, login, submit
from web.extensions import db

FAILURE = "gerbang notifikasi unit tidak menjawab"
NOTE = "Mohon segera ditindaklanjuti, warga sudah menunggu dua bulan."


@pytest.fixture
def failing_unit_notification(monkeypatch):
    """The script task that sends the case to its units after Disposisi raises (notifications to roles still work)."""

    def teruskan_ke_unit(unit_id: str) -> None:
        raise ConnectionError(FAILURE)

    monkeypatch.setitem(scripting.HELPERS, "teruskan_ke_unit", teruskan_ke_unit)
    return monkeypatch


def _deploy(app, clock, bundle: Bundle) -> None:
    with app.app_context():
        _definition, created = CaseService(db.session, clock).deploy(bundle, by="analis")
        assert created
        db.session.commit()


def _incident_rows(app) -> list[Incident]:
    with app.app_context():
        rows = db.session.scalars(select(Incident).order_by(Incident.id)).all()
        db.session.expunge_all()
        return rows


def _case(app, tracking_id: str) -> Case:
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.tracking_id == tracking_id))
        db.session.expunge_all()
        return case


def test_a_complaint_whose_system_step_fails_is_received_through_the_api_and_the_form(app, api, clock):
    _deploy(app, clock, with_script("Task_Rekam", "rekam_pengaduan()\ngagal = 1 / 0"))

    answer = api.client.post("/api/v1/complaints", json=COMPLAINT)
    assert answer.status_code == 201, answer.json
    assert answer.json["status"] == "diterima" and answer.json["access_token"]
    followed = api.client.get(f"/api/v1/complaints/{answer.json['tracking_id']}", headers=bearer(answer.json["access_token"]))
    assert followed.status_code == 200 and followed.json["status"] == "diterima"

    citizen, tracking_id, link = submit(app)  # the form answers with the receipt (tracking id, private link)
    page = citizen.get(link)
    assert page.status_code == 200 and 'id="status">diterima<' in page.get_data(as_text=True)

    for number in (answer.json["tracking_id"], tracking_id):
        case = _case(app, number)
        assert (case.status, case.retry_at) == ("diterima", clock.now() + timedelta(minutes=1))
        with app.app_context():
            assert audit_types(db.session, case.id) == ["case_started", "notification_queued", "step_failed"]
            assert db.session.scalar(select(OutboxMail.topic).where(OutboxMail.case_id == case.id)) == "laporan_diterima"
            assert db.session.scalar(select(func.count()).select_from(OpenTask).where(OpenTask.case_id == case.id)) == 0
            assert_consistent(db.session, case.id)
    assert [(i.command, i.element, i.count) for i in _incident_rows(app)] == [("submit", "Task_Rekam", 1)] * 2

    assert login(app, "pusat").get(f"/kasus/{tracking_id}").status_code == 200  # the case page of a waiting case
    assert login(app, "auditor").get(f"/riwayat/{tracking_id}").status_code == 200  # its history, replayed
    kominfo = login(app, "kominfo")  # Admin Kominfo sees nothing broken: no task yet, no incident
    inbox = kominfo.get("/tugas").get_data(as_text=True)
    assert tracking_id not in inbox and "Insiden" not in inbox and "ZeroDivisionError" not in inbox
    assert kominfo.get("/kasus").status_code == 403


def test_a_step_failing_after_a_staff_completion_saves_it_and_admin_pusat_retries(app, api, failing_unit_notification):
    tracking_id = api.submit()["tracking_id"]
    task_id = api.task_of("kominfo", tracking_id)["id"]
    staff = login(app, "kominfo")
    form = {"units": "dinas-kesehatan", "note": NOTE, "csrf_token": csrf(staff, f"/tugas/{task_id}")}

    done = staff.post(f"/tugas/{task_id}", data=form)

    assert done.status_code == 302, done.get_data(as_text=True)
    assert "Langkah otomatis sesudahnya belum berhasil" in staff.get(done.headers["Location"]).get_data(as_text=True)
    case = _case(app, tracking_id)
    assert (case.status, case.unit_id) == ("diterima", None), "nothing of the failed step: no status, no unit"
    with app.app_context():
        assert audit_types(db.session, case.id)[-2:] == ["task_completed", "step_failed"]
        assert db.session.get(OpenTask, task_id) is None
        assert not any(m.topic == "laporan_masuk" for m in db.session.scalars(select(OutboxMail).where(OutboxMail.case_id == case.id)))
        assert_consistent(db.session, case.id)
    [incident] = _incident_rows(app)
    assert (incident.command, incident.case_id, incident.task, incident.actor, incident.count) == ("complete_task", case.id, task_id, "kominfo", 1)
    assert (incident.element, incident.element_name) == ("Task_KirimUnit", "Kirim laporan ke setiap unit tujuan (email dan pemberitahuan)")
    assert FAILURE in incident.message and "teruskan_ke_unit" in incident.detail
    assert staff.post(f"/tugas/{task_id}", data=form).status_code == 302, "the same form again: done already, nothing twice"
    assert len(_incident_rows(app)) == 1

    pusat = login(app, "pusat")
    overview = pusat.get("/kasus").get_data(as_text=True)
    assert 'id="insiden"' in overview and tracking_id in overview and FAILURE in overview and "Task_KirimUnit" in overview
    assert "Kirim laporan ke setiap unit tujuan (email dan pemberitahuan)" in overview and "Rincian teknis" in overview
    assert f"/insiden/{incident.id}/coba-lagi" in overview
    assert 'id="insiden"' not in login(app, "auditor").get("/kasus").get_data(as_text=True), "incidents are Admin Pusat's"
    assert staff.post(f"/insiden/{incident.id}/coba-lagi", data={"csrf_token": csrf(staff, "/tugas")}).status_code == 403

    retried = pusat.post(f"/insiden/{incident.id}/coba-lagi", data={"csrf_token": csrf(pusat, "/kasus")})  # still down
    assert retried.status_code == 302
    assert "Langkah otomatis masih gagal" in pusat.get(retried.headers["Location"]).get_data(as_text=True)
    [incident] = _incident_rows(app)
    assert incident.count == 2 and _case(app, tracking_id).status == "diterima"

    failing_unit_notification.undo()  # the gateway is back
    retried = pusat.post(f"/insiden/{incident.id}/coba-lagi", data={"csrf_token": csrf(pusat, "/kasus")})
    assert "Langkah otomatis berhasil dijalankan" in pusat.get(retried.headers["Location"]).get_data(as_text=True)
    case = _case(app, tracking_id)
    assert (case.status, case.unit_id, case.retry_at) == ("didisposisikan", "dinas-kesehatan", None)
    [incident] = _incident_rows(app)
    assert incident.resolved_by == "pusat" and incident.resolved_at is not None
    assert 'id="insiden"' not in pusat.get("/kasus").get_data(as_text=True)
    assert api.task_of("kesehatan", tracking_id)["name"] == "Terima laporan"
    with app.app_context():
        assert_consistent(db.session, case.id)
    again = pusat.post(f"/insiden/{incident.id}/coba-lagi", data={"csrf_token": csrf(pusat, "/kasus")})
    assert "tidak sedang menunggu percobaan ulang" in pusat.get(again.headers["Location"]).get_data(as_text=True)


def test_a_retried_case_replays_as_a_match_on_the_history_page(app, api, clock, failing_unit_notification):
    """The history says the steps failed (``step_failed``) and when they were retried (``steps_retried``): the replay keeps
    the completion without its steps, then runs them at the retry, though the failure was transient; the chain verifies."""
    tracking_id = api.submit()["tracking_id"]
    api.step("kominfo", tracking_id, {"unit": "dinas-kesehatan", "note": NOTE})  # its next step fails: kept, waits
    [incident] = _incident_rows(app)
    pusat, auditor = login(app, "pusat"), login(app, "auditor")
    path = f"/riwayat/{tracking_id}"
    html = auditor.post(path, data={"csrf_token": csrf(auditor, path)}).get_data(as_text=True)
    assert "Putar ulang cocok" in html and "Langkah otomatis gagal" in html and "Task_KirimUnit" in html

    failing_unit_notification.undo()
    clock.advance(minutes=3)
    pusat.post(f"/insiden/{incident.id}/coba-lagi", data={"csrf_token": csrf(pusat, "/kasus")})
    assert _case(app, tracking_id).status == "didisposisikan"
    html = auditor.post(path, data={"csrf_token": csrf(auditor, path)}).get_data(as_text=True)
    assert "Putar ulang cocok" in html and "3 langkah" in html and "Langkah otomatis dicoba lagi" in html
    assert "Rantai hash terverifikasi" in html
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.tracking_id == tracking_id))
        assert audit.verify_chain(db.session, case) is None and replay.replay_case(db.session, case).matches


def test_a_citizen_reply_is_kept_when_the_step_after_it_fails(app, api, clock):
    _deploy(app, clock, with_script("Task_Tutup", 'ubah_status("selesai")\ngagal = 1 / 0'))
    with app.app_context():
        submitted = submit_case(CaseService(db.session, clock), COMPLAINT, TO_BALASAN)
        tracking_id, token, case_id = submitted.case.tracking_id, submitted.access_token, submitted.case.id

    reply = api.client.post(f"/api/v1/complaints/{tracking_id}/replies", json={"satisfied": True, "text": "Terima kasih."}, headers=bearer(token))

    assert reply.status_code == 200, reply.json
    assert reply.json["status"] == "dijawab", "the closing step failed: not closed, but the reply is kept"
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert (case.status, case.closed_at) == ("dijawab", None) and case.retry_at is not None
        assert audit_types(db.session, case_id)[-2:] == ["task_completed", "step_failed"]
        assert_consistent(db.session, case_id)
    [incident] = _incident_rows(app)
    assert (incident.command, incident.element, incident.actor) == ("reply", "Task_Tutup", "pelapor")
    again = api.client.post(f"/api/v1/complaints/{tracking_id}/replies", json={"satisfied": False, "text": "Lagi"}, headers=bearer(token))
    assert again.status_code == 409, "the reply was saved: none is expected any more"


def test_a_completion_that_fails_whole_rolls_back_and_shows_the_input_again(app, api, monkeypatch):
    """Not a system step but the completion itself (here: its audit event cannot be written): nothing is saved, the
    task page shows the user's input with the error, and the incident has no step to retry."""
    tracking_id = api.submit()["tracking_id"]
    task_id = api.task_of("kominfo", tracking_id)["id"]
    case_id = _case(app, tracking_id).id
    with app.app_context():
        before = snapshot(db.session, case_id)
    append = audit.AuditLog.append

    def failing_append(self, case, type_, *args, **kwargs):
        if type_ == "task_completed":
            raise OSError("disk penuh")
        return append(self, case, type_, *args, **kwargs)

    monkeypatch.setattr(audit.AuditLog, "append", failing_append)
    staff = login(app, "kominfo")
    form = {"units": "dinas-kesehatan", "note": NOTE, "csrf_token": csrf(staff, f"/tugas/{task_id}")}

    page = staff.post(f"/tugas/{task_id}", data=form)

    assert page.status_code == 500
    html = page.get_data(as_text=True)
    [incident] = _incident_rows(app)
    assert f"insiden #{incident.id}" in html and "tidak ada yang tersimpan" in html
    assert NOTE in html, "the note the user typed is still in the form"
    assert 'name="units" value="dinas-kesehatan" checked' in html, "the unit the user chose is still chosen"
    with app.app_context():
        assert snapshot(db.session, case_id) == before, "nothing of the completion was saved"
        assert db.session.get(OpenTask, task_id) is not None
    assert (incident.command, incident.task, incident.element, incident.count) == ("complete_task", task_id, None, 1)
    assert "disk penuh" in incident.message

    pusat = login(app, "pusat")
    overview = pusat.get("/kasus").get_data(as_text=True)
    assert "disk penuh" in overview and f"/insiden/{incident.id}/coba-lagi" not in overview, "nothing waits to be retried"
    resolved = pusat.post(f"/insiden/{incident.id}/selesai", data={"csrf_token": csrf(pusat, "/kasus")})
    assert resolved.status_code == 302 and 'id="insiden"' not in pusat.get("/kasus").get_data(as_text=True)
    [incident] = _incident_rows(app)
    assert incident.resolved_by == "pusat" and incident.resolved_at is not None


def test_only_admin_pusat_resolves_incidents(app, session, clock):
    incident = incidents.record(session, clock.now(), "fire_timers", RuntimeError("x"), actor="sistem")
    session.commit()
    kominfo = login(app, "kominfo")
    response = kominfo.post(f"/insiden/{incident.id}/selesai", data={"csrf_token": csrf(kominfo, "/tugas")})
    assert response.status_code == 403
    assert incidents.resolve(session, incident.id, "pusat", clock.now()) is True
    assert incidents.resolve(session, incident.id, "pusat", clock.now()) is False
    assert incidents.open_incidents(session) == []
    session.commit()
    pusat = login(app, "pusat")
    assert pusat.post("/insiden/999999/coba-lagi", data={"csrf_token": csrf(pusat, "/kasus")}).status_code == 404
