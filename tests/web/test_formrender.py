"""web/pages/formrender.py: a form's fields from its schema and the submitted fields back into its data."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from engine.definitions.bundle import project_bundle
from web.pages import formrender

DISPOSISI = project_bundle().forms()["disposisi"]


def test_a_list_of_choices_is_one_checkbox_each_and_comes_back_as_a_list(app):
    schema = {
        **DISPOSISI,
        "properties": {**DISPOSISI["properties"], "units": {**DISPOSISI["properties"]["units"], "items": {"type": "string", "enum": ["a", "b"]}}},
    }
    with app.test_request_context():
        [units] = [f for f in formrender.fields(schema, {"units": ["b"]}) if f.name == "units"]
    assert (units.kind, units.options, units.value) == ("checkboxes", [("a", "a"), ("b", "b")], ["b"])
    assert formrender.parse(schema, MultiDict([("decision", "teruskan"), ("units", "a"), ("units", "b")]))["units"] == ["a", "b"]


def test_the_fields_of_another_choice_are_not_sent():
    """A unit still ticked when Admin Kominfo asks the reporter for more is not part of that decision."""
    posted = MultiDict(
        [("decision", "minta_kelengkapan"), ("units", "dinas-pendidikan"), ("question", "Di sekolah mana?"), ("classification", "aspirasi")]
    )
    assert formrender.parse(DISPOSISI, posted) == {
        "decision": "minta_kelengkapan",
        "question": "Di sekolah mana?",
        "anonymous": False,
        "confidential": False,
    }
    forwarded = formrender.parse(DISPOSISI, MultiDict([("units", "dinas-pendidikan"), ("question", "lupa dihapus")]))  # no decision: the default
    assert forwarded["units"] == ["dinas-pendidikan"] and "question" not in forwarded


def test_a_field_of_one_choice_says_which_and_the_api_shorthand_is_not_offered(app):
    with app.test_request_context():
        fields = {f.name: f for f in formrender.fields(DISPOSISI)}
    assert fields["question"].when == ("decision", "minta_kelengkapan") and fields["units"].when == ("decision", "teruskan")
    assert fields["anonymous"].when is None and fields["decision"].kind == "radio"
    assert "unit" not in fields  # x-hidden: accepted from API clients, not offered on the page
