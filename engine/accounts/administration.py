"""What Admin Pusat manages outside any one case: the units and the staff accounts.

Every change is an AdminEvent naming who made it. Checks return per-field errors (InvalidData)
so the admin pages can show them beside each input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.accounts.users import clear_sign_in_failures, create_user, end_sessions, hash_password, sign_in_locks
from engine.contract import ROLES, UNIT_KINDS, UNIT_ROLES, Actor
from engine.db.tables import AdminEvent, OpenTask, SignInFailure, Unit, User
from engine.definitions.forms import valid_email
from engine.errors import Forbidden, InvalidData, NotFound
from engine.messages import N_, Message
from engine.timekeeping import clock as clocks

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
MIN_PASSWORD = 10


@dataclass(frozen=True)
class UnitSummary:
    unit: Unit
    users: int
    open_tasks: int


class AdminVerbs:
    """What every set of Admin Pusat's verbs shares: only Admin Pusat may use them (``REFUSED`` says so to anyone
    else), and each change is an AdminEvent naming who made it. Like CaseService: works in the caller's transaction,
    never commits."""

    REFUSED = N_("Hanya Admin Pusat yang dapat mengelola unit dan akun.")

    def __init__(self, session: Session, actor: Actor, clock: clocks.Clock = clocks.SYSTEM_CLOCK) -> None:
        if actor.role != "pusat":
            raise Forbidden(self.REFUSED)
        self.session = session
        self.actor = actor.username
        self.clock = clock

    def _record(self, action: str, target: str, data: dict[str, Any]) -> None:
        self.session.add(AdminEvent(at=self.clock.now(), actor=self.actor, action=action, target=target, data=data))


class Administration(AdminVerbs):
    """Admin Pusat's verbs on units and accounts."""

    # ---- units -----------------------------------------------------------------------------

    def units(self) -> list[UnitSummary]:
        users = dict(self.session.execute(select(User.unit_id, func.count()).where(User.active.is_(True)).group_by(User.unit_id)).all())
        tasks = dict(self.session.execute(select(OpenTask.unit_id, func.count()).group_by(OpenTask.unit_id)).all())
        rows = self.session.scalars(select(Unit).order_by(Unit.kind, Unit.name))
        return [UnitSummary(unit, users.get(unit.id, 0), tasks.get(unit.id, 0)) for unit in rows]

    def create_unit(self, unit_id: str, name: str, kind: str) -> Unit:
        unit_id = unit_id.strip()
        errors = self._unit_errors(name, kind)
        if not SLUG.match(unit_id) or len(unit_id) > 64:
            errors["id"] = N_("Gunakan huruf kecil, angka dan tanda hubung, mis. dinas-sosial.")
        elif self.session.get(Unit, unit_id) is not None:
            errors["id"] = N_("Kode unit ini sudah dipakai.")
        if errors:
            raise InvalidData(errors)
        unit = Unit(id=unit_id, name=name.strip(), kind=kind, active=True)
        self.session.add(unit)
        self._record("unit_created", unit_id, {"name": unit.name, "kind": kind})
        return unit

    def update_unit(self, unit_id: str, name: str, kind: str, active: bool) -> Unit:
        unit = self.unit(unit_id)
        errors = self._unit_errors(name, kind)
        if kind != unit.kind and self.session.scalar(select(func.count()).select_from(User).where(User.unit_id == unit_id)):
            errors["kind"] = N_("Jenis unit tidak dapat diubah selama unit ini masih punya akun petugas.")
        if errors:
            raise InvalidData(errors)
        before = {"name": unit.name, "kind": unit.kind, "active": unit.active}
        unit.name, unit.kind, unit.active = name.strip(), kind, active
        after = {"name": unit.name, "kind": unit.kind, "active": unit.active}
        if after != before:
            self._record("unit_updated", unit_id, {"before": before, "after": after})
        return unit

    @staticmethod
    def _unit_errors(name: str, kind: str) -> dict[str, str]:
        errors = {}
        if not 3 <= len(name.strip()) <= 200:
            errors["name"] = N_("Nama unit wajib diisi (3–200 karakter).")
        if kind not in UNIT_KINDS:
            errors["kind"] = N_("Pilih Satuan Kerja atau Instansi Vertikal.")
        return errors

    def unit(self, unit_id: str) -> Unit:
        unit = self.session.get(Unit, unit_id)
        if unit is None:
            raise NotFound(N_("Unit tidak ditemukan."))
        return unit

    # ---- accounts --------------------------------------------------------------------------

    def users(self) -> list[User]:
        return list(self.session.scalars(select(User).order_by(User.role, User.username)))

    def user(self, user_id: int) -> User:
        user = self.session.get(User, user_id)
        if user is None:
            raise NotFound(N_("Akun tidak ditemukan."))
        return user

    def create_user(self, username: str, full_name: str, email: str, role: str, unit_id: str | None, password: str) -> User:
        username = username.strip().lower()
        errors = self._account_errors(full_name, email, role, unit_id)
        if not USERNAME.match(username):
            errors["username"] = N_("Nama pengguna 2–80 karakter: huruf kecil, angka, titik, garis bawah atau tanda hubung.")
        elif self.session.scalar(select(User.id).where(User.username == username)) is not None:
            errors["username"] = N_("Nama pengguna ini sudah dipakai.")
        if len(password) < MIN_PASSWORD:
            errors["password"] = Message(N_("Kata sandi minimal %(count)s karakter."), count=MIN_PASSWORD)
        if errors:
            raise InvalidData(errors)
        user = create_user(self.session, username, password, role, unit_id if role in UNIT_ROLES else None, email.strip(), full_name.strip())
        self._record("user_created", username, {"role": role, "unit": user.unit_id})
        return user

    def update_user(self, user_id: int, full_name: str, email: str, role: str, unit_id: str | None, active: bool, new_password: str = "") -> User:
        """Change an account. Deactivating it, changing its role or unit, or setting a password ends its
        sessions and API tokens; a new password also lifts every sign-in lock on it. Raises InvalidData, NotFound."""
        user = self.user(user_id)
        errors = self._account_errors(full_name, email, role, unit_id, stored_email=user.email)
        if new_password and len(new_password) < MIN_PASSWORD:
            errors["password"] = Message(N_("Kata sandi minimal %(count)s karakter."), count=MIN_PASSWORD)
        if user.username == self.actor and (not active or role != user.role):
            errors["active"] = N_("Anda tidak dapat menonaktifkan atau mengubah peran akun Anda sendiri.")
        if errors:
            raise InvalidData(errors)
        before = self._account(user)
        user.full_name, user.email, user.role, user.active = full_name.strip(), email.strip(), role, active
        user.unit_id = unit_id if role in UNIT_ROLES else None
        after = self._account(user)
        if new_password:
            user.password_hash = hash_password(new_password)
            clear_sign_in_failures(self.session, user.username)  # a new password: whoever was locked out may try it at once
        if new_password or (before["active"] and not active) or before["role"] != role or before["unit"] != user.unit_id:
            # whoever is signed in as this account must sign in again with its new rights, on the web and the API
            end_sessions(self.session, user, self.clock.now())
        if after != before or new_password:
            self._record("user_updated", user.username, {"before": before, "after": after, "password_reset": bool(new_password)})
        return user

    def sign_in_locks(self, user_id: int) -> list[SignInFailure]:
        """The locks in force on this account's username, one per client address. Raises NotFound."""
        return sign_in_locks(self.session, self.user(user_id).username, self.clock.now())

    def unlock_user(self, user_id: int) -> list[str]:
        """Lift every lock on this account's sign-in (and forget its failed attempts), from every address.
        Returns the addresses it was locked for (none: nothing to do, nothing recorded). Raises NotFound."""
        user = self.user(user_id)
        addresses = [lock.address for lock in sign_in_locks(self.session, user.username, self.clock.now())]
        if addresses:
            clear_sign_in_failures(self.session, user.username)
            self._record("user_unlocked", user.username, {"addresses": addresses})
        return addresses

    def _account_errors(self, full_name: str, email: str, role: str, unit_id: str | None, stored_email: str | None = None) -> dict[str, str]:
        """{field: message} for each value that is wrong. The email follows the forms' one rule, unless it is the one
        the account has (demo accounts' ``@demo.lapor.test`` stay editable)."""
        errors = {}
        if not 2 <= len(full_name.strip()) <= 120:
            errors["full_name"] = N_("Nama lengkap wajib diisi.")
        if email.strip() != stored_email and not valid_email(email.strip()):
            errors["email"] = N_("Alamat email belum benar.")
        if role not in ROLES:
            errors["role"] = N_("Pilih salah satu peran.")
        elif role in UNIT_ROLES:
            unit = self.session.get(Unit, unit_id) if unit_id else None
            if unit is None or unit.kind != UNIT_ROLES[role]:
                kind = "Satuan Kerja" if role == "satker" else "Instansi Vertikal"
                errors["unit_id"] = Message(N_("Peran ini wajib punya satu unit berjenis %(kind)s."), kind=kind)
        return errors

    @staticmethod
    def _account(user: User) -> dict[str, Any]:
        return {"full_name": user.full_name, "email": user.email, "role": user.role, "unit": user.unit_id, "active": user.active}

    # ---- the record --------------------------------------------------------------------------

    def recent_events(self, limit: int = 20) -> list[AdminEvent]:
        return list(self.session.scalars(select(AdminEvent).order_by(AdminEvent.id.desc()).limit(limit)))
