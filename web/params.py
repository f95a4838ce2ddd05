"""Numbers, dates and months from a page's or the JSON API's query string or form, bounded to what the calendar, the
reports and the database can hold: a year outside FIRST_YEAR..LAST_YEAR or an integer past the database's range would
otherwise overflow deep inside a query (a 500) instead of being answered as the visitor's mistake (a 400)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flask import abort
from flask_babel import gettext as _

from engine.reports.filters import Period
from web.security import MAX_ID

FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_PAGE = 100_000  # 2 million cases at 20 a page


def whole_number(text: str, low: int = 1, high: int = MAX_ID) -> int:
    """``text`` as an integer in ``low``..``high`` (ASCII digits only). Raises ValueError."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise ValueError(f"not a whole number in {low}..{high}: {text[:40]!r}")
    return int(text)


def day(text: str) -> date:
    """``YYYY-MM-DD`` in the years FIRST_YEAR..LAST_YEAR. Raises ValueError."""
    return _in_range(date.fromisoformat(text.strip()))


def month(text: str) -> Period:
    """``YYYY-MM`` in the years FIRST_YEAR..LAST_YEAR, as the period of its days. Raises ValueError."""
    period = Period.parse_month(text)
    _in_range(period.start)
    return period


def page(args: Mapping[str, str]) -> int:
    """The ``page`` argument: 1 when absent. Aborts with 400 and a message unless it is a whole number 1..MAX_PAGE."""
    try:
        return whole_number(args.get("page") or "1", 1, MAX_PAGE)
    except ValueError:
        abort(400, _("Nomor halaman tidak valid: gunakan bilangan bulat 1 sampai %(max)s.", max=MAX_PAGE))


def _in_range(value: date) -> date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"{value.isoformat()} is outside the years {FIRST_YEAR}..{LAST_YEAR}")
    return value
