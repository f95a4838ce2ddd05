"""engine/reports/sla.py and engine/reports/heatmap.py: SLA figures, per-node heat, the CSV export and the register, all read from the audit trail.

The clock starts on Monday 30 November 2026, 09.00 WIB (no holiday that week): the SOP target of 1
working day ends Tuesday 23.59.59, the disposition's national ceiling of 3 working days Thursday 23.59.59.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from engine import Actor
from engine.cases import access as views
from engine.cases import service as cases_module
from engine.db.tables import Case
from engine.reports import heatmap
from engine.reports import sla as reports
from engine.reports.sla import MET, MISSED, OPEN, CaseFilter, Period
from tests.engine.support import (
    PUSAT,
    TO_SELESAI,
    do,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    fire_due,
    submit,
    wib,
)
from tests.scenarios import ACCEPT_SATKER, ANSWER_SATKER, COMPLAINT, FORWARD_SATKER, PUBLISH, SATISFIED, Do

NOVEMBER_30 = Period(date(2026, 11, 30), date(2026, 11, 30))
WEEK = Period(date(2026, 11, 30), date(2026, 12, 6))


def at(service, instant) -> None:
    service.clock.set(instant)


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


def stage(report, name):
    [row] = [s for s in report.stages if s.stage == name]
    return row


def test_disposition_stage_counts_met_and_missed_target_and_ceiling(service, session, three_cases):
    report = reports.sla_report(session, CaseFilter(WEEK), now=service.clock.now())
    disposisi = stage(report, "disposisi")
    assert (disposisi.passes, disposisi.finished, disposisi.open) == (3, 3, 0)
    assert (disposisi.clocks["target"].met, disposisi.clocks["target"].missed) == (1, 2)
    assert (disposisi.clocks["plafon"].met, disposisi.clocks["plafon"].missed) == (2, 1)
    assert disposisi.clocks["target"].working_days == [1] and disposisi.clocks["plafon"].working_days == [3]
    assert disposisi.median == timedelta(days=2, hours=1)  # 1 h, 49 h, 97 h
    assert disposisi.late_cases == 1
    assert report.late == 1 and [late.tracking_id for late in report.late_cases] == [three_cases[2].case.tracking_id]
    assert report.late_cases[0].stages == ["disposisi"]


def test_open_tasks_count_as_open_until_their_deadline_passes(service, session, three_cases):
    report = reports.sla_report(session, CaseFilter(WEEK), now=service.clock.now())
    terima = stage(report, "terima")
    # A accepted within the hour; B's acceptance is open since Wednesday and past Thursday's target; C's opened just now
    assert (terima.passes, terima.finished, terima.open) == (3, 1, 2)
    assert (terima.clocks["target"].met, terima.clocks["target"].missed, terima.clocks["target"].open) == (1, 1, 1)
    assert "plafon" not in terima.clocks or terima.clocks["plafon"].decided == 0  # acceptance has no national ceiling
    assert stage(report, "tanggapan").clocks["plafon"].working_days == [5]
    assert report.cases == 3 and report.by_status == {"selesai": 1, "didisposisikan": 2}
    assert (report.all_targets_met, report.any_target_missed) == (1, 2)


def test_a_step_done_late_while_no_worker_ran_still_misses_its_target(service, session):
    submitted = submit(service, COMPLAINT)
    service.clock.advance(days=2)  # Wednesday 09.00: no timer ever fired
    do(service, submitted, FORWARD_SATKER)
    [facts] = reports.case_facts(session, [submitted.case], now=service.clock.now())
    [disposisi] = facts.stage_passes("disposisi")
    assert disposisi.fired == set()
    assert disposisi.result("target") == MISSED and disposisi.result("plafon") == MET
    assert disposisi.due["target"] == wib(2026, 12, 1, 23, 59, 59)


class SlowEngineSteps:
    """Stands in for engine/cases/service.py's ``time`` module: every engine run seems to take 61 seconds."""

    def __init__(self) -> None:
        self.ticks = 0.0

    def perf_counter(self) -> float:
        self.ticks += 61.0
        return self.ticks


def test_system_steps_are_measured_against_one_minute(service, session, monkeypatch):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER, ACCEPT_SATKER, ANSWER_SATKER])
    monkeypatch.setattr(cases_module, "time", SlowEngineSteps())
    do(service, submitted, PUBLISH)  # publishing the answer "took" 61 s
    report = reports.sla_report(session, CaseFilter(WEEK), now=service.clock.now())
    recorded, published = report.system
    assert (recorded.event, recorded.count, recorded.met, recorded.missed) == ("complaint_recorded", 1, 1, 0)
    assert recorded.max_ms is not None and recorded.max_ms < 60_000
    assert (published.event, published.count, published.met, published.missed, published.max_ms) == ("answer_published", 1, 0, 1, 61_000.0)


def test_heat_counts_completed_steps_and_median_durations_per_bpmn_node(service, session, three_cases):
    heat = heatmap.heat(session, CaseFilter(WEEK, definition_id=service.current_definition().id))
    assert heat["Start_Pengaduan"].count == 3
    assert heat["Task_Disposisi"].count == 3 and heat["Task_Disposisi"].median == timedelta(days=2, hours=1)
    assert heat["Task_Terima_Satker"].count == 1 and heat["Task_Terima_Satker"].median == timedelta(hours=1)  # B's and C's are still open
    assert heat["Task_Balasan"].count == 1 and heat["Task_Balasan"].median == timedelta(hours=1)
    # timers: B's and C's target fired (Tuesday 23.59.59 due, seen Wednesday 10.00), C's ceiling, B's acceptance target
    assert heat["Timer_Disposisi_Target"].count == 2 and heat["Timer_Disposisi_Target"].median == timedelta(days=2, hours=1)
    assert heat["Timer_Disposisi_Plafon"].count == 1 and heat["Timer_Terima_Satker_Target"].count == 1
    assert heat["Task_Rekam"].count == 3 and heat["Task_Rekam"].median < timedelta(minutes=1)
    assert heat["Task_Terbitkan"].count == 1
    assert heat["Task_Eskalasi_Disposisi_Target"].count == 2 and heat["Task_Eskalasi_Disposisi_Plafon"].count == 1
    assert "Gateway_JenisUnit" not in heat and "Task_Disposisi" in heat


def test_heat_filters_by_unit_category_and_period(session, three_cases):
    assert heatmap.heat(session, CaseFilter(WEEK, unit_id="dinas-kesehatan"))["Task_Disposisi"].count == 1
    assert heatmap.heat(session, CaseFilter(WEEK, category="kesehatan"))["Start_Pengaduan"].count == 1
    assert heatmap.heat(session, CaseFilter(Period(date(2026, 12, 1), date(2026, 12, 31)))) == {}


def test_a_loop_makes_a_second_pass_of_the_same_task(service, session):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER])
    service.clock.advance(hours=2)
    do(service, submitted, Do("Task_Terima_Satker", {"decision": "bukan_wewenang", "note": "Bukan wewenang kami."}))
    service.clock.advance(hours=3)
    do(service, submitted, FORWARD_SATKER)
    [facts] = reports.case_facts(session, [submitted.case], now=service.clock.now())
    first, second = facts.stage_passes("disposisi")
    assert second.start == first.end + timedelta(hours=2) and second.duration == timedelta(hours=3)
    assert heatmap.heat(session)["Task_Disposisi"].count == 2


def test_reply_deadline_ends_a_pass_when_the_case_closes_itself(service, session):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER, ACCEPT_SATKER, ANSWER_SATKER, PUBLISH])
    service.clock.advance(days=20)
    fire_due(service)
    [facts] = reports.case_facts(session, [submitted.case], now=service.clock.now())
    [balasan] = facts.stage_passes("balasan")
    assert balasan.ended_by == "timer" and balasan.result("target") == MISSED
    assert submitted.case.status == "selesai" and not facts.late


def test_period_filters_on_the_local_submission_day(service, session):
    at(service, wib(2026, 11, 30, 23, 30))  # 16.30 UTC: still 30 November in Surabaya
    late_evening = submit(service, COMPLAINT)
    at(service, wib(2026, 12, 1, 0, 30))
    next_day = submit(service, COMPLAINT)
    assert [c.id for c in reports.cases_in(session, CaseFilter(NOVEMBER_30))] == [late_evening.case.id]
    assert [c.id for c in reports.cases_in(session, CaseFilter(Period.month(2026, 12)))] == [next_day.case.id]
    assert Period.parse_month("2026-11") == Period(date(2026, 11, 1), date(2026, 11, 30))
    assert Period.month(2026, 12).end == date(2026, 12, 31)
    with pytest.raises(ValueError):
        Period.parse_month("2026-13")
    with pytest.raises(ValueError):
        Period(date(2026, 12, 2), date(2026, 12, 1))


def test_csv_export_never_names_an_anonymous_reporter(service, session, three_cases):
    text = reports.to_csv(reports.export_rows(session, CaseFilter(WEEK), PUSAT, now=service.clock.now()))
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r["tracking_id"] for r in rows] == [s.case.tracking_id for s in three_cases]
    assert "Rahasia Sekali" not in text and "rahasia@example.id" not in text
    anonymous = rows[2]
    assert anonymous["anonymous"] == "yes" and anonymous["reporter_name"] == anonymous["reporter_email"] == "(dirahasiakan)"
    assert rows[0]["reporter_name"] == "Siti Aminah" and rows[0]["reporter_email"] == "siti@example.id"
    assert (rows[0]["disposisi_target"], rows[0]["disposisi_ceiling"], rows[0]["all_targets_met"], rows[0]["late"]) == (MET, MET, "yes", "no")
    assert (rows[1]["disposisi_target"], rows[1]["disposisi_ceiling"], rows[1]["terima_target"]) == (MISSED, MET, MISSED)
    assert (rows[2]["disposisi_ceiling"], rows[2]["terima_target"], rows[2]["late"]) == (MISSED, OPEN, "yes")
    assert rows[0]["submitted_at"] == "2026-11-30T09:00:00+07:00" and rows[0]["closed_at"] == "2026-11-30T14:00:00+07:00"
    assert rows[0]["disposisi_completed_at"] == "2026-11-30T10:00:00+07:00" and rows[0]["answered_at"] == "2026-11-30T13:00:00+07:00"
    assert rows[2]["tanggapan_started_at"] == "" and rows[0]["unit_name"] == "Dinas Pendidikan Provinsi Jawa Timur"


def test_csv_export_neutralises_spreadsheet_formulas(service, session):
    submit(service, {**COMPLAINT, "title": '=HYPERLINK("http://x.test","klik")'})
    rows = list(csv.DictReader(io.StringIO(reports.to_csv(reports.export_rows(session, CaseFilter(), PUSAT)).lstrip("\ufeff"))))
    assert rows[0]["title"].startswith("'=")


def test_csv_export_follows_the_date_range(service, session, three_cases):
    at(service, wib(2026, 12, 7, 9, 0))
    submit(service, COMPLAINT)
    assert len(reports.export_rows(session, CaseFilter(WEEK), PUSAT, now=service.clock.now())) == 3
    assert len(reports.export_rows(session, CaseFilter(Period(date(2026, 12, 1), date(2026, 12, 31))), PUSAT, now=service.clock.now())) == 1


def test_register_lists_the_months_cases_in_order_of_submission(service, session):
    at(service, wib(2026, 11, 2, 8, 0))
    first = submit(service, {**COMPLAINT, "title": "Laporan pertama bulan ini", "incident_date": "2026-10-20"})
    at(service, wib(2026, 11, 30, 9, 0))
    second = submit(service, {**COMPLAINT, "anonymous": True})
    at(service, wib(2026, 12, 1, 9, 0))
    submit(service, COMPLAINT)
    entries = reports.register(session, Period.month(2026, 11), PUSAT, now=service.clock.now())
    assert [(e.number, e.case.tracking_id) for e in entries] == [(1, first.case.tracking_id), (2, second.case.tracking_id)]
    assert entries[0].reporter == "Siti Aminah" and entries[1].reporter is None
    assert entries[1].facts.complaint["reporter"] is None


def test_export_register_and_sheet_show_a_confidential_reporter_to_admin_pusat_not_to_the_auditor(service, session):
    confidential = submit(service, {**COMPLAINT, "confidential": True})
    reporter = COMPLAINT["reporter"]
    hidden = ("(dirahasiakan)",) * 3
    for viewer, shown in ((PUSAT, (reporter["name"], reporter["email"], reporter["phone"])), (Actor("auditor", "auditor"), hidden)):
        [row] = reports.export_rows(session, CaseFilter(), viewer)
        assert (row["reporter_name"], row["reporter_email"], row["reporter_phone"]) == shown and row["confidential"] == "yes"
        [entry] = reports.register(session, Period.month(2026, 11), viewer)
        sheet = reports.sheet_facts(session, views.seen_case(session, confidential.case, viewer))
        assert {entry.reporter is None, sheet.reporter_hidden, sheet.complaint["reporter"] is None} == {shown == hidden}


def test_sheet_facts_list_each_step_with_its_deadlines(service, session):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER, ACCEPT_SATKER, ANSWER_SATKER, PUBLISH, SATISFIED])
    case = session.scalar(select(Case).where(Case.id == submitted.case.id))
    facts = reports.sheet_facts(session, views.seen_case(session, case, PUSAT), now=service.clock.now())
    assert [p.stage for p in facts.passes] == ["disposisi", "terima", "tanggapan", "teruskan", "balasan"]
    assert facts.passes[0].data == FORWARD_SATKER.data and facts.passes[0].actor == "kominfo"
    assert facts.passes[0].due == {"target": wib(2026, 12, 1, 23, 59, 59), "plafon": wib(2026, 12, 3, 23, 59, 59)}
    assert facts.passes[3].outcome == {"target": "met"} and facts.all_targets_met is True  # the review has a 1-working-day target
