"""Server-side rendering of a JSON Schema form: one field description per property, nested
objects flattened to dotted names (``reporter.email``) so errors map to fields one to one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import get_locale, gettext

from web.labels import engine_text


@dataclass
class Field:
    name: str  # dotted path, also the HTML name
    label: str
    kind: str  # text | textarea | select | radio | checkbox | date | email | tel
    required: bool
    description: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    value: Any = None
    error: str | None = None
    max_length: int | None = None
    min_length: int | None = None


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


def fields(
    schema: Mapping[str, Any], values: Mapping[str, Any] | None = None, errors: Mapping[str, str] | None = None, prefix: str = ""
) -> list[Field]:
    values, errors = values or {}, errors or {}
    required = set(schema.get("required", []))
    result: list[Field] = []
    for name, prop in schema.get("properties", {}).items():
        path = prefix + name
        if prop.get("type") == "object":
            result.extend(
                fields(prop, values.get(name) or {}, {k[len(name) + 1 :]: v for k, v in errors.items() if k.startswith(name + ".")}, path + ".")
            )
            continue
        if prop.get("type") == "boolean":
            kind = "radio" if name in required else "checkbox"
            options = [("true", gettext("Ya")), ("false", gettext("Tidak"))] if kind == "radio" else []
        elif "enum" in prop:
            kind, options = "select", list(zip([str(v) for v in prop["enum"]], _names(prop), strict=True))
        elif prop.get("format") == "date":
            kind, options = "date", []
        elif prop.get("format") == "email":
            kind, options = "email", []
        elif name == "phone":
            kind, options = "tel", []
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
            )
        )
    return result


def parse(schema: Mapping[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    """Turn submitted HTML form fields back into JSON data shaped by the schema (empty fields left out)."""
    data: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        if prop.get("type") == "object":
            nested = parse(prop, {k[len(name) + 1 :]: v for k, v in form.items() if k.startswith(name + ".")})
            if nested or name in schema.get("required", []):
                data[name] = nested
        elif prop.get("type") == "boolean":
            raw = form.get(name)
            if raw in ("true", "on", "1"):
                data[name] = True
            elif raw == "false" or (raw is None and name not in schema.get("required", [])):
                data[name] = False
        else:
            raw = (form.get(name) or "").strip()
            if raw:
                data[name] = raw
    return data
