"""engine/errors.py: the typed errors every engine verb raises, each carrying a message safe to show."""

from __future__ import annotations

import pytest

from engine import Conflict, DefinitionInvalid, EngineError, Forbidden, InvalidData, NotFound


@pytest.mark.parametrize("kind", [NotFound, Forbidden, Conflict])
def test_an_engine_error_carries_its_indonesian_message_for_the_user(kind):
    error = kind("Tugas tidak ditemukan.")
    assert isinstance(error, EngineError) and error.message == str(error) == "Tugas tidak ditemukan."


def test_an_engine_error_fills_its_template_and_keeps_template_and_values_for_translation():
    error = Conflict("Tugas ini sedang dikerjakan oleh %(user)s.", user="budi")
    assert error.message == str(error) == "Tugas ini sedang dikerjakan oleh budi."
    assert error.message.template == "Tugas ini sedang dikerjakan oleh %(user)s." and error.message.values == {"user": "budi"}


def test_invalid_data_maps_each_field_path_to_its_message_under_one_general_message():
    error = InvalidData({"reporter.email": "Alamat email tidak valid."})
    assert isinstance(error, EngineError) and error.errors == {"reporter.email": "Alamat email tidak valid."}
    assert error.message == str(error) == "Data yang dikirim belum benar."
    assert InvalidData({}, "Lampiran terlalu besar.").message == "Lampiran terlalu besar."


def test_an_invalid_definition_lists_its_findings():
    findings = ["sp4n_lapor.bpmn:12: Task_X: formulir tidak ada"]
    error = DefinitionInvalid(findings)
    assert isinstance(error, EngineError) and error.findings == findings and error.message == "Definisi proses tidak valid."


def test_the_four_request_errors_are_distinct_kinds():
    kinds = (NotFound, Forbidden, Conflict, InvalidData)
    assert len(set(kinds)) == 4 and not any(issubclass(a, b) for a in kinds for b in kinds if a is not b)
