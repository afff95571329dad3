"""Tests for the pure free-slot computation (no database needed).

Unless a test says otherwise: the support calendar (Mon-Fri 09:00-17:00 Europe/Berlin), a
Support call (30 min, buffers 10/10, step 30, 4 business hours notice, 30 days horizon, at most
4 calls a day). Week used: Mon 2026-11-16 .. Sun 2026-11-22, all CET (UTC+1).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desk.business_time import BusinessCalendar
from desk.defaults import DESK_WEEKLY
from scheduling.slots import (
    ANALYSIS_CALL,
    SUPPORT_CALL,
    TRAINING_CALL,
    Availability,
    Booking,
    Busy,
    CallRules,
    Slot,
    free_slots,
    slots_by_local_day,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
MIN = timedelta(minutes=1)
TEN = 10 * MIN
NO_NOTICE = replace(SUPPORT_CALL, minimum_notice=timedelta(0))
# "now" well before the test week, so notice and the daily cap of other days never interfere.
EARLY = datetime(2026, 11, 9, 8, 0, tzinfo=BERLIN)


def berlin(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=BERLIN)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def hhmm(moment: datetime, zone: ZoneInfo = BERLIN) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


def starts_on(slots: Iterable[Slot], day: date, zone: ZoneInfo = BERLIN) -> list[str]:
    """Local HH:MM starts of the slots whose start falls on `day` in `zone`."""
    return [hhmm(s.start, zone) for s in slots if s.start.astimezone(zone).date() == day]


def call(start: datetime, minutes: int = 30, before: int = 10, after: int = 10) -> Booking:
    return Booking(start, start + minutes * MIN, before * MIN, after * MIN)


def slots(
    *,
    availability: Availability | None = None,
    rules: CallRules = SUPPORT_CALL,
    bookings: Iterable[Booking] = (),
    busy: Iterable[Busy] = (),
    now: datetime = EARLY,
) -> list[Slot]:
    return free_slots(
        availability=availability or Availability(),
        rules=rules,
        bookings=bookings,
        busy=busy,
        now=now,
    )


ALL_DAY = [f"{h:02}:{m:02}" for h in range(9, 17) for m in (0, 30)]  # 09:00 .. 16:30

# --------------------------------------------------------------------------- defaults


def test_defaults_are_the_support_calendar_and_the_product_call_types() -> None:
    availability = Availability()
    assert availability.time_zone == "Europe/Berlin"
    assert dict(availability.weekly) == {d: ((time(9), time(17)),) for d in range(5)}
    assert availability.weekly == DESK_WEEKLY
    assert not availability.overrides
    assert not availability.holidays
    assert SUPPORT_CALL.duration == 30 * MIN
    assert TRAINING_CALL.duration == ANALYSIS_CALL.duration == 60 * MIN
    defaults = CallRules(
        duration=30 * MIN,
        buffer_before=TEN,
        buffer_after=TEN,
        minimum_notice=timedelta(hours=4),
        horizon=timedelta(days=30),
        step=30 * MIN,
        max_per_day=4,
    )
    assert defaults == SUPPORT_CALL


def test_a_free_day_offers_every_step_from_0900_to_1630_and_results_are_utc() -> None:
    result = slots()
    assert starts_on(result, date(2026, 11, 16)) == ALL_DAY
    first = next(s for s in result if s.start >= berlin(2026, 11, 16))
    assert first == Slot(utc(2026, 11, 16, 8), utc(2026, 11, 16, 8, 30))  # 09:00 CET
    assert first.start.tzinfo is UTC
    assert first.end.tzinfo is UTC
    assert result == sorted(result)
    # Weekends are closed.
    assert starts_on(result, date(2026, 11, 21)) == []
    assert starts_on(result, date(2026, 11, 22)) == []


# --------------------------------------------------------------------------- minimum notice


@pytest.mark.parametrize(
    ("now", "first"),
    [
        # Mon 08:00: closed until 09:00, then 4 business hours -> 13:00, on the step grid.
        (berlin(2026, 11, 16, 8, 0), berlin(2026, 11, 16, 13, 0)),
        # Mon 12:10 + 4h = 16:10 -> next step from 09:00 is 16:30.
        (berlin(2026, 11, 16, 12, 10), berlin(2026, 11, 16, 16, 30)),
        # Mon 13:00 + 4h = 17:00 = closing: nothing left on Monday -> Tue 09:00.
        (berlin(2026, 11, 16, 13, 0), berlin(2026, 11, 17, 9, 0)),
        # Fri 16:00: 1h on Friday + 3h on Monday -> Mon 12:00.
        (berlin(2026, 11, 20, 16, 0), berlin(2026, 11, 23, 12, 0)),
        # Sat 10:00: nothing counts before Mon 09:00 -> Mon 13:00.
        (berlin(2026, 11, 21, 10, 0), berlin(2026, 11, 23, 13, 0)),
        # "now" in another zone is the same instant: Mon 07:00 UTC = 08:00 CET -> 13:00.
        (utc(2026, 11, 16, 7, 0), berlin(2026, 11, 16, 13, 0)),
    ],
)
def test_first_slot_respects_four_business_hours_notice(now: datetime, first: datetime) -> None:
    assert slots(now=now)[0].start == first


def test_zero_notice_starts_at_the_next_step_after_now() -> None:
    # Tue 10:10, no notice: 10:00 has started, next step on the 09:00 grid is 10:30.
    result = slots(rules=NO_NOTICE, now=berlin(2026, 11, 17, 10, 10))
    assert hhmm(result[0].start) == "10:30"
    # A start exactly at now is allowed (start >= now).
    assert slots(rules=NO_NOTICE, now=berlin(2026, 11, 17, 10, 30))[0].start == berlin(
        2026, 11, 17, 10, 30
    )


def test_holidays_do_not_count_as_notice_time() -> None:
    # Wed 2026-12-23 15:00: 2h until 17:00; Thu 24 and Fri 25 are holidays; Mon 28 09:00 + 2h.
    availability = Availability(holidays={date(2026, 12, 24), date(2026, 12, 25)})
    result = slots(availability=availability, now=berlin(2026, 12, 23, 15, 0))
    assert result[0].start == berlin(2026, 12, 28, 11, 0)


def test_no_weekly_hours_means_positive_notice_never_elapses() -> None:
    saturday = {date(2026, 11, 21): [(time(10), time(12))]}
    availability = Availability(weekly={}, overrides=saturday)
    assert slots(availability=availability) == []
    # Without notice the override's hours are offered.
    assert starts_on(slots(availability=availability, rules=NO_NOTICE), date(2026, 11, 21)) == [
        "10:00",
        "10:30",
        "11:00",
        "11:30",
    ]


# --------------------------------------------------------------------------- bookings and buffers

TUE = date(2026, 11, 17)


def test_booking_1000_1030_widened_to_0950_1040_blocks_0930_to_1030() -> None:
    result = slots(bookings=[call(berlin(2026, 11, 17, 10, 0))])
    tue = starts_on(result, TUE)
    # 09:00: widened 08:50-09:40 ends before 09:50 -> free.
    assert "09:00" in tue
    # 09:30: widened 09:20-10:10, 10:10 > 09:50 -> blocked.
    assert "09:30" not in tue
    # 10:00: the booking itself.
    assert "10:00" not in tue
    # 10:30: widened 10:20-11:10, 10:20 < 10:40 -> blocked.
    assert "10:30" not in tue
    # 11:00: widened 10:50-11:40, 10:50 >= 10:40 -> free.
    assert "11:00" in tue
    assert tue == ["09:00", *ALL_DAY[4:]]


def test_booking_without_buffers_still_needs_the_new_calls_buffers() -> None:
    # Booking 10:00-10:30 with 0/0 buffers: 09:30 widened to 10:10 > 10:00 -> blocked;
    # 10:30 widened from 10:20 < 10:30 -> blocked; 11:00 widened from 10:50 -> free.
    tue = starts_on(slots(bookings=[call(berlin(2026, 11, 17, 10), before=0, after=0)]), TUE)
    assert tue == ["09:00", *ALL_DAY[4:]]


def test_busy_1000_1020_is_taken_as_is_and_touching_ranges_do_not_overlap() -> None:
    # 10:30: widened 10:20-11:10 merely touches 10:20 -> free (half-open intervals).
    # 09:30: widened 09:20-10:10 overlaps 10:00 -> blocked. 10:00: the busy time itself.
    busy = [Busy(berlin(2026, 11, 17, 10, 0), berlin(2026, 11, 17, 10, 20))]
    assert starts_on(slots(busy=busy), TUE) == ["09:00", *ALL_DAY[3:]]


def test_long_booking_buffers_skip_ahead_to_the_first_clear_step() -> None:
    # Training 11:00-12:00 with 30/30 buffers -> widened 10:30-12:30. A Support call adds its
    # own 10 min: 10:00 -> 09:50-10:40 overlaps 10:30 (blocked); 09:30 -> 09:20-10:10 (free).
    # After it: start - 10 >= 12:30 -> start >= 12:40 -> next step 13:00.
    bookings = [call(berlin(2026, 11, 17, 11), minutes=60, before=30, after=30)]
    assert starts_on(slots(bookings=bookings), TUE) == ["09:00", "09:30", *ALL_DAY[8:]]


def test_training_call_of_60_minutes_last_start_is_1600() -> None:
    tue = starts_on(slots(rules=TRAINING_CALL), TUE)
    assert tue[0] == "09:00"
    assert tue[-1] == "16:00"  # 16:00 + 60 = 17:00 = closing; 16:30 would end at 17:30
    assert len(tue) == 15


def test_buffers_may_extend_outside_working_hours() -> None:
    # 09:00 needs 08:50-09:00 and 16:30 needs 17:00-17:10 outside the 09-17 hours: allowed...
    tue = starts_on(slots(), TUE)
    assert tue[0] == "09:00"
    assert tue[-1] == "16:30"
    # ...but not over busy time there: an event 16:55-17:05 blocks 16:30 (17:00+10 > 16:55)
    # and 16:00 (16:30+10 = 16:40 <= 16:55 -> free).
    busy = [Busy(berlin(2026, 11, 17, 16, 55), berlin(2026, 11, 17, 17, 5))]
    assert starts_on(slots(busy=busy), TUE)[-1] == "16:00"


# --------------------------------------------------------------------------- calls per day


def _calls_on_tuesday(count: int) -> list[Booking]:
    return [call(berlin(2026, 11, 17, 9 + 2 * i)) for i in range(count)]  # 09, 11, 13, 15 h


def test_four_bookings_fill_the_day() -> None:
    result = slots(bookings=_calls_on_tuesday(4))
    assert starts_on(result, TUE) == []
    assert starts_on(result, date(2026, 11, 18)) == ALL_DAY


def test_three_bookings_leave_room_for_a_fourth() -> None:
    # Bookings 09:00, 11:00, 13:00 widened to 08:50-09:40, 10:50-11:40, 12:50-13:40.
    # 10:00 -> 09:50-10:40 free; 10:30 -> 10:20-11:10 overlaps 10:50; 12:00 -> 11:50-12:40 free;
    # 12:30 -> 12:20-13:10 overlaps 12:50; 14:00 -> 13:50 >= 13:40 free, and so on to 16:30.
    tue = starts_on(slots(bookings=_calls_on_tuesday(3)), TUE)
    assert tue == ["10:00", "12:00", *ALL_DAY[10:]]


def test_bookings_count_on_the_agents_local_day_not_the_utc_day() -> None:
    # 23:30 UTC on Monday is 00:30 CET on Tuesday: it fills Tuesday, not Monday.
    bookings = [*_calls_on_tuesday(3), call(utc(2026, 11, 16, 23, 30))]
    result = slots(bookings=bookings)
    assert starts_on(result, TUE) == []
    assert starts_on(result, date(2026, 11, 16)) == ALL_DAY


def test_max_per_day_none_is_unlimited_and_zero_closes_everything() -> None:
    unlimited = replace(SUPPORT_CALL, max_per_day=None)
    assert starts_on(slots(rules=unlimited, bookings=_calls_on_tuesday(4)), TUE)
    assert slots(rules=replace(SUPPORT_CALL, max_per_day=0)) == []


# --------------------------------------------------------------------------- horizon


def test_horizon_30_days_ends_before_now_plus_30_days() -> None:
    # Mon 2026-11-16 08:00 + 30 days = Wed 2026-12-16 08:00 (before opening): last Tue 16:30.
    result = slots(now=berlin(2026, 11, 16, 8, 0))
    assert result[-1].start == berlin(2026, 12, 15, 16, 30)
    # 30 days + 61 min = 09:01: 09:00 starts before the horizon, 09:30 does not.
    longer = replace(SUPPORT_CALL, horizon=timedelta(days=30, minutes=61))
    assert slots(rules=longer, now=berlin(2026, 11, 16, 8, 0))[-1].start == berlin(
        2026, 12, 16, 9, 0
    )


def test_horizon_is_elapsed_time_not_wall_clock_days_across_dst() -> None:
    # Fri 2026-10-23 09:30 CEST (07:30 UTC) + 3 days = Mon 07:30 UTC = 08:30 CET: Monday's 09:00
    # is beyond it (a wall-clock reading, 09:30 CET, would have admitted it).
    rules = replace(NO_NOTICE, horizon=timedelta(days=3))
    result = slots(rules=rules, now=datetime(2026, 10, 23, 9, 30, tzinfo=BERLIN))
    assert starts_on(result, date(2026, 10, 26)) == []
    assert result[-1].start == datetime(2026, 10, 23, 16, 30, tzinfo=BERLIN)


def test_zero_horizon_offers_nothing() -> None:
    assert slots(rules=replace(NO_NOTICE, horizon=timedelta(0))) == []


# --------------------------------------------------------------------------- time off


def test_time_off_1200_1400_is_busy_for_the_widened_slot() -> None:
    # 11:30: widened 11:20-12:10 overlaps 12:00 -> blocked; 11:00 (to 11:40) free.
    # 14:00: widened 13:50-14:40 overlaps 14:00 -> blocked; 14:30 (from 14:20) free.
    availability = Availability(time_off=[(berlin(2026, 11, 17, 12), berlin(2026, 11, 17, 14))])
    tue = starts_on(slots(availability=availability), TUE)
    assert tue == [*ALL_DAY[:5], *ALL_DAY[11:]]


def test_whole_days_of_time_off() -> None:
    off = (berlin(2026, 11, 17), berlin(2026, 11, 19))  # Tue and Wed
    result = slots(availability=Availability(time_off=[off]))
    assert starts_on(result, TUE) == []
    assert starts_on(result, date(2026, 11, 18)) == []
    assert starts_on(result, date(2026, 11, 19)) == ALL_DAY


# --------------------------------------------------------------------------- overrides, holidays


def test_override_adds_saturday_hours() -> None:
    availability = Availability(overrides={date(2026, 11, 21): [(time(10), time(12))]})
    assert starts_on(slots(availability=availability), date(2026, 11, 21)) == [
        "10:00",
        "10:30",
        "11:00",
        "11:30",
    ]
    training = slots(availability=availability, rules=TRAINING_CALL)
    assert starts_on(training, date(2026, 11, 21)) == ["10:00", "10:30", "11:00"]


def test_override_closes_a_day() -> None:
    availability = Availability(overrides={date(2026, 11, 18): []})
    result = slots(availability=availability)
    assert starts_on(result, date(2026, 11, 18)) == []
    assert starts_on(result, date(2026, 11, 19)) == ALL_DAY


def test_override_replaces_weekday_hours_and_aligns_to_its_own_start() -> None:
    # 13:15-15:00: steps from 13:15 -> 13:15, 13:45, 14:15; 14:45 would end 15:15.
    availability = Availability(overrides={date(2026, 11, 19): [(time(13, 15), time(15))]})
    assert starts_on(slots(availability=availability), date(2026, 11, 19)) == [
        "13:15",
        "13:45",
        "14:15",
    ]


def test_holiday_is_closed_unless_an_override_gives_hours() -> None:
    christmas = {date(2026, 12, 24), date(2026, 12, 25)}
    now = berlin(2026, 12, 14, 8, 0)
    result = slots(availability=Availability(holidays=christmas), now=now)
    assert starts_on(result, date(2026, 12, 24)) == []
    assert starts_on(result, date(2026, 12, 25)) == []
    assert starts_on(result, date(2026, 12, 23)) == ALL_DAY
    # The override is the more specific statement: the agent works Christmas Eve morning.
    opened = Availability(holidays=christmas, overrides={date(2026, 12, 24): [(time(9), time(10))]})
    assert starts_on(slots(availability=opened, now=now), date(2026, 12, 24)) == ["09:00", "09:30"]


def test_override_hours_do_not_count_as_notice_time() -> None:
    availability = Availability(overrides={date(2026, 11, 21): [(time(10), time(12))]})
    saturday = date(2026, 11, 21)
    # Fri 12:00 + 4h = Fri 16:00: Saturday is bookable.
    assert starts_on(slots(availability=availability, now=berlin(2026, 11, 20, 12)), saturday)
    # Fri 14:00: 3h on Friday + 1h Monday (Saturday's override hours do not count) -> Mon 10:00.
    late = slots(availability=availability, now=berlin(2026, 11, 20, 14))
    assert starts_on(late, saturday) == []
    assert late[0].start == berlin(2026, 11, 23, 10, 0)


def test_split_day_and_touching_intervals() -> None:
    # Monday 09-12 and 13-14 (lunch): a 60 min training fits 09:00 .. 11:00, then only 13:00.
    # Tuesday 09-10 + 10-11 touch and are merged: 09:30-10:30 spans the seam.
    weekly = {
        0: [(time(9), time(12)), (time(13), time(14))],
        1: [(time(9), time(10)), (time(10), time(11))],
    }
    availability = Availability(weekly=weekly)
    assert availability.weekly[1] == ((time(9), time(11)),)
    result = slots(availability=availability, rules=replace(TRAINING_CALL, minimum_notice=0 * MIN))
    assert starts_on(result, date(2026, 11, 16)) == [
        "09:00",
        "09:30",
        "10:00",
        "10:30",
        "11:00",
        "13:00",
    ]
    assert starts_on(result, TUE) == ["09:00", "09:30", "10:00"]


# --------------------------------------------------------------------------- DST weeks


@pytest.mark.parametrize(
    ("friday", "monday", "friday_utc_hour", "monday_utc_hour"),
    [
        # Spring 2027: clocks go forward Sun 2027-03-28 -> Friday CET (UTC+1), Monday CEST (+2).
        (date(2027, 3, 26), date(2027, 3, 29), 8, 7),
        # Autumn 2026: clocks go back Sun 2026-10-25 -> Friday CEST (UTC+2), Monday CET (+1).
        (date(2026, 10, 23), date(2026, 10, 26), 7, 8),
    ],
)
def test_0900_local_is_the_right_utc_hour_around_each_switch(
    friday: date, monday: date, friday_utc_hour: int, monday_utc_hour: int
) -> None:
    now = datetime.combine(friday - timedelta(days=7), time(8), tzinfo=BERLIN)
    result = slots(now=now)
    for day, hour in ((friday, friday_utc_hour), (monday, monday_utc_hour)):
        assert starts_on(result, day) == ALL_DAY
        day_slots = [s for s in result if s.start.astimezone(BERLIN).date() == day]
        assert day_slots[0].start == datetime.combine(day, time(hour), tzinfo=UTC)
        assert day_slots[-1].end == datetime.combine(day, time(hour + 8), tzinfo=UTC)
        assert all(s.end - s.start == 30 * MIN for s in day_slots)


NIGHT_SHIFT = Availability(weekly={d: [(time(0), time(4))] for d in range(7)})


def _utc_starts(result: Sequence[Slot], day: date) -> list[str]:
    return [
        s.start.strftime("%d %H:%M") for s in result if s.start.astimezone(BERLIN).date() == day
    ]


def test_night_shift_on_spring_forward_night_has_one_hour_less() -> None:
    # 00:00 CET = 23:00 UTC (27th) .. 04:00 CEST = 02:00 UTC: 3 real hours, 6 steps in UTC.
    result = slots(availability=NIGHT_SHIFT, now=utc(2027, 3, 20))
    assert _utc_starts(result, date(2027, 3, 28)) == [
        "27 23:00",
        "27 23:30",
        "28 00:00",
        "28 00:30",
        "28 01:00",
        "28 01:30",
    ]
    # Local wall times skip the missing hour 02:00-03:00.
    assert starts_on(result, date(2027, 3, 28)) == [
        "00:00",
        "00:30",
        "01:00",
        "01:30",
        "03:00",
        "03:30",
    ]
    assert len(starts_on(result, date(2027, 3, 27))) == 8
    assert len(starts_on(result, date(2027, 3, 29))) == 8


def test_night_shift_on_fall_back_night_has_one_hour_more() -> None:
    # 00:00 CEST = 22:00 UTC (24th) .. 04:00 CET = 03:00 UTC: 5 real hours, 10 steps in UTC.
    result = slots(availability=NIGHT_SHIFT, now=utc(2026, 10, 17))
    assert _utc_starts(result, date(2026, 10, 25)) == [
        "24 22:00",
        "24 22:30",
        "24 23:00",
        "24 23:30",
        "25 00:00",
        "25 00:30",
        "25 01:00",
        "25 01:30",
        "25 02:00",
        "25 02:30",
    ]
    # Local wall times repeat 02:00 and 02:30 (first CEST, then CET).
    assert starts_on(result, date(2026, 10, 25)) == [
        "00:00",
        "00:30",
        "01:00",
        "01:30",
        "02:00",
        "02:30",
        "02:00",
        "02:30",
        "03:00",
        "03:30",
    ]
    assert len(starts_on(result, date(2026, 10, 24))) == 8
    assert len(starts_on(result, date(2026, 10, 26))) == 8


def test_busy_in_the_repeated_hour_blocks_by_instant_not_by_wall_time() -> None:
    # Busy 01:00-01:30 UTC on 2026-10-25 = the second (CET) 02:00-02:30. A widened slot
    # [s - 10, s + 40) must not meet [01:00, 01:30) UTC:
    # 00:30 -> [00:20, 01:10) overlaps; 01:00, 01:30 (from 01:20) overlap; 02:00 (01:50) free;
    # 00:00 -> [23:50, 00:40) free.
    busy = [Busy(utc(2026, 10, 25, 1), utc(2026, 10, 25, 1, 30))]
    result = slots(availability=NIGHT_SHIFT, now=utc(2026, 10, 17), busy=busy)
    assert _utc_starts(result, date(2026, 10, 25)) == [
        "24 22:00",
        "24 22:30",
        "24 23:00",
        "24 23:30",
        "25 00:00",
        "25 02:00",
        "25 02:30",
    ]


def test_intervals_into_the_spring_gap_map_with_fold_0_and_slots_are_not_duplicated() -> None:
    # 2027-03-28 has no 02:00-03:00 in Berlin. 01:00-02:45 -> 02:45 read as CET (fold=0) =
    # 01:45 UTC, so 00:00-01:45 UTC; 03:00-04:00 CEST = 01:00-02:00 UTC. They overlap in UTC:
    # steps 00:00, 00:30, 01:00 and 01:00, 01:30 -> 01:00 is offered once.
    hours = {date(2027, 3, 28): [(time(1), time(2, 45)), (time(3), time(4))]}
    result = slots(
        availability=Availability(overrides=hours), rules=NO_NOTICE, now=utc(2027, 3, 27)
    )
    assert _utc_starts(result, date(2027, 3, 28)) == [
        "28 00:00",
        "28 00:30",
        "28 01:00",
        "28 01:30",
    ]


# --------------------------------------------------------------------------- customer zones


def test_new_york_customer_in_the_week_us_clocks_changed_first() -> None:
    # 2027-03-14: US on EDT (UTC-4), Berlin still CET (UTC+1): Berlin 09:00 = 04:00 New York.
    result = slots(now=datetime(2027, 3, 1, 8, tzinfo=BERLIN))
    week = slots_by_local_day(result, "America/New_York")
    monday = date(2027, 3, 15)
    # Now Mon 2027-03-01 08:00 CET: notice ends 13:00 CET = 07:00 EST, still Monday in New York.
    assert list(week)[:5] == [date(2027, 3, 1 + i) for i in range(5)]
    assert hhmm(week[date(2027, 3, 1)][0].start, NEW_YORK) == "07:00"
    assert [hhmm(s.start, NEW_YORK) for s in week[monday]] == [
        f"{h:02}:{m:02}" for h in range(4, 12) for m in (0, 30)
    ]
    assert week[monday][0].start == utc(2027, 3, 15, 8)
    # Week before (both on standard time): 09:00 Berlin = 03:00 New York (EST, UTC-5).
    assert hhmm(week[date(2027, 3, 8)][0].start, NEW_YORK) == "03:00"
    # After Berlin switches too (2027-03-28): 09:00 CEST = 07:00 UTC = 03:00 EDT again.
    assert hhmm(week[date(2027, 3, 29)][0].start, NEW_YORK) == "03:00"
    assert week[date(2027, 3, 29)][0].start == utc(2027, 3, 29, 7)
    # Every day of the week of the 14th holds 16 slots; weekends hold none.
    for offset in range(5):
        assert len(week[monday + timedelta(days=offset)]) == 16
    assert date(2027, 3, 13) not in week
    assert date(2027, 3, 14) not in week


def test_customer_east_of_the_date_line_sees_one_agent_day_over_two_dates() -> None:
    # Auckland in March 2027 is NZDT (UTC+13): Berlin 09:00 CET = 21:00; 12:00 CET = 00:00 next day.
    result = slots(now=datetime(2027, 3, 1, 8, tzinfo=BERLIN))
    week = slots_by_local_day(result, "Pacific/Auckland")
    auckland = ZoneInfo("Pacific/Auckland")
    monday = [s for s in result if s.start.astimezone(BERLIN).date() == date(2027, 3, 15)]
    assert [s for s in week[date(2027, 3, 15)] if s in monday] == monday[:6]  # 09:00 .. 11:30
    assert [hhmm(s.start, auckland) for s in monday[:6]] == [
        "21:00",
        "21:30",
        "22:00",
        "22:30",
        "23:00",
        "23:30",
    ]
    assert week[date(2027, 3, 16)][0] == monday[6]  # 12:00 CET = 00:00 NZDT on Tuesday


def test_slots_by_local_day_keeps_utc_slots_in_order_and_validates_the_zone() -> None:
    result = slots()
    by_day = slots_by_local_day(reversed(result), "Europe/Berlin")
    assert [s for day in by_day.values() for s in day] == result
    assert list(by_day) == sorted(by_day)
    assert slots_by_local_day([], "UTC") == {}
    with pytest.raises(ValueError, match="unknown time zone"):
        slots_by_local_day(result, "Mars/Olympus")


# --------------------------------------------------------------------------- validation


def test_naive_datetimes_are_type_errors() -> None:
    naive = datetime(2026, 11, 16, 9)
    with pytest.raises(TypeError, match="now must be timezone-aware"):
        slots(now=naive)
    with pytest.raises(TypeError, match="booking start must be timezone-aware"):
        Booking(naive, berlin(2026, 11, 16, 10), TEN, TEN)
    with pytest.raises(TypeError, match="busy end must be timezone-aware"):
        Busy(berlin(2026, 11, 16, 9), naive)
    with pytest.raises(TypeError, match="time_off start must be timezone-aware"):
        Availability(time_off=[(naive, berlin(2026, 11, 16, 10))])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"duration": timedelta(0)}, "duration must be positive"),
        ({"duration": -MIN}, "duration must be positive"),
        ({"duration": 30 * MIN, "step": timedelta(0)}, "step must be positive"),
        ({"duration": 30 * MIN, "step": -MIN}, "step must be positive"),
        ({"duration": 30 * MIN, "buffer_before": -MIN}, "buffer_before must not be negative"),
        ({"duration": 30 * MIN, "minimum_notice": -MIN}, "minimum_notice must not be negative"),
        ({"duration": 30 * MIN, "horizon": -MIN}, "horizon must not be negative"),
        ({"duration": 30 * MIN, "max_per_day": -1}, "max_per_day must not be negative"),
    ],
)
def test_bad_rules_are_value_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CallRules(**kwargs)


def test_rule_types_are_checked() -> None:
    with pytest.raises(TypeError, match="duration must be a timedelta"):
        CallRules(duration=30)
    with pytest.raises(TypeError, match="max_per_day must be an int or None"):
        CallRules(duration=MIN, max_per_day=True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weekly": {0: [(time(17), time(9))]}}, r"weekly\[0\]: interval 17:00:00-09:00:00 must"),
        ({"weekly": {0: [(time(9), time(9))]}}, "must end after it starts"),
        ({"weekly": {0: [(time(9), time(12)), (time(11), time(13))]}}, "overlap"),
        ({"weekly": {7: [(time(9), time(12))]}}, "weekly keys must be ints 0"),
        ({"overrides": {date(2026, 11, 21): [(time(12), time(10))]}}, "override 2026-11-21"),
        ({"time_zone": "Europe/Atlantis"}, "unknown time zone"),
        (
            {"time_off": [(berlin(2026, 11, 17, 12), berlin(2026, 11, 17, 12))]},
            "time_off must end after it starts",
        ),
    ],
)
def test_bad_availability_is_a_value_error(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Availability(**kwargs)


def test_bad_availability_types() -> None:
    with pytest.raises(TypeError, match=r"holiday must be a datetime\.date"):
        Availability(holidays=[datetime(2026, 12, 24, tzinfo=UTC)])
    with pytest.raises(TypeError, match=r"working hours must be datetime\.time"):
        Availability(weekly={0: [("09:00", "17:00")]})  # type: ignore[list-item]
    with pytest.raises(ValueError, match="naive local times"):
        Availability(weekly={0: [(time(9, tzinfo=UTC), time(17))]})


def test_bad_bookings_and_busy_are_value_errors() -> None:
    with pytest.raises(ValueError, match="booking must end after it starts"):
        Booking(berlin(2026, 11, 16, 10), berlin(2026, 11, 16, 10), TEN, TEN)
    with pytest.raises(ValueError, match="booking buffer_after must not be negative"):
        Booking(berlin(2026, 11, 16, 10), berlin(2026, 11, 16, 11), TEN, -TEN)
    with pytest.raises(ValueError, match="busy must end after it starts"):
        Busy(berlin(2026, 11, 16, 11), berlin(2026, 11, 16, 10))
    with pytest.raises(TypeError, match="busy must be Busy values"):
        slots(busy=[(berlin(2026, 11, 16, 10), berlin(2026, 11, 16, 11))])  # type: ignore[list-item]


def test_values_are_immutable() -> None:
    availability = Availability(weekly={0: [(time(9), time(10))]})
    with pytest.raises(AttributeError):
        availability.time_zone = "UTC"  # type: ignore[misc]
    with pytest.raises(TypeError):
        availability.weekly[1] = ()  # type: ignore[index]


def test_module_is_pure() -> None:
    code = (
        "import sys, scheduling.slots; "
        "bad = [m for m in sys.modules if m.split('.')[0] in {'django', 'vipsupport'}]; "
        "assert not bad, bad"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, timeout=60)


# --------------------------------------------------------------------------- properties

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
# Windows around the DST switches of 2026/2027 in both hemispheres.
ANCHORS = [utc(2026, 10, 20), utc(2027, 3, 8), utc(2027, 3, 24), utc(2027, 4, 1)]
QUARTERS = st.integers(0, 95).map(lambda q: time(q // 4, q % 4 * 15))


@st.composite
def day_hours(draw: st.DrawFn, at_least: int = 0) -> list[tuple[time, time]]:
    """Strictly increasing quarter-hour bounds (at_least..3 intervals; never touching)."""
    marks = sorted(draw(st.sets(st.integers(0, 95), min_size=2 * at_least, max_size=6)))
    if len(marks) % 2:
        marks = marks[:-1]
    quarter = [time(q // 4, q % 4 * 15) for q in marks]
    return list(zip(quarter[::2], quarter[1::2], strict=True))


@st.composite
def scenarios(
    draw: st.DrawFn,
) -> tuple[Availability, CallRules, list[Booking], list[Busy], datetime]:
    zone = draw(st.sampled_from(ZONES))
    now = draw(st.sampled_from(ANCHORS)) + draw(st.integers(0, 10 * 24 * 12)) * 5 * MIN
    weekly = draw(st.dictionaries(st.integers(0, 6), day_hours(at_least=1), min_size=2, max_size=7))
    first_day = (now - timedelta(days=1)).date()
    days = st.integers(0, 20).map(lambda k: first_day + timedelta(days=k))
    overrides = draw(st.dictionaries(days, day_hours(), max_size=4))
    holidays = draw(st.sets(days, max_size=4))

    def ranges(max_minutes: int) -> st.SearchStrategy[tuple[datetime, datetime]]:
        return st.tuples(st.integers(-2 * 24 * 12, 20 * 24 * 12), st.integers(1, max_minutes)).map(
            lambda p: (now + p[0] * 5 * MIN, now + p[0] * 5 * MIN + p[1] * MIN)
        )

    time_off = draw(st.lists(ranges(48 * 60), max_size=2))
    buffers = st.integers(0, 30).map(lambda m: m * MIN)
    bookings = [
        Booking(start, end, draw(buffers), draw(buffers))
        for start, end in draw(st.lists(ranges(120), max_size=40))
    ]
    busy = [Busy(start, end) for start, end in draw(st.lists(ranges(600), max_size=15))]
    rules = CallRules(
        duration=draw(st.integers(1, 18)) * 5 * MIN,
        buffer_before=draw(buffers),
        buffer_after=draw(buffers),
        minimum_notice=draw(st.integers(0, 16 * 4)) * 15 * MIN,
        horizon=draw(st.integers(1, 14 * 24)) * timedelta(hours=1),
        step=draw(st.integers(1, 12)) * 5 * MIN,
        max_per_day=draw(st.none() | st.integers(1, 6)),  # 0 has its own test
    )
    availability = Availability(zone, weekly, overrides, time_off, holidays)
    return availability, rules, bookings, busy, now


def _intervals(av: Availability, day: date) -> list[tuple[time, time]]:
    if day in av.overrides:
        return list(av.overrides[day])
    if day in av.holidays:
        return []
    return list(av.weekly.get(day.weekday(), []))


def _utc_bounds(av: Availability, day: date) -> list[tuple[datetime, datetime]]:
    """Working intervals of a local day as UTC instants (fold=0), clipped to the local day."""
    zone = ZoneInfo(av.time_zone)
    floor = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    ceiling = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    bounds = []
    for opens, closes in _intervals(av, day):
        lo = max(datetime.combine(day, opens, tzinfo=zone).astimezone(UTC), floor)
        hi = min(datetime.combine(day, closes, tzinfo=zone).astimezone(UTC), ceiling)
        bounds.append((lo, hi))
    return bounds


def _earliest(av: Availability, rules: CallRules, now: datetime) -> datetime | None:
    if not rules.minimum_notice:
        return now
    if not av.weekly:
        return None
    calendar = BusinessCalendar(av.time_zone, av.weekly, av.holidays)
    return calendar.add(now, rules.minimum_notice)


def _widened(bookings: Sequence[Booking], busy: Sequence[Busy], av: Availability) -> list[tuple]:
    return (
        [(b.start - b.buffer_before, b.end + b.buffer_after) for b in bookings]
        + [(e.start, e.end) for e in busy]
        + list(av.time_off)
    )


def _bookings_on(bookings: Sequence[Booking], zone: ZoneInfo, day: date) -> int:
    return sum(1 for b in bookings if b.start.astimezone(zone).date() == day)


def _oracle(
    av: Availability, rules: CallRules, bookings: list[Booking], busy: list[Busy], now: datetime
) -> list[Slot]:
    """Naive reference: every step of every interval, every condition checked by brute force."""
    earliest = _earliest(av, rules, now)
    if earliest is None:
        return []
    zone = ZoneInfo(av.time_zone)
    horizon_end = now + rules.horizon
    blocked = _widened(bookings, busy, av)
    found: set[datetime] = set()
    day = (now - timedelta(days=2)).astimezone(zone).date()
    while day <= horizon_end.astimezone(zone).date() + timedelta(days=1):
        full = rules.max_per_day is not None and _bookings_on(bookings, zone, day) >= (
            rules.max_per_day
        )
        for lo, hi in [] if full else _utc_bounds(av, day):
            s = lo
            while s + rules.duration <= hi:
                a, b = s - rules.buffer_before, s + rules.duration + rules.buffer_after
                if earliest <= s < horizon_end and all(not (x < b and a < y) for x, y in blocked):
                    found.add(s)
                s += rules.step
        day += timedelta(days=1)
    return [Slot(s, s + rules.duration) for s in sorted(found)]


PROPERTY_SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(scenarios())
def test_every_slot_obeys_every_rule(
    scenario: tuple[Availability, CallRules, list[Booking], list[Busy], datetime],
) -> None:
    av, rules, bookings, busy, now = scenario
    result = free_slots(availability=av, rules=rules, bookings=bookings, busy=busy, now=now)
    zone = ZoneInfo(av.time_zone)
    earliest = _earliest(av, rules, now)
    blocked = _widened(bookings, busy, av)
    # Sorted, no duplicates, aware UTC, the call's length.
    assert result == sorted(set(result))
    for slot in result:
        assert slot.start.tzinfo is UTC
        assert slot.end - slot.start == rules.duration
        # Inside one working interval of its local day, on that interval's step grid.
        day = slot.start.astimezone(zone).date()
        homes = [(lo, hi) for lo, hi in _utc_bounds(av, day) if lo <= slot.start < hi]
        assert homes, slot
        lo, hi = homes[0]
        assert slot.end <= hi
        assert (slot.start - lo) % rules.step == timedelta(0)
        # Outside every widened busy range.
        a, b = slot.start - rules.buffer_before, slot.end + rules.buffer_after
        assert all(not (x < b and a < y) for x, y in blocked), slot
        # Notice and horizon.
        assert earliest is not None
        assert earliest <= slot.start < now + rules.horizon
        # Calls per day.
        if rules.max_per_day is not None:
            assert _bookings_on(bookings, zone, day) < rules.max_per_day


@PROPERTY_SETTINGS
@given(scenarios())
def test_slots_equal_a_brute_force_reference(
    scenario: tuple[Availability, CallRules, list[Booking], list[Busy], datetime],
) -> None:
    av, rules, bookings, busy, now = scenario
    result = free_slots(availability=av, rules=rules, bookings=bookings, busy=busy, now=now)
    assert result == _oracle(av, rules, bookings, busy, now)


@settings(max_examples=30, deadline=None)
@given(scenarios(), st.sampled_from(["America/New_York", "Pacific/Auckland", "Europe/Berlin"]))
def test_grouping_by_customer_day_loses_and_invents_nothing(
    scenario: tuple[Availability, CallRules, list[Booking], list[Busy], datetime], customer: str
) -> None:
    av, rules, bookings, busy, now = scenario
    result = free_slots(availability=av, rules=rules, bookings=bookings, busy=busy, now=now)
    grouped = slots_by_local_day(result, customer)
    assert [s for day in grouped.values() for s in day] == result
    zone = ZoneInfo(customer)
    for day, day_slots in grouped.items():
        assert all(s.start.astimezone(zone).date() == day for s in day_slots)


def test_inputs_in_any_zone_give_the_same_slots() -> None:
    bookings = [call(berlin(2026, 11, 17, 10))]
    as_utc = [
        Booking(b.start.astimezone(UTC), b.end.astimezone(UTC), b.buffer_before, b.buffer_after)
        for b in bookings
    ]
    as_ny = [
        Booking(b.start.astimezone(NEW_YORK), b.end.astimezone(NEW_YORK), TEN, TEN)
        for b in bookings
    ]
    expected = slots(bookings=bookings)
    assert slots(bookings=as_utc, now=EARLY.astimezone(UTC)) == expected
    assert slots(bookings=as_ny, now=EARLY.astimezone(NEW_YORK)) == expected


def test_dict_inputs_are_copied() -> None:
    weekly = {0: [(time(9), time(10))]}
    availability = Availability(weekly=weekly)
    weekly[0].append((time(11), time(12)))
    assert availability.weekly[0] == ((time(9), time(10)),)
