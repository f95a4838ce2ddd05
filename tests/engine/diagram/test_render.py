"""engine/diagram/render.py: any modeller's BPMN DI drawn as one self-contained SVG, with case-state and heatmap overlays."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from engine.diagram.render import DiagramError, HeatInfo, NoDiagramError, Overlay, format_duration, heat_badge_text, heat_colour, render_svg
from web.cli import main

FIXTURES = Path(__file__).parents[2] / "fixtures" / "bpmn"
PROJECT_BPMN = Path(__file__).parents[3] / "processes" / "sp4n_lapor.bpmn"
DRAWABLE = [
    FIXTURES / "camunda_collaboration.bpmn",
    FIXTURES / "bpmnio_all_elements.bpmn",
    FIXTURES / "signavio_semantic_prefix.bpmn",
    FIXTURES / "unknown_elements.bpmn",
    PROJECT_BPMN,
]
SVG = "{http://www.w3.org/2000/svg}"


def render(path: Path, **kwargs) -> etree._Element:
    return etree.fromstring(render_svg(path.read_bytes(), **kwargs).encode())


def groups(svg: etree._Element) -> dict[str, etree._Element]:
    return {g.get("data-element-id"): g for g in svg.iter(f"{SVG}g") if g.get("data-element-id")}


def classes(el: etree._Element) -> set[str]:
    return set((el.get("class") or "").split())


def first_plane(path: Path) -> etree._Element:
    return next(etree.parse(str(path)).getroot().iter("{*}BPMNPlane"))


def view_box(svg: etree._Element) -> tuple[float, float, float, float]:
    x, y, w, h = map(float, svg.get("viewBox").split())
    return x, y, x + w, y + h


def title(g: etree._Element) -> str:
    return g.find(f"{SVG}title").text


def label_text(g: etree._Element) -> str:
    """The visible text of a group, one space between wrapped lines."""
    return " ".join(" ".join(t.itertext()) for t in g.iter(f"{SVG}text"))


PROCESS_STATE = Overlay(
    completed={"Start_Pengaduan", "Task_Rekam", "Task_Kategori", "Gateway_KeKominfo", "Task_NotifKominfo"},
    active={"Task_Disposisi"},
    overdue={"Task_Disposisi"},
    timers_fired={"Timer_Disposisi_Target"},
    timers_waiting={"Timer_Disposisi_Plafon"},
    flows_taken={"Flow_Ajukan", "Flow_Rekam", "Flow_Kategori", "Flow_KeKominfo", "Flow_Notif"},
)


# ---------------------------------------------------------------- structure of the output


@pytest.mark.parametrize("path", DRAWABLE, ids=lambda p: p.name)
def test_every_shape_and_edge_with_di_is_one_group_carrying_its_bpmn_id(path):
    plane = first_plane(path)
    expected = {di.get("bpmnElement") for di in plane if etree.QName(di).localname in ("BPMNShape", "BPMNEdge")}

    drawn = groups(render(path))

    assert expected <= set(drawn)
    assert all(title(g) for g in drawn.values())


@pytest.mark.parametrize("path", DRAWABLE, ids=lambda p: p.name)
def test_output_is_a_self_contained_svg_document(path):
    text = render_svg(path.read_bytes())
    svg = etree.fromstring(text.encode())

    assert svg.tag == f"{SVG}svg"
    assert len(svg.findall(f"{SVG}style")) == 1
    assert "sans-serif" in svg.find(f"{SVG}style").text
    assert not re.search(r"@import|@font-face|url\((?!#)", text)  # only in-document marker references
    assert not [a for el in svg.iter() for k, a in el.attrib.items() if k.endswith("href")]


@pytest.mark.parametrize("path", DRAWABLE, ids=lambda p: p.name)
def test_view_box_encloses_every_shape_waypoint_and_label_bounds(path):
    x0, y0, x1, y1 = view_box(render(path))
    plane = first_plane(path)
    for bounds in plane.iter("{*}Bounds"):
        x, y, w, h = (float(bounds.get(a)) for a in ("x", "y", "width", "height"))
        assert x0 <= x and y0 <= y and x + w <= x1 and y + h <= y1, bounds.getparent().get("id")
    for point in plane.iter("{*}waypoint"):
        assert x0 <= float(point.get("x")) <= x1 and y0 <= float(point.get("y")) <= y1


def test_view_box_grows_with_text_that_overflows_its_shape():
    xml = (FIXTURES / "unknown_elements.bpmn").read_text().replace('name="Selesai"', 'name="' + "sangat panjang " * 12 + '"')

    _x0, _y0, _x1, y1 = view_box(etree.fromstring(render_svg(xml).encode()))

    assert y1 > 138 + 12 * 11  # the end event's name wraps under it into many lines


# ---------------------------------------------------------------- text


def test_names_with_markup_characters_are_escaped_and_read_back_unchanged():
    text = render_svg((FIXTURES / "camunda_collaboration.bpmn").read_bytes())
    drawn = groups(etree.fromstring(text.encode()))

    assert "<lampiran>" not in text and "&lt;lampiran&gt;" in text
    assert title(drawn["Task_Periksa"]) == "Periksa kelengkapan & <lampiran>"
    assert label_text(drawn["TextAnnotation_Batas"]) == 'Batas 3 hari kerja menurut <SOP> & "Perpres 76/2013"'


def test_quotes_and_cdata_terminators_in_names_cannot_break_the_document():
    name = """a"b' <c> & ]]> </svg>"""
    xml = (FIXTURES / "unknown_elements.bpmn").read_text().replace('name="Mulai"', f'name="{html.escape(name)}"')

    drawn = groups(etree.fromstring(render_svg(xml).encode()))

    assert title(drawn["Start_1"]) == name


def test_names_wrap_to_the_width_of_their_shape():
    drawn = groups(render(FIXTURES / "camunda_collaboration.bpmn"))

    lines = [t.text for t in drawn["Task_Periksa"].iter(f"{SVG}tspan")]

    assert lines == ["Periksa", "kelengkapan &", "<lampiran>"]


def test_labels_sit_in_their_own_bounds_when_the_file_gives_them():
    drawn = groups(render(FIXTURES / "camunda_collaboration.bpmn"))

    first_line = next(drawn["Start_Pengaduan"].iter(f"{SVG}tspan"))  # BPMNLabel bounds y=267 height=27

    assert 267 <= float(first_line.get("y")) <= 267 + 27


def test_labels_without_bounds_go_under_events_and_inside_tasks():
    drawn = groups(render(FIXTURES / "unknown_elements.bpmn"))

    under_event = next(drawn["Start_1"].iter(f"{SVG}tspan"))  # the event spans y 102..138
    assert float(under_event.get("y")) > 138
    assert float(under_event.get("x")) == 170


def test_pool_and_lane_names_are_rotated_in_their_header_band():
    drawn = groups(render(FIXTURES / "camunda_collaboration.bpmn"))

    for element_id in ("Participant_Kantor", "Lane_Loket", "Lane_PetugasA"):
        text = drawn[element_id].find(f"{SVG}text")
        assert text.get("transform", "").startswith("rotate(-90"), element_id
        assert drawn[element_id].find(f"{SVG}path[@class='header']") is not None


# ---------------------------------------------------------------- shapes and notation


def test_every_event_definition_gets_its_marker_class():
    drawn = groups(render(FIXTURES / "bpmnio_all_elements.bpmn"))
    markers = set().union(*(classes(g) for g in drawn.values() if "event" in classes(g)))

    expected = {"message", "timer", "signal", "error", "escalation", "conditional", "link", "compensate", "terminate", "cancel"}
    assert expected | {"multiple", "parallel-multiple", "non-interrupting"} <= markers


def test_event_borders_follow_the_notation():
    drawn = groups(render(FIXTURES / "camunda_collaboration.bpmn"))

    def bodies(element_id):
        return [classes(c) for c in drawn[element_id] if "body" in classes(c) or "ring" in classes(c)]

    assert bodies("End_Selesai") == [{"body", "thick"}]
    assert len(bodies("Boundary_Error")) == 2  # intermediate events have a double ring
    assert "non-interrupting" in classes(drawn["Boundary_Timer"])
    assert drawn["Boundary_Timer"].find(f"{SVG}circle[@stroke-dasharray]") is not None
    assert drawn["Boundary_Error"].find(f"{SVG}circle[@stroke-dasharray]") is None


def test_exclusive_gateway_shows_its_x_only_when_the_marker_is_visible():
    xml = (FIXTURES / "bpmnio_all_elements.bpmn").read_bytes()
    plane = etree.fromstring(xml)
    gateways = {el.get("name"): el.get("id") for el in plane.iter("{*}exclusiveGateway")}
    drawn = groups(etree.fromstring(render_svg(xml).encode()))

    assert drawn[gateways["Eksklusif (X)"]].find(f"{SVG}path[@class='glyph-bold']") is not None
    assert drawn[gateways["Eksklusif tanpa X"]].find(f"{SVG}path[@class='glyph-bold']") is None


def test_activity_markers_and_borders():
    xml = (FIXTURES / "bpmnio_all_elements.bpmn").read_bytes()
    ids = {el.get("name"): el.get("id") for el in etree.fromstring(xml).iter() if el.get("name")}
    drawn = groups(etree.fromstring(render_svg(xml).encode()))

    assert {"body", "thick"} <= classes(drawn[ids["Panggil proses"]].find(f"{SVG}rect"))
    assert "loop" in classes(drawn[ids["Berulang"]])
    assert "multi-instance" in classes(drawn[ids["Multi-instans paralel"]])
    assert "multi-instance-sequential" in classes(drawn[ids["Multi-instans berurutan"]])
    assert "collapsed" in classes(drawn[ids["Sub-proses tertutup"]])
    assert {"expanded", "event-subprocess"} <= classes(drawn[ids["Sub-proses peristiwa"]])
    assert len(drawn[ids["Transaksi pembayaran"]].findall(f"{SVG}rect")) == 2  # a transaction has a double border


def test_collapsed_pool_has_its_name_centred_and_no_header_band():
    drawn = groups(render(FIXTURES / "camunda_collaboration.bpmn"))

    pool = drawn["Participant_Warga"]

    assert "collapsed" in classes(pool)
    assert pool.find(f"{SVG}path[@class='header']") is None
    assert pool.find(f"{SVG}text").get("transform") is None


def test_expanded_sub_process_is_recognised_even_without_the_is_expanded_flag():
    drawn = groups(render(FIXTURES / "signavio_semantic_prefix.bpmn"))

    assert "expanded" in classes(drawn["sid-SP-1"])
    assert {"sid-SP-SE", "sid-SP-T", "sid-SP-EE"} <= set(drawn)


def test_connections_carry_their_notation_markers():
    drawn = groups(render(FIXTURES / "camunda_collaboration.bpmn"))

    def line(element_id):
        return drawn[element_id].find(f"{SVG}path[@class='line']")

    assert line("Flow_Msg_Jawaban").get("marker-start") == "url(#bpmn-message-start)"
    assert line("Flow_Msg_Jawaban").get("marker-end") == "url(#bpmn-message-end)"
    assert line("Flow_Masuk").get("marker-end") == "url(#bpmn-sequence-end)"
    assert line("Flow_Lengkap").get("marker-start") == "url(#bpmn-default-start)"  # the gateway's default flow
    assert line("Flow_Tolak_Selesai").get("marker-start") == "url(#bpmn-default-start)"  # a task's default flow
    assert line("Flow_Tolak_Catat").get("marker-start") == "url(#bpmn-conditional-start)"  # conditional, out of a task
    assert line("Flow_TidakLengkap").get("marker-start") is None  # conditional out of a gateway: no diamond
    assert line("Association_Batas").get("marker-end") is None
    assert line("DataOutputAssociation_Berkas").get("marker-end") == "url(#bpmn-association-end)"


def test_modeller_colours_are_kept():
    drawn = groups(render(FIXTURES / "camunda_collaboration.bpmn"))

    assert drawn["Task_Tolak"].find(f"{SVG}rect").get("style") == "fill:#ffcdd2;stroke:#831311"


def test_unknown_elements_are_neutral_dashed_boxes_naming_their_tag():
    drawn = groups(render(FIXTURES / "unknown_elements.bpmn"))

    assert {"unknown", "robotic-task"} <= classes(drawn["Robot_1"])
    assert "<roboticTask>" in label_text(drawn["Robot_1"])
    assert {"unknown", "sticker"} <= classes(drawn["Sticker_1"])
    assert {"unknown", "missing"} <= classes(drawn["Ghost_1"])
    assert "unknown" in classes(drawn["Wire_1"])
    assert "unknown" not in classes(drawn["Flow_1"])


def test_marker_ids_take_the_given_prefix_so_two_diagrams_can_share_a_page():
    text = render_svg(PROJECT_BPMN.read_bytes(), id_prefix="case-7")

    assert 'id="case-7-sequence-end"' in text
    assert "url(#bpmn-" not in text


# ---------------------------------------------------------------- choosing the diagram, and errors


def test_process_id_selects_a_drilled_down_sub_process_plane():
    drawn = groups(render(FIXTURES / "camunda_collaboration.bpmn", process_id="Sub_Arsipkan"))

    assert set(drawn) == {"Arsip_Start", "Arsip_Pindai", "Arsip_End", "Flow_Arsip_1", "Flow_Arsip_2"}


def test_process_id_of_a_pool_selects_its_collaboration():
    drawn = groups(render(FIXTURES / "camunda_collaboration.bpmn", process_id="Process_Kantor"))

    assert "Participant_Kantor" in drawn


def test_unknown_process_id_is_a_diagram_error():
    with pytest.raises(DiagramError, match="Proses_Lain"):
        render_svg(PROJECT_BPMN.read_bytes(), process_id="Proses_Lain")


def test_file_without_di_raises_no_diagram_error():
    with pytest.raises(NoDiagramError, match="BPMNDI"):
        render_svg((FIXTURES / "no_di.bpmn").read_bytes())


@pytest.mark.parametrize("xml", ["<definitions><process></definitions>", "", b"\x00\x01"])
def test_malformed_xml_is_a_diagram_error(xml):
    with pytest.raises(DiagramError, match="XML"):
        render_svg(xml)


def test_xml_that_is_not_bpmn_is_a_diagram_error():
    with pytest.raises(DiagramError, match="BPMN"):
        render_svg('<?xml version="1.0" encoding="UTF-8"?><svg xmlns="http://www.w3.org/2000/svg"/>')


def test_external_entities_are_refused_not_read():
    xml = (FIXTURES / "unknown_elements.bpmn").read_text()
    xml = xml.replace("<bpmn2:definitions", '<!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n<bpmn2:definitions', 1)
    xml = xml.replace('name="Mulai"', 'name="&secret;"')

    with pytest.raises(DiagramError, match="entity"):
        render_svg(xml)


# ---------------------------------------------------------------- overlays


def test_overlay_states_land_on_their_elements_only():
    drawn = groups(render(PROJECT_BPMN, overlay=PROCESS_STATE))
    state_classes = {name: {c for c in classes(g) if c.startswith("is-")} for name, g in drawn.items()}

    assert state_classes["Task_Rekam"] == {"is-completed"}
    assert state_classes["Task_Disposisi"] == {"is-active", "is-overdue"}
    assert state_classes["Timer_Disposisi_Target"] == {"is-timer-fired"}
    assert state_classes["Timer_Disposisi_Plafon"] == {"is-timer-waiting"}
    assert state_classes["Flow_Notif"] == {"is-taken"}
    assert state_classes["Task_KirimUnit"] == set()
    assert sum(1 for s in state_classes.values() if s) == 13


def test_taken_flows_use_the_taken_arrowhead():
    drawn = groups(render(PROJECT_BPMN, overlay=PROCESS_STATE))

    assert drawn["Flow_Notif"].find(f"{SVG}path[@class='line']").get("marker-end") == "url(#bpmn-sequence-end-taken)"
    assert drawn["Flow_Disposisi"].find(f"{SVG}path[@class='line']").get("marker-end") == "url(#bpmn-sequence-end)"


def test_overdue_task_gets_a_badge_and_says_so_in_its_title():
    svg = render(PROJECT_BPMN, overlay=PROCESS_STATE)

    badges = [g.get("data-badge-for") for g in svg.iter(f"{SVG}g") if "badge-overdue" in classes(g)]

    assert badges == ["Task_Disposisi"]
    assert title(groups(svg)["Task_Disposisi"]) == "Verifikasi laporan — Sedang dikerjakan, Terlambat"


def test_ids_in_the_overlay_that_are_not_in_the_diagram_are_ignored():
    drawn = groups(render(PROJECT_BPMN, overlay=Overlay(completed={"Task_Hilang"}, heat={"Task_Hilang": HeatInfo(3)})))

    assert not [g for g in drawn.values() if {"is-completed", "has-heat"} & classes(g)]


def test_legend_lists_only_the_states_in_use():
    plain = render(PROJECT_BPMN)
    svg = render(PROJECT_BPMN, overlay=Overlay(completed={"Task_Rekam"}, active={"Task_Disposisi"}), legend=True)

    items = [g.get("data-legend") for g in svg.iter(f"{SVG}g") if g.get("data-legend")]

    assert items == ["completed", "active"]
    assert view_box(svg)[3] > view_box(plain)[3]  # the legend is inside the picture


def test_legend_leaves_out_states_hidden_behind_a_stronger_one():
    svg = render(PROJECT_BPMN, overlay=PROCESS_STATE, legend=True)  # the only active task is also overdue

    items = [g.get("data-legend") for g in svg.iter(f"{SVG}g") if g.get("data-legend")]

    assert items == ["completed", "flows_taken", "timers_waiting", "timers_fired", "overdue"]


def test_legend_without_overlay_draws_nothing():
    svg = render(PROJECT_BPMN, legend=True)

    assert not [g for g in svg.iter(f"{SVG}g") if g.get("data-legend")]


def test_heatmap_fills_by_count_and_badges_count_and_median():
    heat = {"Task_Disposisi": HeatInfo(12, timedelta(hours=3, minutes=5)), "Task_Teruskan": HeatInfo(3)}
    svg = render(PROJECT_BPMN, overlay=Overlay(heat=heat), legend=True)
    drawn = groups(svg)

    assert drawn["Task_Disposisi"].find(f"{SVG}rect").get("style") == f"fill:{heat_colour(1.0)}"
    assert drawn["Task_Teruskan"].find(f"{SVG}rect").get("style") == f"fill:{heat_colour(0.25)}"
    assert drawn["Task_Rekam"].find(f"{SVG}rect").get("style") is None
    badges = {g.get("data-badge-for"): label_text(g) for g in svg.iter(f"{SVG}g") if "badge-heat" in classes(g)}
    assert badges == {"Task_Disposisi": "12 · 3j 5m", "Task_Teruskan": "3"}
    assert "12×, median 3j 5m" in title(drawn["Task_Disposisi"])


def test_heat_colours_darken_with_the_count():
    ramp = [heat_colour(f) for f in (0.0, 0.5, 1.0)]

    assert ramp == ["#fff7bc", "#fec44f", "#ec7014"]


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(seconds=40), "40d"),
        (timedelta(minutes=5), "5m"),
        (timedelta(hours=3, minutes=5), "3j 5m"),
        (timedelta(hours=3), "3j"),
        (timedelta(days=2, hours=3, minutes=59), "2h 3j"),
        (timedelta(days=1), "1h"),
        (timedelta(seconds=-5), "0d"),
    ],
)
def test_format_duration(duration, text):
    assert format_duration(duration) == text


def test_a_duration_speaks_the_readers_language():
    english = {"%(days)sh %(hours)sj": "%(days)sd %(hours)sh", "%(hours)sj %(minutes)sm": "%(hours)sh %(minutes)sm", "%(seconds)sd": "%(seconds)ss"}
    translate = lambda text: english.get(text, text)  # noqa: E731 - the catalogue's English, as web/labels.engine_text gives it
    assert format_duration(timedelta(days=2, hours=3), translate) == "2d 3h"  # not "2h 3j": 2 hours, to an English reader
    assert format_duration(timedelta(seconds=40), translate) == "40s"
    assert heat_badge_text(HeatInfo(12, timedelta(hours=3, minutes=5)), translate) == "12 · 3h 5m"


def test_heat_badge_text_without_median_is_the_count_alone():
    assert heat_badge_text(HeatInfo(7)) == "7"
    assert heat_badge_text(HeatInfo(12, timedelta(hours=3, minutes=5))) == "12 · 3j 5m"


# ---------------------------------------------------------------- the lapor diagram command


def test_cli_writes_the_svg_file(tmp_path):
    out = tmp_path / "lapor.svg"

    result = CliRunner().invoke(main, ["diagram", str(PROJECT_BPMN), "-o", str(out)])

    assert result.exit_code == 0, result.output
    assert etree.parse(str(out)).getroot().tag == f"{SVG}svg"


def test_cli_prints_to_stdout_without_output_or_with_dash():
    for args in ([], ["-o", "-"]):
        result = CliRunner().invoke(main, ["diagram", str(FIXTURES / "signavio_semantic_prefix.bpmn"), *args])

        assert result.exit_code == 0
        assert etree.fromstring(result.stdout.encode()).tag == f"{SVG}svg"


@pytest.mark.parametrize(("content", "message"), [(None, "BPMNDI"), ("<definitions><process>", "XML")])
def test_cli_fails_with_one_line_for_a_file_it_cannot_draw(tmp_path, content, message):
    source = FIXTURES / "no_di.bpmn"
    if content is not None:
        source = tmp_path / "rusak.bpmn"
        source.write_text(content)
    out = tmp_path / "out.svg"

    result = CliRunner().invoke(main, ["diagram", str(source), "-o", str(out)])

    assert result.exit_code != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr
    assert not out.exists()
