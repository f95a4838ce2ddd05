"""Citizens (Masyarakat): submit a complaint, follow it, reply, withdraw; the public list."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine import Conflict, InvalidData, NotFound
from engine.cases import access, lookups, views
from engine.cases import attachments as recorded
from engine.cases.ids import LinkExpired
from engine.cases.public import public_case, with_page
from engine.contract import CATEGORIES, OPEN_STATUSES, STATUSES
from engine.db.tables import Attachment, Case
from engine.notifications.notify import with_access_code
from web import attachments, params, submissions
from web.extensions import db, service
from web.pages import formrender
from web.security import page_field_errors

bp = Blueprint("public", __name__)


@bp.app_context_processor
def vocabulary():
    return {"CATEGORIES": CATEGORIES, "STATUSES": STATUSES}


@bp.route("/")
def home():
    return render_template("public/home.html", counts=lookups.public_counts(db.session))


def _complaint_schema():
    svc = service()
    parsed = svc.parsed_for(svc.current_definition())
    return svc.served_form(parsed, parsed.start_form)


def _submit_form(schema, data=None, errors=None, key: str | None = None, file_error: str | None = None) -> str:
    """The complaint form, with what was typed and its errors, carrying its one-time key (web/submissions.py): ``key``
    when nothing was created under it yet, so that sending it twice still makes one case; a new one otherwise."""
    fields = formrender.fields(schema, data, errors)
    return render_template("public/submit.html", fields=fields, file_error=file_error, submission_key=key or submissions.new_form_key())


@bp.route("/lapor", methods=["GET", "POST"])
def submit():
    """The complaint form. Its POST makes one case per one-time key: sent again (a double click, a reload), it shows
    the same receipt; under the key with other content, the form again with a new key (422). Rate-limited per client
    address (web/security.py, ``submission_limited``)."""
    schema = _complaint_schema()
    if request.method == "GET":
        return _submit_form(schema)
    data = formrender.parse(schema, request.form)
    key = submissions.form_key(request.form)
    checked, file_error, file_status = attachments.check(request.files.getlist("lampiran"))
    unsafe = page_field_errors(data)
    try:
        if file_error or unsafe:
            raise InvalidData({**unsafe, "lampiran": file_error} if file_error else unsafe)
        submitted = submissions.submit_once(data, "web", key, submissions.upload_digests([file for file, _content, _kind in checked]))
    except InvalidData as err:
        db.session.rollback()
        status = file_status if file_error else 400  # 413 for a file over the size limit, with the form and its message
        return _submit_form(schema, data, err.errors, key, err.errors.get("lampiran")), status
    except submissions.KeyReused:
        db.session.rollback()
        flash(
            _("Formulir ini sudah pernah dikirim dengan isian lain. Periksa isian dan lampiran Anda, lalu kirim lagi untuk membuat laporan baru."),
            "error",
        )
        return _submit_form(schema, data), 422
    if not submitted.replayed:  # sent again: the first submission stored the files
        attachments.store(db.session, submitted.case, checked, current_app.config["LAPOR_CLOCK"].now())
    db.session.commit()
    link = with_access_code(url_for("public.track", tracking_id=submitted.case.tracking_id, _external=True), submitted.access_token)
    return _remember(make_response(render_template("public/receipt.html", case=submitted.case, link=link)), submitted.case, submitted.access_token)


def submission_limited(_limit: object) -> Response:
    """One complaint too many from this address (Flask-Limiter's on_breach, web/security.py): the form again with
    what was typed, its one-time key and a polite message, 429."""
    flash(_("Terlalu banyak laporan dikirim dari alamat internet Anda. Mohon coba lagi nanti; isian Anda masih tersimpan di bawah."), "error")
    schema = _complaint_schema()
    return make_response(_submit_form(schema, formrender.parse(schema, request.form), key=submissions.form_key(request.form)), 429)


# The citizen's access code never travels in a URL the servers log: the mailed link carries it after "#" (never sent;
# web/static/track.js posts it with the lookup form), and a code that does arrive in a query string (an older link)
# is exchanged at once for this cookie and a redirect to the bare URL. One cookie per case, sent only under its path.
TRACK_COOKIE = "lacak"


def _remember(response: Response, case: Case, token: str) -> Response:
    """Set the case's cookie holding its access code on ``response`` (HttpOnly, SameSite=Lax, Secure over https, path
    /lacak/<tracking id>; gone when the browser closes). Returns the response."""
    secure = bool(current_app.config.get("SESSION_COOKIE_SECURE"))  # web/security.py: true when LAPOR_BASE_URL is https
    response.set_cookie(TRACK_COOKIE, token, path=url_for("public.track", tracking_id=case.tracking_id), httponly=True, samesite="Lax", secure=secure)
    return response


def _to_case(case: Case, token: str, code: int = 302) -> Response:
    """A redirect to the case's tracking page, the URL without any code, carrying the code in the case's cookie."""
    return _remember(redirect(url_for("public.track", tracking_id=case.tracking_id), code), case, token)


def _citizen_case(tracking_id: str, token: str) -> Case:
    """access.case_for_citizen at the app's clock: the access code or a mailed link code opens the case."""
    return access.case_for_citizen(db.session, tracking_id, token, current_app.config["LAPOR_CLOCK"].now())


def _expired(tracking_id: str, err: LinkExpired) -> str:
    """The lookup form for a mailed link past its expiry: saying so, with the tracking id filled in (not a 404)."""
    return render_template("public/track_lookup.html", tracking_id=tracking_id, expired=err.message)


@bp.route("/lacak", methods=["GET", "POST"])
def track_lookup():
    """The lookup form; its POST (tracking id and access code or link code, typed or taken from the link by track.js)
    opens the case."""
    if request.method == "GET":
        return render_template("public/track_lookup.html")
    tracking_id = request.form.get("tracking_id", "").strip()
    token = request.form.get("token", "").strip()
    try:
        case = _citizen_case(tracking_id, token)
    except LinkExpired as err:
        return _expired(tracking_id, err)
    except NotFound:  # the lookup form again, saying so
        return render_template("public/track_lookup.html", tracking_id=tracking_id, not_found=True), 404
    return _to_case(case, token, 303)


def _posted_token() -> str:
    """The access code of a form posted to a case: the form's own ``token`` field when it has one, else the case's cookie."""
    return request.form["token"] if "token" in request.form else request.cookies.get(TRACK_COOKIE, "")


@bp.route("/lacak/<tracking_id>")
def track(tracking_id: str):
    """The case page for the case's cookie; the lookup form without it. A code in the query string (an older link)
    is checked (404 when wrong) and exchanged for the cookie with a 303 to this URL without it."""
    try:
        if "token" in request.args:
            return _to_case(_citizen_case(tracking_id, request.args["token"]), request.args["token"], 303)
        case = _citizen_case(tracking_id, request.cookies.get(TRACK_COOKIE, ""))
    except LinkExpired as err:
        return _expired(tracking_id, err)
    except NotFound:
        if "token" in request.args:  # a wrong code in the URL: 404
            raise
        return render_template("public/track_lookup.html", tracking_id=tracking_id)  # no code or a wrong one: the lookup form
    return _render_track(case)


# the stepper: the SOP's steps as the citizen knows them (views.CITIZEN_STEPS), by the status that marks each
STEP_LABELS = {
    "diterima": _l("Diterima"),
    "didisposisikan": _l("Diteruskan ke unit"),
    "ditindaklanjuti": _l("Ditindaklanjuti"),
    "dijawab": _l("Dijawab"),
    "selesai": _l("Selesai"),
}


def _render_track(case: Case, reply_errors=None, reply_values=None, status: int = 200, addition_error=None, addition_text=None):
    svc = service()
    parsed = svc.parsed_of(case)
    waiting = lookups.citizen_task(db.session, case.id)
    reply_fields = formrender.fields(parsed.forms["balasan"], reply_values, reply_errors) if waiting else None
    return render_template(
        "public/track.html",
        case=case,
        view=views.citizen_case(db.session, case, _file_link(case)),
        steps=[(step, STEP_LABELS[step]) for step in views.CITIZEN_STEPS],
        attachments=recorded.of_case(db.session, case.id),
        reply_fields=reply_fields,
        waiting=waiting,
        # the additions step 3 asked for (its deadline), or, for any other open case, a place to add to it
        asked=lookups.citizen_task(db.session, case.id, "kelengkapan"),
        can_add=case.status in OPEN_STATUSES,
        addition_error=addition_error,
        addition_text=addition_text,
        can_withdraw=case.status in OPEN_STATUSES and case.answered_at is None,  # once answered, the citizen replies instead
        duplicate_url=page_url(case.duplicate_of),
    ), status


def _has_page(tracking_id: str | None) -> bool:
    """Whether the case ``tracking_id`` has a public page (a duplicate links to the case it repeats only then)."""
    return bool(tracking_id) and tracking_id in with_page(db.session, [tracking_id])


def page_url(tracking_id: str | None) -> str | None:
    """The address of the public page of the case ``tracking_id``; None when it has none (the tracking page and the
    API link a duplicate to the case it repeats only then)."""
    return url_for("public.case_page", tracking_id=tracking_id) if tracking_id and _has_page(tracking_id) else None


@bp.route("/lacak/<tracking_id>/lampiran/<int:attachment_id>")
def attachment(tracking_id: str, attachment_id: int):
    """One of the complaint's attachments or a document published with its answer, for the case's cookie (404 without
    it, as for any other case)."""
    case = _citizen_case(tracking_id, request.cookies.get(TRACK_COOKIE, ""))
    return attachments.send(recorded.for_citizen(db.session, case.id), attachment_id)


def _file_link(case: Case) -> Callable[[Attachment], str]:
    """Where the tracking page links a file of ``case``: the download for the case's cookie."""
    return lambda item: url_for("public.attachment", tracking_id=case.tracking_id, attachment_id=item.id)


@bp.route("/lacak/<tracking_id>/balas", methods=["POST"])
def reply(tracking_id: str):
    token = _posted_token()
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
        return _render_track(case, err.errors, data, 400)
    except Conflict as err:
        db.session.rollback()
        flash(err.message, "error")
        return _to_case(case, token)
    db.session.commit()
    flash(_("Terima kasih, balasan Anda telah kami terima."), "info")
    return _to_case(case, token)


@bp.route("/lacak/<tracking_id>/tambah", methods=["POST"])
def add(tracking_id: str):
    """The reporter adds to their complaint: what Admin Kominfo asked for (the case goes back to verification), or
    anything they want the office to know (its holders are told); files as on the complaint form."""
    token = _posted_token()
    case = _citizen_case(tracking_id, token)
    text = request.form.get("text", "")
    checked, file_error, file_status = attachments.check(request.files.getlist("attachments"))
    try:
        if unsafe := page_field_errors({"text": text}):
            raise InvalidData(unsafe)
        if file_error:
            raise InvalidData({"attachments": file_error})
        service().add_to_complaint(tracking_id, token, text)
    except InvalidData as err:
        db.session.rollback()
        status = file_status if "attachments" in err.errors else 400  # 413 for a file over the size limit, as on the complaint form
        return _render_track(case, status=status, addition_error=err.errors.get("text") or err.errors.get("attachments"), addition_text=text)
    except Conflict as err:
        db.session.rollback()
        flash(err.message, "error")
        return _to_case(case, token)
    attachments.store(db.session, case, checked, current_app.config["LAPOR_CLOCK"].now())
    db.session.commit()
    flash(_("Terima kasih, keterangan tambahan Anda telah kami terima."), "info")
    return _to_case(case, token)


@bp.route("/lacak/<tracking_id>/cabut", methods=["POST"])
def withdraw(tracking_id: str):
    token = _posted_token()
    case = _citizen_case(tracking_id, token)
    try:
        service().withdraw(tracking_id, token, request.form.get("reason"))
    except Conflict as err:
        db.session.rollback()
        flash(err.message, "error")
    else:
        db.session.commit()
        flash(_("Laporan Anda telah dicabut."), "info")
    return _to_case(case, token)


@bp.route("/pengaduan")
def public_list():
    """The cases the public may see, filtered by ``category``, ``status`` and ``month`` (YYYY-MM, the month they were
    submitted in; a value that is none of these is ignored); each links to its page once it has one."""
    category = request.args.get("category") if request.args.get("category") in CATEGORIES else None
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    try:
        period = params.month(request.args.get("month", ""))
    except ValueError:
        period = None
    month = period.start.strftime("%Y-%m") if period else None
    found = lookups.public_page(db.session, category, status, request.args.get("page", 1, type=int), month=period)
    return render_template(
        "public/list.html",
        cases=found.cases,
        with_page=with_page(db.session, [case.tracking_id for case in found.cases]),
        filters={"category": category, "status": status, "month": month},
        page=found.page,
        pages=found.pages,
        total=found.total,
    )


@bp.route("/pengaduan/<tracking_id>")
def case_page(tracking_id: str):
    """A case's public page (engine/cases/public.py): the same 404 for an unknown id and a case without one."""
    view = public_case(db.session, tracking_id)
    return render_template(
        "public/case.html",
        view=view,
        steps=[(step, STEP_LABELS[step]) for step in views.CITIZEN_STEPS],
        duplicate_url=page_url(view["duplicate_of"]),
    )


@bp.route("/pengaduan/<tracking_id>/dokumen/<int:attachment_id>")
def document(tracking_id: str, attachment_id: int):
    """A document published with the answer of a case that has a public page; the same 404 as for an unknown case, a
    case without a page, or a document not published."""
    if not _has_page(tracking_id):
        abort(404)
    case = access.case_by_tracking_id(db.session, tracking_id)
    return attachments.send(recorded.published_of(db.session, case.id), attachment_id)


@bp.route("/bahasa/<lang>", methods=["POST"])
def language(lang: str):
    response = redirect(request.referrer if request.referrer and request.referrer.startswith(request.host_url) else url_for("public.home"))
    if lang in ("id", "en"):
        response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.route("/dev/kotak-surat")
def dev_mailbox():
    """Development mailbox: queued mail is readable here when the app was started for development (LAPOR_DEV_MAILBOX,
    which `lapor serve` sets without MAIL_SERVER); 404 otherwise, and always under gunicorn or a plain create_app()."""
    # it shows citizens' private links, so only on a development machine, to a browser on that machine; a reverse
    # proxy on the same machine makes every visitor look local, but it says so in its forwarding headers
    forwarded = any(request.headers.get(h) for h in ("X-Forwarded-For", "X-Real-IP", "Forwarded"))
    development = current_app.config.get("LAPOR_DEV_MAILBOX") and not current_app.config.get("MAIL_SERVER")
    if not development or request.remote_addr not in ("127.0.0.1", "::1") or forwarded:
        abort(404)
    return render_template("public/mailbox.html", mails=lookups.recent_mail(db.session))


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for it on pages that declare no icon (error pages of other servers, raw files)."""
    return current_app.send_static_file("favicon.svg")
