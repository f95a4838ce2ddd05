"""Event logs of the cases for process-mining tools (ProM, Disco, pm4py, Celonis ...), read from the audit trail.

Two formats, both written piece by piece so that a year of cases never sits in memory as one document:

- XES (IEEE 1849-2016): one trace per case (``concept:name`` = its tracking id), one event per step that ended: the
  submission, each completed user task (with a ``start`` event when it was claimed first), each fired timer and the
  closing. ``concept:name`` is the BPMN element's name, ``org:resource`` the role that acted (a staff role,
  ``masyarakat`` for the reporter, ``sistem`` for the engine), ``org:group`` the unit where there is one (for a fired
  timer, the unit whose deadline it was, as the escalation recorded after it says).
- OCEL 2.0 JSON: the same events, each related to its objects: the case, the task it completed and the unit.

Neither ever carries who the reporter is (name, email, phone, address), the complaint's text or any form data, nor a
staff member's username: the role is what the log says about who acted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from io import BytesIO
from itertools import groupby
from typing import Any

from lxml import etree
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from engine.contract import CITIZEN, ROLES, SYSTEM
from engine.db.tables import AuditEvent, Case, Definition
from engine.definitions.versions import parsed_version
from engine.reports.filters import CaseFilter, case_query, period_name

XES_NS = "http://www.xes-standard.org/"
XES_VERSION = "1849-2016"
# the standard extensions the log uses: (name, prefix, URI)
XES_EXTENSIONS = (
    ("Concept", "concept", "http://www.xes-standard.org/concept.xesext"),
    ("Time", "time", "http://www.xes-standard.org/time.xesext"),
    ("Lifecycle", "lifecycle", "http://www.xes-standard.org/lifecycle.xesext"),
    ("Organizational", "org", "http://www.xes-standard.org/org.xesext"),
)
START, COMPLETE = "start", "complete"  # the standard lifecycle model's transitions the log uses
UNKNOWN = "UNKNOWN"  # the globals' defaults: every trace and event carries its own value
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# the closing of a case, named as the model's end events name it (a withdrawal has no end event of its own)
CLOSING_NAMES = {"selesai": "Laporan selesai", "diarsipkan": "Laporan diarsipkan", "dicabut": "Laporan dicabut"}
CLOSING_ELEMENT = "status_changed"  # the element an OCEL/XES reader sees for a closing: the audit event it comes from

# the audit events the log is made of; every other event is what a step did (mail, notes, effects), not a step
READ_TYPES = (
    "case_started",
    "task_claimed",
    "task_unclaimed",
    "task_reassigned",
    "task_completed",
    "timer_fired",
    "deadline_missed",  # not an event of the log: it names the unit whose deadline the timer before it was
    "status_changed",
)

# OCEL object types and the qualifiers relating an event to them
CASE_TYPE, TASK_TYPE, UNIT_TYPE = "case", "task", "unit"
CASE_ATTRIBUTES = (
    ("category", "string"),
    ("channel", "string"),
    ("status", "string"),
    ("classification", "string"),
    ("definition_version", "integer"),
)
TASK_ATTRIBUTES = (("element", "string"), ("name", "string"))
EVENT_ATTRIBUTES = (("resource", "string"), ("lifecycle", "string"), ("element", "string"))


@dataclass(frozen=True)
class LogEvent:
    """One step of a case as the log tells it."""

    activity: str  # the BPMN element's name
    element: str  # the BPMN element's id (CLOSING_ELEMENT for a closing)
    at: datetime
    transition: str  # START or COMPLETE
    resource: str  # the role that acted
    unit: str | None = None  # the unit it acted for
    task: str | None = None  # the user task's id (one instance of the element)


@dataclass
class LogTrace:
    """One case: what identifies it in the log (never its reporter), and its steps in time order."""

    tracking_id: str
    category: str
    channel: str
    status: str
    classification: str | None
    unit: str | None
    late: bool
    definition_version: int
    submitted_at: datetime
    events: list[LogEvent] = field(default_factory=list)


def _rows(session: Session, filters: CaseFilter) -> Iterable[Any]:
    """The audit events the log is made of, of the cases ``filters`` selects, oldest submission first, each case's in order."""
    chosen = case_query(filters).with_only_columns(Case.id)
    query = (
        select(
            Case.id,
            Case.tracking_id,
            Case.category,
            Case.channel,
            Case.status,
            Case.classification,
            Case.unit_id,
            Case.late,
            Case.submitted_at,
            Case.definition_id,
            Definition.number,
            Definition.content_hash,
            AuditEvent.type,
            AuditEvent.at,
            AuditEvent.actor,
            AuditEvent.task,
            AuditEvent.data,
        )
        .join(Definition, Definition.id == Case.definition_id)
        .join(AuditEvent, AuditEvent.case_id == Case.id)
        .where(Case.id.in_(chosen), AuditEvent.type.in_(READ_TYPES))
        .order_by(Case.submitted_at, Case.id, AuditEvent.seq)
        .execution_options(yield_per=1000)  # read in batches: the log is written as it is read
    )
    return session.execute(query)


class _StartEvents:
    """The start event of each definition version (its id and name), parsed once per version the log meets."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.known: dict[int, tuple[str, str]] = {}

    def of(self, definition_id: int, content_hash: str) -> tuple[str, str]:
        if definition_id not in self.known:
            parsed = parsed_version(self.session, definition_id, content_hash)
            start = parsed.spec.start.outputs[0]
            self.known[definition_id] = (start.bpmn_id, start.bpmn_name or start.bpmn_id)
        return self.known[definition_id]


def _trace(rows: list[Any], start_events: _StartEvents) -> LogTrace:
    first = rows[0]
    trace = LogTrace(
        first.tracking_id,
        first.category,
        first.channel,
        first.status,
        first.classification,
        first.unit_id,
        first.late,
        first.number,
        first.submitted_at,
    )
    claimed: dict[str, datetime] = {}  # task id -> when its holder claimed it (a start event once it completes)
    deadlines: dict[str, int] = {}  # a deadline's clock -> the index of the timer event that fired for it last
    for row in rows:
        data = json.loads(row.data)
        if row.type == "case_started":
            element, name = start_events.of(row.definition_id, row.content_hash)
            recorded_by = (data.get("recorded_by") or {}).get("role")  # staff who typed in a complaint received by phone ...
            trace.events.append(LogEvent(name, element, row.at, COMPLETE, recorded_by or CITIZEN.role))
        elif row.type == "task_claimed":
            claimed[row.task] = row.at
        elif row.type in ("task_unclaimed", "task_reassigned"):
            claimed.pop(row.task, None)
        elif row.type == "task_completed":
            name = data.get("name") or data["task"]
            done = LogEvent(name, data["task"], row.at, COMPLETE, data.get("role") or CITIZEN.role, data.get("unit"), row.task)
            if row.task in claimed:
                trace.events.append(LogEvent(name, done.element, claimed.pop(row.task), START, done.resource, done.unit, done.task))
            trace.events.append(done)
        elif row.type == "timer_fired":
            deadlines[data.get("clock") or ""] = len(trace.events)
            trace.events.append(LogEvent(data.get("name") or data["timer"], data["timer"], row.at, COMPLETE, SYSTEM.role))
        elif row.type == "deadline_missed":  # recorded right after its timer: whose deadline it was, a unit or a role
            fired = deadlines.pop(data.get("clock") or "", None)
            if fired is not None and data.get("holder") not in ROLES:
                trace.events[fired] = replace(trace.events[fired], unit=data.get("holder"))
        elif data.get("to") in CLOSING_NAMES:  # status_changed: only the closing is a step of the process
            resource = CITIZEN.role if row.actor == CITIZEN.username else SYSTEM.role
            trace.events.append(LogEvent(CLOSING_NAMES[data["to"]], CLOSING_ELEMENT, row.at, COMPLETE, resource))
    trace.events.sort(key=lambda event: event.at)  # stable: events of one instant keep the order they were recorded in
    return trace


def traces(session: Session, filters: CaseFilter) -> Iterator[LogTrace]:
    """The log's traces: the cases ``filters`` selects (submitted in its period, of its unit), oldest submission first."""
    start_events = _StartEvents(session)
    for _case_id, rows in groupby(_rows(session, filters), key=lambda row: row.id):
        yield _trace(list(rows), start_events)


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds")


# ---- XES ------------------------------------------------------------------------------------


def _empty(xf: Any, tag: str, attributes: dict[str, str]) -> None:
    """An element without content, written in the log's default namespace (a separate element would declare it again)."""
    with xf.element(f"{{{XES_NS}}}{tag}", attributes):
        pass


def _attribute(xf: Any, kind: str, key: str, value: Any) -> None:
    text = _timestamp(value) if kind == "date" else str(value).lower() if kind == "boolean" else str(value)
    _empty(xf, kind, {"key": key, "value": text})


def _xes_header(xf: Any, filters: CaseFilter) -> None:
    for name, prefix, uri in XES_EXTENSIONS:
        _empty(xf, "extension", {"name": name, "prefix": prefix, "uri": uri})
    with xf.element(f"{{{XES_NS}}}global", {"scope": "trace"}):
        _attribute(xf, "string", "concept:name", UNKNOWN)
    with xf.element(f"{{{XES_NS}}}global", {"scope": "event"}):
        _attribute(xf, "string", "concept:name", UNKNOWN)
        _attribute(xf, "date", "time:timestamp", EPOCH)
        _attribute(xf, "string", "lifecycle:transition", COMPLETE)
        _attribute(xf, "string", "org:resource", UNKNOWN)
    for name, keys in (("Activity", "concept:name"), ("Activity_lifecycle", "concept:name lifecycle:transition"), ("Resource", "org:resource")):
        _empty(xf, "classifier", {"name": name, "scope": "event", "keys": keys})
    _attribute(xf, "string", "concept:name", f"SP4N-LAPOR! {period_name(filters)}")
    _attribute(xf, "string", "lifecycle:model", "standard")


def _xes_trace(xf: Any, trace: LogTrace) -> None:
    with xf.element(f"{{{XES_NS}}}trace"):
        _attribute(xf, "string", "concept:name", trace.tracking_id)
        _attribute(xf, "string", "category", trace.category)
        _attribute(xf, "string", "channel", trace.channel)
        _attribute(xf, "string", "status", trace.status)
        if trace.classification:
            _attribute(xf, "string", "classification", trace.classification)
        if trace.unit:
            _attribute(xf, "string", "unit", trace.unit)
        _attribute(xf, "boolean", "late", trace.late)
        _attribute(xf, "int", "definition_version", trace.definition_version)
        _attribute(xf, "date", "submitted", trace.submitted_at)
        for event in trace.events:
            with xf.element(f"{{{XES_NS}}}event"):
                _attribute(xf, "string", "concept:name", event.activity)
                if event.task:
                    _attribute(xf, "string", "concept:instance", event.task)
                _attribute(xf, "string", "element", event.element)
                _attribute(xf, "string", "lifecycle:transition", event.transition)
                _attribute(xf, "date", "time:timestamp", event.at)
                _attribute(xf, "string", "org:resource", event.resource)
                if event.unit:
                    _attribute(xf, "string", "org:group", event.unit)


def xes_chunks(session: Session, filters: CaseFilter) -> Iterator[bytes]:
    """The XES document of the cases ``filters`` selects, in pieces (a case's trace at a time), UTF-8."""
    buffer = BytesIO()

    def taken() -> bytes:
        chunk = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return chunk

    with etree.xmlfile(buffer, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(f"{{{XES_NS}}}log", {"xes.version": XES_VERSION, "xes.features": ""}, nsmap={None: XES_NS}):
            _xes_header(xf, filters)
            for trace in traces(session, filters):
                _xes_trace(xf, trace)
                xf.flush()
                yield taken()
    yield taken()


def streamed(bind: Engine, write: Callable[[Session, CaseFilter], Iterator[bytes]], filters: CaseFilter) -> Iterator[bytes]:
    """The pieces ``write`` (``xes_chunks``, ``ocel_chunks``) makes, read on a session of their own that closes with them:
    a web response sends them after its request, and the request's session, ended."""
    with Session(bind) as session:
        yield from write(session, filters)


# ---- OCEL 2.0 JSON ------------------------------------------------------------------------------


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _event_id(trace: LogTrace, number: int) -> str:
    return f"{trace.tracking_id}-{number}"


def _ocel_events(trace: LogTrace) -> Iterator[dict[str, Any]]:
    for number, event in enumerate(trace.events, start=1):
        relationships = [{"objectId": trace.tracking_id, "qualifier": CASE_TYPE}]
        if event.task:
            relationships.append({"objectId": event.task, "qualifier": TASK_TYPE})
        if event.unit:
            relationships.append({"objectId": event.unit, "qualifier": UNIT_TYPE})
        yield {
            "id": _event_id(trace, number),
            "type": event.activity,
            "time": _timestamp(event.at),
            "attributes": [
                {"name": "resource", "value": event.resource},
                {"name": "lifecycle", "value": event.transition},
                {"name": "element", "value": event.element},
            ],
            "relationships": relationships,
        }


def _ocel_objects(trace: LogTrace, units_seen: set[str]) -> Iterator[dict[str, Any]]:
    """The case, each task it completed, and each unit not met in an earlier case."""
    since = _timestamp(trace.submitted_at)
    values = {
        "category": trace.category,
        "channel": trace.channel,
        "status": trace.status,
        "classification": trace.classification or "",
        "definition_version": trace.definition_version,
    }
    relationships = [{"objectId": unit, "qualifier": UNIT_TYPE} for unit in _units_of(trace)]
    yield {
        "id": trace.tracking_id,
        "type": CASE_TYPE,
        "attributes": [{"name": name, "time": since, "value": values[name]} for name, _kind in CASE_ATTRIBUTES],
        "relationships": relationships,
    }
    tasks = {event.task: event for event in trace.events if event.task and event.transition == COMPLETE}
    for task_id, event in tasks.items():
        task_relationships = [{"objectId": trace.tracking_id, "qualifier": CASE_TYPE}]
        if event.unit:
            task_relationships.append({"objectId": event.unit, "qualifier": UNIT_TYPE})
        at = _timestamp(event.at)
        yield {
            "id": task_id,
            "type": TASK_TYPE,
            "attributes": [{"name": "element", "time": at, "value": event.element}, {"name": "name", "time": at, "value": event.activity}],
            "relationships": task_relationships,
        }
    for unit in _units_of(trace):
        if unit not in units_seen:
            units_seen.add(unit)
            yield {"id": unit, "type": UNIT_TYPE, "attributes": []}


def _units_of(trace: LogTrace) -> list[str]:
    """The units a case's steps were taken for, in the order they first acted."""
    return list(dict.fromkeys(event.unit for event in trace.events if event.unit))


def _joined(groups: Iterable[list[dict[str, Any]]]) -> Iterator[bytes]:
    """The items of a JSON array, one piece per group (a case's objects or events)."""
    separator = ""
    for group in groups:
        if group:
            yield (separator + ",".join(_dump(item) for item in group)).encode()
            separator = ","


def ocel_chunks(session: Session, filters: CaseFilter) -> Iterator[bytes]:
    """The OCEL 2.0 JSON document of the cases ``filters`` selects, in pieces, UTF-8.

    The cases are read twice, once for the objects and once for the events, so that neither list is held whole; the
    event types (the activities met) come last, once every event is written."""
    object_types = [
        {"name": CASE_TYPE, "attributes": [{"name": name, "type": kind} for name, kind in CASE_ATTRIBUTES]},
        {"name": TASK_TYPE, "attributes": [{"name": name, "type": kind} for name, kind in TASK_ATTRIBUTES]},
        {"name": UNIT_TYPE, "attributes": []},
    ]
    yield ('{"objectTypes":' + _dump(object_types) + ',"objects":[').encode()
    units_seen: set[str] = set()
    yield from _joined(list(_ocel_objects(trace, units_seen)) for trace in traces(session, filters))
    yield b'],"events":['
    activities: dict[str, None] = {}  # the event types met, in the order they were

    def events_of(trace: LogTrace) -> list[dict[str, Any]]:
        activities.update(dict.fromkeys(event.activity for event in trace.events))
        return list(_ocel_events(trace))

    yield from _joined(events_of(trace) for trace in traces(session, filters))
    event_types = [{"name": name, "attributes": [{"name": key, "type": kind} for key, kind in EVENT_ATTRIBUTES]} for name in activities]
    yield ('],"eventTypes":' + _dump(event_types) + "}").encode()
