"""Idempotent complaint submission: the same submission sent twice (a double click, a retried request) makes one case.

The web form carries a one-time key made when the form is rendered (hidden field ``FORM_FIELD``); API clients send
an ``Idempotency-Key`` header (a UUID, say). The first submission under a key stores, in table ``submission_key``,
the hash of the key, the hash of the request (its fingerprint: channel, form data, attachments) and the case it
made. A later one under the same key gets that case back and creates nothing; under the same key with another
request it is refused (KeyReused: the IETF idempotency-key draft's 422). Two at the same moment: the key hash is
the table's primary key, so the second one's insert waits for the first to commit, fails, and is answered with the
first one's case.

The case's access token is handed back again without being stored anywhere in clear: a keyed submission's token is
derived from the key with the app's secret, ``HMAC(secret, "submission:" + key)``; the table holds only hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage

from engine.cases import submission_keys
from engine.cases.ids import hash_token, token_matches
from engine.contract import Actor
from engine.db.tables import Case
from web.extensions import db, service

FORM_FIELD = "submission_key"
HEADER = "Idempotency-Key"
# what the IETF draft's examples and every client library send (UUIDs, random strings), bounded
_USABLE_KEY = re.compile(r"[ -~]{1,255}")


class KeyReused(Exception):
    """The key came with another request before (or its case can no longer be answered with): nothing is created."""


@dataclass(frozen=True)
class Submission:
    case: Case
    access_token: str
    replayed: bool  # True: the answer of an earlier submission under the same key; nothing was created now


def new_form_key() -> str:
    """A one-time key for a freshly rendered complaint form."""
    return secrets.token_urlsafe(24)


def usable_key(raw: str | None) -> str | None:
    """The key of a header or form field: None when there is none. Surrounding blanks are dropped, and the quotes of
    the IETF draft's structured-header form (``"8e03978e-..."``). Raises ValueError for a key that is empty, longer than
    255 characters, or holds anything but printable ASCII."""
    if raw is None:
        return None
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not _USABLE_KEY.fullmatch(key):
        raise ValueError("unusable idempotency key")
    return key


def form_key(form: Mapping[str, str]) -> str | None:
    """The complaint form's one-time key; None when it is missing or was tampered with (the form then works as before)."""
    try:
        return usable_key(form.get(FORM_FIELD))
    except ValueError:
        return None


def submit_once(data: Any, channel: str, key: str | None, files: Sequence[str] = (), recorded_by: Actor | None = None) -> Submission:
    """Submit the complaint ``data`` (``files``: the upload_digests of its attachments) in the request's transaction,
    once per ``key``; without a key, as any submission. ``recorded_by``: the Admin Kominfo or Admin Pusat typing in a
    complaint received by phone, letter, in person... (CaseService.submit). Returns the new case, or the case an earlier
    submission under ``key`` made (``replayed``, nothing written). Raises KeyReused when ``key`` came with another
    request, and InvalidData and Forbidden as CaseService.submit does."""
    if key is None:
        submitted = service().submit(data, channel=channel, recorded_by=recorded_by)
        return Submission(submitted.case, submitted.access_token, replayed=False)
    key_hash, fingerprint = hash_token(key), _fingerprint(channel, data, files, recorded_by)
    if (earlier := _earlier(key, key_hash, fingerprint)) is not None:
        return earlier
    svc = service()
    submitted = svc.submit(data, channel=channel, access_token=_token(key), recorded_by=recorded_by)
    try:
        submission_keys.remember(db.session, key_hash, fingerprint, submitted.case, svc.clock.now())
    except IntegrityError:
        # the same key at the same moment: the other request stored its case first (this one waited for its commit)
        db.session.rollback()
        if (earlier := _earlier(key, key_hash, fingerprint)) is not None:
            return earlier
        raise
    return Submission(submitted.case, submitted.access_token, replayed=False)


def _earlier(key: str, key_hash: str, fingerprint: str) -> Submission | None:
    """The submission stored under the key, None when there is none. Raises KeyReused when it came with another
    request, or when the token derived from the key no longer opens its case (the app's secret changed since)."""
    found = submission_keys.stored(db.session, key_hash)
    if found is None:
        return None
    stored_fingerprint, case = found
    token = _token(key)
    if case is None or not hmac.compare_digest(stored_fingerprint, fingerprint) or not token_matches(token, case.access_token_hash):
        raise KeyReused
    return Submission(case, token, replayed=True)


def _token(key: str) -> str:
    """The access token of the case submitted under ``key``: 192 bits of HMAC-SHA256 with the app's secret, URL-safe
    like a random one (engine.cases.ids.new_access_token)."""
    secret = current_app.config["SECRET_KEY"]
    secret = secret if isinstance(secret, bytes) else str(secret).encode()
    digest = hmac.new(secret, b"submission:" + key.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode()


def upload_digests(files: Sequence[FileStorage]) -> list[str]:
    """The SHA-256 of each uploaded file as it was sent (before metadata stripping, which need not give the same bytes
    twice). Reads each file from its start again."""
    digests = []
    for file in files:
        file.stream.seek(0)
        digests.append(hashlib.file_digest(file.stream, "sha256").hexdigest())
    return digests


def _fingerprint(channel: str, data: Any, files: Sequence[str], recorded_by: Actor | None = None) -> str:
    """The hash of what was submitted, whatever the order of its JSON keys or its whitespace; who recorded it is part
    of it, so a staff member's submission and a citizen's under one key differ."""
    request: dict[str, Any] = {"channel": channel, "data": data, "files": list(files)}
    if recorded_by is not None:  # absent for a citizen: fingerprints stored before staff intake existed still match
        request["recorded_by"] = {"username": recorded_by.username, "role": recorded_by.role}
    return hashlib.sha256(json.dumps(request, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
