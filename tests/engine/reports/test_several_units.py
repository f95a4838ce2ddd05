"""engine/reports/facts.py and sla.py with a case forwarded to two units (issue 19): each unit's acceptance and answer
is its own step, timed from its own start against its own deadline and counted under its unit.

Monday 30 November 2026, 09.00 WIB (no holiday that week): both units get the case. Dinas Pendidikan accepts within
the hour, Kanwil BPN only on Wednesday; Dinas Pendidikan answers on Wednesday (its answer's 1-working-day target
ended Tuesday night), Kanwil BPN an hour after it accepted. The worker runs on Wednesday at 09.00, before either.
"""

from __future__ import annotations

from collections import Counter

import pytest

from engine.reports.facts import MET, MISSED, case_facts
from engine.reports.filters import CaseFilter, cases_in
from engine.reports.heatmap import heat
from engine.reports.sla import sla_report
from tests.engine.reports.support import WEEK, at
from tests.engine.support import (
    do,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    fire_due,
    submit,
    wib,
)
from tests.scenarios import COMPLAINT, THREE_UNITS, TWO_UNITS, Do

PENDIDIKAN, BPN, KESEHATAN = "dinas-pendidikan", "kanwil-bpn-jatim", "dinas-kesehatan"


@pytest.fixture
def two_units(service):
    at(service, wib(2026, 11, 30, 9, 0))
    submitted = submit(service, COMPLAINT, [TWO_UNITS])
    at(service, wib(2026, 11, 30, 10, 0))
    do(service, submitted, Do("Task_Terima_Satker", {"decision": "terima"}, PENDIDIKAN))
    at(service, wib(2026, 12, 2, 9, 0))
    fire_due(service)  # Kanwil BPN's acceptance target and Dinas Pendidikan's answer target, both Tuesday night
    at(service, wib(2026, 12, 2, 10, 0))
    do(service, submitted, Do("Task_Terima_Vertikal", {"decision": "terima"}, BPN))
    at(service, wib(2026, 12, 2, 11, 0))
    do(service, submitted, Do("Task_Tanggapan_Satker", {"response": "Atap kelas diperbaiki mulai 7 Desember 2026."}, PENDIDIKAN))
    at(service, wib(2026, 12, 2, 12, 0))
    do(service, submitted, Do("Task_Tanggapan_Vertikal", {"response": "Sertifikat tanah sekolah terbit 8 Desember 2026."}, BPN))
    return submitted


def _by_unit(facts, stage):
    return {p.unit: p for p in facts.stage_passes(stage)}


def test_each_units_steps_start_when_that_unit_got_them_and_keep_their_own_target(service, session, two_units):
    [facts] = case_facts(session, [two_units.case], now=service.clock.now())
    accepted, answered = _by_unit(facts, "terima"), _by_unit(facts, "tanggapan")
    assert accepted[PENDIDIKAN].start == accepted[BPN].start == wib(2026, 11, 30, 9, 0)  # both got the case on Monday
    assert answered[PENDIDIKAN].start == wib(2026, 11, 30, 10, 0) and answered[BPN].start == wib(2026, 12, 2, 10, 0)
    assert (accepted[PENDIDIKAN].result("target"), accepted[BPN].result("target")) == (MET, MISSED)
    assert (answered[PENDIDIKAN].result("target"), answered[BPN].result("target")) == (MISSED, MET)
    assert answered[PENDIDIKAN].due["target"] == wib(2026, 12, 1, 23, 59, 59) and answered[BPN].due["target"] == wib(2026, 12, 3, 23, 59, 59)
    assert answered[PENDIDIKAN].fired == {"target"} and answered[BPN].fired == set() and accepted[BPN].fired == {"target"}
    [review] = facts.stage_passes("teruskan")
    assert review.start == wib(2026, 12, 2, 12, 0)  # the review opens when the last unit answered


def test_the_sla_report_counts_one_met_and_one_missed_answer_and_the_case_once(service, session, two_units):
    report = sla_report(session, CaseFilter(WEEK), now=service.clock.now())
    [answers] = [s for s in report.stages if s.stage == "tanggapan"]
    assert (answers.passes, answers.cases) == (2, 1)
    assert (answers.clocks["target"].met, answers.clocks["target"].missed) == (1, 1)
    assert report.cases == 1 and report.any_target_missed == 1


@pytest.mark.parametrize(("unit", "answer"), [(PENDIDIKAN, MISSED), (BPN, MET)])
def test_the_report_of_one_unit_counts_its_own_steps_of_a_shared_case(service, session, two_units, unit, answer):
    filters = CaseFilter(WEEK, unit_id=unit)
    assert [case.id for case in cases_in(session, filters)] == [two_units.case.id]  # once, whichever unit got it first
    report = sla_report(session, filters, now=service.clock.now())
    [answers] = [s for s in report.stages if s.stage == "tanggapan"]
    assert (answers.passes, answers.cases) == (1, 1)
    assert (answers.clocks["target"].met, answers.clocks["target"].missed) == ((1, 0) if answer == MET else (0, 1))
    [review] = [s for s in report.stages if s.stage == "teruskan"]
    assert review.passes == 1  # Admin Kominfo's steps of the case are the case's, shown under each of its units
    assert report.cases == 1


def test_the_heatmap_times_each_units_answer_from_its_own_start(session, two_units):
    figures = heat(session, CaseFilter(WEEK))
    assert figures["Task_Tanggapan_Satker"].median == wib(2026, 12, 2, 11, 0) - wib(2026, 11, 30, 10, 0)
    assert figures["Task_Tanggapan_Vertikal"].median == wib(2026, 12, 2, 12, 0) - wib(2026, 12, 2, 10, 0)
    assert figures["Task_Terima_Vertikal"].median == wib(2026, 12, 2, 10, 0) - wib(2026, 11, 30, 9, 0)


def test_a_fired_timer_belongs_to_the_unit_whose_deadline_it_was(service, session):
    """Two units of the same kind hold the same task of the model at once: the timer that fired is the late unit's."""
    at(service, wib(2026, 11, 30, 9, 0))
    submitted = submit(service, COMPLAINT, [THREE_UNITS])
    at(service, wib(2026, 11, 30, 10, 0))
    do(service, submitted, Do("Task_Terima_Satker", {"decision": "terima"}, KESEHATAN))  # its answer is due Tuesday night
    do(service, submitted, Do("Task_Terima_Vertikal", {"decision": "terima"}, BPN))
    at(service, wib(2026, 12, 1, 10, 0))
    do(service, submitted, Do("Task_Terima_Satker", {"decision": "terima"}, PENDIDIKAN))  # its answer is due Wednesday night
    at(service, wib(2026, 12, 2, 9, 0))
    fire_due(service)
    at(service, wib(2026, 12, 2, 11, 0))
    do(service, submitted, Do("Task_Tanggapan_Satker", {"response": "Atap kelas diperbaiki mulai 7 Desember 2026."}, PENDIDIKAN))
    at(service, wib(2026, 12, 2, 12, 0))
    do(service, submitted, Do("Task_Tanggapan_Satker", {"response": "Puskesmas keliling datang setiap Senin."}, KESEHATAN))
    [facts] = case_facts(session, [submitted.case], now=service.clock.now())
    answered = _by_unit(facts, "tanggapan")
    assert answered[PENDIDIKAN].fired == set() and answered[PENDIDIKAN].result("target") == MET
    assert answered[KESEHATAN].fired == {"target"} and answered[KESEHATAN].result("target") == MISSED
    assert Counter(p.result("target") for p in facts.stage_passes("terima")) == Counter({MET: 3})


def test_a_unit_past_the_ceiling_makes_the_case_late_in_its_own_report_only(service, session):
    """Kanwil BPN answers after the 5 working days of a complaint (Monday 7 December, 23.59.59); Dinas Pendidikan on Monday."""
    at(service, wib(2026, 11, 30, 9, 0))
    submitted = submit(service, COMPLAINT, [TWO_UNITS])
    do(service, submitted, Do("Task_Terima_Satker", {"decision": "terima"}, PENDIDIKAN))
    do(service, submitted, Do("Task_Terima_Vertikal", {"decision": "terima"}, BPN))
    do(service, submitted, Do("Task_Tanggapan_Satker", {"response": "Atap kelas diperbaiki mulai 7 Desember 2026."}, PENDIDIKAN))
    at(service, wib(2026, 12, 8, 9, 0))
    fire_due(service)
    assert "tanggapan:plafon" in submitted.case.breached
    late = {}
    for unit in (PENDIDIKAN, BPN):
        report = sla_report(session, CaseFilter(WEEK, unit_id=unit), now=service.clock.now())
        [answers] = [s for s in report.stages if s.stage == "tanggapan"]
        late[unit] = (answers.late_cases, answers.clocks["plafon"].met, answers.clocks["plafon"].missed)
    assert late == {PENDIDIKAN: (0, 1, 0), BPN: (1, 0, 1)}
    [whole] = sla_report(session, CaseFilter(WEEK), now=service.clock.now()).late_cases
    assert whole.units == [BPN]  # the unit that was late, not whichever unit the case row names
