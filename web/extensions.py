"""The app's shared objects: made once here, bound to each app by create_app (web/__init__.py).

Every blueprint and helper imports them from this module, never from the package that registers the
blueprints, so the imports of web/ run one way. Two shared things live elsewhere on purpose: the rate
limiter is made per app by web/security.py (its limits wrap that app's views, and a module-wide one would
pile up limits and counters across the apps tests build), and the mail transport owns an app of its own
(web/mail.py) because the worker sends without the web app.
"""

from __future__ import annotations

from flask import current_app, g
from flask_babel import Babel
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from engine import CaseService
from engine.db.tables import Base

db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


def service() -> CaseService:
    """The case façade for this request, bound to the request's session and the app's clock (one per request)."""
    if "service" not in g:
        g.service = CaseService(db.session, current_app.config["LAPOR_CLOCK"], current_app.config["LAPOR_BASE_URL"])
    return g.service
