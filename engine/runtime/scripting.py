"""What the BPMN model's scripts, gateway conditions and timer expressions can call.

Scripts do not touch the database: each helper records an *effect* (a status change, a
notification, an escalation, a published answer) in the current run context, and the case
façade applies the effects inside the same transaction once the engine has stepped. That keeps
the model runnable in plain SpiffWorkflow (``make_script_engine()`` with the default context)
for baselines and tests. Whoever runs the model, it runs in the sandbox (engine/runtime/sandbox.py).

Helpers (documented in the README for analysts):
  ubah_status(status)               set the case status (a status of the contract only)
  beri_tahu(kepada, jenis[, unit])  notify "kominfo", "pusat", "pelapor" or a unit id (unit: the unit the news is about)
  eskalasi(tahap, batas[, unit])    reminder to the task's holders (unit: the unit holding it) + escalation to Admin Pusat
  teruskan_ke_unit(unit_id)         step 3: the case goes to this unit too (recorded, the unit notified)
  unit_menolak(unit_id)             step 4: this unit declined the case and no longer holds it
  minta_kelengkapan(pertanyaan)     step 3: ask the reporter to complete the report (recorded, mailed to the reporter)
  arsipkan(alasan[, duplikat_dari]) step 3: why the case is archived (engine/contract.py ARCHIVE_REASONS)
  lindungi_pelapor(anonim, rahasia[, teks_unit])  step 3: mark the case anonymous/confidential (never back) and the
                                    text the units read instead of the reporter's own
  terbitkan_jawaban(teks[, lampiran])  publish the answer the citizen reads, with the ids of the units' documents
  putuskan_perpanjangan(permintaan, keputusan)  Admin Kominfo's decision on a unit's request for more time: on
                                    "setuju" the unit's deadline moves (the engine re-arms that task's timers)
  rekam_pengaduan()                 step 2: record the complaint (stamps the received time)
  jenis_unit(unit_id)               "satuan_kerja" or "instansi_vertikal"
  batas_hari_kerja(n)               timer helper: end of the n-th working day (ISO, +07:00)
  batas_menit(n)                    timer helper: n minutes from now (ISO)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine

from engine.contract import ARCHIVE_REASONS, CLOCKS, ROLE_RECIPIENTS, STAGES, STATUSES
from engine.runtime.sandbox import SandboxEnvironment
from engine.timekeeping import clock
from engine.timekeeping.calendar import WorkingCalendar, default_calendar, zone

# The demo units (docs/architecture.md, "Units"), used when the model runs outside a database (plain SpiffWorkflow).
DEMO_UNITS: dict[str, tuple[str, str]] = {
    "dinas-pendidikan": ("Dinas Pendidikan Provinsi Jawa Timur", "satuan_kerja"),
    "dinas-kesehatan": ("Dinas Kesehatan Provinsi Jawa Timur", "satuan_kerja"),
    "dinas-pu-bina-marga": ("Dinas PU Bina Marga Provinsi Jawa Timur", "satuan_kerja"),
    "kanwil-bpn-jatim": ("Kantor Wilayah BPN Provinsi Jawa Timur", "instansi_vertikal"),
    "kanwil-kemenag-jatim": ("Kantor Wilayah Kementerian Agama Provinsi Jawa Timur", "instansi_vertikal"),
}


@dataclass(frozen=True)
class Effect:
    type: str  # status | notify | escalate | publish | record | forward | decline | ask | archive | protect | extend
    args: dict[str, Any]


@dataclass
class RunContext:
    """What one engine run can see: the unit directory, and where effects go."""

    units: Mapping[str, tuple[str, str]] = field(default_factory=lambda: DEMO_UNITS)
    calendar: WorkingCalendar | None = None
    effects: list[Effect] = field(default_factory=list)

    def working_calendar(self) -> WorkingCalendar:
        if self.calendar is None:
            self.calendar = default_calendar()
        return self.calendar


_context: ContextVar[RunContext | None] = ContextVar("lapor_run_context", default=None)
_default_context = RunContext()


def current() -> RunContext:
    return _context.get() or _default_context


@contextmanager
def running(context: RunContext) -> Iterator[RunContext]:
    token = _context.set(context)
    try:
        yield context
    finally:
        _context.reset(token)


def _emit(effect: str, **args: Any) -> None:
    context = _context.get()
    if context is not None:  # outside a façade run (plain SpiffWorkflow) effects are dropped
        context.effects.append(Effect(effect, args))


def ubah_status(status: str) -> None:
    if status not in STATUSES:
        raise ValueError(f"status {status!r} tidak dikenal; pilih salah satu dari {', '.join(STATUSES)}")
    _emit("status", status=status)


def _unit(unit_id: Any) -> str:
    """``unit_id`` when it names a registered unit; raises ValueError otherwise."""
    if not isinstance(unit_id, str) or unit_id not in current().units:
        raise ValueError(f"unit {unit_id!r} tidak terdaftar")
    return unit_id


def beri_tahu(kepada: str, jenis: str, unit: str | None = None) -> None:
    if kepada not in ROLE_RECIPIENTS and kepada not in current().units:
        raise ValueError(f"penerima {kepada!r} bukan kominfo, pusat, pelapor, atau id unit yang terdaftar")
    about = {} if unit is None else {"unit": _unit(unit)}
    _emit("notify", to=kepada, topic=jenis, **about)


def eskalasi(tahap: str, batas: str, unit: str | None = None) -> None:
    if tahap not in STAGES or batas not in CLOCKS:
        raise ValueError(f"eskalasi({tahap!r}, {batas!r}): tahap salah satu dari {STAGES}, batas salah satu dari {CLOCKS}")
    about = {} if unit is None else {"unit": _unit(unit)}
    _emit("escalate", stage=tahap, clock=batas, **about)


def teruskan_ke_unit(unit_id: str) -> None:
    _emit("forward", unit=_unit(unit_id))


def unit_menolak(unit_id: str) -> None:
    _emit("decline", unit=_unit(unit_id))


def minta_kelengkapan(pertanyaan: str) -> None:
    if not isinstance(pertanyaan, str) or not pertanyaan.strip():
        raise ValueError("pertanyaan kepada pelapor tidak boleh kosong")
    _emit("ask", question=pertanyaan)


def arsipkan(alasan: str, duplikat_dari: str | None = None) -> None:
    if alasan not in ARCHIVE_REASONS:
        raise ValueError(f"alasan arsip {alasan!r} tidak dikenal; pilih salah satu dari {', '.join(ARCHIVE_REASONS)}")
    if (alasan == "duplikat") != isinstance(duplikat_dari, str):
        raise ValueError("arsip duplikat menyebut nomor pelacakan laporan yang diulangnya, dan hanya arsip duplikat")
    _emit("archive", reason=alasan, duplicate_of=duplikat_dari)


def lindungi_pelapor(anonim: bool, rahasia: bool, teks_unit: str | None = None) -> None:
    if anonim or rahasia or teks_unit:  # nothing to record when staff left the case as the reporter sent it
        _emit("protect", anonymous=bool(anonim), confidential=bool(rahasia), redacted_body=teks_unit or None)


def terbitkan_jawaban(teks: str, lampiran: list[int] | None = None) -> None:
    if not isinstance(teks, str) or not teks.strip():
        raise ValueError("jawaban yang diterbitkan tidak boleh kosong")
    files = list(lampiran or [])
    if not all(isinstance(item, int) and not isinstance(item, bool) for item in files):
        raise ValueError("lampiran jawaban berisi nomor berkas (bilangan bulat)")
    _emit("publish", text=teks, **({"attachments": files} if files else {}))


EXTENSION_DECISIONS = ("setuju", "tolak")  # form perpanjangan.decision


def putuskan_perpanjangan(permintaan: Mapping[str, Any], keputusan: Mapping[str, Any]) -> None:
    """Admin Kominfo's decision (form ``perpanjangan``) on a unit's request (the message ``perpanjangan``'s payload:
    ``task``, ``unit``, ``working_days``). Granted days default to those asked and never exceed them."""
    decision = keputusan.get("decision")
    if decision not in EXTENSION_DECISIONS:
        raise ValueError(f"keputusan perpanjangan {decision!r}: pilih salah satu dari {', '.join(EXTENSION_DECISIONS)}")
    asked = int(permintaan["working_days"])
    granted = min(int(keputusan.get("working_days") or asked), asked) if decision == "setuju" else 0
    unit = _unit(permintaan["unit"])
    _emit("extend", task=str(permintaan["task"]), unit=unit, decision=decision, working_days=granted, note=keputusan.get("note", ""))


def rekam_pengaduan() -> None:
    _emit("record")


def jenis_unit(unit_id: str) -> str:
    try:
        return current().units[unit_id][1]
    except KeyError:
        raise ValueError(f"unit {unit_id!r} tidak terdaftar") from None


MAX_WORKING_DAYS = 366  # batas_hari_kerja: more than a year of working days, far past any SOP deadline


def batas_hari_kerja(n: int) -> str:
    """The end of the n-th working day from now (ISO). Raises ValueError unless 1 <= n <= MAX_WORKING_DAYS: the
    calendar walks day by day, and a model's n must not hold the engine for seconds."""
    days = int(n)
    if not 1 <= days <= MAX_WORKING_DAYS:
        raise ValueError(f"batas_hari_kerja({n!r}): jumlah hari kerja 1 sampai {MAX_WORKING_DAYS}")
    return current().working_calendar().add_working_days(clock.now(), days).isoformat()


def batas_menit(n: float) -> str:
    return (clock.now() + timedelta(minutes=n)).astimezone(zone()).isoformat()


HELPERS = {
    f.__name__: f
    for f in (
        ubah_status,
        beri_tahu,
        eskalasi,
        terbitkan_jawaban,
        rekam_pengaduan,
        jenis_unit,
        batas_hari_kerja,
        batas_menit,
        teruskan_ke_unit,
        unit_menolak,
        minta_kelengkapan,
        arsipkan,
        lindungi_pelapor,
        putuskan_perpanjangan,
    )
}


def make_script_engine() -> PythonScriptEngine:
    """Return the script engine with every helper the model calls, each expression run in the sandbox (engine/runtime/sandbox.py).

    Outside a ``running(...)`` block the helpers use the demo units and discard effects, so plain
    SpiffWorkflow can run processes/sp4n_lapor.bpmn as a baseline.
    """
    return PythonScriptEngine(environment=SandboxEnvironment(dict(HELPERS)))
