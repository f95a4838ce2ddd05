"""The citizen's side (issue 17, points 1 and 4): every mail after the receipt links straight into the case with a
link code (engine/cases/ids.py), and the tracking page and GET /api/v1/complaints/{id} tell the whole story: the
complaint with its files, each answer and reply in order, a stepper with the deadline, a line per loop."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.db.tables import Case, OutboxMail
from engine.notifications.notify import Notifier
from tests.web.conftest import bearer
from tests.web.pages import csrf, submit
from tests.web.test_api import check
from web.extensions import db

FORWARD = {"unit": "dinas-pendidikan", "note": "Mohon ditindaklanjuti."}
ACCEPT = {"decision": "terima"}
RESPOND = {"response": "Perbaikan dijadwalkan Senin depan."}
FIRST_ANSWER = "Jalan akan diperbaiki mulai Senin depan."
SECOND_ANSWER = "Lubang ditambal ulang pada 14 Desember 2026."


@pytest.fixture
def doc(client):
    return client.get("/api/v1/openapi.json").json


def answer(api, tracking_id: str, text: str = FIRST_ANSWER) -> None:
    """Staff take the case from disposisi to a published answer, through the API."""
    for username, data in (
        ("kominfo", FORWARD),
        ("pendidikan", ACCEPT),
        ("pendidikan", RESPOND),
        ("kominfo", {"decision": "teruskan", "answer": text}),
    ):
        api.step(username, tracking_id, data)


def reporter_mails(app, tracking_id: str, topic: str) -> list[OutboxMail]:
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.tracking_id == tracking_id))
        return list(
            db.session.scalars(select(OutboxMail).where(OutboxMail.case_id == case.id, OutboxMail.topic == topic, OutboxMail.user_id.is_(None)))
        )


def mailed_link(mail: OutboxMail) -> tuple[str, str]:
    """The path and the code of the private link in ``mail``."""
    link = re.search(r"https?://\S+/lacak/\S+", mail.body).group(0)
    path, code = link.split("#token=")
    return re.sub(r"^https?://[^/]+", "", path), code


def open_link(app, tracking_id: str, code: str):
    """What a fresh browser does with a mailed link: the lookup form, whose script posts the code (web/static/track.js)."""
    browser = app.test_client()
    lookup = browser.get(f"/lacak/{tracking_id}").get_data(as_text=True)
    assert "/static/track.js" in lookup
    return browser, browser.post("/lacak", data={"tracking_id": tracking_id, "token": code, "csrf_token": csrf(browser, "/lacak")})


# ---- point 1: a link that always works -----------------------------------------------------------


def test_the_answer_mail_links_straight_into_the_case_and_the_reply_goes_through(app, api):
    _citizen, tracking_id, _link = submit(app)
    answer(api, tracking_id)
    [mail] = reporter_mails(app, tracking_id, "jawaban_terbit")
    path, code = mailed_link(mail)
    assert path == f"/lacak/{tracking_id}" and "kode akses yang tercantum" not in mail.body  # no hunting for the receipt
    browser, opened = open_link(app, tracking_id, code)
    assert opened.status_code == 303 and opened.headers["Location"] == f"/lacak/{tracking_id}"
    page = browser.get(f"/lacak/{tracking_id}").get_data(as_text=True)
    assert 'id="status">dijawab<' in page and FIRST_ANSWER in page and code not in page
    replied = browser.post(f"/lacak/{tracking_id}/balas", data={"satisfied": "true", "text": "Terima kasih", "csrf_token": csrf(browser, path)})
    assert replied.status_code == 302
    assert 'id="status">selesai<' in browser.get(path).get_data(as_text=True)


def test_an_update_mail_links_straight_into_the_case(app, clock):
    """A topic the model sends the reporter with no template of its own gets REPORTER_UPDATE, with a link code too."""
    _citizen, tracking_id, _link = submit(app)
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.tracking_id == tracking_id))
        Notifier(db.session, "http://localhost").to_reporter(case, "budi@example.id", "kabar_baru", clock.now())
        db.session.commit()
    [mail] = reporter_mails(app, tracking_id, "kabar_baru")
    assert "kode akses yang tercantum" not in mail.body
    _path, code = mailed_link(mail)
    assert open_link(app, tracking_id, code)[1].status_code == 303


def test_a_tampered_code_or_another_cases_code_opens_nothing(app, api):
    _citizen, tracking_id, _link = submit(app)
    _other_citizen, other, _other_link = submit(app)
    answer(api, tracking_id)
    _path, code = mailed_link(reporter_mails(app, tracking_id, "jawaban_terbit")[0])
    tampered = code[:-1] + ("A" if code[-1] != "A" else "B")
    pushed = f"{int(code[:8], 16) + 86400:08x}" + code[8:]  # its expiry moved on, the MAC kept
    for tid, bad in ((tracking_id, tampered), (tracking_id, pushed), (other, code)):
        _browser, response = open_link(app, tid, bad)
        assert response.status_code == 404 and 'id="not-found"' in response.get_data(as_text=True), (tid, bad)
        assert app.test_client().get(f"/api/v1/complaints/{tid}", headers=bearer(bad)).status_code == 404


def test_an_expired_code_lands_on_the_lookup_form_saying_so(app, api, clock):
    _citizen, tracking_id, _link = submit(app)
    answer(api, tracking_id)
    _path, code = mailed_link(reporter_mails(app, tracking_id, "jawaban_terbit")[0])
    assert app.test_client().get(f"/api/v1/complaints/{tracking_id}", headers=bearer(code)).status_code == 200
    clock.advance(days=61)
    browser, response = open_link(app, tracking_id, code)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="expired"' in html and "kedaluwarsa" in html and f'value="{tracking_id}"' in html
    assert 'id="status"' not in browser.get(f"/lacak/{tracking_id}").get_data(as_text=True)
    older = app.test_client().get(f"/lacak/{tracking_id}?token={code}")  # the code in a query string: the same form, no 404
    assert older.status_code == 200 and 'id="expired"' in older.get_data(as_text=True)


def test_the_receipt_keeps_the_access_code(app):
    _citizen, tracking_id, link = submit(app)
    [receipt] = reporter_mails(app, tracking_id, "laporan_diterima")
    assert f"Kode akses: {link.split('#token=')[1]}" in receipt.body


# ---- point 4: the whole story -------------------------------------------------------------------


def test_the_tracking_page_shows_the_complaint_its_file_and_a_stepper_with_the_deadline(app):
    citizen, tracking_id, link = submit(app)
    page = citizen.get(link).get_data(as_text=True)
    assert "Lubang besar di jalan provinsi dekat pasar" in page and "Sidoarjo" in page
    assert re.search(
        r'<li class="current" aria-current="step">\s*<span class="dot" aria-hidden="true">1</span>\s*<span class="label">Diterima<', page
    )
    assert 'id="due"' in page and "Batas waktu:" in page
    files = re.findall(rf'href="(/lacak/{tracking_id}/lampiran/\d+)">lampiran-1.png<', page)
    assert len(files) == 1
    download = citizen.get(files[0])
    assert download.status_code == 200 and download.mimetype == "image/png"
    assert app.test_client().get(files[0]).status_code == 404  # no cookie, no file
    # the withdraw form asks first: a <details> with the reason and the confirming button
    assert re.search(r'<details class="card withdraw" id="withdraw">\s*<summary>Cabut laporan</summary>', page) and "Ya, cabut laporan" in page


def test_the_conversation_keeps_every_answer_and_reply_and_each_loop_says_what_comes_next(app, api):
    citizen, tracking_id, link = submit(app)
    answer(api, tracking_id)
    page = citizen.get(link).get_data(as_text=True)
    assert "Ya, cabut laporan" not in page  # answered: the citizen replies instead of withdrawing
    reply = {"satisfied": "false", "text": "Lubang masih ada.", "csrf_token": csrf(citizen, link)}
    assert citizen.post(f"/lacak/{tracking_id}/balas", data=reply).status_code == 302
    page = citizen.get(link).get_data(as_text=True)
    assert "Anda belum puas dengan jawaban; Admin Kominfo meninjau kembali laporan Anda." in page
    assert page.count("Laporan Anda telah diterima dan menunggu diteruskan") == 1
    answer(api, tracking_id, SECOND_ANSWER)
    page = citizen.get(link).get_data(as_text=True)
    order = [page.index(text) for text in ("Lubang besar di jalan provinsi", FIRST_ANSWER, "Lubang masih ada.", SECOND_ANSWER)]
    assert order == sorted(order) and "Belum puas" in page
    assert "Jawaban baru atas laporan Anda telah terbit." in page
    assert re.search(r'<li class="current" aria-current="step">\s*<span class="dot" aria-hidden="true">4</span>', page)
    assert "Ya, cabut laporan" not in page


def test_the_api_gives_the_citizen_the_body_the_deadline_and_every_answer(app, api, client, doc):
    created = api.submit()
    tracking_id, citizen = created["tracking_id"], bearer(created["access_token"])
    seen = check(doc, client.get(f"/api/v1/complaints/{tracking_id}", headers=citizen), "GET", "/complaints/{tracking_id}")
    assert seen["body"].startswith("Atap ruang kelas") and seen["due_at"]
    answer(api, tracking_id)
    client.post(f"/api/v1/complaints/{tracking_id}/replies", json={"satisfied": False, "text": "Masih bocor."}, headers=citizen)
    answer(api, tracking_id, SECOND_ANSWER)
    seen = check(doc, client.get(f"/api/v1/complaints/{tracking_id}", headers=citizen), "GET", "/complaints/{tracking_id}")
    assert [item["answer"] for item in seen["timeline"] if item["status"] == "dijawab"] == [FIRST_ANSWER, SECOND_ANSWER]
    assert [item["kind"] for item in seen["conversation"]] == ["complaint", "answer", "reply", "answer"]
    assert seen["due_at"]  # the reply the case waits on
    client.post(f"/api/v1/complaints/{tracking_id}/replies", json={"satisfied": True}, headers=citizen)
    seen = check(doc, client.get(f"/api/v1/complaints/{tracking_id}", headers=citizen), "GET", "/complaints/{tracking_id}")
    assert seen["status"] == "selesai" and seen["due_at"] is None
