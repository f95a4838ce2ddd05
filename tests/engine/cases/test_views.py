"""engine/cases/views.py: what each reader is shown of a case, the reporter only where the loader's rule allows.
The citizen's view and timeline are also exercised by the tracking page and API tests (tests/web)."""

from __future__ import annotations

import pytest

from engine import Actor
from engine.cases import access, views
from tests.engine.support import KOMINFO, PUSAT, fast_password_hashing, submit  # noqa: F401 - autouse fixture
from tests.scenarios import COMPLAINT

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
