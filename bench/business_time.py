"""Micro-benchmark of BusinessCalendar.add; run as `python -m bench.business_time`."""

from __future__ import annotations

import random
import statistics
import time as _time
from datetime import UTC, date, datetime, time, timedelta

from desk.business_time import BusinessCalendar

_CALLS = 20_000
# Fixed-date holidays plus a few movable-looking ones: about ten closed days a year.
_HOLIDAY_MONTH_DAYS = [(1, 1), (4, 3), (4, 6), (5, 1), (5, 14), (5, 25), (10, 3), (12, 24)]
_HOLIDAY_MONTH_DAYS += [(12, 25), (12, 26), (12, 31)]


def _calendar() -> BusinessCalendar:
    hours = {weekday: [(time(9), time(17))] for weekday in range(5)}
    holidays = [date(y, m, d) for y in range(2023, 2032) for m, d in _HOLIDAY_MONTH_DAYS]
    return BusinessCalendar("Europe/Berlin", hours, holidays)


def bench_add_median_us() -> float:
    """Median wall time of one add() call in microseconds, over a warmed-up calendar."""
    rng = random.Random(20260101)  # noqa: S311 - reproducible inputs, not secrets
    calendar = _calendar()
    first = datetime(2024, 1, 1, tzinfo=UTC)
    span_s = int((datetime(2029, 1, 1, tzinfo=UTC) - first).total_seconds())
    cases = [
        (
            first + timedelta(seconds=rng.randrange(span_s)),
            timedelta(minutes=rng.randint(1, 60 * 8 * 60)),  # 1 minute .. 60 business days
        )
        for _ in range(_CALLS)
    ]
    # Warm the lazily built day table once so the median reflects the steady state.
    for start, duration in cases:
        calendar.add(start, duration)
    add = calendar.add
    clock = _time.perf_counter_ns
    samples: list[int] = []
    for start, duration in cases:
        t0 = clock()
        add(start, duration)
        samples.append(clock() - t0)
    return statistics.median(samples) / 1000


if __name__ == "__main__":
    print(f"bench: business_time_add_median_us {bench_add_median_us():.2f} us")
