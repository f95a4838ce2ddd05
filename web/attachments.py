"""Citizens' attachments: PDF, JPEG or PNG, at most 3 of 5 MB each, recognised by content.

Every file is rewritten before it is stored (``strip``), so that nothing in it names or places the citizen beyond
what they chose to show: images are re-encoded without EXIF (GPS, camera owner, ``Artist``, ``Copyright``), XMP,
comments or PNG text chunks, upright as they were shown; PDFs are rewritten page by page without document info, XMP,
annotation authors (nested ones too) or the EXIF of the photos inside them (under any filter chain). A file that
cannot be rewritten is refused. The files are written here; their rows (and the names staff see, ``lampiran-<n>.<ext>``,
never the citizen's own file name) are engine/cases/attachments.py's. A unit's documents with its answer follow the same
rules, one file an upload (``store_for_answer``).
"""

from __future__ import annotations

import io
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Response, abort, current_app, send_file
from flask_babel import gettext as _
from PIL import Image, ImageOps, JpegImagePlugin
from pypdf import PdfReader, PdfWriter
from pypdf.filters import decode_stream_data
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, StreamObject
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from engine.cases import attachments as recorded
from engine.cases.service import CaseService
from engine.contract import Actor
from engine.db.tables import Attachment, Case

MAX_FILES = 3
MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 40-megapixel photo decodes to 160 MB at most; larger is no photo a 5 MB upload needs
SIGNATURES = {b"%PDF-": "application/pdf", b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}
# JPEG segments kept inside a PDF's photos: APP0 (JFIF), APP2 (ICC colour profile), APP14 (Adobe colour transform).
# Every other APPn (APP1 EXIF and XMP, APP13 IPTC, makers' notes) and COM (comments) is dropped.
KEPT_JPEG_SEGMENTS = frozenset({0xE0, 0xE2, 0xEE})

Checked = tuple[FileStorage, bytes, str]  # the upload, its content without metadata, its detected type


def folder() -> Path:
    path = Path(current_app.config.get("LAPOR_ATTACHMENTS_DIR") or Path(current_app.instance_path) / "attachments")
    path.mkdir(parents=True, exist_ok=True)
    return path


def sniff(head: bytes) -> str | None:
    return next((kind for magic, kind in SIGNATURES.items() if head.startswith(magic)), None)


def check(files: list[FileStorage]) -> tuple[list[Checked], str | None, int]:
    """Read, check and strip uploads. Returns ([(file, content without metadata, type)], error message or None, the
    HTTP status for the error: 413 for a file over MAX_BYTES, 400 otherwise (too many files, a type other than PDF,
    JPEG or PNG, a file that cannot be read as its type)."""
    files = [f for f in files if f and f.filename]
    if len(files) > MAX_FILES:
        return [], _("Paling banyak %(count)s lampiran.", count=MAX_FILES), 400
    checked = []
    for file in files:
        content = file.read(MAX_BYTES + 1)
        if len(content) > MAX_BYTES:
            return [], _("%(file)s: lebih dari 5 MB.", file=file.filename), 413
        kind = sniff(content[:8])
        if kind is None:
            return [], _("%(file)s: hanya PDF, JPEG, atau PNG yang diterima.", file=file.filename), 400
        try:
            content = strip(content, kind)
        except ValueError:
            return [], _("%(file)s: berkas rusak atau tidak dapat dibaca.", file=file.filename), 400
        checked.append((file, content, kind))
    return checked, None, 200


def _write(content: bytes, kind: str) -> recorded.StoredFile:
    """Write a checked file's content under a random name; the uploader's own file name is not kept."""
    stored = secrets.token_hex(16)
    (folder() / stored).write_bytes(content)
    return recorded.StoredFile(stored, kind, len(content))


def store(session: Session, case: Case, checked: list[Checked], now: datetime) -> None:
    """Write each of the citizen's checked files and record it."""
    recorded.record(session, case.id, [_write(content, kind) for _file, content, kind in checked], now)


def store_for_answer(service: CaseService, task_id: str, actor: Actor, checked: Checked) -> tuple[Attachment, str]:
    """Write a unit's checked document and record it for its answer task (CaseService.add_answer_file); returns its
    row and name. The file is removed again when the engine refuses it."""
    _upload, content, kind = checked
    file = _write(content, kind)
    try:
        return service.add_answer_file(task_id, file, actor)
    except Exception:
        (folder() / file.stored_name).unlink(missing_ok=True)
        raise


def send(files: list[tuple[Attachment, str]], attachment_id: int) -> Response:
    """The file ``attachment_id`` among ``files`` (what the reader may download of a case, each with its name) as a
    download under that name, never the uploader's own file name; the 404 page for any other id."""
    found = next(((item, name) for item, name in files if item.id == attachment_id), None)
    if found is None:
        abort(404)
    item, name = found
    return send_file(folder() / item.stored_name, mimetype=item.content_type, download_name=name, as_attachment=True)


# ---- metadata removal ---------------------------------------------------------------------------------------


def strip(content: bytes, kind: str) -> bytes:
    """``content`` (of type ``kind``) rewritten without identifying metadata. Raises ValueError when it cannot be read."""
    try:
        return _pdf(content) if kind == "application/pdf" else _image(content, kind)
    except Exception as error:  # noqa: BLE001 - Pillow and pypdf raise many kinds (OSError, SyntaxError, struct.error, ...) on a broken file
        raise ValueError(f"cannot rewrite the {kind} file: {error}") from error


def _image(content: bytes, kind: str) -> bytes:
    """Re-encoded with Pillow, upright (the EXIF orientation applied), keeping only the ICC colour profile and, in a
    PNG, its transparency: no EXIF, GPS, XMP, comment or text chunk. A JPEG keeps its quantisation tables (its quality)."""
    with Image.open(io.BytesIO(content), formats=[PILLOW_FORMATS[kind]]) as image:
        if image.width * image.height > MAX_PIXELS:
            raise ValueError(f"{image.width}x{image.height} pixels is over the limit")
        options: dict[str, Any] = {"icc_profile": image.info.get("icc_profile")}
        if kind == "image/jpeg":
            options |= {"qtables": image.quantization, "subsampling": JpegImagePlugin.get_sampling(image)}
        elif image.info.get("transparency") is not None:
            options["transparency"] = image.info["transparency"]
        upright = ImageOps.exif_transpose(image)
    upright.info = {}  # Pillow writes some of what it read (the JPEG comment, the ICC profile) unless told otherwise
    output = io.BytesIO()
    upright.save(output, PILLOW_FORMATS[kind], **{key: value for key, value in options.items() if value is not None})
    return output.getvalue()


def _pdf(content: bytes) -> bytes:
    """Rewritten with pypdf page by page: no document info, no XMP anywhere, no annotation author, no EXIF in the
    photos it holds. What is not a page (outline, attached files, scripts) is left behind."""
    reader = PdfReader(io.BytesIO(content))
    if reader.is_encrypted and not reader.decrypt(""):
        raise ValueError("encrypted with a password")
    writer = PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    writer.metadata = None
    for item in writer._objects:  # every object the pages use, copied into the new file
        if isinstance(item, DictionaryObject | ArrayObject):
            _scrub_all(item)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def _scrub_all(top: DictionaryObject | ArrayObject) -> None:
    """``_scrub`` the object and every dictionary written directly inside it (an annotation written into a page's
    /Annots array is no object of its own); what it refers to is an object of its own, scrubbed in its turn."""
    pending: list[DictionaryObject | ArrayObject] = [top]
    while pending:  # direct objects nest without cycles: only references (IndirectObject) can point back
        item = pending.pop()
        if isinstance(item, DictionaryObject):
            _scrub(item)
        inside = item.values() if isinstance(item, DictionaryObject) else item
        pending.extend(value for value in inside if isinstance(value, DictionaryObject | ArrayObject))


def _scrub(item: DictionaryObject) -> None:
    for key in ("/Metadata", "/PieceInfo"):  # XMP of a page or an image; an editor's private data
        item.pop(key, None)
    if "/Rect" in item and item.get("/Subtype") not in (None, "/Widget"):
        item.pop("/T", None)  # a comment's author (Acrobat writes the computer's user name); a form field's /T is its name
    if isinstance(item, StreamObject) and "/DCTDecode" in _filters(item):
        _strip_photo(item)


def _filters(stream: StreamObject) -> list[str]:
    """The names of the stream's filters, in the order they are decoded."""
    found = stream.get("/Filter")
    found = found.get_object() if found is not None else []
    return [str(name) for name in found] if isinstance(found, ArrayObject) else [str(found)]


def _strip_photo(stream: StreamObject) -> None:
    """A JPEG inside the PDF, without its metadata segments and stored as plain /DCTDecode: the filters around it
    (e.g. /FlateDecode over the JPEG) are decoded first, else its EXIF would be hidden in them. Raises ValueError for
    a filter after /DCTDecode (it would apply to the decoded pixels), which no PDF writer makes."""
    filters = _filters(stream)
    if filters[-1] != "/DCTDecode":
        raise ValueError(f"filter chain {filters} does not end in /DCTDecode")
    parameters = stream.get("/DecodeParms")
    parameters = parameters.get_object() if parameters is not None else None
    own = parameters[-1] if isinstance(parameters, ArrayObject) else parameters  # /DCTDecode's own, e.g. /ColorTransform
    jpeg = decode_stream_data(stream) if len(filters) > 1 else stream._data  # /DCTDecode itself is left encoded by pypdf
    stream._data = _jpeg_segments_stripped(jpeg)
    stream[NameObject("/Filter")] = NameObject("/DCTDecode")
    stream.pop("/DecodeParms", None)
    if isinstance(own, DictionaryObject):
        stream[NameObject("/DecodeParms")] = own


def _jpeg_segments_stripped(data: bytes) -> bytes:
    """The JPEG without its metadata segments (KEPT_JPEG_SEGMENTS): the image data itself is copied untouched."""
    if not data.startswith(b"\xff\xd8"):
        return data
    kept, at = [data[:2]], 2
    while at + 4 <= len(data) and data[at] == 0xFF:
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte before a marker
            at += 1
            continue
        if marker == 0xDA:  # start of scan: the compressed image follows
            break
        end = at + 2 + int.from_bytes(data[at + 2 : at + 4], "big")
        if not 0xE0 <= marker <= 0xEF and marker != 0xFE or marker in KEPT_JPEG_SEGMENTS:
            kept.append(data[at:end])
        at = end
    return b"".join(kept) + data[at:]
