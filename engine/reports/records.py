"""Records of cases for one viewer: the CSV export, the monthly register (buku agenda pengaduan) and the facts of
one case's printable sheet, the SOP's "disimpan sebagai data elektronik dan manual".

Redaction (engine/cases/access.py's rule and loader): each is made for one viewer, from the cases
``seen_cases`` gives that viewer, so each shows a reporter's name, email and phone only where the rule does
(never an anonymous reporter's, and never any to auditors), exactly as the staff case page does.
Confidentiality keeps a case off public pages, not away from the office that handles it; the export
flags it in a ``confidential`` column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.cases.access import SeenCase, seen_cases
from engine.cases.views import REDACTED
from engine.contract import CEILING, STAGES, TARGET, Actor
from engine.db.tables import Case, Unit
from engine.reports.facts import CaseFacts, case_facts
from engine.reports.filters import CaseFilter, Period, cases_in
from engine.reports.ratings import last_rating
from engine.reports.spreadsheet import DATETIME, FORMULA_START, INTEGER, NUMBER, TEXT, Column, named
from engine.timekeeping.calendar import WorkingCalendar, zone


def _local(instant: datetime | None) -> str:
    return instant.astimezone(zone()).isoformat(timespec="seconds") if instant else ""


def unit_names(session: Session) -> dict[str, str]:
    return {row.id: row.name for row in session.execute(select(Unit.id, Unit.name))}


def _reporter(item: CaseFacts) -> dict[str, str]:
    if item.reporter_hidden:
        return {"name": REDACTED, "email": REDACTED, "phone": REDACTED}
    reporter = item.complaint.get("reporter") or {}
    return {key: str(reporter.get(key) or "") for key in ("name", "email", "phone")}


def export_columns() -> list[str]:
    columns = [
        "tracking_id",
        "submitted_at",
        "category",
        "unit",
        "unit_name",
        "status",
        "channel",
        "anonymous",
        "confidential",
        "title",
        "location",
        "latitude",
        "longitude",
        "reporter_name",
        "reporter_email",
        "reporter_phone",
        "recorded_ms",
    ]
    for stage in STAGES:
        columns += [f"{stage}_started_at", f"{stage}_completed_at", f"{stage}_target", f"{stage}_ceiling"]
    columns += ["published_ms", "all_targets_met", "late", "breached", "answered_at", "closed_at", "rating"]
    return columns


def _seen_facts(session: Session, seen: Sequence[SeenCase], now: datetime | None, calendar: WorkingCalendar | None) -> list[CaseFacts]:
    """case_facts of cases as one viewer may see them (access.seen_cases / access.case_for_staff): a reader of the units'
    text only (``Sight.original_text`` false) gets the redacted text staff gave in place of the reporter's own."""
    facts = case_facts(session, [item.case for item in seen], now, calendar, identity={item.case.id for item in seen if item.sight.identity})
    for item, fact in zip(seen, facts, strict=True):
        if item.case.redacted_body is not None and not item.sight.original_text:
            fact.complaint = {**fact.complaint, "body": item.case.redacted_body}
    return facts


def export_rows(
    session: Session, filters: CaseFilter, viewer: Actor, now: datetime | None = None, calendar: WorkingCalendar | None = None
) -> list[dict[str, str]]:
    """One row per case ``viewer`` may see (oldest first) with the columns of ``export_columns``; a reporter the viewer
    may not see reads ``(dirahasiakan)``.

    Stage columns: the first pass's start and the last finished pass's end; ``_target`` / ``_ceiling`` are
    ``met``, ``missed``, ``open`` or empty (no such clock at that stage, or the case never reached it).
    """
    names = unit_names(session)
    rows = []
    for item in _seen_facts(session, seen_cases(session, cases_in(session, filters), viewer), now, calendar):
        case = item.case
        reporter = _reporter(item)
        recorded = next((s.duration_ms for s in item.system_steps if s.event == "complaint_recorded"), None)
        published = [s.duration_ms for s in item.system_steps if s.event == "answer_published" and s.duration_ms is not None]
        row = {
            "tracking_id": case.tracking_id,
            "submitted_at": _local(case.submitted_at),
            "category": case.category,
            "unit": case.unit_id or "",
            "unit_name": names.get(case.unit_id or "", ""),
            "status": case.status,
            "channel": case.channel,
            "anonymous": _yes(case.anonymous),
            "confidential": _yes(case.confidential),
            "title": case.title,
            "location": str(item.complaint.get("location") or ""),
            "latitude": _degrees(case.latitude),
            "longitude": _degrees(case.longitude),
            "reporter_name": reporter["name"],
            "reporter_email": reporter["email"],
            "reporter_phone": reporter["phone"],
            "recorded_ms": "" if recorded is None else f"{recorded:g}",
        }
        for stage in STAGES:
            passes = item.stage_passes(stage)
            ends = [p.end for p in passes if p.end is not None]
            row[f"{stage}_started_at"] = _local(passes[0].start) if passes else ""
            row[f"{stage}_completed_at"] = _local(max(ends)) if ends else ""
            row[f"{stage}_target"] = item.stage_result(stage, TARGET) or ""
            row[f"{stage}_ceiling"] = item.stage_result(stage, CEILING) or ""
        met = item.all_targets_met
        row.update(
            {
                "published_ms": f"{max(published):g}" if published else "",
                "all_targets_met": "" if met is None else _yes(met),
                "late": _yes(item.late),
                "breached": " ".join(case.breached or []),
                "answered_at": _local(case.answered_at),
                "closed_at": _local(case.closed_at),
                "rating": str(last_rating(item) or ""),  # the citizen's latest rating of the answer (1-5)
            }
        )
        rows.append(row)
    return rows


def _degrees(value: float | None) -> str:
    """A coordinate as spreadsheets read it: plain decimals (never ``1e-05``), to 7 places (about a centimetre)."""
    if value is None:
        return ""
    text = f"{value:.7f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _cell(value: str) -> str:
    """Neutralise a spreadsheet formula (CSV injection): a citizen's title may start with '='."""
    return "'" + value if value.startswith(FORMULA_START) else value


def to_csv(rows: Iterable[Mapping[str, object]], columns: Sequence[str] | None = None) -> str:
    """CSV text (comma, CRLF, a UTF-8 BOM for spreadsheet programs) with every cell made formula-safe."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=list(columns or export_columns()), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell("" if value is None else str(value)) for key, value in row.items()})
    return out.getvalue()


def _export_kind(column: str) -> str:
    if column.endswith("_at"):
        return DATETIME
    if column == "rating":
        return INTEGER
    return NUMBER if column.endswith("_ms") or column in ("latitude", "longitude") else TEXT


def export_sheet(rows: Iterable[dict[str, str]]) -> tuple[list[Column], list[list[object]]]:
    """The rows of ``export_rows`` as typed cells for the workbook (engine/reports/spreadsheet.py): the same columns, the
    instants as local datetimes (their header names the zone), the milliseconds, coordinates and rating as numbers."""
    kinds = {column: _export_kind(column) for column in export_columns()}
    columns = [named(name, kind) for name, kind in kinds.items()]
    parse: dict[str, Callable[[str], object]] = {DATETIME: datetime.fromisoformat, INTEGER: int, NUMBER: float}
    typed = [[parse[kind](row[name]) if row.get(name) and kind in parse else row.get(name) or None for name, kind in kinds.items()] for row in rows]
    return columns, typed


@dataclass
class RegisterEntry:
    """One line of the monthly register (buku agenda pengaduan)."""

    number: int
    facts: CaseFacts
    reporter: str | None  # None: hidden from the reader (anonymous, or confidential for an auditor)
    unit_name: str | None

    @property
    def case(self) -> Case:
        return self.facts.case


def register(
    session: Session, period: Period, viewer: Actor, now: datetime | None = None, calendar: WorkingCalendar | None = None
) -> list[RegisterEntry]:
    """Every case submitted in ``period`` that ``viewer`` may see, numbered in order of submission."""
    names = unit_names(session)
    entries = []
    for number, item in enumerate(_seen_facts(session, seen_cases(session, cases_in(session, CaseFilter(period)), viewer), now, calendar), 1):
        reporter = None if item.reporter_hidden else str((item.complaint.get("reporter") or {}).get("name") or "")
        entries.append(RegisterEntry(number, item, reporter, names.get(item.case.unit_id or "")))
    return entries


def sheet_facts(session: Session, seen: SeenCase, now: datetime | None = None, calendar: WorkingCalendar | None = None) -> CaseFacts:
    """The facts of one case for its printable sheet (passes in order, with their deadlines), as the viewer may see it."""
    [item] = _seen_facts(session, [seen], now, calendar)
    item.passes.sort(key=lambda p: (p.start, p.end is None, p.end or p.start))
    return item
