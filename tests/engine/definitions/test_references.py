"""engine/definitions/references.py: every sequence flow joins existing nodes; a reference to a missing node is named."""

from __future__ import annotations

from engine.definitions.bpmn_xml import BPMN_NS
from engine.definitions.bundle import read_bundle
from engine.definitions.validation import validate
from tests.engine.definitions.support import write_broken


def test_every_sequence_flow_joins_existing_nodes(root):
    ids = set(root.xpath("//bpmn:process/*/@id | //bpmn:subProcess/*/@id", namespaces=BPMN_NS))
    for flow in root.xpath("//bpmn:sequenceFlow", namespaces=BPMN_NS):
        assert flow.get("sourceRef") in ids and flow.get("targetRef") in ids, flow.get("id")


def test_unknown_target_finding_names_the_missing_node(tmp_path):
    path, _text = write_broken(tmp_path, "unknown_target")
    _result, findings = validate(read_bundle(path))
    assert any("Task_Hilang" in str(f) for f in findings), findings
