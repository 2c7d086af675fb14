"""``leadguard subject``: export or erase everything about one person."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import click

from leads.cli.context import open_vault
from leads.cli.privacy import write_private_file
from leads.erasure import (
    ErasureOutcome,
    erase_subject_by_email,
    erase_subject_everywhere,
)
from leads.errors import LeadguardError, NotFoundError
from leads.subject_access import export_subject_everywhere, render_subject_html


@click.group()
def subject() -> None:
    """Act on one data subject, found by email."""


@subject.command("export")
@click.option("--email", required=True, help="The subject's email address.")
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the readable HTML page to this file.",
)
def export_command(email: str, html_file: Path | None) -> None:
    """Print everything held about a subject, in every store, as JSON."""
    vault = open_vault()
    with vault.sessions() as session:
        lead_id = vault.find_lead_id(session, email)
    if lead_id is None:
        raise NotFoundError("no subject with that email address")
    document = export_subject_everywhere(vault, lead_id, actor="cli")
    if html_file is not None:
        write_private_file(html_file, render_subject_html(document))
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


@subject.command("erase")
@click.option("--email", help="The subject's email address.")
@click.option(
    "--lead-id",
    type=click.UUID,
    help="The subject's lead id (to replay erasures after a restore).",
)
def erase_command(email: str | None, lead_id: uuid.UUID | None) -> None:
    """Erase a subject everywhere; keep only a suppression entry.

    Name the subject by --email or by --lead-id (the ids of the
    ``subject.erased`` audit events, when replaying erasures on a restored
    backup). Running it again completes an erasure that was interrupted.
    """
    if (email is None) == (lead_id is None):
        raise click.UsageError("give exactly one of --email and --lead-id")
    vault = open_vault()
    outcome: ErasureOutcome | None
    if lead_id is not None:
        outcome = erase_subject_everywhere(vault, lead_id, actor="cli", channel="cli")
    else:
        outcome = erase_subject_by_email(vault, email or "", actor="cli", channel="cli")
    if outcome is None:
        email = email or ""
        with vault.sessions() as session:
            suppressed = vault.is_suppressed(session, email)
        if not suppressed:
            raise NotFoundError("no subject with that email address")
        click.echo("nothing is held about that address (it is suppressed)")
        return
    removed = ", ".join(f"{k}={v}" for k, v in sorted(outcome.removed.items()) if v)
    if outcome.already_erased:
        click.echo(f"subject {outcome.lead_id} was already erased")
    else:
        click.echo(f"erased subject {outcome.lead_id}: {removed}")
    for store, reason in outcome.unreachable.items():
        click.echo(f"not reached: {store} ({reason})")
    if outcome.verification is not None and not outcome.verification.clean:
        findings = ", ".join(outcome.verification.findings)
        raise LeadguardError(f"erasure left data behind: {findings}; run it again")
