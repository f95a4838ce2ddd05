"""engine/worker.py: one pass fires the due timers of due cases only and sends the outbox once, over real SMTP."""

from __future__ import annotations

from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.tables import AuditEvent, Case, Escalation, Incident, OutboxMail
from engine.notifications.mailer import BATCH
from engine.runtime import scripting
from engine.worker import PassResult, run_once
from tests.engine.support import (
    audit_types,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    free_port,
    open_rows,
    submit,
    wib,
    with_script,
)
from tests.reliability.support import assert_consistent
from tests.scenarios import COMPLAINT
from web.mail import FlaskMailTransport

BASE_URL = "http://lapor.test"


class Inbox:
    """aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield inbox, FlaskMailTransport({"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": controller.port})
    finally:
        controller.stop()


@pytest.fixture
def sessions(db_engine):
    return lambda: Session(db_engine)


def outbox(db_engine) -> list[OutboxMail]:
    with Session(db_engine, expire_on_commit=False) as session:
        return list(session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def timer_events(db_engine, case_id: int) -> int:
    with Session(db_engine) as session:
        return len(list(session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.type == "timer_fired"))))


def test_pass_fires_due_timers_of_due_cases_only(service, clock, db_engine, sessions):
    due = submit(service, COMPLAINT).case  # Monday 09:00: Disposisi target ends Tuesday 23:59:59
    clock.set(wib(2026, 12, 1, 9, 0))
    later = [submit(service, COMPLAINT).case for _ in range(2)]  # Tuesday: their target ends Wednesday 23:59:59
    clock.set(wib(2026, 12, 2, 0, 0, 30))

    assert run_once(sessions, clock, BASE_URL, None) == PassResult(timers_fired=1, mails_sent=0)

    with Session(db_engine) as session:
        assert timer_events(db_engine, due.id) == 1
        assert [(e.stage, e.clock) for e in session.scalars(select(Escalation).where(Escalation.case_id == due.id))] == [("disposisi", "target")]
        assert session.get(Case, due.id).next_timer_at == wib(2026, 12, 3, 23, 59, 59)  # the 3-day ceiling is next
        for case in later:
            assert timer_events(db_engine, case.id) == 0
            assert session.get(Case, case.id).next_timer_at == wib(2026, 12, 2, 23, 59, 59)
    assert run_once(sessions, clock, BASE_URL, None).timers_fired == 0  # nothing fires twice


def _incident(db_engine, case_id: int) -> Incident:
    with Session(db_engine, expire_on_commit=False) as session:
        [incident] = session.scalars(select(Incident).where(Incident.case_id == case_id))
        return incident


def _retry_at(db_engine, case_id: int) -> datetime | None:
    with Session(db_engine) as session:
        return session.get(Case, case_id).retry_at


def test_a_timer_step_that_keeps_failing_waits_with_one_incident_and_fires_once_it_works(service, clock, db_engine, sessions, monkeypatch):
    case = submit(service, COMPLAINT).case
    clock.set(wib(2026, 12, 2, 0, 0, 30))

    def eskalasi(*_args):
        raise RuntimeError("layanan eskalasi mati")

    monkeypatch.setitem(scripting.HELPERS, "eskalasi", eskalasi)

    assert run_once(sessions, clock, BASE_URL, None).timers_fired == 0
    incident = _incident(db_engine, case.id)
    assert (incident.command, incident.element, incident.count) == ("fire_timers", "Task_Eskalasi_Disposisi_Target", 1)
    assert "layanan eskalasi mati" in incident.message and _retry_at(db_engine, case.id) == clock.now() + timedelta(minutes=1)
    assert timer_events(db_engine, case.id) == 0  # nothing of the failed run: the timer is still due
    with Session(db_engine) as session:
        assert session.scalars(select(Escalation).where(Escalation.case_id == case.id)).all() == []
    assert run_once(sessions, clock, BASE_URL, None).timers_fired == 0  # due, but waiting for its retry: not tried
    assert _incident(db_engine, case.id).count == 1
    clock.advance(minutes=1)
    assert run_once(sessions, clock, BASE_URL, None).timers_fired == 0  # the retry fails too: counted on the same incident
    assert _incident(db_engine, case.id).count == 2 and _retry_at(db_engine, case.id) == clock.now() + timedelta(minutes=2)

    monkeypatch.undo()
    clock.advance(minutes=2)
    assert run_once(sessions, clock, BASE_URL, None).timers_fired == 1
    assert timer_events(db_engine, case.id) == 1 and _retry_at(db_engine, case.id) is None
    assert (_incident(db_engine, case.id).resolved_by, _incident(db_engine, case.id).resolved_at) == ("sistem", clock.now())


# the model's record step fails until 09:02:30 (a service that is down for a while); the complaint comes at 09:00
TRANSIENT = 'rekam_pengaduan()\nif batas_menit(0) < "2026-11-30T09:02:30+07:00":\n    gagal = 1 / 0'


def test_a_failed_step_is_retried_by_the_worker_only_after_its_backoff(service, clock, db_engine, sessions):
    _definition, created = service.deploy(with_script("Task_Rekam", TRANSIENT))
    assert created
    case = submit(service, COMPLAINT).case
    assert (case.status, _retry_at(db_engine, case.id)) == ("diterima", wib(2026, 11, 30, 9, 1))
    with Session(db_engine) as session:
        before = audit_types(session, case.id)

    clock.set(wib(2026, 11, 30, 9, 0, 59))  # before the backoff: nothing
    assert run_once(sessions, clock, BASE_URL, None) == PassResult(0, 0)
    assert _incident(db_engine, case.id).count == 1
    clock.set(wib(2026, 11, 30, 9, 1))  # the first retry: still failing, the wait doubles
    run_once(sessions, clock, BASE_URL, None)
    assert _incident(db_engine, case.id).count == 2 and _retry_at(db_engine, case.id) == wib(2026, 11, 30, 9, 3)
    clock.set(wib(2026, 11, 30, 9, 2, 59))
    run_once(sessions, clock, BASE_URL, None)
    assert _incident(db_engine, case.id).count == 2
    with Session(db_engine) as session:
        assert audit_types(session, case.id) == before

    clock.set(wib(2026, 11, 30, 9, 3))  # the service is back: the case goes on and its incident is resolved
    run_once(sessions, clock, BASE_URL, None)
    with Session(db_engine) as session:
        assert "complaint_recorded" in audit_types(session, case.id) and session.get(Case, case.id).retry_at is None
        assert [row.spec_name for row in open_rows(session, case.id)] == ["Task_Disposisi"]
        assert_consistent(session, case.id)
    incident = _incident(db_engine, case.id)
    assert (incident.count, incident.resolved_by, incident.resolved_at) == (2, "sistem", clock.now())


def test_pass_with_nothing_due_does_nothing(service, clock, sessions, db_engine):
    case = submit(service, COMPLAINT).case
    before = timer_events(db_engine, case.id)
    assert run_once(sessions, clock, BASE_URL, None) == PassResult(0, 0)
    assert timer_events(db_engine, case.id) == before


def test_pass_sends_queued_mail_once_over_smtp(service, clock, db_engine, sessions, smtp_server):
    inbox, settings = smtp_server
    submitted = submit(service, COMPLAINT)
    queued = outbox(db_engine)
    assert len(queued) >= 2  # the reporter's receipt and Admin Kominfo's notice
    clock.advance(minutes=1)

    first = run_once(sessions, clock, BASE_URL, settings)

    assert first.mails_sent == len(queued) == len(inbox.messages)
    assert sorted(rcpt for rcpts, _m in inbox.messages for rcpt in rcpts) == sorted(m.to_addr for m in queued)
    assert len({m["Message-ID"] for _r, m in inbox.messages}) == len(queued)
    [(_rcpts, receipt)] = [(r, m) for r, m in inbox.messages if r == [COMPLAINT["reporter"]["email"]]]
    assert receipt["Subject"].startswith("Laporan Anda telah diterima")
    assert submitted.access_token in receipt.get_body(("plain",)).get_content()
    sent = outbox(db_engine)
    assert all(m.sent_at == clock.now() and m.attempts == 1 for m in sent)

    second = run_once(sessions, clock, BASE_URL, settings)
    assert second.mails_sent == 0
    assert len(inbox.messages) == len(queued)
    assert [(m.sent_at, m.attempts) for m in outbox(db_engine)] == [(m.sent_at, m.attempts) for m in sent]


def test_mail_queued_after_a_pass_goes_out_in_the_next(service, db_engine, sessions, smtp_server, clock):
    inbox, settings = smtp_server
    submit(service, COMPLAINT)
    first = run_once(sessions, clock, BASE_URL, settings).mails_sent
    submit(service, COMPLAINT)
    second = run_once(sessions, clock, BASE_URL, settings).mails_sent
    assert second > 0
    assert len(inbox.messages) == first + second == len(outbox(db_engine))


def test_without_smtp_settings_mail_stays_in_the_outbox(service, clock, db_engine, sessions):
    submit(service, COMPLAINT)
    assert run_once(sessions, clock, BASE_URL, None).mails_sent == 0
    assert all(m.sent_at is None and m.attempts == 0 for m in outbox(db_engine))


def test_unreachable_mail_server_leaves_mail_queued(service, clock, db_engine, sessions):
    submit(service, COMPLAINT)
    result = run_once(sessions, clock, BASE_URL, FlaskMailTransport({"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": free_port()}))
    assert result.mails_sent == 0
    assert all(m.sent_at is None and m.status == "queued" and m.attempts == 1 and m.last_error for m in outbox(db_engine))


def test_a_pass_stopped_by_its_batch_asks_for_the_next_at_once(service, clock, sessions):
    for _ in range(3):
        submit(service, COMPLAINT)
    clock.set(wib(2026, 12, 2, 0, 0, 30))  # the three Disposisi targets are due

    assert run_once(sessions, clock, BASE_URL, None, batch=2) == PassResult(timers_fired=2, mails_sent=0, more=True)
    assert run_once(sessions, clock, BASE_URL, None, batch=2) == PassResult(timers_fired=1, mails_sent=0, more=False)


def test_a_pass_whose_cases_all_fail_does_not_ask_for_more(service, clock, sessions, monkeypatch):
    for _ in range(2):
        submit(service, COMPLAINT)
    clock.set(wib(2026, 12, 2, 0, 0, 30))

    def eskalasi(*_args):
        raise RuntimeError("layanan eskalasi mati")

    monkeypatch.setitem(scripting.HELPERS, "eskalasi", eskalasi)

    # the batch is used up by cases that fired nothing: the worker waits its interval instead of spinning on them
    assert run_once(sessions, clock, BASE_URL, None, batch=2) == PassResult(timers_fired=0, mails_sent=0, more=False)


def test_a_pass_that_sends_a_whole_batch_of_mail_asks_for_the_next_at_once(service, clock, db_engine, sessions, smtp_server):
    inbox, settings = smtp_server
    while len(outbox(db_engine)) <= BATCH:
        submit(service, COMPLAINT)
    queued = len(outbox(db_engine))

    first = run_once(sessions, clock, BASE_URL, settings)
    second = run_once(sessions, clock, BASE_URL, settings)

    assert (first.mails_sent, first.more) == (BATCH, True)
    assert (second.mails_sent, second.more) == (queued - BATCH, False)
    assert len(inbox.messages) == queued
