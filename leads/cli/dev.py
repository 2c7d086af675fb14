"""``leadguard dev``: helpers for ``make run`` on the embedded defaults."""

from __future__ import annotations

import click

from leads.settings import get_settings


@click.group()
def dev() -> None:
    """Development stack helpers (used by ``make run``)."""


@dev.command("first-start")
def first_start_command() -> None:
    """One-time set-up steps of a fresh checkout (idempotent)."""
    from leads.cli.context import open_vault

    open_vault()


@dev.command("banner")
def banner_command() -> None:
    """Print what ``make run`` starts and where to find it."""
    settings = get_settings()
    click.echo("leadguard is starting on embedded defaults:")
    click.echo(f"  database     {settings.database_url}")
    click.echo(f"  console      {settings.public_base_url}/console/")
    click.echo(f"  demo site    {settings.public_base_url}/")
