"""Moving running cases to another version of the definition (a dry run first), and reverting a move.

One audit event ``case_migrated`` per case moved, ``case_migration_reverted`` per revert. A case moves when every
task it is waiting on exists in the target version under the same id and in the same place, and every step it
already took does too; otherwise the dry run says why not. The task instances keep their ids, data and claims;
deadlines already running keep their instant; a timer the target adds starts at the migration, one it removes is
dropped (and comes back with its old instant on a revert: the event keeps every armed timer's due instant, no
personal data).

Nothing here commits; SpiffWorkflow's own ``bpmn.util.diff.migrate_workflow`` was the model for the migration step
(align task specs by BPMN id, then reset and re-predict what waits), adapted to keep ids, data and timers.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Select, select
from sqlalchemy.orm.attributes import set_committed_value

from engine.cases.service import CaseService
from engine.contract import LANE_ROLES, OPEN_STATUSES, Actor
from engine.db.tables import AuditEvent, Case, Definition, OpenTask
from engine.definitions.parsing import Parsed
from engine.definitions.versions import MSG_NO_VERSION, version  # noqa: F401 - a version not found is said here too: MESSAGES lists it
from engine.errors import Conflict, NotFound
from engine.messages import N_
from engine.runtime.scripting import RunContext, running
from engine.runtime.serialization import state_serializer
from engine.timekeeping import clock as clocks
from engine.timekeeping.timers import is_timer

MIGRATED = "case_migrated"
REVERTED = "case_migration_reverted"

# Why a case cannot move, and what moving changes for it.
MSG_CLOSED = N_("Laporan sudah selesai atau dicabut.")
MSG_SAME = N_("Laporan sudah berjalan pada versi %(number)s.")
MSG_OPEN_TASK = N_("Tugas yang sedang terbuka '%(task)s' tidak ada di versi %(number)s.")
MSG_HISTORY = N_("Laporan sudah melewati '%(task)s', yang tidak ada di versi %(number)s.")
MSG_WAITING = N_("Langkah '%(task)s' sedang menunggu dan tidak ada di versi %(number)s.")
MSG_STRUCTURE = N_(
    "Letak '%(task)s' di versi %(number)s berbeda (mis. timer batas ditambah atau dihapus seluruhnya); laporan tidak dapat dipindahkan."
)
MSG_CHECK = N_("Pemeriksaan setelah pemindahan gagal: %(detail)s")
MSG_NOTHING_TO_REVERT = N_("Tidak ada migrasi laporan ini yang dapat dibatalkan.")
MSG_CONFLICT_CHANGED = N_("Laporan %(tracking_id)s tidak dapat dipindahkan: %(reason)s")
NOTE_TIMER_ADDED = N_("Timer baru '%(timer)s' mulai dihitung saat pemindahan.")
NOTE_TIMER_REMOVED = N_("Timer '%(timer)s' tidak ada di versi tujuan dan dihapus.")
NOTE_TIMER_RESTORED = N_("Timer '%(timer)s' kembali dengan batas semula.")
NOTE_FORM = N_("Formulir tugas '%(task)s' berubah: %(old)s → %(new)s.")
NOTE_LANE = N_("Tugas '%(task)s' pindah lajur: %(old)s → %(new)s.")
MESSAGES = tuple(value for name, value in sorted(globals().items()) if name.startswith(("MSG_", "NOTE_")))


@dataclass
class MigrationCheck:
    """What moving one case would do (a dry run) or did. ``reason`` (why not) and ``notes`` are Indonesian sentences."""

    case_id: int
    tracking_id: str
    status: str
    from_number: int
    to_number: int
    open_tasks: list[str] = field(default_factory=list)  # names of the tasks the case waits on
    reason: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.reason is None


@dataclass(frozen=True)
class MigrationRecord:
    """A ``case_migrated`` event as the versions page lists it."""

    case_id: int
    tracking_id: str
    seq: int
    at: datetime
    actor: str
    from_number: int
    to_number: int
    reverted: bool
    revertible: bool


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _name(spec: Any) -> str:
    return getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or spec.name


class Migrations:
    """Moves open cases between versions within the caller's transaction (one ``CaseService`` per request or command)."""

    def __init__(self, service: CaseService) -> None:
        self.service = service
        self.session = service.session

    def open_cases(self, number: int, limit: int = 500) -> list[Case]:
        """Open cases running on version ``number``, oldest first. Raises NotFound (no such version)."""
        return list(self.session.scalars(self._open_on(number).limit(limit)))

    def check(self, from_number: int, case_ids: Iterable[int], to_number: int) -> list[MigrationCheck]:
        """The dry run: what moving each of ``case_ids`` that is open on version ``from_number`` to version ``to_number``
        would do, oldest first; any other id is left out, unlisted. Nothing is written. Raises NotFound (a version)."""
        target = version(self.session, to_number)
        return [self._move(case, target, None, write=False)[0] for case in self._picked(from_number, case_ids)]

    def migrate(self, from_number: int, case_ids: Iterable[int], to_number: int, actor: Actor) -> list[MigrationCheck]:
        """Move each of ``case_ids`` that is open on version ``from_number`` and can move to version ``to_number`` (one
        ``case_migrated`` audit event each); the others open there are left as they are and come back with their
        reason, any other id is left out, unlisted. Raises NotFound (a version), Conflict (a case changed meanwhile)."""
        target = version(self.session, to_number)
        return [self.apply(case, target, actor) for case in self._picked(from_number, case_ids)]

    def _open_on(self, number: int) -> Select[Case]:
        definition = version(self.session, number)
        return select(Case).where(Case.definition_id == definition.id, Case.status.in_(OPEN_STATUSES)).order_by(Case.submitted_at, Case.id)

    def _picked(self, from_number: int, case_ids: Iterable[int]) -> list[Case]:
        """The open cases of version ``from_number`` among ``case_ids``: a closed case, or one on another version, is
        neither moved nor shown (analysts see no case, so a picked id must not reveal one)."""
        wanted = set(case_ids)
        return list(self.session.scalars(self._open_on(from_number).where(Case.id.in_(wanted)))) if wanted else []

    def revert(self, case_id: int, actor: Actor) -> MigrationCheck:
        """Undo the case's latest migration: back to the version it came from, its deadlines as they were.

        Raises NotFound, Conflict (nothing to revert, or the case can no longer move back: the reason says why).
        """
        case = self._case(case_id)
        record = next((r for r in reversed(self.records(case_id=case.id)) if r.revertible), None)
        if record is None:
            raise Conflict(MSG_NOTHING_TO_REVERT)
        event = self.session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id, AuditEvent.seq == record.seq))
        assert event is not None
        result = self.apply(case, version(self.session, record.from_number), actor, undo=(record.seq, json.loads(event.data)))
        if not result.ok:
            raise Conflict(MSG_CONFLICT_CHANGED, tracking_id=case.tracking_id, reason=result.reason)
        return result

    def records(self, number: int | None = None, case_id: int | None = None) -> list[MigrationRecord]:
        """Migrations, oldest first: all, those into or out of version ``number``, or one case's."""
        query = select(AuditEvent, Case.tracking_id, Case.definition_id, Case.status).join(Case, Case.id == AuditEvent.case_id)
        query = query.where(AuditEvent.type.in_((MIGRATED, REVERTED)))
        if case_id is not None:
            query = query.where(AuditEvent.case_id == case_id)
        rows = self.session.execute(query.order_by(AuditEvent.case_id, AuditEvent.seq)).all()
        numbers = dict(self.session.execute(select(Definition.id, Definition.number)).all())
        undone = {(e.case_id, json.loads(e.data).get("migration")) for e, *_ in rows if e.type == REVERTED}
        latest = {e.case_id: e.seq for e, *_ in rows}  # rows are ordered: the last one of each case wins
        records: list[MigrationRecord] = []
        for event, tracking_id, definition_id, status in rows:
            data = json.loads(event.data)
            if event.type != MIGRATED or (number is not None and number not in (data["from"], data["to"])):
                continue
            reverted = (event.case_id, event.seq) in undone
            revertible = not reverted and latest[event.case_id] == event.seq and numbers.get(definition_id) == data["to"] and status in OPEN_STATUSES
            records.append(
                MigrationRecord(event.case_id, tracking_id, event.seq, event.at, event.actor, data["from"], data["to"], reverted, revertible)
            )
        return records

    # ---- the move itself ------------------------------------------------------------------------

    def apply(self, case: Case, target: Definition, actor: Actor, undo: tuple[int, dict[str, Any]] | None = None) -> MigrationCheck:
        """Move ``case`` to ``target`` now, or with ``undo`` (the seq of a ``case_migrated`` event and its data) move it
        back as that migration's revert; one audit event. ``migrate`` and ``revert`` move through here, and so does the
        replay of a recorded move (engine/audit/replay.py). A case that cannot move is left as it was: ``reason`` says why."""
        return self._move(case, target, actor, write=True, undo=undo)[0]

    def _case(self, case_id: int) -> Case:
        case = self.session.get(Case, case_id)
        if case is None:
            raise NotFound(N_("Laporan tidak ditemukan."))
        return case

    def _move(
        self, case: Case, target: Definition, actor: Actor | None, write: bool, undo: tuple[int, dict[str, Any]] | None = None
    ) -> tuple[MigrationCheck, BpmnWorkflow | None]:
        service = self.service
        source = self.session.get(Definition, case.definition_id)
        assert source is not None
        result = MigrationCheck(case.id, case.tracking_id, case.status, source.number, target.number)
        if case.status not in OPEN_STATUSES:
            result.reason = MSG_CLOSED
            return result, None
        if target.id == source.id:
            result.reason = MSG_SAME % {"number": target.number}
            return result, None
        with self.session.no_autoflush:  # the case row is written once, in save, where a stale version is a Conflict
            old, workflow = service.load(case)
            new = service.parsed_for(target)
            result.open_tasks = [_name(t.task_spec) for t in workflow.get_tasks(state=TaskState.READY, manual=True)]
            before = self._armed(workflow)
            try:
                with clocks.using(service.clock), running(RunContext(units=service.units(), calendar=service.calendar)):
                    result.notes = self._remap(workflow, old, new, target.number, undo[1] if undo else None)
                state = state_serializer().dumps(workflow)
                reloaded = state_serializer().loads(state, new.spec, new.subprocess_specs)
                opened = sorted(str(t.id) for t in reloaded.get_tasks(state=TaskState.READY, manual=True))
                if opened != sorted(before["open"]):
                    raise _Refused(MSG_CHECK % {"detail": "tugas yang terbuka berbeda"})
            except _Refused as refused:
                result.reason = refused.reason
                return result, None
            if not write:
                return result, workflow
            assert actor is not None
            now = service.clock.now()
            if undo is None:
                data = {"from": source.number, "to": target.number, "from_hash": source.content_hash, "to_hash": target.content_hash, **before}
                service.audit.append(case, MIGRATED, actor.username, now, data=data)
            else:
                data = {"from": source.number, "to": target.number, "from_hash": source.content_hash, "to_hash": target.content_hash}
                service.audit.append(case, REVERTED, actor.username, now, data={**data, "migration": undo[0]})
            case.definition_id = target.id
            set_committed_value(case, "definition_hash", target.content_hash)  # read with the row: the row read said the old one
            service.save(case, new, workflow)
            self._retitle_open_tasks(case, new)
            self.session.flush()
            return result, workflow

    @staticmethod
    def _armed(workflow: BpmnWorkflow) -> dict[str, Any]:
        """The tasks the case waits on and the due instant of every armed timer, as the migration event keeps them."""
        timers = {}
        for task in workflow.get_tasks(state=TaskState.WAITING):
            if is_timer(task) and isinstance(task.internal_data.get("event_value"), str):
                timers[task.task_spec.name] = task.internal_data["event_value"]
        opened = [str(t.id) for t in workflow.get_tasks(state=TaskState.READY, manual=True)]
        return {"open": opened, "open_tasks": [t.task_spec.name for t in workflow.get_tasks(state=TaskState.READY, manual=True)], "timers": timers}

    def _remap(self, workflow: BpmnWorkflow, old: Parsed, new: Parsed, number: int, undo: dict[str, Any] | None) -> list[str]:
        """Point every task of ``workflow`` and of its running sub-processes (each unit's copy of a unit's sub-process) at
        the same-named spec of ``new``; re-predict what waits. Raises _Refused. Returns the notes for the analyst."""
        notes = self._remap_one(workflow, old.spec, new.spec, old, new, number, undo)
        workflow.subprocess_specs = new.subprocess_specs
        for sub in workflow.subprocesses.values():
            target = new.subprocess_specs.get(sub.spec.name)
            if target is None:
                raise _Refused(MSG_OPEN_TASK % {"task": sub.spec.description or sub.spec.name, "number": number})
            old_spec = old.subprocess_specs.get(sub.spec.name, sub.spec)
            notes.extend(note for note in self._remap_one(sub, old_spec, target, old, new, number, undo) if note not in notes)
        return notes

    def _remap_one(
        self, workflow: Any, old_spec: Any, new_spec: Any, old: Parsed, new: Parsed, number: int, undo: dict[str, Any] | None
    ) -> list[str]:
        """``_remap`` of one workflow (the case's, or one running sub-process) from ``old_spec`` to ``new_spec``."""
        specs = new_spec.task_specs
        waiting = TaskState.READY | TaskState.WAITING | TaskState.STARTED
        notes: list[str] = []
        drop = []
        refusals: list[tuple[int, str]] = []  # (priority, reason): an open task first, then what waits, then history
        for task in list(workflow.tasks.values()):
            if task.task_spec.name in specs:
                continue
            label = _name(old_spec.task_specs.get(task.task_spec.name.split(".")[0], task.task_spec))
            if task.has_state(TaskState.PREDICTED_MASK | TaskState.FUTURE | TaskState.CANCELLED):
                drop.append(task)  # never ran: predicted again below, or a branch that was cancelled
            elif task.state == TaskState.WAITING and is_timer(task) and isinstance(task.parent.task_spec, BoundaryEventSplit):
                drop.append(task)
                notes.append(NOTE_TIMER_REMOVED % {"timer": label})
            elif task.state == TaskState.READY and getattr(task.task_spec, "manual", False):
                refusals.append((0, MSG_OPEN_TASK % {"task": label, "number": number}))
            elif task.has_state(waiting):
                refusals.append((1, MSG_WAITING % {"task": label, "number": number}))
            else:
                refusals.append((2, MSG_HISTORY % {"task": label, "number": number}))
        if refusals:
            raise _Refused(min(refusals)[1])
        own = [task for task in workflow.tasks.values() if task.has_state(waiting)]  # not its sub-processes' (get_tasks walks them)
        for task in own:
            if task in drop or task.parent is None:
                continue
            spec = specs[task.task_spec.name]
            if task.parent.task_spec.name not in {i.name for i in spec.inputs}:
                raise _Refused(MSG_STRUCTURE % {"task": _name(task.task_spec), "number": number})
            if getattr(task.task_spec, "manual", False):
                before_form, after_form = old.form_of(task.task_spec), new.form_of(spec)
                if before_form != after_form:
                    notes.append(NOTE_FORM % {"task": _name(spec), "old": before_form or "-", "new": after_form or "-"})
                if task.task_spec.lane != spec.lane:
                    notes.append(NOTE_LANE % {"task": _name(spec), "old": task.task_spec.lane or "-", "new": spec.lane or "-"})
                if spec.lane not in LANE_ROLES:
                    raise _Refused(MSG_CHECK % {"detail": f"lajur {spec.lane!r}"})
        kept = {t.id: (copy.deepcopy(t.data), copy.deepcopy(t.internal_data)) for t in own if t not in drop}
        for task in drop:
            if task.id in workflow.tasks:
                workflow._remove_task(task.id)
        for task in workflow.tasks.values():
            task.task_spec = specs[task.task_spec.name]
        workflow.spec = new_spec
        for task in [t for t in workflow.tasks.values() if t.has_state(TaskState.READY | TaskState.WAITING)]:
            if task.id in workflow.tasks and task.id in kept:
                task.reset_branch(None)  # forget what the old spec predicted after it; keep the task, its data, its due instant
                task.data, task.internal_data = kept[task.id]
        timers = (undo or {}).get("timers", {})
        opened = set((undo or {}).get("open", []))
        for split in list(workflow.tasks.values()):
            if not (isinstance(split.task_spec, BoundaryEventSplit) and split.state == TaskState.COMPLETED):
                continue
            if not any(c.has_state(TaskState.READY | TaskState.STARTED) for c in split.children):
                continue  # an activity already done: its timers belong to history
            present = {c.task_spec for c in split.children}
            for output in split.task_spec.outputs:
                if output in present:
                    continue
                child = split._add_child(output, TaskState.FUTURE)
                child.task_spec._update(child)  # arms the timer from now
                restored = timers.get(output.name) if any(str(c.id) in opened for c in split.children) else None
                if restored is not None and is_timer(child):
                    child.internal_data["event_value"] = restored
                    notes.append(NOTE_TIMER_RESTORED % {"timer": _name(output)})
                else:
                    notes.append(NOTE_TIMER_ADDED % {"timer": _name(output)})
        if workflow.last_task is not None and workflow.last_task.id not in workflow.tasks:
            workflow.last_task = None
        return notes

    def _retitle_open_tasks(self, case: Case, parsed: Parsed) -> None:
        """The inbox rows of tasks that kept their id show the target version's name, form and lane."""
        specs = {spec.name: spec for spec in parsed.all_specs()}
        for row in self.session.scalars(select(OpenTask).where(OpenTask.case_id == case.id)):
            spec = specs.get(row.spec_name)
            if spec is None:
                continue
            row.name = spec.bpmn_name or row.name
            row.form = parsed.form_of(spec) or row.form
            if spec.lane in LANE_ROLES:
                row.lane, row.role = spec.lane, LANE_ROLES[spec.lane]
