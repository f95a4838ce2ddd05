"""engine/definitions/safe_xml.py: hostile files are refused without reading files or expanding entities."""

from __future__ import annotations

import pytest
from lxml import etree

from engine.definitions import safe_xml
from engine.definitions.bpmn_xml import BPMN_NS
from engine.definitions.bundle import Bundle
from engine.definitions.findings import MSG_DOCTYPE
from engine.definitions.safe_xml import MAX_FILE_BYTES
from engine.definitions.validation import validate
from tests.engine.definitions.support import FIXTURES, SOURCE


def _no_parsing(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("the XML parser must not see this file")

    monkeypatch.setattr(etree, "fromstring", refuse)
    monkeypatch.setattr(etree, "parse", refuse)


@pytest.mark.parametrize("fixture", ["billion_laughs.bpmn", "external_entity.bpmn"])
def test_entity_declarations_are_refused_before_the_parser_sees_them(monkeypatch, fixture):
    bundle = Bundle(fixture, {fixture: (FIXTURES / fixture).read_text(encoding="utf-8")})
    _no_parsing(monkeypatch)
    result, [finding] = validate(bundle)
    assert result is None
    assert (finding.file, finding.line, finding.code) == (fixture, 3, "doctype")
    assert finding.message == MSG_DOCTYPE
    assert "root:" not in str(finding)


def test_the_parser_itself_expands_no_entity_and_reads_no_file():
    """The second lock, should a declaration ever slip past the scan: libxml2 with entities off refuses both files."""
    bomb = (FIXTURES / "billion_laughs.bpmn").read_bytes()
    with pytest.raises(etree.XMLSyntaxError, match="amplification"):
        etree.fromstring(bomb, safe_xml._xml_parser())
    small_bomb = bomb.replace(b"&lol9;</bpmn:documentation>", b"&lol2;</bpmn:documentation>")
    root = etree.fromstring(small_bomb, safe_xml._xml_parser())
    documentation = root.find(".//bpmn:documentation", BPMN_NS)
    assert documentation.text is None and [type(n).__name__ for n in documentation] == ["_Entity"]  # left as a reference
    with pytest.raises(etree.XMLSyntaxError, match="external entity"):
        etree.fromstring((FIXTURES / "external_entity.bpmn").read_bytes(), safe_xml._xml_parser())
    in_text = (FIXTURES / "external_entity.bpmn").read_bytes().replace(b'name="&rahasia;"', b'name="x"').replace(b"&jaringan;", b"&rahasia;")
    root = etree.fromstring(in_text, safe_xml._xml_parser())
    assert b"root:" not in etree.tostring(root)


def test_a_huge_file_is_refused_without_parsing(monkeypatch):
    padding = "<!-- " + "x" * MAX_FILE_BYTES + " -->"
    bundle = Bundle("besar.bpmn", {"besar.bpmn": SOURCE.replace("<bpmn:process ", padding + "<bpmn:process ", 1)})
    _no_parsing(monkeypatch)
    result, [finding] = validate(bundle)
    assert result is None and finding.code == "size" and finding.file == "besar.bpmn"
    assert finding.message == f"Berkas terlalu besar: {len(bundle.files['besar.bpmn'].encode()) // 1024} KB, batasnya 2048 KB."


def test_a_deeply_nested_file_is_refused():
    deep = SOURCE.replace("<bpmn:documentation>", "<bpmn:documentation>" + "<a>" * 300 + "</a>" * 300, 1)
    _result, [finding] = validate(Bundle("dalam.bpmn", {"dalam.bpmn": deep}))
    assert finding.code == "xml" and "depth" in finding.message
