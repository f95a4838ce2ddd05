"""The `lapor` command: init, serve, worker, validate, deploy, verify, replay, upgrade, backup, restore, diagram (README, "Commands")."""

from __future__ import annotations

import getpass
import json
import logging
import os
import sys
import threading
from pathlib import Path

import click
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session
from werkzeug import serving

from engine import CaseService, DefinitionInvalid
from engine.accounts.users import DEMO_PASSWORD, DEMO_USERS, seed_demo
from engine.audit.replay import replay_case
from engine.audit.trail import verify_chain
from engine.cases.ids import normalize_tracking_id
from engine.db.backup import BackupError, backup, restore
from engine.db.connection import make_engine
from engine.db.schema import SchemaError, create_schema, upgrade
from engine.db.tables import Case, Definition
from engine.definitions import diff, versions
from engine.definitions.bundle import Bundle, project_bundle, project_file, read_bundle
from engine.definitions.parsing import attached_task
from engine.definitions.validation import validate
from engine.definitions.watcher import ProcessWatcher
from engine.diagram.render import DiagramError, list_planes, render_svg
from engine.timekeeping.clock import SYSTEM_CLOCK
from engine.worker import run_once
from web import create_app, settings
from web.extensions import db
from web.mail import transport_from_config


def _engine():
    return make_engine(settings.from_environment()["SQLALCHEMY_DATABASE_URI"])


@click.group()
def main() -> None:
    """SP4N-LAPOR! Flow: the Diskominfo Jawa Timur complaint SOP as a running BPMN process."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # init and upgrade say themselves which revision they reached


def initialize(demo: bool) -> list[str]:
    """Migrate the schema to the newest revision, deploy the project's process, and optionally the demo data. Returns accounts created."""
    engine = _engine()
    try:
        create_schema(engine)
    except SchemaError as err:
        raise click.ClickException(str(err)) from None
    with Session(engine) as session:
        created = seed_demo(session) if demo else []
        definition, new = CaseService(session).deploy(project_bundle(), by="lapor init", note="processes/ bawaan proyek")
        session.commit()
        click.echo(f"Definisi proses versi {definition.number} ({definition.content_hash[:12]}){' dipasang' if new else ' sudah terpasang'}.")
    return created


@main.command()
@click.option("--demo", is_flag=True, help="Buat unit dan akun demo (kata sandi demo-lapor).")
def init(demo: bool) -> None:
    """Create the database schema and deploy processes/ (idempotent)."""
    created = initialize(demo)
    if demo:
        _print_accounts(created)


@main.command(name="upgrade")
@click.option("--revision", default="head", show_default=True, help="Revisi tujuan (bawaan: yang terbaru).")
def upgrade_command(revision: str) -> None:
    """Migrate the database schema to the newest revision (run after installing a new version)."""
    try:
        before, after = upgrade(_engine(), revision)
    except SchemaError as err:
        raise click.ClickException(str(err)) from None
    if before == after:
        click.echo(f"Skema basis data sudah pada revisi {after}.")
    else:
        click.echo(f"Skema basis data dinaikkan dari revisi {before or '(kosong)'} ke {after}.")


@main.command(name="backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(file: Path) -> None:
    """Write every table to FILE (JSON lines, '-' for stdout) in one consistent snapshot; the service may keep running."""
    try:
        if str(file) == "-":
            counts = backup(_engine(), sys.stdout)
        else:
            partial = file.with_name(file.name + ".partial")
            with partial.open("w", encoding="utf-8") as out:
                counts = backup(_engine(), out)
            partial.replace(file)  # a backup that stopped half-way never carries the final name
    except BackupError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"Cadangan ditulis ke {file}: {sum(counts.values())} baris dari {len(counts)} tabel.", err=str(file) == "-")


@main.command(name="restore")
@click.argument("file", type=click.File("r", encoding="utf-8"))
def restore_command(file) -> None:
    """Load a backup FILE into an empty database (made by a new LAPOR_DATABASE_URL), then migrate it to the newest revision."""
    try:
        counts = restore(_engine(), file)
    except BackupError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"Cadangan dipulihkan: {sum(counts.values())} baris dari {len(counts)} tabel.")


def _print_accounts(created: list[str]) -> None:
    click.echo(f"Akun demo (kata sandi: {DEMO_PASSWORD}){'' if created else ', sudah ada sebelumnya'}:")
    for username, role, unit, _name in DEMO_USERS:
        click.echo(f"  {username:<11} {role:<9} {unit or ''}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-worker", is_flag=True, help="Jangan jalankan worker di dalam proses ini.")
@click.option(
    "--reload-process/--no-reload-process",
    default=True,
    show_default=True,
    help="Pasang ulang processes/ (dan forms/) setelah divalidasi setiap kali berkasnya berubah (server pengembangan).",
)
def serve(host: str, port: int, no_worker: bool, reload_process: bool) -> None:
    """Run the web app (and, by default, the worker loop in-process; it also deploys an edited processes/ file)."""
    app = create_app()
    with app.app_context():
        if not inspect(db.engine).has_table("process_definition") or db.session.scalar(select(Definition.id).limit(1)) is None:
            raise click.ClickException("Basis data belum disiapkan: jalankan 'lapor init --demo' (atau 'lapor init') dulu.")
    # the links in mail follow the address this server listens on, unless LAPOR_BASE_URL names the public one
    configured = os.environ.get("LAPOR_BASE_URL", "").strip().rstrip("/")
    base_url = app.config["LAPOR_BASE_URL"] = configured or settings.listening_url(host, port)
    click.echo(f"Tautan di email memakai {base_url}" + ("." if configured else " (ubah dengan LAPOR_BASE_URL)."))
    if not configured and host in ("0.0.0.0", "::"):
        click.echo("Server menerima dari semua alamat: atur LAPOR_BASE_URL ke alamat yang dibuka warga agar tautan di email sampai.", err=True)
    if not app.config["MAIL_SERVER"]:  # development only, like the watcher below: gunicorn builds the app itself
        app.config["LAPOR_DEV_MAILBOX"] = True
        click.echo(f"MAIL_SERVER belum diatur: email tetap di outbox, bacalah di {base_url}/dev/kotak-surat (dari komputer ini).")
    watcher = None
    if reload_process:  # development only: gunicorn builds the app itself and never runs this
        watcher = ProcessWatcher(project_file("processes", "sp4n_lapor.bpmn"), project_file("forms", ""))
        app.config["LAPOR_PROCESS_WATCHER"] = watcher  # the versions page shows its last refusal
        click.echo(f"Memantau {watcher.bpmn_path.parent}/ dan {watcher.forms_dir}/: berkas yang berubah divalidasi lalu dipasang.")
    if not no_worker or watcher is not None:
        stop = threading.Event()
        thread = threading.Thread(target=_worker_loop, args=(app.config, stop, watcher, not no_worker), name="lapor-worker", daemon=True)
        thread.start()
    click.echo(f"SP4N-LAPOR! Flow di {settings.listening_url(host, port)}  (Ctrl+C untuk berhenti)")
    serving.run_simple(host, port, app, threaded=True, use_reloader=False)  # looked up on the module: a test stands in for it


def _worker_loop(config: dict, stop: threading.Event, watcher: ProcessWatcher | None = None, work: bool = True) -> None:
    engine = make_engine(config["SQLALCHEMY_DATABASE_URI"])
    transport = transport_from_config(config)  # None without MAIL_SERVER: mail waits in the outbox (/dev/kotak-surat)
    wait = config["LAPOR_WORKER_INTERVAL"]
    while not stop.wait(wait):
        wait = config["LAPOR_WORKER_INTERVAL"]
        if watcher is not None:
            _watch_once(watcher, engine, config["LAPOR_CLOCK"])
        if not work:
            continue
        try:
            if run_once(lambda: Session(engine), config["LAPOR_CLOCK"], config["LAPOR_BASE_URL"], transport).more:
                wait = 0  # a backlog (a full batch of due cases or mail): the next pass at once
        except Exception:  # the loop must outlive one bad pass
            logging.getLogger("lapor.worker").exception("worker pass failed")


def _watch_once(watcher: ProcessWatcher, engine, clock) -> None:  # type: ignore[no-untyped-def]
    """One look at processes/: deploy what changed (one transaction), log the outcome."""
    try:
        with Session(engine) as session:
            outcome = watcher.check(session, clock)
            session.commit()
    except Exception:  # the loop must outlive a bad look (the database away, a file half-written)
        logging.getLogger("lapor.versions").exception("processes/ could not be checked")
        return
    if outcome is not None and not outcome.ok:
        click.echo(f"processes/ berubah tetapi TIDAK dipasang ({len(outcome.findings)} masalah):", err=True)
        for finding in outcome.findings:
            click.echo(f"  {finding}", err=True)
    elif outcome is not None and outcome.created:
        click.echo(f"processes/ berubah: versi {outcome.number} dipasang; laporan baru memakainya.")


@main.command()
@click.option("--once", is_flag=True, help="Satu putaran lalu keluar.")
def worker(once: bool) -> None:
    """Fire due timers and send queued mail."""
    config = settings.from_environment()
    engine = make_engine(config["SQLALCHEMY_DATABASE_URI"])
    if once:
        transport = transport_from_config(config)
        result = run_once(lambda: Session(engine), SYSTEM_CLOCK, config["LAPOR_BASE_URL"], transport)
        click.echo(f"timer dijalankan: {result.timers_fired}, email terkirim: {result.mails_sent}")
        if transport is None:
            click.echo("MAIL_SERVER belum diatur: email tetap di outbox (lihat /dev/kotak-surat).")
        return
    config["LAPOR_CLOCK"] = SYSTEM_CLOCK
    _worker_loop(config, threading.Event())


@main.command(name="validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def validate_command(file: Path) -> None:
    """Check a BPMN file (with its DMN files and forms); list what it defines or every problem."""
    parsed, findings = validate(read_bundle(file))
    if parsed is None:
        for finding in findings:
            click.echo(str(finding), err=True)
        click.echo(f"{file}: TIDAK VALID ({len(findings)} masalah)", err=True)
        sys.exit(1)  # exit 1: findings; 2: the file cannot be opened (click)
    click.echo(f"{file}: valid (proses {parsed.spec.name})")
    click.echo("Lajur:")
    for lane in parsed.lanes:
        click.echo(f"  - {lane}")
    click.echo("Tugas pengguna:")
    for task in parsed.user_tasks:
        click.echo(f"  - {task.bpmn_id}: {task.bpmn_name} [lajur {task.lane}, formulir {parsed.form_of(task)}]")
    click.echo("Formulir:")
    for form in sorted(parsed.forms):
        click.echo(f"  - forms/{form}.schema.json")
    click.echo("Timer:")
    for timer in parsed.timers:
        kind = "interupsi" if timer.cancel_activity else "non-interupsi"
        click.echo(f"  - {timer.bpmn_id}: {timer.bpmn_name} = {timer.event_definition.expression} ({kind}, pada {attached_task(timer)})")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--note", default=None, help="Catatan perubahan.")
@click.option("--by", "by", default=None, help="Siapa yang memasang (bawaan: nama pengguna sistem operasi).")
def deploy(file: Path, note: str | None, by: str | None) -> None:
    """Store a new process version (only if its content changed); new cases start on it, running cases stay on theirs.

    Exit 0 when deployed or unchanged, 1 when the file has findings (nothing is stored)."""
    with Session(_engine()) as session:
        service = CaseService(session)
        try:
            definition, created = service.deploy(read_bundle(file), by=by or _os_user(), note=note)
        except DefinitionInvalid as err:
            for finding in err.findings:
                click.echo(str(finding), err=True)
            click.echo(f"{file}: TIDAK VALID ({len(err.findings)} masalah); tidak ada yang dipasang.", err=True)
            sys.exit(1)
        session.commit()
        label = f"Versi {definition.number} ({definition.content_hash[:12]})"
        current = service.current_definition()
        if not created:
            if current.id == definition.id:
                click.echo(f"{label} tidak berubah; versi yang ada tetap dipakai.")
            else:
                click.echo(f"Isinya sama dengan {label}, versi lama; laporan baru tetap memakai versi {current.number}.")
            return
        click.echo(f"{label} dipasang: laporan baru memakai versi ini, laporan yang berjalan tetap pada versinya.")
        before = versions.previous(session, definition)
        changes = diff.diff(Bundle.from_json(before.bundle) if before else None, Bundle.from_json(definition.bundle))
        if before is not None:
            click.echo(f"Perubahan dibanding versi {before.number} ({len(changes)}):")
            for change in changes:
                click.echo("  " + _change_line(change))


_KIND_WORDS = {
    "task": "tugas",
    "timer": "timer",
    "flow": "alur",
    "form": "formulir",
    "gateway": "gerbang",
    "event": "peristiwa",
    "lane": "lajur",
    "decision": "keputusan",
}


def _change_line(change: diff.Change) -> str:
    sign = {"added": "+", "removed": "-", "changed": "~"}[change.change]
    name = f" «{change.name}»" if change.name and change.name != change.element else ""
    details = "; ".join(f"{what}: {before or '-'} → {after or '-'}" for what, before, after in change.details)
    return f"{sign} {_KIND_WORDS[change.kind]} {change.element}{name}" + (f": {details}" if details else "")


def _os_user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return None


@main.command()
@click.argument("tracking_id", required=False)
def verify(tracking_id: str | None) -> None:
    """Check the audit hash chain of one case or of all (links, gaps, a removed tail); name the first broken event."""
    with Session(_engine()) as session:
        query = select(Case).order_by(Case.id)
        if tracking_id:
            query = query.where(Case.tracking_id == normalize_tracking_id(tracking_id))
        broken = 0
        checked = 0
        for case in session.scalars(query):
            checked += 1
            found = verify_chain(session, case)
            if found is not None:
                broken += 1
                click.echo(f"{case.tracking_id}: RUSAK mulai peristiwa seq {found.seq}: {found.reason}")
        if tracking_id and checked == 0:
            click.echo(f"{tracking_id}: tidak ditemukan", err=True)
            sys.exit(2)
        click.echo(f"{checked} laporan diperiksa, {broken} rantai rusak.")
        sys.exit(1 if broken else 0)


@main.command(name="replay")
@click.argument("tracking_id")
def replay_command(tracking_id: str) -> None:
    """Rebuild a case from its record on its own process version and compare every step; exit 1 on a difference."""
    logging.getLogger("spiff").setLevel(logging.WARNING)  # the engine's per-task log lines would bury the verdict
    with Session(_engine()) as session:
        case = session.scalar(select(Case).where(Case.tracking_id == normalize_tracking_id(tracking_id)))
        if case is None:
            click.echo(f"{tracking_id}: tidak ditemukan", err=True)
            sys.exit(2)
        result = replay_case(session, case)
        if result.matches:
            click.echo(f"{case.tracking_id}: cocok ({result.steps} langkah, {result.events} peristiwa diputar ulang; keadaan akhir sama).")
            return
        difference = result.difference
        assert difference is not None
        where = f", peristiwa seq {difference.seq} ({difference.type})" if difference.seq else ""
        click.echo(f"{case.tracking_id}: BERBEDA pada langkah {difference.step} dari {result.steps}{where}")
        click.echo(f"  {difference.reason}")
        if difference.path:
            click.echo(f"  bagian:      {difference.path}")
        click.echo(f"  tersimpan:   {json.dumps(difference.recorded, ensure_ascii=False, default=str)}")
        click.echo(f"  putar ulang: {json.dumps(difference.replayed, ensure_ascii=False, default=str)}")
        sys.exit(1)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", default="-", show_default=True, help="Berkas SVG tujuan; '-' menulis ke stdout.")
@click.option("--process", "process_id", default=None, help="Gambar hanya bidang proses (atau sub-proses) ini.")
@click.option("--plane", "plane_id", default=None, help="Gambar hanya bidang diagram ini (id dari --list); bawaan: semua bidang.")
@click.option("--list", "list_only", is_flag=True, help="Tampilkan bidang diagram di berkas ini, lalu berhenti.")
def diagram(file: Path, output: str, process_id: str | None, plane_id: str | None, list_only: bool) -> None:
    """Draw a BPMN file's diagram (any modeller's export with BPMNDI) as a self-contained SVG, every plane one below the other."""
    try:
        if list_only:
            for plane in list_planes(file.read_bytes()):
                element = f"{plane.kind} {plane.element_id}".strip() or "?"
                click.echo(f"{plane.id}\t{element}\t{plane.name or '-'}\t{plane.shapes} bentuk")
            return
        svg = render_svg(file.read_bytes(), process_id=process_id, plane_id=plane_id)
    except DiagramError as err:
        raise click.ClickException(f"{file}: {err.message}") from None
    if output == "-":
        click.echo(svg)
        return
    try:
        Path(output).write_text(svg, encoding="utf-8")
    except OSError as err:
        raise click.ClickException(f"{output}: tidak dapat ditulis ({err.strerror}).") from None
    click.echo(f"Diagram {file} ditulis ke {output}.")
