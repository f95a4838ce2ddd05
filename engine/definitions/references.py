"""References between a BPMN file's elements: every id an attribute or element names exists, every default flow is outgoing.

libxml2 does not check xsd:IDREF, so the XSD pass (engine/definitions/xsd.py) cannot see these.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from engine.definitions.bpmn_xml import BPMN_NS, BPMN_URI
from engine.definitions.findings import MSG_DEFAULT_NOT_OUTGOING, MSG_REFERENCE, Finding, finding_at

_REFERENCE_ATTRIBUTES = (
    "sourceRef",
    "targetRef",
    "default",
    "attachedToRef",
    "processRef",
    "bpmnElement",
    "messageRef",
    "signalRef",
    "errorRef",
    "escalationRef",
    "dataObjectRef",
    "categoryValueRef",
    "calledElement",
)
_REFERENCE_ELEMENTS = ("flowNodeRef", "incoming", "outgoing", "sourceRef", "targetRef")


def reference_findings(name: str, root: Any) -> list[Finding]:
    """References to ids that do not exist (libxml2 does not check xsd:IDREF), and defaults that are not outgoing flows."""
    ids = set(root.xpath("//@id"))

    def missing(ref: str | None) -> bool:
        return bool(ref) and ref not in ids and ref.rsplit(":", 1)[-1] not in ids  # type: ignore[union-attr]

    findings = []
    for el in root.iter(etree.Element):
        for attribute in _REFERENCE_ATTRIBUTES:
            if missing(el.get(attribute)):
                findings.append(finding_at(name, el, MSG_REFERENCE, "reference", attribute=attribute, target=el.get(attribute)))
        if etree.QName(el).localname in _REFERENCE_ELEMENTS and etree.QName(el).namespace == BPMN_URI and missing((el.text or "").strip()):
            findings.append(finding_at(name, el, MSG_REFERENCE, "reference", attribute=etree.QName(el).localname, target=el.text.strip()))
    sources = {flow.get("id"): flow.get("sourceRef") for flow in root.iterfind(".//bpmn:sequenceFlow", BPMN_NS)}
    for el in root.xpath("//bpmn:*[@default]", namespaces=BPMN_NS):
        flow = el.get("default")
        if flow in sources and sources[flow] != el.get("id"):
            findings.append(finding_at(name, el, MSG_DEFAULT_NOT_OUTGOING, "reference", flow=flow))
    return findings
