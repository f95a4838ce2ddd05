"""Issue 7, part 12: citizens' attachments. Size limits answer 413, the type is read from the content
(never the name), files are stored under random names, and a download is only for staff who may see
the case, as an attachment the browser will not sniff."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from engine.store import Attachment
from tests.security.conftest import row_counts
from tests.web.pages import PNG, complaint_form, csrf, login
from web import db
from web.attachments import MAX_BYTES

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\0" * 32
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\0" * 48
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'


def post_complaint(app, files: list[tuple[bytes, str]], **overrides):
    client = app.test_client()
    data = {**complaint_form(**overrides), "csrf_token": csrf(client, "/lapor"), "lampiran": [(io.BytesIO(c), n) for c, n in files]}
    return client.post("/lapor", data=data, content_type="multipart/form-data")


def tracking_id_of(response) -> str:
    return re.search(r'id="tracking-id">(LPR-[0-9A-Z]{8})<', response.get_data(as_text=True)).group(1)


def test_a_request_over_the_size_limit_gets_413_and_writes_nothing(app):
    before = row_counts(app)
    response = post_complaint(app, [(b"%PDF-" + b"0" * app.config["MAX_CONTENT_LENGTH"], "besar.pdf")])
    assert response.status_code == 413
    assert row_counts(app) == before


def test_a_file_over_five_megabytes_gets_413_with_the_form_and_its_message(app, tmp_path):
    before = row_counts(app)
    response = post_complaint(app, [(b"%PDF-" + b"0" * MAX_BYTES, "besar.pdf")])
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "besar.pdf: lebih dari 5 MB." in html and "Jalan berlubang di Sidoarjo" in html  # the input is kept
    assert row_counts(app) == before
    assert not (tmp_path / "files").exists() or not any((tmp_path / "files").iterdir())


def test_a_file_of_exactly_five_megabytes_is_accepted(app):
    assert post_complaint(app, [(b"%PDF-" + b"0" * (MAX_BYTES - 5), "pas.pdf")]).status_code == 200


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (HTML, "x.png"),
        (HTML, "x.jpg"),
        (EXE, "x.pdf"),
        (EXE, "setup.exe"),
        (SVG, "gambar.png"),
        (b"", "kosong.pdf"),
        (b"PK\x03\x04" + b"\0" * 40, "dokumen.pdf"),  # a zip / docx
        (b"GIF89a" + b"\0" * 40, "animasi.png"),
        (b"%PD", "pendek.pdf"),
        (b" %PDF-1.4", "spasi.pdf"),
    ],
)
def test_a_file_that_is_not_pdf_jpeg_or_png_is_refused_whatever_its_name(app, tmp_path, content, name):
    before = row_counts(app)
    response = post_complaint(app, [(PNG, "baik.png"), (content, name)])
    assert response.status_code == 400
    assert f"{name}: hanya PDF, JPEG, atau PNG yang diterima." in response.get_data(as_text=True)
    assert row_counts(app) == before
    assert not (tmp_path / "files").exists() or not any((tmp_path / "files").iterdir())


def test_more_than_three_files_are_refused(app):
    before = row_counts(app)
    response = post_complaint(app, [(PNG, f"{i}.png") for i in range(4)])
    assert response.status_code == 400 and "Paling banyak 3 lampiran." in response.get_data(as_text=True)
    assert row_counts(app) == before


def test_the_type_is_read_from_the_content_and_the_stored_name_is_random(app, tmp_path):
    response = post_complaint(app, [(PDF, "foto.png"), (JPEG, "surat.pdf"), (PNG, "../../../etc/passwd")])
    assert response.status_code == 200
    with app.app_context():
        items = db.session.scalars(select(Attachment).order_by(Attachment.id)).all()
    assert [i.content_type for i in items] == ["application/pdf", "image/jpeg", "image/png"]  # by content, not by the name
    names = [i.stored_name for i in items]
    assert all(re.fullmatch(r"[0-9a-f]{32}", n) for n in names) and len(set(names)) == 3
    assert sorted(p.name for p in (tmp_path / "files").iterdir()) == sorted(names)  # nothing else, nowhere else
    assert items[2].filename == "etc_passwd"  # the name as shown: no path
    assert not any(n in ("foto.png", "surat.pdf") for n in names)


def test_a_download_is_only_for_staff_who_may_see_the_case(app, api):
    response = post_complaint(app, [(PNG, "foto.png")], category="kesehatan")
    tracking_id = tracking_id_of(response)
    api.step("kominfo", tracking_id, {"unit": "dinas-kesehatan"})
    other = api.submit()["tracking_id"]  # a case with no attachment
    with app.app_context():
        item = db.session.scalar(select(Attachment))
    path = f"/kasus/{tracking_id}/lampiran/{item.id}"
    allowed = {"pusat", "kominfo", "kesehatan", "auditor"}
    for username in ("pusat", "kominfo", "pendidikan", "kesehatan", "binamarga", "bpn", "kemenag", "auditor", "analis"):
        got = login(app, username).get(path)
        if username in allowed:
            assert got.status_code == 200 and got.data == PNG, username
            assert got.headers["Content-Disposition"].startswith("attachment;"), username
            assert got.headers["Content-Type"] == "image/png" and got.headers["X-Content-Type-Options"] == "nosniff"
            assert got.headers["Cache-Control"] == "no-store"
        else:
            assert got.status_code in (403, 404) and got.data != PNG, username
        # the same attachment under another case's tracking id: not found, for everyone
        assert login(app, username).get(f"/kasus/{other}/lampiran/{item.id}").status_code in (403, 404), username
    assert app.test_client().get(path).status_code == 302  # to the sign-in page
    submitted_by = api.submit()
    citizen = app.test_client().get(path, headers={"Authorization": f"Bearer {submitted_by['access_token']}"})
    assert citizen.status_code == 302


def test_a_downloaded_file_keeps_a_safe_name_in_its_header(app):
    response = post_complaint(app, [(PDF, 'laporan"; filename=evil.html; x=".pdf')])
    tracking_id = tracking_id_of(response)
    with app.app_context():
        item = db.session.scalar(select(Attachment))
    got = login(app, "kominfo").get(f"/kasus/{tracking_id}/lampiran/{item.id}")
    assert got.status_code == 200
    disposition = got.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "evil.html;" not in disposition and '"' not in item.filename
