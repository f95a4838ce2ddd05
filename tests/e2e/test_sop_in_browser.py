"""The whole SOP in a real browser (Debian's Chromium through Playwright), five actors and more, each in
their own browser context, against a real server process with a real SMTP server.

1. Satuan Kerja route: a citizen's complaint with a photo goes through Admin Kominfo to Dinas Pendidikan,
   is returned once for revision, answered, read and closed; the auditor replays its history.
2. Instansi Vertikal route, anonymous and confidential: BPN hands it back as not its business, Kemenag
   answers; no public page lists it and no staff page or staff mail shows who reported it.
3. Deadline: with the server's clock past one working day the inbox flags the task, Admin Pusat sees the
   escalation, and the reminder mail arrives.

Each step saves a screenshot; each scenario ends by failing on any console error, page error, failed
request or unexpected HTTP error in any actor's browser, and on any traceback in the server's log.
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from tests.e2e.support import TRACKING_ID, Actor, Stage, expect, tiny_png

pytestmark = pytest.mark.e2e

WIB = ZoneInfo("Asia/Jakarta")
MONDAY_9AM = datetime(2026, 11, 30, 9, 0, tzinfo=WIB)  # a working Monday with no holiday near it
WEDNESDAY_9AM = datetime(2026, 12, 2, 9, 0, tzinfo=WIB)  # past Tuesday 23:59:59 WIB, the end of the first working day

DISPOSISI = "Verifikasi laporan"
TERIMA = "Terima laporan"
TANGGAPAN = "Beri tanggapan"
TINJAU = "Tinjau dan teruskan jawaban"
KOMINFO_MAIL = "kominfo@demo.lapor.test"
PHOTO = tiny_png()


def submit_complaint(citizen: Actor, values: dict[str, object], attachment: tuple[str, bytes] | None = None) -> tuple[str, str]:
    """Fill and send the complaint form; return (tracking id, private link) from the receipt page."""
    citizen.goto("/lapor")
    expect(citizen.page.locator("h1")).to_have_text("Sampaikan laporan")
    citizen.fill(values)
    if attachment:
        name, content = attachment
        citizen.page.locator("#f-lampiran").set_input_files(files=[{"name": name, "mimeType": "image/png", "buffer": content}])
    citizen.shot("formulir", doc="formulir-pengaduan" if attachment else None)
    citizen.page.get_by_role("button", name="Kirim laporan").click()
    expect(citizen.page.locator("h1")).to_have_text("Laporan Anda telah diterima")
    tracking_id = citizen.page.locator("#tracking-id").inner_text().strip()
    assert TRACKING_ID.fullmatch(tracking_id), tracking_id
    link = citizen.page.locator("#private-link").get_attribute("href") or ""
    citizen.shot("tanda-terima")
    return tracking_id, link


def link_in_receipt(stage: Stage, email: str, tracking_id: str) -> str:
    """The private tracking link of the receipt mail the SMTP server caught (same in its text and HTML parts)."""
    receipt = stage.mail.wait_for(email, f"Laporan Anda telah diterima: {tracking_id}")
    found = re.search(re.escape(stage.server.url) + rf"/lacak/{tracking_id}#token=[A-Za-z0-9_-]{{22,}}", receipt.text)
    assert found, f"no private link in the receipt mail:\n{receipt.text}"
    assert f'href="{found.group(0)}"' in receipt.html
    return found.group(0)


def langkah(page) -> int:
    values = parse_qs(urlsplit(page.url).query).get("langkah")
    assert values and values[0].isdigit(), f"the replay page's URL has no step (?langkah=K): {page.url}"
    return int(values[0])


def at_step(k: int) -> re.Pattern[str]:
    return re.compile(rf"[?&]langkah={k}(&|#|$)")


VERIFIED = re.compile(r"(?<!tidak )\bterverifikasi\b", re.IGNORECASE)


def replay_history(auditor: Actor, tracking_id: str) -> None:
    """The auditor's history page: step through the replay with Awal/Sebelumnya/Berikutnya/Akhir, play it, see it verified."""
    page = auditor.page
    response = page.goto(f"{auditor.url}/riwayat/{tracking_id}")
    assert response is not None and response.status == 200, f"GET /riwayat/{tracking_id} answered {response and response.status}"

    def control(name: str):
        return page.get_by_role("link", name=name, exact=True).or_(page.get_by_role("button", name=name, exact=True)).first

    main = page.locator("main")
    expect(main).to_contain_text(tracking_id)
    expect(page.get_by_text(VERIFIED).first).to_be_visible()
    expect(main).not_to_contain_text("tidak terverifikasi")
    auditor.shot("riwayat")
    control("Awal").click()
    expect(page).to_have_url(re.compile(r"[?&]langkah=\d+"))
    first = langkah(page)
    auditor.shot("riwayat-awal")
    control("Berikutnya").click()
    expect(page).to_have_url(at_step(first + 1))
    control("Berikutnya").click()
    expect(page).to_have_url(at_step(first + 2))
    auditor.shot("riwayat-langkah")
    control("Sebelumnya").click()
    expect(page).to_have_url(at_step(first + 1))
    control("Akhir").click()
    expect(page).to_have_url(re.compile(r"[?&]langkah=\d+"))
    last = langkah(page)
    assert last > first + 2, f"a closed case has more than three steps in its history (Awal {first}, Akhir {last})"
    expect(page.locator("#diagram svg")).to_be_visible()
    auditor.shot("riwayat-akhir")
    control("Putar ulang").click()
    expect(page.locator("#putar-ulang")).to_contain_text("Putar ulang cocok")
    expect(page.get_by_text(VERIFIED).first).to_be_visible()
    expect(main).not_to_contain_text("tidak terverifikasi")
    auditor.shot("putar-ulang", doc="putar-ulang")


def test_satuan_kerja_route(stage) -> None:
    s = stage(clock=MONDAY_9AM)
    reporter = {"name": "Budi Santoso", "email": "budi.santoso@warga.example.id", "phone": "081234567890"}

    # 1. Masyarakat: the complaint form with a photo; the receipt page and the receipt mail's private link
    citizen = s.actor("pelapor")
    tracking_id, receipt_link = submit_complaint(
        citizen,
        {
            "title": "Atap ruang kelas SMA Negeri 5 bocor",
            "body": "Atap ruang kelas XI IPA 2 SMA Negeri 5 Surabaya bocor setiap hujan sejak dua bulan lalu; siswa belajar di lorong.",
            "category": "pendidikan",
            "incident_date": "2026-11-26",
            "location": "SMA Negeri 5 Surabaya, Jl. Kusuma Bangsa",
            "reporter.name": reporter["name"],
            "reporter.email": reporter["email"],
            "reporter.phone": reporter["phone"],
        },
        attachment=("atap-bocor.png", PHOTO),
    )
    link = link_in_receipt(s, reporter["email"], tracking_id)
    assert link == receipt_link
    citizen.open_mailed_link(link)
    expect(citizen.page.locator("#status")).to_have_text("diterima")
    citizen.shot("lacak-diterima")

    # 2-3. Admin Kominfo: the task in the inbox, the suggested unit preselected, the photo, forward
    s.mail.wait_for(KOMINFO_MAIL, f"Laporan {tracking_id} menunggu disposisi")
    kominfo = s.actor("kominfo")
    kominfo.login("kominfo")
    row = kominfo.inbox_row(tracking_id, DISPOSISI)
    expect(row).to_be_visible()
    expect(row).to_contain_text("Atap ruang kelas SMA Negeri 5 bocor")
    expect(row.locator(".tag.overdue")).to_have_count(0)
    kominfo.shot("kotak-tugas", doc="kotak-tugas")
    kominfo.open_task(tracking_id, DISPOSISI)
    expect(kominfo.page.locator('input[name="units"][value="dinas-pendidikan"]')).to_be_checked()
    expect(kominfo.page.locator("main")).to_contain_text(reporter["name"])  # not anonymous: staff see who reported
    downloaded = Image.open(io.BytesIO(kominfo.download("lampiran-1.png")))  # named by its type; re-encoded without metadata
    assert downloaded.tobytes() == Image.open(io.BytesIO(PHOTO)).tobytes()  # the same pixels
    kominfo.shot("tugas-disposisi", doc="tugas-disposisi")
    kominfo.complete_task({"note": "Mohon segera diperiksa dan diperbaiki."}, "disposisi")

    # 4. Dinas Pendidikan sees it; Dinas Kesehatan does not
    s.mail.wait_for("pendidikan@demo.lapor.test", f"Laporan {tracking_id} diteruskan kepada Dinas Pendidikan")
    pendidikan = s.actor("pendidikan")
    pendidikan.login("pendidikan")
    accept_task = pendidikan.open_task(tracking_id, TERIMA)
    expect(pendidikan.page.locator("main")).to_contain_text("Mohon segera diperiksa dan diperbaiki.")
    pendidikan.shot("tugas-terima")

    kesehatan = s.actor("kesehatan")
    kesehatan.login("kesehatan")
    expect(kesehatan.page.locator("main")).not_to_contain_text(tracking_id)
    kesehatan.shot("kotak-tugas-tanpa-laporan")
    kesehatan.goto(f"/kasus/{tracking_id}", status=404)
    kesehatan.goto(f"/tugas/{accept_task}", status=404)
    kesehatan.shot("laporan-tidak-terlihat")
    assert not s.mail.to("kesehatan@demo.lapor.test")

    # 4-5. Dinas Pendidikan accepts and answers
    pendidikan.goto(f"/tugas/{accept_task}")
    pendidikan.complete_task({"decision": "terima", "note": "Kami tindak lanjuti."}, "terima")
    pendidikan.open_task(tracking_id, TANGGAPAN)
    pendidikan.complete_task({"response": "Atap akan diperbaiki oleh kontraktor sekolah."}, "tanggapan")

    # 6. Admin Kominfo returns the answer once with a note
    s.mail.wait_for(KOMINFO_MAIL, f"Jawaban unit untuk {tracking_id}")
    kominfo.open_task(tracking_id, TINJAU)
    expect(kominfo.page.locator("main")).to_contain_text("Atap akan diperbaiki oleh kontraktor sekolah.")
    kominfo.complete_task({"decision": "kembalikan", "note": "Mohon sebutkan tanggal perbaikan dan siapa yang bertanggung jawab."}, "kembalikan")

    # 5 again. Dinas Pendidikan reads the note and revises
    s.mail.wait_for("pendidikan@demo.lapor.test", f"Jawaban untuk {tracking_id} dikembalikan")
    pendidikan.open_task(tracking_id, TANGGAPAN)
    expect(pendidikan.page.locator("main")).to_contain_text("Mohon sebutkan tanggal perbaikan dan siapa yang bertanggung jawab.")
    revised = "Atap diperbaiki pada 7 Desember 2026 oleh kontraktor Dinas Pendidikan; kepala sekolah mengawasi pekerjaan."
    pendidikan.complete_task({"response": revised}, "revisi")

    # 6 again. Admin Kominfo forwards the answer to the citizen; the case diagram shows where it stands
    kominfo.open_task(tracking_id, TINJAU)
    expect(kominfo.page.locator("main")).to_contain_text(revised)
    answer = "Dinas Pendidikan memperbaiki atap ruang kelas SMA Negeri 5 Surabaya pada 7 Desember 2026."
    kominfo.complete_task({"decision": "teruskan", "answer": answer}, "teruskan")
    kominfo.goto(f"/kasus/{tracking_id}")
    expect(kominfo.page.locator("#diagram svg")).to_be_visible()
    expect(kominfo.page.locator("main")).to_contain_text("dijawab")
    kominfo.shot("diagram-laporan", doc="diagram-laporan")

    # 7. Masyarakat: the answer on the tracking page (and by mail); satisfied; closed
    answered = s.mail.wait_for(reporter["email"], f"Jawaban atas laporan Anda {tracking_id}")
    assert answer in answered.text
    citizen.open_mailed_link(link)
    expect(citizen.page.locator(".conversation .answer").last).to_have_text(answer)
    expect(citizen.page.locator("#status")).to_have_text("dijawab")
    citizen.shot("lacak-jawaban", doc="lacak-jawaban")
    citizen.fill({"satisfied": True, "text": "Terima kasih, atap sudah diperbaiki."})
    citizen.page.get_by_role("button", name="Kirim balasan").click()
    expect(citizen.page.locator(".flash.info")).to_contain_text("balasan Anda telah kami terima")
    expect(citizen.page.locator("#status")).to_have_text("selesai")
    citizen.shot("selesai")
    s.mail.wait_for(reporter["email"], f"Laporan {tracking_id} selesai")

    # the auditor replays the history and sees the chain verified
    auditor = s.actor("auditor")
    auditor.login("auditor")
    replay_history(auditor, tracking_id)
    s.finish()


def test_instansi_vertikal_route_anonymous_and_confidential(stage) -> None:
    s = stage()  # the real `lapor serve`, on the system clock
    identity = ("Ratna Kusumawardani", "ratna.kusumawardani@warga.example.id", "081298765432")
    title = "Sertifikat tanah wakaf masjid tertahan"

    citizen = s.actor("pelapor")
    tracking_id, _receipt_link = submit_complaint(
        citizen,
        {
            "title": title,
            "body": "Permohonan sertifikat tanah wakaf Masjid Al-Ikhlas di Sidoarjo tertahan lebih dari setahun tanpa kejelasan.",
            "category": "pertanahan",
            "location": "Sidoarjo",
            "anonymous": True,
            "confidential": True,
            "reporter.name": identity[0],
            "reporter.email": identity[1],
            "reporter.phone": identity[2],
        },
    )
    link = link_in_receipt(s, identity[1], tracking_id)
    # a public complaint beside it, through the JSON API (the mobile-app channel), so the public list has something to show
    control = citizen.context.request.post(
        f"{s.server.url}/api/v1/complaints",
        data={
            "title": "Jalan provinsi Gresik berlubang",
            "body": "Jalan provinsi di Kecamatan Manyar, Gresik, berlubang besar dan membahayakan pengendara motor.",
            "category": "infrastruktur",
            "anonymous": False,
            "confidential": False,
            "reporter": {"name": "Agus Salim", "email": "agus@warga.example.id"},
        },
    )
    assert control.status == 201, control.text()

    # Admin Kominfo: the suggested unit is BPN; the page says anonymous and confidential, and names nobody
    kominfo = s.actor("kominfo", forbidden=identity)
    kominfo.login("kominfo")
    kominfo.open_task(tracking_id, DISPOSISI)
    expect(kominfo.page.locator('input[name="units"][value="kanwil-bpn-jatim"]')).to_be_checked()
    expect(kominfo.page.locator("main")).to_contain_text("anonim")
    expect(kominfo.page.locator("main")).to_contain_text("rahasia")
    kominfo.shot("tugas-disposisi")
    kominfo.complete_task({}, "disposisi-bpn")

    # BPN: not its business
    bpn = s.actor("bpn", forbidden=identity)
    bpn.login("bpn")
    bpn.open_task(tracking_id, TERIMA)
    bpn.complete_task({"decision": "bukan_wewenang", "note": "Tanah wakaf masjid: kewenangan Kementerian Agama."}, "bukan-wewenang")

    # back at Admin Kominfo: forwarded to Kanwil Kemenag
    kominfo.open_task(tracking_id, DISPOSISI)
    expect(kominfo.page.locator("main")).to_contain_text("Tanah wakaf masjid: kewenangan Kementerian Agama.")
    kominfo.complete_task({"units": ["kanwil-kemenag-jatim"], "note": "Mohon ditindaklanjuti."}, "disposisi-kemenag")

    # Kanwil Kemenag accepts and answers; Admin Kominfo forwards the answer
    kemenag = s.actor("kemenag", forbidden=identity)
    kemenag.login("kemenag")
    kemenag.open_task(tracking_id, TERIMA)
    kemenag.complete_task({"decision": "terima"}, "terima")
    kemenag.open_task(tracking_id, TANGGAPAN)
    kemenag.complete_task({"response": "Berkas wakaf dilengkapi oleh KUA Sidoarjo dan diajukan kembali minggu ini."}, "tanggapan")
    answer = "Kanwil Kemenag Jawa Timur melengkapi berkas wakaf melalui KUA Sidoarjo; sertifikat diajukan kembali ke BPN."
    kominfo.open_task(tracking_id, TINJAU)
    kominfo.complete_task({"decision": "teruskan", "answer": answer}, "teruskan")
    kominfo.goto(f"/kasus/{tracking_id}")
    expect(kominfo.page.locator("main")).to_contain_text("Kantor Wilayah Kementerian Agama Provinsi Jawa Timur")
    kominfo.shot("laporan")

    # the citizen reads the answer through the private link
    citizen.open_mailed_link(link)
    expect(citizen.page.locator(".conversation .answer").last).to_have_text(answer)
    expect(citizen.page.locator("#status")).to_have_text("dijawab")
    citizen.shot("lacak-jawaban")

    # never in the public list (which does list the public complaint)
    visitor = s.actor("publik", forbidden=(title, tracking_id, *identity))
    for path in ("/", "/pengaduan", "/pengaduan?category=pertanahan", "/pengaduan?status=dijawab"):
        visitor.goto(path)
        visitor.shot(path.strip("/").replace("?", "-").replace("=", "-") or "beranda")
    visitor.goto("/pengaduan")
    expect(visitor.page.locator("table.list")).to_contain_text("Jalan provinsi Gresik berlubang")

    # Admin Pusat and the auditor see the case, but not who reported it
    pusat = s.actor("pusat", forbidden=identity)
    pusat.login("pusat")
    pusat.goto("/kasus")
    expect(pusat.page.locator("table.list")).to_contain_text(tracking_id)
    pusat.shot("semua-laporan")
    pusat.goto(f"/kasus/{tracking_id}")
    pusat.shot("laporan")
    pusat.goto("/notifikasi")
    pusat.shot("notifikasi")
    pusat.goto(f"/riwayat/{tracking_id}")
    expect(pusat.page.get_by_text(VERIFIED).first).to_be_visible()
    pusat.shot("riwayat")
    auditor = s.actor("auditor", forbidden=identity)
    auditor.login("auditor")
    auditor.goto(f"/kasus/{tracking_id}")
    auditor.shot("laporan")
    auditor.goto(f"/riwayat/{tracking_id}")
    auditor.page.get_by_role("button", name="Putar ulang", exact=True).click()
    expect(auditor.page.locator("#putar-ulang")).to_contain_text("Putar ulang cocok")
    auditor.shot("putar-ulang")

    # and no staff mail named the reporter either
    staff_mails = [m for m in s.mail.mails if any(to.endswith("@demo.lapor.test") for to in m.to)]
    assert staff_mails, "staff were notified by mail"
    for mail in staff_mails:
        leaked = [text for text in identity if text in mail.text or text in mail.html]
        assert not leaked, f"staff mail {mail.subject!r} to {mail.to} names the anonymous reporter: {leaked}"
    s.finish()


def test_deadline_reminder_and_escalation(stage) -> None:
    s = stage(clock=MONDAY_9AM)

    # a complaint through the JSON API (the mobile-app channel) on Monday 09:00 WIB
    citizen = s.actor("pelapor")
    response = citizen.context.request.post(
        f"{s.server.url}/api/v1/complaints",
        data={
            "title": "Puskesmas Wonokromo tutup pada jam layanan",
            "body": "Puskesmas Wonokromo tutup pada pukul 10.00 hari kerja, padahal jam layanan tertulis sampai pukul 14.00.",
            "category": "kesehatan",
            "anonymous": False,
            "confidential": False,
            "reporter": {"name": "Dewi Lestari", "email": "dewi@warga.example.id"},
        },
    )
    assert response.status == 201, response.text()
    tracking_id = response.json()["tracking_id"]

    kominfo = s.actor("kominfo")
    kominfo.login("kominfo")
    row = kominfo.inbox_row(tracking_id, DISPOSISI)
    expect(row).to_be_visible()
    expect(row.locator(".tag.overdue")).to_have_count(0)
    expect(kominfo.page.locator("header .badge.overdue")).to_have_count(0)
    kominfo.shot("kotak-tugas-tepat-waktu")

    # Wednesday 09:00 WIB: the first working day ended on Tuesday 23:59:59 WIB; the worker fires the deadline timer
    s.server.set_clock(WEDNESDAY_9AM)
    reminder = s.mail.wait_for(KOMINFO_MAIL, f"Pengingat: penerusan laporan ke unit kerja untuk {tracking_id} melewati batas SOP")
    assert f"{s.server.url}/kasus/{tracking_id}" in reminder.text
    s.mail.wait_for("pusat@demo.lapor.test", f"Eskalasi: {tracking_id} melewati batas SOP (penerusan laporan ke unit kerja)")

    kominfo.goto("/tugas")
    expect(row.locator(".tag.overdue")).to_have_text("lewat batas")
    expect(kominfo.page.locator("header .badge.overdue")).to_have_text("1")
    kominfo.shot("kotak-tugas-terlambat", doc="kotak-tugas-terlambat")
    kominfo.open_task(tracking_id, DISPOSISI)
    expect(kominfo.page.locator("p.muted .tag.overdue")).to_have_text("lewat batas")
    kominfo.shot("tugas-terlambat")

    pusat = s.actor("pusat")
    pusat.login("pusat")
    pusat.goto("/kasus")
    escalations = pusat.page.locator("h2", has_text="Eskalasi terbuka").locator("xpath=following-sibling::table[1]")
    expect(escalations).to_contain_text("penerusan laporan ke unit kerja")
    expect(escalations).to_contain_text("batas SOP")
    pusat.shot("eskalasi")
    pusat.goto("/kasus?overdue=1")
    expect(pusat.page.locator("table.list").first).to_contain_text(tracking_id)
    pusat.goto("/notifikasi")
    expect(pusat.page.locator("ul.notifications")).to_contain_text(f"Eskalasi: {tracking_id} melewati batas SOP")
    pusat.shot("notifikasi-eskalasi")
    pusat.goto(f"/kasus/{tracking_id}")
    expect(pusat.page.locator("main .tag.overdue").first).to_have_text("lewat batas")
    expect(pusat.page.locator("#diagram svg")).to_be_visible()
    pusat.shot("laporan-terlambat")
    s.finish()
