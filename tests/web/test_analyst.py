"""web/pages/analyst.py (/proses): check and deploy a new process version, the versions with diff and heatmap, moving cases."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.cases import migration
from engine.db.tables import AuditEvent, Case, Definition
from engine.definitions import findings
from engine.definitions.bundle import project_bundle
from engine.definitions.findings import Finding
from engine.definitions.safe_xml import MAX_FILE_BYTES
from engine.definitions.watcher import ProcessWatcher, WatchOutcome
from tests.engine.definitions.support import copy_decisions
from tests.web.pages import csrf, login, open_task, submit
from tests.web.test_i18n import _catalogue, assert_no_indonesian, choose
from web import labels
from web.extensions import db

FIXTURES = Path(__file__).parents[1] / "fixtures" / "bpmn"
SOURCE = project_bundle().files["sp4n_lapor.bpmn"]
BROKEN = (FIXTURES / "sp4n_lapor_rusak.bpmn").read_bytes()
RENAMED = SOURCE.replace('name="Verifikasi laporan"', 'name="Verifikasi dan teruskan laporan"').encode()


def upload(client, content: bytes, name: str = "sp4n_lapor.bpmn", action: str = "pasang", note: str = "perubahan uji", **files):
    data = {"csrf_token": csrf(client, "/proses"), "bpmn": (io.BytesIO(content), name), "note": note, "action": action}
    for field, (file_name, file_content) in files.items():
        data[field] = (io.BytesIO(file_content), file_name)
    return client.post("/proses/unggah", data=data, content_type="multipart/form-data")


def definition_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Definition))


def findings_table(html: str) -> list[list[str]]:
    body = html[html.index('<table class="list findings">') :]
    body = body[: body.index("</table>")]
    rows = re.findall(r"<tr><td>(.*?)</td></tr>", body, re.S)
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in row.split("</td><td>")] for row in rows]


# ---- check and deploy -------------------------------------------------------------------------------


def test_broken_upload_is_refused_with_every_finding_and_nothing_is_deployed(app):
    analis = login(app, "analis")
    response = upload(analis, BROKEN, name="sp4n_lapor_rusak.bpmn")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "6 masalah ditemukan. Berkas ditolak; tidak ada yang dipasang" in html
    rows = findings_table(html)
    elements = ["Task_Terima_Satker", "Gateway_Teruskan", "Task_Balasan", "Timer_Balasan", "Flow_Notif", "Flow_BukanWewenang_Satker"]
    assert [row[2] for row in rows] == elements  # in file order: deadline, gateway, XSD, timer, diagram, form field
    text = BROKEN.decode()
    for file, line, element, _message in rows:
        assert file == "sp4n_lapor.bpmn"  # checked under the running version's file name, as the page says
        lines = text.splitlines()[: int(line)]
        assert f'id="{element}"' in "\n".join(lines[-5:]), (line, element)  # on the element, or inside it
    assert "(diperiksa sebagai sp4n_lapor.bpmn, nama berkas versi yang berjalan)" in html
    assert 'data-element-id="Task_Balasan"' in html and "is-overdue" in html  # the preview marks the elements with findings
    assert definition_count(app) == 1


def test_good_upload_deploys_a_new_version_once(app):
    analis = login(app, "analis")
    response = upload(analis, RENAMED, note="nama tugas disposisi diperjelas")
    assert response.status_code == 302 and response.headers["Location"].endswith("/proses/versi/2")
    html = analis.get("/proses/versi/2").get_data(as_text=True)
    assert "Versi 2" in html and "nama tugas disposisi diperjelas" in html and "analis" in html
    assert "Perubahan dibanding versi 1" in html and "Task_Disposisi" in html
    assert "Verifikasi laporan" in html and "Verifikasi dan teruskan laporan" in html
    again = upload(analis, RENAMED, note="lagi")
    assert again.status_code == 302 and again.headers["Location"].endswith("/proses/versi/2")
    assert "tidak ada versi baru" in analis.get("/proses/versi/2").get_data(as_text=True)
    assert definition_count(app) == 2
    citizen, tracking_id, _link = submit(app)
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.tracking_id == tracking_id))
        assert db.session.get(Definition, case.definition_id).number == 2  # new cases start on the new version


def test_check_only_lists_the_changes_and_deploys_nothing(app):
    analis = login(app, "analis")
    response = upload(analis, RENAMED, action="periksa", note="")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Tidak ada masalah. Berkas ini belum dipasang" in html and "Perubahan dibanding versi 1 yang berjalan" in html
    assert "Task_Disposisi" in html
    assert definition_count(app) == 1


def test_a_change_note_is_required_to_deploy(app):
    analis = login(app, "analis")
    response = upload(analis, RENAMED, note="  ")
    assert response.status_code == 400 and "Tuliskan catatan perubahan" in response.get_data(as_text=True)
    assert definition_count(app) == 1


def test_uploaded_form_and_dmn_are_checked_with_the_bpmn(app):
    analis = login(app, "analis")
    form = project_bundle().files["forms/terima.schema.json"].replace('"type": "string"', '"type": "teks"', 1)
    dmn = project_bundle().files["kategori.dmn"].replace('hitPolicy="UNIQUE"', 'hitPolicy="SEMUA"')
    response = upload(analis, SOURCE.encode(), forms=("terima.schema.json", form.encode()), dmn=("kategori.dmn", dmn.encode()))
    assert response.status_code == 400
    files = {row[0] for row in findings_table(response.get_data(as_text=True))}
    assert files == {"forms/terima.schema.json", "kategori.dmn"}
    assert definition_count(app) == 1


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        ((FIXTURES / "billion_laughs.bpmn").read_bytes(), "bom.bpmn", "Berkas memuat deklarasi DOCTYPE atau ENTITY"),
        ((FIXTURES / "external_entity.bpmn").read_bytes(), "xxe.bpmn", "Berkas memuat deklarasi DOCTYPE atau ENTITY"),
        (b"<x>" + b" " * MAX_FILE_BYTES + b"</x>", "besar.bpmn", "Berkas terlalu besar"),
        (b"<bpmn:definitions", "potong.bpmn", "XML tidak well-formed"),
        (SOURCE.encode("utf-16"), "utf16.bpmn", "Berkas bukan teks UTF-8."),
        (b"MZ\x90\x00", "program.exe", "Jenis berkas program.exe tidak dikenal"),
    ],
)
def test_hostile_or_malformed_uploads_are_refused_and_nothing_is_deployed(app, content, name, expected):
    analis = login(app, "analis")
    response = upload(analis, content, name=name)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and expected in html
    assert "root:" not in html and "lollol" not in html
    assert definition_count(app) == 1


@pytest.mark.parametrize(
    ("field", "content", "expected"),
    [
        ("forms", b"[" * 100_000 + b"]" * 100_000, "JSON bersarang terlalu dalam: lebih dari 64 tingkat."),  # past the parser's recursion
        ("forms", b'{"a":' * 500 + b"1" + b"}" * 500, "JSON bersarang terlalu dalam: lebih dari 64 tingkat."),  # parses, then recurses in the checks
        ("dmn", b"<a>" * 100_000 + b"</a>" * 100_000, "Excessive depth in document: 256"),  # lxml stops at 256 levels by itself
        ("bpmn", b"<a>" * 100_000 + b"</a>" * 100_000, "Excessive depth in document: 256"),
    ],
)
def test_deeply_nested_uploads_are_refused_with_a_message(app, field, content, expected):
    analis = login(app, "analis")
    name = {"forms": "terima.schema.json", "dmn": "kategori.dmn", "bpmn": "sp4n_lapor.bpmn"}[field]
    response = upload(analis, content, name=name) if field == "bpmn" else upload(analis, SOURCE.encode(), **{field: (name, content)})
    assert response.status_code == 400 and expected in response.get_data(as_text=True)
    assert definition_count(app) == 1


# ---- who may do what ----------------------------------------------------------------------------------


def test_only_analysts_deploy_and_migrate(app):
    kominfo = login(app, "kominfo")
    assert kominfo.get("/proses").status_code == 403
    assert kominfo.get("/proses/versi/1").status_code == 403
    token = csrf(kominfo, "/tugas")
    assert kominfo.post("/proses/unggah", data={"csrf_token": token}).status_code == 403
    assert kominfo.post("/proses/migrasi", data={"csrf_token": token, "from": "1", "to": "1"}).status_code == 403
    for viewer in ("auditor", "pusat"):
        client = login(app, viewer)
        html = client.get("/proses").get_data(as_text=True)
        assert "Versi 1" in html and 'action="/proses/unggah"' not in html  # view only: no upload form
        assert client.get("/proses/versi/1").status_code == 200
        token = csrf(client, "/proses")
        assert client.post("/proses/unggah", data={"csrf_token": token}).status_code == 403
        assert client.post("/proses/migrasi", data={"csrf_token": token, "from": "1", "to": "1"}).status_code == 403
        assert client.post("/proses/migrasi/LPR-00000000/batalkan", data={"csrf_token": token}).status_code == 403
    assert app.test_client().get("/proses").status_code == 302  # to the sign-in page
    assert 'action="/proses/unggah"' in login(app, "analis").get("/proses").get_data(as_text=True)


def test_nav_link_for_analysts_auditors_and_admin_pusat_only(app):
    assert 'href="/proses"' in login(app, "analis").get("/tugas").get_data(as_text=True)
    assert 'href="/proses"' in login(app, "auditor").get("/tugas").get_data(as_text=True)
    assert 'href="/proses"' not in login(app, "kominfo").get("/tugas").get_data(as_text=True)


# ---- the versions ------------------------------------------------------------------------------------


def test_versions_page_counts_running_and_finished_cases_and_version_page_shows_the_heatmap(app, clock):
    submit(app)
    _citizen, tracking_id, _link = submit(app)
    clock.advance(hours=2)
    kominfo = login(app, "kominfo")
    path = f"/tugas/{open_task(app, tracking_id).id}"
    assert kominfo.post(path, data={"unit": "dinas-pendidikan", "csrf_token": csrf(kominfo, path)}).status_code == 302
    auditor = login(app, "auditor")
    html = auditor.get("/proses").get_data(as_text=True)
    row = re.search(r"Versi 1</a>.*?</tr>", html, re.S).group(0)
    assert re.findall(r"<td>(\d+)</td>", row) == ["2", "0"]
    html = auditor.get("/proses/versi/1").get_data(as_text=True)
    heated = re.search(r'<g[^>]*data-element-id="Task_Disposisi"[^>]*>', html).group(0)
    assert "has-heat" in heated
    assert re.search(r'data-badge-for="Task_Disposisi".*?>1 · 2j<', html, re.S)
    assert "Versi pertama" in html


def heat_badges(svg: str) -> dict[str, str]:
    """Each heated element's badge (``count · median``) in a drawn diagram."""
    return dict(re.findall(r'<g class="badge badge-heat" data-badge-for="([^"]+)">.*?<text[^>]*>([^<]*)</text>', svg, re.S))


def test_version_page_and_sla_diagram_show_the_same_heat_for_each_version(app, api, clock):
    looped = api.submit(title="Atap kelas SMA bocor")["tracking_id"]
    moved = api.submit(title="Pagar sekolah roboh")["tracking_id"]
    steps = [
        ("kominfo", {"unit": "dinas-pendidikan"}),
        ("pendidikan", {"decision": "terima"}),
        ("pendidikan", {"response": "Perbaikan atap dijadwalkan minggu depan."}),
        ("kominfo", {"decision": "kembalikan", "note": "Mohon sebutkan tanggal perbaikan."}),
        ("pendidikan", {"response": "Perbaikan atap dimulai 7 Desember 2026."}),
        ("kominfo", {"decision": "teruskan", "answer": "Perbaikan atap dimulai 7 Desember 2026 oleh Dinas Pendidikan."}),
    ]
    for hours, (username, data) in zip((1, 1, 1, 1, 2, 1), steps, strict=True):
        clock.advance(hours=hours)
        api.step(username, looped, data)
    clock.advance(hours=1)
    api.step("kominfo", moved, {"unit": "dinas-pendidikan"})
    analis = login(app, "analis")
    assert upload(analis, RENAMED, note="v2").status_code == 302
    with app.app_context():
        case_id = db.session.scalar(select(Case.id).where(Case.tracking_id == moved))
    form = {"csrf_token": csrf(analis, "/proses/versi/1"), "from": "1", "to": "2", "case": str(case_id), "action": "jalankan"}
    assert analis.post("/proses/migrasi", data=form).status_code == 200
    clock.advance(hours=3)
    api.step("pendidikan", moved, {"decision": "terima"})  # on version 2

    pages = {}
    for number in (1, 2):
        page = heat_badges(analis.get(f"/proses/versi/{number}").get_data(as_text=True))
        report = heat_badges(analis.get(f"/rekap/sla/diagram?bulan=2026-11&versi={number}").get_data(as_text=True))
        assert page == report
        pages[number] = page
    assert pages[1]["Task_Tanggapan_Satker"] == "2 · 1j 30m" and pages[1]["Task_Disposisi"] == "2 · 4j 30m"  # the loop; 1 h and 8 h
    assert pages[1]["Task_Terima_Satker"] == "1 · 1j" and pages[2] == {"Task_Terima_Satker": "1 · 3j"}  # completed after the move


def test_version_bpmn_can_be_downloaded(app):
    response = login(app, "auditor").get("/proses/versi/1/bpmn")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert response.get_data(as_text=True) == SOURCE
    assert login(app, "auditor").get("/proses/versi/9").status_code == 404


def test_the_dev_servers_last_refusal_is_shown_on_the_versions_page(app, clock):
    watcher = ProcessWatcher(Path("processes/sp4n_lapor.bpmn"))
    finding = Finding("sp4n_lapor.bpmn", 306, "Timer_Balasan", findings.MSG_TIMER_FORM % {"expression": "P10D"}, "timer")
    watcher.last_failure = WatchOutcome(clock.now(), None, False, (finding,))
    app.config["LAPOR_PROCESS_WATCHER"] = watcher
    html = login(app, "analis").get("/proses").get_data(as_text=True)
    assert "Perubahan di processes/ belum dipasang" in html and "Timer_Balasan" in html and "P10D" in html


# ---- moving cases ------------------------------------------------------------------------------------


def test_dry_run_then_migrate_then_revert_through_the_pages(app):
    _citizen, tracking_id, _link = submit(app)
    analis = login(app, "analis")
    assert upload(analis, RENAMED, note="v2").status_code == 302
    with app.app_context():
        case_id = db.session.scalar(select(Case.id).where(Case.tracking_id == tracking_id))
    page = analis.get("/proses/versi/1").get_data(as_text=True)
    assert f'name="case" value="{case_id}"' in page and "Verifikasi laporan" in page

    token = csrf(analis, "/proses/versi/1")
    dry = analis.post("/proses/migrasi", data={"csrf_token": token, "from": "1", "to": "2", "case": str(case_id), "action": "uji"})
    html = dry.get_data(as_text=True)
    assert dry.status_code == 200 and "Ini hanya uji" in html and "dapat dipindahkan" in html
    assert "Pindahkan 1 laporan ke versi 2" in html
    with app.app_context():
        assert db.session.get(Case, case_id).definition_id == 1

    done = analis.post("/proses/migrasi", data={"csrf_token": token, "from": "1", "to": "2", "case": str(case_id), "action": "jalankan"})
    assert done.status_code == 200 and "1 laporan dipindahkan ke versi 2; 0 tidak." in done.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Case, case_id).definition_id == 2
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.type == migration.MIGRATED))
        assert event.actor == "analis" and json.loads(event.data)["to"] == 2

    page = analis.get("/proses/versi/2").get_data(as_text=True)
    assert "Batalkan pemindahan" in page and tracking_id in page
    reverted = analis.post(f"/proses/migrasi/{tracking_id}/batalkan", data={"csrf_token": csrf(analis, "/proses/versi/2")})
    assert reverted.status_code == 302 and reverted.headers["Location"].endswith("/proses/versi/1")
    with app.app_context():
        assert db.session.get(Case, case_id).definition_id == 1
    assert "dibatalkan" in analis.get("/proses/versi/1").get_data(as_text=True)


def test_migrating_all_eligible_cases_reports_those_that_cannot_move(app):
    _c1, waiting, _l1 = submit(app)
    _c2, forwarded, _l2 = submit(app)
    kominfo = login(app, "kominfo")
    path = f"/tugas/{open_task(app, forwarded).id}"
    kominfo.post(path, data={"unit": "dinas-pendidikan", "csrf_token": csrf(kominfo, path)})
    analis = login(app, "analis")
    renamed_terima = SOURCE.replace("Task_Terima_Satker", "Task_Terima_Satuan").encode()
    assert upload(analis, renamed_terima, note="id tugas terima diganti").status_code == 302
    token = csrf(analis, "/proses/versi/1")
    html = analis.post("/proses/migrasi", data={"csrf_token": token, "from": "1", "to": "2", "scope": "all", "action": "uji"}).get_data(as_text=True)
    assert "Tugas yang sedang terbuka &#39;Terima laporan&#39; tidak ada di versi 2." in html
    assert "Pindahkan 1 laporan ke versi 2" in html


def test_only_open_cases_of_the_from_version_are_listed_or_moved_whatever_ids_are_posted(app, api):
    """Analysts see no case: a picked id of a closed case, or of a case on another version, must reveal nothing."""
    waiting = api.submit()["tracking_id"]
    withdrawn = api.submit()
    bearer_token = {"Authorization": f"Bearer {withdrawn['access_token']}"}
    assert api.client.post(f"/api/v1/complaints/{withdrawn['tracking_id']}/withdraw", json={}, headers=bearer_token).status_code == 200
    analis = login(app, "analis")
    assert upload(analis, RENAMED, note="v2").status_code == 302
    newer = api.submit()["tracking_id"]  # starts on version 2
    with app.app_context():
        ids = {t: db.session.scalar(select(Case.id).where(Case.tracking_id == t)) for t in (waiting, withdrawn["tracking_id"], newer)}
        events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    token = csrf(analis, "/proses/versi/1")
    every = [str(i) for i in ids.values()]

    trial = analis.post("/proses/migrasi", data={"csrf_token": token, "from": "1", "to": "2", "case": every, "action": "uji"})
    html = trial.get_data(as_text=True)
    assert trial.status_code == 200 and waiting in html and "Pindahkan 1 laporan ke versi 2" in html
    assert withdrawn["tracking_id"] not in html and newer not in html and "dicabut" not in html

    for source, target, picked in (("2", "1", [str(ids[waiting]), str(ids[withdrawn["tracking_id"]])]), ("1", "2", every[1:])):
        for action in ("uji", "jalankan"):  # nothing of version ``source`` is open among them: nothing listed, nothing moved
            response = analis.post("/proses/migrasi", data={"csrf_token": token, "from": source, "to": target, "case": picked, "action": action})
            assert response.status_code == 302 and response.headers["Location"].endswith(f"/proses/versi/{source}")
            assert "Pilih laporan yang akan dipindahkan." in analis.get(f"/proses/versi/{source}").get_data(as_text=True)
    with app.app_context():
        assert [db.session.scalar(select(Case.definition_id).where(Case.id == i)) for i in ids.values()] == [1, 1, 2]
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events


@pytest.mark.parametrize(
    "form",
    [
        {"from": "1", "to": "2", "case": "99999999999999999999"},
        {"from": "99999999999999999999", "to": "2", "case": "1"},
        {"from": "1", "to": "-1", "case": "1"},
        {"from": "1", "to": "2", "case": "x"},
        {"from": "", "to": "2", "case": "1"},
    ],
)
def test_a_migration_form_with_numbers_that_are_no_ids_is_a_bad_request(app, form):
    analis = login(app, "analis")
    assert upload(analis, RENAMED, note="v2").status_code == 302
    response = analis.post("/proses/migrasi", data={"csrf_token": csrf(analis, "/proses/versi/1"), "action": "uji", **form})
    assert response.status_code == 400


# ---- the English pages -------------------------------------------------------------------------------


def test_every_finding_and_migration_message_has_english():
    catalogue = _catalogue()
    for template in (*findings.MESSAGES, *migration.MESSAGES):
        sample = re.sub(r"%\((\w+)\)s", "X", template)
        found = labels.match(sample)
        assert found is not None and found[0] == template, template
        message = catalogue.get(template)
        assert message is not None and message.string, template


def test_analyst_pages_in_english(app):
    analis = login(app, "analis")
    html = choose(analis, "en", "/proses")
    assert "Process versions" in html
    assert_no_indonesian(html)
    html = upload(analis, BROKEN, name="sp4n_lapor_rusak.bpmn").get_data(as_text=True)
    assert "6 problems found" in html
    assert "No outgoing flow for teruskan[&#34;decision&#34;] = &#39;kembalikan&#39;" in html
    assert_no_indonesian(html)
    html = analis.get("/proses/versi/1").get_data(as_text=True)
    assert_no_indonesian(html)


def test_undoing_a_move_that_does_not_exist_is_not_found(app):
    _citizen, tracking_id, _link = submit(app)
    analis = login(app, "analis")
    token = csrf(analis, "/proses")
    assert analis.post(f"/proses/migrasi/{tracking_id}/batalkan", data={"csrf_token": token}).status_code == 404
    assert analis.post("/proses/migrasi/LPR-00000000/batalkan", data={"csrf_token": token}).status_code == 404


def test_the_dev_servers_watch_deploys_an_edited_file_and_prints_a_refusal(app, clock, tmp_path, capsys):

    from web import cli

    (tmp_path / "processes").mkdir()
    bpmn = tmp_path / "processes" / "sp4n_lapor.bpmn"
    bpmn.write_bytes(RENAMED)
    copy_decisions(tmp_path / "processes")
    watcher = ProcessWatcher(bpmn)
    with app.app_context():
        engine = db.engine
        cli._watch_once(watcher, engine, clock)
        assert "versi 2 dipasang" in capsys.readouterr().out
        bpmn.write_bytes(BROKEN)
        cli._watch_once(watcher, engine, clock)
        refused = capsys.readouterr().err
        assert "TIDAK dipasang (6 masalah)" in refused and "Timer_Balasan" in refused
    assert definition_count(app) == 2
    app.config["LAPOR_PROCESS_WATCHER"] = watcher
    assert "Perubahan di processes/ belum dipasang" in login(app, "analis").get("/proses").get_data(as_text=True)
