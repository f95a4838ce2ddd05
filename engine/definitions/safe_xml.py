"""Reading a BPMN or DMN file safely: a hardened XML parser behind a size limit and a refusal of any DTD.

Every definition file an analyst uploads passes here before anything parses it (no DTD, no entities, no network,
no huge trees), so a billion-laughs or external-entity file is refused without being read.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from engine.definitions.findings import MSG_DOCTYPE, MSG_EMPTY, MSG_SIZE, MSG_XML, Finding

MAX_FILE_BYTES = 2 * 1024 * 1024  # per BPMN, DMN or form file; the SOP model is 63 KB
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _xml_parser() -> etree.XMLParser:
    """No DTD loaded, no entity expanded, nothing fetched, no huge trees (a new parser per call: lxml parsers are not shared across threads)."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False)


def parse_xml(name: str, content: str | bytes) -> tuple[Any, Finding | None]:
    """Read a BPMN or DMN file the safe way.

    A file over MAX_FILE_BYTES, or with any DOCTYPE or ENTITY declaration (billion laughs, external
    entities), is refused before the XML parser sees it. Returns (root element, None) or (None, the finding).
    """
    data = content.encode("utf-8") if isinstance(content, str) else content
    if len(data) > MAX_FILE_BYTES:
        return None, Finding(name, None, None, MSG_SIZE % {"size": len(data) // 1024, "limit": MAX_FILE_BYTES // 1024}, "size")
    if not data.strip():
        return None, Finding(name, None, None, MSG_EMPTY, "xml")
    declared = _DECLARATION.search(data)
    if declared:
        return None, Finding(name, data[: declared.start()].count(b"\n") + 1, None, MSG_DOCTYPE, "doctype")
    if isinstance(content, str):  # lxml refuses text that still declares an encoding; these bytes are UTF-8
        data = re.sub(rb"^\s*<\?xml[^>]*\?>", b"", data)
    try:
        root = etree.fromstring(data, _xml_parser())
    except etree.XMLSyntaxError as err:
        detail = re.sub(r",? line \d+, column \d+$", "", err.msg or "") or "-"
        return None, Finding(name, err.lineno or None, None, MSG_XML % {"detail": detail}, "xml")
    if root.getroottree().docinfo.internalDTD is not None:  # unreachable after the scan above; kept as a second lock
        return None, Finding(name, 1, None, MSG_DOCTYPE, "doctype")
    return root, None
