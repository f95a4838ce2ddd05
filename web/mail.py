"""The mail transport engine/notifications/mailer.py delivers the outbox with: Flask-Mail over SMTP.

Settings are Flask-Mail's own (README, "Commands": MAIL_SERVER, MAIL_PORT, MAIL_USE_TLS, MAIL_USERNAME,
MAIL_PASSWORD, MAIL_DEFAULT_SENDER; also MAIL_USE_SSL). The transport owns a small Flask app of its
own and sends inside its app context, so the worker thread of `lapor serve` and `lapor worker`
(which has no web app) use it alike.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from flask import Flask
from flask_mail import Connection, Mail, Message

from engine.notifications.mailer import PreparedMail
from web.settings import DEFAULT_SENDER

MAIL_KEYS = ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USE_SSL", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_DEFAULT_SENDER")
TIMEOUT = 30.0  # seconds; Flask-Mail itself waits forever on a server that stops answering


class _TimedConnection(Connection):
    """Flask-Mail's connection with a socket timeout."""

    def configure_host(self) -> smtplib.SMTP:
        mail = self.mail
        host = (smtplib.SMTP_SSL if mail.use_ssl else smtplib.SMTP)(mail.server, mail.port, timeout=TIMEOUT)
        try:
            if mail.use_tls:
                host.starttls()
            if mail.username and mail.password:
                host.login(mail.username, mail.password)
        except BaseException:
            host.close()
            raise
        return host


class _Sender:
    def __init__(self, connection: Connection, sender: str) -> None:
        self.connection, self.sender = connection, sender

    def send(self, mail: PreparedMail) -> None:
        message = Message(
            subject=mail.subject, recipients=[mail.to], body=mail.text, html=mail.html, sender=self.sender, extra_headers=dict(mail.headers)
        )
        message.msgId = mail.message_id  # the outbox row's, so a resend carries the same Message-ID
        self.connection.send(message)


class FlaskMailTransport:
    """engine.notifications.mailer.Transport through Flask-Mail: one SMTP connection per batch."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.app = Flask("lapor.mail")
        self.app.config.update({key: config[key] for key in MAIL_KEYS if key in config})
        self.app.config.setdefault("MAIL_DEFAULT_SENDER", DEFAULT_SENDER)
        self.app.config["MAIL_SUPPRESS_SEND"] = False  # Flask-Mail suppresses under TESTING; the worker always sends
        self.mail = Mail(self.app)

    @property
    def sender(self) -> str:
        return self.app.config["MAIL_DEFAULT_SENDER"]

    @contextmanager
    def connect(self) -> Iterator[_Sender]:
        """Raises OSError or smtplib.SMTPException when the server cannot be reached or refuses the login."""
        with self.app.app_context():
            connection = _TimedConnection(self.mail.state)
            connection.host = connection.configure_host()
            try:
                yield _Sender(connection, self.sender)
            finally:
                try:
                    connection.host.quit()
                except (smtplib.SMTPException, OSError):  # the mail is already accepted or recorded; a dead link is no news
                    connection.host.close()


def transport_from_config(config: Mapping[str, Any]) -> FlaskMailTransport | None:
    """The transport for these settings, or None without MAIL_SERVER (mail stays in the outbox: the development mailbox)."""
    return FlaskMailTransport(config) if config.get("MAIL_SERVER") else None
