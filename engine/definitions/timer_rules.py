"""Timers and deadlines in a model: each timer's expression gives a valid duration, date or cycle, and each deadline
timer (jenisBatas) sits on the edge of a user task; every task with an SOP deadline has one.
"""

from __future__ import annotations

import ast
from datetime import datetime
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.contract import CLOCKS, DEADLINE_FORMS, DEADLINE_PROPERTY, FORM_PROPERTY, TARGET
from engine.definitions.bpmn_xml import NS, local_name, spiff_properties
from engine.definitions.findings import (
    MSG_DEADLINE_KIND,
    MSG_DEADLINE_MISSING,
    MSG_DEADLINE_PLACE,
    MSG_TIMER_EMPTY,
    MSG_TIMER_FORM,
    MSG_TIMER_OFFSET,
    MSG_TIMER_VALUE,
    Finding,
    finding_at,
)
from engine.runtime.scripting import HELPERS

TIMER_HELPERS = ("batas_hari_kerja", "batas_menit")


def timer_findings(name: str, root: Any) -> list[Finding]:
    """Timer expressions that give no valid instant, and deadline timers misplaced, of an unknown kind, or missing."""
    findings: list[Finding] = []
    by_id = {el.get("id"): el for el in root.iter(etree.Element) if el.get("id")}
    timers = [d.getparent() for d in root.iterfind(".//bpmn:timerEventDefinition", NS)]
    for event in timers:
        findings.extend(_expression_findings(name, event))
        kind = spiff_properties(event).get(DEADLINE_PROPERTY)
        if kind is not None:
            if kind not in CLOCKS:
                findings.append(finding_at(name, event, MSG_DEADLINE_KIND, "deadline", value=kind or '""'))
            attached = by_id.get(event.get("attachedToRef") or "")
            if local_name(event) != "boundaryEvent" or attached is None or local_name(attached) != "userTask":
                findings.append(finding_at(name, event, MSG_DEADLINE_PLACE, "deadline"))
    with_target = {
        e.get("attachedToRef") for e in timers if local_name(e) == "boundaryEvent" and spiff_properties(e).get(DEADLINE_PROPERTY, TARGET) == TARGET
    }
    for task in root.iterfind(".//bpmn:userTask", NS):
        form_file = spiff_properties(task).get(FORM_PROPERTY) or ""
        form = form_file[: -len(".schema.json")]
        if form in DEADLINE_FORMS and task.get("id") not in with_target:
            findings.append(finding_at(name, task, MSG_DEADLINE_MISSING, "deadline", task=task.get("name") or task.get("id"), form=form))
    return findings


def _expression_findings(name: str, event: Any) -> list[Finding]:
    """The timer's expression: a quoted ISO duration, date or cycle, or a call of a timer helper with numbers."""
    definition = event.find("bpmn:timerEventDefinition", NS)
    holder = next((c for c in definition if isinstance(c.tag, str) and local_name(c) in ("timeDate", "timeDuration", "timeCycle")), None)
    text = (holder.text or "").strip() if holder is not None else ""
    if not text:
        return [finding_at(name, definition, MSG_TIMER_EMPTY, "timer", element=event.get("id"))]
    at = holder if holder is not None else definition
    try:
        body = ast.parse(text, mode="eval").body
    except SyntaxError:
        body = None
    value: Any
    if isinstance(body, ast.Constant) and isinstance(body.value, str):
        value = body.value
    elif (
        isinstance(body, ast.Call)
        and isinstance(body.func, ast.Name)
        and body.func.id in TIMER_HELPERS
        and not body.keywords
        and len(body.args) == 1
        and isinstance(body.args[0], ast.Name)
    ):
        return []  # a helper of a number the case's data holds (a DMN output such as batas_tindak_lanjut): the name check reads it
    elif (
        isinstance(body, ast.Call)
        and isinstance(body.func, ast.Name)
        and body.func.id in TIMER_HELPERS
        and not body.keywords
        and all(isinstance(a, ast.Constant) and isinstance(a.value, int | float) and not isinstance(a.value, bool) for a in body.args)
    ):
        try:
            value = HELPERS[body.func.id](*(a.value for a in body.args))  # type: ignore[attr-defined]
        except Exception as err:  # noqa: BLE001 - e.g. a wrong number of arguments
            return [finding_at(name, at, MSG_TIMER_VALUE, "timer", element=event.get("id"), expression=text, detail=str(err) or type(err).__name__)]
    else:
        return [finding_at(name, at, MSG_TIMER_FORM, "timer", element=event.get("id"), expression=text)]
    try:
        if local_name(holder) == "timeCycle":
            TimerEventDefinition.parse_iso_recurring_times(value)
        else:
            TimerEventDefinition.parse_time_or_duration(value)
            is_instant = local_name(holder) == "timeDate" and not value.upper().startswith("P") and "W" not in value.upper()
            if is_instant and datetime.fromisoformat(value).tzinfo is None:
                return [finding_at(name, at, MSG_TIMER_OFFSET, "timer", element=event.get("id"), expression=text)]
    except Exception as err:  # noqa: BLE001 - SpiffWorkflow raises ValueError, TypeError, its own exceptions
        return [finding_at(name, at, MSG_TIMER_VALUE, "timer", element=event.get("id"), expression=text, detail=str(err) or type(err).__name__)]
    return []
