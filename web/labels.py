"""Words the pages show for what engine/ hands the web as codes or as plain Indonesian text.

engine/ has no Flask and speaks Indonesian: its error and field messages, the notification subjects
it stores, the citizen's timeline, the BPMN's task, timer and lane names. Pages translate them here,
at the boundary: codes through the ``*_label`` filters, Indonesian through ``engine_text``. Its
templates are the sentences engine/ marks with ``N_`` where it writes them (engine/messages.py) and
the texts of the process model and the forms listed below (``%(name)s`` stands for a part that
varies). An engine error or a ``Message`` carries its template and values and is translated exactly;
finished text (read back from the database, flashed) is recognised by matching it to a template.
Text it does not know is shown as it came. tests/web/test_i18n.py fails, naming the text, when one
is missing: mark it (engine/) or list it here (processes/, forms/), run scripts/i18n.sh, write the English.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l

from engine.errors import EngineError
from engine.messages import N_, Message, templates
from engine.notifications.notify import CATEGORY_NAMES, CLOCK_NAMES, STAGE_NAMES

DEFAULT_LOCALE = "id"


# Codes (the contract's vocabulary, docs/architecture.md). Indonesian shows the status code itself, as before.
STATUS_LABELS = {
    "diterima": _l("diterima"),
    "menunggu_kelengkapan": _l("menunggu kelengkapan"),
    "didisposisikan": _l("didisposisikan"),
    "ditindaklanjuti": _l("ditindaklanjuti"),
    "dijawab": _l("dijawab"),
    "selesai": _l("selesai"),
    "diarsipkan": _l("diarsipkan"),
    "dicabut": _l("dicabut"),
}
ARCHIVE_REASON_LABELS = {  # engine/contract.py ARCHIVE_REASONS
    "bukan_pengaduan": _l("bukan pengaduan"),
    "duplikat": _l("laporan ganda"),
    "di_luar_kewenangan": _l("di luar kewenangan"),
    "tidak_lengkap": _l("tidak lengkap"),
}
ACTOR_LABELS = {"sistem": _l("sistem"), "pelapor": _l("pelapor")}
CHANNEL_LABELS = {
    "web": _l("situs web"),
    "aplikasi": _l("aplikasi"),
    "telepon": _l("telepon"),
    "surat": _l("surat"),
    "datang_langsung": _l("datang langsung"),
    "sms": _l("SMS 1708"),
    "media_sosial": _l("media sosial"),
    "email": _l("email"),
    "open311": _l("aplikasi mitra (Open311)"),
}

# Names and texts of the process model (processes/) and the forms (forms/): data, not code, so they are
# listed here for pybabel. engine/ marks its own sentences (engine/messages.py).
MODEL_TEXTS = (
    # processes/sp4n_lapor.bpmn: lanes, user tasks and deadline timers (inbox, task and case pages)
    N_("Masyarakat"),
    N_("Sistem dan Admin Pusat"),
    N_("Admin Kominfo"),
    N_("Satuan Kerja"),
    N_("Instansi Vertikal"),
    N_("Teruskan laporan ke unit kerja"),
    N_("Terima laporan"),
    N_("Beri tanggapan"),
    N_("Tinjau dan teruskan jawaban"),
    N_("Baca jawaban dan beri balasan"),
    N_("Batas SOP 1 hari kerja"),
    N_("Batas nasional 3 hari kerja"),
    N_("Batas 1 hari kerja"),
    N_("Batas nasional 5 hari kerja"),
    N_("10 hari kerja tanpa balasan"),
    # processes/sp4n_lapor.bpmn: every other named element, drawn on the case diagram
    N_("SP4N-LAPOR! Diskominfo Jawa Timur"),
    N_("Pengelolaan pengaduan SP4N-LAPOR!"),
    N_("Pengaduan diajukan"),
    N_("Rekam pengaduan"),
    N_("Tentukan narahubung menurut kategori"),
    N_("Kirim notifikasi ke Admin Kominfo"),
    N_("Kirim laporan ke unit (email dan pemberitahuan)"),
    N_("Jenis unit?"),
    N_("Wewenang unit?"),
    N_("Catat tindak lanjut"),
    N_("Beri tahu Admin Kominfo: jawaban masuk"),
    N_("Jawaban layak?"),
    N_("Kembalikan jawaban ke unit dengan catatan"),
    N_("Terbitkan jawaban"),
    N_("Pelapor puas?"),
    N_("Tutup laporan"),
    N_("Laporan selesai"),
    N_("Tutup otomatis tanpa balasan"),
    N_("Laporan ditutup otomatis"),
    N_("Kirim pengingat dan eskalasi"),
    N_("Eskalasi tercatat"),
    N_("Eskalasi: batas nasional terlewati"),
    N_("Diterima"),
    N_("Bukan wewenang"),
    N_("Teruskan"),
    N_("Kembalikan"),
    N_("Puas"),
    N_("Tidak puas"),
    # processes/sp4n_lapor.bpmn since step 3 became a verification with several units (issue 18); the names above stay for
    # the cases still running on earlier versions
    N_("Satuan Kerja tujuan"),
    N_("Instansi Vertikal tujuan"),
    N_("Jawaban Satuan Kerja"),
    N_("Jawaban Instansi Vertikal"),
    N_("Verifikasi laporan"),
    N_("Catat hasil verifikasi"),
    N_("Hasil verifikasi?"),
    N_("Minta pelapor melengkapi laporan"),
    N_("Lengkapi laporan"),
    N_("Catat: laporan tidak dilengkapi"),
    N_("Catat alasan arsip"),
    N_("Arsipkan laporan dan beri tahu pelapor"),
    N_("Laporan diarsipkan"),
    N_("Tentukan batas tindak lanjut menurut klasifikasi"),
    N_("Kirim laporan ke setiap unit tujuan (email dan pemberitahuan)"),
    N_("Ke setiap unit tujuan"),
    N_("Kumpulkan jawaban unit"),
    N_("Ada unit yang menjawab?"),
    N_("10 hari kerja tanpa kelengkapan"),
    N_("Tindak lanjut Satuan Kerja"),
    N_("Tindak lanjut Instansi Vertikal"),
    N_("Laporan sampai di unit"),
    N_("Tetapkan unit tujuan"),
    N_("Jawaban dikembalikan?"),
    N_("Catat: bukan wewenang unit"),
    N_("Unit keluar dari laporan"),
    N_("Catat jawaban unit"),
    N_("Jawaban unit tercatat"),
    N_("Batas nasional tindak lanjut"),
    N_("Ya"),
    N_("Tidak"),
    N_("Teruskan ke unit"),
    N_("Minta kelengkapan"),
    N_("Arsipkan"),
    N_("Tidak: semua unit menyatakan bukan wewenang"),
    # processes/sp4n_lapor.bpmn since a unit may ask for more time (issue 19): the event sub-process "Perpanjangan batas waktu"
    N_("perpanjangan"),
    N_("Perpanjangan batas waktu"),
    N_("Unit meminta perpanjangan"),
    N_("Beri tahu Admin Kominfo"),
    N_("Putuskan perpanjangan"),
    N_("Catat keputusan perpanjangan"),
    N_("Perpanjangan diputuskan"),
    # forms/*.schema.json: texts without an x-…-en twin
    N_("Langkah 1: masyarakat menyampaikan pengaduan tentang pelayanan publik."),
    N_("Ceritakan apa yang terjadi, di mana, dan pelayanan apa yang Anda harapkan."),
    N_("Nomor pelacakan dan jawaban dikirim ke alamat ini."),
    N_("Langkah 3: Admin Kominfo meneruskan laporan kepada satu Satuan Kerja atau Instansi Vertikal."),
    N_("Langkah 4: unit menerima laporan, atau mengembalikannya bila bukan wewenangnya."),
    N_("Langkah 5: unit memberikan tanggapan/jawaban kepada Admin Kominfo."),
    N_("Langkah 6: Admin Kominfo meneruskan jawaban kepada sistem untuk diterbitkan, atau mengembalikannya kepada unit."),
    N_("Wajib bila diteruskan: teks ini yang dibaca pelapor."),
    N_("Langkah 7: pelapor membaca jawaban dan menyatakan puas atau tidak."),
    N_(
        "Langkah 3: Admin Kominfo memverifikasi laporan, lalu meneruskannya kepada satu sampai lima unit, meminta pelapor "
        "melengkapinya, atau mengarsipkannya."
    ),
    N_("Pelapor menambahkan keterangan yang diminta Admin Kominfo."),
)

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@cache
def _table() -> tuple[frozenset[str], list[tuple[re.Pattern[str], str]]]:
    exact: set[str] = set()
    patterns: list[tuple[re.Pattern[str], str]] = []
    for msgid in templates() | set(MODEL_TEXTS):
        parts = _PLACEHOLDER.split(msgid)  # literal, name, literal, name, ..., literal
        if len(parts) == 1:
            exact.add(msgid)
        else:
            regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
            patterns.append((re.compile(regex, re.DOTALL), msgid))
    # the most literal text first: "Laporan Anda telah diteruskan kepada %(unit)s." before "Laporan %(tracking_id)s diteruskan …"
    # (then by the template itself, so that the order does not depend on the set's)
    patterns.sort(key=lambda item: (-len(_PLACEHOLDER.sub("", item[1])), item[1]))
    return frozenset(exact), patterns


def match(text: str) -> tuple[str, dict[str, Any]] | None:
    """Return (template, the varying parts) of the known template ``text`` is an instance of, or None."""
    if isinstance(text, Message):
        return text.template, text.values
    exact, patterns = _table()
    if text in exact:
        return text, {}
    for regex, msgid in patterns:
        found = regex.fullmatch(text)
        if found:
            return msgid, found.groupdict()
    return None


def _english() -> bool:
    return str(get_locale()) != DEFAULT_LOCALE


def engine_text(text: Any) -> Any:
    """Return an Indonesian text from engine/ (or an EngineError's message) in the request's language;
    unknown text unchanged.

    The varying parts are kept, translated only where they are themselves a known name
    (the stage and deadline names inside a reminder's subject).
    """
    if isinstance(text, EngineError):
        text = text.message
    if not text or not isinstance(text, str) or not _english():
        return text
    found = match(text)
    if found is None:
        return text
    msgid, values = found
    exact = _table()[0]
    return gettext(msgid, **{name: gettext(value) if isinstance(value, str) and value in exact else value for name, value in values.items()})


def _label(labels: dict[str, Any], code: Any) -> str:
    return str(labels.get(code, code)) if code is not None else ""


def status_label(code: str | None) -> str:
    return _label(STATUS_LABELS, code)


def category_label(code: str | None) -> str:
    return engine_text(CATEGORY_NAMES.get(code, code)) if code else ""


def stage_label(code: str | None) -> str:
    return engine_text(STAGE_NAMES.get(code, code)) if code else ""


def clock_label(code: str | None) -> str:
    return engine_text(CLOCK_NAMES.get(code, code)) if code else ""


def actor_label(username: str | None) -> str:
    return _label(ACTOR_LABELS, username)


def channel_label(code: str | None) -> str:
    return _label(CHANNEL_LABELS, code)


def archive_reason_label(code: str | None) -> str:
    return _label(ARCHIVE_REASON_LABELS, code)


FILTERS = {
    f.__name__: f for f in (engine_text, status_label, category_label, stage_label, clock_label, actor_label, channel_label, archive_reason_label)
}
