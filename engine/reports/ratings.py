"""The citizens' ratings of the answers (form ``balasan``, ``rating`` 1–5): how many of each, and the average, per
unit and per month. Figures only, so no reporter appears here. Read from the case facts (engine/reports/facts.py).

* Each reply with a rating counts once; a case reopened and rated again counts each reply.
* **Month**: the local month the citizen replied in (a case submitted in the report's period may be rated later).
* **Unit**: the units whose answer was rated: every unit that completed a ``tanggapan`` (answer) since the
  citizen's previous reply, so a case sent to several units counts the rating once for each of them (each unit
  sees how its answers were judged); the rows do not add up to the total then. A reply with no such pass (a
  model without a unit step) falls back to the case's current unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from engine.reports.facts import CaseFacts
from engine.timekeeping.calendar import zone

RATINGS = (1, 2, 3, 4, 5)
LOW_RATING = 2  # a rating at or below this sends the case back to Admin Kominfo (processes/sp4n_lapor.bpmn, Gateway_Puas)


@dataclass(frozen=True)
class Rated:
    """One rated reply of a citizen."""

    tracking_id: str
    at: datetime
    rating: int
    units: tuple[str, ...]  # the units whose answer it rated (may be empty: no unit known)

    @property
    def month(self) -> str:
        """``YYYY-MM``, local time."""
        return self.at.astimezone(zone()).strftime("%Y-%m")


@dataclass
class RatingRow:
    """How many replies gave each rating, for one unit, one month or all."""

    key: str  # unit id, ``YYYY-MM`` or "" for the total
    counts: dict[int, int] = field(default_factory=lambda: dict.fromkeys(RATINGS, 0))

    def add(self, rating: int) -> None:
        self.counts[rating] += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def average(self) -> float | None:
        """The mean rating, None with no rating."""
        return sum(r * n for r, n in self.counts.items()) / self.total if self.total else None

    @property
    def low(self) -> int:
        """Replies rated ``LOW_RATING`` or less (each reopened the case)."""
        return sum(n for r, n in self.counts.items() if r <= LOW_RATING)


@dataclass
class RatingReport:
    by_unit: list[RatingRow]  # by unit id
    by_month: list[RatingRow]  # oldest month first
    total: RatingRow


def _rating(value: object) -> int | None:
    # the schema admits 1..5 only; bool is an int in Python, never a rating
    return value if isinstance(value, int) and not isinstance(value, bool) and value in RATINGS else None


def case_ratings(item: CaseFacts) -> list[Rated]:
    """The rated replies of one case, oldest first, each with the units whose answers it rated."""
    rated: list[Rated] = []
    answered: list[str] = []  # units that answered since the previous reply, in order
    for p in item.passes:  # the finished passes in the order they ended (facts.py lists them so), then the open ones
        if p.end is None:
            continue
        if p.stage == "tanggapan" and p.ended_by == "completed" and p.unit:
            answered.append(p.unit)
        elif p.stage == "balasan":
            rating = _rating(p.data.get("rating")) if p.ended_by == "completed" else None
            if rating is not None:
                units = tuple(dict.fromkeys(answered)) or ((item.case.unit_id,) if item.case.unit_id else ())
                rated.append(Rated(item.case.tracking_id, p.end, rating, units))
            answered = []
    return rated


def rating_report(facts: Iterable[CaseFacts]) -> RatingReport:
    """The rating distribution of the cases' replies: per unit, per month of the reply, and in all."""
    units: dict[str, RatingRow] = {}
    months: dict[str, RatingRow] = {}
    total = RatingRow("")
    for item in facts:
        for reply in case_ratings(item):
            total.add(reply.rating)
            months.setdefault(reply.month, RatingRow(reply.month)).add(reply.rating)
            for unit in reply.units:
                units.setdefault(unit, RatingRow(unit)).add(reply.rating)
    return RatingReport(by_unit=[units[k] for k in sorted(units)], by_month=[months[k] for k in sorted(months)], total=total)


def last_rating(item: CaseFacts) -> int | None:
    """The case's latest rating (for the export), None when the citizen gave none."""
    rated: Sequence[Rated] = case_ratings(item)
    return rated[-1].rating if rated else None
