"""Documents with the answer on the web: POST /api/v1/tasks/{id}/attachments as documented, the upload on the answer
task's page, and who downloads them when: staff who may open the case at once, the citizen (their token) and the public
(a case with a public page) only once Admin Kominfo published the answer they were sent with."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from pypdf import PdfReader, PdfWriter
from sqlalchemy import select

from engine.db.tables import Attachment, AuditEvent, Case
from tests.web.conftest import bearer
from tests.web.pages import PNG, csrf, login
from tests.web.test_api import check, doc  # noqa: F401 - doc is a fixture
from web.extensions import db

FORWARD = {"unit": "dinas-pendidikan", "note": "Mohon ditindaklanjuti."}
ACCEPT = {"decision": "terima"}
RESPONSE = "Perbaikan atap dijadwalkan minggu depan; jadwalnya terlampir."
PUBLISH = {"decision": "teruskan", "answer": "Atap SMA Negeri 1 diperbaiki minggu depan; jadwalnya terlampir."}


def _pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(298, 420)
    writer.add_metadata({"/Author": "Kepala Dinas Pendidikan"})
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


PDF = _pdf()  # a letter whose author is written in it: stripped before it is stored


def answering(api, **changes: Any) -> tuple[str, str, str]:
    """A complaint whose answer task waits for Dinas Pendidikan: (tracking id, access token, the task's id)."""
    created = api.submit(**changes)
    tracking_id = created["tracking_id"]
    api.step("kominfo", tracking_id, FORWARD)
    api.step("pendidikan", tracking_id, ACCEPT)
    return tracking_id, created["access_token"], api.task_of("pendidikan", tracking_id)["id"]


def upload(client, api, username: str, task_id: str, content: bytes = PNG, filename: str = "jadwal perbaikan.png"):
    data = {"file": (io.BytesIO(content), filename)}
    return client.post(f"/api/v1/tasks/{task_id}/attachments", data=data, content_type="multipart/form-data", headers=bearer(api.token(username)))


def rows(app, tracking_id: str) -> list[Attachment]:
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.tracking_id == tracking_id))
        return list(db.session.scalars(select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)))


def stored_files(app) -> set[str]:
    folder = Path(app.config["LAPOR_ATTACHMENTS_DIR"])
    return {path.name for path in folder.iterdir()} if folder.exists() else set()


# ---- the API --------------------------------------------------------------------------------------------------


def test_the_unit_uploads_documents_for_its_answer_three_at_most(app, api, client, doc):  # noqa: F811
    tracking_id, _token, task_id = answering(api)
    first = check(doc, upload(client, api, "pendidikan", task_id), "POST", "/tasks/{task_id}/attachments")
    assert first["name"] == "jawaban-1.png"
    second = upload(client, api, "pendidikan", task_id, PDF, "surat.pdf")
    assert (second.status_code, second.json["name"]) == (201, "jawaban-2.pdf")
    assert upload(client, api, "pendidikan", task_id).status_code == 201
    fourth = check(doc, upload(client, api, "pendidikan", task_id), "POST", "/tasks/{task_id}/attachments")
    assert fourth["errors"] == {"file": "Paling banyak 3 dokumen untuk satu jawaban."}
    files = rows(app, tracking_id)
    assert (files[0].id, files[0].unit_id, files[0].task_id, files[0].published_at) == (first["id"], "dinas-pendidikan", task_id, None)
    assert [row.filename for row in files] == ["jawaban-1.png", "jawaban-2.pdf", "jawaban-3.png"]
    assert stored_files(app) == {row.stored_name for row in files}  # the refused fourth left no file behind
    with app.app_context():
        added = db.session.scalars(select(AuditEvent.data).where(AuditEvent.type == "answer_file_added")).all()
    assert len(added) == 3 and "jadwal perbaikan" not in " ".join(added)  # the uploader's file name is never kept


def test_a_file_of_another_type_or_no_file_is_a_400_naming_the_part(app, api, client, doc):  # noqa: F811
    tracking_id, _token, task_id = answering(api)
    wrong = check(doc, upload(client, api, "pendidikan", task_id, b"just text", "catatan.txt"), "POST", "/tasks/{task_id}/attachments")
    assert wrong["errors"] == {"file": "catatan.txt: hanya PDF, JPEG, atau PNG yang diterima."}
    english = client.post(
        f"/api/v1/tasks/{task_id}/attachments",
        data={"file": (io.BytesIO(b"just text"), "notes.txt")},
        content_type="multipart/form-data",
        headers={**bearer(api.token("pendidikan")), "Accept-Language": "en"},
    )
    assert english.status_code == 400 and "PDF, JPEG" in english.json["errors"]["file"] and "hanya" not in english.json["errors"]["file"]
    missing = client.post(f"/api/v1/tasks/{task_id}/attachments", json={}, headers=bearer(api.token("pendidikan")))
    assert missing.status_code == 400 and set(missing.json["errors"]) == {"file"}
    as_text = client.post(
        f"/api/v1/tasks/{task_id}/attachments", data={"file": "x"}, content_type="multipart/form-data", headers=bearer(api.token("pendidikan"))
    )
    assert as_text.status_code == 400 and set(as_text.json["errors"]) == {"file"}
    two = {"file": [(io.BytesIO(PNG), "a.png"), (io.BytesIO(PNG), "b.png")]}
    both = client.post(f"/api/v1/tasks/{task_id}/attachments", data=two, content_type="multipart/form-data", headers=bearer(api.token("pendidikan")))
    assert both.status_code == 400
    assert [row.filename for row in rows(app, tracking_id)] == []
    assert stored_files(app) == set()


def test_only_the_holder_of_the_open_answer_task_uploads(app, api, client):
    tracking_id, _token, task_id = answering(api)
    assert upload(client, api, "kesehatan", task_id).status_code == 404  # another unit: as if there were no such task
    assert upload(client, api, "kominfo", task_id).status_code == 403
    assert upload(client, api, "pendidikan", "00000000-0000-0000-0000-000000000000").status_code == 404
    other = api.submit()["tracking_id"]
    verification = api.task_of("kominfo", other)["id"]
    refused = upload(client, api, "kominfo", verification)
    assert refused.status_code == 409 and "tugas memberi tanggapan" in refused.json["error"]
    api.step("pendidikan", tracking_id, {"response": RESPONSE})
    assert upload(client, api, "pendidikan", task_id).status_code == 409  # answered already
    assert client.post(f"/api/v1/tasks/{task_id}/attachments").status_code == 401
    assert rows(app, tracking_id) == []


def test_documents_go_out_with_the_published_answer_and_the_citizen_downloads_them_with_the_token(app, api, client, doc):  # noqa: F811
    tracking_id, token, task_id = answering(api)
    sent = upload(client, api, "pendidikan", task_id).json
    kept_back = upload(client, api, "pendidikan", task_id, PDF, "draf.pdf").json
    refused = api.complete("pendidikan", task_id, {"response": RESPONSE, "attachments": [sent["id"], 987654]})
    assert refused.status_code == 400 and set(refused.json["errors"]) == {"attachments"}
    api.step("pendidikan", tracking_id, {"response": RESPONSE, "attachments": [sent["id"]]})
    citizen = bearer(token)
    own = f"/api/v1/complaints/{tracking_id}/attachments/{sent['id']}"
    assert client.get(own, headers=citizen).status_code == 404  # not before Admin Kominfo publishes the answer
    assert client.get(f"/api/v1/complaints/{tracking_id}", headers=citizen).json["answer"] is None
    api.step("kominfo", tracking_id, PUBLISH)

    view = check(doc, client.get(f"/api/v1/complaints/{tracking_id}", headers=citizen), "GET", "/complaints/{tracking_id}")
    assert view["answer"]["text"] == PUBLISH["answer"] and view["answer"]["at"]
    assert view["answer"]["attachments"] == [{"name": "jawaban-1.png", "url": own}]
    [answer] = [item for item in view["conversation"] if item["kind"] == "answer"]
    assert answer["attachments"] == [{"name": "jawaban-1.png", "url": own}]
    download = client.get(own, headers=citizen)
    assert download.status_code == 200 and download.mimetype == "image/png" and download.data.startswith(b"\x89PNG")
    assert "jawaban-1.png" in download.headers["Content-Disposition"] and download.headers["Cache-Control"] == "no-store"
    assert client.get(own).status_code == 404
    assert client.get(own, headers=bearer(api.submit()["access_token"])).status_code == 404  # another complaint's token
    assert client.get(f"/api/v1/complaints/{tracking_id}/attachments/{kept_back['id']}", headers=citizen).status_code == 404
    staff_download = login(app, "kominfo").get(f"/kasus/{tracking_id}/lampiran/{kept_back['id']}")
    assert staff_download.status_code == 200 and staff_download.mimetype == "application/pdf"  # staff see unpublished ones too
    assert "/Author" not in (PdfReader(io.BytesIO(staff_download.data)).metadata or {})  # stored without its metadata
    assert login(app, "kesehatan").get(f"/kasus/{tracking_id}/lampiran/{sent['id']}").status_code == 404


def test_the_public_downloads_published_documents_of_a_case_with_a_public_page_only(app, api, client):
    public_id, _token, task_id = answering(api)
    sent = upload(client, api, "pendidikan", task_id).json
    kept_back = upload(client, api, "pendidikan", task_id).json
    url = f"/pengaduan/{public_id}/dokumen/{sent['id']}"
    api.step("pendidikan", public_id, {"response": RESPONSE, "attachments": [sent["id"]]})
    assert client.get(url).status_code == 404  # answered by the unit, not yet published
    api.step("kominfo", public_id, PUBLISH)
    download = client.get(url)
    assert download.status_code == 200 and download.mimetype == "image/png"
    assert client.get(f"/pengaduan/{public_id}/dokumen/{kept_back['id']}").status_code == 404
    listed = client.get(f"/pengaduan/{public_id}").get_data(as_text=True)  # the case's public page lists what was published
    assert f'href="{url}">jawaban-1.png</a>' in listed and "jawaban-2.png" not in listed

    secret_id, _token, secret_task = answering(api, confidential=True)
    secret = upload(client, api, "pendidikan", secret_task).json
    api.step("pendidikan", secret_id, {"response": RESPONSE, "attachments": [secret["id"]]})
    api.step("kominfo", secret_id, PUBLISH)
    assert client.get(f"/pengaduan/{secret_id}/dokumen/{secret['id']}").status_code == 404
    assert client.get(f"/pengaduan/{public_id}/dokumen/{secret['id']}").status_code == 404  # another case's document
    assert client.get(f"/pengaduan/LPR-00000000/dokumen/{sent['id']}").status_code == 404


# ---- the pages ------------------------------------------------------------------------------------------------


def test_the_answer_task_page_uploads_documents_and_ticks_them_to_go_out_with_the_answer(app, api):
    tracking_id, token, task_id = answering(api)
    unit = login(app, "pendidikan")
    page = f"/tugas/{task_id}"
    html = unit.get(page).get_data(as_text=True)
    assert 'id="dokumen"' in html and 'name="file"' in html and 'name="attachments"' not in html  # nothing to tick yet
    sent = unit.post(
        f"{page}/dokumen", data={"csrf_token": csrf(unit, page), "file": (io.BytesIO(PDF), "jadwal.pdf")}, content_type="multipart/form-data"
    )
    assert sent.status_code == 302 and sent.headers["Location"].endswith(f"{page}#dokumen")
    html = unit.get(page).get_data(as_text=True)
    assert "Dokumen jawaban-1.pdf diunggah." in html
    [document] = rows(app, tracking_id)
    box = re.search(rf'<input type="checkbox" id="f-attachments-{document.id}" name="attachments" value="{document.id}" ([^>]*)>', html)
    assert box and "checked" in box.group(1)  # uploaded to go out with the answer: ticked
    assert f'href="/kasus/{tracking_id}/lampiran/{document.id}">jawaban-1.pdf</a>' in html

    wrong = unit.post(
        f"{page}/dokumen", data={"csrf_token": csrf(unit, page), "file": (io.BytesIO(b"text"), "catatan.txt")}, content_type="multipart/form-data"
    )
    assert wrong.status_code == 302
    assert "catatan.txt: hanya PDF, JPEG, atau PNG yang diterima." in unit.get(page).get_data(as_text=True)
    assert len(rows(app, tracking_id)) == 1

    done = unit.post(page, data={"csrf_token": csrf(unit, page), "response": RESPONSE, "attachments": str(document.id)})
    assert done.status_code == 302, done.get_data(as_text=True)
    api.step("kominfo", tracking_id, PUBLISH)
    citizen = app.test_client()
    citizen.get(f"/lacak/{tracking_id}", query_string={"token": token})  # exchanged for the case's cookie
    track = citizen.get(f"/lacak/{tracking_id}").get_data(as_text=True)
    link = f"/lacak/{tracking_id}/lampiran/{document.id}"
    assert f'<a href="{link}">jawaban-1.pdf</a>' in track
    download = citizen.get(link)
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert app.test_client().get(link).status_code == 404  # without the case's cookie


def test_another_unit_cannot_upload_on_the_page(app, api):
    tracking_id, _token, task_id = answering(api)
    other = login(app, "kesehatan")
    response = other.post(
        f"/tugas/{task_id}/dokumen",
        data={"csrf_token": csrf(other, "/tugas"), "file": (io.BytesIO(PNG), "a.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 404
    assert rows(app, tracking_id) == []
