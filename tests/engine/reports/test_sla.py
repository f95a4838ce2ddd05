"""engine/reports/sla.py: the SLA figures of a week's cases, per stage, for the system's steps, and the late cases."""

from __future__ import annotations

from datetime import timedelta

from engine.cases import service as cases_module
from engine.reports.filters import CaseFilter
from engine.reports.sla import sla_report
from tests.engine.reports.support import WEEK
from tests.engine.support import (
    do,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    submit,
)
from tests.scenarios import ACCEPT_SATKER, ANSWER_SATKER, COMPLAINT, FORWARD_SATKER, PUBLISH


def stage(report, name):
    [row] = [s for s in report.stages if s.stage == name]
    return row


def test_disposition_stage_counts_met_and_missed_target_and_ceiling(service, session, three_cases):
    report = sla_report(session, CaseFilter(WEEK), now=service.clock.now())
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
    report = sla_report(session, CaseFilter(WEEK), now=service.clock.now())
    terima = stage(report, "terima")
    # A accepted within the hour; B's acceptance is open since Wednesday and past Thursday's target; C's opened just now
    assert (terima.passes, terima.finished, terima.open) == (3, 1, 2)
    assert (terima.clocks["target"].met, terima.clocks["target"].missed, terima.clocks["target"].open) == (1, 1, 1)
    assert "plafon" not in terima.clocks or terima.clocks["plafon"].decided == 0  # acceptance has no national ceiling
    assert stage(report, "tanggapan").clocks["plafon"].working_days == [5, 10]  # by classification (klasifikasi.dmn)
    assert report.cases == 3 and report.by_status == {"selesai": 1, "didisposisikan": 2}
    assert (report.all_targets_met, report.any_target_missed) == (1, 2)


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
    report = sla_report(session, CaseFilter(WEEK), now=service.clock.now())
    recorded, published = report.system
    assert (recorded.event, recorded.count, recorded.met, recorded.missed) == ("complaint_recorded", 1, 1, 0)
    assert recorded.max_ms is not None and recorded.max_ms < 60_000
    assert (published.event, published.count, published.met, published.missed, published.max_ms) == ("answer_published", 1, 0, 1, 61_000.0)
