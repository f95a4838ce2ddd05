"""engine/definitions/expressions.py: a gateway's conditions evaluated over every value they can see; the values no flow takes are named."""

from __future__ import annotations

from engine.definitions.bundle import Bundle, project_bundle
from engine.definitions.validation import validate
from tests.engine.definitions.support import KINDS, SOURCE


def test_a_gateway_gap_names_the_values_no_flow_takes_in_the_analysts_language():
    bundle = project_bundle()
    text = KINDS["gateway_gap"][3](SOURCE)
    _result, [finding] = validate(Bundle(bundle.bpmn_name, {**bundle.files, bundle.bpmn_name: text}))
    assert finding.message == ("Tidak ada alur keluar untuk teruskan[\"decision\"] = 'kembalikan'; tambahkan kondisinya atau alur bawaan (default).")
