"""Every scheduling test (but the browser journeys, which run on the real clock) happens at
`factories.NOW`, Monday 2026-11-30 08:00 Berlin: services stamp their rows with it, so what the
tests pass as `now=` and what the code reads from the clock always agree, whatever the date."""

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from scheduling.tests.factories import NOW


@pytest.fixture(autouse=True)
def _scheduling_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("browser") is not None:
        yield
        return
    # Ticking, so code that waits (threads, a test HTTP server's timeouts) still sees time pass.
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def eager_tasks(settings: Any) -> None:
    """Run Celery tasks in the caller (for pages: the server's thread) when they are enqueued."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_TASK_EAGER_PROPAGATES = True
