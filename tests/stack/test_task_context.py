"""Each Celery task runs under its own request id."""

from __future__ import annotations

from celery import Celery

import leads.task_context  # noqa: F401 - connects the signals
from leads.logfilters import NO_REQUEST, request_id


def test_a_task_sees_its_own_request_id_and_it_is_reset_after() -> None:
    app = Celery("task-context-test", set_as_current=False)
    app.conf.task_always_eager = True
    app.conf.broker_url = "memory://"

    @app.task(name="task_context_test.probe")
    def probe() -> str:
        return request_id.get()

    result = probe.apply(task_id="0f8e2a4c-1b2d-4e5f-8a9b-0c1d2e3f4a5b")
    assert result.get() == "task-0f8e2a4c1b2d4e5f"
    assert request_id.get() == NO_REQUEST
