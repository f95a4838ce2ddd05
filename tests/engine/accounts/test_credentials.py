"""engine/accounts/credentials.py: a page session's account, and the API's bearer tokens (issued, live, revoked)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.accounts.credentials import TOKEN_LIFETIME, issue_token, live_token, revoke_token, session_user, token_user
from engine.accounts.users import end_sessions
from engine.db.tables import ApiToken, User
from tests.engine.support import fast_password_hashing  # noqa: F401 - autouse fixture


def user(session, username: str) -> User:
    return session.scalars(select(User).where(User.username == username)).one()


def test_a_session_opens_its_active_account_under_its_epoch_only(session, clock):
    kominfo = user(session, "kominfo")
    epoch = str(kominfo.session_epoch)
    assert session_user(session, str(kominfo.id), epoch) is kominfo
    for user_id, wrong in ((str(kominfo.id), epoch + "1"), ("999999", epoch), ("x", epoch), ("", epoch)):
        assert session_user(session, user_id, wrong) is None
    end_sessions(session, kominfo, clock.now())  # signing out ends every session
    assert session_user(session, str(kominfo.id), epoch) is None
    kominfo.active = False
    assert session_user(session, str(kominfo.id), str(kominfo.session_epoch)) is None


def test_a_token_is_stored_hashed_and_lives_for_its_lifetime(session, clock):
    kominfo = user(session, "kominfo")
    token = issue_token(session, kominfo, clock.now())
    session.flush()
    assert session.scalar(select(ApiToken).where(ApiToken.token_hash == token)) is None  # only its hash is stored
    row = live_token(session, token, clock.now())
    assert row is not None and row.expires_at == clock.now() + TOKEN_LIFETIME
    assert token_user(session, token, clock.now()) is kominfo
    later = clock.now() + TOKEN_LIFETIME
    assert live_token(session, token, later) is None and token_user(session, token, later) is None
    assert live_token(session, "", clock.now()) is None and token_user(session, "salah", clock.now()) is None


def test_a_revoked_token_or_a_deactivated_account_opens_nothing(session, clock):
    kominfo, pusat = user(session, "kominfo"), user(session, "pusat")
    first, second = issue_token(session, kominfo, clock.now()), issue_token(session, pusat, clock.now())
    revoke_token(session, first, clock.now() + timedelta(minutes=1))
    assert token_user(session, first, clock.now() + timedelta(minutes=2)) is None
    assert token_user(session, second, clock.now()) is pusat
    revoke_token(session, "salah", clock.now())  # an unknown token: nothing to revoke
    pusat.active = False
    assert token_user(session, second, clock.now()) is None
