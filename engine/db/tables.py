"""Database tables (plain SQLAlchemy 2). The web app binds them with SQLAlchemy(model_class=Base).

A case is one row holding its serialized workflow state (without the spec) and a version for
optimistic locking. Side tables exist only for what is queried: open tasks (the inbox) and the
next due timer (``case.next_timer_at``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column, registry
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # type: ignore[no-untyped-def]
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)  # SQLite keeps the wall time only: store the instant's UTC wall time

    def process_result_value(self, value, dialect):  # type: ignore[no-untyped-def]
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    registry = registry(type_annotation_map={datetime: UTCDateTime()})


class Definition(Base):
    __tablename__ = "process_definition"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    bundle: Mapped[str] = mapped_column(Text)
    deployed_at: Mapped[datetime]
    deployed_by: Mapped[str | None] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(Text)


class Unit(Base):
    __tablename__ = "unit"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # satuan_kerja | instansi_vertikal
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("unit.id"))
    email: Mapped[str] = mapped_column(String(254))
    full_name: Mapped[str] = mapped_column(String(120), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # bumped on logout / password change: sessions and API tokens carry it and die with it
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)


class SignInFailure(Base):
    """Recent failed sign-ins at one username from one client address (engine/accounts/users.py check_login).

    Keyed by what was typed, whether or not such an account exists, so that the answer never tells
    which usernames exist; a lock holds only for that address, so nobody elsewhere can lock the real
    user out. Only a hash of the username is kept: people type passwords into that field too.
    """

    __tablename__ = "sign_in_failure"

    username_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(45), primary_key=True)  # the client's IP address (IPv6 at most 45 characters)
    failures: Mapped[int] = mapped_column(Integer)  # since the last lock; restarts at 1 after a quiet LOCKOUT
    last_failed_at: Mapped[datetime] = mapped_column(index=True)
    locked_until: Mapped[datetime | None]


class Case(Base):
    __tablename__ = "case"

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_id: Mapped[str] = mapped_column(String(12), unique=True)
    access_token_hash: Mapped[str] = mapped_column(String(64))
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    status: Mapped[str] = mapped_column(String(20), index=True)
    title: Mapped[str] = mapped_column(String(150))
    category: Mapped[str] = mapped_column(String(20), index=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(20), default="web")  # engine/contract.py CHANNELS
    # WGS84, both or neither (the complaint's optional latitude/longitude)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # the words similar complaints are found by (engine/cases/similar.py): title, location and body, or the redacted body
    search_text: Mapped[str] = mapped_column(Text, default="")
    classification: Mapped[str | None] = mapped_column(String(30))  # set at step 3 (engine/contract.py CLASSIFICATIONS)
    redacted_body: Mapped[str | None] = mapped_column(Text)  # what the units read instead of the reporter's own text
    archive_reason: Mapped[str | None] = mapped_column(String(30))  # status diarsipkan: why (engine/contract.py ARCHIVE_REASONS)
    duplicate_of: Mapped[str | None] = mapped_column(String(12))  # archive_reason duplikat: the tracking id of the case it repeats
    # the first unit the case went to (reports by unit); every unit it went to is in case_unit
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("unit.id"), index=True)
    submitted_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None] = mapped_column(index=True)  # similar complaints: the recently closed (migration 0006)
    answer_text: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]
    late: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    breached: Mapped[list] = mapped_column(JSON, default=list)  # which clocks were missed: ["disposisi:plafon", ...]
    next_timer_at: Mapped[datetime | None] = mapped_column(index=True)
    # set while a system step of the model failed and the case waits for the worker to retry it (engine/cases/service.py _advance)
    retry_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(Text)
    # the audit chain's head, "seq:hash" of the case's last event (engine/audit/trail.py): a removed tail is found
    audit_head: Mapped[str | None] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    # its definition version's content hash, read with the row (a subquery on the primary key): a command finds the
    # parsed model in the per-process cache without a query of its own
    definition_hash: Mapped[str] = column_property(select(Definition.content_hash).where(Definition.id == definition_id).scalar_subquery())

    __mapper_args__ = {"version_id_col": version}
    # only the few waiting cases are indexed: the worker's claim of due timers (retry_at IS NULL) keeps to next_timer_at's index
    __table_args__ = (
        Index("ix_case_retry_at", "retry_at", postgresql_where=text("retry_at IS NOT NULL"), sqlite_where=text("retry_at IS NOT NULL")),
        # similar complaints' full-text search (engine/cases/similar.py; migration 0006), PostgreSQL only
        Index("ix_case_search_fts", text("to_tsvector('simple'::regconfig, search_text)"), postgresql_using="gin").ddl_if(dialect="postgresql"),
    )


class CaseUnit(Base):
    """A unit a case was forwarded to at step 3 (one to five at once), and where the unit stands with it:
    ``aktif`` (accepting or answering), ``bukan_wewenang`` (declined: it no longer holds the case), ``dijawab``."""

    __tablename__ = "case_unit"

    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("unit.id"), primary_key=True, index=True)
    state: Mapped[str] = mapped_column(String(20))
    since: Mapped[datetime]


class CaseNote(Base):
    """A staff-only note on a case (engine/cases/notes.py): never shown to the citizen or the public. The audit
    records only a hash of its text, so the text lives here alone."""

    __tablename__ = "case_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    at: Mapped[datetime]
    author: Mapped[str] = mapped_column(String(80))  # the username
    author_role: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)


class OpenTask(Base):
    """One row per user task waiting for someone: the inbox, without deserializing workflows."""

    __tablename__ = "open_task"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    spec_name: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    form: Mapped[str] = mapped_column(String(40))
    lane: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("unit.id"))
    created_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    ceiling_at: Mapped[datetime | None]
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    claimed_by: Mapped[str | None] = mapped_column(String(80))

    # the inbox walks it in deadline order; with ``overdue`` in it the navigation counts read the index alone (migration 0009)
    __table_args__ = (Index("ix_open_task_role_unit_due", "role", "unit_id", "due_at", "overdue"),)


class AuditEvent(Base):
    """Append-only history; each event carries the hash of the one before it in the same case."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    type: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(80))
    task: Mapped[str | None] = mapped_column(String(36))
    data: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("case_id", "seq"), Index("ix_audit_event_task", "task"))


class Notification(Base):
    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    # indexed: a completed task or a closed case marks its case's notifications read (notify.read_when_*) (migration 0009)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    read: Mapped[bool] = mapped_column(Boolean, default=False)

    # the unread count every staff page shows: a range of the user's unread rows, not all a year left them (migration 0009)
    __table_args__ = (Index("ix_notification_user_unread", "user_id", "read"),)


class OutboxMail(Base):
    """Mail waiting to be sent by the worker; written in the same transaction as its cause.

    engine/notifications/mailer.py delivers it: a worker claims a batch (``claimed_by`` / ``claimed_until``, a
    lease), sends, and marks each row ``sent`` in its own transaction; a failure schedules the next
    attempt (``next_attempt_at``, exponential backoff) until ``status`` becomes ``failed``.
    ``message_id`` is fixed when the row is written, so a resend after a crash is recognisable.
    """

    __tablename__ = "outbox_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))  # the staff recipient; None for the reporter
    topic: Mapped[str | None] = mapped_column(String(40))
    to_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)  # the text/plain part
    html: Mapped[str | None] = mapped_column(Text)  # the text/html part
    message_id: Mapped[str] = mapped_column(String(200), unique=True, default=lambda: f"<{uuid4()}@lapor.jatimprov.go.id>")
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="queued")  # queued | sent | failed
    next_attempt_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_outbox_mail_status_next", "status", "next_attempt_at"),)


class Escalation(Base):
    """A missed deadline, for Admin Pusat's escalations view."""

    __tablename__ = "escalation"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    at: Mapped[datetime]
    stage: Mapped[str] = mapped_column(String(20))
    clock: Mapped[str] = mapped_column(String(10))  # target | plafon
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("unit.id"))
    resolved_at: Mapped[datetime | None]

    # Admin Pusat's open escalations, newest first: the few unresolved rows in order (migration 0009). Without it SQLite,
    # which knows only the average rows per status, scanned every case once closed cases outnumbered the open ones.
    __table_args__ = (Index("ix_escalation_open", "at", sqlite_where=text("resolved_at IS NULL"), postgresql_where=text("resolved_at IS NULL")),)


class PartnerKey(Base):
    """An Open311 partner's API key, issued and revoked by Admin Pusat (/admin/mitra); only its hash is stored."""

    __tablename__ = "partner_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))  # the partner, as Admin Pusat names it
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # the key's first characters, to recognise it in the list
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(80))
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(80))


class ApiToken(Base):
    """A staff bearer token for the JSON API; only its hash is stored. Expires, and can be revoked."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class SubmissionKey(Base):
    """The one-time key of a submitted complaint (the web form's hidden key, the API's Idempotency-Key header) and the
    case it made, so that the same submission sent again answers with that case (web/submissions.py). Only hashes:
    of the key (the access token is derived from it) and of the request it came with."""

    __tablename__ = "submission_key"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # the primary key: two requests with one key make one row
    fingerprint: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    created_at: Mapped[datetime]


class Attachment(Base):
    """A file a citizen attached, or a unit uploaded for its answer (engine/cases/attachments.py): stored outside any
    static folder under a random name."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("unit.id", name="fk_attachment_unit_id_unit"))  # who attached it; null: the citizen
    task_id: Mapped[str | None] = mapped_column(String(36))  # the answer task (``tanggapan``) a unit's file was uploaded for
    published_at: Mapped[datetime | None]  # when it went out with an answer to the citizen (and the public page)


class AdminEvent(Base):
    """An administrative change outside any one case (units, accounts), with who made it."""

    __tablename__ = "admin_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))  # unit_created, user_updated, ...
    target: Mapped[str] = mapped_column(String(80))
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class Incident(Base):
    """Something that failed inside the engine, for Admin Pusat (engine/cases/incidents.py).

    Mostly a system step of the model (a script, gateway condition, DMN decision or timer) that failed:
    ``element`` names it, and the case waits at its last good state until a retry succeeds
    (``case.retry_at``), which resolves the incident; the same failure counts up (``count``, ``last_at``)
    and spaces the retries out. Otherwise (``element`` empty) a command that failed whole: rolled back,
    and written afterwards in a transaction of its own by whoever ran it (request handler, worker).
    """

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]  # first seen
    last_at: Mapped[datetime] = mapped_column(index=True)
    count: Mapped[int] = mapped_column(Integer, default=1)
    command: Mapped[str] = mapped_column(String(40))  # complete_task | reply | submit | fire_timers | ...
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    task: Mapped[str | None] = mapped_column(String(36))  # the task being completed (or the timer's case task)
    # the BPMN element of a failed system step (its id and name): the case waits there for a retry
    element: Mapped[str | None] = mapped_column(String(80))
    element_name: Mapped[str | None] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(80))
    error: Mapped[str] = mapped_column(String(200))  # the exception's class
    message: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)  # the traceback, for whoever fixes the model or the code
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(80))
