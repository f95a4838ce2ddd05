"""engine/cases/attachments.py: a case's attachment rows, numbered in upload order under the names staff see."""

from __future__ import annotations

from engine.cases import attachments
from engine.cases.attachments import StoredFile
from tests.engine.support import fast_password_hashing, submit  # noqa: F401 - autouse fixture
from tests.scenarios import COMPLAINT


def test_names_follow_the_place_in_the_case_and_the_detected_type():
    assert [attachments.name(1, "application/pdf"), attachments.name(2, "image/jpeg"), attachments.name(3, "image/png")] == [
        "lampiran-1.pdf",
        "lampiran-2.jpg",
        "lampiran-3.png",
    ]
    assert attachments.name(4, "text/plain") == "lampiran-4.bin"


def test_files_recorded_later_are_numbered_after_the_ones_the_case_has(service, session, clock):
    case, other = submit(service, COMPLAINT).case, submit(service, COMPLAINT).case
    attachments.record(session, case.id, [StoredFile("a" * 32, "image/png", 10)], clock.now())
    attachments.record(session, other.id, [StoredFile("c" * 32, "image/png", 5)], clock.now())
    attachments.record(session, case.id, [StoredFile("b" * 32, "application/pdf", 20)], clock.now())
    listed = attachments.of_case(session, case.id)
    assert [(item.stored_name, item.filename, item.size, shown) for item, shown in listed] == [
        ("a" * 32, "lampiran-1.png", 10, "lampiran-1.png"),
        ("b" * 32, "lampiran-2.pdf", 20, "lampiran-2.pdf"),
    ]
    assert attachments.of_case(session, submit(service, COMPLAINT).case.id) == []
