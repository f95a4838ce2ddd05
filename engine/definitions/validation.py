"""Validating a bundle: ``validate`` runs every check and names every problem it finds (file, line, element id, a
sentence in Indonesian), the way a process analyst needs it.

In order: each file read safely (safe_xml.py; forms as JSON Schemas, here), the XSDs (xsd.py), references between
elements (references.py), the service's contract (rules.py, timer_rules.py; the sandbox's refusals included), the
diagram (di.py), and finally SpiffWorkflow's own parser (parsing.py), whose errors are placed on a line here.
"""

from __future__ import annotations

import json
import re
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from engine.definitions.bundle import Bundle
from engine.definitions.di import diagram_findings
from engine.definitions.findings import MSG_JSON, MSG_SCHEMA, MSG_SIZE, MSG_SPIFF, Finding
from engine.definitions.parsing import Parsed, parse
from engine.definitions.references import reference_findings
from engine.definitions.rules import contract_findings
from engine.definitions.safe_xml import MAX_FILE_BYTES, parse_xml
from engine.definitions.xsd import schema_findings


def _line_of(text: str, element_id: str | None) -> int | None:
    if not element_id:
        return None
    for number, line in enumerate(text.splitlines(), 1):
        if f'id="{element_id}"' in line:
            return number
    return None


def validate(bundle: Bundle) -> tuple[Parsed | None, list[Finding]]:
    """Check a bundle the way an analyst needs it checked.

    Returns (parsed or None, findings): the parsed definition only when there is no finding at all.
    Every check that can run does, so one upload reports every problem, each with file, line and element id.
    """
    findings: list[Finding] = []
    roots: dict[str, Any] = {}
    for name in sorted(bundle.files):
        text = bundle.files[name]
        if name.endswith((".bpmn", ".dmn")):
            root, problem = parse_xml(name, text)
            if problem is not None:
                findings.append(problem)
            else:
                roots[name] = root
        elif name.endswith(".json"):
            findings.extend(_form_file_findings(name, text))
    if bundle.bpmn_name not in roots:
        return None, _sorted(findings)

    findings.extend(schema_findings(roots))
    findings.extend(reference_findings(bundle.bpmn_name, roots[bundle.bpmn_name]))
    findings.extend(contract_findings(bundle, roots))
    findings.extend(diagram_findings(bundle.bpmn_name, roots[bundle.bpmn_name]))
    if findings:
        return None, _sorted(findings)
    try:
        result = parse(bundle, roots)
    except ValidationException as err:
        file = err.file_name or bundle.bpmn_name
        element = getattr(err, "id", None) or None
        line = err.line_number or _line_of(bundle.files.get(file, ""), element)
        return None, [Finding(file, line or None, element, MSG_SPIFF % {"detail": str(err).split("\n")[0]}, "spiff")]
    except Exception as err:  # SpiffWorkflow raises several unrelated types for a broken model
        detail = str(err) or type(err).__name__
        named = next((i for i in re.findall(r"'([^']+)'", detail) if _line_of(bundle.files[bundle.bpmn_name], i)), None)
        line = _line_of(bundle.files[bundle.bpmn_name], named)
        return None, [Finding(bundle.bpmn_name, line, named, MSG_SPIFF % {"detail": detail}, "spiff")]
    return result, []


def _sorted(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.file, f.line or 0))


def _form_file_findings(name: str, text: str) -> list[Finding]:
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        return [Finding(name, None, None, MSG_SIZE % {"size": len(text.encode("utf-8")) // 1024, "limit": MAX_FILE_BYTES // 1024}, "size")]
    try:
        Draft202012Validator.check_schema(json.loads(text))
    except json.JSONDecodeError as err:
        return [Finding(name, err.lineno, None, MSG_JSON % {"detail": err.msg}, "json")]
    except SchemaError as err:
        position, key = 0, None
        for part in err.path:  # follow the keys down the (pretty-printed) file to the offending one
            found = text.find(f'"{part}"', position) if isinstance(part, str) else -1
            if found >= 0:
                position, key = found, str(part)
        return [Finding(name, text[:position].count("\n") + 1, key, MSG_SCHEMA % {"detail": err.message}, "schema")]
    return []
