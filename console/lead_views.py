"""Queue and lead pages for salespeople and managers; CSV export."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from console import queue
from console.access import Role, requires
from console.anomaly import Alert, check_for_anomaly, send_alert
from console.context import ConsoleContext, console_context
from console.export import export_csv, mfa_is_fresh
from console.models import ConsoleUser
from console.pages import render, signed_in_visitor
from console.sessions import Visitor, mark_mfa_verified
from console.signin import Outcome
from console.signin_views import client_address
from console.users import user_email
from leads.errors import InvalidInputError, NotFoundError
from leads.models import PERSONAL_FIELDS, Lead, LeadStatus, Tier, utcnow
from leads.personal import Personal

SALES_TEAM = (Role.SALES, Role.MANAGER)
FIELD_LABELS = {
    "name": "Name",
    "email": "Email",
    "phone": "Phone",
    "company": "Company",
    "job_title": "Job title",
    "need": "Need",
}


def _text(form: FormData, name: str, limit: int = 4096) -> str:
    value = form.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


def _not_found(request: Request) -> Response:
    return render(
        request,
        "error.html",
        {"title": "Not found", "message": "No such lead in your queue."},
        status_code=404,
    )


def _refused(request: Request, exc: InvalidInputError, back: str) -> Response:
    return render(
        request,
        "error.html",
        {
            "title": "Not done",
            "message": f"The {exc.field} {exc.reason}.",
            "back": back,
        },
        status_code=409,
    )


def _staff_labels(
    context: ConsoleContext, session: Session, visitor: Visitor
) -> dict[uuid.UUID, str]:
    users = queue.assignable_users(session)
    labels = {}
    for user in users:
        if user.id == visitor.user_id:
            labels[user.id] = "you"
        elif visitor.role is Role.MANAGER:
            labels[user.id] = user_email(context.keyring, user)
        else:
            labels[user.id] = "a colleague"
    return labels


@requires(*SALES_TEAM)
async def queue_page(request: Request) -> Response:
    """The queue of qualified leads and open callback requests."""
    return await run_in_threadpool(_queue, request)


def _queue(request: Request) -> Response:
    context = console_context(request)
    visitor = signed_in_visitor(request)
    filters = queue.QueueFilter.from_query(dict(request.query_params))
    now = utcnow()
    with context.transaction() as session:
        leads = queue.queue_leads(session, visitor, filters)
        callbacks = queue.open_callbacks(session, visitor)
        labels = _staff_labels(context, session, visitor)
    values: dict[str, Any] = {
        "leads": leads,
        "callbacks": callbacks,
        "filters": filters,
        "tiers": [t.value for t in Tier],
        "statuses": [s.value for s in LeadStatus],
        "owners": labels,
        "now": now,
    }
    return render(request, "queue.html", values)


def _lead_values(
    context: ConsoleContext,
    session: Session,
    visitor: Visitor,
    lead: Lead,
    revealed: dict[str, Personal[str] | None] | None = None,
) -> dict[str, Any]:
    may_work = queue.may_work_on(visitor, lead)
    return {
        "lead": lead,
        "fields": [(name, FIELD_LABELS[name]) for name in PERSONAL_FIELDS],
        "revealed": revealed,
        "may_work": may_work,
        "notes": queue.notes_of(session, context.vault, lead) if may_work else [],
        "statuses": [s.value for s in LeadStatus],
        "reasons": queue.REVEAL_REASONS,
        "owners": _staff_labels(context, session, visitor),
        "is_manager": visitor.role is Role.MANAGER,
    }


@requires(*SALES_TEAM)
async def lead_page(request: Request) -> Response:
    """A lead with its personal fields masked."""
    return await run_in_threadpool(_lead, request)


def _lead(request: Request) -> Response:
    context = console_context(request)
    visitor = signed_in_visitor(request)
    lead_id: uuid.UUID = request.path_params["lead_id"]
    with context.transaction() as session:
        try:
            lead = queue.lead_for(session, visitor, lead_id)
        except NotFoundError:
            return _not_found(request)
        values = _lead_values(context, session, visitor, lead)
    return render(request, "lead.html", values)


@requires(*SALES_TEAM)
async def reveal_submit(request: Request) -> Response:
    """Show the lead's personal fields, recording the reveal and its reason."""
    form = await request.form()
    return await run_in_threadpool(_reveal, request, _text(form, "reason", 40))


def _reveal(request: Request, reason: str) -> Response:
    context = console_context(request)
    visitor = signed_in_visitor(request)
    lead_id: uuid.UUID = request.path_params["lead_id"]
    alert: Alert | None = None
    with context.transaction() as session:
        try:
            fields = queue.reveal(session, context.vault, visitor, lead_id, reason)
        except NotFoundError:
            return _not_found(request)
        except InvalidInputError as exc:
            return _refused(request, exc, f"/console/leads/{lead_id}")
        lead = queue.lead_for(session, visitor, lead_id)
        values = _lead_values(context, session, visitor, lead, fields)
        alert = check_for_anomaly(
            session, context.keyring, context.settings, visitor.user_id
        )
    if alert is not None:
        send_alert(alert, context.settings)
    return render(request, "lead.html", values)


def _lead_action(request: Request, action: str, form: FormData) -> Response:
    context = console_context(request)
    visitor = signed_in_visitor(request)
    lead_id: uuid.UUID = request.path_params["lead_id"]
    back = f"/console/leads/{lead_id}"
    with context.transaction() as session:
        try:
            if action == "claim":
                queue.claim(session, visitor, lead_id)
            elif action == "status":
                queue.set_status(session, visitor, lead_id, _text(form, "status", 20))
            elif action == "note":
                queue.add_note(
                    session, context.vault, visitor, lead_id, _text(form, "note")
                )
            elif action == "assign":
                owner = _text(form, "owner_id", 40)
                queue.assign(
                    session, visitor, lead_id, uuid.UUID(owner) if owner else None
                )
        except NotFoundError:
            return _not_found(request)
        except InvalidInputError as exc:
            return _refused(request, exc, back)
        except ValueError:
            return _refused(request, InvalidInputError("owner", "is unknown"), back)
    return RedirectResponse(back, status_code=303)


@requires(*SALES_TEAM)
async def claim_submit(request: Request) -> Response:
    """Claim an unassigned lead."""
    form = await request.form()
    return await run_in_threadpool(_lead_action, request, "claim", form)


@requires(*SALES_TEAM)
async def status_submit(request: Request) -> Response:
    """Change a lead's status (stops follow-ups where the status ends them)."""
    form = await request.form()
    return await run_in_threadpool(_lead_action, request, "status", form)


@requires(*SALES_TEAM)
async def note_submit(request: Request) -> Response:
    """Add an encrypted note to a lead."""
    form = await request.form()
    return await run_in_threadpool(_lead_action, request, "note", form)


@requires(Role.MANAGER)
async def assign_submit(request: Request) -> Response:
    """Give a lead to a member of the team (or back to the pool)."""
    form = await request.form()
    return await run_in_threadpool(_lead_action, request, "assign", form)


@requires(*SALES_TEAM)
async def callback_done_submit(request: Request) -> Response:
    """Mark a "talk to a human" request handled."""
    return await run_in_threadpool(_callback_done, request)


def _callback_done(request: Request) -> Response:
    context = console_context(request)
    visitor = signed_in_visitor(request)
    with context.transaction() as session:
        try:
            queue.close_callback(session, visitor, request.path_params["callback_id"])
        except NotFoundError:
            return _not_found(request)
    return RedirectResponse("/console/queue", status_code=303)


@requires(Role.MANAGER)
async def export_page(request: Request) -> Response:
    """The export form: filters and, when needed, a fresh TOTP code."""
    visitor = signed_in_visitor(request)
    values = {
        "fresh": mfa_is_fresh(visitor, utcnow()),
        "tiers": [t.value for t in Tier],
        "statuses": [s.value for s in LeadStatus],
    }
    return render(request, "export.html", values)


@requires(Role.MANAGER)
async def export_submit(request: Request) -> Response:
    """Download the CSV of the filtered leads (fresh MFA required)."""
    form = await request.form()
    return await run_in_threadpool(_export, request, form)


def _export(request: Request, form: FormData) -> Response:
    context = console_context(request)
    visitor = signed_in_visitor(request)
    params = {key: _text(form, key, 40) for key in ("tier", "min_score", "status")}
    params["max_age_days"] = _text(form, "max_age_days", 10)
    filters = queue.QueueFilter.from_query(params)
    alert: Alert | None = None
    with context.transaction() as session:
        if not mfa_is_fresh(visitor, utcnow()):
            user = session.get(ConsoleUser, visitor.user_id)
            code = _text(form, "code", 16).strip()
            accepted = (
                user is not None
                and code.isdigit()
                and context.checker.check_second_factor(
                    session, user, code, client_address(request)
                ).outcome
                is Outcome.OK
            )
            if not accepted:
                values = {
                    "fresh": False,
                    "error": "Enter a current code from your authenticator app.",
                    "tiers": [t.value for t in Tier],
                    "statuses": [s.value for s in LeadStatus],
                }
                return render(request, "export.html", values, 403)
            mark_mfa_verified(session, visitor.session_hash)
        leads = queue.queue_leads(session, visitor, filters, limit=100_000)
        body = export_csv(session, context.vault, visitor, leads)
        alert = check_for_anomaly(
            session, context.keyring, context.settings, visitor.user_id
        )
    if alert is not None:
        send_alert(alert, context.settings)
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="leads-{stamp}.csv"'},
    )


routes = [
    Route("/queue", queue_page, methods=["GET"]),
    Route("/leads/{lead_id:uuid}", lead_page, methods=["GET"]),
    Route("/leads/{lead_id:uuid}/reveal", reveal_submit, methods=["POST"]),
    Route("/leads/{lead_id:uuid}/claim", claim_submit, methods=["POST"]),
    Route("/leads/{lead_id:uuid}/status", status_submit, methods=["POST"]),
    Route("/leads/{lead_id:uuid}/notes", note_submit, methods=["POST"]),
    Route("/leads/{lead_id:uuid}/assign", assign_submit, methods=["POST"]),
    Route("/callbacks/{callback_id:int}/done", callback_done_submit, methods=["POST"]),
    Route("/export", export_page, methods=["GET"]),
    Route("/export", export_submit, methods=["POST"]),
]
