"""What validation says: a Finding (file, line, element id, a sentence in Indonesian) and every sentence it can say.

The templates are kept together, each marked with ``N_`` for translation (MESSAGES lists them, the sandbox's refusals
included: they reach the analyst as findings too). A finding's message keeps its template and values (engine/messages.py),
so the analyst's pages translate it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.messages import N_, Message
from engine.runtime.sandbox import (  # noqa: F401 - the sandbox's refusals are findings too: MESSAGES lists them
    MSG_FORBIDDEN_ATTRIBUTE,
    MSG_FORBIDDEN_FORMAT,
    MSG_FORBIDDEN_FUNCTION,
    MSG_FORBIDDEN_IMPORT,
    MSG_FORBIDDEN_KEY,
    MSG_FORBIDDEN_NAME,
    MSG_FORBIDDEN_OTHER,
    MSG_FORBIDDEN_SYNTAX,
)


@dataclass(frozen=True)
class Finding:
    """One problem: where (file, line, the element's id) and what, in words an analyst understands.

    ``code`` names the kind of check (``xml``, ``xsd``, ``lane``, ``gateway``, ...) for tests and grouping.
    """

    file: str
    line: int | None
    element: str | None
    message: str
    code: str = ""

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        return f"{where}: {self.element + ': ' if self.element else ''}{self.message}"


# What the findings say. Each is a template whose %(name)s parts vary.
MSG_SIZE = N_("Berkas terlalu besar: %(size)s KB, batasnya %(limit)s KB.")
MSG_EMPTY = N_("Berkas kosong.")
MSG_ENCODING = N_("Berkas bukan teks UTF-8.")
MSG_FILE_KIND = N_("Jenis berkas %(file)s tidak dikenal: hanya .bpmn, .dmn dan .schema.json.")
MSG_DOCTYPE = N_("Berkas memuat deklarasi DOCTYPE atau ENTITY. BPMN dan DMN tidak memerlukannya; demi keamanan berkas ini ditolak tanpa dibaca.")
MSG_XML = N_("XML tidak well-formed: %(detail)s")
MSG_NOT_BPMN = N_("Bukan berkas BPMN 2.0: elemen akarnya <%(root)s>, bukan <bpmn:definitions>.")
MSG_NOT_DMN = N_("Bukan berkas DMN 1.1, 1.2 atau 1.3 yang dikenal SpiffWorkflow: namespace-nya %(namespace)s.")
MSG_JSON = N_("JSON tidak valid: %(detail)s")
MSG_JSON_DEPTH = N_("JSON bersarang terlalu dalam: lebih dari %(limit)s tingkat.")
MSG_SCHEMA = N_("Bukan JSON Schema yang valid: %(detail)s")
MSG_XSD_ATTRIBUTE = N_("Tidak sesuai skema %(schema)s: atribut '%(attribute)s' tidak boleh ada pada <%(element)s>.")
MSG_XSD_REQUIRED = N_("Tidak sesuai skema %(schema)s: <%(element)s> wajib punya atribut '%(attribute)s'.")
MSG_XSD_UNEXPECTED = N_("Tidak sesuai skema %(schema)s: <%(element)s> tidak boleh berada di sini.")
MSG_XSD_MISSING_CHILD = N_("Tidak sesuai skema %(schema)s: di dalam <%(element)s> ada elemen wajib yang belum ada.")
MSG_XSD_TEXT = N_("Tidak sesuai skema %(schema)s: <%(element)s> tidak boleh berisi teks langsung.")
MSG_XSD_VALUE = N_("Tidak sesuai skema %(schema)s: nilai '%(value)s' untuk '%(attribute)s' pada <%(element)s> tidak sah (%(type)s).")
MSG_XSD_CHOICE = N_("Tidak sesuai skema %(schema)s: '%(attribute)s' pada <%(element)s> harus salah satu dari %(choices)s, bukan '%(value)s'.")
MSG_DUPLICATE_ID = N_("Id '%(value)s' dipakai lebih dari satu elemen.")
MSG_XSD_OTHER = N_("Tidak sesuai skema %(schema)s: %(detail)s")
MSG_REFERENCE = N_("%(attribute)s merujuk ke '%(target)s', yang tidak ada di berkas ini.")
MSG_DEFAULT_NOT_OUTGOING = N_("Alur bawaan (default) '%(flow)s' bukan alur yang keluar dari elemen ini.")
MSG_NO_PROCESS = N_("Tidak ada proses dengan id '%(process)s': layanan ini menjalankan proses tersebut.")
MSG_LANE = N_("Lajur '%(lane)s' bukan salah satu peran layanan (%(lanes)s).")
MSG_TASK_NO_LANE = N_("Tugas pengguna ini tidak berada di lajur mana pun, jadi tidak ada peran yang dapat mengerjakannya.")
MSG_TASK_NO_FORM = N_("Tugas pengguna ini tidak menyebut formulirnya (properti spiffworkflow formJsonSchemaFilename).")
MSG_FORM_MISSING = N_("Formulir forms/%(form)s tidak ditemukan.")
MSG_FIELD = N_("Ekspresi ini membaca %(path)s, tetapi formulir '%(form)s' tidak punya isian '%(field)s'.")
MSG_NAME = N_("Ekspresi ini memakai '%(name)s', yang tidak diisi oleh formulir, skrip, atau keputusan DMN mana pun.")
MSG_SYNTAX = N_("Ekspresi ini bukan Python yang sah: %(detail)s")
MSG_SYNTAX_EL = N_('Ekspresi %(expression)s ditulis untuk mesin lain (${…}); SpiffWorkflow membaca Python, mis. terima["decision"] == "terima".')
MSG_SCRIPT_LANGUAGE = N_("Skrip ini ditulis dalam %(language)s; SpiffWorkflow hanya menjalankan Python.")
MSG_GATEWAY_NO_CONDITION = N_("Alur '%(flow)s' keluar dari gerbang eksklusif tanpa kondisi dan bukan alur bawaan (default).")
MSG_GATEWAY_OPEN = N_("Gerbang ini memeriksa %(value)s, yang nilainya tidak terbatas pada daftar tertentu; tambahkan alur bawaan (default).")
MSG_GATEWAY_COMPLEX = N_("Kondisi '%(condition)s' terlalu rumit untuk dibuktikan lengkap; tambahkan alur bawaan (default).")
MSG_GATEWAY_GAP = N_("Tidak ada alur keluar untuk %(values)s; tambahkan kondisinya atau alur bawaan (default).")
MSG_TIMER_EMPTY = N_("Timer tanpa ekspresi waktu (timeDate, timeDuration atau timeCycle).")
MSG_TIMER_FORM = N_(
    'Ekspresi timer %(expression)s harus berupa durasi atau tanggal ISO dalam tanda kutip (mis. "P1D") '
    "atau pemanggilan batas_hari_kerja(n) / batas_menit(n)."
)
MSG_TIMER_VALUE = N_("Ekspresi timer %(expression)s tidak menghasilkan durasi atau tanggal yang sah: %(detail)s")
MSG_TIMER_OFFSET = N_("Tanggal timer %(expression)s tanpa zona waktu; tulis offset-nya, mis. +07:00.")
MSG_DEADLINE_MISSING = N_(
    "Tugas '%(task)s' (formulir %(form)s) punya batas waktu SOP, tetapi tidak ada timer batas pada tepinya (jenisBatas=target)."
)
MSG_DEADLINE_KIND = N_("jenisBatas '%(value)s' tidak dikenal: pilih target (batas SOP) atau plafon (batas nasional).")
MSG_DEADLINE_PLACE = N_("Timer berjenisBatas harus menempel pada tepi tugas pengguna (boundary event).")
MSG_DECISION_MISSING = N_("Keputusan DMN '%(decision)s' tidak ada di berkas DMN mana pun.")
MSG_SHAPE_MISSING = N_("<%(kind)s> tidak punya bentuk di diagram (BPMN DI): modeller tidak menampilkan apa yang dijalankan mesin.")
MSG_EDGE_MISSING = N_("<%(kind)s> tidak punya garis di diagram (BPMN DI): modeller tidak menampilkan apa yang dijalankan mesin.")
MSG_SPIFF = N_("SpiffWorkflow tidak dapat membaca model: %(detail)s")
MESSAGES = tuple(value for name, value in sorted(globals().items()) if name.startswith("MSG_"))


def finding_at(file: str, el: Any, message: str, code: str, element: str | None = None, **values: Any) -> Finding:
    """A finding at element ``el`` (its line, and its id or that of its nearest ancestor with one)."""
    line = el.sourceline if el is not None else None
    if element is None and el is not None:
        holder = el
        while holder is not None and not holder.get("id"):
            holder = holder.getparent()
        element = holder.get("id") if holder is not None else None
    return Finding(file, line, element, Message(message, **values), code)
