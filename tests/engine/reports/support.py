"""What the reports' tests share: the week of the SLA figures, and setting the service's clock.

No holiday that week: the SOP target of 1 working day ends Tuesday 23.59.59, the disposition's national
ceiling of 3 working days Thursday 23.59.59.
"""

from __future__ import annotations

from datetime import date

from engine.reports.filters import Period

WEEK = Period(date(2026, 11, 30), date(2026, 12, 6))


def at(service, instant) -> None:
    service.clock.set(instant)
