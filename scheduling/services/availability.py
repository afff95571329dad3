"""Agents' availability: their schedules, time off and external busy-time calendars.

Each time-off and busy-feed write takes the acting agent; a row of another agent's schedule raises
its DoesNotExist, so a view turns someone else's id into a 404.
"""

from __future__ import annotations

import datetime
from functools import partial

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from desk.selectors import desk_weekly_hours, desk_zone
from scheduling import tasks
from scheduling.busy import validate_calendar_text
from scheduling.models import AgentSchedule, BusyFeed, TimeOff, WeeklyHours
from scheduling.services import feeds

MAX_BUSY_FEEDS = 10
MAX_BUSY_FEED_UPLOAD_BYTES = feeds.MAX_FEED_BYTES


# ---------------------------------------------------------------------------- schedules


@transaction.atomic
def agent_schedule_get_or_create(*, agent: User) -> AgentSchedule:
    """The agent's schedule; a new one gets the support desk's zone and hours."""
    schedule = AgentSchedule.objects.filter(agent=agent).first()
    if schedule is not None:
        return schedule
    schedule = AgentSchedule(agent=agent, time_zone=desk_zone().key)
    schedule.full_clean()
    try:
        with transaction.atomic():
            schedule.save()
    except IntegrityError:  # created at the same moment by another request
        return AgentSchedule.objects.get(agent=agent)
    schedule_set_default_hours(schedule=schedule)
    return schedule


@transaction.atomic
def schedule_set_default_hours(*, schedule: AgentSchedule) -> list[WeeklyHours]:
    """Replace the schedule's weekly hours with the support desk's."""
    schedule.weekly_hours.all().delete()
    rows = [
        WeeklyHours(schedule=schedule, weekday=day, opens=opens, closes=closes)
        for day, hours in desk_weekly_hours().items()
        for opens, closes in hours
    ]
    for row in rows:
        row.full_clean()
    return WeeklyHours.objects.bulk_create(rows)


# ---------------------------------------------------------------------------- time off


@transaction.atomic
def time_off_add(
    *,
    agent: User,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    reason: str = "",
    now: datetime.datetime | None = None,
) -> TimeOff:
    """Block a period for calls; it must end after it starts and not be over already."""
    now = now or timezone.now()
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise ValueError("starts_at and ends_at must be timezone-aware")
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("Time off must end after it starts.")})
    if ends_at <= now:
        raise ValidationError({"ends_at": _("This time is already over; pick a future end.")})
    row = TimeOff(
        schedule=agent_schedule_get_or_create(agent=agent),
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason.strip(),
    )
    row.full_clean()
    row.save()
    return row


@transaction.atomic
def time_off_delete(*, agent: User, time_off_id: int) -> None:
    deleted, _by_model = TimeOff.objects.filter(pk=time_off_id, schedule__agent=agent).delete()
    if not deleted:
        raise TimeOff.DoesNotExist(f"time off {time_off_id} of agent {agent.pk}")


# ---------------------------------------------------------------------------- busy feeds


@transaction.atomic
def busy_feed_add_url(
    *, agent: User, url: str, name: str = "", now: datetime.datetime | None = None
) -> BusyFeed:
    """Add a feed address (http, https or webcal); once committed, a task fetches it."""
    now = now or timezone.now()
    url = url.strip()
    if not url:
        raise ValidationError({"url": _("Give the calendar's address.")})
    schedule = _schedule_with_room_for_a_feed(agent)
    if schedule.busy_feeds.filter(url=url).exists():
        raise ValidationError({"url": _("You have already added this address.")})
    feed = BusyFeed(schedule=schedule, name=name.strip(), url=url, created_at=now)
    feed.full_clean()
    feed.save()
    # Fetched by a worker, not in the agent's request: a slow server may take the whole deadline.
    # Should the broker be down, the Beat refresh reads it within 15 minutes.
    transaction.on_commit(partial(tasks.refresh_busy_feed.delay, feed.pk), robust=True)
    return feed


@transaction.atomic
def busy_feed_add_upload(
    *, agent: User, ics_text: str, name: str = "", now: datetime.datetime | None = None
) -> BusyFeed:
    """Add busy times from an uploaded iCalendar file (read as it is; never refreshed)."""
    now = now or timezone.now()
    if len(ics_text.encode()) > MAX_BUSY_FEED_UPLOAD_BYTES:
        raise ValidationError(
            {
                "uploaded_ics": _("The file is larger than %(size)s.")
                % {"size": filesizeformat(MAX_BUSY_FEED_UPLOAD_BYTES)}
            }
        )
    try:
        validate_calendar_text(ics_text)
    except ValidationError as error:
        raise ValidationError({"uploaded_ics": error.messages}) from error
    feed = BusyFeed(
        schedule=_schedule_with_room_for_a_feed(agent),
        name=name.strip(),
        uploaded_ics=ics_text,
        created_at=now,
    )
    feed.full_clean()
    feed.save()
    return feed


@transaction.atomic
def busy_feed_delete(*, agent: User, feed_id: int) -> None:
    deleted, _by_model = BusyFeed.objects.filter(pk=feed_id, schedule__agent=agent).delete()
    if not deleted:
        raise BusyFeed.DoesNotExist(f"busy feed {feed_id} of agent {agent.pk}")


def _schedule_with_room_for_a_feed(agent: User) -> AgentSchedule:
    """The agent's schedule, locked so two adds at once cannot pass the limit together."""
    schedule = agent_schedule_get_or_create(agent=agent)
    schedule = AgentSchedule.objects.select_for_update().get(pk=schedule.pk)
    if schedule.busy_feeds.count() >= MAX_BUSY_FEEDS:
        raise ValidationError(
            _("You can have at most %(count)d busy-time calendars; delete one first.")
            % {"count": MAX_BUSY_FEEDS}
        )
    return schedule
