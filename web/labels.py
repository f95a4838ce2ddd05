"""Words the pages show for what engine/ hands the web as codes or as plain Indonesian text.

engine/ has no Flask and speaks Indonesian: its error and field messages, the BPMN's task, timer
and lane names, the notification subjects it stores, the citizen's timeline. Pages translate them
here, at the boundary: codes through the ``*_label`` filters, Indonesian sentences through
``engine_text``, which recognises each sentence listed in ENGINE_TEXTS (``%(name)s`` stands for a
part that varies) and returns it in the request's language. Text it does not know is shown as it
came. tests/web/test_i18n.py fails, naming the sentence, when engine/, processes/ or forms/ gain
one that is missing here: add it to ENGINE_TEXTS, run scripts/i18n.sh, write the English.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l

from engine.notifications.notify import CATEGORY_NAMES, CLOCK_NAMES, STAGE_NAMES

DEFAULT_LOCALE = "id"


def N_(message: str) -> str:
    """Mark a msgid for extraction; ``engine_text`` translates it when the engine's text matches."""
    return message


# Codes (the contract's vocabulary, docs/architecture.md). Indonesian shows the status code itself, as before.
STATUS_LABELS = {
    "diterima": _l("diterima"),
    "didisposisikan": _l("didisposisikan"),
    "ditindaklanjuti": _l("ditindaklanjuti"),
    "dijawab": _l("dijawab"),
    "selesai": _l("selesai"),
    "dicabut": _l("dicabut"),
}
ACTOR_LABELS = {"sistem": _l("sistem"), "pelapor": _l("pelapor")}
CHANNEL_LABELS = {"web": _l("situs web"), "api": _l("aplikasi")}

# Indonesian sentences and names as engine/, processes/ and forms/ write them.
ENGINE_TEXTS = (
    # engine/notifications/notify.py: category, stage and deadline names
    N_("Pendidikan"),
    N_("Kesehatan"),
    N_("Infrastruktur"),
    N_("Pertanahan"),
    N_("Keagamaan"),
    N_("Lainnya"),
    N_("penerusan laporan ke unit kerja"),
    N_("penerimaan laporan oleh unit"),
    N_("tanggapan unit"),
    N_("peninjauan jawaban"),
    N_("balasan pelapor"),
    N_("batas SOP"),
    N_("batas nasional"),
    # engine/notifications/notify.py: notification subjects (the staff notification list shows them)
    N_("Laporan Anda telah diterima: %(tracking_id)s"),
    N_("Laporan %(tracking_id)s menunggu disposisi"),
    N_("Laporan %(tracking_id)s diteruskan kepada %(unit)s"),
    N_("Laporan %(tracking_id)s diterima unit"),
    N_("Jawaban unit untuk %(tracking_id)s"),
    N_("Jawaban untuk %(tracking_id)s dikembalikan"),
    N_("Jawaban atas laporan Anda %(tracking_id)s"),
    N_("Laporan %(tracking_id)s selesai"),
    N_("Laporan %(tracking_id)s ditutup"),
    N_("Laporan %(tracking_id)s dicabut pelapor"),
    N_("Pengingat: %(stage)s untuk %(tracking_id)s melewati %(clock)s"),
    N_("Eskalasi: %(tracking_id)s melewati %(clock)s (%(stage)s)"),
    N_("Email gagal terkirim: %(subject)s"),
    # engine/diagram/render.py: the legend of the case diagram
    N_("Selesai"),
    N_("Sedang dikerjakan"),
    N_("Terlambat"),
    N_("Timer menunggu"),
    N_("Timer terpicu"),
    N_("Alur yang dilalui"),
    N_("Berapa kali diselesaikan · median durasi"),
    # engine/cases/access.py: the citizen's timeline
    N_("Laporan Anda telah diterima dan menunggu diteruskan oleh Admin Kominfo."),
    N_("Laporan Anda telah diteruskan kepada unit kerja yang berwenang."),
    N_("Laporan Anda telah diteruskan kepada %(unit)s."),
    N_("Unit kerja sedang menindaklanjuti laporan Anda."),
    N_("Jawaban atas laporan Anda telah terbit."),
    N_("Laporan Anda telah selesai."),
    N_("Laporan Anda telah dicabut."),
    # engine/: conflicts shown as a flash message
    N_("Tugas ini sudah diselesaikan."),
    N_("Laporan ini sedang tidak menunggu balasan Anda."),
    N_("Laporan yang sudah selesai atau dicabut tidak dapat dicabut lagi."),
    N_("Tugas ini sedang dikerjakan oleh %(user)s."),
    N_("Tugas ini sudah tidak terbuka; muat ulang halaman."),
    N_("Laporan ini baru saja diubah oleh orang lain; muat ulang dan coba lagi."),
    N_("Laporan ini tidak sedang menunggu percobaan ulang langkah otomatis."),
    # engine/cases/service.py: Admin Pusat reassigning a task
    N_("Hanya tugas Satuan Kerja atau Instansi Vertikal yang dapat dialihkan."),
    N_("Tugas ini sudah berada di unit tersebut."),
    N_("Pilih unit aktif yang sejenis dengan unit sekarang."),
    N_("Tuliskan alasan pengalihan; alasan ini masuk ke riwayat laporan."),
    # engine/audit/trail.py: why a hash chain does not verify (history page)
    N_("Isi atau hash peristiwa ini tidak cocok dengan rantai."),
    N_("Urutan peristiwa terputus: peristiwa sebelum ini hilang."),
    N_("Peristiwa terakhir hilang: riwayat lebih pendek daripada kepala rantai yang tercatat pada laporan."),
    N_("Kepala rantai yang tercatat pada laporan tidak cocok dengan peristiwa terakhir."),
    N_("Peristiwa ini ditambahkan di luar sistem: tidak tercatat pada kepala rantai laporan."),
    N_("Laporan tidak mencatat kepala rantai riwayatnya."),
    # engine/audit/replay.py: where a replay differs from the record (history page)
    N_("Peristiwa hasil putar ulang berbeda dengan yang tersimpan."),
    N_("Putar ulang tidak menghasilkan peristiwa yang tersimpan ini."),
    N_("Putar ulang menghasilkan peristiwa yang tidak tersimpan."),
    N_("Keadaan akhir hasil putar ulang berbeda dengan keadaan laporan yang tersimpan."),
    N_("Mesin menolak masukan yang tersimpan saat diputar ulang."),
    N_("Putar ulang gagal menjalankan masukan yang tersimpan."),
    N_("Tugas masukan ini tidak terbuka pada putar ulang."),
    N_("Jenis peristiwa ini tidak dapat diputar ulang."),
    N_("Riwayat tidak diawali peristiwa case_started."),
    N_("Laporan yang dipindahkan ke versi proses lain belum dapat diputar ulang."),
    # engine/definitions/forms.py: field messages
    N_("Wajib diisi."),
    N_("Minimal %(count)s karakter."),
    N_("Maksimal %(count)s karakter."),
    N_("Pilih salah satu: %(choices)s."),
    N_("Alamat email tidak valid."),
    N_("Tanggal tidak valid (format TTTT-BB-HH)."),
    N_("Tanggal tidak boleh di masa depan."),
    N_("Formatnya tidak sesuai."),
    N_("Harus berupa teks."),
    N_("Harus ya atau tidak."),
    N_("Harus berupa objek."),
    N_("Jenis isian tidak sesuai."),
    N_("Isian tidak dikenal: %(fields)s."),
    N_("Harus %(value)s."),
    N_("Isian tidak valid."),
    N_("Data formulir harus berupa objek JSON."),
    # engine/accounts/administration.py: field messages of the unit and account pages
    N_("Gunakan huruf kecil, angka dan tanda hubung, mis. dinas-sosial."),
    N_("Kode unit ini sudah dipakai."),
    N_("Jenis unit tidak dapat diubah selama unit ini masih punya akun petugas."),
    N_("Nama unit wajib diisi (3–200 karakter)."),
    N_("Pilih Satuan Kerja atau Instansi Vertikal."),
    N_("Nama pengguna 2–80 karakter: huruf kecil, angka, titik, garis bawah atau tanda hubung."),
    N_("Nama pengguna ini sudah dipakai."),
    N_("Kata sandi minimal %(count)s karakter."),
    N_("Anda tidak dapat menonaktifkan atau mengubah peran akun Anda sendiri."),
    N_("Nama lengkap wajib diisi."),
    N_("Alamat email belum benar."),
    N_("Pilih salah satu peran."),
    N_("Peran ini wajib punya satu unit berjenis %(kind)s."),
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
    # engine/definitions/validation.py: what a validation finding says (the process analysts' upload page)
    N_("jenisBatas '%(value)s' tidak dikenal: pilih target (batas SOP) atau plafon (batas nasional)."),
    N_("Tugas '%(task)s' (formulir %(form)s) punya batas waktu SOP, tetapi tidak ada timer batas pada tepinya (jenisBatas=target)."),
    N_("Timer berjenisBatas harus menempel pada tepi tugas pengguna (boundary event)."),
    N_("Keputusan DMN '%(decision)s' tidak ada di berkas DMN mana pun."),
    N_("Alur bawaan (default) '%(flow)s' bukan alur yang keluar dari elemen ini."),
    N_("Berkas memuat deklarasi DOCTYPE atau ENTITY. BPMN dan DMN tidak memerlukannya; demi keamanan berkas ini ditolak tanpa dibaca."),
    N_("Id '%(value)s' dipakai lebih dari satu elemen."),
    N_("<%(kind)s> tidak punya garis di diagram (BPMN DI): modeller tidak menampilkan apa yang dijalankan mesin."),
    N_("Berkas kosong."),
    N_("Berkas bukan teks UTF-8."),
    N_("Ekspresi ini membaca %(path)s, tetapi formulir '%(form)s' tidak punya isian '%(field)s'."),
    N_("Jenis berkas %(file)s tidak dikenal: hanya .bpmn, .dmn dan .schema.json."),
    N_("Formulir forms/%(form)s tidak ditemukan."),
    N_("Kondisi '%(condition)s' terlalu rumit untuk dibuktikan lengkap; tambahkan alur bawaan (default)."),
    N_("Tidak ada alur keluar untuk %(values)s; tambahkan kondisinya atau alur bawaan (default)."),
    N_("Alur '%(flow)s' keluar dari gerbang eksklusif tanpa kondisi dan bukan alur bawaan (default)."),
    N_("Gerbang ini memeriksa %(value)s, yang nilainya tidak terbatas pada daftar tertentu; tambahkan alur bawaan (default)."),
    N_("JSON tidak valid: %(detail)s"),
    N_("JSON bersarang terlalu dalam: lebih dari %(limit)s tingkat."),
    N_("Lajur '%(lane)s' bukan salah satu peran layanan (%(lanes)s)."),
    N_("Ekspresi ini memakai '%(name)s', yang tidak diisi oleh formulir, skrip, atau keputusan DMN mana pun."),
    N_("Bukan berkas BPMN 2.0: elemen akarnya <%(root)s>, bukan <bpmn:definitions>."),
    N_("Bukan berkas DMN 1.1, 1.2 atau 1.3 yang dikenal SpiffWorkflow: namespace-nya %(namespace)s."),
    N_("Tidak ada proses dengan id '%(process)s': layanan ini menjalankan proses tersebut."),
    N_("%(attribute)s merujuk ke '%(target)s', yang tidak ada di berkas ini."),
    N_("Bukan JSON Schema yang valid: %(detail)s"),
    N_("Skrip ini ditulis dalam %(language)s; SpiffWorkflow hanya menjalankan Python."),
    N_("<%(kind)s> tidak punya bentuk di diagram (BPMN DI): modeller tidak menampilkan apa yang dijalankan mesin."),
    N_("Berkas terlalu besar: %(size)s KB, batasnya %(limit)s KB."),
    N_("SpiffWorkflow tidak dapat membaca model: %(detail)s"),
    N_("Ekspresi ini bukan Python yang sah: %(detail)s"),
    N_('Ekspresi %(expression)s ditulis untuk mesin lain (${…}); SpiffWorkflow membaca Python, mis. terima["decision"] == "terima".'),
    N_("Tugas pengguna ini tidak menyebut formulirnya (properti spiffworkflow formJsonSchemaFilename)."),
    N_("Tugas pengguna ini tidak berada di lajur mana pun, jadi tidak ada peran yang dapat mengerjakannya."),
    N_("Timer tanpa ekspresi waktu (timeDate, timeDuration atau timeCycle)."),
    N_(
        'Ekspresi timer %(expression)s harus berupa durasi atau tanggal ISO dalam tanda kutip (mis. "P1D") '
        "atau pemanggilan batas_hari_kerja(n) / batas_menit(n)."
    ),
    N_("Tanggal timer %(expression)s tanpa zona waktu; tulis offset-nya, mis. +07:00."),
    N_("Ekspresi timer %(expression)s tidak menghasilkan durasi atau tanggal yang sah: %(detail)s"),
    N_("XML tidak well-formed: %(detail)s"),
    N_("Tidak sesuai skema %(schema)s: atribut '%(attribute)s' tidak boleh ada pada <%(element)s>."),
    N_("Tidak sesuai skema %(schema)s: '%(attribute)s' pada <%(element)s> harus salah satu dari %(choices)s, bukan '%(value)s'."),
    N_("Tidak sesuai skema %(schema)s: di dalam <%(element)s> ada elemen wajib yang belum ada."),
    N_("Tidak sesuai skema %(schema)s: %(detail)s"),
    N_("Tidak sesuai skema %(schema)s: <%(element)s> wajib punya atribut '%(attribute)s'."),
    N_("Tidak sesuai skema %(schema)s: <%(element)s> tidak boleh berisi teks langsung."),
    N_("Tidak sesuai skema %(schema)s: <%(element)s> tidak boleh berada di sini."),
    N_("Tidak sesuai skema %(schema)s: nilai '%(value)s' untuk '%(attribute)s' pada <%(element)s> tidak sah (%(type)s)."),
    # engine/runtime/sandbox.py: what the sandbox refuses in a model's expressions (validation findings; incidents at run time)
    N_("Nama '%(name)s' tidak diizinkan: nama yang diawali garis bawah (_) tertutup bagi model."),
    N_("Atribut '%(name)s' tidak diizinkan: model hanya memakai data tugas, bukan bagian dalam objek Python."),
    N_("Kunci '%(name)s' tidak diizinkan: kunci yang diawali garis bawah (_) tertutup bagi model."),
    N_("Impor '%(name)s' tidak diizinkan: model hanya memakai fungsi bantu dan data tugas."),
    N_("Fungsi '%(name)s' tidak diizinkan. Model hanya boleh memanggil fungsi bantu (lihat README) dan %(allowed)s."),
    N_(
        "'%(name)s' tidak diizinkan di model proses: skrip model ditulis tanpa while, def, lambda, class, try, with, global, "
        "serta tanpa * atau ** untuk membuka isi daftar."
    ),
    N_("Format '%(name)s' tidak diizinkan: lebar dan presisi format ditulis langsung sebagai angka, paling besar %(width)s."),
    N_("Tidak diizinkan di model proses: %(name)s"),
    # engine/definitions/versions.py: why a case cannot move to another version, and what moving changes
    N_("Pemeriksaan setelah pemindahan gagal: %(detail)s"),
    N_("Laporan sudah selesai atau dicabut."),
    N_("Laporan %(tracking_id)s tidak dapat dipindahkan: %(reason)s"),
    N_("Laporan sudah melewati '%(task)s', yang tidak ada di versi %(number)s."),
    N_("Tidak ada migrasi laporan ini yang dapat dibatalkan."),
    N_("Versi %(number)s tidak ada."),
    N_("Tugas yang sedang terbuka '%(task)s' tidak ada di versi %(number)s."),
    N_("Laporan sudah berjalan pada versi %(number)s."),
    N_("Letak '%(task)s' di versi %(number)s berbeda (mis. timer batas ditambah atau dihapus seluruhnya); laporan tidak dapat dipindahkan."),
    N_("Langkah '%(task)s' sedang menunggu dan tidak ada di versi %(number)s."),
    N_("Formulir tugas '%(task)s' berubah: %(old)s → %(new)s."),
    N_("Tugas '%(task)s' pindah lajur: %(old)s → %(new)s."),
    N_("Timer baru '%(timer)s' mulai dihitung saat pemindahan."),
    N_("Timer '%(timer)s' tidak ada di versi tujuan dan dihapus."),
    N_("Timer '%(timer)s' kembali dengan batas semula."),
)

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@cache
def _table() -> tuple[dict[str, str], list[tuple[re.Pattern[str], str]]]:
    exact: dict[str, str] = {}
    patterns: list[tuple[re.Pattern[str], str]] = []
    for msgid in ENGINE_TEXTS:
        parts = _PLACEHOLDER.split(msgid)  # literal, name, literal, name, ..., literal
        if len(parts) == 1:
            exact[msgid] = msgid
        else:
            regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
            patterns.append((re.compile(regex, re.DOTALL), msgid))
    # the most literal text first: "Laporan Anda telah diteruskan kepada %(unit)s." before "Laporan %(tracking_id)s diteruskan …"
    patterns.sort(key=lambda item: -len(_PLACEHOLDER.sub("", item[1])))
    return exact, patterns


def match(text: str) -> tuple[str, dict[str, str]] | None:
    """Return (msgid, the varying parts) of the ENGINE_TEXTS entry ``text`` is an instance of, or None."""
    exact, patterns = _table()
    if text in exact:
        return exact[text], {}
    for regex, msgid in patterns:
        found = regex.fullmatch(text)
        if found:
            return msgid, found.groupdict()
    return None


def _english() -> bool:
    return str(get_locale()) != DEFAULT_LOCALE


def engine_text(text: Any) -> Any:
    """Return an Indonesian text from engine/ in the request's language (unknown text unchanged).

    The varying parts are kept, translated only where they are themselves a known name
    (the stage and deadline names inside a reminder's subject).
    """
    if not text or not isinstance(text, str) or not _english():
        return text
    found = match(text)
    if found is None:
        return text
    msgid, values = found
    exact = _table()[0]
    return gettext(msgid, **{name: gettext(value) if value in exact else value for name, value in values.items()})


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


FILTERS = {f.__name__: f for f in (engine_text, status_label, category_label, stage_label, clock_label, actor_label, channel_label)}
