"""engine/definitions/cache.py: a stored version is parsed once per content hash."""

from __future__ import annotations

from engine.definitions.bundle import project_bundle
from engine.definitions.cache import parsed


def test_parsed_definition_is_cached_per_content_hash():
    bundle = project_bundle()
    assert parsed(bundle.to_json(), bundle.content_hash) is parsed(bundle.to_json(), bundle.content_hash)
