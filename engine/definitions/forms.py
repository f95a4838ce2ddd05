"""JSON Schema forms: load, serve (with live enums), validate into per-field messages."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from datetime import date
from typing import Any

from email_validator import EmailNotValidError, validate_email
from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators

from engine.errors import InvalidData
from engine.messages import N_, Message

_today: ContextVar[date] = ContextVar("lapor_form_today")
# C0 control characters other than tab and line breaks: never in a complaint, a form or a note; PostgreSQL refuses U+0000
# in text, and the PDF and XML exports cannot carry them. Lone surrogates (U+D800-U+DFFF, from a JSON "\\ud800" escape)
# cannot be stored as UTF-8 at all. The web refuses them in every request (web/security.py), the notes in their text.
UNSAFE_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _not_future(validator: Any, enabled: bool, instance: Any, schema: Mapping[str, Any]) -> Iterable[ValidationError]:
    if not enabled or not isinstance(instance, str):
        return
    try:
        day = date.fromisoformat(instance)
    except ValueError:
        return  # the "format": "date" check reports it
    if day > _today.get():
        yield ValidationError("tanggal di masa depan", validator="x-notFuture")


_Validator = validators.extend(Draft202012Validator, {"x-notFuture": _not_future})
_FORMATS = FormatChecker(["date"])


def valid_email(text: str) -> bool:
    """The one email rule of every form (the page's, the API's, Admin Pusat's account form): an address mail can go to
    by its syntax (email-validator: no reserved names such as ``.test``; jsonschema's own check wants only an "@").
    No DNS lookup: validating a form never waits on the network."""
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


@_FORMATS.checks("email")
def _email(instance: object) -> bool:
    """``format: email``: ``valid_email``; True for a value that is not a string (``type`` says so)."""
    return not isinstance(instance, str) or valid_email(instance)


def _path(error: ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    if error.validator in ("required", "dependentRequired"):  # the field that is missing, named first in the message
        missing = error.message.split("'")[1]
        parts.append(missing)
    return ".".join(parts) or "_"


def _message(error: ValidationError) -> str:
    v, arg = error.validator, error.validator_value
    if v == "required":
        return N_("Wajib diisi.")
    if v == "dependentRequired":
        return Message(N_("Wajib diisi bersama %(fields)s."), fields=", ".join(sorted(arg)))
    if v == "minLength":
        return Message(N_("Minimal %(count)s karakter."), count=arg)
    if v == "maxLength":
        return Message(N_("Maksimal %(count)s karakter."), count=arg)
    if v == "enum":
        return Message(N_("Pilih salah satu: %(choices)s."), choices=", ".join(str(a) for a in arg))
    if v == "format" and arg == "email" or (v == "pattern" and "@" in str(arg)):
        return N_("Alamat email tidak valid.")
    if v == "format" and arg == "date":
        return N_("Tanggal tidak valid (format TTTT-BB-HH).")
    if v == "x-notFuture":
        return N_("Tanggal tidak boleh di masa depan.")
    if v == "pattern":
        return N_("Formatnya tidak sesuai.")
    if v == "type":
        return {"string": N_("Harus berupa teks."), "boolean": N_("Harus ya atau tidak."), "object": N_("Harus berupa objek.")}.get(
            str(arg), N_("Jenis isian tidak sesuai.")
        )
    if v == "additionalProperties":
        unknown = ", ".join(sorted(set(error.instance) - set(error.schema.get("properties", {}))))
        return Message(N_("Isian tidak dikenal: %(fields)s."), fields=unknown)
    if v == "const":
        return Message(N_("Harus %(value)s."), value=arg)
    return N_("Isian tidak valid.")


def field_errors(schema: Mapping[str, Any], data: Any, today: date) -> dict[str, str]:
    """Return {dotted field path: message} for every problem in ``data``; empty when valid."""
    validator = _Validator(schema, format_checker=_FORMATS)
    token = _today.set(today)
    try:
        found = sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path), e.validator != "required"))
    finally:
        _today.reset(token)
    errors: dict[str, str] = {}
    for error in found:
        errors.setdefault(_path(error), _message(error))
    return errors


def validate(schema: Mapping[str, Any], data: Any, today: date) -> None:
    """Raise InvalidData naming each bad field; return None when ``data`` fits ``schema``."""
    if not isinstance(data, dict):
        raise InvalidData({"_": N_("Data formulir harus berupa objek JSON.")})
    errors = field_errors(schema, data, today)
    if errors:
        raise InvalidData(errors)


def _unit_fields(schema: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The fields marked ``x-enumSource: units``: a single unit, or the items of a list of units."""
    for prop in schema.get("properties", {}).values():
        for field in (prop, prop.get("items") or {}):
            if field.get("x-enumSource") == "units":
                yield field


def lists_units(schema: Mapping[str, Any]) -> bool:
    """Whether a field of the form lists the units: its schema as served then differs."""
    return next(_unit_fields(schema), None) is not None


def served(schema: Mapping[str, Any], units: Mapping[str, tuple[str, str]]) -> dict[str, Any]:
    """Return the schema as served to a client: fields marked ``x-enumSource: units`` list the units."""
    result = copy.deepcopy(dict(schema))
    for field in _unit_fields(result):
        field["enum"] = list(units)
        field["x-enumNames"] = [name for name, _kind in units.values()]
    return result


def reporter_email_optional(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The complaint form as staff fill it in for a reporter who came by phone, letter or in person: the reporter's
    email is then optional (a reporter without one gets no mail; the office keeps the tracking id for them)."""
    result = copy.deepcopy(dict(schema))
    reporter = result.get("properties", {}).get("reporter", {})
    reporter["required"] = [name for name in reporter.get("required", []) if name != "email"]
    return result
