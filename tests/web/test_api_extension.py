"""POST /api/v1/tasks/{id}/extension (issue 19): the unit holding an answer task asks Admin Kominfo for more working
days, as documented; Admin Kominfo decides on a `perpanjangan` task served like any other, and GET /tasks then shows
the moved deadline. The clock starts on Monday 30 November 2026, 09:00 WIB: the unit's answer is due Tuesday 1
December 23:59:59, its national ceiling Monday 7 December."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.web.conftest import bearer
from tests.web.test_answer_attachments import answering
from tests.web.test_api import check, doc  # noqa: F401 - doc is a fixture

WIB = ZoneInfo("Asia/Jakarta")
REASON = "Perbaikan atap menunggu pengadaan bahan dari penyedia."
PATH = "/tasks/{task_id}/extension"


def ask(client, api, username: str, task_id: str, body: Any):
    return client.post(f"/api/v1/tasks/{task_id}/extension", json=body, headers=bearer(api.token(username)))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(WIB)


def test_the_unit_asks_admin_kominfo_decides_and_the_task_list_shows_the_moved_deadline(api, client, doc):  # noqa: F811
    tracking_id, _token, task_id = answering(api)
    assert at(api.task_of("pendidikan", tracking_id)["due_at"]) == datetime(2026, 12, 1, 23, 59, 59, tzinfo=WIB)

    created = check(doc, ask(client, api, "pendidikan", task_id, {"working_days": 2, "reason": REASON}), "POST", PATH)
    decision = created["task"]
    assert (decision["form"], decision["name"]) == ("perpanjangan", "Putuskan perpanjangan")
    assert [t["id"] for t in api.tasks("kominfo") if t["tracking_id"] == tracking_id] == [decision["id"]]
    served = client.get(f"/api/v1/tasks/{decision['id']}", headers=bearer(api.token("kominfo")))
    assert served.status_code == 200 and served.json["schema"]["properties"]["decision"]["enum"] == ["setuju", "tolak"]
    assert served.json["schema"]["properties"]["working_days"]["x-when"] == {"decision": "setuju"}

    assert api.complete("kominfo", decision["id"], {"decision": "setuju", "working_days": 2, "note": "Disetujui."}).status_code == 200
    moved = api.task_of("pendidikan", tracking_id)
    assert moved["id"] == task_id  # the same task, its deadline moved by two working days
    assert at(moved["due_at"]) == datetime(2026, 12, 3, 23, 59, 59, tzinfo=WIB)
    detail = client.get(f"/api/v1/tasks/{task_id}", headers=bearer(api.token("pendidikan"))).json
    assert at(detail["due_at"]) == datetime(2026, 12, 3, 23, 59, 59, tzinfo=WIB)
    assert at(detail["ceiling_at"]) == datetime(2026, 12, 7, 23, 59, 59, tzinfo=WIB)  # still before the moved target: stays


def test_a_refusal_leaves_the_deadline_and_the_unit_may_ask_again(api, client, doc):  # noqa: F811
    tracking_id, _token, task_id = answering(api)
    decision = ask(client, api, "pendidikan", task_id, {"working_days": 3, "reason": REASON}).json["task"]
    assert api.complete("kominfo", decision["id"], {"decision": "tolak", "note": "Mohon jawab sesuai batas SOP."}).status_code == 200
    assert at(api.task_of("pendidikan", tracking_id)["due_at"]) == datetime(2026, 12, 1, 23, 59, 59, tzinfo=WIB)
    again = check(doc, ask(client, api, "pendidikan", task_id, {"working_days": 1, "reason": REASON}), "POST", PATH)
    assert again["task"]["form"] == "perpanjangan" and again["task"]["id"] != decision["id"]


def test_granting_more_days_than_asked_is_a_field_error(api, client):
    _tracking_id, _token, task_id = answering(api)
    decision = ask(client, api, "pendidikan", task_id, {"working_days": 2, "reason": REASON}).json["task"]
    refused = api.complete("kominfo", decision["id"], {"decision": "setuju", "working_days": 3})
    assert refused.status_code == 400 and set(refused.json["errors"]) == {"working_days"}


def test_each_field_is_checked_and_named(api, client, doc):  # noqa: F811
    tracking_id, _token, task_id = answering(api)
    bad = check(doc, ask(client, api, "pendidikan", task_id, {"working_days": 61, "reason": "pendek"}), "POST", PATH)
    assert set(bad["errors"]) == {"working_days", "reason"}
    zero = check(doc, ask(client, api, "pendidikan", task_id, {"working_days": 0, "reason": REASON}), "POST", PATH)
    assert set(zero["errors"]) == {"working_days"}
    flag = ask(client, api, "pendidikan", task_id, {"working_days": True, "reason": REASON})
    assert flag.status_code == 400 and set(flag.json["errors"]) == {"working_days"}
    extra = ask(client, api, "pendidikan", task_id, {"working_days": 2, "reason": REASON, "until": "2026-12-31"})
    assert extra.status_code == 400 and set(extra.json["errors"]) == {"until"}
    not_json = client.post(f"/api/v1/tasks/{task_id}/extension", data="x", headers=bearer(api.token("pendidikan")))
    assert check(doc, not_json, "POST", PATH)["error"]
    assert [t for t in api.tasks("kominfo") if t["tracking_id"] == tracking_id] == []  # nothing was asked


def test_only_the_holder_of_the_open_answer_task_asks_and_only_once_at_a_time(api, client, doc):  # noqa: F811
    tracking_id, _token, task_id = answering(api)
    body = {"working_days": 2, "reason": REASON}
    assert check(doc, ask(client, api, "kesehatan", task_id, body), "POST", PATH)["error"]  # another unit: 404
    assert ask(client, api, "kesehatan", task_id, body).status_code == 404
    assert check(doc, ask(client, api, "kominfo", task_id, body), "POST", PATH) and ask(client, api, "kominfo", task_id, body).status_code == 403
    assert ask(client, api, "pendidikan", "00000000-0000-0000-0000-000000000000", body).status_code == 404
    verification = api.task_of("kominfo", api.submit()["tracking_id"])["id"]
    other_form = ask(client, api, "kominfo", verification, body)
    assert other_form.status_code == 409 and "tugas memberi tanggapan" in other_form.json["error"]
    assert client.post(f"/api/v1/tasks/{task_id}/extension", json=body).status_code == 401

    assert ask(client, api, "pendidikan", task_id, body).status_code == 201
    waiting = check(doc, ask(client, api, "pendidikan", task_id, body), "POST", PATH)
    assert "masih menunggu keputusan" in waiting["error"]
    api.step("pendidikan", tracking_id, {"response": "Perbaikan atap dijadwalkan minggu depan."})
    assert [t["form"] for t in api.tasks("kominfo") if t["tracking_id"] == tracking_id] == ["teruskan"]  # the request lapsed
    done = ask(client, api, "pendidikan", task_id, body)
    assert done.status_code == 409 and "sudah diselesaikan" in done.json["error"]


def test_the_document_describes_the_request_and_its_answer(doc):  # noqa: F811
    operation = doc["paths"][PATH]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ExtensionRequest"}
    request = doc["components"]["schemas"]["ExtensionRequest"]
    assert request["properties"]["working_days"].items() >= {"minimum": 1, "maximum": 60}.items() and request["additionalProperties"] is False
    assert set(operation["responses"]) >= {"201", "400", "401", "403", "404", "409"}
    completion = doc["components"]["schemas"]["TaskCompletion"]["properties"]["data"]["anyOf"]
    assert {"$ref": "#/components/schemas/PerpanjanganForm"} in completion


def test_an_interim_answer_is_in_the_citizens_timeline_and_conversation_as_documented(api, client, doc):  # noqa: F811
    tracking_id, token, task_id = answering(api)
    interim = {"response": "Kontraktor sudah meninjau atap; perbaikan butuh dua minggu.", "interim": True}
    assert api.complete("pendidikan", task_id, interim).status_code == 200
    assert api.task_of("pendidikan", tracking_id)["id"] == task_id  # the task stays open
    view = check(doc, client.get(f"/api/v1/complaints/{tracking_id}", headers=bearer(token)), "GET", "/complaints/{tracking_id}")
    assert view["timeline"][-1]["interim"] is True and view["timeline"][-1]["answer"] == interim["response"]
    assert [(c["kind"], c.get("interim")) for c in view["conversation"]][-1] == ("answer", True)
