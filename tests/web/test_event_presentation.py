"""Issue 17, point 3: one presentation of a case's steps on every page (task and case pages, the case sheet, the
auditor's history and replay): the form's labels, chosen values by their names, Ya/Tidak, units by their names, in
the reader's language; and unit names instead of ids on the case list and the account list."""

from __future__ import annotations

import re

import pytest

from tests.web.pages import csrf, login, open_task, submit
from tests.web.test_pages import complete

PENDIDIKAN = "Dinas Pendidikan Provinsi Jawa Timur"
ANSWER = "Perbaikan ruang kelas dijadwalkan Senin depan."


@pytest.fixture
def looped(app) -> str:
    """A case declined once, then answered, published, and found unsatisfying by its reporter."""
    citizen, tracking_id, link = submit(app)
    kominfo, pendidikan = login(app, "kominfo"), login(app, "pendidikan")
    complete(app, kominfo, tracking_id, {"unit": "dinas-pendidikan", "note": "Mohon dicek."})
    complete(app, pendidikan, tracking_id, {"decision": "bukan_wewenang", "note": "Bukan kami."})
    complete(app, kominfo, tracking_id, {"unit": "dinas-pendidikan"})
    complete(app, pendidikan, tracking_id, {"decision": "terima"})
    complete(app, pendidikan, tracking_id, {"response": ANSWER})
    complete(app, kominfo, tracking_id, {"decision": "teruskan", "answer": ANSWER})
    reply = {"satisfied": "false", "text": "Belum diperbaiki.", "csrf_token": csrf(citizen, link)}
    assert citizen.post(f"/lacak/{tracking_id}/balas", data=reply).status_code == 302
    return tracking_id


def lines(html: str) -> set[str]:
    """The pages' step lines, as "label: value"."""
    found = re.findall(r'<span class="(?:muted|label)">([^<]+):</span> <span class="pre">([^<]*)</span>', html)
    return {f"{label}: {value}" for label, value in found}


RAW = ("unit: dinas-pendidikan", "decision: bukan_wewenang", "decision: terima", "satisfied: False", "note: Bukan kami.")
INDONESIAN = {
    f"Unit tujuan: {PENDIDIKAN}",
    "Catatan untuk unit: Mohon dicek.",
    "Keputusan: Bukan wewenang unit kami",
    "Catatan: Bukan kami.",
    "Keputusan: Terima dan tindak lanjuti",
    f"Tanggapan: {ANSWER}",
    "Keputusan: Teruskan kepada pelapor",
    "Pelapor puas: Tidak",  # the record's own label, not the question asked of the reporter
    "Pesan: Belum diperbaiki.",
}
ENGLISH = {
    f"Receiving unit: {PENDIDIKAN}",
    "Decision: Not within our authority",
    "Decision: Accept and follow up",
    "Decision: Publish to the reporter",
    "Reporter satisfied: No",
    "Message: Belum diperbaiki.",
}


def test_the_task_page_the_case_page_and_the_case_sheet_present_each_step_alike(app, looped):
    kominfo = login(app, "kominfo")
    pages = {
        "task": kominfo.get(f"/tugas/{open_task(app, looped).id}").get_data(as_text=True),
        "case": kominfo.get(f"/kasus/{looped}").get_data(as_text=True),
        "sheet": kominfo.get(f"/kasus/{looped}/lembar").get_data(as_text=True),
    }
    for name, html in pages.items():
        assert lines(html) >= INDONESIAN, name
        assert not lines(html) & set(RAW), name


def test_the_steps_read_in_english_for_an_english_reader(app, looped):
    kominfo = login(app, "kominfo")
    kominfo.set_cookie("lang", "en")
    for path in (f"/tugas/{open_task(app, looped).id}", f"/kasus/{looped}", f"/kasus/{looped}/lembar"):
        html = kominfo.get(path).get_data(as_text=True)
        assert lines(html) >= ENGLISH, path
        assert not any(line.endswith((": Tidak", ": False")) for line in lines(html)), path


def test_the_history_and_replay_name_units_and_present_steps_as_the_case_page(app, looped):
    html = login(app, "auditor").get(f"/riwayat/{looped}").get_data(as_text=True)
    assert lines(html) >= INDONESIAN
    assert not lines(html) & set(RAW)
    assert f"Unit: {PENDIDIKAN}" in html and "Unit: dinas-pendidikan" not in html  # the replay's state
    assert f"· {PENDIDIKAN}</span>" in html  # who did a unit's step: the unit by name


def test_the_case_list_and_the_account_list_name_units(app, looped):
    pusat = login(app, "pusat")
    cases = pusat.get("/kasus").get_data(as_text=True)
    row = next(r for r in cases.split("<tr>") if looped in r)
    assert f"<td>{PENDIDIKAN}</td>" in row and "dinas-pendidikan" not in row.replace(f"/kasus/{looped}", "")
    users = pusat.get("/admin/pengguna").get_data(as_text=True)
    row = next(r for r in users.split("<tr>") if ">pendidikan</a>" in r)
    assert f"<td>{PENDIDIKAN}</td>" in row and "<td>dinas-pendidikan</td>" not in users
