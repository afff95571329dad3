"""What the user must see exactly once (a new API token, a webhook's new signing secret), on the
page a form's POST redirects to: reloading that page re-sends nothing and makes nothing new.

The note waits in the session between the POST and the GET that takes it. An API token is kept
nowhere else (only its hash is stored), so its note carries it; a webhook's secret is in its
row, so its note is only the permission to show it.
"""

from __future__ import annotations

from django.http import HttpRequest

_PREFIX = "shown-once:"


def show_once_keep(request: HttpRequest, *, key: str, value: str = "") -> None:
    request.session[_PREFIX + key] = value


def show_once_take(request: HttpRequest, *, key: str) -> str | None:
    """The kept value (or "" for a bare permission) the first time; None afterwards."""
    value = request.session.pop(_PREFIX + key, None)
    return value if isinstance(value, str) else None
