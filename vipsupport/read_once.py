"""Reads that a batch makes once: settings kept in rows or the cache (the desk's calendars, the
webhook endpoints) that a batch (of e-mail, say), which is one transaction anyway, would
otherwise read again for every item.

Inside `with read_once():` a read wrapped in `kept(key, read)` runs the first time its key is
asked and is then kept until the block ends; outside any block `kept` just reads.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Hashable, Iterator
from typing import TypeVar, cast

T = TypeVar("T")

_kept: contextvars.ContextVar[dict[Hashable, object] | None] = contextvars.ContextVar(
    "read_once", default=None
)


@contextlib.contextmanager
def read_once() -> Iterator[None]:
    """Keep what `kept` reads until the block ends (a block inside another shares its reads)."""
    if _kept.get() is not None:
        yield
        return
    token = _kept.set({})
    try:
        yield
    finally:
        _kept.reset(token)


def kept(key: Hashable, read: Callable[[], T]) -> T:
    """`read()`, once per key inside a `read_once` block; every time outside one."""
    store = _kept.get()
    if store is None:
        return read()
    if key not in store:
        store[key] = read()
    return cast(T, store[key])
