"""Durations for tables and countdowns: "45m", "3h 05m", "2d 4h", or with seconds "12m 05s".

The queue's live countdown redraws the same text in the browser every second: `static/js/
portal.js` (`compactDuration`) is this function's copy, and a test runs both on the same values.
"""

from __future__ import annotations

import datetime


def compact_duration(value: datetime.timedelta, *, seconds: bool = False) -> str:
    """The length of `value` (its sign ignored), to the minute, or to the second if asked."""
    total = abs(int(value.total_seconds()))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if seconds else f"{minutes}m"
