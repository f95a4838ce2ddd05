"""The vocabulary of a BPMN file as XML: its namespaces, the element families by tag, and two small readers.

Written once here for the three readers of BPMN XML: validation (engine/definitions/), the diff between versions
(engine/definitions/diff.py) and the drawing (engine/diagram/render.py). Tags are local names, so a file's prefixes
do not matter.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

BPMN_URI = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_URI = "http://www.omg.org/spec/BPMN/20100524/DI"
SPIFF_URI = "http://spiffworkflow.org/bpmn/schema/1.0/core"
BPMN_NS = {"bpmn": BPMN_URI, "bpmndi": BPMNDI_URI}
NS = {**BPMN_NS, "spiffworkflow": SPIFF_URI}  # with SpiffWorkflow's extensions (properties, scripts, decisions)

TASK_TAGS = frozenset(["task", "userTask", "scriptTask", "serviceTask", "businessRuleTask", "manualTask", "sendTask", "receiveTask", "callActivity"])
SUBPROCESS_TAGS = frozenset(["subProcess", "transaction", "adHocSubProcess"])
ACTIVITY_TAGS = TASK_TAGS | SUBPROCESS_TAGS
EVENT_TAGS = frozenset(["startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"])
GATEWAY_TAGS = frozenset(["exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"])
FLOW_NODE_TAGS = ACTIVITY_TAGS | EVENT_TAGS | GATEWAY_TAGS


def local_name(el: Any) -> str:
    """An element's tag without its namespace: ``userTask`` for ``{...MODEL}userTask``."""
    return str(etree.QName(el).localname)


def spiff_properties(el: Any) -> dict[str, str]:
    """The element's SpiffWorkflow properties (``spiffworkflow:property`` name -> value), e.g. its form or deadline kind."""
    return {p.get("name"): p.get("value") for p in el.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)}
