"""Per-user limits on what a chat socket may send, counted in the shared cache (Redis in
production) so every server process counts together."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

# Messages per user per window; a person typing fast stays far below it, a loop does not.
DEFAULT_MESSAGES = 20
DEFAULT_WINDOW_SECONDS = 10


def chat_rate_limited(*, user_id: int, action: str) -> bool:
    """Count one `action` of the user; True when it is over the limit of the current window."""
    limit = int(getattr(settings, "CHAT_RATE_LIMIT_MESSAGES", DEFAULT_MESSAGES))
    window = int(getattr(settings, "CHAT_RATE_LIMIT_WINDOW", DEFAULT_WINDOW_SECONDS))
    key = f"chat:rate:{action}:{user_id}"
    redis = _redis_client(key)
    if redis is not None:
        # One round trip: count, and start the window's clock only at its first count.
        full_key = cache.make_and_validate_key(key)
        pipeline = redis.pipeline(transaction=False)
        pipeline.incr(full_key)
        pipeline.expire(full_key, window, nx=True)
        count, _started = pipeline.execute()
        return int(count) > limit
    # Other caches (the local-memory one of `make run`): add() starts the window.
    if cache.add(key, 1, timeout=window):
        return False
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between add() and incr()
        cache.add(key, 1, timeout=window)
        return False
    return int(count) > limit


def _redis_client(key: str) -> Any:
    """The redis-py client behind Django's Redis cache, or None for another cache."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    return backend._cache.get_client(key, write=True)
