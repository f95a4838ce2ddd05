"""Truly concurrent commands on one case: two staff on one task, a double-submitted form, a timer against a user.

Each race releases its parties together with a barrier placed just before the engine writes the case
(tests/reliability/support.py), so both have read the same version: one write wins, the other is
refused as a Conflict (409) and leaves nothing behind. Runs on the backend LAPOR_TEST_DB chooses.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import CaseService, Conflict
from engine.db.tables import Case, Escalation, OpenTask, OutboxMail
from engine.worker import run_once
from tests.engine.support import KOMINFO, TO_BALASAN, open_row, submit, wib
from tests.reliability.support import assert_consistent, events, release_together_at_save, run_in_threads
from tests.scenarios import COMPLAINT, SATISFIED
from tests.web.conftest import bearer
from tests.web.pages import csrf, login
from web.extensions import db

BASE_URL = "http://lapor.test"
FORWARD = {"unit": "dinas-pendidikan", "note": "Mohon ditindaklanjuti."}


def _complete_in_own_session(db_engine, clock, task_id: str, data: dict):
    def call() -> int:
        with Session(db_engine) as session:
            case = CaseService(session, clock, BASE_URL).complete_task(task_id, data, KOMINFO)
            session.commit()
            return case.version

    return call


# ---- 1. two staff, one task, the same moment --------------------------------------------------


def test_two_staff_completing_the_same_task_at_once_one_wins_the_other_gets_conflict(db_engine, service, session, clock, monkeypatch):
    submitted = submit(service, COMPLAINT)
    task_id = open_row(session, submitted.case.id, "Task_Disposisi").id
    version = session.get(Case, submitted.case.id).version
    session.rollback()
    release_together_at_save(monkeypatch, 2)

    outcomes = run_in_threads(
        _complete_in_own_session(db_engine, clock, task_id, FORWARD),
        _complete_in_own_session(db_engine, clock, task_id, {"unit": "dinas-kesehatan"}),
    )

    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["error", "ok"], outcomes
    [error] = [value for kind, value in outcomes if kind == "error"]
    assert isinstance(error, Conflict), repr(error)
    [(_, won_version)] = [o for o in outcomes if o[0] == "ok"]
    with Session(db_engine) as fresh:
        assert fresh.get(Case, submitted.case.id).version == version + 1 == won_version
        assert len([e for e in events(fresh, submitted.case.id, "task_completed") if e.task == task_id]) == 1
        assert fresh.scalar(select(func.count()).select_from(OpenTask).where(OpenTask.case_id == submitted.case.id)) == 1
        assert_consistent(fresh, submitted.case.id)


def test_two_staff_completing_the_same_task_at_once_through_the_api_get_200_and_409(app, api, monkeypatch):
    tracking_id = api.submit()["tracking_id"]
    task_id = api.task_of("kominfo", tracking_id)["id"]
    version = _case_counts(app, tracking_id)["version"]
    first, second = api.token("kominfo"), api.client.post("/api/v1/auth/token", json={"username": "kominfo", "password": "demo-lapor"}).json["token"]
    release_together_at_save(monkeypatch, 2)

    def complete(token: str, unit: str):
        def call():
            response = app.test_client().post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"unit": unit}}, headers=bearer(token))
            return response.status_code, response.json

        return call

    outcomes = run_in_threads(complete(first, "dinas-pendidikan"), complete(second, "dinas-kesehatan"))
    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    statuses = sorted(status for _, (status, _body) in outcomes)
    assert statuses == [200, 409], outcomes
    [(_, (_, conflict))] = [o for o in outcomes if o[1][0] == 409]
    assert conflict["error"]
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.tracking_id == tracking_id))
        assert case.version == version + 1
        assert len(events(db.session, case.id, "task_completed")) == 1
        assert_consistent(db.session, case.id)


# ---- 2. the same form twice (double click, a retry) ---------------------------------------------


def _case_counts(app, tracking_id: str) -> dict:
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.tracking_id == tracking_id))
        return {
            "version": case.version,
            "status": case.status,
            "completed": len(events(db.session, case.id, "task_completed")),
            "events": len(events(db.session, case.id)),
            "open": sorted(db.session.scalars(select(OpenTask.spec_name).where(OpenTask.case_id == case.id))),
            "mails": db.session.scalar(select(func.count()).select_from(OutboxMail).where(OutboxMail.case_id == case.id)),
        }


def test_the_task_form_submitted_twice_is_answered_as_already_done_and_happens_once(app, api):
    tracking_id = api.submit()["tracking_id"]
    task_id = api.task_of("kominfo", tracking_id)["id"]
    staff = login(app, "kominfo")
    form = {**FORWARD, "csrf_token": csrf(staff, f"/tugas/{task_id}")}

    first = staff.post(f"/tugas/{task_id}", data=form)
    assert first.status_code == 302
    after_first = _case_counts(app, tracking_id)
    assert after_first["open"] == ["Task_Terima_Satker"]

    second = staff.post(f"/tugas/{task_id}", data=form, follow_redirects=True)  # the same bytes again
    assert second.status_code == 200
    assert "Tugas ini sudah diselesaikan." in second.get_data(as_text=True)
    assert _case_counts(app, tracking_id) == after_first


def test_the_task_completion_sent_twice_through_the_api_gets_409_already_completed(app, api):
    tracking_id = api.submit()["tracking_id"]
    task_id = api.task_of("kominfo", tracking_id)["id"]
    assert api.complete("kominfo", task_id, FORWARD).status_code == 200
    after_first = _case_counts(app, tracking_id)
    retry = api.complete("kominfo", task_id, FORWARD)
    assert retry.status_code == 409
    assert retry.json["error"] == "Tugas ini sudah diselesaikan."
    assert _case_counts(app, tracking_id) == after_first


def test_the_citizen_reply_sent_twice_through_the_api_closes_the_case_once(app, api):
    submitted = api.submit()
    tracking_id, token = submitted["tracking_id"], submitted["access_token"]
    api.step("kominfo", tracking_id, FORWARD)
    api.step("pendidikan", tracking_id, {"decision": "terima"})
    api.step("pendidikan", tracking_id, {"response": "Perbaikan atap dijadwalkan minggu depan."})
    api.step("kominfo", tracking_id, {"decision": "teruskan", "answer": "Perbaikan atap dijadwalkan minggu depan."})
    reply = {"satisfied": True, "text": "Terima kasih."}
    first = api.client.post(f"/api/v1/complaints/{tracking_id}/replies", json=reply, headers=bearer(token))
    assert (first.status_code, first.json["status"]) == (200, "selesai")
    after_first = _case_counts(app, tracking_id)
    second = api.client.post(f"/api/v1/complaints/{tracking_id}/replies", json=reply, headers=bearer(token))
    assert second.status_code == 409
    assert _case_counts(app, tracking_id) == after_first


# ---- 4. a deadline timer and a user, the same moment ------------------------------------------------


DISPOSISI_TARGET_DUE = wib(2026, 12, 1, 23, 59, 59)  # Monday's case: end of Tuesday
BALASAN_DUE_AFTER = timedelta(days=15)  # 10 working days after the answer is published, and some


def _worker_pass(db_engine, clock):
    return lambda: run_once(lambda: Session(db_engine), clock, BASE_URL, None).timers_fired


def test_a_non_interrupting_deadline_and_the_completion_race_to_exactly_one_outcome(db_engine, service, session, clock, monkeypatch):
    submitted = submit(service, COMPLAINT)
    case_id = submitted.case.id
    task_id = open_row(session, case_id, "Task_Disposisi").id
    version = session.get(Case, case_id).version
    session.rollback()  # the test's own session holds nothing while the two race
    clock.set(DISPOSISI_TARGET_DUE + timedelta(seconds=1))
    release_together_at_save(monkeypatch, 2)

    (user_kind, user_value), (worker_kind, fired) = run_in_threads(
        _complete_in_own_session(db_engine, clock, task_id, FORWARD), _worker_pass(db_engine, clock)
    )
    monkeypatch.undo()
    assert worker_kind == "ok", fired  # the worker never fails on a conflict: it leaves the case to its next pass
    user_won = user_kind == "ok"
    assert user_won != bool(fired), ("exactly one of the two writes wins", user_kind, user_value, fired)
    if not user_won:
        assert isinstance(user_value, Conflict), repr(user_value)

    with Session(db_engine) as fresh:
        assert_consistent(fresh, case_id)
        assert fresh.get(Case, case_id).version == version + 1
        if user_won:  # the task is done: its deadline is gone with it and never fires
            assert [e.task for e in events(fresh, case_id, "task_completed")] == [task_id]
            assert events(fresh, case_id, "timer_fired") == []
            assert run_once(lambda: Session(db_engine), clock, BASE_URL, None).timers_fired == 0
        else:  # the deadline fired first: an escalation, and the task still open for the user to send again
            assert [json.loads(e.data)["timer"] for e in events(fresh, case_id, "timer_fired")] == ["Timer_Disposisi_Target"]
            assert fresh.scalar(select(func.count()).select_from(Escalation).where(Escalation.case_id == case_id)) == 1
            assert [r.id for r in fresh.scalars(select(OpenTask).where(OpenTask.case_id == case_id))] == [task_id]
            assert _complete_in_own_session(db_engine, clock, task_id, FORWARD)() == version + 2
        assert_consistent(fresh, case_id)
        assert len(events(fresh, case_id, "timer_fired")) == (0 if user_won else 1)


def test_an_interrupting_deadline_and_the_citizens_reply_race_to_exactly_one_ending(db_engine, service, session, clock, monkeypatch):
    submitted = submit(service, COMPLAINT, TO_BALASAN)
    case_id = submitted.case.id
    version = session.get(Case, case_id).version
    session.rollback()
    clock.advance(days=BALASAN_DUE_AFTER.days)

    def reply():
        with Session(db_engine) as own:
            case = CaseService(own, clock, BASE_URL).reply(submitted.case.tracking_id, submitted.access_token, SATISFIED.data)
            own.commit()
            return case.status

    release_together_at_save(monkeypatch, 2)
    (user_kind, user_value), (worker_kind, fired) = run_in_threads(reply, _worker_pass(db_engine, clock))
    monkeypatch.undo()
    assert worker_kind == "ok", fired
    user_won = user_kind == "ok"
    assert user_won != bool(fired), ("exactly one ending", user_kind, user_value, fired)

    with Session(db_engine) as fresh:
        case = fresh.get(Case, case_id)
        assert (case.status, case.version) == ("selesai", version + 1)
        assert fresh.scalar(select(func.count()).select_from(OpenTask).where(OpenTask.case_id == case_id)) == 0
        closing = [json.loads(e.data)["to"] for e in events(fresh, case_id, "status_changed")].count("selesai")
        assert closing == 1, "closed once"
        if user_won:
            assert user_value == "selesai"
            assert [json.loads(e.data)["form"] for e in events(fresh, case_id, "task_completed")][-1] == "balasan"
            assert events(fresh, case_id, "timer_fired") == []
        else:
            assert isinstance(user_value, Conflict), repr(user_value)
            assert [json.loads(e.data)["timer"] for e in events(fresh, case_id, "timer_fired")] == ["Timer_Balasan"]
            assert "balasan" not in [json.loads(e.data)["form"] for e in events(fresh, case_id, "task_completed")]
        assert_consistent(fresh, case_id)
    # whoever lost cannot make it happen a second time
    assert run_once(lambda: Session(db_engine), clock, BASE_URL, None).timers_fired == 0
    with Session(db_engine) as again, pytest.raises(Conflict):
        CaseService(again, clock, BASE_URL).reply(submitted.case.tracking_id, submitted.access_token, SATISFIED.data)
