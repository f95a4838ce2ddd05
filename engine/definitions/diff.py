"""What changed between two versions of a definition: tasks, timers, flows, forms (and gateways, events, lanes, DMN
decisions) added, removed or changed, as the analysts' versions page and ``lapor deploy`` show it.

Read from the XML, so any readable bundle can be compared.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from engine.contract import DEADLINE_PROPERTY, FORM_PROPERTY
from engine.definitions.bpmn_xml import ACTIVITY_TAGS, BPMN_URI, EVENT_TAGS, GATEWAY_TAGS, NS, local_name, spiff_properties
from engine.definitions.bundle import Bundle
from engine.definitions.safe_xml import parse_xml

KINDS = ("task", "timer", "flow", "form", "gateway", "event", "lane", "decision")


@dataclass(frozen=True)
class Change:
    """One element added, removed or changed. ``details`` holds (what, before, after) for a change; ``what`` is a code
    (``name``, ``lane``, ``form``, ``script``, ``condition``, ``source``, ``target``, ``expression``, ``field_added`` ...)."""

    kind: str  # one of KINDS
    element: str  # BPMN id, form name or decision id
    name: str
    change: str  # added | removed | changed
    details: tuple[tuple[str, str, str], ...] = ()


def _text(el: Any, path: str) -> str:
    found = el.find(path, NS)
    return " ".join((found.text or "").split()) if found is not None else ""


def _elements(bundle: Bundle) -> dict[str, dict[str, dict[str, str]]]:
    """kind -> element id -> the attributes an analyst cares about (read from the XML, so any readable bundle works)."""
    found: dict[str, dict[str, dict[str, str]]] = {kind: {} for kind in KINDS}
    root, _problem = parse_xml(bundle.bpmn_name, bundle.files.get(bundle.bpmn_name, ""))
    if root is not None:
        lane_of = {}
        for lane in root.iter(f"{{{BPMN_URI}}}lane"):
            found["lane"][lane.get("id")] = {"name": lane.get("name") or ""}
            for ref in lane.iterfind(f"{{{BPMN_URI}}}flowNodeRef"):
                lane_of[(ref.text or "").strip()] = lane.get("name") or lane.get("id")
        for el in root.iter(f"{{{BPMN_URI}}}*"):
            tag, element_id = local_name(el), el.get("id")
            if not element_id:
                continue
            timer = el.find(f"{{{BPMN_URI}}}timerEventDefinition")
            if tag in ACTIVITY_TAGS:
                found["task"][element_id] = {
                    "name": el.get("name") or "",
                    "type": tag,
                    "lane": lane_of.get(element_id, ""),
                    "form": spiff_properties(el).get(FORM_PROPERTY, ""),
                    "script": _text(el, "bpmn:script"),
                    "decision": _text(el, "bpmn:extensionElements/spiffworkflow:calledDecisionId"),
                }
            elif tag in EVENT_TAGS and timer is not None:
                expression = next((c for c in timer if isinstance(c.tag, str)), None)
                found["timer"][element_id] = {
                    "name": el.get("name") or "",
                    "type": tag,
                    "expression": " ".join((expression.text or "").split()) if expression is not None else "",
                    "attached": el.get("attachedToRef") or "",
                    "interrupting": el.get("cancelActivity", "true") if tag == "boundaryEvent" else "",
                    "deadline": spiff_properties(el).get(DEADLINE_PROPERTY, ""),
                }
            elif tag in EVENT_TAGS:
                definition = next((local_name(c) for c in el if isinstance(c.tag, str) and c.tag.endswith("EventDefinition")), "")
                found["event"][element_id] = {
                    "name": el.get("name") or "",
                    "type": tag,
                    "definition": definition,
                    "form": spiff_properties(el).get(FORM_PROPERTY, ""),
                }
            elif tag in GATEWAY_TAGS:
                found["gateway"][element_id] = {"name": el.get("name") or "", "type": tag, "default": el.get("default") or ""}
            elif tag == "sequenceFlow":
                found["flow"][element_id] = {
                    "name": el.get("name") or "",
                    "source": el.get("sourceRef") or "",
                    "target": el.get("targetRef") or "",
                    "condition": _text(el, "bpmn:conditionExpression"),
                }
    for name, text in bundle.files.items():
        if name.endswith(".dmn"):
            dmn, _problem = parse_xml(name, text)
            for decision in dmn.iter("{*}decision") if dmn is not None else ():
                rules = [
                    " | ".join(" ".join((t.text or "").split()) for t in rule.iter("{*}text"))
                    for rule in decision.iter("{*}rule")  # inputs and outputs of each rule, in order
                ]
                found["decision"][decision.get("id")] = {"name": decision.get("name") or "", "rules": str(len(rules)), "table": "\n".join(rules)}
    return found


def _form_details(old: dict[str, Any], new: dict[str, Any]) -> tuple[tuple[str, str, str], ...]:
    details: list[tuple[str, str, str]] = []

    def fields(schema: dict[str, Any], prefix: str = "") -> dict[str, Any]:
        out = {}
        for key, value in (schema.get("properties") or {}).items():
            out[prefix + key] = value
            if isinstance(value, dict) and value.get("type") == "object":
                out.update(fields(value, prefix + key + "."))
        return out

    before, after = fields(old), fields(new)
    for key in sorted(set(after) - set(before)):
        details.append(("field_added", "", key))
    for key in sorted(set(before) - set(after)):
        details.append(("field_removed", key, ""))
    for key in sorted(set(before) & set(after)):
        a, b = before[key], after[key]
        if not (isinstance(a, dict) and isinstance(b, dict)):
            continue
        shallow = {k: v for k, v in a.items() if k != "properties"}, {k: v for k, v in b.items() if k != "properties"}
        if shallow[0] != shallow[1]:
            changed = sorted(k for k in set(shallow[0]) | set(shallow[1]) if shallow[0].get(k) != shallow[1].get(k))
            details.append(("field_changed", key, ", ".join(changed)))
    if sorted(old.get("required") or []) != sorted(new.get("required") or []):
        details.append(("required", ", ".join(old.get("required") or []) or "-", ", ".join(new.get("required") or []) or "-"))
    rest = (
        {k: v for k, v in old.items() if k not in ("properties", "required")},
        {k: v for k, v in new.items() if k not in ("properties", "required")},
    )
    if rest[0] != rest[1]:
        details.append(("schema", "", ", ".join(sorted(k for k in set(rest[0]) | set(rest[1]) if rest[0].get(k) != rest[1].get(k)))))
    return tuple(details)


def _forms(bundle: Bundle) -> dict[str, dict[str, Any]]:
    forms = {}
    for name, text in bundle.files.items():
        if name.startswith("forms/") and name.endswith(".schema.json"):
            try:
                forms[name[len("forms/") : -len(".schema.json")]] = json.loads(text)
            except ValueError:
                forms[name[len("forms/") : -len(".schema.json")]] = {"x-unreadable": text}
    return forms


def diff(old: Bundle | None, new: Bundle) -> list[Change]:
    """What ``new`` adds, removes and changes compared with ``old`` (None: the first version, everything is added).

    Ordered by kind (tasks, timers, flows, forms, gateways, events, lanes, decisions), then added, removed, changed.
    """
    before = _elements(old) if old is not None else {kind: {} for kind in KINDS}
    after = _elements(new)
    before["form"] = {k: {"content": json.dumps(v, sort_keys=True)} for k, v in (_forms(old) if old else {}).items()}
    after["form"] = {k: {"content": json.dumps(v, sort_keys=True)} for k, v in _forms(new).items()}
    old_forms, new_forms = (_forms(old) if old else {}), _forms(new)
    changes: list[Change] = []
    order = {"added": 0, "removed": 1, "changed": 2}
    for kind in KINDS:
        a, b = before[kind], after[kind]
        found: list[Change] = []
        for element in b.keys() - a.keys():
            found.append(Change(kind, element, b[element].get("name", element if kind == "form" else ""), "added"))
        for element in a.keys() - b.keys():
            found.append(Change(kind, element, a[element].get("name", element if kind == "form" else ""), "removed"))
        for element in a.keys() & b.keys():
            if a[element] == b[element]:
                continue
            if kind == "form":
                details = _form_details(old_forms[element], new_forms[element])
            else:
                details = tuple(
                    (what, a[element].get(what, ""), b[element].get(what, ""))
                    for what in dict.fromkeys([*a[element], *b[element]])
                    if what != "table" and a[element].get(what, "") != b[element].get(what, "")
                )
                if kind == "decision" and a[element].get("table") != b[element].get("table") and not any(d[0] == "rules" for d in details):
                    details = (*details, ("rules", a[element]["rules"], b[element]["rules"]))
            found.append(Change(kind, element, b[element].get("name", element if kind == "form" else ""), "changed", details))
        changes.extend(sorted(found, key=lambda c: (order[c.change], c.element)))
    return changes
