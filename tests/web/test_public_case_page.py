"""The public case page, /pengaduan/<tracking_id> (issue 19; Contract, part 2, "Public case page"), and the public list
that links to it: a published answer makes a case public unless it is confidential or archived as not a complaint;
the page shows the complaint (the redacted text where staff wrote one), its place, status, steps and answer, never
the reporter; every case without a page answers the same 404. A duplicate's tracking page links to the case it
repeats once that one has a page."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import bearer
from tests.web.pages import csrf, submit
from tests.web.test_answer_attachments import PUBLISH, RESPONSE, answering, upload
from tests.web.test_api import check, doc  # noqa: F401 - doc is a fixture
from tests.web.test_tracking import FIRST_ANSWER, answer

REPORTER = ("Budi Santoso", "budi@example.id", "081234567890")  # tests/web/pages.py complaint_form
REDACTED = "Warga melaporkan lubang besar di jalan provinsi dekat pasar yang membahayakan pengendara."


def page(client, tracking_id: str):
    return client.get(f"/pengaduan/{tracking_id}")


def text_of(html: str) -> str:
    """The page as a reader sees it: tags dropped, spaces folded."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def without_tokens(response) -> str:
    """The page without its CSRF tokens (signed with the time, so they change from one second to the next)."""
    return re.sub(r'name="csrf_token" value="[^"]*"', "", response.get_data(as_text=True))


def reply(citizen, tracking_id: str, satisfied: bool, text: str) -> None:
    path = f"/lacak/{tracking_id}"
    sent = citizen.post(f"{path}/balas", data={"satisfied": str(satisfied).lower(), "text": text, "csrf_token": csrf(citizen, path)})
    assert sent.status_code == 302


@pytest.mark.parametrize("anonymous", [False, True])
def test_an_answered_case_shows_its_complaint_steps_and_answer_never_its_reporter(app, api, client, anonymous):
    citizen, tracking_id, _link = submit(app, anonymous=str(anonymous).lower(), latitude="-7.4478", longitude="112.7183")
    answer(api, tracking_id)
    reply(citizen, tracking_id, True, "Terima kasih, sudah ditambal.")
    response = page(client, tracking_id)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    shown = text_of(html)
    assert "<title>Jalan berlubang di Sidoarjo · SP4N-LAPOR! Jawa Timur</title>" in html
    assert '<meta property="og:title" content="Jalan berlubang di Sidoarjo">' in html
    assert re.search(r'<meta name="description" content="Pendidikan · selesai · Lubang besar di jalan provinsi[^"]*">', html)
    assert 'id="status">selesai<' in html and 'id="category">Pendidikan<' in html
    assert "Lubang besar di jalan provinsi dekat pasar membahayakan pengendara motor." in shown
    assert "Sidoarjo · Lihat di peta" in shown and "mlat=-7.4478&amp;mlon=112.7183" in html  # web/templates/_map_link.html
    assert "Ditangani oleh Dinas Pendidikan" in shown
    assert FIRST_ANSWER in shown
    timeline = text_of(re.search(r'<ol class="timeline">.*?</ol>', html, re.S).group(0))
    steps = ("Diterima", "Diteruskan ke unit", "Ditindaklanjuti", "Dijawab", "Selesai")
    assert re.fullmatch(" ".join(rf"\d\d-\d\d-2026 \d\d\.\d\d WIB {step}" for step in steps), timeline), timeline
    # never the reporter, their reply, or who acted
    for private in (*REPORTER, "81234567890", "Terima kasih, sudah ditambal.", "kominfo", "pendidikan</", "foto.png", "lampiran"):
        assert private not in html, private


def test_the_page_speaks_english_through_the_language_switch(app, api, client):
    _citizen, tracking_id, _link = submit(app)
    answer(api, tracking_id)
    client.set_cookie("lang", "en")
    shown = text_of(page(client, tracking_id).get_data(as_text=True))
    assert "Status answered" in shown and "Forwarded to a unit" in shown and "Answer" in shown and "Public reports" in shown


def test_the_redacted_text_replaces_the_reporters_own(app, api, client):
    _citizen, tracking_id, _link = submit(app)
    api.step("kominfo", tracking_id, {"unit": "dinas-pendidikan", "redacted_body": REDACTED})
    for username, data in (("pendidikan", {"decision": "terima"}), ("pendidikan", {"response": "Dijadwalkan."})):
        api.step(username, tracking_id, data)
    api.step("kominfo", tracking_id, {"decision": "teruskan", "answer": FIRST_ANSWER})
    html = page(client, tracking_id).get_data(as_text=True)
    assert REDACTED in html and "membahayakan pengendara motor" not in html


def test_every_case_without_a_page_answers_the_same_404(app, api, client):
    unknown = page(client, "LPR-ZZZZZZZZ")
    assert unknown.status_code == 404
    _citizen, unanswered, _link = submit(app)
    api.step("kominfo", unanswered, {"unit": "dinas-pendidikan"})
    _citizen, confidential, _link = submit(app, confidential="true")
    answer(api, confidential)
    # answered, found not satisfying, then archived at the second verification as not a complaint at all
    citizen, not_a_complaint, _link = submit(app)
    answer(api, not_a_complaint)
    reply(citizen, not_a_complaint, False, "Ini sebenarnya pertanyaan umum.")
    api.step("kominfo", not_a_complaint, {"decision": "arsipkan", "archive_reason": "bukan_pengaduan", "note": "Pertanyaan umum."})
    for tracking_id in (unanswered, confidential, not_a_complaint):
        response = page(client, tracking_id)
        assert response.status_code == 404, tracking_id
        assert without_tokens(response) == without_tokens(unknown)  # nothing tells which
    # none of them is linked from the list either
    listed = client.get("/pengaduan").get_data(as_text=True)
    assert not re.search(r'href="/pengaduan/LPR-', listed) and confidential not in listed


def test_the_list_links_each_case_with_a_page(app, api, client):
    _citizen, answered, _link = submit(app, title="Lampu jalan mati di Waru")
    answer(api, answered)
    _citizen, waiting, _link = submit(app, title="Trotoar rusak di Gedangan")
    html = client.get("/pengaduan").get_data(as_text=True)
    assert f'<a href="/pengaduan/{answered}">Lampu jalan mati di Waru</a>' in html
    assert "<td>Trotoar rusak di Gedangan</td>" in html and f"/pengaduan/{waiting}" not in html
    assert page(client, answered).status_code == 200


def test_the_list_filters_by_status_category_and_month_and_ignores_nonsense(app, api, client, clock):
    _citizen, november, _link = submit(app, title="Sekolah November", category="pendidikan")
    answer(api, november)
    clock.advance(days=3)  # Thursday 3 December
    submit(app, title="Puskesmas Desember", category="kesehatan")
    submit(app, title="Sekolah Desember", category="pendidikan")

    def titles(**query) -> list[str]:
        response = client.get("/pengaduan", query_string=query)
        assert response.status_code == 200
        return re.findall(r"<tr><td>(?:<a [^>]+>)?([^<]+)", response.get_data(as_text=True))

    assert titles() == ["Sekolah Desember", "Puskesmas Desember", "Sekolah November"]
    assert titles(month="2026-11") == ["Sekolah November"]
    assert titles(month="2026-12", category="pendidikan") == ["Sekolah Desember"]
    assert titles(status="dijawab") == ["Sekolah November"]
    assert titles(status="dijawab", month="2026-12") == []
    for nonsense in ({"month": "2026-13"}, {"month": "desember"}, {"month": "99999-01"}, {"status": "x"}, {"category": "<b>"}):
        assert titles(**nonsense) == ["Sekolah Desember", "Puskesmas Desember", "Sekolah November"], nonsense
    # the form keeps what was chosen, each field with its label; the pager keeps it too
    form = client.get("/pengaduan", query_string={"month": "2026-12", "status": "diterima"}).get_data(as_text=True)
    assert '<label for="m">Bulan diterima</label><input type="month" id="m" name="month" value="2026-12"' in form
    assert '<option value="diterima" selected>' in form


def test_a_duplicate_links_to_the_public_page_of_the_case_it_repeats(app, api, client, doc):  # noqa: F811
    """On the duplicate's tracking page and in GET /api/v1/complaints/{tracking_id} (``duplicate_of_url``)."""
    _citizen, original, _link = submit(app)
    _citizen, still_open, _link = submit(app)
    duplicates = []
    for repeated in (original, still_open):
        citizen, duplicate, link = submit(app)
        api.step("kominfo", duplicate, {"decision": "arsipkan", "archive_reason": "duplikat", "duplicate_of": repeated})
        duplicates.append((citizen, duplicate, link.split("token=")[1], repeated))
    answer(api, original)
    for citizen, duplicate, token, repeated in duplicates:
        public_url = f"/pengaduan/{repeated}" if repeated == original else None  # a link only to a case with a public page
        timeline = re.search(r'<ol class="timeline">.*?</ol>', citizen.get(f"/lacak/{duplicate}").get_data(as_text=True), re.S).group(0)
        assert repeated in timeline  # the number, always
        assert (f'<a class="duplicate-of" href="{public_url}">Lihat laporan {repeated}</a>' in timeline) is bool(public_url)
        view = check(doc, client.get(f"/api/v1/complaints/{duplicate}", headers=bearer(token)), "GET", "/complaints/{tracking_id}")
        assert (view["duplicate_of"], view["duplicate_of_url"]) == (repeated, public_url)
        assert page(client, duplicate).status_code == 404  # archived unanswered: no page of its own


def test_the_documents_published_with_the_answer_are_listed_under_it(app, api, client):
    tracking_id, _token, task_id = answering(api)
    sent = upload(client, api, "pendidikan", task_id).json
    upload(client, api, "pendidikan", task_id)  # uploaded, never ticked: it stays with the unit
    api.step("pendidikan", tracking_id, {"response": RESPONSE, "attachments": [sent["id"]]})
    api.step("kominfo", tracking_id, PUBLISH)
    html = page(client, tracking_id).get_data(as_text=True)
    answer_card = re.search(r'<section class="card" id="answer">.*?</section>', html, re.S).group(0)
    link = f"/pengaduan/{tracking_id}/dokumen/{sent['id']}"
    assert re.findall(r'<li><a href="([^"]+)">([^<]+)</a></li>', answer_card) == [(link, "jawaban-1.png")]
    assert client.get(link).status_code == 200
