"""Parsed definitions of stored versions, validated and parsed at most once per content hash for the life of the process.

Parsing costs milliseconds, so a request never reparses: every case on a version shares its ``Parsed``.
"""

from __future__ import annotations

import threading

from engine.definitions import validation
from engine.definitions.bundle import Bundle
from engine.definitions.parsing import Parsed
from engine.errors import DefinitionInvalid

_cache: dict[str, Parsed] = {}
_cache_lock = threading.Lock()


def cached(content_hash: str | None) -> Parsed | None:
    """The parsed definition of this content if this process has parsed it already."""
    return _cache.get(content_hash) if content_hash else None


def parsed(bundle_json: str, content_hash: str) -> Parsed:
    """Return the parsed definition for a stored version, parsing it at most once per process.

    Raises DefinitionInvalid if the stored bundle no longer parses.
    """
    hit = _cache.get(content_hash)
    if hit is not None:
        return hit
    with _cache_lock:
        hit = _cache.get(content_hash)
        if hit is None:
            result, findings = validation.validate(Bundle.from_json(bundle_json))  # looked up here, so a test can replace it
            if result is None:
                raise DefinitionInvalid(findings)
            _cache[content_hash] = hit = result
    return hit
