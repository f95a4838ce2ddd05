"""Errors the engine's verbs raise; the web layer maps each to one HTTP status."""

from __future__ import annotations


class EngineError(Exception):
    """Base class. ``message`` is plain Indonesian, safe to show to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(EngineError):
    """The case or task does not exist, or the caller may not see it (HTTP 404)."""


class Forbidden(EngineError):
    """The caller's role may not do this (HTTP 403)."""


class Conflict(EngineError):
    """Already done, or changed meanwhile by someone else (HTTP 409)."""


class InvalidData(EngineError):
    """Form data failed validation; ``errors`` maps each dotted field path to a message (HTTP 400)."""

    def __init__(self, errors: dict[str, str], message: str = "Data yang dikirim belum benar.") -> None:
        super().__init__(message)
        self.errors = errors


class DefinitionInvalid(EngineError):
    """A process definition failed validation; ``findings`` lists each problem."""

    def __init__(self, findings: list) -> None:
        super().__init__("Definisi proses tidak valid.")
        self.findings = findings
