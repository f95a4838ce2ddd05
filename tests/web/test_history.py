"""The auditor's history page /riwayat/<tracking_id>, its export, and GET /api/v1/cases/{tracking_id}/replay."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from sqlalchemy import select, text

from engine.audit.trail import guards_lifted
from engine.db.tables import AuditEvent, Case
from tests.scenarios import COMPLAINT
from tests.web.conftest import bearer
from tests.web.pages import csrf, login
from tests.web.test_analyst import RENAMED, upload
from tests.web.test_api import check
from tests.web.test_i18n import assert_no_indonesian, choose
from web.extensions import db

FORWARD = {"unit": "dinas-pendidikan", "note": "Mohon ditindaklanjuti."}
ACCEPT = {"decision": "terima"}
REPORTER = COMPLAINT["reporter"]


def case_in_progress(api, **changes) -> str:
    """Submitted, forwarded by Admin Kominfo, accepted by the unit: three steps. Returns the tracking id."""
    tracking_id = api.submit(**changes)["tracking_id"]
    api.step("kominfo", tracking_id, FORWARD)
    api.step("pendidikan", tracking_id, ACCEPT)
    return tracking_id


def forge(app, tracking_id: str, seq: int, data: str) -> None:
    with app.app_context():
        case_id = db.session.scalar(select(Case.id).where(Case.tracking_id == tracking_id))
        with guards_lifted(db.session.connection()):
            db.session.execute(text("UPDATE audit_event SET data = :d WHERE case_id = :c AND seq = :s"), {"d": data, "c": case_id, "s": seq})
        db.session.commit()


def seq_of(app, tracking_id: str, type_: str, to: str | None = None) -> int:
    with app.app_context():
        case_id = db.session.scalar(select(Case.id).where(Case.tracking_id == tracking_id))
        for event in db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.type == type_).order_by(AuditEvent.seq)):
            if to is None or json.loads(event.data).get("to") == to:
                return event.seq
    raise AssertionError(type_)


# ---- the page ----------------------------------------------------------------------------------------


def test_history_page_steps_through_the_case_with_its_diagram(app, api):
    tracking_id = case_in_progress(api)
    auditor = login(app, "auditor")
    html = auditor.get(f"/riwayat/{tracking_id}?langkah=2").get_data(as_text=True)
    assert "Langkah 2 dari 3" in html and "Tugas diselesaikan" in html
    assert "terverifikasi" in html
    for label, step in (("Awal", 1), ("Sebelumnya", 1), ("Berikutnya", 3), ("Akhir", 3)):
        assert re.search(rf'href="/riwayat/{tracking_id}\?langkah={step}#putar">{label}</a>', html), label
    assert '<input type="range" id="langkah" name="langkah" form="step-form" min="1" max="3" value="2">' in html
    assert "<svg" in html and "is-active" in html  # the unit's task open after the disposition
    assert "didisposisikan" in html and "Terima laporan" in html
    assert "<script>" not in html and " onclick=" not in html and "history.js" in html
    # the events of step 2 are marked, later ones muted
    assert "<mark>2</mark>" in html and 'class="muted"' in html


def test_each_notification_names_whom_it_went_to_and_what_about_not_codes(app, api):
    tracking_id = case_in_progress(api)
    html = login(app, "auditor").get(f"/riwayat/{tracking_id}").get_data(as_text=True)
    assert 'kepada pelapor <span class="muted">(tanda terima laporan)</span>' in html
    assert 'kepada Admin Kominfo <span class="muted">(perlu disposisi)</span>' in html
    assert 'kepada Dinas Pendidikan Provinsi Jawa Timur <span class="muted">(laporan diteruskan ke unit)</span>' in html
    assert "(laporan_diterima)" not in html and "kepada dinas-pendidikan" not in html


def test_first_and_last_step_disable_the_links_that_lead_nowhere(app, api):
    tracking_id = case_in_progress(api)
    auditor = login(app, "auditor")
    first = auditor.get(f"/riwayat/{tracking_id}?langkah=1").get_data(as_text=True)
    assert 'aria-disabled="true">Awal</span>' in first and 'aria-disabled="true">Sebelumnya</span>' in first
    last = auditor.get(f"/riwayat/{tracking_id}").get_data(as_text=True)
    assert "Langkah 3 dari 3" in last and 'aria-disabled="true">Akhir</span>' in last
    assert "Langkah 1 dari 3" in auditor.get(f"/riwayat/{tracking_id}?langkah=-4").get_data(as_text=True)
    assert "Langkah 3 dari 3" in auditor.get(f"/riwayat/{tracking_id}?langkah=99").get_data(as_text=True)


def test_history_page_hides_an_anonymous_reporter_everywhere(app, api):
    tracking_id = case_in_progress(api, anonymous=True)
    for username in ("auditor", "pusat"):
        client = login(app, username)
        for step in (1, 3):
            html = client.get(f"/riwayat/{tracking_id}?langkah={step}").get_data(as_text=True)
            assert "Laporan masuk" in html
            for secret in (REPORTER["name"], REPORTER["email"], REPORTER["phone"]):
                assert secret not in html, (username, step, secret)
        assert REPORTER["email"] not in client.get(f"/riwayat/{tracking_id}/ekspor.json").get_data(as_text=True)
        assert REPORTER["email"] not in client.get(f"/riwayat/{tracking_id}/ekspor.csv").get_data(as_text=True)


def test_confidential_reporter_is_hidden_from_the_auditor_not_from_admin_pusat(app, api):
    tracking_id = case_in_progress(api, confidential=True)
    assert REPORTER["email"] not in login(app, "auditor").get(f"/riwayat/{tracking_id}").get_data(as_text=True)
    assert REPORTER["email"] in login(app, "pusat").get(f"/riwayat/{tracking_id}").get_data(as_text=True)


def test_named_reporter_is_hidden_from_the_auditor_and_shown_to_admin_pusat(app, api):
    """Auditors check how a case was handled, not who complained (engine/cases/access.py, the rule)."""
    tracking_id = case_in_progress(api)
    assert REPORTER["email"] not in login(app, "auditor").get(f"/riwayat/{tracking_id}?langkah=1").get_data(as_text=True)
    assert REPORTER["email"] in login(app, "pusat").get(f"/riwayat/{tracking_id}?langkah=1").get_data(as_text=True)


def test_replay_button_reports_a_match(app, api):
    tracking_id = case_in_progress(api)
    auditor = login(app, "auditor")
    path = f"/riwayat/{tracking_id}?langkah=2"
    response = auditor.post(path, data={"csrf_token": csrf(auditor, path)})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Putar ulang cocok" in html and "Langkah 2 dari 3" in html


def test_a_migrated_and_reverted_case_names_its_moves_and_replays_as_a_match(app, api):
    tracking_id = api.submit()["tracking_id"]
    analis = login(app, "analis")
    assert upload(analis, RENAMED, note="v2").status_code == 302
    with app.app_context():
        case_id = db.session.scalar(select(Case.id).where(Case.tracking_id == tracking_id))
    move = {"csrf_token": csrf(analis, "/proses/versi/1"), "from": "1", "to": "2", "case": str(case_id), "action": "jalankan"}
    assert analis.post("/proses/migrasi", data=move).status_code == 200
    assert analis.post(f"/proses/migrasi/{tracking_id}/batalkan", data={"csrf_token": csrf(analis, "/proses/versi/2")}).status_code == 302
    api.step("kominfo", tracking_id, FORWARD)
    auditor = login(app, "auditor")
    path = f"/riwayat/{tracking_id}"
    html = auditor.post(path, data={"csrf_token": csrf(auditor, path)}).get_data(as_text=True)
    assert "Dipindahkan ke versi proses lain" in html and "versi 1 → versi 2" in html
    assert "Pemindahan versi dibatalkan" in html and "versi 2 → versi 1" in html
    assert "<strong>case_migrat" not in html  # named, not coded
    assert "Putar ulang cocok" in html and "Langkah 4 dari 4" in html and "terverifikasi" in html
    staff = login(app, "kominfo").get(f"/kasus/{tracking_id}").get_data(as_text=True)  # why a step's name changed
    assert "Dipindahkan ke versi proses lain: versi 1 → versi 2" in staff and "Pemindahan versi dibatalkan: versi 2 → versi 1" in staff
    moved = auditor.get(path, query_string={"langkah": 2}).get_data(as_text=True)  # on version 2 then: its diagram, its name
    assert "versi proses 2" in moved and "Verifikasi dan teruskan laporan" in moved
    back = auditor.get(path, query_string={"langkah": 3}).get_data(as_text=True)
    assert "versi proses 1" in back and "Verifikasi dan teruskan laporan" not in back.split('id="putar"')[1]


def test_replay_button_names_the_first_difference_of_a_forged_record(app, api):
    tracking_id = case_in_progress(api)
    seq = seq_of(app, tracking_id, "status_changed", to="didisposisikan")
    forge(app, tracking_id, seq, '{"from":"diterima","to":"selesai"}')
    auditor = login(app, "auditor")
    path = f"/riwayat/{tracking_id}"
    html = auditor.post(path, data={"csrf_token": csrf(auditor, path)}).get_data(as_text=True)
    assert "Putar ulang berbeda pada langkah 2" in html and f"peristiwa #{seq}" in html
    assert "<code>data.to</code>" in html and "&#34;selesai&#34;" in html and "&#34;didisposisikan&#34;" in html
    assert f"Rantai hash rusak mulai peristiwa #{seq}" in html and "terverifikasi" not in html


def test_replay_needs_the_csrf_token(app, api):
    tracking_id = case_in_progress(api)
    assert login(app, "auditor").post(f"/riwayat/{tracking_id}").status_code == 400


@pytest.mark.parametrize("username", ["kominfo", "pendidikan", "analis"])
def test_other_roles_get_403(app, api, username):
    tracking_id = case_in_progress(api)
    client = login(app, username)
    for path in (f"/riwayat/{tracking_id}", f"/riwayat/{tracking_id}/ekspor.json", f"/riwayat/{tracking_id}/ekspor.csv"):
        assert client.get(path).status_code == 403, path


def test_history_needs_a_signed_in_reader(app, api, client):
    tracking_id = api.submit()["tracking_id"]
    assert client.get(f"/riwayat/{tracking_id}").status_code == 302
    assert login(app, "auditor").get("/riwayat/LPR-00000000").status_code == 404


def test_case_page_links_to_the_history_for_auditor_and_pusat_only(app, api):
    tracking_id = case_in_progress(api)
    link = f'href="/riwayat/{tracking_id}"'
    assert link in login(app, "auditor").get(f"/kasus/{tracking_id}").get_data(as_text=True)
    assert link in login(app, "pusat").get(f"/kasus/{tracking_id}").get_data(as_text=True)
    assert link not in login(app, "kominfo").get(f"/kasus/{tracking_id}").get_data(as_text=True)


def test_history_page_in_english(app, api):
    tracking_id = case_in_progress(api)
    auditor = login(app, "auditor")
    html = choose(auditor, "en", f"/riwayat/{tracking_id}")
    assert "Step 3 of 3" in html and "verified" in html and "First" in html
    assert_no_indonesian(html)


# ---- export ------------------------------------------------------------------------------------------------


def test_export_json_holds_every_event_with_step_role_and_verdict(app, api):
    tracking_id = case_in_progress(api)
    response = login(app, "auditor").get(f"/riwayat/{tracking_id}/ekspor.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == f'attachment; filename="riwayat-{tracking_id}.json"'
    export = json.loads(response.get_data(as_text=True))
    assert export["tracking_id"] == tracking_id and export["verified"] is True and export["broken"] is None
    assert export["exported_by"] == "auditor" and export["definition"]["number"] == 1
    events = export["events"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["type"] == "case_started" and events[-1]["step"] == 3
    forwarded = next(e for e in events if e["type"] == "task_completed")
    assert (forwarded["actor"], forwarded["role"], forwarded["unit"], forwarded["data"]["data"]) == ("kominfo", "kominfo", None, FORWARD)
    accepted = [e for e in events if e["type"] == "task_completed"][1]
    assert (accepted["role"], accepted["unit"]) == ("satker", "dinas-pendidikan")


def test_export_csv_has_one_row_per_event(app, api):
    tracking_id = case_in_progress(api)
    auditor = login(app, "auditor")
    response = auditor.get(f"/riwayat/{tracking_id}/ekspor.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    events = json.loads(auditor.get(f"/riwayat/{tracking_id}/ekspor.json").get_data(as_text=True))["events"]
    assert len(rows) == len(events)
    assert list(rows[0]) == ["step", "seq", "at", "type", "actor", "role", "unit", "task", "data", "prev_hash", "hash"]
    assert [(r["seq"], r["type"], r["hash"]) for r in rows] == [(str(e["seq"]), e["type"], e["hash"]) for e in events]
    assert json.loads(rows[0]["data"])["data"]["title"] == COMPLAINT["title"]


def test_export_reports_a_broken_chain(app, api):
    tracking_id = case_in_progress(api)
    forge(app, tracking_id, 2, "{}")
    export = json.loads(login(app, "pusat").get(f"/riwayat/{tracking_id}/ekspor.json").get_data(as_text=True))
    assert export["verified"] is False and export["broken"]["seq"] == 2


# ---- the API ------------------------------------------------------------------------------------------------


@pytest.fixture
def doc(client):
    return client.get("/api/v1/openapi.json").json


def test_api_replay_gives_the_state_after_each_step(api, client, doc):
    tracking_id = case_in_progress(api)
    auditor = bearer(api.token("auditor"))
    url = f"/api/v1/cases/{tracking_id}/replay"

    first = check(doc, client.get(url + "?step=1", headers=auditor), "GET", "/cases/{tracking_id}/replay")
    assert (first["step"], first["steps"], first["status"]) == (1, 3, "diterima")
    assert [t["task"] for t in first["active_tasks"]] == ["Task_Disposisi"] and first["completed_tasks"] == []
    assert first["input"]["type"] == "case_started" and first["matches"] is True

    second = check(doc, client.get(url + "?step=2", headers=auditor), "GET", "/cases/{tracking_id}/replay")
    assert (second["status"], second["unit"]) == ("didisposisikan", "dinas-pendidikan")
    assert [t["task"] for t in second["active_tasks"]] == ["Task_Terima_Satker"]
    assert second["completed_tasks"][0]["data"] == FORWARD and second["data"]["disposisi"] == FORWARD
    assert {t["timer"] for t in second["timers_waiting"]} == {"Timer_Terima_Satker_Target"}

    last = check(doc, client.get(url, headers=auditor), "GET", "/cases/{tracking_id}/replay")
    assert (last["step"], last["status"]) == (3, "ditindaklanjuti") and len(last["completed_tasks"]) == 2


def test_api_replay_hides_an_anonymous_reporter(api, client, doc):
    tracking_id = case_in_progress(api, anonymous=True)
    body = check(doc, client.get(f"/api/v1/cases/{tracking_id}/replay", headers=bearer(api.token("pusat"))), "GET", "/cases/{tracking_id}/replay")
    assert body["data"]["pengaduan"]["reporter"] is None and REPORTER["email"] not in json.dumps(body)


def test_api_replay_reports_where_a_forged_record_differs(app, api, client, doc):
    tracking_id = case_in_progress(api)
    seq = seq_of(app, tracking_id, "status_changed", to="didisposisikan")
    forge(app, tracking_id, seq, '{"from":"diterima","to":"selesai"}')
    body = check(doc, client.get(f"/api/v1/cases/{tracking_id}/replay", headers=bearer(api.token("auditor"))), "GET", "/cases/{tracking_id}/replay")
    assert body["matches"] is False
    assert {k: body["difference"][k] for k in ("step", "seq", "path", "recorded", "replayed")} == {
        "step": 2,
        "seq": seq,
        "path": "data.to",
        "recorded": "selesai",
        "replayed": "didisposisikan",
    }


@pytest.mark.parametrize("step", ["0", "4", "x", "-1"])
def test_api_replay_rejects_a_step_outside_the_record(api, client, doc, step):
    tracking_id = case_in_progress(api)
    response = client.get(f"/api/v1/cases/{tracking_id}/replay?step={step}", headers=bearer(api.token("auditor")))
    assert response.status_code == 400 and "step" in response.json["errors"]
    check(doc, response, "GET", "/cases/{tracking_id}/replay")


def test_api_replay_is_for_auditor_and_pusat_only(api, client, doc):
    tracking_id = api.submit()["tracking_id"]
    url = f"/api/v1/cases/{tracking_id}/replay"
    assert client.get(url).status_code == 401
    for username in ("kominfo", "pendidikan", "analis"):
        response = client.get(url, headers=bearer(api.token(username)))
        assert response.status_code == 403, username
        check(doc, response, "GET", "/cases/{tracking_id}/replay")
    missing = client.get("/api/v1/cases/LPR-00000000/replay", headers=bearer(api.token("auditor")))
    assert missing.status_code == 404
    check(doc, missing, "GET", "/cases/{tracking_id}/replay")


# ---- the commands ---------------------------------------------------------------------------------------------


@pytest.fixture
def lapor(db_url, monkeypatch):
    """Run `lapor ...` against the test database."""
    from click.testing import CliRunner

    from web.cli import main

    monkeypatch.setenv("LAPOR_DATABASE_URL", db_url)
    monkeypatch.setenv("LAPOR_SECRET_KEY", "test")
    return lambda *args: CliRunner().invoke(main, list(args))


def test_lapor_replay_says_cocok_or_names_the_first_difference(app, api, lapor):
    tracking_id = case_in_progress(api)
    result = lapor("replay", tracking_id.lower())
    assert result.exit_code == 0, result.output
    assert f"{tracking_id}: cocok (3 langkah" in result.output

    seq = seq_of(app, tracking_id, "status_changed", to="didisposisikan")
    forge(app, tracking_id, seq, '{"from":"diterima","to":"selesai"}')
    result = lapor("replay", tracking_id)
    assert result.exit_code == 1
    assert f"{tracking_id}: BERBEDA pada langkah 2 dari 3, peristiwa seq {seq} (status_changed)" in result.output
    assert "data.to" in result.output and '"selesai"' in result.output and '"didisposisikan"' in result.output
    assert lapor("replay", "LPR-00000000").exit_code == 2


def test_lapor_verify_finds_a_removed_tail(app, api, lapor):
    kept, cut = case_in_progress(api), case_in_progress(api)
    assert lapor("verify").exit_code == 0
    with app.app_context():
        case_id = db.session.scalar(select(Case.id).where(Case.tracking_id == cut))
        last = db.session.scalar(select(AuditEvent.seq).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq.desc()).limit(1))
        with guards_lifted(db.session.connection()):
            db.session.execute(text("DELETE FROM audit_event WHERE case_id = :c AND seq >= :s"), {"c": case_id, "s": last - 1})
        db.session.commit()
    result = lapor("verify")
    assert result.exit_code == 1
    assert f"{cut}: RUSAK mulai peristiwa seq {last - 1}: Peristiwa terakhir hilang" in result.output
    assert kept not in result.output and "2 laporan diperiksa, 1 rantai rusak." in result.output
    assert lapor("verify", kept).exit_code == 0
