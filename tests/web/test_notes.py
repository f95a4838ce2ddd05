"""Internal notes on the web: GET/POST /api/v1/cases/{tracking_id}/notes as documented, and the "Catatan internal"
thread and form on the staff case and task pages (staff only; a mention tells the unit without the note's text)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select

from engine.db.tables import AuditEvent, Case, Notification, OutboxMail, User
from tests.web.conftest import bearer
from tests.web.pages import csrf, login
from tests.web.test_api import check, doc  # noqa: F401 - doc is a fixture
from web.extensions import db

PATH = "/cases/{tracking_id}/notes"
FORWARD = {"unit": "dinas-pendidikan", "note": "Mohon ditindaklanjuti."}
TEXT = "Kepala sekolah sudah kami hubungi; @dinas-kesehatan mohon cek sanitasi kantinnya."


def _url(tracking_id: str) -> str:
    return f"/api/v1/cases/{tracking_id}/notes"


def forwarded(api) -> str:
    """A complaint forwarded to Dinas Pendidikan."""
    tracking_id = api.submit()["tracking_id"]
    assert api.step("kominfo", tracking_id, FORWARD)["status"] == "didisposisikan"
    return tracking_id


def post(client, api, username: str, tracking_id: str, body: Any):
    return client.post(_url(tracking_id), json=body, headers=bearer(api.token(username)))


def events(app, tracking_id: str, kind: str) -> list[dict[str, Any]]:
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.tracking_id == tracking_id))
        query = select(AuditEvent.data).where(AuditEvent.case_id == case.id, AuditEvent.type == kind).order_by(AuditEvent.seq)
        return [json.loads(data) for data in db.session.scalars(query)]


def test_staff_add_and_read_notes_oldest_first(app, api, client, clock, doc):  # noqa: F811
    tracking_id = forwarded(api)
    response = post(client, api, "pendidikan", tracking_id, {"text": f"  {TEXT}  "})
    assert response.status_code == 201, response.json
    first = check(doc, response, "POST", PATH)
    assert (first["author"], first["text"], first["at"]) == ("pendidikan", TEXT, clock.now().isoformat())
    clock.advance(minutes=3)
    second = check(doc, post(client, api, "kominfo", tracking_id, {"text": "Baik, kami pantau."}), "POST", PATH)
    for username in ("pendidikan", "kominfo", "pusat", "auditor"):
        response = client.get(_url(tracking_id), headers=bearer(api.token(username)))
        assert response.status_code == 200, username
        assert check(doc, response, "GET", PATH) == {"notes": [first, second]}
    analyst = client.get(_url(tracking_id), headers=bearer(api.token("analis")))  # free text may name the reporter
    assert analyst.status_code == 403
    check(doc, analyst, "GET", PATH)
    [added, _] = events(app, tracking_id, "note_added")
    assert added == {"sha256": hashlib.sha256(TEXT.encode()).hexdigest(), "mentions": ["dinas-kesehatan"]}


def test_a_note_needs_text_of_1_to_5000_characters(api, client, doc):  # noqa: F811
    tracking_id = forwarded(api)
    for body in ({}, {"text": ""}, {"text": "   "}, {"text": "x" * 5001}, {"text": 5}, {"text": "ok", "extra": 1}, {"text": "a\x00b"}):
        response = post(client, api, "kominfo", tracking_id, body)
        assert response.status_code == 400, body
        check(doc, response, "POST", PATH)
    response = client.post(_url(tracking_id), data="bukan json", headers=bearer(api.token("kominfo")))
    assert response.status_code == 400
    assert client.get(_url(tracking_id), headers=bearer(api.token("kominfo"))).json == {"notes": []}


def test_auditors_read_but_neither_they_nor_analysts_may_write(api, client, doc):  # noqa: F811
    tracking_id = forwarded(api)
    for username in ("auditor", "analis"):
        response = post(client, api, username, tracking_id, {"text": "Sudah diperiksa."})
        assert response.status_code == 403, username
        check(doc, response, "POST", PATH)
    response = client.get(_url(tracking_id))
    assert response.status_code == 401
    check(doc, response, "GET", PATH)
    assert client.post(_url(tracking_id), json={"text": "x"}).status_code == 401


def test_another_unit_and_a_unit_that_declined_find_nothing(api, client, doc):  # noqa: F811
    tracking_id = forwarded(api)
    assert post(client, api, "pendidikan", tracking_id, {"text": "Kami pelajari."}).status_code == 201
    for method in ("GET", "POST"):
        response = client.open(_url(tracking_id), method=method, json={"text": "Halo"}, headers=bearer(api.token("kesehatan")))
        assert response.status_code == 404, method
        check(doc, response, method, PATH)
    response = client.get(_url("LPR-00000000"), headers=bearer(api.token("kominfo")))
    assert response.status_code == 404
    api.step("pendidikan", tracking_id, {"decision": "bukan_wewenang", "note": "Bukan urusan kami."})
    assert client.get(_url(tracking_id), headers=bearer(api.token("pendidikan"))).status_code == 404
    assert post(client, api, "pendidikan", tracking_id, {"text": "Masih bisa?"}).status_code == 404
    assert len(client.get(_url(tracking_id), headers=bearer(api.token("kominfo"))).json["notes"]) == 1


def test_a_mention_notifies_the_unit_and_its_mail_holds_no_text_nor_reporter(app, api, client):
    tracking_id = forwarded(api)
    assert post(client, api, "pendidikan", tracking_id, {"text": TEXT}).status_code == 201
    with app.app_context():
        staff = db.session.scalar(select(User).where(User.username == "kesehatan"))
        [notice] = db.session.scalars(select(Notification).where(Notification.user_id == staff.id)).all()
        [mail] = db.session.scalars(select(OutboxMail).where(OutboxMail.user_id == staff.id)).all()
        others = db.session.scalars(select(OutboxMail).where(OutboxMail.topic == "catatan_internal", OutboxMail.user_id != staff.id)).all()
    assert notice.kind == "catatan_internal" and tracking_id in notice.message
    assert f"/kasus/{tracking_id}" in mail.body and mail.to_addr == staff.email
    assert others == []  # only the unit mentioned
    for part in (mail.subject, mail.body, mail.html or "", notice.message):
        for secret in ("sanitasi", "Kepala sekolah", "Siti Aminah", "siti@example.id", "081234567890"):
            assert secret not in part
    listed = client.get("/api/v1/notifications", headers=bearer(api.token("kesehatan"))).json["notifications"]
    assert [item["kind"] for item in listed] == ["catatan_internal"]


def test_the_case_page_shows_the_thread_and_adds_a_note(app, api):
    tracking_id = forwarded(api)
    unit = login(app, "pendidikan")
    page = f"/kasus/{tracking_id}"
    html = unit.get(page).get_data(as_text=True)
    assert "Catatan internal" in html and "Belum ada catatan internal." in html and 'name="text"' in html
    response = unit.post(f"{page}/catatan", data={"text": TEXT, "csrf_token": csrf(unit, page)})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{page}#catatan")
    html = unit.get(page).get_data(as_text=True)
    assert "Catatan internal ditambahkan." in html and "sanitasi kantinnya" in html and "pendidikan" in html
    # refused: empty text, flashed back on the page; no CSRF token: refused before anything is written
    response = unit.post(f"{page}/catatan", data={"text": "   ", "csrf_token": csrf(unit, page)})
    assert response.status_code == 302
    assert "Tuliskan catatan 1 sampai 5000 karakter." in unit.get(page).get_data(as_text=True)
    assert unit.post(f"{page}/catatan", data={"text": "tanpa token"}).status_code == 400
    assert len(events(app, tracking_id, "note_added")) == 1


def test_the_task_page_shows_the_thread_and_returns_to_it(app, api):
    tracking_id = forwarded(api)
    task_id = api.task_of("pendidikan", tracking_id)["id"]
    unit = login(app, "pendidikan")
    page = f"/tugas/{task_id}"
    response = unit.post(f"/kasus/{tracking_id}/catatan", data={"text": "Dari halaman tugas.", "task": task_id, "csrf_token": csrf(unit, page)})
    assert response.headers["Location"].endswith(f"{page}#catatan")
    html = unit.get(page).get_data(as_text=True)
    assert "Catatan internal" in html and "Dari halaman tugas." in html


def test_auditors_read_the_thread_without_a_form_and_other_units_find_no_page(app, api, client):
    tracking_id = forwarded(api)
    assert post(client, api, "kominfo", tracking_id, {"text": "Untuk diperhatikan."}).status_code == 201
    auditor = login(app, "auditor")
    html = auditor.get(f"/kasus/{tracking_id}").get_data(as_text=True)
    assert "Untuk diperhatikan." in html and "Tambahkan catatan" not in html
    token = csrf(auditor, f"/kasus/{tracking_id}")
    assert auditor.post(f"/kasus/{tracking_id}/catatan", data={"text": "Boleh?", "csrf_token": token}).status_code == 403
    other = login(app, "kesehatan")
    assert other.get(f"/kasus/{tracking_id}").status_code == 404
    token = csrf(other, "/tugas")
    assert other.post(f"/kasus/{tracking_id}/catatan", data={"text": "Halo", "csrf_token": token}).status_code == 404
    assert len(events(app, tracking_id, "note_added")) == 1
