"""engine/cases/incidents.py: what failed inside the engine, counted, listed and resolved for Admin Pusat."""

from __future__ import annotations

from datetime import timedelta

from engine.cases import incidents
from engine.db.tables import Incident
from tests.engine.support import (
    fast_password_hashing,  # noqa: F401 - autouse fixture
    submit,
)
from tests.scenarios import COMPLAINT


def failure(message: str = "disk penuh") -> RuntimeError:
    """An exception raised for real, so that it carries a traceback."""
    try:
        raise RuntimeError(message)
    except RuntimeError as error:
        return error


def step(session, clock, case_id: int, element: str = "Task_Rekam", error: BaseException | None = None) -> Incident:
    incident = incidents.step_failed(
        session, clock.now(), "submit", error or failure(), actor="sistem", case_id=case_id, element=element, element_name="Rekam pengaduan"
    )
    session.flush()
    return incident


# ---- commands that failed whole ------------------------------------------------------------------


def test_a_failed_command_is_kept_with_its_error_class_message_and_traceback(session, clock):
    incident = incidents.record(session, clock.now(), "fire_timers", failure(), actor="sistem")
    assert (incident.command, incident.actor, incident.count, incident.case_id, incident.element) == ("fire_timers", "sistem", 1, None, None)
    assert (incident.error, incident.message) == ("builtins.RuntimeError", "disk penuh")
    assert "Traceback" in incident.detail and "RuntimeError: disk penuh" in incident.detail
    assert incident.at == incident.last_at == clock.now() and incident.resolved_at is None and incident.id is not None


def test_an_error_without_a_message_is_named_by_its_class(session, clock):
    incident = incidents.record(session, clock.now(), "fire_timers", KeyError(), actor="sistem")
    assert (incident.error, incident.message) == ("builtins.KeyError", "KeyError")


def test_the_same_failure_of_the_same_command_counts_up_on_one_open_incident(service, session, clock):
    case_id = submit(service, COMPLAINT).case.id
    first = incidents.record(session, clock.now(), "complete_task", failure(), actor="kominfo", case_id=case_id, task="t-1")
    clock.advance(minutes=5)
    again = incidents.record(session, clock.now(), "complete_task", failure(), actor="pusat", case_id=case_id, task="t-1")
    assert again.id == first.id and (again.count, again.actor, again.last_at, again.at) == (
        2,
        "pusat",
        clock.now(),
        clock.now() - timedelta(minutes=5),
    )
    others = [
        incidents.record(session, clock.now(), "reply", failure(), actor="kominfo", case_id=case_id, task="t-1"),
        incidents.record(session, clock.now(), "complete_task", failure("lain"), actor="kominfo", case_id=case_id, task="t-1"),
        incidents.record(session, clock.now(), "complete_task", ValueError("disk penuh"), actor="kominfo", case_id=case_id, task="t-1"),
        incidents.record(session, clock.now(), "complete_task", failure(), actor="kominfo", case_id=case_id, task="t-2"),
        incidents.record(session, clock.now(), "complete_task", failure(), actor="kominfo", task="t-1"),
    ]
    assert len({first.id, *(o.id for o in others)}) == 6 and all(o.count == 1 for o in others)


def test_a_resolved_incident_is_not_counted_on_again(session, clock):
    first = incidents.record(session, clock.now(), "fire_timers", failure(), actor="sistem")
    assert incidents.resolve(session, first.id, "pusat", clock.now())
    again = incidents.record(session, clock.now(), "fire_timers", failure(), actor="sistem")
    assert again.id != first.id and again.count == 1


def test_an_incident_is_resolved_once_by_whoever_dealt_with_it(session, clock):
    incident = incidents.record(session, clock.now(), "fire_timers", failure(), actor="sistem")
    assert incidents.resolve(session, incident.id, "pusat", clock.now()) is True
    assert (incident.resolved_by, incident.resolved_at) == ("pusat", clock.now())
    assert incidents.resolve(session, incident.id, "auditor", clock.now()) is False and incident.resolved_by == "pusat"
    assert incidents.resolve(session, 999_999, "pusat", clock.now()) is False


# ---- failed system steps -----------------------------------------------------------------------


def test_retries_wait_longer_after_each_failure_up_to_an_hour():
    assert [incidents.retry_delay(n) for n in range(1, 10)] == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60, 60, 60)]


def test_a_failed_step_names_its_element_and_the_same_failure_counts_up(service, session, clock):
    case_id = submit(service, COMPLAINT).case.id
    first = step(session, clock, case_id)
    assert (first.element, first.element_name, first.count, first.case_id, first.command) == ("Task_Rekam", "Rekam pengaduan", 1, case_id, "submit")
    clock.advance(minutes=1)
    again = step(session, clock, case_id)
    assert again.id == first.id and again.count == 2 and again.last_at == clock.now()
    assert incidents.waiting_on(session, case_id).id == first.id


def test_another_failure_of_the_case_replaces_its_open_step_incident(service, session, clock):
    case_id = submit(service, COMPLAINT).case.id
    first = step(session, clock, case_id)
    other = step(session, clock, case_id, element="Task_Kategori")
    assert other.id != first.id and other.count == 1
    assert (first.resolved_by, first.resolved_at) == ("sistem", clock.now())
    assert incidents.waiting_on(session, case_id).id == other.id
    assert step(session, clock, case_id, element="Task_Kategori", error=failure("lain")).id != other.id  # another message too


def test_a_long_element_and_name_are_cut_to_what_the_columns_hold(service, session, clock):
    case_id = submit(service, COMPLAINT).case.id
    incident = incidents.step_failed(
        session, clock.now(), "submit", failure(), actor="sistem", case_id=case_id, element="E" * 100, element_name="N" * 300
    )
    assert (len(incident.element), len(incident.element_name)) == (80, 200)


def test_a_step_that_recovered_resolves_the_cases_open_step_incidents(service, session, clock):
    case_id = submit(service, COMPLAINT).case.id
    assert incidents.recovered(session, case_id, "sistem", clock.now()) == 0
    incident = step(session, clock, case_id)
    assert incidents.recovered(session, case_id, "pusat", clock.now()) == 1
    assert (incident.resolved_by, incident.resolved_at) == ("pusat", clock.now())
    session.flush()
    assert incidents.waiting_on(session, case_id) is None


def test_a_case_waits_on_nothing_once_its_incident_was_resolved_by_hand(service, session, clock):
    case_id = submit(service, COMPLAINT).case.id
    incident = step(session, clock, case_id)
    incidents.resolve(session, incident.id, "pusat", clock.now())
    session.flush()
    assert incidents.waiting_on(session, case_id) is None


# ---- the list Admin Pusat reads ------------------------------------------------------------------


def test_open_incidents_are_listed_latest_first_with_the_tracking_id_and_the_retry_time(service, session, clock):
    case = submit(service, COMPLAINT).case
    waiting = step(session, clock, case.id)
    case.retry_at = clock.now() + incidents.retry_delay(1)
    clock.advance(minutes=2)
    loose = incidents.record(session, clock.now(), "fire_timers", failure(), actor="sistem")
    clock.advance(minutes=2)
    done = incidents.record(session, clock.now(), "reply", failure(), actor="sistem")
    incidents.resolve(session, done.id, "pusat", clock.now())
    session.flush()
    assert incidents.open_incidents(session) == [(loose, None, None), (waiting, case.tracking_id, case.retry_at)]
    assert incidents.open_incidents(session, limit=1) == [(loose, None, None)]


def test_an_incident_tells_the_case_it_is_about(service, session, clock):
    case_id = submit(service, COMPLAINT).case.id
    about = step(session, clock, case_id)
    loose = incidents.record(session, clock.now(), "fire_timers", failure(), actor="sistem")
    assert incidents.case_of(session, about.id) == case_id
    assert incidents.case_of(session, loose.id) is None and incidents.case_of(session, 999_999) is None
