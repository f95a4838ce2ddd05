"""engine/reports/ratings.py: the citizens' ratings of the answers per unit (each unit whose answer was rated) and per
month of the reply, in the SLA report and the CSV export."""

from __future__ import annotations

from datetime import date

import pytest

from engine.reports import records
from engine.reports.facts import case_facts
from engine.reports.filters import CaseFilter, Period
from engine.reports.ratings import case_ratings, rating_report
from engine.reports.sla import sla_report
from tests.engine.reports.support import at
from tests.engine.support import (
    KOMINFO,
    TO_BALASAN,
    do,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    open_rows,
    submit,
    wib,
)
from tests.scenarios import COMPLAINT, PUBLISH, TWO_UNITS, Do

NOV_DEC = Period(date(2026, 11, 1), date(2026, 12, 31))


def reply(rating: int | None, satisfied: bool = True) -> Do:
    data: dict = {"satisfied": satisfied, "text": "Balasan pelapor."}
    if rating is not None:
        data["rating"] = rating
    return Do("Task_Balasan", data)


@pytest.fixture
def rated(service):
    """A: Dinas Pendidikan's answer rated 2 on 30 November (the case reopens), Dinas Kesehatan's rated 4 on 1 December.
    B: answered by Dinas Pendidikan and Kanwil BPN together, rated 5 on 1 December. C: satisfied, no rating.
    D: answered, never replied (still waiting)."""
    at(service, wib(2026, 11, 30, 9, 0))
    a = submit(service, COMPLAINT, TO_BALASAN)
    b = submit(service, {**COMPLAINT, "title": "Sekolah di tanah sengketa", "category": "pertanahan"}, [TWO_UNITS])
    c = submit(service, {**COMPLAINT, "title": "Bangku kelas rusak"}, [*TO_BALASAN, reply(None)])
    d = submit(service, {**COMPLAINT, "title": "Toilet sekolah rusak"}, TO_BALASAN)
    at(service, wib(2026, 11, 30, 15, 0))
    do(service, a, reply(2))
    assert a.case.status == "diterima"
    do(service, a, Do("Task_Disposisi", {"unit": "dinas-kesehatan"}))
    do(service, a, Do("Task_Terima_Satker", {"decision": "terima"}))
    do(service, a, Do("Task_Tanggapan_Satker", {"response": "Sudah kami perbaiki."}))
    do(service, a, PUBLISH)
    for step in (
        Do("Task_Terima_Satker", {"decision": "terima"}, "dinas-pendidikan"),
        Do("Task_Terima_Vertikal", {"decision": "terima"}, "kanwil-bpn-jatim"),
        Do("Task_Tanggapan_Satker", {"response": "Bagian kami sudah selesai."}, "dinas-pendidikan"),
        Do("Task_Tanggapan_Vertikal", {"response": "Status tanah sudah jelas."}, "kanwil-bpn-jatim"),
        PUBLISH,
    ):
        do(service, b, step)
    at(service, wib(2026, 12, 1, 10, 0))
    do(service, a, reply(4))
    do(service, b, reply(5))
    assert a.case.status == b.case.status == "selesai"
    return a, b, c, d


def test_each_rated_reply_counts_for_the_units_whose_answer_it_rated(service, session, rated):
    a, b, c, d = rated
    facts = {item.case.tracking_id: item for item in case_facts(session, [x.case for x in rated], service.clock.now())}
    first, second = case_ratings(facts[a.case.tracking_id])
    assert (first.rating, first.units, first.month) == (2, ("dinas-pendidikan",), "2026-11")
    assert (second.rating, second.units, second.month) == (4, ("dinas-kesehatan",), "2026-12")
    [both] = case_ratings(facts[b.case.tracking_id])
    assert (both.rating, sorted(both.units)) == (5, ["dinas-pendidikan", "kanwil-bpn-jatim"])
    assert case_ratings(facts[c.case.tracking_id]) == [] and case_ratings(facts[d.case.tracking_id]) == []


def test_distribution_per_unit_and_per_month_with_averages(service, session, rated):
    report = rating_report(case_facts(session, [x.case for x in rated], service.clock.now()))
    by_unit = {row.key: row for row in report.by_unit}
    assert list(by_unit) == ["dinas-kesehatan", "dinas-pendidikan", "kanwil-bpn-jatim"]
    assert by_unit["dinas-pendidikan"].counts == {1: 0, 2: 1, 3: 0, 4: 0, 5: 1}
    assert by_unit["dinas-pendidikan"].average == 3.5 and by_unit["dinas-pendidikan"].low == 1
    assert (by_unit["dinas-kesehatan"].total, by_unit["dinas-kesehatan"].average) == (1, 4.0)
    assert by_unit["kanwil-bpn-jatim"].counts[5] == 1
    assert [(row.key, row.total, row.average) for row in report.by_month] == [("2026-11", 1, 2.0), ("2026-12", 2, 4.5)]
    assert report.total.counts == {1: 0, 2: 1, 3: 0, 4: 1, 5: 1}
    assert report.total.total == 3 and report.total.average == pytest.approx(11 / 3)


def test_the_sla_report_carries_the_ratings_and_follows_its_filters(service, session, rated):
    report = sla_report(session, CaseFilter(NOV_DEC), now=service.clock.now())
    assert report.ratings is not None and report.ratings.total.total == 3
    land = sla_report(session, CaseFilter(NOV_DEC, category="pertanahan"), now=service.clock.now())
    assert land.ratings is not None and land.ratings.total.counts == {1: 0, 2: 0, 3: 0, 4: 0, 5: 1}
    assert [row.key for row in land.ratings.by_unit] == ["dinas-pendidikan", "kanwil-bpn-jatim"]
    nothing = sla_report(session, CaseFilter(Period(date(2026, 10, 1), date(2026, 10, 31))), now=service.clock.now())
    assert nothing.ratings is not None and nothing.ratings.total.total == 0
    assert nothing.ratings.total.average is None and nothing.ratings.by_unit == nothing.ratings.by_month == []


def test_an_interrupted_wait_or_an_open_reply_is_no_rating(service, session, rated):
    d = rated[3]
    assert [row.spec_name for row in open_rows(session, d.case.id)] == ["Task_Balasan"]
    [item] = case_facts(session, [d.case], service.clock.now())
    assert case_ratings(item) == []


def test_the_export_has_each_cases_latest_rating(service, session, rated):
    rows = {row["tracking_id"]: row for row in records.export_rows(session, CaseFilter(NOV_DEC), KOMINFO, service.clock.now())}
    a, b, c, d = rated
    assert "rating" in records.export_columns()
    assert [rows[x.case.tracking_id]["rating"] for x in (a, b, c, d)] == ["4", "5", "", ""]
