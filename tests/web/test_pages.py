"""The HTML pages, driven with Flask's test client and CSRF on, as each SOP actor uses them."""

from __future__ import annotations

import io

from sqlalchemy import select

from engine.store import Attachment, Case, OutboxMail
from tests.conftest import MONDAY_9AM
from tests.web.pages import PNG, complaint_form, csrf, login, open_task, submit
from web import db


def complete(app, client, tracking_id: str, form: dict) -> None:
    task = open_task(app, tracking_id)
    path = f"/tugas/{task.id}"
    response = client.post(path, data={**form, "csrf_token": csrf(client, path)})
    assert response.status_code == 302, response.get_data(as_text=True)


def test_whole_case_through_the_pages(app):
    citizen, tracking_id, link = submit(app)
    page = citizen.get(link).get_data(as_text=True)
    assert tracking_id in page and 'id="status">diterima<' in page

    kominfo = login(app, "kominfo")
    inbox = kominfo.get("/tugas").get_data(as_text=True)
    assert "Teruskan laporan ke unit kerja" in inbox and tracking_id in inbox
    task_page = kominfo.get(f"/tugas/{open_task(app, tracking_id).id}").get_data(as_text=True)
    assert '<option value="dinas-pendidikan" selected>' in task_page  # kategori.dmn's suggestion
    assert "Budi Santoso" in task_page  # not anonymous: staff see the reporter
    complete(app, kominfo, tracking_id, {"unit": "dinas-pendidikan", "note": "Mohon dicek."})

    assert tracking_id not in login(app, "kesehatan").get("/tugas").get_data(as_text=True)
    pendidikan = login(app, "pendidikan")
    complete(app, pendidikan, tracking_id, {"decision": "terima"})
    complete(app, pendidikan, tracking_id, {"response": "Perbaikan dijadwalkan Senin depan."})
    complete(app, kominfo, tracking_id, {"decision": "teruskan", "answer": "Jalan akan diperbaiki mulai Senin depan."})

    page = citizen.get(link).get_data(as_text=True)
    assert "Jalan akan diperbaiki mulai Senin depan." in page and 'id="status">dijawab<' in page
    token = link.split("token=")[1]
    response = citizen.post(
        f"/lacak/{tracking_id}/balas", data={"satisfied": "true", "text": "Terima kasih", "token": token, "csrf_token": csrf(citizen, link)}
    )
    assert response.status_code == 302
    assert 'id="status">selesai<' in citizen.get(link).get_data(as_text=True)


def test_invalid_complaint_shows_each_field_error_and_keeps_the_input(app):
    client = app.test_client()
    data = {**complaint_form(title="abc", **{"reporter.email": "bukan-email"}), "csrf_token": csrf(client, "/lapor")}
    response = client.post("/lapor", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Minimal 5 karakter." in html and "Alamat email tidak valid." in html
    assert 'value="abc"' in html and "Lubang besar di jalan provinsi" in html


def test_attachment_is_checked_by_content_not_name(app):
    client = app.test_client()
    data = {**complaint_form(), "csrf_token": csrf(client, "/lapor"), "lampiran": [(io.BytesIO(b"MZ\x90\0 not an image"), "foto.png")]}
    response = client.post("/lapor", data=data, content_type="multipart/form-data")
    assert response.status_code == 400 and "hanya PDF, JPEG, atau PNG" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Case.id)) is None


def test_attachment_is_stored_under_a_random_name_and_only_staff_download_it(app, tmp_path):
    _citizen, tracking_id, _link = submit(app)
    with app.app_context():
        item = db.session.scalar(select(Attachment))
        assert item.filename == "foto.png" and item.stored_name != "foto.png" and (tmp_path / "files" / item.stored_name).read_bytes() == PNG
    path = f"/kasus/{tracking_id}/lampiran/{item.id}"
    assert app.test_client().get(path).status_code == 302  # to the login page
    assert login(app, "kominfo").get(path).data == PNG
    assert login(app, "kesehatan").get(path).status_code == 404  # not sent to that unit


def test_too_large_upload_gets_413(app):
    client = app.test_client()
    data = {**complaint_form(), "csrf_token": csrf(client, "/lapor"), "lampiran": [(io.BytesIO(b"%PDF-" + b"0" * (17 * 1024 * 1024)), "besar.pdf")]}
    assert client.post("/lapor", data=data, content_type="multipart/form-data").status_code == 413


def test_form_without_csrf_token_is_refused(app):
    assert app.test_client().post("/lapor", data=complaint_form()).status_code == 400


def test_anonymous_reporter_is_hidden_from_staff_and_confidential_case_from_the_public_list(app):
    _citizen, tracking_id, _link = submit(app, anonymous="true", confidential="true")
    kominfo = login(app, "kominfo")
    page = kominfo.get(f"/tugas/{open_task(app, tracking_id).id}").get_data(as_text=True)
    assert "Budi Santoso" not in page and "budi@example.id" not in page and "081234567890" not in page
    assert "Jalan berlubang" not in app.test_client().get("/pengaduan").get_data(as_text=True)
    with app.app_context():
        staff_mail = db.session.scalars(select(OutboxMail).where(OutboxMail.to_addr != "budi@example.id")).all()
        assert staff_mail and not any("Budi" in m.body or "budi@" in m.body for m in staff_mail)


def test_public_list_shows_open_complaints_with_filters(app):
    submit(app)
    html = app.test_client().get("/pengaduan?category=pendidikan").get_data(as_text=True)
    assert "Jalan berlubang di Sidoarjo" in html and "Budi" not in html
    assert "Jalan berlubang" not in app.test_client().get("/pengaduan?category=kesehatan").get_data(as_text=True)


def test_wrong_access_token_is_404(app):
    _citizen, tracking_id, _link = submit(app)
    assert app.test_client().get(f"/lacak/{tracking_id}?token=salah").status_code == 404


def test_logout_invalidates_a_copied_session_cookie(app):
    client = login(app, "kominfo")
    cookie = client.get_cookie("session").value
    client.post("/keluar", data={"csrf_token": csrf(client, "/tugas")})
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    assert thief.get("/tugas").status_code == 302


def test_units_cannot_open_the_case_pages_of_other_units_and_only_oversight_searches_all(app):
    _citizen, tracking_id, _link = submit(app)
    assert login(app, "kesehatan").get(f"/kasus/{tracking_id}").status_code == 404
    assert login(app, "kominfo").get("/kasus").status_code == 403
    assert tracking_id in login(app, "pusat").get("/kasus").get_data(as_text=True)


def test_overdue_badge_appears_once_the_deadline_passes(app, clock):
    _citizen, tracking_id, _link = submit(app)
    kominfo = login(app, "kominfo")
    assert "lewat batas" not in kominfo.get("/tugas").get_data(as_text=True)
    clock.advance(days=2)
    assert "lewat batas" in kominfo.get("/tugas").get_data(as_text=True)
    assert clock.now() > MONDAY_9AM
