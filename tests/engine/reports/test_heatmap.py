"""engine/reports/heatmap.py: per element of a version, how often cases completed it there and the median time it took.

The SLA week (tests/engine/reports/support.py) gives its timers, system steps and escalations; more on the same
computation in tests/engine/reports/test_facts.py (a loop) and tests/engine/definitions/test_versions.py (a timer fired
before a migration).
"""

from __future__ import annotations

from datetime import date, timedelta

from engine import Actor
from engine.cases.migration import Migrations
from engine.definitions.bundle import Bundle, project_bundle
from engine.reports.filters import CaseFilter, Period
from engine.reports.heatmap import heat
from tests.engine.reports.support import WEEK
from tests.engine.support import (
    do,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    submit,
)
from tests.scenarios import ACCEPT_SATKER, ANSWER_SATKER, COMPLAINT, FORWARD_SATKER, PUBLISH, Do

ANALIS = Actor("analis", "analis")
SEND_BACK = Do("Task_Teruskan", {"decision": "kembalikan", "note": "Mohon sebutkan tanggal perbaikan."})


def renamed() -> Bundle:
    """The project's bundle with one task renamed: a second version every case can move to."""
    bundle = project_bundle()
    text = bundle.files[bundle.bpmn_name].replace('name="Verifikasi laporan"', 'name="Verifikasi dan teruskan laporan"', 1)
    return Bundle(bundle.bpmn_name, {**bundle.files, bundle.bpmn_name: text})


def test_a_loop_completes_a_task_twice_and_a_migrated_case_counts_each_step_on_the_version_it_took_it_on(service, session, clock):
    looped = submit(service, COMPLAINT)
    moved = submit(service, COMPLAINT)
    for hours, step in ((1, FORWARD_SATKER), (1, ACCEPT_SATKER), (1, ANSWER_SATKER), (1, SEND_BACK), (2, ANSWER_SATKER), (1, PUBLISH)):
        clock.advance(hours=hours)
        do(service, looped, step)
    v1 = service.current_definition()
    v2, _ = service.deploy(renamed(), by="analis")
    Migrations(service).migrate(v1.number, [moved.case.id], v2.number, ANALIS)  # waiting at Task_Disposisi for 7 hours
    session.commit()
    clock.advance(hours=3)
    do(service, moved, FORWARD_SATKER)  # open 10 hours, across the move: counted where it was completed

    first = heat(session, CaseFilter(definition_id=v1.id))
    assert first["Start_Pengaduan"].count == 2 and first["Task_Rekam"].count == 2
    assert first["Task_Disposisi"].count == 1 and first["Task_Disposisi"].median == timedelta(hours=1)
    assert first["Task_Tanggapan_Satker"].count == 2 and first["Task_Tanggapan_Satker"].median == timedelta(hours=1.5)  # 1 h, then 2 h
    assert first["Task_Teruskan"].count == 2 and first["Task_Teruskan"].median == timedelta(hours=1)
    assert first["Task_Terima_Satker"].count == 1 and first["Task_Terima_Satker"].median == timedelta(hours=1)
    assert first["Task_Terbitkan"].count == 1 and "Task_Balasan" not in first  # waiting for the citizen: not completed

    second = heat(session, CaseFilter(definition_id=v2.id))
    assert second == {"Task_Disposisi": second["Task_Disposisi"]}
    assert second["Task_Disposisi"].count == 1 and second["Task_Disposisi"].median == timedelta(hours=10)

    every = heat(session)
    assert every["Task_Terima_Satker"].count == 1 and every["Task_Disposisi"].count == 2
    assert heat(session, CaseFilter(definition_id=v2.id + 1)) == {}  # no such version: not every version's figures


def test_a_reverted_case_takes_its_next_steps_on_the_version_it_came_back_to(service, session, clock):
    case = submit(service, COMPLAINT)
    v1 = service.current_definition()
    v2, _ = service.deploy(renamed(), by="analis")
    migrations = Migrations(service)
    migrations.migrate(v1.number, [case.case.id], v2.number, ANALIS)
    session.commit()
    migrations.revert(case.case.id, ANALIS)
    session.commit()
    clock.advance(hours=2)
    do(service, case, FORWARD_SATKER)
    assert heat(session, CaseFilter(definition_id=v1.id))["Task_Disposisi"].median == timedelta(hours=2)
    assert heat(session, CaseFilter(definition_id=v2.id)) == {}


def test_no_case_no_figures(service, session):
    assert heat(session, CaseFilter(definition_id=service.current_definition().id)) == {}
    assert heat(session) == {}


def test_heat_counts_completed_steps_and_median_durations_per_bpmn_node(service, session, three_cases):
    figures = heat(session, CaseFilter(WEEK, definition_id=service.current_definition().id))
    assert figures["Start_Pengaduan"].count == 3
    assert figures["Task_Disposisi"].count == 3 and figures["Task_Disposisi"].median == timedelta(days=2, hours=1)
    assert figures["Task_Terima_Satker"].count == 1 and figures["Task_Terima_Satker"].median == timedelta(hours=1)  # B's and C's are still open
    assert figures["Task_Balasan"].count == 1 and figures["Task_Balasan"].median == timedelta(hours=1)
    # timers: B's and C's target fired (Tuesday 23.59.59 due, seen Wednesday 10.00), C's ceiling, B's acceptance target
    assert figures["Timer_Disposisi_Target"].count == 2 and figures["Timer_Disposisi_Target"].median == timedelta(days=2, hours=1)
    assert figures["Timer_Disposisi_Plafon"].count == 1 and figures["Timer_Terima_Satker_Target"].count == 1
    assert figures["Task_Rekam"].count == 3 and figures["Task_Rekam"].median < timedelta(minutes=1)
    assert figures["Task_Terbitkan"].count == 1
    assert figures["Task_Eskalasi_Disposisi_Target"].count == 2 and figures["Task_Eskalasi_Disposisi_Plafon"].count == 1
    assert "Gateway_JenisUnit" not in figures and "Task_Disposisi" in figures


def test_heat_filters_by_unit_category_and_period(session, three_cases):
    assert heat(session, CaseFilter(WEEK, unit_id="dinas-kesehatan"))["Task_Disposisi"].count == 1
    assert heat(session, CaseFilter(WEEK, category="kesehatan"))["Start_Pengaduan"].count == 1
    assert heat(session, CaseFilter(Period(date(2026, 12, 1), date(2026, 12, 31)))) == {}
