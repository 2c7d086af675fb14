"""User management for admins: create, roles, disable, sessions, unlock.

Admins see staff accounts, never lead contents. An admin cannot disable
or demote their own account, so the console always keeps an admin.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from console import users
from console.access import Role, requires
from console.context import console_context
from console.models import ConsoleUser
from console.pages import render, signed_in_visitor
from console.sessions import Visitor
from leads.audit import record_audit
from leads.errors import InvalidInputError
from leads.models import utcnow


def _text(form: FormData, name: str, limit: int = 320) -> str:
    value = form.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


def _user_rows(request: Request) -> list[dict[str, Any]]:
    context = console_context(request)
    now = utcnow()
    with context.transaction() as session:
        accounts = session.scalars(select(ConsoleUser).order_by(ConsoleUser.created_at))
        return [
            {
                "id": user.id,
                "email": users.user_email(context.keyring, user),
                "role": user.role,
                "disabled": user.disabled,
                "locked": bool(user.locked_until and user.locked_until > now),
                "enrolled": user.totp_confirmed,
                "last_sign_in_at": user.last_sign_in_at,
            }
            for user in accounts
        ]


@requires(Role.ADMIN)
async def users_page(request: Request) -> Response:
    """List console users."""
    rows = await run_in_threadpool(_user_rows, request)
    return render(request, "users.html", {"users": rows, "roles": list(Role)})


@requires(Role.ADMIN)
async def create_user_submit(request: Request) -> Response:
    """Create a user and show their one-time setup link."""
    form = await request.form()
    return await run_in_threadpool(
        _create, request, _text(form, "email"), _text(form, "role", 20)
    )


def _create(request: Request, email: str, role_name: str) -> Response:
    context = console_context(request)
    visitor = signed_in_visitor(request)
    try:
        with context.transaction() as session:
            role = users.parse_role(role_name)
            _, link = users.create_user(
                session,
                context.keyring,
                context.settings,
                email=email,
                role=role,
                actor=visitor.actor,
            )
    except InvalidInputError as exc:
        rows = _user_rows(request)
        values = {"users": rows, "roles": list(Role), "error": f"The {exc}."}
        return render(request, "users.html", values, 400)
    return render(request, "setup_link.html", {"link": link})


AdminAction = Callable[[Session, ConsoleUser, Visitor, FormData], str | None]


def _change_role(
    session: Session, user: ConsoleUser, visitor: Visitor, form: FormData
) -> str | None:
    if user.id == visitor.user_id:
        return "You cannot change your own role."
    users.set_role(
        session, user, users.parse_role(_text(form, "role", 20)), actor=visitor.actor
    )
    return None


def _disable(
    session: Session, user: ConsoleUser, visitor: Visitor, form: FormData
) -> str | None:
    if user.id == visitor.user_id:
        return "You cannot disable your own account."
    users.set_disabled(session, user, True, actor=visitor.actor)
    return None


def _enable(
    session: Session, user: ConsoleUser, visitor: Visitor, form: FormData
) -> str | None:
    users.set_disabled(session, user, False, actor=visitor.actor)
    return None


def _unlock(
    session: Session, user: ConsoleUser, visitor: Visitor, form: FormData
) -> str | None:
    users.unlock(session, user, actor=visitor.actor)
    return None


def _end_sessions(
    session: Session, user: ConsoleUser, visitor: Visitor, form: FormData
) -> str | None:
    users.end_sessions_of(session, user, actor=visitor.actor)
    return None


ACTIONS: dict[str, AdminAction] = {
    "role": _change_role,
    "disable": _disable,
    "enable": _enable,
    "unlock": _unlock,
    "end-sessions": _end_sessions,
}


def _run_action(request: Request, name: str, form: FormData) -> Response:
    context = console_context(request)
    visitor = signed_in_visitor(request)
    user_id: uuid.UUID = request.path_params["user_id"]
    with context.transaction() as session:
        user = session.get(ConsoleUser, user_id)
        if user is None:
            return render(
                request,
                "error.html",
                {"title": "Not found", "message": "No such user."},
                status_code=404,
            )
        try:
            problem = ACTIONS[name](session, user, visitor, form)
        except InvalidInputError as exc:
            problem = f"The {exc}."
        if problem is not None:  # the actions check before changing anything
            values = {"title": "Not done", "message": problem, "back": "/console/users"}
            return render(request, "error.html", values, status_code=409)
    return RedirectResponse("/console/users", status_code=303)


def _action_endpoint(name: str, doc: str) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        form = await request.form()
        return await run_in_threadpool(_run_action, request, name, form)

    endpoint.__doc__ = doc
    endpoint.__name__ = f"user_{name.replace('-', '_')}_submit"
    return requires(Role.ADMIN)(endpoint)


@requires(Role.ADMIN)
async def setup_link_submit(request: Request) -> Response:
    """Give a user a new setup link (lost phone or password)."""
    return await run_in_threadpool(_new_link, request)


def _new_link(request: Request) -> Response:
    context = console_context(request)
    visitor = signed_in_visitor(request)
    with context.transaction() as session:
        user = session.get(ConsoleUser, request.path_params["user_id"])
        if user is None or user.id == visitor.user_id:
            values = {"title": "Not done", "message": "Not for this account."}
            return render(request, "error.html", values, status_code=409)
        link = users.issue_setup_link(session, context.keyring, context.settings, user)
        record_audit(
            session, actor=visitor.actor, action="user.reset", target_id=str(user.id)
        )
    return render(request, "setup_link.html", {"link": link})


routes = [
    Route("/users", users_page, methods=["GET"]),
    Route("/users", create_user_submit, methods=["POST"]),
    Route("/users/{user_id:uuid}/setup-link", setup_link_submit, methods=["POST"]),
    *[
        Route(
            f"/users/{{user_id:uuid}}/{name}",
            _action_endpoint(name, f"Admin action: {name}."),
            methods=["POST"],
        )
        for name in ACTIONS
    ],
]
