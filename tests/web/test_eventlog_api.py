"""GET /api/v1/cases/export.xes and /cases/export.ocel.json, and their /rekap downloads: the event logs of cases driven
through the SOP's scenarios, for the readers of figures only, narrowed by the period and the unit."""

from __future__ import annotations

import json

import pytest
from lxml import etree

from engine.audit.eventlog import XES_NS
from tests.engine.audit.support import run
from tests.scenarios import SCENARIOS
from tests.web.conftest import bearer
from tests.web.pages import login
from web.extensions import db, service

NOVEMBER_30 = {"from": "2026-11-30", "to": "2026-11-30"}
XES = {"x": XES_NS}
# submitted on Monday 30 November: a case answered by a unit, one by a vertical agency, one whose deadlines pass (last: its waits
# move the clock on)
RUN = ("satuan_kerja_route", "instansi_vertikal_route", "disposisi_deadlines")


@pytest.fixture
def cases(app):
    """The scenarios' cases, as the façade drives them on the app's database: their tracking ids, in submission order."""
    with app.app_context():
        tracking_ids = [run(service(), *SCENARIOS[name]).case.tracking_id for name in RUN]
        db.session.remove()
    return tracking_ids


def xes_traces(body: bytes) -> dict[str, list[str]]:
    """Each trace's case and the names of its events, in order."""
    log = etree.fromstring(body)
    return {
        trace.find("x:string[@key='concept:name']", XES).get("value"): [
            event.find("x:string[@key='concept:name']", XES).get("value") for event in trace.findall("x:event", XES)
        ]
        for trace in log.findall("x:trace", XES)
    }


def test_an_auditor_downloads_the_period_as_xes_one_trace_per_case(api, cases):
    response = api.client.get("/api/v1/cases/export.xes", query_string=NOVEMBER_30, headers=bearer(api.token("auditor")))
    assert response.status_code == 200 and response.mimetype == "application/xml" and response.is_streamed
    assert response.headers["Content-Disposition"] == 'attachment; filename="lapor-2026-11-30_2026-11-30.xes"'
    assert response.headers["Cache-Control"] == "no-store"
    traces = xes_traces(response.data)
    assert list(traces) == cases  # oldest submission first
    straight = traces[cases[0]]
    assert straight[0] == "Pengaduan diajukan" and straight[-1] == "Laporan selesai" and "Beri tanggapan" in straight
    assert traces[cases[2]].count("Batas SOP 1 hari kerja") == 1 and "Batas nasional 3 hari kerja" in traces[cases[2]]


def test_filters_narrow_the_traces(api, cases):
    token = bearer(api.token("pusat"))

    def traced(**query) -> list[str]:
        response = api.client.get("/api/v1/cases/export.xes", query_string=query, headers=token)
        assert response.status_code == 200, response.json
        return list(xes_traces(response.data))

    assert traced(**NOVEMBER_30, unit="kanwil-bpn-jatim") == [cases[1]]
    assert traced(**NOVEMBER_30, unit="dinas-pendidikan") == [cases[0], cases[2]]
    assert traced(**{"from": "2026-12-01", "to": "2026-12-31"}) == []
    assert traced(to="2026-11-30") == cases  # from the first of its month
    assert traced() == []  # by default this month up to today: the waits moved the clock into December


def test_an_analyst_reads_the_same_log_as_ocel(api, cases):
    response = api.client.get("/api/v1/cases/export.ocel.json", query_string=NOVEMBER_30, headers=bearer(api.token("analis")))
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == 'attachment; filename="lapor-2026-11-30_2026-11-30.ocel.json"'
    log = json.loads(response.data)
    xes = xes_traces(api.client.get("/api/v1/cases/export.xes", query_string=NOVEMBER_30, headers=bearer(api.token("analis"))).data)
    assert len(log["events"]) == sum(len(events) for events in xes.values())
    objects = {kind: [o["id"] for o in log["objects"] if o["type"] == kind] for kind in ("case", "unit")}
    assert objects == {"case": cases, "unit": ["dinas-pendidikan", "kanwil-bpn-jatim"]}
    assert {t["name"] for t in log["eventTypes"]} == {e["type"] for e in log["events"]}


@pytest.mark.parametrize("path", ["/api/v1/cases/export.xes", "/api/v1/cases/export.ocel.json"])
def test_only_the_readers_of_figures_with_a_token_get_the_log(api, cases, path):
    assert api.client.get(path).status_code == 401
    for username in ("kominfo", "pendidikan", "bpn"):
        response = api.client.get(path, headers=bearer(api.token(username)))
        assert response.status_code == 403 and response.json["error"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"from": "20261130"}, "from"),
        ({"to": "30-11-2026"}, "to"),
        ({"from": "2026-12-01", "to": "2026-11-30"}, "to"),
        ({"unit": "dinas-tidak-ada"}, "unit"),
    ],
)
def test_bad_filters_are_a_400_naming_the_parameter(api, query, field):
    response = api.client.get("/api/v1/cases/export.xes", query_string=query, headers=bearer(api.token("auditor")))
    assert response.status_code == 400 and list(response.json["errors"]) == [field]


@pytest.mark.parametrize(("username", "status"), [("auditor", 200), ("analis", 200), ("pusat", 200), ("kominfo", 403), ("kesehatan", 403)])
def test_the_report_pages_offer_both_logs_as_downloads(app, cases, username, status):
    client = login(app, username)
    for path, name in (("/rekap/log.xes", "lapor-2026-11-30_2026-11-30.xes"), ("/rekap/log.ocel.json", "lapor-2026-11-30_2026-11-30.ocel.json")):
        response = client.get(path, query_string={"dari": "2026-11-30", "sampai": "2026-11-30"})
        assert response.status_code == status
        if status == 200:
            assert response.headers["Content-Disposition"] == f'attachment; filename="{name}"'
            assert all(tracking_id in response.get_data(as_text=True) for tracking_id in cases)
    if status == 200:
        page = client.get("/rekap", query_string={"dari": "2026-11-30", "sampai": "2026-11-30"}).get_data(as_text=True)
        assert "/rekap/log.xes?dari=2026-11-30&amp;sampai=2026-11-30" in page and "/rekap/log.ocel.json?dari=2026-11-30" in page
        only_bpn = client.get("/rekap/log.xes", query_string={"dari": "2026-11-30", "sampai": "2026-11-30", "unit": "kanwil-bpn-jatim"})
        assert list(xes_traces(only_bpn.data)) == [cases[1]]
