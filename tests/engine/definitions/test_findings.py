"""engine/definitions/findings.py: each finding of a broken copy names its file and line, and points at the broken element."""

from __future__ import annotations

import pytest

from engine.definitions.bundle import read_bundle
from engine.definitions.validation import validate
from tests.engine.definitions.support import BROKEN, line_of, write_broken


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_copy_yields_findings_with_file_and_line(tmp_path, name):
    path, _text = write_broken(tmp_path, name)
    result, findings = validate(read_bundle(path))
    assert result is None
    assert findings
    assert all(f.file == path.name for f in findings), findings
    assert all(isinstance(f.line, int) and f.line > 0 for f in findings), findings
    assert all(str(f).startswith(f"{path.name}:{f.line}") for f in findings)


@pytest.mark.parametrize(
    ("name", "element", "needle", "slack"),
    [
        ("malformed_xml", None, '<bpmn:userTask id="Task_Disposisi"', 1),  # libxml2 notices the open quote on the next line
        ("xsd_violation", "Task_Disposisi", '<bpmn:userTask priority="1"', 0),
        ("missing_shape", "Task_Teruskan", '<bpmn:userTask id="Task_Teruskan"', 0),
        ("missing_form", "Task_Teruskan", '<bpmn:userTask id="Task_Teruskan"', 0),
        ("bad_timer", "Timer_Balasan", "batas_tidak_ada(10)", 0),  # the line of the expression itself
        ("unknown_target", "Flow_Notif", '<bpmn:sequenceFlow id="Flow_Notif"', 0),
    ],
)
def test_finding_points_at_the_broken_element(tmp_path, name, element, needle, slack):
    path, text = write_broken(tmp_path, name)
    _result, findings = validate(read_bundle(path))
    [finding] = [f for f in findings if f.element == element]
    assert 0 <= finding.line - line_of(text, needle) <= slack, finding
