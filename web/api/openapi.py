"""The OpenAPI 3.1 document of the JSON API (served at GET /api/v1/openapi.json).

Self-contained: every ``$ref`` points inside it; the form schemas (forms/*.schema.json of the
project's process) are inlined under ``components/schemas`` as ``<Name>Form``. Tests keep it in
step with the routes (every /api/v1 rule and method documented, and nothing more).
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from engine.contract import ARCHIVE_REASONS, CHANNELS, CLASSIFICATIONS, STATUSES
from engine.definitions import forms
from engine.definitions.bundle import project_bundle
from web.api.docs import ASSETS as DOCS_ASSETS

STAFF_FORMS = ("disposisi", "terima", "tanggapan", "teruskan", "perpanjangan")
JSON = "application/json"
MULTIPART = "multipart/form-data"


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def form_schema_name(form: str) -> str:
    return form.capitalize() + "Form"


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _obj(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"type": "object", "required": list(properties) if required is None else required, "properties": properties, **extra}


STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
DATETIME = {"type": "string", "format": "date-time"}
NULLABLE_DATETIME = {"type": ["string", "null"], "format": "date-time"}
BOOLEAN = {"type": "boolean"}
INTEGER = {"type": "integer"}


# where a case came from and why it was archived: the citizen's and the staff's view of a case alike
CASE_ORIGIN: dict[str, Any] = {
    "channel": {"type": "string", "enum": list(CHANNELS), "description": "Where the complaint came in."},
    "latitude": {"type": ["number", "null"], "minimum": -90, "maximum": 90, "description": "WGS84; null without a location."},
    "longitude": {"type": ["number", "null"], "minimum": -180, "maximum": 180, "description": "WGS84; null without a location."},
    "archive_reason": {"enum": [*ARCHIVE_REASONS, None], "description": "Why the case was archived (status `diarsipkan`); null otherwise."},
    "duplicate_of": {
        "anyOf": [ref("TrackingId"), {"type": "null"}],
        "description": "With `archive_reason` `duplikat`: the case this one repeats.",
    },
}


def _schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "Error": _obj(
            {
                "error": {"type": "string", "description": "A message fit to show the user, in the language of `Accept-Language` (`id`, `en`)."},
                "errors": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "description": "Per-field messages keyed by the field's dotted path in the submitted data (`title`, `reporter.email`, `unit`).",
                },
            }
        ),
        "CaseStatus": {"type": "string", "enum": list(STATUSES)},
        "TrackingId": {"type": "string", "pattern": "^LPR-[0-9A-HJKMNP-TV-Z]{8}$", "examples": ["LPR-7K2M9QXD"]},
        "ComplaintCreated": _obj(
            {
                "tracking_id": ref("TrackingId"),
                "access_token": {"type": "string", "description": "The citizen's secret for this case; shown once, never stored in clear."},
                "status": ref("CaseStatus"),
            }
        ),
        "ComplaintUpload": _obj(
            {
                "complaint": {**ref("ComplaintSubmission"), "description": "The complaint: the JSON body's object (`channel` in it)."},
                "attachments": {
                    "type": "array",
                    "maxItems": 3,
                    "items": {"type": "string", "format": "binary"},
                    "description": (
                        "Up to 3 files, 5 MB each: PDF, JPEG or PNG, recognised by their content. Each is stored without its metadata "
                        "(EXIF and GPS, XMP, comments, PDF document info). Too many files or another type: 400; a file over 5 MB: 413."
                    ),
                },
            },
            required=["complaint"],
        ),
        "CaseStatusResult": _obj({"tracking_id": ref("TrackingId"), "status": ref("CaseStatus")}),
        "StepResult": _obj(
            {
                "tracking_id": ref("TrackingId"),
                "status": ref("CaseStatus"),
                "next_tasks": {
                    "type": "array",
                    "items": ref("TaskSummary"),
                    "description": "The case's open tasks the caller holds after the step, as GET /tasks lists them (soonest "
                    "deadline first): the caller's next step without asking the inbox. Never a task of another unit or lane; "
                    "empty when the case moved on to someone else (find it there with GET /tasks?tracking_id=).",
                },
            },
            required=["tracking_id", "status"],
        ),
        "Answer": _obj(
            {
                "text": STRING,
                "at": DATETIME,
                "attachments": {
                    "type": "array",
                    "items": ref("AnswerDocument"),
                    "description": "In the citizen's view: every document published with an answer, in upload order.",
                },
            },
            required=["text", "at"],
        ),
        "AnswerDocument": _obj(
            {
                "name": {"type": "string", "description": "`jawaban-<n>.<pdf|jpg|png>`: its place among the case's answer documents."},
                "url": {
                    "type": "string",
                    "description": "Its download, with the same citizen token (GET /complaints/{tracking_id}/attachments/{attachment_id}).",
                },
            }
        ),
        "TimelineItem": _obj(
            {
                "at": DATETIME,
                "status": ref("CaseStatus"),
                "message": STRING,
                "answer": {
                    "type": ["string", "null"],
                    "description": "On a `dijawab` line the answer published then, on an `interim` line the interim answer. Every answer stays.",
                },
                "interim": {"type": "boolean", "description": "An interim answer: published at once while the unit's follow-up goes on."},
                "question": {
                    "type": ["string", "null"],
                    "description": "On a `menunggu_kelengkapan` line: what Admin Kominfo asked the reporter to add.",
                },
                "reason": {"type": "string", "description": "On a `diarsipkan` line: why the case was archived, in plain words."},
            },
            required=["at", "status", "message"],
        ),
        "ConversationItem": _obj(
            {
                "kind": {
                    "type": "string",
                    "enum": ["complaint", "question", "addition", "answer", "reply"],
                    "description": "`question`: what Admin Kominfo asked the reporter to add; `addition`: what the reporter added.",
                },
                "at": DATETIME,
                "text": NULLABLE_STRING,
                "satisfied": {"type": "boolean", "description": "On a reply: whether the citizen was satisfied with the answer."},
                "rating": {
                    "type": ["integer", "null"],
                    "minimum": 1,
                    "maximum": 5,
                    "description": "On a reply: the citizen's rating of the answer (1–5), null when they gave none.",
                },
                "interim": {"type": "boolean", "description": "On an answer: an interim answer, the final one still to come."},
                "attachments": {"type": "array", "items": ref("AnswerDocument"), "description": "On an answer: the documents published with it."},
            },
            required=["kind", "at", "text"],
        ),
        "CitizenComplaint": _obj(
            {
                "tracking_id": ref("TrackingId"),
                "status": ref("CaseStatus"),
                "title": STRING,
                "category": STRING,
                "body": {"type": "string", "description": "The complaint's text as the citizen wrote it."},
                "location": NULLABLE_STRING,
                "incident_date": NULLABLE_STRING,
                "submitted_at": DATETIME,
                "due_at": {**NULLABLE_DATETIME, "description": "The deadline of the step the case now waits on; null when none."},
                "timeline": {"type": "array", "items": ref("TimelineItem")},
                "conversation": {
                    "type": "array",
                    "items": ref("ConversationItem"),
                    "description": "The complaint, each published answer and each reply of the citizen, in order.",
                },
                "answer": _nullable(ref("Answer")),
                **CASE_ORIGIN,
                "duplicate_of_url": {
                    **NULLABLE_STRING,
                    "description": "With `duplicate_of`: the address of that case's public page (/pengaduan/{tracking_id}) when it has one; "
                    "null otherwise.",
                },
                "question": {
                    **NULLABLE_STRING,
                    "description": "While the case waits for the reporter's additions (`menunggu_kelengkapan`): what Admin Kominfo "
                    "asked; null otherwise. Answer it with POST /complaints/{tracking_id}/additions.",
                },
            }
        ),
        "AdditionUpload": _obj(
            {
                "text": {"type": "string", "minLength": 10, "maxLength": 5000, "description": "What the reporter adds."},
                "attachments": {
                    "type": "array",
                    "maxItems": 3,
                    "items": {"type": "string", "format": "binary"},
                    "description": "Up to 3 files, 5 MB each, under the complaint's rules (PDF, JPEG or PNG, metadata stripped).",
                },
            },
            required=["text"],
        ),
        "AnswerFileUpload": _obj(
            {
                "file": {
                    "type": "string",
                    "format": "binary",
                    "description": "One file of 5 MB at most under the complaint's rules (PDF, JPEG or PNG, metadata stripped).",
                }
            }
        ),
        "AnswerFile": _obj({"id": INTEGER, "name": {"type": "string", "description": "`jawaban-<n>.<pdf|jpg|png>`, as the citizen will see it."}}),
        "ExtensionRequest": _obj(
            {
                "working_days": {"type": "integer", "minimum": 1, "maximum": 60, "description": "How many more working days the unit asks for."},
                "reason": {
                    "type": "string",
                    "minLength": 10,
                    # no maxLength: the limit holds once leading and trailing spaces are stripped, which a schema cannot say
                    "description": "Why: 10 to 2000 characters once leading and trailing spaces are stripped. Admin Kominfo reads it.",
                },
            },
            additionalProperties=False,
        ),
        "ExtensionRequested": _obj(
            {
                "task": {
                    "anyOf": [
                        _obj(
                            {
                                "id": STRING,
                                "name": STRING,
                                "form": {"const": "perpanjangan"},
                                "due_at": {**NULLABLE_DATETIME, "description": "When Admin Kominfo should have decided (SOP target)."},
                            }
                        ),
                        {"type": "null"},
                    ],
                    "description": "Admin Kominfo's new decision task (GET /tasks/{task_id} serves it with its form); null when a "
                    "system step after the request failed: the request is kept and the case waits for its retry.",
                }
            }
        ),
        "Withdrawal": {"type": "object", "properties": {"reason": {"type": "string", "maxLength": 2000}}},
        "TokenRequest": _obj({"username": {"type": "string", "minLength": 1}, "password": {"type": "string", "minLength": 1}}),
        "Token": _obj(
            {
                "token": STRING,
                "token_type": {"const": "Bearer"},
                "expires_at": DATETIME,
                "user": _obj({"username": STRING, "role": STRING, "unit": NULLABLE_STRING}),
            }
        ),
        "TaskSummary": _obj(
            {
                "id": {"type": "string", "description": "This task instance; a loop creates a new task with a new id."},
                "name": STRING,
                "form": {"type": "string", "description": "The form to fill in, by name (forms/<form>.schema.json)."},
                "lane": STRING,
                "unit": NULLABLE_STRING,
                "tracking_id": ref("TrackingId"),
                "title": STRING,
                "category": STRING,
                "case_status": ref("CaseStatus"),
                "created_at": DATETIME,
                "due_at": {**NULLABLE_DATETIME, "description": "The SOP target."},
                "overdue": {"type": "boolean", "description": "The deadline timer fired or due_at has passed."},
            }
        ),
        "TaskList": _obj(
            {
                "tasks": {"type": "array", "items": ref("TaskSummary")},
                "total": INTEGER,
                "page": INTEGER,
                "pages": INTEGER,
            }
        ),
        "StaffCase": _obj(
            {
                "tracking_id": ref("TrackingId"),
                "status": ref("CaseStatus"),
                "title": STRING,
                "category": STRING,
                "body": {
                    **NULLABLE_STRING,
                    "description": "The complaint's text: the reporter's own, or the one staff redacted when `body_redacted` is true.",
                },
                "body_redacted": {"type": "boolean", "description": "`body` is the redacted text (the reader does not read the original)."},
                "redacted_body": {
                    **NULLABLE_STRING,
                    "description": "For Admin Pusat, Admin Kominfo and the auditor: the text the units read instead of the reporter's "
                    "own (null when there is none, and for other readers).",
                },
                "classification": {"enum": [*CLASSIFICATIONS, None], "description": "Set at step 3 (verification); null before."},
                "location": NULLABLE_STRING,
                "incident_date": NULLABLE_STRING,
                **CASE_ORIGIN,
                "anonymous": BOOLEAN,
                "confidential": BOOLEAN,
                "reporter": {"type": ["object", "null"], "description": "null for an anonymous complaint."},
                "submitted_at": DATETIME,
                "unit": NULLABLE_STRING,
                "unit_name": NULLABLE_STRING,
                "late": BOOLEAN,
                "answer": _nullable(ref("Answer")),
                "history": {"type": "array", "items": _obj({"at": DATETIME, "type": STRING, "actor": STRING, "data": {"type": "object"}})},
                "context": _obj(
                    {
                        "answer": {"type": ["object", "null"], "description": "The unit's latest answer: text, unit, unit_name, at."},
                        "came_back": {
                            "type": ["object", "null"],
                            "description": "Why the last completed task sent the case back (reason bukan_wewenang, tidak_puas or "
                            "dikembalikan), when, by whom (actor, unit, unit_name) and their note or message (text).",
                        },
                        "declined_units": {"type": "array", "items": STRING, "description": "Units that said the case is not theirs."},
                        "interim": {
                            "type": "array",
                            "items": {"type": "object"},
                            "description": "Interim answers already published to the reporter while the unit's task stays open (after "
                            "the unit's latest answer), oldest first: text, unit, unit_name, at, attachments (document ids).",
                        },
                    }
                ),
            }
        ),
        "TaskDetail": {
            "allOf": [
                ref("TaskSummary"),
                _obj(
                    {
                        "ceiling_at": {**NULLABLE_DATETIME, "description": "The national ceiling (null where none)."},
                        "claimed_by": NULLABLE_STRING,
                        "schema": {"type": "object", "description": "The served JSON Schema of the task's form (the `unit` enum filled in)."},
                        "case": ref("StaffCase"),
                    }
                ),
            ]
        },
        "TaskCompletion": _obj(
            {
                "data": {
                    "description": "The task's form data; GET /tasks/{task_id} serves its exact schema.",
                    "anyOf": [ref(form_schema_name(f)) for f in STAFF_FORMS],
                }
            }
        ),
        "Notification": _obj(
            {"id": INTEGER, "at": DATETIME, "kind": STRING, "tracking_id": {"type": ["string", "null"]}, "message": STRING, "read": BOOLEAN}
        ),
        "NotificationList": _obj({"notifications": {"type": "array", "items": ref("Notification")}}),
        "NotificationRead": _obj({"id": INTEGER, "read": {"const": True}}),
        "HistoryEvent": _obj(
            {
                "seq": INTEGER,
                "at": DATETIME,
                "type": {"type": "string", "examples": ["case_started", "task_completed", "timer_fired", "status_changed"]},
                "actor": STRING,
                "task": NULLABLE_STRING,
                "data": {"type": "object", "description": "The event's data; for an anonymous case the reporter of case_started is null."},
                "prev_hash": STRING,
                "hash": STRING,
            }
        ),
        "History": _obj(
            {
                "tracking_id": ref("TrackingId"),
                "status": ref("CaseStatus"),
                "events": {"type": "array", "items": ref("HistoryEvent")},
                "verified": {"type": "boolean", "description": "Every event's hash chain verifies."},
            }
        ),
        "Note": _obj(
            {"id": INTEGER, "at": DATETIME, "author": {"type": "string", "description": "The author's username."}, "text": STRING},
            description="An internal note: staff only, never shown to the reporter or the public.",
        ),
        "Notes": _obj({"notes": {"type": "array", "items": ref("Note"), "description": "Oldest first."}}),
        "NoteRequest": _obj(
            {
                "text": {
                    "type": "string",
                    "minLength": 1,
                    # no maxLength: the limit holds once leading and trailing spaces are stripped, which a schema cannot say
                    "description": "1 to 5000 characters once leading and trailing spaces are stripped. `@unit-id` mentions a unit.",
                }
            },
            additionalProperties=False,
        ),
        "SimilarCases": _obj(
            {
                "similar": {
                    "type": "array",
                    "maxItems": 10,
                    "items": _obj(
                        {
                            "tracking_id": ref("TrackingId"),
                            "title": STRING,
                            "status": ref("CaseStatus"),
                            "category": STRING,
                            "score": {"type": "number", "minimum": 0, "maximum": 1},
                            "duplicate_of": {
                                "anyOf": [ref("TrackingId"), {"type": "null"}],
                                "description": "The case the listed one was itself archived as a duplicate of.",
                            },
                        }
                    ),
                }
            }
        ),
        "ReplayTask": _obj(
            {
                "task": {"type": "string", "description": "The BPMN id of the user task."},
                "name": STRING,
                "form": STRING,
                "lane": STRING,
                "role": STRING,
                "unit": NULLABLE_STRING,
                "claimed_by": NULLABLE_STRING,
                "due_at": NULLABLE_DATETIME,
                "ceiling_at": NULLABLE_DATETIME,
                "overdue": BOOLEAN,
            }
        ),
        "ReplayCompletedTask": _obj(
            {
                "seq": INTEGER,
                "at": DATETIME,
                "task": STRING,
                "name": STRING,
                "form": STRING,
                "actor": STRING,
                "role": NULLABLE_STRING,
                "unit": NULLABLE_STRING,
                "data": {"type": "object", "description": "The form data submitted."},
            }
        ),
        "ReplayTimer": _obj(
            {
                "timer": {"type": "string", "description": "The BPMN id of the timer event."},
                "name": NULLABLE_STRING,
                "due": NULLABLE_STRING,
                "seq": INTEGER,
                "at": DATETIME,
            },
            required=["timer", "name", "due"],
        ),
        "ReplayDifference": _obj(
            {
                "step": INTEGER,
                "seq": {"type": ["integer", "null"], "description": "The stored event that differs (null: an extra event or the final state)."},
                "reason": STRING,
                "type": NULLABLE_STRING,
                "path": {"type": "string", "description": "The differing field, e.g. `data.to` or `status`."},
                "recorded": {"description": "The stored side."},
                "replayed": {"description": "The replayed side."},
            }
        ),
        "ReplayState": _obj(
            {
                "tracking_id": ref("TrackingId"),
                "step": {"type": "integer", "minimum": 1},
                "steps": {"type": "integer", "description": "How many steps (commands: an input and what it produced) the case's record holds."},
                "at": {**NULLABLE_DATETIME, "description": "When the step was recorded."},
                "input": {
                    "anyOf": [_obj({"seq": INTEGER, "type": STRING, "actor": STRING}), {"type": "null"}],
                    "description": "The step's input event.",
                },
                "status": {"anyOf": [ref("CaseStatus"), {"type": "null"}]},
                "unit": NULLABLE_STRING,
                "active_tasks": {"type": "array", "items": ref("ReplayTask")},
                "completed_tasks": {"type": "array", "items": ref("ReplayCompletedTask")},
                "timers_waiting": {"type": "array", "items": ref("ReplayTimer")},
                "timers_fired": {"type": "array", "items": ref("ReplayTimer")},
                "data": {"type": "object", "description": "The process data after the step; the reporter null where the reader may not see it."},
                "version": {
                    "type": ["integer", "null"],
                    "description": "The process version the case ran on after the step (a recorded move to another version changes it).",
                },
                "matches": {"type": "boolean", "description": "The replay up to this step produced exactly the stored events."},
                "difference": {"anyOf": [ref("ReplayDifference"), {"type": "null"}]},
            }
        ),
    }
    for name, form in sorted(project_bundle().forms().items()):
        schemas[form_schema_name(name)] = {k: v for k, v in form.items() if k not in ("$schema", "$id")}
    schemas["ComplaintSubmission"] = _submission(schemas[form_schema_name("pengaduan")])
    return schemas


def _submission(form: dict[str, Any]) -> dict[str, Any]:
    """The body of POST /complaints: the complaint form's object plus ``channel``, which is not a form field (the form
    forbids other properties, so it is a copy with one more, not an ``allOf``). The reporter's email is required
    unless a channel other than ``aplikasi`` is named, which only staff may do."""
    submission = forms.reporter_email_optional(form)
    citizens = {"anyOf": [{"not": {"required": ["channel"]}}, {"properties": {"channel": {"const": "aplikasi"}}}]}
    submission.setdefault("allOf", []).append({"if": citizens, "then": {"properties": {"reporter": {"required": ["email"]}}}})
    submission["properties"]["channel"] = {
        "type": "string",
        "enum": list(CHANNELS),
        "description": (
            "Where the complaint came in. Without a staff token: `aplikasi` or left out. With the token of an Admin Kominfo or "
            "Admin Pusat (`kominfo`, `pusat`) recording a complaint received by phone, letter, in person, SMS, social media or "
            "email: required, any value; `reporter.email` is then optional (a reporter without one gets no mail: give them the "
            "tracking id and access token)."
        ),
    }
    submission["description"] = (
        "The complaint (form `pengaduan`) and its `channel`. `latitude` and `longitude` (WGS84 degrees, numbers) come both or "
        "neither; one alone is a 400 naming the missing one."
    )
    return submission


def _error(description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": ref("Error")}}, **extra}


RESPONSES = {
    "BadRequest": _error("The body is not a JSON object, or fields are invalid (`errors` names each)."),
    "Unauthorized": _error(
        "Missing, unknown, expired or revoked staff token.",
        headers={"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer challenge."}},
    ),
    "Forbidden": _error("The caller's role may not do this."),
    "NotFound": _error("No such case or task, or the caller may not see it (a wrong access token included)."),
    "Conflict": _error("Already done, or the case changed meanwhile."),
    "TooLarge": _error("The body, or one of its files, is too large (5 MB a file)."),
    "Error": _error("Any other error (405, 413, 500), in the same shape."),
}


def _ok(schema: str, description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": ref(schema)}}}


def _errors(*names: str) -> dict[str, Any]:
    codes = {"BadRequest": "400", "Unauthorized": "401", "Forbidden": "403", "NotFound": "404", "Conflict": "409", "TooLarge": "413"}
    return {**{codes[n]: {"$ref": f"#/components/responses/{n}"} for n in names}, "default": {"$ref": "#/components/responses/Error"}}


def _body(schema: str, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {JSON: {"schema": ref(schema)}}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


DAY = {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
XML = "application/xml"
PUBLIC: list[dict[str, list[str]]] = []
CITIZEN = [{"citizenToken": []}]
STAFF = [{"staffToken": []}]
TRACKING = {"$ref": "#/components/parameters/TrackingId"}
TASK = {"$ref": "#/components/parameters/TaskId"}
NOTIFICATION = {"$ref": "#/components/parameters/NotificationId"}
ATTACHMENT = {"$ref": "#/components/parameters/AttachmentId"}
FILE_TYPES = ("application/pdf", "image/jpeg", "image/png")


def _event_log(operation: str, summary: str, media: str, schema: dict[str, Any]) -> dict[str, Any]:
    """GET /cases/export.xes and /cases/export.ocel.json: the same log, the same filters, in two formats."""
    disposition = {"schema": STRING, "description": "attachment, named lapor-<from>_<to> and the format's extension."}
    return {
        "get": {
            "operationId": operation,
            "tags": ["audit"],
            "summary": summary,
            "description": (
                "Roles `auditor`, `pusat` and `analis`. The cases submitted from `from` to `to` (days in Asia/Jakarta, both included; "
                "by default this month up to today), only those sent to `unit` when given. A case is a trace (`concept:name` = its "
                "tracking id); each step that ended is an event: the submission, each completed task (with a `start` event when it "
                "was claimed first), each fired timer and the closing, named by its BPMN element, with the role that acted "
                "(`org:resource`: a staff role, `masyarakat` or `sistem`) and the unit (`org:group`). Never the reporter's "
                "identity, the complaint's text, form data or a staff member's username."
            ),
            "security": STAFF,
            "parameters": [
                _query("from", DAY, "First day of submission (YYYY-MM-DD)."),
                _query("to", DAY, "Last day of submission (YYYY-MM-DD), not before `from`."),
                _query("unit", STRING, "A unit's id: only the cases sent to it."),
            ],
            "responses": {
                "200": {"description": "The log.", "headers": {"Content-Disposition": disposition}, "content": {media: {"schema": schema}}},
                **_errors("BadRequest", "Unauthorized", "Forbidden"),
            },
        }
    }


def _paths() -> dict[str, Any]:
    return {
        "/complaints": {
            "post": {
                "operationId": "submit_complaint",
                "tags": ["citizen"],
                "summary": "Submit a complaint (step 1), or record one received by phone, letter, in person (staff)",
                "description": (
                    "Without a token: the citizen's own complaint through the mobile app (channel `aplikasi`). With a staff token of an "
                    "Admin Kominfo or Admin Pusat: a complaint they record for a reporter, `channel` required; another role's token "
                    "answers 403, an unknown, expired or revoked one 401 (never a citizen's submission)."
                ),
                "security": [{}, *STAFF],
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                        "description": (
                            "A key of your own (printable ASCII, e.g. a UUID) making the submission idempotent: sent again with the same "
                            "body (and files) it answers the same 201 and creates nothing; with another body, 422. At most 5 submissions a minute "
                            "and 30 a day per client address (429)."
                        ),
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        JSON: {"schema": ref("ComplaintSubmission")},
                        MULTIPART: {
                            "schema": ref("ComplaintUpload"),
                            "encoding": {"complaint": {"contentType": JSON}},  # the files' types: ComplaintUpload's description
                        },
                    },
                },
                "responses": {
                    "201": {
                        **_ok("ComplaintCreated", "Recorded; keep the access token."),
                        "headers": {
                            "Location": {"schema": {"type": "string"}, "description": "The complaint's URL."},
                            "Idempotent-Replayed": {"schema": {"type": "string"}, "description": "`true` when this answers an earlier request."},
                        },
                    },
                    **_errors("BadRequest", "Unauthorized", "Forbidden"),
                },
            }
        },
        "/complaints/{tracking_id}": {
            "parameters": [TRACKING],
            "get": {
                "operationId": "get_complaint",
                "tags": ["citizen"],
                "summary": "The complaint as its reporter sees it",
                "security": CITIZEN,
                "responses": {"200": _ok("CitizenComplaint"), **_errors("NotFound")},
            },
        },
        "/complaints/{tracking_id}/attachments/{attachment_id}": {
            "parameters": [TRACKING, ATTACHMENT],
            "get": {
                "operationId": "complaint_file",
                "tags": ["citizen"],
                "summary": "Download one of the reporter's files or a document published with an answer",
                "security": CITIZEN,
                "responses": {
                    "200": {"description": "The file, named by its place in the case.", "content": {kind: {"schema": STRING} for kind in FILE_TYPES}},
                    **_errors("NotFound"),
                },
            },
        },
        "/complaints/{tracking_id}/replies": {
            "parameters": [TRACKING],
            "post": {
                "operationId": "reply_to_complaint",
                "tags": ["citizen"],
                "summary": "Reply to the answer (step 7)",
                "security": CITIZEN,
                "description": "Satisfied closes the case (`selesai`); not satisfied, or a `rating` of 2 or less, sends it back to "
                "Admin Kominfo with the citizen's text.",
                "requestBody": _body(form_schema_name("balasan")),
                "responses": {
                    "200": _ok("StepResult", "The case's status, and in `next_tasks` the reporter's own open tasks on it (never staff's)."),
                    **_errors("BadRequest", "NotFound", "Conflict"),
                },
            },
        },
        "/complaints/{tracking_id}/additions": {
            "parameters": [TRACKING],
            "post": {
                "operationId": "add_to_complaint",
                "tags": ["citizen"],
                "summary": "Add to the complaint: what Admin Kominfo asked for, or anything the office should know",
                "security": CITIZEN,
                "description": (
                    "While the case waits for the additions Admin Kominfo asked for (status `menunggu_kelengkapan`, the question in "
                    "GET /complaints/{tracking_id}), it goes back to verification (`diterima`). In any other open status the text is "
                    "added to the case (its conversation) and the staff holding its open tasks are told; the status stays. A closed "
                    "case (`selesai`, `diarsipkan`, `dicabut`) answers 409. Files: send `multipart/form-data` with the text in the "
                    "field `text` and up to 3 files in parts named `attachments` (PDF, JPEG or PNG; another type or too many: 400; "
                    "a file over 5 MB: 413)."
                ),
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": ref(form_schema_name("kelengkapan"))}, MULTIPART: {"schema": ref("AdditionUpload")}},
                },
                "responses": {"200": _ok("CaseStatusResult"), **_errors("BadRequest", "NotFound", "Conflict", "TooLarge")},
            },
        },
        "/complaints/{tracking_id}/withdraw": {
            "parameters": [TRACKING],
            "post": {
                "operationId": "withdraw_complaint",
                "tags": ["citizen"],
                "summary": "Withdraw an open complaint (status `dicabut`)",
                "security": CITIZEN,
                "requestBody": _body("Withdrawal", required=False),
                "responses": {"200": _ok("CaseStatusResult"), **_errors("BadRequest", "NotFound", "Conflict")},
            },
        },
        "/auth/token": {
            "post": {
                "operationId": "create_token",
                "tags": ["staff"],
                "summary": "Exchange a staff username and password for a bearer token (12 h)",
                "security": PUBLIC,
                "requestBody": _body("TokenRequest"),
                "responses": {"200": _ok("Token"), **_errors("BadRequest", "Unauthorized")},
            },
            "delete": {
                "operationId": "revoke_token",
                "tags": ["staff"],
                "summary": "Revoke the token this request carries",
                "security": STAFF,
                "responses": {"204": {"description": "Revoked."}, **_errors("Unauthorized")},
            },
        },
        "/tasks": {
            "get": {
                "operationId": "list_tasks",
                "tags": ["staff"],
                "summary": "The caller's open tasks, soonest deadline first",
                "security": STAFF,
                "parameters": [
                    _query(
                        "tracking_id",
                        {"type": "string", "minLength": 1},
                        "Only the caller's tasks of this case (lower case and spaces accepted); none for an unknown case or one where "
                        "the caller holds no task.",
                    ),
                    _query("status", {"$ref": "#/components/schemas/CaseStatus"}, "Only tasks of cases in this status."),
                    _query("category", {"type": "string"}, "Only tasks of cases in this category."),
                    _query("page", {"type": "integer", "minimum": 1, "default": 1}, "Page number."),
                    _query("per_page", {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}, "Tasks per page."),
                ],
                "responses": {"200": _ok("TaskList"), **_errors("BadRequest", "Unauthorized")},
            }
        },
        "/tasks/{task_id}": {
            "parameters": [TASK],
            "get": {
                "operationId": "get_task",
                "tags": ["staff"],
                "summary": "A task, its served form schema and the case as the caller may see it",
                "security": STAFF,
                "responses": {"200": _ok("TaskDetail"), **_errors("Unauthorized", "NotFound")},
            },
        },
        "/tasks/{task_id}/attachments": {
            "parameters": [TASK],
            "post": {
                "operationId": "add_task_attachment",
                "tags": ["staff"],
                "summary": "Upload a document for the answer (form `tanggapan`)",
                "description": (
                    "By the holder of an open `tanggapan` task, one file a request, at most 3 for the task (a 4th: 400). List the "
                    "returned ids in the form's `attachments` to send them with the answer: once Admin Kominfo publishes it, the "
                    "reporter downloads them, and the public too when the case is not confidential. Another task's form: 409."
                ),
                "security": STAFF,
                "requestBody": {"required": True, "content": {MULTIPART: {"schema": ref("AnswerFileUpload")}}},
                "responses": {
                    "201": _ok("AnswerFile", "Uploaded."),
                    **_errors("BadRequest", "Unauthorized", "Forbidden", "NotFound", "Conflict", "TooLarge"),
                },
            },
        },
        "/tasks/{task_id}/extension": {
            "parameters": [TASK],
            "post": {
                "operationId": "request_extension",
                "tags": ["staff"],
                "summary": "Ask Admin Kominfo for more working days to answer (form `tanggapan`)",
                "description": (
                    "By the holder of an open `tanggapan` task. Admin Kominfo gets a task with the form `perpanjangan` (`decision` "
                    "`setuju` or `tolak`, `working_days` at most those asked, `note`). A grant moves the unit's `due_at` by the days "
                    "granted, never past the classification's maximum (60 working days from receipt for complaints and aspirations, "
                    "17 for information requests); GET /tasks then shows the moved deadline. An answer given before the decision "
                    "makes the request lapse. Another task's form, a task done already or a request still waiting: 409."
                ),
                "security": STAFF,
                "requestBody": _body("ExtensionRequest"),
                "responses": {
                    "201": _ok("ExtensionRequested", "Requested."),
                    **_errors("BadRequest", "Unauthorized", "Forbidden", "NotFound", "Conflict"),
                },
            },
        },
        "/tasks/{task_id}/complete": {
            "parameters": [TASK],
            "post": {
                "operationId": "complete_task",
                "tags": ["staff"],
                "summary": "Complete a task with its form data",
                "security": STAFF,
                "requestBody": _body("TaskCompletion"),
                "responses": {
                    "200": _ok("StepResult", "The case's status, and in `next_tasks` the caller's open tasks on it after the step."),
                    **_errors("BadRequest", "Unauthorized", "Forbidden", "NotFound", "Conflict"),
                },
            },
        },
        "/notifications": {
            "get": {
                "operationId": "list_notifications",
                "tags": ["staff"],
                "summary": "The caller's notifications, newest first",
                "security": STAFF,
                "parameters": [
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}, "At most this many."),
                    _query("unread", {"type": "boolean", "default": False}, "Only unread ones."),
                ],
                "responses": {"200": _ok("NotificationList"), **_errors("BadRequest", "Unauthorized")},
            }
        },
        "/notifications/{notification_id}/read": {
            "parameters": [NOTIFICATION],
            "post": {
                "operationId": "mark_notification_read",
                "tags": ["staff"],
                "summary": "Mark one of the caller's notifications read (idempotent)",
                "description": "404 for a notification that does not exist or belongs to someone else.",
                "security": STAFF,
                "responses": {"200": _ok("NotificationRead"), **_errors("Unauthorized", "NotFound")},
            },
        },
        "/cases/{tracking_id}/history": {
            "parameters": [TRACKING],
            "get": {
                "operationId": "case_history",
                "tags": ["audit"],
                "summary": "Every audit event of a case and whether its hash chain verifies",
                "description": "Roles `auditor` and `pusat` only.",
                "security": STAFF,
                "responses": {"200": _ok("History"), **_errors("Unauthorized", "Forbidden", "NotFound")},
            },
        },
        "/cases/{tracking_id}/replay": {
            "parameters": [TRACKING],
            "get": {
                "operationId": "case_replay",
                "tags": ["audit"],
                "summary": "The case as it stood after step K, rebuilt by re-executing its recorded inputs",
                "description": (
                    "Roles `auditor` and `pusat` only. The case is rebuilt from the start on its definition version, each recorded "
                    "input applied at its recorded instant; `matches` says whether the events produced so far equal the stored ones. "
                    "The reporter's identity is redacted as the caller's role requires."
                ),
                "security": STAFF,
                "parameters": [_query("step", {"type": "integer", "minimum": 1}, "The step (1..steps); the last by default.")],
                "responses": {"200": _ok("ReplayState"), **_errors("BadRequest", "Unauthorized", "Forbidden", "NotFound")},
            },
        },
        "/cases/{tracking_id}/similar": {
            "parameters": [TRACKING],
            "get": {
                "operationId": "case_similar",
                "tags": ["staff"],
                "summary": "Open or recent cases that look like this one (a possible duplicate), best first",
                "description": (
                    "Roles `kominfo` and `pusat` only. At most 10 cases other than this one, open or submitted or closed within the "
                    "last 90 days, scored 0..1 by similar words (the title weighing more than location and body), the same "
                    "category and nearby coordinates. `duplicate_of`: the tracking id a listed case was itself archived as a "
                    "duplicate of (this case's, when it already repeats it), else null."
                ),
                "security": STAFF,
                "responses": {"200": _ok("SimilarCases"), **_errors("Unauthorized", "Forbidden", "NotFound")},
            },
        },
        "/cases/{tracking_id}/notes": {
            "parameters": [TRACKING],
            "get": {
                "operationId": "list_case_notes",
                "tags": ["staff"],
                "summary": "The case's internal notes (staff only), oldest first",
                "description": "Any staff role that may open the case; 404 for a case the caller may not open.",
                "security": STAFF,
                "responses": {"200": _ok("Notes"), **_errors("Unauthorized", "Forbidden", "NotFound")},
            },
            "post": {
                "operationId": "add_case_note",
                "tags": ["staff"],
                "summary": "Add an internal note to a case",
                "description": (
                    "Roles `pusat`, `kominfo`, `satker` and `vertikal` (auditors and analysts read notes only), on a case the "
                    "caller may open (404 otherwise). A mention `@unit-id` of an active unit notifies that unit's staff (inbox and "
                    "mail, without the note's text). The audit records a SHA-256 hash of the text, never the text."
                ),
                "security": STAFF,
                "requestBody": _body("NoteRequest"),
                "responses": {"201": _ok("Note", "Added."), **_errors("BadRequest", "Unauthorized", "Forbidden", "NotFound", "Conflict")},
            },
        },
        "/cases/export.xes": _event_log("export_xes", "The event log of the cases as IEEE 1849 XES, for process-mining tools", XML, STRING),
        "/cases/export.ocel.json": _event_log(
            "export_ocel",
            "The event log of the cases as OCEL 2.0 JSON: each event related to its case, task and unit",
            JSON,
            {"type": "object", "required": ["objectTypes", "eventTypes", "objects", "events"]},
        ),
        "/openapi.json": {
            "get": {
                "operationId": "openapi_document",
                "tags": ["meta"],
                "summary": "This document",
                "security": PUBLIC,
                "responses": {"200": {"description": "The OpenAPI 3.1 document.", "content": {JSON: {"schema": {"type": "object"}}}}},
            }
        },
        "/docs": {
            "get": {
                "operationId": "docs_page",
                "tags": ["meta"],
                "summary": "This document, shown and tried out interactively (Swagger UI)",
                "security": PUBLIC,
                "responses": {"200": {"description": "An HTML page.", "content": {"text/html": {"schema": STRING}}}, **_errors()},
            }
        },
        "/docs/{asset}": {
            "get": {
                "operationId": "docs_asset",
                "tags": ["meta"],
                "summary": "A file of the documentation page (Swagger UI's, served from this origin)",
                "security": PUBLIC,
                "parameters": [{"name": "asset", "in": "path", "required": True, "schema": {"type": "string", "enum": list(DOCS_ASSETS)}}],
                "responses": {
                    "200": {"description": "The file.", "content": {kind: {"schema": STRING} for kind in DOCS_ASSETS.values()}},
                    **_errors("NotFound"),
                },
            }
        },
    }


@functools.cache
def _build() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "SP4N-LAPOR! Jawa Timur API",
            "version": "1.0.0",
            "description": (
                "Complaints for citizens (the mobile-app channel) and tasks for staff. Citizens authenticate on "
                "/complaints/{tracking_id} with `Authorization: Bearer <access_token>` (a wrong or missing token answers 404); "
                "staff with a bearer token from POST /auth/token (401 when missing, expired or revoked). "
                'Errors are `{"error": "...", "errors": {"field": "message"}}`, in the language of `Accept-Language` (`id` by default, `en`). '
                "A complaint may come with photos or documents: send it as `multipart/form-data`, the form's JSON object in the part "
                "`complaint` and up to 3 files in parts named `attachments`. Admin Kominfo and Admin Pusat record complaints received "
                "by phone, letter or in person on the same POST /complaints with their staff token and a `channel`."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "tags": [
            {"name": "citizen", "description": "Masyarakat"},
            {"name": "staff", "description": "Admin Kominfo, Satuan Kerja, Instansi Vertikal, Admin Pusat"},
            {"name": "audit", "description": "Auditor and Admin Pusat"},
            {"name": "meta"},
        ],
        "security": STAFF,
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "responses": RESPONSES,
            "parameters": {
                "TrackingId": {"name": "tracking_id", "in": "path", "required": True, "schema": {"type": "string"}, "example": "LPR-7K2M9QXD"},
                "TaskId": {"name": "task_id", "in": "path", "required": True, "schema": {"type": "string"}},
                "NotificationId": {"name": "notification_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                "AttachmentId": {"name": "attachment_id", "in": "path", "required": True, "schema": {"type": "integer"}},
            },
            "securitySchemes": {
                "staffToken": {"type": "http", "scheme": "bearer", "description": "A staff token from POST /auth/token."},
                "citizenToken": {"type": "http", "scheme": "bearer", "description": "The access token returned when the complaint was submitted."},
            },
        },
    }


def document() -> dict[str, Any]:
    """Return the OpenAPI 3.1 document (a fresh copy each call)."""
    return copy.deepcopy(_build())
