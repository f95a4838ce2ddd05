"""Following a complaint through (issue 19) in Chromium against a real server: a unit asks for two more working days,
Admin Kominfo agrees, the unit attaches a PDF to its answer, a colleague leaves an internal note, the citizen reads the
answer with its document on the public page and rates it 4.

1. The citizen sends a complaint on /lapor; Admin Kominfo forwards it to Dinas Pendidikan, which accepts it.
2. On its answer task the unit asks for two more working days, with its reason; the page says the request waits
   for Admin Kominfo's decision.
3. Admin Kominfo's decision task shows the unit, the days and the reason; it grants the extension, and the unit's
   inbox shows the deadline two working days later.
4. The unit uploads a PDF on its answer task, keeps it ticked, and answers.
5. Admin Pusat leaves an internal note on the case page; the note is shown there, and never to the citizen or the
   public.
6. Admin Kominfo reviews the answer (prefilled, with the unit's document) and publishes it.
7. The public case page shows the answer and its PDF; the citizen reads it there, then rates the answer 4 and says
   satisfied on the tracking page (the private link of the receipt mail); the case is closed ("selesai").

``LAPOR_DOCS_SCREENSHOTS=1`` also saves the README's picture docs/extension-request.png (the unit's task page after
asking), 1280 pixels wide.
"""

from __future__ import annotations

import io
import os
from datetime import timedelta

import pytest
from pypdf import PdfReader, PdfWriter

from tests.e2e.support import PROJECT_ROOT, Actor, Locator, expect
from tests.e2e.test_sop_in_browser import DISPOSISI, KOMINFO_MAIL, MONDAY_9AM, TANGGAPAN, TERIMA, TINJAU, link_in_receipt, submit_complaint

pytestmark = pytest.mark.e2e

PERPANJANGAN = "Putuskan perpanjangan"
UNIT_MAIL = "pendidikan@demo.lapor.test"
REPORTER = {"name": "Dewi Lestari", "email": "dewi.lestari@warga.example.id", "phone": "085732145678"}
TITLE = "Buku paket kelas 4 SD Negeri Rungkut 1 belum dibagikan"
BODY = "Sudah tiga bulan semester berjalan, tetapi buku paket kelas 4 SD Negeri Rungkut 1 belum dibagikan kepada murid."
REASON = "Kami menunggu data distribusi dari penerbit untuk memastikan jumlah buku yang kurang di sekolah ini."
ANSWER = "Buku paket kelas 4 dikirim penerbit ke SD Negeri Rungkut 1 pada 10 Desember 2026; jadwal pembagiannya terlampir."
NOTE = "Penerbit yang sama juga terlambat mengirim ke dua sekolah lain di Rungkut; perlu dibahas pada rapat bulanan."
THANKS = "Terima kasih, jadwalnya jelas. Kami tunggu bukunya."
DUE = "01-12-2026 23.59 WIB"  # accepted on Monday 30 November: the answer is due at the end of the next working day
EXTENDED = "03-12-2026 23.59 WIB"  # two working days later, Thursday
DOCS = PROJECT_ROOT / "docs"


def letter_pdf() -> bytes:
    """A one-page PDF, as a unit's scanned letter would be."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def due_in_inbox(officer: Actor, tracking_id: str, task: str) -> Locator:
    """The deadline cell of the inbox row of ``task`` of this case."""
    officer.goto("/tugas")
    return officer.inbox_row(tracking_id, task).locator('td[data-label="Batas waktu"]')


def docs_picture(actor: Actor, name: str) -> None:
    """The README's picture docs/<name>.png, at the actor's 1280-pixel-wide window, when LAPOR_DOCS_SCREENSHOTS is set."""
    if os.environ.get("LAPOR_DOCS_SCREENSHOTS"):
        actor.page.screenshot(path=str(DOCS / f"{name}.png"), full_page=True)


def test_following_through(stage) -> None:
    s = stage(clock=MONDAY_9AM)
    minutes = iter(range(30, 24 * 60, 30))

    def later() -> None:  # each step half an hour after the last, so the pages' times tell the order
        s.server.set_clock(MONDAY_9AM + timedelta(minutes=next(minutes)))

    # 1. the citizen's complaint; Admin Kominfo forwards it; Dinas Pendidikan accepts it
    citizen = s.actor("pelapor", forbidden=(NOTE,))  # the internal note is for staff only
    tracking_id, _receipt_link = submit_complaint(
        citizen,
        {
            "title": TITLE,
            "body": BODY,
            "category": "pendidikan",
            "location": "SD Negeri Rungkut 1, Surabaya",
            "reporter.name": REPORTER["name"],
            "reporter.email": REPORTER["email"],
            "reporter.phone": REPORTER["phone"],
        },
    )
    later()
    s.mail.wait_for(KOMINFO_MAIL, f"Laporan {tracking_id} menunggu disposisi")
    kominfo = s.actor("kominfo")
    kominfo.login("kominfo")
    kominfo.open_task(tracking_id, DISPOSISI)
    kominfo.complete_task({"units": ["dinas-pendidikan"], "note": "Mohon dicek ke penerbit."}, "disposisi")
    later()
    s.mail.wait_for(UNIT_MAIL, f"Laporan {tracking_id} diteruskan kepada Dinas Pendidikan")
    pendidikan = s.actor("pendidikan")
    pendidikan.login("pendidikan")
    pendidikan.open_task(tracking_id, TERIMA)
    pendidikan.complete_task({"decision": "terima", "note": "Kami tindak lanjuti."}, "terima")

    # 2. the unit asks for two more working days on its answer task
    later()
    expect(due_in_inbox(pendidikan, tracking_id, TANGGAPAN)).to_have_text(DUE)
    task_id = pendidikan.open_task(tracking_id, TANGGAPAN)
    extension = pendidikan.page.locator("#perpanjangan")
    expect(extension.get_by_role("heading", name="Minta perpanjangan waktu")).to_be_visible()
    extension.get_by_label("Tambahan hari kerja").fill("2")
    extension.get_by_label("Alasan").fill(REASON)
    pendidikan.shot("minta-perpanjangan-isi")
    extension.get_by_role("button", name="Minta perpanjangan").click()
    expect(pendidikan.page).to_have_url(f"{pendidikan.url}/tugas/{task_id}#perpanjangan")
    expect(pendidikan.page.locator(".flash.info")).to_contain_text("Permintaan perpanjangan terkirim kepada Admin Kominfo.")
    expect(extension.locator(".extension-waiting")).to_have_text("Menunggu keputusan Admin Kominfo: 2 hari kerja diminta")
    expect(extension).to_contain_text(REASON)
    expect(extension.get_by_role("button", name="Minta perpanjangan")).to_have_count(0)  # one request at a time
    pendidikan.shot("minta-perpanjangan-terkirim")
    docs_picture(pendidikan, "extension-request")

    # 3. Admin Kominfo reads the request and grants it; the unit's deadline moves two working days
    later()
    s.mail.wait_for(KOMINFO_MAIL, f"Permintaan perpanjangan waktu untuk {tracking_id}")
    kominfo.open_task(tracking_id, PERPANJANGAN)
    request = kominfo.page.locator("#permintaan-perpanjangan")
    expect(request.locator("#extension-unit")).to_contain_text("Dinas Pendidikan")
    expect(request.locator("#extension-days")).to_have_text("2 hari kerja")
    expect(request.locator("#extension-reason-asked")).to_have_text(REASON)
    expect(request.locator("#extension-due")).to_have_text(DUE)
    expect(request.locator("#extension-moved")).to_have_text(EXTENDED)
    expect(kominfo.page.locator('input[name="working_days"]')).to_have_value("2")  # as many as asked, unless changed
    kominfo.complete_task({"decision": "setuju", "note": "Disetujui; mohon jawab sebelum batas yang baru."}, "setujui-perpanjangan")
    later()
    s.mail.wait_for(UNIT_MAIL, f"Keputusan perpanjangan waktu untuk {tracking_id}")
    expect(due_in_inbox(pendidikan, tracking_id, TANGGAPAN)).to_have_text(EXTENDED)

    # 4. the unit uploads a PDF for its answer, keeps it ticked, and answers
    later()
    pendidikan.open_task(tracking_id, TANGGAPAN)
    expect(pendidikan.page.locator('#perpanjangan .extension-decision[data-decision="setuju"]')).to_have_count(1)
    documents = pendidikan.page.locator("#dokumen")
    documents.locator("#answer-file").set_input_files(
        files=[{"name": "jadwal distribusi.pdf", "mimeType": "application/pdf", "buffer": letter_pdf()}]
    )
    documents.get_by_role("button", name="Unggah dokumen").click()
    expect(pendidikan.page.locator(".flash.info")).to_contain_text("Dokumen jawaban-1.pdf diunggah")
    expect(documents.get_by_role("link", name="jawaban-1.pdf", exact=True)).to_be_visible()
    ticked = pendidikan.page.locator('input[type=checkbox][name="attachments"]')
    expect(ticked).to_have_count(1)
    expect(ticked).to_be_checked()  # an uploaded document goes out with the answer unless the unit unticks it
    pendidikan.complete_task({"response": ANSWER}, "tanggapan")

    # 5. a colleague, Admin Pusat, leaves an internal note on the case page
    later()
    pusat = s.actor("pusat")
    pusat.login("pusat")
    pusat.goto(f"/kasus/{tracking_id}")
    notes = pusat.page.locator("#catatan")
    notes.get_by_label("Tulis catatan").fill(NOTE)
    notes.get_by_role("button", name="Tambahkan catatan").click()
    expect(pusat.page.locator(".flash.info")).to_contain_text("Catatan internal ditambahkan.")
    thread = pusat.page.locator("#catatan .notes-thread li")
    expect(thread).to_have_count(1)
    expect(thread).to_contain_text(NOTE)
    expect(thread).to_contain_text("pusat")
    pusat.shot("catatan-internal")

    # 6. Admin Kominfo reviews the answer, prefilled and with the unit's document, and publishes it
    later()
    s.mail.wait_for(KOMINFO_MAIL, f"Jawaban unit untuk {tracking_id}")
    kominfo.open_task(tracking_id, TINJAU)
    context = kominfo.page.locator("#konteks")
    expect(context.locator("blockquote")).to_have_text(ANSWER)
    expect(context.locator(".answer-documents").get_by_role("link", name="jawaban-1.pdf", exact=True)).to_be_visible()
    expect(kominfo.page.locator('textarea[name="answer"]')).to_have_value(ANSWER)
    kominfo.complete_task({"decision": "teruskan"}, "terbitkan")

    # 7. the citizen reads the answer and its document on the public page, then rates it 4 on the tracking page
    later()
    citizen.goto(f"/pengaduan/{tracking_id}")
    expect(citizen.page.locator("h1")).to_have_text(TITLE)
    expect(citizen.page.locator("#answer .answer")).to_have_text(ANSWER)
    for identity in REPORTER.values():  # the public never sees who reported
        expect(citizen.page.locator("main")).not_to_contain_text(identity)
    document = citizen.page.locator("#documents").get_by_role("link", name="jawaban-1.pdf", exact=True)
    expect(document).to_have_count(1)
    served = citizen.context.request.get(citizen.url + (document.get_attribute("href") or ""))
    assert served.status == 200 and served.headers["content-type"] == "application/pdf", (served.status, served.headers)
    assert len(PdfReader(io.BytesIO(citizen.download("jawaban-1.pdf"))).pages) == 1  # the unit's one-page letter
    citizen.shot("halaman-publik")
    citizen.open_mailed_link(link_in_receipt(s, REPORTER["email"], tracking_id))
    expect(citizen.page.locator("#status")).to_have_text("dijawab")
    answer = citizen.page.locator("#conversation .message.office")
    expect(answer.locator(".answer")).to_have_text([ANSWER])
    expect(answer.get_by_role("link", name="jawaban-1.pdf", exact=True)).to_be_visible()
    citizen.fill({"satisfied": True, "rating": 4, "text": THANKS})
    citizen.shot("balas-nilai-4")
    citizen.page.get_by_role("button", name="Kirim balasan").click()
    expect(citizen.page.locator(".flash.info")).to_contain_text("balasan Anda telah kami terima")
    expect(citizen.page.locator("#status")).to_have_text("selesai")
    reply = citizen.page.locator("#conversation .message.citizen").last
    expect(reply).to_contain_text("Puas")
    expect(reply).to_contain_text("Nilai 4 dari 5")
    expect(reply).to_contain_text(THANKS)
    citizen.shot("selesai")
    s.finish()
