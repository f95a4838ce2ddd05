"""engine/definitions/uploads.py: a bundle assembled from an upload and the running version; bad files refused before decoding."""

from __future__ import annotations

from engine.definitions.bundle import project_bundle
from engine.definitions.safe_xml import MAX_FILE_BYTES
from engine.definitions.uploads import bundle_from_upload
from tests.engine.definitions.support import FORM_TERIMA, SOURCE


def test_upload_bundle_keeps_the_running_name_dmn_and_forms_and_takes_uploaded_forms():
    base = project_bundle()
    own = FORM_TERIMA.replace('"Catatan"', '"Catatan unit"')
    bundle, findings = bundle_from_upload(("sp4n_lapor (revisi 2).bpmn", SOURCE.encode()), forms=[("terima.schema.json", own.encode())], base=base)
    assert findings == [] and bundle.bpmn_name == "sp4n_lapor.bpmn"
    assert bundle.files["kategori.dmn"] == base.files["kategori.dmn"]
    assert bundle.files["forms/terima.schema.json"] == own
    assert set(bundle.files) == set(base.files)
    same, _findings = bundle_from_upload(("lain.bpmn", ("\ufeff" + SOURCE).encode()), base=base)
    assert same.content_hash == base.content_hash  # a byte order mark and another file name: the same version


def test_upload_bundle_refuses_wrong_kind_size_and_encoding_before_decoding():
    base = project_bundle()
    cases = [
        (("proses.xml", b"<x/>"), "file"),
        (("proses.bpmn", SOURCE.encode("utf-16")), "encoding"),
        (("proses.bpmn", b" " * (MAX_FILE_BYTES + 1)), "size"),
    ]
    for upload, code in cases:
        bundle, [finding] = bundle_from_upload(upload, base=base)
        assert bundle is None and finding.code == code, finding
