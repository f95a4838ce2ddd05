"""Tracking ids a citizen can read over the phone, the separate secret that opens a case, and the link codes that
open it from the engine's later mails.

The engine keeps only the access token's hash, so a mail sent after the receipt (the answer, a reminder) cannot carry
the token. It carries a *link code* instead: an expiry written into the code and an HMAC, keyed with the case's stored
token hash, over the tracking id and that expiry. The engine makes and checks it with no secret of its own; it opens
one case only (the key and the tracking id are that case's), and only until its expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from engine.errors import NotFound

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


LINK_DAYS = 60  # generous: a citizen may open the answer mail weeks later; the access code in the receipt never expires
_STAMP = 8  # hex digits of the expiry (Unix seconds), in front of the MAC


class LinkExpired(NotFound):
    """A genuine link code of the case past its expiry: the page says so and offers the lookup form (the API: 404)."""


def link_code(tracking_id: str, stored_hash: str, expires: datetime) -> str:
    """A code that opens the case ``tracking_id`` (whose access token hashes to ``stored_hash``) until ``expires``:
    the expiry in hex, then the MAC in URL-safe base64 (40 characters, the alphabet of an access token)."""
    stamp = f"{int(expires.timestamp()):0{_STAMP}x}"
    return stamp + _mac(tracking_id, stored_hash, stamp)


def link_expiry(code: str, tracking_id: str, stored_hash: str) -> datetime | None:
    """The expiry written into ``code`` when it is a genuine link code of this case (constant-time compare), else None."""
    stamp, mac = code[:_STAMP], code[_STAMP:]
    if len(stamp) != _STAMP or any(c not in "0123456789abcdef" for c in stamp):
        return None
    if not hmac.compare_digest(mac.encode(), _mac(tracking_id, stored_hash, stamp).encode()):
        return None
    return datetime.fromtimestamp(int(stamp, 16), UTC)


def fresh_link_code(tracking_id: str, stored_hash: str, now: datetime) -> str:
    """A link code for a mail sent at ``now``: valid LINK_DAYS days."""
    return link_code(tracking_id, stored_hash, now + timedelta(days=LINK_DAYS))


def _mac(tracking_id: str, stored_hash: str, stamp: str) -> str:
    digest = hmac.new(stored_hash.encode(), f"{tracking_id}:{stamp}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode()  # 192 bits, no padding: as long as an access token
