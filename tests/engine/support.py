"""Helpers shared by the engine tests: drive a case through the façade and read what it stored."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from lxml import etree
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import Actor, CaseService, Submitted
from engine.accounts import users as accounts
from engine.db.tables import AuditEvent, Case, Notification, OpenTask, OutboxMail
from engine.definitions.bpmn_xml import BPMN_NS
from engine.definitions.bundle import Bundle, project_bundle
from tests.scenarios import ACCEPT_SATKER, ANSWER_SATKER, FORWARD_SATKER, PUBLISH, SATISFIED, AskExtension, Do

WIB = ZoneInfo("Asia/Jakarta")
KOMINFO = Actor("kominfo", "kominfo")
PENDIDIKAN = Actor("pendidikan", "satker", "dinas-pendidikan")
KESEHATAN = Actor("kesehatan", "satker", "dinas-kesehatan")
BPN = Actor("bpn", "vertikal", "kanwil-bpn-jatim")
PUSAT = Actor("pusat", "pusat")

TO_BALASAN = [FORWARD_SATKER, ACCEPT_SATKER, ANSWER_SATKER, PUBLISH]
TO_SELESAI = [*TO_BALASAN, SATISFIED]


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch):
    """Seeding the nine demo accounts with production argon2 costs takes seconds per test; no engine test logs in.

    Import this into a test module to make it autouse there; it runs before ``db_engine`` seeds the accounts.
    """
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def wib(*args: int) -> datetime:
    return datetime(*args, tzinfo=WIB)  # type: ignore[misc]


def open_rows(session: Session, case_id: int) -> list[OpenTask]:
    return list(session.scalars(select(OpenTask).where(OpenTask.case_id == case_id).order_by(OpenTask.spec_name)))


def open_row(session: Session, case_id: int, spec_name: str) -> OpenTask:
    [row] = [r for r in open_rows(session, case_id) if r.spec_name == spec_name]
    return row


def holder(row: OpenTask) -> Actor:
    """A staff member who may act on ``row``."""
    return KOMINFO if row.role == "kominfo" else Actor(f"staf-{row.unit_id}", row.role, row.unit_id)


def do(service: CaseService, submitted: Submitted, step: Do) -> Case:
    """Complete the open task ``step.task`` (of ``step.unit`` when several units hold one) as its holder (the citizen for
    their addition and step 7) and commit."""
    [row] = [r for r in open_rows(service.session, submitted.case.id) if r.spec_name == step.task and step.unit in (None, r.unit_id)]
    if row.form == "kelengkapan":
        case = service.add_to_complaint(submitted.case.tracking_id, submitted.access_token, step.data["text"])
    elif row.role == "masyarakat":
        case = service.reply(submitted.case.tracking_id, submitted.access_token, step.data)
    else:
        case = service.complete_task(row.id, step.data, holder(row))
    service.session.commit()
    return case


def ask_extension(service: CaseService, submitted: Submitted, step: AskExtension) -> OpenTask | None:
    """The unit holding ``step.task`` asks for more working days, and commits."""
    [row] = [r for r in open_rows(service.session, submitted.case.id) if r.spec_name == step.task and step.unit in (None, r.unit_id)]
    decision = service.request_extension(row.id, {"working_days": step.working_days, "reason": step.reason}, holder(row))
    service.session.commit()
    return decision


def fire_due(service: CaseService) -> None:
    """What one worker pass does to timers: fire every case whose timer is due, then commit."""
    for case_id in service.due_case_ids():
        service.fire_timers(case_id)
    service.session.commit()


def submit(service: CaseService, complaint: dict[str, Any], steps: Sequence[Do] = ()) -> Submitted:
    submitted = service.submit(complaint)
    service.session.commit()
    for step in steps:
        do(service, submitted, step)
    return submitted


def audit_types(session: Session, case_id: int) -> list[str]:
    return list(session.scalars(select(AuditEvent.type).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)))


def snapshot(session: Session, case_id: int) -> dict[str, Any]:
    """Everything a command may write for one case, for before/after comparisons."""
    case = session.get(Case, case_id)
    assert case is not None
    session.refresh(case)
    return {
        "case": {c.key: getattr(case, c.key) for c in Case.__table__.columns},
        "audit": [
            (e.seq, e.type, e.task, e.data, e.hash)
            for e in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq))
        ],
        "open": [(r.id, r.spec_name, r.role, r.unit_id, r.due_at, r.overdue, r.claimed_by) for r in open_rows(session, case_id)],
        "outbox": session.scalar(select(func.count()).select_from(OutboxMail).where(OutboxMail.case_id == case_id)),
        "notifications": session.scalar(select(func.count()).select_from(Notification).where(Notification.case_id == case_id)),
    }


def free_port() -> int:
    """A loopback port nobody listens on now (for a test's own SMTP server)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bpmn_without(text: str, *ids: str) -> str:
    """The BPMN text with these elements gone, and every reference to them (lane membership, incoming/outgoing, DI)."""
    root = etree.fromstring(text.encode())
    for el in list(root.iter(etree.Element)):
        local = etree.QName(el).localname
        if (
            el.get("id") in ids
            or el.get("bpmnElement") in ids
            or (local in ("flowNodeRef", "incoming", "outgoing") and (el.text or "").strip() in ids)
        ):
            el.getparent().remove(el)
    return etree.tostring(root, encoding="unicode")


def run_task(workflow: BpmnWorkflow, spec_id: str, form: str, data: dict[str, Any], unit: str | None = None) -> None:
    """In a plain SpiffWorkflow run: complete the ready task ``spec_id`` (of ``unit``, when several units hold one) with
    ``data`` as its form, then run the engine's steps."""
    ready = workflow.get_tasks(state=TaskState.READY, manual=True)
    [task] = [t for t in ready if t.task_spec.bpmn_id == spec_id and unit in (None, t.data.get("unit_tujuan"))]
    task.data[form] = data
    task.run()
    workflow.do_engine_steps()


def model_script(element: str) -> str:
    """The script of script task ``element`` in the project's model, to fail or fix a copy of it (``with_script``)."""
    bundle = project_bundle()
    root = etree.fromstring(bundle.files[bundle.bpmn_name].encode())
    [node] = root.xpath(f'//bpmn:scriptTask[@id="{element}"]/bpmn:script', namespaces=BPMN_NS)
    return str(node.text)


def with_script(element: str, script: str, bundle: Bundle | None = None) -> Bundle:
    """The project's bundle (or ``bundle``) with the script of script task ``element`` replaced: a failing or fixed model step."""
    bundle = bundle or project_bundle()
    root = etree.fromstring(bundle.files[bundle.bpmn_name].encode())
    [node] = root.xpath(f'//bpmn:scriptTask[@id="{element}"]/bpmn:script', namespaces=BPMN_NS)
    node.text = script
    return Bundle(bundle.bpmn_name, {**bundle.files, bundle.bpmn_name: etree.tostring(root, encoding="unicode")})
