"""engine/audit.py: each case's history is a hash chain anchored at its definition's content hash."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

from engine.audit import AuditLog, canonical, event_hash, first_broken
from engine.store import AuditEvent, Case, Definition
from tests.engine.support import (
    TO_BALASAN,
    TO_SELESAI,
    audit_types,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    submit,
)
from tests.scenarios import COMPLAINT


def events(session, case_id: int) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)))


@pytest.fixture
def closed_case(service, session) -> Case:
    """A case run from submission to selesai, committed step by step."""
    case = submit(service, COMPLAINT, TO_SELESAI).case
    session.expire_all()
    return session.get(Case, case.id)


def test_chain_of_a_full_case_verifies(session, closed_case):
    assert closed_case.status == "selesai"
    assert first_broken(session, closed_case) is None


def test_full_case_records_its_history_in_order(session, closed_case):
    types = audit_types(session, closed_case.id)
    assert types[0] == "case_started"
    assert types.count("task_completed") == 5
    assert {"complaint_recorded", "status_changed", "notification_queued", "answer_published"} <= set(types)
    assert [e.seq for e in events(session, closed_case.id)] == list(range(1, len(types) + 1))


def test_first_event_chains_from_the_definition_content_hash(session, closed_case):
    definition = session.get(Definition, closed_case.definition_id)
    first = events(session, closed_case.id)[0]
    assert first.prev_hash == definition.content_hash
    assert first.hash == event_hash(definition.content_hash, closed_case.id, 1, first.at, first.type, first.actor, first.task, first.data)


def test_each_event_carries_the_previous_hash(session, closed_case):
    chain = events(session, closed_case.id)
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(chain, chain[1:], strict=False))
    assert len({e.hash for e in chain}) == len(chain)


@pytest.mark.parametrize(
    ("column", "value"),
    [("data", '{"form":"pengaduan","data":{}}'), ("actor", "kominfo"), ("type", "case_withdrawn"), ("at", "2026-01-01 00:00:00.000000")],
)
def test_tampering_one_event_is_found_at_its_seq(session, closed_case, column, value):
    seq = 4
    session.execute(text(f"UPDATE audit_event SET {column} = :v WHERE case_id = :c AND seq = :s"), {"v": value, "c": closed_case.id, "s": seq})
    session.commit()
    assert first_broken(session, closed_case) == seq


def test_tampered_event_with_a_recomputed_hash_breaks_the_next_link(session, closed_case):
    seq = 3
    event = events(session, closed_case.id)[seq - 1]
    forged_data = canonical({"forged": True})
    forged_hash = event_hash(event.prev_hash, closed_case.id, seq, event.at, event.type, event.actor, event.task, forged_data)
    forged = {"d": forged_data, "h": forged_hash, "c": closed_case.id, "s": seq}
    session.execute(text("UPDATE audit_event SET data = :d, hash = :h WHERE case_id = :c AND seq = :s"), forged)
    session.commit()
    assert first_broken(session, closed_case) == seq + 1


def test_deleted_event_is_found_at_the_first_event_after_the_gap(session, closed_case):
    session.execute(text("DELETE FROM audit_event WHERE case_id = :c AND seq = 5"), {"c": closed_case.id})
    session.commit()
    assert first_broken(session, closed_case) == 6


def test_tampering_one_case_leaves_other_chains_intact(service, session):
    first = submit(service, COMPLAINT).case
    second = submit(service, COMPLAINT).case
    session.execute(text("UPDATE audit_event SET data = '{}' WHERE case_id = :c AND seq = 1"), {"c": first.id})
    session.commit()
    assert first_broken(session, first) == 1
    assert first_broken(session, second) is None


def test_event_data_is_canonical_json(session, closed_case):
    for event in events(session, closed_case.id):
        assert event.data == canonical(json.loads(event.data))


def test_append_continues_the_stored_chain(session, closed_case):
    last = events(session, closed_case.id)[-1]
    event = AuditLog(session).append(closed_case, "note_added", "auditor", last.at, data={"text": "diperiksa"})
    assert (event.seq, event.prev_hash) == (last.seq + 1, last.hash)
    session.commit()
    assert first_broken(session, closed_case) is None


def test_the_systems_one_minute_steps_record_how_long_they_took(service, session):
    submitted = submit(service, COMPLAINT, TO_BALASAN)
    events = {e.type: json.loads(e.data) for e in session.scalars(select(AuditEvent).where(AuditEvent.case_id == submitted.case.id))}
    for step in ("complaint_recorded", "answer_published"):
        assert 0 <= events[step]["duration_ms"] < 60_000  # the SOP's standard time for the system's steps: 1 minute
