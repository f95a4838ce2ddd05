"""engine/definitions/xsd.py: the model against the BPMN 2.0 XSD shipped in SpiffWorkflow, and XSD findings in the analyst's words."""

from __future__ import annotations

from pathlib import Path

import pytest
import SpiffWorkflow
from lxml import etree

from engine.definitions.bundle import Bundle, project_bundle
from engine.definitions.validation import validate
from tests.engine.definitions.support import BPMN, KINDS, SOURCE

XSD = Path(SpiffWorkflow.__file__).parent / "bpmn" / "parser" / "schema" / "BPMN20.xsd"


@pytest.fixture(scope="module")
def bpmn20() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


def test_bpmn_is_valid_against_the_bpmn20_xsd_shipped_in_spiffworkflow(bpmn20, root):
    assert bpmn20.validate(root.getroottree()), bpmn20.error_log


def test_the_xsd_check_is_real(bpmn20):
    """Spiff extensions pass inside extensionElements (##other, lax) but the same element elsewhere fails."""
    text = BPMN.read_text(encoding="utf-8")
    properties = (
        '<spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" value="disposisi.schema.json" /></spiffworkflow:properties>'
    )
    assert properties in text
    misplaced = text.replace(f"<bpmn:extensionElements>{properties}</bpmn:extensionElements>", properties, 1)
    assert misplaced != text
    assert not bpmn20.validate(etree.fromstring(misplaced.encode()).getroottree())
    bogus_attribute = text.replace('<bpmn:userTask id="Task_Disposisi"', '<bpmn:userTask priority="1" id="Task_Disposisi"', 1)
    assert not bpmn20.validate(etree.fromstring(bogus_attribute.encode()).getroottree())
    [error] = list(bpmn20.error_log)
    assert error.line == text[: text.index('id="Task_Disposisi"')].count("\n") + 1


def test_xsd_findings_speak_the_analysts_language():
    bundle = project_bundle()
    text = KINDS["spiffworkflow_xsd"][3](SOURCE)
    _result, findings = validate(Bundle(bundle.bpmn_name, {**bundle.files, bundle.bpmn_name: text}))
    assert "Tidak sesuai skema spiffworkflow: atribut 'nama' tidak boleh ada pada <spiffworkflow:property>." in [f.message for f in findings]
