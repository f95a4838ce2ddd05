"""Delivering the outbox: claim a batch under a lease, send, mark each mail sent in its own transaction.

A mail row is written by engine/notifications/notify.py in the transaction of the change that caused it; this
module only moves rows from ``queued`` to ``sent`` (or, after MAX_ATTEMPTS failures, ``failed``).

Claiming: one UPDATE takes up to ``limit`` due, unclaimed (or lease-expired) rows for a fresh claim
token, then commits. On PostgreSQL the candidate SELECT inside it locks ``FOR UPDATE SKIP LOCKED``, so
concurrent workers take disjoint rows without waiting; SQLite runs one writer at a time and the
UPDATE re-checks the claimable condition, so a row is claimed by one token only. Every claim counts
as an attempt, so a mail that kills its worker again and again is given up too.

Delivery is at least once, never silently lost: a worker killed after the SMTP server accepted a
mail but before marking it sent leaves the claim behind; when the lease expires another pass sends
the mail again with the SAME Message-ID (fixed when the row was written), so mail servers and
clients recognise the duplicate. The alternative (mark sent before sending) could lose mail, which
the issue rules out.

The transport is handed in (web/mail.py implements it with Flask-Mail): engine/ knows no Flask.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from uuid import uuid4

from sqlalchemy import ColumnElement, Update, and_, func, or_, select, update
from sqlalchemy.orm import Session

from engine.db.tables import Case, OutboxMail, User
from engine.notifications.notify import mail_failed
from engine.timekeeping import clock as clocks

log = logging.getLogger("lapor.mailer")

QUEUED, SENT, FAILED = "queued", "sent", "failed"
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=1)
LEASE = timedelta(minutes=10)  # longer than a batch takes; the sender stops taking new mail from its batch when it runs out
LEASE_MARGIN = timedelta(minutes=2)  # a send that starts later than this before the lease ends might outlive it (SMTP timeouts)
BATCH = 50
HEADERS = {"Auto-Submitted": "auto-generated"}  # RFC 3834: no out-of-office replies to a no-reply sender


@dataclass(frozen=True)
class PreparedMail:
    """One message as the transport sends it."""

    to: str
    subject: str
    text: str
    html: str | None
    message_id: str
    headers: Mapping[str, str] = field(default_factory=dict)


class Connection(Protocol):
    def send(self, mail: PreparedMail) -> None:
        """Hand one message to the mail server. Raises (any Exception) when it is not accepted."""
        ...


class Transport(Protocol):
    def connect(self) -> AbstractContextManager[Connection]:
        """Open a connection for one batch. Raises (any Exception) when the server cannot be reached."""
        ...


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 1 min, 2, 4, ... at most 1 h."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), MAX_RETRY)


def default_worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{threading.get_ident() % 100000}"


def _claimable(now: datetime) -> ColumnElement[bool]:
    return and_(
        OutboxMail.status == QUEUED,
        OutboxMail.next_attempt_at <= now,
        OutboxMail.attempts < MAX_ATTEMPTS,
        or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until <= now),
    )


def claim_statement(token: str, now: datetime, limit: int, lease: timedelta = LEASE) -> Update:
    """The UPDATE that claims a batch for ``token`` (FOR UPDATE SKIP LOCKED where the backend has it)."""
    # MATERIALIZED: PostgreSQL would otherwise re-run the LIMIT subquery per row of a semi-join and claim more than ``limit``
    candidates = (
        select(OutboxMail.id)
        .where(_claimable(now))
        .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("candidates")
        .prefix_with("MATERIALIZED")
    )
    return (
        update(OutboxMail)
        .where(OutboxMail.id.in_(select(candidates.c.id)), _claimable(now))
        .values(claimed_by=token, claimed_until=now + lease, attempts=OutboxMail.attempts + 1, last_attempt_at=now)
        .execution_options(synchronize_session=False)
    )


def claim(
    session: Session, clock: clocks.Clock, worker: str, limit: int = BATCH, lease: timedelta = LEASE
) -> tuple[str, list[tuple[int, PreparedMail]]]:
    """Claim up to ``limit`` due mails and commit. Returns the claim token and the (row id, message) pairs."""
    token = f"{worker[:60]}/{uuid4().hex[:12]}"
    session.execute(claim_statement(token, clock.now(), limit, lease))
    rows = session.execute(
        select(OutboxMail.id, OutboxMail.to_addr, OutboxMail.subject, OutboxMail.body, OutboxMail.html, OutboxMail.message_id)
        .where(OutboxMail.claimed_by == token)
        .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
    ).all()
    session.commit()
    return token, [(row.id, PreparedMail(row.to_addr, row.subject, row.body, row.html, row.message_id, HEADERS)) for row in rows]


def _mark_sent(session: Session, mail_id: int, now: datetime) -> None:
    session.execute(
        update(OutboxMail)
        .where(OutboxMail.id == mail_id, OutboxMail.status == QUEUED)
        .values(status=SENT, sent_at=now, claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()


_ADDRESS = re.compile(r"[^\s<>()\"',;:]+@[^\s<>()\"',;:]+")


def _masked(text: str) -> str:
    """An error message fit for the log: the server's words without any mail address in them."""
    return _ADDRESS.sub("<penerima>", text)


def _mark_failed_attempt(session: Session, mail_id: int, token: str, error: BaseException, now: datetime) -> None:
    """Record a failed attempt of a mail this claim still holds; schedule the next or give up (an incident for Admin Pusat)."""
    held = and_(OutboxMail.id == mail_id, OutboxMail.claimed_by == token, OutboxMail.status == QUEUED)
    row = session.execute(select(OutboxMail.attempts, OutboxMail.case_id, OutboxMail.subject).where(held)).one_or_none()
    if row is None:  # the lease ran out and another worker holds it now
        session.rollback()
        return
    give_up = row.attempts >= MAX_ATTEMPTS
    message = f"{type(error).__name__}: {error}"[:2000]
    values: dict = {"last_error": message, "claimed_by": None, "claimed_until": None}
    values.update({"status": FAILED} if give_up else {"next_attempt_at": now + retry_delay(row.attempts)})
    changed = session.execute(update(OutboxMail).where(held).values(**values).execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    if changed and give_up:
        mail_failed(session, row.case_id, row.subject, now)
        log.error("mail %s given up after %s attempts: %s", mail_id, row.attempts, _masked(message))
    session.commit()


def _release(session: Session, token: str, mail_ids: list[int]) -> None:
    """Hand back claimed mails that were not tried (the lease ran out first): they do not count as attempts."""
    if mail_ids:
        session.execute(
            update(OutboxMail)
            .where(OutboxMail.id.in_(mail_ids), OutboxMail.claimed_by == token)
            .values(claimed_by=None, claimed_until=None, attempts=OutboxMail.attempts - 1)
            .execution_options(synchronize_session=False)
        )
        session.commit()


def give_up_abandoned(session: Session, clock: clocks.Clock) -> int:
    """Mark failed the mails whose last permitted attempt never reported back (its worker died each time). Commits."""
    now = clock.now()
    abandoned = and_(
        OutboxMail.status == QUEUED, OutboxMail.attempts >= MAX_ATTEMPTS, or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until <= now)
    )
    given_up = 0
    for row in session.execute(select(OutboxMail.id, OutboxMail.case_id, OutboxMail.subject, OutboxMail.last_error).where(abandoned)).all():
        result = session.execute(
            update(OutboxMail)
            .where(OutboxMail.id == row.id, abandoned)  # re-checked: two workers never both give it up
            .values(
                status=FAILED, claimed_by=None, claimed_until=None, last_error=row.last_error or "pengirim berhenti sebelum mencatat hasil pengiriman"
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            mail_failed(session, row.case_id, row.subject, now)
            given_up += 1
    session.commit()
    return given_up


def send_pending(
    session: Session, transport: Transport | None, clock: clocks.Clock, worker: str | None = None, limit: int = BATCH, lease: timedelta = LEASE
) -> int:
    """Claim and send one batch of due mail; return how many the server accepted.

    Commits on its own (claim, then one transaction per mail): it is a worker command. With no
    transport (no MAIL_SERVER) mail stays in the outbox for the development mailbox page. A
    failure to connect or to send is recorded on the mail (backoff, then ``failed``), never raised;
    only a BaseException (the worker being stopped) escapes, leaving its claims to expire.
    """
    if transport is None:
        return 0
    give_up_abandoned(session, clock)
    token, batch = claim(session, clock, worker or default_worker_name(), limit, lease)
    if not batch:
        return 0
    lease_end = clock.now() + lease - LEASE_MARGIN
    sent = 0
    untried: list[int] = []
    with ExitStack() as stack:
        try:
            connection = stack.enter_context(transport.connect())
        except Exception as err:  # the server is down or refuses us: every mail of the batch failed this attempt
            log.warning("mail server unreachable: %s", err)
            for mail_id, _mail in batch:
                _mark_failed_attempt(session, mail_id, token, err, clock.now())
            return 0
        for mail_id, mail in batch:
            if clock.now() >= lease_end:  # another worker may take the rest once the lease is over: do not race it
                untried.append(mail_id)
                continue
            try:
                connection.send(mail)
            except Exception as err:
                # logs are read by operators: name the mail by its id, never by a citizen's address
                log.warning("mail %s not accepted: %s", mail_id, _masked(str(err)))
                _mark_failed_attempt(session, mail_id, token, err, clock.now())
            else:
                _mark_sent(session, mail_id, clock.now())
                sent += 1
    _release(session, token, untried)
    return sent


# ---- Admin Pusat's view of the outbox -------------------------------------------------------------


@dataclass(frozen=True)
class FailedMail:
    id: int
    tracking_id: str | None
    recipient: str  # the staff member's username, or "pelapor": a reporter's address is never shown
    subject: str
    attempts: int
    last_attempt_at: datetime | None
    last_error: str | None


def failed_mails(session: Session, limit: int = 20) -> list[FailedMail]:
    """Mails given up, newest first."""
    rows = session.execute(
        select(OutboxMail, Case.tracking_id, User.username)
        .outerjoin(Case, Case.id == OutboxMail.case_id)
        .outerjoin(User, User.id == OutboxMail.user_id)
        .where(OutboxMail.status == FAILED)
        .order_by(OutboxMail.last_attempt_at.desc(), OutboxMail.id.desc())
        .limit(limit)
    )
    return [
        FailedMail(m.id, tracking_id, username or "pelapor", m.subject, m.attempts, m.last_attempt_at, _without_reporter(m.last_error, m, username))
        for m, tracking_id, username in rows
    ]


def _without_reporter(error: str | None, mail: OutboxMail, username: str | None) -> str | None:
    """An SMTP error may quote the recipient; a reporter's address is identity and staff never see it."""
    return error.replace(mail.to_addr, "<alamat pelapor>") if error and username is None else error


def failed_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(OutboxMail).where(OutboxMail.status == FAILED)) or 0


def requeue(session: Session, mail_id: int, clock: clocks.Clock) -> bool:
    """Put a failed mail back in the queue with fresh attempts (same Message-ID). Returns False if it was not failed."""
    result = session.execute(
        update(OutboxMail)
        .where(OutboxMail.id == mail_id, OutboxMail.status == FAILED)
        .values(status=QUEUED, attempts=0, next_attempt_at=clock.now(), claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
