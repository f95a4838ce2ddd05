"""Staff accounts and the demo data of DESIGN.md."""

from __future__ import annotations

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


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


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
    for username, role, unit_id, full_name in DEMO_USERS:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(session, username, DEMO_PASSWORD, role, unit_id, full_name=full_name)
            created.append(username)
    session.flush()
    return created
