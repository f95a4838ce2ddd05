"""The service's contract vocabulary: who acts, the roles and lanes, the unit kinds, the statuses, the categories,
the SOP's stages and deadline clocks, and the BPMN property names the model uses, each spelled once.

The model (processes/), the forms, the engine, the pages and the JSON API all speak these words: every module
imports them from here. Tables that name or describe these values (engine/notifications/notify.py, engine/cases/access.py,
web/labels.py, web/pages/admin.py) are keyed by them, and tests/engine/test_contract.py checks that they cover exactly
these values. Plain data, no imports from the rest of the engine, so anything can import it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff member (username, role, unit), the citizen, or the system."""

    username: str
    role: str
    unit_id: str | None = None


SYSTEM = Actor("sistem", "sistem")  # the engine's own steps: timers, retries, system tasks
CITIZEN = Actor("pelapor", "masyarakat")  # the reporter, on the public pages or with the case's access token

# ---- roles and lanes ------------------------------------------------------------------------

ROLES = ("pusat", "kominfo", "satker", "vertikal", "auditor", "analis")  # staff roles, in the order the admin pages list them
UNIT_KINDS = ("satuan_kerja", "instansi_vertikal")  # Unit.kind; what the model's jenis_unit(unit_id) returns
UNIT_ROLES = {"satker": "satuan_kerja", "vertikal": "instansi_vertikal"}  # staff roles bound to one unit -> that unit's kind
LANE_ROLES = {  # lane name in the model -> the role whose users act in it
    "Masyarakat": CITIZEN.role,
    "Sistem dan Admin Pusat": "pusat",
    "Admin Kominfo": "kominfo",
    "Satuan Kerja": "satker",
    "Instansi Vertikal": "vertikal",
}
UNIT_LANES = ("Satuan Kerja", "Instansi Vertikal")  # lanes whose tasks go to the case's unit (unit_tujuan), not the whole role
ROLE_RECIPIENTS = ("kominfo", "pusat", "pelapor")  # whom the model's beri_tahu(kepada, ...) may name besides a unit id

# ---- role policy: one name per meaning -------------------------------------------------------

CASE_READERS = ("pusat", "kominfo", "satker", "vertikal", "auditor", "analis")  # open case pages (a unit its own cases)
HANDLERS = ("pusat", "kominfo", "satker", "vertikal")  # the office handling a case, who may have to reach a named reporter
OVERSIGHT_ROLES = ("pusat", "auditor")
# read the reporter's own text beside the redacted one staff gave for the units (who, the public and analysts read only that)
ORIGINAL_TEXT_READERS = ("pusat", "kominfo", "auditor")  # a case's full audit history and replay, the export and the register, all cases' list
FIGURE_ROLES = ("pusat", "auditor", "analis")
# internal notes are free text by staff who may know the reporter: read by the office and its auditors, not by analysts
NOTE_READERS = (*HANDLERS, "auditor")  # aggregate figures: the SLA report, heatmaps, the process pages

# ---- cases ---------------------------------------------------------------------------------

# a case's status, in SOP order; menunggu_kelengkapan: step 3 asked the reporter to complete the report
STATUSES = ("diterima", "menunggu_kelengkapan", "didisposisikan", "ditindaklanjuti", "dijawab", "selesai", "diarsipkan", "dicabut")
FINISHED_STATUSES = ("selesai", "diarsipkan", "dicabut")  # nothing more happens to the case
OPEN_STATUSES = tuple(status for status in STATUSES if status not in FINISHED_STATUSES)  # under way: can be withdrawn, migrated
CATEGORIES = ("pendidikan", "kesehatan", "infrastruktur", "pertanahan", "keagamaan", "lainnya")  # the pengaduan form's categories

# How a complaint reached the office (Case.channel). The public web form is ``web``, the JSON API without a staff token
# ``aplikasi``, a partner's Open311 request ``open311``; Admin Kominfo and Admin Pusat type in the others (INTAKE_ROLES).
CHANNELS = ("web", "aplikasi", "telepon", "surat", "datang_langsung", "sms", "media_sosial", "email", "open311")
SELF_SERVICE_CHANNELS = ("web", "aplikasi", "open311")  # the channels a reporter uses without staff
INTAKE_ROLES = ("kominfo", "pusat")  # may record a complaint on a reporter's behalf, with any channel
CLASSIFICATIONS = ("pengaduan", "aspirasi", "permintaan_informasi")  # step 3's classification; klasifikasi.dmn's input
MAX_UNITS = 5  # units one case may be forwarded to at once

# ---- step 3, verification (form disposisi) --------------------------------------------------------

DECISIONS = ("teruskan", "minta_kelengkapan", "arsipkan")  # disposisi.decision; teruskan when absent
ARCHIVE_REASONS = ("bukan_pengaduan", "duplikat", "di_luar_kewenangan", "tidak_lengkap")  # why a case was archived

# ---- the SOP's stages and deadlines ------------------------------------------------------------

# the forms of the SOP's user tasks (steps 3 to 7), in order; kelengkapan: the reporter completes the report step 3 asked for;
# perpanjangan: Admin Kominfo decides on a unit's request for more time to answer (beside step 5)
STAGES = ("disposisi", "kelengkapan", "terima", "tanggapan", "perpanjangan", "teruskan", "balasan")
# Stages whose user task carries an SOP standard time (steps 3-5) or the citizen's reply window (step 7), so needs a boundary
# timer with jenisBatas=target. Step 6 (teruskan) has none: its standard time is the system's minute.
DEADLINE_FORMS = ("disposisi", "kelengkapan", "terima", "tanggapan", "perpanjangan", "balasan")
TARGET = "target"  # the clock of the SOP's standard time (OpenTask.due_at); a boundary timer without jenisBatas is one
CEILING = "plafon"  # the clock of the national ceiling (OpenTask.ceiling_at)
CLOCKS = (TARGET, CEILING)  # a deadline's clock: the values of a boundary timer's jenisBatas

# ---- BPMN extension properties (spiffworkflow:property names) ------------------------------------

FORM_PROPERTY = "formJsonSchemaFilename"  # on a user task or start event: its form's schema file in forms/
DEADLINE_PROPERTY = "jenisBatas"  # on a boundary timer: which of CLOCKS it is (TARGET when absent)
