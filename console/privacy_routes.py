"""The privacy officer's pages: privacy requests, and running them.

``/console/privacy/requests`` lists the open access and erasure requests
(from the chat, the visitor's self-service pages and the console) and the
latest completed ones. The officer can open a request for a subject who
wrote in by other means (found by email through the blind index), and run
any open request: an erasure runs
:func:`leads.erasure.erase_subject_everywhere` and shows what each store
removed and the verification; an access request downloads the export as
JSON or as the readable HTML page.

Running a request needs a second factor entered in the last five minutes,
as exports do. Every run is in the audit trail (``subject.erased``,
``subject.exported``) with the officer's user id.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from console.access import Role, requires
from console.context import console_context
from console.export import mfa_is_fresh
from console.models import ConsoleUser
from console.pages import render, signed_in_visitor
from console.sessions import mark_mfa_verified
from console.signin import Outcome
from console.signin_views import client_address
from leads.audit import record_audit
from leads.erasure import find_subject_for_erasure
from leads.errors import InvalidInputError, LeadguardError, NotFoundError
from leads.models import PrivacyRequest, utcnow
from leads.privacy_requests import KINDS, open_requests, run_privacy_request
from leads.subject_access import render_subject_html

log = logging.getLogger(__name__)

BASE = "/console/privacy/requests"
RECENT = 50
FORMATS = ("json", "html")

__all__ = ["routes"]


def _text(form: FormData, name: str, limit: int) -> str:
    value = form.get(name, "")
    return value[:limit].strip() if isinstance(value, str) else ""


def _page(request: Request, status_code: int = 200, **extra: Any) -> Response:
    context = console_context(request)
    visitor = signed_in_visitor(request)
    with context.transaction() as session:
        pending = open_requests(session)
        recent = list(
            session.scalars(
                select(PrivacyRequest)
                .where(PrivacyRequest.status.not_in(("received", "verified")))
                .order_by(PrivacyRequest.id.desc())
                .limit(RECENT)
            )
        )
    values = {
        "pending": pending,
        "recent": recent,
        "fresh": mfa_is_fresh(visitor, utcnow()),
        "kinds": KINDS,
        **extra,
    }
    return render(request, "privacy/requests.html", values, status_code)


@requires(Role.PRIVACY_OFFICER)
async def requests_page(request: Request) -> Response:
    """Open and recent privacy requests."""
    return await run_in_threadpool(_page, request)


@requires(Role.PRIVACY_OFFICER)
async def request_open(request: Request) -> Response:
    """Open a request for a subject found by email (blind index only)."""
    form = await request.form()
    return await run_in_threadpool(_open, request, form)


def _open(request: Request, form: FormData) -> Response:
    context = console_context(request)
    visitor = signed_in_visitor(request)
    kind = _text(form, "kind", 20)
    email = _text(form, "email", 320)
    if kind not in KINDS:
        return _page(request, 400, error="Choose access or erasure.")
    with context.transaction() as session:
        try:
            lead_id = find_subject_for_erasure(context.vault, session, email)
        except InvalidInputError:
            return _page(request, 400, error="That is not a valid email address.")
        if lead_id is None:
            return _page(request, 404, error="Nothing is held about that address.")
        row = PrivacyRequest(kind=kind, channel="console", lead_id=lead_id)
        session.add(row)
        session.flush()
        record_audit(
            session,
            actor=visitor.actor,
            action=f"privacy.{kind}.requested",
            target_id=str(lead_id),
        )
    return RedirectResponse(BASE, status_code=303)


def _second_factor_ok(request: Request, form: FormData) -> bool:
    context = console_context(request)
    visitor = signed_in_visitor(request)
    if mfa_is_fresh(visitor, utcnow()):
        return True
    code = _text(form, "code", 16)
    with context.transaction() as session:
        user = session.get(ConsoleUser, visitor.user_id)
        accepted = (
            user is not None
            and code.isdigit()
            and context.checker.check_second_factor(
                session, user, code, client_address(request)
            ).outcome
            is Outcome.OK
        )
        if accepted:
            mark_mfa_verified(session, visitor.session_hash)
    return accepted


@requires(Role.PRIVACY_OFFICER)
async def request_run(request: Request) -> Response:
    """Carry out one request (fresh second factor required)."""
    form = await request.form()
    return await run_in_threadpool(_run, request, form)


def _download(document: dict[str, Any], request_id: int, fmt: str) -> Response:
    if fmt == "html":
        body = render_subject_html(document)
        media, suffix = "text/html; charset=utf-8", "html"
    else:
        body = json.dumps(document, indent=2, ensure_ascii=False)
        media, suffix = "application/json", "json"
    return Response(
        body,
        media_type=media,
        headers={
            "Content-Disposition": (
                f'attachment; filename="subject-access-{request_id}.{suffix}"'
            ),
            "Cache-Control": "no-store",
        },
    )


def _run(request: Request, form: FormData) -> Response:
    context = console_context(request)
    visitor = signed_in_visitor(request)
    request_id = int(request.path_params["request_id"])
    fmt = _text(form, "format", 8) or "json"
    if fmt not in FORMATS:
        fmt = "json"
    if not _second_factor_ok(request, form):
        return _page(
            request, 403, error="Enter a current code from your authenticator app."
        )
    try:
        outcome = run_privacy_request(
            context.vault, request_id, actor=visitor.actor, settings=context.settings
        )
    except NotFoundError:
        return _page(request, 404, error="No such request.")
    except LeadguardError as exc:
        log.info(
            "privacy.request_refused id=%s error=%s", request_id, type(exc).__name__
        )
        return _page(request, 409, error="That request cannot be run.")
    if outcome.document is not None:
        return _download(outcome.document, request_id, fmt)
    values: dict[str, Any] = {"outcome": outcome}
    if outcome.erasure is not None:
        values["removed"] = sorted(
            (k, v) for k, v in outcome.erasure.removed.items() if v
        )
        values["verification"] = outcome.erasure.verification
        values["unreachable"] = outcome.erasure.unreachable
    return render(request, "privacy/result.html", values)


routes = [
    Route(BASE, requests_page, methods=["GET"]),
    Route(BASE, request_open, methods=["POST"]),
    Route(BASE + "/{request_id:int}/run", request_run, methods=["POST"]),
]
