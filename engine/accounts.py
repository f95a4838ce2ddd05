"""Staff accounts and the demo data of DESIGN.md."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from .scripting import DEMO_UNITS
from .store import Unit, User

ROLES = ("pusat", "kominfo", "satker", "vertikal", "auditor", "analis")
UNIT_ROLES = {"satker": "satuan_kerja", "vertikal": "instansi_vertikal"}
DEMO_PASSWORD = "demo-lapor"
# username, role, unit, full name
DEMO_USERS = [
    ("pusat", "pusat", None, "Admin Pusat"),
    ("kominfo", "kominfo", None, "Admin Kominfo (Pejabat Narahubung)"),
    ("pendidikan", "satker", "dinas-pendidikan", "Petugas Dinas Pendidikan"),
    ("kesehatan", "satker", "dinas-kesehatan", "Petugas Dinas Kesehatan"),
    ("binamarga", "satker", "dinas-pu-bina-marga", "Petugas Dinas PU Bina Marga"),
    ("bpn", "vertikal", "kanwil-bpn-jatim", "Petugas Kanwil BPN"),
    ("kemenag", "vertikal", "kanwil-kemenag-jatim", "Petugas Kanwil Kemenag"),
    ("auditor", "auditor", None, "Auditor"),
    ("analis", "analis", None, "Analis Proses"),
]

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


_dummy: dict[int, str] = {}


def _dummy_hash() -> str:
    """A hash made with the current hasher's parameters, to verify against when no account matches."""
    if id(_hasher) not in _dummy:
        _dummy[id(_hasher)] = _hasher.hash("no such account")
    return _dummy[id(_hasher)]


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Sign-in lockout: this many failed attempts in a row lock the account for LOCKOUT (the correct
# password is refused meanwhile); a successful sign-in clears the count.
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)


@dataclass(frozen=True)
class LoginResult:
    """What a sign-in attempt came to: ``user`` when it succeeded; otherwise ``reason`` is
    ``unknown`` (no such account), ``inactive``, ``locked`` (``locked_until`` says until when) or
    ``wrong_password`` (``locked_until`` is set when this failure locked the account)."""

    user: User | None
    reason: str | None = None
    locked_until: datetime | None = None


def check_login(session: Session, username: str, password: str, now: datetime) -> LoginResult:
    """Check a staff sign-in and keep the account's failure count and lock up to date (in the caller's
    transaction: commit it whatever the result, or the count is lost). Returns a LoginResult."""
    # a NUL byte cannot be in any username (PostgreSQL refuses it in a query): no such account
    user = session.scalar(select(User).where(User.username == username.strip())) if "\x00" not in username else None
    if user is None:
        verify_password(_dummy_hash(), password)  # as slow as a real account: timing does not tell which usernames exist
        return LoginResult(None, "unknown")
    if not user.active:
        return LoginResult(None, "inactive")
    if user.locked_until is not None and user.locked_until > now:
        return LoginResult(None, "locked", user.locked_until)
    if not verify_password(user.password_hash, password):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.failed_logins, user.locked_until = 0, now + LOCKOUT
            return LoginResult(None, "wrong_password", user.locked_until)
        return LoginResult(None, "wrong_password")
    user.failed_logins, user.locked_until = 0, None
    return LoginResult(user)


def create_user(
    session: Session, username: str, password: str, role: str, unit_id: str | None = None, email: str | None = None, full_name: str = ""
) -> User:
    """Add a staff account. Raises ValueError for an unknown role or a unit that does not fit it."""
    if role not in ROLES:
        raise ValueError(f"peran {role!r} tidak dikenal")
    if (role in UNIT_ROLES) != (unit_id is not None):
        raise ValueError("peran satker dan vertikal wajib punya satu unit; peran lain tanpa unit")
    if unit_id is not None:
        unit = session.get(Unit, unit_id)
        if unit is None or unit.kind != UNIT_ROLES[role]:
            raise ValueError(f"unit {unit_id!r} tidak ada atau jenisnya tidak cocok dengan peran {role}")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        unit_id=unit_id,
        email=email or f"{username}@demo.lapor.test",
        full_name=full_name,
        active=True,
        session_epoch=0,
        failed_logins=0,
    )
    session.add(user)
    return user


def seed_demo(session: Session) -> list[str]:
    """Create the demo units and accounts that do not exist yet; return the usernames created."""
    for unit_id, (name, kind) in DEMO_UNITS.items():
        if session.get(Unit, unit_id) is None:
            session.add(Unit(id=unit_id, name=name, kind=kind, active=True))
    session.flush()
    created = []
    for username, role, unit_id, full_name in DEMO_USERS:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(session, username, DEMO_PASSWORD, role, unit_id, full_name=full_name)
            created.append(username)
    session.flush()
    return created
