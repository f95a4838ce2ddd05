"""The append-only, hash-chained history of each case.

Each event's hash covers the previous event's hash and the event's own canonical JSON; the first
event of a case chains from the content hash of the definition version the case runs on. The case
row keeps the chain's head (``Case.audit_head``, "seq:hash" of its last event), so removing the last
events is found too. The database itself refuses UPDATE, DELETE and TRUNCATE on ``audit_event``
(``install_guards``, run by the schema set-up).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, text
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, scoped_session

from engine.db.tables import AuditEvent, Case, Definition
from engine.messages import N_


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(prev_hash: str, case_id: int, seq: int, at: datetime, type_: str, actor: str, task: str | None, data: str) -> str:
    body = canonical({"case": case_id, "seq": seq, "at": at.astimezone(UTC).isoformat(), "type": type_, "actor": actor, "task": task, "data": data})
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


_INSERT = insert(AuditEvent.__table__)  # type: ignore[arg-type]
AuditMark = tuple[int, dict[int, tuple[int, str]]]  # how many events were pending, and each case's chain head then


@dataclass(frozen=True)
class Appended:
    """An event as appended: where it sits in its case's chain."""

    seq: int
    prev_hash: str
    hash: str


class AuditLog:
    """Appends events within the caller's transaction; remembers each case's chain head.

    The events wait in memory and are written by one multi-row INSERT when the session flushes next (each command
    appends several; one statement instead of one per event, and no ORM objects for rows nothing reads back)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._heads: dict[int, tuple[int, str]] = {}
        self._pending: list[dict[str, Any]] = []
        self._cases: dict[int, tuple[Case, str | None]] = {}  # each case appended to, with its row's head before
        # on this request's own Session: listening on a scoped_session (Flask-SQLAlchemy's db.session) would listen on
        # every session its factory makes, in every thread, and write these events in another request's transaction
        sa_event.listen(session() if isinstance(session, scoped_session) else session, "before_flush", self._write)

    def _write(self, session: Session, *_args: Any) -> None:
        if self._pending:
            rows, self._pending = self._pending, []
            session.connection().execute(_INSERT, rows)

    def mark(self) -> AuditMark:
        """Where the log stands now, for ``back_to``."""
        return len(self._pending), dict(self._heads)

    def back_to(self, mark: AuditMark) -> None:
        """Forget the events appended since ``mark`` (none of them written yet: nothing flushed since), and put each
        case row's head back where it stood then."""
        del self._pending[mark[0] :]
        self._heads = dict(mark[1])
        for case_id, (case, before) in self._cases.items():
            head = self._heads.get(case_id)
            case.audit_head = f"{head[0]}:{head[1]}" if head is not None else before

    def _head(self, case: Case) -> tuple[int, str]:
        if case.id in self._heads:
            return self._heads[case.id]
        head = _parse_head(case.audit_head)  # kept on the row by every append; a row from before it existed has none
        if head is not None:
            return head
        last = self.session.execute(
            select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq.desc()).limit(1)
        ).first()
        if last is not None:
            return last[0], last[1]
        definition_hash = self.session.get(Definition, case.definition_id).content_hash  # type: ignore[union-attr]
        return 0, definition_hash

    def begin(self, case: Case, genesis: str) -> None:
        """A case just made: its chain starts from ``genesis`` (its definition version's content hash), no query needed."""
        self._heads[case.id] = (0, genesis)

    def append(self, case: Case, type_: str, actor: str, at: datetime, task: str | None = None, data: Any = None) -> Appended:
        seq, prev = self._head(case)
        seq += 1
        data_json = canonical(data if data is not None else {})
        digest = event_hash(prev, case.id, seq, at, type_, actor, task, data_json)
        row = {"case_id": case.id, "seq": seq, "at": at, "type": type_, "actor": actor, "task": task, "data": data_json}
        self._pending.append({**row, "prev_hash": prev, "hash": digest})
        self._heads[case.id] = (seq, digest)
        self._cases.setdefault(case.id, (case, case.audit_head))
        case.audit_head = f"{seq}:{digest}"  # also makes the session dirty: its next flush writes the pending events
        return Appended(seq, prev, digest)


# A system step of the model failed after the command's input, which was kept: the case waits at that input (no
# event of the steps is written) until a retry. Written only by a command with an input of its own (a submission, a
# completed task, a reply), in its transaction, after the input's events; data: the BPMN ``element`` and its ``name``.
STEP_FAILED = "step_failed"
# A retry (the worker at ``case.retry_at``, or Admin Pusat's "Coba lagi") ran the system steps a case waited on, and
# they succeeded: the first event of the retry's command, before its fired timers and what the steps did; data: the
# ``incident`` it resolved, its ``element`` and ``name`` (None when none was open). A retry that fails again changes
# nothing in the case and writes no event (its incident counts it).
STEPS_RETRIED = "steps_retried"

# The events that start a command (an input the case received); every other event is what that
# command produced. One command is one step of a case's replay. A worker pass's timers fire together,
# and the timers a retry fires belong to the retry.
INPUT_TYPES = (
    "case_started",
    "task_completed",
    "timer_fired",
    "task_claimed",
    "task_unclaimed",
    "task_reassigned",
    "case_withdrawn",
    "addition_received",
    "note_added",  # staff wrote an internal note (engine/cases/notes.py): the data holds its hash, not its text
    "answer_file_added",  # a unit uploaded a document for its answer (engine/cases/attachments.py): its name, never its content
    "extension_requested",  # a unit asked for more time to answer (engine/cases/extensions.py)
    "interim_answer_published",  # a unit's interim answer went to the reporter; its task stays open
    STEPS_RETRIED,
    "case_migrated",  # an analyst moved the case to another version (engine/cases/migration.py)
    "case_migration_reverted",  # ... or moved it back
)


def step_numbers(events: Sequence[tuple[str, datetime]]) -> list[int]:
    """The step (1-based command number) of each event, given each event's (type, at) in seq order."""
    numbers: list[int] = []
    step = 0
    previous: tuple[str, datetime] | None = None
    for type_, at in events:
        same_timer_pass = type_ == "timer_fired" and previous is not None and previous in (("timer_fired", at), (STEPS_RETRIED, at))
        if (type_ in INPUT_TYPES and not same_timer_pass) or step == 0:
            step += 1
        numbers.append(step)
        previous = (type_, at)
    return numbers


# Why a chain does not verify (Indonesian: the history page and `lapor verify` show them).
BROKEN_EVENT = N_("Isi atau hash peristiwa ini tidak cocok dengan rantai.")
BROKEN_GAP = N_("Urutan peristiwa terputus: peristiwa sebelum ini hilang.")
BROKEN_TAIL = N_("Peristiwa terakhir hilang: riwayat lebih pendek daripada kepala rantai yang tercatat pada laporan.")
BROKEN_HEAD = N_("Kepala rantai yang tercatat pada laporan tidak cocok dengan peristiwa terakhir.")
BROKEN_BEYOND_HEAD = N_("Peristiwa ini ditambahkan di luar sistem: tidak tercatat pada kepala rantai laporan.")
BROKEN_NO_HEAD = N_("Laporan tidak mencatat kepala rantai riwayatnya.")


@dataclass(frozen=True)
class ChainBreak:
    """The first event (by seq) that does not verify, and why (one of the BROKEN_* texts)."""

    seq: int
    reason: str


def _parse_head(head: str | None) -> tuple[int, str] | None:
    if not head or ":" not in head:
        return None
    seq, _, digest = head.partition(":")
    return (int(seq), digest) if seq.isdigit() else None


def _genesis(session: Session, case: Case) -> str:
    """The hash the chain starts from: the definition version the case began on. A migrated case runs on
    another version now; its first migration event names the one it came from."""
    moves = select(AuditEvent.data).where(AuditEvent.case_id == case.id, AuditEvent.type == "case_migrated").order_by(AuditEvent.seq).limit(1)
    first_move = session.scalar(moves)
    if first_move is not None:
        return json.loads(first_move)["from_hash"]
    return session.get(Definition, case.definition_id).content_hash  # type: ignore[union-attr]


def verify_chain(session: Session, case: Case) -> ChainBreak | None:
    """Check a case's whole history: every link, no gap, and the head recorded on the case row.

    Returns None when it all verifies, else the first broken event. A removed tail is reported at
    the first missing seq.
    """
    prev = _genesis(session, case)
    expected_seq = 1
    for event in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq)):
        if event.seq != expected_seq:
            return ChainBreak(event.seq, BROKEN_GAP)
        if event.prev_hash != prev or event.hash != event_hash(prev, case.id, event.seq, event.at, event.type, event.actor, event.task, event.data):
            return ChainBreak(event.seq, BROKEN_EVENT)
        prev, expected_seq = event.hash, expected_seq + 1
    last_seq = expected_seq - 1
    head = _parse_head(case.audit_head)
    if head is None:
        return ChainBreak(max(last_seq, 1), BROKEN_NO_HEAD) if last_seq or case.audit_head else None
    head_seq, head_hash = head
    if head_seq > last_seq:
        return ChainBreak(last_seq + 1, BROKEN_TAIL)
    if head_seq < last_seq:
        return ChainBreak(head_seq + 1, BROKEN_BEYOND_HEAD)
    if head_hash != prev:
        return ChainBreak(last_seq, BROKEN_HEAD)
    return None


def first_broken(session: Session, case: Case) -> int | None:
    """Return the seq of the first event whose chain does not verify, or None if all do (see verify_chain)."""
    broken = verify_chain(session, case)
    return broken.seq if broken is not None else None


# ---- the database refuses to change the record -------------------------------------------------

_TABLE = AuditEvent.__tablename__
_REFUSED = "audit_event hanya boleh ditambah: UPDATE, DELETE dan TRUNCATE ditolak"
_SQLITE_TRIGGERS = {
    f"{_TABLE}_no_update": f"BEFORE UPDATE ON {_TABLE} BEGIN SELECT RAISE(ABORT, '{_REFUSED}'); END",
    f"{_TABLE}_no_delete": f"BEFORE DELETE ON {_TABLE} BEGIN SELECT RAISE(ABORT, '{_REFUSED}'); END",
}
_PG_FUNCTION = f"{_TABLE}_append_only"
_PG_TRIGGERS = {
    f"{_TABLE}_no_update_delete": f"BEFORE UPDATE OR DELETE ON {_TABLE} FOR EACH ROW",
    f"{_TABLE}_no_truncate": f"BEFORE TRUNCATE ON {_TABLE} FOR EACH STATEMENT",
}


def install_guards(connection: Connection) -> None:
    """Make ``audit_event`` append-only in the database itself (idempotent; SQLite and PostgreSQL).

    SQLite: BEFORE UPDATE / BEFORE DELETE triggers that abort. PostgreSQL: one trigger function,
    fired before UPDATE or DELETE of any row and before TRUNCATE. A refused statement raises
    sqlalchemy.exc.IntegrityError on both. Runs in the caller's transaction (schema set-up, a
    migration); the table must exist.
    """
    dialect = connection.dialect.name
    if dialect == "sqlite":
        for name, body in _SQLITE_TRIGGERS.items():
            connection.execute(text(f"CREATE TRIGGER IF NOT EXISTS {name} {body}"))
    elif dialect == "postgresql":
        connection.execute(
            text(
                f"CREATE OR REPLACE FUNCTION {_PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN RAISE EXCEPTION '{_REFUSED} (%)', TG_OP USING ERRCODE = 'restrict_violation'; END $$"
            )
        )
        present = set(connection.scalars(text(f"SELECT tgname FROM pg_trigger WHERE tgrelid = '\"{_TABLE}\"'::regclass")))
        for name, when in _PG_TRIGGERS.items():
            if name not in present:  # creating a trigger locks the table: only when it is missing
                connection.execute(text(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION {_PG_FUNCTION}()"))
    else:  # pragma: no cover - only the two supported backends
        raise NotImplementedError(f"no audit guard for {dialect}")


@contextmanager
def guards_lifted(connection: Connection) -> Iterator[None]:
    """Let the database owner change ``audit_event`` inside this block: the test suite resetting its
    tables, a test forging a record to show it is found. The guards are back when the block ends.

    PostgreSQL disables the triggers within the caller's transaction (a rollback restores them).
    SQLite drops and recreates them: commit or roll back the caller's transaction after the block.
    """
    if connection.dialect.name == "postgresql":
        for name in _PG_TRIGGERS:
            connection.execute(text(f'ALTER TABLE "{_TABLE}" DISABLE TRIGGER {name}'))
        yield
        for name in _PG_TRIGGERS:
            connection.execute(text(f'ALTER TABLE "{_TABLE}" ENABLE TRIGGER {name}'))
        return
    for name in _SQLITE_TRIGGERS:
        connection.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
    try:
        yield
    finally:
        install_guards(connection)


def backfill_heads(connection: Connection) -> int:
    """Set ``case.audit_head`` from each case's last stored event where it is missing (a migration
    adding the column runs this once). Returns how many cases were set."""
    rows = connection.execute(
        text(
            f'SELECT e.case_id, e.seq, e.hash FROM {_TABLE} e JOIN "case" c ON c.id = e.case_id '
            f"WHERE c.audit_head IS NULL AND e.seq = (SELECT max(seq) FROM {_TABLE} WHERE case_id = e.case_id)"
        )
    ).all()
    for case_id, seq, digest in rows:
        connection.execute(text('UPDATE "case" SET audit_head = :h WHERE id = :c'), {"h": f"{seq}:{digest}", "c": case_id})
    return len(rows)
