"""One worker pass: fire the due timers, then send queued mail. Used by `lapor worker` and `lapor serve`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from . import clock as clocks
from .cases import CaseService
from .errors import Conflict
from .mailer import SmtpSettings, send_pending

log = logging.getLogger("lapor.worker")


@dataclass(frozen=True)
class PassResult:
    timers_fired: int
    mails_sent: int


def run_once(session_factory: Callable[[], Session], clock: clocks.Clock, base_url: str, smtp: SmtpSettings | None, batch: int = 100) -> PassResult:
    """Fire each due case in its own transaction (one failing case does not hold up the rest)."""
    fired = 0
    with session_factory() as session:
        due = CaseService(session, clock, base_url).due_case_ids(batch)
    for case_id in due:
        with session_factory() as session:
            try:
                fired += CaseService(session, clock, base_url).fire_timers(case_id)
                session.commit()
            except Conflict:
                session.rollback()  # someone else moved the case meanwhile; the next pass sees it again
            except Exception:
                session.rollback()
                log.exception("firing timers of case %s failed", case_id)
    with session_factory() as session:
        try:
            sent = send_pending(session, smtp, clock)
        except OSError:
            log.exception("mail server unreachable; mail stays in the outbox")
            sent = 0
    return PassResult(fired, sent)
