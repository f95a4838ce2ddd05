"""Who may see and act on what: the one redaction rule (:func:`sight`), the one holder rule of a task (:func:`holds`,
:func:`held_by`), the role policy (:func:`require`), and the loaders every page, case sheet, export, register,
history and API answer goes through: :func:`case_for_staff`, :func:`seen_cases`, :func:`oversight_case` (a case),
:func:`task_for`, :func:`seen_task` (a task), :func:`case_for_citizen` (a case by its access token or a mailed link code). An output takes
a :class:`SeenCase`, never a bare ``Case`` row. They raise engine errors only (NotFound, Forbidden, Conflict), which
the web maps to one HTTP status each.

A reporter's identity is their name, email and phone, all three together. Who opens a case at all
("own unit": the case went to the unit at step 3 and the unit still holds it, or the unit has an open task of it), and
who sees its reporter's identity, by the case's flags (staff may set anonymous and confidential on the reporter's
behalf at step 3, never back):

| viewer                             | opens the case         | neither | confidential | anonymous | both   |
|------------------------------------|------------------------|---------|--------------|-----------|--------|
| ``pusat`` (Admin Pusat)            | every case             | shown   | shown        | hidden    | hidden |
| ``kominfo`` (Admin Kominfo)        | every case             | shown   | shown        | hidden    | hidden |
| ``satker``/``vertikal``, own unit  | yes                    | shown   | shown        | hidden    | hidden |
| ``satker``/``vertikal``, other     | no (404)               | hidden  | hidden       | hidden    | hidden |
| ``auditor``                        | every case             | hidden  | hidden       | hidden    | hidden |
| ``analis``                         | every case             | hidden  | hidden       | hidden    | hidden |
| the public (no account)            | only if not confidential, on the public pages | hidden | hidden | hidden | hidden |

Where staff gave a redacted text for the units (``Case.redacted_body``), the units, analysts and the public read only
that; Admin Pusat, Admin Kominfo and auditors read the reporter's own text too, both marked (``Sight.original_text``).

A task is held by the people of its lane's role, in its unit when it has one (a unit lane's task): they read it
and act on it. Anyone else reads it as if it did not exist (404); acting on it, a role that does not act in its
lane is refused (403) and another unit's staff find nothing (404).

Why: an anonymous reporter is known to no one but the system (and themselves, through the access
token: their tracking page and their own mail are not staff outputs). The office handling a case
(Admin Pusat, Admin Kominfo, the unit it is with) may have to reach a named reporter, confidential or
not: confidentiality keeps the case, its content included, off public pages, not away from the office.
Auditors check how a case was handled, not who complained: no reporter is shown to them. Analysts
study how cases run through the process (a case's page, its diagram and history, beside the figures), never
who complained: as to auditors, no reporter is shown to them. Staff mail and inbox notifications name no reporter
at all (engine/notifications/notify.py), so they need no redaction.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engine.cases.ids import LinkExpired, link_expiry, normalize_tracking_id, token_matches
from engine.contract import CASE_READERS, HANDLERS, ORIGINAL_TEXT_READERS, OVERSIGHT_ROLES, UNIT_ROLES, Actor
from engine.db.tables import AuditEvent, Case, CaseUnit, OpenTask
from engine.errors import Conflict, Forbidden, NotFound
from engine.messages import N_

# ---- the rule -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sight:
    """What one viewer may see of one case (the table in the module docstring)."""

    case: bool  # the case itself: its page, sheet, history, its line in an export (hidden: 404, or left out of a list)
    identity: bool  # the reporter's name, email and phone
    original_text: bool = False  # the reporter's own text where staff gave a redacted one for the units


def sight(role: str | None, anonymous: bool, confidential: bool, own_unit: bool = False) -> Sight:
    """The rule, for a viewer of ``role`` (None: the public) and a case with these flags; ``own_unit``: the case is
    with the viewer's unit (its current unit, or an open task of the unit). Pure: the loader works out ``own_unit``."""
    if role is None:
        return Sight(case=not confidential, identity=False)
    if role not in CASE_READERS or (role in UNIT_ROLES and not own_unit):
        return Sight(case=False, identity=False)
    return Sight(case=True, identity=not anonymous and role in HANDLERS, original_text=role in ORIGINAL_TEXT_READERS)


def public_cases() -> ColumnElement[bool]:
    """The rule's row for the public as a query condition (the public pages' lists and counts): not confidential."""
    return Case.confidential.is_(False)


# ---- the loader -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SeenCase:
    """A case as one viewer may see it: the row and the rule's verdict. Every output of a case takes one of these."""

    case: Case
    sight: Sight

    @property
    def hides_reporter(self) -> bool:
        return not self.sight.identity


def seen_cases(session: Session, cases: Sequence[Case], viewer: Actor) -> list[SeenCase]:
    """The cases ``viewer`` may open, in the given order, each with what it may see of them; the others left out."""
    own: set[int] = set()
    if viewer.role in UNIT_ROLES:
        ids = [case.id for case in cases]
        # a unit the case went to and that still holds it (not one that declined it or had its task moved away) ...
        held = select(CaseUnit.case_id).where(CaseUnit.case_id.in_(ids), CaseUnit.unit_id == viewer.unit_id, CaseUnit.state == "aktif")
        own = set(session.scalars(held))
        # ... or, for a case of an earlier version of the model (no case_unit rows), the case's unit
        listed = set(session.scalars(select(CaseUnit.case_id).where(CaseUnit.case_id.in_(ids))))
        own |= {case.id for case in cases if case.id not in listed and case.unit_id == viewer.unit_id}
        rest = [case.id for case in cases if case.id not in own]
        if rest:  # a task of the unit open on a case now with another unit (a unit moved on, a reassignment)
            own |= set(session.scalars(select(OpenTask.case_id).where(OpenTask.case_id.in_(rest), OpenTask.unit_id == viewer.unit_id)))
    seen = (SeenCase(case, sight(viewer.role, case.anonymous, case.confidential, case.id in own)) for case in cases)
    return [item for item in seen if item.sight.case]


def seen_case(session: Session, case: Case, viewer: Actor) -> SeenCase:
    """``case`` as ``viewer`` may see it. Raises NotFound when the viewer may not open it."""
    for item in seen_cases(session, [case], viewer):
        return item
    raise NotFound(N_("Laporan tidak ditemukan."))


def case_for_staff(session: Session, tracking_id: str, viewer: Actor) -> SeenCase:
    """The one loader of a case for staff. Raises Forbidden for a role that opens no case (before looking, so a
    tracking id cannot be probed), NotFound for an unknown case or one the viewer may not open."""
    require(viewer, CASE_READERS, N_("Peran Anda tidak dapat membuka halaman laporan."))
    return seen_case(session, case_by_tracking_id(session, tracking_id), viewer)


def oversight_case(session: Session, tracking_id: str, viewer: Actor) -> SeenCase:
    """A case for its full audit history, its replay and its export: ``case_for_staff`` for the oversight roles only.
    Raises Forbidden for any other role (before looking), NotFound as case_for_staff does."""
    require(viewer, OVERSIGHT_ROLES, N_("Peran Anda tidak dapat membuka riwayat audit laporan."))
    return case_for_staff(session, tracking_id, viewer)


def case_for_citizen(session: Session, tracking_id: str, token: str, now: datetime) -> Case:
    """The case a citizen's tracking id and access token, or a link code of a later mail unexpired at ``now``, open
    (the tracking page, reply, withdraw, the API's /complaints/{tracking_id}). Raises LinkExpired (a NotFound) for a
    genuine link code past its expiry, NotFound for any other mismatch, as for an unknown tracking id."""
    case = session.scalar(_CASE_BY_TRACKING_ID, {"tracking_id": normalize_tracking_id(tracking_id)})
    if case is not None and token:
        if token_matches(token, case.access_token_hash):
            return case
        expires = link_expiry(token, case.tracking_id, case.access_token_hash)
        if expires is not None and now < expires:
            return case
        if expires is not None:
            raise LinkExpired(N_("Tautan ini sudah kedaluwarsa. Masukkan nomor pelacakan dan kode akses dari email tanda terima laporan Anda."))
    raise NotFound(N_("Laporan tidak ditemukan. Periksa nomor pelacakan dan tautan pribadi Anda."))


# ---- the role policy ------------------------------------------------------------------------


def require(actor: Actor, roles: Collection[str], message: str) -> None:
    """The role policy: ``roles`` is one of engine/contract.py's tuples (CASE_READERS, OVERSIGHT_ROLES, FIGURE_ROLES).
    Raises Forbidden with ``message`` when ``actor``'s role is not among them."""
    if actor.role not in roles:
        raise Forbidden(message)


# ---- tasks: who holds one -------------------------------------------------------------------


def holds(row: OpenTask, actor: Actor) -> bool:
    """The holder rule: ``actor`` acts in the task's lane (its role) and in its unit; a task of no unit is held by
    the whole role (whose staff have no unit). :func:`held_by` is the same rule as a query condition."""
    return row.role == actor.role and row.unit_id == actor.unit_id


def held_by(actor: Actor) -> ColumnElement[bool]:
    """:func:`holds` as a query condition (the inbox and its counts): equalities on the open-task index's leading
    columns (role, unit), so a page of the inbox is one walk of that index in deadline order."""
    unit = OpenTask.unit_id.is_(None) if actor.unit_id is None else OpenTask.unit_id == actor.unit_id
    return and_(OpenTask.role == actor.role, unit)


# Built once: building a statement costs more than running it on a primary key (SQLAlchemy's expression objects)
_TASK_WITH_CASE = select(OpenTask, Case).join(Case, Case.id == OpenTask.case_id).where(OpenTask.id == bindparam("task_id"))
_CASE_BY_TRACKING_ID = select(Case).where(Case.tracking_id == bindparam("tracking_id"))


def task_for(session: Session, task_id: str, actor: Actor) -> tuple[OpenTask, Case]:
    """The open task ``actor`` acts on (complete, claim, release), with its case. Raises NotFound for no such open
    task or another unit's, Forbidden for a role that does not act in the task's lane."""
    found = session.execute(_TASK_WITH_CASE, {"task_id": task_id}).first()
    if found is None:
        raise NotFound(N_("Tugas tidak ditemukan."))
    row, case = found
    if row.role != actor.role:
        raise Forbidden(N_("Peran Anda tidak dapat mengerjakan tugas ini."))
    if not holds(row, actor):
        raise NotFound(N_("Tugas tidak ditemukan."))
    return row, case


def seen_task(session: Session, task_id: str, reader: Actor) -> tuple[OpenTask, SeenCase]:
    """The open task ``reader`` holds, with its case as the reader may see it (the task page, GET /api/v1/tasks/{id}).
    Raises NotFound for anyone but a holder, a wrong role too: reading a task id reveals nothing."""
    try:
        row, case = task_for(session, task_id, reader)
    except Forbidden:
        raise NotFound(N_("Tugas tidak ditemukan.")) from None
    return row, seen_case(session, case, reader)  # a holder opens the case: its task is open with the holder's unit


ANSWER_FORM = "tanggapan"  # a unit's answer task: it uploads documents for it and asks for more time on it


def answer_task(session: Session, task_id: str, actor: Actor, other_form: str) -> tuple[OpenTask, Case]:
    """The open answer task ``actor`` holds, with its case: for what a unit does beside answering (a document, a request
    for more time). Raises NotFound (no such open task, or another unit's), Forbidden (a role that does not act in the
    task's lane), Conflict (done already, by the actor or a colleague; ``other_form`` for a task of another form)."""
    row, case = task_to_act_on(session, task_id, actor)
    if row.form != ANSWER_FORM:
        raise Conflict(other_form)
    return row, case


def task_to_act_on(session: Session, task_id: str, actor: Actor) -> tuple[OpenTask, Case]:
    """``task_for``, and for a task no longer open the answer of ``refuse_closed_task``: what completing a task, adding a
    document to it or asking for more time on it each check first. Raises NotFound, Forbidden, Conflict."""
    try:
        return task_for(session, task_id, actor)
    except NotFound:
        refuse_closed_task(session, task_id, actor)


def refuse_closed_task(session: Session, task_id: str, actor: Actor) -> NoReturn:
    """The answer to acting on a task that is not ``actor``'s open task: Conflict ("done already") when it is closed
    and ``actor`` could have done it (a double click, a retry, a quicker colleague), else NotFound, as if it never
    existed. The completion's recorded role and unit say who could have done it."""
    if session.scalar(select(OpenTask.id).where(OpenTask.id == task_id)) is None:  # the database's word, not a stale identity map's
        query = select(AuditEvent.data).where(AuditEvent.task == task_id, AuditEvent.type == "task_completed").limit(1)
        completed = session.scalar(query)
        done = json.loads(completed) if completed is not None else {}
        if completed is not None and done.get("role") == actor.role and done.get("unit") in (None, actor.unit_id):
            raise Conflict(N_("Tugas ini sudah diselesaikan."))
    raise NotFound(N_("Tugas tidak ditemukan."))


# ---- finding a case ---------------------------------------------------------------------


def case_by_tracking_id(session: Session, tracking_id: str) -> Case:
    """A case by its tracking id, for staff (who are then checked for what they may see). Raises NotFound."""
    case = session.scalar(select(Case).where(Case.tracking_id == normalize_tracking_id(tracking_id)))
    if case is None:
        raise NotFound(N_("Laporan tidak ditemukan."))
    return case
