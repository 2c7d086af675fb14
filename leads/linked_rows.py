"""Rows of every table that belong to one lead, found from the schema itself.

A row belongs to a lead when a foreign key leads to ``leads.id``, directly
or through other linked tables (a send record through its enrollment), or
when it names one of the lead's chat sessions in a ``chat_session_id``
column. Reading this from the table metadata means a table added by any
package is erased, exported and verified without being registered here.

Tables kept for the law (the audit log, suppressions, privacy requests,
erasure jobs) are never matched; they hold ids and blind indexes only.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Table, or_, select

LEADS_TABLE = "leads"
CHAT_SESSION_COLUMN = "chat_session_id"
KEPT_TABLES = frozenset(
    {"audit_events", "suppressions", "privacy_requests", "erasure_jobs"}
)
VAULT_TABLES = frozenset(
    {
        "leads",
        "lead_personal",
        "subject_keys",
        "lead_chat_sessions",
        "outbox_events",
        "callback_requests",
        "consent_records",
    }
)


@dataclass(frozen=True)
class LinkedTable:
    """A table with rows that belong to a lead, and how to find them.

    ``conditions`` are alternatives (one per path to the lead); each is run
    as its own statement so that each can use its index (an ``OR`` across an
    ``IN (subquery)`` would scan the whole table). ``unlink_column`` is set
    when the foreign key says ``ON DELETE SET NULL``: the row outlives the
    lead and only its link is cleared.
    """

    table: Table
    conditions: tuple[ColumnElement[bool], ...]
    depth: int
    unlink_column: str | None = None

    @property
    def condition(self) -> ColumnElement[bool]:
        """All the alternatives as one condition (for small queries)."""
        return or_(*self.conditions)


def _plan(
    table: Table,
    by_name: dict[str, Table],
    lead_id: uuid.UUID,
    chat_ids: list[str],
    seen: frozenset[str],
) -> tuple[list[ColumnElement[bool]], int, str | None]:
    clauses: list[ColumnElement[bool]] = []
    depth = 0
    unlink: str | None = None
    if table.name == LEADS_TABLE:
        return [table.c.id == lead_id], 0, None
    for fk in table.foreign_keys:
        parent = fk.column.table
        if parent.name == LEADS_TABLE:
            clauses.append(fk.parent == lead_id)
            depth = max(depth, 1)
            if (fk.ondelete or "").upper() == "SET NULL":
                unlink = fk.parent.name
            continue
        if parent.name in seen or parent.name in KEPT_TABLES:
            continue
        parent_table = by_name.get(parent.name)
        if parent_table is None:
            continue
        inner, inner_depth, _ = _plan(
            parent_table, by_name, lead_id, chat_ids, seen | {table.name}
        )
        if not inner:
            continue
        clauses.append(fk.parent.in_(select(fk.column).where(or_(*inner))))
        depth = max(depth, inner_depth + 1)
    if CHAT_SESSION_COLUMN in table.c and table.name not in KEPT_TABLES:
        if chat_ids:
            clauses.append(table.c[CHAT_SESSION_COLUMN].in_(chat_ids))
        depth = max(depth, 1)
    if table.name == "consent_records":
        clauses.append(table.c.subject_id == lead_id)
    return clauses, depth, unlink


def linked_tables(
    tables: Sequence[Table],
    lead_id: uuid.UUID,
    chat_ids: list[str],
    *,
    include_vault: bool = True,
) -> list[LinkedTable]:
    """Return every table holding rows of the lead, children before parents.

    Args:
        tables: every table of the schema (``Base.metadata.sorted_tables``).
        lead_id: the subject.
        chat_ids: the chat session ids linked to the subject.
        include_vault: also return the vault's own tables (for checking;
            the vault erases those itself).
    """
    by_name = {t.name: t for t in tables}
    plans = []
    for table in tables:
        if table.name in KEPT_TABLES:
            continue
        if not include_vault and table.name in VAULT_TABLES:
            continue
        clauses, depth, unlink = _plan(table, by_name, lead_id, chat_ids, frozenset())
        if clauses:
            plans.append(LinkedTable(table, tuple(clauses), depth, unlink))
    return sorted(plans, key=lambda p: (-p.depth, p.table.name))


def linked_row_conditions(
    tables: Sequence[Table], lead_id: uuid.UUID, chat_ids: list[str]
) -> list[tuple[Table, ColumnElement[bool]]]:
    """Return ``(table, condition)`` for every path to the lead, one each."""
    return [
        (plan.table, condition)
        for plan in linked_tables(tables, lead_id, chat_ids)
        for condition in plan.conditions
    ]
