"""engine/reports/records.py: the CSV export, the monthly register and the case sheet, each as one viewer may see it."""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import select

from engine import Actor
from engine.cases import access
from engine.db.tables import Case
from engine.reports.facts import MET, MISSED, OPEN
from engine.reports.filters import CaseFilter, Period
from engine.reports.records import export_rows, register, sheet_facts, to_csv
from tests.engine.reports.support import WEEK, at
from tests.engine.support import (
    PUSAT,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    submit,
    wib,
)
from tests.scenarios import ACCEPT_SATKER, ANSWER_SATKER, COMPLAINT, FORWARD_SATKER, PUBLISH, SATISFIED


def test_csv_export_never_names_an_anonymous_reporter(service, session, three_cases):
    text = to_csv(export_rows(session, CaseFilter(WEEK), PUSAT, now=service.clock.now()))
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r["tracking_id"] for r in rows] == [s.case.tracking_id for s in three_cases]
    assert "Rahasia Sekali" not in text and "rahasia@example.id" not in text
    anonymous = rows[2]
    assert anonymous["anonymous"] == "yes" and anonymous["reporter_name"] == anonymous["reporter_email"] == "(dirahasiakan)"
    assert rows[0]["reporter_name"] == "Siti Aminah" and rows[0]["reporter_email"] == "siti@example.id"
    assert (rows[0]["disposisi_target"], rows[0]["disposisi_ceiling"], rows[0]["all_targets_met"], rows[0]["late"]) == (MET, MET, "yes", "no")
    assert (rows[1]["disposisi_target"], rows[1]["disposisi_ceiling"], rows[1]["terima_target"]) == (MISSED, MET, MISSED)
    assert (rows[2]["disposisi_ceiling"], rows[2]["terima_target"], rows[2]["late"]) == (MISSED, OPEN, "yes")
    assert rows[0]["submitted_at"] == "2026-11-30T09:00:00+07:00" and rows[0]["closed_at"] == "2026-11-30T14:00:00+07:00"
    assert rows[0]["disposisi_completed_at"] == "2026-11-30T10:00:00+07:00" and rows[0]["answered_at"] == "2026-11-30T13:00:00+07:00"
    assert rows[2]["tanggapan_started_at"] == "" and rows[0]["unit_name"] == "Dinas Pendidikan Provinsi Jawa Timur"


def test_csv_export_neutralises_spreadsheet_formulas(service, session):
    submit(service, {**COMPLAINT, "title": '=HYPERLINK("http://x.test","klik")'})
    rows = list(csv.DictReader(io.StringIO(to_csv(export_rows(session, CaseFilter(), PUSAT)).lstrip("\ufeff"))))
    assert rows[0]["title"].startswith("'=")


def test_csv_export_follows_the_date_range(service, session, three_cases):
    at(service, wib(2026, 12, 7, 9, 0))
    submit(service, COMPLAINT)
    assert len(export_rows(session, CaseFilter(WEEK), PUSAT, now=service.clock.now())) == 3
    assert len(export_rows(session, CaseFilter(Period(date(2026, 12, 1), date(2026, 12, 31))), PUSAT, now=service.clock.now())) == 1


def test_register_lists_the_months_cases_in_order_of_submission(service, session):
    at(service, wib(2026, 11, 2, 8, 0))
    first = submit(service, {**COMPLAINT, "title": "Laporan pertama bulan ini", "incident_date": "2026-10-20"})
    at(service, wib(2026, 11, 30, 9, 0))
    second = submit(service, {**COMPLAINT, "anonymous": True})
    at(service, wib(2026, 12, 1, 9, 0))
    submit(service, COMPLAINT)
    entries = register(session, Period.month(2026, 11), PUSAT, now=service.clock.now())
    assert [(e.number, e.case.tracking_id) for e in entries] == [(1, first.case.tracking_id), (2, second.case.tracking_id)]
    assert entries[0].reporter == "Siti Aminah" and entries[1].reporter is None
    assert entries[1].facts.complaint["reporter"] is None


def test_export_register_and_sheet_show_a_confidential_reporter_to_admin_pusat_not_to_the_auditor(service, session):
    confidential = submit(service, {**COMPLAINT, "confidential": True})
    reporter = COMPLAINT["reporter"]
    hidden = ("(dirahasiakan)",) * 3
    for viewer, shown in ((PUSAT, (reporter["name"], reporter["email"], reporter["phone"])), (Actor("auditor", "auditor"), hidden)):
        [row] = export_rows(session, CaseFilter(), viewer)
        assert (row["reporter_name"], row["reporter_email"], row["reporter_phone"]) == shown and row["confidential"] == "yes"
        [entry] = register(session, Period.month(2026, 11), viewer)
        sheet = sheet_facts(session, access.seen_case(session, confidential.case, viewer))
        assert {entry.reporter is None, sheet.reporter_hidden, sheet.complaint["reporter"] is None} == {shown == hidden}


def test_sheet_facts_list_each_step_with_its_deadlines(service, session):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER, ACCEPT_SATKER, ANSWER_SATKER, PUBLISH, SATISFIED])
    case = session.scalar(select(Case).where(Case.id == submitted.case.id))
    facts = sheet_facts(session, access.seen_case(session, case, PUSAT), now=service.clock.now())
    assert [p.stage for p in facts.passes] == ["disposisi", "terima", "tanggapan", "teruskan", "balasan"]
    assert facts.passes[0].data == FORWARD_SATKER.data and facts.passes[0].actor == "kominfo"
    assert facts.passes[0].due == {"target": wib(2026, 12, 1, 23, 59, 59), "plafon": wib(2026, 12, 3, 23, 59, 59)}
    assert facts.passes[3].outcome == {"target": "met"} and facts.all_targets_met is True  # the review has a 1-working-day target
