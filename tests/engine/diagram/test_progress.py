"""engine/diagram/progress.py: a case's state drawn over its diagram (path, open task, timers)."""

from __future__ import annotations

from engine.diagram.progress import overlay_of
from engine.diagram.render import render_svg
from tests.engine.support import (
    fast_password_hashing,  # noqa: F401 - autouse fixture
    submit,
    wib,
)
from tests.scenarios import ACCEPT_SATKER, COMPLAINT, FORWARD_SATKER


def overlay(service, case):
    parsed, workflow = service.workflow_of(case)
    return parsed, overlay_of(parsed, workflow, service.clock.now())


def test_a_new_case_waits_at_disposition_with_its_timers_armed(service):
    submitted = submit(service, COMPLAINT)
    parsed, seen = overlay(service, submitted.case)
    assert {"Start_Pengaduan", "Task_Rekam", "Task_Kategori", "Task_NotifKominfo"} <= seen.completed
    assert seen.active == {"Task_Disposisi"} and not seen.overdue
    assert seen.timers_waiting == {"Timer_Disposisi_Target", "Timer_Disposisi_Plafon"} and not seen.timers_fired
    assert parsed.flows[("Start_Pengaduan", "Task_Rekam")] in seen.flows_taken
    assert all(flow in parsed.flows.values() for flow in seen.flows_taken)
    assert "Task_Disposisi" not in seen.completed


def test_a_missed_target_shows_the_fired_timer_and_the_overdue_task(service, clock):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER])
    clock.set(wib(2026, 12, 2, 8, 0))  # past the 1-working-day target of Terima laporan
    service.fire_timers(submitted.case.id)
    service.session.commit()
    _parsed, seen = overlay(service, submitted.case)
    # the unit's task runs inside its sub-process, which is running too
    assert seen.active == {"SubProcess_Satker", "Task_Terima_Satker"} and seen.overdue == {"Task_Terima_Satker"}
    assert "Timer_Terima_Satker_Target" in seen.timers_fired
    assert "Task_Disposisi" in seen.completed and "Task_Eskalasi_Terima_Satker" in seen.completed
    assert "Timer_Disposisi_Target" not in seen.timers_waiting  # cancelled when forwarding finished in time


def test_the_overlay_renders_on_the_case_diagram(service):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER, ACCEPT_SATKER])
    parsed, seen = overlay(service, submitted.case)
    svg = render_svg(parsed.bpmn, seen)
    assert 'data-element-id="Task_Tanggapan_Satker"' in svg and "is-active" in svg and "is-taken" in svg
