"""The audit trail for the privacy officer, with the chain's status.

Actors that are console users are shown with their work address next to
their id, so the officer sees who saw what.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from console.access import Role, requires
from console.context import console_context
from console.models import ConsoleUser
from console.pages import render
from console.users import user_email
from leads.audit import verify_chain
from leads.models import AuditEvent

PAGE_SIZE = 100


@requires(Role.PRIVACY_OFFICER)
async def audit_page(request: Request) -> Response:
    """Events newest first, filterable; the chain is verified on each view."""
    return await run_in_threadpool(_audit, request)


def _audit(request: Request) -> Response:
    context = console_context(request)
    params = request.query_params
    action = params.get("action", "")[:60]
    actor = params.get("actor", "")[:80]
    target = params.get("target", "")[:64]
    before = params.get("before", "")
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(PAGE_SIZE)
    if action:
        query = query.where(AuditEvent.action.startswith(action, autoescape=True))
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if target:
        query = query.where(AuditEvent.target_id == target)
    if before.isdigit():
        query = query.where(AuditEvent.id < int(before))
    with context.transaction() as session:
        events = list(session.scalars(query))
        report = verify_chain(session)
        staff = {
            f"user:{user.id}": user_email(context.keyring, user)
            for user in session.scalars(select(ConsoleUser))
        }
    values: dict[str, Any] = {
        "events": events,
        "staff": staff,
        "report": report,
        "action": action,
        "actor": actor,
        "target": target,
        "next_before": events[-1].id if len(events) == PAGE_SIZE else None,
    }
    return render(request, "audit.html", values)


routes = [Route("/audit", audit_page, methods=["GET"])]
