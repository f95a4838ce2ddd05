"""Issue 7, part 12: citizens' attachments. Size limits answer 413, the type is read from the content
(never the name), files are stored under random names, and a download is only for staff who may see
the case, as an attachment the browser will not sniff.

Issue 15, finding 4: every file is stored without the metadata that names or places the citizen (EXIF with
GPS, ``Artist``, ``Copyright``; XMP; comments; PNG text chunks; PDF document info, XMP, annotation authors and
the EXIF of photos inside a PDF), keeping what it shows; one that cannot be rewritten is refused. Finding 5: a
download is named from its detected type and place in the case, never from the citizen's file name."""

from __future__ import annotations

import io
import re
import struct
import zlib

import pytest
from PIL import Image, ImageCms
from PIL.PngImagePlugin import PngInfo
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, StreamObject, TextStringObject
from sqlalchemy import select

from engine.db.tables import Attachment
from tests.security.conftest import row_counts
from tests.web.pages import PNG, complaint_form, csrf, login
from web.attachments import MAX_BYTES, MAX_PIXELS
from web.extensions import db

IDENTITY = "Budi Santoso"  # the reporter's name, as a camera, an editor or a PDF tool writes it into a file
ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def two_colours(mode: str = "RGB") -> Image.Image:
    """40 x 20 pixels: red on the left, blue on the right (so a rotation shows)."""
    image = Image.new(mode, (40, 20), "red")
    image.paste("blue", (20, 0, 40, 20))
    return image


def identifying_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x013B] = IDENTITY  # Artist
    exif[0x8298] = f"(c) {IDENTITY}"  # Copyright
    exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)  # GPSInfo: -7.4478, 112.7183 (Sidoarjo)
    gps.update({1: "S", 2: (7.0, 26.0, 52.0), 3: "E", 4: (112.0, 43.0, 6.0)})
    return exif


def jpeg(image: Image.Image | None = None, **options) -> bytes:
    output = io.BytesIO()
    (image or two_colours()).save(output, "JPEG", quality=90, **options)
    return output.getvalue()


def pdf(
    *,
    author: str | None = None,
    xmp: bytes | None = None,
    photo: bytes | None = None,
    note_by: str | None = None,
    pages: int = 1,
    deflated_photo: bool = False,
    inline_note: bool = False,
) -> bytes:
    """A PDF made with pypdf: blank A6 pages, optionally with document info, XMP, a photo and a comment. The photo is
    stored as /DCTDecode, or deflated on top (filters [/FlateDecode /DCTDecode]); the comment is an object of its own,
    or written directly into the page's /Annots array."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(298, 420)
    page = writer.pages[0]
    if author:
        writer.add_metadata({"/Author": author, "/Title": "Laporan jalan rusak"})
    if xmp:
        stream = StreamObject()
        stream.set_data(xmp)
        stream.update({NameObject("/Type"): NameObject("/Metadata"), NameObject("/Subtype"): NameObject("/XML")})
        writer._root_object[NameObject("/Metadata")] = writer._add_object(stream)
    if photo:
        image = StreamObject()
        image._data = zlib.compress(photo) if deflated_photo else photo
        for key, value in {"/Type": "/XObject", "/Subtype": "/Image", "/ColorSpace": "/DeviceRGB", "/Filter": "/DCTDecode"}.items():
            image[NameObject(key)] = NameObject(value)
        if deflated_photo:
            image[NameObject("/Filter")] = ArrayObject([NameObject("/FlateDecode"), NameObject("/DCTDecode")])
        image.update(
            {NameObject("/Width"): NumberObject(40), NameObject("/Height"): NumberObject(20), NameObject("/BitsPerComponent"): NumberObject(8)}
        )
        resources = DictionaryObject({NameObject("/XObject"): DictionaryObject({NameObject("/Foto"): writer._add_object(image)})})
        page[NameObject("/Resources")] = resources
        content = StreamObject()
        content._data = b"q 200 0 0 100 40 300 cm /Foto Do Q"
        page[NameObject("/Contents")] = writer._add_object(content)
    if note_by:
        note = {
            "/Type": NameObject("/Annot"),
            "/Subtype": NameObject("/Text"),
            "/T": TextStringObject(note_by),
            "/Contents": TextStringObject("lubang"),
        }
        annotation = DictionaryObject({NameObject(k): v for k, v in note.items()} | {NameObject("/Rect"): ArrayObject([NumberObject(0)] * 4)})
        page[NameObject("/Annots")] = ArrayObject([annotation if inline_note else writer._add_object(annotation)])
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


PDF = pdf()
JPEG = jpeg()
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


def test_a_file_of_exactly_five_megabytes_is_accepted(app, tmp_path):
    padding = MAX_BYTES - len(PNG) - len(b"Comment\0") - 12  # a text chunk fills the file up to the limit
    exactly = PNG[:-12] + png_chunk(b"tEXt", b"Comment\0" + b"x" * padding) + PNG[-12:]
    assert len(exactly) == MAX_BYTES
    assert post_complaint(app, [(exactly, "pas.png")]).status_code == 200
    assert [p.read_bytes() for p in (tmp_path / "files").iterdir()] == [PNG]  # stored without its text


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
    assert [i.filename for i in items] == ["lampiran-1.pdf", "lampiran-2.jpg", "lampiran-3.png"]  # the citizen's names are not kept
    assert not any(n in ("foto.png", "surat.pdf") for n in names)


def test_a_download_is_only_for_staff_who_may_see_the_case(app, api):
    response = post_complaint(app, [(PNG, "foto.png")], category="kesehatan")
    tracking_id = tracking_id_of(response)
    api.step("kominfo", tracking_id, {"unit": "dinas-kesehatan"})
    other = api.submit()["tracking_id"]  # a case with no attachment
    with app.app_context():
        item = db.session.scalar(select(Attachment))
    path = f"/kasus/{tracking_id}/lampiran/{item.id}"
    allowed = {"pusat", "kominfo", "kesehatan", "auditor", "analis"}  # who opens the case page
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


def test_a_download_is_named_from_its_type_and_place_never_from_the_citizens_file_name(app, api):
    response = post_complaint(app, [(PNG, "tmp_evil.html"), (PDF, 'laporan"; filename=evil.html; x=".pdf'), (JPEG, "KTP Budi Santoso.jpg")])
    tracking_id = tracking_id_of(response)
    with app.app_context():
        items = db.session.scalars(select(Attachment).order_by(Attachment.id)).all()
    kominfo = login(app, "kominfo")
    for item, name, kind in zip(
        items, ["lampiran-1.png", "lampiran-2.pdf", "lampiran-3.jpg"], ["image/png", "application/pdf", "image/jpeg"], strict=True
    ):
        got = kominfo.get(f"/kasus/{tracking_id}/lampiran/{item.id}")
        assert got.status_code == 200 and got.headers["Content-Type"] == kind
        assert got.headers["Content-Disposition"] == f"attachment; filename={name}"
    task = api.tasks("kominfo")[0]["id"]
    for page in (f"/kasus/{tracking_id}", f"/tugas/{task}"):
        html = login(app, "pusat" if page.startswith("/kasus") else "kominfo").get(page).get_data(as_text=True)
        assert re.findall(r">(lampiran-\d\.\w+)</a>", html) == ["lampiran-1.png", "lampiran-2.pdf", "lampiran-3.jpg"], page
        assert "evil" not in html and "Budi Santoso.jpg" not in html and "KTP" not in html, page


def stored_files(app, tmp_path) -> list[bytes]:
    """The stored content of every attachment, in upload order."""
    with app.app_context():
        names = db.session.scalars(select(Attachment.stored_name).order_by(Attachment.id)).all()
    return [(tmp_path / "files" / name).read_bytes() for name in names]


def downloaded(app, tracking_id: str) -> list[bytes]:
    """Every attachment of the case as Admin Kominfo downloads it, in upload order."""
    with app.app_context():
        ids = db.session.scalars(select(Attachment.id).order_by(Attachment.id)).all()
    kominfo = login(app, "kominfo")
    return [kominfo.get(f"/kasus/{tracking_id}/lampiran/{i}").data for i in ids]


def test_a_photos_exif_gps_xmp_and_comment_are_removed_and_it_stays_upright(app, tmp_path):
    sideways = two_colours().rotate(90, expand=True)  # as the sensor saw it: a camera held upright writes Orientation 6
    original = jpeg(
        sideways,
        exif=identifying_exif(orientation=6),
        xmp=f"<x:xmpmeta><dc:creator>{IDENTITY}</dc:creator></x:xmpmeta>".encode(),
        comment=IDENTITY.encode(),
        icc_profile=ICC,
    )
    assert IDENTITY.encode() in original and Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)
    response = post_complaint(app, [(original, "IMG_0001.jpg")])
    assert response.status_code == 200
    [stored] = stored_files(app, tmp_path)
    assert downloaded(app, tracking_id_of(response)) == [stored]
    assert IDENTITY.encode() not in stored and b"Exif" not in stored and b"xmpmeta" not in stored
    photo = Image.open(io.BytesIO(stored))
    assert photo.format == "JPEG" and not photo.getexif() and "xmp" not in photo.info and "comment" not in photo.info
    assert photo.info["icc_profile"] == ICC  # the colours stay as they were shot
    assert photo.size == (40, 20)  # the orientation is applied to the pixels (20 x 40 as stored): upright without EXIF to say so
    left, right = photo.convert("RGB").getpixel((5, 10)), photo.convert("RGB").getpixel((35, 10))
    assert left[0] > 200 > left[2] and right[2] > 200 > right[0]  # red left, blue right: the picture the citizen saw


def test_a_pngs_text_chunks_and_exif_are_removed_keeping_pixels_and_transparency(app, tmp_path):
    text = PngInfo()
    text.add_text("Author", IDENTITY)  # tEXt
    text.add_text("Comment", IDENTITY, zip=True)  # zTXt
    text.add_itxt("Description", IDENTITY)  # iTXt
    image = two_colours("RGBA")
    image.putpixel((0, 0), (0, 0, 0, 0))
    output = io.BytesIO()
    image.save(output, "PNG", pnginfo=text, exif=identifying_exif(), icc_profile=ICC)
    original = output.getvalue()
    assert all(chunk in original for chunk in (b"tEXt", b"zTXt", b"iTXt", b"eXIf"))
    assert post_complaint(app, [(original, "layar.png")]).status_code == 200
    [stored] = stored_files(app, tmp_path)
    assert not any(chunk in stored for chunk in (b"tEXt", b"zTXt", b"iTXt", b"eXIf")) and IDENTITY.encode() not in stored
    kept = Image.open(io.BytesIO(stored))
    assert kept.mode == "RGBA" and kept.tobytes() == image.tobytes() and kept.info["icc_profile"] == ICC  # lossless: every pixel


def test_a_pdfs_document_info_xmp_comment_author_and_photo_exif_are_removed_keeping_the_pages(app, tmp_path):
    photo = jpeg(exif=identifying_exif())
    original = pdf(
        author=IDENTITY, xmp=f"<x:xmpmeta><pdf:Author>{IDENTITY}</pdf:Author></x:xmpmeta>".encode(), photo=photo, note_by=IDENTITY, pages=3
    )
    assert original.count(IDENTITY.encode()) == 5  # document info, XMP, the comment's author, the photo's Artist and Copyright
    response = post_complaint(app, [(original, "surat.pdf")])
    assert response.status_code == 200
    [stored] = stored_files(app, tmp_path)
    assert downloaded(app, tracking_id_of(response)) == [stored]
    assert IDENTITY.encode() not in stored and b"xmpmeta" not in stored
    reader = PdfReader(io.BytesIO(stored))
    assert reader.metadata is None and "/Metadata" not in reader.trailer["/Root"]
    assert len(reader.pages) == 3 and [p.mediabox.height for p in reader.pages] == [420] * 3
    first = reader.pages[0]
    assert first["/Annots"][0].get_object()["/Contents"] == "lubang"  # the comment stays, its author does not
    [image] = first.images
    assert image.image.size == (40, 20) and not image.image.getexif()  # the photo is shown as before, without its EXIF


def test_a_deflated_photos_exif_and_an_inline_comments_author_are_removed_from_a_pdf(app, tmp_path):
    original = pdf(photo=jpeg(exif=identifying_exif()), deflated_photo=True, note_by=IDENTITY, inline_note=True)
    assert original.count(IDENTITY.encode()) == 1  # the comment's author; Artist and Copyright are inside the deflated photo
    before = PdfReader(io.BytesIO(original)).pages[0]
    assert IDENTITY.encode() in before["/Resources"]["/XObject"]["/Foto"].get_object().get_data()
    assert post_complaint(app, [(original, "surat.pdf")]).status_code == 200
    [stored] = stored_files(app, tmp_path)
    assert IDENTITY.encode() not in stored
    first = PdfReader(io.BytesIO(stored)).pages[0]
    photo = first["/Resources"]["/XObject"]["/Foto"].get_object()
    assert photo["/Filter"] == "/DCTDecode" and IDENTITY.encode() not in photo.get_data()
    [image] = first.images
    assert image.image.size == (40, 20) and not image.image.getexif()  # shown as before, without its EXIF
    [note] = first["/Annots"]
    assert note["/Contents"] == "lubang" and "/T" not in note  # the comment stays, its author does not


def header_only_png(width: int, height: int) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)) + png_chunk(b"IEND", b"")


def encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(PDF)))
    writer.encrypt("rahasia")
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (JPEG[: len(JPEG) // 2], "terpotong.jpg"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\0" * 32, "kosong.jpg"),
        (PNG[:20], "terpotong.png"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "rusak.png"),
        (header_only_png(8000, MAX_PIXELS // 8000 + 1), "raksasa.png"),  # refused before it is decoded
        (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n", "tanpa-halaman.pdf"),
        (b"%PDF-" + b"0" * 1000, "palsu.pdf"),
        (encrypted_pdf(), "berpassword.pdf"),
    ],
)
def test_a_file_that_cannot_be_rewritten_is_refused_with_a_field_error(app, tmp_path, content, name):
    before = row_counts(app)
    response = post_complaint(app, [(PNG, "baik.png"), (content, name)])
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"{name}: berkas rusak atau tidak dapat dibaca." in html and "Jalan berlubang di Sidoarjo" in html  # the input is kept
    assert row_counts(app) == before
    assert not (tmp_path / "files").exists() or not any((tmp_path / "files").iterdir())
