"""Each BPMN and DMN file against its XSD, with libxml2's English turned into sentences an analyst reads.

The OMG BPMN 2.0 XSD with the spiffworkflow extension XSD, and the DMN XSDs: the copies shipped in the pinned
SpiffWorkflow package. A duplicate id is named as such, not as an invalid value.
"""

from __future__ import annotations

import copy
import re
import threading
from typing import Any

from lxml import etree
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from engine.definitions.bpmn_xml import BPMN_NS, BPMN_URI, BPMNDI_URI, SPIFF_URI
from engine.definitions.findings import (
    MSG_DUPLICATE_ID,
    MSG_NOT_BPMN,
    MSG_NOT_DMN,
    MSG_XSD_ATTRIBUTE,
    MSG_XSD_CHOICE,
    MSG_XSD_MISSING_CHILD,
    MSG_XSD_OTHER,
    MSG_XSD_REQUIRED,
    MSG_XSD_TEXT,
    MSG_XSD_UNEXPECTED,
    MSG_XSD_VALUE,
    Finding,
    finding_at,
)

_xsd_lock = threading.Lock()  # an XMLSchema's error log belongs to the last validation: one at a time
_dmn_schemas: dict[str, etree.XMLSchema] = {}
_XSD_ATTRIBUTE = re.compile(r"Element '(?P<element>[^']+)', attribute '(?P<attribute>[^']+)': The attribute '[^']+' is not allowed\.")
_XSD_REQUIRED = re.compile(r"Element '(?P<element>[^']+)': The attribute '(?P<attribute>[^']+)' is required but missing\.")
_XSD_UNEXPECTED = re.compile(r"Element '(?P<element>[^']+)': This element is not expected\.")
_XSD_MISSING_CHILD = re.compile(r"Element '(?P<element>[^']+)': Missing child element\(s\)\.")
_XSD_TEXT = re.compile(r"Element '(?P<element>[^']+)': Character content other than whitespace is not allowed")
_XSD_VALUE = re.compile(
    r"Element '(?P<element>[^']+)', attribute '(?P<attribute>[^']+)': '(?P<value>[^']*)' is not a valid value of the atomic type '(?P<type>[^']+)'\."
)
_XSD_CHOICE = re.compile(
    r"Element '(?P<element>[^']+)', attribute '(?P<attribute>[^']+)': \[facet 'enumeration'\] The value '(?P<value>[^']*)' "
    r"is not an element of the set \{(?P<choices>[^}]*)\}\."
)
_PREFIXES = {BPMN_URI: "bpmn", SPIFF_URI: "spiffworkflow", BPMNDI_URI: "bpmndi"}


def _qualified(tag: str) -> str:
    """``{uri}local`` as the file most likely writes it: ``bpmn:userTask``."""
    qname = etree.QName(tag)
    prefix = _PREFIXES.get(qname.namespace or "")
    return f"{prefix}:{qname.localname}" if prefix else qname.localname


def _dmn_schema(namespace: str) -> etree.XMLSchema | None:
    path = DMN_SCHEMAS.get(namespace)
    if path is None:
        return None
    if namespace not in _dmn_schemas:
        _dmn_schemas[namespace] = etree.XMLSchema(etree.parse(path))  # the package's own files: trusted
    return _dmn_schemas[namespace]


def schema_findings(roots: dict[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    for name, root in sorted(roots.items()):
        namespace = etree.QName(root).namespace or ""
        if name.endswith(".bpmn"):
            if etree.QName(root).localname != "definitions" or namespace != BPMN_URI:
                findings.append(finding_at(name, root, MSG_NOT_BPMN, "xsd", root=_qualified(root.tag)))
                continue
            tree = root
            if root.find(".//bpmn:correlationPropertyRetrievalExpression", BPMN_NS) is not None:
                tree = copy.deepcopy(root)  # SpiffWorkflow rewrites a bpmn.io quirk before validating; do it on a copy
                VALIDATOR.preprocess(tree)
            schema, label = VALIDATOR.validator, "BPMN 2.0"
        else:
            dmn_schema = _dmn_schema(namespace)
            if dmn_schema is None:
                findings.append(finding_at(name, root, MSG_NOT_DMN, "xsd", namespace=namespace or "-"))
                continue
            tree, schema, label = root, dmn_schema, "DMN"
        with _xsd_lock:
            errors = [] if schema.validate(tree) else [(e.line, e.message) for e in schema.error_log]
        ids = _ids_by_line(root)
        seen_ids: set[str] = set()
        duplicates = {i for i in root.xpath("//@id") if i in seen_ids or seen_ids.add(i)}  # type: ignore[func-returns-value]
        for line, message in errors:
            findings.append(Finding(name, line or None, ids.get(line), _xsd_message(message, label, duplicates), "xsd"))
    return findings


def _ids_by_line(root: Any) -> dict[int, str]:
    """Line -> the id of the element starting there (or of its nearest ancestor with an id)."""
    found: dict[int, str] = {}
    for el in root.iter(etree.Element):
        holder = el
        while holder is not None and not holder.get("id"):
            holder = holder.getparent()
        if holder is not None and el.sourceline and el.sourceline not in found:
            found[el.sourceline] = holder.get("id")
    return found


def _xsd_message(message: str, label: str, duplicates: set[str]) -> str:
    """libxml2's English into a sentence an analyst reads; the schema named is the one the element belongs to."""

    def schema_of(tag: str) -> str:
        return "spiffworkflow" if etree.QName(tag).namespace == SPIFF_URI else label

    if m := _XSD_CHOICE.match(message):
        return MSG_XSD_CHOICE % {**m.groupdict(), "schema": schema_of(m["element"]), "element": _qualified(m["element"]), "value": m["value"] or '""'}
    if m := _XSD_VALUE.match(message):
        if m["attribute"] == "id" and m["value"] in duplicates:
            return MSG_DUPLICATE_ID % {"value": m["value"]}
        return MSG_XSD_VALUE % {
            "schema": schema_of(m["element"]),
            "value": m["value"] or '""',
            "attribute": m["attribute"],
            "element": _qualified(m["element"]),
            "type": m["type"],
        }
    for pattern, template in (
        (_XSD_ATTRIBUTE, MSG_XSD_ATTRIBUTE),
        (_XSD_REQUIRED, MSG_XSD_REQUIRED),
        (_XSD_UNEXPECTED, MSG_XSD_UNEXPECTED),
        (_XSD_MISSING_CHILD, MSG_XSD_MISSING_CHILD),
        (_XSD_TEXT, MSG_XSD_TEXT),
    ):
        if m := pattern.match(message):
            values = {**m.groupdict(), "schema": schema_of(m["element"]), "element": _qualified(m["element"])}
            return template % values
    return MSG_XSD_OTHER % {"schema": label, "detail": re.sub(r"\{(?:https?|urn):[^}]*\}", "", message)}
