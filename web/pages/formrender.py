"""Server-side rendering of a JSON Schema form: one field description per property, nested
objects flattened to dotted names (``reporter.email``) so errors map to fields one to one."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import get_locale, gettext

from web.labels import engine_text


@dataclass
class Field:
    name: str  # dotted path, also the HTML name
    label: str
    kind: str  # text | textarea | select | radio | checkbox | checkboxes (several of a list) | date | email | tel | number
    required: bool
    description: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    value: Any = None
    error: str | None = None
    max_length: int | None = None
    min_length: int | None = None
    # shown only while another field has one value (``x-when``: {"decision": "teruskan"}); web/static/conditional.js
    when: tuple[str, str] | None = None


def text(schema: Mapping[str, Any], key: str) -> str:
    """The schema's ``key`` ("title", "description", or an extension such as "x-recordTitle") in the request's
    language: its ``-en`` twin (``x-title-en``, ``x-recordTitle-en``) in English, else the Indonesian text (translated
    by the catalogue when web/labels.py knows it)."""
    english_key = f"{key}-en" if key.startswith("x-") else f"x-{key}-en"
    if str(get_locale()) == "en" and schema.get(english_key):
        return str(schema[english_key])
    return engine_text(str(schema.get(key, "")))


def _names(prop: Mapping[str, Any]) -> list[str]:
    english = str(get_locale()) == "en"
    if english and prop.get("x-enumNames-en"):
        return [str(n) for n in prop["x-enumNames-en"]]
    names = prop.get("x-enumNames")
    return [engine_text(str(n)) for n in names] if names else [str(v) for v in prop["enum"]]


def with_choices(schema: Mapping[str, Any], choices: Mapping[str, Sequence[tuple[str, str]]]) -> dict[str, Any]:
    """The schema with each field (or each item of a list field) marked ``x-enumSource: <source>`` offering the (value,
    name) pairs ``choices`` gives that source, as ``enum`` and ``x-enumNames``: what engine/definitions/forms.py
    ``served`` does for the units, for choices that depend on the case (``answering_units``: the units that answered)."""
    result = copy.deepcopy(dict(schema))
    for prop in result.get("properties", {}).values():
        for target in (prop, prop.get("items") or {}):
            if target.get("x-enumSource") in choices:
                pairs = choices[target["x-enumSource"]]
                target["enum"] = [value for value, _name in pairs]
                target["x-enumNames"] = [name for _value, name in pairs]
    return result


def fields(
    schema: Mapping[str, Any], values: Mapping[str, Any] | None = None, errors: Mapping[str, str] | None = None, prefix: str = ""
) -> list[Field]:
    values, errors = values or {}, errors or {}
    required = set(schema.get("required", []))
    result: list[Field] = []
    for name, prop in schema.get("properties", {}).items():
        path = prefix + name
        if prop.get("x-hidden"):  # accepted from API clients (a shorthand), not offered on the page
            continue
        if prop.get("type") == "object":
            result.extend(
                fields(prop, values.get(name) or {}, {k[len(name) + 1 :]: v for k, v in errors.items() if k.startswith(name + ".")}, path + ".")
            )
            continue
        if prop.get("type") == "boolean":
            kind = "radio" if name in required else "checkbox"
            options = [("true", gettext("Ya")), ("false", gettext("Tidak"))] if kind == "radio" else []
        elif prop.get("type") == "array" and "enum" in (prop.get("items") or {}):
            kind, options = "checkboxes", list(zip([str(v) for v in prop["items"]["enum"]], _names(prop["items"]), strict=True))
        elif "enum" in prop:
            kind = "radio" if prop.get("x-widget") == "radio" else "select"
            options = list(zip([str(v) for v in prop["enum"]], _names(prop), strict=True))
        elif prop.get("format") == "date":
            kind, options = "date", []
        elif prop.get("format") == "email":
            kind, options = "email", []
        elif name == "phone":
            kind, options = "tel", []
        elif prop.get("type") in ("number", "integer"):
            kind, options = "number", []
        else:
            kind, options = ("textarea" if prop.get("x-widget") == "textarea" else "text"), []
        result.append(
            Field(
                name=path,
                label=text(prop, "title") or name,
                kind=kind,
                required=name in required,
                description=text(prop, "description"),
                options=options,
                value=values.get(name, prop.get("default")),
                error=errors.get(name),
                max_length=prop.get("maxLength"),
                min_length=prop.get("minLength"),
                when=_when(prop, prefix),
            )
        )
    return result


def _when(prop: Mapping[str, Any], prefix: str = "") -> tuple[str, str] | None:
    """The (field, value) a field belongs to (``x-when``), or None for a field of every choice."""
    condition = prop.get("x-when")
    if not isinstance(condition, Mapping) or len(condition) != 1:
        return None
    [(field, value)] = condition.items()
    return prefix + str(field), str(value)


def parse(schema: Mapping[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    """Turn submitted HTML form fields back into JSON data shaped by the schema (empty fields left out, and those of
    another choice than the one made: a unit still ticked when the decision is to ask the reporter is not sent)."""
    data: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        if (when := _when(prop)) is not None and (form.get(when[0]) or _default(schema, when[0])) != when[1]:
            continue
        if prop.get("type") == "object":
            nested = parse(prop, {k[len(name) + 1 :]: v for k, v in form.items() if k.startswith(name + ".")})
            if nested or name in schema.get("required", []):
                data[name] = nested
        elif prop.get("type") == "array":
            chosen = [value.strip() for value in _all(form, name) if value.strip()]
            kind = (prop.get("items") or {}).get("type")
            if chosen:
                data[name] = [_number(value, kind) for value in chosen] if kind in ("number", "integer") else chosen
        elif prop.get("type") == "boolean":
            raw = form.get(name)
            if raw in ("true", "on", "1"):
                data[name] = True
            elif raw == "false" or (raw is None and name not in schema.get("required", [])):
                data[name] = False
        else:
            raw = (form.get(name) or "").strip()
            if raw:
                data[name] = _number(raw, prop["type"]) if prop.get("type") in ("number", "integer") else raw
    return data


def _default(schema: Mapping[str, Any], name: str) -> str:
    return str(schema.get("properties", {}).get(name, {}).get("default", ""))


def _all(form: Mapping[str, str], name: str) -> list[str]:
    """Every value sent for ``name`` (a MultiDict from a page: several ticked boxes), or the one a plain mapping holds."""
    getlist = getattr(form, "getlist", None)
    if getlist is not None:
        return list(getlist(name))
    value = form.get(name)
    return [value] if value else []


def _number(raw: str, kind: str) -> int | float | str:
    """A number field's text as the number it says (a decimal comma, as Indonesian writes it, read as a point); text
    that is no number stays text, for the schema to name the field ("harus berupa angka") as for any wrong value."""
    try:
        number = float(raw.replace(",", "."))
    except ValueError:
        return raw
    if not math.isfinite(number):  # "nan", "inf": no coordinate, no count
        return raw
    if kind == "integer":
        return int(number) if number.is_integer() else raw
    return number
