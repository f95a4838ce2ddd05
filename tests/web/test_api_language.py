"""The JSON API's error messages follow Accept-Language (issue "Every page as its user expects", point 7): ``error``
and each ``errors`` value in English for ``en`` (``en-US`` included), in Indonesian otherwise; pages keep the
visitor's own choice (the ``lang`` cookie) whatever the header says."""

from __future__ import annotations

import pytest
from flask_babel import force_locale, gettext

from tests.scenarios import COMPLAINT

ENGLISH = ("en", "en-US,en;q=0.9", "id;q=0.3, en;q=0.8")
INDONESIAN = (None, "id", "id-ID,id;q=0.9", "fr, de;q=0.5", "*")
UNKNOWN_CASE = "/api/v1/complaints/LPR-00000000"


def headers(accept_language: str | None, **more: str) -> dict[str, str]:
    return {**({"Accept-Language": accept_language} if accept_language else {}), **more}


@pytest.mark.parametrize("accept_language", ENGLISH)
def test_a_400_with_field_errors_is_in_english(client, accept_language):
    response = client.post("/api/v1/complaints", json={**COMPLAINT, "title": ""}, headers=headers(accept_language))
    assert response.status_code == 400
    assert response.json["error"] == "The data sent is not correct yet."
    assert response.json["errors"]["title"] == "Please use at least 5 characters."


@pytest.mark.parametrize("accept_language", INDONESIAN)
def test_a_400_with_field_errors_is_in_indonesian_otherwise(client, accept_language):
    response = client.post("/api/v1/complaints", json={**COMPLAINT, "title": ""}, headers=headers(accept_language))
    assert response.status_code == 400
    assert response.json["error"] == "Data yang dikirim belum benar."
    assert response.json["errors"]["title"] == "Minimal 5 karakter."


@pytest.mark.parametrize(
    ("accept_language", "message"),
    [(ENGLISH[1], "Report not found. Check your tracking number and your private link.")]
    + [(header, "Laporan tidak ditemukan. Periksa nomor pelacakan dan tautan pribadi Anda.") for header in INDONESIAN],
)
def test_a_404_follows_the_header(client, accept_language, message):
    response = client.get(UNKNOWN_CASE, headers=headers(accept_language, Authorization="Bearer wrong"))
    assert response.status_code == 404
    assert response.json == {"error": message, "errors": {}}


def test_a_message_the_web_layer_wrote_is_translated_too(client):
    """web/security.py refuses a control character in the URL before any route: its sentence is in the catalogue."""
    english = client.get("/api/v1/tasks?status=%01", headers=headers("en"))
    indonesian = client.get("/api/v1/tasks?status=%01")
    assert english.status_code == indonesian.status_code == 400
    assert english.json["error"] == "Must not contain control characters or invalid characters."
    assert indonesian.json["error"] == "Tidak boleh berisi karakter kontrol atau karakter yang tidak valid."


def test_the_apis_own_messages_go_through_the_catalogue(app, client):
    """A 401 and a routing 404 written by web/api/routes.py: each answer is its msgid looked up in the asked language."""
    for url, msgid in (
        ("/api/v1/tasks", "Token petugas tidak ada, tidak valid, kedaluwarsa, atau sudah dicabut. Minta token baru di POST /api/v1/auth/token."),
        ("/api/v1/no-such-thing", "Alamat API tidak ditemukan."),
    ):
        for accept_language, locale in (("en-GB", "en"), ("id", "id")):
            with app.test_request_context(), force_locale(locale):
                expected = gettext(msgid)
            assert client.get(url, headers=headers(accept_language)).json["error"] == expected, (url, locale)
        assert client.get(url).json["error"] == msgid


def test_pages_keep_their_own_language(client):
    """The header chooses the API's language only: a page follows the visitor's choice (Indonesian until they switch)."""
    assert "Lacak laporan" in client.get("/lacak", headers=headers("en")).get_data(as_text=True)
    client.set_cookie("lang", "en")
    assert "Track a report" in client.get("/lacak").get_data(as_text=True)
    # and the API does not take the page's cookie for its language
    assert client.get(UNKNOWN_CASE, headers=headers(None, Authorization="Bearer wrong")).json["error"].startswith("Laporan tidak ditemukan.")
