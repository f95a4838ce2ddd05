"""Staff intake ("Catat laporan masuk", /laporan/catat): Admin Kominfo and Admin Pusat record a complaint received by
phone, letter or in person; the channel on the case page, the register and the reports; the location's map link."""

from __future__ import annotations

import io
import json
import re

from sqlalchemy import func, select

from engine.db.tables import Attachment, AuditEvent, Case, OutboxMail
from tests.conftest import MONDAY_9AM
from tests.web.pages import PNG, complaint_form, csrf, login, submit
from web.extensions import db

PATH = "/laporan/catat"


def phone_complaint(**overrides) -> dict:
    """A complaint taken by phone: no email, no phone number of the reporter's own."""
    form = complaint_form(**{"reporter.email": "", "reporter.phone": "", **overrides})
    return {"channel": "telepon", **form}


def record(client, form: dict, files=()):
    data = {**form, "csrf_token": csrf(client, PATH)}
    if files:
        data["lampiran"] = list(files)
    return client.post(PATH, data=data, content_type="multipart/form-data")


def case_of(app, tracking_id: str) -> Case:
    with app.app_context():
        return db.session.scalar(select(Case).where(Case.tracking_id == tracking_id))


def receipt_of(response) -> tuple[str, str]:
    html = response.get_data(as_text=True)
    tracking_id = re.search(r'id="tracking-id">(LPR-[0-9A-Z]{8})<', html).group(1)
    access_code = re.search(r'id="access-code">([^<]+)<', html).group(1)
    return tracking_id, access_code


def test_kominfo_records_a_phone_complaint_without_email(app):
    kominfo = login(app, "kominfo")
    page = kominfo.get(PATH).get_data(as_text=True)
    assert "Catat laporan masuk" in page and "sampaikan nomor pelacakan dan kode akses kepadanya" in page
    offered = re.findall(r'<option value="([a-z_0-9]+)"', page.split('name="channel"')[1].split("</select>")[0])
    assert offered == ["telepon", "surat", "datang_langsung", "sms", "media_sosial", "email"]  # no self-service channel
    assert '<label for="f-reporter.email">Email</label>' in page  # optional here: no "wajib" mark

    response = record(kominfo, phone_complaint(), [(io.BytesIO(PNG), "surat.png")])
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    tracking_id, access_code = receipt_of(response)
    assert "Pelapor tidak menerima email." in response.get_data(as_text=True)
    assert f'href="/kasus/{tracking_id}"' in response.get_data(as_text=True)

    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.tracking_id == tracking_id))
        assert case.channel == "telepon" and case.status == "diterima"
        started = db.session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id, AuditEvent.type == "case_started"))
        assert started.actor == "kominfo" and json.loads(started.data)["recorded_by"] == {"role": "kominfo"}
        assert db.session.scalar(select(func.count()).select_from(Attachment).where(Attachment.case_id == case.id)) == 1
        to_reporter = select(func.count()).select_from(OutboxMail).where(OutboxMail.case_id == case.id, OutboxMail.user_id.is_(None))
        assert db.session.scalar(to_reporter) == 0  # no address: no mail for the reporter

    # the access code on the receipt opens the case for the reporter
    reporter = app.test_client()
    opened = reporter.post("/lacak", data={"tracking_id": tracking_id, "token": access_code, "csrf_token": csrf(reporter, "/lacak")})
    assert opened.status_code == 303 and opened.headers["Location"] == f"/lacak/{tracking_id}"

    case_page = kominfo.get(f"/kasus/{tracking_id}").get_data(as_text=True)
    assert 'id="case-channel">telepon<' in case_page and "tanpa email" in case_page


def test_a_reporter_with_email_gets_the_receipt_mail_and_the_receipt_says_so(app):
    pusat = login(app, "pusat")
    assert 'href="/laporan/catat"' in pusat.get("/ikhtisar").get_data(as_text=True)  # in the staff navigation
    response = record(pusat, {**complaint_form(), "channel": "surat"})
    tracking_id, _code = receipt_of(response)
    assert "Pelapor juga menerima email" in response.get_data(as_text=True)
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.tracking_id == tracking_id))
        mail = db.session.scalar(select(OutboxMail).where(OutboxMail.case_id == case.id, OutboxMail.topic == "laporan_diterima"))
        assert case.channel == "surat" and mail.to_addr == "budi@example.id"


def test_a_unit_or_an_auditor_may_not_record_complaints(app):
    for username in ("pendidikan", "auditor"):
        client = login(app, username)
        assert client.get(PATH).status_code == 403
        assert 'href="/laporan/catat"' not in client.get("/tugas").get_data(as_text=True)
    satker = login(app, "pendidikan")
    assert satker.post(PATH, data={**phone_complaint(), "csrf_token": csrf(satker, "/tugas")}).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 0
    assert app.test_client().get(PATH).status_code == 302  # signed out: to the sign-in page


def test_a_missing_or_self_service_channel_is_a_field_error_with_the_others(app):
    kominfo = login(app, "kominfo")
    for channel in ("", "web", "aplikasi", "merpati"):
        response = record(kominfo, {**phone_complaint(title="abc"), "channel": channel})
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "Pilih saluran tempat laporan ini diterima." in html
        assert "Minimal 5 karakter." in html  # the form's own errors in the same round
        assert 'value="abc"' in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_sent_twice_the_form_makes_one_case(app):
    kominfo = login(app, "kominfo")
    page = kominfo.get(PATH).get_data(as_text=True)
    key = re.search(r'name="submission_key" value="([^"]+)"', page).group(1)
    form = {**phone_complaint(), "submission_key": key, "csrf_token": csrf(kominfo, PATH)}
    first, second = (kominfo.post(PATH, data=form) for _ in range(2))
    assert receipt_of(first) == receipt_of(second)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 1


def test_the_coordinates_are_numbers_and_the_case_pages_link_to_openstreetmap(app):
    kominfo = login(app, "kominfo")
    response = record(kominfo, phone_complaint(latitude="-7,2575", longitude="112.752088"))  # a decimal comma is read too
    tracking_id, access_code = receipt_of(response)
    case = case_of(app, tracking_id)
    assert (case.latitude, case.longitude) == (-7.2575, 112.752088)
    osm = "https://www.openstreetmap.org/?mlat=-7.2575&amp;mlon=112.752088#map=17/-7.2575/112.752088"
    assert osm in kominfo.get(f"/kasus/{tracking_id}").get_data(as_text=True)

    reporter = app.test_client()
    reporter.post("/lacak", data={"tracking_id": tracking_id, "token": access_code, "csrf_token": csrf(reporter, "/lacak")})
    track = reporter.get(f"/lacak/{tracking_id}").get_data(as_text=True)
    assert "Sidoarjo" in track and osm in track and "Lihat di peta" in track


def test_without_coordinates_there_is_no_map_link(app):
    citizen, tracking_id, link = submit(app)
    assert "openstreetmap" not in citizen.get(link).get_data(as_text=True)
    assert "openstreetmap" not in login(app, "kominfo").get(f"/kasus/{tracking_id}").get_data(as_text=True)


def test_the_citizen_form_offers_the_location_and_checks_it(app):
    client = app.test_client()
    page = client.get("/lapor").get_data(as_text=True)
    assert 'type="number" step="any" inputmode="decimal" id="f-latitude" name="latitude"' in page
    assert "Gunakan lokasi saya" in page and "/static/location.js" in page and "<script>" not in page
    assert client.get("/static/location.js").status_code == 200

    one_alone = client.post("/lapor", data={**complaint_form(latitude="-7.25"), "csrf_token": csrf(client, "/lapor")})
    errors = re.findall(r'<div class="field number error">\s*<label for="f-(\w+)"', one_alone.get_data(as_text=True))
    assert one_alone.status_code == 400 and errors == ["longitude"]  # keyed by the missing one
    not_a_number = client.post("/lapor", data={**complaint_form(latitude="utara", longitude="112.7"), "csrf_token": csrf(client, "/lapor")})
    assert not_a_number.status_code == 400 and 'value="utara"' in not_a_number.get_data(as_text=True)
    out_of_range = client.post("/lapor", data={**complaint_form(latitude="95", longitude="112.7"), "csrf_token": csrf(client, "/lapor")})
    assert out_of_range.status_code == 400

    citizen, tracking_id, _link = submit(app, latitude="-7.4478", longitude="112.7183")
    case = case_of(app, tracking_id)
    assert (case.channel, case.latitude, case.longitude) == ("web", -7.4478, 112.7183)


def test_the_geolocation_policy_allows_this_site_only(client):
    assert "geolocation=(self)" in client.get("/lapor").headers["Permissions-Policy"]


def test_the_register_and_the_reports_show_the_channel(app):
    submit(app)
    record(login(app, "kominfo"), phone_complaint())
    pusat = login(app, "pusat")
    record(pusat, {**phone_complaint(), "channel": "datang_langsung"})
    day, month = MONDAY_9AM.date().isoformat(), MONDAY_9AM.strftime("%Y-%m")

    overview = pusat.get(f"/rekap?dari={day}&sampai={day}").get_data(as_text=True)
    table = overview.split('id="by-channel"')[1].split("</table>")[0]
    rows = re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">(\d+)</td></tr>", table)
    assert rows == [("situs web", "1"), ("telepon", "1"), ("datang langsung", "1")]

    register = pusat.get(f"/rekap/buku-agenda?bulan={month}").get_data(as_text=True)
    assert "<th>Saluran</th>" in register and "<td>telepon</td>" in register and "<td>datang langsung</td>" in register

    export = pusat.get(f"/rekap/ekspor.csv?dari={day}&sampai={day}").get_data(as_text=True)
    header, *lines = export.lstrip("\ufeff").splitlines()
    assert "channel" in header.split(",") and "latitude" in header.split(",")
    assert sorted(line.split(",")[header.split(",").index("channel")] for line in lines) == ["datang_langsung", "telepon", "web"]
