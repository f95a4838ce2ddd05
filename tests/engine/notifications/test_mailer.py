"""engine/notifications/mailer.py: the outbox delivered to a real SMTP server on loopback, through outages, crashes and concurrent senders.

The server is started and stopped by the tests (tests/engine/mail_support.py); retries move the FakeClock.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from engine.db.tables import Notification, OutboxMail, User
from engine.notifications.mailer import (
    LEASE,
    LEASE_MARGIN,
    MAX_ATTEMPTS,
    claim,
    claim_statement,
    default_worker_name,
    failed_count,
    failed_mails,
    give_up_abandoned,
    requeue,
    retry_delay,
    send_pending,
)
from tests.engine.mail_support import (
    REPORTER,
    parts,
    rows,
    send,
    smtp_server,  # noqa: F401 - the "smtp" fixture
)
from tests.engine.support import (
    do,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    submit,
)
from tests.scenarios import COMPLAINT, FORWARD_SATKER
from web.mail import FlaskMailTransport

# ---- the SMTP server down ---------------------------------------------------------------------------


def test_smtp_down_case_still_moves_and_mail_arrives_once_after_it_comes_back(service, clock, db_engine, smtp):
    smtp.stop()
    submitted = submit(service, COMPLAINT)

    assert send(db_engine, smtp, clock) == 0
    first = rows(db_engine)
    assert [(m.status, m.attempts, m.next_attempt_at, m.claimed_by) for m in first] == [("queued", 1, clock.now() + timedelta(minutes=1), None)] * 2
    assert all("Connection refused" in (m.last_error or "") or "Errno" in (m.last_error or "") for m in first)

    case = do(service, submitted, FORWARD_SATKER)  # the case goes on regardless
    assert case.status == "didisposisikan"
    smtp.start()

    assert send(db_engine, smtp, clock) == 1  # the unit's new mail; the two that failed wait out their backoff
    assert [r for r, _m in smtp.received] == [["pendidikan@demo.lapor.test"]]
    clock.advance(seconds=59)
    assert send(db_engine, smtp, clock) == 0
    clock.advance(seconds=1)
    assert send(db_engine, smtp, clock) == 2
    assert send(db_engine, smtp, clock) == 0

    assert sorted(smtp.message_ids()) == sorted(m.message_id for m in rows(db_engine))  # each exactly once
    assert [(m.status, m.attempts) for m in rows(db_engine)] == [("sent", 2), ("sent", 2), ("sent", 1)]


def test_backoff_doubles_up_to_an_hour(clock):
    assert [retry_delay(n) for n in range(1, 9)] == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60, 60)]


def test_after_the_last_attempt_the_mail_fails_and_admin_pusat_sees_an_incident(service, clock, db_engine, smtp):
    smtp.stop()
    tracking_id = submit(service, COMPLAINT).case.tracking_id
    waits = []
    for _attempt in range(MAX_ATTEMPTS):
        assert send(db_engine, smtp, clock) == 0
        [receipt, _notice] = rows(db_engine)
        if receipt.status == "queued":
            waits.append(receipt.next_attempt_at - clock.now())
            clock.set(receipt.next_attempt_at)
    assert waits == [retry_delay(n) for n in range(1, MAX_ATTEMPTS)]
    assert [(m.status, m.attempts) for m in rows(db_engine)] == [("failed", MAX_ATTEMPTS)] * 2

    clock.advance(hours=2)
    smtp.start()
    assert send(db_engine, smtp, clock) == 0 and smtp.received == []  # given up: no more attempts
    with Session(db_engine) as session:
        pusat = session.scalar(select(User).where(User.username == "pusat"))
        incidents = list(session.scalars(select(Notification).where(Notification.kind == "surel_gagal")))
        assert {n.user_id for n in incidents} == {pusat.id} and len(incidents) == 2
        assert f"Email gagal terkirim: Laporan Anda telah diterima: {tracking_id}" in {n.message for n in incidents}
        listed = failed_mails(session)
        assert {m.recipient for m in listed} == {"pelapor", "kominfo"} and {m.tracking_id for m in listed} == {tracking_id}
        assert all(REPORTER not in (m.last_error or "") for m in listed)

        receipt_id = rows(db_engine)[0].id
        assert requeue(session, receipt_id, clock) and not requeue(session, receipt_id, clock)
        session.commit()
    assert send(db_engine, smtp, clock) == 1
    assert smtp.message_ids() == [rows(db_engine)[0].message_id]


# ---- crashes and concurrency ------------------------------------------------------------------------------


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing after it runs, no except Exception catches it."""


class DiesAfterSending:
    """A transport whose worker dies right after the server accepted the first message, before marking it sent."""

    def __init__(self, real: FlaskMailTransport) -> None:
        self.real = real

    @contextmanager
    def connect(self):
        with self.real.connect() as inner:

            class _Dying:
                def send(self, mail):
                    inner.send(mail)
                    raise WorkerKilled

            yield _Dying()


def test_worker_killed_between_sending_and_marking_sent_resends_once_with_the_same_message_id(service, clock, db_engine, smtp):
    submit(service, COMPLAINT)
    with Session(db_engine) as session, pytest.raises(WorkerKilled):
        send_pending(session, DiesAfterSending(smtp.transport), clock)
    [delivered] = smtp.message_ids()
    assert all(m.status == "queued" and m.claimed_by for m in rows(db_engine))  # the dead worker's claims

    clock.advance(minutes=5)
    assert send(db_engine, smtp, clock) == 0  # still leased to the dead worker
    clock.set(rows(db_engine)[0].claimed_until)
    assert send(db_engine, smtp, clock) == 2
    assert send(db_engine, smtp, clock) == 0

    assert Counter(smtp.message_ids()) == {delivered: 2, next(m.message_id for m in rows(db_engine) if m.message_id != delivered): 1}
    [first, second] = [m for _r, m in smtp.received if m["Message-ID"] == delivered]
    assert first["Subject"] == second["Subject"] and parts(first) == parts(second)
    assert all(m.status == "sent" and m.attempts == 2 for m in rows(db_engine))


def test_mail_whose_worker_dies_on_every_attempt_is_given_up(service, clock, db_engine, smtp):
    submit(service, COMPLAINT)
    for _attempt in range(MAX_ATTEMPTS):
        with Session(db_engine) as session, pytest.raises(WorkerKilled):
            send_pending(session, DiesAfterSending(smtp.transport), clock, limit=1)
        clock.advance(seconds=LEASE.total_seconds())
    first = rows(db_engine)[0]
    assert (first.status, first.attempts) == ("queued", MAX_ATTEMPTS)

    send(db_engine, smtp, clock)

    assert rows(db_engine)[0].status == "failed"
    with Session(db_engine) as session:
        assert session.scalar(select(Notification.message).where(Notification.kind == "surel_gagal")).startswith("Email gagal terkirim: ")


class SlowServer:
    """A transport whose every send takes most of a lease (the FakeClock moves as the send 'takes' time)."""

    def __init__(self, real: FlaskMailTransport, clock) -> None:
        self.real, self.clock = real, clock

    @contextmanager
    def connect(self):
        with self.real.connect() as inner:
            outer = self

            class _Slow:
                def send(self, mail):
                    inner.send(mail)
                    outer.clock.advance(seconds=(LEASE - LEASE_MARGIN).total_seconds())

            yield _Slow()


def test_sender_hands_back_what_it_cannot_send_before_its_lease_ends(service, clock, db_engine, smtp):
    submit(service, COMPLAINT)
    with Session(db_engine) as session:
        assert send_pending(session, SlowServer(smtp.transport, clock), clock) == 1
    sent, untried = rows(db_engine)
    assert (sent.status, sent.attempts) == ("sent", 1)
    assert (untried.status, untried.attempts, untried.claimed_by, untried.claimed_until) == ("queued", 0, None, None)
    assert send(db_engine, smtp, clock) == 1 and len(smtp.received) == 2


def test_a_claimed_mail_is_not_claimed_again_until_its_lease_expires(service, clock, db_engine):
    for _ in range(2):
        submit(service, COMPLAINT)
    with Session(db_engine) as first, Session(db_engine) as second:
        _token, mine = claim(first, clock, "w1", limit=3)
        _token, theirs = claim(second, clock, "w2", limit=3)
        _token, none = claim(second, clock, "w2", limit=3)
    assert (len(mine), len(theirs), none) == (3, 1, [])
    assert not {i for i, _m in mine} & {i for i, _m in theirs}
    clock.advance(seconds=LEASE.total_seconds())
    with Session(db_engine) as third:
        _token, again = claim(third, clock, "w3", limit=10)
    assert len(again) == 4 and all(m.attempts == 2 for m in rows(db_engine))


def test_two_concurrent_senders_deliver_each_mail_once(service, clock, db_engine, smtp):
    for _ in range(6):
        submit(service, COMPLAINT)
    expected = sorted(m.message_id for m in rows(db_engine))
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        transport = FlaskMailTransport({"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port})
        try:
            start.wait()
            while True:
                with Session(db_engine) as session:
                    if send_pending(session, transport, clock, worker=name, limit=2) == 0:
                        return
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(smtp.message_ids()) == expected  # every mail, none twice
    assert all(m.status == "sent" and m.attempts == 1 for m in rows(db_engine))


def test_postgresql_claims_with_skip_locked(clock):
    sql = str(claim_statement("w/1", clock.now(), 10).compile(dialect=postgresql.dialect()))
    # the candidates are picked once (MATERIALIZED), locked rows skipped, then claimed in the same statement
    assert sql.startswith("WITH candidates AS MATERIALIZED") and "FOR UPDATE SKIP LOCKED" in sql and "UPDATE outbox_mail SET claimed_by=" in sql


def test_without_a_transport_nothing_is_claimed(service, clock, db_engine):
    submit(service, COMPLAINT)
    with Session(db_engine) as session:
        assert send_pending(session, None, clock) == 0
    assert all(m.status == "queued" and m.attempts == 0 and m.claimed_by is None for m in rows(db_engine))


# ---- what a claim hands the transport, and Admin Pusat's view of the outbox ---------------------------


def test_a_claim_hands_over_each_due_mail_as_written_with_the_auto_submitted_header(service, clock, db_engine):
    submit(service, COMPLAINT)
    with Session(db_engine) as session:
        token, batch = claim(session, clock, "pekerja-1")
    assert token.startswith("pekerja-1/")
    written = {m.id: m for m in rows(db_engine)}
    for mail_id, mail in batch:
        row = written[mail_id]
        assert (mail.to, mail.subject, mail.text, mail.html, mail.message_id) == (row.to_addr, row.subject, row.body, row.html, row.message_id)
        assert mail.headers == {"Auto-Submitted": "auto-generated"} and row.claimed_by == token and row.attempts == 1


def test_a_mail_not_yet_due_is_not_claimed(service, clock, db_engine):
    submit(service, COMPLAINT)
    with Session(db_engine) as session:
        session.execute(update(OutboxMail).values(next_attempt_at=clock.now() + timedelta(seconds=1)))
        session.commit()
        assert claim(session, clock, "w")[1] == []
        clock.advance(seconds=1)
        assert len(claim(session, clock, "w")[1]) == 2


def test_a_worker_is_named_by_its_host_process_and_thread():
    host, pid, thread = default_worker_name().split(":")
    assert host and int(pid) == os.getpid() and thread.isdigit()


def test_only_failed_mails_are_counted_listed_and_requeued(service, clock, db_engine):
    submit(service, COMPLAINT)
    with Session(db_engine) as session:
        [receipt_id, notice_id] = [m.id for m in rows(db_engine)]
        assert failed_count(session) == 0 and failed_mails(session) == [] and not requeue(session, receipt_id, clock)
        session.execute(update(OutboxMail).where(OutboxMail.id == notice_id).values(status="failed", attempts=MAX_ATTEMPTS, last_error="tolak"))
        session.commit()
        [failed] = failed_mails(session)
        assert (failed_count(session), failed.id, failed.recipient, failed.attempts, failed.last_error) == (
            1,
            notice_id,
            "kominfo",
            MAX_ATTEMPTS,
            "tolak",
        )
        assert requeue(session, notice_id, clock)
        session.commit()
    notice = rows(db_engine)[1]
    assert (notice.status, notice.attempts, notice.next_attempt_at) == ("queued", 0, clock.now())


def test_an_error_quoting_a_reporters_address_is_shown_without_it(service, clock, db_engine):
    submit(service, COMPLAINT)
    with Session(db_engine) as session:
        session.execute(update(OutboxMail).values(status="failed", last_error=f"550 {REPORTER}: no such user"))
        session.commit()
        by_recipient = {m.recipient: m.last_error for m in failed_mails(session)}
    assert by_recipient == {"pelapor": "550 <alamat pelapor>: no such user", "kominfo": f"550 {REPORTER}: no such user"}


def test_mails_whose_last_attempt_never_reported_back_are_given_up_once_their_lease_ends(service, clock, db_engine):
    submit(service, COMPLAINT)
    with Session(db_engine) as session:
        session.execute(update(OutboxMail).values(attempts=MAX_ATTEMPTS, claimed_by="mati/1", claimed_until=clock.now() + LEASE))
        session.commit()
        assert give_up_abandoned(session, clock) == 0  # the dead worker's lease still runs
        clock.advance(seconds=LEASE.total_seconds())
        assert give_up_abandoned(session, clock) == 2 and give_up_abandoned(session, clock) == 0
        told = list(session.scalars(select(Notification.message).where(Notification.kind == "surel_gagal")))
    assert len(told) == 2 and all(m.status == "failed" and m.claimed_by is None and m.last_error for m in rows(db_engine))
