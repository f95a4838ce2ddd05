"""Issue 17, point 2: each task page shows, above its form, what its holder needs to decide: why the case came
back and from whom, the unit's answer (prefilling the reporter's answer, or the unit's revision), and which units
declined it (never suggested again). The API's task carries the same context; the mail to Admin Kominfo says why."""

from __future__ import annotations

import re

from sqlalchemy import select

from engine.db.tables import OutboxMail
from tests.web.conftest import bearer
from tests.web.pages import csrf, login, open_task, submit
from tests.web.test_pages import complete
from web.extensions import db

PENDIDIKAN = "Dinas Pendidikan Provinsi Jawa Timur"
ANSWER = "Perbaikan ruang kelas dijadwalkan Senin depan."


def task_page(app, client, tracking_id: str) -> str:
    return client.get(f"/tugas/{open_task(app, tracking_id).id}").get_data(as_text=True)


def textarea(html: str, name: str) -> str:
    return re.search(rf'<textarea id="f-{name}"[^>]*>([^<]*)</textarea>', html).group(1)


def mails_to_kominfo(app, topic: str) -> list[str]:
    with app.app_context():
        query = select(OutboxMail.body).where(OutboxMail.topic == topic, OutboxMail.to_addr == "kominfo@demo.lapor.test").order_by(OutboxMail.id)
        return list(db.session.scalars(query))


def test_after_a_decline_the_liaison_sees_who_declined_and_why_and_that_unit_is_not_suggested(app):
    _citizen, tracking_id, _link = submit(app)  # category pendidikan: kategori.dmn suggests dinas-pendidikan
    kominfo, pendidikan = login(app, "kominfo"), login(app, "pendidikan")
    complete(app, kominfo, tracking_id, {"unit": "dinas-pendidikan"})
    complete(app, pendidikan, tracking_id, {"decision": "bukan_wewenang", "note": "Sekolah ini madrasah: urusan Kanwil Kemenag."})

    html = task_page(app, kominfo, tracking_id)
    assert "Mengapa laporan ini kembali" in html
    assert f"{PENDIDIKAN} menyatakan laporan ini bukan wewenangnya." in html
    assert "Sekolah ini madrasah: urusan Kanwil Kemenag." in html
    assert "decision: bukan_wewenang" not in html
    assert 'name="units" value="dinas-pendidikan" checked>' not in html  # the suggestion that unit declined is not preselected
    assert f'<label for="f-units-dinas-pendidikan">{PENDIDIKAN} (menyatakan bukan wewenangnya)</label>' in html

    mails = mails_to_kominfo(app, "perlu_disposisi")
    assert len(mails) == 2 and "kembali kepada Anda" not in mails[0]
    assert f"karena {PENDIDIKAN} menyatakan laporan ini bukan wewenangnya" in mails[1]


def test_the_review_task_shows_the_units_answer_and_prefills_the_reporters_answer(app):
    _citizen, tracking_id, _link = submit(app)
    kominfo, pendidikan = login(app, "kominfo"), login(app, "pendidikan")
    complete(app, kominfo, tracking_id, {"unit": "dinas-pendidikan"})
    complete(app, pendidikan, tracking_id, {"decision": "terima"})
    complete(app, pendidikan, tracking_id, {"response": ANSWER})

    html = task_page(app, kominfo, tracking_id)
    context = html.split('id="konteks"')[1].split("</section>")[0]
    assert "Jawaban unit" in context and PENDIDIKAN in context and ANSWER in context
    assert textarea(html, "answer") == ANSWER


def test_a_returned_answer_shows_the_unit_the_note_and_its_earlier_answer_to_revise(app):
    _citizen, tracking_id, _link = submit(app)
    kominfo, pendidikan = login(app, "kominfo"), login(app, "pendidikan")
    complete(app, kominfo, tracking_id, {"unit": "dinas-pendidikan"})
    complete(app, pendidikan, tracking_id, {"decision": "terima"})
    complete(app, pendidikan, tracking_id, {"response": ANSWER})
    complete(app, kominfo, tracking_id, {"decision": "kembalikan", "note": "Mohon sebutkan tanggal perbaikannya."})

    html = task_page(app, pendidikan, tracking_id)
    assert "Admin Kominfo (kominfo) mengembalikan jawaban unit dengan catatan." in html
    assert "Catatan Admin Kominfo" in html and "Mohon sebutkan tanggal perbaikannya." in html
    assert textarea(html, "response") == ANSWER


def test_an_unsatisfied_reporter_brings_the_case_back_with_their_message(app):
    citizen, tracking_id, link = submit(app)
    kominfo, pendidikan = login(app, "kominfo"), login(app, "pendidikan")
    complete(app, kominfo, tracking_id, {"unit": "dinas-pendidikan"})
    complete(app, pendidikan, tracking_id, {"decision": "terima"})
    complete(app, pendidikan, tracking_id, {"response": ANSWER})
    complete(app, kominfo, tracking_id, {"decision": "teruskan", "answer": ANSWER})
    reply = {"satisfied": "false", "text": "Ruang kelas belum diperbaiki.", "csrf_token": csrf(citizen, link)}
    assert citizen.post(f"/lacak/{tracking_id}/balas", data=reply).status_code == 302

    html = task_page(app, kominfo, tracking_id)
    assert "Pelapor belum puas dengan jawaban yang terbit." in html and "Ruang kelas belum diperbaiki." in html
    assert "Pesan pelapor" in html and ANSWER in html
    assert f"karena pelapor belum puas dengan jawaban dari {PENDIDIKAN}" in mails_to_kominfo(app, "perlu_disposisi")[-1]


def test_the_api_task_carries_the_same_context(api, client):
    tracking_id = api.submit()["tracking_id"]
    api.step("kominfo", tracking_id, {"unit": "dinas-pendidikan"})
    api.step("pendidikan", tracking_id, {"decision": "bukan_wewenang", "note": "Bukan kami."})
    task_id = api.task_of("kominfo", tracking_id)["id"]
    context = client.get(f"/api/v1/tasks/{task_id}", headers=bearer(api.token("kominfo"))).json["case"]["context"]
    assert context["declined_units"] == ["dinas-pendidikan"] and context["answer"] is None
    assert {k: context["came_back"][k] for k in ("reason", "unit", "unit_name", "text")} == {
        "reason": "bukan_wewenang",
        "unit": "dinas-pendidikan",
        "unit_name": PENDIDIKAN,
        "text": "Bukan kami.",
    }
