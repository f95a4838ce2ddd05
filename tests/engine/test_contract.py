"""engine/contract.py: the vocabulary is consistent, and the model, the forms and the engine's and pages' name tables match it."""

from __future__ import annotations

import json

from lxml import etree

from engine import contract
from engine.cases import views
from engine.contract import (
    CASE_READERS,
    CATEGORIES,
    CITIZEN,
    CLOCKS,
    DEADLINE_FORMS,
    FIGURE_ROLES,
    FINISHED_STATUSES,
    HANDLERS,
    LANE_ROLES,
    OPEN_STATUSES,
    OVERSIGHT_ROLES,
    ROLES,
    STAGES,
    STATUSES,
    UNIT_KINDS,
    UNIT_LANES,
    UNIT_ROLES,
)
from engine.definitions.bpmn_xml import BPMN_NS
from engine.definitions.bundle import project_file
from engine.notifications import notify
from web import labels
from web.pages import admin


def test_open_and_finished_statuses_split_every_status_in_order():
    assert OPEN_STATUSES + FINISHED_STATUSES == STATUSES


def test_every_lane_maps_to_a_staff_role_or_the_citizen_and_unit_lanes_to_unit_roles():
    assert set(LANE_ROLES.values()) == {*ROLES, CITIZEN.role} - {"auditor", "analis"}
    assert {LANE_ROLES[lane] for lane in UNIT_LANES} == set(UNIT_ROLES)
    assert set(UNIT_ROLES.values()) == set(UNIT_KINDS)


def test_role_policies_name_staff_roles_only():
    for policy in (CASE_READERS, HANDLERS, OVERSIGHT_ROLES, FIGURE_ROLES):
        assert set(policy) <= set(ROLES)
    assert set(HANDLERS) < set(CASE_READERS)


def test_deadline_forms_are_stages():
    assert set(DEADLINE_FORMS) < set(STAGES)


def test_the_models_lanes_are_the_contracts_lanes():
    model = etree.parse(str(project_file("processes", "sp4n_lapor.bpmn")))
    assert {lane.get("name") for lane in model.iter(f"{{{BPMN_NS['bpmn']}}}lane")} == set(LANE_ROLES)


def test_the_complaint_form_and_the_category_decision_offer_exactly_the_categories():
    schema = json.loads(project_file("forms", "pengaduan.schema.json").read_text(encoding="utf-8"))
    assert tuple(schema["properties"]["category"]["enum"]) == CATEGORIES
    decision = etree.parse(str(project_file("processes", "kategori.dmn")))
    entries = decision.iterfind(".//{https://www.omg.org/spec/DMN/20191111/MODEL/}inputEntry/{https://www.omg.org/spec/DMN/20191111/MODEL/}text")
    assert tuple(entry.text.strip('"') for entry in entries) == CATEGORIES


def test_each_user_task_form_of_the_model_is_a_stage_or_the_complaint():
    model = etree.parse(str(project_file("processes", "sp4n_lapor.bpmn")))
    forms = model.xpath(f"//*[@name='{contract.FORM_PROPERTY}']/@value")
    assert {form.removesuffix(".schema.json") for form in forms} == {"pengaduan", *STAGES}


def test_the_engines_name_tables_cover_exactly_the_vocabulary():
    assert tuple(views.STATUS_MESSAGES) == STATUSES
    assert tuple(notify.CATEGORY_NAMES) == CATEGORIES
    assert tuple(notify.STAGE_NAMES) == STAGES
    assert tuple(notify.CLOCK_NAMES) == CLOCKS


def test_the_pages_name_tables_cover_exactly_the_vocabulary():
    assert tuple(labels.STATUS_LABELS) == STATUSES
    assert tuple(admin.ROLE_NAMES) == ROLES
    assert tuple(admin.KIND_NAMES) == UNIT_KINDS
