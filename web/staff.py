"""Staff pages: the task inbox, the task page with its form, case pages, notifications."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from engine import Conflict, Forbidden, InvalidData, NotFound, inbox, mailer, notify, views
from engine.accounts import UNIT_ROLES
from engine.diagram import render_svg
from engine.progress import overlay_of
from engine.store import Attachment, Case, Escalation, OpenTask, Unit

from . import attachments, db, formrender, service
from .auth import roles_required
from .labels import engine_text

bp = Blueprint("staff", __name__)
STAFF_ROLES = ("pusat", "kominfo", "satker", "vertikal", "auditor", "analis")
OVERSIGHT_ROLES = ("pusat", "auditor")


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
    return render_template("staff/inbox.html", page=page, now=current_app.config["LAPOR_CLOCK"].now())


def _visible_case(tracking_id: str) -> Case:
    """The case if the current user may see it; 404 otherwise (units see only cases sent to them)."""
    try:
        case = views.case_by_tracking_id(db.session, tracking_id)
    except NotFound:
        abort(404)
    actor = current_user.actor
    if actor.role in ("satker", "vertikal"):
        seen = case.unit_id == actor.unit_id or db.session.scalar(
            select(OpenTask.id).where(OpenTask.case_id == case.id, OpenTask.unit_id == actor.unit_id).limit(1)
        )
        if not seen:
            abort(404)
    elif actor.role == "analis":
        abort(403)
    return case


@bp.route("/tugas/<task_id>", methods=["GET", "POST"])
@login_required
def task(task_id: str):
    try:
        row, case = inbox.own_task(db.session, task_id, current_user.actor)
    except NotFound:
        abort(404)
    svc = service()
    schema = svc.served_form(svc.parsed_of(case), row.form)
    values, errors = None, None
    if request.method == "POST":
        values = formrender.parse(schema, request.form)
        try:
            svc.complete_task(task_id, values, current_user.actor)
        except InvalidData as err:
            db.session.rollback()
            errors = err.errors
        except Conflict as err:
            db.session.rollback()
            flash(err.message, "error")
            return redirect(url_for("staff.inbox_page"))
        except Forbidden:
            abort(403)
        else:
            db.session.commit()
            flash(_("Tugas selesai. Terima kasih."), "info")
            return redirect(url_for("staff.inbox_page"))
    elif row.form == "disposisi":
        workflow = svc.workflow_of(case)[1]
        suggested = workflow.last_task.data.get("unit_saran") if workflow.last_task else None
        values = {"unit": suggested} if suggested else None
    return render_template(
        "staff/task.html",
        row=row,
        case=case,
        view=views.staff_case(db.session, case),
        fields=formrender.fields(schema, values, errors),
        schema=schema,
        attachments=_attachments(case),
        now=current_app.config["LAPOR_CLOCK"].now(),
    ), (400 if errors else 200)


def _attachments(case: Case) -> list[Attachment]:
    return db.session.scalars(select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)).all()


@bp.route("/tugas/<task_id>/klaim", methods=["POST"])
@login_required
def claim(task_id: str):
    return _claim_action(task_id, service().claim, _("Tugas Anda ambil."))


@bp.route("/tugas/<task_id>/lepas", methods=["POST"])
@login_required
def unclaim(task_id: str):
    return _claim_action(task_id, service().unclaim, _("Tugas dilepas."))


def _claim_action(task_id, verb, done_message):
    try:
        verb(task_id, current_user.actor)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    except Conflict as err:
        db.session.rollback()
        flash(err.message, "error")
    else:
        db.session.commit()
        flash(done_message, "info")
    return redirect(request.referrer or url_for("staff.inbox_page"))


@bp.route("/kasus/<tracking_id>")
@roles_required(*STAFF_ROLES)
def case_page(tracking_id: str):
    case = _visible_case(tracking_id)
    tasks = db.session.scalars(select(OpenTask).where(OpenTask.case_id == case.id)).all()
    now = current_app.config["LAPOR_CLOCK"].now()
    parsed, workflow = service().workflow_of(case)
    return render_template(
        "staff/case.html",
        case=case,
        view=views.staff_case(db.session, case),
        tasks=tasks,
        attachments=_attachments(case),
        now=now,
        diagram=Markup(render_svg(parsed.bpmn, overlay_of(parsed, workflow, now), legend=True, translate=engine_text)),  # escaped by the renderer
        units=service().units() if current_user.user.role == "pusat" else {},
        unit_kind_of_role=UNIT_ROLES,
    )


@bp.route("/kasus/<tracking_id>/tugas/<task_id>/alihkan", methods=["POST"])
@roles_required("pusat")
def reassign(tracking_id: str, task_id: str):
    try:
        service().reassign(task_id, request.form.get("unit", ""), current_user.actor, request.form.get("reason", "").strip())
    except NotFound:
        abort(404)
    except (InvalidData, Conflict) as err:
        db.session.rollback()
        for message in err.errors.values() if isinstance(err, InvalidData) else [err.message]:
            flash(message, "error")
    else:
        db.session.commit()
        flash(_("Tugas dialihkan."), "info")
    return redirect(url_for("staff.case_page", tracking_id=tracking_id))


@bp.route("/kasus/<tracking_id>/lampiran/<int:attachment_id>")
@roles_required(*STAFF_ROLES)
def attachment(tracking_id: str, attachment_id: int):
    case = _visible_case(tracking_id)
    item = db.session.get(Attachment, attachment_id)
    if item is None or item.case_id != case.id:
        abort(404)
    return send_file(attachments.folder() / item.stored_name, mimetype=item.content_type, download_name=item.filename, as_attachment=True)


@bp.route("/kasus")
@roles_required(*OVERSIGHT_ROLES)
def cases():
    query = select(Case)
    args = request.args
    if args.get("q"):
        query = query.where(Case.tracking_id.contains(args["q"].strip().upper()) | Case.title.contains(args["q"].strip()))
    for column in ("status", "category"):
        if args.get(column):
            query = query.where(getattr(Case, column) == args[column])
    if args.get("unit"):
        query = query.where(Case.unit_id == args["unit"])
    if args.get("late"):
        query = query.where(Case.late.is_(True))
    if args.get("overdue"):
        query = query.where(Case.id.in_(select(OpenTask.case_id).where(OpenTask.overdue.is_(True))))
    page = max(1, args.get("page", 1, type=int))
    rows = db.session.scalars(query.order_by(Case.submitted_at.desc()).limit(inbox.PAGE_SIZE + 1).offset((page - 1) * inbox.PAGE_SIZE)).all()
    units = db.session.scalars(select(Unit).order_by(Unit.name)).all()
    escalations = db.session.scalars(select(Escalation).where(Escalation.resolved_at.is_(None)).order_by(Escalation.at.desc()).limit(20)).all()
    return render_template(
        "staff/cases.html",
        cases=rows[: inbox.PAGE_SIZE],
        has_next=len(rows) > inbox.PAGE_SIZE,
        page=page,
        units=units,
        escalations=escalations,
        failed_mails=mailer.failed_mails(db.session) if current_user.user.role == "pusat" else [],
    )


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
    try:
        notify.mark_read(db.session, current_user.user.id, notification_id)
    except NotFound:
        abort(404)
    db.session.commit()
    return redirect(url_for("staff.notifications"))
