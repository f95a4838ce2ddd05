"""Sending the outbox. Each mail is marked sent in its own transaction, after the SMTP server accepted it."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import clock as clocks
from .store import OutboxMail

MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class SmtpSettings:
    server: str
    port: int = 25
    use_tls: bool = False
    username: str | None = None
    password: str | None = None
    sender: str = "SP4N-LAPOR! Jawa Timur <noreply@lapor.jatimprov.go.id>"


def send_pending(session: Session, settings: SmtpSettings | None, clock: clocks.Clock, limit: int = 100) -> int:
    """Send up to ``limit`` unsent mails, committing after each; return how many were sent.

    With no settings (no MAIL_SERVER) mail stays in the outbox for the development mailbox page.
    """
    if settings is None:
        return 0
    query = select(OutboxMail).where(OutboxMail.sent_at.is_(None), OutboxMail.attempts < MAX_ATTEMPTS).order_by(OutboxMail.id).limit(limit)
    rows = list(session.scalars(query))
    sent = 0
    if not rows:
        return 0
    with smtplib.SMTP(settings.server, settings.port, timeout=30) as smtp:
        if settings.use_tls:
            smtp.starttls()
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        for row in rows:
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = settings.sender, row.to_addr, row.subject
            message["Message-ID"] = f"<outbox-{row.id}@lapor.jatimprov.go.id>"  # lets receivers drop a resend
            message.set_content(row.body)
            row.attempts += 1
            try:
                smtp.send_message(message)
            except smtplib.SMTPException as err:
                row.last_error = str(err)
            else:
                row.sent_at = clock.now()
                sent += 1
            session.commit()
    return sent
