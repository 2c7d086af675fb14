"""Carrying out privacy requests (access, erasure) from any channel.

A :class:`~leads.models.PrivacyRequest` is opened by the chat ("delete my
data"), the visitor's self-service pages or the console; the privacy
officer runs it from the console (or ``leadguard privacy requests run``).
:func:`run_privacy_request` finds the subject (the request's lead, or the
lead its chat session is linked to) and calls the one erasure or export
that every channel shares.

A chat request from a visitor who never gave their details has no lead:
erasing it deletes that one conversation, its consent answers and callback
requests, and any Redis key naming the session.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from leads.audit import record_audit
from leads.erasure import ErasureOutcome, erase_subject_everywhere
from leads.erasure_job import ErasureJob
from leads.errors import InvalidInputError, NotFoundError
from leads.models import (
    CallbackRequest,
    ConsentRecord,
    Lead,
    LeadChatSession,
    PrivacyRequest,
    utcnow,
)
from leads.privacy_stores import ErasureTarget, ExternalStore, external_stores
from leads.settings import Settings, get_settings
from leads.subject_access import export_subject_everywhere
from leads.vault import Vault

log = logging.getLogger(__name__)

OPEN_STATUSES = ("received", "verified")
KINDS = ("access", "erasure")
SESSION_STORES = frozenset({"tracker_store", "redis"})

__all__ = ["RequestOutcome", "open_requests", "run_privacy_request"]


@dataclass
class RequestOutcome:
    """What running a request did; ``document`` is set for access requests."""

    request_id: int
    kind: str
    status: str
    lead_id: uuid.UUID | None
    erasure: ErasureOutcome | None = None
    document: dict[str, Any] | None = None
    removed_for_session: int = 0


def open_requests(session: Session, limit: int = 200) -> list[PrivacyRequest]:
    """Return the requests still to be carried out, oldest first."""
    return list(
        session.scalars(
            select(PrivacyRequest)
            .where(PrivacyRequest.status.in_(OPEN_STATUSES))
            .order_by(PrivacyRequest.created_at, PrivacyRequest.id)
            .limit(limit)
        )
    )


def _subject_of(session: Session, request: PrivacyRequest) -> uuid.UUID | None:
    if request.lead_id is not None:
        known = session.get(Lead, request.lead_id) is not None
        job = session.scalar(
            select(ErasureJob.id).where(ErasureJob.lead_id == request.lead_id)
        )
        if known or job is not None:
            return request.lead_id
    if request.chat_session_id:
        return session.scalar(
            select(LeadChatSession.lead_id).where(
                LeadChatSession.chat_session_id == request.chat_session_id
            )
        )
    return None


def _erase_session_only(
    vault: Vault,
    request: PrivacyRequest,
    stores: Sequence[ExternalStore],
    actor: str,
) -> int:
    chat_id = request.chat_session_id
    if not chat_id:
        return 0
    # No lead: only the stores keyed by chat session id are searched.
    target = ErasureTarget(uuid.UUID(int=0), None, (chat_id,))
    removed = 0
    for store in stores:
        if store.name in SESSION_STORES and store.unavailable() is None:
            removed += store.erase(target)
    with vault.sessions.begin() as session:
        for model in (ConsentRecord, CallbackRequest):
            result = session.execute(
                delete(model).where(model.chat_session_id == chat_id)  # type: ignore[attr-defined]
            )
            removed += int(getattr(result, "rowcount", 0) or 0)
        row = session.get(PrivacyRequest, request.id)
        if row is not None:
            row.chat_session_id = None
        record_audit(
            session,
            actor=actor,
            action="privacy.session_erased",
            target_id=str(request.id),
        )
    return removed


def _finish(
    vault: Vault, request_id: int, lead_id: uuid.UUID | None, status: str
) -> None:
    with vault.sessions.begin() as session:
        row = session.get(PrivacyRequest, request_id)
        if row is None:
            return
        row.status = status
        row.completed_at = utcnow()
        if lead_id is not None:
            row.lead_id = lead_id


def run_privacy_request(
    vault: Vault,
    request_id: int,
    *,
    actor: str,
    settings: Settings | None = None,
    stores: Sequence[ExternalStore] | None = None,
) -> RequestOutcome:
    """Carry out one access or erasure request.

    Erasure is complete and idempotent (see
    :func:`leads.erasure.erase_subject_everywhere`); access returns the
    export document, which the caller hands only to the privacy officer or
    the verified subject.

    Args:
        vault: the open vault.
        request_id: the request to run.
        actor: who runs it, as an id (``user:<uuid>``, ``cli``).
        settings: defaults to :func:`~leads.settings.get_settings`.
        stores: the outside stores (default: tracker, Redis, mail folder).

    Raises:
        NotFoundError: no such request.
        InvalidInputError: the request's kind is neither access nor erasure,
            or it was already carried out.
    """
    settings = settings or get_settings()
    if stores is None:
        stores = external_stores(settings, vault.keyring)
    with vault.sessions.begin() as session:
        request = session.get(PrivacyRequest, request_id)
        if request is None:
            raise NotFoundError("no such privacy request")
        if request.kind not in KINDS:
            raise InvalidInputError("kind", "must be access or erasure")
        if request.status not in OPEN_STATUSES:
            raise InvalidInputError("request", f"is already {request.status}")
        lead_id = _subject_of(session, request)
        request.lead_id = lead_id or request.lead_id
        session.flush()
        session.expunge(request)
    outcome = RequestOutcome(request_id, request.kind, "completed", lead_id)
    if request.kind == "erasure":
        if lead_id is None:
            outcome.removed_for_session = _erase_session_only(
                vault, request, stores, actor
            )
        else:
            outcome.erasure = erase_subject_everywhere(
                vault,
                lead_id,
                actor=actor,
                channel=request.channel,
                settings=settings,
                stores=stores,
            )
    elif lead_id is None:
        outcome.status = "no_data"
    else:
        outcome.document = export_subject_everywhere(
            vault, lead_id, actor=actor, settings=settings, stores=stores
        )
    _finish(vault, request_id, lead_id, outcome.status)
    log.info(
        "privacy.request_run id=%s kind=%s status=%s",
        request_id,
        outcome.kind,
        outcome.status,
    )
    return outcome
