"""One presentation of what happened in a case, for every page that shows it (the task and case pages, the printable
case sheet, the auditor's history and replay): a completed step's fields by their form's labels, chosen values by
their names, yes/no as Ya/Tidak, units by their names, all in the reader's language.

The labels and names come from the case's own form schemas (title / x-title-en, x-enumNames / x-enumNames-en)
through formrender, as the form itself showed them to whoever filled it in; a field whose question reads wrong in a
record ("Apakah Anda puas ...?" asked of the reporter) names itself there with ``x-recordTitle`` / ``x-recordTitle-en``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import g
from flask_babel import gettext as _

from engine.cases import lookups
from engine.db.tables import Case
from web.extensions import db, service
from web.pages import formrender

UNIT_SOURCES = ("units", "answering_units")  # choices of unit ids: every unit, or those that answered (the review's return)


def unit_names() -> dict[str, str]:
    """Every unit's name by its id, retired units included (old steps name them), read once per request."""
    if "unit_names" not in g:
        g.unit_names = {unit.id: unit.name for unit in lookups.units(db.session)}
    return g.unit_names


def unit_name(unit_id: str | None) -> str:
    """The ``unit_name`` filter: a unit's name, its id when no unit has it, "—" for none."""
    if not unit_id:
        return "—"
    return unit_names().get(unit_id, unit_id)


def _value(prop: Mapping[str, Any], field: formrender.Field | None, value: Any) -> str:
    if isinstance(value, bool):
        return _("Ya") if value else _("Tidak")
    if prop.get("x-enumSource") in UNIT_SOURCES:
        return unit_name(value)
    if isinstance(value, list):  # several of a list (the units a case went to): each as the list's own choices name it
        item = prop.get("items") or {}
        names = dict(field.options) if field is not None else {}
        return ", ".join(_value(item, None, v) if item.get("x-enumSource") else names.get(str(v), str(v)) for v in value)
    if field is not None and field.options:
        return dict(field.options).get(str(value), str(value))
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Presenter:
    """Presents the steps of one case, with the forms of the process version it runs on."""

    forms: Mapping[str, Mapping[str, Any]]

    def fields(self, form: str | None, data: Mapping[str, Any] | None) -> list[tuple[str, str]]:
        """A completed step's data as (label, value) lines, in the form's order; empty values left out, and an optional
        box left unticked (a flag not set says nothing)."""
        schema = self.forms.get(form or "", {})
        props = schema.get("properties", {})
        rendered = {f.name: f for f in formrender.fields(schema)}
        data = data or {}
        order = [key for key in props if key in data] + [key for key in data if key not in props]
        lines = []
        for key in order:
            value = data[key]
            if value is None or value == "" or (value is False and key not in schema.get("required", [])):
                continue
            field = rendered.get(key)
            prop = props.get(key, {})
            if "x-recordTitle" in prop:
                label = formrender.text(prop, "x-recordTitle")
            else:  # a field the page does not offer (x-hidden: an API shorthand) still has its title
                label = field.label if field else formrender.text(prop, "title") or key
            lines.append((label, _value(prop, field, value)))
        return lines


def presenter_for(case: Case) -> Presenter:
    """The presenter of ``case``'s steps, with the forms of its process version."""
    return Presenter(service().parsed_of(case).forms)
