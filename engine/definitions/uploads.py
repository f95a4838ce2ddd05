"""Assembling a bundle from an analyst's upload: the BPMN, optionally its DMN files and forms, the rest from the running version.

Uploaded bytes are checked (kind, size, UTF-8, JSON nesting) before anything decodes or parses them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from engine.definitions.bundle import Bundle, project_file, referenced_forms
from engine.definitions.findings import MSG_ENCODING, MSG_FILE_KIND, MSG_JSON_DEPTH, MSG_SIZE, Finding
from engine.definitions.safe_xml import MAX_FILE_BYTES

MAX_JSON_DEPTH = 64  # a form nests a few levels; Python's JSON parser gives up (RecursionError) past about a thousand
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _json_depth(text: str) -> int:
    """How deeply ``text`` nests JSON arrays and objects, counted without parsing it (brackets inside strings skipped)."""
    depth = deepest = 0
    for bracket in re.findall(r"[\[\]{}]", _JSON_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _decision_ids(dmn: str) -> set[str]:
    """The ids of a DMN file's decisions, read from its text (the whole file is parsed safely later, in validation)."""
    return set(re.findall(r'<(?:[\w-]+:)?decision\b[^>]*?\bid="([^"]+)"', dmn))


def bundle_from_upload(
    bpmn: tuple[str, bytes], dmn: Iterable[tuple[str, bytes]] = (), forms: Iterable[tuple[str, bytes]] = (), base: Bundle | None = None
) -> tuple[Bundle | None, list[Finding]]:
    """Assemble a bundle from uploaded files (name, bytes): the BPMN, optionally its DMN files and forms.

    What is not uploaded comes from ``base`` (the version running now): its DMN files when none is
    uploaded, and each form the BPMN names (an uploaded form wins). The BPMN keeps the base's file
    name (its content decides whether a version is new), so does a lone DMN replacing a lone DMN.
    Files are size-checked before they are decoded, forms depth-checked (MAX_JSON_DEPTH) before anything parses them.
    Returns (bundle, []) or (None, findings).
    """
    findings: list[Finding] = []

    def decode(name: str, data: bytes, suffix: str) -> str | None:
        if not name.lower().endswith(suffix):
            findings.append(Finding(name, None, None, MSG_FILE_KIND % {"file": name}, "file"))
            return None
        if len(data) > MAX_FILE_BYTES:
            findings.append(Finding(name, None, None, MSG_SIZE % {"size": len(data) // 1024, "limit": MAX_FILE_BYTES // 1024}, "size"))
            return None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            findings.append(Finding(name, None, None, MSG_ENCODING, "encoding"))
            return None
        if suffix == ".schema.json" and _json_depth(text) > MAX_JSON_DEPTH:  # json.loads and the checks recurse once a level
            findings.append(Finding(name, None, None, MSG_JSON_DEPTH % {"limit": MAX_JSON_DEPTH}, "json"))
            return None
        return text

    def clean(name: str) -> str:
        return re.sub(r"[^A-Za-z0-9._-]", "_", Path(name.replace("\\", "/")).name).lstrip(".") or "berkas"

    bpmn_name = base.bpmn_name if base is not None else clean(bpmn[0])
    bpmn_text = decode(clean(bpmn[0]), bpmn[1], ".bpmn")
    uploaded_dmn = {clean(n): decode(clean(n), d, ".dmn") for n, d in dmn}
    uploaded_forms = {clean(n): decode(clean(n), d, ".schema.json") for n, d in forms}
    if findings or bpmn_text is None:
        return None, findings
    files = {bpmn_name: bpmn_text}
    base_dmn = {n: t for n, t in (base.files.items() if base else ()) if n.endswith(".dmn")}
    if len(uploaded_dmn) == 1 and len(base_dmn) == 1:
        files[next(iter(base_dmn))] = next(iter(uploaded_dmn.values()))  # type: ignore[assignment]
    else:
        # an uploaded table replaces the running version's file of the same name or of the same decisions; the others stay
        uploaded_decisions = {d for text in uploaded_dmn.values() for d in _decision_ids(text or "")}
        files.update({n: t for n, t in base_dmn.items() if n not in uploaded_dmn and not _decision_ids(t) & uploaded_decisions})
        files.update(uploaded_dmn)  # type: ignore[arg-type]
    project_forms = project_file("forms", "")
    for form_file in referenced_forms(bpmn_text):
        if form_file in uploaded_forms:
            files["forms/" + form_file] = uploaded_forms[form_file]  # type: ignore[assignment]
        elif base is not None and "forms/" + form_file in base.files:
            files["forms/" + form_file] = base.files["forms/" + form_file]
        elif (Path(project_forms) / form_file).is_file():
            files["forms/" + form_file] = (Path(project_forms) / form_file).read_text(encoding="utf-8")
    return Bundle(bpmn_name, files), []
