"""A request id for every Celery task, so worker log lines can be grouped.

While a task runs, :data:`leads.logfilters.request_id` holds ``task-`` and
the first 16 characters of the task id (a random UUID, never personal data),
so every line the task logs carries it. Start the worker with
``--include leads.task_context`` (the Procfile and the compose file do);
importing the module connects the signals.
"""

from __future__ import annotations

import contextvars
from typing import Any

from celery import signals

from leads.logfilters import request_id

_tokens: dict[str, contextvars.Token[str]] = {}


def _task_started(task_id: str | None = None, **_kwargs: Any) -> None:
    if task_id:
        _tokens[task_id] = request_id.set(f"task-{task_id.replace('-', '')[:16]}")


def _task_finished(task_id: str | None = None, **_kwargs: Any) -> None:
    token = _tokens.pop(task_id, None) if task_id else None
    if token is not None:
        request_id.reset(token)


signals.task_prerun.connect(_task_started, weak=False)
signals.task_postrun.connect(_task_finished, weak=False)
