"""Staff accounts and the demo data (docs/architecture.md, "Units" under "The contract")."""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engine.contract import ROLES, UNIT_ROLES
from engine.db.tables import ApiToken, SignInFailure, Unit, User
from engine.runtime.scripting import DEMO_UNITS

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


# Sign-in lockout, per username typed and client address (table sign_in_failure): MAX_FAILED_LOGINS failures
# from one address, each within LOCKOUT of the one before, lock that username for that address alone for
# LOCKOUT; a success from that address clears its count. Someone elsewhere cannot lock the real user out.
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)


@dataclass(frozen=True)
class LoginResult:
    """What a sign-in attempt came to: ``user`` when it succeeded; otherwise ``reason`` is ``unknown``
    (no such account), ``inactive``, ``locked`` (this username from this address; ``locked_until`` says
    until when) or ``wrong_password`` (``locked_until`` is set when this failure locked it). The reason is
    for the log only: the answer must not tell an unknown username from a known one."""

    user: User | None
    reason: str | None = None
    locked_until: datetime | None = None


def username_key(username: str) -> str:
    """The key of a username in sign_in_failure: a hash of it as the sign-in compares it (spaces around
    it and case do not count; any text, lone surrogates included, has one)."""
    return hashlib.sha256(username.strip().lower().encode("utf-8", "surrogatepass")).hexdigest()


def client_address(address: str | None) -> str:
    """A client address as sign_in_failure keeps it: the IP address in its canonical form; ``-`` for
    anything that is not one (no address at all, a Unix socket)."""
    try:
        return str(ipaddress.ip_address((address or "").strip().partition("%")[0]))  # without an IPv6 zone (fe80::1%eth0)
    except ValueError:
        return "-"


def check_login(session: Session, username: str, password: str, address: str | None, now: datetime) -> LoginResult:
    """Check a staff sign-in from client ``address`` and count a refusal against (username, address), in
    the caller's transaction: commit it whatever the result, or the count is lost. Every refusal counts
    and locks the same way whether or not the account exists, and takes as long (a password hash is
    verified even for an unknown username), so neither the answer nor its timing tells which usernames
    exist. Returns a LoginResult."""
    key, address = username_key(username), client_address(address)
    this_pair = _pair(key, address)
    locked_until = session.scalar(select(SignInFailure.locked_until).where(this_pair))
    if locked_until is not None and locked_until > now:
        return LoginResult(None, "locked", locked_until)
    # a NUL byte cannot be in any username (PostgreSQL refuses it in a query): no such account
    user = session.scalar(select(User).where(User.username == username.strip())) if "\x00" not in username else None
    matches = verify_password(user.password_hash if user is not None else _dummy_hash(), password)
    if user is not None and user.active and matches:
        session.execute(delete(SignInFailure).where(this_pair))
        return LoginResult(user)
    reason = "unknown" if user is None else "inactive" if not user.active else "wrong_password"
    return LoginResult(None, reason, _count_failure(session, key, address, now))


def _pair(key: str, address: str) -> ColumnElement[bool]:
    return (SignInFailure.username_hash == key) & (SignInFailure.address == address)


def _count_failure(session: Session, key: str, address: str, now: datetime) -> datetime | None:
    """Add a failure to (key, address); returns until when this one locks it, or None."""
    # forget what can no longer lock anyone: the table keeps only recent failures and locks in force
    stale = (SignInFailure.last_failed_at <= now - LOCKOUT) & (SignInFailure.locked_until.is_(None) | (SignInFailure.locked_until <= now))
    session.execute(delete(SignInFailure).where(stale))
    # one statement, so that concurrent failures each count (a read, then a write, would lose some)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    upsert = insert(SignInFailure).values(username_hash=key, address=address, failures=1, last_failed_at=now)
    upsert = upsert.on_conflict_do_update(
        index_elements=[SignInFailure.username_hash, SignInFailure.address], set_={"failures": SignInFailure.failures + 1, "last_failed_at": now}
    )
    if session.execute(upsert.returning(SignInFailure.failures)).scalar_one() < MAX_FAILED_LOGINS:
        return None
    locked_until = now + LOCKOUT
    session.execute(update(SignInFailure).where(_pair(key, address)).values(failures=0, locked_until=locked_until))
    return locked_until


def sign_in_locks(session: Session, username: str, now: datetime) -> list[SignInFailure]:
    """The locks in force on ``username``, one per client address, soonest to end first."""
    query = select(SignInFailure).where(SignInFailure.username_hash == username_key(username), SignInFailure.locked_until > now)
    return list(session.scalars(query.order_by(SignInFailure.locked_until)))


def clear_sign_in_failures(session: Session, username: str) -> None:
    """Forget every failed sign-in at ``username`` from every address, and so every lock on it."""
    session.execute(delete(SignInFailure).where(SignInFailure.username_hash == username_key(username)))


def end_sessions(session: Session, user: User, now: datetime) -> None:
    """Sign ``user`` out everywhere: every session cookie (they carry the session epoch) and every API token."""
    user.session_epoch += 1
    session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now))


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
    for username, role, user_unit, full_name in DEMO_USERS:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(session, username, DEMO_PASSWORD, role, user_unit, full_name=full_name)
            created.append(username)
    session.flush()
    return created
