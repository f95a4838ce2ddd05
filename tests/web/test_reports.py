"""web/pages/reports.py: /rekap (SLA report, heatmap, CSV export, monthly register) and the printable case sheet."""

from __future__ import annotations

import csv
import io
import os
import re

import pytest
from sqlalchemy.orm import Session

from engine.worker import run_once
from tests.web.pages import login
from tests.web.test_i18n import assert_no_indonesian, choose
from web.extensions import db


@pytest.fixture
def pdf():
    """WeasyPrint with the system's Pango (test.sh installs it when missing); skips without it, fails under CI=true."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as error:
        message = f"WeasyPrint cannot load ({error}); install Pango: apt-get install libpango-1.0-0 libpangoft2-1.0-0"
        if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


ANONYMOUS = {"anonymous": True, "reporter": {"name": "Rahasia Sekali", "email": "rahasia@example.id", "phone": "089999999999"}}


@pytest.fixture
def cases(api, clock):
    """Three complaints on Monday 30 November 2026: one named (forwarded to Dinas Pendidikan), one anonymous, one to Dinas Kesehatan."""
    named = api.submit(title="Atap kelas SMA bocor")["tracking_id"]
    clock.advance(minutes=5)
    anonymous = api.submit(title="Pungutan liar di sekolah", **ANONYMOUS)["tracking_id"]
    clock.advance(minutes=5)
    health = api.submit(title="Puskesmas tutup lebih awal", category="kesehatan")["tracking_id"]
    clock.advance(hours=1)
    api.step("kominfo", named, {"unit": "dinas-pendidikan"})
    api.step("kominfo", anonymous, {"unit": "dinas-pendidikan"})
    api.step("kominfo", health, {"unit": "dinas-kesehatan"})
    return named, anonymous, health


@pytest.mark.parametrize("username, status", [("pusat", 200), ("auditor", 200), ("analis", 200), ("kominfo", 403), ("pendidikan", 403), ("bpn", 403)])
def test_reports_are_for_admin_pusat_auditors_and_analysts(app, username, status):
    client = login(app, username)
    assert client.get("/rekap").status_code == status
    assert client.get("/rekap/sla/diagram").status_code == status


@pytest.mark.parametrize("username, status", [("pusat", 200), ("auditor", 200), ("analis", 403), ("kominfo", 403), ("kesehatan", 403)])
def test_case_contents_export_and_register_are_for_admin_pusat_and_auditors(app, username, status):
    client = login(app, username)
    assert client.get("/rekap/ekspor.csv?dari=2026-11-01&sampai=2026-11-30").status_code == status
    assert client.get("/rekap/buku-agenda?bulan=2026-11").status_code == status


def test_signed_out_visitor_is_sent_to_sign_in(client):
    assert client.get("/rekap").status_code == 302
    assert client.get("/rekap/ekspor.csv").status_code == 302


def test_navigation_links_to_reports_for_oversight_roles_only(app):
    assert 'href="/rekap"' in login(app, "pusat").get("/tugas").get_data(as_text=True)
    assert 'href="/rekap"' not in login(app, "kominfo").get("/tugas").get_data(as_text=True)


def test_sla_page_shows_stages_system_steps_and_the_heatmap(app, cases, clock):
    clock.advance(days=3)  # Thursday: the units' acceptance target (Tuesday night) has passed
    html = login(app, "pusat").get("/rekap?bulan=2026-11").get_data(as_text=True)
    assert "Rekap dan SLA" in html and "Rekam pengaduan dan kirim notifikasi" in html
    row = re.search(r"<td class=\"stage\">3\. Penerusan laporan ke unit kerja</td>(.*?)</tr>", html, re.S).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    assert cells[:3] == ["3", "0", "1 hari kerja"] and cells[3].startswith("3 ") and cells[4] == "0"
    assert 'class="bpmn-diagram' in html and "has-heat" in html
    assert re.search(r'data-element-id="Task_Disposisi".*?3×', html, re.S)


def test_late_cases_name_their_units_by_name(app, api, cases, clock):
    for tracking_id, unit in zip(cases, ("pendidikan", "pendidikan", "kesehatan"), strict=True):
        api.step(unit, tracking_id, {"decision": "terima"})
    clock.advance(days=10)  # every unit's answer is past its national ceiling
    with app.app_context():
        engine = db.engine
        run_once(lambda: Session(engine), clock, app.config["LAPOR_BASE_URL"], None)  # the worker pass fires the deadlines
    html = login(app, "pusat").get("/rekap?bulan=2026-11").get_data(as_text=True)
    late = html.split("<h2>Laporan terlambat</h2>")[1].split("</table>")[0]
    assert late.count("Dinas Pendidikan Provinsi Jawa Timur") == 2 and "Dinas Kesehatan Provinsi Jawa Timur" in late
    assert "dinas-pendidikan" not in late  # names, not ids


def test_sla_page_filters_by_unit_and_category(app, cases):
    client = login(app, "auditor")
    html = client.get("/rekap?bulan=2026-11&unit=dinas-kesehatan").get_data(as_text=True)
    assert re.search(r'<span class="figure">1</span> laporan', html)
    html = client.get("/rekap?dari=2026-11-01&sampai=2026-11-30&kategori=pendidikan").get_data(as_text=True)
    assert re.search(r'<span class="figure">2</span> laporan', html)
    assert client.get("/rekap?bulan=2026-13").status_code == 400
    assert client.get("/rekap?dari=2026-11-30&sampai=2026-11-01").status_code == 400


def test_sla_page_in_english(app, cases):
    client = login(app, "pusat")
    html = choose(client, "en", "/rekap?bulan=2026-11")
    assert "Reports and SLA" in html and "Forwarding the report to a work unit" in html
    assert_no_indonesian(html)


def test_heatmap_is_an_svg_of_the_process_with_counts(app, cases):
    response = login(app, "analis").get("/rekap/sla/diagram?bulan=2026-11")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert svg.lstrip().startswith("<svg") and "has-heat" in svg and "badge-heat" in svg
    assert login(app, "analis").get("/rekap/sla/diagram?versi=99").status_code == 404


def test_csv_export_parses_and_never_names_an_anonymous_reporter(app, cases):
    response = login(app, "pusat").get("/rekap/ekspor.csv?dari=2026-11-01&sampai=2026-11-30")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="lapor-2026-11-01_2026-11-30.csv"'
    text = response.data.decode("utf-8-sig")
    assert "Rahasia Sekali" not in text and "rahasia@example.id" not in text and "089999999999" not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    named, anonymous, health = cases
    assert [r["tracking_id"] for r in rows] == [named, anonymous, health]
    assert rows[0]["reporter_name"] == "Siti Aminah" and rows[1]["reporter_name"] == "(dirahasiakan)"
    assert rows[0]["disposisi_target"] == "met" and rows[0]["terima_target"] == "open" and rows[2]["unit"] == "dinas-kesehatan"


def test_csv_export_follows_the_date_range(app, cases):
    client = login(app, "auditor")
    text = client.get("/rekap/ekspor.csv?dari=2026-12-01&sampai=2026-12-31").data.decode("utf-8-sig")
    assert list(csv.DictReader(io.StringIO(text))) == []
    assert client.get("/rekap/ekspor.csv?dari=kemarin").status_code == 400


def test_register_lists_the_months_cases_in_order(app, api, cases, clock):
    clock.advance(days=1)  # December: not in November's register
    december = api.submit(title="Laporan bulan Desember")["tracking_id"]
    html = login(app, "pusat").get("/rekap/buku-agenda?bulan=2026-11").get_data(as_text=True)
    listed = re.findall(r'<td class="mono">(LPR-[0-9A-Z]{8})</td>', html)
    assert listed == list(cases) and december not in html
    assert "BUKU AGENDA PENGADUAN" in html and "Kepala Dinas Komunikasi dan Informatika Provinsi Jawa Timur" in html
    assert "Rahasia Sekali" not in html and "<em>anonim</em>" in html and "Siti Aminah" in html
    assert 'href="/rekap/buku-agenda.pdf?bulan=2026-11"' in html and "<script" not in html


def test_register_pdf(app, cases, pdf):
    response = login(app, "auditor").get("/rekap/buku-agenda.pdf?bulan=2026-11")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF") and b"Rahasia Sekali" not in response.data


def test_case_sheet_follows_the_case_page_visibility(app, cases):
    named, anonymous, health = cases
    pendidikan = login(app, "pendidikan")
    assert pendidikan.get(f"/kasus/{named}/lembar").status_code == 200
    assert pendidikan.get(f"/kasus/{health}/lembar").status_code == 404
    assert pendidikan.get(f"/kasus/{health}/lembar.pdf").status_code == 404
    assert login(app, "kesehatan").get(f"/kasus/{health}/lembar").status_code == 200
    assert login(app, "kominfo").get(f"/kasus/{anonymous}/lembar").status_code == 200
    analyst_sheet = login(app, "analis").get(f"/kasus/{named}/lembar")  # analysts read cases, never a reporter
    assert analyst_sheet.status_code == 200 and "Siti Aminah" not in analyst_sheet.get_data(as_text=True)
    assert login(app, "pusat").get("/kasus/LPR-00000000/lembar").status_code == 404


def test_case_sheet_holds_complaint_steps_deadlines_and_signatures(app, cases):
    named, anonymous, _health = cases
    client = login(app, "pusat")
    html = client.get(f"/kasus/{named}/lembar").get_data(as_text=True)
    assert "LEMBAR PENGADUAN SP4N-LAPOR!" in html and "Dinas Komunikasi dan Informatika Provinsi Jawa Timur" in html
    assert "Atap kelas SMA bocor" in html and "Siti Aminah" in html and "Dinas Pendidikan Provinsi Jawa Timur" in html
    assert "Verifikasi laporan" in html and "01-12-2026 23.59 WIB" in html and "03-12-2026 23.59 WIB" in html
    assert "terpenuhi" in html and "Petugas" in html and "Admin Kominfo" in html and "Mengetahui" in html
    assert "<script" not in html
    html = client.get(f"/kasus/{anonymous}/lembar").get_data(as_text=True)
    assert "Rahasia Sekali" not in html and "rahasia@example.id" not in html and "identitas pelapor dirahasiakan" in html


def test_case_sheet_pdf(app, cases, pdf):
    named, anonymous, _health = cases
    client = login(app, "pendidikan")
    response = client.get(f"/kasus/{anonymous}/lembar.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF") and f'filename="lembar-{anonymous}.pdf"' in response.headers["Content-Disposition"]


def test_printable_records_in_english(app, cases):
    named, _anonymous, _health = cases
    client = login(app, "pusat")
    choose(client, "en", "/rekap")  # the printable pages have no language button: the choice is the site's
    html = client.get(f"/kasus/{named}/lembar").get_data(as_text=True)
    assert "SP4N-LAPOR! COMPLAINT SHEET" in html and "Acknowledged by" in html and "Verify the complaint" in html
    assert_no_indonesian(html)
    html = client.get("/rekap/buku-agenda?bulan=2026-11").get_data(as_text=True)
    assert "SP4N-LAPOR! COMPLAINT REGISTER" in html and "November 2026" in html
    assert_no_indonesian(html)
