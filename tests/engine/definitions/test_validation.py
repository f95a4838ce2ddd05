"""engine/definitions/validation.py and `lapor validate` / `lapor deploy`: the project's model is valid; every check runs and every kind of
finding names file, line and element."""

from __future__ import annotations

import re
import shutil

import pytest
from click.testing import CliRunner

from engine.definitions.bundle import Bundle, project_bundle, read_bundle
from engine.definitions.validation import validate
from tests.engine.definitions.support import (
    BPMN,
    CONTRACT_LANES,
    FIXTURES,
    KINDS,
    SOURCE,
    USER_TASK_FORMS,
    copy_decisions,
    line_of,
    write_broken,
)
from web.cli import main


def test_project_bundle_validates_without_findings():
    result, findings = validate(project_bundle())
    assert findings == []
    assert result is not None
    assert result.spec.name == "sp4n_lapor"


def test_each_consequence_of_a_broken_copy_is_named_too(tmp_path):
    """One mistake, every place it shows: the shape drawn for an id that does not exist, the scripts reading a form no task fills."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    path, _text = write_broken(tmp_path / "a", "missing_shape")
    _result, findings = validate(read_bundle(path))
    assert {(f.code, f.element) for f in findings} == {("diagram", "Task_Teruskan"), ("reference", "Task_Teruskan_di")}
    assert any("'Task_Lain'" in f.message for f in findings)
    path, _text = write_broken(tmp_path / "b", "missing_form")
    _result, findings = validate(read_bundle(path))
    assert {(f.code, f.element) for f in findings} == {
        ("form", "Task_Teruskan"),
        ("name", "Task_Terbitkan"),
        ("name", "Task_KirimCatatan"),
        ("name", "Flow_Diteruskan"),
        ("name", "Flow_Dikembalikan"),
    }


def test_missing_dmn_is_a_finding(tmp_path):
    folder = tmp_path / "processes"
    folder.mkdir()
    path = folder / BPMN.name
    shutil.copy(BPMN, path)
    result, findings = validate(read_bundle(path))
    assert result is None and findings


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_of_finding_names_file_line_and_element(kind):
    code, element, file, edit_bpmn, other_files, needle = KINDS[kind]
    bundle = project_bundle()
    text = edit_bpmn(SOURCE) if edit_bpmn else SOURCE
    assert text != SOURCE or other_files, "the edit changed nothing"
    result, findings = validate(Bundle(bundle.bpmn_name, {**bundle.files, bundle.bpmn_name: text, **other_files}))
    assert result is None
    matching = [f for f in findings if f.code == code and f.element == element]
    assert len(matching) == 1, findings
    [finding] = matching
    assert finding.file == file
    if needle is not None:
        content = {**bundle.files, bundle.bpmn_name: text, **other_files}[file]
        assert finding.line == line_of(content, needle), finding
    assert str(finding).startswith(f"{file}:{finding.line}: "), finding


# ---- lapor validate / lapor deploy ----------------------------------------------------------------


def test_lapor_validate_lists_what_the_model_defines(model):
    result = CliRunner().invoke(main, ["validate", str(BPMN)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for heading in ("Lajur:", "Tugas pengguna:", "Formulir:", "Timer:"):
        assert heading in out
    for lane in CONTRACT_LANES:
        assert f"  - {lane}\n" in out
    for task_id in USER_TASK_FORMS:
        assert f"  - {task_id}:" in out
    for form in model.forms:
        assert f"forms/{form}.schema.json" in out
    for timer in model.timers:
        assert f"  - {timer.bpmn_id}:" in out


@pytest.mark.parametrize("name", ["unknown_target", "malformed_xml", "missing_shape"])
def test_lapor_validate_fails_and_prints_file_and_line_for_a_broken_model(tmp_path, name):
    path, _text = write_broken(tmp_path, name)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code != 0
    assert re.search(rf"{re.escape(path.name)}:\d+", result.stderr), result.output
    assert "Lajur:" not in result.stdout


def test_lapor_validate_refuses_a_hostile_file_with_exit_1():
    result = CliRunner().invoke(main, ["validate", str(FIXTURES / "billion_laughs.bpmn")])
    assert result.exit_code == 1
    assert "billion_laughs.bpmn:3: Berkas memuat deklarasi DOCTYPE" in result.stderr


def test_lapor_validate_of_a_missing_file_is_a_usage_error():
    assert CliRunner().invoke(main, ["validate", "/tidak/ada.bpmn"]).exit_code == 2


@pytest.fixture
def cli_env(monkeypatch, db_url):
    monkeypatch.setenv("LAPOR_DATABASE_URL", db_url)
    monkeypatch.setenv("LAPOR_SECRET_KEY", "test")
    return db_url


def _definition_count(db_url: str) -> int:
    from sqlalchemy import create_engine, func, select

    from engine.db.tables import Definition

    engine = create_engine(db_url)
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).select_from(Definition))
    engine.dispose()
    return count


def test_lapor_deploy_stores_a_changed_file_once_and_refuses_a_broken_one(cli_env, tmp_path):
    (tmp_path / "processes").mkdir()
    changed = tmp_path / "processes" / "sp4n_lapor.bpmn"
    changed.write_text(SOURCE.replace('name="Verifikasi laporan"', 'name="Teruskan laporan"'), encoding="utf-8")
    copy_decisions(tmp_path / "processes")

    result = CliRunner().invoke(main, ["deploy", str(changed), "--note", "nama tugas", "--by", "analis"])
    assert result.exit_code == 0, result.output
    assert "Versi 2" in result.stdout and "dipasang" in result.stdout
    assert "Task_Disposisi" in result.stdout  # what changed against version 1
    assert _definition_count(cli_env) == 2

    again = CliRunner().invoke(main, ["deploy", str(changed)])
    assert again.exit_code == 0 and "tidak berubah" in again.stdout
    assert _definition_count(cli_env) == 2

    (tmp_path / "rusak").mkdir()
    broken, _text = write_broken(tmp_path / "rusak", "bad_timer")
    refused = CliRunner().invoke(main, ["deploy", str(broken)])
    assert refused.exit_code == 1
    timer_line = line_of(_text, "batas_tidak_ada(10)")  # the finding points at the timer's expression
    assert f"bad_timer.bpmn:{timer_line}: Timer_Balasan:" in refused.stderr and "tidak ada yang dipasang" in refused.stderr.lower()
    assert _definition_count(cli_env) == 2
