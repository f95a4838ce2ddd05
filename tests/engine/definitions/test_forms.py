"""engine/definitions/forms.py: per-field validation messages keyed by dotted path, and schemas served with live enums."""

from __future__ import annotations

import copy
from datetime import date

import pytest

from engine.definitions.bundle import project_bundle
from engine.definitions.forms import field_errors, served, validate
from engine.errors import InvalidData
from engine.runtime.scripting import DEMO_UNITS
from tests.scenarios import COMPLAINT

FORMS = project_bundle().forms()
MISSING = object()
TODAY = date(2026, 11, 30)


def pengaduan(**changes):
    """The scenario complaint with ``changes``; a field set to MISSING is left out."""
    data = {**copy.deepcopy(COMPLAINT), **changes}
    return {k: v for k, v in data.items() if v is not MISSING}


def test_the_project_ships_the_contract_forms():
    assert set(FORMS) == {"pengaduan", "disposisi", "kelengkapan", "terima", "tanggapan", "perpanjangan", "teruskan", "balasan"}


def test_valid_complaint_has_no_errors():
    assert field_errors(FORMS["pengaduan"], pengaduan(), TODAY) == {}
    validate(FORMS["pengaduan"], pengaduan(), TODAY)


def test_minimal_complaint_needs_only_title_body_category_and_email():
    minimal = {k: COMPLAINT[k] for k in ("title", "body", "category")} | {"reporter": {"email": "a@b.id"}}
    assert field_errors(FORMS["pengaduan"], minimal, TODAY) == {}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"title": MISSING}, "title", "Wajib diisi."),
        ({"title": "abcd"}, "title", "Minimal 5 karakter."),
        ({"title": "x" * 151}, "title", "Maksimal 150 karakter."),
        ({"body": "pendek"}, "body", "Minimal 20 karakter."),
        ({"category": "olahraga"}, "category", None),
        ({"incident_date": "2026-12-01"}, "incident_date", "Tanggal tidak boleh di masa depan."),
        ({"incident_date": "30-11-2026"}, "incident_date", "Tanggal tidak valid (format TTTT-BB-HH)."),
        ({"anonymous": "ya"}, "anonymous", "Harus ya atau tidak."),
        ({"reporter": {"name": "Siti"}}, "reporter.email", "Wajib diisi."),
        ({"reporter": {"email": "siti-at-example"}}, "reporter.email", "Alamat email tidak valid."),
        ({"reporter": {"email": "siti@example.id", "phone": "telepon saya"}}, "reporter.phone", "Formatnya tidak sesuai."),
    ],
    ids=[
        "title_missing",
        "title_short",
        "title_long",
        "body_short",
        "category_unknown",
        "date_future",
        "date_format",
        "bool_type",
        "email_missing",
        "email_invalid",
        "phone_pattern",
    ],
)
def test_bad_complaint_field_is_keyed_by_its_dotted_path(data, field, message):
    errors = field_errors(FORMS["pengaduan"], pengaduan(**data), TODAY)
    assert field in errors, errors
    if message is not None:
        assert errors[field] == message
    assert len(errors) == 1, errors


@pytest.mark.parametrize(
    "email",
    ["0@0.com*", "a@b.c<script>", "siti@example.id>", "a b@example.id", "siti@@example.id", "siti@example..id", "siti@localhost", "budi@warga.test"],
)
def test_an_address_mail_cannot_go_to_is_refused_by_the_one_email_rule(email):
    """``format: email`` checked by email-validator (jsonschema's own check wants only an "@"); reserved names too."""
    assert field_errors(FORMS["pengaduan"], pengaduan(reporter={"email": email}), TODAY) == {"reporter.email": "Alamat email tidak valid."}


@pytest.mark.parametrize("email", ["a@b.id", "Wulan.Rahasia@contoh.id", "nama+lapor@mail.sub.go.id", "o'brien@example.id"])
def test_ordinary_addresses_pass_the_email_rule(email):
    assert field_errors(FORMS["pengaduan"], pengaduan(reporter={"email": email}), TODAY) == {}


def test_the_complaint_form_has_one_email_rule_and_it_holds_for_every_form():
    """No pattern beside the format (two rules would disagree), and the format is checked in any form that declares it."""
    email = FORMS["pengaduan"]["properties"]["reporter"]["properties"]["email"]
    assert email["format"] == "email" and "pattern" not in email
    other = {"type": "object", "properties": {"cc": {"type": "string", "format": "email"}}}
    assert field_errors(other, {"cc": "0@0.com*"}, TODAY) == {"cc": "Alamat email tidak valid."}
    assert field_errors(other, {"cc": 5}, TODAY) == {"cc": "Harus berupa teks."}  # the type says it; the format leaves non-strings alone


def test_category_message_lists_the_choices():
    errors = field_errors(FORMS["pengaduan"], pengaduan(category="olahraga"), TODAY)
    assert all(c in errors["category"] for c in ("pendidikan", "kesehatan", "lainnya"))


def test_incident_today_is_not_in_the_future():
    assert field_errors(FORMS["pengaduan"], pengaduan(incident_date="2026-11-30"), TODAY) == {}
    assert "incident_date" in field_errors(FORMS["pengaduan"], pengaduan(incident_date="2026-11-30"), date(2026, 11, 29))


def test_each_field_gets_one_message_and_required_wins():
    errors = field_errors(FORMS["pengaduan"], {"title": "abc", "body": "", "reporter": {}}, TODAY)
    assert errors == {
        "title": "Minimal 5 karakter.",
        "body": "Minimal 20 karakter.",
        "category": "Wajib diisi.",
        "reporter.email": "Wajib diisi.",
    }


def test_unknown_field_is_reported_by_name():
    errors = field_errors(FORMS["pengaduan"], pengaduan(lampiran="foto.jpg"), TODAY)
    assert len(errors) == 1
    assert "lampiran" in next(iter(errors.values()))


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"decision": "teruskan", "answer": "Jawaban untuk pelapor."}, {}),
        ({"decision": "kembalikan"}, {}),
        ({"decision": "teruskan"}, {"answer": "Wajib diisi."}),
        ({"decision": "teruskan", "answer": "pendek"}, {"answer": "Minimal 10 karakter."}),
        ({}, {"decision": "Wajib diisi."}),
    ],
    ids=["teruskan_with_answer", "kembalikan_without_answer", "teruskan_without_answer", "answer_short", "decision_missing"],
)
def test_teruskan_needs_an_answer_only_when_publishing(data, errors):
    assert field_errors(FORMS["teruskan"], data, TODAY) == errors


def test_balasan_needs_a_boolean_satisfied():
    assert field_errors(FORMS["balasan"], {"satisfied": False}, TODAY) == {}
    assert field_errors(FORMS["balasan"], {"text": "x"}, TODAY) == {"satisfied": "Wajib diisi."}
    assert field_errors(FORMS["balasan"], {"satisfied": "ya"}, TODAY) == {"satisfied": "Harus ya atau tidak."}


def test_validate_raises_invalid_data_with_the_field_errors():
    with pytest.raises(InvalidData) as raised:
        validate(FORMS["tanggapan"], {"response": "ok"}, TODAY)
    assert raised.value.errors == {"response": "Minimal 10 karakter."}
    assert raised.value.message


@pytest.mark.parametrize("data", [None, [], "teks", 3])
def test_validate_rejects_data_that_is_not_an_object(data):
    with pytest.raises(InvalidData) as raised:
        validate(FORMS["balasan"], data, TODAY)
    assert list(raised.value.errors) == ["_"]


def test_served_schema_lists_the_units_as_the_enum():
    schema = served(FORMS["disposisi"], DEMO_UNITS)
    assert schema["properties"]["unit"]["enum"] == list(DEMO_UNITS)
    assert schema["properties"]["unit"]["x-enumNames"] == [name for name, _kind in DEMO_UNITS.values()]
    assert "enum" not in FORMS["disposisi"]["properties"]["unit"]  # the stored schema is not changed


def test_served_schema_validates_against_the_current_units():
    units = {"dinas-pendidikan": DEMO_UNITS["dinas-pendidikan"]}
    schema = served(FORMS["disposisi"], units)
    assert field_errors(schema, {"unit": "dinas-pendidikan"}, TODAY) == {}
    errors = field_errors(schema, {"unit": "dinas-kesehatan"}, TODAY)
    assert errors == {"unit": "Pilih salah satu: dinas-pendidikan."}


def test_served_schema_without_units_accepts_none():
    schema = served(FORMS["disposisi"], {})
    assert schema["properties"]["unit"]["enum"] == []
    assert "unit" in field_errors(schema, {"unit": "dinas-pendidikan"}, TODAY)


def test_forms_without_a_unit_source_are_served_unchanged():
    for name in ("pengaduan", "terima", "tanggapan", "teruskan", "balasan"):
        assert served(FORMS[name], DEMO_UNITS) == FORMS[name]
