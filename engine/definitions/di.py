"""The diagram (BPMN DI): every flow node, sequence flow and lane the engine runs is drawn, so the modeller shows it.

(Drawing the diagram as SVG is engine/diagram/render.py.)
"""

from __future__ import annotations

from typing import Any

from engine.definitions.bpmn_xml import BPMN_NS, BPMN_URI, FLOW_NODE_TAGS, local_name
from engine.definitions.findings import MSG_EDGE_MISSING, MSG_SHAPE_MISSING, Finding, finding_at


def diagram_findings(name: str, root: Any) -> list[Finding]:
    """Every flow node, sequence flow and lane (and, in a collaboration, pool and message flow) needs its DI shape or edge."""
    drawn = set(root.xpath("//bpmndi:BPMNShape/@bpmnElement | //bpmndi:BPMNEdge/@bpmnElement", namespaces=BPMN_NS))
    findings = []
    for el in root.iter(f"{{{BPMN_URI}}}*"):
        tag = local_name(el)
        if el.get("id") in drawn or not (tag in FLOW_NODE_TAGS or tag in ("sequenceFlow", "messageFlow", "lane", "participant")):
            continue
        message = MSG_EDGE_MISSING if tag in ("sequenceFlow", "messageFlow") else MSG_SHAPE_MISSING
        findings.append(finding_at(name, el, message, "diagram", kind=f"bpmn:{tag}"))
    return findings
