"""Security set-up of the app: response headers, cookie flags, rate limits, proxy awareness, and the
log of refused access (logger ``lapor.security``).

Settings (app config, or the environment of the same name):
- ``LAPOR_RATELIMIT_STORAGE_URL``: where Flask-Limiter keeps its counters, ``memory://`` by default (one
  process); ``redis://host:6379`` when several gunicorn workers or hosts must share them.
- ``LAPOR_LOGIN_RATE_LIMIT``: sign-in attempts (``POST /masuk``, ``POST /api/v1/auth/token``) at one
  username from one client address, ``10 per minute`` by default; ``LAPOR_LOGIN_RATE_LIMIT_PER_ADDRESS``:
  all sign-in attempts from one address, ``50 per minute``. ``LAPOR_SUBMIT_RATE_LIMIT``: complaints
  (``POST /lapor``, ``POST /api/v1/complaints``, counted together) from one client address, ``5 per minute;
  30 per day`` by default. ``RATELIMIT_ENABLED=False`` turns them all off.
- ``LAPOR_PROXY_COUNT``: how many reverse proxies stand in front of the app (default 0). With 1, the
  client's address and scheme come from the proxy's ``X-Forwarded-For`` / ``X-Forwarded-Proto`` /
  ``X-Forwarded-Host`` (Werkzeug's ProxyFix), so the rate limit counts per real client and
  ``request.is_secure`` is true behind a TLS-terminating proxy. Never set it without a proxy: clients
  could then choose their own address.
- Cookies are always HttpOnly and SameSite=Lax, and also Secure when ``LAPOR_BASE_URL`` starts with
  ``https://`` (the address citizens and staff use, whatever the proxy in front speaks to the app).
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, abort, flash, make_response, render_template, request, session
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from engine.definitions.forms import UNSAFE_TEXT
from web.pages.auth import bearer_token, bearer_user

log = logging.getLogger("lapor.security")
ACCESS_LOGGERS = ("werkzeug", "gunicorn.access")  # `lapor serve`'s request lines; gunicorn's access log


class AccessCodeRedaction(logging.Filter):
    """Hides the value of every ``token=`` in a log record: links mailed before the code moved behind "#" still bring it
    in the query string, and the server logs the request line before the app answers with its 303. Werkzeug's record
    holds the request line in its args tuple, gunicorn's access record a dict of atoms (``r``, ``U``, ``q``, ``f``, ...)."""

    CODE = re.compile(r"(token=)[^&\s\"'#]+")

    def filter(self, record: logging.LogRecord) -> bool:
        """Always True (the record is kept), once its message and args are redacted."""
        record.msg = self._redacted(record.msg)
        if isinstance(record.args, dict):  # in place: gunicorn's SafeAtoms answers "-" for an atom it lacks
            record.args.update({key: self._redacted(value) for key, value in record.args.items()})
        elif isinstance(record.args, tuple):
            record.args = tuple(self._redacted(value) for value in record.args)
        return True

    @classmethod
    def _redacted(cls, value: Any) -> Any:
        return cls.CODE.sub(r"\1[disembunyikan]", value) if isinstance(value, str) else value


_ACCESS_CODE_REDACTION = AccessCodeRedaction()  # one instance: addFilter() then installs it once, however many apps are made


def redact_access_codes() -> None:
    """Install AccessCodeRedaction on the access loggers of Werkzeug and gunicorn (once per process)."""
    for name in ACCESS_LOGGERS:
        logging.getLogger(name).addFilter(_ACCESS_CODE_REDACTION)


# No inline script anywhere (tests/security/test_sessions_headers.py scans web/templates for it).
# Styles: the case diagram is an inline SVG carrying its own <style> block, and the pages and the
# mails shown in the development mailbox use style="..." attributes, so style-src needs
# 'unsafe-inline'; CSS cannot run script, and script-src stays 'self'.
# frame-src 'self': the development mailbox shows each mail's HTML in a sandboxed <iframe srcdoc>
# (an about:srcdoc document that inherits this policy; it needs no fetch).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # the citizen's tracking link carries the access token in its query string: never send it to another site.
    # Not no-referrer: over HTTPS Flask-WTF refuses a form whose Referer is not this site.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    # geolocation for this site's own pages only: "Gunakan lokasi saya" on the complaint forms (web/static/location.js)
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(self)",
}
REFUSED = {401: "unauthenticated", 403: "forbidden", 404: "not found", 429: "rate limited"}
UNSAFE_TEXT_MESSAGE = "Tidak boleh berisi karakter kontrol atau karakter yang tidak valid."
MAX_ID = 2**31 - 1  # the largest value of an INTEGER primary key on PostgreSQL
# the pages that answer such a field with their own form and a field error; every other form is refused whole (400)
FIELD_CHECKED_FORMS = {"public.submit", "public.reply", "staff.task"}


def _setting(app: Flask, name: str, default: str) -> str:
    return str(app.config.get(name) or os.environ.get(name) or default)


def init_app(app: Flask, submission_limited: Callable[[object], Response], intake_by_staff: Callable[[], bool]) -> Limiter:
    """Install headers, cookie flags, proxy handling, the refused-access log and the sign-in and submission rate limits;
    returns the app's limiter. ``submission_limited`` is the complaint page's answer to one complaint too many
    (web/pages/public.py, which imports this module: so create_app hands it in); ``intake_by_staff`` says whether a
    request is a staff member's intake (web/pages/auth.py), which the per-address limit does not count."""
    if str(app.config.get("LAPOR_BASE_URL", "")).startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = True
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax")

    proxies = int(_setting(app, "LAPOR_PROXY_COUNT", "0"))
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]

    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter = Limiter(get_remote_address, app=app, storage_uri=_setting(app, "LAPOR_RATELIMIT_STORAGE_URL", "memory://"))
    if limiter.enabled:  # disabled (tests of other things), it has no storage
        serialize_expiry_timer(limiter.storage)
    app.extensions["lapor_limiter"] = limiter  # the wrapped views hold it weakly; disabled, Flask-Limiter keeps no reference itself
    # two limits on each sign-in route: attempts at one account from one address (guessing its password), and all
    # attempts from one address (trying one password on many accounts; generous, as a whole office may share an address)
    per_account = _setting(app, "LAPOR_LOGIN_RATE_LIMIT", "10 per minute")
    per_address = _setting(app, "LAPOR_LOGIN_RATE_LIMIT_PER_ADDRESS", "50 per minute")
    limited: set[str] = set()  # the endpoints whose views the limits below wrap
    for endpoint in ("auth.login", "api.create_token"):
        # the page answers 429 with the sign-in form and a message; the API with its JSON error (web/api/routes.py)
        breached = _login_page_breached if endpoint == "auth.login" else None
        view = app.view_functions[endpoint]
        view = limiter.limit(per_account, key_func=_address_and_username, methods=["POST"], on_breach=breached)(view)
        view = limiter.limit(per_address, methods=["POST"], on_breach=breached)(view)
        app.view_functions[endpoint] = view
        limited.add(endpoint)
    # complaints from one address, the page and the API counted together (one scope): each submission mails a receipt
    # and fills Admin Kominfo's inbox, so a script gets 5 a minute at most, and a slow drip 30 a day; a citizen sends
    # one, a family or an office sharing an address a few. Every POST counts, refused ones too: counting only the
    # accepted ones (deduct_when) checks first and counts after the answer, so requests sent at once would all pass.
    per_submitter = _setting(app, "LAPOR_SUBMIT_RATE_LIMIT", "5 per minute; 30 per day")
    # a staff member's intake through the API (a desk typing in letters and calls for citizens) is not counted
    for endpoint, breached, exempt in (("public.submit", submission_limited, None), ("api.submit_complaint", None, intake_by_staff)):
        limit = limiter.shared_limit(per_submitter, scope="complaint-submission", methods=["POST"], on_breach=breached, exempt_when=exempt)
        app.view_functions[endpoint] = limit(app.view_functions[endpoint])
        limited.add(endpoint)
    if not app.config.get("RATELIMIT_DEFAULT") and not app.config.get("RATELIMIT_APPLICATION"):
        # every limit wraps one of these views and is counted there: Flask-Limiter's own pass before every other
        # request (looking for app-wide limits there are none of) is work for nothing
        limiter.request_filter(lambda: request.endpoint not in limited)

    # first of all the request hooks: a form part whose name cannot be read would crash CSRFProtect's own check (a 500)
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_unusable_input)
    app.after_request(_headers)
    app.after_request(_log_refused)
    return limiter


def _address_and_username() -> str:
    """The rate-limit key of a sign-in attempt. A body that is not JSON (or nested too deep) counts under
    no username; the view then answers it 400."""
    try:
        body = parse_json(request.get_data(cache=True)) if request.is_json else None
    except ValueError:
        body = None
    username = body.get("username") if isinstance(body, dict) else request.form.get("username")
    return f"{get_remote_address()}|{(username if isinstance(username, str) else '').strip().lower()[:80]}"


def parse_json(raw: bytes | str) -> Any:
    """``raw`` parsed as JSON. Raises ValueError for anything that is not JSON, including JSON nested
    deeper than the parser goes (json.loads raises RecursionError for that, which would be a 500)."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None


def _refuse_unusable_input() -> None:
    """404 for an id in the URL past what the database's integer columns hold (no such row; the database would
    answer the query with an error, a 500). 400 for a URL (path or query) carrying a control character, and for a
    form field carrying one on a page that does not report it as a field error itself (FIELD_CHECKED_FORMS):
    nothing legitimate holds them, and PostgreSQL answers a query holding U+0000 with an error."""
    if request.routing_exception is not None:  # no such page: its 404/405 is answered as every unknown address is
        return
    if any(isinstance(value, int) and not 0 <= value <= MAX_ID for value in (request.view_args or {}).values()):
        abort(404)
    fields = [request.path, *request.args.keys(), *request.args.values()]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        if None in request.form:  # a part whose name cannot be read: no page can show it as a field error
            abort(400, UNSAFE_TEXT_MESSAGE)
        if request.endpoint not in FIELD_CHECKED_FORMS:
            fields += [*request.form.keys(), *request.form.values()]
    if any(UNSAFE_TEXT.search(value) for value in fields):
        abort(400, UNSAFE_TEXT_MESSAGE)


def page_field_errors(data: Any) -> dict[str, str]:
    """unsafe_text_errors for a page, with the message in the visitor's language."""
    return {path: _("Tidak boleh berisi karakter kontrol atau karakter yang tidak valid.") for path in unsafe_text_errors(data)}


def _login_page_breached(_limit: object) -> Response:
    flash(_("Terlalu banyak percobaan masuk dari alamat Anda. Tunggu sebentar, lalu coba lagi."), "error")
    return make_response(render_template("auth/login.html"), 429)


def serialize_expiry_timer(storage: object) -> None:
    """limits' memory storage (5.8) starts its expiry timer without a lock: two threads counting at once may both find
    it stopped and start the same new Timer twice (RuntimeError: a 500 to a citizen submitting; the load test found it
    under gunicorn's threads). Its one scheduling method is made to run one thread at a time; other storages have none."""
    schedule = getattr(storage, "_MemoryStorage__schedule_expiry", None)
    if schedule is None:
        return
    lock = threading.Lock()

    def one_at_a_time() -> None:
        with lock:
            schedule()

    storage._MemoryStorage__schedule_expiry = one_at_a_time  # type: ignore[attr-defined]  # the instance's, before the class's


def _headers(response: Response) -> Response:
    present = {name.lower() for name, _value in response.headers}  # not Headers.setdefault: it raises and catches per absent name
    response.headers.extend((name, value) for name, value in HEADERS.items() if name.lower() not in present)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    # a signed-in staff member's pages and a citizen's private pages stay out of shared caches and the back-button cache
    if request.endpoint != "static" and ("_user_id" in session or request.path.startswith(("/lacak", "/dev/"))):
        response.headers["Cache-Control"] = "no-store"  # also over send_file's no-cache for an attachment
    return response


def _log_refused(response: Response) -> Response:
    """One line per refused request: who (username when signed in), from where, what. Never the query
    string, the body or a header value: those may carry a citizen's access token."""
    if response.status_code in REFUSED:
        level = logging.INFO if response.status_code == 404 else logging.WARNING
        log.log(
            level,
            "access refused (%s %s): %s %s by %s from %s",
            response.status_code,
            REFUSED[response.status_code],
            request.method,
            request.path,
            _who(),
            request.remote_addr,
        )
    return response


def _who() -> str:
    try:
        user = getattr(current_user, "user", None)
        if user is None and request.path.startswith("/api/") and bearer_token():
            user = bearer_user()
    except Exception:  # noqa: BLE001 - the log line must never break the response
        user = None
    return f"user {user.username}" if user is not None else "anonymous"


def unsafe_text_errors(data: Any, path: str = "") -> dict[str, str]:
    """{dotted path: message} for each string in ``data`` (keys included) holding a control character or a lone
    surrogate; empty when there is none. The message is Indonesian, as the engine's field errors are."""
    errors: dict[str, str] = {}
    if isinstance(data, str):
        if UNSAFE_TEXT.search(data):
            errors[path or "_"] = UNSAFE_TEXT_MESSAGE
    elif isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            if UNSAFE_TEXT.search(str(key)):
                errors[path or "_"] = UNSAFE_TEXT_MESSAGE
            else:
                errors.update(unsafe_text_errors(value, where))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            errors.update(unsafe_text_errors(value, f"{path}.{index}" if path else str(index)))
    return errors
