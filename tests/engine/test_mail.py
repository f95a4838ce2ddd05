"""engine/notify.py and engine/mailer.py: the outbox delivered through Flask-Mail to a real SMTP server on loopback.

The server is aiosmtpd, started by the tests on a free port and stopped to simulate an outage.
smtplib returns only after the server's DATA handler ran, so a message is in the inbox as soon as
the send returns: no waiting. Retries move the FakeClock.
"""

from __future__ import annotations

import threading
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from engine import CaseService
from engine.mailer import LEASE, LEASE_MARGIN, MAX_ATTEMPTS, claim, claim_statement, failed_mails, requeue, retry_delay, send_pending
from engine.notify import REPORTER_TEMPLATES, compose
from engine.store import Case, Notification, OutboxMail, User
from tests.engine.support import (
    KOMINFO,
    TO_SELESAI,
    do,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    free_port,
    open_row,
    submit,
)
from tests.scenarios import COMPLAINT, FORWARD_SATKER, Do
from web.mail import FlaskMailTransport

REPORTER = COMPLAINT["reporter"]["email"]
IDENTITY = {"name": "Rahasia Wulandari", "email": "wulan.rahasia@example.id", "phone": "089912345678"}


class SmtpServer:
    """aiosmtpd on a fixed loopback port that can be stopped and started again; keeps every message it accepts."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[tuple[list[str], EmailMessage]] = []
        self.lock = threading.Lock()
        self.controller: Controller | None = None
        self.transport = FlaskMailTransport({"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": self.port})

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        assert self.controller is not None
        self.controller.stop()
        self.controller = None

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for _r, m in self.received]


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    if server.controller is not None:
        server.stop()


def rows(db_engine) -> list[OutboxMail]:
    with Session(db_engine, expire_on_commit=False) as session:
        return list(session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def send(db_engine, smtp: SmtpServer, clock, **kwargs) -> int:
    with Session(db_engine) as session:
        return send_pending(session, smtp.transport, clock, **kwargs)


def parts(message: EmailMessage) -> tuple[str, str]:
    """The text and the HTML part, with the wire's CRLF line ends read as newlines."""
    return tuple(message.get_body((kind,)).get_content().replace("\r\n", "\n") for kind in ("plain", "html"))  # type: ignore[return-value]


# ---- delivery ------------------------------------------------------------------------------------


def test_receipt_is_delivered_with_recipient_subject_message_id_and_both_parts(service, clock, db_engine, smtp):
    submitted = submit(service, COMPLAINT)
    tracking_id = submitted.case.tracking_id

    assert send(db_engine, smtp, clock) == len(rows(db_engine)) == 2

    [receipt] = [row for row in rows(db_engine) if row.to_addr == REPORTER]
    [(recipients, message)] = [(r, m) for r, m in smtp.received if m["Message-ID"] == receipt.message_id]
    assert recipients == [REPORTER] and message["To"] == REPORTER
    assert message["Subject"] == f"Laporan Anda telah diterima: {tracking_id}"
    assert message["From"] == "SP4N-LAPOR! Jawa Timur <noreply@lapor.jatimprov.go.id>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert "multipart/alternative" in [part.get_content_type() for part in message.walk()]
    text, html = parts(message)
    link = f"/lacak/{tracking_id}#token={submitted.access_token}"
    assert text.startswith("Yth. Bapak/Ibu Pelapor,") and link in text and "Gedung SMA rusak" not in text
    assert f"Nomor pelacakan: {tracking_id}\nKode akses: {submitted.access_token}\n" in text
    assert html.startswith("<!DOCTYPE html>") and link + '" style=' in html and "Gedung SMA rusak" not in html
    assert (receipt.status, receipt.attempts, receipt.sent_at, receipt.claimed_by) == ("sent", 1, clock.now(), None)
    [(kominfo_rcpt, notice)] = [(r, m) for r, m in smtp.received if m is not message]
    assert kominfo_rcpt == ["kominfo@demo.lapor.test"] and notice["Subject"] == f"Laporan {tracking_id} menunggu disposisi"


def test_every_mail_of_a_whole_case_names_the_tracking_id_and_has_both_parts(service, clock, db_engine, smtp):
    submitted = submit(service, COMPLAINT, TO_SELESAI)
    tracking_id = submitted.case.tracking_id

    assert send(db_engine, smtp, clock) == len(rows(db_engine))

    topics = Counter((row.topic, row.to_addr) for row in rows(db_engine))
    assert topics == {
        ("laporan_diterima", REPORTER): 1,
        ("perlu_disposisi", "kominfo@demo.lapor.test"): 1,
        ("laporan_masuk", "pendidikan@demo.lapor.test"): 1,
        ("diterima_unit", "kominfo@demo.lapor.test"): 1,
        ("jawaban_masuk", "kominfo@demo.lapor.test"): 1,
        ("jawaban_terbit", REPORTER): 1,
        ("selesai", REPORTER): 1,
    }
    assert sorted(smtp.message_ids()) == sorted(row.message_id for row in rows(db_engine))
    for _recipients, message in smtp.received:
        text, html = parts(message)
        assert tracking_id in message["Subject"], message["Subject"]
        assert text.strip() and "<p" in html and "{" not in text, message["Subject"]
    [answered] = [m for _r, m in smtp.received if m["Subject"] == f"Jawaban atas laporan Anda {tracking_id}"]
    assert "Perbaikan atap dijadwalkan minggu depan oleh Dinas Pendidikan." in parts(answered)[0]


@pytest.mark.parametrize("anonymous, confidential", [(True, True), (True, False), (False, True), (False, False)])
def test_staff_mail_never_names_the_reporter(service, clock, db_engine, smtp, anonymous, confidential):
    complaint = {**COMPLAINT, "anonymous": anonymous, "confidential": confidential, "reporter": IDENTITY}
    submit(service, complaint, TO_SELESAI)
    send(db_engine, smtp, clock)

    staff_mail = [(r, m) for r, m in smtp.received if r != [IDENTITY["email"]]]
    assert len(staff_mail) == 4
    for _recipients, message in staff_mail:
        raw = "\n".join([message["Subject"], *parts(message)])
        for value in (*IDENTITY.values(), "Rahasia", "wulan"):
            assert value not in raw


def test_html_part_escapes_what_the_reporter_wrote():
    mail = compose(
        'Laporan <b>"x"</b>', "Yth. Pelapor,", 'Judul "<script>alert(1)</script>" & lain-lain\n\nhttp://x.test/a?b=1&c=2', "http://x.test/a?b=1&c=2"
    )
    assert "<script>" not in mail.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in mail.html and "&amp; lain-lain" in mail.html
    assert '<a href="http://x.test/a?b=1&amp;c=2"' in mail.html and "<title>Laporan &lt;b&gt;" in mail.html
    assert '"<script>alert(1)</script>"' in mail.text  # the text part is text


# Anyone may have a receipt mailed to any address (the form takes whatever email it is given): what the reporter
# wrote must never be in a mail to the reporter, or the office's sender would carry an attacker's words.
WRITTEN = {"title": "Klik http://jahat.example untuk hadiah", "body": "Hubungi 0800-PENIPU sekarang juga untuk hadiah Anda yang menunggu."}


def test_no_mail_to_the_reporter_carries_what_the_reporter_wrote(service, clock, db_engine, smtp):
    submitted = submit(service, {**COMPLAINT, **WRITTEN, "location": "Jalan Penipu 1"}, TO_SELESAI)
    send(db_engine, smtp, clock)

    to_reporter = [m for r, m in smtp.received if r == [REPORTER]]
    assert len(to_reporter) == 3  # the receipt, the answer, the case closed
    for message in to_reporter:
        raw = "\n".join([message["Subject"], *parts(message)])
        assert submitted.case.tracking_id in raw
        assert not [text for text in (*WRITTEN.values(), "jahat.example", "PENIPU", "Penipu") if text in raw], message["Subject"]


@pytest.mark.parametrize("topic", [*REPORTER_TEMPLATES, "diterima_unit", "topik_baru"])
def test_every_reporter_topic_names_the_case_by_its_tracking_id_only(service, topic):
    """Each reporter template, and any topic a model sends the reporter without one (a staff topic, a new name)."""
    case = submit(service, {**COMPLAINT, **WRITTEN}).case
    mail = service.notifier.render(topic, case, f"http://lapor.test/lacak/{case.tracking_id}", "Yth. Bapak/Ibu Pelapor,", reporter=True)
    raw = "\n".join([mail.subject, mail.text, mail.html])
    assert case.tracking_id in mail.subject and case.tracking_id in mail.text
    assert WRITTEN["title"] not in raw and "jahat" not in raw and "PENIPU" not in raw and "{" not in mail.text


def test_reporter_reminder_and_returned_case_read_as_sentences(service, session, clock):
    case = submit(service, COMPLAINT).case
    notifier = service.notifier
    reminder = notifier.render("pengingat", case, "http://lapor.test/lacak/x", "Yth. Bapak/Ibu Pelapor,", reporter=True)
    assert reminder.subject == f"Pengingat: laporan {case.tracking_id} menunggu balasan Anda"
    returned = notifier.render("perlu_disposisi", case, "http://lapor.test/kasus/x", "Yth. Admin,", unit="Dinas Pendidikan Provinsi Jawa Timur")
    assert "sebelumnya diteruskan kepada Dinas Pendidikan Provinsi Jawa Timur" in returned.text and "bukan wewenangnya" in returned.text
    first = notifier.render("perlu_disposisi", case, "http://lapor.test/kasus/x", "Yth. Admin,", unit="")
    assert "sebelumnya" not in first.text


def test_returned_case_mails_admin_kominfo_again(service, clock, db_engine, smtp):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER, Do("Task_Terima_Satker", {"decision": "bukan_wewenang", "note": "Bukan kami."})])
    send(db_engine, smtp, clock)
    notices = [m for r, m in smtp.received if r == ["kominfo@demo.lapor.test"]]
    assert [m["Subject"] for m in notices] == [f"Laporan {submitted.case.tracking_id} menunggu disposisi"] * 2
    assert "sebelumnya diteruskan" not in parts(notices[0])[0]
    assert "sebelumnya diteruskan kepada Dinas Pendidikan Provinsi Jawa Timur" in parts(notices[1])[0]


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


def test_message_id_is_fixed_when_the_mail_is_written(service, db_engine):
    submit(service, COMPLAINT)
    ids = [m.message_id for m in rows(db_engine)]
    assert len(set(ids)) == 2 and all(i.startswith("<") and i.endswith("@lapor.jatimprov.go.id>") for i in ids)
    with Session(db_engine) as session:
        session.execute(update(OutboxMail).values(subject=OutboxMail.subject))  # a later write keeps it
        session.commit()
    assert [m.message_id for m in rows(db_engine)] == ids


def test_mail_rows_record_the_staff_recipient_and_topic(service, session, clock):
    case = submit(service, COMPLAINT).case
    row = open_row(session, case.id, "Task_Disposisi")
    CaseService(session, clock).complete_task(row.id, {"unit": "dinas-pendidikan"}, KOMINFO)
    session.commit()
    with Session(session.bind) as fresh:
        staff_rows = list(fresh.scalars(select(OutboxMail).where(OutboxMail.user_id.is_not(None))))
        reporter_rows = list(fresh.scalars(select(OutboxMail).where(OutboxMail.user_id.is_(None))))
        assert {m.to_addr for m in reporter_rows} == {REPORTER}
        assert {m.topic for m in staff_rows} == {"perlu_disposisi", "laporan_masuk"}
        assert fresh.get(Case, case.id).status == "didisposisikan"
