"""Subject access and portability: everything held about one person.

:func:`export_subject_everywhere` gathers, for one lead, the personal fields
and qualification (the vault), the consent history, the conversation
transcripts (tracker store), the emails sent (send records and, in
development, the messages in the mail folder), the sales notes, the privacy
requests, the audit events about the subject, and the rows of every other
table linked to the lead. It is the one function behind the console's
access request, the visitor's self-service download and ``leadguard subject
export``. :func:`render_subject_html` renders the same document as a
readable page (Jinja2 with autoescaping on).

Every export is an audit event (``subject.exported``, actor and lead id),
recorded by the vault.

Limits: the document holds the plaintext of every personal field; callers
must deliver it only to the verified subject or the privacy officer, over
HTTPS, and never log it. Sealed columns of other tables are opened only
where this module knows their sealing (lead notes); others are listed as
``"sealed"`` without their content.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from typing import Any

import jinja2
from sqlalchemy import LargeBinary, Table, select
from sqlalchemy.orm import Session

from leads.errors import DecryptionError, NotFoundError
from leads.linked_rows import linked_tables
from leads.model_registry import all_tables
from leads.models import AuditEvent, Lead, PrivacyRequest
from leads.privacy_stores import ErasureTarget, ExternalStore, external_stores
from leads.settings import Settings, get_settings
from leads.vault import Vault

log = logging.getLogger(__name__)

FORMAT = "leadguard.subject-access/1"
NOTES_TABLE = "lead_notes"
NOTE_COLUMN = "body"  # the place console.queue seals notes under
SENDS_TABLE = "nurture_sends"
SEALED = "sealed"

__all__ = ["FORMAT", "export_subject_everywhere", "render_subject_html"]


def _json_value(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return SEALED
    return value


def _open_note(
    vault: Vault, session: Session, lead_id: uuid.UUID, row: Any
) -> str | None:
    try:
        body = vault.open_for_subject(
            session, lead_id, (NOTES_TABLE, NOTE_COLUMN, row.id), row.body_sealed
        )
    except (DecryptionError, NotFoundError):
        return None
    return body.reveal()


def _linked_records(
    vault: Vault,
    session: Session,
    tables: Sequence[Table],
    lead_id: uuid.UUID,
    chat_ids: list[str],
) -> dict[str, list[dict[str, object]]]:
    records: dict[str, list[dict[str, object]]] = {}
    for plan in linked_tables(tables, lead_id, chat_ids, include_vault=False):
        rows: dict[tuple[object, ...], Any] = {}
        for condition in plan.conditions:
            for row in session.execute(select(plan.table).where(condition)):
                rows[tuple(row._mapping[c] for c in plan.table.primary_key)] = row
        exported = []
        for row in rows.values():
            item = {
                column.name: _json_value(getattr(row, column.name))
                for column in plan.table.columns
                if not isinstance(column.type, LargeBinary)
            }
            if plan.table.name == NOTES_TABLE:
                item["body"] = _open_note(vault, session, lead_id, row)
            exported.append(item)
        records[plan.table.name] = sorted(exported, key=lambda r: str(r.get("id")))
    return records


def _audit_events(session: Session, lead_id: uuid.UUID) -> list[dict[str, object]]:
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.target_id == str(lead_id))
        .order_by(AuditEvent.id)
    )
    return [
        {
            "id": e.id,
            "occurred_at": e.occurred_at.isoformat(),
            "actor": e.actor,
            "action": e.action,
        }
        for e in events
    ]


def _privacy_requests(session: Session, lead_id: uuid.UUID) -> list[dict[str, object]]:
    requests = session.scalars(
        select(PrivacyRequest)
        .where(PrivacyRequest.lead_id == lead_id)
        .order_by(PrivacyRequest.id)
    )
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "status": r.status,
            "channel": r.channel,
            "created_at": r.created_at.isoformat(),
            "completed_at": r.completed_at.isoformat() if r.completed_at else None,
        }
        for r in requests
    ]


def export_subject_everywhere(
    vault: Vault,
    lead_id: uuid.UUID,
    *,
    actor: str,
    settings: Settings | None = None,
    stores: Sequence[ExternalStore] | None = None,
) -> dict[str, Any]:
    """Return everything held about a subject, as one JSON-ready document.

    Sections: ``fields``, ``qualification``, ``consents``, ``chat_sessions``
    (from the vault), ``transcripts`` (tracker store), ``emails`` (send
    records), ``mail_folder`` (development sink messages), ``notes``,
    ``records`` (rows of every other linked table, sealed columns left
    out), ``privacy_requests``, ``audit_events`` and ``unreachable`` (stores
    not configured here, with the reason). The export itself is recorded
    as an audit event before the document is returned.

    Args:
        vault: the open vault.
        lead_id: the subject.
        actor: who asked, as an id (``user:<uuid>``, ``visitor``, ``cli``).
        settings: defaults to :func:`~leads.settings.get_settings`.
        stores: the outside stores (default: tracker, Redis, mail folder).

    Raises:
        NotFoundError: the lead does not exist or was erased.
    """
    settings = settings or get_settings()
    stores = (
        list(stores) if stores is not None else external_stores(settings, vault.keyring)
    )
    tables = all_tables()
    with vault.sessions.begin() as session:
        lead = session.get(Lead, lead_id)
        if lead is None:
            raise NotFoundError("no such subject")
        document: dict[str, Any] = {"format": FORMAT}
        document |= vault.export_subject(session, lead_id, actor=actor)
        chat_ids = list(document["chat_sessions"])
        records = _linked_records(vault, session, tables, lead_id, chat_ids)
        document["notes"] = records.pop(NOTES_TABLE, [])
        document["emails"] = records.pop(SENDS_TABLE, [])
        document["records"] = records
        document["privacy_requests"] = _privacy_requests(session, lead_id)
        target = ErasureTarget(lead_id, lead.email_index, tuple(chat_ids))
        document["audit_events"] = _audit_events(session, lead_id)
    document["unreachable"] = {}
    document["transcripts"] = []
    document["mail_folder"] = []
    for store in stores:
        reason = store.unavailable()
        if reason is not None:
            document["unreachable"][store.name] = reason
        elif store.name == "tracker_store":
            document["transcripts"] = store.export(target)
        elif store.name == "mail_folder":
            document["mail_folder"] = store.export(target)
    document["generated_at"] = dt.datetime.now(dt.UTC).isoformat()
    log.info("subject.exported sections=%s", len(document))
    return document


_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("leads", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def render_subject_html(document: dict[str, Any]) -> str:
    """Render an export document as one self-contained HTML page.

    Every value is escaped (autoescaping is on), so a transcript or note
    containing markup is shown as text, never run.
    """
    template = _ENVIRONMENT.get_template("subject_access.html")
    return template.render(doc=document)
