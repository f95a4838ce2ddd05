"""Which cases a report covers: those *submitted* in its period (local dates, inclusive), optionally of one unit
(the case's current unit, or any unit it was forwarded to: a case goes to one to five units at once), one category
and one definition version. Each case is selected once, however many units it went to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.db.tables import Case, CaseUnit
from engine.timekeeping.calendar import zone


@dataclass(frozen=True)
class Period:
    """Local calendar days ``start`` to ``end``, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("the period ends before it starts")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        first = date(year, month, 1)
        following = date(year + month // 12, month % 12 + 1, 1)
        return cls(first, following - timedelta(days=1))

    @classmethod
    def parse_month(cls, text: str) -> Period:
        """``2026-11`` -> November 2026. Raises ValueError."""
        found = re.fullmatch(r"(\d{4})-(\d{1,2})", text.strip())
        if not found or not 1 <= int(found.group(2)) <= 12:
            raise ValueError(f"not a month: {text!r}")
        return cls.month(int(found.group(1)), int(found.group(2)))

    @classmethod
    def up_to(cls, start: date | None, end: date | None, today: date) -> Period:
        """From ``start`` to ``end``, both given or not: the end by default ``today``, the start the first day of the
        end's month. Raises ValueError when the end comes before the start."""
        end = end or today
        return cls(start or end.replace(day=1), end)

    @classmethod
    def containing(cls, instant: datetime) -> Period:
        """The local month ``instant`` falls in."""
        local = instant.astimezone(zone())
        return cls.month(local.year, local.month)

    def bounds(self) -> tuple[datetime, datetime]:
        """[first instant, first instant after) in UTC."""
        tz = zone()
        return (
            datetime.combine(self.start, time(0), tz).astimezone(UTC),
            datetime.combine(self.end + timedelta(days=1), time(0), tz).astimezone(UTC),
        )

    @property
    def is_month(self) -> bool:
        return self.start.day == 1 and self == Period.month(self.start.year, self.start.month)


@dataclass(frozen=True)
class CaseFilter:
    period: Period | None = None
    unit_id: str | None = None
    category: str | None = None
    definition_id: int | None = None


def period_name(filters: CaseFilter) -> str:
    """``2026-11-01_2026-11-30`` (``semua`` without a period): how a download and an event log name what they cover."""
    period = filters.period
    return f"{period.start.isoformat()}_{period.end.isoformat()}" if period is not None else "semua"


def download_name(stem: str, filters: CaseFilter, suffix: str) -> str:
    """``lapor-2026-11-01_2026-11-30.csv``: a download named by its period (``suffix`` with its dot)."""
    return f"{stem}-{period_name(filters)}{suffix}"


def case_query(filters: CaseFilter):  # type: ignore[no-untyped-def]
    query = select(Case)
    if filters.period is not None:
        first, after = filters.period.bounds()
        query = query.where(Case.submitted_at >= first, Case.submitted_at < after)
    if filters.unit_id:
        forwarded = select(CaseUnit.case_id).where(CaseUnit.unit_id == filters.unit_id)
        query = query.where(or_(Case.unit_id == filters.unit_id, Case.id.in_(forwarded)))
    if filters.category:
        query = query.where(Case.category == filters.category)
    if filters.definition_id is not None:
        query = query.where(Case.definition_id == filters.definition_id)
    return query


def cases_in(session: Session, filters: CaseFilter) -> list[Case]:
    """The cases a report covers, oldest submission first."""
    return list(session.scalars(case_query(filters).order_by(Case.submitted_at, Case.id)))
