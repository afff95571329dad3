"""Print the first night of an EU daylight-saving change at least three years from today, as
the ISO 8601 instant half an hour before the clocks move (01:00 UTC), for `TEST_CLOCK`."""

import datetime

YEARS_AHEAD = 3


def last_sunday(year: int, month: int) -> datetime.date:
    day = datetime.date(year, month + 1, 1) - datetime.timedelta(days=1)
    return day - datetime.timedelta(days=(day.weekday() - 6) % 7)


def dst_night(today: datetime.date) -> datetime.datetime:
    earliest = today.replace(year=today.year + YEARS_AHEAD, day=min(today.day, 28))
    changes = sorted(
        last_sunday(year, month) for year in (earliest.year, earliest.year + 1) for month in (3, 10)
    )
    night = next(day for day in changes if day >= earliest)
    return datetime.datetime.combine(night, datetime.time(0, 30), datetime.UTC)


if __name__ == "__main__":
    print(dst_night(datetime.datetime.now(datetime.UTC).date()).isoformat().replace("+00:00", "Z"))
