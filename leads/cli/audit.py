"""``leadguard audit``: verify the hash chain."""

from __future__ import annotations

import click

from leads.audit import verify_chain
from leads.database import session_factory
from leads.errors import AuditChainError


@click.group()
def audit() -> None:
    """Inspect the audit log."""


@audit.command("verify")
def verify_command() -> None:
    """Check every audit event; name the first bad one."""
    with session_factory()() as session:
        report = verify_chain(session)
    if not report.ok:
        raise AuditChainError(
            f"audit chain broken at event {report.first_bad_id}: {report.reason} "
            f"({report.checked} events before it are intact)"
        )
    click.echo(f"audit chain intact: {report.checked} events")
