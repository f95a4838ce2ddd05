"""The service's contract on a model: what makes a BPMN file this service's process, beyond being valid BPMN.

Lanes are the service's roles, every user task sits in one and names its form, every form exists; every name a script,
condition or DMN input expression reads is filled by a form, a script or a decision, and every form field it reads
exists; every business rule task calls a decision that exists; each exclusive gateway covers every value it can see
(or has a default flow); every expression the engine will run is compiled in the sandbox (engine/runtime/sandbox.py:
what it refuses is named). Timers and deadlines are engine/definitions/timer_rules.py's.
"""

from __future__ import annotations

import ast
import builtins
import itertools
import json
import re
from collections.abc import Iterator
from typing import Any

from engine.contract import FORM_PROPERTY, LANE_ROLES, UNIT_KINDS
from engine.definitions.bpmn_xml import BPMN_URI, NS, local_name, spiff_properties
from engine.definitions.bundle import Bundle, safe_form_file
from engine.definitions.expressions import DMN_INPUT, Unknown, dmn_input_entry, evaluate, paths_read, show
from engine.definitions.findings import (
    MSG_DECISION_MISSING,
    MSG_FIELD,
    MSG_FORM_MISSING,
    MSG_GATEWAY_COMPLEX,
    MSG_GATEWAY_GAP,
    MSG_GATEWAY_NO_CONDITION,
    MSG_GATEWAY_OPEN,
    MSG_LANE,
    MSG_NAME,
    MSG_NO_PROCESS,
    MSG_SCRIPT_LANGUAGE,
    MSG_SYNTAX,
    MSG_SYNTAX_EL,
    MSG_TASK_NO_FORM,
    MSG_TASK_NO_LANE,
    Finding,
    finding_at,
)
from engine.definitions.parsing import PROCESS_ID
from engine.definitions.timer_rules import timer_findings
from engine.runtime.sandbox import refusals
from engine.runtime.scripting import HELPERS

ENGINE_DATA = ("tracking_id",)  # put in the task data by engine/cases/service.py, not by a form, script or decision
HELPER_RESULTS = {"jenis_unit": UNIT_KINDS}  # what a helper can return, for proving a gateway covers every value
# What SpiffWorkflow evaluates besides scripts, conditions and DMN input expressions (an XPath over the BPMN).
_EVALUATED = " | ".join(
    f".//{tag}"
    for tag in (
        "bpmn:timeDate",
        "bpmn:timeDuration",
        "bpmn:timeCycle",
        "bpmn:condition",
        "bpmn:loopCondition",
        "bpmn:loopCardinality",
        "bpmn:completionCondition",
        "bpmn:formalExpression",
        "bpmn:messagePath",
        "spiffworkflow:messagePayload",
        "spiffworkflow:payloadExpression",
        "spiffworkflow:expression",
    )
)
_KNOWN_GLOBALS = frozenset(dir(builtins)) | frozenset(HELPERS) | frozenset(ENGINE_DATA)


class _Contract:
    """The checks that make a BPMN file this service's process: lanes, forms, fields, decisions, expressions, gateways."""

    def __init__(self, bundle: Bundle, roots: dict[str, Any]) -> None:
        self.name = bundle.bpmn_name
        self.root = roots[bundle.bpmn_name]
        self.dmn = {name: root for name, root in roots.items() if name.endswith(".dmn")}
        self.forms, self.unreadable = _loaded_forms(bundle)
        self.referenced = {value[: -len(".schema.json")] for value in self._property_values(FORM_PROPERTY) if safe_form_file(value)}
        self.findings_: list[Finding] = []

    def _property_values(self, name: str) -> list[str]:
        return list(self.root.xpath("//spiffworkflow:property[@name=$n]/@value", n=name, namespaces=NS))

    def add(self, el: Any, message: str, code: str, element: str | None = None, **values: Any) -> None:
        self.findings_.append(finding_at(self.name, el, message, code, element, **values))

    def findings(self) -> list[Finding]:
        processes = self.root.findall("bpmn:process", NS)
        if not any(p.get("id") == PROCESS_ID for p in processes):
            self.add(processes[0] if processes else self.root, MSG_NO_PROCESS, "process", process=PROCESS_ID)
        for process in processes:
            self._lanes_and_user_tasks(process)
        self._decisions()
        self._expressions()
        self._sandbox()
        self._gateways()
        self.findings_.extend(timer_findings(self.name, self.root))
        return self.findings_

    # lanes, user tasks, their forms -------------------------------------------------------------

    def _lanes_and_user_tasks(self, process: Any) -> None:
        lane_of: dict[str, Any] = {}
        for lane in process.iter(f"{{{BPMN_URI}}}lane"):
            refs = [(ref.text or "").strip() for ref in lane.iterfind("bpmn:flowNodeRef", NS)]
            for ref in refs:
                lane_of[ref] = lane
            if refs and lane.get("name") not in LANE_ROLES:
                self.add(lane, MSG_LANE, "lane", lane=lane.get("name") or lane.get("id"), lanes=", ".join(LANE_ROLES))
        for task in process.iter(f"{{{BPMN_URI}}}userTask"):
            if not any(ancestor.get("id") in lane_of for ancestor in (task, *task.iterancestors(f"{{{BPMN_URI}}}subProcess"))):
                self.add(task, MSG_TASK_NO_LANE, "lane")  # a sub-process's tasks are in the sub-process's lane
            if FORM_PROPERTY not in spiff_properties(task):
                self.add(task, MSG_TASK_NO_FORM, "form")
        for el in process.iter(f"{{{BPMN_URI}}}userTask", f"{{{BPMN_URI}}}startEvent"):
            form_file = spiff_properties(el).get(FORM_PROPERTY)
            if form_file and (not safe_form_file(form_file) or form_file[: -len(".schema.json")] not in self.forms):
                self.add(el, MSG_FORM_MISSING, "form", form=form_file)

    # DMN decisions the business rule tasks call ----------------------------------------------------

    def _decisions(self) -> None:
        decisions = {d.get("id") for root in self.dmn.values() for d in root.iter("{*}decision")}
        self.missing_decision = False
        for el in self.root.iterfind(".//spiffworkflow:calledDecisionId", NS):
            if (el.text or "").strip() not in decisions:
                self.missing_decision = True
                self.add(el, MSG_DECISION_MISSING, "decision", decision=(el.text or "").strip() or "-")

    def _dmn_outputs(self) -> dict[str, list[Any] | None]:
        """Output name -> the literal values its rules can give (None when one is not a literal)."""
        outputs: dict[str, list[Any] | None] = {}
        for root in self.dmn.values():
            for table in root.iter("{*}decisionTable"):
                names = [o.get("name") for o in table.iterfind("{*}output")]
                for index, output in enumerate(names):
                    values: list[Any] | None = []
                    for rule in table.iterfind("{*}rule"):
                        entries = rule.findall("{*}outputEntry")
                        text = entries[index].findtext("{*}text") if index < len(entries) else None
                        try:
                            value = ast.literal_eval((text or "").strip())
                        except (ValueError, SyntaxError):
                            values = None
                            break
                        values.append(value)  # type: ignore[union-attr]
                    if output:
                        outputs[output] = values
        return outputs

    # scripts, conditions, DMN input expressions --------------------------------------------------------

    def _expression_sources(self) -> Iterator[tuple[str, Any, str, str]]:
        """(file, element, Python text, mode) for every script and condition, and every DMN input expression."""
        for script in self.root.iterfind(".//bpmn:scriptTask/bpmn:script", NS):
            language = (script.getparent().get("scriptFormat") or "python").strip()
            if language.lower() not in ("python", "text/x-python", "py"):
                self.add(script.getparent(), MSG_SCRIPT_LANGUAGE, "syntax", language=language)
                continue
            yield self.name, script, script.text or "", "exec"
        for tag in ("preScript", "postScript"):
            for script in self.root.iterfind(f".//spiffworkflow:{tag}", NS):
                yield self.name, script, script.text or "", "exec"
        for condition in self.root.iterfind(".//bpmn:sequenceFlow/bpmn:conditionExpression", NS):
            yield self.name, condition, condition.text or "", "eval"
        for name, root in self.dmn.items():
            for expression in root.iter("{*}inputExpression"):
                yield name, expression, expression.findtext("{*}text") or "", "eval"

    def _expressions(self) -> None:
        readable: list[tuple[str, Any, ast.AST]] = []
        assigned: set[str] = set()
        self.script_values: dict[str, list[Any] | None] = {}
        self.read: list[tuple[str, Any, str, str]] = []  # (file, element, text, mode) of each that parses, for the sandbox
        for file, el, text, mode in self._expression_sources():
            try:
                tree = ast.parse(text.strip(), mode=mode)
            except SyntaxError as err:
                if re.match(r"\s*[$#]\{", text):
                    self.findings_.append(finding_at(file, el, MSG_SYNTAX_EL, "syntax", expression=text.strip()))
                    continue
                line = (el.sourceline or 1) + max((err.lineno or 1) - 1, 0)
                self.findings_.append(Finding(file, line, finding_at(file, el, "", "").element, MSG_SYNTAX % {"detail": err.msg}, "syntax"))
                continue
            readable.append((file, el, tree))
            self.read.append((file, el, text, mode))
            for node in ast.walk(tree):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    assigned.add(node.id)
                elif isinstance(node, ast.FunctionDef | ast.Lambda):
                    assigned.update(a.arg for a in node.args.args)
                    if isinstance(node, ast.FunctionDef):
                        assigned.add(node.name)
                elif isinstance(node, ast.alias):
                    assigned.add((node.asname or node.name).split(".")[0])
                elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                    self._note_assignment(node.targets[0].id, node.value)
        # a multi-instance's item is set in each instance's data (the sub-process's tasks read it)
        # (SpiffWorkflow names the variable by the data item's id)
        items = self.root.iterfind(".//bpmn:multiInstanceLoopCharacteristics/*", NS)
        assigned.update(item.get("id") or "" for item in items if local_name(item) in ("inputDataItem", "outputDataItem"))
        # a caught message's payload is set in the catching task's data under its spiffworkflow:messageVariable
        assigned.update((el.text or "").strip() for el in self.root.iterfind(".//bpmn:messageEventDefinition//spiffworkflow:messageVariable", NS))
        self.dmn_outputs = self._dmn_outputs()
        self.assigned = assigned
        known = _KNOWN_GLOBALS | assigned | set(self.dmn_outputs) | self.referenced | set(self.forms)
        check_names = not self.missing_decision  # without every decision its outputs are unknown: say only that
        for file, el, expression in readable:
            reported: set[str] = set()
            for path in paths_read(expression):
                head = path[0]
                if head not in known:
                    if check_names and head not in reported:
                        reported.add(head)
                        self.findings_.append(finding_at(file, el, MSG_NAME, "name", name=head))
                elif len(path) > 1 and head in self.forms and head not in assigned:
                    self._check_field(file, el, path)

    # the sandbox: what no expression may do -------------------------------------------------------------

    def _evaluated_elsewhere(self) -> Iterator[tuple[str, Any, str]]:
        """(file, element, Python text) of what else SpiffWorkflow evaluates: timers, loop, multi-instance and event
        expressions, message and event payloads, service task parameters, DMN input entries and output entries."""
        for el in self.root.xpath(_EVALUATED, namespaces=NS):
            yield self.name, el, el.text or ""
        for el in self.root.iterfind(".//spiffworkflow:parameter", NS):
            yield self.name, el, el.get("value") or ""
        for name, root in self.dmn.items():
            for entry in root.iter("{*}outputEntry"):
                yield name, entry, entry.findtext("{*}text") or ""
            for entry in root.iter("{*}inputEntry"):
                text = (entry.findtext("{*}text") or "").strip()
                if text and text != "-":  # "-": any value
                    yield name, entry, dmn_input_entry(text)

    def _sandbox(self) -> None:
        """Name each thing an expression does that the sandbox refuses (the engine would refuse it at run time)."""
        defined = self.assigned | set(self.dmn_outputs) | set(self.forms) | self.referenced | set(ENGINE_DATA) | {DMN_INPUT}
        sources = [*self.read, *((file, el, text, "eval") for file, el, text in self._evaluated_elsewhere())]
        for file, el, text, mode in sources:
            stripped = text.strip()
            offset = text[: len(text) - len(text.lstrip())].count("\n")  # the lines before the expression starts
            where = finding_at(file, el, "", "")
            if local_name(el) in ("timeDate", "timeDuration", "timeCycle"):
                where = finding_at(file, el, "", "", element=el.getparent().getparent().get("id"))  # the timer event, as timer findings say
            for refusal in refusals(stripped, mode, defined):
                line = (where.line or 1) + offset + refusal.line - 1
                self.findings_.append(Finding(file, line, where.element, refusal.template % refusal.values, "sandbox"))

    def _note_assignment(self, name: str, value: ast.AST) -> None:
        """What a script may set ``name`` to: literals, or a helper's known results; None once anything else is assigned."""
        if name in self.script_values and self.script_values[name] is None:
            return
        possible: list[Any] | None
        if isinstance(value, ast.Constant):
            possible = [value.value]
        elif isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in HELPER_RESULTS:
            possible = list(HELPER_RESULTS[value.func.id])
        else:
            possible = None
        self.script_values[name] = None if possible is None else [*self.script_values.get(name, []), *possible]  # type: ignore[misc]

    def _field_schema(self, path: tuple[str, ...]) -> tuple[dict[str, Any] | None, str | None]:
        """The schema of a form field path, or (None, the first missing key)."""
        schema: dict[str, Any] = self.forms[path[0]]
        for key in path[1:]:
            properties = schema.get("properties") or {}
            if key not in properties:
                return None, key
            schema = properties[key]
        return schema, None

    def _check_field(self, file: str, el: Any, path: tuple[str, ...]) -> None:
        if path[0] in self.unreadable:
            return  # the form's own file is reported
        _schema, missing = self._field_schema(path)
        if missing is not None:
            self.findings_.append(finding_at(file, el, MSG_FIELD, "field", path=show(path), form=path[0], field=missing))

    # exclusive gateways ----------------------------------------------------------------------------------

    def _domain(self, path: tuple[str, ...]) -> list[Any] | None:
        if path[0] in self.forms and path[0] not in self.assigned and len(path) > 1:
            schema, _missing = self._field_schema(path)
            if schema is None:
                return None
            if "enum" in schema:
                return list(schema["enum"])
            if "const" in schema:
                return [schema["const"]]
            return [True, False] if schema.get("type") == "boolean" else None
        if len(path) == 1:
            if path[0] in self.script_values:
                values = self.script_values[path[0]]
                return sorted(set(values), key=repr) if values is not None else None
            if path[0] in self.dmn_outputs:
                values = self.dmn_outputs[path[0]]
                return sorted(set(values), key=repr) if values is not None else None
        return None

    def _gateways(self) -> None:
        flows = list(self.root.iterfind(".//bpmn:sequenceFlow", NS))
        for gateway in self.root.iterfind(".//bpmn:exclusiveGateway", NS):
            outgoing = [f for f in flows if f.get("sourceRef") == gateway.get("id")]
            conditions = {f.get("id"): (f.findtext("bpmn:conditionExpression", namespaces=NS) or "").strip() for f in outgoing}
            if gateway.get("default") or (len(outgoing) < 2 and not any(conditions.values())):
                continue
            trees: list[tuple[str, ast.Expression]] = []
            for flow in outgoing:
                text = conditions[flow.get("id")]
                if not text:
                    self.add(gateway, MSG_GATEWAY_NO_CONDITION, "gateway", flow=flow.get("name") or flow.get("id"))
                    continue
                try:
                    trees.append((text, ast.parse(text, mode="eval")))
                except SyntaxError:
                    continue  # reported on the flow already
            if len(trees) == len(outgoing):
                self._coverage(gateway, trees)

    def _coverage(self, gateway: Any, trees: list[tuple[str, ast.Expression]]) -> None:
        paths = list(dict.fromkeys(p for _text, tree in trees for p in paths_read(tree)))
        domains: dict[tuple[str, ...], list[Any]] = {}
        for path in paths:
            domain = self._domain(path)
            if domain is None:
                from_form = path[0] in self.forms and path[0] not in self.assigned
                if from_form and (path[0] in self.unreadable or self._field_schema(path)[1] is not None):
                    return  # the form file, or the missing field where it is read, is reported
                if from_form or path[0] in self.assigned or path[0] in self.dmn_outputs or path[0] in ENGINE_DATA:
                    self.add(gateway, MSG_GATEWAY_OPEN, "gateway", value=show(path))
                return  # an unknown name is reported where it is read
            domains[path] = domain
        combinations = list(itertools.product(*domains.values()))
        if len(combinations) > 4096:
            self.add(gateway, MSG_GATEWAY_OPEN, "gateway", value=", ".join(show(p) for p in paths))
            return
        gaps = []
        for combination in combinations:
            values = dict(zip(domains, combination, strict=True))
            taken = False
            for text, tree in trees:
                try:
                    taken = bool(evaluate(tree, values))
                except Unknown:
                    self.add(gateway, MSG_GATEWAY_COMPLEX, "gateway", condition=text)
                    return
                except Exception:  # noqa: BLE001 - e.g. "a" in 1: the condition would fail at run time too
                    taken = False
                if taken:
                    break
            if not taken:
                gaps.append(" dan ".join(f"{show(p)} = {v!r}" for p, v in values.items()) or "-")
        if gaps:
            self.add(gateway, MSG_GATEWAY_GAP, "gateway", values="; ".join(gaps[:3]) + ("; …" if len(gaps) > 3 else ""))


def _loaded_forms(bundle: Bundle) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """The bundle's forms by name, and the names of those that are not JSON objects (reported on their own file)."""
    forms: dict[str, dict[str, Any]] = {}
    unreadable: set[str] = set()
    for name, text in bundle.files.items():
        if name.startswith("forms/") and name.endswith(".schema.json"):
            form = name[len("forms/") : -len(".schema.json")]
            try:
                schema = json.loads(text)
            except ValueError:
                schema = None
            if not isinstance(schema, dict):
                unreadable.add(form)
            forms[form] = schema if isinstance(schema, dict) else {}
    return forms, unreadable


def contract_findings(bundle: Bundle, roots: dict[str, Any]) -> list[Finding]:
    """Every way the bundle's BPMN (read safely into ``roots`` with its DMN files) breaks the service's contract."""
    return _Contract(bundle, roots).findings()
