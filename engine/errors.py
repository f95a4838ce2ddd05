"""Errors the engine's verbs raise; the web layer maps each to one HTTP status."""

from __future__ import annotations

from typing import Any

from engine.messages import N_, Message


class EngineError(Exception):
    """Base class. ``message`` is plain Indonesian, safe to show to the user: ``template`` (marked with
    ``N_``) filled with ``values``, which it keeps so the web layer can translate it exactly."""

    def __init__(self, template: str, **values: Any) -> None:
        self.message = Message(template, **values)
        super().__init__(self.message)


class NotFound(EngineError):
    """The case or task does not exist, or the caller may not see it (HTTP 404)."""


class Forbidden(EngineError):
    """The caller's role may not do this (HTTP 403)."""


class Conflict(EngineError):
    """Already done, or changed meanwhile by someone else (HTTP 409)."""


class InvalidData(EngineError):
    """Form data failed validation; ``errors`` maps each dotted field path to a message (HTTP 400)."""

    def __init__(self, errors: dict[str, str], message: str = N_("Data yang dikirim belum benar.")) -> None:
        super().__init__(message)
        self.errors = errors


class DefinitionInvalid(EngineError):
    """A process definition failed validation; ``findings`` lists each problem."""

    def __init__(self, findings: list) -> None:
        super().__init__(N_("Definisi proses tidak valid."))
        self.findings = findings
