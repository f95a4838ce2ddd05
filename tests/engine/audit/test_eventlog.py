"""engine/audit/eventlog.py: the XES and OCEL 2.0 logs of cases driven through the SOP's scenarios, checked against the
audit trail, the XES schema of IEEE 1849-2016 and pm4py's readers, and for what they must never say."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pm4py
import pytest
import xmlschema
from sqlalchemy import select

from engine.audit.eventlog import CLOSING_NAMES, XES_NS, ocel_chunks, traces, xes_chunks
from engine.contract import FINISHED_STATUSES
from engine.db.tables import AuditEvent
from engine.reports.filters import CaseFilter, Period
from tests.engine.audit.support import run
from tests.engine.support import (
    KOMINFO,
    do,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    open_row,
    submit,
)
from tests.scenarios import COMPLAINT, FORWARD_SATKER, SCENARIOS

XES_SCHEMA = Path(__file__).parents[2] / "fixtures" / "xes" / "xes-ieee-1849-2016.xsd"
WEEK = CaseFilter(Period(date(2026, 11, 30), date(2026, 12, 31)))
# a straight path, an answer returned to the unit and answered again, and a disposition whose deadlines pass and escalate
RUN = ("satuan_kerja_route", "kembalikan_loop", "disposisi_deadlines")
STRAIGHT = [
    ("Pengaduan diajukan", "masyarakat", None),
    ("Verifikasi laporan", "kominfo", None),
    ("Terima laporan", "satker", "dinas-pendidikan"),
    ("Beri tanggapan", "satker", "dinas-pendidikan"),
    ("Tinjau dan teruskan jawaban", "kominfo", None),
    ("Baca jawaban dan beri balasan", "masyarakat", None),
    ("Laporan selesai", "sistem", None),
]


@pytest.fixture
def scenario_cases(service):
    """The three scenarios' cases, each with a reporter of its own, in the order they were submitted."""
    cases = {}
    for number, name in enumerate(RUN):
        complaint, steps = SCENARIOS[name]
        reporter = {"name": f"Pelapor Rahasia {number}", "email": f"rahasia{number}@example.id", "phone": f"08129999000{number}"}
        cases[name] = run(service, {**complaint, "body": f"Isi aduan yang tidak boleh bocor nomor {number}.", "reporter": reporter}, steps)
    return cases


def expected_events(session, case_id: int) -> int:
    """The steps the audit trail holds for a case: its submission, each completed task, each fired timer, its closing."""
    rows = session.execute(select(AuditEvent.type, AuditEvent.data).where(AuditEvent.case_id == case_id)).all()
    kinds = Counter(row.type for row in rows)
    closed = sum(1 for row in rows if row.type == "status_changed" and json.loads(row.data)["to"] in FINISHED_STATUSES)
    return kinds["case_started"] + kinds["task_completed"] + kinds["timer_fired"] + closed


def written(chunks, path: Path) -> Path:
    path.write_bytes(b"".join(chunks))
    return path


def test_each_case_is_a_trace_and_each_step_an_event_as_the_audit_trail_says(service, session, scenario_cases):
    found = list(traces(session, WEEK))
    assert [trace.tracking_id for trace in found] == [scenario_cases[name].case.tracking_id for name in RUN]  # oldest first
    for trace, name in zip(found, RUN, strict=True):
        assert len(trace.events) == expected_events(session, scenario_cases[name].case.id)
        assert [event.at for event in trace.events] == sorted(event.at for event in trace.events)
    straight, returned, deadlines = found
    assert [(e.activity, e.resource, e.unit) for e in straight.events] == STRAIGHT
    assert {e.transition for e in straight.events} == {"complete"}
    assert (straight.status, straight.category, straight.channel, straight.definition_version) == ("selesai", "pendidikan", "web", 1)
    answers = [e for e in returned.events if e.activity == "Beri tanggapan"]
    assert len(answers) == 2 and answers[0].task != answers[1].task  # the answer task ran again after it was returned
    timers = [e for e in deadlines.events if e.resource == "sistem"]
    assert [e.activity for e in timers] == ["Batas SOP 1 hari kerja", "Batas nasional 3 hari kerja"]
    assert deadlines.events[-1].activity == "Verifikasi laporan"


def test_a_claimed_task_has_a_start_event_before_it_completes(service, session):
    submitted = submit(service, COMPLAINT)
    service.clock.advance(minutes=5)
    service.claim(open_row(session, submitted.case.id, "Task_Disposisi").id, KOMINFO)
    session.commit()
    service.clock.advance(minutes=20)
    do(service, submitted, FORWARD_SATKER)
    [trace] = traces(session, WEEK)
    verification = [(e.transition, e.at) for e in trace.events if e.activity == "Verifikasi laporan"]
    assert [transition for transition, _at in verification] == ["start", "complete"]
    assert verification[1][1] - verification[0][1] == timedelta(minutes=20)  # from the claim to the completion


def test_filters_narrow_the_log_to_a_period_and_a_unit(service, session, scenario_cases):
    assert list(traces(session, CaseFilter(Period(date(2026, 12, 1), date(2026, 12, 31))))) == []  # all submitted on 30 November
    forwarded = [t.tracking_id for t in traces(session, CaseFilter(WEEK.period, unit_id="dinas-pendidikan"))]
    assert forwarded == [scenario_cases[name].case.tracking_id for name in RUN]
    assert list(traces(session, CaseFilter(WEEK.period, unit_id="kanwil-bpn-jatim"))) == []


def test_the_xes_document_follows_the_standard_and_pm4py_reads_it(service, session, scenario_cases, tmp_path):
    chunks = list(xes_chunks(session, WEEK))
    assert len(chunks) == len(RUN) + 1  # written a case at a time (the first piece opens the log, the last closes it)
    path = written(chunks, tmp_path / "lapor.xes")
    # the standard's schema names no namespace; XES documents put its elements in the XES namespace
    xmlschema.XMLSchema(XES_SCHEMA, namespace=XES_NS).validate(str(path))
    log = pm4py.read_xes(str(path))
    expected = {scenario_cases[name].case.tracking_id: expected_events(session, scenario_cases[name].case.id) for name in RUN}
    assert log["case:concept:name"].value_counts().to_dict() == expected
    straight = log[log["case:concept:name"] == scenario_cases["satuan_kerja_route"].case.tracking_id]
    assert list(zip(straight["concept:name"], straight["org:resource"], strict=True)) == [(name, role) for name, role, _unit in STRAIGHT]
    assert set(straight["org:group"].dropna()) == {"dinas-pendidikan"}
    assert set(log["lifecycle:transition"]) == {"complete"}


def test_the_ocel_document_relates_each_event_to_its_case_task_and_unit(service, session, scenario_cases, tmp_path):
    path = written(ocel_chunks(session, WEEK), tmp_path / "lapor.jsonocel")
    ocel = pm4py.read_ocel2_json(str(path))
    steps = sum(expected_events(session, submitted.case.id) for submitted in scenario_cases.values())
    assert len(ocel.events) == steps
    objects = ocel.objects["ocel:type"].value_counts().to_dict()
    completed = len(set(session.scalars(select(AuditEvent.task).where(AuditEvent.type == "task_completed"))))
    assert objects == {"case": 3, "task": completed, "unit": 1}
    relations = ocel.relations
    answer = relations[relations["ocel:activity"] == "Beri tanggapan"]
    assert set(answer["ocel:qualifier"]) == {"case", "task", "unit"}
    document = json.loads(path.read_text(encoding="utf-8"))
    assert {t["name"] for t in document["eventTypes"]} == {a for a in ocel.events["ocel:activity"]}


def test_neither_log_names_the_reporter_or_repeats_what_they_wrote(service, session, scenario_cases):
    xes = b"".join(xes_chunks(session, WEEK)).decode()
    ocel = b"".join(ocel_chunks(session, WEEK)).decode()
    for number in range(len(RUN)):
        for secret in (f"Pelapor Rahasia {number}", f"rahasia{number}@example.id", f"08129999000{number}", f"bocor nomor {number}"):
            assert secret not in xes and secret not in ocel
    for leaked in (COMPLAINT["title"], COMPLAINT["location"], "Mohon ditindaklanjuti", "Perbaikan atap", "staf-"):  # nor staff usernames
        assert leaked not in xes and leaked not in ocel


def test_every_closing_status_has_a_name():
    assert set(CLOSING_NAMES) == set(FINISHED_STATUSES)


def test_a_units_missed_deadline_names_that_unit_and_admin_kominfos_none(service, session):
    """The timer records no unit; the escalation recorded right after it says whose deadline it was."""
    complaint, steps = SCENARIOS["unit_deadlines"]
    run(service, complaint, steps)
    [trace] = traces(session, WEEK)
    timers = [(e.activity, e.unit) for e in trace.events if e.resource == "sistem" and e.element != "status_changed"]
    assert timers == [
        ("Batas 1 hari kerja", "dinas-pendidikan"),  # the unit's acceptance
        ("Batas SOP 1 hari kerja", "dinas-pendidikan"),  # its answer
        ("Batas nasional tindak lanjut", "dinas-pendidikan"),
        ("Batas SOP 1 hari kerja", None),  # Admin Kominfo's review of the answer: a role, no unit
    ]
