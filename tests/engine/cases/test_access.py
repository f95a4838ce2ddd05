"""engine/cases/access.py: the one redaction rule (``sight``) as a table, the loaders of a case (``case_for_staff``,
``seen_cases``, ``oversight_case``, ``case_for_citizen``) with the outputs they feed (the staff case view, the audit
history and its export), and the holder rule of a task with its loaders (``holds``, ``held_by``, ``task_for``,
``seen_task``, ``refuse_closed_task``)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import CITIZEN, Actor, Conflict, Forbidden, NotFound
from engine.cases import access
from engine.cases.access import Sight, sight
from engine.db.tables import Case, OpenTask
from tests.engine.support import (
    BPN,
    KESEHATAN,
    KOMINFO,
    PENDIDIKAN,
    PUSAT,
    do,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    open_row,
    submit,
)
from tests.scenarios import ACCEPT_SATKER, COMPLAINT, FORWARD_SATKER

AUDITOR = Actor("auditor", "auditor")
ANALIS = Actor("analis", "analis")
FLAGS = {"neither": (False, False), "confidential": (False, True), "anonymous": (True, False), "both": (True, True)}  # (anonymous, confidential)
S, H = "shown", "hidden"
# viewer: role, own_unit (the case is with the viewer's unit) -> does it open the case, the identity for neither /
# confidential / anonymous / both, and whether it reads the reporter's own text beside the one staff redacted for units
RULE = {
    ("pusat", False): (True, (S, S, H, H), True),
    ("kominfo", False): (True, (S, S, H, H), True),
    ("satker", True): (True, (S, S, H, H), False),
    ("vertikal", True): (True, (S, S, H, H), False),
    ("satker", False): (False, (H, H, H, H), False),
    ("vertikal", False): (False, (H, H, H, H), False),
    ("auditor", False): (True, (H, H, H, H), True),
    ("analis", False): (True, (H, H, H, H), False),
    ("analis", True): (True, (H, H, H, H), False),  # a relation to a unit means nothing for a role without one
    ("pusat", True): (True, (S, S, H, H), True),
    ("masyarakat", False): (False, (H, H, H, H), False),  # the reporter reads their own case on the tracking page, never through staff outputs
}


@pytest.mark.parametrize("flags", FLAGS)
@pytest.mark.parametrize(("role", "own_unit"), RULE)
def test_the_rule_as_a_table(role, own_unit, flags):
    opens, identities, original = RULE[(role, own_unit)]
    anonymous, confidential = FLAGS[flags]
    expected = Sight(case=opens, identity=identities[list(FLAGS).index(flags)] == S, original_text=original)
    assert sight(role, anonymous, confidential, own_unit) == expected


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


def test_the_analyst_opens_every_case_without_its_reporter(service, session):
    with_pendidikan = submit(service, COMPLAINT, [FORWARD_SATKER, ACCEPT_SATKER]).case
    waiting = submit(service, COMPLAINT).case
    for case in (with_pendidikan, waiting):
        assert access.case_for_staff(session, case.tracking_id, ANALIS).sight == Sight(case=True, identity=False)
    with pytest.raises(NotFound):
        access.case_for_staff(session, "LPR-00000000", ANALIS)


def test_an_actor_outside_the_case_readers_is_refused_before_the_case_is_looked_up(service, session):
    submitted = submit(service, COMPLAINT)
    for tracking_id in (submitted.case.tracking_id, "LPR-00000000"):
        with pytest.raises(Forbidden):
            access.case_for_staff(session, tracking_id, CITIZEN)


def test_a_unit_opens_only_the_cases_with_it(service, session):
    with_pendidikan = submit(service, COMPLAINT, [FORWARD_SATKER, ACCEPT_SATKER]).case
    waiting = submit(service, COMPLAINT).case  # still with Admin Kominfo
    assert access.case_for_staff(session, with_pendidikan.tracking_id, PENDIDIKAN).sight == Sight(case=True, identity=True)
    for viewer, tracking_id in ((KESEHATAN, with_pendidikan.tracking_id), (PENDIDIKAN, waiting.tracking_id), (PUSAT, "LPR-00000000")):
        with pytest.raises(NotFound):
            access.case_for_staff(session, tracking_id, viewer)
    assert [seen.case for seen in access.seen_cases(session, [with_pendidikan, waiting], PENDIDIKAN)] == [with_pendidikan]
    assert [seen.case for seen in access.seen_cases(session, [with_pendidikan, waiting], KOMINFO)] == [with_pendidikan, waiting]


def test_a_unit_with_an_open_task_on_the_case_opens_it(service, session):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER])  # the unit's accept task is open
    case = session.scalar(select(Case).where(Case.id == submitted.case.id))
    case.unit_id = None  # only the open task ties the case to the unit now
    assert access.seen_case(session, case, PENDIDIKAN).sight.case
    with pytest.raises(NotFound):
        access.seen_case(session, case, KESEHATAN)


def test_oversight_is_for_admin_pusat_and_auditors_only_and_refused_before_looking(service, session):
    case = submit(service, COMPLAINT, [FORWARD_SATKER]).case
    for viewer in (PUSAT, AUDITOR):
        assert access.oversight_case(session, case.tracking_id, viewer).case.id == case.id
        with pytest.raises(NotFound):
            access.oversight_case(session, "LPR-00000000", viewer)
    for viewer in (KOMINFO, PENDIDIKAN, ANALIS):  # Admin Kominfo and the case's unit open the case page, not its audit record
        for tracking_id in (case.tracking_id, "LPR-00000000"):
            with pytest.raises(Forbidden):
                access.oversight_case(session, tracking_id, viewer)


def test_require_refuses_a_role_outside_the_policy():
    access.require(PUSAT, ("pusat", "auditor"), "x")
    with pytest.raises(Forbidden):
        access.require(KOMINFO, ("pusat", "auditor"), "x")


# ---- the citizen's loader -------------------------------------------------------------------------


def test_case_for_citizen_opens_with_the_right_token_only(service, session):
    first = submit(service, COMPLAINT)
    second = submit(service, COMPLAINT)
    assert access.case_for_citizen(session, first.case.tracking_id, first.access_token, service.clock.now()).id == first.case.id
    assert access.case_for_citizen(session, first.case.tracking_id.lower(), first.access_token, service.clock.now()).id == first.case.id
    for tracking_id, token in [
        (first.case.tracking_id, "salah"),
        (first.case.tracking_id, ""),
        (first.case.tracking_id, second.access_token),
        ("LPR-00000000", first.access_token),
    ]:
        with pytest.raises(NotFound):
            access.case_for_citizen(session, tracking_id, token, service.clock.now())


# ---- tasks: the holder rule and its loaders ------------------------------------------------------


def test_a_unit_task_is_held_by_its_lane_role_in_that_unit_only(service, session):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER])
    row = open_row(session, submitted.case.id, "Task_Terima_Satker")
    assert access.holds(row, PENDIDIKAN) and access.holds(row, Actor("staf-lain", "satker", "dinas-pendidikan"))
    for stranger in (KESEHATAN, BPN, KOMINFO, PUSAT, AUDITOR, ANALIS):
        assert not access.holds(row, stranger)


def test_a_task_of_no_unit_is_held_by_everyone_of_its_role(service, session):
    row = open_row(session, submit(service, COMPLAINT).case.id, "Task_Disposisi")
    assert access.holds(row, KOMINFO) and access.holds(row, Actor("kominfo-2", "kominfo"))
    for stranger in (PUSAT, PENDIDIKAN, AUDITOR, ANALIS):
        assert not access.holds(row, stranger)


@pytest.mark.parametrize("actor", [KOMINFO, PENDIDIKAN, KESEHATAN, BPN, PUSAT, AUDITOR, ANALIS])
def test_the_query_condition_is_the_same_rule(service, session, actor):
    submit(service, COMPLAINT)  # Admin Kominfo's disposition
    submit(service, COMPLAINT, [FORWARD_SATKER])  # Dinas Pendidikan's acceptance
    claimed = submit(service, COMPLAINT, [FORWARD_SATKER])
    service.claim(open_row(session, claimed.case.id, "Task_Terima_Satker").id, PENDIDIKAN)  # a claimed task is still the unit's
    rows = session.scalars(select(OpenTask)).all()
    held = set(session.scalars(select(OpenTask.id).where(access.held_by(actor))))
    assert held == {row.id for row in rows if access.holds(row, actor)}
    assert len(held) == {KOMINFO: 1, PENDIDIKAN: 2}.get(actor, 0)


def test_task_for_gives_a_holder_the_task_and_its_case_claimed_or_not(service, session):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER])
    row = open_row(session, submitted.case.id, "Task_Terima_Satker")
    assert access.task_for(session, row.id, PENDIDIKAN) == (row, submitted.case)
    service.claim(row.id, PENDIDIKAN)
    colleague = Actor("staf-lain", "satker", "dinas-pendidikan")
    assert access.task_for(session, row.id, colleague) == (row, submitted.case)  # who may act is the rule; a claim only says who works on it


def test_task_for_refuses_a_wrong_role_and_hides_another_units_task(service, session):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER])
    row = open_row(session, submitted.case.id, "Task_Terima_Satker")
    for wrong_role in (KOMINFO, PUSAT, BPN, AUDITOR, ANALIS):
        with pytest.raises(Forbidden):
            access.task_for(session, row.id, wrong_role)
    with pytest.raises(NotFound):
        access.task_for(session, row.id, KESEHATAN)  # a satker of another unit
    with pytest.raises(NotFound):
        access.task_for(session, "no-such-task", PENDIDIKAN)


def test_seen_task_gives_a_holder_the_case_as_they_may_see_it_and_hides_it_from_everyone_else(service, session):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER])
    row = open_row(session, submitted.case.id, "Task_Terima_Satker")
    task, seen = access.seen_task(session, row.id, PENDIDIKAN)
    assert (task.id, seen.case.id, seen.sight) == (row.id, submitted.case.id, Sight(case=True, identity=True))
    for stranger in (KESEHATAN, KOMINFO, PUSAT, AUDITOR, ANALIS):
        with pytest.raises(NotFound):
            access.seen_task(session, row.id, stranger)
    with pytest.raises(NotFound):
        access.seen_task(session, "no-such-task", PENDIDIKAN)


def test_a_closed_task_is_a_conflict_only_to_whoever_could_have_done_it(service, session):
    submitted = submit(service, COMPLAINT)
    row = open_row(session, submitted.case.id, "Task_Disposisi")
    task_id = row.id
    do(service, submitted, FORWARD_SATKER)
    for could in (KOMINFO, Actor("kominfo-2", "kominfo")):
        with pytest.raises(Conflict):
            access.refuse_closed_task(session, task_id, could)
    for other in (PUSAT, PENDIDIKAN, AUDITOR):
        with pytest.raises(NotFound):
            access.refuse_closed_task(session, task_id, other)
    with pytest.raises(NotFound):
        access.refuse_closed_task(session, "no-such-task", KOMINFO)
    still_open = open_row(session, submitted.case.id, "Task_Terima_Satker")
    with pytest.raises(NotFound):  # an open task is no one's "done already"
        access.refuse_closed_task(session, still_open.id, PENDIDIKAN)
