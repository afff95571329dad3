"""Benchmark of free_slots() over 30 days; run as `python -m bench.slots`.

An agent on the support calendar with 1 000 bookings (spread over ~13 months around "now") and
500 external calendar events, 100 of them recurring (daily, weekly, every other week, monthly;
Berlin, New York and UTC zones; some with EXDATEs). The external calendar is built as a real
VCALENDAR, serialised and parsed back, and expanded with recurring-ical-events, as a feed would
be. The expansion is reported on stderr but excluded from the figure, which times what a request
does with the loaded rows: build the Availability and compute the slots (30 days, default
Support call rules), taking the median of 25 runs. "now" is 2026-10-12, so the window crosses the
2026-10-25 DST change.
"""

from __future__ import annotations

import random
import statistics
import sys
import time as _time
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from scheduling.slots import SUPPORT_CALL, Availability, Booking, Busy, free_slots

_RUNS = 25
_BOOKINGS = 1_000
_EVENTS = 500
_RECURRING = 100
_BERLIN = ZoneInfo("Europe/Berlin")
_NOW = datetime(2026, 10, 12, 10, 0, tzinfo=_BERLIN)
_HOLIDAYS = [date(2026, 10, 3), date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26)]
_HOLIDAYS += [date(2026, 12, 31), date(2027, 1, 1), date(2027, 4, 2), date(2027, 4, 5)]


def _bookings(rng: random.Random) -> list[Booking]:
    """Calls on weekdays in working hours, from ~300 days before now to ~100 days after."""
    first = _NOW.date() - timedelta(days=300)
    bookings: list[Booking] = []
    while len(bookings) < _BOOKINGS:
        day = first + timedelta(days=rng.randrange(400))
        if day.weekday() >= 5:
            continue
        minutes = rng.choice((30, 60, 60))
        start = datetime.combine(day, time(9), tzinfo=_BERLIN) + timedelta(
            minutes=30 * rng.randrange((480 - minutes) // 30 + 1)
        )
        end = start + timedelta(minutes=minutes)
        bookings.append(Booking(start, end, timedelta(minutes=10), timedelta(minutes=10)))
    return bookings


def _calendar_feed(rng: random.Random) -> bytes:
    """A VCALENDAR with single and recurring events, serialised like a fetched feed."""
    zones = [_BERLIN, ZoneInfo("America/New_York"), UTC]
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//vipsupport//bench_slots//EN")
    calendar.add("version", "2.0")
    for n in range(_EVENTS):
        zone = rng.choice(zones)
        recurring = n < _RECURRING
        # Recurring series started in the past; single events over -30 .. +60 days.
        offset = rng.randrange(-120, 0) if recurring else rng.randrange(-30, 60)
        local_now = _NOW.astimezone(zone)
        day = local_now.date() + timedelta(days=offset)
        start = datetime.combine(day, time(rng.randrange(6, 20), 15 * rng.randrange(4)), zone)
        # A few daily stand-ups; the other series are weekly, fortnightly or monthly meetings.
        kind = 0 if n % 20 == 0 else 1 + n % 3
        minutes = 15 if recurring and kind == 0 else rng.choice((15, 30, 45, 60, 90, 120))
        event = icalendar.Event()
        event.add("uid", f"bench-{n}@vipsupport.example")
        event.add("summary", f"External {n}")
        event.add("dtstamp", datetime(2026, 1, 1, tzinfo=UTC))
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(minutes=minutes))
        if recurring:
            if kind == 0:
                event.add("rrule", {"freq": "daily", "byday": ["MO", "TU", "WE", "TH", "FR"]})
            elif kind == 1:
                event.add("rrule", {"freq": "weekly", "count": 40})
            elif kind == 2:
                event.add("rrule", {"freq": "weekly", "interval": 2})
            else:
                event.add("rrule", {"freq": "monthly", "until": start + timedelta(days=365)})
            if n % 3 == 0:  # a few cancelled occurrences
                event.add("exdate", [start + timedelta(days=7 * k) for k in (20, 21, 23)])
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _expand(feed: bytes, start: datetime, end: datetime) -> list[Busy]:
    calendar = icalendar.Calendar.from_ical(feed)
    busy: list[Busy] = []
    for occurrence in recurring_ical_events.of(calendar).between(start, end):
        opens, closes = occurrence.decoded("dtstart"), occurrence.decoded("dtend")
        if isinstance(opens, datetime) and closes > opens:  # all-day events are not busy here
            busy.append(Busy(opens.astimezone(UTC), closes.astimezone(UTC)))
    return busy


def _slots(bookings: list[Booking], busy: list[Busy]) -> int:
    availability = Availability(holidays=_HOLIDAYS)  # the support calendar's hours
    return len(
        free_slots(
            availability=availability,
            rules=SUPPORT_CALL,
            bookings=bookings,
            busy=busy,
            now=_NOW,
        )
    )


def bench_slots_30d_ms() -> float:
    """Median wall time in milliseconds of one 30-day free_slots() computation."""
    rng = random.Random(20261012)  # noqa: S311 - reproducible inputs, not secrets
    bookings = _bookings(rng)
    feed = _calendar_feed(rng)
    t0 = _time.perf_counter()
    # A day of margin each side covers buffers and events that straddle the window's edges.
    busy = _expand(feed, _NOW - timedelta(days=1), _NOW + SUPPORT_CALL.horizon + timedelta(days=1))
    expand_ms = (_time.perf_counter() - t0) * 1000
    print(
        f"expanded {_EVENTS} events ({_RECURRING} recurring) to {len(busy)} busy intervals "
        f"in {expand_ms:.1f} ms (not in the figure)",
        file=sys.stderr,
    )
    samples: list[float] = []
    count = 0
    for _ in range(_RUNS):
        t0 = _time.perf_counter()
        count = _slots(bookings, busy)
        samples.append((_time.perf_counter() - t0) * 1000)
    print(
        f"{len(bookings)} bookings, {len(busy)} busy: {count} free slots; "
        f"first run {samples[0]:.2f} ms (builds the notice calendar), "
        f"min {min(samples):.2f} ms, max {max(samples):.2f} ms",
        file=sys.stderr,
    )
    return statistics.median(samples)


if __name__ == "__main__":
    print(f"bench: slots_30d_ms {bench_slots_30d_ms():.2f} ms")
