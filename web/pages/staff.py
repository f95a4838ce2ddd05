"""Staff pages: the task inbox, the task page with its form, case pages, notifications.

Each case and task is loaded through engine/cases/access.py (who may see and act on what); the engine's errors are
answered as on every page (web/pages/errors.py): 404, 403, or a Conflict's message and the way back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import EngineError, InvalidData, NotFound
from engine.cases import access, extensions, inbox, incidents, lookups, notes, overview, similar, views
from engine.cases import attachments as recorded
from engine.cases.context import RETURNED
from engine.contract import CASE_READERS, HANDLERS, NOTE_READERS, OVERSIGHT_ROLES, UNIT_ROLES, Actor
from engine.db.tables import Attachment, Case, OpenTask
from engine.diagram.progress import overlay_of
from engine.notifications import mailer, notify
from web import attachments, params
from web.extensions import db, service
from web.pages import events, formrender
from web.pages.auth import HOMES, roles_required
from web.pages.errors import back_to
from web.pages.history import diagram_markup
from web.security import page_field_errors

bp = Blueprint("staff", __name__)
bp.add_app_template_filter(events.unit_name, "unit_name")  # units by name on every page, not only the staff's


@bp.app_context_processor
def navigation():
    if not getattr(current_user, "is_authenticated", False):
        return {}
    total, overdue = inbox.counts(db.session, current_user.actor)
    unread = notify.unread_count(db.session, current_user.user.id)
    return {"nav_tasks": total, "nav_overdue": overdue, "nav_unread": unread}


@bp.route("/tugas")
@login_required
def inbox_page():
    page = inbox.inbox(
        db.session,
        current_user.actor,
        status=request.args.get("status") or None,
        category=request.args.get("category") or None,
        page=request.args.get("page", 1, type=int),
    )
    # a role that holds no task of the model is pointed to where its work is
    home = HOMES.get(current_user.user.role)
    return render_template("staff/inbox.html", page=page, now=current_app.config["LAPOR_CLOCK"].now(), home=home)


def _to_inbox(**_view_args: object) -> str:
    return url_for("staff.inbox_page")


def _back_or_inbox(**_view_args: object) -> str:
    return request.referrer or url_for("staff.inbox_page")


@bp.route("/tugas/<task_id>", methods=["GET", "POST"])
@back_to(_to_inbox)
@login_required
def task(task_id: str):
    actor = current_user.actor
    try:
        row, seen = access.seen_task(db.session, task_id, actor)
    except NotFound:
        if request.method == "POST":  # the form of a task no longer open came (again): a double click, a quicker colleague
            access.refuse_closed_task(db.session, task_id, actor)  # "done already" to whoever could have done it, as the API's 409
        raise
    case = seen.case
    view = views.staff_case(db.session, seen)
    schema, answer_files = _task_form(row, case, view["context"])
    values, errors, incident_id = None, None, None
    if request.method == "POST":
        values = formrender.parse(schema, request.form)
        case_id = case.id
        try:
            if unsafe := page_field_errors(values):
                raise InvalidData(unsafe)
            service().complete_task(task_id, values, actor)
        except InvalidData as err:  # the form again, with each field's error
            db.session.rollback()
            errors = err.errors
        except EngineError:
            raise  # answered as on every page (web/pages/errors.py)
        except Exception as err:  # the completion itself failed (a system step after it waits for a retry instead): nothing was saved
            incident_id = _record_incident(err, "complete_task", case_id, task_id)
        else:
            waiting = case.retry_at is not None  # a system step after the task failed: the completion is saved, the step retried
            db.session.commit()
            if waiting:
                flash(_("Tugas selesai dan tersimpan. Langkah otomatis sesudahnya belum berhasil; sistem akan mencobanya lagi."), "info")
            elif row.form == access.ANSWER_FORM and values.get("interim") is True:  # published; the task stays open for the final answer
                flash(_("Jawaban sementara telah dikirim kepada pelapor. Tugas ini tetap terbuka sampai Anda mengirim jawaban akhir."), "info")
                return redirect(url_for("staff.task", task_id=task_id, _anchor="jawaban-sementara"))
            else:
                flash(_("Tugas selesai. Terima kasih."), "info")
            return redirect(url_for("staff.inbox_page"))
    return _task_page(row, seen, view, schema, answer_files, values, errors, incident_id)


def _task_form(row: OpenTask, case: Case, context: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[Attachment, str]]]:
    """The task's form as its page offers it, and (on an answer task) the task's documents."""
    svc = service()
    schema = _marking_declined(svc.served_form(svc.parsed_of(case), row.form), context["declined_units"])
    # the review's units that must revise: those that answered, by name
    schema = formrender.with_choices(schema, {"answering_units": [(a["unit"], a["unit_name"] or a["unit"]) for a in context["answers"] if a["unit"]]})
    return _offering_answer_files(schema, row, case)


def _task_page(
    row: OpenTask,
    seen: access.SeenCase,
    view: dict[str, Any],
    schema: dict[str, Any],
    answer_files: list[tuple[Attachment, str]],
    values: dict[str, Any] | None = None,
    errors: dict[str, Any] | None = None,
    incident_id: int | None = None,
    extension_form: dict[str, Any] | None = None,
) -> tuple[str, int]:
    """The task page: the form with ``values`` and ``errors`` (None on a first visit: the form prefilled), and on an
    answer task the request for more time, with ``extension_form``'s values and errors when one was refused."""
    case, context = seen.case, view["context"]
    asked = _extension_request(row, case)
    if values is None and errors is None:
        values = _prefilled(row.form, case, context, row.unit_id, asked)
        if answer_files:  # uploaded to go out with the answer: ticked until the unit unticks one
            values = {**(values or {}), "attachments": [item.id for item, _name in answer_files]}
    return render_template(
        "staff/task.html",
        row=row,
        case=case,
        view=view,
        context=context,
        present=events.presenter_for(case),
        fields=formrender.fields(schema, values, errors),
        schema=schema,
        answer_files=answer_files,
        max_answer_files=recorded.MAX_PER_ANSWER,
        attachments=recorded.of_case(db.session, case.id),
        # the units' answer documents by id, for the answers shown (each lists the ids it was sent with)
        answer_documents={item.id: (item, name) for item, name in recorded.answer_files(db.session, case.id)}
        if context["answers"] or context["interim"]
        else {},
        now=current_app.config["LAPOR_CLOCK"].now(),
        incident_id=incident_id,
        similar=_similar_for_task(row.form, case, current_user.actor),
        extension=_extension_state(row, case, extension_form),
        extension_request=asked,
        **_notes_of(case),
        **_duplicate_links(case),
    ), (500 if incident_id else 400 if errors or (extension_form or {}).get("errors") else 200)


def _extension_state(row: OpenTask, case: Case, form: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """On an answer task (its page's "Minta perpanjangan waktu"): the request still waiting for Admin Kominfo's decision
    (None when none waits: the form is offered), Admin Kominfo's decisions on the task's earlier requests, and the
    form's ``values`` and ``errors`` after a refused request. None on other tasks and on a model without extensions."""
    if row.form != access.ANSWER_FORM:
        return None
    parsed, workflow = service().workflow_of(case)
    if extensions.FORM not in parsed.forms:
        return None
    waiting = extensions.decisions_waiting(parsed, workflow, row.id)
    return {
        "waiting": dict(waiting[0].data[extensions.REQUEST]) if waiting else None,
        "decisions": views.extension_decisions(db.session, case).get(row.id, []),
        "max_days": extensions.MAX_DAYS,
        **(form or {"values": {}, "errors": {}}),
    }


def _extension_request(row: OpenTask, case: Case) -> dict[str, Any] | None:
    """On Admin Kominfo's decision task (form ``perpanjangan``): the unit's request (unit, working_days, reason, due_at,
    ceiling_at, limit_at) and what a grant of every day asked makes of the deadline, as the engine moves it
    (engine/cases/extensions.py): ``moved_at`` (never past ``limit_at``: ``capped`` says it would have), and whether the
    national ceiling then moves to the maximum (``ceiling_moves``)."""
    if row.form != extensions.FORM:
        return None
    workflow = service().workflow_of(case)[1]
    asked = dict(workflow.get_task_from_id(UUID(row.id)).data.get(extensions.REQUEST) or {})
    if not asked:
        return None
    due, ceiling = (datetime.fromisoformat(asked[key]) if asked.get(key) else None for key in ("due_at", "ceiling_at"))
    moved = extensions.grant(due, ceiling, asked["working_days"], datetime.fromisoformat(asked["limit_at"]), service().calendar)
    return {**asked, "moved_at": moved.due_at.isoformat(), "capped": moved.capped, "ceiling_moves": moved.ceiling_at != ceiling}


def _to_task(task_id: str, **_view_args: object) -> str:
    """Back to the task's page while it is open; to the inbox once it is done (its page is gone)."""
    return url_for("staff.task", task_id=task_id) if db.session.get(OpenTask, task_id) is not None else url_for("staff.inbox_page")


@bp.route("/tugas/<task_id>/perpanjangan", methods=["POST"])
@back_to(_to_task)  # refused (a request still waiting, the task done meanwhile): the message flashed there
@login_required
def request_extension(task_id: str):
    """The unit holding an answer task asks Admin Kominfo for more working days (``working_days``, ``reason``); a field
    refused shows the task page again with the form's errors."""
    actor = current_user.actor
    form = {name: request.form.get(name, "") for name in ("working_days", "reason")}
    try:
        if unsafe := page_field_errors(form):
            raise InvalidData(unsafe)
        service().request_extension(task_id, form, actor)
    except InvalidData as err:
        db.session.rollback()
        row, seen = access.seen_task(db.session, task_id, actor)
        view = views.staff_case(db.session, seen)
        schema, answer_files = _task_form(row, seen.case, view["context"])
        return _task_page(row, seen, view, schema, answer_files, extension_form={"values": form, "errors": err.errors})
    db.session.commit()
    flash(_("Permintaan perpanjangan terkirim kepada Admin Kominfo."), "info")
    return redirect(url_for("staff.task", task_id=task_id, _anchor="perpanjangan"))


def _offering_answer_files(schema: dict[str, Any], row: OpenTask, case: Case) -> tuple[dict[str, Any], list[tuple[Attachment, str]]]:
    """On an answer task, its documents (listed above the form, where they are uploaded) as the choices of the form's
    ``attachments``: the ones that go out with the answer; the field is left out while there is none to choose."""
    if row.form != access.ANSWER_FORM:
        return schema, []
    files = recorded.of_task(db.session, case.id, row.id)
    schema = formrender.with_choices(schema, {recorded.ANSWER_FILES_SOURCE: [(item.id, name) for item, name in files]})
    if not files and "attachments" in schema.get("properties", {}):
        schema["properties"]["attachments"]["x-hidden"] = True
    return schema, files


def _to_answer_files(task_id: str, **_view_args: object) -> str:
    return url_for("staff.task", task_id=task_id, _anchor="dokumen")


@bp.route("/tugas/<task_id>/dokumen", methods=["POST"])
@back_to(_to_answer_files)  # a refused file (its type, the limit of 3) is flashed above the upload
@login_required
def add_answer_file(task_id: str):
    """The unit holding an answer task uploads one document for it: PDF, JPEG or PNG of 5 MB at most, checked by its
    content and stripped of metadata as the citizen's files are (web/attachments.py)."""
    actor = current_user.actor
    access.answer_task(db.session, task_id, actor, recorded.ANSWER_TASK_ONLY)  # 404, 403 or "done already" before the file is read
    checked, file_error, _status = attachments.check(request.files.getlist("file"))
    if file_error or len(checked) != 1:
        raise InvalidData({"file": file_error or _("Pilih satu berkas untuk diunggah.")})
    _item, name = attachments.store_for_answer(service(), task_id, actor, checked[0])
    db.session.commit()
    flash(_("Dokumen %(name)s diunggah. Dokumen yang dicentang pada formulir terbit bersama jawaban.", name=name), "info")
    return redirect(_to_answer_files(task_id))


def _similar_for_task(form: str, case: Case, actor: Actor) -> list[similar.Similar]:
    """On the verification task (``disposisi``), the cases that may be the same complaint, for the liaison to compare
    or to mark this one a duplicate of."""
    if form != "disposisi" or actor.role not in similar.READERS:
        return []
    return similar.similar_cases(db.session, case, now=current_app.config["LAPOR_CLOCK"].now())


def _duplicate_links(case: Case) -> dict[str, Any]:
    """The links between an archived duplicate and the case it repeats, both ways (staff/_case.html), for the roles
    that open every case (a unit's link would lead to a case it may not open)."""
    if not similar.may_link(current_user.actor.role):
        return {"duplicates": [], "duplicate_of": None}
    return {"duplicates": similar.duplicates_of(db.session, case.tracking_id), "duplicate_of": case.duplicate_of}


def _prefilled(form: str, case: Case, context: dict[str, Any], unit: str | None = None, asked: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """What a task's form starts with: on ``disposisi`` the unit the decision table suggests, unless that unit already
    declined the case; on ``teruskan`` the unit's answer (the units' answers one below the other, each under its unit's
    name, when several answered), as the answer the reporter will read, and every unit that answered as those that
    revise theirs if it is returned; on a returned ``tanggapan`` the earlier answer of ``unit`` (the task's), to revise
    as Admin Kominfo's note asks; on ``perpanjangan`` the days the unit asked for (``asked``: its request)."""
    if form == extensions.FORM and asked:
        return {"working_days": asked["working_days"]}
    answer = (context["answer"] or {}).get("text")
    answers = context["answers"]
    if form == "disposisi":
        workflow = service().workflow_of(case)[1]
        suggested = workflow.last_task.data.get("unit_saran") if workflow.last_task else None
        return {"units": [suggested]} if suggested and suggested not in context["declined_units"] else None
    if form == "teruskan" and answers:  # one answer for the reporter, from every unit's, to edit
        text = answers[0]["text"] if len(answers) == 1 else "\n\n".join(f"{a['unit_name'] or a['unit']}:\n{a['text']}" for a in answers)
        return {"answer": text, "units": [a["unit"] for a in answers if a["unit"]]}
    if form == "teruskan" and answer:
        return {"answer": answer}
    own = next((a["text"] for a in answers if a["unit"] == unit), None)
    if form == "tanggapan" and own and (context["came_back"] or {}).get("reason") == RETURNED:
        return {"response": own}
    return None


def _marking_declined(schema: dict[str, Any], declined: list[str]) -> dict[str, Any]:
    """The served schema with each unit that declined the case marked as such in the unit choices."""
    for prop in schema.get("properties", {}).values():
        for field in (prop, prop.get("items") or {}):  # a single unit, or each item of a list of units
            if field.get("x-enumSource") == "units" and declined:
                field["x-enumNames"] = [
                    _("%(unit)s (menyatakan bukan wewenangnya)", unit=name) if unit in declined else name
                    for unit, name in zip(field["enum"], field["x-enumNames"], strict=True)
                ]
    return schema


def _record_incident(error: Exception, command: str, case_id: int, task_id: str) -> int:
    """Roll the failed command back, record it as an incident in a transaction of its own, and return the incident's id.

    Re-raises ``error`` (a plain 500) when even the incident cannot be written: then the database itself is failing.
    """
    db.session.rollback()
    current_app.logger.error("%s of task %s failed", command, task_id, exc_info=error)
    try:
        incident = incidents.record(
            db.session, current_app.config["LAPOR_CLOCK"].now(), command, error, actor=current_user.user.username, case_id=case_id, task=task_id
        )
        incident_id = incident.id
        db.session.commit()
    except Exception:
        db.session.rollback()
        current_app.logger.exception("recording the incident failed too")
        raise error from None
    return incident_id


@bp.route("/tugas/<task_id>/klaim", methods=["POST"])
@back_to(_back_or_inbox)
@login_required
def claim(task_id: str):
    service().claim(task_id, current_user.actor)
    db.session.commit()
    flash(_("Tugas Anda ambil."), "info")
    return redirect(_back_or_inbox())


@bp.route("/tugas/<task_id>/lepas", methods=["POST"])
@back_to(_back_or_inbox)
@login_required
def unclaim(task_id: str):
    service().unclaim(task_id, current_user.actor)
    db.session.commit()
    flash(_("Tugas dilepas."), "info")
    return redirect(_back_or_inbox())


@bp.route("/kasus/<tracking_id>")
@roles_required(*CASE_READERS)
def case_page(tracking_id: str):
    seen = access.case_for_staff(db.session, tracking_id, current_user.actor)
    case = seen.case
    tasks = lookups.open_tasks(db.session, case.id)
    now = current_app.config["LAPOR_CLOCK"].now()
    parsed, workflow = service().workflow_of(case)
    return render_template(
        "staff/case.html",
        case=case,
        view=views.staff_case(db.session, seen),
        present=events.presenter_for(case),
        tasks=tasks,
        attachments=recorded.of_case(db.session, case.id),
        now=now,
        diagram=diagram_markup(parsed, overlay_of(parsed, workflow, now)),
        extension_decisions=views.extension_decisions(db.session, case),
        units=service().units() if current_user.user.role == "pusat" else {},
        unit_kind_of_role=UNIT_ROLES,
        **_notes_of(case),
        **_duplicate_links(case),
    )


def _notes_of(case: Case) -> dict[str, Any]:
    """The internal notes thread of a case the viewer may open (staff/_notes.html), and whether the viewer may add one;
    nothing for a role that does not read notes (analysts)."""
    role = current_user.user.role
    if role not in NOTE_READERS:
        return {}
    return {"notes": notes.notes_of(db.session, case), "may_note": role in HANDLERS}


def _to_case(tracking_id: str, **_view_args: object) -> str:
    return url_for("staff.case_page", tracking_id=tracking_id)


def _to_notes(tracking_id: str, **_view_args: object) -> str:
    """Back to the notes on the page the note came from: the task page (the form's ``task``) or the case page."""
    task_id = request.form.get("task", "")
    page = url_for("staff.task", task_id=task_id) if task_id else url_for("staff.case_page", tracking_id=tracking_id)
    return f"{page}#catatan"


@bp.route("/kasus/<tracking_id>/catatan", methods=["POST"])
@back_to(_to_notes)  # a refused note (empty, too long) is flashed where it was written
@roles_required(*HANDLERS)
def add_note(tracking_id: str):
    service().add_note(tracking_id, request.form.get("text", ""), current_user.actor)
    db.session.commit()
    flash(_("Catatan internal ditambahkan."), "info")
    return redirect(_to_notes(tracking_id))


@bp.route("/kasus/<tracking_id>/tugas/<task_id>/alihkan", methods=["POST"])
@back_to(_to_case)  # a refused move (a unit of the other kind, no reason given) is flashed on the case page
@roles_required("pusat")
def reassign(tracking_id: str, task_id: str):
    service().reassign(task_id, request.form.get("unit", ""), current_user.actor, request.form.get("reason", "").strip())
    db.session.commit()
    flash(_("Tugas dialihkan."), "info")
    return redirect(_to_case(tracking_id))


@bp.route("/kasus/<tracking_id>/lampiran/<int:attachment_id>")
@roles_required(*CASE_READERS)
def attachment(tracking_id: str, attachment_id: int):
    """A file of the case: the citizen's, or a unit's document with its answer (published or not)."""
    case = access.case_for_staff(db.session, tracking_id, current_user.actor).case  # nothing of the complaint is shown
    return attachments.send(recorded.for_staff(db.session, case.id), attachment_id)


@bp.route("/kasus")
@roles_required(*OVERSIGHT_ROLES)
def cases():
    args = request.args
    search = inbox.CaseSearch(
        text=args.get("q", ""),
        status=args.get("status") or None,
        category=args.get("category") or None,
        unit=args.get("unit") or None,
        late=bool(args.get("late")),
        overdue=bool(args.get("overdue")),
    )
    page = params.page(args)
    rows, has_next = inbox.search_cases(db.session, search, page)
    return render_template(
        "staff/cases.html",
        cases=rows,
        has_next=has_next,
        page=page,
        units=lookups.units(db.session),
        escalations=overview.open_escalations(db.session),
        failed_mails=mailer.failed_mails(db.session) if current_user.user.role == "pusat" else [],
        incidents=incidents.open_incidents(db.session) if current_user.user.role == "pusat" else [],
    )


@bp.route("/ikhtisar")
@roles_required("pusat")
def overview_page():
    """Admin Pusat's start: what needs a look now across all cases (incidents, escalations, overdue tasks, failed mail)."""
    now = current_app.config["LAPOR_CLOCK"].now()
    return render_template(
        "staff/overview.html",
        incidents=incidents.open_incidents(db.session, limit=overview.OVERVIEW_LIMIT),
        escalations=overview.open_escalations(db.session),
        overdue=overview.overdue_tasks(db.session, now),
        failed_mails=mailer.failed_count(db.session),
        now=now,
    )


@bp.route("/insiden/<int:incident_id>/selesai", methods=["POST"])
@roles_required("pusat")
def resolve_incident(incident_id: int):
    """Admin Pusat marks an incident dealt with (the process or the code was fixed, the task was done again)."""
    if incidents.resolve(db.session, incident_id, current_user.user.username, current_app.config["LAPOR_CLOCK"].now()):
        db.session.commit()
        flash(_("Insiden ditandai selesai."), "info")
    else:
        db.session.rollback()
        flash(_("Insiden ini tidak ada atau sudah ditandai selesai."), "error")
    return redirect(url_for("staff.cases", _anchor="insiden"))


def _to_incidents(**_view_args: object) -> str:
    return url_for("staff.cases", _anchor="insiden")


@bp.route("/insiden/<int:incident_id>/coba-lagi", methods=["POST"])
@back_to(_to_incidents)
@roles_required("pusat")
def retry_incident(incident_id: int):
    """Admin Pusat runs now the system steps the incident's case waits on (the model was fixed and the case moved to
    the new version, or a transient error has passed): the case advances and the incident is resolved, or it stays."""
    case_id = incidents.case_of(db.session, incident_id)
    if case_id is None:
        abort(404)
    case = service().retry(case_id, current_user.actor)
    advanced = case.retry_at is None
    db.session.commit()
    if advanced:
        flash(_("Langkah otomatis berhasil dijalankan; laporan berlanjut dan insidennya selesai."), "info")
    else:
        flash(_("Langkah otomatis masih gagal; rinciannya ada pada insiden. Sistem akan mencobanya lagi nanti."), "error")
    return redirect(_to_incidents())


@bp.route("/surel/<int:mail_id>/kirim-ulang", methods=["POST"])
@roles_required("pusat")
def resend_mail(mail_id: int):
    """Admin Pusat puts a given-up mail back in the queue (same Message-ID), e.g. after fixing the address or the server."""
    if mailer.requeue(db.session, mail_id, current_app.config["LAPOR_CLOCK"]):
        db.session.commit()
        flash(_("Email dimasukkan kembali ke antrean kirim."), "info")
    else:
        db.session.rollback()
        flash(_("Email ini tidak sedang berstatus gagal."), "error")
    return redirect(url_for("staff.cases"))


@bp.route("/notifikasi", methods=["GET", "POST"])
@login_required
def notifications():
    """The user's notifications, newest first; POST marks them all read."""
    if request.method == "POST":
        notify.mark_all_read(db.session, current_user.user.id)
        db.session.commit()
        return redirect(url_for("staff.notifications"))
    return render_template("staff/notifications.html", items=notify.notifications_of(db.session, current_user.user.id, limit=100))


@bp.route("/notifikasi/<int:notification_id>/baca", methods=["POST"])
@login_required
def notification_read(notification_id: int):
    notify.mark_read(db.session, current_user.user.id, notification_id)
    db.session.commit()
    return redirect(url_for("staff.notifications"))
