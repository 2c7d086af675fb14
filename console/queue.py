"""The sales queue: which leads a user sees, and what they may do to them.

Object-level rules (on top of each route's role rule):

* a salesperson sees qualified leads that are unassigned or their own, may
  claim an unassigned one, and may reveal the personal fields of, change
  the status of and add notes to their own;
* a manager sees and acts on every lead of the team (the whole queue) and
  assigns leads;
* any other role sees no lead.

A lead that a user may not see is reported as not found, so ids cannot be
probed. Every change records an audit event naming ids only.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, select, true, update
from sqlalchemy.orm import Session

from console.access import Role
from console.models import ConsoleUser, LeadNote
from console.sessions import Visitor
from leads.audit import record_audit
from leads.consent import may_use
from leads.errors import InvalidInputError, NotFoundError
from leads.models import (
    CallbackRequest,
    Lead,
    LeadStatus,
    Purpose,
    Tier,
    utcnow,
)
from leads.personal import Personal
from leads.vault import Vault

log = logging.getLogger(__name__)

# Statuses after which automated follow-up email would be out of place.
STATUSES_ENDING_FOLLOW_UPS = frozenset(
    {LeadStatus.MEETING, LeadStatus.WON, LeadStatus.LOST, LeadStatus.DISQUALIFIED}
)
REVEAL_REASONS = {
    "call_back": "Calling the lead back",
    "meeting": "Preparing a meeting",
    "reply": "Answering the lead's request",
    "correction": "Correcting the record",
}
MAX_NOTE_LENGTH = 4000
QUEUE_LIMIT = 200
NOTES_TABLE = LeadNote.__tablename__


@dataclass(frozen=True)
class QueueFilter:
    """Filters of the queue page; None means "any"."""

    tier: str | None = None
    min_score: int | None = None
    max_age_days: int | None = None
    status: str | None = None
    scope: str = "all"  # all | mine | unassigned

    @classmethod
    def from_query(cls, params: dict[str, str]) -> QueueFilter:
        """Build a filter from query parameters, ignoring invalid values."""
        tier = params.get("tier") or None
        status = params.get("status") or None
        scope = params.get("scope") or "all"
        return cls(
            tier=tier if tier in {t.value for t in Tier} else None,
            min_score=_int_or_none(params.get("min_score")),
            max_age_days=_int_or_none(params.get("max_age_days")),
            status=status if status in {s.value for s in LeadStatus} else None,
            scope=scope if scope in {"all", "mine", "unassigned"} else "all",
        )


def _int_or_none(text: str | None) -> int | None:
    if text is None or not text.strip().isdigit():
        return None
    return min(int(text), 100_000)


def visible_to(visitor: Visitor) -> ColumnElement[bool]:
    """The SQL condition selecting the leads ``visitor`` may see."""
    if visitor.role is Role.MANAGER:
        return true()
    if visitor.role is Role.SALES:
        return or_(Lead.owner_id.is_(None), Lead.owner_id == visitor.user_id)
    return false()


TIER_ORDER = (Tier.HOT, Tier.WARM, Tier.COLD, Tier.DISQUALIFIED)


def queue_leads(
    session: Session, visitor: Visitor, filters: QueueFilter, limit: int = QUEUE_LIMIT
) -> list[Lead]:
    """Qualified leads the visitor sees: hottest, highest, oldest first.

    One query per tier, each walking the ``ix_leads_queue`` index in order,
    so the page costs the same with a hundred leads or a million.
    """
    base = select(Lead).where(Lead.qualified_at.is_not(None)).where(visible_to(visitor))
    if filters.min_score is not None:
        base = base.where(Lead.score >= filters.min_score)
    if filters.max_age_days is not None:
        since = utcnow() - dt.timedelta(days=filters.max_age_days)
        base = base.where(Lead.created_at >= since)
    if filters.status:
        base = base.where(Lead.status == filters.status)
    if filters.scope == "mine":
        base = base.where(Lead.owner_id == visitor.user_id)
    elif filters.scope == "unassigned":
        base = base.where(Lead.owner_id.is_(None))
    found: list[Lead] = []
    for tier in TIER_ORDER:
        if filters.tier and filters.tier != tier.value:
            continue
        query = (
            base.where(Lead.tier == tier.value)
            .order_by(Lead.score.desc(), Lead.created_at)
            .limit(limit - len(found))
        )
        found.extend(session.scalars(query))
        if len(found) >= limit:
            break
    return found


def lead_for(session: Session, visitor: Visitor, lead_id: uuid.UUID) -> Lead:
    """Return a lead the visitor may see.

    Raises:
        NotFoundError: no such lead, or the visitor may not see it.
    """
    lead = session.scalar(
        select(Lead).where(Lead.id == lead_id).where(visible_to(visitor))
    )
    if lead is None:
        raise NotFoundError("no such lead")
    return lead


def may_work_on(visitor: Visitor, lead: Lead) -> bool:
    """Whether the visitor may change the lead's status and add notes."""
    return visitor.role is Role.MANAGER or lead.owner_id == visitor.user_id


def _require_work(visitor: Visitor, lead: Lead) -> None:
    if not may_work_on(visitor, lead):
        raise InvalidInputError("lead", "claim the lead first")


def claim(session: Session, visitor: Visitor, lead_id: uuid.UUID) -> None:
    """Make an unassigned lead the visitor's own (first claim wins).

    Raises:
        NotFoundError: the visitor may not see the lead.
        InvalidInputError: someone else claimed it first.
    """
    lead = lead_for(session, visitor, lead_id)
    if lead.owner_id == visitor.user_id:
        return
    result = session.execute(
        update(Lead)
        .where(Lead.id == lead.id)
        .where(Lead.owner_id.is_(None))
        .values(owner_id=visitor.user_id, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        raise InvalidInputError("lead", "was claimed by someone else")
    session.refresh(lead)
    record_audit(
        session, actor=visitor.actor, action="lead.claimed", target_id=str(lead.id)
    )


def assignable_users(session: Session) -> list[ConsoleUser]:
    """Enabled salespeople and managers, who can own leads."""
    return list(
        session.scalars(
            select(ConsoleUser)
            .where(ConsoleUser.role.in_([Role.SALES.value, Role.MANAGER.value]))
            .where(ConsoleUser.disabled.is_(False))
            .order_by(ConsoleUser.created_at)
        )
    )


def assign(
    session: Session, visitor: Visitor, lead_id: uuid.UUID, owner_id: uuid.UUID | None
) -> None:
    """Give a lead to a salesperson or manager, or back to the pool (manager).

    Raises:
        NotFoundError: the lead is not visible.
        InvalidInputError: the new owner cannot own leads.
    """
    lead = lead_for(session, visitor, lead_id)
    if owner_id is not None:
        owner = session.get(ConsoleUser, owner_id)
        allowed = {Role.SALES.value, Role.MANAGER.value}
        if owner is None or owner.disabled or owner.role not in allowed:
            raise InvalidInputError("owner", "cannot own leads")
    lead.owner_id = owner_id
    record_audit(
        session, actor=visitor.actor, action="lead.assigned", target_id=str(lead.id)
    )


def set_status(
    session: Session, visitor: Visitor, lead_id: uuid.UUID, status: str
) -> bool:
    """Change a lead's status; return whether follow-ups were stopped.

    Raises:
        NotFoundError: the lead is not visible.
        InvalidInputError: unknown status, or the lead is not the visitor's.
    """
    try:
        new_status = LeadStatus(status)
    except ValueError:
        raise InvalidInputError("status", "is not a known status") from None
    lead = lead_for(session, visitor, lead_id)
    _require_work(visitor, lead)
    if lead.status == new_status.value:
        return False
    lead.status = new_status.value
    record_audit(
        session,
        actor=visitor.actor,
        action=f"lead.status.{new_status.value}",
        target_id=str(lead.id),
    )
    if new_status in STATUSES_ENDING_FOLLOW_UPS:
        return stop_follow_ups(session, lead.id, f"status:{new_status.value}")
    return False


def stop_follow_ups(session: Session, lead_id: uuid.UUID, reason: str) -> bool:
    """Stop the lead's email sequences (when the nurture package exists)."""
    try:
        from nurture.enrollment import stop_enrollments
    except ModuleNotFoundError as exc:
        if exc.name not in {"nurture", "nurture.enrollment"}:
            raise
        log.warning("console.follow_ups_not_stopped reason=nurture_unavailable")
        return False
    stop_enrollments(session, lead_id, reason)
    return True


def add_note(
    session: Session, vault: Vault, visitor: Visitor, lead_id: uuid.UUID, text: str
) -> None:
    """Add a note, sealed under the lead's data key.

    Raises:
        NotFoundError: the lead is not visible.
        InvalidInputError: empty or too long, or the lead is not the visitor's.
    """
    body = text.strip()
    if not body:
        raise InvalidInputError("note", "is empty")
    if len(body) > MAX_NOTE_LENGTH:
        raise InvalidInputError("note", f"is longer than {MAX_NOTE_LENGTH} characters")
    lead = lead_for(session, visitor, lead_id)
    _require_work(visitor, lead)
    note_id = uuid.uuid4()
    sealed = vault.seal_for_subject(
        session, lead.id, (NOTES_TABLE, "body", note_id), body
    )
    session.add(
        LeadNote(
            id=note_id, lead_id=lead.id, author_id=visitor.user_id, body_sealed=sealed
        )
    )
    record_audit(
        session, actor=visitor.actor, action="lead.note_added", target_id=str(lead.id)
    )


@dataclass(frozen=True)
class NoteView:
    """A note as the lead page shows it."""

    created_at: dt.datetime
    author_id: uuid.UUID | None
    body: Personal[str]


def notes_of(session: Session, vault: Vault, lead: Lead) -> list[NoteView]:
    """Decrypt a lead's notes, newest first."""
    notes = session.scalars(
        select(LeadNote)
        .where(LeadNote.lead_id == lead.id)
        .order_by(LeadNote.created_at.desc())
    )
    return [
        NoteView(
            note.created_at,
            note.author_id,
            vault.open_for_subject(
                session, lead.id, (NOTES_TABLE, "body", note.id), note.body_sealed
            ),
        )
        for note in notes
    ]


def reveal(
    session: Session, vault: Vault, visitor: Visitor, lead_id: uuid.UUID, reason: str
) -> dict[str, Personal[str] | None]:
    """Decrypt a lead's personal fields for the visitor, audited with a reason.

    A salesperson reveals only leads they own (claim first); a manager any
    lead of the team.

    Raises:
        NotFoundError: the lead is not visible.
        InvalidInputError: the reason is not one of :data:`REVEAL_REASONS`,
            the lead is not the visitor's, or the lead has no current
            consent to sales contact.
    """
    if reason not in REVEAL_REASONS:
        raise InvalidInputError("reason", "choose why you need the details")
    lead = lead_for(session, visitor, lead_id)
    _require_work(visitor, lead)
    if not may_use(session, lead.id, Purpose.SALES_CONTACT):
        raise InvalidInputError(
            "consent", "this lead has not agreed to be contacted by sales"
        )
    fields = vault.read_personal(session, lead.id)
    record_audit(
        session,
        actor=visitor.actor,
        action=f"lead.revealed.{reason}",
        target_id=str(lead.id),
    )
    log.info("console.lead_revealed user=%s reason=%s", visitor.user_id, reason)
    return fields


def open_callbacks(session: Session, visitor: Visitor) -> list[CallbackRequest]:
    """Open "talk to a human" requests the visitor sees, oldest first."""
    if visitor.role not in {Role.SALES, Role.MANAGER}:
        return []
    return list(
        session.scalars(
            select(CallbackRequest)
            .outerjoin(Lead, Lead.id == CallbackRequest.lead_id)
            .where(CallbackRequest.status == "open")
            .where(or_(CallbackRequest.lead_id.is_(None), visible_to(visitor)))
            .order_by(CallbackRequest.created_at)
            .limit(QUEUE_LIMIT)
        )
    )


def close_callback(session: Session, visitor: Visitor, callback_id: int) -> None:
    """Mark a callback request handled.

    Raises:
        NotFoundError: no such open request visible to the visitor.
    """
    visible = {c.id for c in open_callbacks(session, visitor)}
    callback = session.get(CallbackRequest, callback_id)
    if callback is None or callback.id not in visible:
        raise NotFoundError("no such callback request")
    callback.status = "done"
    record_audit(
        session,
        actor=visitor.actor,
        action="callback.done",
        target_id=str(callback.lead_id or f"callback:{callback.id}"),
    )
