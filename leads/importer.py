"""Import leads from JSON lines, each with its consent evidence.

A line is imported in its own transaction: a bad line is reported with its
number and reason, writes nothing, and the other lines still import.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from leads.consent import ConsentAnswer
from leads.errors import ImportRecordError, InvalidInputError, NotFoundError
from leads.models import Purpose
from leads.scoring import score_lead
from leads.vault import LeadInput, Vault

log = logging.getLogger(__name__)

MAX_LINE_BYTES = 16_384
LEAD_KEYS = frozenset(
    {"name", "email", "company", "job_title", "need", "phone", "company_size"}
    | {"timeline", "budget", "time_zone"}
)


@dataclass
class ImportReport:
    """Counts of an import and the rejected lines with their reasons."""

    created: int = 0
    updated: int = 0
    rejected: list[ImportRecordError] = field(default_factory=list)


def _consents(record: dict[str, Any], line: int) -> list[ConsentAnswer]:
    evidence = record.get("consents")
    if not isinstance(evidence, list) or not evidence:
        raise ImportRecordError(line, "no consent evidence ('consents' is missing)")
    answers = []
    for item in evidence:
        if not isinstance(item, dict):
            raise ImportRecordError(line, "a consent entry is not an object")
        try:
            recorded_at = dt.datetime.fromisoformat(str(item["recorded_at"]))
            if recorded_at.tzinfo is None:
                raise ValueError("naive")
            answers.append(
                ConsentAnswer(
                    purpose=Purpose(item["purpose"]),
                    granted=bool(item["granted"]),
                    notice_version=str(item["notice_version"]),
                    channel=str(item.get("channel", "import")),
                    recorded_at=recorded_at,
                )
            )
        except KeyError as exc:
            raise ImportRecordError(line, f"a consent entry lacks {exc}") from None
        except (ValueError, InvalidInputError, NotFoundError) as exc:
            reason = "a consent entry is invalid"
            if isinstance(exc, NotFoundError):
                reason = "a consent entry names an unknown notice version"
            raise ImportRecordError(line, reason) from None
    latest = sorted(
        (a for a in answers if a.purpose is Purpose.SALES_CONTACT),
        key=lambda a: a.recorded_at or dt.datetime.min,
    )
    if not latest or not latest[-1].granted:
        raise ImportRecordError(line, "no current consent to sales contact")
    return answers


def parse_record(raw: str, line: int) -> tuple[LeadInput, list[ConsentAnswer], str]:
    """Parse one JSON line into a lead, its consents and its source.

    Raises:
        ImportRecordError: the line is not a valid record.
    """
    if len(raw.encode("utf-8", "surrogatepass")) > MAX_LINE_BYTES:
        raise ImportRecordError(line, f"longer than {MAX_LINE_BYTES} bytes")
    try:
        record = json.loads(raw)
    except json.JSONDecodeError:
        raise ImportRecordError(line, "not valid JSON") from None
    if not isinstance(record, dict):
        raise ImportRecordError(line, "not a JSON object")
    unknown = set(record) - LEAD_KEYS - {"consents", "source"}
    if unknown:
        raise ImportRecordError(line, f"unknown keys: {', '.join(sorted(unknown))}")
    missing = [
        k for k in ("name", "email", "company", "job_title") if not record.get(k)
    ]
    if missing:
        raise ImportRecordError(line, f"missing {', '.join(missing)}")
    if not all(isinstance(record.get(k, ""), str | None) for k in LEAD_KEYS):
        raise ImportRecordError(line, "every field must be a string")
    consents = _consents(record, line)
    lead = LeadInput(**{k: v for k, v in record.items() if k in LEAD_KEYS})
    try:
        lead = lead.validated()
    except InvalidInputError as exc:
        raise ImportRecordError(line, str(exc)) from None
    return lead, consents, str(record.get("source") or "import")[:40]


def import_leads(vault: Vault, lines: Iterable[str]) -> ImportReport:
    """Import JSON lines through the vault, one transaction per line."""
    report = ImportReport()
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            lead, consents, source = parse_record(raw, number)
            scored = score_lead(
                company_size=lead.company_size,
                timeline=lead.timeline,
                budget=lead.budget,
                job_title=lead.job_title,
            )
            with vault.sessions.begin() as session:
                result = vault.capture_lead(
                    session,
                    lead,
                    score=scored.score,
                    tier=scored.tier,
                    source=source,
                    consents=consents,
                    actor="import",
                )
        except ImportRecordError as exc:
            report.rejected.append(exc)
            log.info("import.rejected line=%s", number)
            continue
        if result.created:
            report.created += 1
        else:
            report.updated += 1
    return report
