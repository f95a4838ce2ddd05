"""engine/cases/context.py: what the holder of a task needs to decide — why the case came back, from whom, the
unit's latest answer and the units that declined — as the task page and the API show it (views.staff_case)."""

from __future__ import annotations

import pytest

from engine.cases import access, context, views
from tests.engine.support import KOMINFO, PENDIDIKAN, do, fast_password_hashing, submit  # noqa: F401 - autouse fixture
from tests.scenarios import ACCEPT_SATKER, ANSWER_SATKER, COMPLAINT, FORWARD_SATKER, PUBLISH, Do


@pytest.mark.parametrize(
    ("form", "data", "reason"),
    [
        ("terima", {"decision": "bukan_wewenang"}, context.DECLINED),
        ("terima", {"decision": "terima"}, None),
        ("balasan", {"satisfied": False, "text": "Belum."}, context.NOT_SATISFIED),
        ("balasan", {"satisfied": True}, None),
        ("teruskan", {"decision": "kembalikan", "note": "Lengkapi."}, context.RETURNED),
        ("teruskan", {"decision": "teruskan", "answer": "Sudah."}, None),
        ("disposisi", {"unit": "dinas-pendidikan"}, None),
    ],
)
def test_which_completions_send_a_case_back(form, data, reason):
    assert context.reason_of(form, data) == reason


def test_the_mail_reads_the_reason_from_the_workflow_before_the_trail_has_it(service, session):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER, Do("Task_Terima_Satker", {"decision": "bukan_wewenang", "note": "Bukan kami."})])
    parsed, workflow = service.load(submitted.case)
    assert context.came_back_in(parsed, workflow) == context.DECLINED
    do(service, submitted, FORWARD_SATKER)
    parsed, workflow = service.load(submitted.case)
    assert context.came_back_in(parsed, workflow) == ""


def test_the_task_context_says_who_declined_and_what_the_unit_answered(service, session):
    declined = Do("Task_Terima_Satker", {"decision": "bukan_wewenang", "note": "Urusan Kanwil Kemenag."})
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER, declined])
    case = submitted.case
    context = views.staff_case(session, access.case_for_staff(session, case.tracking_id, KOMINFO))["context"]
    assert context["answer"] is None and context["declined_units"] == ["dinas-pendidikan"]
    back = context["came_back"]
    assert (back["reason"], back["unit"], back["text"]) == ("bukan_wewenang", "dinas-pendidikan", "Urusan Kanwil Kemenag.")
    assert back["unit_name"] == "Dinas Pendidikan Provinsi Jawa Timur"

    for step in (FORWARD_SATKER, ACCEPT_SATKER, ANSWER_SATKER, Do("Task_Teruskan", {"decision": "kembalikan", "note": "Sebutkan tanggalnya."})):
        do(service, submitted, step)
    context = views.staff_case(session, access.case_for_staff(session, case.tracking_id, PENDIDIKAN))["context"]
    assert context["answer"]["text"] == ANSWER_SATKER.data["response"] and context["answer"]["unit"] == "dinas-pendidikan"
    back = context["came_back"]
    assert (back["reason"], back["actor"], back["text"]) == ("dikembalikan", KOMINFO.username, "Sebutkan tanggalnya.")
    assert context["declined_units"] == ["dinas-pendidikan"]  # the earlier decline stays on record


def test_the_task_context_of_an_unsatisfied_reporter(service, session):
    unhappy = Do("Task_Balasan", {"satisfied": False, "text": "Jalan belum diperbaiki."})
    case = submit(service, COMPLAINT, [FORWARD_SATKER, ACCEPT_SATKER, ANSWER_SATKER, PUBLISH, unhappy]).case
    context = views.staff_case(session, access.case_for_staff(session, case.tracking_id, KOMINFO))["context"]
    back = context["came_back"]
    assert (back["reason"], back["unit"], back["text"]) == ("tidak_puas", "dinas-pendidikan", "Jalan belum diperbaiki.")
    assert context["declined_units"] == [] and context["answer"]["text"] == ANSWER_SATKER.data["response"]
