"""Any modeller's diagram: files exported by many modellers (tests/fixtures/bpmn/SOURCES) drawn whole, every plane.

Each fixture is a public file kept byte for byte as its repository holds it. For each: every flow node that has a
BPMNShape on some plane is drawn; every external label (events, gateways, data, connections) sits in the BPMNLabel
bounds the file gives it; nothing the file places lies outside the SVG's viewBox.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from engine.definitions.bpmn_xml import FLOW_NODE_TAGS, local_name
from engine.diagram.render import LABEL_FONT_SIZE, LINE_HEIGHT, HeatInfo, Overlay, list_planes, render_svg
from web.cli import main

MODELLERS = Path(__file__).parents[2] / "fixtures" / "bpmn" / "modellers"
FILES = sorted(MODELLERS.glob("*.bpmn"))
SVG = "{http://www.w3.org/2000/svg}"
TOLERANCE = 2  # px, for rounding in the exported coordinates and in the SVG's two-decimal numbers
EXTERNAL_LABEL_KINDS = {"event", "gateway", "data-object", "data-store", "message", "flow"}


def _ref(ref: str | None) -> str:
    return (ref or "").rsplit(":", 1)[-1]  # some exporters write references as QNames


def _model(path: Path) -> etree._Element:
    return etree.fromstring(path.read_bytes(), etree.XMLParser(resolve_entities=False, no_network=True))


def shaped_flow_nodes(root: etree._Element, planes: list[etree._Element] | None = None) -> set[str]:
    """Ids of the flow nodes (activities, events, gateways) that have a BPMNShape with bounds on the given planes."""
    nodes = {
        el.get("id")
        for top in root
        if isinstance(top.tag, str) and local_name(top) != "BPMNDiagram"
        for el in top.iter(etree.Element)
        if local_name(el) in FLOW_NODE_TAGS and el.get("id")
    }
    shaped = {
        _ref(shape.get("bpmnElement"))
        for plane in (planes if planes is not None else root.iter("{*}BPMNPlane"))
        for shape in plane.iter("{*}BPMNShape")
        if shape.find("{*}Bounds") is not None
    }
    return nodes & shaped


def drawn(svg: etree._Element) -> dict[str, list[etree._Element]]:
    """Every element's groups by BPMN id (an element drawn on two planes has two)."""
    groups: dict[str, list[etree._Element]] = {}
    for g in svg.iter(f"{SVG}g"):
        if g.get("data-element-id"):
            groups.setdefault(g.get("data-element-id"), []).append(g)
    return groups


def drawn_planes(svg: etree._Element) -> list[tuple[etree._Element, float, float]]:
    """Each plane's ``g.plane`` in drawing order, with where it was moved to (its ``translate``)."""
    planes = []
    for g in svg.iter(f"{SVG}g"):
        if g.get("class") == "plane":
            match = re.fullmatch(r"translate\((\S+) (\S+)\)", g.get("transform") or "translate(0 0)")
            assert match, g.get("transform")
            planes.append((g, float(match[1]), float(match[2])))
    return planes


def file_planes(root: etree._Element) -> list[etree._Element]:
    return [p for p in root.iter("{*}BPMNPlane") if p.find("{*}BPMNShape") is not None or p.find("{*}BPMNEdge") is not None]


def render(path: Path) -> etree._Element:
    return etree.fromstring(render_svg(path.read_bytes()).encode())


def test_the_collection_covers_many_modellers_and_several_multi_plane_files():
    exporters = {(_model(p).get("exporter") or p.stem.split("-")[0]).split(",")[0].lower() for p in FILES}
    multi_plane = [p.name for p in FILES if len(list_planes(p.read_bytes())) > 1]

    assert len(FILES) >= 15 and len(exporters) >= 10, exporters
    assert len(multi_plane) >= 4, multi_plane
    sources = (MODELLERS.parent / "SOURCES").read_text()
    assert all(p.name in sources for p in FILES), "every fixture is listed in SOURCES with its licence"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_flow_node_with_a_shape_is_drawn_on_some_plane(path):
    expected = shaped_flow_nodes(_model(path))

    svg = render(path)

    assert expected, "the fixture has flow nodes with shapes"
    assert expected <= set(drawn(svg)), sorted(expected - set(drawn(svg)))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_plane_is_drawn_once_each_further_one_below_under_its_heading(path):
    planes = list_planes(path.read_bytes())

    svg = render(path)
    groups = drawn_planes(svg)

    assert [g.get("data-plane-id") for g, _dx, _dy in groups] == [p.id for p in planes]
    assert (groups[0][1], groups[0][2]) == (0, 0)
    headings = [g.findtext(f"{SVG}text[@class='plane-heading']") for g, _dx, _dy in groups]
    assert headings[0] is None and all(headings[1:])
    assert all(p.name in heading for p, heading in zip(planes[1:], headings[1:], strict=True) if p.name)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_external_labels_sit_in_their_label_bounds(path):
    """Tolerance: the text's centre line and the top of its first line lie within the bounds (± TOLERANCE px); as in
    bpmn.io, a label may wrap wider than a narrow box (up to the external label width) and run below a short one."""
    root = _model(path)
    svg = render(path)
    for plane, (g_plane, _dx, _dy) in zip(file_planes(root), drawn_planes(svg), strict=True):
        groups = {g.get("data-element-id"): g for g in g_plane.iter(f"{SVG}g") if g.get("data-element-id")}
        for di in plane:
            box = di.find("{*}BPMNLabel/{*}Bounds")
            g = groups.get(_ref(di.get("bpmnElement")))
            if box is None or g is None or not EXTERNAL_LABEL_KINDS & set(g.get("class").split()):
                continue
            x, y, w, h = (float(box.get(a, 0)) for a in ("x", "y", "width", "height"))
            label = next((t for t in g.findall(f"{SVG}text") if t.get("class") == "label"), None)
            if w <= 0 or h <= 0 or label is None:
                continue
            first = label.find(f"{SVG}tspan")
            top = float(first.get("y")) - LABEL_FONT_SIZE * (LINE_HEIGHT - 0.25)
            assert x - TOLERANCE <= float(first.get("x")) <= x + w + TOLERANCE, di.get("bpmnElement")  # in the plane's own coordinates
            assert y - TOLERANCE <= top <= y + h + TOLERANCE, di.get("bpmnElement")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_nothing_the_file_places_lies_outside_the_view_box(path):
    root = _model(path)
    svg = render(path)
    vx, vy, vw, vh = map(float, svg.get("viewBox").split())
    for plane, (_g, dx, dy) in zip(file_planes(root), drawn_planes(svg), strict=True):
        for bounds in plane.iter("{*}Bounds"):
            x, y, w, h = (float(bounds.get(a, 0)) for a in ("x", "y", "width", "height"))
            if local_name(bounds.getparent()) == "BPMNLabel" and (w <= 0 or h <= 0):
                continue
            where = bounds.getparent().get("id") or bounds.getparent().getparent().get("id")
            assert vx <= x + dx and vy <= y + dy and x + dx + w <= vx + vw and y + dy + h <= vy + vh, where
        for point in plane.iter("{*}waypoint"):
            assert vx <= float(point.get("x")) + dx <= vx + vw and vy <= float(point.get("y")) + dy <= vy + vh


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_overlay_states_and_heat_reach_nodes_on_the_last_plane(path):
    root = _model(path)
    # the last plane that has flow nodes: Apromore leaves stale Signavio pages whose shapes name no element
    last_nodes = next(nodes for plane in reversed(file_planes(root)) if (nodes := shaped_flow_nodes(root, [plane])))
    open_node, *done = sorted(last_nodes)
    overlay = Overlay(active={open_node}, overdue={open_node}, completed=set(done), heat={n: HeatInfo(3) for n in done})

    svg = etree.fromstring(render_svg(path.read_bytes(), overlay, legend=True).encode())

    groups = drawn(svg)
    assert all({"is-active", "is-overdue"} <= set(g.get("class").split()) for g in groups[open_node])
    assert all({"is-completed", "has-heat"} <= set(g.get("class").split()) for node in done for g in groups[node])
    badges = {b.get("data-badge-for") for b in svg.iter(f"{SVG}g") if b.get("data-badge-for")}
    assert {open_node, *done} <= badges


# ---------------------------------------------------------------- planes on the command line

MULTI_PLANE = MODELLERS / "signavio-collapsed-sub-process.bpmn"


def test_cli_draws_every_plane_of_a_multi_plane_file(tmp_path):
    out = tmp_path / "semua.svg"
    second = list_planes(MULTI_PLANE.read_bytes())[1]
    second_nodes = shaped_flow_nodes(_model(MULTI_PLANE), [p for p in file_planes(_model(MULTI_PLANE)) if p.get("id") == second.id])

    result = CliRunner().invoke(main, ["diagram", str(MULTI_PLANE), "-o", str(out)])

    assert result.exit_code == 0, result.output
    assert second_nodes and second_nodes <= set(drawn(etree.parse(str(out)).getroot()))


def test_cli_plane_draws_that_plane_only():
    planes = list_planes(MULTI_PLANE.read_bytes())
    root = _model(MULTI_PLANE)
    by_id = {p.get("id"): p for p in file_planes(root)}

    result = CliRunner().invoke(main, ["diagram", str(MULTI_PLANE), "--plane", planes[1].id])

    assert result.exit_code == 0, result.output
    svg = etree.fromstring(result.stdout.encode())
    assert [g.get("data-plane-id") for g, _dx, _dy in drawn_planes(svg)] == [planes[1].id]
    assert set(drawn(svg)) >= shaped_flow_nodes(root, [by_id[planes[1].id]])
    assert not set(drawn(svg)) & shaped_flow_nodes(root, [by_id[planes[0].id]])


def test_cli_plane_accepts_the_sub_process_id_and_refuses_an_unknown_plane():
    by_element = CliRunner().invoke(main, ["diagram", str(MULTI_PLANE), "--plane", "collapsedProcess_2"])
    unknown = CliRunner().invoke(main, ["diagram", str(MULTI_PLANE), "--plane", "Tidak_Ada"])

    assert by_element.exit_code == 0 and 'data-plane-id="' in by_element.stdout
    assert unknown.exit_code != 0 and "Tidak_Ada" in unknown.stderr


def test_cli_list_names_every_plane_and_what_it_draws():
    result = CliRunner().invoke(main, ["diagram", str(MULTI_PLANE), "--list"])

    assert result.exit_code == 0, result.output
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [row[0] for row in rows] == [p.id for p in list_planes(MULTI_PLANE.read_bytes())]
    assert rows[0][1] == "process rootProcess" and rows[1][1:3] == ["subProcess collapsedProcess", "Collapsed Process"]


# ---------------------------------------------------------------- odd and hostile plane layouts


def _file(processes: str, diagrams: str) -> str:
    return (
        '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"'
        f' xmlns:dc="http://www.omg.org/spec/DD/20100524/DC">{processes}{diagrams}</definitions>'
    )


def _plane(plane_id: str, element: str, *shapes: str, diagram: str = "") -> str:
    body = "".join(f'<bpmndi:BPMNShape bpmnElement="{s}"><dc:Bounds x="0" y="0" width="100" height="80"/></bpmndi:BPMNShape>' for s in shapes)
    plane = f'<bpmndi:BPMNPlane id="{plane_id}" bpmnElement="{element}">{body}</bpmndi:BPMNPlane>'
    return f'<bpmndi:BPMNDiagram id="D_{plane_id}" {diagram}>{plane}</bpmndi:BPMNDiagram>'


ODD = _file(
    '<collaboration id="Kolaborasi" name="Kantor"><participant id="Pool" processRef="P1"/></collaboration>'
    '<process id="P1"><task id="T1" name="Terima"/><subProcess id="Sub" name="Periksa"><task id="T2"/></subProcess></process>'
    '<process id="P2" name="Arsip"><task id="T3"/></process>',
    _plane("Utama", "Kolaborasi", "Pool", "T1", "Sub")
    + _plane("Kosong", "P2")  # a plane without shapes: nothing to draw
    + _plane("Rinci", "Sub", "T2")
    + _plane("Hilang", "Tidak_Ada", "T3", diagram='name="Halaman 3"')  # refers to no element
    + _plane("Rinci", "P2", "T3"),  # a duplicate plane id
)


def test_odd_planes_are_drawn_or_skipped_without_failing():
    svg = etree.fromstring(render_svg(ODD, Overlay(active={"T2"})).encode())

    planes = drawn_planes(svg)
    assert [g.get("data-plane-id") for g, _dx, _dy in planes] == ["Utama", "Rinci", "Hilang", "Rinci"]
    headings = [g.findtext(f"{SVG}text[@class='plane-heading']") for g, _dx, _dy in planes]
    assert headings == [None, "Isi sub-proses: Periksa", "Diagram: Halaman 3", "Diagram: Arsip"]
    assert "is-active" in drawn(svg)["T2"][0].get("class").split()
    assert len(drawn(svg)["T3"]) == 2
    tops = [dy for _g, _dx, dy in planes]
    assert tops == sorted(tops) and len(set(tops)) == len(tops)  # each further plane below the one before


def test_plane_id_picks_the_first_of_duplicates_and_the_element_id_its_plane():
    by_plane = drawn(etree.fromstring(render_svg(ODD, plane_id="Rinci").encode()))
    by_element = drawn(etree.fromstring(render_svg(ODD, plane_id="P2").encode()))
    by_diagram = drawn(etree.fromstring(render_svg(ODD, plane_id="D_Hilang").encode()))

    assert set(by_plane) == {"T2"} and set(by_element) == {"T3"} and set(by_diagram) == {"T3"}


def test_headings_are_translated():
    svg = render_svg(ODD, translate=lambda text: {"Isi sub-proses: %(name)s": "Inside sub-process: %(name)s", "Periksa": "Check"}.get(text, text))

    assert "Inside sub-process: Check" in svg


def test_a_file_of_many_planes_draws_them_all_in_one_svg():
    count = 500
    xml = _file(
        "".join(f'<process id="P{i}"><task id="T{i}"/></process>' for i in range(count)),
        "".join(_plane(f"B{i}", f"P{i}", f"T{i}") for i in range(count)),
    )

    svg = etree.fromstring(render_svg(xml).encode())

    assert len(drawn_planes(svg)) == count and {f"T{i}" for i in range(count)} <= set(drawn(svg))
    assert float(svg.get("viewBox").split()[3]) >= count * 80
