"""The verification desk (issue 18) in Chromium against a real server: a complaint received by phone, completed by
its reporter on request, forwarded to two units, answered by both and published as one answer.

1. Admin Kominfo records a complaint received by phone (no reporter email); the receipt shows the tracking id and
   the access code to pass on, and says the reporter gets no mail.
2. The verification task: Admin Kominfo asks the reporter for more (decision minta_kelengkapan with a question);
   the case waits for additions.
3. The reporter opens the tracking page with the tracking id and the access code (the lookup form), reads the
   question, and adds the details; the case goes back to verification.
4. Admin Kominfo's verification task comes back with the addition on the case; forwarded to Dinas Pendidikan and
   Kanwil BPN at once, each of which gets its own "Terima laporan" task, accepts and answers.
5. The review task shows both answers; Admin Kominfo publishes one answer, which the reporter reads on the
   tracking page.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.support import TRACKING_ID, Actor, Mail, Stage, expect, wait_until
from tests.e2e.test_sop_in_browser import DISPOSISI, KOMINFO_MAIL, MONDAY_9AM, TANGGAPAN, TERIMA, TINJAU

pytestmark = pytest.mark.e2e

REPORTER = {"name": "Suparmi", "phone": "0318291234"}
TITLE = "Halaman SD Negeri Wonokromo 2 dipagari pihak yang mengaku pemilik tanah"
BODY = "Sejak Senin pagi halaman SD Negeri Wonokromo 2 dipagari seng oleh orang yang mengaku memiliki tanahnya; murid tidak bisa upacara."
QUESTION = "Mohon sebutkan nama orang yang memasang pagar dan apakah ia menunjukkan sertifikat tanah kepada pihak sekolah."
ADDITION = "Pemasang pagar bernama Pak Darmo; ia menunjukkan fotokopi sertifikat hak milik nomor 1234 kepada kepala sekolah."
UNITS = {"dinas-pendidikan": ("pendidikan", "Dinas Pendidikan"), "kanwil-bpn-jatim": ("bpn", "Kantor Wilayah BPN Provinsi Jawa Timur")}
ANSWERS = {
    "dinas-pendidikan": "Dinas Pendidikan memindahkan upacara ke lapangan kelurahan sampai sengketa selesai.",
    "kanwil-bpn-jatim": "Kanwil BPN memeriksa sertifikat nomor 1234; tanah tercatat sebagai aset Pemerintah Kota Surabaya.",
}
PUBLISHED = (
    "Menurut Kanwil BPN, tanah sekolah tercatat sebagai aset Pemerintah Kota Surabaya, bukan milik perorangan. "
    "Sampai pagar dibongkar, Dinas Pendidikan memindahkan upacara ke lapangan kelurahan."
)


def mails_with(stage: Stage, to: str, subject: str, count: int) -> list[Mail]:
    """Wait until ``count`` mails to ``to`` whose subject contains ``subject`` arrived; return them."""

    def found() -> list[Mail] | None:
        mails = [m for m in stage.mail.to(to) if subject in m.subject]
        return mails if len(mails) >= count else None

    return wait_until(f"{count} mail(s) to {to} with {subject!r}", found)


def status_is(actor: Actor, label: str) -> None:
    """The tracking page shows the case's status as ``label``."""
    expect(actor.page.locator("#status")).to_have_text(label)


def test_verification_desk(stage) -> None:
    s = stage(clock=MONDAY_9AM)
    minutes = iter(range(30, 24 * 60, 30))

    def later() -> None:  # each step half an hour after the last, so the pages' times tell the order
        s.server.set_clock(MONDAY_9AM + timedelta(minutes=next(minutes)))

    # 1. Admin Kominfo records a complaint received by phone: no email, so the receipt shows the access code
    kominfo = s.actor("kominfo")
    kominfo.login("kominfo")
    kominfo.page.locator("header").get_by_role("link", name="Catat laporan masuk").click()
    expect(kominfo.page).to_have_url(kominfo.url + "/laporan/catat")
    expect(kominfo.page.locator("h1")).to_have_text("Catat laporan masuk")
    channel = kominfo.page.locator('select[name="channel"]')
    expect(channel.locator("option[value=telepon]")).to_have_count(1)
    expect(channel.locator("option[value=web]")).to_have_count(0)  # the reporter's own channel, never typed in by staff
    kominfo.fill(
        {
            "channel": "telepon",
            "title": TITLE,
            "body": BODY,
            "category": "pendidikan",
            "location": "SD Negeri Wonokromo 2, Surabaya",
            "reporter.name": REPORTER["name"],
            "reporter.phone": REPORTER["phone"],
        }
    )
    expect(kominfo.page.locator('[name="reporter.email"]')).to_have_value("")
    kominfo.shot("catat-telepon", doc="catat-laporan-masuk")
    kominfo.page.get_by_role("button", name="Catat laporan").click()
    expect(kominfo.page.locator("h1")).to_have_text("Laporan tercatat")
    receipt = kominfo.page.locator("main")
    expect(receipt).to_contain_text("Laporan lewat telepon telah dicatat")
    expect(receipt).to_contain_text("Pelapor tidak menerima email.")
    tracking_id = kominfo.page.locator("#tracking-id").inner_text().strip()
    access_code = kominfo.page.locator("#access-code").inner_text().strip()
    assert TRACKING_ID.fullmatch(tracking_id), tracking_id
    assert len(access_code) >= 16, f"the access code is too short to guard a case: {access_code!r}"
    kominfo.shot("tanda-terima-telepon", doc="tanda-terima-petugas")
    kominfo.page.get_by_role("link", name="Buka halaman laporan").click()
    expect(kominfo.page.locator("#case-channel")).to_have_text("telepon")
    expect(kominfo.page.locator("main")).to_contain_text(f"{REPORTER['name']} (tanpa email, {REPORTER['phone']})")
    expect(kominfo.page.locator("main")).to_contain_text("Laporan diterima melalui telepon")

    # 2. the verification task: ask the reporter for more
    later()
    s.mail.wait_for(KOMINFO_MAIL, f"Laporan {tracking_id} menunggu disposisi")
    kominfo.open_task(tracking_id, DISPOSISI)
    form = kominfo.page.locator("form.card", has=kominfo.page.locator('input[name="decision"]'))
    expect(form.locator("#f-decision-teruskan")).to_be_checked()  # forwarding is the usual decision
    expect(form.locator("#f-units-dinas-pendidikan")).to_be_checked()  # the unit the decision table suggests
    expect(form.locator("#f-units-kanwil-bpn-jatim")).not_to_be_checked()
    form.locator("#f-decision-minta_kelengkapan").check()
    kominfo.complete_task({"question": QUESTION}, "minta-kelengkapan")
    expect(kominfo.inbox_row(tracking_id)).to_have_count(0)  # nothing to do until the reporter answers
    kominfo.goto(f"/kasus/{tracking_id}")
    expect(kominfo.page.locator("main .card").first).to_contain_text("Lengkapi laporan")  # the reporter's open task
    expect(kominfo.page.locator("main")).to_contain_text("status menunggu kelengkapan")
    expect(kominfo.page.locator("main")).to_contain_text("Pelapor diminta melengkapi laporan")
    expect(kominfo.page.locator("main")).to_contain_text(QUESTION)
    kominfo.shot("kasus-menunggu-kelengkapan")

    # 3. the reporter, told the tracking id and the access code by phone, opens the tracking page with them
    later()
    citizen = s.actor("pelapor")
    citizen.goto("/lacak")
    expect(citizen.page.locator("h1")).to_have_text("Lacak laporan")
    citizen.page.locator("#tid").fill(tracking_id)
    citizen.page.locator("#tok").fill(access_code)
    citizen.shot("lacak-masuk")
    citizen.page.get_by_role("button", name="Lacak", exact=True).click()
    expect(citizen.page).to_have_url(f"{citizen.url}/lacak/{tracking_id}")
    expect(citizen.page.locator("h1")).to_have_text(TITLE)
    status_is(citizen, "menunggu kelengkapan")
    addition = citizen.page.locator("#addition")
    expect(addition.get_by_role("heading", name="Lengkapi laporan Anda")).to_be_visible()
    expect(addition.locator("#question")).to_have_text(QUESTION)
    expect(addition).to_contain_text("Tanpa tambahan sampai")  # the deadline after which the case is archived
    addition.get_by_label("Keterangan tambahan").fill(ADDITION)
    citizen.shot("lengkapi-laporan", doc="lacak-lengkapi-laporan")
    addition.get_by_role("button", name="Kirim tambahan").click()
    expect(citizen.page.locator(".flash.info")).to_contain_text("keterangan tambahan Anda telah kami terima")
    status_is(citizen, "diterima")
    expect(citizen.page.locator("#question")).to_have_count(0)  # nothing asked any more
    conversation = citizen.page.locator("#conversation")
    expect(conversation).to_contain_text(QUESTION)
    expect(conversation).to_contain_text(ADDITION)
    citizen.shot("tambahan-terkirim")

    # 4. the verification task is back with the addition; forwarded to two units at once
    later()
    mails_with(s, KOMINFO_MAIL, f"Laporan {tracking_id} menunggu disposisi", 2)
    kominfo.open_task(tracking_id, DISPOSISI)
    main = kominfo.page.locator("main")
    added = main.locator(".timeline li", has_text="Tambahan dari pelapor")
    expect(added).to_have_count(1)
    expect(added).to_contain_text(ADDITION)
    form = kominfo.page.locator("form.card", has=kominfo.page.locator('input[name="decision"]'))
    expect(form.locator("#f-decision-teruskan")).to_be_checked()
    form.locator("#f-units-dinas-pendidikan").check()
    form.locator("#f-units-kanwil-bpn-jatim").check()
    kominfo.shot("verifikasi-dua-unit", doc="tugas-verifikasi-dua-unit")
    kominfo.complete_task({"note": "Mohon ditangani bersama: sengketa tanah sekolah."}, "teruskan-dua-unit")
    kominfo.goto(f"/kasus/{tracking_id}")
    open_tasks = kominfo.page.locator("main .card", has=kominfo.page.get_by_role("heading", name="Tugas terbuka")).locator("li")
    expect(open_tasks).to_have_count(2)
    for _unit, (_user, name) in UNITS.items():
        expect(open_tasks.filter(has_text=name)).to_contain_text(TERIMA)
    expect(main).to_contain_text("status didisposisikan")
    kominfo.shot("kasus-dua-unit")

    # each unit gets its own task, accepts and answers
    for unit, (user, name) in UNITS.items():
        later()
        s.mail.wait_for(f"{user}@demo.lapor.test", f"Laporan {tracking_id} diteruskan kepada {name}")
        officer = s.actor(user)
        officer.login(user)
        expect(officer.inbox_row(tracking_id)).to_have_count(1)  # its own task, not the other unit's
        officer.open_task(tracking_id, TERIMA)
        expect(officer.page.locator("main")).to_contain_text(ADDITION)  # the unit reads what the reporter added
        officer.complete_task({"decision": "terima", "note": "Kami tindak lanjuti."}, f"terima-{user}")
        officer.open_task(tracking_id, TANGGAPAN)
        officer.complete_task({"response": ANSWERS[unit]}, f"tanggapan-{user}")
        expect(officer.inbox_row(tracking_id)).to_have_count(0)

    # 5. the review task shows both answers; one answer is published
    later()
    s.mail.wait_for(KOMINFO_MAIL, f"Jawaban unit untuk {tracking_id}")
    kominfo.open_task(tracking_id, TINJAU)
    context = kominfo.page.locator("#konteks")
    expect(context.get_by_role("heading", name="Jawaban 2 unit")).to_be_visible()
    expect(context.locator("blockquote")).to_have_text(list(ANSWERS.values()))  # in the order they came
    for _unit, (_user, name) in UNITS.items():
        expect(context).to_contain_text(name)
    prefilled = kominfo.page.locator('textarea[name="answer"]').input_value()
    assert all(answer in prefilled for answer in ANSWERS.values()), f"the answer field does not hold both answers:\n{prefilled}"
    kominfo.shot("tinjau-dua-jawaban", doc="tinjau-dua-jawaban")
    kominfo.complete_task({"decision": "teruskan", "answer": PUBLISHED}, "terbitkan")

    # the reporter's tracking page (the cookie the lookup set) shows the published answer
    later()
    citizen.goto(f"/lacak/{tracking_id}")
    status_is(citizen, "dijawab")
    expect(citizen.page.locator("#conversation .message.office .answer")).to_have_text([PUBLISHED])
    expect(citizen.page.get_by_role("heading", name="Balasan Anda")).to_be_visible()  # what the reporter does next
    expect(citizen.page.locator("#addition")).to_have_count(0)  # the reply is the place for anything more
    expect(citizen.page.locator("#question")).to_have_count(0)
    # several units: the timeline says the case went to the units in charge, naming neither (not one of the two)
    timeline = citizen.page.locator(".timeline li")
    expect(timeline.filter(has_text="Laporan Anda telah diteruskan kepada unit kerja yang berwenang.")).to_have_count(1)
    for _unit, (_user, name) in UNITS.items():
        expect(timeline.filter(has_text=name)).to_have_count(0)
    citizen.shot("lacak-dijawab", doc="lacak-jawaban-telepon")
    outside = [(m.to, m.subject) for m in s.mail.mails if not all(to.endswith("@demo.lapor.test") for to in m.to)]
    assert not outside, f"a reporter without an email address got mail: {outside}"
    s.finish()
