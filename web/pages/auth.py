"""Staff sign-in: sessions for pages (Flask-Login), bearer tokens for the JSON API.

Signing out ends every session of the account (it bumps the session epoch, which every session
cookie carries, so a copied cookie dies with it) and revokes its API tokens.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import UserMixin, current_user, login_required, login_user, logout_user

from engine import Actor
from engine.accounts import credentials
from engine.accounts.users import check_login, end_sessions
from engine.contract import INTAKE_ROLES
from engine.db.tables import User
from web.extensions import db, login_manager

bp = Blueprint("auth", __name__)
log = logging.getLogger("lapor.security")  # beside web/security.py's log of refused access
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Silakan masuk untuk membuka halaman ini.")
login_manager.localize_callback = str  # the lazy message, in the request's language, when flashed

# Where a role's work is, for the roles that hold no task of the model (the others start at their task inbox, /tugas):
# the page a sign-in lands on, and the inbox's pointer for them. Endpoint and the page's name, as the navigation says it.
HOMES = {
    "pusat": ("staff.overview_page", _l("Ikhtisar")),
    "auditor": ("staff.cases", _l("Semua laporan")),
    "analis": ("analyst.versions_page", _l("Versi proses")),
}


class StaffUser(UserMixin):
    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        return f"{self.user.id}:{self.user.session_epoch}"

    @property
    def actor(self) -> Actor:
        return actor_of(self.user)


def actor_of(user: User) -> Actor:
    return Actor(user.username, user.role, user.unit_id)


@login_manager.user_loader
def _load(session_id: str) -> StaffUser | None:
    user_id, _sep, epoch = session_id.partition(":")
    user = credentials.session_user(db.session, user_id, epoch)
    return StaffUser(user) if user is not None else None


def authenticate(username: str, password: str, channel: str = "page") -> User | None:
    """The active account these credentials open, or None. Counts a refusal against this username from
    this client address and locks the pair after MAX_FAILED_LOGINS (engine/accounts/users.py); commits that
    bookkeeping itself, since the caller's refusal rolls back. A refusal is logged (logger ``lapor.security``)."""
    result = check_login(db.session, username, password, request.remote_addr, current_app.config["LAPOR_CLOCK"].now())
    db.session.commit()
    if result.user is None:
        reason = result.reason or "refused"
        if reason != "locked" and result.locked_until is not None:
            reason += ", now locked for this address"
        log_failed_login(username, reason, channel)
        g.login_locked_until = result.locked_until if result.reason == "locked" else None
    return result.user


def log_failed_login(username: str, reason: str, channel: str) -> None:
    """A refused sign-in (channel ``page`` or ``api``); the password is never logged."""
    log.warning("login failed (%s) via %s for username %r from %s", reason, channel, username[:80], request.remote_addr)


def locked_message() -> str | None:
    """The message for a sign-in refused because this username is locked for this address, or None. It is
    the same for an unknown username: failures at it count and lock alike."""
    until = g.get("login_locked_until")
    if until is None:
        return None
    minutes = max(1, -(-int((until - current_app.config["LAPOR_CLOCK"].now()).total_seconds()) // 60))
    return ngettext(
        "Nama pengguna ini dikunci sementara untuk alamat Anda karena terlalu banyak percobaan masuk yang gagal. "
        "Coba lagi dalam %(num)s menit, atau minta Admin Pusat membuka kuncinya.",
        "Nama pengguna ini dikunci sementara untuk alamat Anda karena terlalu banyak percobaan masuk yang gagal. "
        "Coba lagi dalam %(num)s menit, atau minta Admin Pusat membuka kuncinya.",
        minutes,
    )


def safe_next(target: str) -> str | None:
    """``target`` when it is a path on this site; None for anything a browser could read as another host
    (``//evil``, ``/\\evil``, a scheme, control characters)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def home_url(role: str) -> str:
    """The page a member of ``role`` lands on after signing in: where the role's work is."""
    return url_for(HOMES[role][0] if role in HOMES else "staff.inbox_page")


def roles_required(*roles: str) -> Callable:
    """A page for staff of these roles only: others get 403."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate


@bp.route("/masuk", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        user = authenticate(request.form.get("username", ""), request.form.get("password", ""))
        if user is None:
            flash(locked_message() or _("Nama pengguna atau kata sandi salah."), "error")
            return render_template("auth/login.html"), 401
        session.clear()  # a new session at sign-in: nothing set before it (a planted session, the old CSRF token) survives
        login_user(StaffUser(user))
        return redirect(safe_next(request.args.get("next", "")) or home_url(user.role))
    return render_template("auth/login.html")


@bp.route("/keluar", methods=["POST"])
@login_required
def logout():
    end_sessions(db.session, current_user.user, current_app.config["LAPOR_CLOCK"].now())  # every session and API token
    db.session.commit()
    logout_user()
    flash(_("Anda telah keluar."), "info")
    return redirect(url_for("public.home"))


def issue_token(user: User) -> str:
    """A new API token for ``user`` (the caller commits)."""
    return credentials.issue_token(db.session, user, current_app.config["LAPOR_CLOCK"].now())


def bearer_token() -> str:
    """The credential of an ``Authorization: Bearer …`` header ("" without one); the scheme name is case-insensitive."""
    scheme, _sep, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def bearer_user() -> User | None:
    """The staff member whose valid, unexpired, unrevoked token this request carries, read once per request (the
    submission limit's exemption and the view both ask)."""
    if "bearer_user" not in g:
        g.bearer_user = credentials.token_user(db.session, bearer_token(), current_app.config["LAPOR_CLOCK"].now())
    return g.bearer_user


def intake_by_staff() -> bool:
    """This request carries the valid token of a staff member who records complaints for citizens (INTAKE_ROLES): a
    desk typing in the day's letters and calls, from one office address, which the per-address limit is not for."""
    user = bearer_user()
    return user is not None and user.role in INTAKE_ROLES


def revoke_bearer_token() -> None:
    """Revoke the token this request carries (the caller commits)."""
    credentials.revoke_token(db.session, bearer_token(), current_app.config["LAPOR_CLOCK"].now())
