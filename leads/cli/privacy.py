"""``leadguard retention``, ``leadguard privacy`` and ``leadguard incident``."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import click

from leads.cli.context import open_vault
from leads.errors import InvalidInputError, LeadguardError
from leads.settings import get_settings


def write_private_file(path: Path, text: str) -> None:
    """Write a file only its owner can read (it holds personal data)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    path.chmod(0o600)


def _parse_time(name: str, value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(
            name, "use an ISO 8601 time, e.g. 2026-12-01T09:00+08:00"
        ) from None
    if parsed.tzinfo is None:
        raise InvalidInputError(name, "give a time zone, e.g. 2026-12-01T09:00Z")
    return parsed


# -- retention ------------------------------------------------------------


@click.group()
def retention() -> None:
    """Delete records kept longer than their retention period."""


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="Only list what would go.")
@click.option(
    "--batch",
    default=500,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="At most this many unqualified leads are erased per run.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def retention_run_command(dry_run: bool, batch: int, as_json: bool) -> None:
    """Apply every retention period (leads, transcripts, email, audit)."""
    from leads.retention import run_retention

    report = run_retention(open_vault(), dry_run=dry_run, batch=batch)
    if as_json:
        click.echo(json.dumps(report.summary(), indent=2))
        return
    verb = "would remove" if dry_run else "removed"
    for item in report.items:
        done = item.due if dry_run else item.removed
        line = f"{item.kind}: {item.due} past {item.cutoff:%Y-%m-%d}; {verb} {done}"
        if item.note:
            line += f" ({item.note})"
        click.echo(line)


# -- privacy --------------------------------------------------------------


@click.group()
def privacy() -> None:
    """Records of processing, privacy requests and unfinished erasures."""


@privacy.command("records")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the Markdown to this file instead of printing it.",
)
def records_command(output: Path | None) -> None:
    """Render the record of processing activities (GDPR Art. 30) as Markdown."""
    from leads.data_map import render_records_markdown

    text = render_records_markdown(get_settings())
    if output is None:
        click.echo(text)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output}")


@privacy.group("requests")
def requests_group() -> None:
    """Access and erasure requests from chat, web and console."""


@requests_group.command("list")
def requests_list_command() -> None:
    """List the requests still to be carried out."""
    from leads.privacy_requests import open_requests

    vault = open_vault()
    with vault.sessions() as session:
        rows = open_requests(session)
    if not rows:
        click.echo("no open privacy requests")
    for row in rows:
        subject = row.lead_id or ("chat session" if row.chat_session_id else "-")
        click.echo(
            f"#{row.id} {row.kind} via {row.channel}, {row.status}, "
            f"since {row.created_at:%Y-%m-%d %H:%M}, subject {subject}"
        )


@requests_group.command("run")
@click.argument("request_id", type=int)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="For an access request: write the JSON export to this file.",
)
def requests_run_command(request_id: int, output: Path | None) -> None:
    """Carry out one request (erasure everywhere, or an access export)."""
    from leads.privacy_requests import run_privacy_request

    outcome = run_privacy_request(open_vault(), request_id, actor="cli")
    if outcome.document is not None:
        if output is None:
            raise click.UsageError("an access request needs --output FILE")
        write_private_file(output, json.dumps(outcome.document, indent=2))
    removed = (
        outcome.erasure.total_removed
        if outcome.erasure
        else outcome.removed_for_session
    )
    click.echo(
        f"request #{request_id} ({outcome.kind}): {outcome.status}, "
        f"{removed} records removed"
    )


@privacy.command("resume")
def resume_command() -> None:
    """Complete every erasure that was interrupted half-way."""
    from leads.erasure import resume_erasures

    outcomes = resume_erasures(open_vault())
    for outcome in outcomes:
        clean = outcome.verification.clean if outcome.verification else False
        click.echo(
            f"erasure of {outcome.lead_id} completed: "
            f"{outcome.total_removed} records removed, verified clean={clean}"
        )
    click.echo(f"{len(outcomes)} unfinished erasures completed")


# -- incident -------------------------------------------------------------


@click.group()
def incident() -> None:
    """Breach response: exposed subjects and draft notices."""


@incident.command("report")
@click.option("--since", required=True, help="Start of the window (ISO 8601).")
@click.option("--until", "until_", help="End of the window (default: now).")
@click.option("--detected-at", help="When the breach was detected (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (ids only).")
def incident_report_command(
    since: str, until_: str | None, detected_at: str | None, as_json: bool
) -> None:
    """List subjects revealed or exported in a window; draft the notices."""
    from leads.incident import incident_report, render_incident_markdown

    start = _parse_time("since", since)
    if start is None:
        raise LeadguardError("--since is required")
    vault = open_vault()
    with vault.sessions() as session:
        report = incident_report(
            session,
            since=start,
            until=_parse_time("until", until_),
            detected_at=_parse_time("detected-at", detected_at),
        )
    if as_json:
        click.echo(json.dumps(report.summary(), indent=2))
    else:
        click.echo(render_incident_markdown(report))
