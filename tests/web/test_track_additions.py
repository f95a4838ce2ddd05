"""The tracking page's side of step 3's new decisions (docs/architecture.md: step 3 verification, the citizen's
additions): the question and its deadline while the case waits for the reporter, the form that sends the case back,
the collapsed form on any other open case and none on a closed one, the archive reason on the timeline, and the
reporter's mails that carry the question and the reason."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from engine.db.tables import Case, OutboxMail
from tests.web.conftest import bearer
from tests.web.pages import PNG, csrf, submit
from web.attachments import MAX_BYTES
from web.extensions import db

QUESTION = "Mohon sebutkan nama sekolah dan alamat lengkapnya."
ADDITION = "Sekolahnya SDN Sidoarjo 3, Jalan Pahlawan 12, Sidoarjo."
ARCHIVE_REASON = "laporan ini bukan pengaduan tentang pelayanan publik."  # engine/notifications/notify.py ARCHIVE_REASON_TEXTS
ASK = {"decision": "minta_kelengkapan", "question": QUESTION}
ARCHIVE = {"decision": "arsipkan", "archive_reason": "bukan_pengaduan", "note": "Ini pertanyaan umum."}


def reporter_mails(app, tracking_id: str, topic: str) -> list[OutboxMail]:
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.tracking_id == tracking_id))
        query = select(OutboxMail).where(OutboxMail.case_id == case.id, OutboxMail.topic == topic, OutboxMail.user_id.is_(None))
        return list(db.session.scalars(query))


def add(citizen, tracking_id: str, text: str):
    path = f"/lacak/{tracking_id}"
    return citizen.post(f"{path}/tambah", data={"text": text, "csrf_token": csrf(citizen, path)}, content_type="multipart/form-data")


def addition_form(page: str) -> str | None:
    """The addition form's block on the tracking page (a card of its own, or a collapsed <details>), None without one."""
    found = re.search(r'<(form|details) class="card" id="addition".*?</\1>', page, re.S)
    return found.group(0) if found else None


@pytest.fixture
def waiting(app, api):
    """A complaint sent from the web form whose verification asked for more: (the citizen's browser, tracking id)."""
    citizen, tracking_id, _link = submit(app)
    assert api.step("kominfo", tracking_id, ASK)["status"] == "menunggu_kelengkapan"
    return citizen, tracking_id


def test_the_tracking_page_shows_the_question_and_its_deadline(app, api, waiting):
    citizen, tracking_id = waiting
    page = citizen.get(f"/lacak/{tracking_id}").get_data(as_text=True)
    assert 'id="status">menunggu kelengkapan<' in page
    form = addition_form(page)
    assert form is not None and form.startswith("<form") and f'action="/lacak/{tracking_id}/tambah"' in form
    assert re.search(r'id="question">\s*' + re.escape(QUESTION), form)
    # the deadline the reporter has: the one the API answers, as the page writes instants
    due = app.test_client().get(f"/api/v1/complaints/{tracking_id}", headers=bearer(_token(app, api, tracking_id))).json["due_at"]
    assert due and f"Tanpa tambahan sampai {app.jinja_env.filters['localtime'](due)}, laporan diarsipkan." in form
    assert 'id="withdraw"' in page and 'action="/lacak/' + tracking_id + '/balas"' not in page  # no reply form while asked


def _token(app, api, tracking_id: str) -> str:
    """A link code for the case as its mails carry it (the page's browser holds its access code in a cookie only)."""
    [mail] = reporter_mails(app, tracking_id, "minta_kelengkapan")
    return re.search(r"#token=(\S+)", mail.body).group(1)


def test_posting_the_form_sends_the_case_back_to_verification(app, api, waiting):
    citizen, tracking_id = waiting
    response = add(citizen, tracking_id, ADDITION)
    assert response.status_code == 302 and response.headers["Location"] == f"/lacak/{tracking_id}"
    page = citizen.get(f"/lacak/{tracking_id}").get_data(as_text=True)
    assert "Terima kasih, keterangan tambahan Anda telah kami terima." in page
    assert 'id="status">diterima<' in page and 'id="question"' not in page
    assert ADDITION in page and "Tambahan keterangan Anda telah diterima; Admin Kominfo memverifikasi kembali laporan Anda." in page
    conversation = re.search(r'<ol class="conversation">.*?</ol>', page, re.S).group(0)
    who = re.findall(r'<p class="who">([^<·]+) ·.*?<div class="text">([^<]*)</div>', conversation, re.S)
    assert who[1:] == [("Permintaan Admin Kominfo", QUESTION), ("Tambahan keterangan Anda", ADDITION)]
    assert "Balasan Anda" not in conversation and "puas" not in conversation  # neither is a reply to an answer
    assert addition_form(page).startswith("<details")  # the wait is over: the ordinary, collapsed form
    assert api.task_of("kominfo", tracking_id)["form"] == "disposisi"


def test_a_text_too_short_shows_the_field_error(app, api, waiting):
    citizen, tracking_id = waiting
    response = add(citizen, tracking_id, "pendek")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    form = addition_form(page)
    assert re.search(r'class="field textarea error".*class="error-text" role="alert">[^<]+<', form, re.S)
    assert ">pendek</textarea>" in form  # what was typed stays
    assert 'id="status">menunggu kelengkapan<' in page and api.tasks("kominfo") == []


def test_an_open_case_not_waiting_offers_the_collapsed_form(app, api):
    citizen, tracking_id, _link = submit(app)
    api.step("kominfo", tracking_id, {"unit": "dinas-pendidikan"})
    form = addition_form(citizen.get(f"/lacak/{tracking_id}").get_data(as_text=True))
    assert form is not None and re.match(r'<details class="card" id="addition">\s*<summary>Tambahkan keterangan</summary>', form)
    assert 'id="question"' not in form
    response = add(citizen, tracking_id, ADDITION)
    assert response.status_code == 302
    page = citizen.get(f"/lacak/{tracking_id}").get_data(as_text=True)
    assert 'id="status">didisposisikan<' in page and ADDITION in page


def test_a_closed_case_offers_no_form(app, api):
    citizen, tracking_id, _link = submit(app)
    path = f"/lacak/{tracking_id}"
    assert citizen.post(f"{path}/cabut", data={"csrf_token": csrf(citizen, path)}).status_code == 302
    page = citizen.get(path).get_data(as_text=True)
    assert 'id="status">dicabut<' in page and addition_form(page) is None and "/tambah" not in page
    refused = add(citizen, tracking_id, ADDITION)  # a form left open in another tab
    assert refused.status_code == 302
    assert "tidak dapat ditambah lagi" in citizen.get(path).get_data(as_text=True)


def test_an_archived_case_shows_why_on_its_timeline_and_offers_no_form(app, api):
    citizen, tracking_id, _link = submit(app)
    assert api.step("kominfo", tracking_id, ARCHIVE)["status"] == "diarsipkan"
    page = citizen.get(f"/lacak/{tracking_id}").get_data(as_text=True)
    assert 'id="status">diarsipkan<' in page and addition_form(page) is None
    timeline = re.search(r'<ol class="timeline">.*?</ol>', page, re.S).group(0)
    assert re.search(r"Laporan Anda diarsipkan[^<]*<br><span class=\"muted\">Alasan:</span> " + re.escape(ARCHIVE_REASON), timeline)


def test_the_reporters_mails_carry_the_question_and_the_archive_reason(app, api, waiting):
    _citizen, tracking_id = waiting
    [asked] = reporter_mails(app, tracking_id, "minta_kelengkapan")
    assert asked.to_addr == "budi@example.id" and QUESTION in asked.body and f"/lacak/{tracking_id}#token=" in asked.body
    _other_citizen, archived, _link = submit(app)
    api.step("kominfo", archived, ARCHIVE)
    [mail] = reporter_mails(app, archived, "diarsipkan")
    assert mail.to_addr == "budi@example.id" and f"Alasannya: {ARCHIVE_REASON}" in mail.body
    assert "Ini pertanyaan umum." not in mail.body  # staff's note stays with staff


def test_the_form_takes_a_photo_and_refuses_another_type_or_a_file_too_large(app, api, waiting):
    citizen, tracking_id = waiting
    path = f"/lacak/{tracking_id}"
    for content, name, status in ((b"GIF89a not accepted", "denah.gif", 400), (b"\x89PNG\r\n\x1a\n" + bytes(MAX_BYTES), "besar.png", 413)):
        data = {"text": ADDITION, "attachments": [(io.BytesIO(content), name)], "csrf_token": csrf(citizen, path)}
        refused = citizen.post(f"{path}/tambah", data=data, content_type="multipart/form-data")
        form = addition_form(refused.get_data(as_text=True))
        assert refused.status_code == status and re.search(rf'class="error-text" role="alert">{re.escape(name)}: ', form), name
        assert ADDITION in form  # what was typed stays
    assert api.tasks("kominfo") == []
    data = {"text": ADDITION, "attachments": [(io.BytesIO(PNG), "denah.png")], "csrf_token": csrf(citizen, path)}
    assert citizen.post(f"{path}/tambah", data=data, content_type="multipart/form-data").status_code == 302
    page = citizen.get(path).get_data(as_text=True)
    assert re.findall(rf'href="{path}/lampiran/\d+">(lampiran-\d\.png)<', page) == ["lampiran-1.png", "lampiran-2.png"]
