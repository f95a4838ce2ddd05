"""Issue 7, part 11: CSRF on every state-changing form, cookie flags, the session at sign-in and
sign-out, the sign-in rate limit and account lockout, security headers, and no inline script."""

from __future__ import annotations

import logging
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from engine.accounts import users as accounts
from engine.accounts.users import username_key
from engine.cases.ids import hash_token
from engine.db.tables import ApiToken, OutboxMail, SignInFailure, User
from tests.browser import in_chromium
from tests.reliability.processes import complaint
from tests.security.conftest import Api, bearer, build_url, row_counts, url_rules
from tests.web.pages import csrf, login, submit
from web import cli, create_app
from web.extensions import db
from web.security import CONTENT_SECURITY_POLICY

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def csp_directives(value: str) -> dict[str, list[str]]:
    directives = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def set_cookie_headers(response, name: str) -> list[str]:
    return [h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")]


# ---- CSRF ---------------------------------------------------------------------------------------


def page_post_urls(app, tracking_id: str, task_id: str):
    values = {"tracking_id": tracking_id, "task_id": task_id, "lang": "en"}
    for method, rule in url_rules(app, api=False):
        if method in STATE_CHANGING and not rule.endpoint.startswith("open311."):  # Open311: an API key in the form, no cookie
            yield method, build_url(rule, values), rule.endpoint


@pytest.mark.parametrize("who", [None, "pusat", "kominfo", "kesehatan", "auditor", "analis"])
def test_every_state_changing_page_route_refuses_a_request_without_its_csrf_token(app, api, who):
    tracking_id = api.submit()["tracking_id"]
    task_id = api.tasks("kominfo")[0]["id"]
    client = login(app, who) if who else app.test_client()
    walked = list(page_post_urls(app, tracking_id, task_id))
    assert {"auth.login", "auth.logout", "public.submit", "public.reply", "staff.task", "admin.users"} <= {e for _m, _u, e in walked}
    before = row_counts(app)
    for method, url, endpoint in walked:
        for form in ({}, {"csrf_token": "forged"}):
            response = client.open(url, method=method, data=form)
            assert response.status_code == 400, (who, method, url, endpoint, form, response.status_code)
            assert "CSRF" in response.get_data(as_text=True), (who, url)
    assert row_counts(app) == before


def test_a_csrf_token_of_another_session_is_refused(app, api):
    api.submit()
    task_id = api.tasks("kominfo")[0]["id"]
    kominfo, other = login(app, "kominfo"), login(app, "kominfo")
    path = f"/tugas/{task_id}"
    response = kominfo.post(path, data={"unit": "dinas-kesehatan", "csrf_token": csrf(other, "/tugas")})
    assert response.status_code == 400


def test_the_json_api_needs_no_csrf_token_because_it_takes_no_cookies(app, api):
    """The API is exempt from CSRF; a browser's session cookie gives it no identity, so a forged request is anonymous."""
    pusat = login(app, "pusat")
    response = pusat.get("/api/v1/tasks")
    assert response.status_code == 401  # the session cookie is ignored: only a bearer token counts


# ---- cookies --------------------------------------------------------------------------------------


def test_session_cookie_is_httponly_and_samesite_lax_and_not_secure_over_plain_http(app):
    client = app.test_client()
    response = client.post("/masuk", data={"username": "pusat", "password": "demo-lapor", "csrf_token": csrf(client, "/masuk")})
    [cookie] = set_cookie_headers(response, app.config["SESSION_COOKIE_NAME"])
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_cookies_are_secure_when_the_service_is_served_over_https(make_app):
    app = make_app(LAPOR_BASE_URL="https://lapor.jatimprov.go.id")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    client = app.test_client()
    page = client.get("/masuk", base_url="https://lapor.jatimprov.go.id")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = client.post(
        "/masuk",
        data={"username": "pusat", "password": "demo-lapor", "csrf_token": token},
        base_url="https://lapor.jatimprov.go.id",
        headers={"Referer": "https://lapor.jatimprov.go.id/masuk"},  # Flask-WTF checks it over HTTPS: why Referrer-Policy is same-origin
    )
    assert response.status_code == 302
    [cookie] = set_cookie_headers(response, app.config["SESSION_COOKIE_NAME"])
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:5000", "https://lapor.jatimprov.go.id"])
def test_the_tracking_cookie_holds_one_case_httponly_samesite_lax_and_secure_over_https(make_app, base_url):
    """The lookup form's POST trades the access code for a cookie sent only under that case's path."""
    app = make_app(LAPOR_BASE_URL=base_url)
    submitted = Api(app.test_client()).submit()
    tracking_id, token = submitted["tracking_id"], submitted["access_token"]
    client = app.test_client()
    page = client.get("/lacak", base_url=base_url)
    csrf_token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = client.post(
        "/lacak",
        data={"tracking_id": tracking_id, "token": token, "csrf_token": csrf_token},
        base_url=base_url,
        headers={"Referer": f"{base_url}/lacak"},
    )
    assert response.status_code == 303 and response.headers["Location"] == f"/lacak/{tracking_id}"
    [cookie] = set_cookie_headers(response, "lacak")
    attributes = {part.strip().split("=")[0]: part.strip() for part in cookie.split(";")}
    assert attributes["lacak"] == f"lacak={token}"
    assert attributes["Path"] == f"Path=/lacak/{tracking_id}" and "HttpOnly" in attributes and attributes["SameSite"] == "SameSite=Lax"
    assert ("Secure" in attributes) == base_url.startswith("https://")
    assert "Expires" not in attributes and "Max-Age" not in attributes  # gone when the browser closes


def test_behind_a_tls_proxy_the_app_sees_https_only_when_told_how_many_proxies_there_are(make_app):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    plain = make_app()
    assert "Strict-Transport-Security" not in plain.test_client().get("/", headers=forwarded).headers  # a client cannot claim https
    proxied = make_app(LAPOR_PROXY_COUNT=1)
    assert "Strict-Transport-Security" in proxied.test_client().get("/", headers=forwarded).headers


# ---- the session at sign-in and sign-out --------------------------------------------------------------------


def test_sign_in_starts_a_new_session(app):
    client = app.test_client()
    before = csrf(client, "/masuk")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    client.post("/masuk", data={"username": "kominfo", "password": "demo-lapor", "csrf_token": before})
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("_user_id", "").startswith(str(_user_id(app, "kominfo")) + ":")
    assert csrf(client, "/tugas") != before  # the CSRF token is new too


def _user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def test_a_copied_session_cookie_is_dead_after_logout(app):
    client = login(app, "kominfo")
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert client.post("/keluar", data={"csrf_token": csrf(client, "/tugas")}).status_code == 302
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    response = thief.get("/tugas")
    assert response.status_code == 302 and "/masuk" in response.headers["Location"]


def test_signing_out_ends_the_accounts_api_tokens_too(app, api):
    token = api.token("kominfo")
    other = api.token("pendidikan")
    assert api.client.get("/api/v1/tasks", headers=bearer(token)).status_code == 200
    client = login(app, "kominfo")
    assert client.post("/keluar", data={"csrf_token": csrf(client, "/tugas")}).status_code == 302
    refused = api.client.get("/api/v1/tasks", headers=bearer(token))
    assert refused.status_code == 401 and "dicabut" in refused.json["error"]
    assert api.client.get("/api/v1/tasks", headers=bearer(other)).status_code == 200  # another account's token lives on
    with app.app_context():
        assert db.session.scalar(select(ApiToken.revoked_at).where(ApiToken.token_hash == hash_token(token))) == app.config["LAPOR_CLOCK"].now()


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example/", "/\\/evil.example", "https://evil.example/", "/\r\nX: y", "/\tevil"])
def test_sign_in_never_redirects_to_another_site(app, target):
    client = app.test_client()
    response = client.post(
        "/masuk", query_string={"next": target}, data={"username": "kominfo", "password": "demo-lapor", "csrf_token": csrf(client, "/masuk")}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/tugas", target


def test_sign_in_goes_on_to_a_page_of_this_site(app):
    client = app.test_client()
    response = client.post(
        "/masuk",
        query_string={"next": "/kasus?status=diterima"},
        data={"username": "pusat", "password": "demo-lapor", "csrf_token": csrf(client, "/masuk")},
    )
    assert response.headers["Location"] == "/kasus?status=diterima"


# ---- rate limit and lockout ------------------------------------------------------------------------------------


def _page_attempt(client, username: str, password: str, **kwargs):
    return client.post("/masuk", data={"username": username, "password": password, "csrf_token": csrf(client, "/masuk")}, **kwargs)


def test_sign_in_page_is_rate_limited_per_account_and_address(app):
    client = app.test_client()
    statuses = [_page_attempt(client, "pusat", "wrong").status_code for _ in range(10)]
    assert statuses == [401] * 10  # wrong password, then locked (tested below)
    refused = _page_attempt(client, "pusat", "demo-lapor")
    assert refused.status_code == 429
    html = refused.get_data(as_text=True)
    assert "Terlalu banyak percobaan masuk" in html and 'name="csrf_token"' in html  # the form, with the message
    assert _page_attempt(client, "kominfo", "demo-lapor").status_code == 302  # another account from the same address is not limited
    assert _page_attempt(app.test_client(), "pusat", "x", environ_base={"REMOTE_ADDR": "10.9.8.7"}).status_code == 401  # nor another address


def test_sign_in_page_is_rate_limited_per_address_whatever_the_username(make_app):
    app = make_app(LAPOR_LOGIN_RATE_LIMIT_PER_ADDRESS="6 per minute")
    client = app.test_client()
    assert [_page_attempt(client, f"nobody{i}", "wrong").status_code for i in range(6)] == [401] * 6
    assert _page_attempt(client, "pusat", "demo-lapor").status_code == 429
    assert _page_attempt(app.test_client(), "pusat", "demo-lapor", environ_base={"REMOTE_ADDR": "10.9.8.7"}).status_code == 302


def test_the_api_token_endpoint_is_rate_limited_too(app):
    client = app.test_client()
    for _ in range(10):
        assert client.post("/api/v1/auth/token", json={"username": "analis", "password": "x"}).status_code == 401
    response = client.post("/api/v1/auth/token", json={"username": "analis", "password": "demo-lapor"})
    assert response.status_code == 429
    assert response.json["error"] and response.json["errors"] == {}
    assert "Retry-After" in response.headers
    assert client.post("/api/v1/auth/token", json={"username": "auditor", "password": "demo-lapor"}).status_code == 200


def test_rate_limits_are_configurable_and_can_be_turned_off(make_app):
    app = make_app(LAPOR_LOGIN_RATE_LIMIT="2 per minute", LAPOR_RATELIMIT_STORAGE_URL="memory://")
    client = app.test_client()
    assert [_page_attempt(client, "x", "y").status_code for _ in range(3)] == [401, 401, 429]
    off = make_app(RATELIMIT_ENABLED=False).test_client()
    assert [_page_attempt(off, "x", "y").status_code for _ in range(12)] == [401] * 12


def _lock_row(app, username: str, address: str = "127.0.0.1") -> SignInFailure | None:
    with app.app_context():
        return db.session.get(SignInFailure, (username_key(username), address))


def test_five_failures_lock_the_username_for_that_address_for_fifteen_minutes(app, clock):
    client = app.test_client()
    for _ in range(5):
        assert _page_attempt(client, "kominfo", "salah").status_code == 401
    assert _lock_row(app, "kominfo").locked_until == clock.now() + timedelta(minutes=15)
    locked = _page_attempt(app.test_client(), "kominfo", "demo-lapor")
    assert locked.status_code == 401 and "dikunci sementara" in locked.get_data(as_text=True)
    api_locked = app.test_client().post("/api/v1/auth/token", json={"username": "kominfo", "password": "demo-lapor"})
    assert api_locked.status_code == 401 and "dikunci" in api_locked.json["error"]
    clock.advance(minutes=14, seconds=59)
    assert _page_attempt(app.test_client(), "kominfo", "demo-lapor").status_code == 401
    clock.advance(seconds=1)
    assert _page_attempt(app.test_client(), "kominfo", "demo-lapor").status_code == 302
    assert _lock_row(app, "kominfo") is None  # the success cleared the count


def test_failures_from_elsewhere_never_lock_the_real_user_out(make_app):
    app = make_app(RATELIMIT_ENABLED=False)  # the attacker's 20 attempts: the lock is under test, not the rate limit
    attacker = {"environ_base": {"REMOTE_ADDR": "203.0.113.66"}}
    for _ in range(20):
        assert _page_attempt(app.test_client(), "kominfo", "tebakan", **attacker).status_code == 401
        app.test_client().post("/api/v1/auth/token", json={"username": "kominfo", "password": "tebakan"}, **attacker)
    assert _page_attempt(app.test_client(), "kominfo", "demo-lapor", **attacker).status_code == 401  # locked there
    assert _page_attempt(app.test_client(), "kominfo", "demo-lapor").status_code == 302  # the real user, from the office
    assert app.test_client().post("/api/v1/auth/token", json={"username": "kominfo", "password": "demo-lapor"}).status_code == 200
    assert _lock_row(app, "kominfo", "203.0.113.66").locked_until is not None  # still locked for the attacker
    ipv6 = {"environ_base": {"REMOTE_ADDR": "2001:db8::1"}}
    assert _page_attempt(app.test_client(), "kominfo", "demo-lapor", **ipv6).status_code == 302


def test_failures_are_forgotten_after_a_quiet_quarter_hour(make_app, clock):
    app = make_app(RATELIMIT_ENABLED=False)
    client = app.test_client()
    assert _page_attempt(client, "salah-ketik", "x").status_code == 401
    for _ in range(4):
        assert _page_attempt(client, "kominfo", "salah").status_code == 401
    clock.advance(minutes=15)
    for _ in range(4):
        assert _page_attempt(client, "kominfo", "salah").status_code == 401  # 8 failures, never 5 within a quarter hour
    assert _lock_row(app, "kominfo").failures == 4 and _lock_row(app, "kominfo").locked_until is None
    assert _lock_row(app, "salah-ketik") is None  # the table keeps only what can still lock someone
    assert _page_attempt(client, "kominfo", "demo-lapor").status_code == 302


def _normalized(response) -> tuple[int, str]:
    """Status and body without what differs from one client to another (the CSRF token)."""
    return response.status_code, re.sub(r'name="csrf_token" value="[^"]+"', "", response.get_data(as_text=True))


@pytest.mark.parametrize("channel", ["page", "api"])
def test_an_unknown_username_and_a_real_one_answer_alike_locked_or_not(make_app, clock, monkeypatch, channel):
    """Nothing in the answer (status, page, JSON, headers) nor the work done (one password hash verified
    per attempt, none while locked) tells whether the username exists."""
    app = make_app(RATELIMIT_ENABLED=False)
    verified = []
    monkeypatch.setattr(accounts, "verify_password", lambda stored, password: verified.append(stored) or False)

    def attempt(username: str):
        client = app.test_client()
        if channel == "page":
            return _page_attempt(client, username, "salah")
        return client.post("/api/v1/auth/token", json={"username": username, "password": "salah"})

    for round_ in range(7):
        before = len(verified)
        real, unknown = attempt("kominfo"), attempt("tidak-ada-akun-ini")
        assert _normalized(real) == _normalized(unknown), round_
        assert real.headers.get("WWW-Authenticate") == unknown.headers.get("WWW-Authenticate")
        assert len(verified) - before == (2 if round_ < 5 else 0), round_  # one verification each; a locked pair is refused first
        text = real.get_data(as_text=True)
        assert real.status_code == 401 and (("dikunci sementara" in text) == (round_ >= 5)), round_
    clock.advance(minutes=15)
    assert _normalized(attempt("kominfo")) == _normalized(attempt("tidak-ada-akun-ini"))


def test_api_failures_count_towards_the_lock_and_a_success_clears_the_count(make_app):
    app = make_app(RATELIMIT_ENABLED=False)  # 14 attempts from one address: past the rate limit, which is not under test here
    client = app.test_client()
    for _ in range(4):
        assert client.post("/api/v1/auth/token", json={"username": "pusat", "password": "salah"}).status_code == 401
    assert client.post("/api/v1/auth/token", json={"username": "pusat", "password": "demo-lapor"}).status_code == 200
    for _ in range(4):
        assert client.post("/api/v1/auth/token", json={"username": "pusat", "password": "salah"}).status_code == 401
    assert client.post("/api/v1/auth/token", json={"username": "pusat", "password": "demo-lapor"}).status_code == 200  # 4 + 4 never locked
    for _ in range(5):
        client.post("/api/v1/auth/token", json={"username": "pusat", "password": "salah"})
    assert client.post("/api/v1/auth/token", json={"username": "pusat", "password": "demo-lapor"}).status_code == 401
    assert _page_attempt(app.test_client(), "pusat", "demo-lapor").status_code == 401  # the page refuses it too


# ---- the security log ---------------------------------------------------------------------------------------------


def test_failed_sign_ins_are_logged_without_the_password(app, caplog):
    caplog.set_level(logging.INFO, logger="lapor.security")
    client = app.test_client()
    _page_attempt(client, "kominfo", "rahasia-salah-1")
    client.post("/api/v1/auth/token", json={"username": "tidakada", "password": "rahasia-salah-2"})
    lines = [r.getMessage() for r in caplog.records if r.name == "lapor.security"]
    assert any("login failed (wrong_password) via page for username 'kominfo'" in line for line in lines), lines
    assert any("login failed (unknown) via api for username 'tidakada'" in line for line in lines), lines
    assert not any("rahasia-salah" in line for line in lines)


def test_refused_access_is_logged_with_who_and_what_but_never_the_token(app, api, caplog):
    caplog.set_level(logging.INFO, logger="lapor.security")
    submitted = api.submit()
    tracking_id, token = submitted["tracking_id"], submitted["access_token"]
    auditor = login(app, "auditor")
    assert auditor.get("/admin/pengguna").status_code == 403
    assert login(app, "analis").get(f"/riwayat/{tracking_id}").status_code == 403
    assert login(app, "kesehatan").get(f"/kasus/{tracking_id}").status_code == 404
    assert app.test_client().get(f"/lacak/{tracking_id}", query_string={"token": token + "x"}).status_code == 404
    assert app.test_client().get("/api/v1/tasks/nope", headers={"Authorization": f"Bearer {api.token('bpn')}"}).status_code == 404
    assert app.test_client().get("/api/v1/tasks").status_code == 401
    lines = [r.getMessage() for r in caplog.records if r.name == "lapor.security"]
    assert "access refused (403 forbidden): GET /admin/pengguna by user auditor from 127.0.0.1" in lines
    assert f"access refused (403 forbidden): GET /riwayat/{tracking_id} by user analis from 127.0.0.1" in lines
    assert f"access refused (404 not found): GET /kasus/{tracking_id} by user kesehatan from 127.0.0.1" in lines
    assert f"access refused (404 not found): GET /lacak/{tracking_id} by anonymous from 127.0.0.1" in lines
    assert "access refused (404 not found): GET /api/v1/tasks/nope by user bpn from 127.0.0.1" in lines
    assert "access refused (401 unauthenticated): GET /api/v1/tasks by anonymous from 127.0.0.1" in lines
    assert not any(token in line for line in lines)
    levels = {r.levelno for r in caplog.records if r.name == "lapor.security" and "403" in r.getMessage()}
    assert levels == {logging.WARNING}


# ---- headers ----------------------------------------------------------------------------------------------------


def check_headers(response, what) -> None:
    headers = response.headers
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("X-Frame-Options") == "DENY", what
    assert headers.get("Referrer-Policy") in ("no-referrer", "same-origin"), what
    csp = csp_directives(headers.get("Content-Security-Policy", ""))
    assert csp.get("script-src") == ["'self'"], what
    assert csp.get("object-src") == ["'none'"] and csp.get("base-uri") == ["'self'"], what
    assert csp.get("form-action") == ["'self'"] and csp.get("frame-ancestors") == ["'none'"], what
    assert csp.get("default-src") == ["'self'"], what


def test_the_policy_forbids_inline_script_and_allows_only_inline_style():
    csp = csp_directives(CONTENT_SECURITY_POLICY)
    assert all("unsafe" not in word for name, words in csp.items() if name != "style-src" for word in words)
    assert csp["style-src"] == ["'self'", "'unsafe-inline'"]  # the inline SVG diagram's <style> block and style="" attributes


def test_every_response_carries_the_security_headers(app, api):
    submitted = api.submit()
    tracking_id, token = submitted["tracking_id"], submitted["access_token"]
    values = {"tracking_id": tracking_id, "task_id": api.tasks("kominfo")[0]["id"], "lang": "en"}
    seen = 0
    for who in (None, "pusat", "kesehatan", "auditor"):
        client = login(app, who) if who else app.test_client()
        for method, rule in url_rules(app):
            if method != "GET":
                continue
            url = build_url(rule, values)
            response = client.get(url, headers={"Authorization": f"Bearer {api.token(who)}"} if who and url.startswith("/api/") else {})
            check_headers(response, (who, url, response.status_code))
            seen += 1
    assert seen > 40
    client = app.test_client()
    extra = [
        client.get(f"/lacak/{tracking_id}", query_string={"token": token}),  # exchanged for a cookie: 303
        client.get("/static/style.css"),
        client.get("/no-such-page"),
        client.get("/api/v1/no-such-thing"),
        client.delete("/lapor"),
        client.post("/lapor", data={}),  # CSRF refusal
        client.post("/api/v1/complaints", data=b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1), content_type="application/json"),
        client.post("/api/v1/complaints", json={"title": None}),
        client.get("/api/v1/openapi.json"),
    ]
    assert [r.status_code for r in extra] == [303, 200, 404, 404, 405, 400, 413, 400, 200]
    for response in extra:
        check_headers(response, response.request.path)


def test_private_pages_are_not_cached(app, api):
    submitted = api.submit()
    client = app.test_client()
    tracking_page = client.get(f"/lacak/{submitted['tracking_id']}", query_string={"token": submitted["access_token"]}, follow_redirects=True)
    assert tracking_page.status_code == 200 and tracking_page.headers["Cache-Control"] == "no-store"
    assert login(app, "kominfo").get("/tugas").headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/static/style.css").headers.get("Cache-Control", "")


# ---- templates: no inline script ------------------------------------------------------------------------------------


def test_no_template_has_inline_script_or_event_handler_attributes():
    problems = []
    files = sorted(TEMPLATES.rglob("*.html"))
    assert len(files) >= 15
    for path in files:
        text = path.read_text()
        for match in re.finditer(r"<script\b[^>]*>", text, re.I):
            if not re.search(r"\bsrc\s*=", match.group(0), re.I):
                problems.append(f"{path.relative_to(TEMPLATES)}: inline {match.group(0)}")
        for match in re.finditer(r"<[a-z][^>]*?\s(on[a-z]+)\s*=", text, re.I):
            problems.append(f"{path.relative_to(TEMPLATES)}: event handler attribute {match.group(1)}")
        if re.search(r"javascript:", text, re.I):
            problems.append(f"{path.relative_to(TEMPLATES)}: javascript: URL")
    assert not problems, "\n".join(problems)


def test_the_template_scan_would_see_an_inline_script(tmp_path):
    """The scan above is not vacuous: these are what it catches."""
    for bad in ("<script>alert(1)</script>", '<button onclick="x()">', '<a href="javascript:x()">', '<body onload = "x()">'):
        caught = (
            any(not re.search(r"\bsrc\s*=", m.group(0)) for m in re.finditer(r"<script\b[^>]*>", bad, re.I))
            or re.search(r"<[a-z][^>]*?\s(on[a-z]+)\s*=", bad, re.I)
            or re.search(r"javascript:", bad, re.I)
        )
        assert caught, bad


# ---- the development mailbox -----------------------------------------------------------------------------------------


def test_mailbox_page_policy_allows_its_sandboxed_srcdoc_frames(app):
    app.config["LAPOR_DEV_MAILBOX"] = True  # as `lapor serve` starts it without MAIL_SERVER
    submit(app)
    response = app.test_client().get("/dev/kotak-surat")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<iframe sandbox" in html and "srcdoc=" in html
    csp = csp_directives(response.headers["Content-Security-Policy"])
    # an about:srcdoc frame inherits the page's policy: the mail's inline style attributes need 'unsafe-inline',
    # and a frame-src the page's own origin satisfies; the sandbox (no allow-scripts) keeps any script in a mail dead
    assert "'unsafe-inline'" in csp["style-src"] and "'self'" in csp["frame-src"]
    assert re.search(r"<iframe sandbox title=\"[^\"]*\" srcdoc", html)  # sandbox="" with no allow-* tokens


def test_mailbox_is_not_served_through_a_reverse_proxy(app):
    """A proxy on the same machine makes every visitor look like 127.0.0.1: the forwarding headers give it away."""
    app.config["LAPOR_DEV_MAILBOX"] = True
    submit(app)
    client = app.test_client()
    assert client.get("/dev/kotak-surat").status_code == 200
    for header in ("X-Forwarded-For", "X-Real-IP", "Forwarded"):
        assert client.get("/dev/kotak-surat", headers={header: "203.0.113.7"}).status_code == 404, header


def production_environment(monkeypatch, db_url: str, **extra: str) -> None:
    """The environment gunicorn's create_app() reads, as the README's production set-up gives it: no MAIL_SERVER."""
    for name in [n for n in os.environ if n.startswith(("LAPOR_", "MAIL_"))]:
        monkeypatch.delenv(name)
    for name, value in {"LAPOR_DATABASE_URL": db_url, "LAPOR_SECRET_KEY": "production", **extra}.items():
        monkeypatch.setenv(name, value)


def test_the_production_app_has_no_mailbox(db_url, monkeypatch):
    """create_app() as gunicorn builds it, without MAIL_SERVER, asked from the machine itself with no forwarding
    header (a reverse proxy on the same host that forwards none): 404, while the queued receipt holds a private link."""
    production_environment(monkeypatch, db_url, LAPOR_BASE_URL="https://lapor.jatimprov.go.id")
    app = create_app()
    try:
        client = app.test_client()
        assert client.post("/api/v1/complaints", json=complaint()).status_code == 201
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(OutboxMail)) > 0
        response = client.get("/dev/kotak-surat", environ_base={"REMOTE_ADDR": "127.0.0.1"})
        assert response.status_code == 404 and "#token=" not in response.get_data(as_text=True)
    finally:
        with app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("mail_server", [None, "smtp.example.test"])
def test_lapor_serve_opens_the_mailbox_only_without_a_mail_server(db_url, monkeypatch, mail_server):
    """`lapor serve` (the development server, what run.sh starts) is what turns the mailbox on, and only with no MAIL_SERVER."""
    production_environment(monkeypatch, db_url, **({"MAIL_SERVER": mail_server} if mail_server else {}))
    served = []
    monkeypatch.setattr("werkzeug.serving.run_simple", lambda host, port, app, **options: served.append(app))
    result = CliRunner().invoke(cli.main, ["serve", "--no-worker", "--no-reload-process"])
    assert result.exit_code == 0, result.output
    [app] = served
    try:
        assert app.test_client().get("/dev/kotak-surat").status_code == (404 if mail_server else 200)
        assert ("/dev/kotak-surat" in result.output) == (mail_server is None)
    finally:
        with app.app_context():
            db.engine.dispose()


def test_mailbox_html_renders_in_a_browser_under_the_policy(app):
    """Chromium loads the mailbox from a real server with the real headers: the mail's HTML shows with its
    inline styles, and the browser reports no policy violation."""
    app.config["LAPOR_DEV_MAILBOX"] = True
    submit(app)

    def visit(page, origin: str) -> dict:
        violations = []
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(f"{origin}/dev/kotak-surat")
        page.locator("main details summary").first.click()  # the first mail's HTML view (the header has a Menu disclosure)
        heading = page.frame_locator("iframe").first.locator("p", has_text="SP4N-LAPOR! Jawa Timur").first
        heading.wait_for(timeout=5000)
        return {"background": heading.evaluate("e => getComputedStyle(e).backgroundColor"), "violations": violations}

    seen = in_chromium(app, visit)
    assert seen["background"] == "rgb(11, 92, 173)"  # the inline style applied
    assert seen["violations"] == []
