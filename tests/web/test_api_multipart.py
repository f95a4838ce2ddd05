"""POST /api/v1/complaints as multipart/form-data (issue "Every page as its user expects", point 7): the complaint's
JSON object in part ``complaint`` and up to 3 files in parts ``attachments``, under the web form's rules
(web/attachments.py: PDF, JPEG or PNG by content, 5 MB each, stored without metadata) and its submission path
(web/submissions.py: the Idempotency-Key covers the files too)."""

from __future__ import annotations

import io
import json
from pathlib import Path

from PIL import Image
from pypdf import PdfReader, PdfWriter
from sqlalchemy import func, select

from engine.db.tables import Attachment, Case
from tests.scenarios import COMPLAINT
from tests.web.pages import PNG
from web.attachments import MAX_BYTES
from web.extensions import db

URL = "/api/v1/complaints"
IDENTITY = "Budi Santoso"  # what a camera or a PDF tool writes into a file: the reporter's name


def exif_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x013B] = IDENTITY  # Artist
    exif.get_ifd(0x8825).update({1: "S", 2: (7.0, 26.0, 52.0), 3: "E", 4: (112.0, 43.0, 6.0)})  # GPS: Sidoarjo
    output = io.BytesIO()
    Image.new("RGB", (8, 6), "red").save(output, "JPEG", exif=exif)
    return output.getvalue()


def authored_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(298, 420)
    writer.add_metadata({"/Author": IDENTITY})
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def multipart(complaint=COMPLAINT, files=(), complaint_as_file: bool = False) -> dict:
    """The form of a multipart POST: ``files`` as (content, file name) pairs."""
    text = json.dumps(complaint) if not isinstance(complaint, str) else complaint
    part = (io.BytesIO(text.encode()), "complaint.json", "application/json") if complaint_as_file else text
    return {"complaint": part, "attachments": [(io.BytesIO(content), name) for content, name in files]}


def post(client, data: dict, **headers: str):
    return client.post(URL, data=data, content_type="multipart/form-data", headers=headers)


def counts(app) -> tuple[int, int]:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Case)), db.session.scalar(select(func.count()).select_from(Attachment))


def stored(app, tracking_id: str) -> list[tuple[str, bytes]]:
    """(type, stored content) of each attachment of the case, in the order they were sent."""
    with app.app_context():
        rows = db.session.execute(
            select(Attachment.content_type, Attachment.stored_name).join(Case).where(Case.tracking_id == tracking_id).order_by(Attachment.id)
        ).all()
    folder = Path(app.config["LAPOR_ATTACHMENTS_DIR"])
    return [(kind, (folder / name).read_bytes()) for kind, name in rows]


def test_a_complaint_with_a_photo_a_scan_and_a_document_is_recorded_with_its_files_stripped(app, client):
    response = post(client, multipart(files=[(PNG, "denah.png"), (exif_jpeg(), "foto.jpg"), (authored_pdf(), "surat.pdf")]))
    assert response.status_code == 201, response.json
    assert response.json["status"] == "diterima" and response.json["access_token"]
    files = stored(app, response.json["tracking_id"])
    assert [kind for kind, _content in files] == ["image/png", "image/jpeg", "application/pdf"]
    with Image.open(io.BytesIO(files[1][1])) as photo:
        assert not photo.getexif() and IDENTITY.encode() not in files[1][1]  # no EXIF left, GPS and Artist included
    assert PdfReader(io.BytesIO(files[2][1])).metadata in (None, {}) and IDENTITY.encode() not in files[2][1]
    seen = client.get(f"/api/v1/complaints/{response.json['tracking_id']}", headers={"Authorization": f"Bearer {response.json['access_token']}"})
    assert seen.json["title"] == COMPLAINT["title"]


def test_the_complaint_part_may_be_a_json_file_and_the_files_may_be_left_out(app, client):
    response = post(client, multipart(complaint_as_file=True))
    assert response.status_code == 201, response.json
    assert stored(app, response.json["tracking_id"]) == []


def test_too_many_files_or_a_file_of_another_type_get_400_naming_the_part_and_create_nothing(app, client):
    before = counts(app)
    for files, message in (
        ([(PNG, f"foto-{n}.png") for n in range(4)], "Paling banyak 3 lampiran."),
        ([(b"<html><script>alert(1)</script></html>", "foto.png")], "foto.png: hanya PDF, JPEG, atau PNG yang diterima."),
        ([(b"\xff\xd8\xff" + b"rusak" * 10, "rusak.jpg")], "rusak.jpg: berkas rusak atau tidak dapat dibaca."),
    ):
        response = post(client, multipart(files=files))
        assert response.status_code == 400, (message, response.json)
        assert response.json["errors"] == {"attachments": message}
    assert counts(app) == before


def test_a_file_over_five_megabytes_gets_413_and_creates_nothing(app, client):
    before = counts(app)
    response = post(client, multipart(files=[(b"%PDF-" + b"0" * MAX_BYTES, "besar.pdf")]))
    assert response.status_code == 413
    assert response.json["errors"] == {"attachments": "besar.pdf: lebih dari 5 MB."}
    assert counts(app) == before


def test_a_missing_or_broken_complaint_part_gets_400_naming_it(app, client):
    before = counts(app)
    for data in ({"attachments": [(io.BytesIO(PNG), "foto.png")]}, multipart(complaint="{not json"), multipart(complaint="[1, 2]")):
        response = post(client, data)
        assert response.status_code == 400, response.json
        assert set(response.json["errors"]) == {"complaint"} and response.json["error"]
    assert counts(app) == before


def test_the_complaint_part_is_validated_as_the_json_body_is(client):
    in_json = client.post(URL, json={**COMPLAINT, "title": ""})
    in_part = post(client, multipart({**COMPLAINT, "title": ""}, files=[(PNG, "foto.png")]))
    assert in_part.status_code == in_json.status_code == 400
    assert in_part.json == in_json.json and "title" in in_part.json["errors"]
    control = post(client, multipart({**COMPLAINT, "location": "Sidoarjo\u0000"}))
    assert control.status_code == 400 and set(control.json["errors"]) == {"location"}


def test_the_idempotency_key_covers_the_files(app, client):
    key = {"Idempotency-Key": "b1c0e7a2-6f8e-4c55-9d1b-2f3a4b5c6d7e"}
    first = post(client, multipart(files=[(PNG, "foto.png")]), **key)
    again = post(client, multipart(files=[(PNG, "foto.png")]), **key)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert len(stored(app, first.json["tracking_id"])) == 1  # the files of the first request, stored once
    other_file = post(client, multipart(files=[(exif_jpeg(), "foto.jpg")]), **key)
    assert other_file.status_code == 422 and set(other_file.json["errors"]) == {"Idempotency-Key"}


def test_the_file_errors_follow_accept_language(client):
    response = post(client, multipart(files=[(PNG, f"foto-{n}.png") for n in range(4)]), **{"Accept-Language": "en"})
    assert response.status_code == 400
    assert response.json["errors"] == {"attachments": "You can attach at most 3 files."}


def test_the_document_describes_the_multipart_form(client):
    doc = client.get("/api/v1/openapi.json").json
    content = doc["paths"]["/complaints"]["post"]["requestBody"]["content"]
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/ComplaintSubmission"}
    upload = content["multipart/form-data"]
    assert upload["schema"] == {"$ref": "#/components/schemas/ComplaintUpload"}
    assert upload["encoding"]["complaint"]["contentType"] == "application/json"
    schema = doc["components"]["schemas"]["ComplaintUpload"]
    assert schema["required"] == ["complaint"] and schema["properties"]["attachments"]["maxItems"] == 3


def test_a_part_whose_name_cannot_be_read_gets_400_not_a_500(client):
    """A raw line break inside a part's name: Werkzeug keeps the part under no name (None), which the input check refuses."""
    broken = b'--XX\r\nContent-Disposition: form-data; name="\n"\r\n\r\nnull\r\n'
    body = broken + b'--XX\r\nContent-Disposition: form-data; name="complaint"\r\n\r\n{}\r\n--XX--\r\n'
    response = client.post(URL, data=body, content_type="multipart/form-data; boundary=XX")
    assert response.status_code == 400 and response.is_json


def test_a_text_part_named_attachments_is_refused_not_ignored(client):
    """An app that sends text where a file belongs meant to attach something: refusing it says so, ignoring it would not."""
    response = client.post(URL, data={"complaint": json.dumps(COMPLAINT), "attachments": "null"}, content_type="multipart/form-data")
    assert response.status_code == 400 and "attachments" in response.json["errors"]
