"""Process definitions: the BPMN, its DMN files and forms, versioned by content hash.

A bundle is self-contained (every file it needs, by name), so a deployed version runs the same
forever. Parsing costs milliseconds, so parsed specs are cached per content hash for the life of
the process and never reparsed per request.

``validate`` checks a bundle the way a process analyst needs it checked and names every problem it
finds (file, line, element id, a sentence in Indonesian): XML read with a hardened parser (no DTD,
no entities, no network, a size limit), the OMG BPMN 2.0 XSD with the spiffworkflow extension XSD
and the DMN XSD (the copies shipped in the pinned SpiffWorkflow package), references between
elements, the service's contract (lanes, forms, form fields the scripts and conditions read,
exclusive gateways that cover every value, timer expressions, deadline timers), every expression
the engine will run compiled in the sandbox (engine/runtime/sandbox.py: what it refuses is named), the
diagram (every node and flow drawn), and finally SpiffWorkflow's own parser.
"""

from __future__ import annotations

import ast
import builtins
import copy
import hashlib
import itertools
import json
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
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
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.specs.defaults import UserTask

from engine.contract import CLOCKS, DEADLINE_FORMS, DEADLINE_PROPERTY, FORM_PROPERTY, LANE_ROLES, TARGET, UNIT_KINDS
from engine.errors import DefinitionInvalid
from engine.runtime.sandbox import (  # noqa: F401 - the sandbox's refusals are findings too: MESSAGES lists them
    MSG_FORBIDDEN_ATTRIBUTE,
    MSG_FORBIDDEN_FORMAT,
    MSG_FORBIDDEN_FUNCTION,
    MSG_FORBIDDEN_IMPORT,
    MSG_FORBIDDEN_KEY,
    MSG_FORBIDDEN_NAME,
    MSG_FORBIDDEN_OTHER,
    MSG_FORBIDDEN_SYNTAX,
    refusals,
)
from engine.runtime.scripting import HELPERS

PROCESS_ID = "sp4n_lapor"
BPMN_URI = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_URI = "http://spiffworkflow.org/bpmn/schema/1.0/core"
BPMN_NS = {"bpmn": BPMN_URI, "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI"}
ENGINE_DATA = ("tracking_id",)  # put in the task data by engine/cases/service.py, not by a form, script or decision
HELPER_RESULTS = {"jenis_unit": UNIT_KINDS}  # what a helper can return, for proving a gateway covers every value
TIMER_HELPERS = ("batas_hari_kerja", "batas_menit")
MAX_FILE_BYTES = 2 * 1024 * 1024  # per BPMN, DMN or form file; the SOP model is 63 KB


def project_file(folder: str, name: str) -> Path:
    """Return a file of the project's own processes/ or forms/, wherever the package is installed."""
    return Path(str(resources.files(folder).joinpath(name)))


@dataclass(frozen=True)
class Finding:
    """One problem: where (file, line, the element's id) and what, in words an analyst understands.

    ``code`` names the kind of check (``xml``, ``xsd``, ``lane``, ``gateway``, ...) for tests and grouping.
    """

    file: str
    line: int | None
    element: str | None
    message: str
    code: str = ""

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        return f"{where}: {self.element + ': ' if self.element else ''}{self.message}"


# What the findings say. Each is a template whose %(name)s parts vary; web/labels.py lists them for the English pages.
MSG_SIZE = "Berkas terlalu besar: %(size)s KB, batasnya %(limit)s KB."
MSG_EMPTY = "Berkas kosong."
MSG_ENCODING = "Berkas bukan teks UTF-8."
MSG_FILE_KIND = "Jenis berkas %(file)s tidak dikenal: hanya .bpmn, .dmn dan .schema.json."
MSG_DOCTYPE = "Berkas memuat deklarasi DOCTYPE atau ENTITY. BPMN dan DMN tidak memerlukannya; demi keamanan berkas ini ditolak tanpa dibaca."
MSG_XML = "XML tidak well-formed: %(detail)s"
MSG_NOT_BPMN = "Bukan berkas BPMN 2.0: elemen akarnya <%(root)s>, bukan <bpmn:definitions>."
MSG_NOT_DMN = "Bukan berkas DMN 1.1, 1.2 atau 1.3 yang dikenal SpiffWorkflow: namespace-nya %(namespace)s."
MSG_JSON = "JSON tidak valid: %(detail)s"
MSG_JSON_DEPTH = "JSON bersarang terlalu dalam: lebih dari %(limit)s tingkat."
MSG_SCHEMA = "Bukan JSON Schema yang valid: %(detail)s"
MSG_XSD_ATTRIBUTE = "Tidak sesuai skema %(schema)s: atribut '%(attribute)s' tidak boleh ada pada <%(element)s>."
MSG_XSD_REQUIRED = "Tidak sesuai skema %(schema)s: <%(element)s> wajib punya atribut '%(attribute)s'."
MSG_XSD_UNEXPECTED = "Tidak sesuai skema %(schema)s: <%(element)s> tidak boleh berada di sini."
MSG_XSD_MISSING_CHILD = "Tidak sesuai skema %(schema)s: di dalam <%(element)s> ada elemen wajib yang belum ada."
MSG_XSD_TEXT = "Tidak sesuai skema %(schema)s: <%(element)s> tidak boleh berisi teks langsung."
MSG_XSD_VALUE = "Tidak sesuai skema %(schema)s: nilai '%(value)s' untuk '%(attribute)s' pada <%(element)s> tidak sah (%(type)s)."
MSG_XSD_CHOICE = "Tidak sesuai skema %(schema)s: '%(attribute)s' pada <%(element)s> harus salah satu dari %(choices)s, bukan '%(value)s'."
MSG_DUPLICATE_ID = "Id '%(value)s' dipakai lebih dari satu elemen."
MSG_XSD_OTHER = "Tidak sesuai skema %(schema)s: %(detail)s"
MSG_REFERENCE = "%(attribute)s merujuk ke '%(target)s', yang tidak ada di berkas ini."
MSG_DEFAULT_NOT_OUTGOING = "Alur bawaan (default) '%(flow)s' bukan alur yang keluar dari elemen ini."
MSG_NO_PROCESS = "Tidak ada proses dengan id '%(process)s': layanan ini menjalankan proses tersebut."
MSG_LANE = "Lajur '%(lane)s' bukan salah satu peran layanan (%(lanes)s)."
MSG_TASK_NO_LANE = "Tugas pengguna ini tidak berada di lajur mana pun, jadi tidak ada peran yang dapat mengerjakannya."
MSG_TASK_NO_FORM = "Tugas pengguna ini tidak menyebut formulirnya (properti spiffworkflow formJsonSchemaFilename)."
MSG_FORM_MISSING = "Formulir forms/%(form)s tidak ditemukan."
MSG_FIELD = "Ekspresi ini membaca %(path)s, tetapi formulir '%(form)s' tidak punya isian '%(field)s'."
MSG_NAME = "Ekspresi ini memakai '%(name)s', yang tidak diisi oleh formulir, skrip, atau keputusan DMN mana pun."
MSG_SYNTAX = "Ekspresi ini bukan Python yang sah: %(detail)s"
MSG_SYNTAX_EL = 'Ekspresi %(expression)s ditulis untuk mesin lain (${…}); SpiffWorkflow membaca Python, mis. terima["decision"] == "terima".'
MSG_SCRIPT_LANGUAGE = "Skrip ini ditulis dalam %(language)s; SpiffWorkflow hanya menjalankan Python."
MSG_GATEWAY_NO_CONDITION = "Alur '%(flow)s' keluar dari gerbang eksklusif tanpa kondisi dan bukan alur bawaan (default)."
MSG_GATEWAY_OPEN = "Gerbang ini memeriksa %(value)s, yang nilainya tidak terbatas pada daftar tertentu; tambahkan alur bawaan (default)."
MSG_GATEWAY_COMPLEX = "Kondisi '%(condition)s' terlalu rumit untuk dibuktikan lengkap; tambahkan alur bawaan (default)."
MSG_GATEWAY_GAP = "Tidak ada alur keluar untuk %(values)s; tambahkan kondisinya atau alur bawaan (default)."
MSG_TIMER_EMPTY = "Timer tanpa ekspresi waktu (timeDate, timeDuration atau timeCycle)."
MSG_TIMER_FORM = (
    'Ekspresi timer %(expression)s harus berupa durasi atau tanggal ISO dalam tanda kutip (mis. "P1D") '
    "atau pemanggilan batas_hari_kerja(n) / batas_menit(n)."
)
MSG_TIMER_VALUE = "Ekspresi timer %(expression)s tidak menghasilkan durasi atau tanggal yang sah: %(detail)s"
MSG_TIMER_OFFSET = "Tanggal timer %(expression)s tanpa zona waktu; tulis offset-nya, mis. +07:00."
MSG_DEADLINE_MISSING = "Tugas '%(task)s' (formulir %(form)s) punya batas waktu SOP, tetapi tidak ada timer batas pada tepinya (jenisBatas=target)."
MSG_DEADLINE_KIND = "jenisBatas '%(value)s' tidak dikenal: pilih target (batas SOP) atau plafon (batas nasional)."
MSG_DEADLINE_PLACE = "Timer berjenisBatas harus menempel pada tepi tugas pengguna (boundary event)."
MSG_DECISION_MISSING = "Keputusan DMN '%(decision)s' tidak ada di berkas DMN mana pun."
MSG_SHAPE_MISSING = "<%(kind)s> tidak punya bentuk di diagram (BPMN DI): modeller tidak menampilkan apa yang dijalankan mesin."
MSG_EDGE_MISSING = "<%(kind)s> tidak punya garis di diagram (BPMN DI): modeller tidak menampilkan apa yang dijalankan mesin."
MSG_SPIFF = "SpiffWorkflow tidak dapat membaca model: %(detail)s"
MESSAGES = tuple(value for name, value in sorted(globals().items()) if name.startswith("MSG_"))


def _finding(file: str, el: Any, message: str, code: str, element: str | None = None, **values: Any) -> Finding:
    """A finding at element ``el`` (its line, and its id or that of its nearest ancestor with one)."""
    line = el.sourceline if el is not None else None
    if element is None and el is not None:
        holder = el
        while holder is not None and not holder.get("id"):
            holder = holder.getparent()
        element = holder.get("id") if holder is not None else None
    return Finding(file, line, element, message % values if values else message, code)


# ---- reading XML safely ------------------------------------------------------------------------

_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _xml_parser() -> etree.XMLParser:
    """No DTD loaded, no entity expanded, nothing fetched, no huge trees (a new parser per call: lxml parsers are not shared across threads)."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False)


def parse_xml(name: str, content: str | bytes) -> tuple[Any, Finding | None]:
    """Read a BPMN or DMN file the safe way.

    A file over MAX_FILE_BYTES, or with any DOCTYPE or ENTITY declaration (billion laughs, external
    entities), is refused before the XML parser sees it. Returns (root element, None) or (None, the finding).
    """
    data = content.encode("utf-8") if isinstance(content, str) else content
    if len(data) > MAX_FILE_BYTES:
        return None, Finding(name, None, None, MSG_SIZE % {"size": len(data) // 1024, "limit": MAX_FILE_BYTES // 1024}, "size")
    if not data.strip():
        return None, Finding(name, None, None, MSG_EMPTY, "xml")
    declared = _DECLARATION.search(data)
    if declared:
        return None, Finding(name, data[: declared.start()].count(b"\n") + 1, None, MSG_DOCTYPE, "doctype")
    if isinstance(content, str):  # lxml refuses text that still declares an encoding; these bytes are UTF-8
        data = re.sub(rb"^\s*<\?xml[^>]*\?>", b"", data)
    try:
        root = etree.fromstring(data, _xml_parser())
    except etree.XMLSyntaxError as err:
        detail = re.sub(r",? line \d+, column \d+$", "", err.msg or "") or "-"
        return None, Finding(name, err.lineno or None, None, MSG_XML % {"detail": detail}, "xml")
    if root.getroottree().docinfo.internalDTD is not None:  # unreachable after the scan above; kept as a second lock
        return None, Finding(name, 1, None, MSG_DOCTYPE, "doctype")
    return root, None


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
    """The form files (``<name>.schema.json``) the model's elements name; [] for a file that cannot be read safely."""
    root, _problem = parse_xml("", bpmn_text)
    if root is None:
        return []
    values = root.xpath("//spiffworkflow:property[@name=$n]/@value", n=FORM_PROPERTY, namespaces={"spiffworkflow": SPIFF_URI})
    return sorted({v for v in values if _safe_form_file(v)})


def _safe_form_file(value: str) -> bool:
    """A form file name as the model may write it: no folders, no way out of forms/."""
    return bool(re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]*\.schema\.json", value)) and ".." not in value


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


def _parse(bundle: Bundle, roots: dict[str, Any]) -> Parsed:
    """SpiffWorkflow's parse of the (already safely read) files. Raises ValidationException and others for a broken model."""
    parser = SpiffBpmnParser(validator=VALIDATOR)
    flows: dict[tuple[str, str], str] = {}
    for name in sorted(roots):
        root = roots[name]
        if name.endswith(".bpmn"):
            parser.add_bpmn_xml(root, filename=name)
            for flow in root.iterfind(".//bpmn:sequenceFlow", BPMN_NS):
                flows[(flow.get("sourceRef"), flow.get("targetRef"))] = flow.get("id")
        elif name.endswith(".dmn"):
            parser.add_dmn_xml(root, filename=name)
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

    structure = _schema_findings(roots) + _reference_findings(bundle.bpmn_name, roots[bundle.bpmn_name])
    findings.extend(structure)
    findings.extend(_Contract(bundle, roots).findings())
    findings.extend(_missing_diagram(bundle.bpmn_name, roots[bundle.bpmn_name]))
    if findings:
        return None, _sorted(findings)
    try:
        result = _parse(bundle, roots)
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


# ---- forms -------------------------------------------------------------------------------------


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


# ---- the XSDs ----------------------------------------------------------------------------------

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
_PREFIXES = {BPMN_URI: "bpmn", SPIFF_URI: "spiffworkflow", BPMN_NS["bpmndi"]: "bpmndi"}


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


def _schema_findings(roots: dict[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    for name, root in sorted(roots.items()):
        namespace = etree.QName(root).namespace or ""
        if name.endswith(".bpmn"):
            if etree.QName(root).localname != "definitions" or namespace != BPMN_URI:
                findings.append(_finding(name, root, MSG_NOT_BPMN, "xsd", root=_qualified(root.tag)))
                continue
            tree = root
            if root.find(".//bpmn:correlationPropertyRetrievalExpression", BPMN_NS) is not None:
                tree = copy.deepcopy(root)  # SpiffWorkflow rewrites a bpmn.io quirk before validating; do it on a copy
                VALIDATOR.preprocess(tree)
            schema, label = VALIDATOR.validator, "BPMN 2.0"
        else:
            dmn_schema = _dmn_schema(namespace)
            if dmn_schema is None:
                findings.append(_finding(name, root, MSG_NOT_DMN, "xsd", namespace=namespace or "-"))
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


# ---- references between elements ----------------------------------------------------------------

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


def _reference_findings(name: str, root: Any) -> list[Finding]:
    """References to ids that do not exist (libxml2 does not check xsd:IDREF), and defaults that are not outgoing flows."""
    ids = set(root.xpath("//@id"))

    def missing(ref: str | None) -> bool:
        return bool(ref) and ref not in ids and ref.rsplit(":", 1)[-1] not in ids  # type: ignore[union-attr]

    findings = []
    for el in root.iter(etree.Element):
        for attribute in _REFERENCE_ATTRIBUTES:
            if missing(el.get(attribute)):
                findings.append(_finding(name, el, MSG_REFERENCE, "reference", attribute=attribute, target=el.get(attribute)))
        if etree.QName(el).localname in _REFERENCE_ELEMENTS and etree.QName(el).namespace == BPMN_URI and missing((el.text or "").strip()):
            findings.append(_finding(name, el, MSG_REFERENCE, "reference", attribute=etree.QName(el).localname, target=el.text.strip()))
    sources = {flow.get("id"): flow.get("sourceRef") for flow in root.iterfind(".//bpmn:sequenceFlow", BPMN_NS)}
    for el in root.xpath("//bpmn:*[@default]", namespaces=BPMN_NS):
        flow = el.get("default")
        if flow in sources and sources[flow] != el.get("id"):
            findings.append(_finding(name, el, MSG_DEFAULT_NOT_OUTGOING, "reference", flow=flow))
    return findings


# ---- the service's contract ------------------------------------------------------------------------


class _Unknown(Exception):
    """An expression the condition checker cannot evaluate (the path it could not resolve, if any)."""


def _const_str(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _path_of(node: ast.AST) -> tuple[str, ...] | None:
    """``pengaduan["reporter"]["email"]`` or ``terima.get("decision")`` as ("pengaduan", "reporter", "email"); None otherwise."""
    keys: list[str] = []
    while True:
        if isinstance(node, ast.Subscript) and _const_str(node.slice) is not None:
            keys.append(_const_str(node.slice))  # type: ignore[arg-type]
            node = node.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
            and _const_str(node.args[0]) is not None
        ):
            keys.append(_const_str(node.args[0]))  # type: ignore[arg-type]
            node = node.func.value
        else:
            break
    return (node.id, *reversed(keys)) if isinstance(node, ast.Name) else None


def _paths_read(tree: ast.AST) -> list[tuple[str, ...]]:
    """The longest data paths an expression reads (``terima["decision"]``, ``unit_jenis``), outermost first."""
    found: list[tuple[str, ...]] = []

    def visit(node: ast.AST) -> None:
        path = _path_of(node) if isinstance(node, ast.Subscript | ast.Call | ast.Name) else None
        if path is not None and not (isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load)):
            found.append(path)
            if isinstance(node, ast.Call):  # a helper call's arguments are read too
                for arg in [*node.args[1:], *(k.value for k in node.keywords)]:
                    visit(arg)
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _show(path: tuple[str, ...]) -> str:
    return path[0] + "".join(f'["{key}"]' for key in path[1:])


_COMPARE = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: lambda a, b: a is b,
    ast.IsNot: lambda a, b: a is not b,
}


def _evaluate(node: ast.AST, values: dict[tuple[str, ...], Any]) -> Any:
    """Evaluate a gateway condition over assumed values, without running any code. Raises _Unknown."""
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, values)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [_evaluate(item, values) for item in node.elts]
    path = _path_of(node)
    if path is not None:
        if path in values:
            return values[path]
        raise _Unknown(path)
    if isinstance(node, ast.BoolOp):
        results = (_evaluate(item, values) for item in node.values)
        return all(results) if isinstance(node.op, ast.And) else any(results)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _evaluate(node.operand, values)
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        left = _evaluate(node.left, values)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _evaluate(comparator, values)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    raise _Unknown(None)


def _local(el: Any) -> str:
    return etree.QName(el).localname


def _properties(el: Any) -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in el.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", _NS)}


_NS = {**BPMN_NS, "spiffworkflow": SPIFF_URI}
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
DMN_INPUT = "dmninputexpr"  # SpiffWorkflow's name for the input's value in a DMN input entry ("?")
_DMN_QUESTION_MARK = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")  # a "?" outside quotes, as DMNEngine finds it


def _dmn_input_entry(text: str) -> str:
    """A DMN input entry as SpiffWorkflow completes it: "?" stands for the input's value; "< 5" compares the value."""
    text = _DMN_QUESTION_MARK.sub(DMN_INPUT, text)
    try:
        ast.parse(text, mode="eval")
    except SyntaxError:
        return f"{DMN_INPUT} {text}"
    return text


_KNOWN_GLOBALS = frozenset(dir(builtins)) | frozenset(HELPERS) | frozenset(ENGINE_DATA)


class _Contract:
    """The checks that make a BPMN file this service's process: lanes, forms, fields, gateways, timers, deadlines."""

    def __init__(self, bundle: Bundle, roots: dict[str, Any]) -> None:
        self.name = bundle.bpmn_name
        self.root = roots[bundle.bpmn_name]
        self.dmn = {name: root for name, root in roots.items() if name.endswith(".dmn")}
        self.forms, self.unreadable = _loaded_forms(bundle)
        self.referenced = {value[: -len(".schema.json")] for value in self._property_values(FORM_PROPERTY) if _safe_form_file(value)}
        self.by_id = {el.get("id"): el for el in self.root.iter(etree.Element) if el.get("id")}
        self.findings_: list[Finding] = []

    def _property_values(self, name: str) -> list[str]:
        return list(self.root.xpath("//spiffworkflow:property[@name=$n]/@value", n=name, namespaces=_NS))

    def add(self, el: Any, message: str, code: str, element: str | None = None, **values: Any) -> None:
        self.findings_.append(_finding(self.name, el, message, code, element, **values))

    def findings(self) -> list[Finding]:
        processes = self.root.findall("bpmn:process", _NS)
        if not any(p.get("id") == PROCESS_ID for p in processes):
            self.add(processes[0] if processes else self.root, MSG_NO_PROCESS, "process", process=PROCESS_ID)
        for process in processes:
            self._lanes_and_user_tasks(process)
        self._decisions()
        self._expressions()
        self._sandbox()
        self._gateways()
        self._timers()
        return self.findings_

    # lanes, user tasks, their forms -------------------------------------------------------------

    def _lanes_and_user_tasks(self, process: Any) -> None:
        lane_of: dict[str, Any] = {}
        for lane in process.iter(f"{{{BPMN_URI}}}lane"):
            refs = [(ref.text or "").strip() for ref in lane.iterfind("bpmn:flowNodeRef", _NS)]
            for ref in refs:
                lane_of[ref] = lane
            if refs and lane.get("name") not in LANE_ROLES:
                self.add(lane, MSG_LANE, "lane", lane=lane.get("name") or lane.get("id"), lanes=", ".join(LANE_ROLES))
        for task in process.iter(f"{{{BPMN_URI}}}userTask"):
            if task.get("id") not in lane_of:
                self.add(task, MSG_TASK_NO_LANE, "lane")
            if FORM_PROPERTY not in _properties(task):
                self.add(task, MSG_TASK_NO_FORM, "form")
        for el in process.iter(f"{{{BPMN_URI}}}userTask", f"{{{BPMN_URI}}}startEvent"):
            form_file = _properties(el).get(FORM_PROPERTY)
            if form_file and (not _safe_form_file(form_file) or form_file[: -len(".schema.json")] not in self.forms):
                self.add(el, MSG_FORM_MISSING, "form", form=form_file)

    # DMN decisions the business rule tasks call ----------------------------------------------------

    def _decisions(self) -> None:
        decisions = {d.get("id") for root in self.dmn.values() for d in root.iter("{*}decision")}
        self.missing_decision = False
        for el in self.root.iterfind(".//spiffworkflow:calledDecisionId", _NS):
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
        for script in self.root.iterfind(".//bpmn:scriptTask/bpmn:script", _NS):
            language = (script.getparent().get("scriptFormat") or "python").strip()
            if language.lower() not in ("python", "text/x-python", "py"):
                self.add(script.getparent(), MSG_SCRIPT_LANGUAGE, "syntax", language=language)
                continue
            yield self.name, script, script.text or "", "exec"
        for tag in ("preScript", "postScript"):
            for script in self.root.iterfind(f".//spiffworkflow:{tag}", _NS):
                yield self.name, script, script.text or "", "exec"
        for condition in self.root.iterfind(".//bpmn:sequenceFlow/bpmn:conditionExpression", _NS):
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
                    self.findings_.append(_finding(file, el, MSG_SYNTAX_EL, "syntax", expression=text.strip()))
                    continue
                line = (el.sourceline or 1) + max((err.lineno or 1) - 1, 0)
                self.findings_.append(Finding(file, line, _finding(file, el, "", "").element, MSG_SYNTAX % {"detail": err.msg}, "syntax"))
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
        self.dmn_outputs = self._dmn_outputs()
        self.assigned = assigned
        known = _KNOWN_GLOBALS | assigned | set(self.dmn_outputs) | self.referenced | set(self.forms)
        check_names = not self.missing_decision  # without every decision its outputs are unknown: say only that
        for file, el, expression in readable:
            reported: set[str] = set()
            for path in _paths_read(expression):
                head = path[0]
                if head not in known:
                    if check_names and head not in reported:
                        reported.add(head)
                        self.findings_.append(_finding(file, el, MSG_NAME, "name", name=head))
                elif len(path) > 1 and head in self.forms and head not in assigned:
                    self._check_field(file, el, path)

    # the sandbox: what no expression may do -------------------------------------------------------------

    def _evaluated_elsewhere(self) -> Iterator[tuple[str, Any, str]]:
        """(file, element, Python text) of what else SpiffWorkflow evaluates: timers, loop, multi-instance and event
        expressions, message and event payloads, service task parameters, DMN input entries and output entries."""
        for el in self.root.xpath(_EVALUATED, namespaces=_NS):
            yield self.name, el, el.text or ""
        for el in self.root.iterfind(".//spiffworkflow:parameter", _NS):
            yield self.name, el, el.get("value") or ""
        for name, root in self.dmn.items():
            for entry in root.iter("{*}outputEntry"):
                yield name, entry, entry.findtext("{*}text") or ""
            for entry in root.iter("{*}inputEntry"):
                text = (entry.findtext("{*}text") or "").strip()
                if text and text != "-":  # "-": any value
                    yield name, entry, _dmn_input_entry(text)

    def _sandbox(self) -> None:
        """Name each thing an expression does that the sandbox refuses (the engine would refuse it at run time)."""
        defined = self.assigned | set(self.dmn_outputs) | set(self.forms) | self.referenced | set(ENGINE_DATA) | {DMN_INPUT}
        sources = [*self.read, *((file, el, text, "eval") for file, el, text in self._evaluated_elsewhere())]
        for file, el, text, mode in sources:
            stripped = text.strip()
            offset = text[: len(text) - len(text.lstrip())].count("\n")  # the lines before the expression starts
            where = _finding(file, el, "", "")
            if _local(el) in ("timeDate", "timeDuration", "timeCycle"):
                where = _finding(file, el, "", "", element=el.getparent().getparent().get("id"))  # the timer event, as timer findings say
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
            self.findings_.append(_finding(file, el, MSG_FIELD, "field", path=_show(path), form=path[0], field=missing))

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
        flows = list(self.root.iterfind(".//bpmn:sequenceFlow", _NS))
        for gateway in self.root.iterfind(".//bpmn:exclusiveGateway", _NS):
            outgoing = [f for f in flows if f.get("sourceRef") == gateway.get("id")]
            conditions = {f.get("id"): (f.findtext("bpmn:conditionExpression", namespaces=_NS) or "").strip() for f in outgoing}
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
        paths = list(dict.fromkeys(p for _text, tree in trees for p in _paths_read(tree)))
        domains: dict[tuple[str, ...], list[Any]] = {}
        for path in paths:
            domain = self._domain(path)
            if domain is None:
                from_form = path[0] in self.forms and path[0] not in self.assigned
                if from_form and (path[0] in self.unreadable or self._field_schema(path)[1] is not None):
                    return  # the form file, or the missing field where it is read, is reported
                if from_form or path[0] in self.assigned or path[0] in self.dmn_outputs or path[0] in ENGINE_DATA:
                    self.add(gateway, MSG_GATEWAY_OPEN, "gateway", value=_show(path))
                return  # an unknown name is reported where it is read
            domains[path] = domain
        combinations = list(itertools.product(*domains.values()))
        if len(combinations) > 4096:
            self.add(gateway, MSG_GATEWAY_OPEN, "gateway", value=", ".join(_show(p) for p in paths))
            return
        gaps = []
        for combination in combinations:
            values = dict(zip(domains, combination, strict=True))
            taken = False
            for text, tree in trees:
                try:
                    taken = bool(_evaluate(tree, values))
                except _Unknown:
                    self.add(gateway, MSG_GATEWAY_COMPLEX, "gateway", condition=text)
                    return
                except Exception:  # noqa: BLE001 - e.g. "a" in 1: the condition would fail at run time too
                    taken = False
                if taken:
                    break
            if not taken:
                gaps.append(" dan ".join(f"{_show(p)} = {v!r}" for p, v in values.items()) or "-")
        if gaps:
            self.add(gateway, MSG_GATEWAY_GAP, "gateway", values="; ".join(gaps[:3]) + ("; …" if len(gaps) > 3 else ""))

    # timers and deadlines -------------------------------------------------------------------------------

    def _timers(self) -> None:
        timers = [d.getparent() for d in self.root.iterfind(".//bpmn:timerEventDefinition", _NS)]
        for event in timers:
            self._timer_expression(event)
            kind = _properties(event).get(DEADLINE_PROPERTY)
            if kind is not None:
                if kind not in CLOCKS:
                    self.add(event, MSG_DEADLINE_KIND, "deadline", value=kind or '""')
                attached = self.by_id.get(event.get("attachedToRef") or "")
                if _local(event) != "boundaryEvent" or attached is None or _local(attached) != "userTask":
                    self.add(event, MSG_DEADLINE_PLACE, "deadline")
        with_target = {
            e.get("attachedToRef") for e in timers if _local(e) == "boundaryEvent" and _properties(e).get(DEADLINE_PROPERTY, TARGET) == TARGET
        }
        for task in self.root.iterfind(".//bpmn:userTask", _NS):
            form_file = _properties(task).get(FORM_PROPERTY) or ""
            form = form_file[: -len(".schema.json")]
            if form in DEADLINE_FORMS and task.get("id") not in with_target:
                self.add(task, MSG_DEADLINE_MISSING, "deadline", task=task.get("name") or task.get("id"), form=form)

    def _timer_expression(self, event: Any) -> None:
        definition = event.find("bpmn:timerEventDefinition", _NS)
        holder = next((c for c in definition if isinstance(c.tag, str) and _local(c) in ("timeDate", "timeDuration", "timeCycle")), None)
        text = (holder.text or "").strip() if holder is not None else ""
        if not text:
            self.add(definition, MSG_TIMER_EMPTY, "timer", element=event.get("id"))
            return
        at = holder if holder is not None else definition
        try:
            body = ast.parse(text, mode="eval").body
        except SyntaxError:
            body = None
        value: Any
        if isinstance(body, ast.Constant) and isinstance(body.value, str):
            value = body.value
        elif (
            isinstance(body, ast.Call)
            and isinstance(body.func, ast.Name)
            and body.func.id in TIMER_HELPERS
            and not body.keywords
            and all(isinstance(a, ast.Constant) and isinstance(a.value, int | float) and not isinstance(a.value, bool) for a in body.args)
        ):
            try:
                value = HELPERS[body.func.id](*(a.value for a in body.args))  # type: ignore[attr-defined]
            except Exception as err:  # noqa: BLE001 - e.g. a wrong number of arguments
                self.add(at, MSG_TIMER_VALUE, "timer", element=event.get("id"), expression=text, detail=str(err) or type(err).__name__)
                return
        else:
            self.add(at, MSG_TIMER_FORM, "timer", element=event.get("id"), expression=text)
            return
        try:
            if _local(holder) == "timeCycle":
                TimerEventDefinition.parse_iso_recurring_times(value)
            else:
                TimerEventDefinition.parse_time_or_duration(value)
                is_instant = _local(holder) == "timeDate" and not value.upper().startswith("P") and "W" not in value.upper()
                if is_instant and datetime.fromisoformat(value).tzinfo is None:
                    self.add(at, MSG_TIMER_OFFSET, "timer", element=event.get("id"), expression=text)
        except Exception as err:  # noqa: BLE001 - SpiffWorkflow raises ValueError, TypeError, its own exceptions
            self.add(at, MSG_TIMER_VALUE, "timer", element=event.get("id"), expression=text, detail=str(err) or type(err).__name__)


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


# ---- the diagram -----------------------------------------------------------------------------------

FLOW_NODE_TAGS = frozenset(
    [
        "task",
        "userTask",
        "scriptTask",
        "serviceTask",
        "businessRuleTask",
        "manualTask",
        "sendTask",
        "receiveTask",
        "callActivity",
        "subProcess",
        "transaction",
        "adHocSubProcess",
        "startEvent",
        "endEvent",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "boundaryEvent",
        "exclusiveGateway",
        "inclusiveGateway",
        "parallelGateway",
        "eventBasedGateway",
        "complexGateway",
    ]
)


def _missing_diagram(name: str, root: Any) -> list[Finding]:
    """Every flow node, sequence flow and lane (and, in a collaboration, pool and message flow) needs its DI shape or edge."""
    drawn = set(root.xpath("//bpmndi:BPMNShape/@bpmnElement | //bpmndi:BPMNEdge/@bpmnElement", namespaces=BPMN_NS))
    findings = []
    for el in root.iter(f"{{{BPMN_URI}}}*"):
        tag = _local(el)
        if el.get("id") in drawn or not (tag in FLOW_NODE_TAGS or tag in ("sequenceFlow", "messageFlow", "lane", "participant")):
            continue
        message = MSG_EDGE_MISSING if tag in ("sequenceFlow", "messageFlow") else MSG_SHAPE_MISSING
        findings.append(_finding(name, el, message, "diagram", kind=f"bpmn:{tag}"))
    return findings


MAX_JSON_DEPTH = 64  # a form nests a few levels; Python's JSON parser gives up (RecursionError) past about a thousand
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _json_depth(text: str) -> int:
    """How deeply ``text`` nests JSON arrays and objects, counted without parsing it (brackets inside strings skipped)."""
    depth = deepest = 0
    for bracket in re.findall(r"[\[\]{}]", _JSON_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


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
    if not uploaded_dmn:
        files.update(base_dmn)
    elif len(uploaded_dmn) == 1 and len(base_dmn) == 1:
        files[next(iter(base_dmn))] = next(iter(uploaded_dmn.values()))  # type: ignore[assignment]
    else:
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


_cache: dict[str, Parsed] = {}
_cache_lock = threading.Lock()


def cached(content_hash: str | None) -> Parsed | None:
    """The parsed definition of this content if this process has parsed it already."""
    return _cache.get(content_hash) if content_hash else None


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
