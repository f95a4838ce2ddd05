"""engine/runtime/scripting.py: the helpers the model's scripts, conditions and timers call, and the effects they record."""

from __future__ import annotations

from datetime import date

import pytest

from engine import make_script_engine
from engine.contract import ROLE_RECIPIENTS, STATUSES
from engine.runtime import scripting
from engine.runtime.scripting import DEMO_UNITS, Effect, RunContext, running
from engine.timekeeping import clock as clocks
from engine.timekeeping.calendar import WorkingCalendar
from tests.engine.support import wib

MONDAY_9AM = wib(2026, 11, 30, 9, 0)


@pytest.fixture
def context():
    """A façade run: effects are recorded, the clock is the test's."""
    with clocks.using(clocks.FakeClock(MONDAY_9AM)), running(RunContext()) as run:
        yield run


def test_each_helper_records_its_effect_in_the_run_in_call_order(context):
    scripting.rekam_pengaduan()
    scripting.ubah_status("didisposisikan")
    scripting.beri_tahu("dinas-pendidikan", "laporan_masuk")
    scripting.eskalasi("terima", "plafon")
    scripting.terbitkan_jawaban("Atap diperbaiki minggu depan.")
    assert context.effects == [
        Effect("record", {}),
        Effect("status", {"status": "didisposisikan"}),
        Effect("notify", {"to": "dinas-pendidikan", "topic": "laporan_masuk"}),
        Effect("escalate", {"stage": "terima", "clock": "plafon"}),
        Effect("publish", {"text": "Atap diperbaiki minggu depan."}),
    ]


def test_outside_a_run_the_helpers_check_their_arguments_and_record_nothing():
    scripting.ubah_status("selesai")
    scripting.beri_tahu("pelapor", "selesai")
    assert scripting.current().effects == []  # plain SpiffWorkflow runs the model; its effects are dropped
    with pytest.raises(ValueError, match="tidak dikenal"):
        scripting.ubah_status("hilang")


@pytest.mark.parametrize("status", STATUSES)
def test_every_status_of_the_vocabulary_can_be_set(context, status):
    scripting.ubah_status(status)
    assert context.effects == [Effect("status", {"status": status})]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: scripting.ubah_status("ditutup"), "status 'ditutup' tidak dikenal"),
        (lambda: scripting.beri_tahu("dinas-tak-ada", "laporan_masuk"), "bukan kominfo, pusat, pelapor, atau id unit"),
        (lambda: scripting.eskalasi("rekam", "target"), "tahap salah satu dari"),
        (lambda: scripting.eskalasi("terima", "besok"), "batas salah satu dari"),
        (lambda: scripting.terbitkan_jawaban("   "), "tidak boleh kosong"),
        (lambda: scripting.terbitkan_jawaban(42), "tidak boleh kosong"),
        (lambda: scripting.jenis_unit("dinas-tak-ada"), "tidak terdaftar"),
    ],
    ids=["status", "recipient", "stage", "clock", "blank-answer", "not-text", "unit"],
)
def test_a_helper_called_outside_the_vocabulary_raises_in_indonesian_and_records_nothing(context, call, message):
    with pytest.raises(ValueError, match=message):
        call()
    assert context.effects == []


@pytest.mark.parametrize("recipient", [*ROLE_RECIPIENTS, *DEMO_UNITS])
def test_notices_go_to_the_three_roles_and_to_registered_units(context, recipient):
    scripting.beri_tahu(recipient, "topik")
    assert context.effects == [Effect("notify", {"to": recipient, "topic": "topik"})]


def test_unit_kinds_come_from_the_runs_unit_directory():
    assert scripting.jenis_unit("dinas-kesehatan") == "satuan_kerja"  # the demo units outside a run
    assert scripting.jenis_unit("kanwil-bpn-jatim") == "instansi_vertikal"
    with running(RunContext(units={"badan-baru": ("Badan Baru", "instansi_vertikal")})):
        assert scripting.jenis_unit("badan-baru") == "instansi_vertikal"
        scripting.beri_tahu("badan-baru", "laporan_masuk")
        with pytest.raises(ValueError):
            scripting.jenis_unit("dinas-kesehatan")


def test_a_working_day_deadline_ends_at_23_59_59_jakarta_time_of_the_nth_working_day(context):
    assert scripting.batas_hari_kerja(1) == "2026-12-01T23:59:59+07:00"
    assert scripting.batas_hari_kerja(5) == "2026-12-07T23:59:59+07:00"  # the weekend is skipped
    assert scripting.batas_hari_kerja("3") == "2026-12-03T23:59:59+07:00"  # a number from the model's text too


def test_working_day_deadlines_skip_the_runs_extra_holidays():
    extra = WorkingCalendar({date(2026, 12, 1): "Hari jadi"})
    with clocks.using(clocks.FakeClock(MONDAY_9AM)), running(RunContext(calendar=extra)) as run:
        assert run.working_calendar() is extra
        assert scripting.batas_hari_kerja(1) == "2026-12-02T23:59:59+07:00"


def test_a_run_without_a_calendar_uses_the_default_one_and_keeps_it(context):
    first = context.working_calendar()
    assert isinstance(first, WorkingCalendar) and context.working_calendar() is first


def test_a_minute_deadline_is_counted_from_the_clock_in_jakarta_time(context):
    assert scripting.batas_menit(30) == "2026-11-30T09:30:00+07:00"
    assert scripting.batas_menit(0.5) == "2026-11-30T09:00:30+07:00"


def test_runs_nest_and_the_outer_run_comes_back():
    with running(RunContext()) as outer:
        with running(RunContext()) as inner:
            assert scripting.current() is inner
            scripting.rekam_pengaduan()
        assert scripting.current() is outer and outer.effects == [] and inner.effects == [Effect("record", {})]


def test_the_script_engine_offers_every_helper_to_the_models_python(context):
    engine = make_script_engine()
    assert set(scripting.HELPERS) == {
        "ubah_status", "beri_tahu", "eskalasi", "terbitkan_jawaban", "rekam_pengaduan", "jenis_unit", "batas_hari_kerja", "batas_menit",
        "teruskan_ke_unit", "unit_menolak", "minta_kelengkapan", "arsipkan", "lindungi_pelapor", "putuskan_perpanjangan",
    }  # fmt: skip
    assert engine.environment.evaluate('jenis_unit(disposisi["unit"])', {"disposisi": {"unit": "kanwil-bpn-jatim"}}) == "instansi_vertikal"
    assert engine.environment.evaluate("batas_hari_kerja(1)", {}) == "2026-12-01T23:59:59+07:00"
    data = {"balasan": {"satisfied": True}}
    engine.environment.execute('if balasan["satisfied"]:\n    ubah_status("selesai")\n    hasil = "puas"', data)
    assert data == {"balasan": {"satisfied": True}, "hasil": "puas"}  # the helpers never become task data
    assert context.effects == [Effect("status", {"status": "selesai"})]
