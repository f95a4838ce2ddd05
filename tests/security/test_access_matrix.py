"""Issue 7, part 9: who may open and change what, for every route in the URL map (routes other engineers
add are walked too) and every role.

- Staff of another unit get 403 or 404 on every route naming a unit's case, task or attachment, exactly as
  for a case that does not exist, and see nothing of it.
- The analyst reads a case's pages (the reporter hidden: tests/security/test_anonymity.py) and acts on none:
  every other route naming a case or task answers 403/404 and changes nothing.
- The auditor changes nothing: every state-changing route answers 403/404 and the database is unchanged.
- Only ``analis`` changes process definitions.
- A citizen's access token opens only that citizen's complaint, and a wrong token answers exactly as an
  unknown tracking id does.
"""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from engine.cases.ids import new_tracking_id
from engine.db.tables import Attachment, Base, Case, Notification, OutboxMail, User
from tests.security.conftest import STAFF, build_url, url_rules
from tests.web.pages import login, submit
from web.extensions import db

CASE_ARGS = {"tracking_id", "tid", "task_id", "attachment_id", "case_id"}
OUTSIDERS = ("pendidikan", "binamarga", "bpn", "kemenag")  # staff of units the case was never sent to
OWN_UNIT = "kesehatan"
SAME_ROLE = ("pendidikan", "binamarga")  # satker, as the case's unit: the task is theirs in kind but not in unit
# routes whose POST only touches the caller's own session or inbox, or reads: not "changing anything"
PERSONAL = {
    "auth.login",
    "auth.logout",
    "public.language",
    "public.track_lookup",
    "public.submit",  # anyone may submit a complaint
    "public.reply",  # the citizen's, by access token (walked below)
    "public.withdraw",
    "staff.notifications",
    "staff.notification_read",
    "api.create_token",
    "api.revoke_token",
    "api.mark_notification_read",
    "api.submit_complaint",
    "api.reply_to_complaint",
    "api.withdraw_complaint",
}
READ_ONLY_POSTS = {"history.page"}  # POST replays the case in memory for the reader and writes nothing
# who may open which known page (GET); routes not listed are held to the invariants above only
POLICY = {
    "admin.units": {"pusat"},
    "admin.unit": {"pusat"},
    "admin.users": {"pusat"},
    "admin.user": {"pusat"},
    "staff.cases": {"pusat", "auditor"},
    "staff.case_page": {"pusat", "kominfo", OWN_UNIT, "auditor", "analis"},
    "staff.attachment": {"pusat", "kominfo", OWN_UNIT, "auditor", "analis"},
    "history.page": {"pusat", "auditor"},
    "history.export_json": {"pusat", "auditor"},
    "history.export_csv": {"pusat", "auditor"},
    "api.case_history": {"pusat", "auditor"},
    "api.get_task": {OWN_UNIT},
}


def snapshot(app) -> dict[str, list[str]]:
    """Every row of every table: equal before and after a request means it wrote nothing."""
    with app.app_context():
        return {table.name: sorted(repr(tuple(row)) for row in db.session.execute(table.select()).all()) for table in Base.metadata.sorted_tables}


@pytest.fixture
def world(make_app, tmp_path):
    """A case sent to Dinas Kesehatan (with an attachment, its unit's open task, notifications and mail),
    signed-in clients for every role, API tokens, and the values to fill each URL with."""
    app = make_app(WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)  # so a POST reaches the authorization it is here to test
    citizen, tracking_id, link = submit(app, category="kesehatan")
    clients = {name: login(app, name) for name in STAFF}
    tokens = {}
    for name in STAFF:
        response = app.test_client().post("/api/v1/auth/token", json={"username": name, "password": "demo-lapor"})
        tokens[name] = response.json["token"]
    auth = {"Authorization": f"Bearer {tokens['kominfo']}"}
    [task] = [t for t in app.test_client().get("/api/v1/tasks", headers=auth).json["tasks"] if t["tracking_id"] == tracking_id]
    done = app.test_client().post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"unit": "dinas-kesehatan"}}, headers=auth)
    assert done.status_code == 200, done.json
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.tracking_id == tracking_id))
        [attachment] = db.session.scalars(select(Attachment).where(Attachment.case_id == case.id)).all()
        own_user = db.session.scalar(select(User).where(User.username == OWN_UNIT))
        notification = db.session.scalar(select(Notification.id).where(Notification.user_id == own_user.id))
        mail = db.session.scalar(select(OutboxMail.id).where(OutboxMail.user_id == own_user.id))
        title = case.title
    own_token = {"Authorization": f"Bearer {tokens[OWN_UNIT]}"}
    [own_task] = app.test_client().get("/api/v1/tasks", headers=own_token).json["tasks"]
    values = {
        "tracking_id": tracking_id,
        "task_id": own_task["id"],
        "attachment_id": attachment.id,
        "notification_id": notification,
        "mail_id": mail,
        "incident_id": 1,
        "user_id": own_user.id,
        "unit_id": "dinas-kesehatan",
        "lang": "en",
    }
    unknown = {**values, "tracking_id": _unused_tracking_id(app), "task_id": str(uuid.uuid4()), "attachment_id": 987654}
    return {
        "app": app,
        "clients": clients,
        "tokens": tokens,
        "values": values,
        "unknown": unknown,
        "title": title,
        "citizen": (citizen, link),
    }


def _unused_tracking_id(app) -> str:
    with app.app_context():
        while True:
            candidate = new_tracking_id()
            if db.session.scalar(select(Case.id).where(Case.tracking_id == candidate)) is None:
                return candidate


def request_as(world, who: str | None, method: str, url: str):
    app = world["app"]
    client = world["clients"][who] if who else app.test_client()
    headers = {"Authorization": f"Bearer {world['tokens'][who]}"} if who and url.startswith("/api/") else {}
    # a well-formed body, so the answer is the authorization's, not a complaint about the body's shape
    json_body = {"data": {}} if url.startswith("/api/") and method in ("POST", "PUT", "PATCH") else None
    return client.open(url, method=method, headers=headers, json=json_body)


def case_scoped(rule) -> bool:
    return bool(set(rule.arguments) & CASE_ARGS)


@pytest.mark.parametrize("who", OUTSIDERS)
def test_staff_who_may_not_see_a_case_get_what_an_unknown_case_gets(world, who):
    app, title = world["app"], world["title"]
    checked = []
    for method, rule in url_rules(app):
        if not case_scoped(rule) or rule.endpoint.startswith("public.") or rule.endpoint in PERSONAL:
            continue  # the citizen's routes open by access token, not by role: walked in the citizen tests below
        before = snapshot(app) if method != "GET" else None
        real = request_as(world, who, method, build_url(rule, world["values"]))
        ghost = request_as(world, who, method, build_url(rule, world["unknown"]))
        where = (who, method, rule.rule, rule.endpoint)
        assert real.status_code in (403, 404), (*where, real.status_code)
        if who in SAME_ROLE or not set(rule.arguments) <= {"task_id"}:
            assert real.status_code == ghost.status_code, (*where, real.status_code, ghost.status_code)
        # else: a task id (a random UUID, not guessable) acted on by the wrong role: 403 by the contract
        # (docs/architecture.md, POST /tasks/{id}/complete: "403 wrong role; 404 not visible")
        assert title not in real.get_data(as_text=True), where
        if before is not None:
            assert snapshot(app) == before, where
        checked.append(rule.endpoint)
    assert {"staff.case_page", "staff.task", "staff.attachment", "staff.claim", "api.get_task", "api.complete_task"} <= set(checked)


CASE_READS = {"staff.case_page", "staff.attachment", "reports.sheet", "reports.sheet_pdf"}  # the analyst's reads of a case


def test_the_analyst_reads_a_case_but_acts_on_none(world):
    app = world["app"]
    walked = []
    for method, rule in url_rules(app):
        if not case_scoped(rule) or rule.endpoint.startswith("public.") or rule.endpoint in PERSONAL:
            continue
        before = snapshot(app) if method != "GET" else None
        response = request_as(world, "analis", method, build_url(rule, world["values"]))
        where = (method, rule.rule, rule.endpoint, response.status_code)
        if method == "GET" and rule.endpoint in CASE_READS:
            assert response.status_code == 200, where
        else:
            assert response.status_code in (403, 404), where
        if before is not None:
            assert snapshot(app) == before, where
        walked.append(rule.endpoint)
    assert CASE_READS | {"staff.task", "staff.claim", "staff.reassign", "history.page", "api.get_task", "api.complete_task"} <= set(walked)


def test_the_unit_the_case_was_sent_to_does_see_it(world):
    """The positive control of the test above: the same URLs open for the case's own unit."""
    opened = []
    for method, rule in url_rules(world["app"]):
        if method != "GET" or not case_scoped(rule) or rule.endpoint.startswith("public."):
            continue
        response = request_as(world, OWN_UNIT, method, build_url(rule, world["values"]))
        if response.status_code == 200:
            opened.append(rule.endpoint)
    assert {"staff.case_page", "staff.task", "staff.attachment", "api.get_task"} <= set(opened)


@pytest.mark.parametrize("who", [None, *STAFF])
def test_each_role_opens_exactly_the_pages_its_role_allows(world, who):
    for method, rule in url_rules(world["app"]):
        if method != "GET" or rule.endpoint not in POLICY:
            continue
        response = request_as(world, who, method, build_url(rule, world["values"]))
        where = (who, rule.rule, response.status_code)
        if who is None:
            assert response.status_code in (302, 401), where
            if response.status_code == 302:
                assert "/masuk" in response.headers["Location"], where
        elif who in POLICY[rule.endpoint]:
            assert response.status_code == 200, where
        else:
            assert response.status_code in (403, 404), where


def test_the_auditor_can_change_nothing(world):
    app = world["app"]
    walked = []
    for method, rule in url_rules(app):
        if method == "GET" or rule.endpoint in PERSONAL:
            continue
        for values in (world["values"], world["unknown"]):
            before = snapshot(app)
            response = request_as(world, "auditor", method, build_url(rule, values))
            where = (method, rule.rule, rule.endpoint, response.status_code)
            if rule.endpoint in READ_ONLY_POSTS:
                assert response.status_code in (200, 403, 404), where
            else:
                assert response.status_code in (403, 404), where
            assert snapshot(app) == before, where
        walked.append(rule.endpoint)
    assert {"staff.task", "staff.claim", "staff.reassign", "staff.resend_mail", "admin.users", "admin.user", "api.complete_task"} <= set(walked)


def test_only_the_analyst_changes_process_definitions(world):
    """Every state-changing route, as every other role: no definition is added or changed. Routes that deploy
    (the analyst's pages, wherever they are added) answer 403/404 to everyone else."""
    app = world["app"]
    deploy_routes = []
    for who in [None, *STAFF]:
        if who == "analis":
            continue
        for method, rule in url_rules(app):
            if method == "GET" or rule.endpoint in ("auth.logout", "api.revoke_token"):
                continue
            with app.app_context():
                before = db.session.execute(select(Base.metadata.tables["process_definition"])).all()
            response = request_as(world, who, method, build_url(rule, world["values"]))
            with app.app_context():
                assert db.session.execute(select(Base.metadata.tables["process_definition"])).all() == before, (who, method, rule.rule)
            if re.search(r"proses|deploy|definisi|versi", rule.rule + " " + rule.endpoint):
                deploy_routes.append(rule.endpoint)
                assert response.status_code in (302, 401, 403, 404), (who, method, rule.rule, response.status_code)
    # the analyst's deploying routes (/proses, another engineer's) are walked whenever they exist
    assert deploy_routes or not any("/proses" in rule.rule for rule in app.url_map.iter_rules())


# ---- citizens ---------------------------------------------------------------------------------------------------


def normalized(response, *tracking_ids: str) -> tuple[int, str, str]:
    body = response.get_data(as_text=True)
    for tracking_id in tracking_ids:
        body = body.replace(tracking_id, "LPR-XXXXXXXX")
    body = re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token" value=""', body)
    return response.status_code, response.headers.get("Content-Type", ""), body


def test_an_access_token_opens_only_its_own_complaint(app, api):
    mine, theirs = api.submit(), api.submit(title="Puskesmas tutup siang hari", category="kesehatan")
    token, other = mine["access_token"], theirs["tracking_id"]
    client = app.test_client()
    assert client.get(f"/lacak/{mine['tracking_id']}", query_string={"token": token}, follow_redirects=True).status_code == 200
    assert client.get(f"/lacak/{other}", query_string={"token": token}).status_code == 404
    assert client.get(f"/api/v1/complaints/{mine['tracking_id']}", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    for method, path, body in (
        ("GET", f"/api/v1/complaints/{other}", None),
        ("POST", f"/api/v1/complaints/{other}/replies", {"satisfied": True}),
        ("POST", f"/api/v1/complaints/{other}/withdraw", {}),
    ):
        assert client.open(path, method=method, json=body, headers={"Authorization": f"Bearer {token}"}).status_code == 404, path
    app.config["WTF_CSRF_ENABLED"] = False
    for path in (f"/lacak/{other}/balas", f"/lacak/{other}/cabut"):
        assert client.post(path, data={"token": token, "satisfied": "true"}).status_code == 404, path
    with app.app_context():
        assert db.session.scalar(select(Case.status).where(Case.tracking_id == other)) == "diterima"
    # and never a staff route
    for path in ("/api/v1/tasks", f"/api/v1/cases/{mine['tracking_id']}/history", "/api/v1/notifications"):
        assert client.get(path, headers={"Authorization": f"Bearer {token}"}).status_code == 401, path


def test_a_wrong_token_answers_exactly_as_an_unknown_tracking_id(app, api):
    """Tracking ids cannot be enumerated into data: no status, header or word tells a real id from an unknown one."""
    real = api.submit()["tracking_id"]
    ghost = _unused_tracking_id(app)
    stranger = api.submit()["access_token"]
    app.config["WTF_CSRF_ENABLED"] = False
    compared = 0
    for method, rule in url_rules(app):
        if not ({"tracking_id", "tid"} & set(rule.arguments)) or not (rule.endpoint.startswith("public.") or "/complaints/" in rule.rule):
            continue
        for token in ("", "x", stranger, "A" * 32):
            answers = []
            for tracking_id in (real, ghost):
                url = build_url(rule, {"tracking_id": tracking_id})
                client = app.test_client()
                if url.startswith("/api/"):
                    response = client.open(url, method=method, json={} if method == "POST" else None, headers={"Authorization": f"Bearer {token}"})
                elif method == "GET":
                    response = client.get(url, query_string={"token": token})
                else:
                    response = client.open(url, method=method, data={"token": token})
                answers.append(normalized(response, real, ghost))
            assert answers[0] == answers[1], (method, rule.rule, repr(token))
            assert answers[0][0] in (200, 404), (method, rule.rule, answers[0][0])  # 200: the look-up form, without a token
            compared += 1
    assert compared >= 5 * 4
