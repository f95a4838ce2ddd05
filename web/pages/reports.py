"""Reports and records (``/rekap``): the SLA report with its heatmap, the CSV export, the monthly register
(buku agenda pengaduan) and the printable case sheet, as print-ready HTML and as PDF.

Who sees what: the SLA figures and the heatmap are aggregates (Admin Pusat, auditors and process
analysts). The export and the register carry case contents (Admin Pusat and auditors). A case sheet
follows the staff case page's visibility (``access.case_for_staff``: a unit sees only its own cases).
Each is made for its reader through engine/cases/access.py's one rule and loader, so a reporter's name, email
and phone appear exactly where that reader's case page shows them: never an anonymous reporter's, and
never any to auditors. Confidential complaints' content is shown to these staff readers.

The printable pages and their PDFs come from one template each: WeasyPrint renders the same HTML
with web/static/print.css (A4, the office's name on every page, page numbers, signature block).

The charts (engine/reports/charts.py) are figures like the SLA report: /rekap shows them inline with each chart's
numbers as CSV and .xlsx beside it; the monthly register's PDF carries the same charts for its month. Every
download is also an Excel workbook (engine/reports/spreadsheet.py), from the same rows as its CSV.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup

from engine.audit import eventlog
from engine.cases import access, lookups
from engine.contract import CASE_READERS, FIGURE_ROLES, OVERSIGHT_ROLES
from engine.db.tables import Definition
from engine.definitions.versions import version
from engine.diagram.render import Overlay, render_svg
from engine.reports import charts, records, sla, spreadsheet
from engine.reports.facts import MET, MISSED, OPEN, SYSTEM_STEP_LIMIT_MS, CaseFacts, facts_in
from engine.reports.filters import CaseFilter, Period, download_name
from engine.reports.heatmap import heat
from engine.timekeeping.calendar import zone
from web import params
from web.extensions import db, service
from web.labels import channel_label, engine_text, status_label
from web.pages import events
from web.pages.auth import roles_required

bp = Blueprint("reports", __name__)
SOP_STEPS = {"disposisi": 3, "terima": 4, "tanggapan": 5, "teruskan": 6, "balasan": 7, "complaint_recorded": 2, "answer_published": 6}
SYSTEM_STEP_NAMES = {"complaint_recorded": _l("Rekam pengaduan dan kirim notifikasi"), "answer_published": _l("Terbitkan jawaban")}
OUTCOME_LABELS = {MET: _l("terpenuhi"), MISSED: _l("terlewati"), OPEN: _l("berjalan")}
PRIVATE = {"Cache-Control": "private, no-store"}  # case contents: never in a shared cache
MIMETYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class PdfUnavailable(RuntimeError):
    """WeasyPrint or the system libraries it needs (Pango) are missing."""


# ---- formatting for the templates -----------------------------------------------------------


@bp.app_template_filter("duration")
def duration(value: timedelta | None) -> str:
    """``2 hari 1 jam``, ``3 jam 5 menit``, ``40 detik`` in the reader's language."""
    if value is None:
        return "—"
    seconds = max(0, int(value.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if days:
        parts.append(ngettext("%(num)s hari", "%(num)s hari", days))
    if hours:
        parts.append(ngettext("%(num)s jam", "%(num)s jam", hours))
    if minutes and not days:
        parts.append(ngettext("%(num)s menit", "%(num)s menit", minutes))
    if not parts:
        parts.append(ngettext("%(num)s detik", "%(num)s detik", secs))
    return " ".join(parts)


@bp.app_template_filter("outcome_label")
def outcome_label(value: str | None) -> str:
    return str(OUTCOME_LABELS.get(value, "—")) if value else "—"


@bp.app_template_filter("working_days")
def working_days(clock: sla.ClockRow | None) -> str:
    if clock is None or not clock.deadlines:
        return "—"
    days = clock.working_days
    if days:
        return " / ".join(ngettext("%(num)s hari kerja", "%(num)s hari kerja", n) for n in days)
    return " / ".join(duration(d.delta) for d in clock.deadlines if d.delta is not None) or "—"


@bp.app_template_filter("milliseconds")
def milliseconds(value: float | None) -> str:
    if value is None:
        return "—"
    number = f"{value:,.1f}".replace(",", " ")
    return _("%(ms)s ms", ms=number)


# ---- request parsing -----------------------------------------------------------------------


def _now() -> datetime:
    return current_app.config["LAPOR_CLOCK"].now()


def _period(args: Any) -> Period:
    """``bulan=YYYY-MM``, or ``dari`` / ``sampai`` (YYYY-MM-DD, both included); the current month otherwise.

    Aborts with 400 and a message for a date that is unreadable or outside the years params.FIRST_YEAR..LAST_YEAR.
    """
    try:
        if args.get("dari") or args.get("sampai"):
            start, end = (params.day(args[name]) if args.get(name) else None for name in ("dari", "sampai"))
            return Period.up_to(start, end, _now().astimezone(zone()).date())
        if args.get("bulan"):
            return params.month(args["bulan"])
    except ValueError:
        abort(
            400,
            _(
                "Periode tidak valid: gunakan bulan TTTT-BB, atau dari/sampai TTTT-BB-HH dengan tahun %(first)s sampai %(last)s "
                "dan tanggal akhir tidak sebelum tanggal awal.",
                first=params.FIRST_YEAR,
                last=params.LAST_YEAR,
            ),
        )
    return Period.containing(_now())


def _filters() -> CaseFilter:
    args = request.args
    return CaseFilter(_period(args), unit_id=args.get("unit") or None, category=args.get("kategori") or None)


def _query(filters: CaseFilter, **extra: Any) -> dict[str, str]:
    """The query string that selects ``filters`` again (for the page's links)."""
    assert filters.period is not None
    values = {"dari": filters.period.start.isoformat(), "sampai": filters.period.end.isoformat()}
    if filters.unit_id:
        values["unit"] = filters.unit_id
    if filters.category:
        values["kategori"] = filters.category
    values.update({k: v for k, v in extra.items() if v})
    return values


# ---- PDF -----------------------------------------------------------------------------------


def render_pdf(html: str) -> bytes:
    """The print HTML as a PDF, styled by print.css. Nothing outside the document is fetched. Raises PdfUnavailable."""
    try:  # imported here, not at the top: WeasyPrint is heavy and optional (it needs Pango); without it only the PDF is refused
        import weasyprint
    except (ImportError, OSError) as error:  # OSError: Pango and friends missing on this machine
        raise PdfUnavailable(str(error)) from error
    stylesheet = Path(current_app.static_folder or "static") / "print.css"
    nothing = weasyprint.URLFetcher(allowed_protocols=())
    return weasyprint.HTML(string=html, base_url="/", url_fetcher=nothing).write_pdf(
        stylesheets=[weasyprint.CSS(string=stylesheet.read_text(encoding="utf-8"), url_fetcher=nothing)]
    )


def _document(template: str, filename: str, as_pdf: bool, **context: Any) -> Response:
    now = _now()
    html = render_template(
        template, pdf=as_pdf, printed_at=now, printed_day=now.astimezone(zone()).date(), printed_by=current_user.user.username, **context
    )
    if not as_pdf:
        return Response(html, mimetype="text/html", headers=PRIVATE)
    try:
        body = render_pdf(html)
    except PdfUnavailable:
        abort(503, _("PDF tidak dapat dibuat di server ini (WeasyPrint/Pango belum terpasang). Cetak halaman HTML-nya dari peramban."))
    return Response(body, mimetype="application/pdf", headers={"Content-Disposition": f'inline; filename="{filename}"', **PRIVATE})


def _download(body: str | bytes, filename: str) -> Response:
    """A file to save (CSV as UTF-8, or a workbook), never kept in a shared cache."""
    kind = filename.rsplit(".", 1)[-1]
    data = body.encode("utf-8") if isinstance(body, str) else body
    return Response(data, mimetype=MIMETYPES[kind], headers={"Content-Disposition": f'attachment; filename="{filename}"', **PRIVATE})


# ---- pages ---------------------------------------------------------------------------------


def _wording() -> charts.Wording:
    """The charts' words in the reader's language."""
    return charts.Wording(translate=engine_text, status=status_label, channel=channel_label, unit_names=events.unit_names())


def _figures(
    filters: CaseFilter, landscape: bool = False, facts: Sequence[CaseFacts] | None = None
) -> list[tuple[charts.Chart, Markup, Markup | None]]:
    """Each chart with its SVG to inline, and for small multiples on a page also their wide drawing, which a wide screen
    shows across the page (``landscape``: the wide drawing only, for a landscape A4 page). matplotlib escapes the text it
    draws and charts.py adds its title and caption through lxml, which escapes them too. ``facts``: as read already."""
    drawn = charts.charts(db.session, filters, _now(), _wording(), facts=facts)
    if landscape:
        return [(chart, Markup(chart.wide_svg), None) for chart in drawn]
    return [(chart, Markup(chart.svg), Markup(chart.wide_svg) if chart.side_by_side else None) for chart in drawn]


def _heatmap(filters: CaseFilter, definition: Definition | None = None) -> tuple[str, Definition]:
    """The heatmap of the cases ``filters`` selects, on ``definition``'s diagram: its steps only (None: every version's, on the newest),
    and the version it is drawn on."""
    svc = service()
    figures = heat(db.session, replace(filters, definition_id=definition.id if definition is not None else None))
    drawn = definition or svc.current_definition()
    return render_svg(svc.parsed_for(drawn).bpmn, Overlay(heat=figures), legend=True, id_prefix="rekap", translate=engine_text), drawn


@bp.route("/rekap")
@roles_required(*FIGURE_ROLES)
def overview():
    filters = _filters()
    facts = facts_in(db.session, filters, _now())  # the SLA tables and the charts read the same cases once
    report = sla.sla_report(db.session, filters, _now(), facts=facts)
    heatmap, drawn = _heatmap(filters)
    assert filters.period is not None
    return render_template(
        "reports/overview.html",
        report=report,
        filters=filters,
        period=filters.period,
        query=_query(filters),
        units=lookups.units(db.session),
        unit_names=events.unit_names(),  # the ratings' rows name each unit, active or not
        diagram=Markup(heatmap),  # escaped by the renderer
        heat_version=drawn.number,  # the diagram it is drawn on
        figures=_figures(filters, facts=facts),
        may_read_cases=current_user.user.role in OVERSIGHT_ROLES,
        sop_steps=SOP_STEPS,
        system_names=SYSTEM_STEP_NAMES,
        limit_ms=SYSTEM_STEP_LIMIT_MS,
    )


@bp.route("/rekap/sla/diagram")
@roles_required(*FIGURE_ROLES)
def heatmap():
    """The process diagram with each node's completions and median duration (``versi=N``: the steps taken on that version,
    the figures of its page /proses/versi/N)."""
    filters = _filters()
    definition = None
    if request.args.get("versi"):
        try:
            number = params.whole_number(request.args["versi"])
        except ValueError:
            abort(404)  # no such version, as ids past the database's range are (web/security.py)
        definition = version(db.session, number)
    svg, _drawn = _heatmap(filters, definition)
    return Response(svg, mimetype="image/svg+xml", headers={"Content-Disposition": 'inline; filename="rekap-sla-diagram.svg"'})


def _chart_numbers(slug: str, kind: str) -> Response:
    """The numbers of one chart of /rekap (same filters) as CSV or as a workbook; 404 for a chart that does not exist."""
    filters = _filters()
    chart = charts.chart(db.session, filters, slug, _now(), _wording())
    if chart is None:
        abort(404)
    return _download(chart.csv() if kind == "csv" else chart.xlsx(), download_name(f"grafik-{slug}", filters, f".{kind}"))


@bp.route("/rekap/grafik/<slug>.csv")
@roles_required(*FIGURE_ROLES)
def chart_csv(slug: str):
    return _chart_numbers(slug, "csv")


@bp.route("/rekap/grafik/<slug>.xlsx")
@roles_required(*FIGURE_ROLES)
def chart_xlsx(slug: str):
    return _chart_numbers(slug, "xlsx")


@bp.route("/rekap/ekspor.csv")
@roles_required(*OVERSIGHT_ROLES)
def export_csv():
    filters = _filters()
    text = records.to_csv(records.export_rows(db.session, filters, current_user.actor, _now()))
    return _download(text, download_name("lapor", filters, ".csv"))


@bp.route("/rekap/ekspor.xlsx")
@roles_required(*OVERSIGHT_ROLES)
def export_xlsx():
    """The export's rows as a workbook: the same columns as the CSV, with typed cells."""
    filters = _filters()
    columns, rows = records.export_sheet(records.export_rows(db.session, filters, current_user.actor, _now()))
    return _download(spreadsheet.to_xlsx(columns, rows, title="lapor"), download_name("lapor", filters, ".xlsx"))


def _register(as_pdf: bool) -> Response:
    period = _period(request.args) if request.args.get("bulan") else Period.containing(_now())
    if not period.is_month:
        abort(400)
    entries = records.register(db.session, period, current_user.actor, _now())
    return _document(
        "reports/register.html",
        f"buku-agenda-{period.start:%Y-%m}.pdf",
        as_pdf,
        entries=entries,
        period=period,
        month=period.start,
        previous=(period.start - timedelta(days=1)).strftime("%Y-%m"),
        following=(period.end + timedelta(days=1)).strftime("%Y-%m"),
        figures=_figures(CaseFilter(period), landscape=True),
        query=_query(CaseFilter(period)),
    )


@bp.route("/rekap/buku-agenda")
@roles_required(*OVERSIGHT_ROLES)
def register_page():
    return _register(as_pdf=False)


@bp.route("/rekap/buku-agenda.pdf")
@roles_required(*OVERSIGHT_ROLES)
def register_pdf():
    return _register(as_pdf=True)


def _sheet(tracking_id: str, as_pdf: bool) -> Response:
    seen = access.case_for_staff(db.session, tracking_id, current_user.actor)
    case = seen.case
    facts = records.sheet_facts(db.session, seen, _now())
    present = events.presenter_for(case)
    steps = [{"pass": p, "fields": present.fields(p.stage, p.data)} for p in facts.passes]
    return _document(
        "reports/sheet.html",
        f"lembar-{case.tracking_id}.pdf",
        as_pdf,
        case=case,
        facts=facts,
        complaint=facts.complaint,
        steps=steps,
        unit_name=events.unit_names().get(case.unit_id or ""),
        system_names=SYSTEM_STEP_NAMES,
        limit_ms=SYSTEM_STEP_LIMIT_MS,
    )


@bp.route("/kasus/<tracking_id>/lembar")
@roles_required(*CASE_READERS)
def sheet(tracking_id: str):
    return _sheet(tracking_id, as_pdf=False)


@bp.route("/kasus/<tracking_id>/lembar.pdf")
@roles_required(*CASE_READERS)
def sheet_pdf(tracking_id: str):
    return _sheet(tracking_id, as_pdf=True)


# ---- event logs for process-mining tools -------------------------------------------------------


def event_log(kind: str, filters: CaseFilter) -> Response:
    """The event log (``xes`` or ``ocel``, engine/audit/eventlog.py) of the cases ``filters`` selects, as a download
    written while the cases are read. It names no reporter and no staff member: the readers of figures may have it.
    The JSON API answers with it too."""
    formats = {"xes": (eventlog.xes_chunks, "application/xml", ".xes"), "ocel": (eventlog.ocel_chunks, "application/json", ".ocel.json")}
    write, mimetype, suffix = formats[kind]
    headers = {"Content-Disposition": f'attachment; filename="{download_name("lapor", filters, suffix)}"', **PRIVATE}
    return Response(eventlog.streamed(db.engine, write, filters), mimetype=mimetype, headers=headers)


@bp.route("/rekap/log.xes")
@roles_required(*FIGURE_ROLES)
def event_log_xes():
    return event_log("xes", _filters())


@bp.route("/rekap/log.ocel.json")
@roles_required(*FIGURE_ROLES)
def event_log_ocel():
    return event_log("ocel", _filters())
