"""The ``leadguard`` command line.

Sub-commands live in their own modules and are imported only when used, so
``leadguard keys status`` does not load Celery or the web app. Every error a
user can cause prints one line and exits with status 2.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

from leads.errors import LeadguardError
from leads.logconfig import configure_logging

log = logging.getLogger(__name__)

# command name -> "module:attribute" of its click command or group
COMMANDS = {
    "db": "leads.cli.db:db",
    "keys": "leads.cli.keys:keys",
    "leads": "leads.cli.leads_import:leads",
    "subject": "leads.cli.subject:subject",
    "audit": "leads.cli.audit:audit",
    "demo": "leads.cli.demo:demo",
    "nurture": "nurture.cli:nurture",
    "users": "console.cli:users",
    "retention": "leads.cli.privacy:retention",
    "privacy": "leads.cli.privacy:privacy",
    "incident": "leads.cli.privacy:incident",
    "dev": "leads.cli.dev:dev",
}


class LazyGroup(click.Group):
    """A group whose sub-commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """List every registered command name."""
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import and return one sub-command."""
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            return None
        command: click.Command = getattr(module, attribute)
        return command


@click.group(cls=LazyGroup)
def cli() -> None:
    """leadguard: consent-first lead capture, encrypted at rest."""
    configure_logging()


def main() -> None:
    """Run the command line; translate expected errors into one line."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except LeadguardError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
