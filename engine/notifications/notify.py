"""Notifications (the SOP's "email dan pemberitahuan"): an inbox row per staff member and a mail
in the outbox, written in the caller's transaction so a notification exists exactly when its
cause does. The worker sends the outbox (engine/notifications/mailer.py).

Staff mail never carries a reporter's identity, whether or not the reporter asked for anonymity or
confidentiality: staff learn the tracking id, title, category and unit only, and open the case page
(which applies the case's own visibility rules) for more. Every mail has a plain-text and an HTML
part, and every subject names the tracking id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import Update, bindparam, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engine.cases.context import COMPLETED, DECLINED, NOT_SATISFIED
from engine.cases.ids import LINK_DAYS, fresh_link_code
from engine.db.tables import Case, Notification, OutboxMail, User
from engine.errors import NotFound
from engine.messages import N_

CATEGORY_NAMES = {
    "pendidikan": N_("Pendidikan"),
    "kesehatan": N_("Kesehatan"),
    "infrastruktur": N_("Infrastruktur"),
    "pertanahan": N_("Pertanahan"),
    "keagamaan": N_("Keagamaan"),
    "lainnya": N_("Lainnya"),
}
STAGE_NAMES = {
    "disposisi": N_("penerusan laporan ke unit kerja"),
    "kelengkapan": N_("kelengkapan laporan oleh pelapor"),
    "terima": N_("penerimaan laporan oleh unit"),
    "tanggapan": N_("tanggapan unit"),
    "perpanjangan": N_("keputusan perpanjangan batas waktu"),
    "teruskan": N_("peninjauan jawaban"),
    "balasan": N_("balasan pelapor"),
}
CLOCK_NAMES = {"target": N_("batas SOP"), "plafon": N_("batas nasional")}
# Why a case was archived (Case.archive_reason), as the reporter's mail and pages say it; {duplicate_of}: the case it repeats.
ARCHIVE_REASON_TEXTS = {
    "bukan_pengaduan": N_("laporan ini bukan pengaduan tentang pelayanan publik."),
    "duplikat": N_("laporan ini sama dengan laporan %(duplicate_of)s yang sudah ditindaklanjuti; ikuti perkembangannya di sana."),
    "di_luar_kewenangan": N_("masalah yang dilaporkan berada di luar kewenangan Pemerintah Provinsi Jawa Timur."),
    "tidak_lengkap": N_("keterangan yang diminta tidak ditambahkan dalam 10 hari kerja."),
}

# Staff topics: (subject, body). The subject is also the in-app notification's message, so it is a %-template
# marked for translation (the pages translate what was stored); the body, mail only, is a str.format template.
# Placeholders: tracking_id, title, category, url, unit, unit_suffix, stage, clock, history (BACK_NOTES). Paragraphs are
# separated by a blank line; a line that is exactly {url} becomes a link in the HTML part.
TEMPLATES: dict[str, tuple[str, str]] = {
    "perlu_disposisi": (
        N_("Laporan %(tracking_id)s menunggu disposisi"),
        'Laporan "{title}" (kategori {category}) menunggu Anda teruskan kepada Satuan Kerja atau Instansi Vertikal '
        "yang berwenang, paling lambat 1 hari kerja.{history}\n\n{url}",
    ),
    "laporan_masuk": (
        N_("Laporan %(tracking_id)s diteruskan kepada %(unit)s"),
        'Laporan "{title}" (kategori {category}) telah diteruskan kepada {unit}.\n\n'
        "Mohon terima laporan ini, atau kembalikan bila bukan wewenang unit Anda, lalu beri tanggapan paling lambat 1 hari kerja.\n\n{url}",
    ),
    "diterima_unit": (
        N_("Laporan %(tracking_id)s diterima unit"),
        '{unit} telah menerima laporan "{title}" dan sedang menindaklanjutinya.\n\n{url}',
    ),
    "jawaban_masuk": (
        N_("Jawaban unit untuk %(tracking_id)s"),
        '{unit} telah memberi tanggapan atas laporan "{title}".\n\n'
        "Mohon tinjau tanggapan tersebut, lalu teruskan kepada pelapor atau kembalikan kepada unit dengan catatan.\n\n{url}",
    ),
    "perlu_revisi": (
        N_("Jawaban untuk %(tracking_id)s dikembalikan"),
        'Admin Kominfo mengembalikan tanggapan atas laporan "{title}" dengan catatan. Mohon perbaiki tanggapan Anda.\n\n{url}',
    ),
    "perpanjangan_diminta": (
        N_("Permintaan perpanjangan waktu untuk %(tracking_id)s"),
        '{unit} meminta tambahan waktu untuk menjawab laporan "{title}". Alasan dan jumlah hari kerja yang diminta '
        "ada pada halaman tugas. Mohon putuskan paling lambat 1 hari kerja.\n\n{url}",
    ),
    "perpanjangan_diputuskan": (
        N_("Keputusan perpanjangan waktu untuk %(tracking_id)s"),
        'Admin Kominfo telah memutuskan permintaan perpanjangan waktu {unit} untuk laporan "{title}". Keputusan dan batas '
        "waktu yang berlaku ada pada halaman tugas.\n\n{url}",
    ),
    "tambahan_pelapor": (
        N_("Tambahan keterangan dari pelapor %(tracking_id)s"),
        'Pelapor menambahkan keterangan pada laporan "{title}". Keterangan itu ada pada halaman laporan.\n\n{url}',
    ),
    # a note names the unit (engine/cases/notes.py): never the note's text, which stays on the case page
    "catatan_internal": (
        N_("Catatan internal pada %(tracking_id)s menyebut unit Anda"),
        'Sebuah catatan internal pada laporan "{title}" menyebut {unit}. Catatan itu hanya dapat dibaca pada halaman laporan.\n\n{url}',
    ),
    "dicabut": (
        N_("Laporan %(tracking_id)s dicabut pelapor"),
        'Pelapor mencabut laporan "{title}". Tugas yang masih terbuka untuk laporan ini telah ditutup; '
        "tidak ada lagi yang perlu Anda kerjakan.\n\n{url}",
    ),
    "pengingat": (
        N_("Pengingat: %(stage)s untuk %(tracking_id)s melewati %(clock)s"),
        'Tugas {stage} untuk laporan "{title}" telah melewati {clock}. Mohon segera diselesaikan.\n\n{url}',
    ),
    "eskalasi": (
        N_("Eskalasi: %(tracking_id)s melewati %(clock)s (%(stage)s)"),
        'Laporan "{title}" (kategori {category}) melewati {clock} pada tahap {stage}{unit_suffix}. Mohon ditindaklanjuti.\n\n{url}',
    ),
}

# Why a case is back at Admin Kominfo (the ``back`` value: engine/cases/context.py names the reason), as the {history}
# of perlu_disposisi; {unit} is the unit that declined it, or whose answer the reporter was not satisfied with.
BACK_NOTES = {
    DECLINED: "\n\nLaporan ini kembali kepada Anda karena {unit} menyatakan laporan ini bukan wewenangnya. Mohon teruskan "
    "kepada unit lain yang berwenang; catatan unit tersebut ada pada halaman tugas.",
    NOT_SATISFIED: "\n\nLaporan ini kembali kepada Anda karena pelapor belum puas dengan jawaban dari {unit}. Balasan pelapor "
    "ada pada halaman tugas; mohon teruskan kembali kepada unit yang berwenang.",
    COMPLETED: "\n\nLaporan ini kembali kepada Anda karena pelapor telah menambahkan keterangan yang Anda minta. Keterangan itu "
    "ada pada halaman tugas; mohon verifikasi kembali laporan ini.",
}

# Reporter topics (mail only; citizens have no account). Extra placeholders: answer, access_code (the token in the url).
# They name the case by its tracking id only, never by what the reporter wrote (title, body): anyone can have a
# complaint's receipt mailed to any address, and must not be able to choose its words. The receipt's link carries the
# access code, the lasting key; every later mail's link carries a link code that opens the case for LINK_DAYS days
# (engine/cases/ids.py), so no mail sends the citizen hunting for the first one.
_LINK_NOTE = (
    f"Tautan ini berlaku {LINK_DAYS} hari dan jangan dibagikan; setelah itu, masukkan nomor pelacakan dan kode akses "
    "dari email tanda terima laporan Anda pada halaman Lacak laporan."
)
REPORTER_TEMPLATES: dict[str, tuple[str, str]] = {
    "laporan_diterima": (
        N_("Laporan Anda telah diterima: %(tracking_id)s"),
        "Terima kasih. Laporan Anda telah kami terima dengan nomor pelacakan {tracking_id}.\n\n"
        "Ikuti perkembangannya melalui tautan pribadi berikut. Simpan email ini dan jangan bagikan tautannya: "
        "siapa pun yang memegang tautan ini dapat membaca dan membalas laporan Anda.\n\n{url}\n\n"
        "Bila tautan tidak dapat dibuka, masukkan data berikut pada halaman Lacak laporan:\n"
        "Nomor pelacakan: {tracking_id}\nKode akses: {access_code}\n\n"
        "Admin Kominfo akan meneruskan laporan Anda kepada unit kerja yang berwenang paling lambat 1 hari kerja.\n\n"
        "Bila Anda tidak merasa mengirim laporan ini, abaikan email ini.",
    ),
    "jawaban_terbit": (
        N_("Jawaban atas laporan Anda %(tracking_id)s"),
        "Laporan Anda {tracking_id} telah dijawab.{answer}\n\n"
        "Beri tahu kami apakah Anda puas dengan jawaban ini melalui tautan pribadi berikut. " + _LINK_NOTE + "\n\n{url}",
    ),
    "pengingat": (
        N_("Pengingat: laporan %(tracking_id)s menunggu balasan Anda"),
        "Jawaban atas laporan Anda {tracking_id} telah terbit dan kami menunggu balasan Anda: apakah Anda puas dengan jawaban tersebut? "
        "Bila tidak ada balasan dalam 10 hari kerja setelah jawaban terbit, laporan akan ditutup.\n\n"
        "Buka laporan Anda melalui tautan pribadi berikut. " + _LINK_NOTE + "\n\n{url}",
    ),
    "selesai": (
        N_("Laporan %(tracking_id)s selesai"),
        "Laporan Anda {tracking_id} telah selesai. Terima kasih atas partisipasi Anda dalam memperbaiki pelayanan publik di Jawa Timur.",
    ),
    "minta_kelengkapan": (
        N_("Mohon lengkapi laporan Anda %(tracking_id)s"),
        "Admin Kominfo telah membaca laporan Anda {tracking_id} dan membutuhkan keterangan tambahan sebelum meneruskannya "
        "kepada unit kerja yang berwenang:\n\n{question}\n\n"
        "Tambahkan keterangan tersebut melalui tautan pribadi berikut paling lambat 10 hari kerja sejak email ini; tanpa "
        "tambahan, laporan akan diarsipkan. " + _LINK_NOTE + "\n\n{url}",
    ),
    "jawaban_sementara": (
        N_("Jawaban sementara atas laporan Anda %(tracking_id)s"),
        "Laporan Anda {tracking_id} masih ditindaklanjuti. Unit kerja yang menanganinya menyampaikan jawaban sementara:\n\n"
        "{detail}\n\nJawaban akhir akan kami kirimkan setelah tindak lanjutnya selesai. Ikuti perkembangannya melalui "
        "tautan pribadi berikut. " + _LINK_NOTE + "\n\n{url}",
    ),
    "diarsipkan": (
        N_("Laporan %(tracking_id)s diarsipkan"),
        "Laporan Anda {tracking_id} diarsipkan dan tidak ditindaklanjuti lebih lanjut. Alasannya: {reason}\n\n"
        "Anda tetap dapat membaca laporan Anda melalui tautan pribadi berikut. " + _LINK_NOTE + "\n\n{url}",
    ),
    "ditutup_otomatis": (
        N_("Laporan %(tracking_id)s ditutup"),
        "Laporan Anda {tracking_id} ditutup karena tidak ada balasan dalam 10 hari kerja setelah jawaban terbit. Terima kasih atas partisipasi Anda.",
    ),
}
# A topic the model sends the reporter that has no template of its own (a staff template would name the title).
REPORTER_UPDATE = (
    N_("Kabar terbaru laporan Anda %(tracking_id)s"),
    "Ada perkembangan baru pada laporan Anda {tracking_id}. Buka laporan Anda melalui tautan pribadi berikut. " + _LINK_NOTE + "\n\n{url}",
)

SIGNATURE = "Salam,\nSP4N-LAPOR! Provinsi Jawa Timur\nDinas Komunikasi dan Informatika Provinsi Jawa Timur"
FOOTER = "Email ini dikirim otomatis oleh sistem pengelolaan pengaduan SP4N-LAPOR! Jawa Timur. Mohon tidak membalas email ini."
MAIL_FAILED = N_("Email gagal terkirim: %(subject)s")  # the in-app incident for Admin Pusat (kind "surel_gagal")

_PAGE = "font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.5;color:#1f2933;max-width:600px;margin:0 auto;padding:16px"
_HEAD = "margin:0 0 16px;padding:8px 12px;background:#0b5cad;color:#ffffff;font-weight:bold"
_PARA = "margin:0 0 14px"
_LINK = "color:#0b5cad;word-break:break-all"
_SMALL = "margin:24px 0 0;padding-top:8px;border-top:1px solid #d9dee3;font-size:12px;color:#616e7c"


@dataclass(frozen=True)
class Sent:
    users: int
    mails: int


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def compose(subject: str, greeting: str, body: str, url: str | None) -> Rendered:
    """Wrap a rendered body in greeting, signature and footer; return the text and the HTML part.

    The HTML escapes every value; a line that is exactly ``url`` becomes a link.
    """
    text = f"{greeting}\n\n{body}\n\n{SIGNATURE}\n\n-- \n{FOOTER}\n"  # "-- ": the signature separator mail clients know

    def paragraph(block: str) -> str:
        lines = []
        for line in block.split("\n"):
            if url and line == url:
                lines.append(f'<a href="{escape(url)}" style="{_LINK}">{escape(url)}</a>')
            else:
                lines.append(escape(line))
        return f'<p style="{_PARA}">' + "<br>\n".join(lines) + "</p>"

    paragraphs = "\n".join(paragraph(block) for block in [greeting, *body.split("\n\n"), SIGNATURE])
    html = (
        '<!DOCTYPE html>\n<html lang="id">\n<head><meta charset="utf-8"><title>'
        + escape(subject)
        + f'</title></head>\n<body style="margin:0;background:#ffffff">\n<div style="{_PAGE}">\n'
        + f'<p style="{_HEAD}">SP4N-LAPOR! Jawa Timur</p>\n'
        + paragraphs
        + f'\n<p style="{_SMALL}">{escape(FOOTER)}</p>\n</div>\n</body>\n</html>\n'
    )
    return Rendered(subject, text, html)


def with_access_code(tracking_url: str, token: str) -> str:
    """A tracking page's URL with the citizen's access code in its fragment (Notifier.private_link)."""
    return f"{tracking_url}#token={token}"


_STAFF_OF_ROLE = select(User).where(User.role == bindparam("to"), User.active.is_(True)).order_by(User.id)
_STAFF_OF_UNIT = select(User).where(User.unit_id == bindparam("to"), User.active.is_(True)).order_by(User.id)


class Notifier:
    def __init__(self, session: Session, base_url: str) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")

    def private_link(self, tracking_id: str, token: str) -> str:
        """The citizen's private link: the tracking page with the access code after "#", the part of a URL a browser
        never sends, so no server or proxy log holds it (web/static/track.js posts it to the page instead)."""
        return with_access_code(f"{self.base_url}/lacak/{tracking_id}", token)

    def staff(self, to: str) -> list[User]:
        """Active users of a role ("kominfo", "pusat") or of a unit id."""
        return list(self.session.scalars(_STAFF_OF_ROLE if to in ("kominfo", "pusat") else _STAFF_OF_UNIT, {"to": to}))

    @staticmethod
    def says_why_back(topic: str) -> bool:
        """Whether the staff mail of ``topic`` names why the case is back (its ``back`` value, from BACK_NOTES)."""
        return topic in TEMPLATES and "{history}" in TEMPLATES[topic][1]

    @staticmethod
    def _values(case: Case, url: str, extra: dict[str, str]) -> dict[str, str]:
        unit = extra.get("unit", "")
        return {
            "tracking_id": case.tracking_id,
            "title": case.title,
            "category": CATEGORY_NAMES.get(case.category, case.category),
            "url": url,
            "unit": unit,
            "unit_suffix": f" di {unit}" if unit else "",
            "stage": STAGE_NAMES.get(extra.get("stage", ""), extra.get("stage", "")),
            "clock": CLOCK_NAMES.get(extra.get("clock", ""), extra.get("clock", "")),
            "history": BACK_NOTES.get(extra.get("back", ""), "").format(unit=unit or "unit kerja"),
            "answer": f"\n\nJawaban:\n{case.answer_text}" if case.answer_text else "",
            "question": extra.get("question", ""),
            "detail": extra.get("detail", ""),
            "reason": ARCHIVE_REASON_TEXTS.get(case.archive_reason or "", "") % {"duplicate_of": case.duplicate_of or ""},
            "access_code": parse_qs(urlsplit(url).fragment).get("token", [""])[0],
        }

    def render(self, topic: str, case: Case, url: str, greeting: str, reporter: bool = False, **extra: str) -> Rendered:
        """The mail of ``topic``: for the reporter its REPORTER_TEMPLATES entry, else REPORTER_UPDATE; for staff its
        TEMPLATES entry, else the reporter's. Raises KeyError for a staff topic with no template at all."""
        if reporter:
            subject, body = REPORTER_TEMPLATES.get(topic, REPORTER_UPDATE)
        else:
            subject, body = TEMPLATES[topic] if topic in TEMPLATES else REPORTER_TEMPLATES[topic]
        values = self._values(case, url, extra)
        return compose(subject % values, greeting, body.format(**values), url)

    def to_staff(self, case: Case, to: str, topic: str, at: datetime, **extra: str) -> Sent:
        users = self.staff(to)
        url = f"{self.base_url}/kasus/{case.tracking_id}"
        for user in users:
            mail = self.render(topic, case, url, f"Yth. {user.full_name or user.username},", reporter=False, **extra)
            self.session.add(Notification(user_id=user.id, case_id=case.id, at=at, kind=topic, message=mail.subject))
            self._queue(case, user.email, mail, topic, at, user_id=user.id)
        return Sent(len(users), len(users))

    def to_reporter(self, case: Case, email: str | None, topic: str, at: datetime, url: str | None = None, **extra: str) -> Sent:
        """Queue the mail of ``topic`` to the reporter: its link is ``url`` (the receipt's, with the access code) or
        the case's private link with a fresh link code (every later mail); ``extra``: the template's own values
        (``question``)."""
        if not email:
            return Sent(0, 0)
        url = url or self.private_link(case.tracking_id, fresh_link_code(case.tracking_id, case.access_token_hash, at))
        mail = self.render(topic, case, url, "Yth. Bapak/Ibu Pelapor,", reporter=True, **extra)
        self._queue(case, email, mail, topic, at)
        return Sent(0, 1)

    def _queue(self, case: Case, to: str, mail: Rendered, topic: str, at: datetime, user_id: int | None = None) -> None:
        self.session.add(
            OutboxMail(
                case_id=case.id,
                user_id=user_id,
                topic=topic,
                to_addr=to,
                subject=mail.subject,
                body=mail.text,
                html=mail.html,
                created_at=at,
                next_attempt_at=at,
                status="queued",
                attempts=0,
            )
        )


def mail_failed(session: Session, case_id: int | None, subject: str, at: datetime) -> int:
    """Tell every active Admin Pusat, in the caller's transaction, that the mail ``subject`` was given up. Returns how many."""
    users = list(session.scalars(select(User.id).where(User.role == "pusat", User.active.is_(True)).order_by(User.id)))
    for user_id in users:
        session.add(Notification(user_id=user_id, case_id=case_id, at=at, kind="surel_gagal", message=MAIL_FAILED % {"subject": subject}))
    return len(users)


# ---- reading and marking a user's notifications (the bell, the page, the API) -----------------


@dataclass(frozen=True)
class NotificationItem:
    id: int
    at: datetime
    kind: str
    tracking_id: str | None
    message: str
    read: bool


def _item(note: Notification, tracking_id: str | None) -> NotificationItem:
    return NotificationItem(note.id, note.at, note.kind, tracking_id, note.message, note.read)


def notifications_of(session: Session, user_id: int, limit: int = 50, unread_only: bool = False) -> list[NotificationItem]:
    """The user's notifications, newest first."""
    query = (
        select(Notification, Case.tracking_id)
        .outerjoin(Case, Case.id == Notification.case_id)
        .where(Notification.user_id == user_id)
        .order_by(Notification.at.desc(), Notification.id.desc())
        .limit(limit)
    )
    if unread_only:
        query = query.where(Notification.read.is_(False))
    return [_item(note, tracking_id) for note, tracking_id in session.execute(query)]


def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Notification).where(Notification.user_id == user_id, Notification.read.is_(False))) or 0


def mark_read(session: Session, user_id: int, notification_id: int) -> NotificationItem:
    """Mark one of the user's notifications read (idempotent). Raises NotFound for a missing one or another user's."""
    note = session.get(Notification, notification_id)
    if note is None or note.user_id != user_id:
        raise NotFound(N_("Notifikasi tidak ditemukan."))
    note.read = True
    tracking_id = session.scalar(select(Case.tracking_id).where(Case.id == note.case_id)) if note.case_id is not None else None
    return _item(note, tracking_id)


def mark_all_read(session: Session, user_id: int) -> int:
    """Mark every unread notification of the user read. Returns how many changed."""
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read.is_(False))
        .values(read=True)
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


# ---- notifications that clear themselves once their work is done ---------------------------------

# The staff topics that ask their reader for work on a case: the step they announce is the reader's to do (or, for
# an escalation, Admin Pusat's to watch). Once that step is done, or the case closes, they are news no more.
WORK_TOPICS = ("perlu_disposisi", "laporan_masuk", "jawaban_masuk", "perlu_revisi", "pengingat", "eskalasi")


# Each returns an UPDATE and its parameters; the command runs it after taking the case row's lock (a statement run
# earlier would take SQLite's write lock before the version check) and before it writes its own notifications, which
# stay unread. The statements are built once: building one costs more than running it.
Statement = tuple[Update, dict[str, Any]]


def _read_work(*conditions: ColumnElement[bool]) -> Update:
    unread = (Notification.read.is_(False), Notification.kind.in_(WORK_TOPICS))
    return update(Notification).where(*unread, *conditions).values(read=True).execution_options(synchronize_session=False)


def _read_by_holders(unit: ColumnElement[bool]) -> Update:
    holders = select(User.id).where(User.role == bindparam("holder_role"), unit)
    return _read_work(Notification.case_id == bindparam("of_case"), or_(Notification.user_id.in_(holders), Notification.kind == "eskalasi"))


_READ_BY_ROLE = _read_by_holders(User.unit_id.is_(None))
_READ_BY_UNIT = _read_by_holders(User.unit_id == bindparam("holder_unit"))
_READ_BY_CASE = _read_work(Notification.case_id == bindparam("of_case"))


def read_when_task_done(case_id: int, role: str, unit_id: str | None) -> Statement:
    """A task of the case was completed, by anyone: mark read the unread notifications of the case that asked the
    task's holders (its ``role``, in its unit) for that work, and the escalations of the case."""
    if unit_id is None:
        return _READ_BY_ROLE, {"of_case": case_id, "holder_role": role}
    return _READ_BY_UNIT, {"of_case": case_id, "holder_role": role, "holder_unit": unit_id}


def read_when_case_closed(case_id: int) -> Statement:
    """The case closed (finished or withdrawn): mark read everyone's unread notifications that asked for work on it."""
    return _READ_BY_CASE, {"of_case": case_id}
