"""engine/messages.py: the marker returns its template, a Message is its filled-in text, and the
catalogue holds every template marked in engine/."""

from __future__ import annotations

import json

from engine.cases.views import STATUS_MESSAGES
from engine.messages import N_, Message, templates
from engine.notifications.notify import TEMPLATES


def test_the_marker_returns_the_template_unchanged():
    template = "Laporan %(tracking_id)s selesai"
    assert N_(template) is template


def test_a_message_is_its_template_filled_with_its_values_and_keeps_both():
    message = Message("Laporan %(tracking_id)s diteruskan kepada %(unit)s", tracking_id="LPR-7K2M9QXD", unit="Dinas Sosial")
    assert message == "Laporan LPR-7K2M9QXD diteruskan kepada Dinas Sosial" and isinstance(message, str)
    assert message.template == "Laporan %(tracking_id)s diteruskan kepada %(unit)s"
    assert message.values == {"tracking_id": "LPR-7K2M9QXD", "unit": "Dinas Sosial"}
    assert json.dumps({"message": message}) == '{"message": "Laporan LPR-7K2M9QXD diteruskan kepada Dinas Sosial"}'


def test_a_message_without_values_is_its_template_as_written():
    assert Message("Naik 100% dari bulan lalu.") == "Naik 100% dari bulan lalu."


def test_the_catalogue_holds_the_templates_marked_in_engine():
    catalogue = templates()
    assert set(STATUS_MESSAGES.values()) <= catalogue
    assert {subject for subject, _body in TEMPLATES.values()} <= catalogue
    assert "Tugas ini sedang dikerjakan oleh %(user)s." in catalogue  # marked inside a function that has not run
    assert not catalogue & {body for _subject, body in TEMPLATES.values()}  # mail bodies are not marked: mail only
