"""Deterministic re-execution of a case from its record, in the spirit of Temporal's replayer.

A case is rebuilt from the start on the definition version it ran on: each recorded input (the
complaint, each completed form, each timer pass at its recorded instant, a claim, a reassignment, a
withdrawal, a retry of failed system steps) is applied again through the case façade itself, under a
FakeClock set to the instant it was recorded. The replay runs in a throwaway in-memory SQLite database
seeded with that definition and the units, so it never writes to the real database, whichever backend that is.

Failed system steps (engine/cases/service.py ``_advance``): a step whose record holds ``step_failed`` keeps its
input and does not run the system steps after it (they fail as recorded, at the recorded element, even if
the cause was transient), so the case waits as it did; ``steps_retried`` (the worker or Admin Pusat) runs
them again at its instant, with the timers then due. A retry or timer pass that failed left no record and
changed nothing but the case's open tasks' overdue flags, judged when it saved the case: the final state is
compared with the replay's open tasks judged at the stored case's ``updated_at`` (its last save).

A case moved to another version (``case_migrated``, ``case_migration_reverted``) replays across the move: the move is
a step of its own, applied again at its recorded instant, as its recorded actor, by the migration's own code
(``Migrations.apply``) to the version the event names by its content hash, and the steps after it run on that version.
The throwaway database starts with the version the case started on (a submission starts on the newest version held);
each version a move names is added from the stored ones at its first move there. A revert undoes the migration its
event names with that migration's data as the replay recorded it (the open tasks' ids are the replay's). A move whose
target version is not in the database is reported as not replayable (DIFF_MIGRATED).

After each step (one command: an input and what it produced) the events the replay produced are
compared with the stored ones; after the last, the rebuilt case (status, unit, version, deadlines, open tasks
and the serialized workflow with task ids normalised) with the stored case row. Ignored: ids,
hashes, task ids (a migration's ``open``), the measured ``duration_ms``, and the staff counts of ``notification_queued``
(they depend on who had an account that day); instants match within a minute (the SOP's standard
time for the system's own steps: a stored run reads the clock several times within one command).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Engine, bindparam, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool, StaticPool

from engine.audit.trail import STEP_FAILED, STEPS_RETRIED, step_numbers
from engine.cases import attachments, extensions, lookups, notes
from engine.cases.context import INTERIM
from engine.cases.migration import MIGRATED, REVERTED, Migrations
from engine.cases.service import CaseService, StepsFailedAsRecorded, Submitted, _Steps
from engine.cases.views import REDACTED
from engine.contract import SYSTEM, Actor
from engine.db.connection import make_engine
from engine.db.tables import AuditEvent, Base, Case, Definition, OpenTask, Unit
from engine.diagram.progress import overlay_of
from engine.diagram.render import Overlay
from engine.errors import EngineError, NotFound
from engine.messages import N_
from engine.runtime.serialization import state_json
from engine.runtime.warm import WarmWorkflows
from engine.timekeeping.calendar import WorkingCalendar
from engine.timekeeping.clock import FakeClock
from engine.timekeeping.timers import is_timer

TIME_TOLERANCE = timedelta(minutes=1)
IGNORED_DATA = {"duration_ms"}  # wall-clock measurements of the system's own steps
ENVIRONMENT_DATA = {
    "notification_queued": {"users", "mails"},  # depend on the staff accounts of the day
    # the incident a retry resolved: failed retries and timer passes (no record) and incidents marked resolved by hand
    # make the replay's incidents differ from the real ones
    STEPS_RETRIED: {"incident", "element", "name"},
}
TASK_ID_DATA = {MIGRATED: {"open"}}  # task ids differ between runs; the migration's ``open_tasks`` names the same tasks

# Why a replay differs (Indonesian: the history page and `lapor replay` show them).
DIFF_EVENT = N_("Peristiwa hasil putar ulang berbeda dengan yang tersimpan.")
DIFF_MISSING = N_("Putar ulang tidak menghasilkan peristiwa yang tersimpan ini.")
DIFF_EXTRA = N_("Putar ulang menghasilkan peristiwa yang tidak tersimpan.")
DIFF_STATE = N_("Keadaan akhir hasil putar ulang berbeda dengan keadaan laporan yang tersimpan.")
DIFF_REFUSED = N_("Mesin menolak masukan yang tersimpan saat diputar ulang.")
DIFF_FAILED = N_("Putar ulang gagal menjalankan masukan yang tersimpan.")
DIFF_NOT_OPEN = N_("Tugas masukan ini tidak terbuka pada putar ulang.")
DIFF_UNKNOWN = N_("Jenis peristiwa ini tidak dapat diputar ulang.")
DIFF_NO_START = N_("Riwayat tidak diawali peristiwa case_started.")
DIFF_MIGRATED = N_("Versi proses tujuan pemindahan ini tidak ada di basis data, sehingga pemindahan tidak dapat diputar ulang.")
DIFF_UNDONE = N_("Pemindahan yang dibatalkan oleh peristiwa ini tidak ada dalam riwayat hasil putar ulang.")
MOVES = (MIGRATED, REVERTED)


@dataclass(frozen=True)
class Recorded:
    """One stored audit event as the replay reads it (its data parsed)."""

    seq: int
    at: datetime
    type: str
    actor: str
    task: str | None
    data: dict[str, Any]


@dataclass(frozen=True)
class Step:
    """One command of the case: its input (the first event) and the events it produced."""

    number: int
    events: tuple[Recorded, ...]

    @property
    def input(self) -> Recorded:
        return self.events[0]

    @property
    def at(self) -> datetime:
        return self.events[0].at


@dataclass(frozen=True)
class Difference:
    """The first place where the replay and the record disagree.

    ``seq`` is the stored event's (None for an extra replayed event or the final state); ``path``
    names the differing field (``data.to``, ``status``, ``workflow.tasks.Task_Disposisi@0.0.1.state``).
    ``recorded`` and ``replayed`` are both sides, an anonymous reporter's identity redacted.
    """

    step: int
    seq: int | None
    reason: str
    type: str | None = None
    path: str = ""
    recorded: Any = None
    replayed: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "seq": self.seq,
            "reason": self.reason,
            "type": self.type,
            "path": self.path,
            "recorded": self.recorded,
            "replayed": self.replayed,
        }


@dataclass(frozen=True)
class ReplayResult:
    steps: int
    events: int
    difference: Difference | None

    @property
    def matches(self) -> bool:
        return self.difference is None


@dataclass
class StepState:
    """The case as it stood after ``step`` (of ``steps``), rebuilt by the replay."""

    step: int
    steps: int
    at: datetime | None
    input: dict[str, Any] | None
    status: str | None
    unit: str | None
    active_tasks: list[dict[str, Any]]
    completed_tasks: list[dict[str, Any]]
    timers_waiting: list[dict[str, Any]]
    timers_fired: list[dict[str, Any]]
    data: dict[str, Any]
    overlay: Overlay = field(default_factory=Overlay)
    difference: Difference | None = None
    version: int | None = None  # the process version the case ran on then (a recorded move changes it)

    def to_dict(self) -> dict[str, Any]:
        """The JSON the API answers (the diagram overlay left out)."""
        return {
            "step": self.step,
            "steps": self.steps,
            "at": _iso(self.at),
            "input": self.input,
            "status": self.status,
            "unit": self.unit,
            "active_tasks": self.active_tasks,
            "completed_tasks": self.completed_tasks,
            "timers_waiting": self.timers_waiting,
            "timers_fired": self.timers_fired,
            "data": self.data,
            "version": self.version,
            "matches": self.difference is None,
            "difference": self.difference.to_dict() if self.difference else None,
        }


class _NotReplayable(Exception):
    def __init__(self, reason: str, detail: Any = None) -> None:
        super().__init__(reason)
        self.reason, self.detail = reason, detail


class _ScratchService(CaseService):
    """The case façade over the throwaway database: the case keeps its recorded tracking id, and the system steps of a
    run fail where the record says they failed (``failing``: the element and its name)."""

    def __init__(self, session: Session, clock: FakeClock, tracking_id: str, calendar: WorkingCalendar | None) -> None:
        super().__init__(session, clock, calendar=calendar)
        self.warm = WarmWorkflows(capacity=1)  # its own: its throwaway case ids would push real cases out of the shared one
        self._tracking_id = tracking_id
        self.failing: tuple[str, str | None] | None = None

    def _unused_tracking_id(self) -> str:
        return self._tracking_id

    def _case_exists(self, tracking_id: str) -> bool:
        # another case a recorded input names (an archived duplicate's original) is not in the throwaway database; it
        # existed when the input was accepted, and the replay rebuilds this case only
        return True

    def _run_steps(self, workflow: BpmnWorkflow, steps: _Steps, timers_first: bool) -> None:
        if self.failing is not None:
            raise StepsFailedAsRecorded(*self.failing)
        super()._run_steps(workflow, steps, timers_first)

    def judge_open_tasks(self, case_id: int, at: datetime) -> None:
        """Judge the case's open tasks overdue at ``at``, as a save of the case then did (a failed timer pass or retry)."""
        case = self._case(case_id)
        parsed, workflow = self.load(case)
        self._sync_open_tasks(case, parsed, workflow.get_tasks(state=TaskState.READY, manual=True), at)
        self.session.flush()

    def recorded_note(self, case_id: int, actor: str, data: dict[str, Any]) -> None:
        """The recorded internal note: its event appended again with the recorded data (the text is not in the record,
        so no note row is written) and its mentioned units told, as the note did."""
        notes.append_event(self.session, self.audit, self.notifier, self._case(case_id), actor, self.clock.now(), data)
        self.session.flush()

    def retry_steps(self, case_id: int, actor: Actor) -> None:
        """The recorded retry: the system steps (and the timers then due) run again, whether or not the replay saw the
        case wait (a failed timer pass left no record)."""
        self._resume(self._case(case_id), actor, "retry")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# built once: building a statement costs more than running it for a step's few events
_EVENTS = (
    select(AuditEvent.seq, AuditEvent.at, AuditEvent.type, AuditEvent.actor, AuditEvent.task, AuditEvent.data)
    .where(AuditEvent.case_id == bindparam("case_id"), AuditEvent.seq > bindparam("after"))
    .order_by(AuditEvent.seq)
)


def _events(session: Session, case_id: int, after: int = 0) -> list[Recorded]:
    rows = session.connection().execute(_EVENTS, {"case_id": case_id, "after": after})  # Core: no ORM work per row
    return [Recorded(seq, at, type_, actor, task, json.loads(data)) for seq, at, type_, actor, task, data in rows]


def steps_of(events: list[Recorded]) -> list[Step]:
    """Group a case's events (in seq order) into its steps."""
    steps: list[list[Recorded]] = []
    for event, number in zip(events, step_numbers([(e.type, e.at) for e in events]), strict=True):
        if number > len(steps):
            steps.append([])
        steps[-1].append(event)
    return [Step(i, tuple(group)) for i, group in enumerate(steps, 1)]


_template: Engine | None = None  # the empty schema in memory, built once per process (create_all costs ~15 ms)
_template_lock = threading.Lock()


def _copy_of_template() -> sqlite3.Connection:
    """A fresh in-memory SQLite database holding the schema: a copy of the template (sqlite3's backup, well under 1 ms)."""
    global _template
    copy = sqlite3.connect(":memory:", check_same_thread=False)
    with _template_lock:
        if _template is None:
            # one connection, kept open: the database; copied from whichever thread asks (under the lock)
            _template = make_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
            Base.metadata.create_all(_template)
        with _template.connect() as template:
            template.connection.driver_connection.backup(copy)  # type: ignore[union-attr]
    return copy


# One engine for every replay, each connection its own throwaway database: statements compiled once per process, not
# once per replay (a fresh engine's cache is empty; the façade's ~30 statements cost ~20 ms to compile).
_scratch = make_engine("sqlite://", poolclass=NullPool, creator=_copy_of_template)


class Replay:
    """Rebuilds one case step by step in a throwaway database. Use as a context manager.

    ``redact`` hides the reporter's identity in what is reported (the complaint in ``data``, a
    difference's two sides); callers pass what the reader may see (views.SeenCase.hides_reporter).
    """

    def __init__(self, session: Session, case: Case, calendar: WorkingCalendar | None = None, redact: bool | None = None) -> None:
        self.case = case
        self.redact = case.anonymous if redact is None else redact
        self.recorded = _events(session, case.id)
        moves = [e for e in self.recorded if e.type in MOVES]
        self._versions: dict[str, Definition] = {}  # the stored versions its moves name, by content hash
        if moves:
            named = {h for e in moves for h in (e.data.get("from_hash"), e.data.get("to_hash")) if isinstance(h, str)}
            self._versions = {d.content_hash: d for d in session.scalars(select(Definition).where(Definition.content_hash.in_(named)))}
        started_on = self._stored(moves[0].data.get("from_hash")) if moves else None
        self.definition = started_on or session.get(Definition, case.definition_id)  # the version the case started on
        self.steps = steps_of(self.recorded)
        self.calendar = calendar
        # every unit the service has known, active: a unit closed since still resolves in old steps
        self._units = [
            {"id": uid, "name": name, "kind": kind, "active": True} for uid, name, kind in session.execute(select(Unit.id, Unit.name, Unit.kind))
        ]
        self._stored_tasks = lookups.open_tasks(session, case.id)
        self.applied = 0
        self.produced: list[Recorded] = []
        self.difference: Difference | None = None
        self._submitted: Submitted | None = None
        self._case_id = 0  # the replayed case's id, kept: reading it from the case object after a commit reloads the row
        self._final_checked = False

    # ---- the throwaway database -------------------------------------------------------------

    def __enter__(self) -> Replay:
        self._connection = _scratch.connect()
        self.scratch = Session(self._connection)
        assert self.definition is not None
        self._hold(self.definition)
        if self._units:
            self.scratch.execute(insert(Unit), self._units)
        self.scratch.commit()
        self.clock = FakeClock(self.steps[0].at if self.steps else self.case.submitted_at)
        self.service = _ScratchService(self.scratch, self.clock, self.case.tracking_id, self.calendar)
        return self

    def __exit__(self, *exc: object) -> None:
        self.scratch.close()
        self._connection.close()  # its database goes with it

    def _hold(self, d: Definition) -> None:
        """Add a stored definition version to the throwaway database, under its own id and number."""
        self.scratch.execute(
            insert(Definition).values(
                id=d.id,
                number=d.number,
                content_hash=d.content_hash,
                bundle=d.bundle,
                deployed_at=d.deployed_at,
                deployed_by=d.deployed_by,
                note=d.note,
            )
        )

    # ---- running ------------------------------------------------------------------------------

    def advance(self, upto: int | None = None) -> Difference | None:
        """Apply the steps up to ``upto`` (all by default), comparing each; after the last, compare the
        final state. Stops at the first difference. Returns it, or None."""
        target = len(self.steps) if upto is None else min(upto, len(self.steps))
        while self.difference is None and self.applied < target:
            self.difference = self._run(self.steps[self.applied])
        if self.difference is None and self.applied == len(self.steps) and not self._final_checked:
            self._final_checked = True
            self.difference = self._compare_final()
        return self.difference

    def _run(self, step: Step) -> Difference | None:
        first = step.input
        self.clock.set(first.at)
        before = self.produced[-1].seq if self.produced else 0
        failed = next((e for e in step.events if e.type == STEP_FAILED), None)
        self.service.failing = (str(failed.data.get("element")), failed.data.get("name")) if failed is not None else None
        try:
            self._apply(step.number, first)
            self.scratch.commit()
        except _NotReplayable as err:
            self.scratch.rollback()
            return Difference(step.number, first.seq, err.reason, first.type, replayed=self._shown(err.detail, ""))
        except EngineError as err:
            self.scratch.rollback()
            return Difference(step.number, first.seq, DIFF_REFUSED, first.type, replayed=err.message)
        except Exception as err:  # a model script failing on replay is a finding, not a crash of the page
            self.scratch.rollback()
            return Difference(step.number, first.seq, DIFF_FAILED, first.type, replayed=f"{type(err).__name__}: {err}")
        finally:
            self.service.failing = None
        produced = _events(self.scratch, self._case_id, before) if self._submitted else []
        self.produced.extend(produced)
        self.applied += 1
        return self._compare_events(step, produced)

    def _apply(self, number: int, event: Recorded) -> None:
        data = event.data
        if number == 1 or event.type == "case_started":
            if number != 1 or event.type != "case_started":
                raise _NotReplayable(DIFF_NO_START if number == 1 else DIFF_UNKNOWN, event.type)
            recorded_by = data.get("recorded_by")  # staff who typed in a complaint received by phone, letter, in person...
            author = Actor(event.actor, recorded_by.get("role", "")) if isinstance(recorded_by, dict) else None
            self._submitted = self.service.submit(data.get("data"), channel=data.get("channel", "web"), recorded_by=author)
            self._case_id = self._submitted.case.id
            return
        assert self._submitted is not None
        case = self._submitted.case
        if event.type in ("task_completed", INTERIM):  # an interim answer completes nothing: the same form
            row = self._open_row(spec=data.get("task"), unit=data.get("unit"), request_unit=data.get("request_unit"))
            self.service.complete_task(row.id, data.get("data"), Actor(event.actor, data.get("role", ""), data.get("unit")))
        elif event.type == extensions.REQUESTED:
            row = self._open_row(spec=data.get("element"), unit=data.get("unit"))
            request = {"working_days": data.get("working_days"), "reason": data.get("reason")}
            self.service.request_extension(row.id, request, Actor(event.actor, data.get("role", ""), data.get("unit")))
        elif event.type == "timer_fired":
            self.service.fire_timers(self._case_id)
        elif event.type == "task_claimed":
            row = self._open_row(task=event.task)
            self.service.claim(row.id, Actor(event.actor, row.role, row.unit_id))
        elif event.type == "task_unclaimed":
            row = self._open_row(task=event.task)
            self.service.unclaim(row.id, Actor(event.actor, "pusat"))  # the holder or Admin Pusat released it
        elif event.type == "task_reassigned":
            row = self._open_row(task=event.task, unit=data.get("from"))
            self.service.reassign(row.id, data.get("to", ""), Actor(event.actor, "pusat"), data.get("reason", ""))
        elif event.type == "case_withdrawn":
            self.service.withdraw(case.tracking_id, self._submitted.access_token, data.get("reason") or None)
        elif event.type == "addition_received":  # the reporter added to the complaint while it was not waiting for it
            self.service.add_to_complaint(case.tracking_id, self._submitted.access_token, data.get("text", ""))
        elif event.type == notes.NOTE_ADDED:  # the text is not recorded: the recorded data again proves the chain, not the note
            self.service.recorded_note(self._case_id, event.actor, data)
        elif event.type == attachments.ANSWER_FILE_ADDED:  # a unit's document: its row and event again, not its file
            row = self._open_row(spec=data.get("task"), unit=data.get("unit"))
            attachments.recorded_again(self.scratch, self.service.audit, case, row, event.actor, self.clock.now(), data)
        elif event.type == STEPS_RETRIED:  # the worker (sistem) or Admin Pusat ("Coba lagi")
            self.service.retry_steps(self._case_id, SYSTEM if event.actor == SYSTEM.username else Actor(event.actor, "pusat"))
        elif event.type in MOVES:
            self._move(event)
        else:
            raise _NotReplayable(DIFF_UNKNOWN, event.type)

    def _move(self, event: Recorded) -> None:
        """The recorded move applied again by the migration's own code, to the version the event names by its hash; a
        revert with the data of the migration it names, as the replay recorded that one (its open tasks' ids)."""
        undo = None
        if event.type == REVERTED:
            undone = next((e for e in self.produced if e.seq == event.data.get("migration") and e.type == MIGRATED), None)
            if undone is None:
                raise _NotReplayable(DIFF_UNDONE, event.data.get("migration"))
            undo = (undone.seq, undone.data)
        target = self._version(event.data.get("to_hash"))
        case = self.scratch.get(Case, self._case_id)
        assert case is not None
        moved = Migrations(self.service).apply(case, target, Actor(event.actor, "analis"), undo)  # analysts move cases
        if not moved.ok:
            raise _NotReplayable(DIFF_REFUSED, moved.reason)

    def _version(self, content_hash: Any) -> Definition:
        """The definition version with ``content_hash`` in the throwaway database, added from the stored ones if need be."""
        stored = self._stored(content_hash)
        if stored is None:
            raise _NotReplayable(DIFF_MIGRATED, content_hash)
        held = self.scratch.get(Definition, stored.id)
        if held is None:
            self._hold(stored)
            held = self.scratch.get(Definition, stored.id)
        assert held is not None
        return held

    def _stored(self, content_hash: Any) -> Definition | None:
        """The stored version a move names by its content hash (a forged hash may name none, or be no text)."""
        return self._versions.get(content_hash) if isinstance(content_hash, str) else None

    def _open_row(self, spec: str | None = None, task: str | None = None, unit: str | None = None, request_unit: str | None = None) -> OpenTask:
        """The replay's open task matching a recorded one: by BPMN id (task ids differ between runs), the unit holding it
        (several units each hold one) and, for Admin Kominfo's decision on a request for more time, the unit asking."""
        assert self._submitted is not None
        rows = lookups.open_tasks(self.scratch, self._case_id)
        spec = spec or self._task_specs.get(task or "")
        candidates = [r for r in rows if (spec is None or r.spec_name == spec) and (unit is None or r.unit_id == unit)]
        if request_unit is not None:
            workflow = self.service.workflow_of(self._submitted.case)[1]
            asked = {str(t.id): (t.data.get(extensions.REQUEST) or {}).get("unit") for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
            candidates = [r for r in candidates if asked.get(r.id) == request_unit]
        if not candidates and spec is None and len(rows) == 1:
            candidates = rows
        if not candidates:
            raise _NotReplayable(DIFF_NOT_OPEN, spec or task)
        return candidates[0]

    # ---- comparing ----------------------------------------------------------------------------

    def _compare_events(self, step: Step, produced: list[Recorded]) -> Difference | None:
        for index in range(max(len(step.events), len(produced))):
            if index >= len(produced):
                missing = step.events[index]
                return Difference(step.number, missing.seq, DIFF_MISSING, missing.type, "type", missing.type, None)
            if index >= len(step.events):
                extra = produced[index]
                return Difference(step.number, None, DIFF_EXTRA, extra.type, "type", None, extra.type)
            recorded, replayed = step.events[index], produced[index]
            left, right = _event_view(recorded), _event_view(replayed)
            found = next((f for key in ("type", "actor", "at", "data") if (f := _diff(left[key], right[key], key)) is not None), None)
            if found is not None:
                path, left, right = found
                return Difference(step.number, recorded.seq, DIFF_EVENT, recorded.type, path, self._shown(left, path), self._shown(right, path))
        return None

    def _compare_final(self) -> Difference | None:
        if self._submitted is None:
            return None
        case = self.scratch.get(Case, self._case_id)
        assert case is not None
        if self.case.updated_at > case.updated_at:  # saved since by a failed timer pass or retry (or later within the step)
            self.service.judge_open_tasks(case.id, self.case.updated_at)
        rows = lookups.open_tasks(self.scratch, case.id)
        # the workflow last: the first difference in key order, as one view holding it would give
        found = _diff(self._case_view(self.case, self._stored_tasks), self._case_view(case, rows), "") or _state_diff(self.case.state, case.state)
        if found is None:
            return None
        path, left, right = found
        last = self.steps[-1]
        return Difference(last.number, None, DIFF_STATE, None, path, self._shown(left, path), self._shown(right, path))

    @staticmethod
    def _case_view(case: Case, rows: Any) -> dict[str, Any]:
        """The case row and its open tasks as compared (its workflow apart: ``_state_diff``)."""
        return {
            "status": case.status,
            "unit": case.unit_id,
            "version": case.definition_hash,  # where the moves left it
            "late": bool(case.late),
            "breached": list(case.breached or []),
            "answer_text": case.answer_text,
            "answered_at": _iso(case.answered_at),
            "closed_at": _iso(case.closed_at),
            "next_timer_at": _iso(case.next_timer_at),
            "open_tasks": sorted(
                (
                    {
                        "task": r.spec_name,
                        "role": r.role,
                        "unit": r.unit_id,
                        "claimed_by": r.claimed_by,
                        "due_at": _iso(r.due_at),
                        "ceiling_at": _iso(r.ceiling_at),
                        "overdue": bool(r.overdue),
                    }
                    for r in rows
                ),
                key=lambda t: (t["task"], t["unit"] or ""),
            ),
        }

    @cached_property
    def _task_specs(self) -> dict[str, str]:
        """The stored state's task ids and their BPMN ids (a claim's event names the task by its id)."""
        try:
            return {tid: t.get("task_spec") for tid, t in state_json(self.case.state).get("tasks", {}).items()}
        except (ValueError, AttributeError):
            return {}

    def _shown(self, value: Any, path: str) -> Any:
        """A value as the reader may see it: the reporter's identity redacted when ``redact``."""
        if not self.redact:
            return value
        if "reporter" in path.split("."):
            return REDACTED
        return _without_reporter(value)

    # ---- the state after a step ---------------------------------------------------------------

    def _held_version(self, case: Case) -> int:
        """The number of the version ``case`` runs on in the throwaway database (each one it met is held there)."""
        held = self.scratch.get(Definition, case.definition_id)
        assert held is not None
        return held.number

    def state(self, now: datetime | None = None) -> StepState:
        """The case after the steps applied so far. ``now`` (after the last step) judges what is overdue;
        earlier steps are judged at their own instant."""
        step = self.steps[self.applied - 1] if self.applied else None
        at = step.at if step else None
        if self.applied < len(self.steps) or now is None:
            now = at or self.clock.now()
        if self._submitted is None:
            return StepState(self.applied, len(self.steps), at, None, None, None, [], [], [], [], {}, Overlay(), self.difference)
        case = self.scratch.get(Case, self._case_id)
        assert case is not None
        parsed, workflow = self.service.workflow_of(case)
        rows = lookups.open_tasks(self.scratch, case.id)
        active = [
            {
                "task": r.spec_name,
                "name": r.name,
                "form": r.form,
                "lane": r.lane,
                "role": r.role,
                "unit": r.unit_id,
                "claimed_by": r.claimed_by,
                "due_at": _iso(r.due_at),
                "ceiling_at": _iso(r.ceiling_at),
                "overdue": bool(r.overdue or (r.due_at is not None and r.due_at <= now)),
            }
            for r in rows
        ]
        completed = [
            {
                "seq": e.seq,
                "at": _iso(e.at),
                "task": e.data.get("task"),
                "name": e.data.get("name"),
                "form": e.data.get("form"),
                "actor": e.actor,
                "role": e.data.get("role"),
                "unit": e.data.get("unit"),
                "data": e.data.get("data"),
            }
            for e in self.produced
            if e.type == "task_completed"
        ]
        waiting = [
            {"timer": t.task_spec.bpmn_id, "name": t.task_spec.bpmn_name, "due": t.internal_data.get("event_value")}
            for t in workflow.get_tasks(state=TaskState.WAITING)
            if is_timer(t)
        ]
        fired = [
            {"seq": e.seq, "at": _iso(e.at), "timer": e.data.get("timer"), "name": e.data.get("name"), "due": e.data.get("due")}
            for e in self.produced
            if e.type == "timer_fired"
        ]
        last = workflow.last_task
        data = json.loads(json.dumps(last.data if last is not None else {}, default=str))
        first = step.input if step else None
        return StepState(
            step=self.applied,
            steps=len(self.steps),
            at=at,
            input={"seq": first.seq, "type": first.type, "actor": first.actor} if first else None,
            status=case.status,
            unit=case.unit_id,
            active_tasks=active,
            completed_tasks=completed,
            timers_waiting=waiting,
            timers_fired=fired,
            data=_without_reporter(data, None) if self.redact else data,  # as views.redact_complaint does
            overlay=overlay_of(parsed, workflow, now),
            difference=self.difference,
            version=self._held_version(case),
        )


# ---- what callers use -------------------------------------------------------------------------


def replay_case(session: Session, case: Case, calendar: WorkingCalendar | None = None, redact: bool | None = None) -> ReplayResult:
    """Rebuild ``case`` from its record and compare every step and the final state. Never writes to ``session``."""
    with Replay(session, case, calendar, redact) as replay:
        difference = replay.advance()
        return ReplayResult(len(replay.steps), len(replay.recorded), difference)


def state_after(
    session: Session,
    case: Case,
    step: int | None = None,
    now: datetime | None = None,
    calendar: WorkingCalendar | None = None,
    redact: bool | None = None,
) -> StepState:
    """The case as it stood after step ``step`` (1..steps; the last by default), rebuilt by the replay.

    Raises NotFound for a step outside 1..steps. If the replay differs from the record before that
    step, the state is the one reached and ``difference`` says where it stopped.
    """
    with Replay(session, case, calendar, redact) as replay:
        steps = len(replay.steps)
        step = steps if step is None else step
        if not 1 <= step <= steps:
            raise NotFound(N_("Langkah %(step)s tidak ada; laporan ini punya %(steps)s langkah."), step=step, steps=steps)
        replay.advance(step if step < steps else None)
        return replay.state(now)


# ---- normalising and comparing ------------------------------------------------------------------


def _event_view(event: Recorded) -> dict[str, Any]:
    skip = IGNORED_DATA | ENVIRONMENT_DATA.get(event.type, set()) | TASK_ID_DATA.get(event.type, set())
    data = {k: v for k, v in event.data.items() if k not in skip} if isinstance(event.data, dict) else event.data
    return {"type": event.type, "actor": event.actor, "at": _iso(event.at), "data": data}


def _normal_parts(state: str) -> tuple[dict[str, Any], dict[str, str]]:
    """A serialized workflow (its ``serializer_version`` left out) and the name of each task id: its place in the tree
    (spec@path), so that two runs of the same inputs, whose task ids differ, compare equal (``_diff`` renames)."""
    try:
        dct = state_json(state)
    except ValueError:
        return {"unreadable": state[:200]}, {}
    names: dict[str, str] = {}

    def name_tree(workflow: dict[str, Any], prefix: str) -> None:
        tasks: dict[str, Any] = workflow.get("tasks", {})
        root = workflow.get("root")
        pending = [(root, "0")] if root in tasks else []
        while pending:
            task_id, place = pending.pop()
            names[task_id] = f"{prefix}{tasks[task_id].get('task_spec')}@{place}"
            children = enumerate(tasks[task_id].get("children", []))
            pending.extend((child, f"{place}.{i}") for i, child in children if child in tasks and child not in names)  # a forged cycle ends

    name_tree(dct, "")
    # a sub-process (each instance of a multi-instance one) is a workflow of its own, keyed by the task that runs it
    subprocesses: dict[str, Any] = dct.get("subprocesses", {})
    pending_subs = list(subprocesses)
    while pending_subs:
        owner = next((sid for sid in pending_subs if sid in names), None)
        if owner is None:  # a cancelled workflow keeps its sub-processes without the tasks that ran them: name them in order
            owner = pending_subs[0]
            names[owner] = f"{subprocesses[owner].get('spec')}~{len(subprocesses) - len(pending_subs)}"
        pending_subs.remove(owner)
        name_tree(subprocesses[owner], f"{names[owner]}/")
    return {k: v for k, v in dct.items() if k != "serializer_version"}, names


def _state_diff(recorded: str, replayed: str) -> tuple[str, Any, Any] | None:
    """The first difference between two serialized workflows, task ids named by their place and the wall-clock
    ``last_state_change`` dropped, found in one walk over both (no normalised copy of either)."""
    (left, left_names), (right, right_names) = _normal_parts(recorded), _normal_parts(replayed)
    return _diff(left, right, "workflow", (left_names, right_names))


def _renamed(value: Any, names: dict[str, str]) -> Any:
    """``value`` with each task id replaced by its name and ``last_state_change`` dropped."""
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, list):
        return [_renamed(v, names) for v in value]
    if isinstance(value, dict):
        return {names.get(k, k): _renamed(v, names) for k, v in value.items() if k != "last_state_change"}
    return value


def _instant(value: str) -> datetime | None:
    if len(value) < 19 or value[4] != "-" or value[10] not in "T ":
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _diff(recorded: Any, replayed: Any, path: str, names: tuple[dict[str, str], dict[str, str]] | None = None) -> tuple[str, Any, Any] | None:
    """The first (path, recorded, replayed) where two JSON values differ; instants within TIME_TOLERANCE are equal.

    With ``names`` (each side's task names, ``_normal_parts``) the two are serialized workflows, compared as ``_renamed``
    would leave them; a part identical on both sides as stored holds no task id of either run (they differ between runs)
    and is not walked, which spares walking the tasks' data (most of a state)."""
    if names is not None:
        if isinstance(recorded, dict) and isinstance(replayed, dict):
            recorded = {names[0].get(k, k): v for k, v in recorded.items() if k != "last_state_change"}
            replayed = {names[1].get(k, k): v for k, v in replayed.items() if k != "last_state_change"}
        elif isinstance(recorded, str) or isinstance(replayed, str) or type(recorded) is not type(replayed):
            recorded, replayed = _renamed(recorded, names[0]), _renamed(replayed, names[1])
            names = None
    if isinstance(recorded, dict) and isinstance(replayed, dict):
        for key in sorted(set(recorded) | set(replayed), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in recorded or key not in replayed:
                if names is not None:
                    return sub, _renamed(recorded.get(key), names[0]), _renamed(replayed.get(key), names[1])
                return sub, recorded.get(key), replayed.get(key)
            if names is not None and _identical(recorded[key], replayed[key]):
                continue
            found = _diff(recorded[key], replayed[key], sub, names)
            if found is not None:
                return found
        return None
    if isinstance(recorded, list) and isinstance(replayed, list):
        for index, (left, right) in enumerate(zip(recorded, replayed, strict=False)):
            if names is not None and _identical(left, right):
                continue
            found = _diff(left, right, f"{path}.{index}" if path else str(index), names)
            if found is not None:
                return found
        if len(recorded) != len(replayed):
            return f"{path}.length" if path else "length", len(recorded), len(replayed)
        return None
    if isinstance(recorded, str) and isinstance(replayed, str) and recorded != replayed:
        left, right = _instant(recorded), _instant(replayed)
        if left is not None and right is not None and abs(left - right) <= TIME_TOLERANCE:
            return None
    if recorded != replayed or type(recorded) is not type(replayed):
        return path, recorded, replayed
    return None


def _identical(left: Any, right: Any) -> bool:
    """Equal JSON values of the same types, in the same order (``==`` alone takes 60 and 60.0 as equal), compared in C."""
    if type(left) is not type(right) or left != right:
        return False
    return not isinstance(left, dict | list) or repr(left) == repr(right)


def _without_reporter(value: Any, mark: Any = REDACTED) -> Any:
    """``value`` with every ``reporter`` (name, email, phone) replaced by ``mark``."""
    if isinstance(value, dict):
        return {k: (mark if k == "reporter" and v is not None else _without_reporter(v, mark)) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_reporter(v, mark) for v in value]
    return value


def step_count(session: Session, case: Case) -> int:
    """How many steps (commands) a case's record holds."""
    types = session.execute(select(AuditEvent.type, AuditEvent.at).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq)).all()
    numbers = step_numbers([(t, at) for t, at in types])
    return numbers[-1] if numbers else 0
