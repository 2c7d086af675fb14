"""After an erasure: prove that no store still holds the subject.

Two levels of checking:

- by id (always, cheap): no row of any table linked to the lead (by foreign
  key or chat session id) is left, and each outside store reports nothing
  left for the subject;
- by value (``deep=True``): the subject's identifying values, decrypted just
  before the erasure and held in memory only, are searched for in every
  text and binary column of every table, in the SQLite files byte by byte
  (free pages included), and in the outside stores.

Limits: the value scan looks for the exact values the vault held (and their
lower-case form); a value re-typed differently elsewhere (a name spelled
another way in a free-text note) is not recognised. Values of a few
characters are skipped, since they would match unrelated text.
"""

from __future__ import annotations

import logging
import mmap
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    LargeBinary,
    String,
    Table,
    Text,
    cast,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from leads.linked_rows import linked_row_conditions
from leads.personal import Personal
from leads.privacy_stores import ErasureTarget, ExternalStore

log = logging.getLogger(__name__)

MIN_SCANNED_LENGTH = 5


@dataclass
class VerificationReport:
    """What the check looked at and anything it found left behind.

    ``findings`` name places only (``table.column``, a file name, a store),
    never the value found there.
    """

    deep: bool
    checked: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Whether nothing of the subject was found anywhere."""
        return not self.findings


def value_forms(values: Iterable[Personal[str]]) -> list[bytes]:
    """Return the byte strings to search for: each value and its lower case."""
    forms: set[bytes] = set()
    for value in values:
        text = value.reveal()
        if len(text) < MIN_SCANNED_LENGTH:
            continue
        forms.add(text.encode("utf-8"))
        forms.add(text.lower().encode("utf-8"))
    return sorted(forms)


def linked_rows_left(
    session: Session, tables: Sequence[Table], lead_id: uuid.UUID, chat_ids: list[str]
) -> list[str]:
    """Name each table that still has rows linked to the lead."""
    found = []
    for table, condition in linked_row_conditions(tables, lead_id, chat_ids):
        count = session.scalar(select(func.count()).select_from(table).where(condition))
        if count:
            found.append(f"{table.name}:{count} rows")
    return found


def _text_columns(table: Table) -> list[tuple[str, bool]]:
    columns = []
    for column in table.columns:
        if isinstance(column.type, LargeBinary):
            columns.append((column.name, True))
        elif isinstance(column.type, String | Text | JSON):
            columns.append((column.name, False))
    return columns


def _contains(
    dialect: str, column: ColumnElement[Any], form: bytes, binary: bool
) -> ColumnElement[bool]:
    if dialect == "sqlite":
        needle: bytes | str = form if binary else form.decode("utf-8")
        target = column if binary else cast(column, Text)
        return func.instr(target, needle) > 0
    if binary:
        escaped = form.replace(b"\\", b"\\\\").replace(b"%", b"\\%")
        escaped = escaped.replace(b"_", b"\\_")
        return column.op("LIKE", return_type=Boolean)(b"%" + escaped + b"%")
    return func.strpos(cast(column, Text), form.decode("utf-8")) > 0


def values_in_database(
    session: Session, tables: Sequence[Table], forms: list[bytes]
) -> list[str]:
    """Name each ``table.column`` whose content contains one of ``forms``."""
    if not forms:
        return []
    dialect = session.get_bind().dialect.name
    found = []
    for table in tables:
        for name, binary in _text_columns(table):
            clauses = [
                _contains(dialect, table.c[name], form, binary) for form in forms
            ]
            query = select(func.count()).select_from(table).where(or_(*clauses))
            if session.scalar(query):
                found.append(f"{table.name}.{name}")
    return found


def values_in_files(paths: Iterable[Path], forms: list[bytes]) -> list[str]:
    """Name each file whose raw bytes contain one of ``forms``."""
    found = []
    for path in paths:
        if not path.is_file() or path.stat().st_size == 0:
            continue
        with (
            path.open("rb") as handle,
            mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data,
        ):
            if any(data.find(form) >= 0 for form in forms):
                found.append(f"file:{path.name}")
    return found


def sqlite_files(database_url: str) -> list[Path]:
    """Return the SQLite database file and its journal files, if SQLite."""
    if not database_url.startswith("sqlite"):
        return []
    path = Path(database_url.split("///", 1)[-1])
    return [path, Path(f"{path}-wal"), Path(f"{path}-journal")]


def verify_erasure(
    session: Session,
    tables: Sequence[Table],
    target: ErasureTarget,
    stores: Sequence[ExternalStore],
    *,
    deep: bool = False,
    files: Sequence[Path] = (),
) -> VerificationReport:
    """Check every store for what is left of a subject.

    Args:
        session: a session on the leadguard database.
        tables: every table of the schema.
        target: the subject (ids, and values when the erasure held them).
        stores: the outside stores to ask.
        deep: also search every column and ``files`` for the values.
        files: raw files to scan when ``deep`` (SQLite files, the tracker's).
    """
    report = VerificationReport(deep=deep)
    chat_ids = list(target.chat_session_ids)
    report.checked.append("database:linked rows")
    report.findings += linked_rows_left(session, tables, target.lead_id, chat_ids)
    for store in stores:
        if store.unavailable() is None:
            report.checked.append(store.name)
            report.findings += store.remaining(target)
    if deep:
        forms = value_forms(target.values)
        if forms:
            report.checked.append("database:values")
            report.findings += values_in_database(session, tables, forms)
            report.checked += [f"file:{p.name}" for p in files if p.is_file()]
            report.findings += values_in_files(files, forms)
    log.info(
        "erasure.verified clean=%s deep=%s findings=%s",
        report.clean,
        deep,
        len(report.findings),
    )
    return report
