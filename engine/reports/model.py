"""What reports need from one definition version, read from its parsed model (never from a running workflow).

* A user task's **deadlines** are its boundary timers: ``jenisBatas`` says which clock (``target``: the SOP's
  standard time; ``plafon``: the national ceiling), the timer's expression how long
  (engine/timekeeping/timers.py ``read_timer_expression``: ``batas_hari_kerja(n)`` working days, ``batas_menit(n)``
  or a quoted ISO duration). ``batas_hari_kerja(<name>)`` of a decision table's output (``batas_tindak_lanjut`` of
  klasifikasi.dmn) takes that table's value for the case's classification. An expression that says no fixed length
  leaves the due instant to the timer itself.
* The **nodes** that audit events do not name are found here for the heatmap: the start event, the script tasks
  that record the complaint and publish the answer, and those that escalate a missed deadline
  (``eskalasi("<stage>", "<clock>")``), read from each script's syntax.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engine.contract import DEADLINE_PROPERTY, TARGET
from engine.definitions.parsing import Parsed, attached_task
from engine.timekeeping.calendar import WorkingCalendar
from engine.timekeeping.timers import WorkingDays, read_timer_expression

SYSTEM_STEPS = {"complaint_recorded": "rekam_pengaduan", "answer_published": "terbitkan_jawaban"}  # event -> helper the script calls
_EVENT_OF_HELPER = {helper: event for event, helper in SYSTEM_STEPS.items()}


@dataclass(frozen=True)
class Deadline:
    """One boundary timer of a user task, read from the model."""

    clock: str  # target | plafon
    timer: str  # the timer's BPMN id
    working_days: int | None = None  # batas_hari_kerja(n)
    delta: timedelta | None = None  # batas_menit(n) or an ISO duration
    # batas_hari_kerja(<a decision's output>): the working days by classification (klasifikasi.dmn), the first the default
    by_classification: tuple[tuple[str, int], ...] = ()

    def days_for(self, classification: str | None) -> int | None:
        if self.working_days is not None or not self.by_classification:
            return self.working_days
        return dict(self.by_classification).get(classification or "", self.by_classification[0][1])

    @property
    def all_working_days(self) -> list[int]:
        """Every length this deadline can have (one, or one per classification)."""
        return [self.working_days] if self.working_days is not None else sorted({days for _c, days in self.by_classification})

    def due(self, start: datetime, calendar: WorkingCalendar, classification: str | None = None) -> datetime | None:
        days = self.days_for(classification)
        if days is not None:
            return calendar.add_working_days(start, days)
        return start + self.delta if self.delta is not None else None


def _deadline(timer: Any, decided: dict[str, tuple[tuple[str, int], ...]]) -> Deadline:
    clock = timer.extensions.get("properties", {}).get(DEADLINE_PROPERTY, TARGET)
    expression = timer.event_definition.expression or ""
    length = read_timer_expression(expression)
    if isinstance(length, WorkingDays):
        return Deadline(clock, timer.bpmn_id, working_days=length.count)
    argument = _single_name_argument(expression)
    if argument in decided:
        return Deadline(clock, timer.bpmn_id, by_classification=decided[argument])
    return Deadline(clock, timer.bpmn_id, delta=length)


def _single_name_argument(expression: str) -> str | None:
    """``x`` of ``batas_hari_kerja(x)``, or None."""
    try:
        body = ast.parse(expression.strip(), mode="eval").body
    except (SyntaxError, ValueError):
        return None
    if isinstance(body, ast.Call) and len(body.args) == 1 and isinstance(body.args[0], ast.Name):
        return body.args[0].id
    return None


def _decided_numbers(model: Parsed) -> dict[str, tuple[tuple[str, int], ...]]:
    """Each whole-number output of the model's decision tables with one string input: output name -> ((input value,
    number), ...) in the table's order (the first rule is the default)."""
    found: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for spec in model.all_specs():
        table = getattr(getattr(spec, "dmnEngine", None), "decision_table", None)
        for rule in getattr(table, "rules", []):
            if len(rule.inputEntries) != 1 or len(rule.inputEntries[0].lhs) != 1:
                continue
            key = rule.inputEntries[0].lhs[0].strip().strip('"')
            for entry in rule.outputEntries:
                if (entry.text or "").strip().isdigit():
                    found[entry.output.name].append((key, int(entry.text)))
    return {name: tuple(pairs) for name, pairs in found.items()}


def _calls(script: str) -> Iterator[tuple[str, list[str | None]]]:
    """(function name, each argument's text or None when it is not a string constant) of each call in a script."""
    try:
        tree = ast.parse(script)
    except (SyntaxError, ValueError):
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            yield node.func.id, [arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None for arg in node.args]


@dataclass(frozen=True)
class ModelFacts:
    """What reports need from one definition version."""

    deadlines: dict[str, dict[str, Deadline]]  # user task id -> clock -> deadline
    stage_of: dict[str, str]  # user task id -> stage (its form: disposisi, terima, ...)
    names: dict[str, str]  # node id -> name
    # the nodes of the events that name none (engine/reports/heatmap.py counts them)
    start_node: str | None
    system_nodes: dict[str, str]  # audit event type (complaint_recorded, answer_published) -> script task id
    escalation_nodes: dict[tuple[str, str], str]  # (stage, clock) -> script task id


_model_cache: dict[str, ModelFacts] = {}


def model_facts(model: Parsed) -> ModelFacts:
    """Deadlines, stages and special nodes of a parsed definition (cached per content hash)."""
    hit = _model_cache.get(model.content_hash)
    if hit is not None:
        return hit
    deadlines: dict[str, dict[str, Deadline]] = defaultdict(dict)
    decided = _decided_numbers(model)
    for timer in model.timers:
        task = attached_task(timer)
        if task is not None:
            deadline = _deadline(timer, decided)
            deadlines[task][deadline.clock] = deadline
    stage_of = {t.bpmn_id: form for t in model.user_tasks if (form := model.form_of(t))}
    names: dict[str, str] = {}
    start_node = None
    system_nodes: dict[str, str] = {}
    escalation_nodes: dict[tuple[str, str], str] = {}
    for spec in model.all_specs():
        node = getattr(spec, "bpmn_id", None)
        if node is None:
            continue
        names[node] = getattr(spec, "bpmn_name", None) or node
        if type(spec).__name__ == "StartEvent" and start_node is None:
            start_node = node
        for helper, arguments in _calls(getattr(spec, "script", None) or ""):
            if helper in _EVENT_OF_HELPER:
                system_nodes.setdefault(_EVENT_OF_HELPER[helper], node)
            if helper == "eskalasi" and len(arguments) >= 2 and (stage := arguments[0]) and (clock := arguments[1]):
                escalation_nodes.setdefault((stage, clock), node)
    facts = ModelFacts(dict(deadlines), stage_of, names, start_node, system_nodes, escalation_nodes)
    _model_cache[model.content_hash] = facts
    return facts
