"""web/pages/errors.py: the pages answer the engine's errors in one place, as each page did on its own before:
NotFound the 404 page, Forbidden the 403 page, a Conflict its message flashed on the way back the route names."""

from __future__ import annotations

from engine.accounts.users import create_user
from tests.web.pages import csrf, login, open_task, submit
from web.extensions import db


def test_a_task_form_sent_again_says_it_was_done_to_whoever_could_have_done_it_and_404_to_others(app):
    _citizen, tracking_id, _link = submit(app)
    kominfo = login(app, "kominfo")
    path = f"/tugas/{open_task(app, tracking_id).id}"
    form = {"unit": "dinas-pendidikan", "note": "Mohon dicek.", "csrf_token": csrf(kominfo, path)}
    assert kominfo.post(path, data=form).status_code == 302
    again = kominfo.post(path, data=form)
    assert again.status_code == 302 and again.headers["Location"] == "/tugas"
    assert "Tugas ini sudah diselesaikan." in kominfo.get("/tugas").get_data(as_text=True)
    pusat = login(app, "pusat")
    assert pusat.post(path, data={"unit": "dinas-pendidikan", "csrf_token": csrf(pusat, "/tugas")}).status_code == 404


def test_a_task_of_another_role_or_unit_and_an_unknown_one_are_the_404_page(app):
    _citizen, tracking_id, _link = submit(app)
    path = f"/tugas/{open_task(app, tracking_id).id}"
    for who in ("pusat", "pendidikan", "auditor"):
        response = login(app, who).get(path)
        assert response.status_code == 404 and "Halaman tidak ditemukan" in response.get_data(as_text=True)
    assert login(app, "kominfo").get("/tugas/no-such-task").status_code == 404


def test_a_claim_held_by_a_colleague_is_flashed_and_sends_back_where_the_visitor_came_from(app):
    _citizen, tracking_id, _link = submit(app)
    task_id = open_task(app, tracking_id).id
    with app.app_context():
        create_user(db.session, "kominfo-2", "demo-lapor-2", "kominfo", None, "kominfo2@example.id", "Admin Kominfo 2")
        db.session.commit()
    kominfo = login(app, "kominfo")
    assert kominfo.post(f"/tugas/{task_id}/klaim", data={"csrf_token": csrf(kominfo, "/tugas")}).status_code == 302
    colleague = app.test_client()
    signed_in = colleague.post("/masuk", data={"username": "kominfo-2", "password": "demo-lapor-2", "csrf_token": csrf(colleague, "/masuk")})
    assert signed_in.status_code == 302
    token = csrf(colleague, "/tugas")
    refused = colleague.post(f"/tugas/{task_id}/klaim", data={"csrf_token": token}, headers={"Referer": "/kasus"})
    assert refused.status_code == 302 and refused.headers["Location"] == "/kasus"
    assert "Tugas ini sedang dikerjakan oleh kominfo." in colleague.get("/tugas").get_data(as_text=True)
    assert colleague.post(f"/tugas/{task_id}/klaim", data={"csrf_token": token}).headers["Location"] == "/tugas"  # no Referer: the inbox
    pusat = login(app, "pusat")
    assert pusat.post(f"/tugas/{task_id}/klaim", data={"csrf_token": csrf(pusat, "/tugas")}).status_code == 403  # not Admin Kominfo's lane


def test_the_analyst_is_refused_a_case_history_with_the_403_page(app):
    _citizen, tracking_id, _link = submit(app)
    response = login(app, "analis").get(f"/riwayat/{tracking_id}")  # analysts read case pages, not the audit history
    assert response.status_code == 403 and "Akses ditolak" in response.get_data(as_text=True)
    assert login(app, "pusat").get("/kasus/LPR-00000000").status_code == 404
