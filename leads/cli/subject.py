"""``leadguard subject``: export or erase everything about one person."""

from __future__ import annotations

import json

import click

from leads.cli.context import open_vault
from leads.errors import NotFoundError


@click.group()
def subject() -> None:
    """Act on one data subject, found by email."""


@subject.command("export")
@click.option("--email", required=True, help="The subject's email address.")
def export_command(email: str) -> None:
    """Print everything held about a subject as JSON."""
    vault = open_vault()
    with vault.sessions.begin() as session:
        lead_id = vault.find_lead_id(session, email)
        if lead_id is None:
            raise NotFoundError("no subject with that email address")
        document = vault.export_subject(session, lead_id)
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


@subject.command("erase")
@click.option("--email", required=True, help="The subject's email address.")
def erase_command(email: str) -> None:
    """Erase a subject everywhere; keep only a suppression entry."""
    vault = open_vault()
    with vault.sessions.begin() as session:
        lead_id = vault.find_lead_id(session, email)
        if lead_id is None:
            raise NotFoundError("no subject with that email address")
        report = vault.erase_subject(session, lead_id, actor="cli")
    removed = ", ".join(f"{k}={v}" for k, v in report.removed.items() if v)
    click.echo(f"erased subject {report.lead_id}: {removed}")
