"""engine/definitions/di.py: every flow node, sequence flow and lane of the model is drawn."""

from __future__ import annotations

from lxml import etree

from engine.definitions.bpmn_xml import BPMN_NS


def test_every_flow_node_and_sequence_flow_is_drawn(root):
    drawn_shapes = set(root.xpath("//bpmndi:BPMNShape/@bpmnElement", namespaces=BPMN_NS))
    drawn_edges = set(root.xpath("//bpmndi:BPMNEdge/@bpmnElement", namespaces=BPMN_NS))
    process = root.xpath("//bpmn:process", namespaces=BPMN_NS)[0]
    containers = [process, *process.iter(f"{{{BPMN_NS['bpmn']}}}subProcess")]  # a sub-process's own elements are drawn inside it
    skip = ("laneSet", "sequenceFlow", "documentation", "extensionElements", "property", "multiInstanceLoopCharacteristics", "incoming", "outgoing")
    nodes = [e.get("id") for c in containers for e in c if etree.QName(e).localname not in skip]
    flows = [f for c in containers for f in c.xpath("bpmn:sequenceFlow/@id", namespaces=BPMN_NS)]
    lanes = root.xpath("//bpmn:lane/@id", namespaces=BPMN_NS)
    assert len(nodes) > 30 and len(flows) > 30
    assert [n for n in nodes if n not in drawn_shapes] == []
    assert [f for f in flows if f not in drawn_edges] == []
    assert [lane for lane in lanes if lane not in drawn_shapes] == []
