"""GET /api/v1/cases/{tracking_id}/similar: the liaison's possible duplicates, as documented in /api/v1/openapi.json."""

from __future__ import annotations

from tests.scenarios import COMPLAINT, ROAD, ROAD_AGAIN
from tests.web.conftest import bearer
from tests.web.test_api import check, doc  # noqa: F401 - doc is a fixture

PATH = "/cases/{tracking_id}/similar"


def _url(tracking_id: str) -> str:
    return f"/api/v1/cases/{tracking_id}/similar"


def test_the_liaison_gets_the_repeat_first(api, client, doc):  # noqa: F811
    road = api.submit(**ROAD)["tracking_id"]
    again = api.submit(**ROAD_AGAIN, latitude=-7.3519, longitude=112.7296)["tracking_id"]
    school = api.submit()["tracking_id"]  # COMPLAINT: a leaking school roof in Surabaya
    for username in ("kominfo", "pusat"):
        body = check(doc, client.get(_url(road), headers=bearer(api.token(username))), "GET", PATH)
        assert [item["tracking_id"] for item in body["similar"]] == [again]
        [item] = body["similar"]
        assert item["title"] == ROAD_AGAIN["title"] and item["status"] == "diterima" and item["category"] == "infrastruktur"
        assert 0 < item["score"] <= 1 and item["duplicate_of"] is None
    body = check(doc, client.get(_url(school), headers=bearer(api.token("kominfo"))), "GET", PATH)
    assert body == {"similar": []}


def test_a_lower_case_tracking_id_is_accepted(api, client):
    road = api.submit(**ROAD)["tracking_id"]
    again = api.submit(**ROAD_AGAIN)["tracking_id"]
    response = client.get(_url(road.lower()), headers=bearer(api.token("kominfo")))
    assert response.status_code == 200 and [item["tracking_id"] for item in response.json["similar"]] == [again]


def test_confidential_cases_are_listed_to_the_liaison(api, client):
    road = api.submit(**ROAD)["tracking_id"]
    secret = api.submit(**ROAD_AGAIN, confidential=True, anonymous=True)["tracking_id"]
    body = client.get(_url(road), headers=bearer(api.token("kominfo"))).json
    assert [item["tracking_id"] for item in body["similar"]] == [secret]
    assert "Siti" not in str(body) and COMPLAINT["reporter"]["email"] not in str(body)


def test_only_kominfo_and_pusat_unknown_cases_and_no_token(api, client, doc):  # noqa: F811
    road = api.submit(**ROAD)["tracking_id"]
    for username in ("pendidikan", "auditor", "analis", "binamarga"):
        response = client.get(_url(road), headers=bearer(api.token(username)))
        assert response.status_code == 403, username
        check(doc, response, "GET", PATH)
    response = client.get(_url(road))
    assert response.status_code == 401
    check(doc, response, "GET", PATH)
    response = client.get(_url("LPR-00000000"), headers=bearer(api.token("kominfo")))
    assert response.status_code == 404
    check(doc, response, "GET", PATH)
