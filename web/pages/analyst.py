"""Process analysts' pages (``/proses``): check and deploy a new version, the versions with their diff and heatmap,
moving running cases between versions.

Who: ``analis`` deploys and migrates; ``pusat`` and ``auditor`` see the versions. Each version page lists its cases,
running and finished, linked to their case pages (which analysts read without the reporter, as auditors do).
Routes parse the request, call one engine verb (engine/definitions/validation.py, engine/definitions/versions.py,
engine/reports/heatmap.py, engine/cases/overview.py) and render.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from engine.cases import access, lookups, overview
from engine.cases.migration import Migrations
from engine.contract import FIGURE_ROLES
from engine.definitions.bundle import Bundle
from engine.definitions.diff import diff
from engine.definitions.findings import Finding
from engine.definitions.safe_xml import MAX_FILE_BYTES, parse_xml
from engine.definitions.uploads import bundle_from_upload
from engine.definitions.validation import validate
from engine.definitions.versions import previous, summaries, version
from engine.diagram.render import DiagramError, Overlay, render_svg
from engine.reports.filters import CaseFilter
from engine.reports.heatmap import heat
from web import params
from web.extensions import db, service
from web.labels import engine_text
from web.pages.auth import roles_required
from web.pages.errors import back_to

bp = Blueprint("analyst", __name__, url_prefix="/proses")
MAX_FORM_FILES = 20

KIND_LABELS = {
    "task": _l("Tugas"),
    "timer": _l("Timer"),
    "flow": _l("Alur"),
    "form": _l("Formulir"),
    "gateway": _l("Gerbang"),
    "event": _l("Peristiwa"),
    "lane": _l("Lajur"),
    "decision": _l("Keputusan DMN"),
}
CHANGE_LABELS = {"added": _l("ditambah"), "removed": _l("dihapus"), "changed": _l("diubah")}
CHANGE_TAGS = {"added": "tag", "removed": "tag late", "changed": "tag claimed"}
DETAIL_LABELS = {
    "name": _l("nama"),
    "type": _l("jenis"),
    "lane": _l("lajur"),
    "form": _l("formulir"),
    "script": _l("skrip"),
    "decision": _l("keputusan DMN"),
    "expression": _l("ekspresi waktu"),
    "attached": _l("menempel pada"),
    "interrupting": _l("menghentikan tugas"),
    "deadline": _l("jenis batas"),
    "definition": _l("jenis peristiwa"),
    "default": _l("alur bawaan"),
    "source": _l("dari"),
    "target": _l("ke"),
    "condition": _l("kondisi"),
    "rules": _l("jumlah aturan"),
    "field_added": _l("isian baru"),
    "field_removed": _l("isian dihapus"),
    "field_changed": _l("isian diubah"),
    "required": _l("isian wajib"),
    "schema": _l("aturan formulir lain"),
}


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"KIND_LABELS": KIND_LABELS, "CHANGE_LABELS": CHANGE_LABELS, "CHANGE_TAGS": CHANGE_TAGS, "DETAIL_LABELS": DETAIL_LABELS}


def _now():
    return current_app.config["LAPOR_CLOCK"].now()


def _is_analyst() -> bool:
    return current_user.user.role == "analis"


def _watcher_failure() -> Any:
    watcher = current_app.config.get("LAPOR_PROCESS_WATCHER")
    return watcher.last_failure if watcher is not None else None


# ---- the versions ------------------------------------------------------------------------------------


@bp.route("")
@roles_required(*FIGURE_ROLES)
def versions_page():
    migrations = Migrations(service())
    rows = summaries(db.session)  # newest first: each version's predecessor is the next row
    bundles = [Bundle.from_json(row.definition.bundle) for row in rows]
    counts = []
    for index, bundle in enumerate(bundles):
        changes = diff(bundles[index + 1], bundle) if index + 1 < len(bundles) else None
        counts.append(None if changes is None else {kind: sum(1 for c in changes if c.change == kind) for kind in ("added", "removed", "changed")})
    return render_template(
        "analyst/versions.html",
        versions=list(zip(rows, counts, strict=True)),
        migrations=list(reversed(migrations.records()))[:20],
        watch_failure=_watcher_failure(),
        max_kb=MAX_FILE_BYTES // 1024,
        can_deploy=_is_analyst(),
    )


@bp.route("/versi/<int:number>")
@roles_required(*FIGURE_ROLES)
def version_page(number: int):
    definition = version(db.session, number)
    before = previous(db.session, definition)
    bundle = Bundle.from_json(definition.bundle)
    changes = diff(Bundle.from_json(before.bundle) if before else None, bundle) if before else []
    svc = service()
    parsed = svc.parsed_for(definition)
    figures = heat(db.session, CaseFilter(definition_id=definition.id))  # the same figures as /rekap/sla/diagram?versi=N
    diagram = render_svg(parsed.bpmn, Overlay(heat=figures), legend=True, id_prefix="versi", translate=engine_text)
    whole = request.args.get("diagram") == "utuh"
    if whole:  # without its own width and height the drawing scales to the page: the whole process at a glance
        diagram = re.sub(r'^(<svg[^>]*?) width="[^"]*" height="[^"]*"', r"\1", diagram, count=1)
    summary = next(s for s in summaries(db.session) if s.definition.id == definition.id)
    migrations = Migrations(svc)
    open_cases = migrations.open_cases(number) if _is_analyst() else []
    return render_template(
        "analyst/version.html",
        summary=summary,
        definition=definition,
        before=before,
        changes=changes,
        diagram=Markup(diagram),  # escaped by the renderer
        whole=whole,
        open_cases=open_cases,
        open_tasks=lookups.open_task_names(db.session, [c.id for c in open_cases]),
        targets=[s.definition.number for s in summaries(db.session) if s.definition.id != definition.id],
        migrations=list(reversed(migrations.records(number=number))),
        can_deploy=_is_analyst(),
        cases=overview.version_cases(db.session, definition.id, current_user.actor, params.page(request.args)),
    )


@bp.route("/versi/<int:number>/bpmn")
@roles_required(*FIGURE_ROLES)
def version_file(number: int):
    """The version's BPMN, to open in a modeller."""
    bundle = Bundle.from_json(version(db.session, number).bundle)
    return Response(
        bundle.files[bundle.bpmn_name],
        mimetype="application/xml",
        headers={"Content-Disposition": f'attachment; filename="v{number}-{bundle.bpmn_name}"'},
    )


# ---- check and deploy ------------------------------------------------------------------------------------


def _read(upload: Any) -> tuple[str, bytes]:
    """(file name, at most MAX_FILE_BYTES + 1 bytes): a larger file is refused without being read further."""
    return upload.filename or "", upload.stream.read(MAX_FILE_BYTES + 1)


@bp.route("/unggah", methods=["POST"])
@roles_required("analis")
def upload():
    note = request.form.get("note", "").strip()
    deploy = request.form.get("action") != "periksa"
    bpmn_upload = request.files.get("bpmn")
    errors = {}
    if bpmn_upload is None or not bpmn_upload.filename:
        errors["bpmn"] = _("Pilih berkas BPMN.")
    if deploy and not note:
        errors["note"] = _("Tuliskan catatan perubahan: apa yang berubah dan mengapa.")
    form_uploads = [f for f in request.files.getlist("forms") if f.filename]
    if len(form_uploads) > MAX_FORM_FILES:
        errors["forms"] = _("Paling banyak %(count)s berkas formulir sekaligus.", count=MAX_FORM_FILES)
    if errors:
        return _report(None, [], errors=errors, note=note, status=400)
    svc = service()
    current = svc.current_definition()
    base = Bundle.from_json(current.bundle)
    dmn_upload = request.files.get("dmn")
    bpmn_name, bpmn_bytes = _read(bpmn_upload)
    bundle, findings = bundle_from_upload(
        (bpmn_name, bpmn_bytes),
        dmn=[_read(dmn_upload)] if dmn_upload is not None and dmn_upload.filename else [],
        forms=[_read(f) for f in form_uploads],
        base=base,
    )
    if bundle is not None:
        _parsed, findings = validate(bundle)
    if findings:
        return _report(bundle, findings, uploaded=bpmn_name, note=note, status=400)
    assert bundle is not None
    if not deploy:
        return _report(bundle, [], uploaded=bpmn_name, note=note, changes=diff(base, bundle), current=current)
    definition, created = svc.deploy(bundle, by=current_user.user.username, note=note)
    db.session.commit()
    if created:
        message = _("Versi %(number)s dipasang. Laporan baru memakai versi ini; laporan yang berjalan tetap pada versinya.", number=definition.number)
        flash(message, "info")
    elif definition.id == current.id:
        flash(_("Isinya sama dengan versi %(number)s yang sedang dipakai: tidak ada versi baru.", number=definition.number), "info")
    else:
        flash(
            _(
                "Isinya sama dengan versi lama %(number)s: tidak ada versi baru, laporan baru tetap memakai versi %(current)s.",
                number=definition.number,
                current=current.number,
            ),
            "info",
        )
    return redirect(url_for("analyst.version_page", number=definition.number))


def _report(
    bundle: Bundle | None,
    findings: list[Finding],
    *,
    uploaded: str = "",
    note: str = "",
    errors: dict[str, str] | None = None,
    changes: list | None = None,
    current: Any = None,
    status: int = 200,
):
    return (
        render_template(
            "analyst/report.html",
            bundle=bundle,
            findings=findings,
            uploaded=uploaded,
            note=note,
            errors=errors or {},
            changes=changes,
            current=current,
            preview=_preview(bundle, findings),
            max_kb=MAX_FILE_BYTES // 1024,
        ),
        status,
    )


def _preview(bundle: Bundle | None, findings: list[Finding]) -> Markup | None:
    """The uploaded diagram with each element that has a finding marked, when the file is safe to read and has DI."""
    if bundle is None:
        return None
    text = bundle.files[bundle.bpmn_name]
    root, problem = parse_xml(bundle.bpmn_name, text)
    if root is None or problem is not None:
        return None
    marked = {f.element for f in findings if f.file == bundle.bpmn_name and f.element}
    try:
        return Markup(render_svg(text, Overlay(overdue=marked), id_prefix="periksa", translate=engine_text))  # escaped by the renderer
    except DiagramError:
        return None


# ---- moving cases between versions ---------------------------------------------------------------------


def _to_source_version(**_view_args: object) -> str:
    """The page of the version the cases were to move from (a Conflict comes after the form was read)."""
    return url_for("analyst.version_page", number=params.whole_number(request.form.get("from", "")))


def _back_or_versions(**_view_args: object) -> str:
    return request.referrer or url_for("analyst.versions_page")


@bp.route("/migrasi", methods=["POST"])
@back_to(_to_source_version)
@roles_required("analis")
def migrate():
    try:
        source, target = params.whole_number(request.form.get("from", "")), params.whole_number(request.form.get("to", ""))
        picked = [params.whole_number(value) for value in request.form.getlist("case")]
    except ValueError:
        abort(400)
    version(db.session, source)  # NotFound (404) for a version that does not exist
    version(db.session, target)
    migrations = Migrations(service())
    case_ids = [c.id for c in migrations.open_cases(source)] if request.form.get("scope") == "all" else picked
    dry_run = request.form.get("action") != "jalankan"
    # the engine keeps only the open cases of version ``source`` among them: nothing else is listed or moved
    results = migrations.check(source, case_ids, target) if dry_run else migrations.migrate(source, case_ids, target, current_user.actor)
    if dry_run or not results:
        db.session.rollback()  # a dry run writes nothing
    if not results:
        flash(_("Pilih laporan yang akan dipindahkan."), "error")
        return redirect(url_for("analyst.version_page", number=source))
    if dry_run:
        return render_template("analyst/migration.html", checks=results, source=source, target=target, done=False)
    db.session.commit()
    moved = sum(1 for r in results if r.ok)
    flash(_("%(moved)s laporan dipindahkan ke versi %(target)s; %(left)s tidak.", moved=moved, target=target, left=len(results) - moved), "info")
    return render_template("analyst/migration.html", checks=results, source=source, target=target, done=True)


@bp.route("/migrasi/<tracking_id>/batalkan", methods=["POST"])
@back_to(_back_or_versions)
@roles_required("analis")
def revert(tracking_id: str):
    case = access.case_by_tracking_id(db.session, tracking_id)  # the case's version, not its content: no sight needed
    migrations = Migrations(service())
    if not any(r.revertible for r in migrations.records(case_id=case.id)):
        abort(404)  # no move of this case to undo
    result = migrations.revert(case.id, current_user.actor)
    db.session.commit()
    flash(_("Migrasi %(tracking_id)s dibatalkan: laporan kembali ke versi %(number)s.", tracking_id=tracking_id, number=result.to_number), "info")
    return redirect(url_for("analyst.version_page", number=result.to_number))
