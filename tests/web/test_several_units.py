"""Several units on one case (issue 18): each answers in its own task; Admin Kominfo's review shows every answer and
starts the reporter's answer from them; a returned answer comes back to each unit with its own text."""

from __future__ import annotations

from tests.web.pages import login

UNITS = ["dinas-pendidikan", "kanwil-bpn-jatim"]
PENDIDIKAN_ANSWER = "Atap kelas diperbaiki mulai 7 Desember 2026."
BPN_ANSWER = "Sertifikat tanah sekolah terbit 8 Desember 2026."


def _answered_by_both(api) -> str:
    tracking_id = api.submit()["tracking_id"]
    api.step("kominfo", tracking_id, {"units": UNITS, "classification": "pengaduan"})
    for username, answer in (("pendidikan", PENDIDIKAN_ANSWER), ("bpn", BPN_ANSWER)):
        api.step(username, tracking_id, {"decision": "terima"})
        api.step(username, tracking_id, {"response": answer})
    return tracking_id


def test_the_review_shows_each_units_answer_and_starts_the_reporters_answer_from_both(app, api):
    tracking_id = _answered_by_both(api)
    task = api.task_of("kominfo", tracking_id)
    page = login(app, "kominfo").get(f"/tugas/{task['id']}").get_data(as_text=True)
    context = page[page.index('id="konteks"') : page.index("</section>", page.index('id="konteks"'))]
    assert "Jawaban 2 unit" in context and PENDIDIKAN_ANSWER in context and BPN_ANSWER in context
    answer = page[page.index('name="answer"') : page.index("</textarea>", page.index('name="answer"'))]
    assert f"Dinas Pendidikan Provinsi Jawa Timur:\n{PENDIDIKAN_ANSWER}\n\nKantor Wilayah BPN Provinsi Jawa Timur:\n{BPN_ANSWER}" in answer


def test_a_returned_answer_comes_back_to_each_unit_with_its_own_text(app, api):
    tracking_id = _answered_by_both(api)
    api.step("kominfo", tracking_id, {"decision": "kembalikan", "note": "Mohon sebutkan jam kerjanya."})
    for username, own, other in (("pendidikan", PENDIDIKAN_ANSWER, BPN_ANSWER), ("bpn", BPN_ANSWER, PENDIDIKAN_ANSWER)):
        task = api.task_of(username, tracking_id)
        assert task["form"] == "tanggapan"
        page = login(app, username).get(f"/tugas/{task['id']}").get_data(as_text=True)
        response = page[page.index('name="response"') : page.index("</textarea>", page.index('name="response"'))]
        assert response.endswith(f">{own}") and other not in response
