"""JSON API /api/v1 (docs/architecture.md, "JSON API") for the mobile app and partner systems.

Staff send ``Authorization: Bearer <token>`` from ``POST /auth/token`` (401 when it is missing,
unknown, expired or revoked); citizens send their case's access token the same way on
``/complaints/{tracking_id}*`` (404 for any mismatch, so a tracking id alone reveals nothing).
Every error under /api/v1, routing errors included, answers ``{"error": message, "errors": {field: message}}``,
in the language of the request's ``Accept-Language`` (``en``: English, anything else: Indonesian); pages keep the
visitor's own choice (web/__init__.py). Routes parse, call one engine verb, commit, render; an error rolls the
transaction back. GET /docs shows the document interactively (web/api/docs.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import wraps
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from engine import Conflict, EngineError, Forbidden, InvalidData, NotFound
from engine.accounts import credentials
from engine.audit import replay
from engine.audit.trail import first_broken
from engine.cases import access, extensions, ids, notes, similar, views
from engine.cases import attachments as recorded
from engine.cases import inbox as inboxes
from engine.contract import CATEGORIES, CHANNELS, CITIZEN, FIGURE_ROLES, HANDLERS, INTAKE_ROLES, NOTE_READERS, OVERSIGHT_ROLES, STATUSES, Actor
from engine.db.tables import Case, OpenTask, Unit, User
from engine.notifications import notify
from engine.reports.filters import CaseFilter, Period
from engine.timekeeping.calendar import zone
from web import attachments, params, submissions
from web.api import docs, openapi
from web.extensions import db, service
from web.labels import DEFAULT_LOCALE, engine_text
from web.pages.auth import actor_of, authenticate, bearer_token, bearer_user, issue_token, locked_message, revoke_bearer_token
from web.pages.public import page_url
from web.pages.reports import event_log
from web.security import parse_json, unsafe_text_errors

PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=PREFIX)

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 50
MAX_NOTIFICATIONS = 200
STATUS_OF: dict[type[EngineError], int] = {InvalidData: 400, Forbidden: 403, NotFound: 404, Conflict: 409}
HTTP_MESSAGES = {
    404: _l("Alamat API tidak ditemukan."),
    405: _l("Metode HTTP ini tidak diizinkan untuk alamat ini."),
    413: _l("Badan permintaan terlalu besar."),
    429: _l("Terlalu banyak permintaan; coba lagi sebentar lagi."),
    500: _l("Terjadi kesalahan pada server. Silakan coba lagi nanti."),
}
LANGUAGES = (DEFAULT_LOCALE, "en")
COMPLAINT_PART, ATTACHMENTS_PART = "complaint", "attachments"  # the parts of a multipart POST /complaints
FILE_PART = "file"  # the part of a POST /tasks/{id}/attachments


Text = Any  # a message: a lazy_gettext string of this module, an engine sentence, or text already in the request's language


class ApiError(Exception):
    """An error the API layer itself reports (bad request body, missing credentials)."""

    def __init__(self, status: int, message: Text, errors: dict[str, Text] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.errors, self.headers = status, message, errors or {}, headers or {}


# ---- errors -------------------------------------------------------------------------------


def language() -> str:
    """The language the request's Accept-Language asks for among LANGUAGES (``en-US`` counts as ``en``); Indonesian otherwise."""
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LOCALE)


@contextmanager
def speaking() -> Iterator[None]:
    """Inside it, gettext and the lazy strings answer in the request's language (pages keep the visitor's own)."""
    with force_locale(language()):
        yield


def localized(text: Text) -> str:
    """``text`` in the current locale: a lazy string is translated as it is read, an engine sentence by its template
    (web/labels.py), and text the web layer wrote with a msgid of its catalogue (web/security.py's) by that msgid."""
    if not isinstance(text, str):
        return str(text)
    translated = engine_text(text)
    return translated if translated != text else gettext(text)


def error_response(status: int, message: Text, errors: dict[str, Text] | None = None, headers: dict[str, str] | None = None) -> Response:
    with speaking():
        response = jsonify(error=localized(message), errors={field: localized(text) for field, text in (errors or {}).items()})
    response.status_code = status
    response.headers.update(headers or {})
    return response


@bp.errorhandler(ApiError)
def _api_error(err: ApiError) -> Response:
    db.session.rollback()
    return error_response(err.status, err.message, err.errors, err.headers)


@bp.errorhandler(EngineError)
def _engine_error(err: EngineError) -> Response:
    db.session.rollback()
    status = next((code for kind, code in STATUS_OF.items() if isinstance(err, kind)), 500)
    if status == 500:
        current_app.logger.error("engine error in %s: %s", request.path, err.message)
    return error_response(status, err.message, getattr(err, "errors", None))


@bp.errorhandler(StaleDataError)
def _stale(err: StaleDataError) -> Response:
    """A case row changed under us outside the engine's own Conflict translation: still a 409."""
    db.session.rollback()
    return error_response(409, "Laporan ini baru saja diubah oleh orang lain; muat ulang dan coba lagi.")  # the engine's Conflict sentence


@bp.errorhandler(HTTPException)
@bp.errorhandler(403)  # by code as well: Flask looks for handlers by code (the app's HTML error pages) before by class
@bp.errorhandler(404)
@bp.errorhandler(429)
def _http_error(err: HTTPException) -> Response:
    """404, 405, 413, and the 500 Flask raises for an unhandled exception (already logged by Flask)."""
    db.session.rollback()
    code = err.code or 500
    headers = {k: v for k, v in err.get_headers() if k.lower() != "content-type"}
    return error_response(code, HTTP_MESSAGES.get(code) or err.description or err.name, headers=headers)


@bp.before_app_request
def _routing_errors_as_json() -> Response | None:
    """Unknown /api/v1 paths and wrong methods: routing fails before any blueprint is chosen, so
    blueprint handlers never see it. Answer JSON here, leaving other paths to the app's own pages."""
    err = request.routing_exception
    path = request.path
    if isinstance(err, HTTPException) and err.code in (404, 405) and (path == PREFIX or path.startswith(PREFIX + "/")):
        return _http_error(err)
    return None


@bp.after_request
def _no_store(response: Response) -> Response:
    if request.endpoint != "api.docs_asset":  # Swagger UI's own files carry nothing private: browsers keep them
        response.headers["Cache-Control"] = "no-store"  # bodies carry tokens and personal data
    return response


# ---- request parsing and authentication -------------------------------------------------


def _body(optional: bool = False) -> dict[str, Any]:
    """The request's JSON object. Raises ApiError(400) for a missing, non-JSON or non-object body."""
    raw = request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
    if not raw.strip():
        if optional:
            return {}
        raise ApiError(400, _l("Badan permintaan kosong: kirim objek JSON."))
    if not request.is_json:
        raise ApiError(400, _l("Badan permintaan harus JSON dengan Content-Type: application/json."))
    return _json_object(raw)


def _json_object(raw: bytes | str, part: str | None = None) -> dict[str, Any]:
    """``raw`` as a JSON object; ``part``: the multipart part it came in, which the errors then name.
    Raises ApiError(400) for text that is not JSON or not an object, InvalidData for a control character in it."""
    try:
        data = parse_json(raw)
    except ValueError:  # not JSON, or nested deeper than the parser goes
        raise ApiError(400, _l("Badan permintaan bukan JSON yang valid."), {part: _l("Bukan JSON yang valid.")} if part else None) from None
    if not isinstance(data, dict):
        raise ApiError(400, _l("Badan permintaan harus berupa objek JSON ({...})."), {part: _l("Harus berupa objek JSON ({...}).")} if part else None)
    if errors := unsafe_text_errors(data.get("data") if set(data) == {"data"} and isinstance(data["data"], dict) else data):
        raise InvalidData(errors)  # keyed as the form's own errors are: by the path in the submitted data
    return data


def _complaint_upload() -> tuple[dict[str, Any], list[attachments.Checked]]:
    """The multipart form of POST /complaints: the complaint (the JSON object in part ``complaint``, a field or a
    file) and its files (parts ``attachments``), checked and stripped of metadata as the web form's are.
    Raises ApiError: 400 for a missing or bad part, too many files or one of another type; 413 for one too large."""
    raw = request.form.get(COMPLAINT_PART)
    if raw is None and COMPLAINT_PART in request.files:
        raw = request.files[COMPLAINT_PART].read()
    if raw is None:
        raise ApiError(
            400, _l("Bagian complaint tidak ada: kirim isian formulir sebagai objek JSON di bagian itu."), {COMPLAINT_PART: _l("Wajib diisi.")}
        )
    data = _json_object(raw, COMPLAINT_PART)
    if ATTACHMENTS_PART in request.form:  # text where a file belongs: the app meant to attach something that is not sent
        raise ApiError(400, _l("Lampiran tidak dapat diterima."), {ATTACHMENTS_PART: _l("Setiap bagian attachments harus berupa berkas.")})
    with speaking():  # attachments.check writes its messages in the current locale
        checked, file_error, file_status = attachments.check(request.files.getlist(ATTACHMENTS_PART))
    if file_error:
        raise ApiError(file_status, _l("Lampiran tidak dapat diterima."), {ATTACHMENTS_PART: file_error})
    return data, checked


def _text_only(body: dict[str, Any]) -> str:
    """The ``text`` of a body that holds nothing else (a citizen's addition, a staff note). Raises InvalidData naming
    each unknown field, or ``text`` when it is missing or not a string; its length is the engine's to check."""
    unknown = sorted(set(body) - {"text"})
    if unknown:
        raise InvalidData({name: _l("Isian tidak dikenal.") for name in unknown})
    text = body.get("text")
    if not isinstance(text, str):
        raise InvalidData({"text": _l("Wajib diisi.") if text is None else _l("Harus berupa teks.")})
    return text


def _unauthorized() -> ApiError:
    challenge = 'Bearer realm="lapor"' + (', error="invalid_token"' if bearer_token() else "")
    return ApiError(
        401,
        _l("Token petugas tidak ada, tidak valid, kedaluwarsa, atau sudah dicabut. Minta token baru di POST /api/v1/auth/token."),
        headers={"WWW-Authenticate": challenge},
    )


def staff_user(roles: tuple[str, ...] = ()) -> User:
    """The staff member whose bearer token this request carries. Raises ApiError: 401 without a valid token, 403 for a
    role not in ``roles`` (any role when empty)."""
    user = bearer_user()
    if user is None:
        raise _unauthorized()
    if roles and user.role not in roles:
        raise ApiError(403, _l("Peran Anda tidak dapat membuka sumber ini."))
    return user


def staff(*roles: str) -> Callable:
    """A staff route: 401 without a valid token, 403 for a role not in ``roles`` (any role when empty).
    The view receives the signed-in User as its first argument."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            return view(staff_user(roles), *args, **kwargs)

        return wrapped

    return decorate


def citizen(view: Callable) -> Callable:
    """A citizen route: the case's access token must match (404 otherwise) before the body is read.
    The view receives the token as its first argument."""

    @wraps(view)
    def wrapped(tracking_id: str, **kwargs: Any) -> Any:
        token = bearer_token()
        access.case_for_citizen(db.session, tracking_id, token, current_app.config["LAPOR_CLOCK"].now())
        return view(token, tracking_id, **kwargs)

    return wrapped


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    """The query parameter ``name`` (absent: ``default``) as params.whole_number reads it. Raises ApiError(400)."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        return params.whole_number(raw, low, high)  # "" too: the document says integer
    except ValueError:
        raise ApiError(400, _l("Parameter tidak valid."), {name: _l("Harus bilangan bulat %(low)s–%(high)s.", low=low, high=high)}) from None


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _case_result(case: Case) -> dict[str, str]:
    """Read it before the commit: after it the row is expired, and reading it again would load the whole case."""
    return {"tracking_id": case.tracking_id, "status": case.status}


# ---- citizens -------------------------------------------------------------------------------


@bp.post("/complaints")
def submit_complaint():
    """201 with the new case, from a JSON body or a multipart form with attachments (``_complaint_upload``); with an
    ``Idempotency-Key`` header once per key (web/submissions.py): the same request again (the same files too) gets the
    same 201 answer (same tracking id and access token, as if the first answer had arrived; marked
    ``Idempotent-Replayed: true``) and creates nothing, another request under the key a 422."""
    try:
        key = submissions.usable_key(request.headers.get(submissions.HEADER))
    except ValueError:
        raise ApiError(
            400, _l("Header Idempotency-Key tidak valid."), {submissions.HEADER: _l("1–255 karakter ASCII yang terbaca, misalnya sebuah UUID.")}
        ) from None
    # a bearer token on this route is a staff member's (a citizen has none before submitting): a bad one is a 401,
    # never a citizen's submission; checked before the body, as on every staff route
    recorder = actor_of(staff_user(INTAKE_ROLES)) if bearer_token() else None
    data, checked = _complaint_upload() if request.mimetype == "multipart/form-data" else (_body(), [])
    channel = _channel(data, recorder)
    try:
        digests = submissions.upload_digests([file for file, _content, _kind in checked])
        submitted = submissions.submit_once(data, channel, key, digests, recorded_by=recorder)
    except submissions.KeyReused:
        raise ApiError(
            422, _l("Idempotency-Key ini sudah dipakai untuk permintaan lain."), {submissions.HEADER: _l("Kirim kunci baru untuk laporan baru.")}
        ) from None
    if checked and not submitted.replayed:  # sent again: the first submission stored the files
        attachments.store(db.session, submitted.case, checked, current_app.config["LAPOR_CLOCK"].now())
    result = {**_case_result(submitted.case), "access_token": submitted.access_token}
    db.session.commit()
    headers = {"Location": url_for(".get_complaint", tracking_id=result["tracking_id"])}
    if submitted.replayed:
        headers["Idempotent-Replayed"] = "true"
    return jsonify(result), 201, headers


def _channel(data: dict[str, Any], recorder: Actor | None) -> str:
    """Take ``channel`` out of the complaint object (it is not a field of the form): required from staff recording a
    complaint (any of CHANNELS), ``aplikasi`` or absent from anyone else. Raises InvalidData naming ``channel``."""
    channel = data.pop("channel", None)
    if recorder is None:
        channel = "aplikasi" if channel is None else channel
        if channel != "aplikasi":
            raise InvalidData({"channel": _l("Tanpa token petugas hanya saluran aplikasi yang dapat dipakai.")})
        return channel
    if channel is None:
        raise InvalidData({"channel": _l("Wajib diisi: saluran tempat laporan diterima (%(choices)s).", choices=", ".join(CHANNELS))})
    if channel not in CHANNELS:
        raise InvalidData({"channel": _l("Pilih salah satu: %(choices)s.", choices=", ".join(CHANNELS))})
    return channel


@bp.get("/complaints/<tracking_id>")
@citizen
def get_complaint(token: str, tracking_id: str):
    case = access.case_for_citizen(db.session, tracking_id, token, current_app.config["LAPOR_CLOCK"].now())
    view = views.citizen_case(db.session, case, lambda item: url_for(".complaint_file", tracking_id=case.tracking_id, attachment_id=item.id))
    return jsonify({**view, "duplicate_of_url": page_url(case.duplicate_of)})


@bp.get("/complaints/<tracking_id>/attachments/<int:attachment_id>")
@citizen
def complaint_file(token: str, tracking_id: str, attachment_id: int):
    """One of the reporter's own files or a document published with an answer (the ``url`` of ``answer.attachments``)."""
    case = access.case_for_citizen(db.session, tracking_id, token, current_app.config["LAPOR_CLOCK"].now())
    return attachments.send(recorded.for_citizen(db.session, case.id), attachment_id)


@bp.post("/complaints/<tracking_id>/replies")
@citizen
def reply_to_complaint(token: str, tracking_id: str):
    case = service().reply(tracking_id, token, _body())
    result = _step_result(case, CITIZEN)
    db.session.commit()
    return jsonify(result)


@bp.post("/complaints/<tracking_id>/additions")
@citizen
def add_to_complaint(token: str, tracking_id: str):
    """The reporter adds to the complaint: JSON ``{text}``, or a multipart form with a ``text`` field and up to 3 files
    in parts ``attachments`` (the complaint's rules). While the case waits for the additions Admin Kominfo asked for it
    goes back to verification; otherwise its holders are told. 409 on a closed case."""
    checked: list[attachments.Checked] = []
    if request.mimetype == "multipart/form-data":
        body: dict[str, Any] = {"text": request.form.get("text")}
        if ATTACHMENTS_PART in request.form:  # text where a file belongs, as POST /complaints refuses it: never dropped silently
            raise ApiError(400, _l("Lampiran tidak dapat diterima."), {ATTACHMENTS_PART: _l("Setiap bagian attachments harus berupa berkas.")})
        with speaking():
            checked, file_error, file_status = attachments.check(request.files.getlist(ATTACHMENTS_PART))
        if file_error:
            raise ApiError(file_status, _l("Lampiran tidak dapat diterima."), {ATTACHMENTS_PART: file_error})
    else:
        body = _body()
    text = _text_only(body)
    case = service().add_to_complaint(tracking_id, token, text)
    if checked:
        attachments.store(db.session, case, checked, current_app.config["LAPOR_CLOCK"].now())
    result = _case_result(case)
    db.session.commit()
    return jsonify(result)


@bp.post("/complaints/<tracking_id>/withdraw")
@citizen
def withdraw_complaint(token: str, tracking_id: str):
    body = _body(optional=True)
    reason = body.get("reason")
    if "reason" in body and not isinstance(reason, str):  # null too: the document says a string, or leave it out
        raise InvalidData({"reason": "Harus berupa teks."})
    if reason is not None and len(reason) > 2000:
        raise InvalidData({"reason": "Maksimal 2000 karakter."})
    case = service().withdraw(tracking_id, token, reason)
    result = _case_result(case)
    db.session.commit()
    return jsonify(result)


# ---- staff: tokens --------------------------------------------------------------------------


@bp.post("/auth/token")
def create_token():
    body = _body()
    errors = {field: "Wajib diisi." for field in ("username", "password") if not isinstance(body.get(field), str) or not body[field]}
    if errors:
        raise InvalidData(errors)
    user = authenticate(body["username"], body["password"], channel="api")
    if user is None:
        with speaking():  # locked_message writes its sentence in the current locale
            locked = locked_message()
        raise ApiError(401, locked or _l("Nama pengguna atau kata sandi salah."), headers={"WWW-Authenticate": 'Bearer realm="lapor"'})
    token = issue_token(user)
    issued = credentials.live_token(db.session, token, current_app.config["LAPOR_CLOCK"].now())  # its expiry, as stored
    db.session.commit()
    return jsonify(
        token=token,
        token_type="Bearer",
        expires_at=_iso(issued.expires_at if issued else None),
        user={"username": user.username, "role": user.role, "unit": user.unit_id},
    )


@bp.delete("/auth/token")
@staff()
def revoke_token(user: User):
    revoke_bearer_token()
    db.session.commit()
    return "", 204


# ---- staff: tasks ---------------------------------------------------------------------------


def _task(row: OpenTask, case: Case) -> dict[str, Any]:
    now = current_app.config["LAPOR_CLOCK"].now()
    return {
        "id": row.id,
        "name": row.name,
        "form": row.form,
        "lane": row.lane,
        "unit": row.unit_id,
        "tracking_id": case.tracking_id,
        "title": case.title,
        "category": case.category,
        "case_status": case.status,
        "created_at": _iso(row.created_at),
        "due_at": _iso(row.due_at),
        "overdue": bool(row.overdue or (row.due_at is not None and row.due_at <= now)),
    }


def _choice_arg(name: str, choices: tuple[str, ...]) -> str | None:
    """A query filter that must be one of ``choices`` (absent: None). Raises ApiError(400) otherwise, "" included."""
    raw = request.args.get(name)
    if raw is not None and raw not in choices:
        raise ApiError(400, _l("Parameter tidak valid."), {name: _l("Pilih salah satu: %(choices)s.", choices=", ".join(choices))})
    return raw


def _step_result(case: Case, actor: Actor) -> dict[str, Any]:
    """The answer to a step that moved the case, read before the commit: its status and ``next_tasks``, the case's open
    tasks ``actor`` now holds (GET /tasks's items), so a client goes on without asking its inbox again. Only the
    holder's own, by the one holder rule: never another unit's, Admin Kominfo's, or staff tasks to the citizen."""
    return {**_case_result(case), "next_tasks": [_task(row, held) for row, held in inboxes.case_tasks(db.session, actor, case.tracking_id)]}


@bp.get("/tasks")
@staff()
def list_tasks(user: User):
    """The caller's inbox; with ``tracking_id``, only that case's tasks the caller holds (none for an unknown case)."""
    actor = actor_of(user)
    status, category = _choice_arg("status", STATUSES), _choice_arg("category", CATEGORIES)
    number, per_page = _int_arg("page", 1, 1, 1_000_000), _int_arg("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    tracking_id = request.args.get("tracking_id")
    if tracking_id is None:
        page = inboxes.inbox(db.session, actor, status=status, category=category, page=number, per_page=per_page)
        return jsonify(tasks=[_task(row, case) for row, case in page.rows], total=page.total, page=page.page, pages=page.pages)
    if not tracking_id.strip():
        raise ApiError(400, _l("Parameter tidak valid."), {"tracking_id": _l("Wajib diisi.")})
    rows = [
        (row, case)
        for row, case in inboxes.case_tasks(db.session, actor, ids.normalize_tracking_id(tracking_id))
        if status in (None, case.status) and category in (None, case.category)
    ]
    pages = max(1, -(-len(rows) // per_page))
    number = min(number, pages)
    shown = rows[(number - 1) * per_page : number * per_page]
    return jsonify(tasks=[_task(row, case) for row, case in shown], total=len(rows), page=number, pages=pages)


@bp.get("/tasks/<task_id>")
@staff()
def get_task(user: User, task_id: str):
    row, seen = access.seen_task(db.session, task_id, actor_of(user))
    parsed = service().parsed_of(seen.case)  # the case's own version, as completion validates
    return jsonify(
        {
            **_task(row, seen.case),
            "ceiling_at": _iso(row.ceiling_at),
            "claimed_by": row.claimed_by,
            "schema": service().served_form(parsed, row.form),
            "case": views.staff_case(db.session, seen),
        }
    )


@bp.post("/tasks/<task_id>/attachments")
@staff()
def add_task_attachment(user: User, task_id: str):
    """The holder of an answer task (form ``tanggapan``) uploads one document for it, multipart part ``file`` (PDF, JPEG
    or PNG, the complaint's rules): 201 ``{id, name}``; the form's ``attachments`` lists the ids to send with the answer."""
    actor = actor_of(user)
    access.answer_task(db.session, task_id, actor, recorded.ANSWER_TASK_ONLY)  # 404, 403, 409 before the body is read
    if FILE_PART in request.form:  # text where the file belongs: never taken for an empty upload
        raise ApiError(400, _l("Lampiran tidak dapat diterima."), {FILE_PART: _l("Bagian file harus berupa berkas.")})
    uploads = request.files.getlist(FILE_PART)
    if len(uploads) != 1:
        raise ApiError(400, _l("Lampiran tidak dapat diterima."), {FILE_PART: _l("Kirim tepat satu berkas di bagian file (multipart/form-data).")})
    with speaking():  # attachments.check writes its messages in the current locale
        checked, file_error, file_status = attachments.check(uploads)
    if file_error or not checked:
        raise ApiError(file_status if file_error else 400, _l("Lampiran tidak dapat diterima."), {FILE_PART: file_error or _l("Wajib diisi.")})
    item, name = attachments.store_for_answer(service(), task_id, actor, checked[0])
    db.session.commit()
    return jsonify(id=item.id, name=name), 201


@bp.post("/tasks/<task_id>/extension")
@staff()
def request_extension(user: User, task_id: str):
    """The holder of an open answer task (form ``tanggapan``) asks Admin Kominfo for more working days
    ``{working_days, reason}``: 201 with Admin Kominfo's new decision task (form ``perpanjangan``), or ``task: null`` when
    a later system step failed (the request is kept; the case waits for its retry)."""
    actor = actor_of(user)
    access.answer_task(db.session, task_id, actor, extensions.ANSWER_TASK_ONLY)  # 404, 403, 409 before the body is read
    decision = service().request_extension(task_id, _body(), actor)
    db.session.commit()
    task = {"id": decision.id, "name": decision.name, "form": decision.form, "due_at": _iso(decision.due_at)} if decision else None
    return jsonify(task=task), 201


@bp.post("/tasks/<task_id>/complete")
@staff()
def complete_task(user: User, task_id: str):
    body = _body()
    if "data" not in body:
        raise InvalidData({"data": _l('Wajib diisi: kirim isian formulir sebagai {"data": {...}}.')})
    if not isinstance(body["data"], dict):
        raise InvalidData({"data": _l("Harus berupa objek JSON.")})
    actor = actor_of(user)
    case = service().complete_task(task_id, body["data"], actor)
    result = _step_result(case, actor)
    db.session.commit()
    return jsonify(result)


# ---- staff: notifications and history --------------------------------------------------------


@bp.get("/notifications")
@staff()
def list_notifications(user: User):
    items = notify.notifications_of(
        db.session,
        user.id,
        limit=_int_arg("limit", 50, 1, MAX_NOTIFICATIONS),
        unread_only=_choice_arg("unread", ("true", "false", "1", "0")) in ("true", "1"),
    )
    return jsonify(notifications=[_notification(item) for item in items])


@bp.post("/notifications/<int:notification_id>/read")
@staff()
def mark_notification_read(user: User, notification_id: int):
    item = notify.mark_read(db.session, user.id, notification_id)  # NotFound (404) for another user's
    db.session.commit()
    return jsonify(id=item.id, read=True)


def _notification(item: notify.NotificationItem) -> dict[str, Any]:
    return {"id": item.id, "at": _iso(item.at), "kind": item.kind, "tracking_id": item.tracking_id, "message": item.message, "read": item.read}


@bp.get("/cases/<tracking_id>/history")
@staff(*OVERSIGHT_ROLES)
def case_history(user: User, tracking_id: str):
    seen = access.oversight_case(db.session, tracking_id, actor_of(user))
    case = seen.case
    return jsonify(
        tracking_id=case.tracking_id,
        status=case.status,
        events=views.audit_history(db.session, seen),
        verified=first_broken(db.session, case) is None,
    )


@bp.get("/cases/<tracking_id>/replay")
@staff(*OVERSIGHT_ROLES)
def case_replay(user: User, tracking_id: str):
    """The case as it stood after step ``step`` (default: the last), rebuilt by the deterministic replay."""
    seen = access.oversight_case(db.session, tracking_id, actor_of(user))
    case = seen.case
    steps = replay.step_count(db.session, case)
    step = _int_arg("step", steps, 1, max(steps, 1))
    now = current_app.config["LAPOR_CLOCK"].now()
    state = replay.state_after(db.session, case, step, now=now, calendar=service().calendar, redact=seen.hides_reporter)
    return jsonify(tracking_id=case.tracking_id, **state.to_dict())


@bp.get("/cases/<tracking_id>/similar")
@staff(*similar.READERS)
def case_similar(user: User, tracking_id: str):
    """Open or recent cases that look like this one (engine/cases/similar.py), best first, for the liaison's step 3."""
    found = similar.similar_for(db.session, tracking_id, actor_of(user), now=current_app.config["LAPOR_CLOCK"].now())
    return jsonify(similar=[item.to_dict() for item in found])


@bp.get("/cases/<tracking_id>/notes")
@staff(*NOTE_READERS)
def list_case_notes(user: User, tracking_id: str):
    """The case's internal notes, oldest first, for the office and auditors who may open the case (404 otherwise; 403 for
    analysts, who never read what might name a reporter)."""
    seen = access.case_for_staff(db.session, tracking_id, actor_of(user))
    return jsonify(notes=[item.to_dict() for item in notes.notes_of(db.session, seen.case)])


@bp.post("/cases/<tracking_id>/notes")
@staff(*HANDLERS)  # 403 before the body is read; the service holds the same rule
def add_case_note(user: User, tracking_id: str):
    """Add an internal note ``{text}``: the office handling cases only (403 for others), on a case it may open (404)."""
    access.case_for_staff(db.session, tracking_id, actor_of(user))  # 404 before the body is read, as for an unknown case
    body = _body()
    text = _text_only(body)
    note = service().add_note(tracking_id, text, actor_of(user))
    db.session.commit()
    item = notes.NoteItem(note.id, note.at, note.author, note.author_role, note.text)
    return jsonify(item.to_dict()), 201


ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def _log_day(name: str) -> date | None:
    """The query parameter ``name`` as a day YYYY-MM-DD (None when absent). Raises ApiError(400)."""
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        if not ISO_DAY.fullmatch(raw):  # params.day would also read 20261130 or 2026-W49-1
            raise ValueError(raw)
        return params.day(raw)
    except ValueError:
        raise ApiError(400, _l("Parameter tidak valid."), {name: _l("Tanggal tidak valid (format TTTT-BB-HH).")}) from None


def _log_filters() -> CaseFilter:
    """``from`` and ``to``: days of submission in Asia/Jakarta, both included (by default this month up to today); ``unit``:
    a unit's id, its cases only. Raises ApiError(400)."""
    try:
        period = Period.up_to(_log_day("from"), _log_day("to"), current_app.config["LAPOR_CLOCK"].now().astimezone(zone()).date())
    except ValueError:
        raise ApiError(400, _l("Parameter tidak valid."), {"to": _l("Tanggal akhir tidak boleh sebelum tanggal awal.")}) from None
    unit = request.args.get("unit")
    if unit is not None and db.session.get(Unit, unit) is None:
        raise ApiError(400, _l("Parameter tidak valid."), {"unit": _l("Unit tidak ditemukan.")})
    return CaseFilter(period, unit_id=unit)


@bp.get("/cases/export.xes")
@staff(*FIGURE_ROLES)
def export_xes(user: User):
    """The event log of the cases submitted in the period (IEEE 1849 XES): one trace per case, one event per step."""
    return event_log("xes", _log_filters())


@bp.get("/cases/export.ocel.json")
@staff(*FIGURE_ROLES)
def export_ocel(user: User):
    """The same log as an OCEL 2.0 object-centric log: each event related to its case, its task and its unit."""
    return event_log("ocel", _log_filters())


# ---- the document -----------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(openapi.document())


@bp.get("/docs")
def docs_page():
    return docs.page()


@bp.get("/docs/<asset>")
def docs_asset(asset: str):
    return docs.asset(asset)
