"""Every export as an Excel workbook (.xlsx): one writer for the case export, each chart's numbers and a case's history.

Cells are typed, so a spreadsheet sorts and sums them without reading text: instants are real Excel dates in the
office's local time (Excel has no time zones: the cell is naive and its header names the zone, ``WIB``), numbers are
numbers, durations are numbers of hours or days (the column's header says which). The header row is bold and frozen,
with an autofilter and column widths to fit. Text that a spreadsheet would run as a formula (a citizen's title may start
with ``=``) stays text: the same rule as the CSV (engine/reports/records.py), kept as a string cell with Excel's own
quote prefix rather than a visible apostrophe.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from engine.timekeeping.calendar import zone

TEXT, INTEGER, NUMBER, PERCENT, DATE, DATETIME = "text", "integer", "number", "percent", "date", "datetime"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may read as the start of a formula
_FORMATS = {INTEGER: "0", NUMBER: "0.##", PERCENT: "0.0", DATE: "yyyy-mm-dd", DATETIME: "yyyy-mm-dd hh:mm:ss"}
_WIDEST = 60  # characters: a long title or hash must not push every other column off screen


@dataclass(frozen=True)
class Column:
    """One column of a table: its header as the reader sees it and the kind of its values (None: an empty cell)."""

    label: str
    kind: str = TEXT


def named(name: str, kind: str = TEXT) -> Column:
    """A column headed ``name``; a date-and-time column's header also names the zone its cells are in: ``at (WIB)``."""
    return Column(f"{name} ({zone_name()})" if kind == DATETIME else name, kind)


def zone_name() -> str:
    """The office's time zone as headers name it: ``WIB`` for Asia/Jakarta."""
    return datetime.now(zone()).tzname() or str(zone())


def local_naive(instant: datetime) -> datetime:
    """An instant as the office's wall clock reads it, without a zone (an aware one is converted first)."""
    return instant.astimezone(zone()).replace(tzinfo=None) if instant.tzinfo else instant


def to_xlsx(columns: Sequence[Column], rows: Iterable[Sequence[Any]], title: str = "Data") -> bytes:
    """The table as the bytes of a one-sheet workbook; ``title`` names the sheet (at most 31 characters)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has its one sheet
    sheet.title = "".join(c for c in title if c not in "[]:*?/\\")[:31] or "Data"
    sheet.append([column.label for column in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = [len(column.label) for column in columns]
    for number, values in enumerate(rows, start=2):
        for index, (column, value) in enumerate(zip(columns, values, strict=True)):
            cell = sheet.cell(row=number, column=index + 1)
            _put(cell, column.kind, value)
            widths[index] = max(widths[index], len(str(cell.value if cell.value is not None else "")))
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(width, _WIDEST) + 2
    sheet.freeze_panes = "A2"
    if columns:
        sheet.auto_filter.ref = sheet.dimensions
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _put(cell: Any, kind: str, value: Any) -> None:  # an openpyxl Cell
    if value is None or value == "":
        return
    if isinstance(value, datetime):
        cell.value = local_naive(value)
    elif isinstance(value, date | int | float) and not isinstance(value, bool):
        cell.value = value
    else:
        text = str(value)
        cell.value = text
        cell.data_type = "s"  # openpyxl would store a text starting with "=" as a formula
        if text.startswith(FORMULA_START):
            cell.quotePrefix = True  # Excel's own mark: shown and edited as text
        return
    if kind in _FORMATS:
        cell.number_format = _FORMATS[kind]
