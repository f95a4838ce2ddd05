"""Deadline extensions and interim answers on the pages (issue 19): the unit asks for more time on its answer task's
page and sees the request wait, then Admin Kominfo's decision; Admin Kominfo decides on a page that shows the request,
the deadline it would become (capped at the classification's maximum) and the ceilings; a grant moves the deadline the
inbox and the case page show. An interim answer goes to the reporter and the unit stays on its task. The history and
case pages name the new events.

The clock starts on Monday 30 November 2026, 09:00 WIB: the unit's answer is due Tuesday 1 December 23:59:59, its
national ceiling Monday 7 December (5 working days), the classification's maximum 60 working days from receipt for a
complaint, 17 for an information request (Wednesday 23 December: the 24th and 25th are holidays)."""

from __future__ import annotations

import io
import re

from sqlalchemy import select

from engine.db.tables import Case, OpenTask
from tests.web.pages import PNG, csrf, login, submit
from tests.web.test_pages import complete
from web.extensions import db

PENDIDIKAN = "Dinas Pendidikan Provinsi Jawa Timur"
REASON = "Perbaikan atap menunggu pengadaan bahan dari penyedia."
INTERIM = "Kontraktor sudah meninjau atap; perbaikan butuh dua minggu."
TARGET, MOVED, CEILING = "01-12-2026 23.59 WIB", "03-12-2026 23.59 WIB", "07-12-2026 23.59 WIB"


def task_of(app, tracking_id: str, form: str) -> str:
    """The id of the case's open task of ``form``."""
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.tracking_id == tracking_id))
        return db.session.scalar(select(OpenTask.id).where(OpenTask.case_id == case.id, OpenTask.form == form))


def answering(app, **forward) -> tuple[str, str]:
    """A complaint Dinas Pendidikan accepted: (tracking id, its answer task's id)."""
    _citizen, tracking_id, _link = submit(app)
    complete(app, login(app, "kominfo"), tracking_id, {"unit": "dinas-pendidikan", **forward})
    complete(app, login(app, "pendidikan"), tracking_id, {"decision": "terima"})
    return tracking_id, task_of(app, tracking_id, "tanggapan")


def ask(client, task_id: str, working_days: str = "2", reason: str = REASON):
    path = f"/tugas/{task_id}"
    return client.post(f"{path}/perpanjangan", data={"working_days": working_days, "reason": reason, "csrf_token": csrf(client, path)})


def decide(app, tracking_id: str, **form: str) -> None:
    kominfo = login(app, "kominfo")
    path = f"/tugas/{task_of(app, tracking_id, 'perpanjangan')}"
    response = kominfo.post(path, data={**form, "csrf_token": csrf(kominfo, path)})
    assert response.status_code == 302, response.get_data(as_text=True)


def text(html: str) -> str:
    """The page's words as a reader sees them: a block or a line break is a space, other tags nothing, spaces collapsed."""
    blocks = re.sub(r"<(?:br|/?(?:p|li|dt|dd|div|td|th|h\d|section|article|blockquote))\b[^>]*>", " ", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", blocks))


# ---- the unit's request ----------------------------------------------------------------------------------------


def test_the_unit_asks_on_its_answer_page_and_then_sees_the_request_waiting(app):
    tracking_id, task_id = answering(app)
    pendidikan = login(app, "pendidikan")
    page = pendidikan.get(f"/tugas/{task_id}").get_data(as_text=True)
    assert "Minta perpanjangan waktu" in page and f'action="/tugas/{task_id}/perpanjangan"' in page
    assert '<label for="extension-working-days">Tambahan hari kerja' in page and '<label for="extension-reason">Alasan' in page
    assert 'name="working_days" min="1" max="60"' in page and ">Minta perpanjangan</button>" in page
    assert page.index('id="perpanjangan"') > page.index(">Selesaikan tugas</button>")  # below the answer form

    response = ask(pendidikan, task_id)
    assert response.status_code == 302 and response.headers["Location"].startswith(f"/tugas/{task_id}")
    after = pendidikan.get(f"/tugas/{task_id}").get_data(as_text=True)
    assert "Permintaan perpanjangan terkirim kepada Admin Kominfo." in after
    assert "Menunggu keputusan Admin Kominfo: 2 hari kerja diminta" in after and REASON in after
    assert 'name="working_days"' not in after and "Minta perpanjangan</button>" not in after  # no second request meanwhile
    assert task_of(app, tracking_id, "perpanjangan") is not None

    again = ask(pendidikan, task_id, "3")  # a second tab's form: refused, the message shown on the task page
    assert again.status_code == 302 and again.headers["Location"] == f"/tugas/{task_id}"
    assert "masih menunggu keputusan Admin Kominfo" in pendidikan.get(f"/tugas/{task_id}").get_data(as_text=True)


def test_a_refused_request_shows_each_field_error_with_what_was_written(app):
    tracking_id, task_id = answering(app)
    pendidikan = login(app, "pendidikan")
    response = ask(pendidikan, task_id, "61", "singkat")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(r'class="field number error">.*?Isi jumlah hari kerja dari 1 sampai 60\.', page, re.S)
    assert re.search(r'class="field textarea error">.*?Tuliskan alasan 10 sampai 2000 karakter\.', page, re.S)
    assert 'value="61"' in page and ">singkat</textarea>" in page
    assert task_of(app, tracking_id, "perpanjangan") is None  # nothing was asked
    assert ask(pendidikan, task_id, "dua").status_code == 400


def test_only_the_task_holder_asks(app):
    _tracking_id, task_id = answering(app)
    assert ask(login(app, "kesehatan"), task_id).status_code == 404
    kominfo = login(app, "kominfo")
    path = f"/tugas/{task_id}/perpanjangan"
    assert kominfo.post(path, data={"working_days": "2", "reason": REASON, "csrf_token": csrf(kominfo, "/tugas")}).status_code == 403


# ---- Admin Kominfo's decision ---------------------------------------------------------------------------------


def test_the_decision_page_shows_the_request_the_deadline_it_would_become_and_prefills_the_days(app):
    tracking_id, task_id = answering(app)
    ask(login(app, "pendidikan"), task_id)
    page = login(app, "kominfo").get(f"/tugas/{task_of(app, tracking_id, 'perpanjangan')}").get_data(as_text=True)
    shown = text(page)
    assert f"Unit {PENDIDIKAN}" in shown and "Tambahan yang diminta 2 hari kerja" in shown and REASON in shown
    assert f"Batas waktu unit sekarang {TARGET}" in shown and f"Batas waktu bila disetujui penuh {MOVED}" in shown
    assert f"Batas nasional sekarang {CEILING}" in shown and "Batas maksimal menurut klasifikasi" in shown
    assert "dibatasi batas maksimal" not in shown
    assert page.index('id="permintaan-perpanjangan"') < page.index('name="decision"')  # the request above the form
    assert re.search(r'data-when-field="decision" data-when-value="setuju">.*?name="working_days" value="2"', page, re.S)


def test_the_decision_page_shows_the_cap_of_an_information_request(app):
    tracking_id, task_id = answering(app, classification="permintaan_informasi")
    ask(login(app, "pendidikan"), task_id, "20")
    shown = text(login(app, "kominfo").get(f"/tugas/{task_of(app, tracking_id, 'perpanjangan')}").get_data(as_text=True))
    limit = "23-12-2026 23.59 WIB"
    assert f"Batas waktu bila disetujui penuh {limit} dibatasi batas maksimal" in shown
    assert f"Batas maksimal menurut klasifikasi {limit}" in shown
    assert f"tidak akan digeser melewati {limit}" in shown and f"batas nasional ikut bergeser ke batas maksimal, {limit}" in shown


def test_a_grant_moves_the_deadline_on_the_inbox_the_case_page_and_the_task_page(app):
    tracking_id, task_id = answering(app)
    pendidikan = login(app, "pendidikan")
    assert TARGET in pendidikan.get("/tugas").get_data(as_text=True)
    ask(pendidikan, task_id)
    decide(app, tracking_id, decision="setuju", working_days="2", note="Disetujui, mohon tepat waktu.")

    inbox = pendidikan.get("/tugas").get_data(as_text=True)
    assert MOVED in inbox and TARGET not in inbox
    case_page = text(login(app, "kominfo").get(f"/kasus/{tracking_id}").get_data(as_text=True))
    assert f"Batas waktu diperpanjang 2 hari kerja sampai {MOVED}" in case_page
    assert f"Perpanjangan waktu diminta ({PENDIDIKAN}): 2 hari kerja" in case_page and REASON in case_page
    assert f"Perpanjangan waktu diputuskan ({PENDIDIKAN}): disetujui 2 hari kerja, batas waktu baru {MOVED}" in case_page
    task_page = pendidikan.get(f"/tugas/{task_id}").get_data(as_text=True)
    assert f"disetujui 2 hari kerja, batas waktu baru {MOVED}" in text(task_page) and "Disetujui, mohon tepat waktu." in task_page
    assert f"Batas waktu: {MOVED}" in text(task_page)
    assert ">Minta perpanjangan</button>" in task_page  # decided: the unit may ask again


def test_a_refusal_keeps_the_deadline_and_says_so(app):
    tracking_id, task_id = answering(app)
    pendidikan = login(app, "pendidikan")
    ask(pendidikan, task_id, "3")
    decide(app, tracking_id, decision="tolak", note="Mohon jawab sesuai batas SOP.")
    assert TARGET in pendidikan.get("/tugas").get_data(as_text=True)
    task_page = text(pendidikan.get(f"/tugas/{task_id}").get_data(as_text=True))
    assert "Keputusan Admin Kominfo atas permintaan perpanjangan: ditolak; batas waktu tetap." in task_page
    assert "Mohon jawab sesuai batas SOP." in task_page
    assert "Batas waktu diperpanjang" not in login(app, "kominfo").get(f"/kasus/{tracking_id}").get_data(as_text=True)


# ---- interim answers ------------------------------------------------------------------------------------------


def test_an_interim_answer_goes_to_the_reporter_and_the_unit_stays_on_its_task(app):
    tracking_id, task_id = answering(app)
    pendidikan = login(app, "pendidikan")
    form = pendidikan.get(f"/tugas/{task_id}").get_data(as_text=True)
    assert '<label for="f-interim">Jawaban sementara</label>' in form
    assert 'aria-describedby="f-interim-hint"' in form and "teks ini langsung dikirim kepada pelapor" in form

    path = f"/tugas/{task_id}"
    response = pendidikan.post(path, data={"response": INTERIM, "interim": "true", "csrf_token": csrf(pendidikan, path)})
    assert response.status_code == 302 and response.headers["Location"] == f"{path}#jawaban-sementara"
    page = pendidikan.get(path).get_data(as_text=True)
    assert "Jawaban sementara telah dikirim kepada pelapor. Tugas ini tetap terbuka sampai Anda mengirim jawaban akhir." in page
    assert re.search(r'id="jawaban-sementara">.*?' + re.escape(INTERIM), page, re.S)
    assert task_of(app, tracking_id, "tanggapan") == task_id  # still open, the same task

    complete(app, pendidikan, tracking_id, {"response": "Atap sudah diperbaiki."})  # the final answer: back to the inbox
    assert task_of(app, tracking_id, "tanggapan") is None
    late = pendidikan.post(f"{path}/perpanjangan", data={"working_days": "2", "reason": REASON, "csrf_token": csrf(pendidikan, "/tugas")})
    assert late.status_code == 302 and late.headers["Location"] == "/tugas"  # its page is gone: the inbox says it was done
    assert "Tugas ini sudah diselesaikan." in pendidikan.get("/tugas").get_data(as_text=True)


# ---- the events' names ----------------------------------------------------------------------------------------


def test_the_history_and_case_pages_name_the_new_events(app):
    tracking_id, task_id = answering(app)
    pendidikan = login(app, "pendidikan")
    path = f"/tugas/{task_id}"
    upload = {"file": (io.BytesIO(PNG), "jadwal.png"), "csrf_token": csrf(pendidikan, path)}
    assert pendidikan.post(f"{path}/dokumen", data=upload, content_type="multipart/form-data").status_code == 302
    note = {"text": "Mohon percepat.", "task": task_id, "csrf_token": csrf(pendidikan, path)}
    assert pendidikan.post(f"/kasus/{tracking_id}/catatan", data=note).status_code == 302
    ask(pendidikan, task_id)
    decide(app, tracking_id, decision="setuju")
    assert pendidikan.post(path, data={"response": INTERIM, "interim": "true", "csrf_token": csrf(pendidikan, path)}).status_code == 302
    complete(app, pendidikan, tracking_id, {"response": "Atap diperbaiki minggu depan."})
    complete(app, login(app, "kominfo"), tracking_id, {"decision": "kembalikan", "units": "dinas-pendidikan", "note": "Mohon sebutkan tanggalnya."})

    history = text(login(app, "pusat").get(f"/riwayat/{tracking_id}").get_data(as_text=True))
    for name in (
        "Dokumen jawaban diunggah jawaban-1.png",
        "Catatan internal ditambahkan",
        f"Perpanjangan waktu diminta {PENDIDIKAN}: 2 hari kerja",
        f"Perpanjangan waktu diputuskan {PENDIDIKAN}: disetujui 2 hari kerja, batas waktu baru {MOVED}",
        f"Jawaban sementara diterbitkan Beri tanggapan ({PENDIDIKAN}) Tanggapan: {INTERIM}",
        f"Unit yang harus memperbaiki: {PENDIDIKAN}",  # answering_units by name, not by id
    ):
        assert name in history, name
    assert "Mohon percepat." not in history  # the note's text is never in its event
    case_page = text(login(app, "kominfo").get(f"/kasus/{tracking_id}").get_data(as_text=True))
    assert f"Jawaban sementara diterbitkan ({PENDIDIKAN}) Tanggapan: {INTERIM}" in case_page
    assert f"Unit yang harus memperbaiki: {PENDIDIKAN}" in case_page
