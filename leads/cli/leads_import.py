"""``leadguard leads``: bulk operations on leads."""

from __future__ import annotations

from typing import TextIO

import click

from leads.cli.context import open_vault
from leads.importer import import_leads


@click.group()
def leads() -> None:
    """Bulk operations on leads."""


@leads.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
def import_command(file: TextIO) -> None:
    """Import leads from a JSON lines FILE, each with consent evidence."""
    report = import_leads(open_vault(), file)
    for error in report.rejected:
        click.echo(f"rejected {error}", err=True)
    click.echo(
        f"imported: {report.created} new, {report.updated} updated, "
        f"{len(report.rejected)} rejected"
    )
    if report.rejected:
        raise SystemExit(1)
