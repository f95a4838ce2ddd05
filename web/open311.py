"""Open311 GeoReport v2 under /open311 (docs/architecture.md, "Open311 GeoReport v2"): partner apps and civic tools
read the public cases as service requests and post complaints on their users' behalf.

- ``GET /open311`` and ``/open311/discovery.json|.xml``: the service discovery document.
- ``GET /open311/v2/services.json|.xml``: one service per category (``service_code`` = the category);
  ``GET /open311/v2/services/{code}.json|.xml``: its definition (no extra attributes: ``metadata`` is false).
- ``GET /open311/v2/requests.json|.xml``: the public cases (engine/cases/open311.py), newest first. Filters
  ``service_request_id`` (comma list; overrides the others), ``service_code`` and ``status`` (``open``/``closed``,
  comma lists), ``start_date``/``end_date`` (ISO 8601 on the submission instant; without an offset: WIB). Bounds, as the
  specification's default: 90 days (the last 90 without dates; 90 from the one date given; a longer span is a 400)
  and 1000 requests.
- ``GET /open311/v2/requests/{tracking_id}.json|.xml``: one, as a list of one; 404 for an unknown or non-public case.
- ``POST /open311/v2/requests.json|.xml``, form-encoded: ``api_key`` (a key Admin Pusat issued on /admin/mitra;
  400 without one, 403 for an unknown or revoked one), ``service_code``, ``description``, ``lat`` and ``long`` or
  ``address_string``, ``email`` (required: the reporter's receipt and answer go there), ``first_name``, ``last_name``,
  ``phone``; extension attributes ``attribute[title]`` (or ``title``; else the description's first words),
  ``attribute[anonymous]``, ``attribute[confidential]`` (``true``/``false``). It becomes a complaint of channel
  ``open311``; the answer is ``[{service_request_id, service_notice, account_id}]`` (201). ``jurisdiction_id``,
  ``media_url``, ``device_id``, ``account_id`` and ``address_id`` are accepted and ignored.

Errors are the specification's list ``[{"code": 400, "description": "field: message"}]`` (XML ``<errors><error>``),
one per field, in the language of ``Accept-Language`` (Indonesian unless ``en``). A reporter's name, email or phone is
never in any answer. The blueprint is exempt from CSRF (a key in the form, no cookie); web/security.py's input check
still runs first.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from lxml import etree
from werkzeug.exceptions import HTTPException

from engine import InvalidData
from engine.accounts.partners import partner_for_key
from engine.cases import open311 as requests_of
from engine.contract import CATEGORIES
from engine.definitions import forms
from engine.timekeeping.calendar import zone
from web.api.routes import localized, speaking
from web.extensions import db, service
from web.labels import ARCHIVE_REASON_LABELS, category_label, status_label

PREFIX = "/open311"
bp = Blueprint("open311", __name__, url_prefix=PREFIX)

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-06T00:00:00+07:00"  # when this endpoint last changed in a way clients may care about
FORMATS = {"json": "application/json", "xml": "text/xml"}
FORMAT = "<any(json, xml):fmt>"
AGENCY = "Dinas Komunikasi dan Informatika Provinsi Jawa Timur"  # holds every case until a unit gets it
MAX_SPAN = timedelta(days=90)
MAX_IDS = requests_of.MAX_RESULTS
TITLE_WORDS_LENGTH = 60  # a derived title: the description's first words, up to this many characters
TRUE, FALSE = ("true", "1", "ya", "yes"), ("false", "0", "tidak", "no", "")
# the complaint form's fields as Open311 names them (for field errors)
FIELD_NAMES = {
    "title": "attribute[title]",
    "body": "description",
    "category": "service_code",
    "location": "address_string",
    "latitude": "lat",
    "longitude": "long",
    "reporter": "email",
    "reporter.email": "email",
    "reporter.name": "first_name",
    "reporter.phone": "phone",
    "anonymous": "attribute[anonymous]",
    "confidential": "attribute[confidential]",
}
HTTP_MESSAGES = {
    404: _l("Alamat Open311 tidak ditemukan."),
    405: _l("Metode HTTP ini tidak diizinkan untuk alamat ini."),
    413: _l("Badan permintaan terlalu besar."),
    429: _l("Terlalu banyak permintaan; coba lagi sebentar lagi."),
    500: _l("Terjadi kesalahan pada server. Silakan coba lagi nanti."),
}


class Open311Error(Exception):
    """An answer in the specification's error format: ``errors`` is a list of (field or None, message)."""

    def __init__(self, status: int, errors: list[tuple[str | None, Any]]) -> None:
        super().__init__(status)
        self.status, self.errors = status, errors


# ---- answers -----------------------------------------------------------------------------------


def _format() -> str:
    """The format the path asks for; JSON where it names none (an unknown path, a wrong method)."""
    fmt = (request.view_args or {}).get("fmt")
    return fmt if fmt in FORMATS else ("xml" if request.path.endswith(".xml") else "json")


def answer(items: Any, root: str, item: str, status: int = 200) -> Response:
    """``items`` (a list of dicts, or one dict for the discovery document) as JSON, or as XML with root element
    ``root`` holding one ``item`` element per dict (lxml builds it: every text is escaped)."""
    if _format() == "json":
        response = jsonify(items)
    else:
        element = etree.Element(root)
        for entry in items if isinstance(items, list) else [items]:
            _xml_fields(etree.SubElement(element, item) if isinstance(items, list) else element, entry)
        body = etree.tostring(element, xml_declaration=True, encoding="UTF-8", pretty_print=True)
        response = Response(body, content_type="text/xml; charset=utf-8")
    response.status_code = status
    return response


def _xml_fields(parent: etree._Element, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        child = etree.SubElement(parent, name)
        if isinstance(value, dict):
            _xml_fields(child, value)
        elif isinstance(value, list):  # the discovery document's lists: <formats><format>..</format></formats>
            for entry in value:
                inner = etree.SubElement(child, name.removesuffix("s"))
                if isinstance(entry, dict):
                    _xml_fields(inner, entry)
                else:
                    inner.text = _xml_text(entry)
        else:
            child.text = _xml_text(value)


def _xml_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def error_response(status: int, errors: list[tuple[str | None, Any]]) -> Response:
    with speaking():
        listed = [{"code": status, "description": f"{field}: {localized(text)}" if field else localized(text)} for field, text in errors]
    return answer(listed, "errors", "error", status)


@bp.errorhandler(Open311Error)
def _open311_error(err: Open311Error) -> Response:
    db.session.rollback()
    return error_response(err.status, err.errors)


@bp.errorhandler(HTTPException)
@bp.errorhandler(404)  # by code as well: the app's HTML error pages are found by code before by class
@bp.errorhandler(405)
def _http_error(err: HTTPException) -> Response:
    """404, 405, 413, the input check's 400 (web/security.py) and the 500 of an unhandled exception."""
    db.session.rollback()
    code = err.code or 500
    response = error_response(code, [(None, HTTP_MESSAGES.get(code) or err.description or err.name)])
    response.headers.update({k: v for k, v in err.get_headers() if k.lower() != "content-type"})
    return response


@bp.before_app_request
def _routing_errors_in_spec_format() -> Response | None:
    """Unknown /open311 paths and wrong methods fail before any blueprint is chosen: answer them here."""
    err = request.routing_exception
    if isinstance(err, HTTPException) and err.code in (404, 405) and (request.path == PREFIX or request.path.startswith(PREFIX + "/")):
        return _http_error(err)
    return None


@bp.after_request
def _not_cached_when_posted(response: Response) -> Response:
    if request.method == "POST":
        response.headers["Cache-Control"] = "no-store"
    return response


# ---- discovery and services ---------------------------------------------------------------------


@bp.get("")
@bp.get(f"/discovery.{FORMAT}")
def discovery(fmt: str = "json") -> Response:
    base = current_app.config["LAPOR_BASE_URL"].rstrip("/")
    with speaking():
        document = {
            "changeset": CHANGESET,
            "contact": gettext("Dinas Komunikasi dan Informatika Provinsi Jawa Timur, %(url)s", url=base + "/"),
            "key_service": gettext("Kunci API diterbitkan oleh Admin Pusat; hubungi Dinas Kominfo Provinsi Jawa Timur."),
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": f"{base}{PREFIX}/v2",
                    "changeset": CHANGESET,
                    "type": "production",
                    "formats": list(FORMATS.values()),
                }
            ],
        }
    return answer(document, "discovery", "discovery")


def _service(code: str) -> dict[str, Any]:
    name = category_label(code)
    return {
        "service_code": code,
        "service_name": name,
        "description": gettext("Pengaduan tentang pelayanan publik bidang %(name)s.", name=name),
        "metadata": False,
        "type": "realtime",
        "keywords": code,
        "group": gettext("Pengaduan"),
    }


@bp.get(f"/v2/services.{FORMAT}")
def services(fmt: str) -> Response:
    with speaking():
        return answer([_service(code) for code in CATEGORIES], "services", "service")


@bp.get(f"/v2/services/<code>.{FORMAT}")
def service_definition(code: str, fmt: str) -> Response:
    if code not in CATEGORIES:
        raise Open311Error(404, [("service_code", _l("Layanan ini tidak ada."))])
    return answer({"service_code": code, "attributes": []}, "service_definition", "service_definition")


# ---- service requests ------------------------------------------------------------------------------


def _iso(instant: datetime | None) -> str | None:
    return instant.astimezone(zone()).isoformat(timespec="seconds") if instant else None


def _status_notes(found: requests_of.PublicRequest) -> str:
    notes = status_label(found.status)
    if found.archive_reason in ARCHIVE_REASON_LABELS:
        notes += f" ({ARCHIVE_REASON_LABELS[found.archive_reason]})"
    return f"{notes}: {found.answer}" if found.answer else notes


def _request_fields(found: requests_of.PublicRequest) -> dict[str, Any]:
    """One service request as the specification names its fields (and ``title``, an extension). Never the reporter."""
    return {
        "service_request_id": found.tracking_id,
        "status": found.open311_status,
        "status_notes": _status_notes(found),
        "service_name": category_label(found.category),
        "service_code": found.category,
        "title": found.title,
        "description": found.description,
        "agency_responsible": "; ".join(found.units) or AGENCY,
        "service_notice": None,
        "requested_datetime": _iso(found.submitted_at),
        "updated_datetime": _iso(found.updated_at),
        "expected_datetime": None,
        "address": found.address,
        "address_id": None,
        "zipcode": None,
        "lat": found.latitude,
        "long": found.longitude,
        "media_url": None,
    }


def _listed_args(name: str, allowed: Iterable[str]) -> list[str]:
    """A comma list of the query string (``name`` may also be repeated); raises Open311Error(400) for an unknown value."""
    values = [value.strip() for raw in request.args.getlist(name) for value in raw.split(",") if value.strip()]
    allowed = tuple(allowed)
    if unknown := [value for value in values if value not in allowed]:
        raise Open311Error(
            400, [(name, _l("Nilai tidak dikenal: %(values)s. Pilihan: %(choices)s.", values=", ".join(unknown), choices=", ".join(allowed)))]
        )
    return values


def _date_arg(name: str) -> datetime | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        instant = datetime.fromisoformat(raw)
    except ValueError:
        raise Open311Error(400, [(name, _l("Tanggal dan waktu harus ISO 8601, mis. 2026-11-30T09:00:00+07:00."))]) from None
    return instant if instant.tzinfo else instant.replace(tzinfo=zone())


def _window() -> tuple[datetime, datetime]:
    """The submission instants searched: the specification's default span of 90 days at most."""
    start, end = _date_arg("start_date"), _date_arg("end_date")
    if start and end:
        if end < start:
            raise Open311Error(400, [("end_date", _l("Harus sesudah start_date."))])
        if end - start > MAX_SPAN:
            raise Open311Error(400, [("end_date", _l("Rentang start_date sampai end_date paling lama %(days)s hari.", days=MAX_SPAN.days))])
        return start, end
    if start:
        return start, start + MAX_SPAN
    end = end or current_app.config["LAPOR_CLOCK"].now()
    return end - MAX_SPAN, end


@bp.get(f"/v2/requests.{FORMAT}")
def requests(fmt: str) -> Response:
    with speaking():
        ids = [value.strip() for value in request.args.get("service_request_id", "").split(",") if value.strip()]
        if len(ids) > MAX_IDS:
            raise Open311Error(400, [("service_request_id", _l("Paling banyak %(count)s nomor sekaligus.", count=MAX_IDS))])
        if ids:  # the specification: the ids override every other argument
            found = requests_of.public_requests(db.session, tracking_ids=ids)
        else:
            categories = _listed_args("service_code", CATEGORIES)
            statuses = _listed_args("status", requests_of.STATUS_GROUPS)
            start, end = _window()
            found = requests_of.public_requests(db.session, categories=categories, statuses=statuses, start=start, end=end)
        return answer([_request_fields(one) for one in found], "service_requests", "request")


@bp.get(f"/v2/requests/<tracking_id>.{FORMAT}")
def one_request(tracking_id: str, fmt: str) -> Response:
    found = requests_of.public_request(db.session, tracking_id)
    if found is None:
        raise Open311Error(404, [("service_request_id", _l("Permintaan layanan ini tidak ditemukan."))])
    with speaking():
        return answer([_request_fields(found)], "service_requests", "request")


# ---- posting a request ---------------------------------------------------------------------------------


def _text(name: str, *aliases: str) -> str:
    return next((value.strip() for key in (name, *aliases) if (value := request.form.get(key, "")).strip()), "")


def _derived_title(description: str) -> str:
    """The description's first words, at most TITLE_WORDS_LENGTH characters (cut at a word; "..." when cut)."""
    words = " ".join(description.split())
    if len(words) <= TITLE_WORDS_LENGTH:
        return words
    return words[:TITLE_WORDS_LENGTH].rsplit(" ", 1)[0].rstrip(",.;:") + "..."


def _complaint() -> tuple[dict[str, Any], dict[str, Any], bool]:
    """The posted form as a ``pengaduan``; the errors found before the engine's own checks (by Open311 field name);
    whether the title was derived from the description."""
    errors: dict[str, Any] = {}
    description = _text("description")
    title = _text("attribute[title]", "title")
    data: dict[str, Any] = {"title": title or _derived_title(description), "body": description, "category": _text("service_code")}
    raw_lat, raw_long = _text("lat"), _text("long")
    for field, raw, key in (("lat", raw_lat, "latitude"), ("long", raw_long, "longitude")):
        if raw:
            try:
                value = float(raw)
            except ValueError:
                value = math.nan
            if math.isfinite(value):
                data[key] = value
            else:
                errors[field] = _l("Harus berupa angka (derajat desimal WGS84).")
    if bool(raw_lat) != bool(raw_long):
        errors["long" if raw_lat else "lat"] = _l("Kirim lat dan long bersama-sama.")
    if address := _text("address_string"):
        data["location"] = address
    if not (raw_lat and raw_long) and not address and not errors:
        errors["address_string"] = _l("Kirim lokasi: lat dan long, atau address_string.")
    for flag in ("anonymous", "confidential"):
        raw = _text(f"attribute[{flag}]").lower()
        if raw not in TRUE + FALSE:
            errors[f"attribute[{flag}]"] = _l("Isi true atau false.")
        data[flag] = raw in TRUE
    reporter = {"email": _text("email")} if _text("email") else {}
    if name := " ".join(part for part in (_text("first_name"), _text("last_name")) if part):
        reporter["name"] = name
    if phone := _text("phone"):
        reporter["phone"] = phone
    data["reporter"] = reporter
    return data, errors, not title


def _field_errors(errors: dict[str, Any], title_derived: bool, first: dict[str, Any] | None = None) -> list[tuple[str | None, Any]]:
    """The engine's field errors under the Open311 names, one per field (``first``: errors already under those names,
    which win); a derived title's fault is the description's."""
    named: dict[str, Any] = dict(first or {})
    for path, message in errors.items():
        field = FIELD_NAMES.get(path, FIELD_NAMES.get(path.split(".")[0], path))
        if field == "attribute[title]" and title_derived:
            field = "description"
        named.setdefault(field, message)
    return list(named.items())


@bp.post(f"/v2/requests.{FORMAT}")
def create_request(fmt: str) -> Response:
    key = request.form.get("api_key", "").strip()
    if not key:
        raise Open311Error(400, [("api_key", _l("Wajib diisi: kunci API dari Admin Pusat."))])
    partner = partner_for_key(db.session, key)
    if partner is None:
        raise Open311Error(403, [("api_key", _l("Kunci API tidak dikenal atau sudah dicabut."))])
    data, errors, title_derived = _complaint()
    if errors:  # with the form's own checks of the rest: one error per field, all at once
        svc = service()
        parsed = svc.parsed_for(svc.current_definition())
        today = svc.clock.now().astimezone(zone()).date()
        found = forms.field_errors(svc.served_form(parsed, parsed.start_form), data, today)
        raise Open311Error(400, _field_errors({**errors, **found}, title_derived, first=errors))
    try:
        submitted = service().submit(data, channel="open311")
    except InvalidData as err:
        raise Open311Error(400, _field_errors(err.errors, title_derived)) from None
    db.session.commit()
    # who posted it: the partner's key id and prefix, never the key or the reporter
    current_app.logger.info("open311: partner key %s (%s) submitted %s", partner.id, partner.prefix, submitted.case.tracking_id)
    with speaking():
        notice = gettext(
            "Laporan Anda telah diterima dengan nomor %(tracking_id)s. Tanda terima dan jawabannya dikirim ke email pelapor.",
            tracking_id=submitted.case.tracking_id,
        )
        return answer(
            [{"service_request_id": submitted.case.tracking_id, "service_notice": notice, "account_id": None}], "service_requests", "request", 201
        )
