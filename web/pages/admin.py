"""Admin Pusat's pages: the units (Satuan Kerja, Instansi Vertikal), the staff accounts and the Open311 partner keys."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from engine import InvalidData
from engine.accounts.administration import Administration
from engine.accounts.partners import Partners
from engine.contract import ROLES, UNIT_KINDS
from web.extensions import db
from web.pages.auth import roles_required
from web.pages.formrender import Field

bp = Blueprint("admin", __name__, url_prefix="/admin")

KIND_NAMES = {"satuan_kerja": _l("Satuan Kerja"), "instansi_vertikal": _l("Instansi Vertikal")}
ROLE_NAMES = {
    "pusat": _l("Admin Pusat"),
    "kominfo": _l("Admin Kominfo"),
    "satker": _l("Satuan Kerja"),
    "vertikal": _l("Instansi Vertikal"),
    "auditor": _l("Auditor"),
    "analis": _l("Analis proses"),
}


def _admin() -> Administration:
    return Administration(db.session, current_user.actor, current_app.config["LAPOR_CLOCK"])


def _finish(done_message: str, endpoint: str, errors: dict[str, str] | None) -> Any:
    """Commit and go back to the list, or roll back and let the caller show the form with its errors."""
    if errors:
        db.session.rollback()
        return None
    db.session.commit()
    flash(done_message, "info")
    return redirect(url_for(endpoint))


# ---- units ---------------------------------------------------------------------------------------


def _unit_fields(values: dict[str, Any], errors: dict[str, str], new: bool) -> list[Field]:
    kinds = [(kind, str(KIND_NAMES[kind])) for kind in UNIT_KINDS]
    fields = [
        Field("name", _("Nama unit"), "text", True, max_length=200),
        Field("kind", _("Jenis"), "select", True, options=kinds),
    ]
    if new:
        fields.insert(
            0, Field("id", _("Kode unit"), "text", True, _("Huruf kecil dan tanda hubung, mis. dinas-sosial; tidak dapat diubah."), max_length=64)
        )
    else:
        fields.append(Field("active", _("Aktif (dapat menerima disposisi)"), "checkbox", False))
    for field in fields:
        field.value, field.error = values.get(field.name), errors.get(field.name)
    return fields


@bp.route("/unit", methods=["GET", "POST"])
@roles_required("pusat")
def units():
    values, errors = {}, {}
    if request.method == "POST":
        values = {key: request.form.get(key, "") for key in ("id", "name", "kind")}
        try:
            _admin().create_unit(values["id"], values["name"], values["kind"])
        except InvalidData as err:
            errors = err.errors
        done = _finish(_("Unit %(name)s ditambahkan.", name=values["name"]), "admin.units", errors)
        if done:
            return done
    admin = _admin()
    return render_template(
        "admin/units.html", units=admin.units(), fields=_unit_fields(values, errors, new=True), kinds=KIND_NAMES, events=admin.recent_events()
    ), (400 if errors else 200)


@bp.route("/unit/<unit_id>", methods=["GET", "POST"])
@roles_required("pusat")
def unit(unit_id: str):
    admin = _admin()
    current = admin.unit(unit_id)  # NotFound: the 404 page (web/pages/errors.py)
    values, errors = {"name": current.name, "kind": current.kind, "active": current.active}, {}
    if request.method == "POST":
        values = {"name": request.form.get("name", ""), "kind": request.form.get("kind", ""), "active": request.form.get("active") == "true"}
        try:
            admin.update_unit(unit_id, values["name"], values["kind"], values["active"])
        except InvalidData as err:
            errors = err.errors
        done = _finish(_("Perubahan unit disimpan."), "admin.units", errors)
        if done:
            return done
    return render_template("admin/unit.html", unit=current, fields=_unit_fields(values, errors, new=False)), (400 if errors else 200)


# ---- accounts ------------------------------------------------------------------------------------


def _user_fields(values: dict[str, Any], errors: dict[str, str], new: bool) -> list[Field]:
    units = [(s.unit.id, f"{s.unit.name} ({KIND_NAMES[s.unit.kind]})") for s in _admin().units() if s.unit.active]
    fields = [
        Field("full_name", _("Nama lengkap"), "text", True, max_length=120),
        Field("email", _("Email"), "email", True, max_length=254),
        Field("role", _("Peran"), "select", True, options=[(role, str(ROLE_NAMES[role])) for role in ROLES]),
        Field("unit_id", _("Unit"), "select", False, _("Wajib untuk peran Satuan Kerja dan Instansi Vertikal; kosongkan untuk peran lain."), units),
        Field(
            "password",
            _("Kata sandi") if new else _("Kata sandi baru"),
            "password",
            new,
            _("Minimal 10 karakter.") if new else _("Kosongkan bila tidak diganti. Mengganti kata sandi mengakhiri sesi akun ini."),
        ),
    ]
    if new:
        fields.insert(0, Field("username", _("Nama pengguna"), "text", True, max_length=80))
    else:
        fields.append(Field("active", _("Aktif (dapat masuk)"), "checkbox", False))
    for field in fields:
        field.value, field.error = (None if field.name == "password" else values.get(field.name)), errors.get(field.name)
    return fields


def _account_form() -> dict[str, Any]:
    keys = ("username", "full_name", "email", "role", "unit_id", "password")
    values: dict[str, Any] = {key: request.form.get(key, "") for key in keys}
    values["unit_id"] = values["unit_id"] or None
    values["active"] = request.form.get("active") == "true"
    return values


@bp.route("/pengguna", methods=["GET", "POST"])
@roles_required("pusat")
def users():
    values, errors = {}, {}
    if request.method == "POST":
        values = _account_form()
        try:
            _admin().create_user(values["username"], values["full_name"], values["email"], values["role"], values["unit_id"], values["password"])
        except InvalidData as err:
            errors = err.errors
        done = _finish(_("Akun %(username)s dibuat.", username=values["username"]), "admin.users", errors)
        if done:
            return done
    admin = _admin()
    return render_template(
        "admin/users.html", users=admin.users(), fields=_user_fields(values, errors, new=True), roles=ROLE_NAMES, events=admin.recent_events()
    ), (400 if errors else 200)


@bp.route("/pengguna/<int:user_id>", methods=["GET", "POST"])
@roles_required("pusat")
def user(user_id: int):
    admin = _admin()
    account = admin.user(user_id)
    values = {"full_name": account.full_name, "email": account.email, "role": account.role, "unit_id": account.unit_id, "active": account.active}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = _account_form()
        try:
            admin.update_user(user_id, values["full_name"], values["email"], values["role"], values["unit_id"], values["active"], values["password"])
        except InvalidData as err:
            errors = err.errors
        done = _finish(_("Perubahan akun %(username)s disimpan.", username=account.username), "admin.users", errors)
        if done:
            return done
    page = render_template("admin/user.html", account=account, fields=_user_fields(values, errors, new=False), locks=admin.sign_in_locks(user_id))
    return page, (400 if errors else 200)


@bp.post("/pengguna/<int:user_id>/buka-kunci")
@roles_required("pusat")
def unlock_user(user_id: int):
    """Lift the sign-in locks on an account, from every address, and go back to its page."""
    admin = _admin()
    username = admin.user(user_id).username
    unlocked = admin.unlock_user(user_id)
    db.session.commit()
    if unlocked:
        flash(_("Kunci masuk akun %(username)s dibuka.", username=username), "info")
    else:
        flash(_("Akun %(username)s sedang tidak dikunci.", username=username), "info")
    return redirect(url_for("admin.user", user_id=user_id))


# ---- Open311 partner keys ------------------------------------------------------------------------


def _partners() -> Partners:
    return Partners(db.session, current_user.actor, current_app.config["LAPOR_CLOCK"])


@bp.route("/mitra", methods=["GET", "POST"])
@roles_required("pusat")
def partners():
    """The partner keys; a POST issues one and shows it on this answer only (never in a flash: the session cookie is readable)."""
    name, errors, issued = "", {}, None
    if request.method == "POST":
        name = request.form.get("name", "")
        try:
            issued = _partners().issue(name)
        except InvalidData as err:
            errors = err.errors
            db.session.rollback()
        else:
            db.session.commit()
            current_app.logger.info("partner key %s (%s) issued by %s", issued.partner.id, issued.partner.prefix, current_user.actor.username)
            name = ""
    field = Field("name", _("Nama mitra"), "text", True, _("Nama aplikasi atau lembaga mitra, mis. Aplikasi Warga Surabaya."), max_length=120)
    field.value, field.error = name, errors.get("name")
    page = render_template("admin/partners.html", keys=_partners().list_keys(), fields=[field], issued=issued, events=_admin().recent_events())
    return page, (400 if errors else 200)


@bp.route("/mitra/<int:key_id>/cabut", methods=["GET", "POST"])
@roles_required("pusat")
def revoke_partner(key_id: int):
    """GET asks to confirm; POST revokes the key at once."""
    partners = _partners()
    key = partners.key(key_id)  # NotFound: the 404 page
    if key.revoked_at is not None:
        flash(_("Kunci API %(name)s sudah dicabut.", name=key.name), "info")
        return redirect(url_for("admin.partners"))
    if request.method == "POST":
        partners.revoke(key_id)
        db.session.commit()
        flash(_("Kunci API %(name)s dicabut.", name=key.name), "info")
        return redirect(url_for("admin.partners"))
    return render_template("admin/partner_revoke.html", key=key)
