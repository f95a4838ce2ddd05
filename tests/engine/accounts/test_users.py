"""engine/accounts/users.py: staff passwords, sign-in with its lockout per username and address, accounts and the demo data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.accounts import users as accounts
from engine.accounts.users import (
    DEMO_PASSWORD,
    DEMO_USERS,
    LOCKOUT,
    MAX_FAILED_LOGINS,
    check_login,
    clear_sign_in_failures,
    client_address,
    create_user,
    end_sessions,
    hash_password,
    seed_demo,
    sign_in_locks,
    username_key,
    verify_password,
)
from engine.db.tables import ApiToken, SignInFailure, Unit, User
from tests.engine.support import fast_password_hashing  # noqa: F401 - autouse fixture


def user(session, username: str) -> User:
    return session.scalars(select(User).where(User.username == username)).one()


def fail(session, clock, username: str = "kominfo", address: str = "10.0.0.1", times: int = 1) -> accounts.LoginResult:
    for _ in range(times):
        result = check_login(session, username, "salah", address, clock.now())
    return result


# ---- passwords -----------------------------------------------------------------------------------


def test_a_password_is_stored_as_an_argon2_hash_that_only_it_matches():
    stored = hash_password("kata-sandi-panjang")
    assert stored.startswith("$argon2") and "kata-sandi-panjang" not in stored
    assert verify_password(stored, "kata-sandi-panjang")
    assert not verify_password(stored, "kata-sandi-lain") and not verify_password(stored, "")


def test_a_stored_value_that_is_not_a_hash_matches_nothing():
    assert not verify_password("bukan-hash", "bukan-hash") and not verify_password("", "")


# ---- signing in ----------------------------------------------------------------------------------


def test_the_right_password_signs_an_active_user_in_whatever_spaces_surround_the_name(session, clock):
    result = check_login(session, "  kominfo ", DEMO_PASSWORD, "10.0.0.1", clock.now())
    assert result.user == user(session, "kominfo") and (result.reason, result.locked_until) == (None, None)


@pytest.mark.parametrize(
    "username, password, reason",
    [("kominfo", "salah", "wrong_password"), ("tak-ada", DEMO_PASSWORD, "unknown"), ("nul\x00", DEMO_PASSWORD, "unknown")],
)
def test_a_refused_sign_in_says_why_for_the_log_only(session, clock, username, password, reason):
    assert check_login(session, username, password, "10.0.0.1", clock.now()) == accounts.LoginResult(None, reason, None)


def test_an_inactive_account_cannot_sign_in_even_with_its_password(session, clock):
    user(session, "kominfo").active = False
    assert check_login(session, "kominfo", DEMO_PASSWORD, "10.0.0.1", clock.now()).reason == "inactive"


def test_the_fifth_failure_from_one_address_locks_that_username_there_for_fifteen_minutes(session, clock):
    assert fail(session, clock, times=MAX_FAILED_LOGINS - 1).locked_until is None
    assert fail(session, clock).locked_until == clock.now() + LOCKOUT == clock.now() + timedelta(minutes=15)
    locked = check_login(session, "kominfo", DEMO_PASSWORD, "10.0.0.1", clock.now())
    assert (locked.user, locked.reason, locked.locked_until) == (None, "locked", clock.now() + LOCKOUT)
    assert check_login(session, "kominfo", DEMO_PASSWORD, "10.0.0.2", clock.now()).user is not None  # elsewhere the user signs in
    clock.advance(minutes=15, seconds=1)
    assert check_login(session, "kominfo", DEMO_PASSWORD, "10.0.0.1", clock.now()).user is not None


def test_unknown_usernames_are_locked_like_real_ones(session, clock):
    assert fail(session, clock, "tak-ada", times=MAX_FAILED_LOGINS).locked_until == clock.now() + LOCKOUT
    assert check_login(session, "tak-ada", "apa-saja", "10.0.0.1", clock.now()).reason == "locked"


def test_a_success_clears_the_count_of_its_address(session, clock):
    fail(session, clock, times=MAX_FAILED_LOGINS - 1)
    assert check_login(session, "kominfo", DEMO_PASSWORD, "10.0.0.1", clock.now()).user is not None
    assert fail(session, clock, times=MAX_FAILED_LOGINS - 1).locked_until is None


def test_failures_further_apart_than_the_lockout_start_counting_again(session, clock):
    for _ in range(MAX_FAILED_LOGINS + 2):
        assert fail(session, clock).locked_until is None
        clock.advance(minutes=15)
    assert session.scalar(select(func.count()).select_from(SignInFailure)) == 1  # stale failures are forgotten


def test_the_username_key_ignores_case_and_spaces_and_takes_any_text():
    assert username_key(" KomInfo ") == username_key("kominfo") != username_key("kominfo2")
    assert len(username_key("\ud800")) == 64  # a lone surrogate typed into the form


@pytest.mark.parametrize(
    "given, kept",
    [
        ("10.0.0.1", "10.0.0.1"),
        (" 10.0.0.1 ", "10.0.0.1"),
        ("2001:DB8:0::1", "2001:db8::1"),
        ("fe80::1%eth0", "fe80::1"),
        (None, "-"),
        ("", "-"),
        ("unix:/run/sock", "-"),
    ],
)
def test_client_addresses_are_kept_canonical_and_anything_else_as_a_dash(given, kept):
    assert client_address(given) == kept


def test_locks_are_listed_per_address_soonest_to_end_first_and_cleared_together(session, clock):
    fail(session, clock, address="10.0.0.1", times=MAX_FAILED_LOGINS)
    clock.advance(minutes=1)
    fail(session, clock, address="2001:db8::1", times=MAX_FAILED_LOGINS)
    fail(session, clock, address="10.0.0.9", times=2)  # counted, not locked
    fail(session, clock, username="kesehatan", times=MAX_FAILED_LOGINS)
    assert [lock.address for lock in sign_in_locks(session, " KOMINFO", clock.now())] == ["10.0.0.1", "2001:db8::1"]
    clear_sign_in_failures(session, "kominfo")
    assert sign_in_locks(session, "kominfo", clock.now()) == [] and fail(session, clock, address="10.0.0.9").locked_until is None
    assert len(sign_in_locks(session, "kesehatan", clock.now())) == 1  # another account's lock stays
    clock.advance(minutes=16)
    assert sign_in_locks(session, "kesehatan", clock.now()) == []  # a lock that ended is not in force


def test_ending_sessions_bumps_the_epoch_and_revokes_the_live_api_tokens_only(session, clock):
    kominfo = user(session, "kominfo")
    earlier = clock.now() - timedelta(days=1)
    live, revoked = (
        ApiToken(token_hash=f"{n}" * 64, user_id=kominfo.id, created_at=earlier, expires_at=clock.now() + timedelta(days=1), revoked_at=at)
        for n, at in ((1, None), (2, earlier))
    )
    other = ApiToken(token_hash="3" * 64, user_id=user(session, "pusat").id, created_at=earlier, expires_at=clock.now() + timedelta(days=1))
    session.add_all([live, revoked, other])
    session.flush()
    epoch = kominfo.session_epoch
    end_sessions(session, kominfo, clock.now())
    session.expire_all()
    assert user(session, "kominfo").session_epoch == epoch + 1
    assert (live.revoked_at, revoked.revoked_at, other.revoked_at) == (clock.now(), earlier, None)


# ---- accounts and the demo data ------------------------------------------------------------------


def test_a_new_account_is_active_with_a_hashed_password_and_a_default_address(session):
    made = create_user(session, "guru.satu", "kata-sandi-panjang", "satker", "dinas-pendidikan", full_name="Guru Satu")
    session.flush()
    assert (made.role, made.unit_id, made.email, made.full_name, made.active, made.session_epoch) == (
        "satker", "dinas-pendidikan", "guru.satu@demo.lapor.test", "Guru Satu", True, 0,
    )  # fmt: skip
    assert verify_password(made.password_hash, "kata-sandi-panjang")
    assert create_user(session, "auditor2", "x", "auditor", email="a2@x.go.id").email == "a2@x.go.id"


@pytest.mark.parametrize(
    "role, unit, message",
    [
        ("lurah", None, "peran 'lurah' tidak dikenal"),
        ("satker", None, "wajib punya satu unit"),
        ("kominfo", "dinas-pendidikan", "wajib punya satu unit"),
        ("satker", "kanwil-bpn-jatim", "jenisnya tidak cocok"),
        ("vertikal", "dinas-tak-ada", "tidak ada"),
    ],
)
def test_an_account_needs_a_known_role_and_a_unit_of_the_roles_kind_exactly_when_the_role_has_one(session, role, unit, message):
    with pytest.raises(ValueError, match=message):
        create_user(session, "baru", "kata-sandi-panjang", role, unit)
    assert session.scalar(select(User.id).where(User.username == "baru")) is None


def test_the_demo_data_is_seeded_once_with_the_demo_password(session):
    assert seed_demo(session) == []  # the fixture's database has it already
    assert {u.username for u in session.scalars(select(User))} >= {username for username, *_ in DEMO_USERS}
    assert all(verify_password(user(session, username).password_hash, DEMO_PASSWORD) for username, *_ in DEMO_USERS)
    session.delete(user(session, "analis"))
    session.flush()
    assert seed_demo(session) == ["analis"]
    assert session.get(Unit, "kanwil-bpn-jatim").kind == "instansi_vertikal"
