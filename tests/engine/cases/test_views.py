"""engine/cases/views.py: what each reader is shown of a case, the reporter only where the loader's rule allows.
The citizen's view and timeline are also exercised by the tracking page and API tests (tests/web)."""

from __future__ import annotations

import pytest

from engine import Actor
from engine.cases import access, views
from tests.engine.support import KOMINFO, PENDIDIKAN, PUSAT, do, fast_password_hashing, open_rows, submit  # noqa: F401 - autouse fixture
from tests.scenarios import ACCEPT_SATKER, ANSWER_SATKER, COMPLAINT, FORWARD_SATKER, PUBLISH, SATISFIED, Do

AUDITOR = Actor("auditor", "auditor")
FLAGS = {"neither": (False, False), "confidential": (False, True), "anonymous": (True, False), "both": (True, True)}  # (anonymous, confidential)


@pytest.mark.parametrize(
    ("flags", "viewer", "hidden"),
    [
        ("confidential", PUSAT, False),
        ("confidential", KOMINFO, False),
        ("confidential", AUDITOR, True),
        ("anonymous", PUSAT, True),
        ("neither", AUDITOR, True),
        ("neither", PUSAT, False),
    ],
)
def test_the_staff_view_and_the_history_carry_the_reporter_only_where_the_rule_shows_it(service, session, clock, flags, viewer, hidden):
    anonymous, confidential = FLAGS[flags]
    case = submit(service, {**COMPLAINT, "anonymous": anonymous, "confidential": confidential}).case
    seen = access.case_for_staff(session, case.tracking_id, viewer)
    assert seen.hides_reporter is hidden
    reporter = None if hidden else COMPLAINT["reporter"]
    view = views.staff_case(session, seen)
    assert (view["reporter"], view["reporter_hidden"]) == (reporter, hidden)
    assert views.audit_history(session, seen)[0]["data"]["data"]["reporter"] == reporter
    export = views.history_export(session, seen, viewer.username, clock.now())
    assert export["reporter_redacted"] is hidden and export["events"][0]["data"]["data"]["reporter"] == reporter


def test_the_citizen_sees_their_complaint_and_a_timeline_that_starts_with_its_receipt(service, session):
    case = submit(service, COMPLAINT).case
    view = views.citizen_case(session, case)
    assert (view["tracking_id"], view["status"], view["title"]) == (case.tracking_id, "diterima", COMPLAINT["title"])
    assert [item["status"] for item in view["timeline"]] == ["diterima"]
    assert view["timeline"][0]["message"] == views.STATUS_MESSAGES["diterima"]
    assert view["answer"] is None


def test_the_citizen_view_carries_the_complaint_and_the_deadline_it_waits_on(service, session):
    case = submit(service, COMPLAINT).case
    view = views.citizen_case(session, case)
    assert (view["body"], view["location"], view["incident_date"]) == (COMPLAINT["body"], COMPLAINT["location"], COMPLAINT["incident_date"])
    [row] = open_rows(session, case.id)  # Admin Kominfo's disposisi
    assert view["due_at"] == row.due_at.isoformat()
    assert view["conversation"] == [{"kind": "complaint", "at": case.submitted_at.isoformat(), "text": COMPLAINT["body"]}]


def test_a_closed_case_waits_on_no_deadline(service, session):
    case = submit(service, COMPLAINT, [FORWARD_SATKER, ACCEPT_SATKER, ANSWER_SATKER, PUBLISH, SATISFIED]).case
    assert views.citizen_case(session, case)["due_at"] is None


def test_each_loop_gets_its_own_timeline_line_and_every_answer_stays(service, session):
    second = "Atap diperbaiki ulang pada 14 Desember 2026."
    case = submit(
        service,
        COMPLAINT,
        [
            FORWARD_SATKER,
            Do("Task_Terima_Satker", {"decision": "bukan_wewenang", "note": "Gedung milik kabupaten."}),
            FORWARD_SATKER,
            ACCEPT_SATKER,
            ANSWER_SATKER,
            PUBLISH,
            Do("Task_Balasan", {"satisfied": False, "text": "Atap masih bocor."}),
            FORWARD_SATKER,
            ACCEPT_SATKER,
            ANSWER_SATKER,
            Do("Task_Teruskan", {"decision": "teruskan", "answer": second}),
        ],
    ).case
    timeline = views.citizen_case(session, case)["timeline"]
    statuses = [item["status"] for item in timeline]
    assert statuses == ["diterima", "didisposisikan", "diterima", "didisposisikan", "ditindaklanjuti", "dijawab", "diterima"] + [
        "didisposisikan",
        "ditindaklanjuti",
        "dijawab",
    ]
    messages = [item["message"] for item in timeline]
    assert messages.count(views.STATUS_MESSAGES["diterima"]) == 1  # the receipt line is never repeated
    assert messages[2] == views.RETURNED_MESSAGES["didisposisikan"] and messages[6] == views.RETURNED_MESSAGES["dijawab"]
    assert messages[5] == views.STATUS_MESSAGES["dijawab"] and messages[9] == views.NEW_ANSWER
    assert [item.get("answer") for item in timeline if item["status"] == "dijawab"] == [PUBLISH.data["answer"], second]
    conversation = views.citizen_case(session, case)["conversation"]
    assert [(item["kind"], item["text"]) for item in conversation] == [
        ("complaint", COMPLAINT["body"]),
        ("answer", PUBLISH.data["answer"]),
        ("reply", "Atap masih bocor."),
        ("answer", second),
    ]
    assert conversation[2]["satisfied"] is False


def test_the_timeline_names_the_unit_the_case_was_forwarded_to_then(service, session):
    case = submit(
        service,
        COMPLAINT,
        [
            Do("Task_Disposisi", {"unit": "dinas-kesehatan"}),
            Do("Task_Terima_Satker", {"decision": "bukan_wewenang", "note": "Bukan urusan kesehatan."}),
            FORWARD_SATKER,
        ],
    ).case
    forwarded = [item["message"] for item in views.timeline(session, case) if item["status"] == "didisposisikan"]
    assert ["Kesehatan" in forwarded[0], "Pendidikan" in forwarded[1]] == [True, True], forwarded
