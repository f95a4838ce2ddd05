"""The web process killed (SIGKILL) while it handles a task completion: the completion is in the database
wholly or not at all. SQLite and PostgreSQL (LAPOR_TEST_DB).

The app runs in its own process (tests/reliability/launch_web.py) whose test-only hook stops the request
either after the engine has written everything but before the commit, or after the commit but before the
response; the test then kills the process, looks at the database, and starts the app again.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.connection import make_engine
from engine.db.tables import Case, OpenTask
from tests.engine.support import snapshot
from tests.reliability.processes import call, complaint, launch_web
from tests.reliability.support import assert_consistent, events

FORWARD = {"unit": "dinas-pendidikan", "note": "Mohon ditindaklanjuti."}


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("hook", ["before-commit", "after-commit"])
def test_a_web_process_killed_during_a_completion_leaves_it_wholly_done_or_not_at_all(db_url, engine, tmp_path, hook):
    server, base = launch_web(db_url, tmp_path / "web-1.log", hook)
    try:
        status, submitted = call("POST", f"{base}/api/v1/complaints", complaint())
        assert status == 201, submitted
        tracking_id = submitted["tracking_id"]
        status, body = call("POST", f"{base}/api/v1/auth/token", {"username": "kominfo", "password": "demo-lapor"})
        assert status == 200, body
        token = body["token"]
        status, body = call("GET", f"{base}/api/v1/tasks", token=token)
        [task_id] = [t["id"] for t in body["tasks"] if t["tracking_id"] == tracking_id]
        with Session(engine) as session:
            case_id = session.scalar(select(Case.id).where(Case.tracking_id == tracking_id))
            before = snapshot(session, case_id)

        outcome: list[object] = []

        def complete() -> None:
            try:
                outcome.append(call("POST", f"{base}/api/v1/tasks/{task_id}/complete", {"data": FORWARD}, token))
            except OSError as error:  # the server died under the request
                outcome.append(error)

        request = threading.Thread(target=complete)
        request.start()
        server.wait_for("BLOCKED")
        server.kill()
        request.join(60)
        assert not request.is_alive()
        assert len(outcome) == 1 and isinstance(outcome[0], OSError), f"the client saw no answer: {outcome}"
    finally:
        server.kill()

    with Session(engine) as session:
        after = snapshot(session, case_id)
        if hook == "before-commit":
            assert after == before, "nothing of the interrupted completion is in the database"
            assert session.get(OpenTask, task_id) is not None
        else:
            assert after["case"]["version"] == before["case"]["version"] + 1
            assert [e.task for e in events(session, case_id, "task_completed")] == [task_id]
            assert [(row.spec_name, row.unit_id) for row in session.scalars(select(OpenTask).where(OpenTask.case_id == case_id))] == [
                ("Task_Terima_Satker", "dinas-pendidikan")
            ]
            assert after["outbox"] > before["outbox"] and after["notifications"] > before["notifications"]
        assert_consistent(session, case_id)

    # the app started again: the completion sent again is done now (first case) or answered as done (second)
    server, base = launch_web(db_url, tmp_path / "web-2.log")
    try:
        status, body = call("POST", f"{base}/api/v1/tasks/{task_id}/complete", {"data": FORWARD}, token)
    finally:
        server.kill()
    assert status == (200 if hook == "before-commit" else 409), body
    with Session(engine) as session:
        assert [e.task for e in events(session, case_id, "task_completed")] == [task_id]
        assert session.get(Case, case_id).status == "didisposisikan"
        assert_consistent(session, case_id)
