"""Free call slots for a dedicated agent: a pure function of availability, bookings and "now".

Pure stdlib plus :mod:`desk.business_time` on purpose (no Django, no database), so it can be
tested exhaustively and benchmarked; callers load the rows and pass plain values in.

Rules, including the ones the product spec leaves open (decided here, tested in
``scheduling/tests/test_slots.py``):

* **Working intervals** are local wall times of the agent's IANA zone. A date in
  ``Availability.overrides`` *replaces* that date's weekly hours (an empty sequence closes the
  day). A date in ``Availability.holidays`` (the support calendar's holidays) is closed **unless
  an override gives it hours**: the override is the more specific, deliberate statement.
  Intervals of one day must not overlap; touching ones (09:00-12:00, 12:00-13:00) are merged.
  Each interval's bounds are mapped to UTC with zoneinfo's ``fold=0`` rule and clipped to the
  local day (as :class:`~desk.business_time.BusinessCalendar` does), so an interval across a DST
  change is exactly as long as the real time between its wall-clock bounds.
* **Slot starts** step by ``CallRules.step`` in UTC from each interval's (UTC) start, which is the
  local wall-clock start of the interval: local times are never advanced across a DST change.
  The call itself, ``[start, end)``, must lie inside one working interval.
* **Buffers** are the agent's preparation and wrap-up time. A slot's widened range
  ``[start - buffer_before, end + buffer_after)`` must not overlap any busy range, but it **may
  extend outside working hours** (otherwise 09:00 and 16:30 could never be booked with 10-minute
  buffers). Existing bookings are widened by *their own* buffers (``Booking``), so two calls are
  at least ``buffer_after(first) + buffer_before(second)`` apart.
* **Time off** (``Availability.time_off``) is busy time, like an external event: the widened slot
  must not overlap it (the agent is away, not merely off duty, so it gets no buffer slack).
* **Minimum notice**: ``start >= BusinessCalendar(zone, weekly, holidays).add(now, notice)``,
  i.e. business time on the agent's *regular* calendar. Date overrides and time off do **not**
  change the notice clock: a :class:`BusinessCalendar` can only express weekly hours and
  closed dates, and counting notice on the regular week keeps it predictable for customers.
  Consequence: hours added by an override on a closed day (e.g. a Saturday) do not count as
  notice time. If the agent has no weekly hours at all, positive notice never elapses and no
  slot is offered.
* **Horizon**: ``start < now + horizon``, elapsed (UTC) time, not wall-clock days.
* **Calls per day**: existing bookings are counted on the agent's local day of their start; a day
  that already has ``max_per_day`` bookings offers no slot (``max_per_day=None``: no limit).
* **Half-open intervals** everywhere: ranges that merely touch do not overlap.
"""

from __future__ import annotations

import functools
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from desk.business_time import BusinessCalendar
from desk.defaults import DESK_WEEKLY, DESK_ZONE

__all__ = [
    "ANALYSIS_CALL",
    "SUPPORT_CALL",
    "TRAINING_CALL",
    "Availability",
    "Booking",
    "Busy",
    "CallRules",
    "Slot",
    "free_slots",
    "slots_by_local_day",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_MIDNIGHT = time(0, 0)
_ONE_DAY = timedelta(days=1)

_Interval = tuple[time, time]


# --------------------------------------------------------------------------- validation helpers


def _load_zone(key: object) -> ZoneInfo:
    if not isinstance(key, str):
        raise TypeError(f"time_zone must be an IANA zone name (str), got {key!r}")
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {key!r}") from exc


def _require_aware(name: str, moment: object) -> datetime:
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise TypeError(f"{name} must be timezone-aware, got naive {moment!r}")
    return moment


def _require_timedelta(name: str, value: object, *, positive: bool = False) -> timedelta:
    if not isinstance(value, timedelta):
        raise TypeError(f"{name} must be a timedelta, got {type(value).__name__}")
    if positive and value <= timedelta(0):
        raise ValueError(f"{name} must be positive, got {value!r}")
    if value < timedelta(0):
        raise ValueError(f"{name} must not be negative, got {value!r}")
    return value


def _require_range(name: str, start: object, end: object) -> tuple[datetime, datetime]:
    start = _require_aware(f"{name} start", start)
    end = _require_aware(f"{name} end", end)
    if end <= start:
        raise ValueError(f"{name} must end after it starts, got {start!r} .. {end!r}")
    return start, end


def _require_date(name: str, value: object) -> date:
    # datetime is a date subclass but never equals a date, so it would silently not match.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime.date, got {value!r}")
    return value


def _day_intervals(where: str, intervals: Iterable[tuple[time, time]]) -> tuple[_Interval, ...]:
    """Validate one day's wall-clock intervals; return them sorted, touching ones merged."""
    if isinstance(intervals, (str, bytes)) or not isinstance(intervals, Iterable):
        raise TypeError(f"{where}: expected a sequence of (start, end) times, got {intervals!r}")
    day: list[_Interval] = []
    for interval in intervals:
        try:
            opens, closes = interval
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{where}: expected a (start, end) pair, got {interval!r}") from exc
        for t in (opens, closes):
            if not isinstance(t, time):
                raise TypeError(f"{where}: working hours must be datetime.time values, got {t!r}")
            if t.tzinfo is not None:
                raise ValueError(f"{where}: working hours must be naive local times, got {t!r}")
        if closes <= opens:
            raise ValueError(
                f"{where}: interval {opens.isoformat()}-{closes.isoformat()} must end after it "
                "starts, within the same day"
            )
        day.append((opens.replace(fold=0), closes.replace(fold=0)))
    day.sort()
    merged: list[_Interval] = []
    for opens, closes in day:
        if merged and opens < merged[-1][1]:
            prev = merged[-1]
            raise ValueError(
                f"{where}: intervals {prev[0].isoformat()}-{prev[1].isoformat()} and "
                f"{opens.isoformat()}-{closes.isoformat()} overlap"
            )
        if merged and opens == merged[-1][1]:
            merged[-1] = (merged[-1][0], closes)
        else:
            merged.append((opens, closes))
    return tuple(merged)


def _to_us(moment: datetime) -> int:
    # Subtracting an aware UTC epoch converts through UTC, never through wall-clock time.
    return (moment - _EPOCH) // _US


def _from_us(u: int) -> datetime:
    return _EPOCH + timedelta(microseconds=u)


# --------------------------------------------------------------------------- value types


@dataclass(frozen=True)
class Availability:
    """An agent's working time. Defaults to a new installation's desk (`desk.defaults`).

    ``weekly`` maps weekday (0 = Monday .. 6 = Sunday) to local wall-clock intervals;
    ``overrides`` maps a date to the intervals that replace its weekly hours (``[]`` closes it);
    ``time_off`` holds aware ``(start, end)`` instants; ``holidays`` are closed dates unless an
    override gives them hours. Inputs are validated and normalised (read-only mappings of
    sorted tuples, ``frozenset`` holidays).
    """

    time_zone: str = DESK_ZONE
    weekly: Mapping[int, Sequence[tuple[time, time]]] = field(
        default_factory=lambda: MappingProxyType(DESK_WEEKLY)
    )
    overrides: Mapping[date, Sequence[tuple[time, time]]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    time_off: Sequence[tuple[datetime, datetime]] = ()
    holidays: Collection[date] = frozenset()
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = functools.partial(object.__setattr__, self)
        set_("_zone", _load_zone(self.time_zone))
        if not isinstance(self.weekly, Mapping):
            raise TypeError(
                f"weekly must be a mapping of weekday -> intervals, got {self.weekly!r}"
            )
        weekly: dict[int, tuple[_Interval, ...]] = {}
        for weekday, intervals in self.weekly.items():
            if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
                raise ValueError(
                    f"weekly keys must be ints 0 (Monday) .. 6 (Sunday), got {weekday!r}"
                )
            day = _day_intervals(f"weekly[{weekday}]", intervals)
            if day:
                weekly[weekday] = day
        set_("weekly", MappingProxyType(dict(sorted(weekly.items()))))
        if not isinstance(self.overrides, Mapping):
            raise TypeError(
                f"overrides must be a mapping of date -> intervals, got {self.overrides!r}"
            )
        overrides: dict[date, tuple[_Interval, ...]] = {}
        for day_key, intervals in self.overrides.items():
            day_key = _require_date("override key", day_key)
            overrides[day_key] = _day_intervals(f"override {day_key.isoformat()}", intervals)
        set_("overrides", MappingProxyType(dict(sorted(overrides.items()))))
        time_off: list[tuple[datetime, datetime]] = []
        for entry in self.time_off:
            try:
                start, end = entry
            except (TypeError, ValueError) as exc:
                raise TypeError(
                    f"time_off entries must be (start, end) pairs, got {entry!r}"
                ) from exc
            time_off.append(_require_range("time_off", start, end))
        set_("time_off", tuple(time_off))
        set_("holidays", frozenset(_require_date("holiday", d) for d in self.holidays))

    def intervals_on(self, day: date) -> tuple[tuple[time, time], ...]:
        """Local wall-clock working intervals of ``day``: override, else holiday, else weekly."""
        override = self.overrides.get(day)
        if override is not None:
            return tuple(override)
        if day in self.holidays:
            return ()
        return tuple(self.weekly.get(day.weekday(), ()))

    def notice_calendar(self) -> BusinessCalendar:
        """The business-time clock minimum notice is counted on: weekly hours + holidays."""
        weekly = tuple((k, tuple(v)) for k, v in self.weekly.items())
        return _notice_calendar(self.time_zone, weekly, frozenset(self.holidays))


@functools.lru_cache(maxsize=256)
def _notice_calendar(
    zone: str,
    weekly: tuple[tuple[int, tuple[_Interval, ...]], ...],
    holidays: frozenset[date],
) -> BusinessCalendar:
    # BusinessCalendar is thread-safe and extends its day table lazily, so sharing one per
    # (zone, hours, holidays) across requests keeps free_slots() from rebuilding it every time.
    return BusinessCalendar(zone, dict(weekly), holidays)


_MINUTES = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class CallRules:
    """Per call type: length, buffers, minimum notice (business time), horizon, step; per agent:
    the daily cap (``None`` = unlimited)."""

    duration: timedelta
    buffer_before: timedelta = 10 * _MINUTES
    buffer_after: timedelta = 10 * _MINUTES
    minimum_notice: timedelta = timedelta(hours=4)
    horizon: timedelta = timedelta(days=30)
    step: timedelta = 30 * _MINUTES
    max_per_day: int | None = 4

    def __post_init__(self) -> None:
        _require_timedelta("duration", self.duration, positive=True)
        _require_timedelta("step", self.step, positive=True)
        _require_timedelta("buffer_before", self.buffer_before)
        _require_timedelta("buffer_after", self.buffer_after)
        _require_timedelta("minimum_notice", self.minimum_notice)
        _require_timedelta("horizon", self.horizon)
        cap = self.max_per_day
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int)):
            raise TypeError(f"max_per_day must be an int or None, got {cap!r}")
        if cap is not None and cap < 0:
            raise ValueError(f"max_per_day must not be negative, got {cap!r}")


#: The product's call types with their default rules.
SUPPORT_CALL = CallRules(duration=30 * _MINUTES)
TRAINING_CALL = CallRules(duration=60 * _MINUTES)
ANALYSIS_CALL = CallRules(duration=60 * _MINUTES)  # analysis and discussion of changes


@dataclass(frozen=True, slots=True)
class Booking:
    """An existing call; its own buffers widen it to ``[start - before, end + after)``."""

    start: datetime
    end: datetime
    buffer_before: timedelta
    buffer_after: timedelta

    def __post_init__(self) -> None:
        _require_range("booking", self.start, self.end)
        _require_timedelta("booking buffer_before", self.buffer_before)
        _require_timedelta("booking buffer_after", self.buffer_after)


@dataclass(frozen=True, slots=True)
class Busy:
    """External busy time (e.g. an expanded calendar event occurrence), taken as is."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _require_range("busy", self.start, self.end)


@dataclass(frozen=True, slots=True, order=True)
class Slot:
    """A bookable call ``[start, end)``; free_slots() returns aware UTC datetimes."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _require_range("slot", self.start, self.end)


# --------------------------------------------------------------------------- computation


def _busy_union(
    bookings: Iterable[Booking], busy: Iterable[Busy], time_off: Iterable[tuple[datetime, datetime]]
) -> tuple[list[int], list[int], list[int]]:
    """Return starts and ends of the disjoint union of all busy ranges, and booking starts."""
    ranges: list[tuple[int, int]] = []
    booking_starts: list[int] = []
    for b in bookings:
        if not isinstance(b, Booking):
            raise TypeError(f"bookings must be Booking values, got {b!r}")
        start = _to_us(b.start)
        booking_starts.append(start)
        ranges.append((start - b.buffer_before // _US, _to_us(b.end) + b.buffer_after // _US))
    for e in busy:
        if not isinstance(e, Busy):
            raise TypeError(f"busy must be Busy values, got {e!r}")
        ranges.append((_to_us(e.start), _to_us(e.end)))
    for start_dt, end_dt in time_off:
        ranges.append((_to_us(start_dt), _to_us(end_dt)))
    ranges.sort()
    starts: list[int] = []
    ends: list[int] = []
    for lo, hi in ranges:
        if ends and lo <= ends[-1]:
            if hi > ends[-1]:
                ends[-1] = hi
        else:
            starts.append(lo)
            ends.append(hi)
    booking_starts.sort()
    return starts, ends, booking_starts


def free_slots(
    *,
    availability: Availability,
    rules: CallRules,
    bookings: Iterable[Booking] = (),
    busy: Iterable[Busy] = (),
    now: datetime,
) -> list[Slot]:
    """Free slots for one call type, sorted by start, in UTC; see the module docstring for rules.

    No database access: ``bookings`` are the agent's existing calls (any range; only those near
    the window matter), ``busy`` the external busy time with recurring events already expanded.
    """
    if not isinstance(availability, Availability):
        raise TypeError(f"availability must be an Availability, got {availability!r}")
    if not isinstance(rules, CallRules):
        raise TypeError(f"rules must be CallRules, got {rules!r}")
    _require_aware("now", now)
    zone = availability._zone
    busy_starts, busy_ends, booking_starts = _busy_union(bookings, busy, availability.time_off)

    now_us = _to_us(now)
    horizon_end = now_us + rules.horizon // _US
    if rules.minimum_notice:
        if not availability.weekly:
            return []  # no regular business hours: the notice never elapses
        earliest = _to_us(availability.notice_calendar().add(now, rules.minimum_notice))
    else:
        earliest = now_us
    if earliest >= horizon_end or rules.max_per_day == 0:
        return []

    duration = rules.duration // _US
    step = rules.step // _US
    before = rules.buffer_before // _US
    after = rules.buffer_after // _US
    cap = rules.max_per_day
    n_busy = len(busy_starts)

    first_day = _from_us(earliest).astimezone(zone).date()
    last_day = _from_us(horizon_end).astimezone(zone).date()
    found: list[int] = []
    day = first_day
    floor = _to_us(datetime.combine(day, _MIDNIGHT, tzinfo=zone))
    while day <= last_day:
        next_day = day + _ONE_DAY
        ceiling = _to_us(datetime.combine(next_day, _MIDNIGHT, tzinfo=zone))
        intervals = availability.intervals_on(day)
        if intervals and (
            cap is None
            or bisect_left(booking_starts, ceiling) - bisect_left(booking_starts, floor) < cap
        ):
            for opens, closes in intervals:
                lo = max(_to_us(datetime.combine(day, opens, tzinfo=zone)), floor)
                hi = min(_to_us(datetime.combine(day, closes, tzinfo=zone)), ceiling)
                last_start = min(hi - duration, horizon_end - 1)
                s = lo
                if s < earliest:
                    s = lo + -(-(earliest - lo) // step) * step
                while s <= last_start:
                    # First busy range ending after the widened slot starts; it overlaps the
                    # widened slot iff it also starts before the widened slot ends.
                    j = bisect_right(busy_ends, s - before)
                    if j < n_busy and busy_starts[j] < s + duration + after:
                        # Blocked: skip to the first aligned start whose buffer clears it.
                        clear = busy_ends[j] + before
                        s = lo + -(-(clear - lo) // step) * step
                        continue
                    found.append(s)
                    s += step
        day = next_day
        floor = ceiling
    # Clipping around a DST gap can make one day's mapped intervals overlap: dedupe and sort.
    return [Slot(_from_us(s), _from_us(s + duration)) for s in sorted(set(found))]


def slots_by_local_day(slots: Iterable[Slot], zone: str) -> dict[date, list[Slot]]:
    """Group slots by the date their start falls on in ``zone`` (e.g. the customer's), in order.

    The slots themselves are returned unchanged (UTC): convert them for display with
    ``astimezone`` at render time, so comparisons never meet PEP 495's inter-zone fold rule.
    """
    tz = _load_zone(zone)
    days: dict[date, list[Slot]] = {}
    for slot in sorted(slots):
        days.setdefault(slot.start.astimezone(tz).date(), []).append(slot)
    return days
