"""engine/reports/charts.py: each chart's rows agree with the SLA report for the same cases, and its SVG is safe to
inline (XML, no script, no event handler), titled, deterministic and worded in the reader's language."""

from __future__ import annotations

import re
from collections import OrderedDict
from datetime import date

import pytest
from lxml import etree

from engine.contract import CEILING, TARGET
from engine.reports import charts as charts_module
from engine.reports.charts import Wording, chart, charts, short_name
from engine.reports.filters import CaseFilter, Period
from engine.reports.sla import sla_report
from tests.engine.reports.support import at
from tests.engine.support import KOMINFO, ask_extension, do, submit, wib
from tests.scenarios import ANSWER_VERTIKAL, BOTH_ACCEPTED, COMPLAINT, PUBLISH, SATISFIED, AskExtension, Do

TWO_WEEKS = Period(date(2026, 11, 30), date(2026, 12, 13))
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def cases(service, three_cases):
    """three_cases, then on Friday 4 December a complaint to two units (Dinas Pendidikan asks for two more days and
    gets them) answered and rated 4, and on Monday 7 December one taken by phone that waits for Admin Kominfo."""
    at(service, wib(2026, 12, 4, 11, 0))
    joint = submit(service, {**COMPLAINT, "title": "Sekolah di atas tanah sengketa"}, BOTH_ACCEPTED)
    ask_extension(service, joint, AskExtension("Task_Tanggapan_Satker", 2))
    do(service, joint, Do("Task_Perpanjangan", {"decision": "setuju", "working_days": 2, "note": "Disetujui."}))
    at(service, wib(2026, 12, 4, 15, 0))
    do(service, joint, Do("Task_Tanggapan_Satker", {"response": "Perbaikan atap dijadwalkan minggu depan."}, "dinas-pendidikan"))
    do(service, joint, ANSWER_VERTIKAL)
    do(service, joint, PUBLISH)
    do(service, joint, Do(SATISFIED.task, {**SATISFIED.data, "rating": 4}))
    at(service, wib(2026, 12, 7, 9, 0))
    service.submit({**COMPLAINT, "title": "Lampu jalan padam", "category": "infrastruktur"}, channel="telepon", recorded_by=KOMINFO)
    service.session.commit()
    return service


def _figures(service, **filters):
    return {item.slug: item for item in charts(service.session, CaseFilter(TWO_WEEKS, **filters), service.clock.now())}


def _sums(item, first: int = 1) -> dict[str, int]:
    """Each count column of a chart summed over its rows, by header."""
    return {column.label: sum(row[index] or 0 for row in item.rows) for index, column in enumerate(item.columns) if index >= first}


def test_weekly_counts_add_up_to_the_reports_channels_and_statuses(cases):
    figures = _figures(cases)
    report = sla_report(cases.session, CaseFilter(TWO_WEEKS), cases.clock.now())
    by_channel, by_status = figures["per-minggu-saluran"], figures["per-minggu-status"]
    assert [row[0] for row in by_channel.rows] == [date(2026, 11, 30), date(2026, 12, 7)]
    assert by_channel.rows == [[date(2026, 11, 30), 4, 0, 4], [date(2026, 12, 7), 0, 1, 1]]
    assert {k: v for k, v in _sums(by_channel).items() if k != "Jumlah"} == report.by_channel
    assert {k: v for k, v in _sums(by_status).items() if k != "Jumlah"} == report.by_status
    assert _sums(by_status)["Jumlah"] == report.cases == 5


@pytest.mark.parametrize("unit", [None, "dinas-pendidikan"])
def test_on_time_shares_count_the_passes_the_sla_report_counts(cases, unit):
    item = _figures(cases, unit_id=unit)["ketepatan-waktu"]
    report = sla_report(cases.session, CaseFilter(TWO_WEEKS, unit_id=unit), cases.clock.now())
    for clock, (met, missed, share) in ((TARGET, (1, 2, 3)), (CEILING, (4, 5, 6))):
        rows = [row.clocks[clock] for row in report.stages if clock in row.clocks]
        assert sum(r[met] for r in item.rows) == sum(r.met for r in rows)
        assert sum(r[missed] for r in item.rows) == sum(r.missed for r in rows)
        for row in item.rows:
            decided = row[met] + row[missed]
            assert row[share] == (round(100 * row[met] / decided, 1) if decided else None)
    assert item.rows[1][1:] == [0, 0, None, 0, 0, None]  # the phone complaint's first step is still open


def test_units_show_cases_answer_time_extensions_and_ratings(cases):
    item = _figures(cases)["per-unit"]
    report = sla_report(cases.session, CaseFilter(TWO_WEEKS), cases.clock.now())
    rows = {row[0]: row for row in item.rows}
    assert set(rows) == {"dinas-pendidikan", "dinas-kesehatan", "kanwil-bpn-jatim"}
    assert [rows[u][2] for u in ("dinas-pendidikan", "dinas-kesehatan", "kanwil-bpn-jatim")] == [3, 1, 1]
    assert rows["dinas-pendidikan"][5] == 1 and rows["kanwil-bpn-jatim"][5] == 0  # extensions asked
    ratings = {row.key: row for row in report.ratings.by_unit}
    for unit, row in rows.items():
        rated = ratings.get(unit)
        assert row[6] == (rated.total if rated else 0)
        assert row[7] == (round(rated.average, 2) if rated and rated.average is not None else None)
    assert rows["kanwil-bpn-jatim"][6:] == [1, 4.0]
    assert rows["kanwil-bpn-jatim"][3] == 4.0  # received at 11.00 on Friday, answered at 15.00
    assert rows["dinas-kesehatan"][3] is None  # has not answered yet


def test_categories_split_the_cases_that_met_every_target(cases):
    item = _figures(cases)["per-kategori"]
    report = sla_report(cases.session, CaseFilter(TWO_WEEKS), cases.clock.now())
    assert [row[0] for row in item.rows] == ["Pendidikan", "Kesehatan", "Infrastruktur", "Pertanahan", "Keagamaan", "Lainnya"]
    assert sum(row[1] for row in item.rows) == report.cases
    assert sum(row[2] for row in item.rows) == report.all_targets_met
    assert sum(row[3] for row in item.rows) == report.any_target_missed


def test_one_units_report_shows_that_unit_only(cases):
    item = _figures(cases, unit_id="kanwil-bpn-jatim")["per-unit"]
    assert [row[0] for row in item.rows] == ["kanwil-bpn-jatim"]


def test_every_svg_is_safe_titled_scaled_and_deterministic(cases, monkeypatch):
    first = _figures(cases)
    monkeypatch.setattr(charts_module, "_DRAWN", OrderedDict())  # drawn afresh, not the picture kept from the first time
    again = _figures(cases)
    ids: set[str] = set()
    for slug, item in first.items():
        root = etree.fromstring(item.svg.encode())
        assert root.tag == f"{SVG}svg" and root.get("role") == "img" and root.get("viewBox") and root.get("width") is None
        assert root.find(f"{SVG}title").text == item.title and root.find(f"{SVG}desc").text == item.caption
        elements = list(root.iter())
        assert not [e for e in elements if etree.QName(e).localname in ("script", "style", "foreignObject")]
        assert not [name for e in elements for name in e.attrib if etree.QName(name).localname.lower().startswith("on")]
        own = {e.get("id") for e in elements if e.get("id")}
        assert all(i.startswith(f"chart-{slug}") for i in own) and not own & ids
        ids |= own
        for reference in re.findall(r"url\(#([^)]+)\)", item.svg):
            assert reference in own
        assert item.svg == again[slug].svg  # same rows, same bytes
        assert item.title in item.svg


def test_long_unit_names_are_shortened_with_the_full_name_as_a_hint(cases):
    names = {"kanwil-bpn-jatim": "Kantor Wilayah Badan Pertanahan Nasional Provinsi Jawa Timur <Surabaya> & Sekitarnya"}
    wording = Wording(unit_names=names)
    item = chart(cases.session, CaseFilter(TWO_WEEKS), "per-unit", cases.clock.now(), wording)
    root = etree.fromstring(item.svg.encode())
    hints = [t.text for t in root.iter(f"{SVG}title")]
    assert names["kanwil-bpn-jatim"] in hints  # the full name, escaped by the serializer and read back
    assert "<Surabaya>" not in item.svg and "&lt;Surabaya&gt;" in item.svg
    assert short_name(names["kanwil-bpn-jatim"]) == "Kantor Wilayah Badan\nPertanahan Nasional…"


def test_labels_follow_the_readers_language(cases):
    english = {
        "Laporan masuk per minggu menurut saluran": "Complaints per week by channel",
        "Minggu mulai (Senin)": "Week starting (Monday)",
        "Pendidikan": "Education",
    }
    wording = Wording(translate=lambda text: english.get(text, text), channel=lambda code: code.upper())
    figures = {item.slug: item for item in charts(cases.session, CaseFilter(TWO_WEEKS), cases.clock.now(), wording)}
    by_channel = figures["per-minggu-saluran"]
    assert by_channel.title == "Complaints per week by channel"
    assert [c.label for c in by_channel.columns][:3] == ["Week starting (Monday)", "WEB", "TELEPON"]
    assert "Complaints per week by channel" in by_channel.svg and ">WEB<" in by_channel.svg
    assert figures["per-kategori"].rows[0][0] == "Education"
    assert _figures(cases)["per-minggu-saluran"].title == "Laporan masuk per minggu menurut saluran"


def test_no_cases_draw_a_sentence_instead_of_empty_axes(service):
    item = chart(service.session, CaseFilter(TWO_WEEKS), "per-minggu-saluran", wib(2026, 12, 14, 9, 0))
    assert item.rows == [[date(2026, 11, 30), 0], [date(2026, 12, 7), 0]]
    assert "Tidak ada laporan pada periode ini." in item.svg


def test_csv_and_workbook_hold_the_same_rows(cases):
    item = _figures(cases)["ketepatan-waktu"]
    lines = item.csv().lstrip("\ufeff").splitlines()
    assert lines[0].split(",")[0] == "Minggu mulai (Senin)" and len(lines) == 1 + len(item.rows)
    assert lines[2].startswith("2026-12-07,0,0,,")
    assert chart(cases.session, CaseFilter(TWO_WEEKS), "tidak-ada") is None


def test_a_picture_is_drawn_once_for_the_same_table_in_the_same_words(cases, monkeypatch):
    monkeypatch.setattr(charts_module, "_DRAWN", OrderedDict())
    drawn = []
    savefig = charts_module.Figure.savefig
    monkeypatch.setattr(charts_module.Figure, "savefig", lambda figure, *args, **kwargs: drawn.append(1) or savefig(figure, *args, **kwargs))
    first = [item.svg for item in _figures(cases).values()]
    assert len(drawn) == len(first)
    assert [item.svg for item in _figures(cases).values()] == first and len(drawn) == len(first)  # a page opened again
    english = charts(cases.session, CaseFilter(TWO_WEEKS), cases.clock.now(), Wording(translate=lambda text: f"EN {text}"))
    assert all("EN " in item.svg for item in english) and len(drawn) == 2 * len(first)  # other words: another picture
