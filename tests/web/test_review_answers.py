"""Admin Kominfo's review of several units' answers (issue 19): each unit's answer as a card (its name, when it
answered, its text, its documents, the interim answers it published before), the answer to publish prefilled from
all of them, and the units that must revise when the answer goes back, by name, all ticked, shown only for
"Kembalikan"."""

from __future__ import annotations

import os
import re
from pathlib import Path

from engine.cases import attachments as recorded
from engine.contract import Actor
from tests.browser import in_chromium
from tests.web.pages import csrf, login
from web.extensions import db, service

UNITS = {"dinas-pendidikan": "Dinas Pendidikan Provinsi Jawa Timur", "kanwil-bpn-jatim": "Kantor Wilayah BPN Provinsi Jawa Timur"}
INTERIM = "Tim sudah meninjau atap kelas; perbaikan dijadwalkan pekan depan."
PENDIDIKAN_ANSWER = "Atap kelas diperbaiki mulai 7 Desember 2026."
BPN_ANSWER = "Sertifikat tanah sekolah terbit 8 Desember 2026."
DOCS = Path(__file__).resolve().parents[2] / "docs"


def _pendidikans_document(app, api, tracking_id: str) -> int:
    """A PDF Dinas Pendidikan uploads for its open answer task; its id, to list in the answer's ``attachments``."""
    task = api.task_of("pendidikan", tracking_id)
    with app.app_context():
        stored = recorded.StoredFile("surat-jawaban", "application/pdf", 1024)
        item, _name = service().add_answer_file(task["id"], stored, Actor("pendidikan", "satker", "dinas-pendidikan"))
        db.session.commit()
        return item.id


def _answered_by_both(app, api, clock) -> tuple[str, int]:
    """Dinas Pendidikan publishes an interim answer, then answers with a document; Kanwil BPN answers an hour later."""
    tracking_id = api.submit()["tracking_id"]
    api.step("kominfo", tracking_id, {"units": list(UNITS), "classification": "pengaduan"})
    api.step("pendidikan", tracking_id, {"decision": "terima"})
    api.step("bpn", tracking_id, {"decision": "terima"})
    clock.advance(hours=1)
    api.step("pendidikan", tracking_id, {"response": INTERIM, "interim": True})
    clock.advance(hours=1)
    document = _pendidikans_document(app, api, tracking_id)
    api.step("pendidikan", tracking_id, {"response": PENDIDIKAN_ANSWER, "attachments": [document]})
    clock.advance(hours=1)
    api.step("bpn", tracking_id, {"response": BPN_ANSWER})
    return tracking_id, document


def _card(page: str, unit: str) -> str:
    start = page.index(f'<article class="card answer-card" data-unit="{unit}">')
    return page[start : page.index("</article>", start)]


def test_each_unit_answers_in_its_own_card_with_its_time_documents_and_interim_answers(app, api, clock):
    tracking_id, document = _answered_by_both(app, api, clock)
    task = api.task_of("kominfo", tracking_id)
    page = login(app, "kominfo").get(f"/tugas/{task['id']}").get_data(as_text=True)
    pendidikan, bpn = _card(page, "dinas-pendidikan"), _card(page, "kanwil-bpn-jatim")
    assert UNITS["dinas-pendidikan"] in pendidikan and PENDIDIKAN_ANSWER in pendidikan and BPN_ANSWER not in pendidikan
    assert UNITS["kanwil-bpn-jatim"] in bpn and BPN_ANSWER in bpn and PENDIDIKAN_ANSWER not in bpn
    # the clock starts Monday 30 November 2026, 09.00 WIB: Dinas Pendidikan answered at 11.00, Kanwil BPN at 12.00
    assert "Menjawab pada 30-11-2026 11.00" in pendidikan and "Menjawab pada 30-11-2026 12.00" in bpn
    assert f'href="/kasus/{tracking_id}/lampiran/{document}"' in pendidikan and "jawaban-1.pdf" in pendidikan and "Dokumen" not in bpn
    assert "1 jawaban sementara yang sudah terbit untuk pelapor" in pendidikan and INTERIM in pendidikan and "sementara" not in bpn
    answer = page[page.index('name="answer"') : page.index("</textarea>", page.index('name="answer"'))]
    assert INTERIM not in answer  # published already: the reporter's answer is made of the units' final ones


def test_the_units_to_revise_are_the_answering_units_by_name_all_ticked_for_kembalikan_only(app, api, clock):
    tracking_id, _document = _answered_by_both(app, api, clock)
    task = api.task_of("kominfo", tracking_id)
    page = login(app, "kominfo").get(f"/tugas/{task['id']}").get_data(as_text=True)
    field = re.search(r'<div class="field checkboxes"([^>]*)>(.*?)</fieldset>', page, re.S)
    assert 'data-when-field="decision" data-when-value="kembalikan"' in field.group(1)
    box = r'<input type="checkbox" id="f-units-[^"]+" name="units" value="([^"]+)" (checked)?>\s*<label[^>]*>([^<]+)</label>'
    assert re.findall(box, field.group(2)) == [(unit, "checked", name) for unit, name in UNITS.items()]


def test_returning_the_answer_to_one_unit_reopens_only_that_units_answer(app, api, clock):
    tracking_id, _document = _answered_by_both(app, api, clock)
    task = api.task_of("kominfo", tracking_id)
    client = login(app, "kominfo")
    form = {
        "csrf_token": csrf(client, f"/tugas/{task['id']}"),
        "decision": "kembalikan",
        "units": "kanwil-bpn-jatim",
        "note": "Mohon sebutkan nomor sertifikatnya.",
        "answer": "Tidak dipakai bila dikembalikan.",
    }
    assert client.post(f"/tugas/{task['id']}", data=form).status_code == 302
    assert [t["form"] for t in api.tasks("bpn") if t["tracking_id"] == tracking_id] == ["tanggapan"]
    assert not [t for t in api.tasks("pendidikan") if t["tracking_id"] == tracking_id]


def test_the_review_page_in_chromium_shows_the_units_to_revise_only_when_returning(app, api, clock, tmp_path):
    """Also the picture of the README (docs/review-two-answers.png) when LAPOR_DOCS_SCREENSHOTS is set."""
    tracking_id, _document = _answered_by_both(app, api, clock)
    task = api.task_of("kominfo", tracking_id)
    shot = DOCS / "review-two-answers.png" if os.environ.get("LAPOR_DOCS_SCREENSHOTS") else tmp_path / "review-two-answers.png"

    def visit(page, origin: str) -> tuple[bool, bool, list[bool]]:
        page.set_viewport_size({"width": 1366, "height": 900})
        page.goto(f"{origin}/masuk")
        page.fill("#username", "kominfo")
        page.fill("#password", "demo-lapor")
        page.click("button[type=submit]")
        page.goto(f"{origin}/tugas/{task['id']}")
        units = page.locator("fieldset", has=page.locator('input[name="units"]'))
        hidden_at_first = not units.is_visible()
        page.select_option('select[name="decision"]', "kembalikan")
        page.locator("details.interim summary").click()
        page.screenshot(path=str(shot), full_page=True)
        return hidden_at_first, units.is_visible(), [box.is_checked() for box in units.locator("input").all()]

    assert in_chromium(app, visit) == (True, True, [True, True])
    assert shot.stat().st_size > 10_000
