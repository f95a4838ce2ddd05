"""engine/definitions/bpmn_xml.py: the element families and the two readers every reader of BPMN XML shares."""

from __future__ import annotations

from lxml import etree

from engine.definitions.bpmn_xml import ACTIVITY_TAGS, FLOW_NODE_TAGS, GATEWAY_TAGS, local_name, spiff_properties
from engine.definitions.bundle import project_file

XML = b"""<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core">
  <bpmn:process id="p">
    <bpmn:userTask id="t">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="terima.schema.json"/>
        <spiffworkflow:property name="jenisBatas" value="target"/>
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="g"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_a_tag_is_read_without_its_prefix_and_properties_by_name():
    root = etree.fromstring(XML)
    task, gateway = root.find(".//{*}userTask"), root.find(".//{*}exclusiveGateway")
    assert (local_name(task), local_name(gateway)) == ("userTask", "exclusiveGateway")
    assert spiff_properties(task) == {"formJsonSchemaFilename": "terima.schema.json", "jenisBatas": "target"}
    assert spiff_properties(gateway) == {}


def test_every_flow_node_of_the_project_model_belongs_to_one_family():
    root = etree.parse(str(project_file("processes", "sp4n_lapor.bpmn"))).getroot()
    process = root.find("{*}process")
    kinds = {local_name(el) for el in process.iter() if isinstance(el.tag, str) and el.get("id") and el.getparent() is process}
    flow_nodes = kinds - {"sequenceFlow", "laneSet", "property", "dataObject", "dataObjectReference", "textAnnotation", "association"}
    assert flow_nodes and flow_nodes <= FLOW_NODE_TAGS, flow_nodes - FLOW_NODE_TAGS
    assert not ACTIVITY_TAGS & GATEWAY_TAGS
