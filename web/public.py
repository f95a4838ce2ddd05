"""Citizens (Masyarakat): submit a complaint, follow it, reply, withdraw; the public list."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from engine import Conflict, InvalidData, NotFound
from engine.inbox import PAGE_SIZE
from engine.store import Case, OpenTask, OutboxMail

from . import attachments, db, formrender, service
from .security import page_field_errors

bp = Blueprint("public", __name__)
CATEGORIES = ("pendidikan", "kesehatan", "infrastruktur", "pertanahan", "keagamaan", "lainnya")
STATUSES = ("diterima", "didisposisikan", "ditindaklanjuti", "dijawab", "selesai", "dicabut")


@bp.app_context_processor
def vocabulary():
    return {"CATEGORIES": CATEGORIES, "STATUSES": STATUSES}


@bp.route("/")
def home():
    counts = dict(db.session.execute(select(Case.status, func.count()).where(Case.confidential.is_(False)).group_by(Case.status)).all())
    return render_template("public/home.html", counts=counts)


def _complaint_schema():
    svc = service()
    parsed = svc.parsed_for(svc.current_definition())
    return svc.served_form(parsed, parsed.start_form)


@bp.route("/lapor", methods=["GET", "POST"])
def submit():
    schema = _complaint_schema()
    if request.method == "GET":
        return render_template("public/submit.html", fields=formrender.fields(schema))
    data = formrender.parse(schema, request.form)
    checked, file_error, file_status = attachments.check(request.files.getlist("lampiran"))
    unsafe = page_field_errors(data)
    try:
        if file_error or unsafe:
            raise InvalidData({**unsafe, "lampiran": file_error} if file_error else unsafe)
        submitted = service().submit(data, channel="web")
    except InvalidData as err:
        db.session.rollback()
        status = file_status if file_error else 400  # 413 for a file over the size limit, with the form and its message
        fields = formrender.fields(schema, data, err.errors)
        return render_template("public/submit.html", fields=fields, file_error=err.errors.get("lampiran")), status
    attachments.store(db.session, submitted.case, checked, current_app.config["LAPOR_CLOCK"].now())
    db.session.commit()
    link = url_for("public.track", tracking_id=submitted.case.tracking_id, token=submitted.access_token, _external=True)
    return render_template("public/receipt.html", case=submitted.case, link=link)


@bp.route("/lacak", methods=["GET", "POST"])
def track_lookup():
    if request.method == "POST":
        return redirect(url_for("public.track", tracking_id=request.form.get("tracking_id", "").strip(), token=request.form.get("token", "").strip()))
    return render_template("public/track_lookup.html")


def _citizen_case(tracking_id: str, token: str) -> Case:
    try:
        return service().citizen_case(tracking_id, token)
    except NotFound:
        abort(404)


@bp.route("/lacak/<tracking_id>")
def track(tracking_id: str):
    token = request.args.get("token", "")
    if not token:
        return render_template("public/track_lookup.html", tracking_id=tracking_id)
    case = _citizen_case(tracking_id, token)
    return _render_track(case, token)


def _render_track(case: Case, token: str, reply_errors=None, reply_values=None, status: int = 200):
    from engine import views

    svc = service()
    parsed = svc.parsed_of(case)
    waiting = db.session.scalar(select(OpenTask).where(OpenTask.case_id == case.id, OpenTask.role == "masyarakat"))
    reply_fields = formrender.fields(parsed.forms["balasan"], reply_values, reply_errors) if waiting else None
    deadlines = db.session.scalars(select(OpenTask).where(OpenTask.case_id == case.id)).all()
    return render_template(
        "public/track.html",
        case=case,
        token=token,
        view=views.citizen_case(db.session, case),
        reply_fields=reply_fields,
        waiting=waiting,
        deadlines=deadlines,
        can_withdraw=case.status in ("diterima", "didisposisikan", "ditindaklanjuti", "dijawab"),
    ), status


@bp.route("/lacak/<tracking_id>/balas", methods=["POST"])
def reply(tracking_id: str):
    token = request.form.get("token", "")
    case = _citizen_case(tracking_id, token)
    svc = service()
    schema = svc.parsed_of(case).forms["balasan"]
    data = formrender.parse(schema, request.form)
    try:
        if unsafe := page_field_errors(data):
            raise InvalidData(unsafe)
        svc.reply(tracking_id, token, data)
    except InvalidData as err:
        db.session.rollback()
        return _render_track(case, token, err.errors, data, 400)
    except Conflict as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(url_for("public.track", tracking_id=case.tracking_id, token=token))
    db.session.commit()
    flash(_("Terima kasih, balasan Anda telah kami terima."), "info")
    return redirect(url_for("public.track", tracking_id=case.tracking_id, token=token))


@bp.route("/lacak/<tracking_id>/cabut", methods=["POST"])
def withdraw(tracking_id: str):
    token = request.form.get("token", "")
    case = _citizen_case(tracking_id, token)
    try:
        service().withdraw(tracking_id, token, request.form.get("reason"))
    except Conflict as err:
        db.session.rollback()
        flash(err.message, "error")
    else:
        db.session.commit()
        flash(_("Laporan Anda telah dicabut."), "info")
    return redirect(url_for("public.track", tracking_id=case.tracking_id, token=token))


@bp.route("/pengaduan")
def public_list():
    category = request.args.get("category") if request.args.get("category") in CATEGORIES else None
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    query = select(Case).where(Case.confidential.is_(False))
    if category:
        query = query.where(Case.category == category)
    if status:
        query = query.where(Case.status == status)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, request.args.get("page", 1, type=int)), pages)
    cases = db.session.scalars(query.order_by(Case.submitted_at.desc(), Case.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render_template("public/list.html", cases=cases, category=category, status=status, page=page, pages=pages, total=total)


@bp.route("/bahasa/<lang>", methods=["POST"])
def language(lang: str):
    response = redirect(request.referrer if request.referrer and request.referrer.startswith(request.host_url) else url_for("public.home"))
    if lang in ("id", "en"):
        response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.route("/dev/kotak-surat")
def dev_mailbox():
    """Development mailbox: with no MAIL_SERVER, queued mail is readable here (never in production)."""
    # it shows citizens' private links, so only on a development machine, to a browser on that machine; a reverse
    # proxy on the same machine makes every visitor look local, but it says so in its forwarding headers
    forwarded = any(request.headers.get(h) for h in ("X-Forwarded-For", "X-Real-IP", "Forwarded"))
    if current_app.config.get("MAIL_SERVER") or request.remote_addr not in ("127.0.0.1", "::1") or forwarded:
        abort(404)
    mails = db.session.scalars(select(OutboxMail).order_by(OutboxMail.id.desc()).limit(50)).all()
    return render_template("public/mailbox.html", mails=mails)


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for it on pages that declare no icon (error pages of other servers, raw files)."""
    return current_app.send_static_file("favicon.svg")


@bp.app_errorhandler(403)
@bp.app_errorhandler(404)
def error_page(error):
    """Friendly pages for what a visitor may meet; /api/v1 answers JSON from its own handlers first."""
    return render_template("error.html", code=error.code), error.code
