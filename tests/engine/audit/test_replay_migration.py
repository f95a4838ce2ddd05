"""engine/audit/replay.py across migrations: a case moved to another version (and back) replays as "cocok", step by step
on each version it ran on, and a forged move does not."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from engine import CaseService, Submitted
from engine.audit.replay import DIFF_EVENT, DIFF_MIGRATED, DIFF_UNDONE, replay_case, state_after
from engine.audit.trail import verify_chain
from engine.cases.migration import MIGRATED, REVERTED, Migrations
from engine.db.tables import Case, Definition
from engine.definitions.bundle import Bundle
from tests.engine.audit.support import assert_replays, forge, fresh, stored_events
from tests.engine.definitions.support import ANALIS, NO_PLAFON, RENAMED, variant
from tests.engine.support import (
    TO_SELESAI,
    do,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    fire_due,
    open_row,
    submit,
)
from tests.scenarios import ACCEPT_SATKER, ANSWER_SATKER, COMPLAINT, FORWARD_SATKER, PUBLISH, SATISFIED, Do

# version 3: version 2 with the unit's first task renamed too
RENAMED_TWICE = variant(
    ('name="Verifikasi laporan"', 'name="Verifikasi dan teruskan laporan"'), ('name="Terima laporan"', 'name="Terima dan pelajari laporan"')
)


def deployed(service: CaseService, bundle: Bundle) -> Definition:
    definition, _ = service.deploy(bundle, by="analis")
    service.session.commit()
    return definition


def go_on(service: CaseService, submitted: Submitted, *steps: Do) -> None:
    """People take ``steps``, a few minutes apart."""
    for step in steps:
        service.clock.advance(minutes=7)
        do(service, submitted, step)


def move(service: CaseService, submitted: Submitted, target: Definition) -> None:
    """An analyst moves the case to ``target`` a little later, and commits."""
    service.clock.advance(minutes=13)
    source = service.session.get(Definition, fresh(service.session, submitted).definition_id)
    [moved] = Migrations(service).migrate(source.number, [submitted.case.id], target.number, ANALIS)
    assert moved.ok, moved.reason
    service.session.commit()


def move_back(service: CaseService, submitted: Submitted) -> None:
    service.clock.advance(hours=2)
    assert Migrations(service).revert(submitted.case.id, ANALIS).ok
    service.session.commit()


def moves(session, case: Case) -> list[int]:
    """The version each recorded move took the case to."""
    return [json.loads(e.data)["to"] for e in stored_events(session, case.id) if e.type in (MIGRATED, REVERTED)]


def test_a_case_migrated_once_replays_to_its_end_on_the_target_version(service, session):
    submitted = submit(service, COMPLAINT)  # waits at Task_Disposisi, on version 1
    v2 = deployed(service, RENAMED)
    move(service, submitted, v2)
    go_on(service, submitted, *TO_SELESAI)
    case = fresh(session, submitted)
    assert (case.status, case.definition_id) == ("selesai", v2.id)

    result = assert_replays(session, case)
    assert result.steps == 7  # started, the move, the five steps of the SOP to its end
    moved = state_after(session, case, 2)
    assert moved.difference is None and [t["name"] for t in moved.active_tasks] == ["Verifikasi dan teruskan laporan"]
    assert [state_after(session, case, step).version for step in (1, 2, 7)] == [1, v2.number, v2.number]  # where each step ran


def test_a_case_migrated_and_reverted_replays_with_its_deadline_restored(service, session, clock):
    """Version 2 drops the disposition's national ceiling; the revert brings it back with its old instant, and it fires
    on replay at the instant it fired."""
    submitted = submit(service, COMPLAINT)
    ceiling = open_row(session, submitted.case.id, "Task_Disposisi").ceiling_at
    v2 = deployed(service, NO_PLAFON)
    move(service, submitted, v2)
    assert open_row(session, submitted.case.id, "Task_Disposisi").ceiling_at is None
    assert_replays(session, submitted.case)
    move_back(service, submitted)
    assert open_row(session, submitted.case.id, "Task_Disposisi").ceiling_at == ceiling
    assert_replays(session, submitted.case)
    clock.set(ceiling)
    clock.advance(minutes=1)
    fire_due(service)  # the SOP target and the restored national ceiling: the escalation
    go_on(service, submitted, FORWARD_SATKER, ACCEPT_SATKER)
    case = fresh(session, submitted)
    assert [e.type for e in stored_events(session, case.id)].count("timer_fired") == 2

    assert_replays(session, case)
    assert moves(session, case) == [2, 1]


def test_a_case_migrated_twice_replays_on_each_version_it_ran_on(service, session):
    submitted = submit(service, COMPLAINT)
    v2, v3 = deployed(service, RENAMED), deployed(service, RENAMED_TWICE)
    move(service, submitted, v2)
    go_on(service, submitted, FORWARD_SATKER)  # on version 2: now inside the unit's sub-process
    move(service, submitted, v3)
    go_on(service, submitted, ACCEPT_SATKER, ANSWER_SATKER, PUBLISH)
    case = fresh(session, submitted)
    assert (case.status, case.definition_id) == ("dijawab", v3.id)

    assert_replays(session, case)
    assert moves(session, case) == [2, 3]
    accepting = state_after(session, case, 4)  # after the second move
    assert [t["name"] for t in accepting.active_tasks] == ["Terima dan pelajari laporan"]
    go_on(service, submitted, SATISFIED)
    assert_replays(session, case)


def test_two_moves_in_a_row_replay_as_two_steps(service, session):
    submitted = submit(service, COMPLAINT)
    v2, v3 = deployed(service, RENAMED), deployed(service, RENAMED_TWICE)
    move(service, submitted, v2)
    move(service, submitted, v3)
    go_on(service, submitted, FORWARD_SATKER, ACCEPT_SATKER)
    case = fresh(session, submitted)
    assert case.definition_id == v3.id

    assert assert_replays(session, case).steps == 5
    assert moves(session, case) == [2, 3]


@pytest.fixture
def moved_and_back(service, session) -> Case:
    """A case moved to version 2, then back to version 1, then forwarded to a unit."""
    submitted = submit(service, COMPLAINT)
    move(service, submitted, deployed(service, NO_PLAFON))
    deployed(service, RENAMED)  # version 3: a version the case never ran on
    move_back(service, submitted)
    go_on(service, submitted, FORWARD_SATKER)
    return fresh(session, submitted)


@pytest.mark.parametrize(
    ("kind", "field", "forged", "reason", "path"),
    [
        (MIGRATED, "to", 3, DIFF_EVENT, "data.to"),  # the record says it went to another version than its hash names
        (MIGRATED, "to_hash", "version 3", DIFF_EVENT, "data.to"),  # the hash of version 3: the replay moves it there
        (MIGRATED, "to_hash", "0" * 64, DIFF_MIGRATED, ""),  # a version never deployed
        (REVERTED, "migration", 1, DIFF_UNDONE, ""),  # undoes a migration that is not one
    ],
)
def test_a_forged_move_is_found_at_its_step(session, moved_and_back, kind, field, forged, reason, path):
    case = moved_and_back
    assert replay_case(session, case).matches
    event = next(e for e in stored_events(session, case.id) if e.type == kind)
    if forged == "version 3":
        forged = session.scalar(select(Definition.content_hash).where(Definition.number == 3))
    data = {**json.loads(event.data), field: forged}
    forge(session, "UPDATE audit_event SET data = :data WHERE id = :id", data=json.dumps(data), id=event.id)
    case = fresh(session, case)
    assert verify_chain(session, case) is not None  # the chain says the record was changed; the replay says where it leads

    difference = replay_case(session, case).difference
    step = 2 if kind == MIGRATED else 3
    assert (difference.step, difference.seq, difference.reason, difference.type, difference.path) == (step, event.seq, reason, kind, path)
