"""Tracking ids a citizen can read over the phone, and the separate secret that opens a case."""

from __future__ import annotations

import hashlib
import hmac
import secrets

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIX = "LPR-"


def new_tracking_id() -> str:
    """Return ``LPR-`` and 8 random Crockford base32 characters (40 bits, never sequential)."""
    return PREFIX + "".join(secrets.choice(CROCKFORD) for _ in range(8))


def normalize_tracking_id(text: str) -> str:
    """Accept what people type: lower case, spaces, and the look-alikes O/I/L for 0/1/1."""
    raw = text.strip().upper().replace(" ", "")
    body = raw[len(PREFIX) :] if raw.startswith(PREFIX) else raw.removeprefix("LPR")
    return PREFIX + body.translate(str.maketrans("OIL", "011"))


def looks_like_tracking_id(text: str) -> bool:
    """Whether ``text`` is a whole tracking id as people type it (``lpr-sympvkwt``, ``LPR SYMP VKWT``)."""
    raw = text.strip().upper().replace(" ", "")
    if not raw.startswith("LPR"):
        return False
    body = normalize_tracking_id(raw)[len(PREFIX) :]
    return len(body) == 8 and all(c in CROCKFORD for c in body)


def new_access_token() -> str:
    """Return a 192-bit URL-safe secret; only its hash is stored."""
    return secrets.token_urlsafe(24)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_token(token), stored_hash)
