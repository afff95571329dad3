"""Busy time from iCalendar text: which calendars are accepted, and the busy spans they hold.

Feeds fetched by address (`scheduling.services.feeds`) and uploaded files are both checked with
`validate_calendar_text`; `feed_busy_spans` turns a feed's stored copy into the busy spans
`scheduling.selectors.agent_calendar` reads, expanded once per copy, zone and UTC day and cached.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from scheduling.models import BusyFeed

logger = logging.getLogger(__name__)

UTC = datetime.UTC
Span = tuple[datetime.datetime, datetime.datetime]
# Rules this frequent expand into tens of thousands of events over a booking horizon.
TOO_FREQUENT = frozenset({"SECONDLY", "MINUTELY"})
# Feeds' busy spans are cached per UTC day for this long a window (the booking horizon and more).
_CACHED_WINDOW = datetime.timedelta(days=64)
_CACHED_FOR = 60 * 60 * 24

# Feeds are read on every calendar load, so the work one feed may cause is bounded: the events
# counted in a window, and the steps dateutil takes expanding recurrences. It walks each rule
# from its DTSTART on, however long ago that is, before it reaches the window.
MAX_FEED_OCCURRENCES = 5_000
MAX_FEED_RECURRENCE_STEPS = 200_000
_RULE_PERIODS = {
    "SECONDLY": datetime.timedelta(seconds=1),
    "MINUTELY": datetime.timedelta(minutes=1),
    "HOURLY": datetime.timedelta(hours=1),
    "DAILY": datetime.timedelta(days=1),
    "WEEKLY": datetime.timedelta(weeks=1),
    "MONTHLY": datetime.timedelta(days=28),
    "YEARLY": datetime.timedelta(days=365),
}
# A YEARLY or MONTHLY step sifts through the days of a year or a month (measured: about 8 and
# 2 times a daily step); BYHOUR, BYMINUTE and BYSECOND multiply the times tried in each step.
_STEP_WEIGHTS = {"YEARLY": 8, "MONTHLY": 2}
_FINER_PARTS = {
    "HOURLY": ("BYMINUTE", "BYSECOND"),
    "MINUTELY": ("BYSECOND",),
    "SECONDLY": (),
}


# ---------------------------------------------------------------------------- validation


def validate_calendar_text(text: str) -> None:
    """Raise ValidationError unless the text is one readable iCalendar VCALENDAR whose events
    repeat at most hourly."""
    not_calendar = ValidationError(_("This is not an iCalendar (.ics) file."), code="not_calendar")
    if "\x00" in text:  # binary (or UTF-16) content; PostgreSQL could not store it either
        raise not_calendar
    try:
        component = icalendar.Calendar.from_ical(text)
    except Exception as error:  # any parse error in someone else's file
        raise not_calendar from error
    if getattr(component, "name", None) != "VCALENDAR":
        raise ValidationError(
            _("This is not an iCalendar (.ics) calendar: it has no VCALENDAR."),
            code="not_calendar",
        )
    if any(repeats_too_often(event) for event in component.walk("VEVENT")):
        raise ValidationError(
            _("Events that repeat every minute or second are not supported."),
            code="too_frequent",
        )


def recurrence_rules(event: icalendar.cal.Component) -> list[icalendar.vRecur]:
    """The event's readable RRULEs (one that cannot be read cannot be expanded either)."""
    value = event.get("RRULE")
    return [
        rule
        for rule in (value if isinstance(value, list) else [value])
        if isinstance(rule, icalendar.vRecur)
    ]


def repeats_too_often(event: icalendar.cal.Component) -> bool:
    """Whether one of the event's rules repeats every minute or second."""
    return any(TOO_FREQUENT.intersection(rule.get("FREQ", ())) for rule in recurrence_rules(event))


# ---------------------------------------------------------------------------- busy spans


def feed_busy_spans(
    *, feed: BusyFeed, start: datetime.datetime, end: datetime.datetime, zone: ZoneInfo
) -> list[Span]:
    """Busy events of a feed's stored copy between start and end, recurrences expanded.

    Transparent ("free") and cancelled events do not count; all-day and floating events are read
    in the agent's zone. A copy that cannot be read gives no busy time (the fetcher records why);
    an event that cannot be read, or costs too much to expand, is left out on its own. At most
    `MAX_FEED_OCCURRENCES` events count, from the start of the cached window.

    Expanding a large calendar takes a second or more, so the spans of a window of
    `_CACHED_WINDOW` from the UTC day of `start` are cached under a key made of the copy's
    SHA-256, the zone and the day: a new copy is a new key, so a cached answer is never stale.
    """
    text = feed.busy_ics
    if not text.strip():
        return []
    window_start = datetime.datetime.combine(start.astimezone(UTC).date(), datetime.time(0), UTC)
    window_end = window_start + _CACHED_WINDOW
    if end > window_end:
        return _expand_feed(text, start=start, end=end, zone=zone, feed_id=feed.pk)
    digest = hashlib.sha256(text.encode()).hexdigest()
    key = f"scheduling:busy-spans:v1:{digest}:{zone.key}:{window_start.date().isoformat()}"
    cached = cache.get(key)
    if cached is None:
        spans = _expand_feed(text, start=window_start, end=window_end, zone=zone, feed_id=feed.pk)
        cached = [(begin.timestamp(), finish.timestamp()) for begin, finish in spans]
        cache.set(key, cached, timeout=_CACHED_FOR)
    return [
        (begin, finish)
        for begin, finish in (
            (datetime.datetime.fromtimestamp(a, UTC), datetime.datetime.fromtimestamp(b, UTC))
            for a, b in cached
        )
        if begin < end and finish > start
    ]


def _expand_feed(
    text: str,
    *,
    start: datetime.datetime,
    end: datetime.datetime,
    zone: ZoneInfo,
    feed_id: int,
) -> list[Span]:
    try:
        calendar = icalendar.Calendar.from_ical(text)
        _drop_costly_recurrences(calendar, until=end, feed_id=feed_id)
        query = recurring_ical_events.of(calendar, skip_bad_series=True)
    except Exception:  # any parse error in someone else's file
        logger.warning("Busy-time feed %s could not be read", feed_id, exc_info=True)
        return []
    spans: list[Span] = []
    counted = 0
    for series in query.series:  # one event with its recurrences and their changes
        try:
            for occurrence in series.between(start, end):
                if counted == MAX_FEED_OCCURRENCES:
                    logger.warning(
                        "Busy-time feed %s has more than %d events in the window; the rest "
                        "are left out",
                        feed_id,
                        MAX_FEED_OCCURRENCES,
                    )
                    return spans
                counted += 1
                span = _busy_span(occurrence.as_component(False), zone)
                if span is not None:
                    spans.append(span)
        except Exception:  # an expansion error (dates beyond year 9999, mixed types, ...)
            logger.warning("Busy-time feed %s: an event was left out", feed_id, exc_info=True)
    return spans


def _busy_span(event: icalendar.Event, zone: ZoneInfo) -> Span | None:
    if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
        return None
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return None
    try:
        span = (_instant(event.start, zone), _instant(event.end, zone))
    except (KeyError, ValueError, TypeError, AttributeError, OverflowError):
        return None  # OverflowError: an end so late that it is beyond the year 9999 in UTC
    return span if span[1] > span[0] else None


def _drop_costly_recurrences(
    calendar: icalendar.Calendar, *, until: datetime.datetime, feed_id: int
) -> None:
    """Remove events repeating every minute or second, and the recurring events that do not
    fit in the feed's budget of expansion steps, cheapest first (the costly ones mostly began
    long ago)."""
    costs = {
        index: _recurrence_steps(component, until=until)
        for index, component in enumerate(calendar.subcomponents)
        if component.name == "VEVENT"
    }
    budget = MAX_FEED_RECURRENCE_STEPS
    left_out = set()
    for index in sorted(costs, key=lambda index: (costs[index] is None, costs[index] or 0)):
        steps = costs[index]
        if steps is None or steps > budget:
            left_out.add(index)
        else:
            budget -= steps
    if left_out:
        logger.warning(
            "Busy-time feed %s: %d recurring events are too costly to expand and left out",
            feed_id,
            len(left_out),
        )
        calendar.subcomponents = [
            component
            for index, component in enumerate(calendar.subcomponents)
            if index not in left_out
        ]


def _recurrence_steps(event: icalendar.cal.Component, *, until: datetime.datetime) -> int | None:
    """Roughly the steps dateutil takes to expand the event's rules up to `until` (None: too
    many, or a rule that cannot be costed)."""
    rules = recurrence_rules(event)
    if not rules:
        return 0
    if repeats_too_often(event):
        return None
    try:
        first = _wall_clock(event.decoded("DTSTART"))
        steps = 0
        for rule in rules:
            frequency = rule["FREQ"][0]
            last = min(_wall_clock(value) for value in [until, *rule.get("UNTIL", [])])
            interval = max(int(rule.get("INTERVAL", [1])[0]), 1)
            periods = max((last - first) // (_RULE_PERIODS[frequency] * interval), 0) + 1
            if "COUNT" in rule and not any(part.startswith("BY") for part in rule):
                # One occurrence a period, but for a DTSTART on a day some months or years
                # lack (31st, 29 February: up to 8 years apart).
                periods = min(periods, int(rule["COUNT"][0]) * 8)
            per_period = _STEP_WEIGHTS.get(frequency, 1)
            for part in _FINER_PARTS.get(frequency, ("BYHOUR", "BYMINUTE", "BYSECOND")):
                per_period *= max(len(rule.get(part, ())), 1)
            steps += periods * per_period
    except (KeyError, IndexError, ValueError, TypeError, OverflowError):
        return None
    return steps


def _wall_clock(value: datetime.date | datetime.datetime) -> datetime.datetime:
    """A naive date and time to count periods with (a zone's offset is not worth a period)."""
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=None)
    return datetime.datetime.combine(value, datetime.time(0))


def _instant(value: datetime.date | datetime.datetime, zone: ZoneInfo) -> datetime.datetime:
    if not isinstance(value, datetime.datetime):
        return datetime.datetime.combine(value, datetime.time(0), zone).astimezone(UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=zone).astimezone(UTC)
    return value.astimezone(UTC)
