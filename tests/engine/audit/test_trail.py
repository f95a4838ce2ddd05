"""engine/audit/trail.py: each case's history is a hash chain anchored at its definition's content hash and
at its head on the case row; the database refuses to change it."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import scoped_session, sessionmaker

from engine.audit.trail import (
    BROKEN_BEYOND_HEAD,
    BROKEN_EVENT,
    BROKEN_GAP,
    BROKEN_HEAD,
    BROKEN_NO_HEAD,
    BROKEN_TAIL,
    AuditLog,
    ChainBreak,
    backfill_heads,
    canonical,
    event_hash,
    first_broken,
    guards_lifted,
    install_guards,
    verify_chain,
)
from engine.db.tables import AdminEvent, AuditEvent, Case, Definition
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


def forge(session, sql: str, params: dict) -> None:
    """Change the record behind the system's back: only the database owner, lifting the guard, can."""
    with guards_lifted(session.connection()):
        session.execute(text(sql), params)
    session.commit()


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
    forge(session, f"UPDATE audit_event SET {column} = :v WHERE case_id = :c AND seq = :s", {"v": value, "c": closed_case.id, "s": seq})
    assert first_broken(session, closed_case) == seq
    assert verify_chain(session, closed_case).reason == BROKEN_EVENT


def test_tampered_event_with_a_recomputed_hash_breaks_the_next_link(session, closed_case):
    seq = 3
    event = events(session, closed_case.id)[seq - 1]
    forged_data = canonical({"forged": True})
    forged_hash = event_hash(event.prev_hash, closed_case.id, seq, event.at, event.type, event.actor, event.task, forged_data)
    forged = {"d": forged_data, "h": forged_hash, "c": closed_case.id, "s": seq}
    forge(session, "UPDATE audit_event SET data = :d, hash = :h WHERE case_id = :c AND seq = :s", forged)
    assert first_broken(session, closed_case) == seq + 1


def test_deleted_event_is_found_at_the_first_event_after_the_gap(session, closed_case):
    forge(session, "DELETE FROM audit_event WHERE case_id = :c AND seq = 5", {"c": closed_case.id})
    assert verify_chain(session, closed_case) == ChainBreak(6, BROKEN_GAP)


def test_tampering_one_case_leaves_other_chains_intact(service, session):
    first = submit(service, COMPLAINT).case
    second = submit(service, COMPLAINT).case
    forge(session, "UPDATE audit_event SET data = '{}' WHERE case_id = :c AND seq = 1", {"c": first.id})
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


def test_events_are_written_by_their_own_sessions_flush_not_by_another_threads(db_engine, closed_case):
    """A web request's session is a scoped_session: the events one request appends must go out with its own transaction,
    never with a flush another thread's session makes meanwhile (that transaction rolls back here: they would be lost)."""
    sessions = scoped_session(sessionmaker(db_engine))
    case = sessions.get(Case, closed_case.id)
    assert case is not None
    last = events(sessions(), case.id)[-1]
    AuditLog(sessions).append(case, "note_added", "auditor", last.at, data={"text": "diperiksa"})

    def another_request() -> None:
        other = sessions()
        other.get(Definition, case.definition_id).note = "dibaca"  # type: ignore[union-attr]
        other.flush()
        other.rollback()
        sessions.remove()

    thread = threading.Thread(target=another_request)
    thread.start()
    thread.join()
    sessions.commit()
    assert first_broken(sessions(), case) is None
    assert events(sessions(), case.id)[-1].seq == last.seq + 1
    sessions.remove()


def test_the_systems_one_minute_steps_record_how_long_they_took(service, session):
    submitted = submit(service, COMPLAINT, TO_BALASAN)
    events = {e.type: json.loads(e.data) for e in session.scalars(select(AuditEvent).where(AuditEvent.case_id == submitted.case.id))}
    for step in ("complaint_recorded", "answer_published"):
        assert 0 <= events[step]["duration_ms"] < 60_000  # the SOP's standard time for the system's steps: 1 minute


# ---- the head on the case row: a removed tail is found ---------------------------------------------------


def test_case_row_keeps_the_head_of_its_chain(session, closed_case):
    last = events(session, closed_case.id)[-1]
    assert closed_case.audit_head == f"{last.seq}:{last.hash}"


def test_deleting_the_last_events_is_found_at_the_first_missing_seq(session, closed_case):
    last = events(session, closed_case.id)[-1].seq
    forge(session, "DELETE FROM audit_event WHERE case_id = :c AND seq > :s", {"c": closed_case.id, "s": last - 3})
    session.expire_all()
    assert verify_chain(session, session.get(Case, closed_case.id)) == ChainBreak(last - 2, BROKEN_TAIL)


def test_deleting_every_event_is_found(session, closed_case):
    forge(session, "DELETE FROM audit_event WHERE case_id = :c", {"c": closed_case.id})
    session.expire_all()
    assert verify_chain(session, session.get(Case, closed_case.id)) == ChainBreak(1, BROKEN_TAIL)


def test_replacing_the_last_event_and_its_hash_is_found_by_the_head(session, closed_case):
    last = events(session, closed_case.id)[-1]
    data = canonical({"forged": True})
    forged = event_hash(last.prev_hash, closed_case.id, last.seq, last.at, last.type, last.actor, last.task, data)
    forge(session, "UPDATE audit_event SET data = :d, hash = :h WHERE id = :i", {"d": data, "h": forged, "i": last.id})
    session.expire_all()
    assert verify_chain(session, session.get(Case, closed_case.id)) == ChainBreak(last.seq, BROKEN_HEAD)


def test_event_added_behind_the_systems_back_is_found(session, closed_case):
    last = events(session, closed_case.id)[-1]
    data = canonical({"text": "ditambahkan langsung"})
    digest = event_hash(last.hash, closed_case.id, last.seq + 1, last.at, "note_added", "x", None, data)
    session.add(
        AuditEvent(
            case_id=closed_case.id, seq=last.seq + 1, at=last.at, type="note_added", actor="x", task=None, data=data, prev_hash=last.hash, hash=digest
        )
    )
    session.commit()  # the case row's head is not moved: only AuditLog.append moves it
    session.expire_all()
    assert verify_chain(session, session.get(Case, closed_case.id)) == ChainBreak(last.seq + 1, BROKEN_BEYOND_HEAD)


def test_a_case_from_before_the_head_was_kept_is_anchored_by_the_backfill(session, closed_case):
    last = events(session, closed_case.id)[-1]
    session.execute(text('UPDATE "case" SET audit_head = NULL WHERE id = :c'), {"c": closed_case.id})
    session.commit()
    session.expire_all()
    assert verify_chain(session, session.get(Case, closed_case.id)) == ChainBreak(last.seq, BROKEN_NO_HEAD)
    assert backfill_heads(session.connection()) == 1
    session.commit()
    session.expire_all()
    assert session.get(Case, closed_case.id).audit_head == f"{last.seq}:{last.hash}"
    assert verify_chain(session, session.get(Case, closed_case.id)) is None


# ---- the database refuses to change the record -----------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_event SET data = '{}' WHERE case_id = :c AND seq = 2",
        "DELETE FROM audit_event WHERE case_id = :c AND seq = 2",
        "DELETE FROM audit_event",
    ],
)
def test_database_refuses_update_and_delete_of_audit_events(session, closed_case, sql):
    before = [(e.seq, e.data, e.hash) for e in events(session, closed_case.id)]
    with pytest.raises(IntegrityError, match="audit_event"):
        session.execute(text(sql), {"c": closed_case.id})
    session.rollback()
    assert [(e.seq, e.data, e.hash) for e in events(session, closed_case.id)] == before
    assert first_broken(session, closed_case) is None


def test_database_refuses_an_orm_change_of_an_audit_event(session, closed_case):
    events(session, closed_case.id)[0].actor = "orang lain"
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    assert first_broken(session, closed_case) is None


def test_postgresql_refuses_truncate_of_audit_events(session, closed_case):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's; SQLite's DELETE without WHERE is refused by the DELETE trigger")
    with pytest.raises(IntegrityError, match="audit_event"):
        session.execute(text("TRUNCATE audit_event CASCADE"))
    session.rollback()
    assert first_broken(session, closed_case) is None


def test_guards_install_idempotently_and_come_back_after_being_lifted(session, closed_case):
    install_guards(session.connection())
    install_guards(session.connection())
    session.commit()
    forge(session, "UPDATE audit_event SET actor = 'x' WHERE case_id = :c AND seq = 1", {"c": closed_case.id})
    with pytest.raises(IntegrityError):
        session.execute(text("UPDATE audit_event SET actor = 'y' WHERE case_id = :c AND seq = 1"), {"c": closed_case.id})
    session.rollback()


def test_inserting_events_stays_allowed(service, session):
    submit(service, COMPLAINT, TO_BALASAN)  # every command appends: the guard only refuses changes


# ---- administrative actions --------------------------------------------------------------------------------


def test_deploying_a_new_version_is_recorded_with_who_deployed_it(service, session):
    from engine.definitions.bundle import Bundle, project_bundle

    bundle = project_bundle()
    changed = Bundle(bundle.bpmn_name, {**bundle.files, bundle.bpmn_name: bundle.files[bundle.bpmn_name] + "\n<!-- v2 -->\n"})
    definition, created = service.deploy(changed, by="analis", note="uji")
    assert created
    _same, again = service.deploy(changed, by="analis")
    session.commit()
    assert not again
    recorded = session.scalars(select(AdminEvent).where(AdminEvent.action == "definition_deployed").order_by(AdminEvent.id)).all()
    assert [(e.actor, e.target, e.data["content_hash"], e.data["note"]) for e in recorded][-1] == (
        "analis",
        f"v{definition.number}",
        changed.content_hash,
        "uji",
    )
    assert len([e for e in recorded if e.data["content_hash"] == changed.content_hash]) == 1
