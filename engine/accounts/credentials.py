"""What a signed-in request carries, checked against the database: a page session's account id and session epoch,
and the JSON API's bearer tokens (issued for TOKEN_LIFETIME, stored only as their hash, revoked at sign-out).

Signing out (engine/accounts/users.py ``end_sessions``) bumps the epoch and revokes every token of the account, so a
copied session cookie or token dies with it.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine.cases.ids import hash_token
from engine.db.tables import ApiToken, User

TOKEN_LIFETIME = timedelta(hours=12)


def session_user(session: Session, user_id: str, epoch: str) -> User | None:
    """The active account of a page session (its id and the epoch it was signed in under); None when the account is
    gone, deactivated, or signed out since (another epoch)."""
    user = session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.active or str(user.session_epoch) != epoch:
        return None
    return user


def issue_token(session: Session, user: User, now: datetime) -> str:
    """A new bearer token for ``user``, valid from ``now`` for TOKEN_LIFETIME: returned once, the table holds its hash."""
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(token_hash=hash_token(token), user_id=user.id, created_at=now, expires_at=now + TOKEN_LIFETIME))
    return token


def live_token(session: Session, token: str, now: datetime) -> ApiToken | None:
    """The row of ``token`` when it is known, unrevoked and unexpired at ``now``; None otherwise ("" too)."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token))) if token else None
    return row if row is not None and _live(row, now) else None


def _live(row: ApiToken, now: datetime) -> bool:
    return row.revoked_at is None and row.expires_at > now


# every staff API request asks it: the token and its user in one statement, built once
_TOKEN_USER = select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(ApiToken.token_hash == bindparam("token_hash"))


def token_user(session: Session, token: str, now: datetime) -> User | None:
    """The active staff member whose live token this is, or None."""
    found = session.execute(_TOKEN_USER, {"token_hash": hash_token(token)}).first() if token else None
    if found is None:
        return None
    row, user = found
    return user if _live(row, now) and user.active else None


def revoke_token(session: Session, token: str, now: datetime) -> None:
    """Revoke ``token`` at ``now`` when it is live (the caller commits)."""
    row = live_token(session, token, now)
    if row is not None:
        row.revoked_at = now
