"""Open311 GeoReport v2 under /open311 (web/open311.py) and the partner keys page /admin/mitra.

The answers are compared with the field sets the specification names for each document (wiki.open311.org/GeoReport_v2),
and read back with a third-party GeoReport v2 client (the ``georeport`` package) over real HTTP.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from georeport import GeoReport
from lxml import etree
from sqlalchemy import select
from werkzeug.serving import make_server

from engine.accounts.partners import Partners
from engine.contract import CATEGORIES, Actor
from engine.db.tables import AdminEvent, Case, PartnerKey
from tests.web.pages import csrf, login
from web.extensions import db

V2 = "/open311/v2"
# the fields the specification lists for each document
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}
EXTENSIONS = {"title"}  # ours: the complaint's title
POSTED_FIELDS = {"service_request_id", "service_notice", "account_id"}
DISCOVERY_FIELDS = {"changeset", "contact", "key_service", "endpoints"}
ENDPOINT_FIELDS = {"specification", "url", "changeset", "type", "formats"}
FIRST, LAST, EMAIL, PHONE = "Kartika", "Prameswari", "kartika.prameswari@contoh.id", "0813 5566 7788"
NEEDLES = ("kartika", "prameswari", "0813 5566 7788", "081355667788", "5566 7788")
DESCRIPTION = "Lampu penerangan jalan di Jalan Darmo mati sejak seminggu, rawan kecelakaan pada malam hari."


@pytest.fixture
def key(app) -> str:
    with app.app_context():
        issued = Partners(db.session, Actor("pusat", "pusat")).issue("Aplikasi Warga")
        db.session.commit()
        return issued.key


def post(client, key: str | None, fmt: str = "json", **fields: Any):
    form = {
        "service_code": "infrastruktur",
        "description": DESCRIPTION,
        "lat": "-7.2891",
        "long": "112.7398",
        "address_string": "Jl. Raya Darmo, Surabaya",
        "email": EMAIL,
        "first_name": FIRST,
        "last_name": LAST,
        "phone": PHONE,
        "attribute[title]": "Lampu jalan Darmo mati",
    }
    if key is not None:
        form["api_key"] = key
    form.update(fields)
    return client.post(f"{V2}/requests.{fmt}", data={k: v for k, v in form.items() if v is not None})


def posted_id(client, key: str, **fields: Any) -> str:
    response = post(client, key, **fields)
    assert response.status_code == 201, response.json
    return response.json[0]["service_request_id"]


def xml(response) -> etree._Element:
    assert response.content_type == "text/xml; charset=utf-8"
    assert response.data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    return etree.fromstring(response.data)


def xml_items(root: etree._Element) -> list[dict[str, str | None]]:
    return [{child.tag: child.text for child in item} for item in root]


def errors(response) -> list[dict[str, Any]]:
    body = response.json
    assert isinstance(body, list) and all(set(e) == {"code", "description"} and e["code"] == response.status_code for e in body), body
    return body


# ---- discovery and services ------------------------------------------------------------------------


def test_discovery_lists_the_v2_endpoint_with_its_formats(client):
    for path in ("/open311", "/open311/discovery.json"):
        document = client.get(path).json
        assert set(document) == DISCOVERY_FIELDS
        [endpoint] = document["endpoints"]
        assert set(endpoint) == ENDPOINT_FIELDS
        assert endpoint["url"].endswith(V2) and endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    root = xml(client.get("/open311/discovery.xml"))
    assert root.tag == "discovery" and {child.tag for child in root} == DISCOVERY_FIELDS
    assert [f.text for f in root.find("endpoints/endpoint/formats")] == ["application/json", "text/xml"]


def test_one_service_per_category_in_json_and_xml(client):
    services = client.get(f"{V2}/services.json").json
    assert [s["service_code"] for s in services] == list(CATEGORIES)
    assert all(set(s) == SERVICE_FIELDS and s["metadata"] is False and s["type"] == "realtime" for s in services)
    assert services[1]["service_name"] == "Kesehatan"
    english = client.get(f"{V2}/services.json", headers={"Accept-Language": "en"}).json
    assert english[1]["service_name"] == "Health"
    root = xml(client.get(f"{V2}/services.xml"))
    assert root.tag == "services" and [item["service_code"] for item in xml_items(root)] == list(CATEGORIES)
    assert {child.tag for child in root[0]} == SERVICE_FIELDS and root[0].findtext("metadata") == "false"
    assert client.get(f"{V2}/services/kesehatan.json").json == {"service_code": "kesehatan", "attributes": []}
    assert errors(client.get(f"{V2}/services/parkir.json"))[0]["description"].startswith("service_code:")


# ---- posting ----------------------------------------------------------------------------------------------


def test_a_partner_posts_a_complaint_and_reads_it_back_in_json_and_xml(app, client, key, caplog):
    caplog.set_level(logging.INFO)
    response = post(client, key)
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    [answer] = response.json
    assert set(answer) == POSTED_FIELDS and answer["account_id"] is None
    tracking_id = answer["service_request_id"]
    assert re.fullmatch(r"LPR-[0-9A-Z]{8}", tracking_id) and tracking_id in answer["service_notice"]
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.tracking_id == tracking_id))
        partner = db.session.scalar(select(PartnerKey))
        assert (case.channel, case.category, case.title, case.latitude, case.longitude) == (
            "open311",
            "infrastruktur",
            "Lampu jalan Darmo mati",
            -7.2891,
            112.7398,
        )
    assert any(f"partner key {partner.id} ({partner.prefix}) submitted {tracking_id}" in r.getMessage() for r in caplog.records)
    assert not any(key in r.getMessage() for r in caplog.records)

    [one] = client.get(f"{V2}/requests/{tracking_id}.json").json
    assert set(one) == REQUEST_FIELDS | EXTENSIONS
    assert (one["service_request_id"], one["status"], one["service_code"], one["service_name"]) == (
        tracking_id,
        "open",
        "infrastruktur",
        "Infrastruktur",
    )
    assert (one["description"], one["address"], one["lat"], one["long"]) == (DESCRIPTION, "Jl. Raya Darmo, Surabaya", -7.2891, 112.7398)
    assert one["requested_datetime"] == "2026-11-30T09:00:00+07:00" and one["expected_datetime"] is None
    assert one["agency_responsible"] == "Dinas Komunikasi dan Informatika Provinsi Jawa Timur"
    assert client.get(f"{V2}/requests.json").json == [one]

    root = xml(client.get(f"{V2}/requests/{tracking_id}.xml"))
    assert root.tag == "service_requests" and [item.tag for item in root] == ["request"]
    [read] = xml_items(root)
    assert set(read) == REQUEST_FIELDS | EXTENSIONS
    assert (read["service_request_id"], read["lat"], read["description"], read["media_url"]) == (tracking_id, "-7.2891", DESCRIPTION, None)
    assert xml_items(xml(client.get(f"{V2}/requests.xml"))) == [read]


def test_posting_in_xml_answers_in_xml(client, key):
    root = xml(post(client, key, "xml"))
    assert root.tag == "service_requests"
    [answer] = xml_items(root)
    assert set(answer) == POSTED_FIELDS and answer["service_request_id"].startswith("LPR-")


def test_a_location_by_address_alone_and_a_title_from_the_description(client, key):
    tracking_id = posted_id(client, key, lat=None, long=None, **{"attribute[title]": None})
    [one] = client.get(f"{V2}/requests/{tracking_id}.json").json
    assert (one["lat"], one["long"], one["address"]) == (None, None, "Jl. Raya Darmo, Surabaya")
    assert one["title"] == "Lampu penerangan jalan di Jalan Darmo mati sejak seminggu..."  # cut at a word
    plain = posted_id(client, key, title="Judul lewat isian title", **{"attribute[title]": None})
    assert client.get(f"{V2}/requests/{plain}.json").json[0]["title"] == "Judul lewat isian title"


def test_a_missing_unknown_or_revoked_key_is_refused_in_the_spec_format(app, client, key):
    missing = post(client, None)
    assert missing.status_code == 400 and errors(missing)[0]["description"].startswith("api_key:")
    assert post(client, "lapor_bukan-kunci-kami").status_code == 403
    with app.app_context():
        Partners(db.session, Actor("pusat", "pusat")).revoke(db.session.scalar(select(PartnerKey.id)))
        db.session.commit()
    revoked = post(client, key, "xml")
    assert revoked.status_code == 403
    [error] = xml_items(xml(revoked))
    assert error["code"] == "403" and error["description"].startswith("api_key:")
    with app.app_context():
        assert db.session.scalar(select(Case.id)) is None


def test_each_bad_field_is_one_error_naming_it(client, key):
    response = post(client, key, service_code="parkir", lat="utara", description="pendek", email="bukan-email", phone="telepon saya")
    assert response.status_code == 400
    named = {e["description"].split(":")[0] for e in errors(response)}
    assert named == {"service_code", "lat", "description", "email", "phone"}
    assert errors(post(client, key, lat="nan"))[0]["description"].startswith("lat:")
    assert errors(post(client, key, lat="95"))[0]["description"].startswith("lat:")
    assert errors(post(client, key, long=None))[0]["description"].startswith("long:")
    assert errors(post(client, key, email=None))[0]["description"].startswith("email:")
    nowhere = errors(post(client, key, lat=None, long=None, address_string=None))
    assert [e["description"].split(":")[0] for e in nowhere] == ["address_string"]
    english = client.post(f"{V2}/requests.json", data={"api_key": key, "description": "short"}, headers={"Accept-Language": "en"})
    assert english.status_code == 400
    assert {e["description"].split(":")[0] for e in errors(english)} == {"description", "service_code", "email", "address_string"}


def test_the_input_check_still_refuses_control_characters(client, key):
    response = post(client, key, description=DESCRIPTION + "\x00")
    assert response.status_code == 400 and errors(response)[0]["code"] == 400


# ---- reading --------------------------------------------------------------------------------------------


def test_confidential_and_not_a_complaint_cases_are_never_shown(app, client, key, api):
    public = posted_id(client, key)
    secret = posted_id(client, key, **{"attribute[confidential]": "true"})
    secret_by_api = api.submit(confidential=True)["tracking_id"]
    archived = posted_id(client, key)
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.tracking_id == archived))
        case.status, case.archive_reason = "diarsipkan", "bukan_pengaduan"
        db.session.commit()
    listed = [r["service_request_id"] for r in client.get(f"{V2}/requests.json").json]
    assert listed == [public]
    both = ",".join([public, secret, secret_by_api, archived])
    assert [r["service_request_id"] for r in client.get(f"{V2}/requests.json", query_string={"service_request_id": both}).json] == [public]
    for tracking_id in (secret, secret_by_api, archived, "LPR-00000000"):
        for fmt in ("json", "xml"):
            response = client.get(f"{V2}/requests/{tracking_id}.{fmt}")
            assert response.status_code == 404
            body = errors(response) if fmt == "json" else xml_items(xml(response))
            assert body[0]["description"].startswith("service_request_id:")


def test_filters_by_service_status_dates_and_ids(app, client, key, clock):
    health = posted_id(client, key, service_code="kesehatan")
    clock.advance(days=2)
    roads = posted_id(client, key)
    clock.advance(days=1)
    closed = posted_id(client, key)
    with app.app_context():
        db.session.scalar(select(Case).where(Case.tracking_id == closed)).status = "selesai"
        db.session.commit()

    def ids(**query: str) -> list[str]:
        response = client.get(f"{V2}/requests.json", query_string=query)
        assert response.status_code == 200, response.json
        return [r["service_request_id"] for r in response.json]

    assert ids() == [closed, roads, health]  # newest first
    assert ids(service_code="kesehatan") == [health]
    assert ids(service_code="kesehatan,infrastruktur", status="open") == [roads, health]
    assert ids(status="closed") == [closed]
    assert client.get(f"{V2}/requests.json", query_string={"status": "closed"}).json[0]["status"] == "closed"
    assert ids(start_date="2026-12-01T00:00:00+07:00") == [closed, roads]
    assert ids(start_date="2026-11-30T00:00:00Z", end_date="2026-12-02T10:00:00+07:00") == [roads, health]
    assert ids(start_date="2026-11-30T00:00:00Z", end_date="2026-12-02T08:00:00+07:00") == [health]
    assert ids(end_date="2026-11-30") == []  # a date alone is its midnight, WIB
    assert ids(service_request_id=f"{health}, {closed}", status="open") == [closed, health]  # the ids override the rest
    clock.advance(days=95)
    assert ids() == []  # the default window: the last 90 days
    assert ids(start_date="2026-11-30T00:00:00+07:00") == [closed, roads, health]


def test_bad_filters_are_refused_in_the_spec_format(client):
    for query, field in (
        ({"status": "open,lost"}, "status"),
        ({"service_code": "parkir"}, "service_code"),
        ({"start_date": "kemarin"}, "start_date"),
        ({"start_date": "2026-01-01", "end_date": "2026-06-01"}, "end_date"),
        ({"start_date": "2026-06-01", "end_date": "2026-01-01"}, "end_date"),
        ({"service_request_id": ",".join(["LPR-00000000"] * 1001)}, "service_request_id"),
    ):
        response = client.get(f"{V2}/requests.json", query_string=query)
        assert response.status_code == 400 and errors(response)[0]["description"].startswith(f"{field}:"), query
    root = xml(client.get(f"{V2}/requests.xml", query_string={"status": "lost"}))
    assert root.tag == "errors" and root.findtext("error/code") == "400"


def test_unknown_paths_and_methods_answer_in_the_spec_format(client):
    assert client.get(f"{V2}/requests.csv").status_code == 404 and errors(client.get(f"{V2}/nothing.json"))
    response = client.delete(f"{V2}/requests.json")
    assert response.status_code == 405 and errors(response)[0]["code"] == 405
    assert xml(client.get(f"{V2}/nothing.xml")).findtext("error/code") == "404"


def test_no_output_carries_the_reporters_identity(client, key):
    outputs = []
    for fmt in ("json", "xml"):
        response = post(client, key, fmt)
        outputs.append(response.get_data(as_text=True))
    tracking_id = client.get(f"{V2}/requests.json").json[0]["service_request_id"]
    for fmt in ("json", "xml"):
        for path in ("requests", f"requests/{tracking_id}", "services"):
            outputs.append(client.get(f"{V2}/{path}.{fmt}").get_data(as_text=True))
        outputs.append(client.get(f"/open311/discovery.{fmt}").get_data(as_text=True))
    outputs.append(post(client, key, email="salah", first_name="Kartika Prameswari").get_data(as_text=True))
    assert all(outputs) and tracking_id in outputs[2]
    found = [(needle, text[:200]) for text in outputs for needle in (*NEEDLES, EMAIL.lower()) if needle in text.lower()]
    assert not found


# ---- a third-party client ------------------------------------------------------------------------------


@pytest.fixture
def served(app, monkeypatch) -> Iterator[str]:
    """The app on a real HTTP port of this machine (the client library speaks HTTP through ``requests``)."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}{V2}"
    server.shutdown()
    thread.join()


def test_a_georeport_v2_client_reads_our_endpoint(served, client, key):
    tracking_id = posted_id(client, key)
    for output_format in ("json", "xml"):
        reader = GeoReport(served, output_format=output_format)
        services = reader.get_service_list()
        assert [s["service_code"] for s in (services if output_format == "json" else services)] == list(CATEGORIES)
        one = reader.get_service_request(tracking_id)
        assert (one["service_request_id"], one["status"], one["description"]) == (tracking_id, "open", DESCRIPTION)
        listed = reader.get_service_requests(service_code="infrastruktur", status="open")
        listed = listed if isinstance(listed, list) else [listed]  # xmltodict: one <request> is a dict, not a list
        assert [r["service_request_id"] for r in listed] == [tracking_id]


# ---- /admin/mitra ------------------------------------------------------------------------------------------


def test_admin_pusat_issues_a_key_shown_once_and_it_works(app, client):
    pusat = login(app, "pusat")
    page = pusat.get("/admin/mitra")
    assert page.status_code == 200 and "Belum ada kunci API mitra." in page.get_data(as_text=True)
    assert 'href="/admin/mitra"' in pusat.get("/admin/unit").get_data(as_text=True)  # the admin nav links it
    refused = pusat.post("/admin/mitra", data={"name": "", "csrf_token": csrf(pusat, "/admin/mitra")})
    assert refused.status_code == 400 and "Nama mitra wajib diisi" in refused.get_data(as_text=True)

    issued = pusat.post("/admin/mitra", data={"name": "Aplikasi Warga Surabaya", "csrf_token": csrf(pusat, "/admin/mitra")})
    html = issued.get_data(as_text=True)
    assert issued.status_code == 200 and "hanya ditampilkan sekali" in html
    partner_key = re.search(r'<code id="partner-key">([^<]+)</code>', html).group(1)
    assert posted_id(client, partner_key)
    later = pusat.get("/admin/mitra").get_data(as_text=True)
    assert "Aplikasi Warga Surabaya" in later and partner_key[:12] in later and partner_key not in later
    assert "partner_key_issued" in later  # the recent changes list


def test_revoking_asks_first_then_the_key_stops_working(app, client, key):
    pusat = login(app, "pusat")
    with app.app_context():
        key_id = db.session.scalar(select(PartnerKey.id))
    path = f"/admin/mitra/{key_id}/cabut"
    confirm = pusat.get(path)
    assert confirm.status_code == 200 and "tidak dapat dibatalkan" in confirm.get_data(as_text=True)
    assert post(client, key).status_code == 201  # asking is not revoking
    done = pusat.post(path, data={"csrf_token": csrf(pusat, path)})
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/mitra")
    assert post(client, key).status_code == 403
    assert pusat.get(path).status_code == 302  # already revoked: back to the list
    with app.app_context():
        assert db.session.scalar(select(AdminEvent.action).where(AdminEvent.action == "partner_key_revoked")) == "partner_key_revoked"
    assert pusat.get("/admin/mitra/999999/cabut").status_code == 404


@pytest.mark.parametrize("username", ["kominfo", "auditor", "analis", "pendidikan"])
def test_only_admin_pusat_opens_the_partner_keys(app, key, username):
    staff = login(app, username)
    assert staff.get("/admin/mitra").status_code == 403
    with app.app_context():
        key_id = db.session.scalar(select(PartnerKey.id))
    assert staff.get(f"/admin/mitra/{key_id}/cabut").status_code == 403
    assert app.test_client().get("/admin/mitra").status_code in (302, 401)
