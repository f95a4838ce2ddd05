"""Staff intake: Admin Kominfo and Admin Pusat record a complaint received by phone, letter, in person, SMS, social
media or email ("Catat laporan masuk", issue 18).

The page is the citizen's complaint form (the same fields, location and attachments: templates/_complaint_fields.html)
plus the channel it came through; the reporter's email is optional (forms.reporter_email_optional), and a reporter
without one gets no mail, so the receipt shows the tracking id and the access code for staff to pass on by phone
or letter. The case is submitted with ``recorded_by`` (CaseService.submit), which the audit trail keeps; a one-time
form key makes a double click one case, as on the citizen's form (web/submissions.py).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, make_response, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine import InvalidData
from engine.contract import CHANNELS, INTAKE_ROLES, SELF_SERVICE_CHANNELS
from engine.definitions import forms
from engine.timekeeping.calendar import zone
from web import attachments, submissions
from web.extensions import db, service
from web.labels import channel_label
from web.pages import formrender
from web.pages.auth import roles_required
from web.security import page_field_errors

bp = Blueprint("intake", __name__)

# the channels staff type in; the self-service ones (web, aplikasi, open311) the reporter uses without them
INTAKE_CHANNELS = tuple(channel for channel in CHANNELS if channel not in SELF_SERVICE_CHANNELS)
CHANNEL_FIELD = "channel"


def _schema() -> dict[str, Any]:
    """The complaint form of the current process version as staff fill it in: the reporter's email optional."""
    svc = service()
    parsed = svc.parsed_for(svc.current_definition())
    return forms.reporter_email_optional(svc.served_form(parsed, parsed.start_form))


def _channel_field(value: str | None, error: str | None) -> formrender.Field:
    return formrender.Field(
        name=CHANNEL_FIELD,
        label=_("Saluran"),
        kind="select",
        required=True,
        description=_("Dari mana laporan ini diterima."),
        options=[(channel, channel_label(channel)) for channel in INTAKE_CHANNELS],
        value=value,
        error=error,
    )


def _form(
    schema: dict[str, Any],
    data: dict[str, Any] | None = None,
    errors: dict[str, Any] | None = None,
    channel: str | None = None,
    key: str | None = None,
    file_error: str | None = None,
) -> str:
    """The intake form with what was typed and its errors, carrying its one-time key (``key`` when nothing was created
    under it yet, a new one otherwise)."""
    errors = errors or {}
    return render_template(
        "staff/intake.html",
        channel_field=_channel_field(channel, errors.get(CHANNEL_FIELD)),
        fields=formrender.fields(schema, data, errors),
        file_error=file_error,
        submission_key=key or submissions.new_form_key(),
    )


def _checked(schema: dict[str, Any], data: dict[str, Any], channel: str, unsafe: dict[str, str], file_error: str | None) -> None:
    """Raise InvalidData naming every field the page itself refuses (a channel not offered, unsafe text, a bad file),
    with the form's own errors beside them, so that one round shows them all."""
    errors: dict[str, Any] = dict(unsafe)
    if channel not in INTAKE_CHANNELS:  # a self-service channel is the reporter's own, never typed in by staff
        errors[CHANNEL_FIELD] = _("Pilih saluran tempat laporan ini diterima.")
    if file_error:
        errors["lampiran"] = file_error
    if errors:
        today = service().clock.now().astimezone(zone()).date()
        raise InvalidData({**forms.field_errors(schema, data, today), **errors})


@bp.route("/laporan/catat", methods=["GET", "POST"])
@roles_required(*INTAKE_ROLES)
def record():
    """The intake form; its POST makes one case per one-time key and shows the staff receipt (tracking id, access code)."""
    schema = _schema()
    if request.method == "GET":
        return _form(schema)
    data = formrender.parse(schema, request.form)
    channel = request.form.get(CHANNEL_FIELD, "")
    key = submissions.form_key(request.form)
    checked, file_error, file_status = attachments.check(request.files.getlist("lampiran"))
    try:
        _checked(schema, data, channel, page_field_errors(data), file_error)
        digests = submissions.upload_digests([file for file, _content, _kind in checked])
        submitted = submissions.submit_once(data, channel, key, digests, recorded_by=current_user.actor)
    except InvalidData as err:
        db.session.rollback()
        status = file_status if file_error else 400  # 413 for a file over the size limit, as on the citizen's form
        return _form(schema, data, err.errors, channel, key, err.errors.get("lampiran")), status
    except submissions.KeyReused:
        db.session.rollback()
        flash(
            _("Formulir ini sudah pernah dikirim dengan isian lain. Periksa isian dan lampiran Anda, lalu kirim lagi untuk membuat laporan baru."),
            "error",
        )
        return _form(schema, data, channel=channel), 422
    if not submitted.replayed:  # sent again: the first submission stored the files
        attachments.store(db.session, submitted.case, checked, current_app.config["LAPOR_CLOCK"].now())
    db.session.commit()
    case = submitted.case
    response = make_response(
        render_template(
            "staff/intake_receipt.html",
            case=case,
            access_code=submitted.access_token,
            lookup_url=url_for("public.track_lookup", _external=True),
            has_email=bool((data.get("reporter") or {}).get("email")),
        )
    )
    response.headers["Cache-Control"] = "no-store"  # it shows the reporter's access code
    return response
