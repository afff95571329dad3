"""Tests for the pure-Python SLA business-time clock (no database needed)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desk.business_time import BusinessCalendar

BERLIN = ZoneInfo("Europe/Berlin")
US = timedelta(microseconds=1)
NINE_TO_FIVE = {weekday: [(time(9), time(17))] for weekday in range(5)}
XMAS = [date(2026, 12, 24), date(2026, 12, 25)]


def berlin(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, us, tzinfo=BERLIN)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, us, tzinfo=UTC)


@pytest.fixture
def office() -> BusinessCalendar:
    return BusinessCalendar("Europe/Berlin", NINE_TO_FIVE, XMAS)


# --------------------------------------------------------------------- hand-computed vectors
# Week used below: Thu 2026-11-12, Fri 11-13, Sat 11-14, Sun 11-15, Mon 11-16 (all CET).


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (berlin(2026, 11, 13, 16, 30), 2, berlin(2026, 11, 16, 10, 30)),  # Fri late -> Mon
        (berlin(2026, 11, 13, 10, 0), 8, berlin(2026, 11, 16, 10, 0)),  # a full day
        (berlin(2026, 11, 13, 18, 30), 2, berlin(2026, 11, 16, 11, 0)),  # starts after close
        (berlin(2026, 11, 12, 15, 0), 16, berlin(2026, 11, 16, 15, 0)),  # two days over weekend
        (berlin(2026, 11, 15, 23, 0), 8, berlin(2026, 11, 16, 17, 0)),  # ends at closing time
        (berlin(2026, 11, 16, 9, 0), 8, berlin(2026, 11, 16, 17, 0)),
        (berlin(2026, 11, 16, 8, 0), 1, berlin(2026, 11, 16, 10, 0)),
        (berlin(2026, 11, 16, 17, 0), 1, berlin(2026, 11, 17, 10, 0)),
        (berlin(2026, 11, 16, 9, 0), 40, berlin(2026, 11, 20, 17, 0)),  # exactly one week
        (berlin(2026, 11, 16, 9, 0), 41, berlin(2026, 11, 23, 10, 0)),
    ],
)
def test_add_vectors(
    office: BusinessCalendar, start: datetime, hours: int, expected: datetime
) -> None:
    assert office.add(start, timedelta(hours=hours)) == expected


def test_add_zero_is_start_even_when_closed(office: BusinessCalendar) -> None:
    saturday = berlin(2026, 11, 14, 12, 0)
    assert office.add(saturday, timedelta(0)) == saturday
    assert office.add(berlin(2026, 11, 13, 17, 0), timedelta(0)) == berlin(2026, 11, 13, 17, 0)
    assert office.add(berlin(2026, 11, 13, 10, 0), timedelta(0)) == berlin(2026, 11, 13, 10, 0)


def test_add_sub_second_duration(office: BusinessCalendar) -> None:
    assert office.add(berlin(2026, 11, 13, 16, 59, 59), timedelta(seconds=1.5)) == berlin(
        2026, 11, 16, 9, 0, 0, 500_000
    )


def test_result_is_in_utc_whatever_the_input_zone(office: BusinessCalendar) -> None:
    start = datetime(2026, 11, 13, 10, 30, tzinfo=ZoneInfo("America/New_York"))  # 16:30 CET
    result = office.add(start, timedelta(hours=2))
    assert result == utc(2026, 11, 16, 9, 30)
    assert result.tzinfo is UTC


def test_spring_forward_weekend() -> None:
    calendar = BusinessCalendar("Europe/Berlin", NINE_TO_FIVE)
    start = utc(2027, 3, 26, 15, 30)  # Fri 16:30 CET
    assert start == berlin(2027, 3, 26, 16, 30)
    result = calendar.add(start, timedelta(hours=2))
    assert result == utc(2027, 3, 29, 8, 30)  # Mon 10:30 CEST
    local = result.astimezone(BERLIN)
    assert (local.hour, local.minute, local.utcoffset()) == (10, 30, timedelta(hours=2))
    assert calendar.elapsed(start, result) == timedelta(hours=2)
    # A whole week across the switch still holds exactly 40 business hours.
    assert calendar.add(utc(2027, 3, 22, 8, 0), timedelta(hours=40)) == utc(2027, 3, 26, 16, 0)
    assert calendar.add(utc(2027, 3, 22, 8, 0), timedelta(hours=41)) == utc(2027, 3, 29, 8, 0)
    assert calendar.elapsed(utc(2027, 3, 22, 8, 0), utc(2027, 3, 29, 15, 0)) == timedelta(hours=48)


def test_fall_back_weekend() -> None:
    calendar = BusinessCalendar("Europe/Berlin", NINE_TO_FIVE)
    start = utc(2026, 10, 23, 14, 30)  # Fri 16:30 CEST
    assert start == berlin(2026, 10, 23, 16, 30)
    result = calendar.add(start, timedelta(hours=2))
    assert result == utc(2026, 10, 26, 9, 30)  # Mon 10:30 CET
    local = result.astimezone(BERLIN)
    assert (local.hour, local.minute, local.utcoffset()) == (10, 30, timedelta(hours=1))
    assert calendar.elapsed(utc(2026, 10, 19, 0, 0), utc(2026, 10, 27, 0, 0)) == timedelta(hours=48)


def test_holidays_are_closed_all_day(office: BusinessCalendar) -> None:
    # Wed 2026-12-23 16:00 + 2h: Thu 24 and Fri 25 are holidays -> Mon 28 10:00.
    assert office.add(berlin(2026, 12, 23, 16, 0), timedelta(hours=2)) == berlin(
        2026, 12, 28, 10, 0
    )
    assert office.elapsed(berlin(2026, 12, 23, 9, 0), berlin(2026, 12, 28, 9, 0)) == timedelta(
        hours=8
    )
    assert not office.is_open(berlin(2026, 12, 24, 12, 0))
    assert office.next_opening(berlin(2026, 12, 23, 17, 0)) == berlin(2026, 12, 28, 9, 0)
    assert office.add(berlin(2026, 12, 24, 12, 0), timedelta(0)) == berlin(2026, 12, 24, 12, 0)


def test_lunch_break() -> None:
    lunch = {d: [(time(13), time(17)), (time(9), time(12))] for d in range(5)}  # any order
    calendar = BusinessCalendar("Europe/Berlin", lunch)
    monday = date(2026, 11, 16)

    def at(hour: int, minute: int = 0) -> datetime:
        return datetime.combine(monday, time(hour, minute), tzinfo=BERLIN)

    assert calendar.add(at(11, 30), timedelta(hours=1)) == at(13, 30)
    assert calendar.add(at(11, 0), timedelta(hours=1)) == at(12, 0)  # due at the break
    assert calendar.add(at(12, 15), timedelta(minutes=30)) == at(13, 30)
    assert calendar.add(at(16, 0), timedelta(hours=4)) == berlin(2026, 11, 17, 12, 0)
    assert calendar.add(at(16, 0), timedelta(hours=4, seconds=1)) == berlin(2026, 11, 17, 13, 0, 1)
    assert calendar.elapsed(at(9), at(17)) == timedelta(hours=7)
    assert calendar.elapsed(at(11), at(14)) == timedelta(hours=2)
    assert calendar.is_open(at(11, 59))
    assert not calendar.is_open(at(12, 0))
    assert not calendar.is_open(at(12, 59))
    assert calendar.is_open(at(13, 0))
    assert calendar.next_opening(at(12, 30)) == at(13, 0)
    assert calendar.next_opening(at(10, 0)) == at(10, 0)


def test_elapsed_vectors(office: BusinessCalendar) -> None:
    fri, mon = date(2026, 11, 13), date(2026, 11, 16)
    assert office.elapsed(berlin(2026, 11, 13, 16), berlin(2026, 11, 16, 10)) == timedelta(hours=2)
    assert office.elapsed(berlin(2026, 11, 16), berlin(2026, 11, 23)) == timedelta(hours=40)
    assert office.elapsed(berlin(2026, 11, 14), berlin(2026, 11, 16)) == timedelta(0)
    assert office.elapsed(berlin(2026, 11, 16, 10), berlin(2026, 11, 13, 16)) == timedelta(0)
    assert office.elapsed(berlin(2026, 11, 16, 10), berlin(2026, 11, 16, 10)) == timedelta(0)
    assert office.elapsed(berlin(2026, 11, 16, 10), berlin(2026, 11, 16, 10, 0, 0, 1)) == US
    assert office.elapsed(berlin(2026, 11, 16, 16, 59, 59), berlin(2026, 11, 16, 18)) == timedelta(
        seconds=1
    )
    # Mixed zones are compared as instants.
    new_york = ZoneInfo("America/New_York")
    assert office.elapsed(
        datetime.combine(fri, time(10), tzinfo=new_york),  # 16:00 CET
        datetime.combine(mon, time(9), tzinfo=UTC),  # 10:00 CET
    ) == timedelta(hours=2)


def test_is_open(office: BusinessCalendar) -> None:
    assert office.is_open(berlin(2026, 11, 13, 16, 59))
    assert office.is_open(berlin(2026, 11, 13, 16, 59, 59, 999_999))
    assert not office.is_open(berlin(2026, 11, 13, 17, 0))
    assert office.is_open(berlin(2026, 11, 13, 9, 0))
    assert not office.is_open(berlin(2026, 11, 13, 8, 59, 59, 999_999))
    assert not office.is_open(berlin(2026, 11, 14, 12, 0))  # Saturday
    assert office.is_open(utc(2026, 11, 13, 15, 59))  # 16:59 CET


def test_next_opening(office: BusinessCalendar) -> None:
    assert office.next_opening(berlin(2026, 11, 13, 17, 0)) == berlin(2026, 11, 16, 9, 0)
    assert office.next_opening(berlin(2026, 11, 14, 3, 0)) == berlin(2026, 11, 16, 9, 0)
    assert office.next_opening(berlin(2026, 11, 16, 8, 0)) == berlin(2026, 11, 16, 9, 0)
    during = berlin(2026, 11, 16, 11, 17, 5, 42)
    assert office.next_opening(during) == during
    assert office.next_opening(berlin(2026, 11, 16, 9, 0)) == berlin(2026, 11, 16, 9, 0)
    # Spring-forward weekend: Monday opens at 09:00 CEST = 07:00 UTC.
    assert office.next_opening(berlin(2027, 3, 26, 17, 0)) == utc(2027, 3, 29, 7, 0)


def test_interval_spanning_dst_switch_counts_real_time() -> None:
    # 2026-10-25 and 2027-03-28 are the Sundays on which Berlin leaves / enters CEST.
    night = BusinessCalendar("Europe/Berlin", {6: [(time(0), time(5))]})
    early = BusinessCalendar("Europe/Berlin", {6: [(time(1), time(5))]})

    def whole_day(cal: BusinessCalendar, day: date) -> timedelta:
        start = datetime.combine(day, time(0), tzinfo=BERLIN)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=BERLIN)
        return cal.elapsed(start, end)

    assert whole_day(night, date(2026, 10, 18)) == timedelta(hours=5)
    assert whole_day(night, date(2026, 10, 25)) == timedelta(hours=6)
    assert whole_day(night, date(2027, 3, 28)) == timedelta(hours=4)
    assert whole_day(early, date(2026, 10, 25)) == timedelta(hours=5)
    assert whole_day(early, date(2027, 3, 28)) == timedelta(hours=3)
    assert night.add(utc(2026, 10, 24, 22, 0), timedelta(hours=6)) == utc(2026, 10, 25, 4, 0)
    assert night.add(utc(2026, 10, 24, 22, 0), timedelta(hours=6, seconds=1)) == utc(
        2026, 10, 31, 23, 0, 1
    )
    assert night.add(utc(2027, 3, 27, 23, 0), timedelta(hours=4)) == utc(2027, 3, 28, 3, 0)
    assert not night.is_open(utc(2027, 3, 28, 3, 0))  # 05:00 CEST: closed
    assert night.is_open(utc(2026, 10, 25, 3, 59))  # 04:59 CET: still open


def test_dst_gap_times_follow_fold_zero_and_count_once() -> None:
    sunday = date(2027, 3, 28)
    # 02:15-02:45 does not exist that day; fold=0 maps it to 01:15-01:45 UTC.
    in_gap = BusinessCalendar("Europe/Berlin", {6: [(time(2, 15), time(2, 45))]})
    day_start = datetime.combine(sunday, time(0), tzinfo=BERLIN)
    assert in_gap.elapsed(day_start, day_start + timedelta(days=1)) == timedelta(minutes=30)
    assert in_gap.next_opening(day_start) == utc(2027, 3, 28, 1, 15)
    # 01:00-02:30 maps to 00:00-01:30 UTC and 03:00-05:00 to 01:00-03:00 UTC: the half hour
    # both cover counts once.
    both = BusinessCalendar("Europe/Berlin", {6: [(time(1), time(2, 30)), (time(3), time(5))]})
    assert both.elapsed(day_start, day_start + timedelta(days=1)) == timedelta(hours=3)
    assert both.add(day_start, timedelta(hours=3)) == utc(2027, 3, 28, 3, 0)


def test_result_in_repeated_hour_is_the_right_instant() -> None:
    night = BusinessCalendar("Europe/Berlin", {6: [(time(0), time(5))]})
    # 00:00 CEST + 3 real hours on 2026-10-25 is 02:00 CET, the second pass through 02:00.
    result = night.add(berlin(2026, 10, 25, 0, 0), timedelta(hours=3))
    assert result == utc(2026, 10, 25, 1, 0)
    local = result.astimezone(BERLIN)
    assert (local.hour, local.fold, local.utcoffset()) == (2, 1, timedelta(hours=1))
    assert night.elapsed(berlin(2026, 10, 25, 0, 0), result) == timedelta(hours=3)


def test_far_apart_queries_extend_the_table_both_ways(office: BusinessCalendar) -> None:
    assert office.add(utc(2030, 6, 3, 7), timedelta(hours=8)) == utc(2030, 6, 3, 15)
    assert office.add(utc(2020, 6, 1, 7), timedelta(hours=8)) == utc(2020, 6, 1, 15)
    assert office.elapsed(utc(2020, 6, 1), utc(2020, 6, 8)) == timedelta(hours=40)
    assert office.add(utc(2030, 6, 7, 14), timedelta(hours=8)) == utc(2030, 6, 10, 14)


def test_long_duration_far_beyond_table(office: BusinessCalendar) -> None:
    start = berlin(2026, 11, 16, 9)
    result = office.add(start, timedelta(hours=8 * 2000))
    assert office.elapsed(start, result) == timedelta(hours=8 * 2000)
    assert result.astimezone(BERLIN).time() == time(17)
    assert result.astimezone(BERLIN).weekday() < 5


def test_concurrent_use_agrees_with_sequential() -> None:
    starts = [utc(2026, 1, 1) + timedelta(hours=37 * i) for i in range(200)]
    durations = [timedelta(minutes=(i * 977) % 28_800 + 1) for i in range(200)]
    expected = [
        BusinessCalendar("Europe/Berlin", NINE_TO_FIVE, XMAS).add(s, d)
        for s, d in zip(starts, durations, strict=True)
    ]
    shared = BusinessCalendar("Europe/Berlin", NINE_TO_FIVE, XMAS)
    results: dict[int, list[datetime]] = {}

    def work(worker: int) -> None:
        order = list(range(200))[worker::4] + list(range(200))[::-1]
        out = [shared.add(starts[i], durations[i]) for i in order]
        results[worker] = [out[order.index(i, len(order) - 200)] for i in range(200)]

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(results[w] == expected for w in range(4))


# ------------------------------------------------------------------------------ 24/7


def test_twenty_four_seven() -> None:
    clock = BusinessCalendar.twenty_four_seven()
    start = berlin(2026, 10, 24, 12, 0)  # the night the clocks go back is 25 hours long
    result = clock.add(start, timedelta(hours=24))
    assert result == start + timedelta(hours=24) - timedelta(hours=1)  # wall vs absolute
    assert result == utc(2026, 10, 25, 10, 0)
    assert clock.elapsed(start, utc(2026, 10, 25, 10, 0)) == timedelta(hours=24)
    assert clock.elapsed(utc(2026, 10, 25), start) == timedelta(0)
    assert clock.is_open(berlin(2026, 11, 14, 3, 0))
    assert clock.next_opening(start) == start
    assert clock.add(start, timedelta(0)) == start
    assert clock.time_zone == "UTC"


@given(
    st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1), timezones=st.just(BERLIN)),
    st.timedeltas(timedelta(0), timedelta(days=400)),
)
@settings(max_examples=100, deadline=None)
def test_twenty_four_seven_is_clock_time(start: datetime, duration: timedelta) -> None:
    clock = BusinessCalendar.twenty_four_seven()
    result = clock.add(start, duration)
    # Compare in UTC: PEP 495 makes gap/fold times unequal to any other zone's datetime.
    assert result.astimezone(UTC) == start.astimezone(UTC) + duration
    assert clock.elapsed(start, result) == duration
    assert clock.is_open(start)
    assert clock.next_opening(start) is start


# ------------------------------------------------------------------------------- errors


def test_naive_datetimes_are_rejected(office: BusinessCalendar) -> None:
    naive = datetime(2026, 11, 16, 10)
    aware = berlin(2026, 11, 16, 10)
    with pytest.raises(TypeError, match="must be timezone-aware"):
        office.add(naive, timedelta(hours=1))
    with pytest.raises(TypeError, match="must be timezone-aware"):
        office.add(naive, timedelta(0))
    with pytest.raises(TypeError, match="must be timezone-aware"):
        office.elapsed(naive, aware)
    with pytest.raises(TypeError, match="must be timezone-aware"):
        office.elapsed(aware, naive)
    with pytest.raises(TypeError, match="must be timezone-aware"):
        office.is_open(naive)
    with pytest.raises(TypeError, match="must be timezone-aware"):
        office.next_opening(naive)
    with pytest.raises(TypeError, match="must be timezone-aware"):
        BusinessCalendar.twenty_four_seven().add(naive, timedelta(hours=1))


def test_negative_duration_is_rejected(office: BusinessCalendar) -> None:
    with pytest.raises(ValueError, match="negative"):
        office.add(berlin(2026, 11, 16, 10), timedelta(microseconds=-1))
    with pytest.raises(ValueError, match="negative"):
        BusinessCalendar.twenty_four_seven().add(berlin(2026, 11, 16, 10), timedelta(hours=-1))


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../etc/passwd", "Europe/"])
def test_unknown_zone_is_rejected(zone: str) -> None:
    with pytest.raises(ValueError, match="unknown time zone") as excinfo:
        BusinessCalendar(zone, NINE_TO_FIVE)
    assert repr(zone) in str(excinfo.value)


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({0: [(time(17), time(9))]}, "must close after it opens"),
        ({0: [(time(9), time(9))]}, "must close after it opens"),
        ({0: [(time(9), time(0))]}, "must close after it opens"),
        ({0: [(time(9), time(13)), (time(12), time(17))]}, "overlap"),
        ({0: [(time(12), time(17)), (time(9), time(12, 0, 1))]}, "overlap"),
        ({7: [(time(9), time(17))]}, "weekday"),
        ({-1: [(time(9), time(17))]}, "weekday"),
        ({True: [(time(9), time(17))]}, "weekday"),
        ({0: [(time(9, tzinfo=UTC), time(17))]}, "naive"),
    ],
)
def test_bad_hours_are_rejected(hours: dict[int, list[tuple[time, time]]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar("Europe/Berlin", hours)


def test_touching_intervals_are_allowed() -> None:
    calendar = BusinessCalendar("Europe/Berlin", {0: [(time(9), time(12)), (time(12), time(17))]})
    assert calendar.add(berlin(2026, 11, 16, 11), timedelta(hours=2)) == berlin(2026, 11, 16, 13)
    assert calendar.is_open(berlin(2026, 11, 16, 12))


def test_bad_value_types_are_rejected() -> None:
    with pytest.raises(TypeError):
        BusinessCalendar("Europe/Berlin", {0: [(9, 17)]})  # type: ignore[list-item]
    with pytest.raises(TypeError):
        BusinessCalendar("Europe/Berlin", NINE_TO_FIVE, [datetime(2026, 12, 24)])


def test_calendar_without_hours() -> None:
    closed = BusinessCalendar("Europe/Berlin", {2: []})
    start = berlin(2026, 11, 16, 10)
    with pytest.raises(ValueError, match="no opening hours"):
        closed.add(start, timedelta(seconds=1))
    with pytest.raises(ValueError, match="no opening hours"):
        closed.next_opening(start)
    assert closed.add(start, timedelta(0)) == start
    assert closed.elapsed(start, start + timedelta(days=30)) == timedelta(0)
    assert not closed.is_open(start)


# ------------------------------------------------------------------ property-based tests

ZONES = [
    "Europe/Sofia",
    "America/New_York",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Europe/Berlin",
    "UTC",
]


def _transition_days(key: str) -> list[date]:
    """Local dates in 2020-2030 on which the zone's UTC offset changes."""
    zone = ZoneInfo(key)
    days = []
    day = date(2020, 1, 1)
    previous = datetime.combine(day, time(12), tzinfo=zone).utcoffset()
    while day < date(2031, 1, 1):
        day += timedelta(days=1)
        offset = datetime.combine(day, time(12), tzinfo=zone).utcoffset()
        if offset != previous:
            days.append(day)
        previous = offset
    return days


TRANSITION_DAYS = {key: _transition_days(key) for key in ZONES}


@dataclass(frozen=True)
class Scenario:
    zone: str
    hours: Mapping[int, list[tuple[time, time]]]
    holidays: frozenset[date]
    start: datetime
    weekly_minutes: int

    def calendar(self) -> BusinessCalendar:
        return BusinessCalendar(self.zone, self.hours, self.holidays)


def _minute(m: int) -> time:
    return time(m // 60, m % 60)


@st.composite
def weekly_hours(draw: st.DrawFn) -> dict[int, list[tuple[time, time]]]:
    hours: dict[int, list[tuple[time, time]]] = {}
    for weekday in sorted(draw(st.sets(st.integers(0, 6), min_size=1))):
        count = draw(st.integers(1, 3))
        edges = sorted(
            draw(
                st.lists(st.integers(0, 1439), min_size=2 * count, max_size=2 * count, unique=True)
            )
        )
        hours[weekday] = [
            (_minute(edges[i]), _minute(edges[i + 1])) for i in range(0, len(edges), 2)
        ]
    return hours


@st.composite
def instants_near(draw: st.DrawFn, zone_key: str) -> datetime:
    """Instants in 2020-2030, biased to DST-switch days and to whole local minutes."""
    zone = ZoneInfo(zone_key)
    days = st.dates(date(2020, 1, 1), date(2029, 12, 31))
    if TRANSITION_DAYS[zone_key]:
        days = st.one_of(days, st.sampled_from(TRANSITION_DAYS[zone_key]))
    day = draw(days) + timedelta(days=draw(st.integers(-3, 3)))
    if draw(st.booleans()):
        wall = time(
            draw(st.integers(0, 23)), draw(st.integers(0, 59)), fold=draw(st.integers(0, 1))
        )
        return datetime.combine(day, wall, tzinfo=zone)
    micro = draw(st.integers(0, 86_400_000_000 - 1))
    return datetime.combine(day, time(0), tzinfo=UTC) + timedelta(microseconds=micro)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    zone = draw(st.sampled_from(ZONES))
    hours = draw(weekly_hours())
    start = draw(instants_near(zone))
    offsets = draw(st.sets(st.integers(-5, 120), max_size=12))
    holidays = frozenset(start.date() + timedelta(days=o) for o in offsets)
    weekly = sum(
        (c.hour * 60 + c.minute) - (o.hour * 60 + o.minute)
        for day in hours.values()
        for o, c in day
    )
    return Scenario(zone, hours, holidays, start, weekly)


@st.composite
def durations_for(draw: st.DrawFn, scenario: Scenario) -> timedelta:
    # Cap at ~26 nominal weeks so sparse random calendars don't need centuries of days.
    cap_minutes = min(60 * 8 * 60, scenario.weekly_minutes * 26)
    if draw(st.booleans()):
        return timedelta(minutes=draw(st.integers(0, cap_minutes)))
    return timedelta(seconds=draw(st.integers(0, cap_minutes * 60)))


def reference_intervals(
    zone_key: str,
    hours: Mapping[int, Iterable[tuple[time, time]]],
    holidays: frozenset[date],
    start: datetime,
    end: datetime,
) -> list[tuple[datetime, datetime]]:
    """Brute force: walk the local days, map every interval with fold=0, merge overlaps."""
    zone = ZoneInfo(zone_key)
    raw: list[tuple[datetime, datetime]] = []
    day = start.astimezone(UTC).date() - timedelta(days=2)
    last = end.astimezone(UTC).date() + timedelta(days=2)
    while day <= last:
        if day not in holidays:
            for opens, closes in hours.get(day.weekday(), ()):
                a = datetime.combine(day, opens, tzinfo=zone).astimezone(UTC)
                b = datetime.combine(day, closes, tzinfo=zone).astimezone(UTC)
                if b > a:
                    raw.append((a, b))
        day += timedelta(days=1)
    merged: list[tuple[datetime, datetime]] = []
    for a, b in sorted(raw):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def reference_elapsed(scenario: Scenario, start: datetime, end: datetime) -> timedelta:
    # In UTC throughout: datetimes sharing a zone compare by wall clock, ignoring fold (PEP 495).
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    total = timedelta(0)
    if end <= start:
        return total
    for a, b in reference_intervals(scenario.zone, scenario.hours, scenario.holidays, start, end):
        lo, hi = max(a.astimezone(UTC), start), min(b.astimezone(UTC), end)
        if hi > lo:
            total += hi - lo
    return total


PROPERTY_SETTINGS = settings(max_examples=250, deadline=None)


@given(st.data())
@PROPERTY_SETTINGS
def test_add_is_exact_and_minimal(data: st.DataObject) -> None:
    scenario = data.draw(scenarios())
    duration = data.draw(durations_for(scenario))
    calendar = scenario.calendar()
    start = scenario.start
    result = calendar.add(start, duration)
    assert result >= start
    assert calendar.elapsed(start, result) == duration
    if duration:
        assert result.tzinfo is UTC
        before = result - US
        assert calendar.elapsed(start, before) < duration
        # Business time accrues right up to the due instant (open, or the closing instant).
        assert calendar.is_open(before)
    else:
        assert result is start


@given(st.data())
@PROPERTY_SETTINGS
def test_elapsed_is_additive(data: st.DataObject) -> None:
    scenario = data.draw(scenarios())
    calendar = scenario.calendar()
    offsets = sorted(
        data.draw(st.lists(st.integers(0, 90 * 86_400_000_000), min_size=2, max_size=2))
    )
    # Instants in UTC: a duration added to a local wall-clock time (a skipped 02:00 with
    # fold=1, say) lands on another instant than the one it names, and loses its fold.
    a = scenario.start.astimezone(UTC)
    b, c = (a + timedelta(microseconds=o) for o in offsets)
    assert calendar.elapsed(a, c) == calendar.elapsed(a, b) + calendar.elapsed(b, c)
    assert calendar.elapsed(c, a) == timedelta(0)
    assert calendar.elapsed(a, c) <= c - a


@given(st.data())
@PROPERTY_SETTINGS
def test_matches_brute_force_reference(data: st.DataObject) -> None:
    scenario = data.draw(scenarios())
    calendar = scenario.calendar()
    start = scenario.start
    span = timedelta(microseconds=data.draw(st.integers(0, 20 * 86_400_000_000)))
    end = start.astimezone(UTC) + span  # absolute time: wall-clock addition would skip folds
    assert calendar.elapsed(start, end) == reference_elapsed(scenario, start, end)

    merged = [
        (a.astimezone(UTC), b.astimezone(UTC))
        for a, b in reference_intervals(
            scenario.zone, scenario.hours, scenario.holidays, start, end
        )
    ]
    start_utc = start.astimezone(UTC)
    assert calendar.is_open(start) == any(a <= start_utc < b for a, b in merged)
    upcoming = [max(start_utc, a) for a, b in merged if b > start_utc]
    if upcoming:
        # Compare in UTC: PEP 495 makes fold/gap times unequal to any other zone's datetime.
        assert calendar.next_opening(start).astimezone(UTC) == upcoming[0].astimezone(UTC)

    duration = data.draw(durations_for(scenario))
    result = calendar.add(start, duration)
    if result - start <= timedelta(days=20):
        assert reference_elapsed(scenario, start, result) == duration
        if duration:
            assert reference_elapsed(scenario, start, result - US) < duration


@given(st.data())
@PROPERTY_SETTINGS
def test_next_opening_is_open_and_nothing_accrues_before_it(data: st.DataObject) -> None:
    scenario = data.draw(scenarios())
    calendar = scenario.calendar()
    moment = scenario.start
    opening = calendar.next_opening(moment)
    assert opening >= moment
    assert calendar.is_open(opening)
    assert calendar.elapsed(moment, opening) == timedelta(0)
    assert calendar.is_open(moment) == (opening == moment)
