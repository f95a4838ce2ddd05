"""engine/timekeeping/clock.py: the one place that tells the time, and SpiffWorkflow's timers reading it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer

from engine.timekeeping import clock
from engine.timekeeping.clock import SYSTEM_CLOCK, FakeClock

WIB = ZoneInfo("Asia/Jakarta")
START = datetime(2026, 11, 30, 9, 0, tzinfo=WIB)


def test_a_fake_clock_keeps_its_time_in_utc_and_moves_only_when_told():
    fake = FakeClock(START)
    assert fake.now() == START and fake.now().tzinfo is UTC
    assert fake.now() == fake.now()
    assert fake.advance(days=1, hours=2) == START + timedelta(days=1, hours=2) == fake.now()
    fake.set(datetime(2027, 1, 4, 8, 0, tzinfo=WIB))
    assert fake.now() == datetime(2027, 1, 4, 1, 0, tzinfo=UTC)


def test_a_fake_clock_refuses_a_naive_start():
    with pytest.raises(ValueError, match="aware"):
        FakeClock(datetime(2026, 11, 30, 9, 0))


def test_the_system_clock_tells_aware_utc_time():
    before = datetime.now(UTC)
    told = SYSTEM_CLOCK.now()
    assert told.tzinfo is UTC and before <= told <= datetime.now(UTC)


def test_now_asks_the_clock_in_use_and_the_system_clock_outside_any():
    fake = FakeClock(START)
    with clock.using(fake) as used:
        assert used is fake and clock.now() == START
        fake.advance(minutes=5)
        assert clock.now() == START + timedelta(minutes=5)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(minutes=1)


def test_clocks_in_use_nest_and_the_outer_one_comes_back():
    outer, inner = FakeClock(START), FakeClock(START + timedelta(days=7))
    with clock.using(outer):
        with clock.using(inner):
            assert clock.now() == inner.now()
        assert clock.now() == outer.now()


def test_spiffworkflow_timers_read_the_clock_in_use():
    with clock.using(FakeClock(START)):
        assert spiff_timer.datetime.now(UTC) == START
        assert spiff_timer.datetime.now(WIB) == START and spiff_timer.datetime.now(WIB).tzinfo is WIB
        naive = spiff_timer.datetime.now()
        assert naive.tzinfo is None and naive == START.astimezone().replace(tzinfo=None)
