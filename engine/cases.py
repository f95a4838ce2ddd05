"""The one façade over cases: submit, complete a task, reply, withdraw, claim, fire timers.

Each verb is one unit of work in the caller's transaction: it loads the case, runs the workflow
under the injected clock, then writes the state, the open-task index, the next timer, the status
and the audit events together. It flushes (so a stale version raises Conflict here) but never
commits: the request handler, CLI command or worker tick commits.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import CursorResult, Table, delete, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from . import clock as clocks
from . import definitions, forms, ids
from .accounts import UNIT_ROLES
from .audit import AuditLog
from .calendar import WorkingCalendar, default_calendar, zone
from .definitions import DEADLINE_PROPERTY, LANE_ROLES, UNIT_LANES, Bundle, Parsed
from .errors import Conflict, DefinitionInvalid, Forbidden, InvalidData, NotFound
from .notify import Notifier
from .scripting import Effect, RunContext, make_script_engine, running
from .serialization import state_serializer
from .store import AdminEvent, AuditEvent, Case, Definition, Escalation, OpenTask, Unit
from .timers import deadlines, is_timer, timer_due

OPEN_STATUSES = ("diterima", "didisposisikan", "ditindaklanjuti", "dijawab")
STAGE_HOLDERS = {"disposisi": "kominfo", "teruskan": "kominfo"}  # other stages: the case's unit


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff member (username, role, unit), the citizen, or the system."""

    username: str
    role: str
    unit_id: str | None = None


SYSTEM = Actor("sistem", "sistem")
CITIZEN = Actor("pelapor", "masyarakat")


@dataclass(frozen=True)
class Submitted:
    case: Case
    access_token: str


class CaseService:
    def __init__(
        self,
        session: Session,
        clock: clocks.Clock = clocks.SYSTEM_CLOCK,
        base_url: str = "http://127.0.0.1:5000",
        calendar: WorkingCalendar | None = None,
    ) -> None:
        self.session = session
        self.clock = clock
        self.audit = AuditLog(session)
        self.notifier = Notifier(session, base_url)
        self.calendar = calendar or default_calendar()
        self._units: dict[str, tuple[str, str]] | None = None

    # ---- definitions and reference data -------------------------------------------------

    def deploy(self, bundle: Bundle, by: str | None = None, note: str | None = None) -> tuple[Definition, bool]:
        """Store ``bundle`` as a new version unless identical content is deployed already.

        Returns (definition, created). Raises DefinitionInvalid (nothing stored) for a broken bundle.
        """
        parsed, findings = definitions.validate(bundle)
        if parsed is None:
            raise DefinitionInvalid(findings)
        existing = self.session.scalar(select(Definition).where(Definition.content_hash == bundle.content_hash))
        if existing is not None:
            return existing, False
        number = (self.session.scalar(select(func.max(Definition.number))) or 0) + 1
        definition = Definition(
            number=number, content_hash=bundle.content_hash, bundle=bundle.to_json(), deployed_at=self.clock.now(), deployed_by=by, note=note
        )
        self.session.add(definition)
        # an administrative action, on record with who did it (Admin Pusat's "recent changes" lists it)
        record = {"number": number, "content_hash": bundle.content_hash, "note": note or ""}
        actor = by or SYSTEM.username
        self.session.add(AdminEvent(at=definition.deployed_at, actor=actor, action="definition_deployed", target=f"v{number}", data=record))
        self.session.flush()
        return definition, True

    def current_definition(self) -> Definition:
        definition = self.session.scalar(select(Definition).order_by(Definition.number.desc()).limit(1))
        if definition is None:
            raise NotFound("Belum ada definisi proses yang dipasang; jalankan 'lapor init'.")
        return definition

    def parsed_for(self, definition: Definition) -> Parsed:
        return definitions.parsed(definition.bundle, definition.content_hash)

    def units(self) -> dict[str, tuple[str, str]]:
        """Active units: id -> (name, kind). Read once per service, i.e. per request or command."""
        if self._units is None:
            rows = self.session.execute(select(Unit.id, Unit.name, Unit.kind).where(Unit.active.is_(True)).order_by(Unit.kind, Unit.name))
            self._units = {row.id: (row.name, row.kind) for row in rows}
        return self._units

    def served_form(self, parsed: Parsed, form: str) -> dict[str, Any]:
        return forms.served(parsed.forms[form], self.units())

    def _validate_form(self, parsed: Parsed, form: str, data: Any) -> None:
        forms.validate(self.served_form(parsed, form), data, self.clock.now().astimezone(zone()).date())

    # ---- verbs -----------------------------------------------------------------------------

    def submit(self, data: Any, channel: str = "web") -> Submitted:
        """Start a case from complaint data (form ``pengaduan``). Raises InvalidData naming each bad field."""
        definition = self.current_definition()
        parsed = self.parsed_for(definition)
        self._validate_form(parsed, parsed.start_form, data)
        complaint = {"anonymous": False, "confidential": False, **data}
        now = self.clock.now()
        token = ids.new_access_token()
        case = Case(
            tracking_id=self._unused_tracking_id(),
            access_token_hash=ids.hash_token(token),
            definition_id=definition.id,
            status="diterima",
            title=complaint["title"],
            category=complaint["category"],
            anonymous=bool(complaint["anonymous"]),
            confidential=bool(complaint["confidential"]),
            channel=channel,
            submitted_at=now,
            updated_at=now,
            state="",
            breached=[],
        )
        self.session.add(case)
        self.session.flush()
        self.audit.append(case, "case_started", CITIZEN.username, now, data={"form": parsed.start_form, "data": complaint, "channel": channel})
        url = f"{self.notifier.base_url}/lacak/{case.tracking_id}?token={token}"
        self._audit_mail(
            case, "pelapor", "laporan_diterima", self.notifier.to_reporter(case, self._reporter_email(complaint), "laporan_diterima", now, url)
        )

        workflow = BpmnWorkflow(parsed.spec, parsed.subprocess_specs, script_engine=make_script_engine())
        start = workflow.get_tasks(state=TaskState.READY)[0]
        start.data.update(pengaduan=complaint, tracking_id=case.tracking_id)
        self._advance(case, parsed, workflow, lambda wf: None)
        return Submitted(case, token)

    def complete_task(self, task_id: str, data: Any, actor: Actor) -> Case:
        """Complete an open user task with form data.

        Raises NotFound (no such task, or another unit's), Forbidden (the actor's role does not
        act in the task's lane), Conflict (already completed, or the case changed meanwhile),
        InvalidData (per-field errors; nothing changes).
        """
        if self.session.get(OpenTask, task_id) is None:
            self._refuse_closed_task(task_id, actor)
        row = self._actionable(task_id, actor)
        return self._complete(self._case(row.case_id), task_id, data, actor)

    def reply(self, tracking_id: str, token: str, data: Any) -> Case:
        """The citizen's step 7 (form ``balasan``). Raises NotFound, Conflict (no reply expected now), InvalidData."""
        case = self.citizen_case(tracking_id, token)
        row = self.session.scalar(select(OpenTask).where(OpenTask.case_id == case.id, OpenTask.role == CITIZEN.role))
        if row is None:
            raise Conflict("Laporan ini sedang tidak menunggu balasan Anda.")
        return self._complete(case, row.id, data, CITIZEN)

    def withdraw(self, tracking_id: str, token: str, reason: str | None = None) -> Case:
        """The citizen withdraws an open complaint: status ``dicabut``. Raises NotFound, Conflict."""
        with self.session.no_autoflush:  # the case row is written once, in _save, where a stale version is a Conflict
            case = self.citizen_case(tracking_id, token)
            if case.status not in OPEN_STATUSES:
                raise Conflict("Laporan yang sudah selesai atau dicabut tidak dapat dicabut lagi.")
            parsed, workflow = self._load(case)
            now = self.clock.now()
            holders = {row.unit_id or row.role for row in self._open_rows(case) if row.role != CITIZEN.role}
            workflow.cancel()
            self.audit.append(case, "case_withdrawn", CITIZEN.username, now, data={"reason": reason or ""})
            self._set_status(case, "dicabut", CITIZEN.username, now)
            for holder in sorted(holders):
                self._audit_mail(case, holder, "dicabut", self.notifier.to_staff(case, holder, "dicabut", now))
            self._save(case, parsed, workflow)
            return case

    def claim(self, task_id: str, actor: Actor) -> OpenTask:
        """Take a task so colleagues see who works on it. Raises NotFound, Forbidden, Conflict (held by another)."""
        row = self._actionable(task_id, actor)
        if row.claimed_by not in (None, actor.username):
            raise Conflict(f"Tugas ini sedang dikerjakan oleh {row.claimed_by}.")
        row.claimed_by = actor.username
        self.audit.append(self._case(row.case_id), "task_claimed", actor.username, self.clock.now(), task=task_id)
        return row

    def unclaim(self, task_id: str, actor: Actor) -> OpenTask:
        """Release a claim (one's own; Admin Pusat may release anyone's). Raises NotFound, Forbidden."""
        row = self.session.get(OpenTask, task_id)
        if row is None:
            raise NotFound("Tugas tidak ditemukan.")
        if actor.role != "pusat":
            row = self._actionable(task_id, actor)
            if row.claimed_by not in (None, actor.username):
                raise Forbidden("Hanya pemegang tugas atau Admin Pusat yang dapat melepasnya.")
        if row.claimed_by is not None:
            self.audit.append(
                self._case(row.case_id), "task_unclaimed", actor.username, self.clock.now(), task=task_id, data={"holder": row.claimed_by}
            )
            row.claimed_by = None
        return row

    def reassign(self, task_id: str, unit_id: str, actor: Actor, reason: str = "") -> Case:
        """Admin Pusat moves a unit's open task to another unit of the same kind (a wrong disposition,
        a unit closed or overloaded). The case then belongs to the new unit for the rest of its way.

        Raises Forbidden (not Admin Pusat), NotFound, InvalidData (unit missing, same, or of the other kind).
        """
        if actor.role != "pusat":
            raise Forbidden("Hanya Admin Pusat yang dapat mengalihkan tugas.")
        with self.session.no_autoflush:  # the case row is written once, in _save, where a stale version is a Conflict
            row = self.session.get(OpenTask, task_id)
            if row is None:
                raise NotFound("Tugas tidak ditemukan.")
            units = self.units()
            if row.unit_id is None:
                raise InvalidData({"unit": "Hanya tugas Satuan Kerja atau Instansi Vertikal yang dapat dialihkan."})
            if unit_id == row.unit_id:
                raise InvalidData({"unit": "Tugas ini sudah berada di unit tersebut."})
            if unit_id not in units or units[unit_id][1] != UNIT_ROLES[row.role]:
                raise InvalidData({"unit": "Pilih unit aktif yang sejenis dengan unit sekarang."})
            if not reason.strip():
                raise InvalidData({"reason": "Tuliskan alasan pengalihan; alasan ini masuk ke riwayat laporan."})
            case = self._case(row.case_id)
            parsed, workflow = self._load(case)
            task = next(t for t in workflow.get_tasks(state=TaskState.READY, manual=True) if str(t.id) == task_id)
            # the task and its boundary timers carry unit_tujuan on to every later step of the unit
            for holder in task.parent.children if isinstance(task.parent.task_spec, BoundaryEventSplit) else [task]:
                holder.data["unit_tujuan"] = unit_id
            now = self.clock.now()
            self.audit.append(case, "task_reassigned", actor.username, now, task=task_id, data={"from": row.unit_id, "to": unit_id, "reason": reason})
            row.unit_id, row.claimed_by, case.unit_id = unit_id, None, unit_id
            self._audit_mail(case, unit_id, "laporan_masuk", self.notifier.to_staff(case, unit_id, "laporan_masuk", now, unit=units[unit_id][0]))
            self._save(case, parsed, workflow)
            return case

    def due_case_ids(self, limit: int = 100) -> list[int]:
        """Ids of cases whose next timer is due, oldest first (read only: a worker claims with claim_due_case)."""
        query = select(Case.id).where(Case.next_timer_at <= self.clock.now()).order_by(Case.next_timer_at).limit(limit)
        return list(self.session.scalars(query))

    def claim_due_case(self, skip: Collection[int] = ()) -> int | None:
        """Claim the case whose next timer is most overdue, leaving out ``skip``; None when none is due.

        On PostgreSQL the row is locked (``FOR UPDATE SKIP LOCKED``) until the caller's transaction ends:
        concurrent workers each take a different case, and a dead worker's lock ends with its connection
        (or after a minute idle in the transaction). SQLite has one worker; the version check turns a race
        into Conflict. Cost: one range scan of the ``next_timer_at`` index, whatever the number of open cases.
        """
        query = select(Case.id).where(Case.next_timer_at <= self.clock.now())
        if skip:
            query = query.where(Case.id.not_in(list(skip)))
        query = query.order_by(Case.next_timer_at).limit(1).with_for_update(skip_locked=True)
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(text("SET LOCAL idle_in_transaction_session_timeout = '60s'"))
        return self.session.scalar(query)

    def fire_timers(self, case_id: int) -> int:
        """Fire every due timer of one case and run what follows. Returns how many fired."""
        case = self._case(case_id)
        if case.next_timer_at is None or case.next_timer_at > self.clock.now():
            return 0
        parsed, workflow = self._load(case)
        return self._advance(case, parsed, workflow, lambda wf: wf.refresh_timers())

    def citizen_case(self, tracking_id: str, token: str) -> Case:
        """The case a citizen's tracking id and access token open. Raises NotFound for any mismatch."""
        case = self.session.scalar(select(Case).where(Case.tracking_id == ids.normalize_tracking_id(tracking_id)))
        if case is None or not token or not ids.token_matches(token, case.access_token_hash):
            raise NotFound("Laporan tidak ditemukan. Periksa nomor pelacakan dan tautan pribadi Anda.")
        return case

    def workflow_of(self, case: Case) -> tuple[Parsed, BpmnWorkflow]:
        """Load a case's workflow read-only (for pages that show data or the diagram)."""
        return self._load(case)

    # ---- internals -----------------------------------------------------------------------

    def _unused_tracking_id(self) -> str:
        while True:
            candidate = ids.new_tracking_id()
            if self.session.scalar(select(Case.id).where(Case.tracking_id == candidate)) is None:
                return candidate

    def _case(self, case_id: int) -> Case:
        case = self.session.get(Case, case_id)
        if case is None:
            raise NotFound("Laporan tidak ditemukan.")
        return case

    def _refuse_closed_task(self, task_id: str, actor: Actor) -> None:
        """A task that is no longer open: 409 only to someone who could have done it, else as if it never existed."""
        query = select(AuditEvent.data).where(AuditEvent.task == task_id, AuditEvent.type == "task_completed").limit(1)
        completed = self.session.scalar(query)
        if completed is None:
            raise NotFound("Tugas tidak ditemukan.")
        done = json.loads(completed)
        if done.get("role") != actor.role or (done.get("unit") is not None and done.get("unit") != actor.unit_id):
            raise NotFound("Tugas tidak ditemukan.")
        raise Conflict("Tugas ini sudah diselesaikan.")

    def _actionable(self, task_id: str, actor: Actor) -> OpenTask:
        row = self.session.get(OpenTask, task_id)
        if row is None:
            raise NotFound("Tugas tidak ditemukan.")
        if actor.role != row.role:
            raise Forbidden("Peran Anda tidak dapat mengerjakan tugas ini.")
        if row.unit_id is not None and actor.unit_id != row.unit_id:
            raise NotFound("Tugas tidak ditemukan.")
        return row

    def _open_rows(self, case: Case) -> list[OpenTask]:
        return list(self.session.scalars(select(OpenTask).where(OpenTask.case_id == case.id)))

    def parsed_of(self, case: Case) -> Parsed:
        """The parsed definition version the case runs on (its forms may differ from the newest)."""
        # the version's content hash alone finds it in the per-process cache; its large bundle is read only on a miss
        content_hash = self.session.scalar(select(Definition.content_hash).where(Definition.id == case.definition_id))
        return definitions.cached(content_hash) or self.parsed_for(self.session.get(Definition, case.definition_id))  # type: ignore[arg-type]

    def _load(self, case: Case) -> tuple[Parsed, BpmnWorkflow]:
        parsed = self.parsed_of(case)
        return parsed, state_serializer().loads(case.state, parsed.spec, parsed.subprocess_specs)

    def _complete(self, case: Case, task_id: str, data: Any, actor: Actor) -> Case:
        parsed, workflow = self._load(case)
        task = next((t for t in workflow.get_tasks(state=TaskState.READY, manual=True) if str(t.id) == task_id), None)
        if task is None:
            raise Conflict("Tugas ini sudah tidak terbuka; muat ulang halaman.")
        form = parsed.form_of(task.task_spec)
        assert form is not None  # validated at deploy: every user task has a form
        self._validate_form(parsed, form, data)
        self.audit.append(
            case,
            "task_completed",
            actor.username,
            self.clock.now(),
            task=task_id,
            data={
                "task": task.task_spec.bpmn_id,
                "name": task.task_spec.bpmn_name,
                "form": form,
                "data": data,
                "role": actor.role,
                "unit": actor.unit_id,
            },
        )

        def run(wf: BpmnWorkflow) -> None:
            task.data[form] = data
            task.run()

        self._advance(case, parsed, workflow, run)
        return case

    def _advance(self, case: Case, parsed: Parsed, workflow: BpmnWorkflow, action: Callable[[BpmnWorkflow], None]) -> int:
        """Run ``action`` and the engine steps after it, then record what happened. Returns timers fired."""
        with self.session.no_autoflush:  # the case row is written once, in _save, where a stale version is a Conflict
            waiting = {t.id: t for t in workflow.get_tasks(state=TaskState.WAITING) if is_timer(t)}
            context = RunContext(units=self.units(), calendar=self.calendar)
            with clocks.using(self.clock), running(context):
                action(workflow)
                started = time.perf_counter()
                workflow.do_engine_steps()
                # the system's own steps (SOP standard time: 1 minute) run here; their real duration goes on record
                steps_ms = round((time.perf_counter() - started) * 1000, 1)
            now = self.clock.now()
            last = workflow.last_task
            if last is not None and last.data.get("unit_tujuan"):
                case.unit_id = last.data["unit_tujuan"]
            fired = [t for t in waiting.values() if t.state in (TaskState.READY, TaskState.COMPLETED)]
            for timer in fired:
                self.audit.append(
                    case,
                    "timer_fired",
                    SYSTEM.username,
                    now,
                    task=str(timer.id),
                    data={
                        "timer": timer.task_spec.bpmn_id,
                        "name": timer.task_spec.bpmn_name,
                        "due": timer.internal_data.get("event_value"),
                        "clock": timer.task_spec.extensions.get("properties", {}).get(DEADLINE_PROPERTY),
                        "interrupting": bool(timer.task_spec.cancel_activity),
                        "attached_to": definitions.attached_task(timer.task_spec),
                    },
                )
            for effect in context.effects:
                self._apply(case, workflow, effect, now, steps_ms)
            self._save(case, parsed, workflow)
            return len(fired)

    def _apply(self, case: Case, workflow: BpmnWorkflow, effect: Effect, now: datetime, steps_ms: float) -> None:
        args = effect.args
        if effect.type == "status":
            self._set_status(case, args["status"], SYSTEM.username, now)
        elif effect.type == "record":
            self.audit.append(case, "complaint_recorded", SYSTEM.username, now, data={"tracking_id": case.tracking_id, "duration_ms": steps_ms})
        elif effect.type == "publish":
            case.answer_text, case.answered_at = args["text"], now
            self.audit.append(case, "answer_published", SYSTEM.username, now, data={"text": args["text"], "duration_ms": steps_ms})
        elif effect.type == "notify":
            to, topic = args["to"], args["topic"]
            if to == "pelapor":
                sent = self.notifier.to_reporter(case, self._reporter_email(self._complaint(workflow)), topic, now)
            else:
                unit = self.units().get(case.unit_id or "", ("", ""))[0]
                sent = self.notifier.to_staff(case, to, topic, now, unit=unit)
            self._audit_mail(case, to, topic, sent)
        elif effect.type == "escalate":
            self._escalate(case, workflow, args["stage"], args["clock"], now)
        else:  # pragma: no cover - scripting only emits the types above
            raise ValueError(f"unknown effect {effect.type}")

    def _escalate(self, case: Case, workflow: BpmnWorkflow, stage: str, clock_name: str, now: datetime) -> None:
        holder = STAGE_HOLDERS.get(stage, case.unit_id or "kominfo")
        unit_name = self.units().get(case.unit_id or "", ("", ""))[0] if holder == case.unit_id else ""
        self.session.add(Escalation(case_id=case.id, at=now, stage=stage, clock=clock_name, unit_id=case.unit_id if holder == case.unit_id else None))
        self.audit.append(case, "deadline_missed", SYSTEM.username, now, data={"stage": stage, "clock": clock_name, "holder": holder})
        if stage == "balasan":
            sent = self.notifier.to_reporter(case, self._reporter_email(self._complaint(workflow)), "pengingat", now)
        else:
            sent = self.notifier.to_staff(case, holder, "pengingat", now, stage=stage, clock=clock_name)
        self._audit_mail(case, holder, "pengingat", sent)
        self._audit_mail(
            case, "pusat", "eskalasi", self.notifier.to_staff(case, "pusat", "eskalasi", now, stage=stage, clock=clock_name, unit=unit_name)
        )
        if clock_name == "plafon":
            case.late = True
            case.breached = [*case.breached, f"{stage}:{clock_name}"]

    def _set_status(self, case: Case, status: str, actor: str, now: datetime) -> None:
        if status == case.status:
            return
        self.audit.append(case, "status_changed", actor, now, data={"from": case.status, "to": status})
        case.status = status
        if status in ("selesai", "dicabut"):
            case.closed_at = now

    def _audit_mail(self, case: Case, to: str, topic: str, sent: Any) -> None:
        self.audit.append(
            case, "notification_queued", SYSTEM.username, self.clock.now(), data={"to": to, "topic": topic, "users": sent.users, "mails": sent.mails}
        )

    @staticmethod
    def _complaint(workflow: BpmnWorkflow) -> dict[str, Any]:
        return workflow.task_tree.children[0].data.get("pengaduan", {}) if workflow.task_tree.children else {}

    @staticmethod
    def _reporter_email(complaint: dict[str, Any]) -> str | None:
        return (complaint.get("reporter") or {}).get("email")

    def _save(self, case: Case, parsed: Parsed, workflow: BpmnWorkflow) -> None:
        self._lock_case(case)
        now = self.clock.now()
        self._sync_open_tasks(case, parsed, workflow, now)
        dues = [d for d in (timer_due(t) for t in workflow.get_tasks(state=TaskState.WAITING) if is_timer(t)) if d is not None]
        case.next_timer_at = min(dues) if dues else None
        case.state = state_serializer().dumps(workflow)
        case.updated_at = now
        try:
            self.session.flush()
        except StaleDataError:
            raise Conflict("Laporan ini baru saja diubah oleh orang lain; muat ulang dan coba lagi.") from None

    def _lock_case(self, case: Case) -> None:
        """Take the case row's write lock before the command writes anything else, checking the version it read.

        The flush may insert audit events and touch open tasks before it updates the case row; two commands
        racing on one case would then collide on the next audit seq or deadlock instead of one of them finding
        the version changed. Writing the case row first makes the later command wait here until the earlier
        one commits, then raise Conflict. Raises Conflict.
        """
        table = cast(Table, Case.__table__)  # a Core statement: executing it does not flush the session first
        guard = table.update().where(table.c.id == case.id, table.c.version == case.version).values(version=table.c.version)
        if cast(CursorResult, self.session.execute(guard)).rowcount != 1:
            raise Conflict("Laporan ini baru saja diubah oleh orang lain; muat ulang dan coba lagi.")

    def _sync_open_tasks(self, case: Case, parsed: Parsed, workflow: BpmnWorkflow, now: datetime) -> None:
        existing = {row.id: row for row in self._open_rows(case)}
        ready = {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
        stale = [task_id for task_id in existing if task_id not in ready]
        if stale:
            self.session.execute(delete(OpenTask).where(OpenTask.id.in_(stale)))
        for task_id, task in ready.items():
            due, ceiling, overdue = deadlines(task, now)
            row = existing.get(task_id)
            if row is None:
                lane = task.task_spec.lane
                row = OpenTask(
                    id=task_id,
                    case_id=case.id,
                    spec_name=task.task_spec.bpmn_id,
                    name=task.task_spec.bpmn_name,
                    form=parsed.form_of(task.task_spec) or "",
                    lane=lane,
                    role=LANE_ROLES[lane],
                    unit_id=task.data.get("unit_tujuan") if lane in UNIT_LANES else None,
                    created_at=now,
                )
                self.session.add(row)
            row.due_at, row.ceiling_at, row.overdue = due, ceiling, overdue
