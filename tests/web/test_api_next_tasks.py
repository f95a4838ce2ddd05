"""GET /api/v1/tasks?tracking_id= and the ``next_tasks`` of a step's answer (issue 20): a client follows a case from step to
step without reading its whole inbox, and sees only the tasks it holds, by the one holder rule of
engine/cases/access.py: never another unit's, Admin Kominfo's to a unit, or a staff task to the citizen."""

from __future__ import annotations

from tests.web.conftest import bearer
from tests.web.test_api import ACCEPT, FORWARD, PUBLISH, RESPOND, check, doc  # noqa: F401 - doc is a fixture

TWO_UNITS = {"units": ["dinas-pendidikan", "kanwil-bpn-jatim"], "classification": "pengaduan"}


def case_tasks(client, api, username: str, tracking_id: str, doc=None) -> list[dict]:  # noqa: F811
    response = client.get("/api/v1/tasks", query_string={"tracking_id": tracking_id}, headers=bearer(api.token(username)))
    assert response.status_code == 200, response.json
    if doc is not None:
        check(doc, response, "GET", "/tasks")
    return response.json["tasks"]


def complete(api, doc, username: str, task_id: str, data: dict) -> dict:  # noqa: F811
    return check(doc, api.complete(username, task_id, data), "POST", "/tasks/{task_id}/complete")


def test_the_filter_lists_only_the_callers_tasks_of_that_case(api, client, doc):  # noqa: F811
    first, second = api.submit()["tracking_id"], api.submit()["tracking_id"]
    [task] = case_tasks(client, api, "kominfo", first, doc)
    assert (task["tracking_id"], task["form"], task["unit"]) == (first, "disposisi", None)
    assert task == api.task_of("kominfo", first)  # the inbox's item, field for field
    assert [t["tracking_id"] for t in case_tasks(client, api, "kominfo", second)] == [second]
    assert case_tasks(client, api, "kominfo", first.lower().replace("-", " "))[0]["id"] == task["id"]  # as people type it
    assert case_tasks(client, api, "pendidikan", first) == []  # the case is not with the unit yet
    whole = client.get(f"/api/v1/tasks?tracking_id={first}", headers=bearer(api.token("kominfo"))).json
    assert (whole["total"], whole["page"], whole["pages"]) == (1, 1, 1)


def test_an_unknown_case_lists_nothing_and_an_empty_id_is_refused(api, client, doc):  # noqa: F811
    api.submit()
    assert case_tasks(client, api, "kominfo", "LPR-00000000", doc) == []
    assert case_tasks(client, api, "kominfo", "bukan nomor") == []
    empty = client.get("/api/v1/tasks?tracking_id=", headers=bearer(api.token("kominfo")))
    assert empty.status_code == 400 and set(check(doc, empty, "GET", "/tasks")["errors"]) == {"tracking_id"}


def test_the_filter_keeps_the_other_filters(api, client):
    tracking_id = api.submit()["tracking_id"]
    kominfo = bearer(api.token("kominfo"))
    assert client.get(f"/api/v1/tasks?tracking_id={tracking_id}&status=selesai", headers=kominfo).json["tasks"] == []
    assert len(client.get(f"/api/v1/tasks?tracking_id={tracking_id}&status=diterima", headers=kominfo).json["tasks"]) == 1
    assert client.get(f"/api/v1/tasks?tracking_id={tracking_id}&status=nope", headers=kominfo).status_code == 400


def test_the_unit_is_offered_its_own_next_task(api, client, doc):  # noqa: F811
    tracking_id = api.submit()["tracking_id"]
    [disposisi] = case_tasks(client, api, "kominfo", tracking_id)
    forwarded = complete(api, doc, "kominfo", disposisi["id"], FORWARD)
    assert (forwarded["status"], forwarded["next_tasks"]) == ("didisposisikan", [])  # the unit's task is not Admin Kominfo's
    [terima] = case_tasks(client, api, "pendidikan", tracking_id, doc)
    accepted = complete(api, doc, "pendidikan", terima["id"], ACCEPT)
    [tanggapan] = accepted["next_tasks"]
    assert (tanggapan["form"], tanggapan["unit"], tanggapan["tracking_id"]) == ("tanggapan", "dinas-pendidikan", tracking_id)
    assert tanggapan == api.task_of("pendidikan", tracking_id)  # the same item GET /tasks lists
    answered = complete(api, doc, "pendidikan", tanggapan["id"], RESPOND)
    assert answered["next_tasks"] == []  # Admin Kominfo's teruskan is never shown to the unit
    [teruskan] = case_tasks(client, api, "kominfo", tracking_id)
    assert teruskan["form"] == "teruskan"
    published = complete(api, doc, "kominfo", teruskan["id"], PUBLISH)
    assert (published["status"], published["next_tasks"]) == ("dijawab", [])  # the citizen's reply is not a staff task


def test_a_unit_is_never_offered_another_units_task(api, client, doc):  # noqa: F811
    tracking_id = api.submit()["tracking_id"]
    [disposisi] = case_tasks(client, api, "kominfo", tracking_id)
    assert complete(api, doc, "kominfo", disposisi["id"], TWO_UNITS)["next_tasks"] == []
    [pendidikan] = case_tasks(client, api, "pendidikan", tracking_id)
    [bpn] = case_tasks(client, api, "bpn", tracking_id)
    assert (pendidikan["unit"], bpn["unit"]) == ("dinas-pendidikan", "kanwil-bpn-jatim")
    offered = complete(api, doc, "pendidikan", pendidikan["id"], ACCEPT)["next_tasks"]
    assert [(t["form"], t["unit"]) for t in offered] == [("tanggapan", "dinas-pendidikan")]  # not BPN's open terima
    assert case_tasks(client, api, "kesehatan", tracking_id) == []
    declined = complete(api, doc, "bpn", bpn["id"], {"decision": "bukan_wewenang", "note": "Bukan urusan pertanahan."})
    assert declined["next_tasks"] == []


def test_a_unit_declining_is_not_offered_admin_kominfos_new_task(api, client, doc):  # noqa: F811
    tracking_id = api.submit()["tracking_id"]
    api.step("kominfo", tracking_id, FORWARD)
    [terima] = case_tasks(client, api, "pendidikan", tracking_id)
    declined = complete(api, doc, "pendidikan", terima["id"], {"decision": "bukan_wewenang", "note": "Bukan kewenangan kami."})
    assert (declined["status"], declined["next_tasks"]) == ("diterima", [])
    assert [t["form"] for t in case_tasks(client, api, "kominfo", tracking_id)] == ["disposisi"]


def test_the_citizens_reply_answers_no_staff_task(api, client, doc):  # noqa: F811
    for satisfied, status, kominfo_forms in ((False, "diterima", ["disposisi"]), (True, "selesai", [])):
        created = api.submit()
        tracking_id = created["tracking_id"]
        for username, data in (("kominfo", FORWARD), ("pendidikan", ACCEPT), ("pendidikan", RESPOND), ("kominfo", PUBLISH)):
            api.step(username, tracking_id, data)
        reply = client.post(
            f"/api/v1/complaints/{tracking_id}/replies",
            json={"satisfied": satisfied, "text": "Terima kasih." if satisfied else "Atap masih bocor."},
            headers=bearer(created["access_token"]),
        )
        answer = check(doc, reply, "POST", "/complaints/{tracking_id}/replies")
        assert (answer["status"], answer["next_tasks"]) == (status, [])  # not satisfied: Admin Kominfo's task, not shown
        assert [t["form"] for t in case_tasks(client, api, "kominfo", tracking_id)] == kominfo_forms
