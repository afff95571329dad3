"""Celery's processes log like the web's, and a task logs under the request id that sent it.

The publishing side (`before_task_publish`, in whichever process enqueues) copies the current
request id into the message's headers; the worker (`task_prerun`) runs the task under it and
`task_postrun` puts back what was there before. A task sent outside any request (Beat's, say)
gets a fresh id for each run. README "Logs".
"""

from __future__ import annotations

import logging.config
from typing import Any

from celery.signals import before_task_publish, setup_logging, task_postrun, task_prerun

from vipsupport.logs import (
    current_request_id,
    enter_request_context,
    new_request_id,
    sane_request_id,
)

# The message header that carries the id; Celery exposes unknown headers to the task.
HEADER = "request_id"
# Where the worker keeps the way back out of a task's context, on the task's request.
_LEAVE = "_log_context_leave"


@setup_logging.connect
def use_django_logging(**kwargs: Any) -> None:
    """Workers and Beat use the settings' LOGGING instead of Celery's own root handler.

    Any receiver of this signal stops Celery from configuring logging itself; without it a
    worker's lines had neither the JSON format nor the ids.
    """
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@before_task_publish.connect
def send_request_id(*, headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    request_id = current_request_id()
    if request_id and headers is not None and HEADER not in headers:
        headers[HEADER] = request_id


@task_prerun.connect
def enter_task(*, task: Any = None, **kwargs: Any) -> None:
    if task is None:
        return
    sent: Any = (task.request.headers or {}).get(HEADER)
    # An eager task runs inside its caller: it keeps the caller's id rather than a new one.
    request_id = (
        (sane_request_id(sent) if isinstance(sent, str) else "")
        or current_request_id()
        or new_request_id()
    )
    setattr(task.request, _LEAVE, enter_request_context(request_id))


@task_postrun.connect
def leave_task(*, task: Any = None, **kwargs: Any) -> None:
    leave = getattr(getattr(task, "request", None), _LEAVE, None)
    if leave is not None:
        leave()
