"""The anonymity walks: a reporter's name, email and phone appear in no output the redaction rule
(engine/cases/access.py, ``sight``) hides them from.

1. The lifecycle walk (issue 7, part 10): an anonymous and confidential complaint. Its reporter appears in
   no page, API response, export, history view, staff mail, notification or log line that staff or the
   public can see: a whole case is driven through every step (with both loops, a reassignment, missed
   deadlines, mail that cannot be delivered, a reply and a withdrawal), and after each step every GET route
   in the URL map (routes other engineers add included) is rendered for every role and for the public, and
   searched.
2. The matrix (issue 15, finding 3): four cases, one per flag combination (neither, confidential,
   anonymous, both), each with a reporter of its own, built once for the module. Every staff role (Admin
   Pusat, Admin Kominfo, the case's unit, another unit, auditor, analyst) × every output (below, OUTPUTS)
   is one test; it searches that role's output for the reporter of each case the rule hides from that role.
   Figures: 6 roles × 19 outputs = 114 role × output combinations, over 4 flag combinations = 456
   role × flags × output combinations, 342 of which the rule hides and are searched (the rest show the
   reporter by the rule, and a test checks the search finds them there); leaks found: 0.
   ``test_the_matrix_figures_are_the_ones_recorded`` keeps these figures true.

Only the reporter's own outputs may carry them: the mail sent to the reporter's address and the
tracking page opened with the access token. The development mailbox (a developer's view of the whole
outbox, served only to a browser on the same machine without a mail server) is left out, and checked to
be unreachable in production in test_sessions_headers.py.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import Actor, FakeClock
from engine.accounts.partners import Partners
from engine.cases import access
from engine.db.tables import Attachment, AuditEvent, Case, Notification, OpenTask, OutboxMail, Unit, User
from engine.worker import run_once
from tests.conftest import BACKEND, MONDAY_9AM, PG_SERVER_URL, PgDatabase
from tests.scenarios import COMPLAINT
from tests.security.conftest import STAFF, bearer, build_url, url_rules
from tests.web.pages import PNG, complaint_form, csrf, login
from web import create_app
from web.extensions import db

NAME, EMAIL, PHONE = "Wulandari Kusumaningtyas", "Wulan.Rahasia@contoh.id", "0812 9988 7766"
NEEDLES = ("wulandari", "kusumaningtyas", "wulan.rahasia", "wulan%2erahasia", "0812 9988 7766", "081299887766", "81299887766", "9988 7766")
LEFT_OUT = {"public.dev_mailbox"}  # the developer's view of the whole outbox (see the module docstring)
STEP_ARGS = ("langkah", "step")  # the history/replay views show the case as it stood after step N
CUMULATIVE = re.compile(r"riwayat|replay|history|ekspor|export|\.(pdf|csv|json)$")
MAILER_LOG = "lapor.mailer"  # its lines about refused mail once named the recipient: searched on their own below too


def leaks(text: str) -> list[str]:
    low = text.lower()
    return [needle for needle in NEEDLES if needle in low]


def pdf_text(data: bytes) -> str:
    """The text of a PDF, as a reader copying it out would get it (pypdf)."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


class RefusingTransport:
    """A mail server that accepts nothing: every attempt fails, quoting the recipient as real servers do."""

    @contextmanager
    def connect(self) -> Iterator[RefusingTransport]:
        yield self

    def send(self, mail) -> None:
        raise OSError(f"550 5.1.1 <{mail.to}>: Recipient address rejected: mailbox unavailable")


@dataclass
class Walk:
    app: Any
    clock: Any
    caplog: Any
    clients: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    tracking_ids: list[str] = field(default_factory=list)
    task_ids: set[str] = field(default_factory=set)
    searched: int = 0
    found: list[str] = field(default_factory=list)
    seen_endpoints: set[str] = field(default_factory=set)
    steps_walked: int = 0

    # ---- driving the case --------------------------------------------------------------------------------

    def client(self, who: str):
        if who not in self.clients:
            self.clients[who] = login(self.app, who)
        return self.clients[who]

    def token(self, who: str) -> str:
        if who not in self.tokens:
            response = self.app.test_client().post("/api/v1/auth/token", json={"username": who, "password": "demo-lapor"})
            self.tokens[who] = response.json["token"]
        return self.tokens[who]

    def open_task(self, tracking_id: str, form: str | None = None) -> OpenTask:
        with self.app.app_context():
            case = db.session.scalar(select(Case).where(Case.tracking_id == tracking_id))
            query = select(OpenTask).where(OpenTask.case_id == case.id)
            row = db.session.scalar(query if form is None else query.where(OpenTask.form == form))
            db.session.expunge(row)
        self.task_ids.add(row.id)
        return row

    def complete(self, who: str, tracking_id: str, form: dict[str, str], task_form: str | None = None) -> None:
        task = self.open_task(tracking_id, task_form)
        client = self.client(who)
        path = f"/tugas/{task.id}"
        response = client.post(path, data={**form, "csrf_token": csrf(client, path)})
        assert response.status_code == 302, (who, form, response.get_data(as_text=True)[:3000])

    def post_page(self, who: str, path: str, form: dict[str, str], page: str = "/tugas") -> None:
        client = self.client(who)
        response = client.post(path, data={**form, "csrf_token": csrf(client, page)})
        assert response.status_code in (200, 302), (who, path, response.status_code)

    def worker_pass(self, transport=None) -> None:
        with self.app.app_context():
            engine = db.engine
        run_once(lambda: Session(engine), self.clock, self.app.config["LAPOR_BASE_URL"], transport)

    # ---- searching every output ----------------------------------------------------------------------------

    def check(self, where: str, text: str) -> None:
        self.searched += 1
        for needle in leaks(text):
            self.found.append(f"{where}: {needle!r}")

    def values(self, tracking_id: str) -> list[dict[str, Any]]:
        with self.app.app_context():
            case = db.session.scalar(select(Case).where(Case.tracking_id == tracking_id))
            attachments = db.session.scalars(select(Attachment.id).where(Attachment.case_id == case.id)).all() or [1]
            open_ids = db.session.scalars(select(OpenTask.id).where(OpenTask.case_id == case.id)).all()
            events = db.session.scalar(select(AuditEvent.seq).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq.desc()).limit(1))
            user_ids = db.session.scalars(select(User.id)).all()
            unit_ids = db.session.scalars(select(Unit.id)).all()
        self.task_ids.update(open_ids)
        base = {"tracking_id": tracking_id, "lang": "en", "events": events}
        combos = [{**base, "task_id": task_id, "attachment_id": a} for task_id in sorted(self.task_ids) or ["x"] for a in attachments]
        combos += [{**base, "user_id": user_id} for user_id in user_ids] + [{**base, "unit_id": unit_id} for unit_id in unit_ids]
        return combos

    def urls(self, tracking_id: str, final: bool) -> list[tuple[str, str, str]]:
        """(method, url, endpoint) of every GET route filled with this case's values (and the replay POST).
        Between steps, routes whose output only grows with the case (its history, replays and exports: the final
        walk searches them at every step) or does not depend on it (PDF renderings of pages searched as HTML, the
        account and unit pages) are left for the final walk."""
        found: dict[tuple[str, str], tuple[str, str, str]] = {}
        for values in self.values(tracking_id):
            for method, rule in url_rules(self.app):
                if rule.endpoint in LEFT_OUT or (method != "GET" and rule.endpoint != "history.page"):
                    continue  # POST /riwayat/<tid> is the auditor's read-only full replay: searched too
                if not final and (CUMULATIVE.search(rule.rule) or set(rule.arguments) & {"user_id", "unit_id"}):
                    continue
                url = build_url(rule, values)
                found[(method, url)] = (method, url, rule.endpoint)
        return list(found.values())

    def fetch(self, who: str | None, method: str, url: str, query: dict[str, Any] | None = None):
        client = self.client(who) if who else self.app.test_client()
        headers = {"Authorization": f"Bearer {self.token(who)}"} if who and url.startswith("/api/") else {}
        data = {"csrf_token": csrf(client, "/")} if method == "POST" else None
        response = client.open(url, method=method, query_string=query or {}, headers=headers, data=data)
        body = pdf_text(response.data) if response.mimetype == "application/pdf" else response.data.decode("utf-8", "replace")
        self.check(f"{who or 'public'} {method} {url} {query or ''} [{response.status_code}]", body)
        self.check(f"{who or 'public'} {method} {url} headers", str(response.headers))
        return response.status_code, body

    def crawl(self, final: bool = False) -> None:
        """Every GET route (and the replay POST) as the public and as every staff role, for every case. In the
        final walk, a page that shows the case as it stood after step N (``?langkah=N``, ``?step=N``) is searched
        at every step as the auditor, and at its first steps (where the complaint itself is) as the others it opens to."""
        self.tokens.clear()  # API tokens last 12 hours; the clock has moved
        for tracking_id in self.tracking_ids:
            targets = self.urls(tracking_id, final)
            for who in (None, *STAFF):
                for method, url, endpoint in targets:
                    status, body = self.fetch(who, method, url)
                    if status == 200:
                        self.seen_endpoints.add(endpoint)
                    if final and status == 200 and method == "GET" and names_a_case(self.app, endpoint):
                        self.walk_steps(who, url, body, last=None if who == "auditor" else 3)

    def walk_steps(self, who: str | None, url: str, latest: str, last: int | None) -> None:
        """Fetch ``url`` at step 1, 2, ... until the page stops changing (past the last step) or ``last``."""
        previous = unstepped(latest)
        for step in range(1, (last or 10_000) + 1):
            status, body = self.fetch(who, "GET", url, {arg: step for arg in STEP_ARGS})
            if status != 200 or unstepped(body) == previous:
                return  # the route does not read the step, or the walk is past the last step
            previous = unstepped(body)
            self.steps_walked += 1

    def check_stored_outputs(self) -> None:
        with self.app.app_context():
            for mail in db.session.scalars(select(OutboxMail).where(OutboxMail.user_id.is_not(None))):
                self.check(f"staff mail {mail.id} to {mail.to_addr}", " ".join([mail.to_addr, mail.subject, mail.body, mail.html or ""]))
            reporter_mail = db.session.scalars(select(OutboxMail).where(OutboxMail.user_id.is_(None))).all()
            for note in db.session.scalars(select(Notification)):
                self.check(f"notification {note.id}", note.message)
        assert reporter_mail and all(m.to_addr == EMAIL for m in reporter_mail)  # the reporter's own mail does reach them
        self.check_logs(lambda record: True)

    def check_logs(self, which) -> None:
        for record in self.caplog.records:
            if which(record):
                self.check(f"log {record.name} {record.levelname}", record.getMessage() + (record.exc_text or "") + str(record.args))


def unstepped(body: str) -> str:
    return re.sub(r"(langkah|step)=\d+", "", body)


def names_a_case(app, endpoint: str) -> bool:
    return any({"tracking_id", "tid"} & set(rule.arguments) for rule in app.url_map.iter_rules(endpoint))


def submit_anonymously(walk: Walk) -> tuple[str, Any, str]:
    client = walk.app.test_client()
    form = complaint_form(
        title="Pungutan liar di puskesmas",
        body="Petugas loket meminta uang tambahan di luar tarif resmi setiap kali warga berobat.",
        category="kesehatan",
        anonymous="true",
        confidential="true",
        **{"reporter.name": NAME, "reporter.email": EMAIL, "reporter.phone": PHONE},
    )
    data = {**form, "csrf_token": csrf(client, "/lapor"), "lampiran": [(io.BytesIO(PNG), "bukti.png")]}
    response = client.post("/lapor", data=data, content_type="multipart/form-data")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    html = response.get_data(as_text=True)
    tracking_id = re.search(r'id="tracking-id">(LPR-[0-9A-Z]{8})<', html).group(1)
    link = re.search(r'id="private-link" href="([^"]+)"', html).group(1).replace("http://localhost", "")
    walk.tracking_ids.append(tracking_id)
    return tracking_id, client, link


@pytest.fixture
def walk(make_app, clock, caplog) -> Walk:
    caplog.set_level(logging.DEBUG)
    app = make_app(RATELIMIT_ENABLED=False)
    return Walk(app, clock, caplog)


def test_an_anonymous_confidential_reporter_is_never_shown_to_staff_or_the_public(walk):
    tracking_id, citizen, link = submit_anonymously(walk)
    token = link.split("token=")[1]
    own_page = citizen.get(link)
    assert own_page.status_code == 200
    walk.crawl()

    # missed deadlines (reminders, escalations) while the mail server refuses everything: mail given up, incidents
    for _ in range(12):
        walk.clock.advance(hours=2)
        walk.worker_pass(RefusingTransport())
    with walk.app.app_context():
        assert db.session.scalar(select(OutboxMail.id).where(OutboxMail.status == "failed", OutboxMail.user_id.is_(None)))
    walk.crawl()

    walk.post_page("kominfo", f"/tugas/{walk.open_task(tracking_id).id}/klaim", {})
    walk.complete("kominfo", tracking_id, {"unit": "dinas-pendidikan", "note": "Mohon dicek."})
    walk.complete("pendidikan", tracking_id, {"decision": "bukan_wewenang", "note": "Ini urusan kesehatan."})
    walk.crawl()

    walk.complete("kominfo", tracking_id, {"unit": "dinas-pu-bina-marga"})
    task = walk.open_task(tracking_id)
    walk.post_page("pusat", f"/kasus/{tracking_id}/tugas/{task.id}/alihkan", {"unit": "dinas-kesehatan", "reason": "Salah unit."}, "/kasus")
    walk.post_page("kesehatan", f"/tugas/{walk.open_task(tracking_id).id}/klaim", {})
    walk.complete("kesehatan", tracking_id, {"decision": "terima", "note": "Kami tangani."})
    # the unit asks for more time and Admin Kominfo agrees; an interim answer, then the answer with a document
    answer = walk.open_task(tracking_id, "tanggapan").id
    extension = {"working_days": "2", "reason": "Menunggu hasil pemeriksaan inspektorat."}
    walk.post_page("kesehatan", f"/tugas/{answer}/perpanjangan", extension, f"/tugas/{answer}")
    walk.crawl()
    walk.complete("kominfo", tracking_id, {"decision": "setuju", "note": "Disetujui."}, "perpanjangan")
    walk.complete("kesehatan", tracking_id, {"response": "Pemeriksaan petugas loket sedang berjalan.", "interim": "true"}, "tanggapan")
    upload = walk.client("kesehatan")
    document = {"file": (io.BytesIO(PNG), "surat-teguran.png"), "csrf_token": csrf(upload, f"/tugas/{answer}")}
    assert upload.post(f"/tugas/{answer}/dokumen", data=document, content_type="multipart/form-data").status_code == 302
    with walk.app.app_context():
        [document_id] = db.session.scalars(select(Attachment.id).where(Attachment.task_id == answer)).all()
    answered = {"response": "Petugas loket telah diperiksa dan diberi sanksi.", "attachments": str(document_id)}
    walk.complete("kesehatan", tracking_id, answered, "tanggapan")
    walk.crawl()

    walk.complete("kominfo", tracking_id, {"decision": "kembalikan", "note": "Sebutkan sanksinya."})
    walk.complete("kesehatan", tracking_id, {"response": "Petugas loket diberi teguran tertulis dan dipindahkan."})
    walk.complete("kominfo", tracking_id, {"decision": "teruskan", "answer": "Petugas yang meminta pungutan telah ditegur dan dipindahkan."})
    walk.crawl()

    reply = citizen.post(
        f"/lacak/{tracking_id}/balas", data={"satisfied": "false", "text": "Masih terjadi.", "token": token, "csrf_token": csrf(citizen, link)}
    )
    assert reply.status_code == 302
    walk.complete("kominfo", tracking_id, {"unit": "dinas-kesehatan"})
    walk.complete("kesehatan", tracking_id, {"decision": "terima"})
    walk.complete("kesehatan", tracking_id, {"response": "Loket kini diawasi kamera dan tarif dipasang di depan."})
    walk.complete("kominfo", tracking_id, {"decision": "teruskan", "answer": "Loket kini diawasi dan tarif resmi dipasang di depan loket."})
    walk.clock.advance(days=4)  # the reply is late: a reminder to the reporter, an escalation to Admin Pusat
    walk.worker_pass()
    reply = citizen.post(
        f"/lacak/{tracking_id}/balas", data={"satisfied": "true", "text": "Terima kasih.", "token": token, "csrf_token": csrf(citizen, link)}
    )
    assert reply.status_code == 302
    with walk.app.app_context():
        assert db.session.scalar(select(Case.status).where(Case.tracking_id == tracking_id)) == "selesai"

    # a second anonymous, confidential complaint, from the API, withdrawn while a unit holds it
    second = (
        walk.app.test_client()
        .post(
            "/api/v1/complaints",
            json={
                "title": "Obat habis di puskesmas",
                "body": "Sudah tiga minggu obat untuk penyakit kronis tidak tersedia di puskesmas.",
                "category": "kesehatan",
                "anonymous": True,
                "confidential": True,
                "reporter": {"name": NAME, "email": EMAIL, "phone": PHONE},
            },
        )
        .json
    )
    walk.tracking_ids.append(second["tracking_id"])
    walk.complete("kominfo", second["tracking_id"], {"unit": "dinas-kesehatan"})
    withdrawn = walk.app.test_client().post(
        f"/api/v1/complaints/{second['tracking_id']}/withdraw",
        json={"reason": "Sudah beres."},
        headers={"Authorization": f"Bearer {second['access_token']}"},
    )
    assert withdrawn.status_code == 200

    walk.crawl(final=True)
    walk.check_stored_outputs()

    # the walk reached the pages it is meant to search (other engineers' pages are searched when they exist)
    assert {"staff.case_page", "staff.task", "staff.cases", "staff.inbox_page", "staff.notifications", "public.public_list", "api.case_history"} <= (
        walk.seen_endpoints
    )
    staff_case_routes = {
        rule.endpoint
        for method, rule in url_rules(walk.app)
        if method == "GET"
        and names_a_case(walk.app, rule.endpoint)
        and not rule.endpoint.startswith(("public.", "open311."))  # the public's (open311: searched on its own below)
        and "/complaints/" not in rule.rule
    }
    assert staff_case_routes <= walk.seen_endpoints, f"never opened, so never searched: {sorted(staff_case_routes - walk.seen_endpoints)}"
    assert walk.searched > 1000 and walk.steps_walked > 10
    assert not walk.found, f"{len(walk.found)} outputs show the reporter:\n" + "\n".join(walk.found[:40])
    # the case is on no public page at all
    for path in ("/", "/pengaduan", "/pengaduan?category=kesehatan", "/pengaduan?status=selesai"):
        assert "Pungutan liar" not in walk.app.test_client().get(path).get_data(as_text=True)


def test_the_searches_would_find_the_reporter(walk):
    """The search is not vacuous: the reporter's own outputs, which may show the identity, do."""
    tracking_id, _citizen, _link = submit_anonymously(walk)
    with walk.app.app_context():
        mail = db.session.scalar(select(OutboxMail).where(OutboxMail.to_addr == EMAIL))
    assert leaks(mail.to_addr) == ["wulan.rahasia"]
    assert leaks(f"Nama: {NAME}, telepon {PHONE}") == ["wulandari", "kusumaningtyas", "0812 9988 7766", "9988 7766"]
    # a not anonymous case is shown with its reporter to the staff who handle it: the same search finds it there
    client = walk.app.test_client()
    form = complaint_form(**{"reporter.name": NAME, "reporter.email": EMAIL, "reporter.phone": PHONE})
    response = client.post("/lapor", data={**form, "csrf_token": csrf(client, "/lapor")})
    open_id = re.search(r'id="tracking-id">(LPR-[0-9A-Z]{8})<', response.get_data(as_text=True)).group(1)
    page = walk.client("kominfo").get(f"/kasus/{open_id}").get_data(as_text=True)
    assert "kusumaningtyas" in leaks(page) and "wulan.rahasia" in leaks(page)
    assert tracking_id != open_id


def test_mail_the_server_refuses_is_logged_without_the_reporter_address(walk):
    submit_anonymously(walk)
    for _ in range(12):
        walk.clock.advance(hours=2)
        walk.worker_pass(RefusingTransport())
    with walk.app.app_context():
        assert db.session.scalar(select(OutboxMail.id).where(OutboxMail.status == "failed", OutboxMail.user_id.is_(None)))
    walk.check_logs(lambda record: record.name == MAILER_LOG)
    assert walk.searched > 5
    assert not walk.found, "\n".join(walk.found)


def test_open311_outputs_never_carry_the_reporter(walk):
    """Issue 18: a partner app posts complaints with the reporter's name, email and phone (public, anonymous and
    confidential ones, in both formats). Every Open311 route of the URL map, in JSON and XML, for every case, the
    answers to the posts (accepted and refused) and every log line are free of them."""
    with walk.app.app_context():
        key = Partners(db.session, Actor("pusat", "pusat"), walk.clock).issue("Aplikasi Mitra").key
        db.session.commit()
    client = walk.app.test_client()
    first, last = NAME.split()
    form = {
        "api_key": key,
        "service_code": "kesehatan",
        "description": "Petugas loket puskesmas meminta uang tambahan di luar tarif resmi.",
        "address_string": "Puskesmas Kenjeran, Surabaya",
        "first_name": first,
        "last_name": last,
        "email": EMAIL,
        "phone": PHONE,
    }
    posted = []
    for flags in ({}, {"attribute[anonymous]": "true"}, {"attribute[confidential]": "true"}):
        for fmt in ("json", "xml"):
            response = client.post(f"/open311/v2/requests.{fmt}", data={**form, **flags})
            assert response.status_code == 201, response.get_data(as_text=True)
            walk.check(f"POST /open311/v2/requests.{fmt} {flags}", response.get_data(as_text=True) + str(response.headers))
            posted.append(re.search(r"LPR-[0-9A-Z]{8}", response.get_data(as_text=True)).group(0))
    refused = client.post("/open311/v2/requests.json", data={**form, "phone": "bukan " + PHONE, "email": EMAIL + "@"})
    assert refused.status_code == 400
    walk.check("POST /open311/v2/requests.json refused", refused.get_data(as_text=True))

    rules = [rule for method, rule in url_rules(walk.app) if method == "GET" and rule.endpoint.startswith("open311.")]
    assert {"open311.discovery", "open311.services", "open311.requests", "open311.one_request"} <= {rule.endpoint for rule in rules}
    for rule in rules:
        for fmt in ("json", "xml"):
            for tracking_id in posted:
                status, _body = walk.fetch(None, "GET", build_url(rule, {"tracking_id": tracking_id, "fmt": fmt, "code": "kesehatan"}))
                assert status in (200, 404)
        walk.seen_endpoints.add(rule.endpoint)
    _status, listed = walk.fetch(None, "GET", "/open311/v2/requests.json", {"service_request_id": ",".join(posted)})
    assert sorted(re.findall(r"LPR-[0-9A-Z]{8}", listed)) == sorted(posted[:4])  # the confidential ones are not listed
    walk.check_logs(lambda record: True)
    assert walk.searched > 40
    assert not walk.found, "\n".join(walk.found)


# ---- issue 18's desk outputs: the similar-complaint list and the text staff redacted for the units ----------------

ROAD_REPEATS = (
    ("Jalan rusak berlubang di Jl. Raya Waru Sidoarjo", "Jalan di depan Pasar Waru rusak parah dan berlubang besar, pemotor sering jatuh."),
    ("Aspal berlubang parah depan Pasar Waru", "Lubang besar di jalan raya depan pasar Waru membahayakan pengendara motor."),
    ("Jalan Raya Waru berlubang lagi", "Lubang di jalan depan Pasar Waru makin besar dan belum juga diaspal."),
)
# a sentence only the reporter's own text holds: a unit's outputs must never carry it once staff gave a redacted text
ORIGINAL_SENTENCE = "Ijazah anak saya disimpan di lemari kayu jati berwarna hijau di ruang tata usaha."
REDACTED_FOR_UNITS = "Pelapor menyampaikan bahwa sekolah menahan ijazah siswa karena tunggakan uang komite."


def similar_section(html: str) -> str:
    found = re.search(r'<section class="card similar" id="laporan-serupa">(.*?)</section>', html, re.S)
    assert found, "the verification task lists similar complaints"
    return found.group(1)


def test_the_similar_complaint_lists_never_show_a_reporter(walk):
    """Three reports of one road by the same named reporter (shown, anonymous, anonymous and confidential): the API's
    list of similar complaints and the verification task page's list name the other reports, never who sent them."""
    api = walk.app.test_client()
    tracking_ids = []
    for (title, body), flags in zip(ROAD_REPEATS, ({}, {"anonymous": True}, {"anonymous": True, "confidential": True}), strict=True):
        complaint = {"title": title, "body": body, "category": "infrastruktur", "location": "Waru, Sidoarjo", **flags}
        response = api.post("/api/v1/complaints", json={**complaint, "reporter": {"name": NAME, "email": EMAIL, "phone": PHONE}})
        assert response.status_code == 201, response.json
        tracking_ids.append(response.json["tracking_id"])
    for tracking_id in tracking_ids:
        others = set(tracking_ids) - {tracking_id}
        for who in ("kominfo", "pusat"):
            status, body = walk.fetch(who, "GET", f"/api/v1/cases/{tracking_id}/similar")
            assert status == 200 and others <= set(re.findall(r"LPR-[0-9A-Z]{8}", body)), (who, body)
        page = walk.client("kominfo").get(f"/tugas/{walk.open_task(tracking_id).id}").get_data(as_text=True)
        section = similar_section(page)
        walk.check(f"kominfo similar list of {tracking_id}", section)
        assert others <= set(re.findall(r"LPR-[0-9A-Z]{8}", section))
    assert walk.searched >= 3 * 5
    assert not walk.found, "\n".join(walk.found)


NOTE_SENTENCE = "Catatan-internal-rahasia: kepala sekolah mengaku menunda perbaikan."


def test_internal_notes_reach_neither_the_citizen_nor_the_public(walk):
    """A public (neither anonymous nor confidential) case with internal notes (issue 19), its answer published: the
    citizen's tracking page and API, and every page the public opens (the public case page included), never hold a
    note's text; the staff case page does."""
    api = walk.app.test_client()
    created = api.post("/api/v1/complaints", json=COMPLAINT).json
    tracking_id, citizen_token = created["tracking_id"], created["access_token"]
    walk.tracking_ids.append(tracking_id)
    walk.post_page("kominfo", f"/kasus/{tracking_id}/catatan", {"text": f"{NOTE_SENTENCE} @dinas-pendidikan"}, f"/kasus/{tracking_id}")
    walk.complete("kominfo", tracking_id, {"unit": "dinas-pendidikan", "note": "Mohon dicek."})
    walk.complete("pendidikan", tracking_id, {"decision": "terima"})
    walk.post_page("pendidikan", f"/kasus/{tracking_id}/catatan", {"text": NOTE_SENTENCE}, f"/kasus/{tracking_id}")
    walk.complete("pendidikan", tracking_id, {"response": "Atap diperbaiki minggu depan."})
    walk.complete("kominfo", tracking_id, {"decision": "teruskan", "answer": "Atap ruang kelas diperbaiki minggu depan."})
    assert NOTE_SENTENCE in walk.client("pendidikan").get(f"/kasus/{tracking_id}").get_data(as_text=True)  # the search would find it

    citizen = walk.app.test_client()
    outputs = [
        ("citizen API", citizen.get(f"/api/v1/complaints/{tracking_id}", headers=bearer(citizen_token))),
        ("citizen API notes", citizen.get(f"/api/v1/cases/{tracking_id}/notes", headers=bearer(citizen_token))),
        (
            "tracking page",
            citizen.post(
                "/lacak", data={"tracking_id": tracking_id, "token": citizen_token, "csrf_token": csrf(citizen, "/lacak")}, follow_redirects=True
            ),
        ),
    ]
    assert outputs[0][1].status_code == 200 and outputs[1][1].status_code == 401
    assert tracking_id in outputs[2][1].get_data(as_text=True)
    public_pages = 0
    for method, url, _endpoint in walk.urls(tracking_id, final=True):
        if method == "GET":
            response = walk.app.test_client().get(url)
            outputs.append((f"public {url}", response))
            public_pages += response.status_code == 200 and tracking_id in response.get_data(as_text=True)
    assert public_pages >= 1  # the public case page (or the list) shows the case itself
    shown = [where for where, response in outputs if "catatan-internal-rahasia" in response.get_data(as_text=True).lower()]
    assert not shown, shown


def test_a_unit_never_reads_the_reporters_own_text_once_staff_redacted_it(walk):
    """Admin Kominfo forwards with a redacted text: the unit's case page, case sheet (HTML and PDF), task pages and API
    tasks (at acceptance and at the answer) never hold the reporter's own sentence, which Admin Kominfo still reads."""
    body = f"Sekolah menahan ijazah anak saya karena uang komite belum lunas. {ORIGINAL_SENTENCE}"
    response = walk.app.test_client().post(
        "/api/v1/complaints",
        json={**COMPLAINT, "body": body, "reporter": {"name": NAME, "email": EMAIL, "phone": PHONE}},
    )
    assert response.status_code == 201, response.json
    tracking_id = response.json["tracking_id"]
    task = walk.open_task(tracking_id)
    data = {"unit": "dinas-pendidikan", "redacted_body": REDACTED_FOR_UNITS, "anonymous": True}
    done = walk.app.test_client().post(f"/api/v1/tasks/{task.id}/complete", json={"data": data}, headers=bearer(walk.token("kominfo")))
    assert done.status_code == 200, done.json

    def unit_outputs() -> list[tuple[str, str]]:
        task_id = walk.open_task(tracking_id).id
        client, token = walk.client("pendidikan"), walk.token("pendidikan")
        return [
            ("case page", client.get(f"/kasus/{tracking_id}").get_data(as_text=True)),
            ("task page", client.get(f"/tugas/{task_id}").get_data(as_text=True)),
            ("API task", walk.app.test_client().get(f"/api/v1/tasks/{task_id}", headers=bearer(token)).get_data(as_text=True)),
            ("case sheet", client.get(f"/kasus/{tracking_id}/lembar").get_data(as_text=True)),
            ("case sheet PDF", " ".join(pdf_text(client.get(f"/kasus/{tracking_id}/lembar.pdf").data).split())),
        ]

    outputs = unit_outputs()
    accept = walk.open_task(tracking_id)
    accepted = walk.app.test_client().post(
        f"/api/v1/tasks/{accept.id}/complete", json={"data": {"decision": "terima"}}, headers=bearer(walk.token("pendidikan"))
    )
    assert accepted.status_code == 200, accepted.json
    outputs += unit_outputs()
    for where, text in outputs:
        assert REDACTED_FOR_UNITS in text, where  # the unit reads the text staff wrote for it ...
        assert "lemari kayu jati" not in text and "Ijazah anak saya" not in text, where  # ... never the reporter's own
        walk.check(f"pendidikan {where}", text)
    for path in (f"/kasus/{tracking_id}", f"/kasus/{tracking_id}/lembar"):  # the analyst reads the units' text too
        analyst = walk.client("analis").get(path).get_data(as_text=True)
        assert REDACTED_FOR_UNITS in analyst and "lemari kayu jati" not in analyst, path
    # the search is not vacuous: Admin Kominfo reads the reporter's own text beside the redacted one
    liaison = walk.client("kominfo").get(f"/kasus/{tracking_id}").get_data(as_text=True)
    assert "lemari kayu jati" in liaison and REDACTED_FOR_UNITS in liaison
    assert not walk.found, "\n".join(walk.found)


# ---- the matrix: every staff role × {neither, confidential, anonymous, both} × every output ----------------------


@dataclass(frozen=True)
class Reporter:
    name: str
    email: str
    phone: str

    @property
    def needles(self) -> tuple[str, ...]:
        """The identity as it could be written anywhere: the name and its parts, the email (and its local part, which
        URL-encoding leaves alone), the phone as typed, without spaces, without the leading 0, its last two groups."""
        digits = self.phone.replace(" ", "")
        return (
            self.name.lower(),
            *self.name.lower().split(),
            self.email.lower(),
            self.email.split("@")[0],
            self.phone,
            digits,
            digits[1:],
            self.phone[5:],
        )


@dataclass
class MatrixCase:
    flags: str
    reporter: Reporter
    tracking_id: str = ""
    access_token: str = ""

    @property
    def anonymous(self) -> bool:
        return self.flags in ("anonymous", "both")

    @property
    def confidential(self) -> bool:
        return self.flags in ("confidential", "both")


MATRIX_REPORTERS = {
    "neither": Reporter("Gondo Wirasaputra", "gondo.wirasaputra@contoh.id", "0812 3401 5501"),
    "confidential": Reporter("Sekar Larasmurti", "sekar.larasmurti@contoh.id", "0812 3402 5502"),
    "anonymous": Reporter("Bagus Tirtonegoro", "bagus.tirtonegoro@contoh.id", "0812 3403 5503"),
    "both": Reporter("Ratih Kumalasari", "ratih.kumalasari@contoh.id", "0812 3404 5504"),
}
# each matrix role, as the account that plays it; every case goes to Dinas Kesehatan, and Dinas Pendidikan never has one
MATRIX_ROLES = {
    "Admin Pusat": Actor("pusat", "pusat"),
    "Admin Kominfo": Actor("kominfo", "kominfo"),
    "the case's unit": Actor("kesehatan", "satker", "dinas-kesehatan"),
    "another unit": Actor("pendidikan", "satker", "dinas-pendidikan"),
    "auditor": Actor("auditor", "auditor"),
    "analis": Actor("analis", "analis"),
}
CASE_UNIT = "dinas-kesehatan"
MONTH, RANGE = "2026-11", {"dari": "2026-11-01", "sampai": "2026-11-30"}  # the cases are submitted on Monday 30 November 2026
LOG_RANGE = {"from": "2026-11-01", "to": "2026-11-30"}  # the same period, as the JSON API names it


@dataclass
class Matrix:
    """The four cases of the matrix in one app, and every output of them fetched once per account."""

    app: Any
    clock: Any
    cases: list[MatrixCase]
    clients: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    captured: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)  # (username, output) -> (where, text)
    fetched: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)

    def client(self, who: str | None):
        if who is None:
            return self.app.test_client()
        if who not in self.clients:
            self.clients[who] = login(self.app, who)
        return self.clients[who]

    def token(self, who: str) -> str:
        if who not in self.tokens:
            self.tokens[who] = self.app.test_client().post("/api/v1/auth/token", json={"username": who, "password": "demo-lapor"}).json["token"]
        return self.tokens[who]

    def get(self, who: str | None, url: str, method: str = "GET", **query: Any) -> tuple[str, str]:
        """(where, the response as a reader gets it: PDF text, or the body, with the headers)."""
        client = self.client(who)
        headers = {"Authorization": f"Bearer {self.token(who)}"} if who and url.startswith("/api/") else {}
        data = {"csrf_token": csrf(client, "/")} if method == "POST" else None
        response = client.open(url, method=method, query_string=query, headers=headers, data=data)
        body = pdf_text(response.data) if response.mimetype == "application/pdf" else response.get_data(as_text=True)
        return f"{method} {url} {query or ''} [{response.status_code}]", f"{body}\n{response.headers}"

    def step(self, who: str, case: MatrixCase, data: dict[str, Any]) -> None:
        [task] = self.open_tasks(case)
        response = self.app.test_client().post(
            f"/api/v1/tasks/{task}/complete", json={"data": data}, headers={"Authorization": f"Bearer {self.token(who)}"}
        )
        assert response.status_code == 200, response.json

    def open_tasks(self, case: MatrixCase) -> list[str]:
        with self.app.app_context():
            case_id = select(Case.id).where(Case.tracking_id == case.tracking_id).scalar_subquery()
            return list(db.session.scalars(select(OpenTask.id).where(OpenTask.case_id == case_id, OpenTask.role != "masyarakat")))

    def capture(self) -> None:
        """Each account's task API answer and task page for every staff task open now (404 for the tasks not theirs)."""
        for actor in MATRIX_ROLES.values():
            for case in self.cases:
                for task in self.open_tasks(case):
                    self.captured.setdefault((actor.username, "task API"), []).append(self.get(actor.username, f"/api/v1/tasks/{task}"))
                    self.captured.setdefault((actor.username, "task page"), []).append(self.get(actor.username, f"/tugas/{task}"))

    def later(self, **delta: float) -> None:
        """Move the clock and run a worker pass (reminders, escalations); sign in again, as the old sessions and tokens lapse."""
        self.clock.advance(**delta)
        with self.app.app_context():
            engine = db.engine
        run_once(lambda: Session(engine), self.clock, self.app.config["LAPOR_BASE_URL"], None)
        self.clients.clear()
        self.tokens.clear()

    def build(self) -> None:
        """Each case: submitted, forwarded to Dinas Kesehatan, accepted, answered, left past its review deadline
        (reminder and escalation mail), its answer published. Task outputs are captured at every step."""
        for case in self.cases:
            reporter = case.reporter
            complaint = {
                **COMPLAINT,
                "title": f"Layanan puskesmas lambat ({case.flags})",
                "category": "kesehatan",
                "anonymous": case.anonymous,
                "confidential": case.confidential,
                "reporter": {"name": reporter.name, "email": reporter.email, "phone": reporter.phone},
            }
            answer = self.app.test_client().post("/api/v1/complaints", json=complaint)
            assert answer.status_code == 201, answer.json
            case.tracking_id, case.access_token = answer.json["tracking_id"], answer.json["access_token"]
        self.capture()
        for who, data in (
            ("kominfo", {"unit": CASE_UNIT, "note": "Mohon ditindaklanjuti."}),
            ("kesehatan", {"decision": "terima", "note": "Kami tangani."}),
            ("kesehatan", {"response": "Jadwal dokter ditambah dan antrean kini dilayani sejak pukul tujuh."}),
        ):
            for case in self.cases:
                self.step(who, case, data)
            self.capture()
        self.later(days=2)
        self.capture()
        for case in self.cases:
            self.step("kominfo", case, {"decision": "teruskan", "answer": "Jadwal dokter puskesmas telah ditambah."})
        self.capture()

    def output(self, who: str, name: str) -> list[tuple[str, str]]:
        if (who, name) not in self.fetched:
            self.fetched[(who, name)] = self.captured.get((who, name), []) if name in CAPTURED else OUTPUTS[name](self, who)
        return self.fetched[(who, name)]

    def stored(self, who: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """The staff mail queued for ``who`` and their inbox notifications, as stored."""
        with self.app.app_context():
            user = db.session.scalar(select(User).where(User.username == who))
            mail = db.session.scalars(select(OutboxMail).where(OutboxMail.user_id == user.id)).all()
            notes = db.session.scalars(select(Notification).where(Notification.user_id == user.id)).all()
            return (
                [(f"mail {m.id} {m.topic}", " ".join([m.to_addr, m.subject, m.body, m.html or ""])) for m in mail],
                [(f"notification {n.id}", n.message) for n in notes],
            )


def _each_case(*paths: str, **query: Any):
    """An output read once per case at each of ``paths`` (``{t}``: the tracking id)."""
    return lambda m, who: [m.get(who, path.format(t=case.tracking_id), **query) for case in m.cases for path in paths]


def _history_page(m: Matrix, who: str) -> list[tuple[str, str]]:
    """/riwayat at the last step, at steps 1 and 2 (the complaint as submitted and recorded), and after a full replay (POST)."""
    found = []
    for case in m.cases:
        url = f"/riwayat/{case.tracking_id}"
        found += [m.get(who, url), m.get(who, url, langkah=1), m.get(who, url, langkah=2), m.get(who, url, method="POST")]
    return found


def _public_pages(m: Matrix, who: str) -> list[tuple[str, str]]:
    """Every GET page of the public blueprint (those added later too), with each case's tracking id where a page takes one."""
    urls = {
        build_url(rule, {"tracking_id": case.tracking_id, "lang": "en"})
        for method, rule in url_rules(m.app, api=False)
        if method == "GET" and rule.endpoint.startswith("public.") and rule.endpoint not in LEFT_OUT
        for case in m.cases
    }
    filtered = [m.get(who, "/pengaduan", category="kesehatan"), m.get(who, "/pengaduan", status="dijawab", month=MONTH, category="kesehatan")]
    return [m.get(who, url) for url in sorted(urls)] + filtered


OUTPUTS = {
    "case page": _each_case("/kasus/{t}"),
    "case sheet": _each_case("/kasus/{t}/lembar"),
    "case sheet PDF": _each_case("/kasus/{t}/lembar.pdf"),
    "CSV export": lambda m, who: [m.get(who, "/rekap/ekspor.csv", **RANGE)],
    "monthly register": lambda m, who: [m.get(who, "/rekap/buku-agenda", bulan=MONTH)],
    "monthly register PDF": lambda m, who: [m.get(who, "/rekap/buku-agenda.pdf", bulan=MONTH)],
    "history page (/riwayat)": _history_page,
    "history JSON export": _each_case("/riwayat/{t}/ekspor.json"),
    "history CSV export": _each_case("/riwayat/{t}/ekspor.csv"),
    "task API": None,  # captured while the tasks were open (Matrix.capture)
    "task page": None,
    "case history API": _each_case("/api/v1/cases/{t}/history"),
    "replay API": lambda m, who: _each_case("/api/v1/cases/{t}/replay")(m, who) + _each_case("/api/v1/cases/{t}/replay", step=1)(m, who),
    "staff mail": lambda m, who: m.stored(who)[0],
    "inbox notifications": lambda m, who: m.stored(who)[1] + [m.get(who, "/notifikasi"), m.get(who, "/api/v1/notifications")],
    "case search (/kasus)": lambda m, who: [m.get(who, "/kasus"), m.get(who, "/kasus", q="puskesmas")] + _each_case("/kasus")(m, who),
    "public pages": _public_pages,
    "event log XES": lambda m, who: [m.get(who, "/rekap/log.xes", **RANGE), m.get(who, "/api/v1/cases/export.xes", **LOG_RANGE)],
    "event log OCEL": lambda m, who: [m.get(who, "/rekap/log.ocel.json", **RANGE), m.get(who, "/api/v1/cases/export.ocel.json", **LOG_RANGE)],
}
CAPTURED = {name for name, read in OUTPUTS.items() if read is None}


def shown(actor: Actor, case: MatrixCase) -> bool:
    """The rule's verdict for this role and case: may the reporter's identity appear?"""
    return access.sight(actor.role, case.anonymous, case.confidential, own_unit=actor.unit_id == CASE_UNIT).identity


def matrix_db_url(request: pytest.FixtureRequest, folder: Path) -> Iterator[str]:
    """A database of the module's own, seeded like every test's (tests/conftest.py), so no other test resets it under the matrix."""
    if BACKEND == "postgresql":
        database = PgDatabase(PG_SERVER_URL)
        yield database.url
        database.close()
    else:
        path = folder / "lapor.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"


@pytest.fixture(scope="module")
def matrix(request, tmp_path_factory) -> Iterator[Matrix]:
    folder = tmp_path_factory.mktemp("matrix")
    urls = matrix_db_url(request, folder)
    clock = FakeClock(MONDAY_9AM)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": next(urls),
            "SECRET_KEY": "test",
            "TESTING": True,
            "LAPOR_CLOCK": clock,
            "LAPOR_ATTACHMENTS_DIR": str(folder / "files"),
            "RATELIMIT_ENABLED": False,
        }
    )
    built = Matrix(app, clock, [MatrixCase(flags, reporter) for flags, reporter in MATRIX_REPORTERS.items()])
    built.build()
    yield built
    with app.app_context():
        db.engine.dispose()
    next(urls, None)


@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("role", MATRIX_ROLES)
def test_no_output_shows_a_reporter_the_rule_hides_from_the_role(matrix, role, output):
    actor = MATRIX_ROLES[role]
    hidden = [case for case in matrix.cases if not shown(actor, case)]
    leaks = [
        f"{case.flags} case's {needle!r} in {where}"
        for where, text in matrix.output(actor.username, output)
        for case in hidden
        for needle in case.reporter.needles
        if needle in text.lower()
    ]
    assert not leaks, f"{role} ({actor.username}), {output}: {len(leaks)} leaks\n" + "\n".join(leaks[:20])


# where the rule shows the reporter, the same search finds them (in PDFs too): the walk above is not vacuous
FOUND_WHERE_SHOWN = [
    ("Admin Pusat", "case page"),
    ("Admin Pusat", "case sheet"),
    ("Admin Pusat", "case sheet PDF"),
    ("Admin Pusat", "CSV export"),
    ("Admin Pusat", "monthly register"),
    ("Admin Pusat", "monthly register PDF"),
    ("Admin Pusat", "history page (/riwayat)"),
    ("Admin Pusat", "history JSON export"),
    ("Admin Pusat", "history CSV export"),
    ("Admin Pusat", "case history API"),
    ("Admin Pusat", "replay API"),
    ("Admin Kominfo", "task API"),
    ("Admin Kominfo", "task page"),
    ("the case's unit", "case page"),
    ("the case's unit", "task API"),
    ("Admin Kominfo", "case page"),
]


@pytest.mark.parametrize(("role", "output"), FOUND_WHERE_SHOWN)
def test_the_search_finds_the_reporter_where_the_rule_shows_them(matrix, role, output):
    actor = MATRIX_ROLES[role]
    text = "\n".join(text for _where, text in matrix.output(actor.username, output)).lower()
    for case in matrix.cases:
        found = case.reporter.name.split()[-1].lower() in text
        assert found is shown(actor, case), f"{role}, {output}: the {case.flags} case's reporter {'missing' if shown(actor, case) else 'shown'}"


def test_the_public_pages_signed_out_show_no_reporter(matrix):
    pages = _public_pages(matrix, None)
    # the search reached the answered cases' public pages (/pengaduan/<tracking_id>: the confidential ones answer 404)
    # and the filtered list holding them
    for case in matrix.cases:
        opened = [text for where, text in pages if where.startswith(f"GET /pengaduan/{case.tracking_id} ")]
        assert opened and (f"Layanan puskesmas lambat ({case.flags})" in opened[0]) is not case.confidential, case.flags
    assert all(case.tracking_id in pages[-1][1] for case in matrix.cases if not case.confidential)
    leaks = [
        f"{case.flags} case's {needle!r} in {where}"
        for where, text in pages
        for case in matrix.cases
        for needle in case.reporter.needles
        if needle in text.lower()
    ]
    assert not leaks, "\n".join(leaks)


def test_the_matrix_figures_are_the_ones_recorded():
    """The module docstring's figures, from the matrix itself and the rule."""
    cases = [MatrixCase(flags, reporter) for flags, reporter in MATRIX_REPORTERS.items()]
    hidden = sum(not shown(actor, case) for actor in MATRIX_ROLES.values() for case in cases) * len(OUTPUTS)
    assert (len(MATRIX_ROLES), len(OUTPUTS), len(MATRIX_ROLES) * len(OUTPUTS) * len(cases), hidden) == (6, 19, 456, 342)
    assert "6 roles × 19 outputs = 114 role × output combinations" in __doc__ and "456" in __doc__ and "342 of which" in __doc__
