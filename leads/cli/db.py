"""``leadguard db``: schema migrations."""

from __future__ import annotations

import click

from leads.migrate import downgrade, upgrade
from leads.settings import get_settings


@click.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@click.argument("revision", default="heads")
def upgrade_command(revision: str) -> None:
    """Apply migrations up to REVISION (all heads by default)."""
    upgrade(get_settings().database_url, revision)
    click.echo(f"database upgraded to {revision}")


@db.command("downgrade")
@click.argument("revision")
def downgrade_command(revision: str) -> None:
    """Revert migrations down to REVISION ('base' empties the database)."""
    downgrade(get_settings().database_url, revision)
    click.echo(f"database downgraded to {revision}")
