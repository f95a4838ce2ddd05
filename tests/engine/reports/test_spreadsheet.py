"""engine/reports/spreadsheet.py: typed cells, a bold frozen filtered header, and text that never runs as a formula."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime

from openpyxl import load_workbook

from engine.reports.spreadsheet import DATE, DATETIME, INTEGER, NUMBER, PERCENT, Column, named, to_xlsx, zone_name

COLUMNS = [
    Column("title"),
    Column("at (WIB)", DATETIME),
    Column("day", DATE),
    Column("count", INTEGER),
    Column("hours", NUMBER),
    Column("share (%)", PERCENT),
]


def _sheet(body: bytes):
    return load_workbook(io.BytesIO(body)).active


def test_cells_are_typed_and_instants_are_local_wall_clock_time():
    row = ["Atap bocor", datetime(2026, 11, 30, 2, 0, tzinfo=UTC), date(2026, 11, 30), 3, 1.5, 62.5]
    sheet = _sheet(to_xlsx(COLUMNS, [row, [None] * 6], title="uji"))
    assert sheet.title == "uji"
    title, at, day, count, hours, share = (cell.value for cell in sheet[2])
    assert title == "Atap bocor" and at == datetime(2026, 11, 30, 9, 0)  # 09.00 WIB, naive in the cell
    assert isinstance(day, datetime) and day.date() == date(2026, 11, 30)
    assert count == 3 and isinstance(count, int) and hours == 1.5 and share == 62.5
    assert sheet["B2"].number_format == "yyyy-mm-dd hh:mm:ss" and sheet["B2"].is_date
    assert all(cell.value is None for cell in sheet[3])
    assert zone_name() == "WIB" and named("at", DATETIME).label == "at (WIB)" and named("count", INTEGER).label == "count"


def test_header_is_bold_frozen_filtered_and_columns_fit():
    sheet = _sheet(to_xlsx(COLUMNS, [["x" * 200, None, None, 1, 2.0, 3.0]]))
    assert [cell.value for cell in sheet[1]] == [c.label for c in COLUMNS]
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:F2"
    assert sheet.column_dimensions["A"].width == 62 and sheet.column_dimensions["D"].width == len("count") + 2


def test_text_that_looks_like_a_formula_stays_text():
    hostile = ['=HYPERLINK("http://evil.example","klik")', "+1+1", "-2", "@SUM(A1)", "=1+1"]
    body = to_xlsx([Column("title")], [[text] for text in hostile])
    sheet = _sheet(body)
    for number, text in enumerate(hostile, start=2):
        cell = sheet.cell(row=number, column=1)
        assert cell.value == text and cell.data_type == "s" and cell.quotePrefix
    assert b"<f>" not in _xml(body)  # no formula element anywhere in the sheet


def _xml(body: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return archive.read("xl/worksheets/sheet1.xml")
