"""engine/definitions/bundle.py: the project's bundle, its content hash, reading a bundle from a folder (forms beside it win, none leave forms/)."""

from __future__ import annotations

import shutil

from engine.definitions.bundle import Bundle, project_bundle, project_file, read_bundle
from engine.definitions.validation import validate
from tests.engine.definitions.support import BPMN, SOURCE, copy_decisions


def test_project_bundle_holds_the_bpmn_its_dmn_and_every_referenced_form():
    bundle = project_bundle()
    assert set(bundle.files) == {
        "sp4n_lapor.bpmn",
        "kategori.dmn",
        "klasifikasi.dmn",
        *(
            f"forms/{name}.schema.json"
            for name in ("pengaduan", "disposisi", "kelengkapan", "terima", "tanggapan", "perpanjangan", "teruskan", "balasan")
        ),
    }


def test_content_hash_is_stable_and_covers_every_file():
    bundle = project_bundle()
    assert bundle.content_hash == project_bundle().content_hash
    assert Bundle.from_json(bundle.to_json()).content_hash == bundle.content_hash
    changed_form = dict(bundle.files)
    changed_form["forms/balasan.schema.json"] = changed_form["forms/balasan.schema.json"].replace("Pesan", "Pesan Anda")
    assert Bundle(bundle.bpmn_name, changed_form).content_hash != bundle.content_hash


def test_forms_beside_the_process_folder_win_over_the_projects(tmp_path):
    (tmp_path / "processes").mkdir()
    (tmp_path / "forms").mkdir()
    shutil.copy(BPMN, tmp_path / "processes" / BPMN.name)
    copy_decisions(tmp_path / "processes")
    for form in project_file("forms", "").glob("*.schema.json"):
        shutil.copy(form, tmp_path / "forms" / form.name)
    own = (tmp_path / "forms" / "balasan.schema.json").read_text(encoding="utf-8").replace('"Pesan"', '"Pesan (versi daerah)"')
    (tmp_path / "forms" / "balasan.schema.json").write_text(own, encoding="utf-8")
    bundle = read_bundle(tmp_path / "processes" / BPMN.name)
    assert bundle.files["forms/balasan.schema.json"] == own
    assert validate(bundle)[1] == []


def test_form_names_in_the_model_cannot_leave_the_forms_folder(tmp_path):
    (tmp_path / "processes").mkdir()
    (tmp_path / "forms").mkdir()
    (tmp_path / "rahasia.schema.json").write_text('{"type": "object"}', encoding="utf-8")
    text = SOURCE.replace('value="teruskan.schema.json"', 'value="../rahasia.schema.json"')
    (tmp_path / "processes" / "sp4n_lapor.bpmn").write_text(text, encoding="utf-8")
    copy_decisions(tmp_path / "processes")
    bundle = read_bundle(tmp_path / "processes" / "sp4n_lapor.bpmn", tmp_path / "forms")
    assert not any("rahasia" in name for name in bundle.files)
    _result, findings = validate(bundle)
    assert ("form", "Task_Teruskan") in {(f.code, f.element) for f in findings}
