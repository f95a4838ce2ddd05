"""engine/definitions/versions.py: deploying only on change, which version a case runs on, each version's cases and heat."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.cases.migration import Migrations
from engine.db.tables import Definition
from engine.definitions.bundle import project_bundle
from engine.definitions.versions import summaries, version
from engine.reports.filters import CaseFilter
from engine.reports.heatmap import heat
from tests.engine.definitions.support import ANALIS, RENAMED
from tests.engine.support import (
    do,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    open_row,
    submit,
)
from tests.scenarios import ACCEPT_SATKER, ANSWER_SATKER, COMPLAINT, FORWARD_SATKER, PUBLISH, SATISFIED


def test_deploy_stores_who_when_and_note_only_when_the_content_changed(service, session, clock):
    first = service.current_definition()
    again, created = service.deploy(project_bundle(), by="analis", note="sama")
    assert (again.id, created) == (first.id, False)
    clock.advance(hours=1)
    definition, created = service.deploy(RENAMED, by="analis", note="nama tugas diperjelas")
    session.commit()
    assert created and definition.number == first.number + 1
    assert (definition.deployed_by, definition.note, definition.deployed_at) == ("analis", "nama tugas diperjelas", clock.now())
    assert definition.content_hash == RENAMED.content_hash
    assert service.deploy(RENAMED, by="lain")[1] is False
    assert session.scalar(select(func.count()).select_from(Definition)) == 2


def test_new_cases_start_on_the_new_version_and_running_cases_stay_on_theirs(service, session):
    running = submit(service, COMPLAINT)
    v2, _created = service.deploy(RENAMED, by="analis", note="v2")
    session.commit()
    fresh = submit(service, COMPLAINT)
    assert fresh.case.definition_id == v2.id != running.case.definition_id
    assert open_row(session, fresh.case.id, "Task_Disposisi").name == "Verifikasi dan teruskan laporan"
    assert open_row(session, running.case.id, "Task_Disposisi").name == "Verifikasi laporan"
    [newest, oldest] = summaries(session)
    assert (newest.definition.number, newest.running, newest.finished, newest.current) == (2, 1, 0, True)
    assert (oldest.definition.number, oldest.running, oldest.finished, oldest.current) == (1, 1, 0, False)


def test_summaries_count_finished_cases_apart(service, session):
    submit(service, COMPLAINT, [FORWARD_SATKER, ACCEPT_SATKER, ANSWER_SATKER, PUBLISH, SATISFIED])
    submit(service, COMPLAINT)
    [only] = summaries(session)
    assert (only.running, only.finished) == (1, 1)


def test_unknown_version_is_not_found(service):
    from engine import NotFound

    with pytest.raises(NotFound):
        version(service.session, 99)


# ---- heat: where cases spend time -------------------------------------------------------------------


def heat_on(session, definition: Definition):
    """engine/reports/heatmap.py's figures for one version, as its page /proses/versi/<n> shows them."""
    return heat(session, CaseFilter(definition_id=definition.id))


def test_heat_counts_completions_per_node_with_the_median_time_open(service, session, clock):
    a = submit(service, COMPLAINT)
    b = submit(service, COMPLAINT)
    clock.advance(hours=2)
    do(service, a, FORWARD_SATKER)
    clock.advance(hours=2)
    do(service, b, FORWARD_SATKER)  # open 4 hours
    clock.advance(hours=1)
    do(service, a, ACCEPT_SATKER)  # open 3 hours
    result = heat_on(session, service.current_definition())
    assert result["Start_Pengaduan"].count == 2
    assert result["Task_Disposisi"].count == 2 and result["Task_Disposisi"].median == timedelta(hours=3)
    assert result["Task_Terima_Satker"].count == 1 and result["Task_Terima_Satker"].median == timedelta(hours=3)
    assert "Task_Tanggapan_Satker" not in result


def test_heat_counts_fired_timers_and_belongs_to_the_version_the_case_ran_on(service, session, clock):
    case = submit(service, COMPLAINT)
    clock.advance(days=2)
    assert service.fire_timers(case.case.id) == 1  # the SOP target (1 working day) passed, the ceiling (3) not yet
    session.commit()
    v1 = service.current_definition()
    assert heat_on(session, v1)["Timer_Disposisi_Target"].count == 1
    v2, _ = service.deploy(RENAMED, by="analis")
    Migrations(service).migrate(1, [case.case.id], v2.number, ANALIS)
    session.commit()
    clock.advance(hours=1)
    do(service, case, FORWARD_SATKER)
    assert "Task_Disposisi" not in heat_on(session, v1)  # completed after the move: counted on version 2
    assert heat_on(session, v2)["Task_Disposisi"].count == 1
    assert heat_on(session, v1)["Timer_Disposisi_Target"].count == 1 and "Timer_Disposisi_Target" not in heat_on(session, v2)
