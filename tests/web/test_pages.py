"""The HTML pages, driven with Flask's test client and CSRF on, as each SOP actor uses them."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from engine.db.tables import Attachment, Case, OutboxMail
from tests.conftest import MONDAY_9AM
from tests.web.pages import PNG, complaint_form, csrf, login, open_task, submit
from web.extensions import db


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
    assert "Verifikasi laporan" in inbox and tracking_id in inbox
    task_page = kominfo.get(f"/tugas/{open_task(app, tracking_id).id}").get_data(as_text=True)
    assert 'name="units" value="dinas-pendidikan" checked>' in task_page  # kategori.dmn's suggestion
    assert "Budi Santoso" in task_page  # not anonymous: staff see the reporter
    complete(app, kominfo, tracking_id, {"unit": "dinas-pendidikan", "note": "Mohon dicek."})

    assert tracking_id not in login(app, "kesehatan").get("/tugas").get_data(as_text=True)
    pendidikan = login(app, "pendidikan")
    complete(app, pendidikan, tracking_id, {"decision": "terima"})
    complete(app, pendidikan, tracking_id, {"response": "Perbaikan dijadwalkan Senin depan."})
    complete(app, kominfo, tracking_id, {"decision": "teruskan", "answer": "Jalan akan diperbaiki mulai Senin depan."})

    page = citizen.get(link).get_data(as_text=True)
    assert "Jalan akan diperbaiki mulai Senin depan." in page and 'id="status">dijawab<' in page
    assert link.split("#token=")[1] not in page  # the reply form carries no code: the case's cookie (set by the receipt) does
    response = citizen.post(f"/lacak/{tracking_id}/balas", data={"satisfied": "true", "text": "Terima kasih", "csrf_token": csrf(citizen, link)})
    assert response.status_code == 302 and response.headers["Location"] == f"/lacak/{tracking_id}"
    assert 'id="status">selesai<' in citizen.get(link).get_data(as_text=True)


def test_invalid_complaint_shows_each_field_error_and_keeps_the_input(app):
    client = app.test_client()
    data = {**complaint_form(title="abc", **{"reporter.email": "bukan-email"}), "csrf_token": csrf(client, "/lapor")}
    response = client.post("/lapor", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Minimal 5 karakter." in html and "Alamat email tidak valid." in html
    assert 'value="abc"' in html and "Lubang besar di jalan provinsi" in html


def one_time_key(html: str) -> str:
    return re.search(r'name="submission_key" value="([^"]+)"', html).group(1)


def rows_of(app) -> tuple[int, int, int]:
    """(cases, attachments, receipt mails)."""
    with app.app_context():
        receipts = select(func.count()).select_from(OutboxMail).where(OutboxMail.topic == "laporan_diterima")
        return (
            db.session.scalar(select(func.count()).select_from(Case)),
            db.session.scalar(select(func.count()).select_from(Attachment)),
            db.session.scalar(receipts),
        )


def test_the_complaint_form_sent_twice_shows_the_same_receipt_and_makes_one_case(app):
    client = app.test_client()
    form = client.get("/lapor").get_data(as_text=True)
    assert one_time_key(form) != one_time_key(client.get("/lapor").get_data(as_text=True))  # one per rendered form

    def send():
        data = {
            **complaint_form(),
            "csrf_token": csrf(client, "/lapor"),
            "submission_key": one_time_key(form),
            "lampiran": [(io.BytesIO(PNG), "foto.png")],
        }
        response = client.post("/lapor", data=data, content_type="multipart/form-data")
        assert response.status_code == 200, response.get_data(as_text=True)
        html = response.get_data(as_text=True)
        return re.search(r'id="tracking-id">(LPR-[0-9A-Z]{8})<', html).group(1), re.search(r'id="private-link" href="([^"]+)"', html).group(1)

    first = send()
    assert send() == first  # a double click, a reload that sends the form again: the same tracking id and private link
    assert rows_of(app) == (1, 1, 1)


def test_the_form_key_outlives_a_refused_form_and_a_reused_key_with_other_content_gets_a_new_one(app):
    client = app.test_client()
    key = one_time_key(client.get("/lapor").get_data(as_text=True))
    refused = client.post("/lapor", data={**complaint_form(title="abc"), "csrf_token": csrf(client, "/lapor"), "submission_key": key})
    assert refused.status_code == 400 and one_time_key(refused.get_data(as_text=True)) == key  # nothing was made under it yet
    assert client.post("/lapor", data={**complaint_form(), "csrf_token": csrf(client, "/lapor"), "submission_key": key}).status_code == 200

    # back in the browser, the same form (and key) filled in with another complaint
    other = complaint_form(title="Lampu jalan mati di Gresik")
    reused = client.post("/lapor", data={**other, "csrf_token": csrf(client, "/lapor"), "submission_key": key})
    html = reused.get_data(as_text=True)
    assert reused.status_code == 422 and "Formulir ini sudah pernah dikirim dengan isian lain." in html
    assert 'value="Lampu jalan mati di Gresik"' in html and "Jalan berlubang di Sidoarjo" not in html and "LPR-" not in html  # nothing of the first
    new_key = one_time_key(html)
    assert new_key != key and rows_of(app)[0] == 1
    assert client.post("/lapor", data={**other, "csrf_token": csrf(client, "/lapor"), "submission_key": new_key}).status_code == 200
    assert rows_of(app)[0] == 2


def test_a_form_without_its_key_still_submits(app):
    client = app.test_client()
    for _ in range(2):
        assert client.post("/lapor", data={**complaint_form(), "csrf_token": csrf(client, "/lapor")}).status_code == 200
    assert rows_of(app) == (2, 0, 2)


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
        assert item.filename == "lampiran-1.png" and item.stored_name != "foto.png" and (tmp_path / "files" / item.stored_name).read_bytes() == PNG
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


def tracking_cookies(response) -> list[str]:
    return [h for h in response.headers.getlist("Set-Cookie") if h.startswith("lacak=")]


def test_the_mailed_link_opens_the_case_without_the_code_in_any_url(app):
    """The code rides after "#" (never sent): the page the server sees is the lookup form with the tracking id and
    track.js, which posts the code; the answer is a 303 to the bare URL with the case's cookie, and the forms need no more."""
    _citizen, tracking_id, _link = submit(app)
    with app.app_context():
        receipt = db.session.scalar(select(OutboxMail).where(OutboxMail.subject == f"Laporan Anda telah diterima: {tracking_id}"))
    link = re.search(r"https?://\S+/lacak/\S+", receipt.body).group(0)
    path, _hash, fragment = link.partition("#")
    token = fragment.removeprefix("token=")
    assert path.endswith(f"/lacak/{tracking_id}") and "?" not in link and len(token) >= 22

    browser = app.test_client()  # another device: no cookie
    lookup = browser.get(f"/lacak/{tracking_id}").get_data(as_text=True)
    assert f'value="{tracking_id}"' in lookup and "/static/track.js" in lookup and 'id="status"' not in lookup
    opened = browser.post("/lacak", data={"tracking_id": tracking_id, "token": token, "csrf_token": csrf(browser, "/lacak")})
    assert opened.status_code == 303 and opened.headers["Location"] == f"/lacak/{tracking_id}"
    page = browser.get(f"/lacak/{tracking_id}").get_data(as_text=True)
    assert 'id="status">diterima<' in page and token not in page

    withdrawn = browser.post(f"/lacak/{tracking_id}/cabut", data={"reason": "Sudah beres", "csrf_token": csrf(browser, f"/lacak/{tracking_id}")})
    assert withdrawn.status_code == 302 and withdrawn.headers["Location"] == f"/lacak/{tracking_id}"
    assert 'id="status">dicabut<' in browser.get(f"/lacak/{tracking_id}").get_data(as_text=True)
    stranger = app.test_client()
    assert stranger.post(f"/lacak/{tracking_id}/cabut", data={"csrf_token": csrf(stranger, f"/lacak/{tracking_id}")}).status_code == 404


def test_a_code_in_the_query_string_is_exchanged_for_the_cookie_and_a_bare_url(app):
    """Links mailed before the code moved after "#" keep working; the code stays in one request line only."""
    _citizen, tracking_id, link = submit(app)
    token = link.split("#token=")[1]
    browser = app.test_client()
    response = browser.get(f"/lacak/{tracking_id}?token={token}")
    assert response.status_code == 303 and response.headers["Location"] == f"/lacak/{tracking_id}"
    assert 'id="status">diterima<' in browser.get(response.headers["Location"]).get_data(as_text=True)
    wrong = app.test_client().get(f"/lacak/{tracking_id}?token={token[:-1]}")
    assert wrong.status_code == 404 and not tracking_cookies(wrong)


def test_the_lookup_form_answers_a_wrong_code_with_the_form_and_no_cookie(app):
    _citizen, tracking_id, link = submit(app)
    browser = app.test_client()
    response = browser.post("/lacak", data={"tracking_id": tracking_id, "token": "salah", "csrf_token": csrf(browser, "/lacak")})
    assert response.status_code == 404 and not tracking_cookies(response)
    assert 'id="not-found"' in response.get_data(as_text=True) and f'value="{tracking_id}"' in response.get_data(as_text=True)
    assert 'id="status"' not in browser.get(f"/lacak/{tracking_id}").get_data(as_text=True)
    other = submit(app)[1]  # a right code opens its own case only
    response = browser.post("/lacak", data={"tracking_id": other, "token": link.split("#token=")[1], "csrf_token": csrf(browser, "/lacak")})
    assert response.status_code == 404


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
