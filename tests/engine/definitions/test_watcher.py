"""engine/definitions/watcher.py: the development server deploys an edited process after validation and reports a broken one."""

from __future__ import annotations

import shutil

from engine.definitions.bundle import project_file
from engine.definitions.watcher import ProcessWatcher
from tests.engine.definitions.support import RENAMED, copy_decisions
from tests.engine.support import fast_password_hashing  # noqa: F401 - autouse fixture


def test_watcher_deploys_an_edited_process_and_reports_a_broken_one(service, session, clock, tmp_path):
    (tmp_path / "processes").mkdir()
    (tmp_path / "forms").mkdir()
    bpmn = tmp_path / "processes" / "sp4n_lapor.bpmn"
    shutil.copy(project_file("processes", "sp4n_lapor.bpmn"), bpmn)
    copy_decisions(tmp_path / "processes")
    for form in project_file("forms", "").glob("*.schema.json"):
        shutil.copy(form, tmp_path / "forms" / form.name)
    watcher = ProcessWatcher(bpmn, tmp_path / "forms")

    first = watcher.check(session, clock)  # the files as deployed by the seed: nothing new
    assert first is not None and (first.number, first.created) == (1, False)
    assert watcher.check(session, clock) is None  # nothing changed since

    bpmn.write_text(RENAMED.files["sp4n_lapor.bpmn"], encoding="utf-8")
    outcome = watcher.check(session, clock)
    session.commit()
    assert outcome.ok and (outcome.number, outcome.created) == (2, True)
    assert service.current_definition().deployed_by == "lapor serve"

    bpmn.write_text(RENAMED.files["sp4n_lapor.bpmn"].replace("batas_hari_kerja(10)", "batas_tidak_ada(10)"), encoding="utf-8")
    failed = watcher.check(session, clock)
    session.commit()
    assert not failed.ok and failed.number is None and watcher.last_failure is failed
    assert [f.element for f in failed.findings] == ["Timer_Balasan", "Timer_Kelengkapan"]
    assert service.current_definition().number == 2  # nothing deployed

    (tmp_path / "forms" / "balasan.schema.json").write_text(
        (tmp_path / "forms" / "balasan.schema.json").read_text(encoding="utf-8").replace('"Pesan"', '"Pesan Anda"'), encoding="utf-8"
    )
    bpmn.write_text(RENAMED.files["sp4n_lapor.bpmn"], encoding="utf-8")
    fixed = watcher.check(session, clock)
    session.commit()
    assert fixed.ok and (fixed.number, fixed.created) == (3, True) and watcher.last_failure is None
