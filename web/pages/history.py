"""The auditor's history of one case (/riwayat/<tracking_id>): every event, the diagram as it stood after
each step, the hash chain's verdict, the deterministic replay, and the history's export (JSON, CSV).

The oversight roles (Admin Pusat and auditors). Read-only: the replay runs in a throwaway database (engine/audit/replay.py).
The case is loaded as the reader may see it (engine/cases/access.py's ``oversight_case``): the reporter's identity is
hidden where that rule says so.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from engine.audit import replay
from engine.audit.trail import verify_chain
from engine.cases import access, lookups, views
from engine.contract import OVERSIGHT_ROLES
from engine.definitions.parsing import Parsed
from engine.definitions.versions import version
from engine.diagram.render import Overlay, render_svg
from engine.reports import records
from engine.reports.spreadsheet import DATETIME, INTEGER, TEXT, named, to_xlsx
from web.extensions import db, service
from web.labels import ACTOR_LABELS, actor_label, engine_text
from web.pages.admin import ROLE_NAMES
from web.pages.auth import roles_required
from web.pages.events import presenter_for, unit_name

bp = Blueprint("history", __name__)
EVENT_NAMES = {
    "case_started": _l("Laporan masuk"),
    "complaint_recorded": _l("Pengaduan direkam"),
    "task_completed": _l("Tugas diselesaikan"),
    "timer_fired": _l("Timer terpicu"),
    "deadline_missed": _l("Batas waktu terlewati"),
    "status_changed": _l("Status berubah"),
    "notification_queued": _l("Pemberitahuan diantrekan"),
    "answer_published": _l("Jawaban diterbitkan"),
    "task_claimed": _l("Tugas diambil"),
    "task_unclaimed": _l("Tugas dilepas"),
    "task_reassigned": _l("Tugas dialihkan"),
    "case_withdrawn": _l("Laporan dicabut"),
    "step_failed": _l("Langkah otomatis gagal"),
    "steps_retried": _l("Langkah otomatis dicoba lagi"),
    "extension_requested": _l("Perpanjangan waktu diminta"),
    "extension_decided": _l("Perpanjangan waktu diputuskan"),
    "interim_answer_published": _l("Jawaban sementara diterbitkan"),
    "answer_file_added": _l("Dokumen jawaban diunggah"),
    "note_added": _l("Catatan internal ditambahkan"),  # the note's text is never in the event, only its hash
    "case_migrated": _l("Dipindahkan ke versi proses lain"),
    "case_migration_reverted": _l("Pemindahan versi dibatalkan"),
}
# what each notification was about (engine/notifications/notify.py TEMPLATES and REPORTER_TEMPLATES), by its topic
TOPIC_NAMES = {
    "perlu_disposisi": _l("perlu disposisi"),
    "laporan_masuk": _l("laporan diteruskan ke unit"),
    "diterima_unit": _l("diterima unit"),
    "jawaban_masuk": _l("jawaban unit masuk"),
    "perlu_revisi": _l("jawaban dikembalikan"),
    "perpanjangan_diminta": _l("perpanjangan waktu diminta"),
    "perpanjangan_diputuskan": _l("perpanjangan waktu diputuskan"),
    "tambahan_pelapor": _l("tambahan keterangan dari pelapor"),
    "catatan_internal": _l("catatan internal"),
    "dicabut": _l("laporan dicabut pelapor"),
    "pengingat": _l("pengingat"),
    "eskalasi": _l("eskalasi"),
    "laporan_diterima": _l("tanda terima laporan"),
    "jawaban_terbit": _l("jawaban terbit"),
    "selesai": _l("laporan selesai"),
    "minta_kelengkapan": _l("permintaan melengkapi laporan"),
    "jawaban_sementara": _l("jawaban sementara"),
    "diarsipkan": _l("laporan diarsipkan"),
    "ditutup_otomatis": _l("laporan ditutup otomatis"),
}
CSV_COLUMNS = ("step", "seq", "at", "type", "actor", "role", "unit", "task", "data", "prev_hash", "hash")
XLSX_KINDS = {"step": INTEGER, "seq": INTEGER, "at": DATETIME}  # the workbook's typed columns; the others are text


def recipient(to: str) -> str:
    """Whom a notification went to, as people call them: the reporter, a role (Admin Kominfo) or a unit by its name."""
    if to in ROLE_NAMES:
        return str(ROLE_NAMES[to])
    return actor_label(to) if to in ACTOR_LABELS else unit_name(to)


def diagram_markup(parsed: Parsed, overlay: Overlay, id_prefix: str = "bpmn") -> Markup:
    """A case's diagram with its overlay, in the reader's language (the renderer escapes every text)."""
    return Markup(render_svg(parsed.bpmn, overlay, legend=True, translate=engine_text, id_prefix=id_prefix))


def _case(tracking_id: str) -> access.SeenCase:
    """The case as the reader may see it. NotFound (404) for an unknown case; Forbidden (403) for a role outside the oversight."""
    return access.oversight_case(db.session, tracking_id, current_user.actor)


@bp.route("/riwayat/<tracking_id>", methods=["GET", "POST"])
@roles_required(*OVERSIGHT_ROLES)
def page(tracking_id: str):
    """GET: the history at step ``langkah`` (the last by default). POST: the same page, after a full replay."""
    seen = _case(tracking_id)
    case, hide = seen.case, seen.hides_reporter
    now = current_app.config["LAPOR_CLOCK"].now()
    events = views.auditor_history(db.session, seen)
    steps = events[-1]["step"] if events else 0
    wanted = request.args.get("langkah", type=int)
    step = min(max(wanted if wanted is not None else steps, 1), steps) if steps else 0
    calendar = service().calendar
    state = replay.state_after(db.session, case, step, now=now, calendar=calendar, redact=hide) if steps else None
    result = replay.replay_case(db.session, case, calendar=calendar, redact=hide) if request.method == "POST" else None
    # the diagram of the version the case ran on at that step: a recorded move to another version changes it
    definition = lookups.definition_of(db.session, case)
    assert definition is not None
    then = state.version if state is not None and state.version is not None else definition.number
    parsed = service().parsed_for(definition if then == definition.number else version(db.session, then))
    return render_template(
        "history/case.html",
        case=case,
        definition=definition,
        events=events,
        step=step,
        steps=steps,
        state=state,
        current=[e for e in events if e["step"] == step],
        broken=verify_chain(db.session, case),
        result=result,
        hide=hide,
        diagram=diagram_markup(parsed, state.overlay if state else Overlay(), id_prefix="riwayat"),
        event_names=EVENT_NAMES,
        topic_names=TOPIC_NAMES,
        recipient=recipient,
        role_names=ROLE_NAMES,
        present=presenter_for(case),
        pretty=_pretty,
    )


def _pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)


@bp.route("/riwayat/<tracking_id>/ekspor.json")
@roles_required(*OVERSIGHT_ROLES)
def export_json(tracking_id: str):
    seen = _case(tracking_id)
    return _download(_pretty(_export(seen)), "application/json", f"riwayat-{seen.case.tracking_id}.json")


@bp.route("/riwayat/<tracking_id>/ekspor.csv")
@roles_required(*OVERSIGHT_ROLES)
def export_csv(tracking_id: str):
    seen = _case(tracking_id)
    text = records.to_csv([_flat(event) for event in _export(seen)["events"]], CSV_COLUMNS)
    return _download(text, "text/csv", f"riwayat-{seen.case.tracking_id}.csv")


@bp.route("/riwayat/<tracking_id>/ekspor.xlsx")
@roles_required(*OVERSIGHT_ROLES)
def export_xlsx(tracking_id: str):
    """The CSV's rows as a workbook: the step and sequence as numbers, the instant as a local date and time."""
    seen = _case(tracking_id)
    columns = [named(name, XLSX_KINDS.get(name, TEXT)) for name in CSV_COLUMNS]
    rows = []
    for event in _export(seen)["events"]:
        row = _flat(event)
        row["at"] = datetime.fromisoformat(row["at"])  # a real date in the cell (local time, as the header says)
        rows.append(list(row.values()))
    body = to_xlsx(columns, rows, title=seen.case.tracking_id)
    return _download(body, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", f"riwayat-{seen.case.tracking_id}.xlsx")


def _flat(event: dict[str, Any]) -> dict[str, Any]:
    """One event as a row of the CSV and the workbook: the export's columns in order, its data as JSON text."""
    return {
        column: json.dumps(event["data"], ensure_ascii=False, sort_keys=True) if column == "data" else event.get(column) for column in CSV_COLUMNS
    }


def _export(seen: access.SeenCase) -> dict[str, Any]:
    return views.history_export(db.session, seen, current_user.user.username, current_app.config["LAPOR_CLOCK"].now())


def _download(body: str | bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"  # personal data
    return response
