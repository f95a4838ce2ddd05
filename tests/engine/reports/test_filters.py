"""engine/reports/filters.py: a report's cases are those submitted in its period, by local date."""

from __future__ import annotations

from datetime import date

import pytest

from engine.reports.filters import CaseFilter, Period, cases_in
from tests.engine.reports.support import at
from tests.engine.support import (
    fast_password_hashing,  # noqa: F401 - autouse fixture
    submit,
    wib,
)
from tests.scenarios import COMPLAINT

NOVEMBER_30 = Period(date(2026, 11, 30), date(2026, 11, 30))


def test_period_filters_on_the_local_submission_day(service, session):
    at(service, wib(2026, 11, 30, 23, 30))  # 16.30 UTC: still 30 November in Surabaya
    late_evening = submit(service, COMPLAINT)
    at(service, wib(2026, 12, 1, 0, 30))
    next_day = submit(service, COMPLAINT)
    assert [c.id for c in cases_in(session, CaseFilter(NOVEMBER_30))] == [late_evening.case.id]
    assert [c.id for c in cases_in(session, CaseFilter(Period.month(2026, 12)))] == [next_day.case.id]
    assert Period.parse_month("2026-11") == Period(date(2026, 11, 1), date(2026, 11, 30))
    assert Period.month(2026, 12).end == date(2026, 12, 31)
    with pytest.raises(ValueError):
        Period.parse_month("2026-13")
    with pytest.raises(ValueError):
        Period(date(2026, 12, 2), date(2026, 12, 1))
