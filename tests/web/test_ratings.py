"""The citizen's rating of the answer (issue 19, "Ratings"): the reply form's 1-5 radios, the API reply with a rating
(2 or less goes back to Admin Kominfo), the rating in the conversation, and its distribution on /rekap."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import bearer
from tests.web.pages import csrf, login, submit
from tests.web.test_api import answered_case, check
from tests.web.test_i18n import choose
from tests.web.test_tracking import answer


@pytest.fixture
def doc(client):
    return client.get("/api/v1/openapi.json").json


def reply(client, tracking_id: str, token: str, data: dict):
    return client.post(f"/api/v1/complaints/{tracking_id}/replies", json=data, headers=bearer(token))


def test_a_low_rating_sends_the_case_back_to_kominfo_with_the_citizens_text(api, client, doc):
    tracking_id, token = answered_case(api)
    response = reply(client, tracking_id, token, {"satisfied": True, "rating": 2, "text": "Jawabannya tidak menjawab keluhan saya."})
    assert check(doc, response, "POST", "/complaints/{tracking_id}/replies") == {"tracking_id": tracking_id, "status": "diterima", "next_tasks": []}
    task = api.task_of("kominfo", tracking_id)
    assert task["form"] == "disposisi"
    seen = check(doc, client.get(f"/api/v1/complaints/{tracking_id}", headers=bearer(token)), "GET", "/complaints/{tracking_id}")
    [item] = [i for i in seen["conversation"] if i["kind"] == "reply"]
    assert (item["satisfied"], item["rating"], item["text"]) == (True, 2, "Jawabannya tidak menjawab keluhan saya.")


def test_a_good_rating_closes_the_case(api, client, doc):
    tracking_id, token = answered_case(api)
    response = reply(client, tracking_id, token, {"satisfied": True, "rating": 5})
    assert check(doc, response, "POST", "/complaints/{tracking_id}/replies") == {"tracking_id": tracking_id, "status": "selesai", "next_tasks": []}
    assert api.tasks("kominfo") == []


def test_a_reply_without_rating_still_works_and_shows_none(api, client, doc):
    tracking_id, token = answered_case(api)
    assert reply(client, tracking_id, token, {"satisfied": True}).json["status"] == "selesai"
    seen = check(doc, client.get(f"/api/v1/complaints/{tracking_id}", headers=bearer(token)), "GET", "/complaints/{tracking_id}")
    assert [i["rating"] for i in seen["conversation"] if i["kind"] == "reply"] == [None]


@pytest.mark.parametrize("rating", [0, 6, "lima", 2.5, True, None])
def test_a_bad_rating_is_a_400_naming_rating(api, client, doc, rating):
    tracking_id, token = answered_case(api)
    response = reply(client, tracking_id, token, {"satisfied": True, "rating": rating})
    assert response.status_code == 400 and set(check(doc, response, "POST", "/complaints/{tracking_id}/replies")["errors"]) == {"rating"}
    assert reply(client, tracking_id, token, {"satisfied": True, "rating": 4}).json["status"] == "selesai"  # nothing was recorded


def test_the_tracking_page_asks_for_a_rating_and_shows_it_in_the_conversation(app, api):
    citizen, tracking_id, link = submit(app)
    answer(api, tracking_id)
    page = citizen.get(link).get_data(as_text=True)
    assert "Nilai jawaban (1–5)" in page
    assert re.findall(r'<input type="radio"[^>]*name="rating" value="(\d)"', page) == ["1", "2", "3", "4", "5"]
    assert "1 — sangat tidak puas" in page and "5 — sangat puas" in page
    sent = {"satisfied": "true", "rating": "4", "text": "Terima kasih.", "csrf_token": csrf(citizen, link)}
    assert citizen.post(f"/lacak/{tracking_id}/balas", data=sent).status_code == 302
    page = citizen.get(link).get_data(as_text=True)
    assert "Nilai 4 dari 5" in page and "Laporan Anda telah selesai." in page


def test_the_tracking_page_rejects_a_made_up_rating(app, api):
    citizen, tracking_id, link = submit(app)
    answer(api, tracking_id)
    sent = {"satisfied": "true", "rating": "9", "csrf_token": csrf(citizen, link)}
    response = citizen.post(f"/lacak/{tracking_id}/balas", data=sent)
    assert response.status_code == 400  # the form again, with the field's error
    assert re.search(r'<div class="field radio error">\s*<fieldset class="choices">\s*<legend>Nilai jawaban', response.get_data(as_text=True))
    assert "Nilai 9 dari 5" not in citizen.get(link).get_data(as_text=True)
    assert "Nilai jawaban (1–5)" in citizen.get(link).get_data(as_text=True)  # still waiting for the reply


def test_rekap_shows_the_rating_distribution_per_unit_and_per_month(app, api, client):
    low, low_token = answered_case(api)
    good, good_token = answered_case(api)
    assert reply(client, low, low_token, {"satisfied": False, "rating": 1, "text": "Tidak ada perbaikan."}).status_code == 200
    assert reply(client, good, good_token, {"satisfied": True, "rating": 5}).status_code == 200
    html = login(app, "pusat").get("/rekap").get_data(as_text=True)
    by_unit = re.search(r'<table class="list report" id="ratings-by-unit">(.*?)</table>', html, re.S).group(1)
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in re.findall(r"<tr>(.*?)</tr>", by_unit.split("<tbody>")[1], re.S)]
    assert rows == [["Dinas Pendidikan Provinsi Jawa Timur", "1", "0", "0", "0", "1", "2", "3.0"]]
    by_month = re.search(r'<table class="list report" id="ratings-by-month">(.*?)</table>', html, re.S).group(1)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in re.findall(r"<tr>(.*?)</tr>", by_month.split("<tbody>")[1], re.S)]
    assert cells[0][1:] == ["1", "0", "0", "0", "1", "2", "3.0"] and re.fullmatch(r"\d\d-\d{4}", cells[0][0])
    assert "Semua" in cells[-1][0]
    english = choose(login(app, "pusat"), "en", "/rekap")
    assert 'id="ratings-by-unit"' in english


def test_rekap_says_when_nobody_rated(app, api):
    html = login(app, "analis").get("/rekap").get_data(as_text=True)
    assert "Belum ada nilai dari pelapor pada periode ini." in html and 'id="ratings-by-unit"' not in html
