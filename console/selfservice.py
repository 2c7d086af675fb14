"""Visitor self-service pages: the privacy notice, access and erasure.

``GET /privacy/notice`` and ``/privacy/notice/v{N}``
    The current notice and every earlier version, with the SHA-256 the
    consent ledger records.
``GET|POST /privacy/access`` and ``/privacy/erase``
    The visitor gives an email address. The answer is the same page whether
    the address is known or not, and it is sent before any lookup: the
    lookup and the email happen afterwards (a background task), so neither
    the page nor its timing tells anything. A known address receives a
    single-use link that expires (:mod:`console.selfservice_tokens`); an
    unknown one receives a note that nothing is held.
``GET|POST /privacy/link/{token}``
    Opening the link shows what it will do; only the form's POST uses the
    token, so a mail scanner that fetches links uses nothing up. The POST
    returns the JSON copy as a download, or erases and confirms. The token
    binds the POST to the mailbox that received it, which is also what
    protects it against cross-site requests.

No email address ever appears in a URL, a log line or an error. Pages are
plain HTML and one stylesheet, so they work under ``default-src 'self'``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
from pathlib import Path
from typing import Any

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from console.access import public
from console.gateway import gateway_state
from console.gateway_limits import parse_rate
from console.selfservice_markdown import render_notice
from console.selfservice_privacy import (
    erase_for_visitor,
    export_for_visitor,
    mark_request,
    open_request,
)
from console.selfservice_tokens import (
    LinkKind,
    find_usable_token,
    issue_link_token,
    use_token,
)
from leads.blind_index import blind_index_for_email, normalise_email
from leads.errors import InvalidInputError, LeadguardError, NotFoundError
from leads.notices import CURRENT_VERSION, NOTICE_DIR, current_notice, notice
from leads.personal import Personal
from leads.settings import Settings, get_settings
from leads.vault import Vault

log = logging.getLogger(__name__)

TEMPLATES = Jinja2Templates(directory=Path(__file__).with_name("templates"))
VAULT_ATTRIBUTE = "leadguard_selfservice_vault"
MAX_FORM_BYTES = 4096
RATE_PER_ADDRESS_EMAIL = "3/hour"
NO_STORE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}
KIND_OF_PATH = {"access": LinkKind.ACCESS, "erase": LinkKind.ERASURE}
REQUEST_KIND = {LinkKind.ACCESS: "access", LinkKind.ERASURE: "erasure"}

MAIL_SUBJECTS = {
    LinkKind.ACCESS: "Your link to download your data",
    LinkKind.ERASURE: "Your link to delete your data",
}
MAIL_LINK_TEXT = (
    "Someone, hopefully you, asked to {action} the data we hold about this "
    "email address.\n\nOpen this link within {minutes} minutes to continue. "
    "It works once:\n\n{link}\n\nIf you did not ask, ignore this email; "
    "nothing happens without the link."
)
MAIL_NOTHING_TEXT = (
    "Someone, hopefully you, asked to {action} the data we hold about this "
    "email address.\n\nWe hold no data about this address, so there is "
    "nothing to {action}.\n\nIf you did not ask, ignore this email."
)
MAIL_ACTIONS = {LinkKind.ACCESS: "get a copy of", LinkKind.ERASURE: "delete"}


def _settings(request: Request) -> Settings:
    found = getattr(request.app.state, "settings", None)
    return found if isinstance(found, Settings) else get_settings()


def _vault(request: Request) -> Vault:
    console = getattr(request.app.state, "console", None)
    found = getattr(console, "vault", None)
    if isinstance(found, Vault):
        return found
    cached = getattr(request.app.state, VAULT_ATTRIBUTE, None)
    if not isinstance(cached, Vault):
        cached = Vault.from_settings(_settings(request))
        setattr(request.app.state, VAULT_ATTRIBUTE, cached)
    return cached


def _page(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    response = TEMPLATES.TemplateResponse(
        request, template, context or {}, status_code=status_code
    )
    response.headers.update(NO_STORE)
    return response


def notice_versions() -> list[str]:
    """Return every notice version kept in the repository, newest first."""
    found = []
    for path in NOTICE_DIR.glob("privacy-notice-v*.md"):
        version = path.stem.removeprefix("privacy-notice-v")
        if version.isdigit():
            found.append(version)
    return sorted(found, key=int, reverse=True)


# -- the privacy notice ----------------------------------------------------


@public("the privacy notice must be readable by every visitor")
async def show_current_notice(request: Request) -> Response:
    """Show the privacy notice visitors see now."""
    return _notice_page(request, CURRENT_VERSION)


@public("earlier privacy notices are public: consents name their version")
async def show_notice_version(request: Request) -> Response:
    """Show one version of the privacy notice."""
    return _notice_page(request, str(request.path_params["version"]))


def _notice_page(request: Request, version: str) -> Response:
    try:
        shown = notice(version)
    except NotFoundError:
        return _page(request, "selfservice/not_found.html", status_code=404)
    return _page(
        request,
        "selfservice/notice.html",
        {
            "notice_html": render_notice(shown.text),
            "version": shown.version,
            "sha256": shown.sha256,
            "is_current": shown.version == current_notice().version,
            "versions": notice_versions(),
        },
    )


# -- asking for a link -----------------------------------------------------


async def _form_email(request: Request) -> str | None:
    declared = request.headers.get("content-length", "")
    if not declared.isdigit() or int(declared) > MAX_FORM_BYTES:
        return None
    async with request.form(max_files=0, max_fields=4) as form:
        value = form.get("email")
    return value if isinstance(value, str) else None


@public("visitors ask for their data without an account; answers reveal nothing")
async def request_link(request: Request) -> Response:
    """Show the form, or accept an address and mail a link in the background."""
    kind = KIND_OF_PATH[request.url.path.rstrip("/").rsplit("/", 1)[-1]]
    template = f"selfservice/request_{kind.value}.html"
    if request.method == "GET":
        return _page(request, template)

    state = gateway_state(request)
    address = request.client.host if request.client else "unknown"
    rate = parse_rate(
        "selfservice_rate_per_address", _settings(request).selfservice_rate_per_address
    )
    verdict = await state.limiter.hit(rate, "selfservice", address)
    if not verdict.allowed:
        log.info("selfservice.rate_limited scope=address")
        response = _page(request, "selfservice/slow_down.html", status_code=429)
        response.headers["Retry-After"] = str(verdict.retry_after)
        return response

    raw = await _form_email(request)
    try:
        email = Personal(normalise_email(raw or ""))
    except InvalidInputError:
        return _page(request, template, {"error": True}, status_code=400)

    vault = _vault(request)
    per_email = await state.limiter.hit(
        parse_rate("selfservice_rate_per_email", RATE_PER_ADDRESS_EMAIL),
        "selfservice-email",
        hashlib.sha256(
            blind_index_for_email(vault.keyring, email.reveal())
        ).hexdigest(),
    )
    response = _page(request, "selfservice/check_inbox.html", {"kind": kind.value})
    if per_email.allowed:
        response.background = BackgroundTask(
            send_link, vault, _settings(request), kind, email
        )
    else:
        log.info("selfservice.rate_limited scope=email")
    return response


def send_link(
    vault: Vault, settings: Settings, kind: LinkKind, email: Personal[str]
) -> None:
    """Look the address up and mail it a link, or a note that nothing is held.

    Runs after the response is sent. Failures are logged by type only; the
    visitor can ask again.
    """
    from nurture.transactional import send_transactional_email

    minutes = settings.selfservice_link_minutes
    try:
        with vault.sessions.begin() as session:
            lead_id = vault.find_lead_id(session, email.reveal())
            token = None
            if lead_id is not None:
                token = _issue(session, kind, lead_id, minutes)
        action = MAIL_ACTIONS[kind]
        if token is None:
            text = MAIL_NOTHING_TEXT.format(action=action)
        else:
            link = f"{settings.public_base_url.rstrip('/')}/privacy/link/{token}"
            text = MAIL_LINK_TEXT.format(action=action, minutes=minutes, link=link)
        send_transactional_email(
            to=email.reveal(), subject=MAIL_SUBJECTS[kind], text=text, settings=settings
        )
    except (LeadguardError, OSError) as exc:
        log.warning("selfservice.link_not_sent error=%s", type(exc).__name__)
        return
    log.info("selfservice.link_sent kind=%s", kind.value)


def _issue(session: Any, kind: LinkKind, lead_id: uuid.UUID, minutes: int) -> str:
    request_id = open_request(session, kind=REQUEST_KIND[kind], lead_id=lead_id)
    return issue_link_token(
        session,
        kind=kind,
        lead_id=lead_id,
        privacy_request_id=request_id,
        valid_for=dt.timedelta(minutes=minutes),
    )


# -- using a link ----------------------------------------------------------


def _usable_kind(vault: Vault, token: str) -> str | None:
    with vault.sessions.begin() as session:
        row = find_usable_token(session, token)
        return row.kind if row is not None else None


def _claim(vault: Vault, token: str) -> tuple[str, uuid.UUID, int | None] | None:
    with vault.sessions.begin() as session:
        row = use_token(session, token)
        if row is None:
            return None
        mark_request(session, row.privacy_request_id, "verified")
        return row.kind, row.lead_id, row.privacy_request_id


@public("the emailed single-use link is the visitor's proof of identity")
async def use_link(request: Request) -> Response:
    """Show what a link will do (GET) or do it (POST, uses the link up)."""
    token = str(request.path_params["token"])
    vault = _vault(request)
    if request.method == "GET":
        kind = await run_in_threadpool(_usable_kind, vault, token)
        if kind is None:
            return _page(request, "selfservice/link_invalid.html", status_code=410)
        return _page(request, f"selfservice/confirm_{kind}.html", {"token": token})

    claimed = await run_in_threadpool(_claim, vault, token)
    if claimed is None:
        log.info("selfservice.link_refused")
        return _page(request, "selfservice/link_invalid.html", status_code=410)
    kind, lead_id, request_id = claimed
    settings = _settings(request)
    try:
        if kind == LinkKind.ERASURE.value:
            await run_in_threadpool(
                erase_for_visitor, vault, settings, lead_id, request_id
            )
            return _page(request, "selfservice/erased.html")
        data = await run_in_threadpool(
            export_for_visitor, vault, settings, lead_id, request_id
        )
    except NotFoundError:
        return _page(request, "selfservice/link_invalid.html", status_code=410)
    return _download(data)


def _download(data: dict[str, Any]) -> Response:
    body = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True)
    headers = dict(NO_STORE)
    headers["Content-Disposition"] = 'attachment; filename="my-data.json"'
    return Response(body, media_type="application/json", headers=headers)


routes = [
    Route("/privacy/notice", show_current_notice, methods=["GET"]),
    Route("/privacy/notice/v{version:int}", show_notice_version, methods=["GET"]),
    Route("/privacy/access", request_link, methods=["GET", "POST"]),
    Route("/privacy/erase", request_link, methods=["GET", "POST"]),
    Route("/privacy/link/{token:str}", use_link, methods=["GET", "POST"]),
]
