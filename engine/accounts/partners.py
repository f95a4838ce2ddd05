"""Partner API keys for Open311 GeoReport v2 (web/open311.py): partner apps and civic tools that post complaints.

Admin Pusat issues a key on /admin/mitra: the plain key is handed back once, and only its SHA-256 hash (as the
citizens' access tokens are kept, engine/cases/ids.py) and its first characters (to recognise it in the list)
are stored. A revoked key opens nothing again. Issuing and revoking are AdminEvents naming who did it, as every
other administrative change is (engine/accounts/administration.py).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.accounts.administration import AdminVerbs
from engine.cases.ids import hash_token
from engine.db.tables import PartnerKey
from engine.errors import InvalidData, NotFound
from engine.messages import N_

KEY_PREFIX = "lapor_"  # tells a leaked key apart from other secrets in a log or a repository scan
PREFIX_LENGTH = 12  # PartnerKey.prefix: "lapor_" and 6 random characters
MAX_KEY_LENGTH = 200  # longer text is no key of ours: not hashed, not looked up
NAME_LENGTH = (2, 120)


@dataclass(frozen=True)
class IssuedKey:
    """A key just issued: ``key`` is the only copy of the plain key there will ever be."""

    partner: PartnerKey
    key: str


def new_key() -> str:
    """A random partner key: the prefix and 256 bits, URL-safe."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def partner_for_key(session: Session, key: str | None) -> PartnerKey | None:
    """The partner whose key ``key`` is; None for no key, an unknown one or a revoked one."""
    if not key or len(key) > MAX_KEY_LENGTH:
        return None
    partner = session.scalar(select(PartnerKey).where(PartnerKey.key_hash == hash_token(key)))
    return partner if partner is not None and partner.revoked_at is None else None


class Partners(AdminVerbs):
    """Admin Pusat's verbs on partner keys."""

    REFUSED = N_("Hanya Admin Pusat yang dapat mengelola kunci API mitra.")

    def list_keys(self) -> list[PartnerKey]:
        """Every key ever issued, revoked ones included, newest first."""
        return list(self.session.scalars(select(PartnerKey).order_by(PartnerKey.created_at.desc(), PartnerKey.id.desc())))

    def key(self, key_id: int) -> PartnerKey:
        """One key by its id. Raises NotFound."""
        partner = self.session.get(PartnerKey, key_id)
        if partner is None:
            raise NotFound(N_("Kunci API mitra tidak ditemukan."))
        return partner

    def issue(self, name: str) -> IssuedKey:
        """Issue a key to the partner ``name``; the plain key is in the answer and nowhere else. Raises InvalidData."""
        name = " ".join(name.split())
        if not NAME_LENGTH[0] <= len(name) <= NAME_LENGTH[1]:
            raise InvalidData({"name": N_("Nama mitra wajib diisi (2–120 karakter).")})
        key = new_key()
        partner = PartnerKey(name=name, key_hash=hash_token(key), prefix=key[:PREFIX_LENGTH], created_at=self.clock.now(), created_by=self.actor)
        self.session.add(partner)
        self.session.flush()  # its id, for the record
        self._record_key("partner_key_issued", partner, {"name": name, "prefix": partner.prefix})
        return IssuedKey(partner, key)

    def revoke(self, key_id: int) -> PartnerKey:
        """Revoke a key at once: it opens nothing from the next request on. Revoking it again changes nothing and is
        not recorded again. Raises NotFound."""
        partner = self.key(key_id)
        if partner.revoked_at is None:
            partner.revoked_at, partner.revoked_by = self.clock.now(), self.actor
            self._record_key("partner_key_revoked", partner, {"name": partner.name, "prefix": partner.prefix})
        return partner

    def _record_key(self, action: str, partner: PartnerKey, data: dict[str, str]) -> None:
        self._record(action, f"mitra {partner.id}", data)  # AdminEvent.target holds 80 characters; the name is in the data
