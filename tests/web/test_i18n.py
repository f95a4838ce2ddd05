"""The English translation: the catalogue is complete and current, and the pages switch language.

When a test here fails after you added or changed a user-visible string: run `bash scripts/i18n.sh`,
write the English for each empty msgstr in web/translations/en/LC_MESSAGES/messages.po, and run the
script again (it compiles the .mo). Indonesian sentences engine/ hands to the pages are marked with
``N_`` where engine/ writes them (engine/messages.py); the texts of processes/ and forms/ are listed in
web/labels.py (MODEL_TEXTS). pybabel extracts both.
"""

from __future__ import annotations

import ast
import io
import json
import re
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from lxml import etree

from engine import Conflict
from engine.cases import views
from engine.messages import Message, templates
from engine.notifications import notify
from tests.web.pages import complaint_form, csrf, login, open_task, submit
from web import labels

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "web" / "translations"
PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
FIX = "Run `bash scripts/i18n.sh`, write the English in web/translations/en/LC_MESSAGES/messages.po, run the script again."
# the keywords scripts/i18n.sh passes to pybabel extract (-k), besides babel's defaults
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "N_": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")
# the engine errors whose message a page may show (flashed, or as the error page's text)
ERROR_KINDS = ("Conflict", "InvalidData", "NotFound", "Forbidden", "DiagramError", "NoDiagramError")


# ---- the catalogue ---------------------------------------------------------------------------


def _extracted() -> dict[tuple[str, str | None], list[str]]:
    """{(msgid, msgctxt): ["file:line", ...]} for every message in the sources, as pybabel extract finds them."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[tuple[str, str | None], list[str]] = defaultdict(list)
    for filename, lineno, message, _comments, context in extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found[(msgid, context)].append(f"{filename}:{lineno}")
    return found


def _catalogue() -> Catalog:
    with PO.open("rb") as f:
        return read_po(f)


def _strings(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def _ids(message) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def _describe(key: tuple[str, str | None]) -> str:
    msgid, context = key
    return f"{msgid!r}" + (f" (msgctxt {context!r})" if context else "")


def test_every_message_in_the_sources_has_an_english_translation():
    catalogue = _catalogue()
    untranslated = []
    for key, where in _extracted().items():
        message = catalogue.get(*key)
        if message is None or not all(_strings(message)) or message.fuzzy:
            state = "missing" if message is None else "fuzzy" if message.fuzzy else "empty"
            untranslated.append(f"  {_describe(key)} [{state}] at {', '.join(where[:3])}")
    assert not untranslated, f"{len(untranslated)} message(s) without English:\n" + "\n".join(untranslated) + "\n" + FIX


def test_catalogue_holds_no_message_the_sources_no_longer_use():
    extracted = _extracted()
    stale = [_describe((_ids(m)[0], m.context)) for m in _catalogue() if m.id and (_ids(m)[0], m.context) not in extracted]
    assert not stale, "The catalogue still holds messages no source uses:\n  " + "\n  ".join(stale) + "\n" + FIX


def test_catalogue_header_is_not_fuzzy_and_has_english_plural_forms():
    catalogue = _catalogue()
    assert not catalogue.fuzzy, "the .po header is marked fuzzy: pybabel compile would skip the catalogue"
    assert str(catalogue.locale) == "en" and catalogue.num_plurals == 2


def test_committed_mo_is_the_compiled_po():
    compiled = io.BytesIO()
    write_mo(compiled, _catalogue())
    assert MO.is_file() and MO.read_bytes() == compiled.getvalue(), (
        f"{MO.relative_to(ROOT)} is not the compiled {PO.name}: run `bash scripts/i18n.sh compile`"
    )


def test_placeholders_of_each_translation_match_its_msgid():
    mismatched = []
    for message in _catalogue():
        if not message.id:
            continue
        wanted = set(PLACEHOLDER.findall(" ".join(_ids(message))))
        for translation in _strings(message):
            if translation and set(PLACEHOLDER.findall(translation)) != wanted:
                mismatched.append(f"  {message.id!r} -> {translation!r}")
    problems = [f"  {message.id!r}: {'; '.join(map(str, errors))}" for message, errors in _catalogue().check()]
    assert not mismatched and not problems, "Placeholders differ:\n" + "\n".join(mismatched + problems)


# ---- what the engine, the model and the forms hand to the pages ------------------------------


def _sample(node: ast.expr) -> str | None:
    """The text an expression builds, each varying part replaced by "X"; None if it is no text.
    A marked template (``N_("...")``, ``Message(N_("..."), ...)``) is its template."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("N_", "Message") and node.args:
        return _sample(node.args[0])
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "X" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _sample(node.left), _sample(node.right)
        return None if left is None and right is None else (left or "X") + (right or "X")
    return None


def _messages_in(node: ast.expr) -> list[ast.expr]:
    """The message expressions a value may hold: a dict's values, both ends of `{...}.get(k, default)`."""
    if isinstance(node, ast.Dict):
        return list(node.values)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" and isinstance(node.func.value, ast.Dict):
        return list(node.func.value.values) + list(node.args[1:])
    return [node]


def _targets(node: ast.AST) -> list[str]:
    """What an assignment writes: `errors["x"] = ...` gives "errors[]", `message = ...` gives "message"."""
    if not isinstance(node, ast.Assign):
        return []
    return [t.id if isinstance(t, ast.Name) else f"{t.value.id}[]" for t in node.targets if isinstance(getattr(t, "value", t), ast.Name)]


def _engine_messages() -> dict[str, str]:
    """{sample text: where} for each Indonesian message engine/ produces that a page shows:
    errors (flashed), field errors (beside the input), and the citizen's timeline."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "engine").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            texts: list[ast.expr] = []
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ERROR_KINDS and node.args:
                texts = _messages_in(node.args[0])
            elif "errors[]" in _targets(node) or (path.name == "views.py" and "message" in _targets(node)):
                texts = [node.value]
            elif isinstance(node, ast.FunctionDef) and path.name == "forms.py" and node.name == "_message":
                texts = [m for r in ast.walk(node) if isinstance(r, ast.Return) and r.value for m in _messages_in(r.value)]
            for text in texts:
                sample = _sample(text)
                if sample:
                    found[sample] = f"{path.relative_to(ROOT)}:{text.lineno}"
    for status, message in views.STATUS_MESSAGES.items():
        found[message] = f"engine/cases/views.py STATUS_MESSAGES[{status!r}]"
    for topic, (subject, _body) in notify.TEMPLATES.items():
        found[subject % defaultdict(lambda: "X")] = f"engine/notifications/notify.py TEMPLATES[{topic!r}] subject"
    for table in ("CATEGORY_NAMES", "STAGE_NAMES", "CLOCK_NAMES"):
        for code, name in getattr(notify, table).items():
            found[name] = f"engine/notifications/notify.py {table}[{code!r}]"
    return found


def _model_names() -> dict[str, str]:
    """Every named element of the process model: the case page draws them all on its diagram."""
    found = {}
    for path in sorted((ROOT / "processes").glob("*.bpmn")):
        tree = etree.parse(str(path))
        for element in tree.iterfind(".//{http://www.omg.org/spec/BPMN/20100524/MODEL}*[@name]"):
            tag = etree.QName(element).localname
            found[element.get("name")] = f"{path.relative_to(ROOT)}:{element.sourceline} {tag} {element.get('id')}"
    return found


def _form_texts() -> dict[str, str]:
    """Titles, descriptions and option names of forms/*.schema.json that have no x-…-en twin."""
    found = {}

    def walk(schema: dict, where: str) -> None:
        for key in ("title", "description"):
            if isinstance(schema.get(key), str) and not schema.get(f"x-{key}-en"):
                found[schema[key]] = f"{where} {key}"
        if schema.get("x-enumNames") and not schema.get("x-enumNames-en"):
            for name in schema["x-enumNames"]:
                found[name] = f"{where} x-enumNames"
        for name, prop in schema.get("properties", {}).items():
            walk(prop, f"{where}.{name}")

    for path in sorted((ROOT / "forms").glob("*.schema.json")):
        walk(json.loads(path.read_text()), str(path.relative_to(ROOT)))
    return found


def test_every_indonesian_text_the_pages_take_from_engine_model_and_forms_is_translatable():
    unknown = [
        f"  {text!r} ({where})" for text, where in {**_engine_messages(), **_model_names(), **_form_texts()}.items() if labels.match(text) is None
    ]
    assert not unknown, (
        "Pages show these texts but no template matches them: mark them with N_ where engine/ writes them, or list the texts\n"
        "of processes/ and forms/ in web/labels.py MODEL_TEXTS (write %(name)s for a part that varies):\n" + "\n".join(unknown) + "\nThen: " + FIX
    )


def test_engine_text_knows_every_sentence_pybabel_extracts_from_engine():
    from_engine = {msgid for (msgid, _context), where in _extracted().items() if any(w.startswith("engine/") for w in where)}
    assert templates() == from_engine


def test_an_engine_error_is_translated_from_its_template_and_values(app):
    error = Conflict("Tugas ini sedang dikerjakan oleh %(user)s.", user="budi")
    role = Message("Peran ini wajib punya satu unit berjenis %(kind)s.", kind="Satuan Kerja")
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        assert labels.engine_text(error) == labels.engine_text(error.message) == "budi is already working on this task."
        assert labels.engine_text(role) == "This role needs one unit of the type Regional work unit."
    with app.test_request_context():
        assert labels.engine_text(error) == error.message == "Tugas ini sedang dikerjakan oleh budi."


def test_engine_text_keeps_what_varies_and_translates_known_names(app):
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        assert labels.engine_text("Minimal 5 karakter.") == "Please use at least 5 characters."
        assert labels.engine_text("Laporan Anda telah diteruskan kepada Dinas Pendidikan Provinsi Jawa Timur.") == (
            "Your report has been forwarded to Dinas Pendidikan Provinsi Jawa Timur."
        )
        reminder = notify.TEMPLATES["pengingat"][0] % {"stage": notify.STAGE_NAMES["tanggapan"], "tracking_id": "LPR-7K2M9QXD", "clock": "batas SOP"}
        assert labels.engine_text(reminder) == "Reminder: the unit's answer for LPR-7K2M9QXD is past the SOP deadline"
        assert labels.engine_text("Teks yang tidak dikenal.") == "Teks yang tidak dikenal."
    with app.test_request_context():
        assert labels.engine_text("Minimal 5 karakter.") == "Minimal 5 karakter."


# ---- the pages ---------------------------------------------------------------------------------


def choose(client, lang: str, page: str = "/"):
    """Press the language button on ``page``; return the page it leads back to."""
    response = client.post(f"/bahasa/{lang}", data={"csrf_token": csrf(client, page)}, headers={"Referer": f"http://localhost{page}"})
    assert response.status_code == 302 and response.headers["Location"].endswith(page)
    return client.get(page).get_data(as_text=True)


def _html_lang(html: str) -> str:
    return re.search(r"<html lang=\"(\w+)\"", html).group(1)


class _Texts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.texts.extend(part.strip() for part in re.split(r"[:·—()«»]|\s{2,}", data) if part.strip())

    def handle_starttag(self, tag, attrs) -> None:
        self.texts.extend(v.strip() for k, v in attrs if k in ("title", "placeholder", "aria-label") and v)


def assert_no_indonesian(html: str) -> None:
    """No piece of text on the page is a catalogue msgid whose English differs (a string left untranslated)."""
    indonesian = {m.id: m.string for m in _catalogue() if m.id and not isinstance(m.id, tuple) and m.string != m.id}
    parser = _Texts()
    parser.feed(html)
    left = sorted({t for t in parser.texts if t in indonesian})
    assert not left, f"Untranslated on an English page: {left}"


def test_indonesian_is_the_default_and_english_is_chosen_on_the_page(client):
    html = client.get("/lapor").get_data(as_text=True)
    assert _html_lang(html) == "id" and "<h1>Sampaikan laporan</h1>" in html and "Judul laporan" in html

    html = choose(client, "en", "/lapor")
    assert _html_lang(html) == "en"
    assert "<h1>Submit a report</h1>" in html and 'lang="id">Bahasa Indonesia</button>' in html
    assert "Title" in html and "Date of the incident" in html and ">Education</option>" in html and "— choose —" in html
    assert "Tell us what happened, where, and what service you expected." in html  # a form description without x-description-en
    assert_no_indonesian(html)

    html = choose(client, "id", "/lapor")
    assert _html_lang(html) == "id" and "<h1>Sampaikan laporan</h1>" in html


def test_staff_sign_in_page_in_english(client):
    html = choose(client, "en", "/masuk")
    assert _html_lang(html) == "en" and "<h1>Staff sign-in</h1>" in html and "Username" in html and "Password" in html
    assert_no_indonesian(html)
    html = client.get("/tugas", follow_redirects=True).get_data(as_text=True)
    assert "Please sign in to open this page." in html


def test_accept_language_alone_does_not_switch_the_language(client):
    """Deliberate: the service speaks Indonesian unless the visitor presses the English button."""
    html = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert _html_lang(html) == "id" and "Sampaikan laporan" in html
    choose(client, "en")
    html = client.get("/", headers={"Accept-Language": "id-ID,id;q=0.9"}).get_data(as_text=True)
    assert _html_lang(html) == "en" and "Submit a report" in html


def test_unknown_language_is_ignored(client):
    response = client.post("/bahasa/fr", data={"csrf_token": csrf(client, "/")})
    assert response.status_code == 302 and "lang=" not in response.headers.get("Set-Cookie", "")
    assert _html_lang(client.get("/").get_data(as_text=True)) == "id"


def test_field_errors_from_the_engine_are_shown_in_english(client):
    choose(client, "en", "/lapor")
    data = {**complaint_form(title="abc", **{"reporter.email": "bukan-email"}), "csrf_token": csrf(client, "/lapor")}
    html = client.post("/lapor", data=data).get_data(as_text=True)
    assert "Please use at least 5 characters." in html and "Please enter a valid email address." in html
    assert "Please check the highlighted fields." in html
    assert_no_indonesian(html)


def test_citizen_pages_in_english(app):
    citizen, tracking_id, link = submit(app)
    choose(citizen, "en", "/")
    html = citizen.get(link).get_data(as_text=True)
    assert 'id="status">received<' in html
    assert "Your report has been received and is waiting for Admin Kominfo to forward it." in html
    assert "Withdraw report" in html
    assert_no_indonesian(html)
    for page in ("/", "/pengaduan", "/lacak"):
        html = citizen.get(page).get_data(as_text=True)
        assert _html_lang(html) == "en"
        assert_no_indonesian(html)
    assert "1 report" in citizen.get("/pengaduan").get_data(as_text=True)


def test_staff_pages_in_english(app):
    _citizen, tracking_id, _link = submit(app)
    kominfo = login(app, "kominfo")
    html = choose(kominfo, "en", "/tugas")
    assert "<h1>My tasks</h1>" in html and "1 open task" in html
    assert "Verify the complaint" in html and '<td data-label="Category">Education</td>' in html
    assert_no_indonesian(html)

    html = kominfo.get(f"/tugas/{open_task(app, tracking_id).id}").get_data(as_text=True)
    assert "<h2>Verify the report</h2>" in html and "Step 3: Admin Kominfo verifies the complaint" in html
    assert "Report received via the website" in html and "History" in html
    assert_no_indonesian(html)

    html = kominfo.get("/notifikasi").get_data(as_text=True)
    assert f"Report {tracking_id} is waiting to be forwarded" in html
    assert_no_indonesian(html)

    path = f"/tugas/{open_task(app, tracking_id).id}"
    response = kominfo.post(path, data={"unit": "dinas-pendidikan", "csrf_token": csrf(kominfo, path)}, follow_redirects=True)
    assert "Task completed. Thank you." in response.get_data(as_text=True)

    pusat = login(app, "pusat")
    choose(pusat, "en", "/kasus")
    for page in ("/kasus", f"/kasus/{tracking_id}"):
        html = pusat.get(page).get_data(as_text=True)
        assert _html_lang(html) == "en"
        assert_no_indonesian(html)
    assert "Accept the report (Regional work unit" in html and "received → forwarded" in html


@pytest.mark.parametrize("hours, english", [(1, "1 hour"), (5, "5 hours"), (25, "1 day 1 hour"), (50, "2 days 2 hours")])
def test_task_age_uses_english_plurals(app, hours, english):
    from datetime import datetime, timedelta

    from web import _age

    now = datetime(2026, 11, 30, 9, 0)
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        assert _age(now - timedelta(hours=hours), now) == english
    with app.test_request_context():
        assert _age(now - timedelta(hours=50), now) == "2 hari 2 jam"
