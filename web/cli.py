"""The `lapor` command (DESIGN.md: init, serve, worker, validate, deploy, verify)."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import CaseService, DefinitionInvalid
from engine.accounts import DEMO_PASSWORD, DEMO_USERS, seed_demo
from engine.audit import first_broken
from engine.database import create_schema, make_engine
from engine.definitions import attached_task, project_bundle, read_bundle, validate
from engine.diagram import DiagramError, render_svg
from engine.store import Case, Definition
from engine.worker import run_once

from . import settings
from .mail import transport_from_config


def _engine():
    return make_engine(settings.from_environment()["SQLALCHEMY_DATABASE_URI"])


@click.group()
def main() -> None:
    """SP4N-LAPOR! Flow: the Diskominfo Jawa Timur complaint SOP as a running BPMN process."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def initialize(demo: bool) -> list[str]:
    """Create the schema, deploy the project's process, and optionally the demo data. Returns accounts created."""
    engine = _engine()
    create_schema(engine)
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


def _print_accounts(created: list[str]) -> None:
    click.echo(f"Akun demo (kata sandi: {DEMO_PASSWORD}){'' if created else ', sudah ada sebelumnya'}:")
    for username, role, unit, _name in DEMO_USERS:
        click.echo(f"  {username:<11} {role:<9} {unit or ''}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-worker", is_flag=True, help="Jangan jalankan worker di dalam proses ini.")
def serve(host: str, port: int, no_worker: bool) -> None:
    """Run the web app (and, by default, the worker loop in-process)."""
    from werkzeug.serving import run_simple

    from . import create_app

    app = create_app()
    with app.app_context():
        from sqlalchemy import inspect

        from . import db

        if not inspect(db.engine).has_table("process_definition") or db.session.scalar(select(Definition.id).limit(1)) is None:
            raise click.ClickException("Basis data belum disiapkan: jalankan 'lapor init --demo' (atau 'lapor init') dulu.")
    if not no_worker:
        stop = threading.Event()
        thread = threading.Thread(target=_worker_loop, args=(app.config, stop), name="lapor-worker", daemon=True)
        thread.start()
    click.echo(f"SP4N-LAPOR! Flow di http://{host}:{port}  (Ctrl+C untuk berhenti)")
    run_simple(host, port, app, threaded=True, use_reloader=False)


def _worker_loop(config: dict, stop: threading.Event) -> None:
    engine = make_engine(config["SQLALCHEMY_DATABASE_URI"])
    transport = transport_from_config(config)  # None without MAIL_SERVER: mail waits in the outbox (/dev/kotak-surat)
    while not stop.wait(config["LAPOR_WORKER_INTERVAL"]):
        try:
            run_once(lambda: Session(engine), config["LAPOR_CLOCK"], config["LAPOR_BASE_URL"], transport)
        except Exception:  # the loop must outlive one bad pass
            logging.getLogger("lapor.worker").exception("worker pass failed")


@main.command()
@click.option("--once", is_flag=True, help="Satu putaran lalu keluar.")
def worker(once: bool) -> None:
    """Fire due timers and send queued mail."""
    from engine.clock import SYSTEM_CLOCK

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
        sys.exit(1)
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
@click.option("--by", "by", default=None, help="Siapa yang memasang.")
def deploy(file: Path, note: str | None, by: str | None) -> None:
    """Store a new process version (only if its content changed); new cases start on it."""
    with Session(_engine()) as session:
        try:
            definition, created = CaseService(session).deploy(read_bundle(file), by=by, note=note)
        except DefinitionInvalid as err:
            for finding in err.findings:
                click.echo(str(finding), err=True)
            sys.exit(1)
        session.commit()
        state = "dipasang" if created else "tidak berubah; versi yang ada tetap dipakai"
        click.echo(f"Versi {definition.number} ({definition.content_hash[:12]}) {state}.")


@main.command()
@click.argument("tracking_id", required=False)
def verify(tracking_id: str | None) -> None:
    """Check the audit hash chain of one case or of all; name the first broken event."""
    with Session(_engine()) as session:
        query = select(Case).order_by(Case.id)
        if tracking_id:
            query = query.where(Case.tracking_id == tracking_id)
        broken = 0
        checked = 0
        for case in session.scalars(query):
            checked += 1
            seq = first_broken(session, case)
            if seq is not None:
                broken += 1
                click.echo(f"{case.tracking_id}: RUSAK mulai peristiwa seq {seq}")
        if tracking_id and checked == 0:
            click.echo(f"{tracking_id}: tidak ditemukan", err=True)
            sys.exit(2)
        click.echo(f"{checked} laporan diperiksa, {broken} rantai rusak.")
        sys.exit(1 if broken else 0)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", default="-", show_default=True, help="Berkas SVG tujuan; '-' menulis ke stdout.")
@click.option("--process", "process_id", default=None, help="Id proses (atau sub-proses) yang digambar; bawaan: diagram pertama.")
def diagram(file: Path, output: str, process_id: str | None) -> None:
    """Draw a BPMN file's diagram (any modeller's export with BPMNDI) as a self-contained SVG."""
    try:
        svg = render_svg(file.read_bytes(), process_id=process_id)
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
