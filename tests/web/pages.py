"""Helpers for driving the HTML pages with Flask's test client, CSRF on, as each actor does."""

from __future__ import annotations

import io
import re

from PIL import Image
from sqlalchemy import select

from engine.db.tables import Case, OpenTask
from web.extensions import db


def _png() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 40, 40)).save(output, "PNG")
    return output.getvalue()


PNG = _png()  # a real image, as uploads are re-encoded (web/attachments.py); one Pillow wrote is stored as it came


def csrf(client, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def login(app, username: str):
    client = app.test_client()
    response = client.post("/masuk", data={"username": username, "password": "demo-lapor", "csrf_token": csrf(client, "/masuk")})
    assert response.status_code == 302
    return client


def complaint_form(**overrides) -> dict:
    form = {
        "title": "Jalan berlubang di Sidoarjo",
        "body": "Lubang besar di jalan provinsi dekat pasar membahayakan pengendara motor.",
        "category": "pendidikan",
        "incident_date": "2026-11-25",
        "location": "Sidoarjo",
        "reporter.name": "Budi Santoso",
        "reporter.email": "budi@example.id",
        "reporter.phone": "081234567890",
    }
    form.update(overrides)
    return form


def submit(app, **overrides):
    citizen = app.test_client()
    data = {**complaint_form(**overrides), "csrf_token": csrf(citizen, "/lapor")}
    data["lampiran"] = [(io.BytesIO(PNG), "foto.png")]
    response = citizen.post("/lapor", data=data, content_type="multipart/form-data")
    assert response.status_code == 200, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    tracking_id = re.search(r'id="tracking-id">(LPR-[0-9A-Z]{8})<', html).group(1)
    link = re.search(r'id="private-link" href="([^"]+)"', html).group(1).replace("http://localhost", "")
    return citizen, tracking_id, link


def open_task(app, tracking_id: str) -> OpenTask:
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.tracking_id == tracking_id))
        return db.session.scalar(select(OpenTask).where(OpenTask.case_id == case.id))
