"""The project's model, parsed and as XML, shared by the tests of engine/definitions/ (one parse per test module)."""

from __future__ import annotations

import pytest
from lxml import etree

from engine.definitions.bundle import project_bundle
from engine.definitions.validation import validate
from tests.engine.definitions.support import BPMN


@pytest.fixture(scope="module")
def model():
    result, findings = validate(project_bundle())
    assert findings == []
    return result


@pytest.fixture(scope="module")
def root():
    return etree.parse(str(BPMN)).getroot()
