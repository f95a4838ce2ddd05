"""engine/cases/overview.py: Admin Pusat's lists (open escalations of running cases, overdue staff tasks) and a
process version's cases as a viewer may see them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine import Actor
from engine.cases import overview
from engine.cases.access import Sight
from engine.db.tables import Escalation
from tests.engine.support import (
    KOMINFO,
    ask_extension,
    do,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    fire_due,
    submit,
    wib,
)
from tests.scenarios import ACCEPT_SATKER, COMPLAINT, FORWARD_SATKER, AskExtension, Do

ANALIS = Actor("analis", "analis")


def test_escalations_and_overdue_tasks_of_running_cases_are_listed_with_their_cases(service, session, clock):
    late, withdrawn = submit(service, COMPLAINT), submit(service, COMPLAINT)
    on_time = submit(service, COMPLAINT, [FORWARD_SATKER])
    assert overview.open_escalations(session) == [] and overview.overdue_tasks(session, clock.now()) == []
    clock.advance(days=2)  # every disposition past its SOP time; the unit's acceptance too
    fire_due(service)
    service.withdraw(withdrawn.case.tracking_id, withdrawn.access_token)
    session.commit()

    escalated = [(e.stage, tracking_id) for e, tracking_id in overview.open_escalations(session)]
    assert ("disposisi", late.case.tracking_id) in escalated and withdrawn.case.tracking_id not in {t for _s, t in escalated}
    overdue = {tracking_id: row.form for row, tracking_id in overview.overdue_tasks(session, clock.now())}
    assert overdue == {late.case.tracking_id: "disposisi", on_time.case.tracking_id: "terima"}
    assert len(overview.open_escalations(session, limit=1)) == 1


def test_a_versions_cases_are_paged_newest_first_as_the_viewer_sees_them(service, session, clock):
    made = []
    for _ in range(3):
        made.append(submit(service, COMPLAINT).case)
        clock.advance(minutes=1)
    definition_id = made[0].definition_id
    first = overview.version_cases(session, definition_id, ANALIS, page=1, per_page=2)
    assert [seen.case.tracking_id for seen in first.cases] == [made[2].tracking_id, made[1].tracking_id] and first.has_next
    assert all(seen.sight == Sight(case=True, identity=False) for seen in first.cases)  # analysts: never the reporter
    second = overview.version_cases(session, definition_id, ANALIS, page=2, per_page=2)
    assert [seen.case.tracking_id for seen in second.cases] == [made[0].tracking_id] and not second.has_next
    assert [seen.sight.identity for seen in overview.version_cases(session, definition_id, KOMINFO).cases] == [True] * 3
    assert overview.version_cases(session, definition_id + 1000, ANALIS).cases == []


def test_open_escalations_newest_first_and_resolved_ones_left_out(service, session, clock):
    submit(service, COMPLAINT)
    clock.set(wib(2026, 12, 2, 0, 0, 1))  # the SOP day of the disposition has ended
    fire_due(service)
    [(escalation, _tracking_id)] = overview.open_escalations(session)
    assert escalation.resolved_at is None
    session.add(Escalation(case_id=escalation.case_id, at=escalation.at + timedelta(hours=1), stage="x", clock="target"))
    session.add(Escalation(case_id=escalation.case_id, at=escalation.at, stage="y", clock="target", resolved_at=escalation.at))
    assert [e.stage for e, _t in overview.open_escalations(session)] == ["x", escalation.stage]


def test_an_escalation_is_answered_when_its_stages_task_is_done_and_only_then(service, session, clock):
    late = submit(service, COMPLAINT)
    clock.set(wib(2026, 12, 2, 0, 0, 1))  # the disposition's SOP day has ended: escalated
    fire_due(service)
    assert [e.stage for e, _t in overview.open_escalations(session)] == ["disposisi"]
    do(service, late, FORWARD_SATKER)
    [escalation] = session.scalars(select(Escalation).where(Escalation.case_id == late.case.id)).all()
    assert escalation.resolved_at == clock.now()
    assert overview.open_escalations(session) == []  # the case runs on, with nothing left for Admin Pusat to chase


def test_a_granted_extension_answers_the_units_escalation_and_a_new_miss_escalates_again(service, session, clock):
    answering = submit(service, COMPLAINT, [FORWARD_SATKER, ACCEPT_SATKER])
    clock.set(wib(2026, 12, 2, 0, 0, 1))  # the unit's answer day has ended
    fire_due(service)
    assert [(e.stage, e.unit_id) for e, _t in overview.open_escalations(session)] == [("tanggapan", "dinas-pendidikan")]
    ask_extension(service, answering, AskExtension("Task_Tanggapan_Satker", 3))
    do(service, answering, Do("Task_Perpanjangan", {"decision": "setuju", "working_days": 2, "note": "Dua hari."}))
    assert [e.stage for e, _t in overview.open_escalations(session)] == []
    clock.set(wib(2026, 12, 4, 0, 0, 1))  # the moved deadline has passed too
    fire_due(service)
    assert [(e.stage, e.unit_id) for e, _t in overview.open_escalations(session)] == [("tanggapan", "dinas-pendidikan")]
