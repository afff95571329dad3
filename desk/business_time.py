"""Business-time clock for SLA deadlines: weekly opening hours in an IANA zone, minus holidays.

Pure stdlib on purpose, so it can be tested and benchmarked without Django.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["BusinessCalendar"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_DAY_US = 86_400_000_000
_MIDNIGHT = time(0, 0)
# Days computed per table extension: large enough that extensions are rare, small enough
# that a cold call stays in the low milliseconds.
_CHUNK_DAYS = 128
# Keep clear of date.min/date.max: every day needs its neighbours' midnights.
_MIN_ORDINAL = 3
_MAX_ORDINAL = date.max.toordinal() - 3


@dataclass(frozen=True, slots=True)
class _Table:
    """Immutable snapshot of precomputed local days; swapped as a whole so readers need no lock."""

    first: int  # proleptic ordinal of the first covered local day
    # starts[k]: UTC microseconds at which local day first+k begins (its midnight); the extra
    # last entry is where the table ends.
    starts: list[int]
    # prefix[k]: business microseconds before day first+k, relative to an arbitrary zero that
    # never moves, so values stay valid across extensions in either direction.
    prefix: list[int]
    # spans[k]: flat (open, close, open, close, ...) UTC microseconds of day first+k, sorted,
    # disjoint and inside [starts[k], starts[k + 1]).
    spans: list[tuple[int, ...]]


def _load_zone(key: str) -> ZoneInfo:
    if not isinstance(key, str):
        raise TypeError(f"time_zone must be an IANA zone name (str), got {key!r}")
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {key!r}") from exc


def _validate_hours(
    hours: Mapping[int, Iterable[tuple[time, time]]],
) -> dict[int, tuple[tuple[time, time], ...]]:
    result: dict[int, tuple[tuple[time, time], ...]] = {}
    for weekday, intervals in hours.items():
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise ValueError(f"weekday keys must be ints 0 (Monday) .. 6 (Sunday), got {weekday!r}")
        day: list[tuple[time, time]] = []
        for interval in intervals:
            opens, closes = interval
            for t in (opens, closes):
                if not isinstance(t, time):
                    raise TypeError(f"opening hours must be datetime.time values, got {t!r}")
                if t.tzinfo is not None:
                    raise ValueError(f"opening hours must be naive local times, got {t!r}")
            if closes <= opens:
                raise ValueError(
                    f"weekday {weekday}: interval {opens.isoformat()}-{closes.isoformat()} "
                    "must close after it opens (and within the same day)"
                )
            # Local times map to instants with fold=0, whatever fold the caller passed.
            day.append((opens.replace(fold=0), closes.replace(fold=0)))
        day.sort()
        for (o1, c1), (o2, c2) in pairwise(day):
            if o2 < c1:
                raise ValueError(
                    f"weekday {weekday}: intervals {o1.isoformat()}-{c1.isoformat()} and "
                    f"{o2.isoformat()}-{c2.isoformat()} overlap"
                )
        if day:
            result[weekday] = tuple(day)
    return result


def _validate_holidays(holidays: Iterable[date]) -> frozenset[date]:
    days = frozenset(holidays)
    for day in days:
        # datetime is a date subclass but never equals a date, so it would silently not match.
        if not isinstance(day, date) or isinstance(day, datetime):
            raise TypeError(f"holidays must be datetime.date values, got {day!r}")
    return days


def _require_aware(name: str, moment: datetime) -> None:
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise TypeError(f"{name} must be timezone-aware, got naive {moment!r}")


def _to_us(moment: datetime) -> int:
    # Subtracting an aware UTC epoch converts through UTC, never through wall-clock time.
    return (moment - _EPOCH) // _US


def _wall_length_us(opens: time, closes: time) -> int:
    def of(t: time) -> int:
        return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond

    return of(closes) - of(opens)


class BusinessCalendar:
    """Opening hours per weekday in a local zone, minus holidays; all arithmetic in UTC.

    Thread-safe: precomputed days live in an immutable table swapped under a lock.
    """

    def __init__(
        self,
        time_zone: str,
        hours: Mapping[int, Iterable[tuple[time, time]]],
        holidays: Iterable[date] = (),
    ) -> None:
        self._zone = _load_zone(time_zone)
        self._hours = _validate_hours(hours)
        self._holidays = _validate_holidays(holidays)
        self._always = False
        # Nominal (wall-clock) business time per week; only used to size table extensions.
        self._week_us = sum(_wall_length_us(o, c) for day in self._hours.values() for o, c in day)
        self._table: _Table | None = None
        self._lock = threading.Lock()

    @classmethod
    def twenty_four_seven(cls) -> BusinessCalendar:
        """Clock hours: every instant counts (zone UTC)."""
        calendar = cls("UTC", {})
        calendar._always = True
        return calendar

    @property
    def time_zone(self) -> str:
        """IANA name of the zone the opening hours are expressed in."""
        return self._zone.key

    def __repr__(self) -> str:
        if self._always:
            return "BusinessCalendar.twenty_four_seven()"
        return (
            f"BusinessCalendar({self._zone.key!r}, {self._hours!r}, "
            f"holidays={sorted(self._holidays)!r})"
        )

    # ----------------------------------------------------------------- public API

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """Return the earliest instant t >= start with elapsed(start, t) == duration.

        Computed results are in UTC, so callers' arithmetic on them is absolute; a zero duration
        returns start itself.
        """
        _require_aware("start", start)
        if not isinstance(duration, timedelta):
            raise TypeError(f"duration must be a timedelta, got {type(duration).__name__}")
        if duration < timedelta(0):
            raise ValueError(f"duration must not be negative, got {duration!r}")
        if not duration:
            # The very object, not a converted copy: PEP 495 makes a gap or fold time compare
            # unequal to every other zone's datetime, which would break add(s, 0) == s.
            return start
        if self._always:
            return start.astimezone(UTC) + duration
        if not self._week_us:
            raise ValueError("calendar has no opening hours: a positive duration never elapses")
        table, k, done = self._cumulative(_to_us(start))
        target = done + duration // _US
        if table.prefix[-1] < target:
            grown = self._grow_to_business(target)
            k += table.first - grown.first
            table = grown
        # prefix[j - 1] < target <= prefix[j]: the target is reached during day j - 1, and a
        # target equal to a day's total resolves to that day's closing instant, not the next
        # opening.
        j = bisect_left(table.prefix, target, k + 1)
        remaining = target - table.prefix[j - 1]
        spans = table.spans[j - 1]
        for i in range(0, len(spans), 2):
            opens, closes = spans[i], spans[i + 1]
            if remaining <= closes - opens:
                return self._from_us(opens + remaining)
            remaining -= closes - opens
        raise AssertionError("prefix sums and day spans disagree")  # pragma: no cover

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Business time in [start, end); zero if end <= start."""
        _require_aware("start", start)
        _require_aware("end", end)
        u_start, u_end = _to_us(start), _to_us(end)
        if u_end <= u_start:
            return timedelta(0)
        if self._always:
            return timedelta(microseconds=u_end - u_start)
        return timedelta(microseconds=self._cumulative(u_end)[2] - self._cumulative(u_start)[2])

    def is_open(self, moment: datetime) -> bool:
        """Whether the desk is open at this instant (an interval's closing instant is closed)."""
        _require_aware("moment", moment)
        if self._always:
            return True
        u = _to_us(moment)
        table, k = self._locate(u)
        spans = table.spans[k]
        for i in range(0, len(spans), 2):
            if u < spans[i]:
                return False
            if u < spans[i + 1]:
                return True
        return False

    def next_opening(self, moment: datetime) -> datetime:
        """Return moment itself when open, else the next opening (in UTC)."""
        _require_aware("moment", moment)
        if self._always:
            return moment
        if not self._week_us:
            raise ValueError("calendar has no opening hours: it never opens")
        u = _to_us(moment)
        table, k = self._locate(u)
        spans = table.spans[k]
        for i in range(0, len(spans), 2):
            if u < spans[i]:
                return self._from_us(spans[i])
            if u < spans[i + 1]:
                return moment  # unchanged, for the same PEP 495 reason as in add()
        # Closed for the rest of this day: the first later day with any span opens first.
        # Holidays are finite and every weekday with hours recurs, so this terminates.
        while True:
            k += 1
            if k >= len(table.spans):
                day_start = table.starts[k]
                grown = self._grow_to_instant(day_start)
                k += table.first - grown.first
                table = grown
            if table.spans[k]:
                return self._from_us(table.spans[k][0])

    # ----------------------------------------------------------------- internals

    def _from_us(self, u: int) -> datetime:
        # UTC, never the local zone: wall-clock arithmetic on a local result in a repeated
        # autumn hour would silently be an hour off (PEP 495).
        return _EPOCH + timedelta(microseconds=u)

    def _locate(self, u: int) -> tuple[_Table, int]:
        """Return a table covering instant u and the index of the local day containing it."""
        table = self._table
        if table is None or not table.starts[0] <= u < table.starts[-1]:
            table = self._grow_to_instant(u)
        return table, bisect_right(table.starts, u) - 1

    def _cumulative(self, u: int) -> tuple[_Table, int, int]:
        """Return (table, day index, business microseconds before u on the table's scale)."""
        table, k = self._locate(u)
        done = table.prefix[k]
        spans = table.spans[k]
        for i in range(0, len(spans), 2):
            opens = spans[i]
            if u <= opens:
                break
            closes = spans[i + 1]
            done += min(u, closes) - opens
        return table, k, done

    def _local_us(self, day: date, t: time) -> int:
        # combine(..., tzinfo=zone) applies zoneinfo's fold=0 rule to gaps and folds.
        return _to_us(datetime.combine(day, t, tzinfo=self._zone))

    def _build(self, first: int, stop: int) -> tuple[list[int], list[int], list[tuple[int, ...]]]:
        """Compute starts (one extra entry), business totals and spans for days [first, stop)."""
        if first < _MIN_ORDINAL or stop > _MAX_ORDINAL:
            raise OverflowError("business-time computation left the supported datetime range")
        starts = [self._local_us(date.fromordinal(o), _MIDNIGHT) for o in range(first, stop + 1)]
        totals: list[int] = []
        all_spans: list[tuple[int, ...]] = []
        for k, ordinal in enumerate(range(first, stop)):
            day = date.fromordinal(ordinal)
            intervals = () if day in self._holidays else self._hours.get(day.weekday(), ())
            floor, ceiling = starts[k], starts[k + 1]
            mapped: list[tuple[int, int]] = []
            for opens, closes in intervals:
                # Around a DST gap, fold=0 can map intervals onto overlapping or out-of-day
                # instants; clip to the local day and merge so no instant counts twice.
                lo = max(self._local_us(day, opens), floor)
                hi = min(self._local_us(day, closes), ceiling)
                if hi > lo:
                    mapped.append((lo, hi))
            mapped.sort()
            flat: list[int] = []
            for lo, hi in mapped:
                if flat and lo <= flat[-1]:
                    flat[-1] = max(flat[-1], hi)
                else:
                    flat += (lo, hi)
            totals.append(sum(flat[i + 1] - flat[i] for i in range(0, len(flat), 2)))
            all_spans.append(tuple(flat))
        return starts, totals, all_spans

    def _grow_to_instant(self, u: int) -> _Table:
        """Return a table whose days cover instant u, extending the shared one if needed."""
        with self._lock:
            table = self._table
            while table is None or not table.starts[0] <= u < table.starts[-1]:
                if table is None:
                    local = (_EPOCH + timedelta(microseconds=u)).astimezone(self._zone)
                    ordinal = local.date().toordinal()
                    first, stop = ordinal - 7, ordinal + _CHUNK_DAYS
                    starts, totals, spans = self._build(first, stop)
                    prefix = [0]
                    for total in totals:
                        prefix.append(prefix[-1] + total)
                    table = _Table(first, starts, prefix, spans)
                elif u < table.starts[0]:
                    days = (table.starts[0] - u) // _DAY_US + 2
                    table = self._prepend(table, max(days, _CHUNK_DAYS))
                else:
                    days = (u - table.starts[-1]) // _DAY_US + 2
                    table = self._append(table, max(days, _CHUNK_DAYS))
            self._table = table
            return table

    def _grow_to_business(self, target: int) -> _Table:
        """Return a table whose business-time prefix reaches target, extending forwards."""
        with self._lock:
            table = self._table
            assert table is not None  # callers located an instant first
            while table.prefix[-1] < target:
                missing = target - table.prefix[-1]
                # Estimate from the nominal week; holidays and DST are covered by the loop.
                days = missing * 7 // self._week_us + 7
                table = self._append(table, max(days, _CHUNK_DAYS))
            self._table = table
            return table

    def _append(self, table: _Table, days: int) -> _Table:
        stop = table.first + len(table.spans)
        starts, totals, spans = self._build(stop, stop + days)
        prefix = list(table.prefix)
        for total in totals:
            prefix.append(prefix[-1] + total)
        return _Table(table.first, table.starts[:-1] + starts, prefix, table.spans + spans)

    def _prepend(self, table: _Table, days: int) -> _Table:
        first = table.first - days
        starts, totals, spans = self._build(first, table.first)
        head = [table.prefix[0] - sum(totals)]
        for total in totals[:-1]:
            head.append(head[-1] + total)
        return _Table(first, starts[:-1] + table.starts, head + table.prefix, spans + table.spans)
