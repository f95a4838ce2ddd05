"""POST /api/v1/complaints/{tracking_id}/additions (docs/architecture.md, JSON API): while the case
waits for the additions Admin Kominfo asked for at step 3 it goes back to verification; in any other open status the
text joins the case and the holders of its open tasks are told; a closed case answers 409. Every answer is checked
against the OpenAPI document."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.db.tables import Attachment, AuditEvent, Case, OutboxMail, User
from tests.web.conftest import bearer
from tests.web.pages import PNG
from tests.web.test_api import check
from web.attachments import MAX_BYTES
from web.extensions import db

PATH = "/complaints/{tracking_id}/additions"
QUESTION = "Mohon sebutkan nama sekolah dan alamat lengkapnya."
ADDITION = "Sekolahnya SDN Sidoarjo 3, Jalan Pahlawan 12, Sidoarjo."
FORWARD = {"unit": "dinas-pendidikan", "note": "Mohon ditindaklanjuti."}


@pytest.fixture
def doc(client) -> dict[str, Any]:
    return client.get("/api/v1/openapi.json").json


def url(tracking_id: str) -> str:
    return f"/api/v1/complaints/{tracking_id}/additions"


def asked(api) -> tuple[str, dict[str, str]]:
    """A complaint whose verification asked the reporter for more (status menunggu_kelengkapan): (tracking id, the
    citizen's headers)."""
    created = api.submit()
    tracking_id = created["tracking_id"]
    assert api.step("kominfo", tracking_id, {"decision": "minta_kelengkapan", "question": QUESTION})["status"] == "menunggu_kelengkapan"
    return tracking_id, bearer(created["access_token"])


def forwarded(api) -> tuple[str, dict[str, str]]:
    """A complaint forwarded to Dinas Pendidikan (status didisposisikan, the unit's `terima` task open)."""
    created = api.submit()
    tracking_id = created["tracking_id"]
    assert api.step("kominfo", tracking_id, FORWARD)["status"] == "didisposisikan"
    return tracking_id, bearer(created["access_token"])


def events(app, tracking_id: str, kind: str) -> list[dict[str, Any]]:
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.tracking_id == tracking_id))
        query = select(AuditEvent.data).where(AuditEvent.case_id == case.id, AuditEvent.type == kind).order_by(AuditEvent.seq)
        return [json.loads(data) for data in db.session.scalars(query)]


def staff_mails(app, tracking_id: str, topic: str) -> list[str]:
    """The usernames of the staff mailed about the case under ``topic``."""
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.tracking_id == tracking_id))
        query = (
            select(User.username)
            .join(OutboxMail, OutboxMail.user_id == User.id)
            .where(OutboxMail.case_id == case.id, OutboxMail.topic == topic)
            .order_by(User.username)
        )
        return list(db.session.scalars(query))


def stored(app, tracking_id: str) -> list[str]:
    """The content types of the case's attachments."""
    with app.app_context():
        query = select(Attachment.content_type).join(Case).where(Case.tracking_id == tracking_id).order_by(Attachment.id)
        return list(db.session.scalars(query))


def status_of(client, tracking_id: str, citizen: dict[str, str]) -> str:
    return client.get(f"/api/v1/complaints/{tracking_id}", headers=citizen).json["status"]


# ---- while the case waits for the additions ----------------------------------------------------------


def test_an_addition_while_waiting_sends_the_case_back_to_verification(api, client, doc):
    tracking_id, citizen = asked(api)
    seen = check(doc, client.get(f"/api/v1/complaints/{tracking_id}", headers=citizen), "GET", "/complaints/{tracking_id}")
    assert (seen["status"], seen["question"]) == ("menunggu_kelengkapan", QUESTION)
    assert seen["timeline"][-1]["status"] == "menunggu_kelengkapan" and seen["timeline"][-1]["question"] == QUESTION
    assert seen["due_at"]  # the ten working days the reporter has
    assert api.tasks("kominfo") == []

    response = client.post(url(tracking_id), json={"text": ADDITION}, headers=citizen)
    assert check(doc, response, "POST", PATH) == {"tracking_id": tracking_id, "status": "diterima"}

    assert api.task_of("kominfo", tracking_id)["form"] == "disposisi"  # a new verification task
    seen = check(doc, client.get(f"/api/v1/complaints/{tracking_id}", headers=citizen), "GET", "/complaints/{tracking_id}")
    assert seen["status"] == "diterima" and seen["question"] is None
    assert [(item["kind"], item["text"]) for item in seen["conversation"][1:]] == [("question", QUESTION), ("addition", ADDITION)]
    assert [item["status"] for item in seen["timeline"]] == ["diterima", "menunggu_kelengkapan", "diterima"]
    assert "Tambahan keterangan Anda telah diterima" in seen["timeline"][-1]["message"]
    completed = [e for e in events(client.application, tracking_id, "task_completed") if e.get("form") == "kelengkapan"]
    assert [e["data"] for e in completed] == [{"text": ADDITION}]
    assert events(client.application, tracking_id, "addition_received") == []  # the wait's own step records it


def test_the_verification_task_shows_the_staff_the_case_after_the_addition(api, client, doc):
    tracking_id, citizen = asked(api)
    client.post(url(tracking_id), json={"text": ADDITION}, headers=citizen)
    task = api.task_of("kominfo", tracking_id)
    detail = check(doc, client.get(f"/api/v1/tasks/{task['id']}", headers=bearer(api.token("kominfo"))), "GET", "/tasks/{task_id}")
    case = detail["case"]
    assert (case["channel"], case["classification"], case["archive_reason"], case["duplicate_of"]) == ("aplikasi", None, None, None)
    assert (case["redacted_body"], case["body_redacted"]) == (None, False)
    assert {"additions_requested", "task_completed"} <= {item["type"] for item in case["history"]}


# ---- any other open status ------------------------------------------------------------------------------


def test_an_addition_to_a_forwarded_case_keeps_its_status_and_tells_the_unit(app, api, client, doc):
    tracking_id, citizen = forwarded(api)
    before = api.task_of("pendidikan", tracking_id)

    response = client.post(url(tracking_id), json={"text": ADDITION}, headers=citizen)
    assert check(doc, response, "POST", PATH) == {"tracking_id": tracking_id, "status": "didisposisikan"}

    assert api.task_of("pendidikan", tracking_id)["id"] == before["id"]  # the unit's task goes on
    assert events(app, tracking_id, "addition_received") == [{"text": ADDITION}]
    assert staff_mails(app, tracking_id, "tambahan_pelapor") == ["pendidikan"]
    seen = client.get(f"/api/v1/complaints/{tracking_id}", headers=citizen).json
    assert seen["conversation"][-1]["kind"] == "addition" and seen["conversation"][-1]["text"] == ADDITION
    detail = client.get(f"/api/v1/tasks/{before['id']}", headers=bearer(api.token("pendidikan"))).json
    assert [item["data"] for item in detail["case"]["history"] if item["type"] == "addition_received"] == [{"text": ADDITION}]


def test_an_addition_before_verification_tells_admin_kominfo(app, api, client):
    created = api.submit()
    tracking_id = created["tracking_id"]
    response = client.post(url(tracking_id), json={"text": ADDITION}, headers=bearer(created["access_token"]))
    assert response.status_code == 200 and response.json["status"] == "diterima"
    assert staff_mails(app, tracking_id, "tambahan_pelapor") == ["kominfo"]
    assert api.task_of("kominfo", tracking_id)["form"] == "disposisi"


# ---- who may, and when --------------------------------------------------------------------------------


def test_a_missing_or_wrong_token_is_404_and_changes_nothing(app, api, client, doc):
    tracking_id, _citizen = asked(api)
    other = api.submit()
    for headers in ({}, bearer("salah"), bearer(other["access_token"]), bearer(api.token("kominfo"))):
        response = client.post(url(tracking_id), json={"text": ADDITION}, headers=headers)
        assert response.status_code == 404, headers
        check(doc, response, "POST", PATH)
    assert client.post(url("LPR-00000000"), json={"text": ADDITION}, headers=bearer(other["access_token"])).status_code == 404
    assert api.tasks("kominfo") == [api.task_of("kominfo", other["tracking_id"])]  # still waiting: no new verification
    assert events(app, other["tracking_id"], "addition_received") == []


def test_a_withdrawn_case_answers_409(app, api, client, doc):
    created = api.submit()
    tracking_id, citizen = created["tracking_id"], bearer(created["access_token"])
    assert client.post(f"/api/v1/complaints/{tracking_id}/withdraw", headers=citizen).json["status"] == "dicabut"
    response = client.post(url(tracking_id), json={"text": ADDITION}, headers=citizen)
    assert response.status_code == 409 and response.json["error"]
    check(doc, response, "POST", PATH)
    assert events(app, tracking_id, "addition_received") == [] and status_of(client, tracking_id, citizen) == "dicabut"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"text"}),
        ({"text": "pendek"}, {"text"}),
        ({"text": " \n" * 10 + "ya"}, {"text"}),  # long enough only with its spaces and line breaks
        ({"text": "x" * 5001}, {"text"}),
        ({"text": 12345678901}, {"text"}),
        ({"text": None}, {"text"}),
        ({"text": ["Sekolahnya SDN Sidoarjo 3."]}, {"text"}),
        ({"text": ADDITION, "lampiran": "foto.png"}, {"lampiran"}),
    ],
)
def test_a_bad_text_or_an_unknown_field_is_400_naming_it(app, api, client, doc, body, fields):
    tracking_id, citizen = asked(api)
    response = client.post(url(tracking_id), json=body, headers=citizen)
    assert response.status_code == 400 and set(response.json["errors"]) == fields, response.json
    check(doc, response, "POST", PATH)
    assert status_of(client, tracking_id, citizen) == "menunggu_kelengkapan" and api.tasks("kominfo") == []


def test_a_body_that_is_not_a_json_object_is_400(api, client, doc):
    tracking_id, citizen = forwarded(api)
    for data, content_type in (("", "application/json"), ("[1, 2]", "application/json"), ("text=halo", "text/plain")):
        response = client.post(url(tracking_id), data=data, content_type=content_type, headers=citizen)
        assert response.status_code == 400, data
        check(doc, response, "POST", PATH)


def test_a_bad_text_outside_the_wait_is_400_too(app, api, client):
    tracking_id, citizen = forwarded(api)
    response = client.post(url(tracking_id), json={"text": "pendek"}, headers=citizen)
    assert response.status_code == 400 and set(response.json["errors"]) == {"text"}
    assert events(app, tracking_id, "addition_received") == [] and staff_mails(app, tracking_id, "tambahan_pelapor") == []


# ---- files ------------------------------------------------------------------------------------------------


def test_a_multipart_addition_stores_its_png(app, api, client, doc):
    tracking_id, citizen = asked(api)
    assert stored(app, tracking_id) == []
    data = {"text": ADDITION, "attachments": [(io.BytesIO(PNG), "denah.png")]}
    response = client.post(url(tracking_id), data=data, content_type="multipart/form-data", headers=citizen)
    assert check(doc, response, "POST", PATH) == {"tracking_id": tracking_id, "status": "diterima"}
    assert stored(app, tracking_id) == ["image/png"]
    assert client.get(f"/api/v1/complaints/{tracking_id}", headers=citizen).json["conversation"][-1]["text"] == ADDITION


def test_a_file_of_another_type_is_refused_and_nothing_is_added(app, api, client, doc):
    tracking_id, citizen = forwarded(api)
    data = {"text": ADDITION, "attachments": [(io.BytesIO(b"MZ\x90\x00 not a document"), "surat.exe")]}
    response = client.post(url(tracking_id), data=data, content_type="multipart/form-data", headers=citizen)
    assert response.status_code == 400 and set(response.json["errors"]) == {"attachments"}
    check(doc, response, "POST", PATH)
    assert stored(app, tracking_id) == [] and events(app, tracking_id, "addition_received") == []


def test_too_many_files_a_missing_text_and_a_file_too_large_are_refused(app, api, client, doc):
    tracking_id, citizen = forwarded(api)
    sent = [
        ({"text": ADDITION, "attachments": [(io.BytesIO(PNG), f"foto{n}.png") for n in range(4)]}, 400, {"attachments"}),
        ({"attachments": [(io.BytesIO(PNG), "foto.png")]}, 400, {"text"}),
        ({"text": ADDITION, "attachments": [(io.BytesIO(b"\x89PNG\r\n\x1a\n" + bytes(MAX_BYTES)), "besar.png")]}, 413, {"attachments"}),
    ]
    for data, status, fields in sent:
        response = client.post(url(tracking_id), data=data, content_type="multipart/form-data", headers=citizen)
        assert (response.status_code, set(response.json["errors"])) == (status, fields), response.json
        check(doc, response, "POST", PATH)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
    assert events(app, tracking_id, "addition_received") == []


@pytest.mark.parametrize("multipart", [False, True])
def test_a_control_character_in_the_text_is_400_in_json_and_in_a_form(app, api, client, doc, multipart):
    tracking_id, citizen = forwarded(api)
    text = "Sekolahnya SDN Sidoarjo 3\x00, Jalan Pahlawan 12."
    sent = {"data": {"text": text}, "content_type": "multipart/form-data"} if multipart else {"json": {"text": text}}
    response = client.post(url(tracking_id), headers=citizen, **sent)
    assert response.status_code == 400, response.json
    assert set(response.json["errors"]) == (set() if multipart else {"text"})  # a form's text is refused before any route reads it
    check(doc, response, "POST", PATH)
    assert events(app, tracking_id, "addition_received") == []


def test_text_where_a_file_belongs_is_400(app, api, client, doc):
    tracking_id, citizen = forwarded(api)
    data = {"text": ADDITION, "attachments": "foto.png"}
    response = client.post(url(tracking_id), data=data, content_type="multipart/form-data", headers=citizen)
    assert response.status_code == 400 and set(response.json["errors"]) == {"attachments"}, response.json
    check(doc, response, "POST", PATH)
    assert events(app, tracking_id, "addition_received") == []
