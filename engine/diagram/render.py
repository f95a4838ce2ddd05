"""Draw the diagram of a BPMN 2.0 file (its BPMNDI) as one self-contained SVG, optionally with a case's state on it.

Any modeller's export is accepted (bpmn.io, Camunda Modeler, Signavio, Bizagi...): elements are matched by their
local name, so namespace prefixes do not matter, and an element this module does not know is drawn as a neutral
dashed box with its tag name instead of failing. The SVG carries one ``<style>`` block and no external resources;
every BPMN element is one ``<g data-element-id="...">`` whose classes name its family, its kind and its state.

A file may hold several BPMNDiagram planes (a collapsed sub-process drilled down into, as bpmn.io does; a multi-page
export). Each is drawn as one ``<g class="plane" data-plane-id="...">``: the first where the file puts it, each further
one below the drawing so far, under a heading naming its process or sub-process (``transform`` moves it there).

Classes on an element's ``<g>``: ``el``; the family (``pool lane task subprocess event gateway data-object data-store
annotation group message flow unknown``); the kind in kebab case (``user-task``, ``boundary-event``, ``sequence-flow``...);
modifiers (``collapsed expanded vertical event-subprocess loop multi-instance multi-instance-sequential collection
non-interrupting default conditional`` and an event's marker: ``timer message signal error escalation conditional link
compensate terminate cancel multiple parallel-multiple``); and the overlay state (``is-completed is-active is-overdue
is-timer-waiting is-timer-fired is-taken has-heat``). Badges are ``<g class="badge badge-overdue|badge-heat"
data-badge-for="id">``; legend entries carry ``data-legend="<Overlay field>"``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from lxml import etree

from engine.definitions.bpmn_xml import EVENT_TAGS, GATEWAY_TAGS, SUBPROCESS_TAGS, TASK_TAGS, local_name
from engine.errors import EngineError
from engine.messages import N_

SVG_NS = "http://www.w3.org/2000/svg"
_S = f"{{{SVG_NS}}}"

INK = "#22242a"
TAKEN_INK = "#1b5e20"
FONT_SIZE = 12  # names inside shapes
LABEL_FONT_SIZE = 11  # external labels (events, gateways, flows), as bpmn.io does
LINE_HEIGHT = 1.2
HEADER = 30  # width of a pool's or lane's name band
EXTERNAL_LABEL_WIDTH = 90
MARGIN = 20
PLANE_GAP = 60  # between one plane's drawing and the next plane's heading
HEADING_SIZE = 15

# Shown in the legend and appended to hover titles; keyed by Overlay field name.
LEGEND_LABELS = {
    "completed": N_("Selesai"),
    "active": N_("Sedang dikerjakan"),
    "overdue": N_("Terlambat"),
    "timers_waiting": N_("Timer menunggu"),
    "timers_fired": N_("Timer terpicu"),
    "flows_taken": N_("Alur yang dilalui"),
    "heat": N_("Berapa kali diselesaikan · median durasi"),
}
_STATE_CLASSES = {
    "completed": "is-completed",
    "flows_taken": "is-taken",
    "active": "is-active",
    "timers_waiting": "is-timer-waiting",
    "timers_fired": "is-timer-fired",
    "overdue": "is-overdue",
}


class DiagramError(EngineError):
    """The file cannot be drawn: not well-formed XML, not BPMN 2.0, or no diagram for the requested process."""


class NoDiagramError(DiagramError):
    """The file is BPMN but carries no diagram interchange (BPMNDI): nothing says where shapes go."""


@dataclass(frozen=True)
class PlaneInfo:
    """One drawable BPMNDiagram plane: what ``lapor diagram --list`` shows and ``--plane`` picks."""

    id: str  # the plane's own id, else its diagram's, else "plane-<n>"
    element_id: str  # the process, collaboration or sub-process it draws ("" when the file names none)
    kind: str  # that element's tag (process, collaboration, subProcess...), "" when unknown
    name: str  # that element's name, else the diagram's
    shapes: int


@dataclass(frozen=True)
class HeatInfo:
    """How often cases passed a node and how long they typically stayed there."""

    count: int
    median: timedelta | None = None


@dataclass
class Overlay:
    """A case's (or many cases') state, by BPMN element id. Ids absent from the diagram are ignored."""

    completed: set[str] = field(default_factory=set)  # flow nodes done
    active: set[str] = field(default_factory=set)  # current user tasks
    overdue: set[str] = field(default_factory=set)  # active and past due
    timers_waiting: set[str] = field(default_factory=set)  # boundary timer events armed
    timers_fired: set[str] = field(default_factory=set)
    flows_taken: set[str] = field(default_factory=set)  # sequence flow ids
    heat: dict[str, HeatInfo] = field(default_factory=dict)  # analysts' heatmap per node


def format_duration(value: timedelta, translate: Callable[[str], str] = str) -> str:
    """A compact duration in the reader's language (``translate``): ``2h 3j`` (hari, jam), ``3j 5m`` (jam, menit),
    ``5m``, ``40d`` (detik) in Indonesian; ``2d 3h``, ``3h 5m``, ``40s`` in English."""
    seconds = max(0, int(value.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        form = N_("%(days)sh %(hours)sj") if hours else N_("%(days)sh")
    elif hours:
        form = N_("%(hours)sj %(minutes)sm") if minutes else N_("%(hours)sj")
    else:
        form = N_("%(minutes)sm") if minutes else N_("%(seconds)sd")
    return translate(form) % {"days": days, "hours": hours, "minutes": minutes, "seconds": secs}


def heat_badge_text(info: HeatInfo, translate: Callable[[str], str] = str) -> str:
    """``12 · 3j 5m``: the case count, then the median duration when known."""
    return f"{info.count} · {format_duration(info.median, translate)}" if info.median is not None else str(info.count)


def heat_colour(fraction: float) -> str:
    """Fill for a node whose count is ``fraction`` of the busiest node's (a yellow-orange ramp, readable by colour-blind users)."""
    stops = ((255, 247, 188), (254, 196, 79), (236, 112, 20))
    t = min(max(fraction, 0.0), 1.0) * (len(stops) - 1)
    low = min(int(t), len(stops) - 2)
    a, b = stops[low], stops[low + 1]
    mix = [round(a[i] + (b[i] - a[i]) * (t - low)) for i in range(3)]
    return "#{:02x}{:02x}{:02x}".format(*mix)


def render_svg(
    xml: bytes | str,
    overlay: Overlay | None = None,
    *,
    process_id: str | None = None,
    plane_id: str | None = None,
    legend: bool = False,
    id_prefix: str = "bpmn",
    translate: Callable[[str], str] | None = None,
) -> str:
    """Draw every diagram plane of the file, the first on top and each further one below it under a heading.

    ``process_id`` draws only the plane of that process, collaboration (by one of its pools' processes) or drilled-down
    sub-process; ``plane_id`` only the plane with that id (a BPMNPlane's, its BPMNDiagram's or the element's it draws).
    An overlay's ids are matched on every plane drawn. ``legend`` adds a key of the overlay states in use below the
    drawing. ``id_prefix`` keeps the marker ids of two SVGs inlined in one page apart. ``translate`` turns each name in
    the file, each plane heading and each legend text into the reader's language.
    Returns the SVG document as text.
    Raises DiagramError for malformed XML, a non-BPMN root or an unknown ``process_id`` / ``plane_id``; NoDiagramError
    without BPMNDI.
    """
    root = _parse(xml)
    if translate is not None:
        for el in root.iter("{*}*"):
            if el.get("name"):
                el.set("name", translate(el.get("name")))
            elif local_name(el) == "text" and el.text:  # a text annotation's words
                el.text = translate(el.text)
    model = _Model(root)
    planes = _drawable_planes(root)
    if process_id is not None:
        planes = [_select_plane(planes, model, process_id)]
    elif plane_id is not None:
        planes = [_plane_by_id(planes, model, plane_id)]
    canvas = _Canvas(id_prefix, overlay or Overlay(), translate or str)
    for index, plane in enumerate(planes):
        shapes, edges = _read_plane(plane, model)
        canvas.start_plane(_plane_id(plane, index))
        _draw_diagram(canvas, model, shapes, edges)
        canvas.end_plane(_plane_heading(plane, model, canvas.translate) if index else None)
    if legend:
        _draw_legend(canvas)
    return canvas.finish()


def list_planes(xml: bytes | str) -> list[PlaneInfo]:
    """The file's drawable planes in drawing order. Raises like ``render_svg``."""
    root = _parse(xml)
    model = _Model(root)
    infos = []
    for index, plane in enumerate(_drawable_planes(root)):
        target = model.get(plane.get("bpmnElement"))
        infos.append(
            PlaneInfo(
                id=_plane_id(plane, index),
                element_id=(target.get("id") or "") if target is not None else "",
                kind=local_name(target) if target is not None else "",
                name=_plane_name(plane, target),
                shapes=len(plane.findall("{*}BPMNShape")),
            )
        )
    return infos


# ---------------------------------------------------------------- reading the file


def _parse(xml: bytes | str) -> etree._Element:
    if isinstance(xml, str):  # lxml refuses text that still declares an encoding
        xml = re.sub(r"^\s*<\?xml[^>]*\?>", "", xml).encode("utf-8")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as err:
        raise DiagramError(N_("Berkas bukan XML yang sah: %(detail)s"), detail=str(err)) from None
    if local_name(root) != "definitions":
        raise DiagramError(N_("Berkas bukan BPMN 2.0: elemen akarnya <%(root)s>, bukan <definitions>."), root=local_name(root))
    return root


def _kebab(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name).lower()


class _Model:
    """The semantic half of the file: every element with an id, and which flows are some node's default."""

    def __init__(self, root: etree._Element) -> None:
        self.by_id: dict[str, etree._Element] = {}
        self.defaults: set[str] = set()
        for top in root:
            if not isinstance(top.tag, str) or local_name(top) == "BPMNDiagram":
                continue
            for el in top.iter(etree.Element):
                element_id, default = el.get("id"), el.get("default")
                if element_id:
                    self.by_id.setdefault(element_id, el)
                if default:
                    self.defaults.add(default)

    def get(self, ref: str | None) -> etree._Element | None:
        """Resolve an id reference; some exporters write it as a QName (``prefix:id``)."""
        if not ref:
            return None
        return self.by_id.get(ref) if ref in self.by_id else self.by_id.get(ref.rsplit(":", 1)[-1])


def _drawable_planes(root: etree._Element) -> list[etree._Element]:
    """Every plane with a shape or an edge, in the file's order (a modeller writes the main one first)."""
    planes = [p for p in root.iter("{*}BPMNPlane") if p.find("{*}BPMNShape") is not None or p.find("{*}BPMNEdge") is not None]
    if not planes:
        raise NoDiagramError(N_("Berkas BPMN ini tidak memuat diagram (BPMNDI): buka dan simpan di modeller (bpmn.io, Camunda Modeler) dulu."))
    return planes


def _diagram_id(plane: etree._Element) -> str | None:
    diagram = plane.getparent()
    return diagram.get("id") if diagram is not None else None


def _plane_id(plane: etree._Element, index: int) -> str:
    return plane.get("id") or _diagram_id(plane) or f"plane-{index + 1}"


def _plane_name(plane: etree._Element, target: etree._Element | None) -> str:
    diagram = plane.getparent()
    names = (target.get("name") if target is not None else None, diagram.get("name") if diagram is not None else None)
    return next((n.strip() for n in names if n and n.strip()), "")


def _plane_heading(plane: etree._Element, model: _Model, translate: Callable[[str], str]) -> str:
    """What a further plane's drawing is called: its sub-process's or process's name (names are translated already)."""
    target = model.get(plane.get("bpmnElement"))
    name = _plane_name(plane, target) or plane.get("bpmnElement") or _plane_id(plane, 0)
    if target is not None and (local_name(target) in SUBPROCESS_TAGS or local_name(target) == "callActivity"):
        return translate(N_("Isi sub-proses: %(name)s")) % {"name": name}
    return translate(N_("Diagram: %(name)s")) % {"name": name}


def _plane_by_id(planes: list[etree._Element], model: _Model, plane_id: str) -> etree._Element:
    for index, plane in enumerate(planes):
        target = model.get(plane.get("bpmnElement"))
        if plane_id in (_plane_id(plane, index), _diagram_id(plane), target.get("id") if target is not None else None):
            return plane
    raise DiagramError(N_("Tidak ada bidang diagram '%(plane)s' di berkas ini."), plane=plane_id)


def _select_plane(planes: list[etree._Element], model: _Model, process_id: str) -> etree._Element:
    for plane in planes:
        target = model.get(plane.get("bpmnElement"))
        if target is None:
            continue
        if target.get("id") == process_id:
            return plane
        if local_name(target) == "collaboration" and any(
            (ref := model.get(p.get("processRef"))) is not None and ref.get("id") == process_id for p in target.iter("{*}participant")
        ):
            return plane
    raise DiagramError(N_("Tidak ada diagram untuk proses '%(process)s' di berkas ini."), process=process_id)


@dataclass(frozen=True)
class _Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def overlaps(self, other: _Box) -> bool:
        return self.x < other.right and other.x < self.right and self.y < other.bottom and other.y < self.bottom

    def contains(self, other: _Box) -> bool:
        return self.x <= other.x and self.y <= other.y and other.right <= self.right and other.bottom <= self.bottom


@dataclass
class _Item:
    """One DI shape or edge with its semantic element (None when the reference dangles)."""

    id: str
    di: etree._Element
    el: etree._Element | None
    kind: str
    label_box: _Box | None
    box: _Box | None = None  # shapes
    points: list[tuple[float, float]] = field(default_factory=list)  # edges

    @property
    def name(self) -> str:
        if self.el is None:
            return ""
        if self.kind == "textAnnotation":
            return (self.el.findtext("{*}text") or "").strip()
        return (self.el.get("name") or "").strip()


def _bounds(el: etree._Element | None) -> _Box | None:
    if el is None:
        return None
    try:
        box = _Box(*(float(el.get(a, "0")) for a in ("x", "y", "width", "height")))
    except ValueError:
        return None
    return box if all(map(math.isfinite, (box.x, box.y, box.w, box.h))) else None


def _read_plane(plane: etree._Element, model: _Model) -> tuple[list[_Item], list[_Item]]:
    shapes, edges = [], []
    for di in plane:
        if not isinstance(di.tag, str) or local_name(di) not in ("BPMNShape", "BPMNEdge"):
            continue
        ref = di.get("bpmnElement") or di.get("id") or ""
        el = model.get(ref)
        item = _Item(
            id=(el.get("id") or ref) if el is not None else ref,
            di=di,
            el=el,
            kind=local_name(el) if el is not None else "missing",
            label_box=_label_bounds(di),
        )
        if local_name(di) == "BPMNShape":
            item.box = _bounds(di.find("{*}Bounds"))
            if item.box is not None:
                shapes.append(item)
        else:
            item.points = [(float(w.get("x", 0)), float(w.get("y", 0))) for w in di.findall("{*}waypoint")]
            edges.append(item)
    return shapes, edges


def _label_bounds(di: etree._Element) -> _Box | None:
    box = _bounds(di.find("{*}BPMNLabel/{*}Bounds"))
    return box if box is not None and box.w > 0 and box.h > 0 else None


# ---------------------------------------------------------------- kinds

_EVENTS = EVENT_TAGS | {"implicitThrowEvent"}  # drawn like any event, though SpiffWorkflow runs none
_FAMILY = (
    {k: "task" for k in TASK_TAGS}
    | {k: "subprocess" for k in SUBPROCESS_TAGS}
    | {k: "event" for k in _EVENTS}
    | {k: "gateway" for k in GATEWAY_TAGS}
    | {k: "data-object" for k in ("dataObject", "dataObjectReference", "dataInput", "dataOutput")}
    | {k: "data-store" for k in ("dataStore", "dataStoreReference")}
    | {"participant": "pool", "lane": "lane", "textAnnotation": "annotation", "group": "group", "message": "message"}
    | {k: "flow" for k in ("sequenceFlow", "messageFlow", "association", "dataInputAssociation", "dataOutputAssociation")}
)
_THROWING = {"endEvent", "intermediateThrowEvent", "implicitThrowEvent"}


def _family(item: _Item) -> str:
    return _FAMILY.get(item.kind, "unknown")


def _is_expanded(item: _Item, drawn: dict[str, _Box]) -> bool:
    """An activity drawn open with its children inside; some exporters omit ``isExpanded``, so look for drawn children."""
    flag = item.di.get("isExpanded")
    if flag is not None:
        return flag == "true"
    if item.el is None or item.box is None:
        return False
    inside = [drawn[child_id] for child_id in (child.get("id") for child in item.el) if child_id in drawn]
    return any(item.box.contains(box) for box in inside)


def _pool_is_collapsed(item: _Item, model: _Model) -> bool:
    """A black-box pool: no process behind it, an empty one, or explicitly collapsed."""
    if item.di.get("isExpanded") == "false" or item.el is None:
        return True
    process = model.get(item.el.get("processRef"))
    return process is None or all(local_name(c) in ("documentation", "extensionElements") for c in process.iter(etree.Element) if c is not process)


def _event_definitions(el: etree._Element, model: _Model) -> list[str]:
    kinds = [local_name(c) for c in el if isinstance(c.tag, str) and local_name(c).endswith("EventDefinition")]
    for ref in el.findall("{*}eventDefinitionRef"):
        target = model.get((ref.text or "").strip())
        if target is not None:
            kinds.append(local_name(target))
    return [k.removesuffix("EventDefinition") for k in kinds]


def _event_marker(el: etree._Element, model: _Model) -> str | None:
    kinds = _event_definitions(el, model)
    if len(kinds) > 1:
        return "parallel-multiple" if el.get("parallelMultiple") == "true" else "multiple"
    return kinds[0] if kinds else None


def _is_horizontal(item: _Item) -> bool:
    return item.di.get("isHorizontal") != "false"


# ---------------------------------------------------------------- text


def _char_widths() -> dict[str, float]:
    """Arial / Liberation Sans advance widths in em, good enough to wrap and to size the viewBox."""
    table = {
        0.191: "'",
        0.222: "ijl",
        0.26: "|",
        0.278: "ftI.,:;!/\\[] ",
        0.333: "r-()`",
        0.355: '"',
        0.5: "cksvxyzJ",
        0.556: "abdeghnopqu0123456789?_$L#",
        0.584: "+<>=~",
        0.611: "FTZ",
        0.667: "ABEKPSVXY&",
        0.722: "CDHNRUw",
        0.778: "GOQ",
        0.833: "mM",
        0.889: "%",
        0.944: "W",
        1.015: "@",
    }
    return {ch: width for width, chars in table.items() for ch in chars}


_WIDTHS = _char_widths()


def _text_width(text: str, size: float) -> float:
    return sum(_WIDTHS.get(ch, 0.667 if ch.isupper() else 0.6) for ch in text) * size


def _wrap(text: str, width: float, size: float) -> list[str]:
    """Greedy word wrap; words longer than the width are cut; explicit line breaks are kept."""
    lines: list[str] = []
    for paragraph in text.splitlines():
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if line and _text_width(candidate, size) > width:
                lines.append(line)
                candidate = word
            while len(candidate) > 1 and _text_width(candidate, size) > width:
                cut = next(n for n in range(len(candidate) - 1, 0, -1) if n == 1 or _text_width(candidate[:n], size) <= width)
                lines.append(candidate[:cut])
                candidate = candidate[cut:]
            line = candidate
        if line:
            lines.append(line)
    return lines


# ---------------------------------------------------------------- the SVG canvas


def _num(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


class _Canvas:
    """The SVG tree being built, the extent of everything drawn, and the overlay it shows."""

    def __init__(self, prefix: str, overlay: Overlay, translate: Callable[[str], str]) -> None:
        self.prefix = re.sub(r"[^A-Za-z0-9_-]", "-", prefix) or "bpmn"
        self.overlay = overlay
        self.translate = translate
        self.svg = etree.Element(_S + "svg", nsmap={None: SVG_NS})  # None: lxml's key for the default namespace
        self.svg.set("class", "bpmn-diagram")
        _add(self.svg, "style", text=_css())
        _add_markers(_add(self.svg, "defs"), self.prefix)
        self.legend_layer = _add(self.svg, "g", {"class": "layer-legend"})
        self.plane = self.svg  # each plane replaces it with its own group (start_plane)
        self.layers: dict[str, etree._Element] = {}
        self.lo = [math.inf, math.inf]  # extent of the plane being drawn, then of the whole drawing
        self.hi = [-math.inf, -math.inf]
        self.drawing: tuple[float, float, float, float] | None = None  # the planes drawn so far, placed
        self.max_heat = max((h.count for h in overlay.heat.values()), default=0)
        self.shown: set[str] = set()  # overlay states visible on some drawn element, for the legend

    def extend(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self.lo = [min(self.lo[0], x0, x1), min(self.lo[1], y0, y1)]
        self.hi = [max(self.hi[0], x0, x1), max(self.hi[1], y0, y1)]

    def extend_box(self, box: _Box) -> None:
        self.extend(box.x, box.y, box.right, box.bottom)

    def start_plane(self, plane_id: str) -> None:
        self.plane = etree.Element(_S + "g", {"class": "plane", "data-plane-id": plane_id})
        self.legend_layer.addprevious(self.plane)
        self.layers = {name: _add(self.plane, "g", {"class": f"layer-{name}"}) for name in ("shapes", "edges", "top", "badges")}
        self.lo, self.hi = [math.inf, math.inf], [-math.inf, -math.inf]

    def end_plane(self, heading: str | None) -> None:
        """Place the plane just drawn: the first where the file puts it, a further one below the others under ``heading``."""
        if self.lo[0] == math.inf:  # a plane whose shapes all lack bounds
            self.extend(0, 0, 100, 100)
        if heading is not None and self.drawing is not None:
            x, y = self.lo[0], self.lo[1] - HEADING_SIZE * 1.6
            _add(self.plane, "text", {"class": "plane-heading", "font-size": HEADING_SIZE, "x": x, "y": y + HEADING_SIZE}, heading)
            self.extend(x, y, x + _text_width(heading, HEADING_SIZE) * 1.1, y + HEADING_SIZE * LINE_HEIGHT)  # bold runs wider
            dx, dy = self.drawing[0] - self.lo[0], self.drawing[3] + PLANE_GAP - self.lo[1]
            self.plane.set("transform", f"translate({_num(dx)} {_num(dy)})")
            self.lo, self.hi = [self.lo[0] + dx, self.lo[1] + dy], [self.hi[0] + dx, self.hi[1] + dy]
        if self.drawing is not None:
            self.extend(*self.drawing)
        self.drawing = (self.lo[0], self.lo[1], self.hi[0], self.hi[1])

    def marker(self, name: str) -> str:
        return f"url(#{self.prefix}-{name})"

    def states(self, element_id: str) -> list[str]:
        return [name for name in _STATE_CLASSES if element_id in getattr(self.overlay, name)]

    def finish(self) -> str:
        x, y = self.lo[0] - MARGIN, self.lo[1] - MARGIN
        w, h = self.hi[0] - self.lo[0] + 2 * MARGIN, self.hi[1] - self.lo[1] + 2 * MARGIN
        self.svg.set("viewBox", " ".join(_num(v) for v in (x, y, w, h)))
        self.svg.set("width", _num(math.ceil(w)))
        self.svg.set("height", _num(math.ceil(h)))
        return etree.tostring(self.svg, encoding="unicode")


def _add(parent: etree._Element, tag: str, attrs: dict[str, object] | None = None, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, _S + tag)
    for key, value in (attrs or {}).items():
        el.set(key, _num(value) if isinstance(value, float | int) and not isinstance(value, bool) else str(value))
    if text is not None:
        el.text = text
    return el


def _path(parent: etree._Element, d: str, cls: str, **attrs: object) -> etree._Element:
    return _add(parent, "path", {"d": d, "class": cls, **attrs})


def _polygon(parent: etree._Element, points: Iterable[tuple[float, float]], cls: str, **attrs: object) -> etree._Element:
    return _add(parent, "polygon", {"points": " ".join(f"{_num(x)},{_num(y)}" for x, y in points), "class": cls, **attrs})


def _circle(parent: etree._Element, cx: float, cy: float, r: float, cls: str, **attrs: object) -> etree._Element:
    return _add(parent, "circle", {"cx": cx, "cy": cy, "r": r, "class": cls, **attrs})


def _text(
    canvas: _Canvas,
    parent: etree._Element,
    text: str,
    box: _Box,
    *,
    size: float,
    align: str = "center",
    valign: str = "middle",
    wrap: float | None = None,
) -> None:
    """Wrapped text in ``box``: centred or left-aligned, vertically centred or from the top."""
    lines = _wrap(text, wrap or box.w, size)
    if not lines:
        return
    step = size * LINE_HEIGHT
    top = box.y if valign == "top" else box.cy - len(lines) * step / 2
    x = box.cx if align == "center" else box.x
    node = _add(parent, "text", {"class": "label", "font-size": size, "text-anchor": "middle" if align == "center" else "start"})
    for i, line in enumerate(lines):
        _add(node, "tspan", {"x": x, "y": top + (i + 1) * step - 0.25 * size}, line)
    widest = max(_text_width(line, size) for line in lines)
    left = x - widest / 2 if align == "center" else x
    canvas.extend(left, top, left + widest, top + len(lines) * step)


def _rotated_text(parent: etree._Element, text: str, cx: float, cy: float, length: float) -> None:
    """A pool or lane name read bottom-up in its header band."""
    lines = _wrap(text, length, FONT_SIZE)[:2]
    step = FONT_SIZE * LINE_HEIGHT
    top = cy - len(lines) * step / 2
    node = _add(
        parent, "text", {"class": "label", "font-size": FONT_SIZE, "text-anchor": "middle", "transform": f"rotate(-90 {_num(cx)} {_num(cy)})"}
    )
    for i, line in enumerate(lines):
        _add(node, "tspan", {"x": cx, "y": top + (i + 1) * step - 0.25 * FONT_SIZE}, line)


# ---------------------------------------------------------------- style and markers


def _css() -> str:
    rules = {
        "": "font-family:Arial,'Liberation Sans','Helvetica Neue',Helvetica,sans-serif;color:" + INK,
        " text": f"fill:{INK};stroke:none",
        " .body": "fill:#fff;stroke:currentColor;stroke-width:2",
        " .body.thin": "stroke-width:1.5",
        " .body.thick": "stroke-width:4",
        " .ring": "fill:none;stroke:currentColor;stroke-width:1.5",
        " .header": "fill:none;stroke:currentColor;stroke-width:1.5",
        " .glyph": "fill:#fff;stroke:currentColor;stroke-width:1.2;stroke-linejoin:round",
        " .glyph-filled": "fill:currentColor;stroke:currentColor;stroke-width:1;stroke-linejoin:round",
        " .glyph-inverse": "fill:none;stroke:#fff;stroke-width:1.2",
        " .glyph-line": "fill:none;stroke:currentColor;stroke-width:1.5;stroke-linecap:round",
        " .glyph-line.fine": "stroke-width:1",
        " .glyph-line.heavy": "stroke-width:2.5",
        " .glyph-bold": "fill:none;stroke:currentColor;stroke-width:4",
        " .line": "fill:none;stroke:currentColor;stroke-width:1.5;stroke-linejoin:round",
        " .hit": "fill:none;stroke:transparent;stroke-width:10",
        " .message-flow>.line": "stroke-dasharray:10 5",
        " .association>.line,.bpmn-diagram .data-input-association>.line,.bpmn-diagram .data-output-association>.line": (
            "stroke-dasharray:0.5 4;stroke-linecap:round;stroke-width:2"
        ),
        " .unknown>.body,.bpmn-diagram .unknown>.line": "fill:#f3f3f3;stroke:#8a8a8a;stroke-dasharray:6 4",
        " .unknown>.line": "fill:none",
        " .unknown-tag": "fill:#6b6b6b;font-style:italic",
        " .group>.body": "fill:none;stroke-width:1.5;stroke-dasharray:10 4 1.5 4",
        " .lane>.body,.bpmn-diagram .pool>.body": "stroke-width:1.5",
        # overlay states: later rules win where an element has several
        " .is-completed": f"color:{TAKEN_INK}",
        " .is-completed>.body": "fill:#d8ecd3",
        " .is-taken": f"color:{TAKEN_INK}",
        " .is-taken>.line": "stroke-width:3",
        " .is-active": "color:#0060a0",
        " .is-active>.body": "fill:#e1effa;stroke-width:4",
        " .is-timer-waiting": "color:#a86400",
        " .is-timer-waiting>.body": "fill:#ffefc2",
        " .is-timer-fired": "color:#7a2e00",
        " .is-timer-fired>.body": "fill:#d55e00",
        " .is-timer-fired .glyph": "fill:#d55e00;stroke:#fff",
        " .is-timer-fired .glyph-line": "stroke:#fff",
        " .is-overdue": "color:#b8400b",
        " .is-overdue>.body": "fill:#fde2d3;stroke-width:4",
        " .badge-overdue circle": "fill:#b8400b;stroke:#fff;stroke-width:1.5",
        " .badge text": "fill:#fff;font-weight:bold",
        " .badge-heat rect": f"fill:{INK};stroke:#fff;stroke-width:1",
        " .legend-frame": "fill:#fff;stroke:#c8c8c8;stroke-width:1",
        " .plane-heading": "font-weight:bold",
    }
    return "".join(f".bpmn-diagram{selector}{{{body}}}" for selector, body in rules.items())


def _add_markers(defs: etree._Element, prefix: str) -> None:
    """Arrowheads in user units, so a thicker (taken) line keeps the same head size."""

    def marker(name: str, d: str, ref: tuple[float, float], scale: float, fill: str, stroke: str, orient: str = "auto") -> None:
        m = _add(
            defs,
            "marker",
            {
                "id": f"{prefix}-{name}",
                "viewBox": "0 0 20 20",
                "refX": ref[0],
                "refY": ref[1],
                "markerWidth": 30 * scale,
                "markerHeight": 30 * scale,
                "markerUnits": "userSpaceOnUse",
                "orient": orient,
            },
        )
        _add(m, "path", {"d": d, "fill": fill, "stroke": stroke, "stroke-width": 1 if fill != "none" else 2, "stroke-linecap": "round"})

    for suffix, ink in (("", INK), ("-taken", TAKEN_INK)):
        marker(f"sequence-end{suffix}", "M1,5 L11,10 L1,15 Z", (11, 10), 0.5, ink, ink)
        marker(f"default-start{suffix}", "M6,4 L10,16", (0, 10), 0.7, "none", ink)
        marker(f"conditional-start{suffix}", "M0,10 L8,6 L16,10 L8,14 Z", (-1, 10), 0.75, "#fff", ink)
    marker("message-start", "M6,6 m-3.5,0 a3.5,3.5 0 1 0 7,0 a3.5,3.5 0 1 0 -7,0", (6, 6), 1, "#fff", INK)
    marker("message-end", "M1,5 L1,2 L8,5 L1,8 Z", (8.5, 5), 1, "#fff", INK)
    marker("association-end", "M1,5 L11,10 L1,15", (11, 10), 0.5, "none", INK, "auto-start-reverse")


# ---------------------------------------------------------------- drawing


def _draw_diagram(canvas: _Canvas, model: _Model, shapes: list[_Item], edges: list[_Item]) -> None:
    drawn = {s.id: s.box for s in shapes if s.box is not None}
    expanded = {s.id for s in shapes if (_family(s) == "subprocess" or s.kind == "callActivity") and _is_expanded(s, drawn)}

    def order(item: _Item) -> tuple[int, float]:
        # containers behind their content, the biggest first; boundary events over their host
        area = item.box.w * item.box.h if item.box else 0
        family = _family(item)
        if family in ("pool", "lane"):
            return (0 if family == "pool" else 1, -area)
        if item.id in expanded:
            return (2, -area)
        return (3, 0)

    for item in sorted(shapes, key=order):
        layer = "top" if item.kind in ("boundaryEvent", "group") else "shapes"
        _draw_shape(canvas, canvas.layers[layer], item, model, item.id in expanded)
    for item in edges:
        _draw_edge(canvas, item, model)
    attached: dict[str, list[_Box]] = {}
    for item in shapes:
        if item.kind == "boundaryEvent" and item.el is not None and item.box is not None:
            host = model.get(item.el.get("attachedToRef"))
            attached.setdefault((host.get("id") or "") if host is not None else "", []).append(item.box)
    for item in shapes:
        _draw_badges(canvas, item, attached.get(item.id, []))


def _open_group(canvas: _Canvas, layer: etree._Element, item: _Item, extra: Iterable[str] = ()) -> etree._Element:
    states = canvas.states(item.id)
    classes = ["el", _family(item), _kebab(item.kind), *extra, *(_STATE_CLASSES[s] for s in states)]
    if states:
        canvas.shown.add(states[-1])  # the stylesheet lets the last state win
    if item.id in canvas.overlay.heat:
        classes.append("has-heat")
        canvas.shown.add("heat")
    g = _add(layer, "g", {"class": " ".join(dict.fromkeys(classes)), "data-element-id": item.id})
    notes = [canvas.translate(LEGEND_LABELS[s]) for s in states]
    if item.id in canvas.overlay.heat:
        info = canvas.overlay.heat[item.id]
        # completions, not cases: a loop counts each time round
        notes.append(f"{info.count}×" + (f", median {format_duration(info.median, canvas.translate)}" if info.median is not None else ""))
    title = item.name or item.id
    _add(g, "title", text=f"{title} — {', '.join(notes)}" if notes else title)
    return g


def _heat_fill(canvas: _Canvas, item: _Item) -> dict[str, str]:
    """Inline fill for heatmap mode (inline style beats the stylesheet's base fill)."""
    info = canvas.overlay.heat.get(item.id)
    if info is None or canvas.max_heat <= 0 or info.count <= 0:
        return {}
    return {"style": f"fill:{heat_colour(info.count / canvas.max_heat)}"}


def _author_colours(canvas: _Canvas, item: _Item) -> dict[str, str]:
    """Colours the modeller set (bpmn.io ``bioc:``/``color:`` attributes), unless an overlay state colours the element."""
    if canvas.states(item.id) or item.id in canvas.overlay.heat:
        return {}
    attrs = {etree.QName(k).localname: str(v) for k, v in item.di.attrib.items()}
    fill = attrs.get("background-color") or attrs.get("fill")
    stroke = attrs.get("border-color") or attrs.get("stroke")
    style = ";".join(f"{prop}:{value}" for prop, value in (("fill", fill), ("stroke", stroke)) if value and re.fullmatch(r"#?[\w(),.% ]+", value))
    return {"style": style} if style else {}


def _draw_shape(canvas: _Canvas, layer: etree._Element, item: _Item, model: _Model, expanded: bool) -> None:
    family = _family(item)
    box = item.box
    assert box is not None
    canvas.extend_box(box)
    if item.label_box is not None:  # the file's own label place, even where a short name leaves it partly empty
        canvas.extend_box(item.label_box)
    drawer = {
        "pool": _draw_pool,
        "lane": _draw_lane,
        "task": _draw_activity,
        "subprocess": _draw_activity,
        "event": _draw_event,
        "gateway": _draw_gateway,
        "data-object": _draw_data_object,
        "data-store": _draw_data_store,
        "annotation": _draw_annotation,
        "group": _draw_group,
        "message": _draw_message,
    }.get(family, _draw_unknown)
    drawer(canvas, layer, item, model, expanded)


def _body_style(canvas: _Canvas, item: _Item) -> dict[str, str]:
    return _heat_fill(canvas, item) or _author_colours(canvas, item)


def _draw_pool(canvas: _Canvas, layer: etree._Element, item: _Item, model: _Model, _expanded: bool) -> None:
    box = item.box
    assert box is not None
    collapsed = _pool_is_collapsed(item, model)
    horizontal = _is_horizontal(item)
    g = _open_group(canvas, layer, item, ["collapsed"] if collapsed else [] if horizontal else ["vertical"])
    _add(g, "rect", {"x": box.x, "y": box.y, "width": box.w, "height": box.h, "class": "body", **_author_colours(canvas, item)})
    if collapsed:
        _text(canvas, g, item.name, box, size=FONT_SIZE, wrap=box.w - 20)
    else:
        _header(g, item, box, horizontal)


def _draw_lane(canvas: _Canvas, layer: etree._Element, item: _Item, model: _Model, _expanded: bool) -> None:
    box = item.box
    assert box is not None
    horizontal = _is_horizontal(item)
    g = _open_group(canvas, layer, item, [] if horizontal else ["vertical"])
    _add(g, "rect", {"x": box.x, "y": box.y, "width": box.w, "height": box.h, "class": "body", **_author_colours(canvas, item)})
    _header(g, item, box, horizontal)


def _header(g: etree._Element, item: _Item, box: _Box, horizontal: bool) -> None:
    """The name band: on the left with the name read bottom-up, or on top for a vertical pool or lane."""
    if horizontal:
        _path(g, f"M{_num(box.x + HEADER)},{_num(box.y)} V{_num(box.bottom)}", "header")
        if item.name:
            _rotated_text(g, item.name, box.x + HEADER / 2, box.cy, box.h - 10)
    else:
        _path(g, f"M{_num(box.x)},{_num(box.y + HEADER)} H{_num(box.right)}", "header")
        lines = _wrap(item.name, box.w - 10, FONT_SIZE)[:1]
        if lines:
            _add(g, "text", {"class": "label", "font-size": FONT_SIZE, "text-anchor": "middle", "x": box.cx, "y": box.y + HEADER / 2 + 4}, lines[0])


def _draw_activity(canvas: _Canvas, layer: etree._Element, item: _Item, model: _Model, expanded: bool) -> None:
    box = item.box
    assert box is not None and item.el is not None
    el = item.el
    extra = ["expanded" if expanded else "collapsed"] if _family(item) == "subprocess" else []
    if el.get("triggeredByEvent") == "true":
        extra.append("event-subprocess")
    loop = _loop_kind(el)
    if loop:
        extra.append(loop)
    g = _open_group(canvas, layer, item, extra)
    body_cls = "body thick" if item.kind == "callActivity" else "body"
    attrs = {"x": box.x, "y": box.y, "width": box.w, "height": box.h, "rx": 10, "class": body_cls, **_body_style(canvas, item)}
    if el.get("triggeredByEvent") == "true":
        attrs["stroke-dasharray"] = "2 3"
    _add(g, "rect", attrs)
    if item.kind == "transaction":
        _add(g, "rect", {"x": box.x + 3, "y": box.y + 3, "width": box.w - 6, "height": box.h - 6, "rx": 8, "class": "ring"})
    glyph = _TASK_GLYPHS.get(item.kind)
    if glyph:  # slightly smaller than drawn, tucked into the corner, so it clears a three-line name
        glyph(_add(g, "g", {"transform": f"translate({_num(box.x + 1)} {_num(box.y + 1)}) scale(0.85)"}))
    if expanded:
        _text(canvas, g, item.name, _Box(box.x + 10, box.y + 8, box.w - 20, box.h), size=FONT_SIZE, valign="top")
    else:
        _text(canvas, g, item.name, _Box(box.x + 5, box.y + 5, box.w - 10, box.h - 10), size=FONT_SIZE)
    markers = _activity_markers(item, loop, expanded)
    step = 18
    start = box.cx - (len(markers) - 1) * step / 2
    for i, draw in enumerate(markers):
        draw(g, start + i * step, box.bottom - 11)


def _activity_markers(item: _Item, loop: str | None, expanded: bool) -> list[Callable[[etree._Element, float, float], None]]:
    """Bottom-centre markers, left to right in bpmn.io's order: loop, collapsed [+], ad hoc ~, compensation."""
    assert item.el is not None
    markers: list[Callable[[etree._Element, float, float], None]] = [_LOOP_MARKERS[loop]] if loop else []
    if not expanded and (_family(item) == "subprocess" or item.kind == "callActivity"):
        markers.append(_marker_collapsed)
    if item.kind == "adHocSubProcess":
        markers.append(_marker_adhoc)
    if item.el.get("isForCompensation") == "true":
        markers.append(_marker_compensation)
    return markers


def _loop_kind(el: etree._Element) -> str | None:
    for child in el:
        if not isinstance(child.tag, str):
            continue
        if local_name(child) == "standardLoopCharacteristics":
            return "loop"
        if local_name(child) == "multiInstanceLoopCharacteristics":
            return "multi-instance-sequential" if child.get("isSequential") == "true" else "multi-instance"
    return None


# Task type glyphs, in the coordinates of the task's top-left corner.


def _glyph_user(g: etree._Element) -> None:
    _path(g, "M8,24 c0,-5.5 3,-8 7.5,-8 s7.5,2.5 7.5,8 z", "glyph")
    _circle(g, 15.5, 11.5, 4.2, "glyph")


def _glyph_script(g: etree._Element) -> None:
    _path(g, "M11,7 h11 c-3.5,2.5 -3.5,5 0,8 s3.5,5.5 0,8 h-11 c3.5,-2.5 3.5,-5 0,-8 s-3.5,-5.5 0,-8 z", "glyph")
    _path(g, "M12.5,11 h6 M13.3,15 h6 M12.5,19 h6", "glyph-line")


def _glyph_service(g: etree._Element) -> None:
    # a gear: 8 teeth, each two outer points between two inner ones
    radii = [8.5 if i % 4 in (1, 2) else 6.2 for i in range(32)]
    points = [(r * math.cos(a), r * math.sin(a)) for r, a in zip(radii, _angles(32, -math.pi / 32), strict=True)]
    _polygon(g, _scaled(16, 15, 1, points), "glyph")
    _circle(g, 16, 15, 2.6, "glyph")


def _glyph_business_rule(g: etree._Element) -> None:
    _add(g, "rect", {"x": 8, "y": 8, "width": 18, "height": 13, "class": "glyph"})
    _add(g, "rect", {"x": 8, "y": 8, "width": 18, "height": 4, "class": "glyph-filled"})
    _path(g, "M8,16.5 h18 M13.5,12 v9", "glyph-line")


def _glyph_manual(g: etree._Element) -> None:
    # a hand, palm left, four fingers pointing right
    _path(
        g,
        "M8,13 l4,-4 h6 a1.3,1.3 0 0 1 0,2.6 h-3 h9 a1.3,1.3 0 0 1 0,2.6 h-9 h10 a1.3,1.3 0 0 1 0,2.6 h-10 "
        "h9 a1.3,1.3 0 0 1 0,2.6 h-9 h7 a1.3,1.3 0 0 1 0,2.6 h-11 l-3,-2.5 z",
        "glyph",
    )


def _envelope(g: etree._Element, x: float, y: float, w: float, h: float, filled: bool) -> None:
    _add(g, "rect", {"x": x, "y": y, "width": w, "height": h, "class": "glyph-filled" if filled else "glyph"})
    _path(g, _segment([(x, y), (x + w / 2, y + h * 0.55), (x + w, y)]), "glyph-inverse" if filled else "glyph-line")


_TASK_GLYPHS: dict[str, Callable[[etree._Element], None]] = {
    "userTask": _glyph_user,
    "scriptTask": _glyph_script,
    "serviceTask": _glyph_service,
    "businessRuleTask": _glyph_business_rule,
    "sendTask": lambda g: _envelope(g, 8, 8, 17, 12, True),
    "receiveTask": lambda g: _envelope(g, 8, 8, 17, 12, False),
    "manualTask": _glyph_manual,
}


# Activity markers along the bottom edge, each centred on (x, y) in a 14 × 14 slot.


def _marker_collapsed(g: etree._Element, x: float, y: float) -> None:
    _add(g, "rect", {"x": x - 7, "y": y - 7, "width": 14, "height": 14, "class": "glyph"})
    _path(g, f"M{_num(x - 4)},{_num(y)} h8 M{_num(x)},{_num(y - 4)} v8", "glyph-line")


def _marker_loop(g: etree._Element, x: float, y: float) -> None:
    _path(g, f"M{_num(x - 3)},{_num(y + 5)} A5.8,5.8 0 1 1 {_num(x + 3)},{_num(y + 5)}", "glyph-line")
    _path(g, f"M{_num(x - 6.5)},{_num(y + 3)} L{_num(x - 3)},{_num(y + 5)} L{_num(x - 3.5)},{_num(y + 1)}", "glyph-line")


def _marker_parallel(g: etree._Element, x: float, y: float) -> None:
    _path(g, " ".join(f"M{_num(x + dx)},{_num(y - 6)} v12" for dx in (-4.5, 0, 4.5)), "glyph-line")


def _marker_sequential(g: etree._Element, x: float, y: float) -> None:
    _path(g, " ".join(f"M{_num(x - 6)},{_num(y + dy)} h12" for dy in (-4.5, 0, 4.5)), "glyph-line")


def _marker_adhoc(g: etree._Element, x: float, y: float) -> None:
    _path(g, f"M{_num(x - 7)},{_num(y + 1.5)} c2.5,-5 4.5,-5 7,-1.5 s4.5,3.5 7,-1.5", "glyph-line")


def _marker_compensation(g: etree._Element, x: float, y: float) -> None:
    _path(g, f"M{_num(x - 7)},{_num(y)} l6,-5 v10 z M{_num(x - 1)},{_num(y)} l6,-5 v10 z", "glyph")


_LOOP_MARKERS = {"loop": _marker_loop, "multi-instance": _marker_parallel, "multi-instance-sequential": _marker_sequential}


def _draw_event(canvas: _Canvas, layer: etree._Element, item: _Item, model: _Model, _expanded: bool) -> None:
    box = item.box
    assert box is not None and item.el is not None
    el = item.el
    marker = _event_marker(el, model)
    interrupting = el.get("cancelActivity" if item.kind == "boundaryEvent" else "isInterrupting") != "false"
    extra = [marker] if marker else []
    if not interrupting:
        extra.append("non-interrupting")
    g = _open_group(canvas, layer, item, extra)
    cx, cy, r = box.cx, box.cy, min(box.w, box.h) / 2
    dash = {} if interrupting else {"stroke-dasharray": "5.5 3"}
    style = _body_style(canvas, item)
    if item.kind == "startEvent":
        _circle(g, cx, cy, r, "body", **dash, **style)
    elif item.kind == "endEvent":
        _circle(g, cx, cy, r, "body thick", **style)
    else:
        _circle(g, cx, cy, r, "body thin", **dash, **style)
        _circle(g, cx, cy, r - 3, "ring", **dash)
    if marker in _EVENT_GLYPHS:
        _EVENT_GLYPHS[marker](g, cx, cy, r / 18, item.kind in _THROWING)
    _external_label(canvas, g, item)


def _glyph_message(g: etree._Element, cx: float, cy: float, s: float, filled: bool) -> None:
    _envelope(g, cx - 8 * s, cy - 5.5 * s, 16 * s, 11 * s, filled)


def _glyph_timer(g: etree._Element, cx: float, cy: float, s: float, _filled: bool) -> None:
    _circle(g, cx, cy, 10.5 * s, "glyph")
    ticks = [_segment(_scaled(cx, cy, s, [(8.2 * math.cos(a), 8.2 * math.sin(a)), (10.5 * math.cos(a), 10.5 * math.sin(a))])) for a in _angles(12)]
    _path(g, " ".join(ticks), "glyph-line fine")
    _path(g, _segment(_scaled(cx, cy, s, [(5.5, -2.5), (0, 0), (1.5, -7.5)])), "glyph-line")


def _angles(n: int, turn: float = 0.0) -> list[float]:
    return [turn + 2 * math.pi * i / n for i in range(n)]


def _segment(points: Iterable[tuple[float, float]]) -> str:
    """An open polyline as path data."""
    return "M" + " L".join(f"{_num(x)},{_num(y)}" for x, y in points)


def _cross(cx: float, cy: float, arm: float) -> str:
    return f"{_segment([(cx - arm, cy - arm), (cx + arm, cy + arm)])} {_segment([(cx + arm, cy - arm), (cx - arm, cy + arm)])}"


def _scaled(cx: float, cy: float, s: float, points: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    return [(cx + px * s, cy + py * s) for px, py in points]


def _shape_glyph(points: list[tuple[float, float]]) -> Callable[[etree._Element, float, float, float, bool], None]:
    """An event marker that is one polygon: hollow when caught, filled when thrown."""

    def draw(g: etree._Element, cx: float, cy: float, s: float, filled: bool) -> None:
        _polygon(g, _scaled(cx, cy, s, points), "glyph-filled" if filled else "glyph")

    return draw


def _glyph_conditional(g: etree._Element, cx: float, cy: float, s: float, _filled: bool) -> None:
    _add(g, "rect", {"x": cx - 6.5 * s, "y": cy - 8.5 * s, "width": 13 * s, "height": 17 * s, "class": "glyph"})
    _path(g, " ".join(f"M{_num(cx - 4 * s)},{_num(cy + dy * s)} h{_num(8 * s)}" for dy in (-5, -1.7, 1.7, 5)), "glyph-line fine")


def _glyph_compensation(g: etree._Element, cx: float, cy: float, s: float, filled: bool) -> None:
    cls = "glyph-filled" if filled else "glyph"
    _polygon(g, _scaled(cx, cy, s, [(-9, 0), (-1, -6), (-1, 6)]), cls)
    _polygon(g, _scaled(cx, cy, s, [(-1, 0), (7, -6), (7, 6)]), cls)


def _glyph_terminate(g: etree._Element, cx: float, cy: float, s: float, _filled: bool) -> None:
    _circle(g, cx, cy, 10 * s, "glyph-filled")


def _glyph_cancel(g: etree._Element, cx: float, cy: float, s: float, _filled: bool) -> None:
    _path(g, _cross(cx, cy, 7 * s), "glyph-bold")


def _regular(n: int, r: float) -> list[tuple[float, float]]:
    """A regular polygon pointing up."""
    return [(r * math.cos(a), r * math.sin(a)) for a in _angles(n, -math.pi / 2)]


_PLUS = [(-2.5, -9), (2.5, -9), (2.5, -2.5), (9, -2.5), (9, 2.5), (2.5, 2.5), (2.5, 9), (-2.5, 9), (-2.5, 2.5), (-9, 2.5), (-9, -2.5), (-2.5, -2.5)]
_EVENT_GLYPHS: dict[str, Callable[[etree._Element, float, float, float, bool], None]] = {
    "message": _glyph_message,
    "timer": _glyph_timer,
    "signal": _shape_glyph([(0, -8.5), (8, 6), (-8, 6)]),
    "error": _shape_glyph([(-7, 8), (-3, -7), (2, 1), (7, -8), (4, 7), (-1, -1)]),
    "escalation": _shape_glyph([(0, -9), (7, 8), (0, 2), (-7, 8)]),
    "conditional": _glyph_conditional,
    "link": _shape_glyph([(-8, -3), (1, -3), (1, -7.5), (8.5, 0), (1, 7.5), (1, 3), (-8, 3)]),
    "compensate": _glyph_compensation,
    "terminate": _glyph_terminate,
    "cancel": _glyph_cancel,
    "multiple": _shape_glyph(_regular(5, 9)),
    "parallel-multiple": _shape_glyph(_PLUS),
}


def _draw_gateway(canvas: _Canvas, layer: etree._Element, item: _Item, model: _Model, _expanded: bool) -> None:
    box = item.box
    assert box is not None and item.el is not None
    g = _open_group(canvas, layer, item)
    cx, cy, s = box.cx, box.cy, min(box.w, box.h) / 50
    _polygon(g, [(cx, box.y), (box.right, cy), (cx, box.bottom), (box.x, cy)], "body", **_body_style(canvas, item))
    cross = _cross(cx, cy, 9 * s)
    plus = f"{_segment([(cx, cy - 12 * s), (cx, cy + 12 * s)])} {_segment([(cx - 12 * s, cy), (cx + 12 * s, cy)])}"
    if item.kind == "exclusiveGateway" and item.di.get("isMarkerVisible") == "true":
        _path(g, cross, "glyph-bold")
    elif item.kind == "parallelGateway":
        _path(g, plus, "glyph-bold")
    elif item.kind == "inclusiveGateway":
        _circle(g, cx, cy, 11 * s, "glyph-line heavy")
    elif item.kind == "complexGateway":
        _path(g, f"{plus} {cross}", "glyph-bold")
    elif item.kind == "eventBasedGateway":
        _event_gateway_glyph(g, item.el, cx, cy, s)
    _external_label(canvas, g, item)


def _event_gateway_glyph(g: etree._Element, el: etree._Element, cx: float, cy: float, s: float) -> None:
    _circle(g, cx, cy, 12 * s, "glyph-line fine")
    if el.get("eventGatewayType") == "Parallel":
        _polygon(g, _scaled(cx, cy, s * 0.8, _PLUS), "glyph")
        return
    if el.get("instantiate") != "true":
        _circle(g, cx, cy, 9.5 * s, "glyph-line fine")
    _polygon(g, _scaled(cx, cy, s, _regular(5, 6.5)), "glyph")


def _draw_data_object(canvas: _Canvas, layer: etree._Element, item: _Item, model: _Model, _expanded: bool) -> None:
    box = item.box
    assert box is not None
    target = model.get(item.el.get("dataObjectRef")) if item.el is not None else None
    collection = "true" in {item.el.get("isCollection") if item.el is not None else None, target.get("isCollection") if target is not None else None}
    g = _open_group(canvas, layer, item, ["collection"] if collection else [])
    fold = min(12.0, box.w / 3, box.h / 3)
    _path(
        g,
        f"M{_num(box.x)},{_num(box.y)} H{_num(box.right - fold)} L{_num(box.right)},{_num(box.y + fold)} V{_num(box.bottom)} H{_num(box.x)} Z",
        "body thin",
        **_body_style(canvas, item),
    )
    _path(g, f"M{_num(box.right - fold)},{_num(box.y)} V{_num(box.y + fold)} H{_num(box.right)}", "glyph-line fine")
    if item.kind in ("dataInput", "dataOutput"):
        arrow = _scaled(box.x + 9, box.y + 9, 0.55, [(-8, -3), (1, -3), (1, -7.5), (8.5, 0), (1, 7.5), (1, 3), (-8, 3)])
        _polygon(g, arrow, "glyph-filled" if item.kind == "dataOutput" else "glyph")
    if collection:
        _marker_parallel(g, box.cx, box.bottom - 9)
    _external_label(canvas, g, item)


def _draw_data_store(canvas: _Canvas, layer: etree._Element, item: _Item, model: _Model, _expanded: bool) -> None:
    box = item.box
    assert box is not None
    g = _open_group(canvas, layer, item)
    rx, ry = box.w / 2, min(8.0, box.h / 6)
    x0, x1, top, bottom = _num(box.x), _num(box.right), box.y + ry, box.bottom - ry
    _path(
        g,
        f"M{x0},{_num(top)} A{_num(rx)},{_num(ry)} 0 0 1 {x1},{_num(top)} V{_num(bottom)} A{_num(rx)},{_num(ry)} 0 0 1 {x0},{_num(bottom)} Z",
        "body thin",
        **_body_style(canvas, item),
    )
    rings = " ".join(f"M{x0},{_num(top + i * ry * 0.75)} A{_num(rx)},{_num(ry)} 0 0 0 {x1},{_num(top + i * ry * 0.75)}" for i in range(3))
    _path(g, rings, "glyph-line")
    _external_label(canvas, g, item)


def _draw_annotation(canvas: _Canvas, layer: etree._Element, item: _Item, model: _Model, _expanded: bool) -> None:
    box = item.box
    assert box is not None
    g = _open_group(canvas, layer, item)
    _add(g, "rect", {"x": box.x, "y": box.y, "width": box.w, "height": box.h, "class": "hit"})
    _path(g, f"M{_num(box.x + 10)},{_num(box.y)} H{_num(box.x)} V{_num(box.bottom)} H{_num(box.x + 10)}", "line")
    _text(canvas, g, item.name, _Box(box.x + 5, box.y + 5, box.w - 10, box.h - 10), size=FONT_SIZE, align="left", valign="top")


def _draw_group(canvas: _Canvas, layer: etree._Element, item: _Item, model: _Model, _expanded: bool) -> None:
    box = item.box
    assert box is not None and item.el is not None
    g = _open_group(canvas, layer, item)
    _add(g, "rect", {"x": box.x, "y": box.y, "width": box.w, "height": box.h, "rx": 10, "class": "body"})
    category = model.get(item.el.get("categoryValueRef"))
    name = (category.get("value") or "").strip() if category is not None else item.name
    label = item.label_box or _Box(box.x, box.y + 6, box.w, 20)
    _text(canvas, g, name, label, size=LABEL_FONT_SIZE, valign="top", wrap=max(label.w, EXTERNAL_LABEL_WIDTH))


def _draw_message(canvas: _Canvas, layer: etree._Element, item: _Item, model: _Model, _expanded: bool) -> None:
    """A <message> with a shape of its own (Enterprise Architect and Open-BPMN export one): the envelope BPMN defines."""
    box = item.box
    assert box is not None
    g = _open_group(canvas, layer, item)
    _envelope(g, box.x, box.y, box.w, box.h, False)
    _external_label(canvas, g, item)


def _draw_unknown(canvas: _Canvas, layer: etree._Element, item: _Item, model: _Model, _expanded: bool) -> None:
    """An element this renderer does not know (or a dangling reference): a neutral dashed box naming its tag."""
    box = item.box
    assert box is not None
    g = _open_group(canvas, layer, item, ["unknown"])
    _add(g, "rect", {"x": box.x, "y": box.y, "width": box.w, "height": box.h, "rx": 4, "class": "body"})
    tag = f"<{item.kind}>" if item.el is not None else f"? {item.id}"
    _add(
        g,
        "text",
        {"class": "label unknown-tag", "font-size": 10, "x": box.x + 4, "y": box.y + 12},
        _wrap(tag, box.w - 8, 10)[0] if box.w > 16 else "",
    )
    _text(canvas, g, item.name, _Box(box.x + 4, box.y + 14, box.w - 8, box.h - 16), size=LABEL_FONT_SIZE)


def _external_label(canvas: _Canvas, g: etree._Element, item: _Item) -> None:
    """An event's, gateway's, data element's or message's name: in its own label bounds, else centred under the shape."""
    box = item.box
    if not item.name or box is None:
        return
    label = item.label_box or _Box(box.cx - EXTERNAL_LABEL_WIDTH / 2, box.bottom + 5, EXTERNAL_LABEL_WIDTH, 0)
    _text(canvas, g, item.name, label, size=LABEL_FONT_SIZE, valign="top", wrap=max(label.w, EXTERNAL_LABEL_WIDTH))


# ---------------------------------------------------------------- edges


def _draw_edge(canvas: _Canvas, item: _Item, model: _Model) -> None:
    taken = item.id in canvas.overlay.flows_taken
    extra, start, end = _edge_style(item, model, taken)
    g = _open_group(canvas, canvas.layers["edges"], item, extra)
    if len(item.points) < 2:
        return
    for x, y in item.points:
        canvas.extend(x, y, x, y)
    if item.label_box is not None:
        canvas.extend_box(item.label_box)
    d = _rounded_path(item.points)
    _path(g, d, "hit")
    attrs: dict[str, object] = {}
    if start:
        attrs["marker-start"] = canvas.marker(start)
    if end:
        attrs["marker-end"] = canvas.marker(end)
    _path(g, d, "line", **attrs, **_author_colours(canvas, item))
    if item.name:
        _text(
            canvas,
            g,
            item.name,
            _edge_label_box(item),
            size=LABEL_FONT_SIZE,
            valign="top",
            wrap=max((item.label_box or _Box(0, 0, 0, 0)).w, EXTERNAL_LABEL_WIDTH),
        )


def _edge_style(item: _Item, model: _Model, taken: bool) -> tuple[list[str], str | None, str | None]:
    """Extra classes, start marker and end marker of one connection."""
    el, suffix = item.el, "-taken" if taken else ""
    if item.kind == "sequenceFlow" and el is not None:
        source = model.get(el.get("sourceRef"))
        if item.id in model.defaults:
            return ["default"], f"default-start{suffix}", f"sequence-end{suffix}"
        from_activity = source is not None and _FAMILY.get(local_name(source)) in ("task", "subprocess")
        conditional = el.find("{*}conditionExpression") is not None and from_activity
        if conditional:
            return ["conditional"], f"conditional-start{suffix}", f"sequence-end{suffix}"
        return [], None, f"sequence-end{suffix}"
    if item.kind == "messageFlow":
        return [], "message-start", "message-end"
    if item.kind == "association" and el is not None:
        direction = el.get("associationDirection", "None")
        return [], "association-end" if direction == "Both" else None, "association-end" if direction in ("One", "Both") else None
    if item.kind in ("dataInputAssociation", "dataOutputAssociation"):
        return [], None, "association-end"
    return ["unknown"], None, None


def _rounded_path(points: list[tuple[float, float]], radius: float = 5) -> str:
    """The waypoints joined by straight segments whose corners are slightly rounded, as bpmn.io draws them."""
    parts = [f"M{_num(points[0][0])},{_num(points[0][1])}"]
    for prev, cur, nxt in zip(points, points[1:], points[2:], strict=False):
        d_in, d_out = math.dist(prev, cur), math.dist(cur, nxt)
        r = min(radius, d_in / 2, d_out / 2)
        if r <= 0:
            parts.append(f"L{_num(cur[0])},{_num(cur[1])}")
            continue
        a = (cur[0] - (cur[0] - prev[0]) * r / d_in, cur[1] - (cur[1] - prev[1]) * r / d_in)
        b = (cur[0] + (nxt[0] - cur[0]) * r / d_out, cur[1] + (nxt[1] - cur[1]) * r / d_out)
        parts.append(f"L{_num(a[0])},{_num(a[1])} Q{_num(cur[0])},{_num(cur[1])} {_num(b[0])},{_num(b[1])}")
    parts.append(f"L{_num(points[-1][0])},{_num(points[-1][1])}")
    return " ".join(parts)


def _edge_label_box(item: _Item) -> _Box:
    """Own label bounds, else beside the middle of the line (above a horizontal stretch, right of a vertical one)."""
    if item.label_box is not None:
        return item.label_box
    points = item.points
    total = sum(math.dist(a, b) for a, b in zip(points, points[1:], strict=False))
    walked = 0.0
    for a, b in zip(points, points[1:], strict=False):
        seg = math.dist(a, b)
        if seg and walked + seg >= total / 2:
            t = (total / 2 - walked) / seg
            x, y = a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t
            if abs(b[0] - a[0]) >= abs(b[1] - a[1]):
                return _Box(x - EXTERNAL_LABEL_WIDTH / 2, y - 20, EXTERNAL_LABEL_WIDTH, 0)
            return _Box(x + 6, y - 7, EXTERNAL_LABEL_WIDTH, 0)
        walked += seg
    return _Box(points[0][0], points[0][1], EXTERNAL_LABEL_WIDTH, 0)


# ---------------------------------------------------------------- overlay badges and legend


def _draw_badges(canvas: _Canvas, item: _Item, obstacles: list[_Box]) -> None:
    """A "!" on overdue nodes (a cue that does not rely on colour) and the heatmap's count · median.

    Each badge takes the first of its candidate spots that no boundary event on the node covers.
    """
    box = item.box
    assert box is not None
    layer = canvas.layers["badges"]
    if item.id in canvas.overlay.overdue:
        corners = [(box.right, box.y), (box.right, box.bottom), (box.x, box.y), (box.x, box.bottom)]
        spot = _free_spot([_Box(x - 9, y - 9, 18, 18) for x, y in corners], obstacles)
        obstacles = [*obstacles, spot]
        g = _add(layer, "g", {"class": "badge badge-overdue", "data-badge-for": item.id})
        _circle(g, spot.cx, spot.cy, 9, "")
        _add(g, "text", {"x": spot.cx, "y": spot.cy + 4.5, "font-size": 13, "text-anchor": "middle"}, "!")
        canvas.extend_box(spot)
    info = canvas.overlay.heat.get(item.id)
    if info is not None:
        text = heat_badge_text(info, canvas.translate)
        width = _text_width(text, 10) + 10
        rows = [box.y - 7.5, box.bottom - 7.5, box.y - 17, box.bottom + 2]
        spot = _free_spot([_Box(box.cx - width / 2, y, width, 15) for y in rows], obstacles)
        g = _add(layer, "g", {"class": "badge badge-heat", "data-badge-for": item.id})
        _add(g, "rect", {"x": spot.x, "y": spot.y, "width": width, "height": 15, "rx": 7.5})
        _add(g, "text", {"x": spot.cx, "y": spot.y + 11, "font-size": 10, "text-anchor": "middle"}, text)
        canvas.extend_box(spot)


def _free_spot(candidates: list[_Box], obstacles: list[_Box]) -> _Box:
    return next((c for c in candidates if not any(c.overlaps(o) for o in obstacles)), candidates[0])


def _draw_legend(canvas: _Canvas) -> None:
    """A key below the diagram listing only the overlay states that can be seen in it."""
    used = [name for name in _STATE_CLASSES if name in canvas.shown]
    if not canvas.shown:
        return
    layer = canvas.legend_layer
    x, y = canvas.lo[0], canvas.hi[1] + 24
    cursor = x + 12
    frame = _add(layer, "rect", {"class": "legend-frame", "rx": 6, "x": x, "y": y, "height": 36})
    for name in used:
        g = _add(layer, "g", {"class": f"legend-item {_STATE_CLASSES[name]}", "data-legend": name})
        _legend_sample(g, name, cursor, y + 18)
        label = canvas.translate(LEGEND_LABELS[name])
        _add(g, "text", {"class": "label", "font-size": LABEL_FONT_SIZE, "x": cursor + 38, "y": y + 22}, label)
        cursor += 38 + _text_width(label, LABEL_FONT_SIZE) + 22
    if "heat" in canvas.shown:
        g = _add(layer, "g", {"class": "legend-item legend-heat", "data-legend": "heat"})
        for i in range(5):
            _add(
                g,
                "rect",
                {"x": cursor + i * 10, "y": y + 11, "width": 10, "height": 14, "fill": heat_colour((i + 1) / 5), "stroke": INK, "stroke-width": 0.5},
            )
        text = f"{canvas.translate(LEGEND_LABELS['heat'])} (maks. {canvas.max_heat})"
        _add(g, "text", {"class": "label", "font-size": LABEL_FONT_SIZE, "x": cursor + 58, "y": y + 22}, text)
        cursor += 58 + _text_width(text, LABEL_FONT_SIZE) + 22
    frame.set("width", _num(cursor - x - 10))
    canvas.extend(x, y, cursor - 10, y + 36)


def _legend_sample(g: etree._Element, name: str, x: float, cy: float) -> None:
    if name == "flows_taken":
        _path(g, f"M{_num(x)},{_num(cy)} H{_num(x + 28)}", "line")
    elif name.startswith("timers"):
        _circle(g, x + 14, cy, 10, "body thin")
        _glyph_timer(g, x + 14, cy, 0.55, False)
    else:
        _add(g, "rect", {"x": x, "y": cy - 10, "width": 30, "height": 20, "rx": 5, "class": "body"})
