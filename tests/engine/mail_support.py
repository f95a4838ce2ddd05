"""A real SMTP server on loopback for the mail tests (engine/notifications/notify.py writes the mail, engine/notifications/mailer.py delivers it).

The server is aiosmtpd, started by the tests on a free port and stopped to simulate an outage.
smtplib returns only after the server's DATA handler ran, so a message is in the inbox as soon as
the send returns: no waiting. Retries move the FakeClock.
"""

from __future__ import annotations

import threading
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.tables import OutboxMail
from engine.notifications.mailer import send_pending
from tests.engine.support import free_port
from tests.scenarios import COMPLAINT
from web.mail import FlaskMailTransport

REPORTER = COMPLAINT["reporter"]["email"]


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


@pytest.fixture(name="smtp")  # imported by its function name: the test's "smtp" argument does not shadow an import
def smtp_server():
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
