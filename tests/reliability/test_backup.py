"""`lapor backup FILE` / `lapor restore FILE`: every table as JSON lines, restored into an empty database,
where every case goes on and every history verifies. Backed up from the backend LAPOR_TEST_DB chooses,
restored into SQLite and into PostgreSQL (a backup moves between them).
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import CaseService, Conflict
from engine.audit.trail import first_broken
from engine.cases import incidents
from engine.db.backup import BackupError, backup, restore
from engine.db.connection import make_engine
from engine.db.schema import head_revision
from engine.db.tables import AuditEvent, Base, Case, OpenTask
from engine.worker import run_once
from tests.engine.support import KOMINFO, TO_BALASAN, TO_SELESAI, holder, open_rows, submit
from tests.reliability.support import assert_consistent
from tests.scenarios import ACCEPT_SATKER, ANSWER_SATKER, COMPLAINT, FORWARD_SATKER, PUBLISH, SATISFIED
from web.cli import main

BASE_URL = "http://lapor.test"
NEXT_STEP = {step.task: step.data for step in (FORWARD_SATKER, ACCEPT_SATKER, ANSWER_SATKER, PUBLISH)}


def _cli(url: str, *args: str):
    return CliRunner().invoke(main, list(args), env={"LAPOR_DATABASE_URL": url, "LAPOR_SECRET_KEY": "test"}, catch_exceptions=False)


def _all_rows(engine) -> dict[str, list[tuple]]:
    """Every row of every model table, in primary-key order, as the models read them (aware datetimes, JSON)."""
    rows = {}
    with Session(engine) as session:
        for table in Base.metadata.sorted_tables:
            rows[table.name] = [tuple(row) for row in session.execute(table.select().order_by(*table.primary_key.columns))]
    return rows


@pytest.fixture
def cases(service, session, clock, db_engine):
    """Cases at every stage: new, past a deadline (timer fired), awaiting the reply, closed, withdrawn; an incident."""
    made = {
        "new": submit(service, COMPLAINT),
        "late": submit(service, {**COMPLAINT, "category": "kesehatan"}, [FORWARD_SATKER, ACCEPT_SATKER]),
        "answered": submit(service, COMPLAINT, TO_BALASAN),
        "closed": submit(service, COMPLAINT, TO_SELESAI),
        "withdrawn": submit(service, COMPLAINT),
    }
    service.withdraw(made["withdrawn"].case.tracking_id, made["withdrawn"].access_token, "sudah diperbaiki")
    incidents.record(session, clock.now(), "complete_task", RuntimeError("uji"), actor="kominfo", case_id=made["new"].case.id)
    session.commit()
    clock.advance(days=3)
    assert run_once(lambda: Session(db_engine), clock, BASE_URL, None).timers_fired > 0
    return made


@pytest.mark.parametrize("target", ["sqlite", "postgresql"])
def test_a_backup_restored_into_an_empty_database_goes_on_and_verifies(db_url, db_engine, cases, new_database, tmp_path, clock, target):
    dump = tmp_path / "lapor.jsonl"
    result = _cli(db_url, "backup", str(dump))
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "lapor.jsonl.partial").exists()
    lines = dump.read_text().splitlines()
    header, end = json.loads(lines[0]), json.loads(lines[-1])
    assert (header["format"], header["revision"]) == ("lapor-backup", head_revision())
    assert end["rows"]["case"] == len(cases) and end["rows"]["audit_event"] > 0 and end["rows"]["incident"] == 1

    empty = new_database(target)
    result = _cli(empty, "restore", str(dump))
    assert result.exit_code == 0, result.output
    restored = make_engine(empty)
    try:
        assert _all_rows(restored) == _all_rows(db_engine), "every row of every table comes back as it was"
        with Session(restored) as session:
            service = CaseService(session, clock, BASE_URL)
            for case in session.scalars(select(Case)):
                assert first_broken(session, case) is None
            for name, made in cases.items():  # every open case takes its next step
                case_id = made.case.id
                rows = open_rows(session, case_id)
                if name in ("closed", "withdrawn"):
                    assert rows == []
                    continue
                [row] = rows
                if row.role == "masyarakat":
                    service.reply(made.case.tracking_id, made.access_token, SATISFIED.data)
                else:
                    service.complete_task(row.id, NEXT_STEP[row.spec_name], holder(row))
                session.commit()
                assert_consistent(session, case_id)
            assert session.get(Case, cases["answered"].case.id).status == "selesai"
            with pytest.raises(Conflict):
                service.withdraw(cases["withdrawn"].case.tracking_id, cases["withdrawn"].access_token)
            session.rollback()
            fresh = service.submit(COMPLAINT)  # new rows get new ids (the sequences moved past the restored ones)
            session.commit()
            assert fresh.case.id > max(made.case.id for made in cases.values())
            assert_consistent(session, fresh.case.id)
            clock.advance(days=30)
            assert run_once(lambda: Session(restored), clock, BASE_URL, None).timers_fired > 0  # timers run on
            for case in session.scalars(select(Case)):
                assert_consistent(session, case.id)
    finally:
        restored.dispose()


def test_restore_refuses_a_database_that_holds_data(db_url, cases, tmp_path):
    dump = tmp_path / "lapor.jsonl"
    assert _cli(db_url, "backup", str(dump)).exit_code == 0
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            before = session.scalar(select(func.count()).select_from(AuditEvent))
        result = _cli(db_url, "restore", str(dump))
        assert result.exit_code == 1 and "already holds data" in result.output
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(AuditEvent)) == before
    finally:
        engine.dispose()


def test_a_backup_cut_short_restores_nothing(db_url, cases, empty_db_url, tmp_path):
    dump = tmp_path / "lapor.jsonl"
    assert _cli(db_url, "backup", str(dump)).exit_code == 0
    lines = dump.read_text().splitlines(keepends=True)
    engine = make_engine(empty_db_url)
    try:
        with pytest.raises(BackupError, match="cut short"):
            restore(engine, lines[: len(lines) * 2 // 3])
        with Session(engine) as session:
            assert all(session.scalar(select(func.count()).select_from(table)) == 0 for table in Base.metadata.sorted_tables)
        restore(engine, lines)  # the whole file still goes in afterwards
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(Case)) == len(cases)
            assert session.scalar(select(func.count()).select_from(OpenTask)) > 0
    finally:
        engine.dispose()


def test_something_that_is_not_a_backup_is_refused(empty_db_url, tmp_path):
    engine = make_engine(empty_db_url)
    try:
        for content in ([], ["{}\n"], ['{"format": "lapor-backup", "version": 1, "revision": "nope"}\n']):
            with pytest.raises(BackupError):
                restore(engine, content)
    finally:
        engine.dispose()


def test_the_backup_reads_one_snapshot_while_the_service_writes(db_engine, service, clock):
    """A command committed while the backup is half-way through is wholly left out of it (and in the next one)."""
    first = submit(service, COMPLAINT)
    submit(service, COMPLAINT)
    written: list[str] = []
    interleaved: list[str] = []

    class Out:
        def write(self, text: str) -> None:
            written.append(text)
            record = json.loads(text)
            if isinstance(record, dict) and record.get("table") == "audit_event" and not interleaved:
                interleaved.append("completed")
                with Session(db_engine) as other:  # another process completes a task meanwhile
                    CaseService(other, clock, BASE_URL).complete_task(open_rows(other, first.case.id)[0].id, FORWARD_SATKER.data, KOMINFO)
                    other.commit()

    counts = backup(db_engine, Out())
    assert interleaved == ["completed"]
    with Session(db_engine) as fresh:
        assert counts["audit_event"] < fresh.scalar(select(func.count()).select_from(AuditEvent)), "the completion is not in this backup"
        assert counts["case"] == 2 and len([line for line in written if line.startswith("[")]) == sum(counts.values())
