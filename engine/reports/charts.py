"""The charts of /rekap and of the monthly register: each a table of numbers and the picture drawn from that table, so
the picture, its CSV and its workbook never disagree.

The numbers are the reports' own measure (engine/reports/facts.py), counted as engine/reports/sla.py counts them:
the cases ``filters`` selects (by submission), their passes (in one unit's report, that unit's own steps and the steps
of no unit), the citizens' ratings as engine/reports/ratings.py assigns them to units. Weeks run Monday to Sunday in
local time and a case belongs to the week it was submitted in.

Why matplotlib: it is well kept, draws a static SVG with no script (the pages' Content-Security-Policy stays as it is),
and WeasyPrint draws the same SVG in the register's PDF. Only ``Figure`` objects are built, never pyplot's global state,
so two requests may draw at once. The SVG is deterministic (same rows, same bytes: no date, a fixed hash salt) and keeps
its text as text (``svg.fonttype: none``), so it stays small, readable by screen readers and searchable in the PDF.
"""

from __future__ import annotations

import io
import json
import math
import re
import textwrap
import threading
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any

import matplotlib
from lxml import etree
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.cases.extensions import REQUESTED
from engine.contract import CATEGORIES, CEILING, CHANNELS, STATUSES, TARGET
from engine.db.connection import in_chunks
from engine.db.tables import AuditEvent, CaseUnit
from engine.messages import N_
from engine.notifications.notify import CATEGORY_NAMES
from engine.reports.facts import MET, MISSED, CaseFacts, counted_for, facts_in, median
from engine.reports.filters import CaseFilter
from engine.reports.ratings import rating_report
from engine.reports.records import to_csv
from engine.reports.spreadsheet import DATE, INTEGER, NUMBER, PERCENT, Column, to_xlsx
from engine.timekeeping.calendar import WorkingCalendar, zone

# Process-wide, set once at import and never changed afterwards (so threads only read them): deterministic ids, text
# kept as text, and no TeX-like "$...$" parsing of a unit's name.
matplotlib.rcParams.update(
    {"svg.fonttype": "none", "svg.hashsalt": "sp4n-lapor", "text.parse_math": False, "font.family": "DejaVu Sans", "font.size": 10}
)
COLOURS = ("#1f5f99", "#e08a1e", "#3a9a4a", "#7d5ba6", "#17a2b8", "#8c6d31", "#d35fa0", "#6b6b6b", "#c0392b")
WIDTH = 4.2  # inches: 302 pt, a phone's width in CSS pixels, so the text keeps its size there; wider screens scale it up
WIDE = 10.0  # inches: small multiples side by side across a landscape A4 page
DRAWN_KEPT = 64  # pictures kept per process (a few KB each): this month's and last month's /rekap, in both languages
_DRAWN: OrderedDict[str, str] = OrderedDict()
_DRAWN_LOCK = threading.Lock()


@dataclass(frozen=True)
class Wording:
    """How the charts name things for one reader; by default in Indonesian, by their codes."""

    translate: Callable[[str], str] = str  # the sentences marked N_ (here and in engine/) into the reader's language
    status: Callable[[str], str] = str
    channel: Callable[[str], str] = str
    unit_names: Mapping[str, str] = field(default_factory=dict)

    def category(self, code: str) -> str:
        return self.translate(CATEGORY_NAMES.get(code, code))


@dataclass
class Chart:
    """One chart: its table (header and typed rows) and the SVG drawn from that table."""

    slug: str
    title: str
    caption: str
    columns: list[Column]
    rows: list[list[Any]]
    paint: Callable[[Chart, bool], Figure] = field(repr=False)  # (chart, wide) -> its figure; a table with nothing to draw gets _nothing instead
    hints: dict[str, str] = field(default_factory=dict, repr=False)  # element id -> a full name shown on hover
    palette: list[str] = field(default_factory=list, repr=False)  # a colour per series (a value keeps its colour in every period)
    empty: str = ""  # what the picture says when there is nothing to draw
    side_by_side: bool = False  # small multiples: one column of panels on a phone, side by side on a landscape page

    @cached_property
    def svg(self) -> str:
        """The chart as an SVG element to inline in HTML: role="img", its title and caption, ids prefixed with its slug.
        Drawn for a phone's width first; wider screens scale it up."""
        return self._draw(wide=False)

    @cached_property
    def wide_svg(self) -> str:
        """The chart for a landscape A4 page (the register's PDF): small multiples side by side, else ``svg``."""
        return self._draw(wide=True) if self.side_by_side else self.svg

    def _draw(self, wide: bool) -> str:
        """The SVG, drawn once per picture: the same table in the same words is the same picture (it is deterministic),
        so a page opened again, or by a colleague, costs no drawing (a chart takes 50-200 ms)."""
        key = json.dumps(
            [self.slug, wide, self.title, self.caption, [c.label for c in self.columns], self.rows, self.hints, self.palette, self.empty], default=str
        )
        with _DRAWN_LOCK:
            if key in _DRAWN:
                _DRAWN.move_to_end(key)
                return _DRAWN[key]
        out = io.StringIO()
        (_nothing(self) or self.paint(self, wide)).savefig(out, format="svg", metadata={"Date": None, "Creator": None})
        svg = _finish(out.getvalue(), self, f"chart-{self.slug}-wide" if wide else f"chart-{self.slug}")
        with _DRAWN_LOCK:
            _DRAWN[key] = svg
            while len(_DRAWN) > DRAWN_KEPT:
                _DRAWN.popitem(last=False)
        return svg

    def csv(self) -> str:
        """The rows as CSV text, made formula-safe as the case export is (engine/reports/records.py)."""
        return to_csv(({c.label: _text(v) for c, v in zip(self.columns, row, strict=True)} for row in self.rows), [c.label for c in self.columns])

    def xlsx(self) -> bytes:
        """The rows as a workbook with typed cells (engine/reports/spreadsheet.py)."""
        return to_xlsx(self.columns, self.rows, title=self.slug)

    def column(self, index: int) -> list[Any]:
        """The values of one column, row by row."""
        return [row[index] for row in self.rows]


def charts(
    session: Session,
    filters: CaseFilter,
    now: datetime | None = None,
    wording: Wording | None = None,
    calendar: WorkingCalendar | None = None,
    facts: Sequence[CaseFacts] | None = None,
) -> list[Chart]:
    """The charts of the cases ``filters`` selects, in the order a page shows them. Their SVG is drawn when first read.
    ``facts``: those cases' facts when the caller read them already (``facts_in``)."""
    wording = wording or Wording()
    facts = facts_in(session, filters, now, calendar) if facts is None else facts
    weeks = _weeks(filters, facts)
    return [
        _weekly(
            "per-minggu-saluran",
            wording,
            weeks,
            facts,
            N_("Laporan masuk per minggu menurut saluran"),
            N_("Jumlah laporan yang masuk setiap minggu (Senin sampai Minggu), ditumpuk menurut saluran."),
            lambda item: item.case.channel,
            CHANNELS,
            wording.channel,
        ),
        _weekly(
            "per-minggu-status",
            wording,
            weeks,
            facts,
            N_("Laporan masuk per minggu menurut status"),
            N_("Laporan yang masuk setiap minggu, ditumpuk menurut statusnya saat ini."),
            lambda item: item.case.status,
            STATUSES,
            wording.status,
        ),
        _on_time(wording, weeks, facts, filters.unit_id),
        _per_unit(session, wording, facts, filters.unit_id),
        _per_category(wording, facts),
    ]


def chart(session: Session, filters: CaseFilter, slug: str, now: datetime | None = None, wording: Wording | None = None) -> Chart | None:
    """The chart named ``slug``; None when there is none."""
    return next((item for item in charts(session, filters, now, wording) if item.slug == slug), None)


# ---- the tables ----------------------------------------------------------------------------------------------------


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _week_of(item: CaseFacts) -> date:
    return _monday(item.case.submitted_at.astimezone(zone()).date())


def _weeks(filters: CaseFilter, facts: Sequence[CaseFacts]) -> list[date]:
    """Every week of the period (the Monday each starts on), or of the cases when the filter has no period."""
    if filters.period is not None:
        first, last = _monday(filters.period.start), filters.period.end
    elif facts:
        first, last = _week_of(facts[0]), _week_of(facts[-1])
    else:
        return []
    return [first + timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]


def _weekly(
    slug: str,
    wording: Wording,
    weeks: list[date],
    facts: Sequence[CaseFacts],
    title: str,
    caption: str,
    key: Callable[[CaseFacts], str],
    order: Sequence[str],
    label: Callable[[str], str],
) -> Chart:
    """Cases per week, one column per value of ``key`` that occurs (in ``order``, then any other), and the week's total."""
    counts: dict[date, Counter[str]] = {week: Counter() for week in weeks}
    for item in facts:
        counts.setdefault(_week_of(item), Counter())[key(item)] += 1
    seen = {value for counter in counts.values() for value in counter}
    values = [v for v in order if v in seen] + sorted(seen - set(order))
    t = wording.translate
    columns = [Column(t(N_("Minggu mulai (Senin)")), DATE), *(Column(label(v), INTEGER) for v in values), Column(t(N_("Jumlah")), INTEGER)]
    rows = [[week, *(counts[week][v] for v in values), sum(counts[week].values())] for week in sorted(counts)]
    palette = [COLOURS[(list(order).index(v) if v in order else len(order)) % len(COLOURS)] for v in values]
    return Chart(slug, t(title), t(caption), columns, rows, _stacked_bars, empty=t(N_("Tidak ada laporan pada periode ini.")), palette=palette)


def _share(met: int, missed: int) -> float | None:
    """Met as a percentage of the decided, one decimal; None when nothing was decided."""
    return round(100 * met / (met + missed), 1) if met + missed else None


def _on_time(wording: Wording, weeks: list[date], facts: Sequence[CaseFacts], unit_id: str | None) -> Chart:
    tally: dict[date, Counter[tuple[str, str]]] = {week: Counter() for week in weeks}
    for item in facts:
        outcomes = tally.setdefault(_week_of(item), Counter())
        for p in item.passes:
            if counted_for(p, unit_id):
                for clock in (TARGET, CEILING):
                    if p.outcome.get(clock) in (MET, MISSED):
                        outcomes[clock, str(p.outcome[clock])] += 1
    t = wording.translate
    columns = [Column(t(N_("Minggu mulai (Senin)")), DATE)]
    measures = ((N_("terpenuhi"), INTEGER), (N_("terlewati"), INTEGER), (N_("tepat waktu (%)"), PERCENT))  # pybabel reads no f-string
    for clock_name in (N_("Batas SOP"), N_("Batas nasional")):
        columns += [Column(f"{t(clock_name)}: {t(measure)}", kind) for measure, kind in measures]
    rows = []
    for week in sorted(tally):
        row: list[Any] = [week]
        for clock in (TARGET, CEILING):
            met, missed = tally[week][clock, MET], tally[week][clock, MISSED]
            row += [met, missed, _share(met, missed)]
        rows.append(row)
    return Chart(
        "ketepatan-waktu",
        t(N_("Ketepatan waktu per minggu")),
        t(
            N_(
                "Bagian langkah yang selesai dalam batas SOP dan dalam batas nasional, menurut minggu laporan masuk. "
                "Langkah yang masih berjalan dan belum lewat batas belum dihitung."
            )
        ),
        columns,
        rows,
        _share_lines,
        empty=t(N_("Belum ada langkah yang selesai pada periode ini.")),
    )


def _extensions(session: Session, facts: Sequence[CaseFacts]) -> Counter[str]:
    """How many extensions each unit asked for on these cases (event ``extension_requested``, its ``unit``)."""
    asked: Counter[str] = Counter()
    for chunk in in_chunks([item.case.id for item in facts]):
        query = select(AuditEvent.data).where(AuditEvent.case_id.in_(chunk), AuditEvent.type == REQUESTED)
        for data in session.scalars(query):
            unit = json.loads(data).get("unit")
            if unit:
                asked[unit] += 1
    return asked


def _units_of(session: Session, facts: Sequence[CaseFacts]) -> dict[int, set[str]]:
    """Each case's units: every unit it was forwarded to, and its current one."""
    units: dict[int, set[str]] = {item.case.id: {item.case.unit_id} if item.case.unit_id else set() for item in facts}
    for chunk in in_chunks(list(units)):
        for case_id, unit_id in session.execute(select(CaseUnit.case_id, CaseUnit.unit_id).where(CaseUnit.case_id.in_(chunk))):
            units[case_id].add(unit_id)
    return units


def _answer_time(item: CaseFacts, unit: str) -> timedelta | None:
    """From the unit's first step on the case (receiving it) to its first answer; None while it has not answered."""
    own = [p for p in item.passes if p.unit == unit]
    answers = [p.end for p in own if p.stage == "tanggapan" and p.ended_by == "completed" and p.end is not None]
    return min(answers) - min(p.start for p in own) if answers else None


def _per_unit(session: Session, wording: Wording, facts: Sequence[CaseFacts], unit_id: str | None) -> Chart:
    units_of = _units_of(session, facts)
    cases: Counter[str] = Counter()
    answer_times: dict[str, list[timedelta]] = defaultdict(list)
    clock: dict[str, Counter[str]] = defaultdict(Counter)
    for item in facts:
        for unit in units_of[item.case.id]:
            if unit_id and unit != unit_id:
                continue  # one unit's report: the other units of its shared cases are theirs
            cases[unit] += 1
            spent = _answer_time(item, unit)
            if spent is not None:
                answer_times[unit].append(spent)
            for p in item.passes:
                if p.unit == unit and p.outcome.get(TARGET) in (MET, MISSED):
                    clock[unit][str(p.outcome[TARGET])] += 1
    ratings = {row.key: row for row in rating_report(facts).by_unit if row.key in cases}
    asked = _extensions(session, facts)
    t = wording.translate
    columns = [
        Column(t(N_("ID unit"))),
        Column(t(N_("Unit"))),
        Column(t(N_("Jumlah laporan")), INTEGER),
        Column(t(N_("Median waktu menjawab (jam)")), NUMBER),
        Column(t(N_("Langkah unit dalam batas SOP (%)")), PERCENT),
        Column(t(N_("Permintaan perpanjangan")), INTEGER),
        Column(t(N_("Jumlah nilai")), INTEGER),
        Column(t(N_("Rata-rata nilai (1-5)")), NUMBER),
    ]
    rows = []
    for unit in sorted(cases, key=lambda u: (wording.unit_names.get(u, u), u)):
        middle = median(answer_times[unit])
        rated = ratings.get(unit)
        rows.append(
            [
                unit,
                wording.unit_names.get(unit, unit),
                cases[unit],
                round(middle.total_seconds() / 3600, 2) if middle is not None else None,
                _share(clock[unit][MET], clock[unit][MISSED]),
                asked[unit],
                rated.total if rated else 0,
                round(rated.average, 2) if rated and rated.average is not None else None,
            ]
        )
    return Chart(
        "per-unit",
        t(N_("Kinerja per unit")),
        t(
            N_(
                "Untuk setiap unit: laporan yang diterimanya, median waktu dari menerima sampai menjawab, bagian langkahnya "
                "yang selesai dalam batas SOP, permintaan perpanjangan, dan rata-rata nilai dari pelapor."
            )
        ),
        columns,
        rows,
        _unit_panels,
        empty=t(N_("Belum ada laporan yang diteruskan ke unit pada periode ini.")),
        side_by_side=True,
    )


def _per_category(wording: Wording, facts: Sequence[CaseFacts]) -> Chart:
    tally: dict[str, Counter[str]] = {category: Counter() for category in CATEGORIES}
    for item in facts:
        counter = tally.setdefault(item.case.category, Counter())
        counter["cases"] += 1
        if item.all_targets_met is not None:
            counter[MET if item.all_targets_met else MISSED] += 1
    t = wording.translate
    columns = [
        Column(t(N_("Kategori"))),
        Column(t(N_("Jumlah laporan")), INTEGER),
        Column(t(N_("Memenuhi semua batas SOP")), INTEGER),
        Column(t(N_("Melewati batas SOP")), INTEGER),
        Column(t(N_("Tepat batas SOP (%)")), PERCENT),
    ]
    rows = [[wording.category(code), c["cases"], c[MET], c[MISSED], _share(c[MET], c[MISSED])] for code, c in tally.items()]
    return Chart(
        "per-kategori",
        t(N_("Laporan per kategori")),
        t(N_("Jumlah laporan setiap kategori dan bagian laporan yang memenuhi semua batas SOP (laporan yang masih berjalan tidak dihitung).")),
        columns,
        rows,
        _category_panels,
        empty=t(N_("Tidak ada laporan pada periode ini.")),
        side_by_side=True,
    )


def _text(value: Any) -> str:
    """A cell as the CSV writes it: dates in ISO form, numbers without trailing zeros, nothing for None."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# ---- the pictures --------------------------------------------------------------------------------------------------


def _figure(height: float, width: float = WIDTH) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    figure.patch.set_alpha(0)  # the page's background shows through
    return figure


def _nothing(chart: Chart) -> Figure | None:
    """A small figure saying there is nothing to draw, when the table has no number above zero."""
    numbers = [v for row in chart.rows for v in row if isinstance(v, int | float) and not isinstance(v, bool) and v]
    if numbers:
        return None
    figure = _figure(1.0)
    figure.text(0.5, 0.5, chart.empty or chart.title, ha="center", va="center", color="#555555")
    return figure


def _week_axis(axes: Axes, weeks: list[date]) -> None:
    step = max(1, math.ceil(len(weeks) / 7))  # at most about seven labels, legible on a phone
    axes.set_xticks(range(len(weeks))[::step], [f"{week:%d-%m}" for week in weeks[::step]])
    axes.set_xlim(-0.6, len(weeks) - 0.4)
    axes.spines[["top", "right"]].set_visible(False)


def _stacked_bars(chart: Chart, wide: bool) -> Figure:  # one layout for every width
    figure = _figure(3.2)
    axes = figure.add_subplot()
    weeks = chart.column(0)
    bottom = [0] * len(weeks)
    for index, column in enumerate(chart.columns[1:-1], start=1):
        heights = chart.column(index)
        axes.bar(range(len(weeks)), heights, bottom=bottom, label=column.label, color=chart.palette[index - 1], width=0.7)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    _week_axis(axes, weeks)
    axes.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))  # whole cases only, a few ticks legible on a phone
    axes.set_ylabel(chart.columns[-1].label)
    figure.legend(loc="outside lower center", ncols=2, frameon=False)
    return figure


def _share_lines(chart: Chart, wide: bool) -> Figure:  # one layout for every width
    figure = _figure(2.8)
    axes = figure.add_subplot()
    weeks = chart.column(0)
    # the ceiling's hollow squares under the SOP's dots: where both shares are equal (often 100%) both stay visible
    for colour, index, marker, size, fill, layer in ((COLOURS[0], 3, "o", 5, COLOURS[0], 3), (COLOURS[8], 6, "s", 9, "none", 2)):
        shares = [math.nan if v is None else v for v in chart.column(index)]  # a week with nothing decided: a gap
        label = chart.columns[index].label.split(":")[0]
        axes.plot(
            range(len(weeks)), shares, color=colour, label=label, linewidth=1.8, marker=marker, markersize=size, markerfacecolor=fill, zorder=layer
        )
    _week_axis(axes, weeks)
    axes.set_ylim(0, 105)
    axes.set_ylabel("%")
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    figure.legend(loc="outside lower center", ncols=2, frameon=False)
    return figure


def short_name(name: str, width: int = 20, lines: int = 2) -> str:
    """A long name on at most ``lines`` lines of ``width`` characters, cut with an ellipsis (its full name is the hint)."""
    wrapped = textwrap.wrap(name, width) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: width - 1].rstrip() + "…"
    return "\n".join(wrapped)


def _panels(chart: Chart, wide: bool, names: list[str], indexes: Sequence[int], limits: Mapping[int, float]) -> Figure:
    """Small multiples: one horizontal bar chart per column of ``indexes``, stacked so they read on a phone, or side by
    side (``wide``) with the names once on the left."""
    per_panel = 0.34 * len(names) + 0.55
    if wide:
        figure = _figure(per_panel + 0.2, WIDE)
        panels = figure.subplots(1, len(indexes), sharey=True, squeeze=False)[0, :]
    else:
        figure = _figure(per_panel * len(indexes))
        panels = figure.subplots(len(indexes), 1, sharey=True, squeeze=False)[:, 0]
    positions = list(range(len(names)))
    for colour, axes, index in zip(COLOURS, panels, indexes, strict=False):
        values = [0 if v is None else v for v in chart.column(index)]
        bars = axes.barh(positions, values, color=colour, height=0.6)
        axes.bar_label(bars, labels=[_bar_label(v) for v in chart.column(index)], padding=2, fontsize=9)
        axes.set_title(textwrap.fill(chart.columns[index].label, 18) if wide else chart.columns[index].label, loc="left", fontsize=10)
        top = max(values + [limits.get(index, 1)])
        axes.set_xlim(0, top * 1.18)  # room for the value beside the longest bar
        axes.xaxis.set_visible(False)
        axes.spines[["top", "right", "bottom"]].set_visible(False)
    panels[0].set_yticks(positions, [short_name(name) for name in names])
    panels[0].invert_yaxis()  # the first row on top
    for panel, axes in enumerate(panels):
        for number, tick in enumerate(axes.get_yticklabels()):
            tick.set_gid(f"label-{panel}-{number}")
            chart.hints[f"label-{panel}-{number}"] = names[number]
    return figure


def _bar_label(value: Any) -> str:
    """A bar's value as a reader takes it in at a glance: one decimal at most (the numbers beside the chart keep more)."""
    if value is None:
        return "—"
    return f"{value:.1f}".removesuffix(".0") if isinstance(value, float) else str(value)


def _unit_panels(chart: Chart, wide: bool) -> Figure:
    return _panels(chart, wide, chart.column(1), (2, 3, 4, 5, 7), {4: 100, 7: 5})


def _category_panels(chart: Chart, wide: bool) -> Figure:
    return _panels(chart, wide, chart.column(0), (1, 4), {4: 100})


# ---- the SVG as the pages inline it --------------------------------------------------------------------------------

_SVG = "http://www.w3.org/2000/svg"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_REFERENCE = re.compile(r"url\(#([^)]+)\)")


def _finish(svg: str, chart: Chart, prefix: str) -> str:
    """matplotlib's SVG made fit to inline: scaled by its viewBox, no stylesheet (its ``*`` rule would reach the whole
    page), ids prefixed (``prefix``) so two charts on one page never clash, nor a chart's phone and wide drawings,
    role="img" with the chart's title and caption."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    root = etree.fromstring(svg.encode("utf-8"), parser)
    for name in ("width", "height"):
        root.attrib.pop(name, None)
    for element in root.iter(f"{{{_SVG}}}style", f"{{{_SVG}}}metadata"):
        element.getparent().remove(element)
    for element in root.iter():
        gid = element.get("id")
        if gid is not None:
            if gid in chart.hints:
                hint = etree.Element(f"{{{_SVG}}}title")
                hint.text = chart.hints[gid]
                element.insert(0, hint)
            element.set("id", f"{prefix}-{gid}")
        for attribute, value in element.attrib.items():
            if attribute == _XLINK_HREF and value.startswith("#"):
                element.set(attribute, f"#{prefix}-{value[1:]}")
            elif "url(#" in value:
                element.set(attribute, _REFERENCE.sub(lambda found: f"url(#{prefix}-{found.group(1)})", value))
    root.set("id", prefix)
    root.set("class", "chart-svg")
    root.set("role", "img")
    root.set("aria-labelledby", f"{prefix}-title {prefix}-desc")
    title = etree.Element(f"{{{_SVG}}}title", id=f"{prefix}-title")
    title.text = chart.title
    desc = etree.Element(f"{{{_SVG}}}desc", id=f"{prefix}-desc")
    desc.text = chart.caption
    root.insert(0, desc)
    root.insert(0, title)
    return etree.tostring(root, encoding="unicode")
