"""Django's Redis cache, with Redis out of reach read as an empty cache that keeps nothing.

Everything the portal caches can be computed again or is a limit that may lapse for a while (the
desk's definitions, busy times, the read replica's after-write marks, throttles), so a Redis
restart must not fail the pages in the meantime: a read misses, a write is skipped, and one
warning a minute says so. Only connection failures are forgiven; any other error still raises.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

WARN_EVERY_SECONDS = 60.0
_warned_at = [-WARN_EVERY_SECONDS]

F = TypeVar("F", bound=Callable[..., Any])


def _unreachable_means(fallback: Callable[..., Any]) -> Callable[[F], F]:
    """Answer `fallback(*args, **kwargs)` when Redis cannot be reached."""

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def wrapper(self: RedisCache, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except (RedisConnectionError, RedisTimeoutError):
                now = time.monotonic()
                if now - _warned_at[0] >= WARN_EVERY_SECONDS:
                    _warned_at[0] = now
                    logger.warning("Redis is out of reach: the cache reads as empty for now")
                return fallback(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def _miss(key: Any, default: Any = None, *args: Any, **kwargs: Any) -> Any:
    return default


def _nothing(*args: Any, **kwargs: Any) -> Any:
    return None


def _false(*args: Any, **kwargs: Any) -> bool:
    return False


def _empty(*args: Any, **kwargs: Any) -> dict[str, Any]:
    return {}


def _none_stored(data: dict[str, Any], *args: Any, **kwargs: Any) -> list[str]:
    return list(data)


def _counted_once(key: Any, delta: int = 1, *args: Any, **kwargs: Any) -> int:
    # As if the key had just been created at `delta`: a limit counts afresh once Redis is back.
    return delta


class ResilientRedisCache(RedisCache):
    get = _unreachable_means(_miss)(RedisCache.get)
    get_many = _unreachable_means(_empty)(RedisCache.get_many)
    has_key = _unreachable_means(_false)(RedisCache.has_key)
    set = _unreachable_means(_nothing)(RedisCache.set)
    set_many = _unreachable_means(_none_stored)(RedisCache.set_many)
    add = _unreachable_means(_false)(RedisCache.add)
    touch = _unreachable_means(_false)(RedisCache.touch)
    delete = _unreachable_means(_false)(RedisCache.delete)
    delete_many = _unreachable_means(_nothing)(RedisCache.delete_many)
    incr = _unreachable_means(_counted_once)(RedisCache.incr)
