"""The Flask app: a thin UI and JSON API over engine/. Routes parse, call one engine verb, render."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request
from flask_babel import Babel
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from engine import CaseService
from engine.clock import SYSTEM_CLOCK
from engine.database import configure_engine
from engine.store import Base

from . import settings

db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()

LANGUAGES = ("id", "en")


def _locale() -> str:
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
        LAPOR_ATTACHMENTS_DIR=None,
    )
    if test_config:
        app.config.update(test_config)
    app.config.setdefault("LAPOR_BASE_URL", "http://127.0.0.1:5000")
    app.config.setdefault("LAPOR_SMTP", None)

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_locale)

    from . import api, auth, public, staff

    app.register_blueprint(public.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)  # bearer tokens, not cookies: no CSRF exposure
    return app


def service() -> CaseService:
    """The case façade for this request, bound to the request's session and the app's clock."""
    from flask import current_app

    if "service" not in g:
        g.service = CaseService(db.session, current_app.config["LAPOR_CLOCK"], current_app.config["LAPOR_BASE_URL"])
    return g.service
