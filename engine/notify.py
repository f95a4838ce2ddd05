"""Notifications (the SOP's "email dan pemberitahuan"): an inbox row per staff member and a mail
in the outbox, written in the caller's transaction so a notification exists exactly when its
cause does. The worker sends the outbox.

Messages never carry a reporter's identity: staff learn the tracking id, title and category only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .store import Case, Notification, OutboxMail, User

CATEGORY_NAMES = {
    "pendidikan": "Pendidikan",
    "kesehatan": "Kesehatan",
    "infrastruktur": "Infrastruktur",
    "pertanahan": "Pertanahan",
    "keagamaan": "Keagamaan",
    "lainnya": "Lainnya",
}
STAGE_NAMES = {
    "disposisi": "penerusan laporan ke unit kerja",
    "terima": "penerimaan laporan oleh unit",
    "tanggapan": "tanggapan unit",
    "teruskan": "peninjauan jawaban",
    "balasan": "balasan pelapor",
}
CLOCK_NAMES = {"target": "batas SOP", "plafon": "batas nasional"}

# topic -> (subject, body). Placeholders: tracking_id, title, category, url, unit, stage, clock.
TEMPLATES: dict[str, tuple[str, str]] = {
    "laporan_diterima": (
        "Laporan Anda telah diterima: {tracking_id}",
        'Terima kasih. Laporan Anda "{title}" telah kami terima dengan nomor pelacakan {tracking_id}.\n\n'
        "Ikuti perkembangannya melalui tautan pribadi berikut (jangan bagikan tautan ini):\n{url}\n\n"
        "Admin Kominfo akan meneruskan laporan Anda kepada unit kerja yang berwenang paling lambat 1 hari kerja.",
    ),
    "perlu_disposisi": (
        "Laporan {tracking_id} menunggu disposisi",
        'Laporan "{title}" (kategori {category}) menunggu Anda teruskan kepada Satuan Kerja atau Instansi Vertikal.\n{url}',
    ),
    "laporan_masuk": (
        "Laporan {tracking_id} diteruskan kepada {unit}",
        'Admin Kominfo meneruskan laporan "{title}" (kategori {category}) kepada {unit}. '
        "Mohon terima laporan ini atau kembalikan bila bukan wewenang unit Anda, lalu beri tanggapan dalam 1 hari kerja.\n{url}",
    ),
    "diterima_unit": ("Laporan {tracking_id} diterima unit", '{unit} menerima laporan "{title}" dan sedang menindaklanjutinya.\n{url}'),
    "jawaban_masuk": ("Jawaban unit untuk {tracking_id}", '{unit} telah memberi tanggapan atas laporan "{title}". Mohon tinjau dan teruskan.\n{url}'),
    "perlu_revisi": (
        "Jawaban untuk {tracking_id} dikembalikan",
        'Admin Kominfo mengembalikan tanggapan atas laporan "{title}" dengan catatan. Mohon perbaiki tanggapan Anda.\n{url}',
    ),
    "jawaban_terbit": (
        "Jawaban atas laporan Anda {tracking_id}",
        'Laporan Anda "{title}" telah dijawab. Silakan baca jawabannya dan beri tahu kami apakah Anda puas, '
        "melalui tautan pribadi pada email tanda terima.\n{url}",
    ),
    "selesai": ("Laporan {tracking_id} selesai", 'Laporan Anda "{title}" telah selesai. Terima kasih atas partisipasi Anda.'),
    "ditutup_otomatis": (
        "Laporan {tracking_id} ditutup",
        'Laporan Anda "{title}" ditutup karena tidak ada balasan dalam 10 hari kerja setelah jawaban terbit. Terima kasih.',
    ),
    "dicabut": (
        "Laporan {tracking_id} dicabut pelapor",
        'Pelapor mencabut laporan "{title}". Tugas yang terbuka untuk laporan ini telah ditutup.\n{url}',
    ),
    "pengingat": (
        "Pengingat: {stage} untuk {tracking_id} melewati {clock}",
        'Tugas {stage} untuk laporan "{title}" telah melewati {clock}. Mohon segera diselesaikan.\n{url}',
    ),
    "eskalasi": (
        "Eskalasi: {tracking_id} melewati {clock} ({stage})",
        'Laporan "{title}" (kategori {category}) melewati {clock} pada tahap {stage}{unit_suffix}. Mohon ditindaklanjuti.\n{url}',
    ),
}


@dataclass(frozen=True)
class Sent:
    users: int
    mails: int


class Notifier:
    def __init__(self, session: Session, base_url: str) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")

    def staff(self, to: str) -> list[User]:
        """Active users of a role ("kominfo", "pusat") or of a unit id."""
        role_filter = User.role == to if to in ("kominfo", "pusat") else User.unit_id == to
        return list(self.session.scalars(select(User).where(role_filter, User.active.is_(True)).order_by(User.id)))

    def render(self, topic: str, case: Case, url: str, **extra: str) -> tuple[str, str]:
        subject, body = TEMPLATES[topic]
        values = {
            "tracking_id": case.tracking_id,
            "title": case.title,
            "category": CATEGORY_NAMES.get(case.category, case.category),
            "url": url,
            "unit": extra.get("unit", ""),
            "unit_suffix": f" di {extra['unit']}" if extra.get("unit") else "",
            "stage": STAGE_NAMES.get(extra.get("stage", ""), extra.get("stage", "")),
            "clock": CLOCK_NAMES.get(extra.get("clock", ""), extra.get("clock", "")),
        }
        return subject.format(**values), body.format(**values)

    def to_staff(self, case: Case, to: str, topic: str, at: datetime, **extra: str) -> Sent:
        users = self.staff(to)
        subject, body = self.render(topic, case, f"{self.base_url}/kasus/{case.tracking_id}", **extra)
        for user in users:
            self.session.add(Notification(user_id=user.id, case_id=case.id, at=at, kind=topic, message=subject))
            self.session.add(OutboxMail(case_id=case.id, to_addr=user.email, subject=subject, body=body, created_at=at))
        return Sent(len(users), len(users))

    def to_reporter(self, case: Case, email: str | None, topic: str, at: datetime, url: str | None = None) -> Sent:
        if not email:
            return Sent(0, 0)
        subject, body = self.render(topic, case, url or f"{self.base_url}/lacak/{case.tracking_id}")
        self.session.add(OutboxMail(case_id=case.id, to_addr=email, subject=subject, body=body, created_at=at))
        return Sent(0, 1)
