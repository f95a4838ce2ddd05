"""The Flask app: a thin UI and JSON API over engine/. Routes parse, call one engine verb, render."""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask, request
from flask_babel import get_locale, ngettext

from engine.db.connection import configure_engine
from engine.timekeeping.calendar import zone
from engine.timekeeping.clock import SYSTEM_CLOCK
from web import labels, open311, security, settings
from web.api import routes as api
from web.extensions import babel, csrf, db, login_manager
from web.pages import admin, analyst, auth, errors, formrender, history, intake, public, reports, staff

LANGUAGES = ("id", "en")


def _locale() -> str:
    """The language the visitor chose with /bahasa/<lang> (a cookie); Indonesian otherwise.

    Accept-Language is deliberately not consulted: the service speaks Indonesian unless asked."""
    chosen = request.cookies.get("lang")
    return chosen if chosen in LANGUAGES else "id"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(settings.from_environment() if not (test_config or {}).get("SQLALCHEMY_DATABASE_URI") else {})
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        BABEL_DEFAULT_LOCALE="id",
        LAPOR_CLOCK=SYSTEM_CLOCK,
    )
    app.config.setdefault("LAPOR_ATTACHMENTS_DIR", None)  # None: instance/attachments
    if test_config:
        app.config.update(test_config)
    app.config.setdefault("LAPOR_BASE_URL", settings.DEFAULT_BASE_URL)
    # the development mailbox (/dev/kotak-surat) shows every citizen's private link: only `lapor serve` turns it on
    # (without MAIL_SERVER); gunicorn and any other create_app() never serve it
    app.config.setdefault("LAPOR_DEV_MAILBOX", False)

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_locale)

    app.jinja_env.globals["get_locale"] = get_locale
    # the icon travels inside each page: no request of its own that a quick navigation could cut off
    icon = base64.b64encode((Path(app.static_folder) / "favicon.svg").read_bytes()).decode()
    app.jinja_env.globals["favicon"] = f"data:image/svg+xml;base64,{icon}"
    app.jinja_env.filters["localtime"] = _localtime
    app.jinja_env.filters["age"] = _age
    app.jinja_env.filters.update(labels.FILTERS)
    app.jinja_env.globals["form_text"] = formrender.text

    app.register_blueprint(errors.bp)  # the pages' answers to the engine's errors, and the 403 and 404 pages
    app.register_blueprint(public.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(intake.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(history.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(analyst.bp)
    csrf.exempt(api.bp)  # bearer tokens, not cookies: no CSRF exposure
    app.register_blueprint(open311.bp)
    csrf.exempt(open311.bp)  # a partner's API key in the form, no cookie: no CSRF exposure
    # headers, cookie flags, rate limits, refused-access log (after the blueprints: it wraps their views)
    security.init_app(app, public.submission_limited, auth.intake_by_staff)
    security.redact_access_codes()  # links mailed before the fix still carry ?token=: no access log keeps it
    return app


def _localtime(instant: datetime | str | None) -> str:
    """Show an instant (or an ISO string from a view dict) in the office's time zone."""
    if not instant:
        return ""
    if isinstance(instant, str):
        instant = datetime.fromisoformat(instant)
    return instant.astimezone(zone()).strftime("%d-%m-%Y %H.%M WIB" if zone().key == "Asia/Jakarta" else "%d-%m-%Y %H.%M %Z")


def _age(instant: datetime, now: datetime) -> str:
    hours = int((now - instant).total_seconds() // 3600)
    hours_text = ngettext("%(num)s jam", "%(num)s jam", hours % 24 if hours >= 24 else hours)
    if hours >= 24:
        return ngettext("%(num)s hari", "%(num)s hari", hours // 24) + " " + hours_text
    return hours_text
