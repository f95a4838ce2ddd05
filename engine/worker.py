"""One worker pass: fire the due timers and retry the failed system steps that are due, then send queued mail.
Used by `lapor worker` and `lapor serve`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from engine.cases import incidents
from engine.cases.service import CaseService
from engine.errors import Conflict
from engine.notifications.mailer import BATCH, Transport, send_pending
from engine.timekeeping import clock as clocks

log = logging.getLogger("lapor.worker")


@dataclass(frozen=True)
class PassResult:
    timers_fired: int
    mails_sent: int
    more: bool = False  # the pass stopped at a batch limit (due cases or mail): run the next one without waiting


def run_once(session_factory: Callable[[], Session], clock: clocks.Clock, base_url: str, transport: Transport | None, batch: int = 100) -> PassResult:
    """Fire the timers of up to ``batch`` due cases (and retry those whose failed system step is due), then send queued mail.

    Each case is claimed, fired and committed in its own transaction, so one failing case does not hold
    up the rest, several workers (on PostgreSQL) never fire the same timer, and a worker killed mid-pass
    holds at most one row lock, released with its connection. A system step that fails again is committed
    as such by the engine (the case waits longer, its incident counts up; engine/cases/service.py ``_advance``). A
    case that fails or fires nothing is not tried again in the same pass.

    ``more`` says the pass stopped at a limit with work done (``batch`` cases claimed and some fired, or a whole batch
    of mail sent), so more may be due now: a worker loop runs the next pass at once instead of waiting its interval
    (10,000 timers due at the same 23:59:59 would otherwise take 100 intervals). A pass whose cases all failed does
    not ask for more, so a worker never spins on cases that keep failing.
    """
    fired = 0
    tried: set[int] = set()
    limit_reached = True  # unless a claim finds nothing left
    for _ in range(batch):
        with session_factory() as session:
            service = CaseService(session, clock, base_url)
            case_id = service.claim_due_case(skip=tried)
            if case_id is None:
                limit_reached = False
                break
            try:
                count = service.fire_timers(case_id)
                session.commit()
            except Conflict:
                session.rollback()  # someone else moved the case meanwhile; the next pass sees it again
                count = 0
            except Exception as error:
                session.rollback()
                log.exception("firing timers of case %s failed", case_id)
                _record_incident(session, clock, error, case_id)
                count = 0
            fired += count
            if not count:
                tried.add(case_id)
    with session_factory() as session:
        try:
            sent = send_pending(session, transport, clock)  # records a mail server's failure on the mail itself
        except Exception:  # the database, not the mail server: claims left behind expire, mail stays queued
            session.rollback()
            log.exception("sending the outbox failed")
            sent = 0
    return PassResult(fired, sent, (limit_reached and fired > 0) or sent >= BATCH)


def _record_incident(session: Session, clock: clocks.Clock, error: Exception, case_id: int) -> None:
    """Show Admin Pusat a case the pass could not handle at all (a step failing is the engine's incident, not this one):
    one incident, counted up while it keeps failing; the case is tried again next pass."""
    try:
        incidents.record(session, clock.now(), "fire_timers", error, actor="sistem", case_id=case_id)
        session.commit()
    except Exception:  # the database itself is failing: the log line above is all we can leave
        session.rollback()
        log.exception("recording the incident of case %s failed", case_id)
