"""The one façade over cases: submit, complete a task, reply, withdraw, claim, fire timers.

Each verb is one unit of work in the caller's transaction: it loads the case, runs the workflow
under the injected clock, then writes the state, the open-task index, the next timer, the status
and the audit events together. It flushes (so a stale version raises Conflict here) but never
commits: the request handler, CLI command or worker tick commits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import CursorResult, Select, Table, bindparam, delete, func, inspect, or_, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from engine.audit.trail import STEP_FAILED, STEPS_RETRIED, AuditLog, AuditMark
from engine.cases import access, attachments, extensions, ids, incidents, lookups, notes
from engine.cases.context import INTERIM, came_back_in
from engine.contract import (
    CEILING,
    CHANNELS,
    CITIZEN,
    DEADLINE_PROPERTY,
    FINISHED_STATUSES,
    HANDLERS,
    INTAKE_ROLES,
    LANE_ROLES,
    OPEN_STATUSES,
    SELF_SERVICE_CHANNELS,
    SYSTEM,
    UNIT_LANES,
    UNIT_ROLES,
    Actor,
)
from engine.db.tables import AdminEvent, Attachment, Case, CaseNote, CaseUnit, Definition, Escalation, OpenTask, Unit
from engine.definitions import cache, forms, validation
from engine.definitions.bundle import Bundle
from engine.definitions.parsing import Parsed, attached_task
from engine.definitions.versions import parsed_version
from engine.errors import Conflict, DefinitionInvalid, Forbidden, InvalidData, NotFound
from engine.messages import N_, Message
from engine.notifications import notify
from engine.notifications.notify import Notifier
from engine.runtime.scripting import Effect, RunContext, current, make_script_engine, running
from engine.runtime.serialization import state_serializer
from engine.runtime.warm import WARM, WarmWorkflows
from engine.timekeeping import clock as clocks
from engine.timekeeping.calendar import WorkingCalendar, default_calendar, zone
from engine.timekeeping.timers import deadlines, is_timer, timer_due

log = logging.getLogger("lapor.cases")

NO_DEFINITION = N_("Belum ada definisi proses yang dipasang; jalankan 'lapor init'.")
CHANGED_MEANWHILE = N_("Laporan ini baru saja diubah oleh orang lain; muat ulang dan coba lagi.")  # a command that lost a race
# built once: building a statement costs more than running these
# A missed deadline is answered once its stage's task is done, or its deadline moved by a grant: off Admin Pusat's list
_RESOLVE_ESCALATIONS = (
    update(Escalation)
    .where(
        Escalation.case_id == bindparam("of_case"),
        Escalation.stage == bindparam("of_stage"),
        Escalation.resolved_at.is_(None),
        or_(Escalation.unit_id.is_(None), Escalation.unit_id == bindparam("of_unit")),
    )
    .values(resolved_at=bindparam("resolved"))
)
_NEWEST_VERSION = select(Definition.id, Definition.content_hash).order_by(Definition.number.desc()).limit(1)
_ACTIVE_UNITS = select(Unit.id, Unit.name, Unit.kind).where(Unit.active.is_(True)).order_by(Unit.kind, Unit.name)
STAGE_HOLDERS = {"disposisi": "kominfo", "teruskan": "kominfo", "perpanjangan": "kominfo"}  # other stages: the unit holding the task


def search_text(complaint: dict[str, Any], body: str | None = None) -> str:
    """The words a case is found by among similar complaints: its title, location and body (``body`` in place of the
    reporter's own text once staff gave a redacted one). Never the reporter's identity."""
    parts = (complaint.get("title"), complaint.get("location"), body if body is not None else complaint.get("body"))
    return "\n".join(part for part in parts if isinstance(part, str) and part)


def ready_user_task(workflow: BpmnWorkflow, task_id: str) -> Task | None:
    """The ready user task of that id, else None: looked up by id in the workflow and its sub-processes, no tree walk."""
    try:
        key = UUID(task_id)
    except ValueError:
        return None
    for tasks in (workflow.tasks, *(sub.tasks for sub in workflow.subprocesses.values())):
        task = tasks.get(key)
        if task is not None:
            return task if task.state == TaskState.READY and task.task_spec.manual else None
    return None


class _LazyUnits(Mapping[str, tuple[str, str]]):
    """The units, read on first use."""

    def __init__(self, load: Callable[[], dict[str, tuple[str, str]]]) -> None:
        self._load = load

    def __getitem__(self, key: str) -> tuple[str, str]:
        return self._load()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


@dataclass(frozen=True)
class Submitted:
    case: Case
    access_token: str


class _StepFailed(Exception):
    """A step's result the engine refuses before it is written; ``task`` is the step (as SpiffWorkflow's errors name theirs)."""

    def __init__(self, message: str, task: Task) -> None:
        super().__init__(message)
        self.task = task


class StepsFailedAsRecorded(Exception):
    """Raised in place of the system steps of a run whose record says they failed (audit event ``step_failed``): the
    replay (engine/audit/replay.py) makes the run fail as the recorded one did, at the element it names, whatever the steps
    would do today (a transient failure does not come back on replay)."""

    def __init__(self, element: str, element_name: str | None) -> None:
        super().__init__(f"{element} gagal pada saat yang tercatat")
        self.element, self.element_name = element, element_name


class _Steps:
    """The system steps of one run, in order, with the effects each asked for: to name the element a failure belongs to."""

    def __init__(self, effects: list[Effect]) -> None:
        self.effects = effects
        self.first = len(effects)  # effects before this index belong to the command's own change
        self.ran: list[tuple[Task, int]] = []  # each task run, with how many effects there were once it had run
        self.running: Task | None = None
        self.applying: int | None = None  # the index of the effect being applied

    def will_run(self, task: Task) -> None:
        self.running = task

    def did_run(self, task: Task) -> None:
        self.ran.append((task, len(self.effects)))
        self.running = None

    def culprit(self, error: BaseException, process: Any) -> Any:
        """The spec of the element that failed: the task the error names or the one running when it was raised, the one
        whose effect could not be applied, the first whose data cannot be stored; else the last BPMN element that ran (not
        SpiffWorkflow's own helper tasks, such as a boundary event split), or ``process``."""
        named = getattr(error, "task", None)
        if isinstance(named, Task):
            return named.task_spec
        if self.running is not None:
            return self.running.task_spec
        if self.applying is not None and self.applying >= self.first:
            return next(task for task, emitted in self.ran if emitted > self.applying).task_spec
        unstorable = next((task for task, _emitted in self.ran if not state_serializer().storable(task.data)), None)
        if unstorable is not None:
            return unstorable.task_spec
        return next((task.task_spec for task, _emitted in reversed(self.ran) if getattr(task.task_spec, "bpmn_id", None)), process)


class CaseService:
    warm: WarmWorkflows = WARM  # this process's workflows between commands (engine/runtime/warm.py)

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
        self._after_lock: list[notify.Statement] = []  # what the command runs once it holds the case row's lock (save)

    # ---- definitions and reference data -------------------------------------------------

    def deploy(self, bundle: Bundle, by: str | None = None, note: str | None = None) -> tuple[Definition, bool]:
        """Store ``bundle`` as a new version unless identical content is deployed already.

        Returns (definition, created). Raises DefinitionInvalid (nothing stored) for a broken bundle.
        """
        parsed, findings = validation.validate(bundle)
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
            raise NotFound(NO_DEFINITION)
        return definition

    def parsed_for(self, definition: Definition) -> Parsed:
        return cache.parsed(definition.bundle, definition.content_hash)

    def units(self) -> dict[str, tuple[str, str]]:
        """Active units: id -> (name, kind). Read once per service, i.e. per request or command."""
        if self._units is None:
            rows = self.session.execute(_ACTIVE_UNITS)
            self._units = {row.id: (row.name, row.kind) for row in rows}
        return self._units

    def served_form(self, parsed: Parsed, form: str) -> dict[str, Any]:
        return forms.served(parsed.forms[form], self.units())

    def _validate_form(self, parsed: Parsed, form: str, data: Any) -> None:
        schema = parsed.forms[form]
        if forms.lists_units(schema):  # only then does the form as served differ from the model's (validation reads it only)
            schema = self.served_form(parsed, form)
        forms.validate(schema, data, self.clock.now().astimezone(zone()).date())

    def _run_context(self) -> RunContext:
        """What the model's scripts see: the units read only when a script asks for them (most steps name none)."""
        return RunContext(units=_LazyUnits(self.units), calendar=self.calendar)

    # ---- verbs -----------------------------------------------------------------------------

    def submit(self, data: Any, channel: str = "web", access_token: str | None = None, recorded_by: Actor | None = None) -> Submitted:
        """Start a case from complaint data (form ``pengaduan``) received through ``channel``; ``access_token`` when the
        caller derived it (an idempotent submission gives the same one back), a new random one otherwise.

        ``recorded_by``: the Admin Kominfo or Admin Pusat who typed in a complaint received by phone, letter, in person,
        SMS, social media or email (any channel; the reporter's email is then optional). Without it the reporter
        submitted it themselves, through ``web``, ``aplikasi`` or a partner's ``open311``.
        Raises InvalidData naming each bad field, Forbidden for a role that may not record complaints.

        A system step of the model that fails after it does not fail the submission: the case is stored as received
        (tracking id, receipt mail, status ``diterima``) and waits for a retry with an incident (see ``_advance``)."""
        if recorded_by is not None:
            access.require(recorded_by, INTAKE_ROLES, N_("Hanya Admin Kominfo atau Admin Pusat yang dapat mencatat laporan masuk."))
        allowed = CHANNELS if recorded_by is not None else SELF_SERVICE_CHANNELS
        if channel not in allowed:
            raise InvalidData({"channel": Message(N_("Pilih salah satu: %(choices)s."), choices=", ".join(allowed))})
        newest = self.session.execute(_NEWEST_VERSION).first()  # its id and hash: the large bundle only on a cache miss
        if newest is None:
            raise NotFound(NO_DEFINITION)
        definition_id, content_hash = newest
        parsed = parsed_version(self.session, definition_id, content_hash)
        schema = self.served_form(parsed, parsed.start_form)
        if recorded_by is not None:
            schema = forms.reporter_email_optional(schema)
        forms.validate(schema, data, self.clock.now().astimezone(zone()).date())
        complaint = {"anonymous": False, "confidential": False, **data}
        now = self.clock.now()
        token = access_token or ids.new_access_token()
        case = Case(
            tracking_id=self._unused_tracking_id(),
            access_token_hash=ids.hash_token(token),
            definition_id=definition_id,
            status="diterima",
            title=complaint["title"],
            category=complaint["category"],
            anonymous=bool(complaint["anonymous"]),
            confidential=bool(complaint["confidential"]),
            channel=channel,
            latitude=complaint.get("latitude"),
            longitude=complaint.get("longitude"),
            search_text=search_text(complaint),
            submitted_at=now,
            updated_at=now,
            state="",
            breached=[],
        )
        self.session.add(case)
        self.session.flush()
        set_committed_value(case, "definition_hash", content_hash)  # as a row read back would hold it
        self.audit.begin(case, content_hash)
        author = recorded_by or CITIZEN

        def received() -> None:  # the case's first event and the citizen's receipt, whatever the system steps after it do
            started = {"form": parsed.start_form, "data": complaint, "channel": channel}
            if recorded_by is not None:
                started["recorded_by"] = {"role": recorded_by.role}
            self.audit.append(case, "case_started", author.username, now, data=started)
            url = self.notifier.private_link(case.tracking_id, token)
            self._audit_mail(
                case, "pelapor", "laporan_diterima", self.notifier.to_reporter(case, self._reporter_email(complaint), "laporan_diterima", now, url)
            )

        workflow = self._new_workflow(parsed)

        def start_case(wf: BpmnWorkflow) -> None:  # the complaint reaches the start event
            start = wf.get_tasks(state=TaskState.READY)[0]
            start.data.update(pengaduan=complaint, tracking_id=case.tracking_id)
            start.run()

        self._advance(case, parsed, workflow, "submit", CITIZEN, apply_input=start_case, record_input=received)
        return Submitted(case, token)

    def complete_task(self, task_id: str, data: Any, actor: Actor) -> Case:
        """Complete an open user task with form data.

        Raises NotFound (no such task, or another unit's), Forbidden (the actor's role does not
        act in the task's lane), Conflict (already completed, or the case changed meanwhile),
        InvalidData (per-field errors; nothing changes).
        """
        _row, case = access.task_to_act_on(self.session, task_id, actor)
        return self._complete(case, task_id, data, actor)

    def reply(self, tracking_id: str, token: str, data: Any) -> Case:
        """The citizen's step 7 (form ``balasan``). Raises NotFound, Conflict (no reply expected now), InvalidData."""
        case = access.case_for_citizen(self.session, tracking_id, token, self.clock.now())
        row = lookups.citizen_task(self.session, case.id)
        if row is None:
            raise Conflict(N_("Laporan ini sedang tidak menunggu balasan Anda."))
        return self._complete(case, row.id, data, CITIZEN)

    def add_to_complaint(self, tracking_id: str, token: str, text: str) -> Case:
        """The citizen adds to their complaint (``POST /complaints/{tracking_id}/additions``, the tracking page's form).
        While the case waits for the additions step 3 asked for (``menunggu_kelengkapan``) they complete that wait and the
        case goes back to verification; in any other open status the text is added to the case and whoever holds its open
        tasks is told. Raises NotFound, Conflict (a closed case), InvalidData (``text``: 10 to 5000 characters)."""
        case = access.case_for_citizen(self.session, tracking_id, token, self.clock.now())
        if case.status not in OPEN_STATUSES:
            raise Conflict(N_("Laporan yang sudah selesai, diarsipkan, atau dicabut tidak dapat ditambah lagi."))
        if isinstance(text, str) and len(text.strip()) < 10:  # the form counts spaces too: padding alone is no addition
            raise InvalidData({"text": N_("Tuliskan 10 sampai 5000 karakter.")})
        waiting = lookups.citizen_task(self.session, case.id, "kelengkapan")
        if waiting is not None:
            return self._complete(case, waiting.id, {"text": text}, CITIZEN)
        parsed = self.parsed_of(case)
        if "kelengkapan" in parsed.forms:  # the model's own rule for the text; older versions lack the form
            self._validate_form(parsed, "kelengkapan", {"text": text})
        elif not isinstance(text, str) or not 10 <= len(text.strip()) <= 5000:
            raise InvalidData({"text": N_("Tuliskan 10 sampai 5000 karakter.")})
        now = self.clock.now()
        self._lock_case(case)
        self.audit.append(case, "addition_received", CITIZEN.username, now, data={"text": text})
        holders = {row.unit_id or row.role for row in self._open_rows(case) if row.role != CITIZEN.role}
        for holder in sorted(holders):
            self._audit_mail(case, holder, "tambahan_pelapor", self.notifier.to_staff(case, holder, "tambahan_pelapor", now))
        case.updated_at = now
        self.session.flush()
        return case

    def add_note(self, tracking_id: str, text: Any, actor: Actor) -> CaseNote:
        """Staff add an internal note to a case they may open (engine/cases/notes.py). Raises Forbidden (a role that
        does not handle cases: auditors read notes only), NotFound (a case the actor may not open),
        InvalidData (``text``), Conflict."""
        access.require(actor, HANDLERS, N_("Peran Anda tidak dapat menulis catatan internal."))
        case = access.case_for_staff(self.session, tracking_id, actor).case
        notes.checked_text(text)  # refused before the case row is locked
        now = self.clock.now()
        self._lock_case(case)  # two writers must not collide on the audit seq
        return notes.add_note(self.session, self.audit, self.notifier, case, actor, text, now)

    def request_extension(self, task_id: str, data: Any, actor: Actor) -> OpenTask | None:
        """The unit holding an answer task asks for more working days (``POST /tasks/{id}/extension``, the task page's
        button): the model's event sub-process "Perpanjangan batas waktu" gives Admin Kominfo a decision task
        (engine/cases/extensions.py). Returns that task's row (None when a later step failed: the request is kept and
        the case waits for its retry). Raises NotFound, Forbidden, Conflict (not an answer task, a request still
        waiting, a model version without extensions), InvalidData (``working_days``, ``reason``)."""
        row, case = access.answer_task(self.session, task_id, actor, extensions.ANSWER_TASK_ONLY)
        days, reason = extensions.checked_request(data)
        parsed, workflow = self._load_to_change(case)
        if extensions.FORM not in parsed.forms:
            raise Conflict(N_("Versi proses laporan ini belum mengenal perpanjangan batas waktu."))
        if extensions.decisions_waiting(parsed, workflow, task_id):
            raise Conflict(N_("Permintaan perpanjangan untuk tugas ini masih menunggu keputusan Admin Kominfo."))
        task = ready_user_task(workflow, task_id)
        assert task is not None  # its open-task row was found: the row is written with the state
        now = self.clock.now()
        due, ceiling, _overdue = deadlines(task, now)
        latest = extensions.limit(self.calendar, case.submitted_at, task)
        request = {
            "task": task_id,
            "unit": row.unit_id,
            "working_days": days,
            "reason": reason,
            "due_at": extensions.local_iso(due),
            "ceiling_at": extensions.local_iso(ceiling),
            "limit_at": extensions.local_iso(latest),
        }

        def run(wf: BpmnWorkflow) -> None:
            wf.catch(BpmnEvent(MessageEventDefinition(extensions.MESSAGE), dict(request)))

        def requested() -> None:
            # the task id is the event's own (ids differ between runs: the replay finds the task by its element and unit)
            recorded = {**request, "role": actor.role, "element": row.spec_name}
            del recorded["task"]
            self.audit.append(case, extensions.REQUESTED, actor.username, now, task=task_id, data=recorded)

        before = {r.id for r in self._open_rows(case)}
        self._advance(case, parsed, workflow, "request_extension", actor, apply_input=run, record_input=requested, task=task_id)
        return next((r for r in self._open_rows(case) if r.id not in before and r.form == extensions.FORM), None)

    def add_answer_file(self, task_id: str, file: attachments.StoredFile, actor: Actor) -> tuple[Attachment, str]:
        """The holder of an open answer task adds a document to it (``file``: checked, stripped and written by the web,
        web/attachments.py). Returns its row and name. Raises NotFound, Forbidden, Conflict (a task done already or of
        another form), InvalidData (a fourth document for the task)."""
        row, case = access.answer_task(self.session, task_id, actor, attachments.ANSWER_TASK_ONLY)
        self._lock_case(case)  # two writers must not collide on the audit seq, nor two uploads pass the limit together
        added = attachments.added(self.session, self.audit, case, row, actor.username, file, self.clock.now())
        self.session.flush()
        return added

    def withdraw(self, tracking_id: str, token: str, reason: str | None = None) -> Case:
        """The citizen withdraws an open complaint: status ``dicabut``. Raises NotFound, Conflict."""
        with self.session.no_autoflush:  # the case row is written once, in save, where a stale version is a Conflict
            case = access.case_for_citizen(self.session, tracking_id, token, self.clock.now())
            if case.status not in OPEN_STATUSES:
                raise Conflict(N_("Laporan yang sudah selesai atau dicabut tidak dapat dicabut lagi."))
            parsed, workflow = self._load_to_change(case)
            now = self.clock.now()
            holders = {row.unit_id or row.role for row in self._open_rows(case) if row.role != CITIZEN.role}
            workflow.cancel()
            self.audit.append(case, "case_withdrawn", CITIZEN.username, now, data={"reason": reason or ""})
            self._set_status(case, "dicabut", CITIZEN.username, now)
            for holder in sorted(holders):
                self._audit_mail(case, holder, "dicabut", self.notifier.to_staff(case, holder, "dicabut", now))
            self.save(case, parsed, workflow)
            return case

    def claim(self, task_id: str, actor: Actor) -> OpenTask:
        """Take a task so colleagues see who works on it. Raises NotFound, Forbidden, Conflict (held by another)."""
        row, case = access.task_for(self.session, task_id, actor)
        if row.claimed_by not in (None, actor.username):
            raise Conflict(N_("Tugas ini sedang dikerjakan oleh %(user)s."), user=row.claimed_by)
        self._lock_case(case)  # two writers must not collide on the audit seq: the later one waits, then gets Conflict
        row.claimed_by = actor.username
        self.audit.append(case, "task_claimed", actor.username, self.clock.now(), task=task_id)
        return row

    def unclaim(self, task_id: str, actor: Actor) -> OpenTask:
        """Release a claim (one's own; Admin Pusat may release anyone's). Raises NotFound, Forbidden."""
        row = self.session.get(OpenTask, task_id)
        if row is None:
            raise NotFound(N_("Tugas tidak ditemukan."))
        if actor.role != "pusat":
            row, _case = access.task_for(self.session, task_id, actor)
            if row.claimed_by not in (None, actor.username):
                raise Forbidden(N_("Hanya pemegang tugas atau Admin Pusat yang dapat melepasnya."))
        if row.claimed_by is not None:
            case = self._case(row.case_id)
            self._lock_case(case)  # as in claim
            self.audit.append(case, "task_unclaimed", actor.username, self.clock.now(), task=task_id, data={"holder": row.claimed_by})
            row.claimed_by = None
        return row

    def reassign(self, task_id: str, unit_id: str, actor: Actor, reason: str = "") -> Case:
        """Admin Pusat moves a unit's open task to another unit of the same kind (a wrong disposition,
        a unit closed or overloaded). The case then belongs to the new unit for the rest of its way.

        Raises Forbidden (not Admin Pusat), NotFound, InvalidData (unit missing, same, or of the other kind).
        """
        if actor.role != "pusat":
            raise Forbidden(N_("Hanya Admin Pusat yang dapat mengalihkan tugas."))
        with self.session.no_autoflush:  # the case row is written once, in save, where a stale version is a Conflict
            row = self.session.get(OpenTask, task_id)
            if row is None:
                raise NotFound(N_("Tugas tidak ditemukan."))
            units = self.units()
            if row.unit_id is None:
                raise InvalidData({"unit": N_("Hanya tugas Satuan Kerja atau Instansi Vertikal yang dapat dialihkan.")})
            if unit_id == row.unit_id:
                raise InvalidData({"unit": N_("Tugas ini sudah berada di unit tersebut.")})
            if unit_id not in units or units[unit_id][1] != UNIT_ROLES[row.role]:
                raise InvalidData({"unit": N_("Pilih unit aktif yang sejenis dengan unit sekarang.")})
            if not reason.strip():
                raise InvalidData({"reason": N_("Tuliskan alasan pengalihan; alasan ini masuk ke riwayat laporan.")})
            case = self._case(row.case_id)
            parsed, workflow = self._load_to_change(case)
            task = ready_user_task(workflow, task_id)
            assert task is not None  # its open-task row was found: the row is written with the state
            # the task and its boundary timers carry unit_tujuan on to every later step of the unit
            for holder in task.parent.children if isinstance(task.parent.task_spec, BoundaryEventSplit) else [task]:
                holder.data["unit_tujuan"] = unit_id
            now = self.clock.now()
            self.audit.append(case, "task_reassigned", actor.username, now, task=task_id, data={"from": row.unit_id, "to": unit_id, "reason": reason})
            moved_from = row.unit_id
            row.unit_id, row.claimed_by, case.unit_id = unit_id, None, unit_id
            self._unit_state(case, moved_from, "dialihkan", now)
            self._unit_state(case, unit_id, "aktif", now)
            self._audit_mail(case, unit_id, "laporan_masuk", self.notifier.to_staff(case, unit_id, "laporan_masuk", now, unit=units[unit_id][0]))
            self.save(case, parsed, workflow)
            return case

    def due_case_ids(self, limit: int = 100) -> list[int]:
        """Ids of cases whose next timer is due, oldest first, then those whose retry is due (read only: a worker
        claims with claim_due_case). A case waiting for a retry is left out of the first: its retry fires its timers."""
        return [case_id for query in self._due() for case_id in self.session.scalars(query.limit(limit))][:limit]

    def claim_due_case(self, skip: Collection[int] = ()) -> int | None:
        """Claim the case whose next timer is most overdue, else the one whose retry of a failed system step is most
        overdue, leaving out ``skip``; None when none is due.

        On PostgreSQL the row is locked (``FOR UPDATE SKIP LOCKED``) until the caller's transaction ends:
        concurrent workers each take a different case, and a dead worker's lock ends with its connection
        (or after a minute idle in the transaction). SQLite has one worker; the version check turns a race
        into Conflict. Cost: a range scan of the ``next_timer_at`` index, then (when no timer is due) one of
        the ``retry_at`` index, whatever the number of open cases.
        """
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(text("SET LOCAL idle_in_transaction_session_timeout = '60s'"))
        for query in self._due():
            if skip:
                query = query.where(Case.id.not_in(list(skip)))
            case_id = self.session.scalar(query.limit(1).with_for_update(skip_locked=True))
            if case_id is not None:
                return case_id
        return None

    def _due(self) -> tuple[Select[int], Select[int]]:
        """The cases whose next timer is due (unless they wait for a retry, which fires their timers), and those whose
        retry is due: each query oldest first (of two due at the same instant, the older case), along its own index
        (``retry_at``'s holds only the waiting cases)."""
        now = self.clock.now()
        timers = select(Case.id).where(Case.next_timer_at <= now, Case.retry_at.is_(None)).order_by(Case.next_timer_at, Case.id)
        return timers, select(Case.id).where(Case.retry_at <= now).order_by(Case.retry_at, Case.id)

    def fire_timers(self, case_id: int) -> int:
        """Fire every due timer of one case and run what follows. A case waiting on a failed system step is retried
        instead, once its ``retry_at`` is due (its due timers fire with it). Returns how many timers fired (0 when the
        retry failed again: the case waits longer, see ``_advance``)."""
        case = self._case(case_id)
        due = case.retry_at or case.next_timer_at
        if due is None or due > self.clock.now():
            return 0
        return self._resume(case, SYSTEM)

    def retry(self, case_id: int, actor: Actor) -> Case:
        """Run now the system steps a case waits on after a failure: Admin Pusat's "Coba lagi", once the model is fixed
        (a new version and the case migrated to it, or the same version after a transient error). The case advances,
        its incident is resolved and the history records the retry (``steps_retried`` by ``actor``), or the incident
        counts up and ``case.retry_at`` moves further off (nothing recorded in the history).

        Raises Forbidden (not Admin Pusat), NotFound, Conflict (the case does not wait for a retry).
        """
        if actor.role != "pusat":
            raise Forbidden(N_("Hanya Admin Pusat yang dapat mencoba lagi langkah otomatis yang gagal."))
        case = self._case(case_id)
        if case.retry_at is None:
            raise Conflict(N_("Laporan ini tidak sedang menunggu percobaan ulang langkah otomatis."))
        self._resume(case, actor)
        return case

    def _resume(self, case: Case, actor: Actor, command: str | None = None) -> int:
        """Fire the due timers of a case and run the system steps it waits on: a ``"retry"`` when it waits for one (the
        replay says so itself: a failed timer pass left no record of the wait). Returns how many timers fired."""
        command = command or ("fire_timers" if case.retry_at is None else "retry")
        parsed, workflow = self._load_to_change(case)
        return self._advance(case, parsed, workflow, command, actor)

    def workflow_of(self, case: Case) -> tuple[Parsed, BpmnWorkflow]:
        """Load a case's workflow read-only (for pages that show data or the diagram)."""
        return self.load(case)

    # ---- internals -----------------------------------------------------------------------

    def _unused_tracking_id(self) -> str:
        while True:
            candidate = ids.new_tracking_id()
            if self.session.scalar(select(Case.id).where(Case.tracking_id == candidate)) is None:
                return candidate

    def _case(self, case_id: int) -> Case:
        case = self.session.get(Case, case_id)
        if case is None:
            raise NotFound(N_("Laporan tidak ditemukan."))
        return case

    def _open_rows(self, case: Case) -> list[OpenTask]:
        return lookups.open_tasks(self.session, case.id)

    def parsed_of(self, case: Case) -> Parsed:
        """The parsed definition version the case runs on (its forms may differ from the newest)."""
        # the version's content hash alone finds it in the per-process cache; its large bundle is read only on a miss
        return parsed_version(self.session, case.definition_id, case.definition_hash)

    def load(self, case: Case) -> tuple[Parsed, BpmnWorkflow]:
        """The case's definition version and its workflow as stored; migration and replay rebuild it through this too."""
        parsed = self.parsed_of(case)
        return parsed, state_serializer().loads(case.state, parsed.spec, parsed.subprocess_specs)

    def _load_to_change(self, case: Case) -> tuple[Parsed, BpmnWorkflow]:
        """The workflow a command changes and then saves: the one this process saved last, when the row still holds what
        it saved (engine/runtime/warm.py), else rebuilt from the row."""
        parsed = self.parsed_of(case)
        workflow = self.warm.take(case.id, parsed.content_hash, case.state)
        return (parsed, workflow) if workflow is not None else self.load(case)

    def _complete(self, case: Case, task_id: str, data: Any, actor: Actor) -> Case:
        parsed, workflow = self._load_to_change(case)
        task = ready_user_task(workflow, task_id)
        if task is None:
            raise Conflict(N_("Tugas ini sudah tidak terbuka; muat ulang halaman."))
        form = parsed.form_of(task.task_spec)
        assert form is not None  # validated at deploy: every user task has a form
        self._validate_form(parsed, form, data)
        self._check_form(case, task, form, data)
        if form == "disposisi" and data.get("decision", "teruskan") == "teruskan":  # the units' follow-up ceiling (reports)
            case.classification = data.get("classification", "pengaduan")
        spec = task.task_spec
        done = {"task": spec.bpmn_id, "name": spec.bpmn_name, "form": form, "data": data, "role": actor.role, "unit": actor.unit_id}
        if form == extensions.FORM:  # which unit's request it decides: several may wait at once (the replay tells them apart)
            done["request_unit"] = (task.data.get(extensions.REQUEST) or {}).get("unit")
        if form == access.ANSWER_FORM and data.get("interim"):
            return self._publish_interim(case, workflow, task_id, data, done, actor)

        def run(wf: BpmnWorkflow) -> None:
            user_task = wf.get_task_from_id(task.id)  # in whichever copy of the workflow it is given (see _advance)
            user_task.data[form] = data
            user_task.run()
            if form == access.ANSWER_FORM:  # answered: a request for more time still waiting lapses
                for request in extensions.drop_waiting(parsed, wf, task_id):
                    current().effects.append(Effect("extend", {**request, "decision": extensions.LAPSED, "working_days": 0, "note": ""}))

        held = self.session.get(OpenTask, task_id)  # whose work it was: their notifications of it are read once it is done

        def completed() -> None:
            self.audit.append(case, "task_completed", actor.username, self.clock.now(), task=task_id, data=done)
            if held is not None:
                self._after_lock.append(notify.read_when_task_done(case.id, held.role, held.unit_id))
                if held.overdue:  # its deadline fired: the escalation it raised is answered
                    self._resolve_escalations(case, form, held.unit_id, self.clock.now())

        command = "reply" if actor.role == CITIZEN.role else "complete_task"
        self._advance(case, parsed, workflow, command, actor, apply_input=run, record_input=completed, task=task_id)
        return case

    def _check_form(self, case: Case, task: Task, form: str, data: dict[str, Any]) -> None:
        """What a form's schema cannot say, checked against the case and the task's data. Raises InvalidData."""
        if form == "disposisi":
            self._check_duplicate(case, data)
        elif form == "teruskan" and data.get("decision") == "kembalikan" and data.get("units"):
            answered = {answer.get("unit") for answer in task.data.get("jawaban") or [] if isinstance(answer, dict)}
            if not set(data["units"]) <= answered:
                raise InvalidData({"units": N_("Pilih hanya unit yang telah memberi jawaban.")})
        elif form == extensions.FORM and data.get("decision") == "setuju":
            asked = (task.data.get(extensions.REQUEST) or {}).get("working_days")
            if isinstance(asked, int) and data.get("working_days", asked) > asked:
                raise InvalidData({"working_days": Message(N_("Paling banyak %(days)s hari kerja, sebanyak yang diminta unit."), days=asked)})
        elif form == access.ANSWER_FORM and data.get("attachments"):
            attachments.check_answer_files(self.session, case.id, str(task.id), data["attachments"])

    def _publish_interim(self, case: Case, workflow: BpmnWorkflow, task_id: str, data: dict[str, Any], done: dict[str, Any], actor: Actor) -> Case:
        """An interim answer (``tanggapan`` with ``interim: true``): published to the reporter at once (the timeline and
        a mail), with the documents it lists, while the task stays open and its deadlines stand."""
        now = self.clock.now()
        self._lock_case(case)
        self.audit.append(case, INTERIM, actor.username, now, task=task_id, data=done)
        if data.get("attachments"):
            attachments.publish(self.session, case.id, data["attachments"], now)
        sent = self.notifier.to_reporter(case, self._reporter_email(self._complaint(workflow)), "jawaban_sementara", now, detail=data["response"])
        self._audit_mail(case, "pelapor", "jawaban_sementara", sent)
        case.updated_at = now
        self.session.flush()
        return case

    def _check_duplicate(self, case: Case, data: dict[str, Any]) -> None:
        """A case archived as a duplicate names another case that exists; a case archived for another reason names none
        (the model's ``arsipkan`` would fail on it, an incident instead of a field error). Raises InvalidData."""
        duplicate_of = data.get("duplicate_of")
        if duplicate_of is None:
            return
        if data.get("archive_reason") != "duplikat":
            if data.get("decision") == "arsipkan":
                raise InvalidData({"duplicate_of": N_("Isi nomor pelacakan laporan lain hanya bila alasan arsipnya duplikat.")})
            return
        if duplicate_of == case.tracking_id:
            raise InvalidData({"duplicate_of": N_("Laporan tidak dapat menjadi duplikat dirinya sendiri.")})
        if not self._case_exists(duplicate_of):
            raise InvalidData({"duplicate_of": N_("Tidak ada laporan dengan nomor pelacakan ini.")})

    def _case_exists(self, tracking_id: str) -> bool:
        """Whether a case has this tracking id. The replay's service overrides it: its database holds only the replayed case."""
        return self.session.scalar(select(Case.id).where(Case.tracking_id == tracking_id)) is not None

    def _advance(
        self,
        case: Case,
        parsed: Parsed,
        workflow: BpmnWorkflow,
        command: str,
        actor: Actor,
        apply_input: Callable[[BpmnWorkflow], None] | None = None,
        record_input: Callable[[], None] | None = None,
        task: str | None = None,
    ) -> int:
        """Take the command's input (``apply_input`` changes the workflow: the complaint reaches the start event, the
        user's task is completed; ``record_input`` adds its events: ``case_started`` and the receipt,
        ``task_completed``; neither for timers and retries), run the system steps after it up to the next wait
        (scripts, gateways, the DMN decision; for timers and retries first the timers that are due), and record what
        happened. Returns how many timers fired.

        The system steps run as one unit after a checkpoint, as after an asynchronous continuation in Camunda: when
        one fails (it raises, leaves in the task data a value the serializer cannot store, sends the case to a unit
        that does not exist, or asks for an effect that cannot be applied), all they did is dropped (workflow state,
        effects, audit events, mail, fired timers: nothing of it was written yet, as nothing is flushed before
        ``save``) and the case is saved as it stood at the checkpoint, the input included, with an incident naming
        the element and ``case.retry_at`` for the worker (``incidents.retry_delay``). Back to the checkpoint rather
        than to the step before the failing one, on purpose: SpiffWorkflow leaves a failing task half run (in ERROR,
        its data partly written by the script, a split's children partly updated) while the checkpoint is a wait
        state that serializes and reloads cleanly; and the steps before the failing one did nothing lasting (effects
        are applied only once every step has run), so they simply run again at the retry. A run that succeeds
        clears ``retry_at`` and resolves the case's incident. Either way the case row is written once, in ``save``.

        The history records both for the replay (engine/audit/replay.py), in the same transaction: a failed run that kept an
        input adds ``step_failed`` (the element) after the input's events, so the replay keeps the input and does not run
        the steps at that instant; a retry (``command == "retry"``) that succeeds starts with ``steps_retried``, so the
        replay runs the steps again at the retry's instant. A failed timer pass or retry changes nothing in the case and
        writes no event (its incident counts it).

        Raises Conflict; an error in ``apply_input`` or ``record_input``, or one the database raises while writing,
        propagates: the command fails whole and saves nothing.
        """
        with self.session.no_autoflush:  # nothing is written before save: a failed step leaves nothing to undo in the database
            waiting = [t for t in workflow.get_tasks(state=TaskState.WAITING) if is_timer(t)]
            context = self._run_context()
            with clocks.using(self.clock), running(context):
                if apply_input is not None:
                    apply_input(workflow)
            kept = len(context.effects)  # what the input itself asked for stays, whatever the steps do
            before = set(self.session.new), set(self.session.dirty), self.audit.mark()
            if record_input is not None:
                record_input()
            steps = _Steps(context.effects)
            fired: list[Task] = []
            try:
                with clocks.using(self.clock), running(context):
                    started = time.perf_counter()
                    self._run_steps(workflow, steps, timers_first=apply_input is None)
                    self._move_deadlines(case, workflow, context.effects[steps.first :])
                    # the system's own steps (SOP standard time: 1 minute) run here; their real duration goes on record
                    steps_ms = round((time.perf_counter() - started) * 1000, 1)
                state = state_serializer().dumps(workflow)  # a value the serializer cannot store fails here, not in save
                self._check_units(steps)
                fired = [t for t in waiting if t.state in (TaskState.READY, TaskState.COMPLETED)]
                now = self.clock.now()  # one instant: a retry's event and the timers it fired make one step of the history
                if command == "retry":
                    self._audit_retry(case, actor, now)
                if case.retry_at is not None:
                    case.retry_at = None
                    incidents.recovered(self.session, case.id, actor.username, now)
                self._record(case, workflow, fired, context.effects, steps_ms, steps, at=now)
            except Exception as error:
                fired = []
                self._forget(*before)
                if record_input is not None:
                    record_input()
                if isinstance(error, StepsFailedAsRecorded):
                    element, element_name = error.element, error.element_name
                else:
                    spec = steps.culprit(error, parsed.spec)
                    element, element_name = getattr(spec, "bpmn_id", None) or spec.name, getattr(spec, "bpmn_name", None)
                now = self.clock.now()
                incident = incidents.step_failed(
                    self.session,
                    now,
                    command,
                    error,
                    actor=actor.username,
                    case_id=case.id,
                    task=task,
                    element=element,
                    element_name=element_name,
                )
                case.retry_at = now + incidents.retry_delay(incident.count)
                state = None
                workflow = self._checkpoint(case, parsed, apply_input)
                self._record(case, workflow, [], context.effects[:kept], 0.0, at=now)
                if record_input is not None:  # the kept input's steps did not run: the replay must not run them either
                    data = {"element": incident.element, "name": incident.element_name}
                    self.audit.append(case, STEP_FAILED, SYSTEM.username, now, data=data)
                if not isinstance(error, StepsFailedAsRecorded):
                    log.warning("%s of case %s: %s failed (%s), retry at %s", command, case.id, incident.element, incident.error, case.retry_at)
            self.save(case, parsed, workflow, state)
            return len(fired)

    def _checkpoint(self, case: Case, parsed: Parsed, apply_input: Callable[[BpmnWorkflow], None] | None) -> BpmnWorkflow:
        """The workflow as it stood once the command's input was applied, made again after a failed run: from the
        stored state (a new workflow for a submission) with the input applied once more. Rebuilt only on failure, so
        that a run that succeeds serializes the workflow once, not a second time to keep a checkpoint."""
        workflow = self.load(case)[1] if case.state else self._new_workflow(parsed)
        if apply_input is not None:
            # the input's own effects were kept from the first time; these are the same and are dropped
            with clocks.using(self.clock), running(self._run_context()):
                apply_input(workflow)
        return workflow

    @staticmethod
    def _new_workflow(parsed: Parsed) -> BpmnWorkflow:
        return BpmnWorkflow(parsed.spec, parsed.subprocess_specs, script_engine=make_script_engine())

    def _run_steps(self, workflow: BpmnWorkflow, steps: _Steps, timers_first: bool) -> None:
        """Run the system steps up to the next wait: for a timer pass or a retry (``timers_first``) first the timers
        that are due. The replay's service overrides it to fail as a recorded run failed (``StepsFailedAsRecorded``)."""
        if timers_first:
            workflow.refresh_timers()
        workflow.do_engine_steps(steps.will_run, steps.did_run)

    def _move_deadlines(self, case: Case, workflow: BpmnWorkflow, effects: list[Effect]) -> None:
        """Re-arm the timers of each answer task whose extension the steps granted, before the state is written."""
        for effect in effects:
            if effect.type == "extend" and effect.args["decision"] == "setuju":
                task = extensions.open_answer(workflow, effect.args["task"])
                if task is not None:  # the unit has not answered meanwhile
                    latest = extensions.limit(self.calendar, case.submitted_at, task)
                    extensions.move_deadlines(task, effect.args["working_days"], latest, self.calendar)

    def _audit_retry(self, case: Case, actor: Actor, now: datetime) -> None:
        """Record that a retry ran the system steps the case waited on (``steps_retried``: the first event of the retry's
        step, which the replay runs again at its instant), naming the incident it resolves; no personal data."""
        incident = incidents.waiting_on(self.session, case.id)
        data = {
            "incident": incident.id if incident else None,
            "element": incident.element if incident else None,
            "name": incident.element_name if incident else None,
        }
        self.audit.append(case, STEPS_RETRIED, actor.username, now, data=data)

    def _forget(self, new: set[Any], dirty: set[Any], audit: AuditMark) -> None:
        """Drop what the session gained since it held ``new`` and ``dirty`` and the audit log stood at ``audit`` (nothing
        of it was flushed): objects added are removed, objects changed are read again from the database, events appended
        are forgotten, and so are the statements waiting for the case row's lock."""
        for added in set(self.session.new) - new:
            self.session.expunge(added)
        for changed in set(self.session.dirty) - dirty:
            self.session.expire(changed)
        self.audit.back_to(audit)
        self._after_lock.clear()

    def _check_units(self, steps: _Steps) -> None:
        """Raise, naming the step, when a step sent the case to a unit id that does not exist (the database would refuse
        the write, failing the whole command). A deactivated unit still exists: its running cases go on. Only a step
        that set the unit is checked: one that carries its parent's unit on was checked when the unit was set."""
        for task, _emitted in steps.ran:
            unit = task.data.get("unit_tujuan")
            if task.parent is not None and task.parent.data.get("unit_tujuan") == unit:
                continue
            if unit is not None and unit not in self.units() and (not isinstance(unit, str) or self.session.get(Unit, unit) is None):
                raise _StepFailed(f"unit {unit!r} tidak terdaftar", task)

    def _record(
        self,
        case: Case,
        workflow: BpmnWorkflow,
        fired: list[Task],
        effects: list[Effect],
        steps_ms: float,
        steps: _Steps | None = None,
        at: datetime | None = None,
    ) -> None:
        """Add to the session what a run did at ``at`` (now by default; nothing is flushed): the unit it reached, the timers
        that fired, each effect in order."""
        now = at or self.clock.now()
        last = workflow.last_task
        if case.unit_id is None and last is not None and last.data.get("unit_tujuan"):
            case.unit_id = last.data["unit_tujuan"]  # a model that names its unit without teruskan_ke_unit (older versions)
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
                    "attached_to": attached_task(timer.task_spec),
                },
            )
        for index, effect in enumerate(effects):
            if steps is not None:
                steps.applying = index
            self._apply(case, workflow, effect, now, steps_ms)
        if steps is not None:
            steps.applying = None

    def _apply(self, case: Case, workflow: BpmnWorkflow, effect: Effect, now: datetime, steps_ms: float) -> None:
        args = effect.args
        if effect.type == "status":
            self._set_status(case, args["status"], SYSTEM.username, now)
        elif effect.type == "record":
            self.audit.append(case, "complaint_recorded", SYSTEM.username, now, data={"tracking_id": case.tracking_id, "duration_ms": steps_ms})
        elif effect.type == "publish":
            case.answer_text, case.answered_at = args["text"], now
            published = {"text": args["text"], "duration_ms": steps_ms}
            if args.get("attachments"):  # the units' documents go out with the answer
                attachments.publish(self.session, case.id, args["attachments"], now)
                published["attachments"] = args["attachments"]
            self.audit.append(case, "answer_published", SYSTEM.username, now, data=published)
        elif effect.type == "notify":
            to, topic = args["to"], args["topic"]
            if to == "pelapor":
                sent = self.notifier.to_reporter(case, self._reporter_email(self._complaint(workflow)), topic, now)
            else:
                unit = self._unit_names(case, args.get("unit"))
                # why the case is back is read from the workflow only for the mail that says it (a tree walk and a query)
                back = came_back_in(self.parsed_of(case), workflow) if self.notifier.says_why_back(topic) else ""
                sent = self.notifier.to_staff(case, to, topic, now, unit=unit, back=back)
            self._audit_mail(case, to, topic, sent)
        elif effect.type == "escalate":
            self._escalate(case, workflow, args["stage"], args["clock"], now, args.get("unit"))
        elif effect.type == "forward":
            self._forward(case, args["unit"], now)
        elif effect.type == "decline":
            self._unit_state(case, args["unit"], "bukan_wewenang", now)
        elif effect.type == "ask":
            self.audit.append(case, "additions_requested", SYSTEM.username, now, data={"question": args["question"]})
            email = self._reporter_email(self._complaint(workflow))
            sent = self.notifier.to_reporter(case, email, "minta_kelengkapan", now, question=args["question"])
            self._audit_mail(case, "pelapor", "minta_kelengkapan", sent)
        elif effect.type == "archive":
            case.archive_reason, case.duplicate_of = args["reason"], args.get("duplicate_of")
            self.audit.append(case, "case_archived", SYSTEM.username, now, data={"reason": case.archive_reason, "duplicate_of": case.duplicate_of})
        elif effect.type == "protect":
            self._protect(case, workflow, args, now)
        elif effect.type == "extend":
            self._record_extension(case, workflow, args, now)
        else:  # pragma: no cover - scripting only emits the types above
            raise ValueError(f"unknown effect {effect.type}")

    def _resolve_escalations(self, case: Case, stage: str, unit: str | None, now: datetime) -> None:
        """Mark answered the case's open escalations of ``stage`` (the unit's, or the stage's own when ``unit`` is None)."""
        self._after_lock.append((_RESOLVE_ESCALATIONS, {"of_case": case.id, "of_stage": stage, "of_unit": unit, "resolved": now}))

    def _record_extension(self, case: Case, workflow: BpmnWorkflow, args: dict[str, Any], now: datetime) -> None:
        """Record Admin Kominfo's decision on a request for more time (or its lapse), with the answer task's deadlines
        as they now stand (moved by ``_move_deadlines`` on a grant)."""
        task = extensions.open_answer(workflow, args["task"])
        if task is not None and args["decision"] == "setuju":  # the deadline it missed moved: a new miss escalates again
            self._resolve_escalations(case, access.ANSWER_FORM, args["unit"], now)
        due, ceiling, _overdue = deadlines(task, now) if task is not None else (None, None, False)
        data = {
            "unit": args["unit"],
            "decision": args["decision"],
            "working_days": args["working_days"],
            "note": args.get("note", ""),
            "due_at": extensions.local_iso(due),
            "ceiling_at": extensions.local_iso(ceiling),
        }
        self.audit.append(case, extensions.DECIDED, SYSTEM.username, now, task=args["task"], data=data)

    def _unit_names(self, case: Case, unit: str | None) -> str:
        """The name of the unit a notification is about: ``unit`` when the model named it, else every unit that holds
        the case (one for most cases)."""
        names = self.units()
        if unit is not None:
            return names.get(unit, ("", ""))[0]
        if case.unit_id is None:  # never forwarded: no unit holds it
            return ""
        held = self.session.scalars(select(CaseUnit.unit_id).where(CaseUnit.case_id == case.id, CaseUnit.state == "aktif")).all()
        return ", ".join(names.get(u, (u, ""))[0] for u in held) or names.get(case.unit_id or "", ("", ""))[0]

    def _forward(self, case: Case, unit: str, now: datetime) -> None:
        """The case goes to ``unit`` (one of the units step 3 chose): recorded in case_unit, the unit notified. The
        case's first unit (reports by unit) is this one unless it already has a unit that still holds it."""
        current = self.session.get(CaseUnit, (case.id, case.unit_id)) if case.unit_id else None
        if case.unit_id is None or (current is not None and current.state != "aktif"):
            case.unit_id = unit
        self._unit_state(case, unit, "aktif", now)
        self._audit_mail(case, unit, "laporan_masuk", self.notifier.to_staff(case, unit, "laporan_masuk", now, unit=self.units()[unit][0]))

    def _unit_state(self, case: Case, unit: str, state: str, now: datetime) -> None:
        row = self.session.get(CaseUnit, (case.id, unit))
        if row is None:
            self.session.add(CaseUnit(case_id=case.id, unit_id=unit, state=state, since=now))
        elif row.state != state:
            row.state, row.since = state, now

    def _protect(self, case: Case, workflow: BpmnWorkflow, args: dict[str, Any], now: datetime) -> None:
        """Staff mark the case anonymous or confidential on the reporter's behalf (never back) and give the text the units
        read instead of the reporter's own; recorded (``case_protected``: which flags, whether a text was given)."""
        case.anonymous = case.anonymous or bool(args.get("anonymous"))
        case.confidential = case.confidential or bool(args.get("confidential"))
        if args.get("redacted_body"):
            case.redacted_body = args["redacted_body"]
            case.search_text = search_text(self._complaint(workflow), case.redacted_body)
        data = {"anonymous": case.anonymous, "confidential": case.confidential, "redacted": case.redacted_body is not None}
        self.audit.append(case, "case_protected", SYSTEM.username, now, data=data)

    def _escalate(self, case: Case, workflow: BpmnWorkflow, stage: str, clock_name: str, now: datetime, unit: str | None = None) -> None:
        """A missed deadline: a reminder to whoever holds the stage (``unit``, when the model names the unit whose task
        it is; else the stage's role or the case's unit) and an escalation to Admin Pusat."""
        unit = unit or (None if stage in STAGE_HOLDERS else case.unit_id)
        holder = STAGE_HOLDERS.get(stage, unit or "kominfo")
        unit_name = self.units().get(unit or "", ("", ""))[0] if holder == unit else ""
        self.session.add(Escalation(case_id=case.id, at=now, stage=stage, clock=clock_name, unit_id=unit if holder == unit else None))
        self.audit.append(case, "deadline_missed", SYSTEM.username, now, data={"stage": stage, "clock": clock_name, "holder": holder})
        if stage == "balasan":
            sent = self.notifier.to_reporter(case, self._reporter_email(self._complaint(workflow)), "pengingat", now)
        else:
            sent = self.notifier.to_staff(case, holder, "pengingat", now, stage=stage, clock=clock_name)
        self._audit_mail(case, holder, "pengingat", sent)
        self._audit_mail(
            case, "pusat", "eskalasi", self.notifier.to_staff(case, "pusat", "eskalasi", now, stage=stage, clock=clock_name, unit=unit_name)
        )
        if clock_name == CEILING:
            case.late = True
            case.breached = [*case.breached, f"{stage}:{clock_name}"]

    def _set_status(self, case: Case, status: str, actor: str, now: datetime) -> None:
        if status == case.status:
            return
        self.audit.append(case, "status_changed", actor, now, data={"from": case.status, "to": status})
        case.status = status
        if status in FINISHED_STATUSES:
            case.closed_at = now
            self._after_lock.append(notify.read_when_case_closed(case.id))

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

    def save(self, case: Case, parsed: Parsed, workflow: BpmnWorkflow, state: str | None = None) -> None:
        """Write the case: its open tasks, next timer, the workflow's state (``state`` when the caller serialized it
        already) and its version. Raises Conflict. Every verb saves through here, and so do migration and replay."""
        now = self.clock.now()
        live = workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)  # one walk of the tree for both
        dues = [timer_due(t) for t in live if t.state == TaskState.WAITING and is_timer(t)]
        case.next_timer_at = min((d for d in dues if d is not None), default=None)
        case.state = state if state is not None else state_serializer().dumps(workflow)
        case.updated_at = now
        self._write_case(case)
        for statement, params in self._after_lock:
            self.session.execute(statement, params)
        self._after_lock.clear()
        self._sync_open_tasks(case, parsed, [t for t in live if t.state == TaskState.READY and t.task_spec.manual], now)
        try:
            self.session.flush()
        except StaleDataError:
            raise Conflict(CHANGED_MEANWHILE) from None
        self.warm.keep(case.id, parsed.content_hash, case.state, workflow)

    def _write_case(self, case: Case) -> None:
        """Write what changed in the case row, and its next version, in one UPDATE that checks the version it read, before
        the command writes anything else: it takes the row's lock as ``_lock_case`` does, and is the row's only write."""
        table = cast(Table, Case.__table__)
        changed = {attr.key: attr.value for attr in inspect(case).attrs if attr.key in table.c and attr.history.has_changes()}
        written = {**changed, "version": case.version + 1}
        self._update_if_unchanged(case, written)
        for key, value in written.items():
            set_committed_value(case, key, value)  # written: the session's flush has nothing left to write for the row

    def _lock_case(self, case: Case) -> None:
        """Take the case row's write lock before the command writes anything else, checking the version it read.

        The flush may insert audit events and touch open tasks before it updates the case row; two commands
        racing on one case would then collide on the next audit seq or deadlock instead of one of them finding
        the version changed. Writing the case row first makes the later command wait here until the earlier
        one commits, then raise Conflict. Raises Conflict.
        """
        self._update_if_unchanged(case, {"version": Case.__table__.c.version})

    def _update_if_unchanged(self, case: Case, values: dict[str, Any]) -> None:
        """UPDATE the case row with ``values`` where its version is still the one ``case`` read: the row's write lock. A
        Core statement, so executing it does not flush the session first. Raises Conflict when another command changed it."""
        table = cast(Table, Case.__table__)
        guard = table.update().where(table.c.id == case.id, table.c.version == case.version).values(values)
        if cast(CursorResult, self.session.execute(guard)).rowcount != 1:
            raise Conflict(CHANGED_MEANWHILE)

    def _sync_open_tasks(self, case: Case, parsed: Parsed, ready_tasks: list[Task], now: datetime) -> None:
        """Make the case's open-task rows those of its ready user tasks (``ready_tasks``), with their deadlines now."""
        existing = {row.id: row for row in self._open_rows(case)}
        ready = {str(t.id): t for t in ready_tasks}
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
