"""engine/definitions/timer_rules.py: the model's timers are working-day deadlines on its user tasks (broken timers: support.py's KINDS)."""

from __future__ import annotations

from engine.definitions.parsing import attached_task
from tests.engine.definitions.support import USER_TASK_FORMS


def test_timers_are_working_day_deadlines_on_user_tasks(model):
    assert {attached_task(timer) for timer in model.timers} == set(USER_TASK_FORMS)
    assert all(timer.event_definition.expression.startswith("batas_hari_kerja(") for timer in model.timers)
    interrupting = [timer.bpmn_id for timer in model.timers if timer.cancel_activity]
    # only the citizen's silence closes or archives a case; staff deadlines escalate
    assert sorted(interrupting) == ["Timer_Balasan", "Timer_Kelengkapan"]
