"""Per-user limits on what a chat socket may send, counted in the shared cache (Redis in
production) so every server process counts together."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

# Messages per user per window; a person typing fast stays far below it, a loop does not.
DEFAULT_MESSAGES = 20
DEFAULT_WINDOW_SECONDS = 10


def chat_rate_limited(*, user_id: int, action: str) -> bool:
    """Count one `action` of the user; True when it is over the limit of the current window."""
    limit = int(getattr(settings, "CHAT_RATE_LIMIT_MESSAGES", DEFAULT_MESSAGES))
    window = int(getattr(settings, "CHAT_RATE_LIMIT_WINDOW", DEFAULT_WINDOW_SECONDS))
    key = f"chat:rate:{action}:{user_id}"
    # add() starts the window only when no count is running.
    if cache.add(key, 1, timeout=window):
        return False
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between add() and incr()
        cache.add(key, 1, timeout=window)
        return False
    return count > limit
