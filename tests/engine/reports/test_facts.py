"""engine/reports/facts.py: each case's passes, with the clocks each kept or missed, read from the audit trail.

The clock starts on Monday 30 November 2026, 09.00 WIB (no holiday that week): the SOP target of 1
working day ends Tuesday 23.59.59, the disposition's national ceiling of 3 working days Thursday 23.59.59.
"""

from __future__ import annotations

from datetime import timedelta

from engine.reports.facts import MET, MISSED, case_facts
from engine.reports.heatmap import heat
from tests.engine.support import (
    do,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    fire_due,
    submit,
    wib,
)
from tests.scenarios import ACCEPT_SATKER, ANSWER_SATKER, COMPLAINT, FORWARD_SATKER, PUBLISH, Do


def test_a_step_done_late_while_no_worker_ran_still_misses_its_target(service, session):
    submitted = submit(service, COMPLAINT)
    service.clock.advance(days=2)  # Wednesday 09.00: no timer ever fired
    do(service, submitted, FORWARD_SATKER)
    [facts] = case_facts(session, [submitted.case], now=service.clock.now())
    [disposisi] = facts.stage_passes("disposisi")
    assert disposisi.fired == set()
    assert disposisi.result("target") == MISSED and disposisi.result("plafon") == MET
    assert disposisi.due["target"] == wib(2026, 12, 1, 23, 59, 59)


def test_a_loop_makes_a_second_pass_of_the_same_task(service, session):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER])
    service.clock.advance(hours=2)
    do(service, submitted, Do("Task_Terima_Satker", {"decision": "bukan_wewenang", "note": "Bukan wewenang kami."}))
    service.clock.advance(hours=3)
    do(service, submitted, FORWARD_SATKER)
    [facts] = case_facts(session, [submitted.case], now=service.clock.now())
    first, second = facts.stage_passes("disposisi")
    assert second.start == first.end + timedelta(hours=2) and second.duration == timedelta(hours=3)
    assert heat(session)["Task_Disposisi"].count == 2


def test_reply_deadline_ends_a_pass_when_the_case_closes_itself(service, session):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER, ACCEPT_SATKER, ANSWER_SATKER, PUBLISH])
    service.clock.advance(days=20)
    fire_due(service)
    [facts] = case_facts(session, [submitted.case], now=service.clock.now())
    [balasan] = facts.stage_passes("balasan")
    assert balasan.ended_by == "timer" and balasan.result("target") == MISSED
    assert submitted.case.status == "selesai" and not facts.late
