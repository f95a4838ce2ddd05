"""Issue 18 on the pages: the verification task (``disposisi``) lists similar complaints, each with a link and a
"Tandai sebagai duplikat" form that completes the task as ``arsipkan``/``duplikat``; the staff case page links an
archived duplicate and the case it repeats, both ways."""

from __future__ import annotations

import re

from sqlalchemy import select

from engine.db.tables import Case
from tests.scenarios import ROAD, ROAD_AGAIN
from tests.web.pages import csrf, login, open_task, submit
from web.extensions import db

SCHOOL = {
    "title": "Pungutan uang gedung SMP Negeri 3 Malang",
    "location": "Kota Malang",
    "body": "Sekolah meminta uang gedung Rp 2.500.000 kepada wali murid baru, padahal sekolah negeri seharusnya gratis.",
    "category": "pendidikan",
}


def similar_section(html: str) -> str:
    found = re.search(r'<section class="card similar" id="laporan-serupa">(.*?)</section>', html, re.S)
    assert found, "the verification task lists similar complaints"
    return found.group(1)


def duplicate_form(section: str, tracking_id: str) -> tuple[str, dict[str, str]]:
    """The action and the fields of the "Tandai sebagai duplikat" form of the listed case ``tracking_id``."""
    item = re.search(rf'<li data-tracking-id="{tracking_id}">(.*?)</li>', section, re.S).group(1)
    action = re.search(r'<form method="post" action="([^"]+)">', item).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', item))
    return action, fields


def test_the_verification_task_lists_similar_complaints_with_a_duplicate_button(app):
    _c, road, _l = submit(app, **ROAD)
    _c, again, _l = submit(app, **ROAD_AGAIN)
    _c, school, _l = submit(app, **SCHOOL)
    kominfo = login(app, "kominfo")
    task_id = open_task(app, road).id
    html = kominfo.get(f"/tugas/{task_id}").get_data(as_text=True)
    section = similar_section(html)
    assert "Laporan serupa" in section
    assert f'<a href="/kasus/{again}">{again}</a> · {ROAD_AGAIN["title"]}' in section
    assert "Infrastruktur" in section and "diterima" in section.lower()
    assert school not in section and f'data-tracking-id="{road}"' not in section  # unrelated, and never the case itself
    assert "Tandai sebagai duplikat" in section
    assert f"Laporan {road} akan diarsipkan sebagai duplikat dari {again}" in section  # the confirmation sentence
    action, fields = duplicate_form(section, again)
    assert action == f"/tugas/{task_id}"
    assert fields.pop("csrf_token")
    assert fields == {"decision": "arsipkan", "archive_reason": "duplikat", "duplicate_of": again}

    school_html = kominfo.get(f"/tugas/{open_task(app, school).id}").get_data(as_text=True)
    assert "Tidak ada laporan serupa" in similar_section(school_html)


def test_marking_a_duplicate_from_the_task_page_archives_it_and_links_both_ways(app):
    """The "Tandai sebagai duplikat" form posts to the task's own URL, so the usual completion runs. Passes once the
    model takes ``decision=arsipkan`` with ``archive_reason=duplikat`` and ``duplicate_of`` (Contract, part 2, step 3)."""
    _c, road, _l = submit(app, **ROAD)
    _c, again, _l = submit(app, **ROAD_AGAIN)
    kominfo = login(app, "kominfo")
    path = f"/tugas/{open_task(app, road).id}"
    action, fields = duplicate_form(similar_section(kominfo.get(path).get_data(as_text=True)), again)
    response = kominfo.post(action, data={**fields, "csrf_token": csrf(kominfo, path)})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.tracking_id == road))
        assert (case.status, case.archive_reason, case.duplicate_of) == ("diarsipkan", "duplikat", again)
    assert f'Duplikat dari: <a href="/kasus/{again}">{again}</a>' in kominfo.get(f"/kasus/{road}").get_data(as_text=True)
    page = kominfo.get(f"/kasus/{again}").get_data(as_text=True)
    assert f'Laporan serupa yang diarsipkan sebagai duplikat: <a href="/kasus/{road}">{road}</a>' in page


def test_the_case_pages_link_a_duplicate_and_the_case_it_repeats(app):
    _c, road, _l = submit(app, **ROAD)
    _c, again, _l = submit(app, **ROAD_AGAIN)
    _c, third, _l = submit(app, **ROAD)
    with app.app_context():  # archived as duplicates at step 3 (set here directly: the pages only read it)
        for tracking_id in (again, third):
            case = db.session.scalar(select(Case).where(Case.tracking_id == tracking_id))
            case.status, case.archive_reason, case.duplicate_of, case.closed_at = "diarsipkan", "duplikat", road, case.submitted_at
        db.session.commit()
    for username in ("kominfo", "pusat", "auditor"):
        client = login(app, username)
        original = client.get(f"/kasus/{road}").get_data(as_text=True)
        links = f'<a href="/kasus/{again}">{again}</a>, <a href="/kasus/{third}">{third}</a>'
        assert f"Laporan serupa yang diarsipkan sebagai duplikat: {links}" in original, username
        assert "Duplikat dari" not in original
        duplicate = client.get(f"/kasus/{again}").get_data(as_text=True)
        assert f'Duplikat dari: <a href="/kasus/{road}">{road}</a>' in duplicate, username
        assert "Laporan serupa yang diarsipkan sebagai duplikat" not in duplicate
    # the verification task of the original marks the duplicates already archived and offers no button for them
    section = similar_section(login(app, "kominfo").get(f"/tugas/{open_task(app, road).id}").get_data(as_text=True))
    assert f'<li data-tracking-id="{again}">' in section and "sudah diarsipkan sebagai duplikat laporan ini" in section
    assert "duplicate_of" not in re.search(rf'<li data-tracking-id="{again}">(.*?)</li>', section, re.S).group(1)
