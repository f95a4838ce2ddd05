"""Citizens' attachments: PDF, JPEG or PNG, at most 3 of 5 MB each, recognised by content."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from engine.store import Attachment, Case

MAX_FILES = 3
MAX_BYTES = 5 * 1024 * 1024
SIGNATURES = {b"%PDF-": "application/pdf", b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def folder() -> Path:
    path = Path(current_app.config.get("LAPOR_ATTACHMENTS_DIR") or Path(current_app.instance_path) / "attachments")
    path.mkdir(parents=True, exist_ok=True)
    return path


def sniff(head: bytes) -> str | None:
    return next((kind for magic, kind in SIGNATURES.items() if head.startswith(magic)), None)


def check(files: list[FileStorage]) -> tuple[list[tuple[FileStorage, bytes, str]], str | None, int]:
    """Read and check uploads. Returns ([(file, content, type)], error message or None, the HTTP status
    for the error: 413 for a file over MAX_BYTES, 400 otherwise)."""
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
        checked.append((file, content, kind))
    return checked, None, 200


def store(session, case: Case, checked: list[tuple[FileStorage, bytes, str]], now) -> None:
    for file, content, kind in checked:
        stored = secrets.token_hex(16)
        (folder() / stored).write_bytes(content)
        name = secure_filename(file.filename or "") or "lampiran"
        session.add(Attachment(case_id=case.id, stored_name=stored, filename=name[:200], content_type=kind, size=len(content), created_at=now))
