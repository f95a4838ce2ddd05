"""Every page that is not public turns away a visitor who has not signed in (the API has its own walk in test_api.py)."""

from __future__ import annotations

import re

# the citizen's pages (form, tracking by access token, public list, language, dev mailbox); Open311 for partner apps (its
# reads are public, its posts need a partner's key: tests/web/test_open311.py)
PUBLIC_BLUEPRINTS = {"public", "open311"}
PUBLIC_ENDPOINTS = {"static", "auth.login"}


def page_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1") or rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint.split(".")[0] in PUBLIC_BLUEPRINTS:
            continue
        url = re.sub(r"<(?:int:)?[^<>]+>", lambda m: "1" if m.group(0).startswith("<int:") else "LPR-00000000", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, url, rule.endpoint


def test_every_staff_page_needs_a_signed_in_user(app, client):
    app.config["WTF_CSRF_ENABLED"] = False  # so a POST reaches the login check instead of failing on CSRF first
    walked = list(page_rules(app))
    assert {"staff.inbox_page", "staff.case_page", "admin.units", "admin.user", "auth.logout"} <= {endpoint for _m, _u, endpoint in walked}
    for method, url, endpoint in walked:
        response = client.open(url, method=method)
        assert response.status_code == 302 and "/masuk" in response.headers["Location"], (method, url, endpoint, response.status_code)


def test_the_public_pages_are_reachable_without_signing_in(client):
    for url in ("/", "/lapor", "/lacak", "/pengaduan", "/masuk"):
        assert client.get(url).status_code == 200, url
