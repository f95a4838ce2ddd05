"""engine/audit/replay.py: a case rebuilt from its record matches it step by step, and a forged record does not."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import Actor, NotFound
from engine.audit.replay import DIFF_EVENT, DIFF_EXTRA, DIFF_STATE, Replay, replay_case, state_after, step_count
from engine.audit.trail import STEP_FAILED, STEPS_RETRIED, step_numbers, verify_chain
from engine.cases.migration import Migrations
from engine.db.tables import AuditEvent, Case, Incident, Notification, OpenTask, OutboxMail, Unit, User
from engine.definitions.bundle import Bundle, project_bundle
from engine.runtime import scripting
from engine.runtime.serialization import state_json
from tests.engine.audit.support import assert_replays, forge, fresh, run, stored_events
from tests.engine.support import (
    KOMINFO,
    PUSAT,
    TO_BALASAN,
    TO_SELESAI,
    do,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    fire_due,
    model_script,
    open_row,
    open_rows,
    snapshot,
    submit,
    wib,
    with_script,
)
from tests.scenarios import COMPLAINT, FORWARD_SATKER, SCENARIOS, Do, Wait

# ---- every path of the SOP replays ------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_sop_path_replays_to_a_match(service, session, name):
    complaint, steps = SCENARIOS[name]
    case = fresh(session, run(service, complaint, steps))
    result = replay_case(session, case)
    assert result.difference is None
    assert result.matches
    assert result.events == len(stored_events(session, case.id))
    inputs = [s for s in steps if isinstance(s, Do | Wait)]
    assert result.steps >= 1 + len([s for s in inputs if isinstance(s, Do)])


def test_timer_passes_replay_at_their_recorded_instants(service, session):
    complaint, steps = SCENARIOS["disposisi_deadlines"]
    case = fresh(session, run(service, complaint, steps))
    fired = [e for e in stored_events(session, case.id) if e.type == "timer_fired"]
    assert len(fired) == 2
    assert replay_case(session, case).matches
    timer_step = step_numbers([(e.type, e.at) for e in stored_events(session, case.id)])[fired[0].seq - 1]
    state = state_after(session, case, timer_step)
    assert state.at == fired[0].at
    assert [t["timer"] for t in state.timers_fired] == [json.loads(fired[0].data)["timer"]]
    assert state.active_tasks[0]["overdue"] is True
    assert "Timer_Disposisi_Target" in state.overlay.timers_fired


def test_withdrawn_case_replays_to_a_match(service, session):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER])
    service.clock.advance(hours=2)
    service.withdraw(submitted.case.tracking_id, submitted.access_token, reason="Sudah diperbaiki sendiri.")
    session.commit()
    case = fresh(session, submitted)
    assert case.status == "dicabut"
    result = replay_case(session, case)
    assert result.matches, result.difference
    assert state_after(session, case).status == "dicabut"


def test_claims_and_a_reassignment_replay_to_a_match(service, session):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER])
    row = open_row(session, submitted.case.id, "Task_Terima_Satker")
    service.clock.advance(minutes=30)
    service.claim(row.id, Actor("pendidikan", "satker", "dinas-pendidikan"))
    session.commit()
    service.clock.advance(minutes=30)
    service.unclaim(row.id, PUSAT)
    session.commit()
    service.clock.advance(minutes=30)
    service.reassign(row.id, "dinas-kesehatan", PUSAT, "Salah disposisi: ini urusan kesehatan sekolah.")
    session.commit()
    for step in TO_SELESAI[1:]:
        service.clock.advance(hours=1)
        do(service, submitted, step)
    case = fresh(session, submitted)
    assert case.unit_id == "dinas-kesehatan" and case.status == "selesai"
    result = replay_case(session, case)
    assert result.matches, result.difference
    assert [s["unit"] for s in state_after(session, case).completed_tasks[1:3]] == ["dinas-kesehatan", "dinas-kesehatan"]


def test_unit_closed_since_stillassert_replays(service, session):
    case = fresh(session, submit(service, COMPLAINT, TO_SELESAI))
    session.get(Unit, "dinas-pendidikan").active = False
    for user in session.scalars(select(User).where(User.role == "kominfo")):
        user.active = False  # fewer staff to notify today than on the day: not a difference
    session.commit()
    assert replay_case(session, case).matches


def test_case_replays_on_its_own_definition_version(service, session):
    case = fresh(session, submit(service, COMPLAINT, TO_BALASAN))
    bundle = project_bundle()
    changed = bundle.files[bundle.bpmn_name].replace('name="Terima laporan"', 'name="Terima laporan (versi 2)"')
    assert changed != bundle.files[bundle.bpmn_name]
    _definition, created = service.deploy(Bundle(bundle.bpmn_name, {**bundle.files, bundle.bpmn_name: changed}), by="analis")
    session.commit()
    assert created
    assert replay_case(session, case).matches


def test_replay_never_writes_to_the_real_database(service, session):
    submitted = submit(service, COMPLAINT, TO_BALASAN)
    before = snapshot(session, submitted.case.id)
    counts = [session.scalar(select(func.count()).select_from(t)) for t in (Case, AuditEvent, OpenTask, OutboxMail, Notification)]
    replay_case(session, fresh(session, submitted))
    state_after(session, fresh(session, submitted), 2)
    assert snapshot(session, submitted.case.id) == before
    assert [session.scalar(select(func.count()).select_from(t)) for t in (Case, AuditEvent, OpenTask, OutboxMail, Notification)] == counts


# ---- a forged record is reported at its step ---------------------------------------------------------


def test_forged_event_is_reported_at_its_step_with_both_sides(service, session):
    case = fresh(session, submit(service, COMPLAINT, TO_SELESAI))
    events = stored_events(session, case.id)
    forwarded = next(e for e in events if e.type == "status_changed" and json.loads(e.data)["to"] == "didisposisikan")
    forge(session, "UPDATE audit_event SET data = :d WHERE id = :i", d='{"from":"diterima","to":"selesai"}', i=forwarded.id)
    difference = replay_case(session, fresh(session, case)).difference
    assert difference is not None
    step = step_numbers([(e.type, e.at) for e in events])[forwarded.seq - 1]
    assert step == 2  # submitted, then forwarded (the forged event's command)
    assert (difference.step, difference.seq, difference.reason, difference.type) == (step, forwarded.seq, DIFF_EVENT, "status_changed")
    assert (difference.path, difference.recorded, difference.replayed) == ("data.to", "selesai", "didisposisikan")


def test_forged_stored_state_is_reported_at_the_last_step(service, session):
    case = fresh(session, submit(service, COMPLAINT, TO_BALASAN))
    state = state_json(case.state)
    start = next(t for t in state["tasks"].values() if "pengaduan" in t["data"])
    start["data"]["pengaduan"]["title"] = "Judul yang diubah diam-diam"
    forge(session, 'UPDATE "case" SET state = :s WHERE id = :i', s=json.dumps(state), i=case.id)
    case = fresh(session, case)
    result = replay_case(session, case)
    difference = result.difference
    assert difference is not None
    assert (difference.step, difference.seq, difference.reason) == (result.steps, None, DIFF_STATE)
    assert difference.path.endswith("data.pengaduan.title")
    assert (difference.recorded, difference.replayed) == ("Judul yang diubah diam-diam", COMPLAINT["title"])


def test_forged_case_status_is_reported(service, session):
    case = fresh(session, submit(service, COMPLAINT, TO_BALASAN))
    forge(session, "UPDATE \"case\" SET status = 'selesai' WHERE id = :i", i=case.id)
    difference = replay_case(session, fresh(session, case)).difference
    assert (difference.path, difference.recorded, difference.replayed) == ("status", "selesai", "dijawab")


def test_forged_task_in_the_stored_state_is_named_by_its_place_in_the_tree(service, session):
    """Task ids differ between runs: a difference in the workflow names each task by its spec and place (spec@path)."""
    case = fresh(session, submit(service, COMPLAINT, TO_BALASAN))
    state = state_json(case.state)
    root = state["tasks"][state["root"]]
    last_task, named_root = state["last_task"], f"{root['task_spec']}@0"
    state["last_task"], root["state"] = state["root"], root["state"] // 2  # the case's last task: the root, not yet run
    forge(session, 'UPDATE "case" SET state = :s WHERE id = :i', s=json.dumps(state), i=case.id)
    difference = replay_case(session, fresh(session, case)).difference
    assert difference is not None and difference.reason == DIFF_STATE
    assert (difference.path, difference.recorded) == ("workflow.last_task", named_root)  # the key sorted first
    assert "@" in difference.replayed and difference.replayed != named_root  # named too, not the replay's own task id
    state["last_task"] = last_task
    forge(session, 'UPDATE "case" SET state = :s WHERE id = :i', s=json.dumps(state), i=case.id)
    difference = replay_case(session, fresh(session, case)).difference
    assert difference is not None
    assert (difference.path, difference.recorded, difference.replayed) == (f"workflow.tasks.{named_root}.state", root["state"], root["state"] * 2)


def test_a_number_stored_as_another_json_type_in_the_state_is_reported(service, session):
    case = fresh(session, submit(service, COMPLAINT, TO_BALASAN))
    state = state_json(case.state)
    root = state["tasks"][state["root"]]
    root["state"] = float(root["state"])  # equal in Python (64 == 64.0), not the same JSON
    forge(session, 'UPDATE "case" SET state = :s WHERE id = :i', s=json.dumps(state), i=case.id)
    difference = replay_case(session, fresh(session, case)).difference
    assert difference is not None
    assert (difference.path, difference.recorded, difference.replayed) == (
        f"workflow.tasks.{root['task_spec']}@0.state",
        root["state"],
        int(root["state"]),
    )
    assert isinstance(difference.recorded, float) and isinstance(difference.replayed, int)


def test_two_replays_at_once_rebuild_in_databases_of_their_own(service, session):
    case = fresh(session, submit(service, COMPLAINT, TO_BALASAN))
    with Replay(session, case) as first, Replay(session, case) as second:
        assert first.advance(2) is None
        assert second.advance() is None  # the same case again: no tracking id or case id taken by the first
        assert first.advance() is None


def test_replays_run_in_any_thread_a_web_server_serves_them_from(service, session):
    """The throwaway schema is built once per process and copied for each replay, whichever request thread asks."""
    case_id = fresh(session, submit(service, COMPLAINT, TO_BALASAN)).id
    results: list[bool] = []
    first_done, second_done = threading.Event(), threading.Event()

    def replay_in_a_thread(then: Callable[[], None]) -> None:
        with Session(session.get_bind()) as own:  # a request's own session, as the history page has
            results.append(replay_case(own, own.get(Case, case_id)).matches)
        then()

    # the first thread lives on while the second replays (an ended thread's id may be given to the next one)
    first = threading.Thread(target=replay_in_a_thread, args=(lambda: (first_done.set(), second_done.wait(10)),))
    first.start()
    first_done.wait(10)
    second = threading.Thread(target=replay_in_a_thread, args=(second_done.set,))
    second.start()
    second.join()
    second_done.set()
    first.join()
    assert results == [True, True]


def test_removed_event_is_reported_where_the_replay_produces_it(service, session):
    case = fresh(session, submit(service, COMPLAINT, TO_BALASAN))
    events = stored_events(session, case.id)
    published = next(e for e in events if e.type == "answer_published")
    step = step_numbers([(e.type, e.at) for e in events])[published.seq - 1]
    forge(session, "DELETE FROM audit_event WHERE id = :i", i=published.id)
    difference = replay_case(session, fresh(session, case)).difference
    assert difference is not None
    assert difference.step == step
    assert difference.reason in (DIFF_EVENT, DIFF_EXTRA)
    assert difference.replayed == "answer_published"


def test_difference_hides_an_anonymous_reporter(service, session):
    case = fresh(session, submit(service, {**COMPLAINT, "anonymous": True}, TO_BALASAN))
    state = state_json(case.state)
    start = next(t for t in state["tasks"].values() if "pengaduan" in t["data"])
    start["data"]["pengaduan"]["reporter"]["email"] = "palsu@example.id"
    forge(session, 'UPDATE "case" SET state = :s WHERE id = :i', s=json.dumps(state), i=case.id)
    difference = replay_case(session, fresh(session, case)).difference
    assert difference is not None and difference.path.endswith("reporter.email")
    assert COMPLAINT["reporter"]["email"] not in json.dumps(difference.to_dict())
    assert "palsu@example.id" not in json.dumps(difference.to_dict())


# ---- the state after each step --------------------------------------------------------------------------


def test_state_after_each_step_of_a_whole_case(service, session):
    case = fresh(session, submit(service, COMPLAINT, TO_SELESAI))
    steps = step_count(session, case)
    assert steps == 6  # submitted, then the five completed tasks

    first = state_after(session, case, 1)
    assert (first.step, first.steps, first.status) == (1, 6, "diterima")
    assert [t["task"] for t in first.active_tasks] == ["Task_Disposisi"]
    assert first.completed_tasks == [] and first.input["type"] == "case_started"
    assert {t["timer"] for t in first.timers_waiting} == {"Timer_Disposisi_Target", "Timer_Disposisi_Plafon"}
    assert "Task_Disposisi" in first.overlay.active and "Task_Disposisi" not in first.overlay.completed

    second = state_after(session, case, 2)
    assert (second.status, second.unit) == ("didisposisikan", "dinas-pendidikan")
    assert [t["task"] for t in second.active_tasks] == ["Task_Terima_Satker"]
    assert second.completed_tasks[0]["data"] == FORWARD_SATKER.data
    assert second.completed_tasks[0]["actor"] == "kominfo"
    assert second.data["disposisi"] == FORWARD_SATKER.data
    assert "Task_Disposisi" in second.overlay.completed and second.overlay.flows_taken

    last = state_after(session, case)
    assert (last.step, last.status, last.active_tasks, last.timers_waiting) == (6, "selesai", [], [])
    assert [t["task"] for t in last.completed_tasks] == [
        "Task_Disposisi",
        "Task_Terima_Satker",
        "Task_Tanggapan_Satker",
        "Task_Teruskan",
        "Task_Balasan",
    ]
    assert last.difference is None and last.to_dict()["matches"] is True


def test_state_after_hides_an_anonymous_reporter(service, session):
    case = fresh(session, submit(service, {**COMPLAINT, "anonymous": True}, [FORWARD_SATKER]))
    state = state_after(session, case, 2)
    assert state.data["pengaduan"]["reporter"] is None
    assert COMPLAINT["reporter"]["email"] not in json.dumps(state.to_dict())
    assert state_after(session, case, 2, redact=False).data["pengaduan"]["reporter"] == COMPLAINT["reporter"]


@pytest.mark.parametrize("step", [0, 3, -1])
def test_state_after_a_step_outside_the_record_is_not_found(service, session, step):
    case = fresh(session, submit(service, COMPLAINT, [FORWARD_SATKER]))
    with pytest.raises(NotFound):
        state_after(session, case, step)


def test_one_worker_pass_firing_two_timers_is_one_step():
    from datetime import UTC, datetime

    t0, t1 = datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC)
    events = [
        ("case_started", t0),
        ("notification_queued", t0),
        ("timer_fired", t1),
        ("timer_fired", t1),
        ("deadline_missed", t1),
        ("timer_fired", t1 + timedelta(days=1)),
        ("task_completed", t1 + timedelta(days=1)),
        ("status_changed", t1 + timedelta(days=1)),
    ]
    assert step_numbers(events) == [1, 1, 2, 2, 2, 3, 4, 4]


# ---- system steps that failed, and their retries ------------------------------------------------------
#
# A transient failure: a helper the model's scripts call raises (its service is down), then works again. The replay runs
# with the real helper, so only the record can tell it that the steps did not run then (``step_failed``) and when they
# ran (``steps_retried``).

DOWN = "layanan sedang tidak menjawab"


def _down(monkeypatch, helper: str, only: Callable[..., bool] = lambda *args: True) -> None:
    """Make the model's helper ``helper`` raise (for the calls ``only`` picks) until ``monkeypatch.undo()``."""
    real = scripting.HELPERS[helper]

    def failing(*args: Any) -> Any:
        if only(*args):
            raise ConnectionError(DOWN)
        return real(*args)

    monkeypatch.setitem(scripting.HELPERS, helper, failing)


def _types_by_step(session, case_id: int) -> list[list[str]]:
    events = stored_events(session, case_id)
    steps: dict[int, list[str]] = {}
    for event, number in zip(events, step_numbers([(e.type, e.at) for e in events]), strict=True):
        steps.setdefault(number, []).append(event.type)
    return list(steps.values())


def test_a_submission_whose_step_failed_replays_while_it_waits_and_after_the_workers_retry(service, session, clock, monkeypatch):
    _down(monkeypatch, "rekam_pengaduan")
    submitted = submit(service, COMPLAINT)
    case = fresh(session, submitted)
    assert case.retry_at == clock.now() + timedelta(minutes=1)
    assert _types_by_step(session, case.id) == [["case_started", "notification_queued", STEP_FAILED]]
    [failed] = [json.loads(e.data) for e in stored_events(session, case.id) if e.type == STEP_FAILED]
    assert failed == {"element": "Task_Rekam", "name": "Rekam pengaduan"}

    assert_replays(session, case)  # waiting: the replay keeps the complaint and does not run the steps either
    waiting = state_after(session, fresh(session, case))
    assert (waiting.status, waiting.active_tasks, waiting.timers_waiting) == ("diterima", [], [])

    clock.advance(minutes=1)
    fire_due(service)  # the worker's retry while the service is still down: nothing of it on record
    assert fresh(session, case).retry_at == clock.now() + timedelta(minutes=2)
    assert len(_types_by_step(session, case.id)) == 1
    assert_replays(session, case)

    monkeypatch.undo()  # the service is back
    clock.advance(minutes=2)
    fire_due(service)
    case = fresh(session, case)
    assert case.retry_at is None and [r.spec_name for r in open_rows(session, case.id)] == ["Task_Disposisi"]
    retried = [e for e in stored_events(session, case.id) if e.type == STEPS_RETRIED]
    assert [(e.actor, e.at) for e in retried] == [("sistem", clock.now())]
    incident = session.scalar(select(Incident).where(Incident.case_id == case.id))
    assert json.loads(retried[0].data) == {"incident": incident.id, "element": "Task_Rekam", "name": "Rekam pengaduan"}
    steps = _types_by_step(session, case.id)
    assert steps[1][:2] == [STEPS_RETRIED, "complaint_recorded"] and len(steps) == 2
    result = assert_replays(session, case)
    assert result.steps == 2
    assert state_after(session, fresh(session, case), 1).active_tasks == []  # step 1 waits, as it did
    second = state_after(session, fresh(session, case), 2)
    assert second.at == clock.now() and [t["task"] for t in second.active_tasks] == ["Task_Disposisi"]
    assert second.input == {"seq": retried[0].seq, "type": STEPS_RETRIED, "actor": "sistem"}

    for step in TO_SELESAI:  # and the case goes on to its end, replaying throughout
        clock.advance(hours=1)
        do(service, submitted, step)
    assert fresh(session, case).status == "selesai"
    assert_replays(session, case)


def test_a_completion_whose_next_step_failed_replays_after_admin_pusats_retry(service, session, clock, monkeypatch):
    submitted = submit(service, COMPLAINT)
    _down(monkeypatch, "teruskan_ke_unit")  # the case reaching the unit (recorded, the unit notified)
    clock.advance(minutes=10)
    do(service, submitted, FORWARD_SATKER)
    case = fresh(session, submitted)
    assert (case.status, case.unit_id, case.retry_at is not None) == ("diterima", None, True)
    assert _types_by_step(session, case.id)[1] == ["task_completed", STEP_FAILED]
    assert_replays(session, case)

    clock.advance(minutes=5)
    service.retry(case.id, PUSAT)  # "Coba lagi" while still down: counted on the incident, nothing on record
    session.commit()
    assert len(_types_by_step(session, case.id)) == 2
    assert_replays(session, case)

    monkeypatch.undo()
    clock.advance(minutes=3)
    service.retry(case.id, PUSAT)
    session.commit()
    case = fresh(session, case)
    assert (case.status, case.unit_id, case.retry_at) == ("didisposisikan", "dinas-pendidikan", None)
    steps = _types_by_step(session, case.id)
    assert len(steps) == 3 and steps[2][0] == STEPS_RETRIED
    assert [e.actor for e in stored_events(session, case.id) if e.type == STEPS_RETRIED] == ["pusat"]
    assert_replays(session, case)
    assert state_after(session, fresh(session, case), 2).status == "diterima"
    assert state_after(session, fresh(session, case), 3).unit == "dinas-pendidikan"

    for step in TO_SELESAI[1:]:
        clock.advance(hours=1)
        do(service, submitted, step)
    assert_replays(session, case)


def test_a_failed_timer_path_leaves_no_record_and_its_retry_replays_with_the_timers_it_fired(service, session, clock, monkeypatch):
    submitted = submit(service, COMPLAINT)
    before = _types_by_step(session, submitted.case.id)
    _down(monkeypatch, "eskalasi")
    clock.set(wib(2026, 12, 2, 0, 1))  # past Disposisi's SOP target (23:59:59 WIB of the next working day)
    fire_due(service)
    case = fresh(session, submitted)
    assert case.retry_at is not None and _types_by_step(session, case.id) == before  # a failed timer pass changes nothing
    assert open_row(session, case.id, "Task_Disposisi").overdue  # but the save judged the task overdue
    assert_replays(session, case)
    clock.advance(seconds=20)
    service.claim(open_row(session, case.id, "Task_Disposisi").id, KOMINFO)  # a recorded step after the unrecorded save
    session.commit()
    assert_replays(session, case)

    monkeypatch.undo()
    clock.advance(minutes=1)
    fire_due(service)
    steps = _types_by_step(session, case.id)
    assert steps[2][:2] == [STEPS_RETRIED, "timer_fired"] and "deadline_missed" in steps[2] and len(steps) == 3
    assert open_row(session, case.id, "Task_Disposisi").overdue
    assert_replays(session, case)
    do(service, submitted, FORWARD_SATKER)
    assert_replays(session, case)


def test_a_waiting_case_moved_to_a_fixed_version_replays_its_retry_on_the_fixed_version(service, session, clock):
    """The step that failed on the version the case started on fails again on replay; the move is a step of its own, and
    the retry after it runs the fixed version's script, as it did."""
    send_to_unit = model_script("Task_KirimUnit") + "\n"
    failing, _ = service.deploy(with_script("Task_KirimUnit", send_to_unit + "gagal = 1 / 0"), by="analis")
    session.commit()
    submitted = submit(service, COMPLAINT)
    clock.advance(minutes=10)
    do(service, submitted, FORWARD_SATKER)  # its next step fails: the case waits
    assert_replays(session, submitted.case)
    fixed, _ = service.deploy(with_script("Task_KirimUnit", send_to_unit + "# diperbaiki"), by="analis")
    session.commit()
    clock.advance(minutes=10)
    [moved] = Migrations(service).migrate(failing.number, [submitted.case.id], fixed.number, Actor("analis", "analis"))
    assert moved.ok, moved.reason
    session.commit()
    clock.advance(minutes=1)
    service.retry(submitted.case.id, PUSAT)
    session.commit()
    case = fresh(session, submitted)
    assert (case.status, case.retry_at) == ("didisposisikan", None) and verify_chain(session, case) is None

    assert [types[0] for types in _types_by_step(session, case.id)[1:]] == ["task_completed", "case_migrated", STEPS_RETRIED]
    assert_replays(session, case)
    first = state_after(session, case, 1)
    assert first.difference is None and [t["task"] for t in first.active_tasks] == ["Task_Disposisi"]
