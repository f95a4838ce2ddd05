"""Every role lands where its work is (issue 17, point 5): units and Admin Kominfo on their tasks, Admin Pusat on the
overview of what needs a look, auditors on the case search, analysts on the process versions; the inbox points the
roles without tasks there. Analysts read the cases of each version without the reporter."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import Session

from engine.db.tables import Incident
from engine.worker import run_once
from tests.web.pages import csrf, login
from web.extensions import db

LANDINGS = {"kominfo": "/tugas", "pendidikan": "/tugas", "bpn": "/tugas", "pusat": "/ikhtisar", "auditor": "/kasus", "analis": "/proses"}


def sign_in(app, username: str, query: str = ""):
    client = app.test_client()
    form = {"username": username, "password": "demo-lapor", "csrf_token": csrf(client, "/masuk")}
    return client, client.post(f"/masuk{query}", data=form)


@pytest.mark.parametrize(("username", "landing"), LANDINGS.items())
def test_each_role_lands_where_its_work_is(app, username, landing):
    client, response = sign_in(app, username)
    assert response.status_code == 302 and response.location == landing
    assert client.get(landing).status_code == 200


def test_a_next_page_after_sign_in_still_wins(app):
    _client, response = sign_in(app, "analis", "?next=/rekap")
    assert response.location == "/rekap"


def test_the_inbox_points_roles_without_tasks_to_their_work_and_keeps_the_tasks_link(app):
    for username, landing in (("auditor", "/kasus"), ("analis", "/proses"), ("pusat", "/ikhtisar")):
        html = login(app, username).get("/tugas").get_data(as_text=True)
        assert "Peran Anda tidak mengerjakan tugas dalam alur laporan." in html and f'<a href="{landing}">' in html
        assert 'href="/tugas"' in html  # the navigation's "Tugas" stays
    assert "Peran Anda tidak mengerjakan tugas" not in login(app, "kominfo").get("/tugas").get_data(as_text=True)


def test_the_overview_lists_incidents_escalations_and_overdue_tasks_with_links(app, api, clock):
    late = api.submit()["tracking_id"]
    clock.advance(days=2)  # the disposition is past its SOP time
    with app.app_context():
        engine = db.engine
        run_once(lambda: Session(engine), clock, app.config["LAPOR_BASE_URL"], None)  # the worker pass fires the deadline
        db.session.add(
            Incident(at=clock.now(), last_at=clock.now(), command="complete_task", actor="kominfo", error="E", message="gagal uji", detail="")
        )
        db.session.commit()
    html = login(app, "pusat").get("/ikhtisar").get_data(as_text=True)
    for section in ('id="insiden"', 'id="eskalasi"', 'id="lewat-batas"'):
        assert section in html
    eskalasi = html[html.index('id="eskalasi"') : html.index('id="lewat-batas"')]
    lewat = html[html.index('id="lewat-batas"') :]
    assert f'href="/kasus/{late}"' in eskalasi and f'href="/kasus/{late}"' in lewat and "gagal uji" in html
    assert 'href="/ikhtisar"' in html  # in the navigation, to come back
    assert login(app, "auditor").get("/ikhtisar").status_code == 403 and login(app, "kominfo").get("/ikhtisar").status_code == 403


def test_analysts_read_a_case_with_its_diagram_and_history_but_not_the_reporter(app, api):
    tracking_id = api.submit()["tracking_id"]
    analis = login(app, "analis")
    response = analis.get(f"/kasus/{tracking_id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Gedung SMA rusak" in html and "<svg" in html
    assert "Siti Aminah" not in html and "siti@example.id" not in html and "081234567890" not in html
    assert "alihkan" not in html and "Riwayat lengkap" not in html  # no action, no full audit history
    assert analis.get(f"/riwayat/{tracking_id}").status_code == 403
    assert analis.get("/rekap/ekspor.csv?dari=2026-11-01&sampai=2026-12-31").status_code == 403


def test_the_version_page_lists_its_running_and_finished_cases(app, api):
    running = api.submit()["tracking_id"]
    withdrawn = api.submit()
    assert (
        app.test_client()
        .post(f"/api/v1/complaints/{withdrawn['tracking_id']}/withdraw", json={}, headers={"Authorization": f"Bearer {withdrawn['access_token']}"})
        .status_code
        == 200
    )
    html = login(app, "analis").get("/proses/versi/1").get_data(as_text=True)
    listed = html[html.index('id="laporan"') : html.index('id="perubahan"')]
    assert re.findall(r'href="/kasus/(LPR-[0-9A-Z]{8})"', listed) == [withdrawn["tracking_id"], running]  # newest first
    assert "dicabut" in listed and "Siti Aminah" not in listed
