"""The viewer's time zone as a zone, never as its abbreviation."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.utils import timezone


def current_zone() -> ZoneInfo:
    """The zone this request runs in (the viewer's own, activated by the preferences middleware).

    Use its `key` ("Etc/GMT-14", "Asia/Kathmandu") wherever a zone is named or looked up again:
    `timezone.get_current_timezone_name()` gives an abbreviation ("+14", "-00") that is no zone.
    """
    zone = timezone.get_current_timezone()
    if isinstance(zone, ZoneInfo):
        return zone
    return ZoneInfo(str(zone))  # a zone activated as another tzinfo names itself by its key
