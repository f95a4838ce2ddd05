"""POST /api/v1/complaints with a staff token (Admin Kominfo, Admin Pusat recording a complaint received by phone,
letter, in person ...), the citizen's ``aplikasi`` channel, and the complaint's coordinates."""

from __future__ import annotations

import io
import json

from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from sqlalchemy import func, select

from engine.contract import CHANNELS
from engine.db.tables import AuditEvent, Case, OutboxMail
from tests.scenarios import COMPLAINT
from tests.web.conftest import bearer
from tests.web.pages import PNG
from web.extensions import db

URL = "/api/v1/complaints"
NO_EMAIL = {**COMPLAINT, "reporter": {"name": "Pak Darmo"}}


def case_of(app, tracking_id: str) -> Case:
    with app.app_context():
        return db.session.scalar(select(Case).where(Case.tracking_id == tracking_id))


def cases(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Case))


def test_kominfo_records_a_phone_complaint_without_email(app, client, api):
    response = client.post(URL, json={**NO_EMAIL, "channel": "telepon"}, headers=bearer(api.token("kominfo")))
    assert response.status_code == 201, response.json
    case = case_of(app, response.json["tracking_id"])
    assert case.channel == "telepon"
    with app.app_context():
        started = db.session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id, AuditEvent.type == "case_started"))
        assert started.actor == "kominfo" and json.loads(started.data)["recorded_by"] == {"role": "kominfo"}
        assert "channel" not in json.loads(started.data)["data"]  # taken out of the form's data
        assert db.session.scalar(select(func.count()).select_from(OutboxMail).where(OutboxMail.case_id == case.id, OutboxMail.user_id.is_(None))) == 0
    # the access token answers the reporter's own requests, as for any complaint
    assert client.get(f"{URL}/{case.tracking_id}", headers=bearer(response.json["access_token"])).status_code == 200


def test_pusat_may_set_every_channel(app, client, api):
    for channel in CHANNELS:
        response = client.post(URL, json={**COMPLAINT, "channel": channel}, headers=bearer(api.token("pusat")))
        assert response.status_code == 201, (channel, response.json)
        assert case_of(app, response.json["tracking_id"]).channel == channel


def test_staff_must_name_the_channel(app, client, api):
    for body in (NO_EMAIL, {**NO_EMAIL, "channel": "merpati"}, {**NO_EMAIL, "channel": None}):
        response = client.post(URL, json=body, headers=bearer(api.token("kominfo")))
        assert response.status_code == 400 and set(response.json["errors"]) == {"channel"}, response.json
    assert cases(app) == 0


def test_a_citizen_may_only_use_the_apps_channel(app, client):
    assert case_of(app, client.post(URL, json=COMPLAINT).json["tracking_id"]).channel == "aplikasi"
    assert case_of(app, client.post(URL, json={**COMPLAINT, "channel": "aplikasi"}).json["tracking_id"]).channel == "aplikasi"
    for channel in ("telepon", "web", "open311"):
        response = client.post(URL, json={**COMPLAINT, "channel": channel}, headers={"Accept-Language": "en"})
        assert response.status_code == 400 and set(response.json["errors"]) == {"channel"}
    without_email = client.post(URL, json=NO_EMAIL)
    assert without_email.status_code == 400 and "reporter.email" in without_email.json["errors"]  # optional for staff only
    assert cases(app) == 2


def test_another_roles_token_is_refused_and_a_bad_one_is_not_taken_for_a_citizen(app, client, api):
    for username in ("pendidikan", "auditor", "analis"):
        response = client.post(URL, json={**COMPLAINT, "channel": "telepon"}, headers=bearer(api.token(username)))
        assert response.status_code == 403, username
    for token in ("bukan-token", ""):
        response = client.post(URL, json=COMPLAINT, headers={"Authorization": f"Bearer {token}x"})
        assert response.status_code == 401 and "Bearer" in response.headers["WWW-Authenticate"]
    assert cases(app) == 0


def test_an_expired_or_revoked_token_answers_401(app, client, api, clock):
    token = api.token("kominfo")
    assert client.delete("/api/v1/auth/token", headers=bearer(token)).status_code == 204
    assert client.post(URL, json={**COMPLAINT, "channel": "surat"}, headers=bearer(token)).status_code == 401
    api.forget_tokens()
    token = api.token("kominfo")
    clock.advance(hours=12, minutes=1)
    assert client.post(URL, json={**COMPLAINT, "channel": "surat"}, headers=bearer(token)).status_code == 401
    assert cases(app) == 0


def test_multipart_takes_the_channel_inside_the_complaint_part(app, client, api):
    data = {"complaint": json.dumps({**NO_EMAIL, "channel": "surat"}), "attachments": [(io.BytesIO(PNG), "surat.png")]}
    response = client.post(URL, data=data, content_type="multipart/form-data", headers=bearer(api.token("pusat")))
    assert response.status_code == 201, response.json
    assert case_of(app, response.json["tracking_id"]).channel == "surat"


def test_a_staff_submission_and_a_citizens_under_one_key_differ(app, client, api):
    key = {"Idempotency-Key": "4b1f3c1e-0d7e-4a57-9f55-0e5b8f1f6a11"}
    assert client.post(URL, json=COMPLAINT, headers=key).status_code == 201
    staff = client.post(URL, json={**COMPLAINT, "channel": "aplikasi"}, headers={**key, **bearer(api.token("kominfo"))})
    assert staff.status_code == 422  # the same body and channel, but recorded by staff: another request
    assert cases(app) == 1


def test_coordinates_are_taken_as_numbers_both_or_neither(app, client):
    response = client.post(URL, json={**COMPLAINT, "latitude": -7.2575, "longitude": 112.752088})
    case = case_of(app, response.json["tracking_id"])
    assert (case.latitude, case.longitude) == (-7.2575, 112.752088)
    alone = client.post(URL, json={**COMPLAINT, "latitude": -7.2575})
    assert alone.status_code == 400 and set(alone.json["errors"]) == {"longitude"}
    as_text = client.post(URL, json={**COMPLAINT, "latitude": "-7.2575", "longitude": 112.75})
    assert as_text.status_code == 400 and set(as_text.json["errors"]) == {"latitude"}
    out_of_range = client.post(URL, json={**COMPLAINT, "latitude": -7.25, "longitude": 181})
    assert out_of_range.status_code == 400 and set(out_of_range.json["errors"]) == {"longitude"}


def test_the_document_describes_the_channel_the_staff_token_and_the_coordinates(client):
    doc = client.get("/api/v1/openapi.json").json
    operation = doc["paths"]["/complaints"]["post"]
    assert operation["security"] == [{}, {"staffToken": []}]  # a token is optional
    assert {"400", "401", "403"} <= set(operation["responses"])
    schemas = doc["components"]["schemas"]
    submission = schemas["ComplaintSubmission"]
    assert submission["properties"]["channel"]["enum"] == list(CHANNELS)
    assert set(submission["properties"]) == {*schemas["PengaduanForm"]["properties"], "channel"}
    assert {"latitude", "longitude"} <= set(submission["properties"])
    assert schemas["ComplaintUpload"]["properties"]["complaint"]["$ref"] == "#/components/schemas/ComplaintSubmission"
    registry = Registry().with_resource("urn:doc", DRAFT202012.create_resource(doc))
    validator = Draft202012Validator({"$ref": "urn:doc#/components/schemas/ComplaintSubmission"}, registry=registry)
    assert validator.is_valid({**NO_EMAIL, "channel": "telepon", "latitude": -7.25, "longitude": 112.75})
    assert validator.is_valid({**COMPLAINT, "latitude": -7.25, "longitude": 112.75}) and validator.is_valid({**COMPLAINT, "channel": "aplikasi"})
    assert not validator.is_valid({**COMPLAINT, "channel": "merpati"})
    assert not validator.is_valid(NO_EMAIL) and not validator.is_valid({**NO_EMAIL, "channel": "aplikasi"})  # a citizen's needs the email
    assert not validator.is_valid({**COMPLAINT, "latitude": -7.25})  # both or neither
