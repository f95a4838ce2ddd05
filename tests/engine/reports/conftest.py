"""Fixtures of the reports' tests: three cases submitted on Monday 30 November 2026, 09.00 WIB, taken on at
different speeds through the week of tests/engine/reports/support.py."""

from __future__ import annotations

import pytest

from tests.engine.reports.support import at
from tests.engine.support import TO_SELESAI, do, fire_due, submit, wib
from tests.scenarios import COMPLAINT, FORWARD_SATKER, Do


@pytest.fixture
def three_cases(service):
    """A: every step within the hour. B: forwarded on Wednesday (target missed, ceiling kept). C: forwarded on Friday (both missed).

    Timers fire on Wednesday and Friday at 10.00, as a worker would, before the step is done.
    """
    at(service, wib(2026, 11, 30, 9, 0))
    a = submit(service, COMPLAINT)
    b = submit(service, {**COMPLAINT, "title": "Puskesmas tutup lebih awal", "category": "kesehatan"})
    hidden = {"name": "Rahasia Sekali", "email": "rahasia@example.id"}
    c = submit(service, {**COMPLAINT, "title": "Jalan provinsi berlubang", "anonymous": True, "reporter": hidden})
    for hour, step in zip((10, 11, 12, 13, 14), TO_SELESAI, strict=True):
        at(service, wib(2026, 11, 30, hour, 0))
        do(service, a, step)
    at(service, wib(2026, 12, 2, 10, 0))
    fire_due(service)  # B and C: SOP target of the disposition passed on Tuesday night
    do(service, b, Do("Task_Disposisi", {"unit": "dinas-kesehatan"}))
    at(service, wib(2026, 12, 4, 10, 0))
    fire_due(service)  # C: national ceiling passed on Thursday night; B: the unit's acceptance target too
    do(service, c, FORWARD_SATKER)
    return a, b, c
