"""Every SOP path, run three ways: plain SpiffWorkflow straight through, plain SpiffWorkflow with a
save/restore at every wait state, and through the case façade on SQLite (which saves every step)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from engine import CITIZEN, Actor, CaseService, make_script_engine
from engine.cases import access, extensions
from engine.db.tables import Escalation, OpenTask
from engine.definitions.bundle import project_bundle
from engine.definitions.validation import validate
from engine.runtime.scripting import RunContext, running
from engine.runtime.serialization import state_serializer
from engine.timekeeping import clock as clocks
from tests.engine.support import fire_due
from tests.scenarios import ESCALATIONS, SCENARIOS, AskExtension, Do, Escalated, Expect, Wait

STAFF = {
    "Task_Disposisi": Actor("kominfo", "kominfo"),
    "Task_Teruskan": Actor("kominfo", "kominfo"),
}


class SpiffDriver:
    """Plain SpiffWorkflow in memory; with ``roundtrip`` the state is serialized and restored at each wait."""

    def __init__(self, clock: clocks.FakeClock, roundtrip: bool) -> None:
        parsed, findings = validate(project_bundle())
        assert not findings
        self.parsed, self.clock, self.roundtrip = parsed, clock, roundtrip
        self.context = RunContext()
        self.status = "diterima"
        self.received_at = clock.now()

    def _run(self, action) -> None:
        seen = len(self.context.effects)
        with clocks.using(self.clock), running(self.context):
            action()
            self.workflow.do_engine_steps()
            for effect in self.context.effects[seen:]:  # what the façade does for a granted extension, before it saves
                answer = extensions.open_answer(self.workflow, effect.args["task"]) if effect.type == "extend" else None
                if answer is not None and effect.args["decision"] == "setuju":
                    latest = extensions.limit(self.context.working_calendar(), self.received_at, answer)
                    extensions.move_deadlines(answer, effect.args["working_days"], latest, self.context.working_calendar())
        for effect in self.context.effects:
            if effect.type == "status":
                self.status = effect.args["status"]
        if self.roundtrip:
            state = state_serializer().dumps(self.workflow)
            self.workflow = state_serializer().loads(state, self.parsed.spec, self.parsed.subprocess_specs)

    def submit(self, complaint: dict[str, Any]) -> None:
        self.workflow = BpmnWorkflow(self.parsed.spec, self.parsed.subprocess_specs, script_engine=make_script_engine())
        self.workflow.get_tasks(state=TaskState.READY)[0].data.update(pengaduan=complaint, tracking_id="LPR-TEST0000")
        self._run(lambda: None)

    def _ready(self, spec_id: str, unit: str | None) -> Any:
        ready = self.workflow.get_tasks(state=TaskState.READY, manual=True)
        [task] = [t for t in ready if t.task_spec.bpmn_id == spec_id and unit in (None, t.data.get("unit_tujuan"))]
        return task

    def complete(self, spec_id: str, data: dict[str, Any], unit: str | None = None) -> None:
        task = self._ready(spec_id, unit)
        if data.get("interim"):
            return  # an interim answer is the façade's: published to the reporter, the task stays open

        def run() -> None:
            task.data[self.parsed.form_of(task.task_spec)] = data
            task.run()
            if self.parsed.form_of(task.task_spec) == access.ANSWER_FORM:
                extensions.drop_waiting(self.parsed, self.workflow, str(task.id))

        self._run(run)

    def ask_extension(self, step: AskExtension) -> None:
        task = self._ready(step.task, step.unit)
        request = {"task": str(task.id), "unit": task.data["unit_tujuan"], "working_days": step.working_days, "reason": step.reason}
        self._run(lambda: self.workflow.catch(BpmnEvent(MessageEventDefinition(extensions.MESSAGE), request)))

    def wait(self, delta: timedelta) -> None:
        self.clock.advance(seconds=delta.total_seconds())
        self._run(self.workflow.refresh_timers)

    def open_tasks(self) -> tuple[str, ...]:
        return tuple(sorted(t.task_spec.bpmn_id for t in self.workflow.get_tasks(state=TaskState.READY, manual=True)))

    def escalations(self) -> list[tuple[str, str]]:
        return [(e.args["stage"], e.args["clock"]) for e in self.context.effects if e.type == "escalate"]


class FacadeDriver:
    def __init__(self, service: CaseService, clock: clocks.FakeClock) -> None:
        self.service, self.clock = service, clock

    def submit(self, complaint: dict[str, Any]) -> None:
        submitted = self.service.submit(complaint)
        self.case, self.token = submitted.case, submitted.access_token
        self.service.session.commit()

    def complete(self, spec_id: str, data: dict[str, Any], unit: str | None = None) -> None:
        query = select(OpenTask).where(OpenTask.case_id == self.case.id, OpenTask.spec_name == spec_id)
        [row] = self.service.session.scalars(query if unit is None else query.where(OpenTask.unit_id == unit)).all()
        if row.form == "kelengkapan":  # the reporter's addition, from the tracking page or the API
            self.service.add_to_complaint(self.case.tracking_id, self.token, data["text"])
        elif row.role == "masyarakat":
            self.service.reply(self.case.tracking_id, self.token, data)
        else:
            actor = STAFF.get(spec_id) or Actor("staf-unit", row.role, row.unit_id)
            self.service.complete_task(row.id, data, actor)
        self.service.session.commit()

    def ask_extension(self, step: AskExtension) -> None:
        query = select(OpenTask).where(OpenTask.case_id == self.case.id, OpenTask.spec_name == step.task)
        [row] = self.service.session.scalars(query if step.unit is None else query.where(OpenTask.unit_id == step.unit)).all()
        request = {"working_days": step.working_days, "reason": step.reason}
        self.service.request_extension(row.id, request, Actor("staf-unit", row.role, row.unit_id))
        self.service.session.commit()

    def wait(self, delta: timedelta) -> None:
        self.clock.advance(seconds=delta.total_seconds())
        fire_due(self.service)

    @property
    def status(self) -> str:
        return self.case.status

    def open_tasks(self) -> tuple[str, ...]:
        rows = self.service.session.scalars(select(OpenTask.spec_name).where(OpenTask.case_id == self.case.id))
        return tuple(sorted(rows))

    def escalations(self) -> list[tuple[str, str]]:
        rows = self.service.session.execute(
            select(Escalation.stage, Escalation.clock).where(Escalation.case_id == self.case.id).order_by(Escalation.id)
        )
        return [tuple(r) for r in rows]


@pytest.fixture(params=["spiff", "spiff_roundtrip", "facade"])
def driver(request, clock):
    if request.param == "facade":
        return FacadeDriver(request.getfixturevalue("service"), clock)
    return SpiffDriver(clock, roundtrip=request.param == "spiff_roundtrip")


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario(name, driver):
    complaint, steps = SCENARIOS[name]
    driver.submit(complaint)
    for step in steps:
        if isinstance(step, Do):
            driver.complete(step.task, step.data, step.unit)
        elif isinstance(step, Wait):
            driver.wait(timedelta(days=step.days, hours=step.hours))
        elif isinstance(step, AskExtension):
            driver.ask_extension(step)
        elif isinstance(step, Escalated):
            assert driver.escalations() == list(step.escalations), step
        else:
            assert isinstance(step, Expect)
            assert (driver.status, driver.open_tasks()) == (step.status, tuple(sorted(step.open_tasks))), step
    assert driver.escalations() == ESCALATIONS.get(name, [])


def test_citizen_actor_is_the_masyarakat_lane():
    assert CITIZEN.role == "masyarakat"
