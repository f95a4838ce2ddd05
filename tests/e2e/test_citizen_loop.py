"""The pages citizens and the liaison judge, in Chromium against a real server, on a phone (390×844) and a laptop
(1366×768): a complaint with a photo that comes back once because the citizen is not satisfied.

1. The citizen sends a complaint with a photo; the receipt mail's link opens the tracking page: the stepper
   marks the current step, the conversation holds the complaint and its photo.
2. Admin Kominfo forwards it, the unit accepts and answers; the review task shows the unit's answer above
   the form, whose answer field it prefills; Admin Kominfo publishes it.
3. The answer mail's link (a link code, not the receipt's access code) opens the case without the cookie;
   the citizen is not satisfied and says why.
4. Admin Kominfo's new forwarding task says why the case came back, with the citizen's message; the unit
   answers again; the citizen reads both answers, in order, with the reply between them.

On the phone neither the tracking page nor the review task scrolls sideways.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from PIL import Image

from tests.e2e.support import Actor, Locator, Mail, Stage, expect, wait_until
from tests.e2e.test_sop_in_browser import DISPOSISI, KOMINFO_MAIL, MONDAY_9AM, PHOTO, TANGGAPAN, TERIMA, TINJAU, link_in_receipt, submit_complaint

pytestmark = pytest.mark.e2e

VIEWPORTS = {"ponsel": {"width": 390, "height": 844}, "laptop": {"width": 1366, "height": 768}}
REPORTER = {"name": "Siti Rahayu", "email": "siti.rahayu@warga.example.id", "phone": "081331234567"}
BODY = "Pagar SD Negeri Ketintang 3 roboh sejak banjir pekan lalu; anak-anak bermain di tepi jalan raya saat istirahat."
FIRST_ANSWER = "Pagar sekolah akan dibangun kembali oleh Dinas Pendidikan bulan depan."
NOT_SATISFIED = "Bulan depan terlalu lama: anak-anak dalam bahaya setiap hari. Mohon pengamanan sementara."
SECOND_ANSWER = "Pagar sementara dari panel baja dipasang besok pagi; pagar permanen dibangun bulan depan."
PUBLISHED_SECOND = SECOND_ANSWER + " Kepala sekolah menugaskan guru piket menjaga gerbang sampai pagar terpasang."
ANSWER_SUBJECT = "Jawaban atas laporan Anda"


@contextmanager
def unpublished(stage: Stage) -> Iterator[None]:
    """Steps whose screenshots stay out of the docs folder: the complaint form's picture there is the SOP scenario's."""
    publish_to, stage.shots.publish_to = stage.shots.publish_to, None
    try:
        yield
    finally:
        stage.shots.publish_to = publish_to


def token_of(link: str) -> str:
    return link.rpartition("#token=")[2]


def answer_link(stage: Stage, tracking_id: str, count: int) -> str:
    """The private link of the ``count``-th answer mail to the reporter (same in its text and HTML parts)."""

    def answers() -> list[Mail]:
        return [m for m in stage.mail.to(REPORTER["email"]) if f"{ANSWER_SUBJECT} {tracking_id}" in m.subject]

    mail = wait_until(f"answer mail #{count} for {tracking_id}", lambda: answers()[count - 1] if len(answers()) >= count else None)
    found = re.search(re.escape(stage.server.url) + rf"/lacak/{tracking_id}#token=[A-Za-z0-9_-]{{22,}}", mail.text)
    assert found, f"no private link in the answer mail:\n{mail.text}"
    assert f'href="{found.group(0)}"' in mail.html
    return found.group(0)


def fits_width(actor: Actor) -> None:
    """The page does not scroll sideways."""
    scroll, inner = actor.page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner + 1, f"{actor.page.url} scrolls sideways: {scroll} px of content in a {inner} px window"


def current_step(actor: Actor, label: str) -> None:
    """The stepper marks exactly one step as current, the one named ``label``."""
    stepper = actor.page.get_by_role("list", name="Tahapan laporan")
    expect(stepper).to_be_visible()
    expect(stepper.locator('li[aria-current="step"]')).to_have_count(1)
    expect(stepper.locator('li[aria-current="step"] .label')).to_have_text(label)


def above(upper: Locator, lower: Locator) -> None:
    """``upper`` ends where ``lower`` starts or higher on the page (the card the reader needs before the form)."""
    top, bottom = upper.bounding_box(), lower.bounding_box()
    assert top is not None and bottom is not None, f"{upper} or {lower} is not shown"
    assert top["y"] + top["height"] <= bottom["y"], f"{upper} is not above {lower}: {top} / {bottom}"


def unit_answers(stage: Stage, pendidikan: Actor, tracking_id: str, response: str, step: str) -> None:
    """Dinas Pendidikan accepts the forwarded case and answers it."""
    stage.mail.wait_for("pendidikan@demo.lapor.test", f"Laporan {tracking_id} diteruskan kepada Dinas Pendidikan")
    pendidikan.open_task(tracking_id, TERIMA)
    pendidikan.complete_task({"decision": "terima", "note": "Kami tindak lanjuti."}, f"terima-{step}")
    pendidikan.open_task(tracking_id, TANGGAPAN)
    pendidikan.complete_task({"response": response}, f"tanggapan-{step}")


@pytest.mark.parametrize("screen", VIEWPORTS)
def test_citizen_loop(stage, screen: str) -> None:
    s = stage(clock=MONDAY_9AM)
    minutes = iter(range(30, 24 * 60, 30))

    def later() -> None:  # each step half an hour after the last, so the conversation's times tell the order
        s.server.set_clock(MONDAY_9AM + timedelta(minutes=next(minutes)))

    def actor(name: str) -> Actor:
        person = s.actor(name)
        person.page.set_viewport_size(VIEWPORTS[screen])
        return person

    def no_sideways_scroll(person: Actor) -> None:
        if screen == "ponsel":
            fits_width(person)

    # 1. the citizen: the complaint with a photo; the receipt mail's link opens the tracking page
    citizen = actor("pelapor")
    with unpublished(s):
        tracking_id, receipt_link = submit_complaint(
            citizen,
            {
                "title": "Pagar SD Negeri Ketintang 3 roboh",
                "body": BODY,
                "category": "pendidikan",
                "location": "SD Negeri Ketintang 3, Surabaya",
                "reporter.name": REPORTER["name"],
                "reporter.email": REPORTER["email"],
                "reporter.phone": REPORTER["phone"],
            },
            attachment=("pagar-roboh.png", PHOTO),
        )
    link = link_in_receipt(s, REPORTER["email"], tracking_id)
    assert link == receipt_link
    citizen.open_mailed_link(link)
    expect(citizen.page.locator("#status")).to_have_text("diterima")
    current_step(citizen, "Diterima")
    conversation = citizen.page.locator("#conversation")
    expect(conversation.get_by_role("heading", name="Percakapan")).to_be_visible()
    expect(conversation.locator("#complaint .text")).to_have_text(BODY)
    expect(conversation.locator("#complaint .files a")).to_have_text(["lampiran-1.png"])
    photo = Image.open(io.BytesIO(citizen.download("lampiran-1.png")))
    assert photo.tobytes() == Image.open(io.BytesIO(PHOTO)).tobytes()  # the same pixels (re-encoded without metadata)
    no_sideways_scroll(citizen)
    citizen.shot("lacak-diterima")

    # 2. Admin Kominfo forwards it; Dinas Pendidikan accepts and answers
    later()
    s.mail.wait_for(KOMINFO_MAIL, f"Laporan {tracking_id} menunggu disposisi")
    kominfo = actor("kominfo")
    kominfo.login("kominfo")
    kominfo.open_task(tracking_id, DISPOSISI)
    expect(kominfo.page.locator("#konteks")).to_have_count(0)  # nothing came back yet
    kominfo.complete_task({"units": ["dinas-pendidikan"], "note": "Mohon segera diamankan."}, "disposisi")
    later()
    pendidikan = actor("pendidikan")
    pendidikan.login("pendidikan")
    unit_answers(s, pendidikan, tracking_id, FIRST_ANSWER, "pertama")

    # the review task: the unit's answer above the form, which it prefills; published as it stands
    later()
    s.mail.wait_for(KOMINFO_MAIL, f"Jawaban unit untuk {tracking_id}")
    kominfo.open_task(tracking_id, TINJAU)
    context = kominfo.page.locator("#konteks")
    expect(context.get_by_role("heading", name="Jawaban unit")).to_be_visible()
    expect(context.locator("blockquote")).to_have_text(FIRST_ANSWER)
    expect(kominfo.page.locator('textarea[name="answer"]')).to_have_value(FIRST_ANSWER)
    above(context, kominfo.page.locator("form.card", has=kominfo.page.locator('textarea[name="answer"]')))
    no_sideways_scroll(kominfo)
    kominfo.shot("tinjau-jawaban", doc=f"tinjau-jawaban-{screen}")
    kominfo.complete_task({"decision": "teruskan"}, "teruskan-pertama")

    # 3. the answer mail's own link code opens the case without the receipt's cookie; not satisfied
    later()
    first_link = answer_link(s, tracking_id, 1)
    assert token_of(first_link) != token_of(link), "the answer mail carries the receipt's access code, not a link code"
    citizen.context.clear_cookies()
    citizen.open_mailed_link(first_link)
    expect(citizen.page.locator("#status")).to_have_text("dijawab")
    current_step(citizen, "Dijawab")
    expect(citizen.page.locator("#conversation .message.office .answer")).to_have_text([FIRST_ANSWER])
    citizen.fill({"satisfied": False, "text": NOT_SATISFIED})
    citizen.shot("balas-belum-puas")
    citizen.page.get_by_role("button", name="Kirim balasan").click()
    expect(citizen.page.locator(".flash.info")).to_contain_text("balasan Anda telah kami terima")
    expect(citizen.page.locator("#conversation .message.citizen").last).to_contain_text(NOT_SATISFIED)
    citizen.shot("balasan-terkirim")

    # 4. Admin Kominfo's new forwarding task says why the case came back; forwarded again, answered again, published
    later()
    kominfo.open_task(tracking_id, DISPOSISI)
    context = kominfo.page.locator("#konteks")
    expect(context.get_by_role("heading", name="Mengapa laporan ini kembali")).to_be_visible()
    expect(context).to_contain_text("Pelapor belum puas dengan jawaban yang terbit.")
    expect(context).to_contain_text("Pesan pelapor")
    expect(context.locator("blockquote").first).to_have_text(NOT_SATISFIED)
    above(context, kominfo.page.locator("form.card", has=kominfo.page.locator('input[name="units"]').first))
    no_sideways_scroll(kominfo)
    kominfo.shot("disposisi-kembali")
    kominfo.complete_task({"units": ["dinas-pendidikan"], "note": "Pelapor meminta pengamanan sementara."}, "disposisi-kedua")
    later()
    unit_answers(s, pendidikan, tracking_id, SECOND_ANSWER, "kedua")
    later()
    kominfo.open_task(tracking_id, TINJAU)
    expect(kominfo.page.locator("#konteks blockquote")).to_have_text(SECOND_ANSWER)
    expect(kominfo.page.locator('textarea[name="answer"]')).to_have_value(SECOND_ANSWER)
    kominfo.complete_task({"decision": "teruskan", "answer": PUBLISHED_SECOND}, "teruskan-kedua")

    # the citizen reads the second answer with the first still there, and the reply between them
    later()
    second_link = answer_link(s, tracking_id, 2)
    citizen.open_mailed_link(second_link)
    expect(citizen.page.locator("#status")).to_have_text("dijawab")
    current_step(citizen, "Dijawab")
    messages = citizen.page.locator("#conversation .conversation > li")
    expect(messages).to_have_count(4)
    expect(messages.locator(".who")).to_contain_text(["Laporan Anda", "Jawaban", "Balasan Anda", "Jawaban"])
    expect(messages.nth(0)).to_contain_text(BODY)
    expect(messages.nth(1).locator(".answer")).to_have_text(FIRST_ANSWER)
    expect(messages.nth(2)).to_contain_text("Belum puas")
    expect(messages.nth(2)).to_contain_text(NOT_SATISFIED)
    expect(messages.nth(3).locator(".answer")).to_have_text(PUBLISHED_SECOND)
    no_sideways_scroll(citizen)
    citizen.shot("lacak-dua-jawaban", doc=f"lacak-dua-jawaban-{screen}")
    s.finish()
