"""The JSON API /api/v1 (docs/architecture.md, "JSON API"), driven through the Flask test client only."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from sqlalchemy import func, select, update
from sqlalchemy.orm.exc import StaleDataError

import engine.cases.views
from engine import CaseService
from engine.audit.trail import guards_lifted
from engine.db.tables import AuditEvent, Case, OpenTask, OutboxMail, SubmissionKey
from tests.reliability.support import BARRIER_TIMEOUT, run_in_threads
from tests.scenarios import COMPLAINT
from web import submissions
from web.extensions import db

PUBLIC_ROUTES = {("POST", "/complaints"), ("GET", "/openapi.json"), ("POST", "/auth/token"), ("GET", "/docs"), ("GET", "/docs/{asset}")}
DOC_URI = "urn:lapor:openapi"
FORWARD = {"unit": "dinas-pendidikan", "note": "Mohon ditindaklanjuti."}
ACCEPT = {"decision": "terima"}
RESPOND = {"response": "Perbaikan atap dijadwalkan minggu depan."}
PUBLISH = {"decision": "teruskan", "answer": "Perbaikan atap dijadwalkan minggu depan oleh Dinas Pendidikan."}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def api_rules(app) -> list[tuple[str, str, str]]:
    """(method, OpenAPI path, endpoint) of every /api/v1 rule in the URL map."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        found += [(method, path, rule.endpoint) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


@pytest.fixture
def doc(client) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def resolve(doc: dict[str, Any], pointer: str) -> Any:
    node: Any = doc
    for part in pointer.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def check(doc: dict[str, Any], response, method: str, path: str) -> Any:
    """Assert the response's status is documented for the operation and its body fits the documented schema."""
    responses = doc["paths"][path][method.lower()]["responses"]
    status = str(response.status_code)
    assert status in responses or (response.status_code >= 400 and "default" in responses), (method, path, status)
    documented = responses.get(status, responses.get("default"))
    if "$ref" in documented:
        documented = resolve(doc, documented["$ref"])
    if "content" not in documented:
        assert not response.data
        return None
    schema = documented["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = {"$ref": DOC_URI + schema["$ref"]}
    registry = Registry().with_resource(DOC_URI, DRAFT202012.create_resource(doc))
    errors = [e.message for e in Draft202012Validator(schema, registry=registry).iter_errors(response.json)]
    assert not errors, (method, path, errors)
    return response.json


# ---- the whole case ------------------------------------------------------------------------


def test_whole_case_runs_through_the_json_api_alone(api, client, doc):
    created = check(doc, client.post("/api/v1/complaints", json=COMPLAINT), "POST", "/complaints")
    tracking_id, citizen = created["tracking_id"], bearer(created["access_token"])
    assert created["status"] == "diterima"
    assert re.fullmatch(r"LPR-[0-9A-HJKMNP-TV-Z]{8}", tracking_id)

    seen = check(doc, client.get(f"/api/v1/complaints/{tracking_id}", headers=citizen), "GET", "/complaints/{tracking_id}")
    assert (seen["status"], seen["title"], seen["answer"]) == ("diterima", COMPLAINT["title"], None)

    kominfo = bearer(api.token("kominfo"))
    listing = check(doc, client.get("/api/v1/tasks", headers=kominfo), "GET", "/tasks")
    [task] = [t for t in listing["tasks"] if t["tracking_id"] == tracking_id]
    assert (task["form"], task["lane"], task["unit"], task["overdue"]) == ("disposisi", "Admin Kominfo", None, False)
    detail = check(doc, client.get(f"/api/v1/tasks/{task['id']}", headers=kominfo), "GET", "/tasks/{task_id}")
    assert "dinas-pendidikan" in detail["schema"]["properties"]["unit"]["enum"]
    assert detail["case"]["reporter"]["email"] == COMPLAINT["reporter"]["email"]
    assert detail["due_at"] and detail["ceiling_at"]
    done = check(
        doc, client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": FORWARD}, headers=kominfo), "POST", "/tasks/{task_id}/complete"
    )
    assert done == {"tracking_id": tracking_id, "status": "didisposisikan", "next_tasks": []}  # the unit's task is not Kominfo's

    pendidikan = bearer(api.token("pendidikan"))
    notes = check(doc, client.get("/api/v1/notifications", headers=pendidikan), "GET", "/notifications")
    assert [(n["kind"], n["tracking_id"]) for n in notes["notifications"]] == [("laporan_masuk", tracking_id)]
    task = api.task_of("pendidikan", tracking_id)
    assert (task["form"], task["unit"]) == ("terima", "dinas-pendidikan")
    assert api.step("pendidikan", tracking_id, ACCEPT)["status"] == "ditindaklanjuti"
    assert api.task_of("pendidikan", tracking_id)["form"] == "tanggapan"
    assert api.step("pendidikan", tracking_id, RESPOND)["status"] == "ditindaklanjuti"
    assert api.task_of("kominfo", tracking_id)["form"] == "teruskan"
    assert api.step("kominfo", tracking_id, PUBLISH)["status"] == "dijawab"

    seen = check(doc, client.get(f"/api/v1/complaints/{tracking_id}", headers=citizen), "GET", "/complaints/{tracking_id}")
    assert seen["status"] == "dijawab"
    assert seen["answer"]["text"] == PUBLISH["answer"]
    assert [item["status"] for item in seen["timeline"]] == ["diterima", "didisposisikan", "ditindaklanjuti", "dijawab"]

    reply = client.post(f"/api/v1/complaints/{tracking_id}/replies", json={"satisfied": True, "text": "Terima kasih."}, headers=citizen)
    assert check(doc, reply, "POST", "/complaints/{tracking_id}/replies") == {"tracking_id": tracking_id, "status": "selesai", "next_tasks": []}
    seen = check(doc, client.get(f"/api/v1/complaints/{tracking_id}", headers=citizen), "GET", "/complaints/{tracking_id}")
    assert seen["status"] == "selesai"
    assert api.tasks("kominfo") == [] and api.tasks("pendidikan") == []

    history = check(
        doc, client.get(f"/api/v1/cases/{tracking_id}/history", headers=bearer(api.token("auditor"))), "GET", "/cases/{tracking_id}/history"
    )
    assert history["verified"] is True
    assert history["events"][0]["type"] == "case_started"
    assert [e["seq"] for e in history["events"]] == list(range(1, len(history["events"]) + 1))
    completed = [(e["actor"], e["data"]["form"]) for e in history["events"] if e["type"] == "task_completed"]
    assert completed == [
        ("kominfo", "disposisi"),
        ("pendidikan", "terima"),
        ("pendidikan", "tanggapan"),
        ("kominfo", "teruskan"),
        ("pelapor", "balasan"),
    ]

    revoked = client.delete("/api/v1/auth/token", headers=kominfo)
    check(doc, revoked, "DELETE", "/auth/token")
    check(doc, client.get("/api/v1/tasks", headers=kominfo), "GET", "/tasks")  # 401, in the Error shape


# ---- citizens ---------------------------------------------------------------------------------


def test_submit_names_each_bad_field_by_its_dotted_path(client, doc):
    bad = {**COMPLAINT, "title": "Abc", "reporter": {"name": "Siti", "email": "bukan-email"}}
    response = client.post("/api/v1/complaints", json=bad)
    assert response.status_code == 400
    body = check(doc, response, "POST", "/complaints")
    assert {"title", "reporter.email"} <= set(body["errors"])
    assert body["error"]


def test_submit_requires_the_reporters_email(client):
    response = client.post("/api/v1/complaints", json={**COMPLAINT, "reporter": {"name": "Siti"}})
    assert response.status_code == 400
    assert "reporter.email" in response.json["errors"]


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("", "application/json"),
        ("title=Gedung", "application/x-www-form-urlencoded"),
        ('{"title": "Gedung SMA rusak"', "application/json"),
        ('["Gedung SMA rusak"]', "application/json"),
        ('"Gedung SMA rusak"', "application/json"),
    ],
    ids=["empty", "form-encoded", "malformed", "array", "string"],
)
def test_submit_rejects_a_body_that_is_not_a_json_object(client, data, content_type):
    response = client.post("/api/v1/complaints", data=data, content_type=content_type)
    assert response.status_code == 400
    assert response.json["errors"] == {}
    assert "JSON" in response.json["error"]


def test_submit_answers_the_location_of_the_complaint(client):
    response = client.post("/api/v1/complaints", json=COMPLAINT)
    assert response.headers["Location"] == f"/api/v1/complaints/{response.json['tracking_id']}"
    assert response.headers["Cache-Control"] == "no-store"


def counts(app) -> dict[str, int]:
    """Cases, stored submission keys and receipt mails: what a submission sent again must not add to."""
    with app.app_context():
        return {
            "cases": db.session.scalar(select(func.count()).select_from(Case)),
            "keys": db.session.scalar(select(func.count()).select_from(SubmissionKey)),
            "receipts": db.session.scalar(select(func.count()).select_from(OutboxMail).where(OutboxMail.topic == "laporan_diterima")),
        }


def test_a_submission_sent_again_with_its_idempotency_key_answers_the_first_case_and_creates_nothing(app, client, doc):
    first = client.post("/api/v1/complaints", json=COMPLAINT, headers={"Idempotency-Key": "8e03978e-40d5-43e8-bc93-6894a57f9324"})
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    before = counts(app)
    # a retry: the same JSON, its keys in another order, the key in the IETF draft's quoted form
    again = client.post(
        "/api/v1/complaints",
        data=json.dumps(dict(reversed(COMPLAINT.items())), indent=2),
        content_type="application/json",
        headers={"Idempotency-Key": '"8e03978e-40d5-43e8-bc93-6894a57f9324"'},
    )
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert check(doc, again, "POST", "/complaints") == first.json  # the same tracking id and access token
    assert again.headers["Location"] == first.headers["Location"]
    assert counts(app) == before == {"cases": 1, "keys": 1, "receipts": 1}
    opened = client.get(first.headers["Location"], headers=bearer(again.json["access_token"]))
    assert opened.status_code == 200 and opened.json["title"] == COMPLAINT["title"]


def test_an_idempotency_key_sent_with_another_complaint_answers_422_and_creates_nothing(app, client, doc):
    assert client.post("/api/v1/complaints", json=COMPLAINT, headers={"Idempotency-Key": "kunci-1"}).status_code == 201
    before = counts(app)
    other = client.post("/api/v1/complaints", json={**COMPLAINT, "title": "Gedung SMP rusak"}, headers={"Idempotency-Key": "kunci-1"})
    assert other.status_code == 422
    assert set(check(doc, other, "POST", "/complaints")["errors"]) == {"Idempotency-Key"}
    assert counts(app) == before
    fresh = client.post("/api/v1/complaints", json={**COMPLAINT, "title": "Gedung SMP rusak"}, headers={"Idempotency-Key": "kunci-2"})
    assert fresh.status_code == 201


def test_without_an_idempotency_key_each_submission_is_a_new_case(app, client):
    tracking_ids = {client.post("/api/v1/complaints", json=COMPLAINT).json["tracking_id"] for _ in range(2)}
    assert len(tracking_ids) == 2 and counts(app) == {"cases": 2, "keys": 0, "receipts": 2}


@pytest.mark.parametrize("key", ["", "   ", '""', "x" * 256, "kunci\tdengan-tab"], ids=["empty", "blank", "empty-quoted", "too-long", "tab"])
def test_an_unusable_idempotency_key_answers_400_and_creates_nothing(app, client, doc, key):
    response = client.post("/api/v1/complaints", json=COMPLAINT, headers={"Idempotency-Key": key})
    assert response.status_code == 400 and set(check(doc, response, "POST", "/complaints")["errors"]) == {"Idempotency-Key"}
    assert counts(app)["cases"] == 0


def test_the_submission_key_table_holds_neither_the_key_nor_the_access_token(app, client):
    key = "kunci-rahasia-klien-123"
    token = client.post("/api/v1/complaints", json=COMPLAINT, headers={"Idempotency-Key": key}).json["access_token"]
    with app.app_context():
        stored = db.session.execute(select(SubmissionKey.key_hash, SubmissionKey.fingerprint)).one()
        hashes = db.session.scalars(select(Case.access_token_hash)).all()
    assert key not in str(stored) and token not in str(stored) and token not in str(hashes)
    # the token is the app secret's HMAC of the key: another secret never gives it back
    assert token != client.post("/api/v1/complaints", json=COMPLAINT, headers={"Idempotency-Key": "kunci-lain"}).json["access_token"]


def test_two_submissions_with_one_key_at_the_same_moment_make_one_case(app, monkeypatch):
    """Both look for the key before either has stored it (a barrier holds each after its look-up): the key's primary
    key lets one store it; the other waits for that commit, fails, and answers with the same case."""
    barrier = threading.Barrier(2, timeout=BARRIER_TIMEOUT)
    looked = threading.local()
    original = submissions._earlier
    found_by = []

    def earlier(*args: Any) -> Any:
        found = original(*args)
        found_by.append(found is not None)
        if not getattr(looked, "once", False):
            looked.once = True
            barrier.wait()
        return found

    monkeypatch.setattr(submissions, "_earlier", earlier)

    def send() -> tuple[int, Any]:
        response = app.test_client().post("/api/v1/complaints", json=COMPLAINT, headers={"Idempotency-Key": "dobel-klik"})
        return response.status_code, response.json

    outcomes = run_in_threads(send, send)
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    (first_status, first), (second_status, second) = (value for _kind, value in outcomes)
    assert first_status == second_status == 201 and first == second
    assert counts(app) == {"cases": 1, "keys": 1, "receipts": 1}
    assert found_by == [False, False, True]  # the loser looked again after its insert failed


def test_wrong_or_missing_access_token_is_404_on_every_citizen_route(api, client):
    created = api.submit()
    tracking_id = created["tracking_id"]
    other = api.submit()
    for headers in ({}, bearer("salah"), bearer(other["access_token"]), bearer(api.token("kominfo")), {"Authorization": created["access_token"]}):
        assert client.get(f"/api/v1/complaints/{tracking_id}", headers=headers).status_code == 404
        assert client.post(f"/api/v1/complaints/{tracking_id}/replies", json={"satisfied": True}, headers=headers).status_code == 404
        assert client.post(f"/api/v1/complaints/{tracking_id}/withdraw", headers=headers).status_code == 404
    response = client.get("/api/v1/complaints/LPR-00000000", headers=bearer(created["access_token"]))
    assert response.status_code == 404 and response.json["errors"] == {}


def test_citizen_may_type_the_tracking_id_in_lower_case(api, client):
    created = api.submit()
    response = client.get(f"/api/v1/complaints/{created['tracking_id'].lower()}", headers=bearer(created["access_token"]))
    assert response.status_code == 200 and response.json["tracking_id"] == created["tracking_id"]


def test_reply_before_the_answer_is_published_gets_conflict(api, client, doc):
    created = api.submit()
    response = client.post(f"/api/v1/complaints/{created['tracking_id']}/replies", json={"satisfied": True}, headers=bearer(created["access_token"]))
    assert response.status_code == 409
    check(doc, response, "POST", "/complaints/{tracking_id}/replies")


def test_reply_names_bad_fields(api, client):
    tracking_id, token = answered_case(api)
    response = client.post(f"/api/v1/complaints/{tracking_id}/replies", json={"text": "Hmm"}, headers=bearer(token))
    assert response.status_code == 400
    assert set(response.json["errors"]) == {"satisfied"}


def test_unsatisfied_reply_sends_the_case_back_to_kominfo(api, client):
    tracking_id, token = answered_case(api)
    response = client.post(f"/api/v1/complaints/{tracking_id}/replies", json={"satisfied": False, "text": "Atap masih bocor."}, headers=bearer(token))
    assert response.status_code == 200 and response.json == {"tracking_id": tracking_id, "status": "diterima", "next_tasks": []}
    assert api.task_of("kominfo", tracking_id)["form"] == "disposisi"


def test_citizen_withdraws_an_open_complaint(api, client, doc):
    created = api.submit()
    tracking_id, citizen = created["tracking_id"], bearer(created["access_token"])
    api.step("kominfo", tracking_id, FORWARD)
    response = client.post(f"/api/v1/complaints/{tracking_id}/withdraw", json={"reason": "Sudah diperbaiki."}, headers=citizen)
    assert check(doc, response, "POST", "/complaints/{tracking_id}/withdraw") == {"tracking_id": tracking_id, "status": "dicabut"}
    assert api.tasks("pendidikan") == []
    assert client.get(f"/api/v1/complaints/{tracking_id}", headers=citizen).json["status"] == "dicabut"
    again = client.post(f"/api/v1/complaints/{tracking_id}/withdraw", headers=citizen)
    assert again.status_code == 409
    check(doc, again, "POST", "/complaints/{tracking_id}/withdraw")


def test_withdraw_needs_no_body_but_checks_the_reason(api, client):
    created = api.submit()
    citizen = bearer(created["access_token"])
    bad = client.post(f"/api/v1/complaints/{created['tracking_id']}/withdraw", json={"reason": 7}, headers=citizen)
    assert bad.status_code == 400 and set(bad.json["errors"]) == {"reason"}
    ok = client.post(f"/api/v1/complaints/{created['tracking_id']}/withdraw", headers=citizen)
    assert ok.status_code == 200 and ok.json["status"] == "dicabut"


# ---- staff tokens -------------------------------------------------------------------------------


def test_token_is_issued_for_the_right_password_only(client, doc):
    good = client.post("/api/v1/auth/token", json={"username": "pendidikan", "password": "demo-lapor"})
    body = check(doc, good, "POST", "/auth/token")
    assert body["user"] == {"username": "pendidikan", "role": "satker", "unit": "dinas-pendidikan"}
    assert body["expires_at"].startswith("2026-11-30T14:00:00")  # 12 h after Monday 09:00 WIB (02:00 UTC)
    wrong = client.post("/api/v1/auth/token", json={"username": "pendidikan", "password": "salah"})
    assert wrong.status_code == 401
    check(doc, wrong, "POST", "/auth/token")
    nobody = client.post("/api/v1/auth/token", json={"username": "tidak-ada", "password": "demo-lapor"})
    assert nobody.status_code == 401


def test_token_request_names_missing_fields(client):
    response = client.post("/api/v1/auth/token", json={"username": "kominfo"})
    assert response.status_code == 400 and response.json["errors"] == {"password": "Wajib diisi."}
    response = client.post("/api/v1/auth/token", json={"username": 5, "password": ""})
    assert set(response.json["errors"]) == {"username", "password"}


def test_staff_route_without_or_with_a_bad_token_gets_401(client, doc):
    for headers in ({}, bearer("bukan-token"), {"Authorization": "Basic a29taW5mbzpkZW1vLWxhcG9y"}):
        response = client.get("/api/v1/tasks", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        check(doc, response, "GET", "/tasks")


def test_token_expires_after_twelve_hours(api, client, clock):
    token = api.token("kominfo")
    clock.advance(hours=11, minutes=59)
    assert client.get("/api/v1/tasks", headers=bearer(token)).status_code == 200
    clock.advance(minutes=1)
    assert client.get("/api/v1/tasks", headers=bearer(token)).status_code == 401
    assert client.get("/api/v1/notifications", headers=bearer(token)).status_code == 401


def test_revoked_token_gets_401_and_other_tokens_live_on(client):
    first, second = (client.post("/api/v1/auth/token", json={"username": "kominfo", "password": "demo-lapor"}).json["token"] for _ in range(2))
    response = client.delete("/api/v1/auth/token", headers=bearer(first))
    assert response.status_code == 204 and response.data == b""
    assert client.get("/api/v1/tasks", headers=bearer(first)).status_code == 401
    assert client.delete("/api/v1/auth/token", headers=bearer(first)).status_code == 401
    assert client.get("/api/v1/tasks", headers=bearer(second)).status_code == 200


# ---- staff tasks ---------------------------------------------------------------------------------


def test_pendidikan_completing_the_kominfo_disposisi_gets_403(api, client, doc):
    tracking_id = api.submit()["tracking_id"]
    task = api.task_of("kominfo", tracking_id)
    response = api.complete("pendidikan", task["id"], FORWARD)
    assert response.status_code == 403
    check(doc, response, "POST", "/tasks/{task_id}/complete")
    assert api.task_of("kominfo", tracking_id)["id"] == task["id"]  # still open


def test_another_units_task_is_404(api, client, doc):
    tracking_id = api.submit()["tracking_id"]
    api.step("kominfo", tracking_id, FORWARD)
    task = api.task_of("pendidikan", tracking_id)
    kesehatan = bearer(api.token("kesehatan"))
    assert api.tasks("kesehatan") == []
    seen = client.get(f"/api/v1/tasks/{task['id']}", headers=kesehatan)
    assert seen.status_code == 404
    check(doc, seen, "GET", "/tasks/{task_id}")
    done = api.complete("kesehatan", task["id"], ACCEPT)
    assert done.status_code == 404
    check(doc, done, "POST", "/tasks/{task_id}/complete")
    assert client.get(f"/api/v1/tasks/{task['id']}", headers=bearer(api.token("kominfo"))).status_code == 404
    assert client.get("/api/v1/tasks/no-such-task", headers=bearer(api.token("pendidikan"))).status_code == 404


def test_second_completion_of_same_task_gets_conflict(api, doc):
    tracking_id = api.submit()["tracking_id"]
    task = api.task_of("kominfo", tracking_id)
    assert api.complete("kominfo", task["id"], FORWARD).status_code == 200
    again = api.complete("kominfo", task["id"], FORWARD)
    assert again.status_code == 409
    check(doc, again, "POST", "/tasks/{task_id}/complete")


def test_completion_names_bad_form_fields(api, doc):
    tracking_id = api.submit()["tracking_id"]
    task = api.task_of("kominfo", tracking_id)
    response = api.complete("kominfo", task["id"], {"unit": "dinas-rahasia"})
    assert response.status_code == 400
    assert set(check(doc, response, "POST", "/tasks/{task_id}/complete")["errors"]) == {"unit"}
    missing = api.complete("kominfo", task["id"], {})
    assert missing.status_code == 400 and set(missing.json["errors"]) == {"units"}  # one to five units, or the shorthand unit
    assert api.task_of("kominfo", tracking_id)["id"] == task["id"]  # nothing changed


def test_completion_needs_the_form_data_under_data(api, client):
    tracking_id = api.submit()["tracking_id"]
    task = api.task_of("kominfo", tracking_id)
    url, headers = f"/api/v1/tasks/{task['id']}/complete", bearer(api.token("kominfo"))
    flat = client.post(url, json=FORWARD, headers=headers)
    assert flat.status_code == 400 and set(flat.json["errors"]) == {"data"}
    not_object = client.post(url, json={"data": ["dinas-pendidikan"]}, headers=headers)
    assert not_object.status_code == 400 and set(not_object.json["errors"]) == {"data"}
    not_json = client.post(url, data="unit=dinas-pendidikan", content_type="application/x-www-form-urlencoded", headers=headers)
    assert not_json.status_code == 400 and not_json.json["errors"] == {}


def test_unit_may_return_a_case_that_is_not_theirs(api):
    tracking_id = api.submit(category="pertanahan")["tracking_id"]
    api.step("kominfo", tracking_id, {"unit": "kanwil-bpn-jatim"})
    result = api.step("bpn", tracking_id, {"decision": "bukan_wewenang", "note": "Urusan Kemenag."})
    assert result["status"] == "diterima"
    assert api.task_of("kominfo", tracking_id)["form"] == "disposisi"


def test_task_turns_overdue_once_its_due_time_passes(api, clock):
    tracking_id = api.submit()["tracking_id"]
    task = api.task_of("kominfo", tracking_id)
    assert task["overdue"] is False
    clock.advance(days=2)  # past Tuesday 23:59:59 WIB; no worker pass has fired the timer yet
    api.forget_tokens()
    assert api.task_of("kominfo", tracking_id)["overdue"] is True


def test_task_list_pages_and_filters(api, client):
    ids = [api.submit()["tracking_id"] for _ in range(3)]
    api.submit(category="kesehatan")
    kominfo = bearer(api.token("kominfo"))
    page = client.get("/api/v1/tasks?per_page=2&page=2&category=pendidikan", headers=kominfo).json
    assert (page["total"], page["page"], page["pages"], len(page["tasks"])) == (3, 2, 2, 1)
    everything = client.get("/api/v1/tasks?status=diterima", headers=kominfo).json
    assert {t["tracking_id"] for t in everything["tasks"]} >= set(ids) and everything["total"] == 4
    assert client.get("/api/v1/tasks?status=selesai", headers=kominfo).json["tasks"] == []
    assert client.get("/api/v1/tasks?page=%C2%B2", headers=kominfo).status_code == 400
    bad = client.get("/api/v1/tasks?per_page=0&page=x", headers=kominfo)
    assert bad.status_code == 400 and set(bad.json["errors"]) <= {"per_page", "page"} and bad.json["errors"]


def test_auditor_has_no_tasks(api):
    api.submit()
    assert api.tasks("auditor") == []


# ---- notifications and history ---------------------------------------------------------------


def test_notifications_are_the_callers_newest_first(api, client, clock):
    first = api.submit()["tracking_id"]
    clock.advance(minutes=5)
    second = api.submit()["tracking_id"]
    kominfo = bearer(api.token("kominfo"))
    notes = client.get("/api/v1/notifications", headers=kominfo).json["notifications"]
    assert [(n["kind"], n["tracking_id"], n["read"]) for n in notes] == [("perlu_disposisi", second, False), ("perlu_disposisi", first, False)]
    assert notes[0]["at"] > notes[1]["at"]
    assert client.get("/api/v1/notifications?limit=1", headers=kominfo).json["notifications"] == notes[:1]
    assert client.get("/api/v1/notifications?unread=true", headers=kominfo).json["notifications"] == notes
    assert client.get("/api/v1/notifications", headers=bearer(api.token("pendidikan"))).json["notifications"] == []
    assert client.get("/api/v1/notifications?limit=9999", headers=kominfo).status_code == 400


def test_history_is_for_auditor_and_pusat_only(api, client, doc):
    tracking_id = api.submit()["tracking_id"]
    url = f"/api/v1/cases/{tracking_id}/history"
    for username in ("kominfo", "pendidikan", "analis"):
        response = client.get(url, headers=bearer(api.token(username)))
        assert response.status_code == 403, username
        check(doc, response, "GET", "/cases/{tracking_id}/history")
    assert client.get(url, headers=bearer(api.token("pusat"))).status_code == 200
    assert client.get(url).status_code == 401
    missing = client.get("/api/v1/cases/LPR-00000000/history", headers=bearer(api.token("auditor")))
    assert missing.status_code == 404
    check(doc, missing, "GET", "/cases/{tracking_id}/history")


def test_history_hides_an_anonymous_reporter(api, client):
    tracking_id = api.submit(anonymous=True)["tracking_id"]
    events = client.get(f"/api/v1/cases/{tracking_id}/history", headers=bearer(api.token("auditor"))).json["events"]
    started = events[0]
    assert started["type"] == "case_started"
    assert started["data"]["data"]["reporter"] is None
    assert started["data"]["data"]["title"] == COMPLAINT["title"]
    assert COMPLAINT["reporter"]["email"] not in str(events)
    task = api.task_of("kominfo", tracking_id)
    detail = client.get(f"/api/v1/tasks/{task['id']}", headers=bearer(api.token("kominfo"))).json
    assert detail["case"]["reporter"] is None and detail["case"]["anonymous"] is True


def test_history_of_a_named_reporter_keeps_the_reporter_for_admin_pusat_not_for_the_auditor(api, client):
    tracking_id = api.submit()["tracking_id"]
    events = client.get(f"/api/v1/cases/{tracking_id}/history", headers=bearer(api.token("pusat"))).json["events"]
    assert events[0]["data"]["data"]["reporter"] == COMPLAINT["reporter"]
    events = client.get(f"/api/v1/cases/{tracking_id}/history", headers=bearer(api.token("auditor"))).json["events"]
    assert COMPLAINT["reporter"]["email"] not in json.dumps(events)


def test_history_reports_a_tampered_record(app, api, client):
    tracking_id = api.submit()["tracking_id"]
    url, auditor = f"/api/v1/cases/{tracking_id}/history", bearer(api.token("auditor"))
    assert client.get(url, headers=auditor).json["verified"] is True
    with app.app_context():
        case_id = db.session.scalar(select(Case.id).where(Case.tracking_id == tracking_id))
        with guards_lifted(db.session.connection()):  # the database refuses the forgery otherwise; this test checks it is caught
            db.session.execute(update(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.seq == 1).values(data='{"data": {}}'))
        db.session.commit()
    assert client.get(url, headers=auditor).json["verified"] is False


# ---- errors are JSON everywhere under /api/v1 ------------------------------------------------------


def test_unknown_api_path_answers_json_404(client):
    for path in ("/api/v1/tidak-ada", "/api/v1", "/api/v1/tasks/a/b/c"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.is_json and response.json["errors"] == {} and response.json["error"]


def test_pages_outside_the_api_keep_their_own_404(client):
    response = client.get("/tidak-ada")
    assert response.status_code == 404 and not response.is_json


def test_wrong_method_answers_json_405_with_allow(client):
    response = client.put("/api/v1/complaints", json={})
    assert response.status_code == 405
    assert response.is_json and response.json["error"]
    assert "POST" in response.headers["Allow"]


def test_oversized_body_answers_json_413(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/api/v1/complaints", json={**COMPLAINT, "body": "x" * 5000})
    assert response.status_code == 413
    assert response.is_json and response.json["error"] and response.json["errors"] == {}


def test_unexpected_failure_answers_json_500_without_details(app, api, client, monkeypatch):
    created = api.submit()
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken(session, case):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(engine.cases.views, "citizen_case", broken)
    response = client.get(f"/api/v1/complaints/{created['tracking_id']}", headers=bearer(created["access_token"]))
    assert response.status_code == 500
    assert response.is_json and "secret" not in response.json["error"] and response.json["errors"] == {}


def test_case_changed_under_a_completion_gets_conflict(api, monkeypatch):
    tracking_id = api.submit()["tracking_id"]
    task = api.task_of("kominfo", tracking_id)

    def stale(self, task_id, data, actor):
        raise StaleDataError("UPDATE statement on table 'case' expected to update 1 row(s); 0 were matched.")

    monkeypatch.setattr(CaseService, "complete_task", stale)
    response = api.complete("kominfo", task["id"], FORWARD)
    assert response.status_code == 409 and response.json["errors"] == {}


def test_failed_command_leaves_no_trace(app, api):
    tracking_id = api.submit()["tracking_id"]
    task = api.task_of("kominfo", tracking_id)
    assert api.complete("kominfo", task["id"], {"unit": "dinas-rahasia"}).status_code == 400
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.tracking_id == tracking_id))
        assert case.status == "diterima"
        assert db.session.get(OpenTask, task["id"]) is not None
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id, AuditEvent.type == "task_completed")) is None


# ---- the route map, the document, and credentials ---------------------------------------------------


def test_every_non_public_route_rejects_a_request_without_credentials(app, api, client):
    tracking_id = api.submit()["tracking_id"]
    task_id = api.task_of("kominfo", tracking_id)["id"]
    values = {"tracking_id": tracking_id, "task_id": task_id, "notification_id": "1", "attachment_id": "1"}
    checked = 0
    for method, path, _endpoint in api_rules(app):
        if (method, path) in PUBLIC_ROUTES:
            continue
        url = "/api/v1" + re.sub(r"{(\w+)}", lambda m: values[m.group(1)], path)
        response = client.open(url, method=method, json={})
        expected = 404 if path.startswith("/complaints/") else 401
        assert response.status_code == expected, (method, path, response.status_code)
        assert response.is_json and response.json["error"]
        checked += 1
    assert checked >= 8


def test_public_routes_need_no_credentials(client):
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.post("/api/v1/complaints", json=COMPLAINT).status_code == 201
    assert client.post("/api/v1/auth/token", json={"username": "kominfo", "password": "demo-lapor"}).status_code == 200


def test_openapi_documents_exactly_the_routes_there_are(app, doc):
    routed = {(method.lower(), path) for method, path, _ in api_rules(app)}
    documented = {(method, path) for path, item in doc["paths"].items() for method in item if method != "parameters"}
    assert routed == documented
    endpoints = {(method.lower(), path): endpoint.removeprefix("api.") for method, path, endpoint in api_rules(app)}
    assert {key: doc["paths"][key[1]][key[0]]["operationId"] for key in documented} == endpoints


def test_openapi_document_is_3_1_and_self_contained(doc):
    assert doc["openapi"] == "3.1.0"
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    assert refs
    for target in refs:
        assert target.startswith("#/"), target
        resolve(doc, target)  # raises KeyError when it does not resolve
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)  # raises SchemaError naming the problem
    for operation in (op for item in doc["paths"].values() for key, op in item.items() if key != "parameters"):
        for scheme in (requirement for entry in operation.get("security", doc["security"]) for requirement in entry):
            assert scheme in doc["components"]["securitySchemes"]


def test_openapi_inlines_every_form_schema(doc):
    from engine.definitions.bundle import project_bundle

    schemas = doc["components"]["schemas"]
    for name, form in project_bundle().forms().items():
        inlined = schemas[name.capitalize() + "Form"]
        assert "$schema" not in inlined and "$id" not in inlined
        assert inlined["properties"] == form["properties"]
    request_body = doc["paths"]["/complaints"]["post"]["requestBody"]
    assert request_body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ComplaintSubmission"}


# ---- helpers -------------------------------------------------------------------------------------


def answered_case(api) -> tuple[str, str]:
    """A complaint driven to `dijawab`; returns (tracking id, access token)."""
    created = api.submit()
    tracking_id = created["tracking_id"]
    for username, data in (("kominfo", FORWARD), ("pendidikan", ACCEPT), ("pendidikan", RESPOND), ("kominfo", PUBLISH)):
        api.step(username, tracking_id, data)
    return tracking_id, created["access_token"]
