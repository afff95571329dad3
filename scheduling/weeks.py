"""The Monday-to-Sunday week both week views (free slots, the agent's calendar) page through."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

UTC = datetime.UTC
DAYS_IN_WEEK = 7


@dataclass(frozen=True)
class Week:
    """A local week in a zone: its dates, and its bounds as UTC instants (local midnights, so a
    week with a clock change is 167 or 169 hours long)."""

    monday: datetime.date
    zone: ZoneInfo

    @classmethod
    def containing(cls, day: datetime.date, zone: ZoneInfo) -> Week:
        return cls(day - datetime.timedelta(days=day.weekday()), zone)

    @classmethod
    def from_param(cls, value: str | None, *, zone: ZoneInfo, today: datetime.date) -> Week | None:
        """The week holding the ISO date `value` (`?week=2026-12-07`), today's week without one,
        or None for a value that is not a date (so the page can say so)."""
        if not value or not value.strip():
            return cls.containing(today, zone)
        try:
            return cls.containing(datetime.date.fromisoformat(value.strip()), zone)
        except ValueError:
            return None

    @property
    def pageable(self) -> bool:
        """Whether this week and the ones either side have bounds (not so near year 1 or 9999
        that a midnight cannot be written), so a page can show it with its links."""
        try:
            self.previous.start  # noqa: B018
            self.next.end  # noqa: B018
        except (ValueError, OverflowError):
            return False
        return True

    @property
    def days(self) -> list[datetime.date]:
        return [self.monday + datetime.timedelta(days=offset) for offset in range(DAYS_IN_WEEK)]

    @property
    def start(self) -> datetime.datetime:
        return _midnight(self.monday, self.zone)

    @property
    def end(self) -> datetime.datetime:
        return _midnight(self.monday + datetime.timedelta(days=DAYS_IN_WEEK), self.zone)

    @property
    def previous(self) -> Week:
        return Week(self.monday - datetime.timedelta(days=DAYS_IN_WEEK), self.zone)

    @property
    def next(self) -> Week:
        return Week(self.monday + datetime.timedelta(days=DAYS_IN_WEEK), self.zone)

    @property
    def param(self) -> str:
        return self.monday.isoformat()

    def day_of(self, moment: datetime.datetime) -> datetime.date:
        return moment.astimezone(self.zone).date()


def _midnight(day: datetime.date, zone: ZoneInfo) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(0), zone).astimezone(UTC)
