"""engine/cases/access.py: the one redaction rule (``sight``) as a table, and the one loader (``case_for``, ``seen_cases``)
with the outputs it feeds (the staff case view, the audit history and its export)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import Actor, Forbidden, NotFound
from engine.cases import access as views
from engine.cases.access import Sight, sight
from engine.db.tables import Case
from tests.engine.support import (
    KESEHATAN,
    KOMINFO,
    PENDIDIKAN,
    PUSAT,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    submit,
)
from tests.scenarios import ACCEPT_SATKER, COMPLAINT, FORWARD_SATKER

AUDITOR = Actor("auditor", "auditor")
ANALIS = Actor("analis", "analis")
FLAGS = {"neither": (False, False), "confidential": (False, True), "anonymous": (True, False), "both": (True, True)}  # (anonymous, confidential)
S, H = "shown", "hidden"
# viewer: role, own_unit (the case is with the viewer's unit) -> does it open the case, and the identity for neither / confidential / anonymous / both
RULE = {
    ("pusat", False): (True, (S, S, H, H)),
    ("kominfo", False): (True, (S, S, H, H)),
    ("satker", True): (True, (S, S, H, H)),
    ("vertikal", True): (True, (S, S, H, H)),
    ("satker", False): (False, (H, H, H, H)),
    ("vertikal", False): (False, (H, H, H, H)),
    ("auditor", False): (True, (H, H, H, H)),
    ("analis", False): (False, (H, H, H, H)),
    ("analis", True): (False, (H, H, H, H)),  # a relation to a unit means nothing for a role without one
    ("pusat", True): (True, (S, S, H, H)),
    ("masyarakat", False): (False, (H, H, H, H)),  # the reporter reads their own case on the tracking page, never through staff outputs
}


@pytest.mark.parametrize("flags", FLAGS)
@pytest.mark.parametrize(("role", "own_unit"), RULE)
def test_the_rule_as_a_table(role, own_unit, flags):
    opens, identities = RULE[(role, own_unit)]
    anonymous, confidential = FLAGS[flags]
    assert sight(role, anonymous, confidential, own_unit) == Sight(case=opens, identity=identities[list(FLAGS).index(flags)] == S)


@pytest.mark.parametrize("flags", FLAGS)
def test_the_public_opens_only_cases_that_are_not_confidential_and_never_sees_a_reporter(flags):
    anonymous, confidential = FLAGS[flags]
    assert sight(None, anonymous, confidential) == Sight(case=not confidential, identity=False)


def test_no_staff_role_ever_sees_an_anonymous_reporter_nor_auditors_and_analysts_any_reporter():
    for role in ("pusat", "kominfo", "satker", "vertikal", "auditor", "analis", None):
        for own_unit in (False, True):
            assert not sight(role, True, False, own_unit).identity and not sight(role, True, True, own_unit).identity
    for role in ("auditor", "analis"):
        assert not sight(role, False, True).identity and not sight(role, False, False).identity


# ---- the loader ---------------------------------------------------------------------------------------


def test_the_analyst_is_refused_before_the_case_is_looked_up(service, session):
    submitted = submit(service, COMPLAINT)
    for tracking_id in (submitted.case.tracking_id, "LPR-00000000"):
        with pytest.raises(Forbidden):
            views.case_for(session, tracking_id, ANALIS)


def test_a_unit_opens_only_the_cases_with_it(service, session):
    with_pendidikan = submit(service, COMPLAINT, [FORWARD_SATKER, ACCEPT_SATKER]).case
    waiting = submit(service, COMPLAINT).case  # still with Admin Kominfo
    assert views.case_for(session, with_pendidikan.tracking_id, PENDIDIKAN).sight == Sight(case=True, identity=True)
    for viewer, tracking_id in ((KESEHATAN, with_pendidikan.tracking_id), (PENDIDIKAN, waiting.tracking_id), (PUSAT, "LPR-00000000")):
        with pytest.raises(NotFound):
            views.case_for(session, tracking_id, viewer)
    assert [seen.case for seen in views.seen_cases(session, [with_pendidikan, waiting], PENDIDIKAN)] == [with_pendidikan]
    assert [seen.case for seen in views.seen_cases(session, [with_pendidikan, waiting], KOMINFO)] == [with_pendidikan, waiting]


def test_a_unit_with_an_open_task_on_the_case_opens_it(service, session):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER])  # the unit's accept task is open
    case = session.scalar(select(Case).where(Case.id == submitted.case.id))
    case.unit_id = None  # only the open task ties the case to the unit now
    assert views.seen_case(session, case, PENDIDIKAN).sight.case
    with pytest.raises(NotFound):
        views.seen_case(session, case, KESEHATAN)


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
    seen = views.case_for(session, case.tracking_id, viewer)
    assert seen.hides_reporter is hidden
    reporter = None if hidden else COMPLAINT["reporter"]
    view = views.staff_case(session, seen)
    assert (view["reporter"], view["reporter_hidden"]) == (reporter, hidden)
    assert views.audit_history(session, seen)[0]["data"]["data"]["reporter"] == reporter
    export = views.history_export(session, seen, viewer.username, clock.now())
    assert export["reporter_redacted"] is hidden and export["events"][0]["data"]["data"]["reporter"] == reporter
