"""Sign-in pages: password, TOTP, setup link with enrollment, sign-out.

Each step that raises the session's trust issues a new session id and
deletes the previous one (no session fixation).
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from console.access import Role, requires, sign_in_step
from console.context import ConsoleContext, console_context
from console.cookies import clear_session_cookie, set_session_cookie
from console.models import ConsoleUser
from console.pages import current_visitor, render, signed_in_visitor
from console.sealing import seal_user_field
from console.sessions import (
    STAGE_ENROLL,
    STAGE_FULL,
    STAGE_PASSWORD,
    Visitor,
    end_session,
    purge_expired_sessions,
    start_session,
)
from console.signin import Outcome
from console.totp import new_totp_secret, provisioning_uri, qr_svg_data_uri
from console.users import (
    complete_setup_password,
    confirm_totp_enrollment,
    remaining_recovery_codes,
    totp_secret,
    user_by_setup_token,
    user_email,
)
from leads.errors import InvalidInputError

HOME_BY_ROLE = {
    Role.SALES: "/console/queue",
    Role.MANAGER: "/console/queue",
    Role.PRIVACY_OFFICER: "/console/audit",
    Role.ADMIN: "/console/users",
}
REFUSAL_STATUS = {
    Outcome.WRONG: 400,
    Outcome.BACKOFF: 429,
    Outcome.ADDRESS_BLOCKED: 429,
    Outcome.LOCKED: 423,
}


def client_address(request: Request) -> str:
    """The client's address (run uvicorn with --proxy-headers behind a proxy)."""
    return request.client.host if request.client else "unknown"


def _text(form: FormData, name: str, limit: int = 2048) -> str:
    value = form.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


def safe_next(value: str) -> str | None:
    """Return ``value`` if it is a console page to go to after sign-in.

    Only paths under ``/console/`` on this site are accepted, never another
    host (``//evil.example``) or a step of the sign-in itself.
    """
    if not value or len(value) > 200 or not value.startswith("/console/"):
        return None
    if "//" in value or "\\" in value or any(ord(ch) < 32 for ch in value):
        return None
    if value.startswith(("/console/login", "/console/mfa", "/console/setup")):
        return None
    return value


def _redirect_with_session(
    context: ConsoleContext, target: str, token: str
) -> Response:
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, context.settings, token)
    return response


@sign_in_step("the sign-in form")
async def login_page(request: Request) -> Response:
    """Show the sign-in form."""
    target = safe_next(request.query_params.get("next", ""))
    return render(request, "login.html", {"next": target})


@sign_in_step("the sign-in form")
async def login_submit(request: Request) -> Response:
    """Check address and password, then ask for the second factor."""
    form = await request.form()
    email, password = _text(form, "email", 320), _text(form, "password", 4096)
    target = safe_next(_text(form, "next", 200))
    return await run_in_threadpool(_password_step, request, email, password, target)


def _password_step(
    request: Request, email: str, password: str, target: str | None
) -> Response:
    context = console_context(request)
    visitor = current_visitor(request)
    with context.transaction() as session:
        attempt = context.checker.check_password(
            session, email, password, client_address(request)
        )
        if attempt.user is None or attempt.outcome is not Outcome.OK:
            status = REFUSAL_STATUS.get(attempt.outcome, 400)
            values = {"error": attempt.message, "next": target}
            return render(request, "login.html", values, status)
        user = attempt.user
        if user.totp_sealed is None:
            secret = new_totp_secret()
            user.totp_sealed = seal_user_field(context.keyring, "totp", user.id, secret)
        stage = STAGE_PASSWORD if user.totp_confirmed else STAGE_ENROLL
        token = start_session(
            session,
            context.keyring,
            user,
            stage,
            replaces=visitor.session_hash if visitor else None,
        )
        purge_expired_sessions(session, context.settings)
    if stage == STAGE_ENROLL:
        return _redirect_with_session(context, "/console/enroll", token)
    query = f"?next={quote(target, safe='/')}" if target else ""
    return _redirect_with_session(context, f"/console/mfa{query}", token)


def _visitor_at(request: Request, stage: str) -> Visitor | None:
    """The visitor half-way through sign-in at ``stage``, or None."""
    visitor = current_visitor(request)
    if visitor is None or visitor.stage != stage:
        return None
    return visitor


def _back_to_sign_in() -> Response:
    """Send a visitor who is not at the expected step back to the start."""
    return RedirectResponse("/console/login", status_code=303)


@sign_in_step("second step of the sign-in")
async def mfa_page(request: Request) -> Response:
    """Ask for the TOTP code (or a recovery code)."""
    visitor = _visitor_at(request, STAGE_PASSWORD)
    if visitor is None:
        return _back_to_sign_in()
    target = safe_next(request.query_params.get("next", ""))
    return render(request, "mfa.html", {"next": target})


@sign_in_step("second step of the sign-in")
async def mfa_submit(request: Request) -> Response:
    """Check the second factor and complete the sign-in."""
    form = await request.form()
    code, target = _text(form, "code", 64), safe_next(_text(form, "next", 200))
    return await run_in_threadpool(_mfa_step, request, code, target)


def _mfa_step(request: Request, code: str, target: str | None) -> Response:
    context = console_context(request)
    visitor = _visitor_at(request, STAGE_PASSWORD)
    if visitor is None:
        return _back_to_sign_in()
    with context.transaction() as session:
        user = session.get(ConsoleUser, visitor.user_id)
        if user is None:
            return _back_to_sign_in()
        attempt = context.checker.check_second_factor(
            session, user, code, client_address(request)
        )
        if attempt.outcome is not Outcome.OK:
            message = (
                "That code is not valid (or was already used). Enter the current "
                "code from your authenticator app."
                if attempt.outcome is Outcome.WRONG
                else attempt.message
            )
            status = REFUSAL_STATUS.get(attempt.outcome, 400)
            values = {"error": message, "next": target}
            return render(request, "mfa.html", values, status)
        context.checker.succeeded(session, user)
        token = start_session(
            session, context.keyring, user, STAGE_FULL, replaces=visitor.session_hash
        )
        home = HOME_BY_ROLE[Role(user.role)]
    return _redirect_with_session(context, target or home, token)


@sign_in_step("one-time setup link sent to a new user")
async def setup_page(request: Request) -> Response:
    """Show the choose-a-password form of a setup link."""
    return await run_in_threadpool(_setup_form, request)


def _setup_form(request: Request) -> Response:
    context = console_context(request)
    with context.transaction() as session:
        user = user_by_setup_token(
            session, context.keyring, str(request.path_params["token"])
        )
        if user is None:
            return _expired_link(request)
        email = user_email(context.keyring, user)
    return render(request, "setup.html", {"email": email})


def _expired_link(request: Request) -> Response:
    return render(
        request,
        "error.html",
        {
            "title": "Link not valid",
            "message": "This setup link has expired or was already used. "
            "Ask an admin for a new one.",
        },
        status_code=404,
    )


@sign_in_step("one-time setup link sent to a new user")
async def setup_submit(request: Request) -> Response:
    """Set the password, then continue with TOTP enrollment."""
    form = await request.form()
    password = _text(form, "password", 4096)
    confirm = _text(form, "confirm", 4096)
    return await run_in_threadpool(_setup_step, request, password, confirm)


def _setup_step(request: Request, password: str, confirm: str) -> Response:
    context = console_context(request)
    visitor = current_visitor(request)
    with context.transaction() as session:
        user = user_by_setup_token(
            session, context.keyring, str(request.path_params["token"])
        )
        if user is None:
            return _expired_link(request)
        email = user_email(context.keyring, user)
        if password != confirm:
            error = "The two passwords differ."
            return render(request, "setup.html", {"email": email, "error": error}, 400)
        try:
            complete_setup_password(session, context.keyring, user, password)
        except InvalidInputError as exc:
            error = f"The password {exc.reason}."
            return render(request, "setup.html", {"email": email, "error": error}, 400)
        token = start_session(
            session,
            context.keyring,
            user,
            STAGE_ENROLL,
            replaces=visitor.session_hash if visitor else None,
        )
    return _redirect_with_session(context, "/console/enroll", token)


@sign_in_step("TOTP enrollment after the password is set")
async def enroll_page(request: Request) -> Response:
    """Show the QR code of the user's new TOTP secret."""
    return await run_in_threadpool(_enroll_form, request, None)


def _enroll_form(request: Request, error: str | None) -> Response:
    context = console_context(request)
    visitor = _visitor_at(request, STAGE_ENROLL)
    if visitor is None:
        return _back_to_sign_in()
    with context.transaction() as session:
        user = session.get(ConsoleUser, visitor.user_id)
        if user is None:
            return _back_to_sign_in()
        secret = totp_secret(context.keyring, user)
        uri = provisioning_uri(secret, user_email(context.keyring, user))
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    values = {"qr": qr_svg_data_uri(uri), "secret": grouped, "error": error}
    return render(request, "enroll.html", values, 400 if error else 200)


@sign_in_step("TOTP enrollment after the password is set")
async def enroll_submit(request: Request) -> Response:
    """Confirm enrollment with a first code; show the recovery codes once."""
    form = await request.form()
    return await run_in_threadpool(_enroll_step, request, _text(form, "code", 64))


def _enroll_step(request: Request, code: str) -> Response:
    context = console_context(request)
    visitor = _visitor_at(request, STAGE_ENROLL)
    if visitor is None:
        return _back_to_sign_in()
    with context.transaction() as session:
        user = session.get(ConsoleUser, visitor.user_id)
        if user is None:
            return _back_to_sign_in()
        codes = confirm_totp_enrollment(session, context.keyring, user, code)
        if codes is None:
            wrong = "That code is not valid. Enter the current code from the app."
            return _enroll_form(request, wrong)
        context.checker.succeeded(session, user)
        token = start_session(
            session, context.keyring, user, STAGE_FULL, replaces=visitor.session_hash
        )
        home = HOME_BY_ROLE[Role(user.role)]
    response = render(request, "recovery_codes.html", {"codes": codes, "home": home})
    set_session_cookie(response, context.settings, token)
    return response


@sign_in_step("signing out works at every stage of the sign-in")
async def logout(request: Request) -> Response:
    """End the session and forget the cookie."""
    visitor = current_visitor(request)
    context = console_context(request)
    if visitor is not None:
        await run_in_threadpool(_end, context, visitor.session_hash)
    response = RedirectResponse("/console/login", status_code=303)
    clear_session_cookie(response, context.settings)
    return response


def _end(context: ConsoleContext, session_hash: str) -> None:
    with context.transaction() as session:
        end_session(session, session_hash)


@requires(*Role)
async def home(request: Request) -> Response:
    """Send a signed-in user to the page of their role."""
    visitor = signed_in_visitor(request)
    return RedirectResponse(HOME_BY_ROLE[visitor.role], status_code=303)


@requires(*Role)
async def account_page(request: Request) -> Response:
    """Show the user's own account: role and recovery codes left."""
    return await run_in_threadpool(_account, request)


def _account(request: Request) -> Response:
    context = console_context(request)
    visitor = signed_in_visitor(request)
    with context.transaction() as session:
        left = remaining_recovery_codes(session, visitor.user_id)
    return render(request, "account.html", {"recovery_left": left})


routes = [
    Route("/", home, methods=["GET"]),
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login_submit, methods=["POST"]),
    Route("/mfa", mfa_page, methods=["GET"]),
    Route("/mfa", mfa_submit, methods=["POST"]),
    Route("/setup/{token}", setup_page, methods=["GET"]),
    Route("/setup/{token}", setup_submit, methods=["POST"]),
    Route("/enroll", enroll_page, methods=["GET"]),
    Route("/enroll", enroll_submit, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/account", account_page, methods=["GET"]),
]
