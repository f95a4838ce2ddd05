"""Working days of the East Java provincial government.

A deadline of N working days ends at 23:59:59 (Asia/Jakarta) of the Nth working day after the
day the task started. Saturdays, Sundays, national holidays and cuti bersama (the ``holidays``
package's Indonesian public and government categories) are not working days, nor are the extra
days listed in the administrator's file (config/hari_libur.json, or LAPOR_HOLIDAYS_FILE).
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays

DEFAULT_HOLIDAYS_FILE = str(resources.files("config").joinpath("hari_libur.json"))


def zone() -> ZoneInfo:
    return ZoneInfo(os.environ.get("LAPOR_TIMEZONE", "Asia/Jakarta"))


@lru_cache(maxsize=4)
def _extra_days(path: str) -> dict[date, str]:
    """Read the administrator's list: {"libur": [{"tanggal": "YYYY-MM-DD", "nama": "..."}]}."""
    file = Path(path)
    if not file.exists():
        return {}
    entries = json.loads(file.read_text(encoding="utf-8")).get("libur", [])
    return {date.fromisoformat(e["tanggal"]): e["nama"] for e in entries}


class WorkingCalendar:
    def __init__(self, extra_days: dict[date, str] | None = None) -> None:
        self._extra = extra_days if extra_days is not None else _extra_days(os.environ.get("LAPOR_HOLIDAYS_FILE", DEFAULT_HOLIDAYS_FILE))
        self._national = holidays.Indonesia(categories=("public", "government"))

    def holiday_name(self, day: date) -> str | None:
        """Return why ``day`` is a holiday, or None for an ordinary day (weekends included)."""
        return self._extra.get(day) or self._national.get(day)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and self.holiday_name(day) is None

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Return the end (23:59:59 local) of the ``days``-th working day after ``start``'s day."""
        if days < 1:
            raise ValueError("a deadline needs at least one working day")
        tz = zone()
        day = start.astimezone(tz).date()
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return datetime.combine(day, time(23, 59, 59), tz)


@lru_cache(maxsize=4)
def _shared(path: str) -> WorkingCalendar:
    return WorkingCalendar(_extra_days(path))


def default_calendar() -> WorkingCalendar:
    """The calendar of the configured holidays file, built once per process: the ``holidays`` package
    computes a year's holidays on first use, which costs more than the step that asks."""
    return _shared(os.environ.get("LAPOR_HOLIDAYS_FILE", DEFAULT_HOLIDAYS_FILE))
