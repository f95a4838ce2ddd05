"""Process definitions: the BPMN, its DMN files and forms, versioned by content hash.

A bundle is self-contained (every file it needs, by name), so a deployed version runs the same
forever. Parsing costs milliseconds, so parsed specs are cached per content hash for the life of
the process and never reparsed per request.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.specs.defaults import UserTask

from .errors import DefinitionInvalid
from .scripting import make_script_engine

PROCESS_ID = "sp4n_lapor"
BPMN_NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI"}
FORM_PROPERTY = "formJsonSchemaFilename"
DEADLINE_PROPERTY = "jenisBatas"

# Lane name (DESIGN.md) -> the role whose users act in it. "masyarakat" is the citizen.
LANE_ROLES = {
    "Masyarakat": "masyarakat",
    "Sistem dan Admin Pusat": "pusat",
    "Admin Kominfo": "kominfo",
    "Satuan Kerja": "satker",
    "Instansi Vertikal": "vertikal",
}
UNIT_LANES = ("Satuan Kerja", "Instansi Vertikal")


def project_file(folder: str, name: str) -> Path:
    """Return a file of the project's own processes/ or forms/, wherever the package is installed."""
    return Path(str(resources.files(folder).joinpath(name)))


@dataclass(frozen=True)
class Finding:
    file: str
    line: int | None
    element: str | None
    message: str

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        return f"{where}: {self.element + ': ' if self.element else ''}{self.message}"


@dataclass(frozen=True)
class Bundle:
    """The files of one definition version: name -> text. Forms are stored under ``forms/``."""

    bpmn_name: str
    files: dict[str, str]

    @property
    def content_hash(self) -> str:
        digest = hashlib.sha256()
        for name in sorted(self.files):
            digest.update(name.encode() + b"\0" + self.files[name].encode() + b"\0")
        return digest.hexdigest()

    def forms(self) -> dict[str, dict[str, Any]]:
        return {n[len("forms/") : -len(".schema.json")]: json.loads(t) for n, t in self.files.items() if n.startswith("forms/")}

    def to_json(self) -> str:
        return json.dumps({"bpmn": self.bpmn_name, "files": self.files}, ensure_ascii=False, sort_keys=True)

    @staticmethod
    def from_json(text: str) -> Bundle:
        data = json.loads(text)
        return Bundle(data["bpmn"], data["files"])


def read_bundle(bpmn_path: Path, forms_dir: Path | None = None) -> Bundle:
    """Read a BPMN file, every .dmn beside it, and the forms it references.

    Forms come from ``forms_dir``, else the ``forms/`` folder beside the file's folder (the
    repository layout), else the project's own forms. A missing form is left out; validation names it.
    """
    files = {bpmn_path.name: bpmn_path.read_text(encoding="utf-8")}
    for dmn in sorted(bpmn_path.parent.glob("*.dmn")):
        files[dmn.name] = dmn.read_text(encoding="utf-8")
    candidates = [forms_dir] if forms_dir else [bpmn_path.resolve().parent.parent / "forms", project_file("forms", "")]
    for form_file in referenced_forms(files[bpmn_path.name]):
        for folder in candidates:
            path = Path(folder) / form_file
            if path.is_file():
                files["forms/" + form_file] = path.read_text(encoding="utf-8")
                break
    return Bundle(bpmn_path.name, files)


def project_bundle() -> Bundle:
    return read_bundle(project_file("processes", "sp4n_lapor.bpmn"), project_file("forms", ""))


def referenced_forms(bpmn_text: str) -> list[str]:
    try:
        root = etree.fromstring(bpmn_text.encode())
    except etree.XMLSyntaxError:
        return []
    values = root.xpath(
        "//spiffworkflow:property[@name=$n]/@value", n=FORM_PROPERTY, namespaces={"spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
    )
    return sorted(set(values))


@dataclass
class Parsed:
    """A parsed, validated definition, shared by every case on that version."""

    content_hash: str
    spec: Any
    subprocess_specs: dict[str, Any]
    forms: dict[str, dict[str, Any]]
    bpmn: str = ""  # the diagram's XML, for drawing it
    flows: dict[tuple[str, str], str] = field(default_factory=dict)  # (source id, target id) -> sequence flow id
    lanes: list[str] = field(default_factory=list)
    user_tasks: list[Any] = field(default_factory=list)
    timers: list[Any] = field(default_factory=list)

    def form_of(self, task_spec: Any) -> str | None:
        filename = task_spec.extensions.get("properties", {}).get(FORM_PROPERTY)
        return filename[: -len(".schema.json")] if filename else None

    @property
    def start_form(self) -> str:
        return "pengaduan"


def attached_task(timer_spec: Any) -> str | None:
    """The BPMN id of the task a boundary timer sits on (None for an intermediate timer)."""
    split = next((s for s in timer_spec.inputs if isinstance(s, BoundaryEventSplit)), None)
    return split.name.removesuffix(".BoundaryEventSplit") if split else None


def _parse(bundle: Bundle) -> Parsed:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    flows: dict[tuple[str, str], str] = {}
    for name, text in bundle.files.items():
        if name.endswith(".bpmn"):
            root = etree.fromstring(text.encode())
            parser.add_bpmn_xml(root, filename=name)
            for flow in root.iterfind(".//bpmn:sequenceFlow", BPMN_NS):
                flows[(flow.get("sourceRef"), flow.get("targetRef"))] = flow.get("id")
        elif name.endswith(".dmn"):
            parser.add_dmn_xml(etree.fromstring(text.encode()), filename=name)
    spec = parser.get_spec(PROCESS_ID)
    subprocess_specs = parser.get_subprocess_specs(PROCESS_ID)
    specs = list(spec.task_specs.values())
    return Parsed(
        content_hash=bundle.content_hash,
        spec=spec,
        subprocess_specs=subprocess_specs,
        forms=bundle.forms(),
        bpmn=bundle.files[bundle.bpmn_name],
        flows=flows,
        lanes=sorted({s.lane for s in specs if getattr(s, "lane", None)}),
        user_tasks=[s for s in specs if isinstance(s, UserTask)],
        timers=[s for s in specs if isinstance(s, CatchingEvent) and isinstance(s.event_definition, TimerEventDefinition)],
    )


def _line_of(text: str, element_id: str | None) -> int | None:
    if not element_id:
        return None
    for number, line in enumerate(text.splitlines(), 1):
        if f'id="{element_id}"' in line:
            return number
    return None


def validate(bundle: Bundle) -> tuple[Parsed | None, list[Finding]]:
    """Check a bundle the way an analyst needs it checked. Returns (parsed or None, findings)."""
    findings: list[Finding] = []
    for name, text in bundle.files.items():
        if name.endswith((".bpmn", ".dmn")):
            try:
                etree.fromstring(text.encode())
            except etree.XMLSyntaxError as err:
                findings.append(Finding(name, err.lineno, None, f"XML tidak well-formed: {err.msg}"))
        elif name.endswith(".json"):
            try:
                Draft202012Validator.check_schema(json.loads(text))
            except json.JSONDecodeError as err:
                findings.append(Finding(name, err.lineno, None, f"JSON tidak valid: {err.msg}"))
            except SchemaError as err:
                findings.append(Finding(name, None, None, f"bukan JSON Schema yang valid: {err.message}"))
    if findings:
        return None, findings
    bpmn_text = bundle.files[bundle.bpmn_name]
    try:
        parsed = _parse(bundle)
    except ValidationException as err:
        file = err.file_name or bundle.bpmn_name
        line = err.line_number or _line_of(bundle.files.get(file, bpmn_text), getattr(err, "id", None))
        return None, [Finding(file, line or None, getattr(err, "id", None) or None, str(err).split("\n")[0])]
    except Exception as err:  # SpiffWorkflow raises several unrelated types for a broken model
        return None, [Finding(bundle.bpmn_name, None, None, f"SpiffWorkflow tidak dapat membaca model: {err}")]

    for lane in parsed.lanes:
        if lane not in LANE_ROLES:
            findings.append(Finding(bundle.bpmn_name, None, lane, f"lajur '{lane}' bukan salah satu dari: {', '.join(LANE_ROLES)}"))
    for task in parsed.user_tasks:
        line = _line_of(bpmn_text, task.bpmn_id)
        if not task.lane:
            findings.append(Finding(bundle.bpmn_name, line, task.bpmn_id, "tugas pengguna tidak berada di lajur mana pun"))
        form = parsed.form_of(task)
        if form is None:
            findings.append(Finding(bundle.bpmn_name, line, task.bpmn_id, f"tugas pengguna tanpa properti {FORM_PROPERTY}"))
        elif form not in parsed.forms:
            findings.append(Finding(bundle.bpmn_name, line, task.bpmn_id, f"formulir forms/{form}.schema.json tidak ditemukan"))
    for timer in parsed.timers:
        try:
            value = make_script_engine().environment.evaluate(timer.event_definition.expression, {})
            TimerEventDefinition.parse_time_or_duration(value)
        except Exception as err:
            findings.append(
                Finding(
                    bundle.bpmn_name,
                    _line_of(bpmn_text, timer.bpmn_id),
                    timer.bpmn_id,
                    f"ekspresi timer '{timer.event_definition.expression}' gagal: {err}",
                )
            )
    findings.extend(_missing_diagram(bundle.bpmn_name, bpmn_text))
    return (None if findings else parsed), findings


def _missing_diagram(name: str, text: str) -> list[Finding]:
    root = etree.fromstring(text.encode())
    drawn = set(root.xpath("//bpmndi:BPMNShape/@bpmnElement | //bpmndi:BPMNEdge/@bpmnElement", namespaces=BPMN_NS))
    findings = []
    for element in root.xpath("//bpmn:process/*[@id]", namespaces=BPMN_NS):
        tag = etree.QName(element).localname
        if tag in ("laneSet", "dataObject", "textAnnotation", "association") or element.get("id") in drawn:
            continue
        findings.append(Finding(name, element.sourceline, element.get("id"), f"{tag} tidak punya bentuk di diagram (BPMN DI)"))
    return findings


_cache: dict[str, Parsed] = {}
_cache_lock = threading.Lock()


def parsed(bundle_json: str, content_hash: str) -> Parsed:
    """Return the parsed definition for a stored version, parsing it at most once per process.

    Raises DefinitionInvalid if the stored bundle no longer parses.
    """
    hit = _cache.get(content_hash)
    if hit is not None:
        return hit
    with _cache_lock:
        hit = _cache.get(content_hash)
        if hit is None:
            result, findings = validate(Bundle.from_json(bundle_json))
            if result is None:
                raise DefinitionInvalid(findings)
            _cache[content_hash] = hit = result
    return hit
