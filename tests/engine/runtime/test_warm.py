"""engine/runtime/warm.py: a command reuses the workflow this process saved only while the row holds what it saved."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import CaseService
from engine.db.tables import Case
from engine.runtime.warm import WARM, WarmWorkflows
from tests.engine.support import KOMINFO, TO_SELESAI, audit_types, holder, open_row, submit
from tests.scenarios import ACCEPT_SATKER, COMPLAINT, FORWARD_SATKER


def test_a_workflow_is_taken_once_and_only_for_the_state_it_was_kept_with(service, session):
    submitted = submit(service, COMPLAINT)
    case = submitted.case
    parsed, workflow = service.load(case)
    warm = WarmWorkflows()
    warm.keep(case.id, parsed.content_hash, case.state, workflow)
    assert warm.take(case.id, parsed.content_hash, case.state + " ") is None  # another state: rebuilt from the row
    warm.keep(case.id, parsed.content_hash, case.state, workflow)
    assert warm.take(case.id, "another version", case.state) is None
    warm.keep(case.id, parsed.content_hash, case.state, workflow)
    assert warm.take(case.id, parsed.content_hash, case.state) is workflow
    assert warm.take(case.id, parsed.content_hash, case.state) is None  # taken out: no two commands share one


def test_the_least_recently_kept_workflow_goes_first():
    warm = WarmWorkflows(capacity=2)
    for case_id in (1, 2, 3):
        warm.keep(case_id, "hash", f"state {case_id}", SimpleNamespace())  # type: ignore[arg-type]
    assert warm.take(1, "hash", "state 1") is None
    assert warm.take(3, "hash", "state 3") is not None


def test_a_command_rolled_back_leaves_the_next_one_the_stored_workflow(db_engine, clock, service, monkeypatch):
    """A rolled-back command kept its changed workflow, with a state it never committed; another process then commits
    the same step (other task ids); the next command here must work on what that process stored, not on what this one
    kept (a key by version number would hand it the rolled-back workflow: both are the row's next version)."""
    submitted = submit(service, COMPLAINT)
    with Session(db_engine) as first:
        row = open_row(first, submitted.case.id, "Task_Disposisi")
        CaseService(first, clock).complete_task(row.id, FORWARD_SATKER.data, KOMINFO)
        first.rollback()
    with monkeypatch.context() as another_process, Session(db_engine) as second:
        another_process.setattr(WARM, "keep", lambda *_args: None)
        row = open_row(second, submitted.case.id, "Task_Disposisi")
        CaseService(second, clock).complete_task(row.id, FORWARD_SATKER.data, KOMINFO)
        second.commit()
    with Session(db_engine) as third:
        row = open_row(third, submitted.case.id, "Task_Terima_Satker")
        CaseService(third, clock).complete_task(row.id, ACCEPT_SATKER.data, holder(row))
        third.commit()
        assert audit_types(third, submitted.case.id).count("task_completed") == 2


def test_a_case_run_warm_stores_what_a_case_rebuilt_at_every_command_stores(service, session, monkeypatch):
    taken = []
    take = WARM.take
    monkeypatch.setattr(WARM, "take", lambda *args: taken.append(take(*args)) or taken[-1])
    warm_case = submit(service, COMPLAINT, TO_SELESAI).case
    assert all(workflow is not None for workflow in taken) and len(taken) == len(TO_SELESAI)  # every command ran warm
    monkeypatch.setattr(WARM, "take", lambda *_args: None)
    cold_case = submit(service, COMPLAINT, TO_SELESAI).case

    def shape(case: Case) -> list[tuple[str, int]]:
        return [(task.task_spec.name, task.state) for task in service.load(case)[1].get_tasks()]

    assert shape(warm_case) == shape(cold_case)
    assert audit_types(session, warm_case.id) == audit_types(session, cold_case.id)
    assert session.scalar(select(Case.status).where(Case.id == warm_case.id)) == "selesai"


def test_a_replay_keeps_its_own_workflows_and_leaves_the_processes_alone(service, session):
    """The replay's throwaway case takes the real case's id in its own database: kept in the shared cache it would push
    the real case's workflow out, and the next command on that case would rebuild it."""
    from engine.audit.replay import replay_case  # the replay's façade is the subject here

    case = submit(service, COMPLAINT, [FORWARD_SATKER]).case
    parsed = service.parsed_of(case)
    assert replay_case(session, case).matches
    assert WARM.take(case.id, parsed.content_hash, case.state) is not None
