"""Busy spans of a feed are cached per copy, zone and day: the same answer as expanding afresh,
and never stale when the copy changes."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from scheduling import busy
from scheduling.models import BusyFeed
from scheduling.tests.factories import berlin, schedule_for, vip_people

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")


def weekly(summary: str, hour: int) -> str:
    return f"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:{summary}@test
DTSTAMP:20261101T000000Z
DTSTART;TZID=Europe/Berlin:20261102T{hour:02d}0000
DTEND;TZID=Europe/Berlin:20261102T{hour + 1:02d}0000
RRULE:FREQ=WEEKLY;BYDAY=MO,WE
SUMMARY:{summary}
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture
def feed():
    schedule = schedule_for(vip_people().agent)
    return BusyFeed.objects.create(schedule=schedule, uploaded_ics=weekly("Stand-up", 10))


def test_the_cached_answer_is_the_expanded_one(feed):
    start, end = berlin(1, 0), berlin(15, 0)

    first = busy.feed_busy_spans(feed=feed, start=start, end=end, zone=BERLIN)
    again = busy.feed_busy_spans(feed=feed, start=start, end=end, zone=BERLIN)
    afresh = busy._expand_feed(
        feed.uploaded_ics, start=start, end=end, zone=BERLIN, feed_id=feed.pk
    )

    assert first == again == afresh
    # Wednesday 2 Dec, Monday 7 Dec, Wednesday 9 Dec, Monday 14 Dec at 10:00 Berlin.
    assert [span[0] for span in first] == [
        berlin(2, 10),
        berlin(7, 10),
        berlin(9, 10),
        berlin(14, 10),
    ]


def test_a_new_copy_is_read_at_once(feed):
    start, end = berlin(1, 0), berlin(8, 0)
    busy.feed_busy_spans(feed=feed, start=start, end=end, zone=BERLIN)

    feed.uploaded_ics = weekly("Stand-up", 14)
    feed.save()

    spans = busy.feed_busy_spans(feed=feed, start=start, end=end, zone=BERLIN)
    assert [span[0] for span in spans] == [berlin(2, 14), berlin(7, 14)]


def test_a_window_longer_than_the_cached_one_is_expanded_directly(feed):
    start = berlin(1, 0)
    end = start + datetime.timedelta(days=120)

    spans = busy.feed_busy_spans(feed=feed, start=start, end=end, zone=BERLIN)

    assert len(spans) == 2 * 17  # Mondays and Wednesdays over about 17 weeks
    assert spans[-1][0] < end
