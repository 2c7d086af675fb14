"""CSV export of leads for managers, safe to open in a spreadsheet.

Every cell is passed through :func:`neutralise_cell`: control characters
become spaces, and a cell whose first visible character could start a
formula (``=``, ``+``, ``-``, ``@`` or their full-width forms), or that began
with a tab or carriage return, is prefixed with an apostrophe so that
spreadsheet programs show it as text. Every exported lead gets an audit
event, and the export itself one more.

Limits: a neutralised value that really began with ``-`` (a phone number
written ``-123``) shows the apostrophe in tools that do not hide it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Sequence

from sqlalchemy.orm import Session

from console.sessions import Visitor
from leads.audit import record_audit
from leads.models import PERSONAL_FIELDS, Lead
from leads.vault import Vault

# "=", "+", "-", "@" and their full-width forms (U+FF1D, U+FF0B, U+FF0D, U+FF20)
FORMULA_STARTS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
FRESH_MFA = dt.timedelta(minutes=5)
COLUMNS = (
    "lead_id",
    "status",
    "tier",
    "score",
    "source",
    "owner_id",
    "created_at",
    "qualified_at",
    *PERSONAL_FIELDS,
)


def neutralise_cell(value: str) -> str:
    """Return ``value`` made inert for spreadsheet programs."""
    starts_with_control = bool(value) and value[0] in "\t\r\n"
    cleaned = _CONTROL.sub(" ", value)
    visible = cleaned.lstrip()
    if starts_with_control or (visible and visible[0] in FORMULA_STARTS):
        return "'" + cleaned
    return cleaned


def mfa_is_fresh(visitor: Visitor, now: dt.datetime) -> bool:
    """Whether the visitor entered a second factor in the last 5 minutes."""
    verified = visitor.mfa_verified_at
    return verified is not None and now - verified <= FRESH_MFA


def export_csv(
    session: Session, vault: Vault, visitor: Visitor, leads: Sequence[Lead]
) -> str:
    """Return the CSV of ``leads`` with personal fields, audited per lead."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for lead in leads:
        fields = vault.read_personal(session, lead.id)
        row = [
            str(lead.id),
            lead.status,
            lead.tier,
            str(lead.score),
            lead.source,
            str(lead.owner_id or ""),
            lead.created_at.isoformat(),
            lead.qualified_at.isoformat() if lead.qualified_at else "",
        ]
        for name in PERSONAL_FIELDS:
            value = fields.get(name)
            row.append(value.reveal() if value is not None else "")
        writer.writerow([neutralise_cell(cell) for cell in row])
        record_audit(
            session, actor=visitor.actor, action="lead.exported", target_id=str(lead.id)
        )
    record_audit(
        session,
        actor=visitor.actor,
        action="export.created",
        target_id=f"rows:{len(leads)}",
    )
    return buffer.getvalue()
