"""The charts on /rekap with their numbers as CSV and .xlsx, the charts in the monthly register's PDF, and every export
also as a workbook (web/pages/reports.py, web/pages/history.py)."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import pytest
from lxml import html as lxml_html
from openpyxl import load_workbook

from tests.web.pages import login
from tests.web.test_reports import pdf  # noqa: F401  (the fixture: WeasyPrint present, or skip)

SLUGS = ("per-minggu-saluran", "per-minggu-status", "ketepatan-waktu", "per-unit", "per-kategori")
TITLES = ("Laporan masuk per minggu menurut saluran", "Ketepatan waktu per minggu", "Kinerja per unit", "Laporan per kategori")
NOVEMBER = "dari=2026-11-01&sampai=2026-11-30"


@pytest.fixture
def cases(api, clock):
    """Monday 30 November 2026: a complaint answered by Dinas Pendidikan and rated 4, and one whose title starts with "="
    that Dinas Kesehatan has not accepted yet."""
    answered = api.submit(title="Atap kelas SMA bocor")["tracking_id"]
    hostile = api.submit(title='=HYPERLINK("http://evil.example","klik")', category="kesehatan")
    clock.advance(hours=1)
    api.step("kominfo", answered, {"unit": "dinas-pendidikan"})
    api.step("kominfo", hostile["tracking_id"], {"unit": "dinas-kesehatan"})
    api.step("pendidikan", answered, {"decision": "terima"})
    clock.advance(hours=2)
    api.step("pendidikan", answered, {"response": "Perbaikan atap dijadwalkan minggu depan."})
    api.step("kominfo", answered, {"decision": "teruskan", "answer": "Perbaikan atap dijadwalkan minggu depan."})
    return answered, hostile["tracking_id"]


def _workbook(response):
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return load_workbook(io.BytesIO(response.data)).active


def test_rekap_shows_each_chart_with_its_caption_and_downloads(app, cases):
    html = login(app, "analis").get(f"/rekap?{NOVEMBER}").get_data(as_text=True)
    page = lxml_html.fromstring(html)
    figures = page.xpath('//figure[contains(concat(" ", @class, " "), " chart ")]')
    assert [f.get("id") for f in figures] == [f"grafik-{slug}" for slug in SLUGS]
    ids = page.xpath("//svg//@id")
    assert len(ids) == len(set(ids))  # a chart's phone and wide drawings too: no id twice in the page
    for figure, slug in zip(figures, SLUGS, strict=True):
        svgs = figure.xpath(".//svg")
        # small multiples come twice: panels in a column (a phone) and side by side (a wide screen), style.css shows one
        assert [svg.get("id") for svg in svgs] == [f"chart-{slug}"] + ([f"chart-{slug}-wide"] if slug in ("per-unit", "per-kategori") else [])
        for svg in svgs:
            assert svg.get("role") == "img" and svg.get("viewbox") and svg.get("width") is None
        assert figure.xpath("string(.//figcaption)").strip()
        links = [a.get("href") for a in figure.xpath(".//p[@class='chart-links']/a")]
        assert links == [f"/rekap/grafik/{slug}.{kind}?dari=2026-11-01&sampai=2026-11-30" for kind in ("csv", "xlsx")]
    for title in TITLES:
        assert title in html
    section = html.split('id="grafik"')[1].split("<h2")[0]
    assert "<script" not in section and not re.search(r"\son\w+=", section)


def test_chart_numbers_download_as_csv_and_as_a_typed_workbook(app, cases):
    client = login(app, "pusat")
    response = client.get(f"/rekap/grafik/per-minggu-saluran.csv?{NOVEMBER}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="grafik-per-minggu-saluran-2026-11-01_2026-11-30.csv"'
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["Minggu mulai (Senin)", "aplikasi", "Jumlah"]  # the API's complaints come through the app channel
    assert [row[0] for row in rows[1:]] == ["2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30"]
    assert rows[1] == ["2026-10-26", "0", "0"] and rows[-1] == ["2026-11-30", "2", "2"]
    sheet = _workbook(client.get(f"/rekap/grafik/per-unit.xlsx?{NOVEMBER}"))
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["ID unit", "Unit", "Jumlah laporan"] and sheet.freeze_panes == "A2"
    units = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert units["dinas-pendidikan"][1] == "Dinas Pendidikan Provinsi Jawa Timur"
    assert units["dinas-pendidikan"][2:4] == (1, 2)  # one case, answered two hours after it arrived (a number cell)
    weeks = _workbook(client.get(f"/rekap/grafik/ketepatan-waktu.xlsx?{NOVEMBER}"))
    assert isinstance(weeks["A2"].value, datetime) and isinstance(weeks["B3"].value, int)
    assert client.get(f"/rekap/grafik/tidak-ada.csv?{NOVEMBER}").status_code == 404
    assert client.get(f"/rekap/grafik/per-unit.pdf?{NOVEMBER}").status_code == 404


def test_export_workbook_has_the_csvs_rows_typed_and_formula_safe(app, cases):
    answered, hostile = cases
    client = login(app, "auditor")
    text = client.get(f"/rekap/ekspor.csv?{NOVEMBER}").data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    response = client.get(f"/rekap/ekspor.xlsx?{NOVEMBER}")
    assert response.headers["Content-Disposition"] == 'attachment; filename="lapor-2026-11-01_2026-11-30.xlsx"'
    sheet = _workbook(response)
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["tracking_id", "submitted_at (WIB)", "category"] and len(header) == len(rows[0])
    values = [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert [v["tracking_id"] for v in values] == [r["tracking_id"] for r in rows] == [answered, hostile]
    assert values[0]["submitted_at (WIB)"] == datetime(2026, 11, 30, 9, 0)  # the CSV's 2026-11-30T09:00:00+07:00
    assert rows[0]["submitted_at"] == "2026-11-30T09:00:00+07:00"
    assert values[0]["recorded_ms"] == float(rows[0]["recorded_ms"]) and not isinstance(values[0]["recorded_ms"], str)  # a number cell
    assert values[0]["reporter_name"] == rows[0]["reporter_name"]
    title = sheet.cell(row=3, column=header.index("title") + 1)
    assert title.value == '=HYPERLINK("http://evil.example","klik")' and title.data_type == "s" and title.quotePrefix
    assert rows[1]["title"].startswith("'=")  # the CSV neutralises it its own way


def test_case_history_exports_as_a_workbook_too(app, cases):
    answered, _hostile = cases
    client = login(app, "auditor")
    html = client.get(f"/riwayat/{answered}").get_data(as_text=True)
    assert f'href="/riwayat/{answered}/ekspor.xlsx"' in html
    text = client.get(f"/riwayat/{answered}/ekspor.csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    sheet = _workbook(client.get(f"/riwayat/{answered}/ekspor.xlsx"))
    assert [cell.value for cell in sheet[1]] == [*rows[0][:2], "at (WIB)", *rows[0][3:]]
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(values) == len(rows) - 1 and values[0][0] == 1 and isinstance(values[0][1], int)
    assert values[0][2] == datetime(2026, 11, 30, 9, 0) and values[0][3] == rows[1][3] == "case_started"
    assert login(app, "kominfo").get(f"/riwayat/{answered}/ekspor.xlsx").status_code == 403


@pytest.mark.parametrize("username, status", [("analis", 200), ("kominfo", 403), ("pendidikan", 403), ("bpn", 403)])
def test_chart_numbers_are_for_the_roles_that_read_rekap(app, username, status):
    client = login(app, username)
    assert client.get(f"/rekap/grafik/per-unit.csv?{NOVEMBER}").status_code == status
    assert client.get(f"/rekap/grafik/per-unit.xlsx?{NOVEMBER}").status_code == status


def test_export_workbook_is_for_the_roles_that_read_case_contents(app):
    assert login(app, "analis").get(f"/rekap/ekspor.xlsx?{NOVEMBER}").status_code == 403
    assert login(app, "pendidikan").get(f"/rekap/ekspor.xlsx?{NOVEMBER}").status_code == 403


def test_register_pdf_carries_the_charts(app, cases, pdf):  # noqa: F811
    from pypdf import PdfReader

    client = login(app, "pusat")
    html = client.get("/rekap/buku-agenda?bulan=2026-11").get_data(as_text=True)
    assert 'class="register-charts"' in html and "/rekap/grafik/per-unit.xlsx?dari=2026-11-01" in html
    response = client.get("/rekap/buku-agenda.pdf?bulan=2026-11")
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages))
    for title in TITLES:
        assert title in text
