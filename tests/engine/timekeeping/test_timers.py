"""engine/timekeeping/timers.py: reading a workflow's timer events, a user task's two deadlines, and a timer's expression."""

from __future__ import annotations

from datetime import timedelta

import pytest
from SpiffWorkflow.util.task import TaskState

from engine.timekeeping.timers import WorkingDays, deadlines, is_timer, read_timer_expression, timer_due
from tests.engine.support import (
    fast_password_hashing,  # noqa: F401 - autouse fixture
    submit,
    wib,
)
from tests.scenarios import COMPLAINT, FORWARD_SATKER


def tasks_of(service, case) -> dict[str, object]:
    """The case's workflow tasks by BPMN id (the newest of each), loaded read-only."""
    _parsed, workflow = service.workflow_of(case)
    return {task.task_spec.bpmn_id: task for task in workflow.get_tasks() if task.task_spec.bpmn_id}


def test_only_timer_events_are_timers(service):
    tasks = tasks_of(service, submit(service, COMPLAINT).case)
    assert is_timer(tasks["Timer_Disposisi_Target"]) and is_timer(tasks["Timer_Disposisi_Plafon"])
    assert not is_timer(tasks["Task_Disposisi"]) and not is_timer(tasks["Task_Rekam"]) and not is_timer(tasks["Start_Pengaduan"])


def test_an_armed_timer_falls_due_at_its_expressions_instant(service):
    tasks = tasks_of(service, submit(service, COMPLAINT).case)
    assert timer_due(tasks["Timer_Disposisi_Target"]) == wib(2026, 12, 1, 23, 59, 59)  # 1 working day
    assert timer_due(tasks["Timer_Disposisi_Plafon"]) == wib(2026, 12, 3, 23, 59, 59)  # 3 working days


def test_a_user_task_has_its_sop_target_and_national_ceiling_and_is_not_overdue_before_them(service, clock):
    tasks = tasks_of(service, submit(service, COMPLAINT).case)
    assert deadlines(tasks["Task_Disposisi"], clock.now()) == (wib(2026, 12, 1, 23, 59, 59), wib(2026, 12, 3, 23, 59, 59), False)


def test_a_user_task_is_overdue_once_its_target_has_passed_even_before_the_timer_fires(service):
    tasks = tasks_of(service, submit(service, COMPLAINT).case)
    _due, _ceiling, overdue = deadlines(tasks["Task_Disposisi"], wib(2026, 12, 2, 0, 0, 0))
    assert overdue and tasks["Timer_Disposisi_Target"].state == TaskState.WAITING


def test_a_user_task_whose_target_timer_fired_stays_overdue(service, session, clock):
    case = submit(service, COMPLAINT).case
    clock.set(wib(2026, 12, 2, 0, 0, 1))
    assert service.fire_timers(case.id) == 1
    session.commit()
    tasks = tasks_of(service, case)
    assert deadlines(tasks["Task_Disposisi"], wib(2026, 11, 30, 9, 0))[2] is True  # fired, whatever the instant asked about


def test_a_user_task_without_a_ceiling_has_only_its_target(service, clock):
    tasks = tasks_of(service, submit(service, COMPLAINT, [FORWARD_SATKER]).case)
    assert deadlines(tasks["Task_Terima_Satker"], clock.now()) == (wib(2026, 12, 1, 23, 59, 59), None, False)


def test_a_task_without_boundary_timers_has_no_deadline(service, clock):
    tasks = tasks_of(service, submit(service, COMPLAINT).case)
    assert deadlines(tasks["Task_Rekam"], clock.now()) == (None, None, False)


@pytest.mark.parametrize(
    ("expression", "meaning"),
    [
        ("batas_hari_kerja(3)", WorkingDays(3)),
        ("  batas_hari_kerja( 1 )\n", WorkingDays(1)),
        ("batas_menit(30)", timedelta(minutes=30)),
        ("batas_menit(1.5)", timedelta(seconds=90)),
        ('"P1D"', timedelta(days=1)),
        ("'PT1H30M'", timedelta(hours=1, minutes=30)),
        ('"P1W"', timedelta(weeks=1)),
    ],
)
def test_a_timer_expression_is_read_as_working_days_or_a_length(expression, meaning):
    assert read_timer_expression(expression) == meaning


@pytest.mark.parametrize(
    "expression",
    [
        "batas",  # a name
        'f"P{hari}D"',  # an f-string
        "batas_hari_kerja(batas_menit(1))",  # nested calls
        "batas_hari_kerja(hari)",
        "batas_hari_kerja(1.5)",  # working days are whole
        "batas_hari_kerja(True)",
        "batas_hari_kerja(n=1)",
        "kalender.batas_hari_kerja(1)",
        "batas_lain(1)",
        '"2026-12-01T09:00:00+07:00"',  # a date, not a length
        '"P1M"',  # a month's length depends on the month
        '"Pkapan"',
        "batas_hari_kerja(",
        "",
    ],
)
def test_anything_else_is_unknown(expression):
    assert read_timer_expression(expression) is None
