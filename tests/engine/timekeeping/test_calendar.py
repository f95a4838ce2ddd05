"""engine/timekeeping/calendar.py: deadlines in working days of the East Java provincial government (Asia/Jakarta)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.timekeeping.calendar import WorkingCalendar
from tests.engine.support import WIB, wib

END_OF_DAY = time(23, 59, 59)


@pytest.fixture(autouse=True)
def _jakarta(monkeypatch):
    monkeypatch.delenv("LAPOR_TIMEZONE", raising=False)
    monkeypatch.delenv("LAPOR_HOLIDAYS_FILE", raising=False)


@pytest.fixture
def calendar() -> WorkingCalendar:
    return WorkingCalendar(extra_days={})


def test_the_package_lists_cuti_bersama_around_idul_fitri_2026():
    listed = holidays.Indonesia(years=2026, categories=("public", "government"))
    assert all(date(2026, 3, day) in listed for day in range(18, 25))


def test_one_day_from_friday_ends_monday_night(calendar):
    assert calendar.add_working_days(wib(2026, 11, 27, 10, 0), 1) == wib(2026, 11, 30, 23, 59, 59)


def test_one_day_from_monday_ends_tuesday_night(calendar):
    assert calendar.add_working_days(wib(2026, 11, 30, 9, 0), 1) == wib(2026, 12, 1, 23, 59, 59)


def test_day_before_a_national_holiday_skips_it(calendar):
    # Thursday 30 April 2026; Friday 1 May is Labour Day.
    assert calendar.holiday_name(date(2026, 5, 1))
    assert calendar.add_working_days(wib(2026, 4, 30, 14, 0), 1) == wib(2026, 5, 4, 23, 59, 59)


def test_day_before_idul_adha_skips_the_holiday_and_its_cuti_bersama(calendar):
    # Tuesday 26 May 2026; Wednesday 27 is Idul Adha, Thursday 28 cuti bersama.
    assert calendar.add_working_days(wib(2026, 5, 26, 14, 0), 1) == wib(2026, 5, 29, 23, 59, 59)


def test_cuti_bersama_at_idul_fitri_is_not_counted(calendar):
    # Tuesday 17 March 2026: 18-24 March are Nyepi, Idul Fitri and their cuti bersama.
    assert calendar.add_working_days(wib(2026, 3, 17, 9, 0), 1) == wib(2026, 3, 25, 23, 59, 59)
    assert calendar.add_working_days(wib(2026, 3, 17, 9, 0), 3) == wib(2026, 3, 27, 23, 59, 59)
    assert not any(calendar.is_working_day(date(2026, 3, day)) for day in range(18, 25))
    assert calendar.holiday_name(date(2026, 3, 23))  # a Monday off only because of cuti bersama


def test_start_at_23_59_on_a_working_day_still_counts_from_the_next_day(calendar):
    assert calendar.add_working_days(wib(2026, 11, 30, 23, 59), 1) == wib(2026, 12, 1, 23, 59, 59)
    assert calendar.add_working_days(wib(2026, 11, 30, 23, 59, 59), 1) == wib(2026, 12, 1, 23, 59, 59)


def test_the_start_day_is_taken_in_jakarta_not_utc(calendar):
    late_monday_utc = datetime(2026, 11, 30, 17, 30, tzinfo=UTC)  # Tuesday 00:30 in Jakarta
    assert calendar.add_working_days(late_monday_utc, 1) == wib(2026, 12, 2, 23, 59, 59)


def test_extra_day_from_the_mapping_is_not_a_working_day():
    calendar = WorkingCalendar(extra_days={date(2026, 12, 1): "Hari Jadi Provinsi (contoh)"})
    assert calendar.holiday_name(date(2026, 12, 1)) == "Hari Jadi Provinsi (contoh)"
    assert calendar.add_working_days(wib(2026, 11, 30, 9, 0), 1) == wib(2026, 12, 2, 23, 59, 59)


def test_administrators_file_adds_extra_days(tmp_path, monkeypatch):
    file = tmp_path / "hari_libur.json"
    file.write_text(json.dumps({"libur": [{"tanggal": "2026-12-01", "nama": "Cuti bersama daerah"}]}), encoding="utf-8")
    monkeypatch.setenv("LAPOR_HOLIDAYS_FILE", str(file))
    calendar = WorkingCalendar()
    assert calendar.holiday_name(date(2026, 12, 1)) == "Cuti bersama daerah"
    assert calendar.add_working_days(wib(2026, 11, 30, 9, 0), 1) == wib(2026, 12, 2, 23, 59, 59)


def test_weekend_is_not_a_working_day_but_has_no_holiday_name(calendar):
    saturday = date(2026, 11, 28)
    assert not calendar.is_working_day(saturday)
    assert calendar.holiday_name(saturday) is None
    assert calendar.is_working_day(date(2026, 11, 30))


@pytest.mark.parametrize("days", [0, -1])
def test_fewer_than_one_day_raises_value_error(calendar, days):
    with pytest.raises(ValueError):
        calendar.add_working_days(wib(2026, 11, 30, 9, 0), days)


PROPERTY_CALENDAR = WorkingCalendar(extra_days={})


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)),
    days=st.integers(min_value=1, max_value=20),
)
def test_deadline_is_the_end_of_the_nth_working_day_after_the_start(start, days):
    end = PROPERTY_CALENDAR.add_working_days(start, days)
    local = end.astimezone(WIB)
    assert local.utcoffset() == timedelta(hours=7)
    assert local.time() == END_OF_DAY
    assert PROPERTY_CALENDAR.is_working_day(local.date())
    assert end > start
    first = start.astimezone(WIB).date() + timedelta(days=1)
    between = [first + timedelta(days=n) for n in range((local.date() - first).days + 1)]
    assert sum(PROPERTY_CALENDAR.is_working_day(d) for d in between) == days
