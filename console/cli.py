"""``leadguard users``: console accounts from the command line."""

from __future__ import annotations

import click
from sqlalchemy import select

from console.access import Role
from console.models import ConsoleUser
from console.users import (
    create_user,
    ensure_first_admin,
    find_user_by_email,
    issue_setup_link,
    parse_role,
    user_email,
)
from leads.audit import record_audit
from leads.cli.context import open_vault
from leads.settings import get_settings

ROLE_NAMES = [role.value for role in Role]
DEFAULT_FIRST_ADMIN = "admin@leadguard.example"


@click.group()
def users() -> None:
    """Manage console users."""


@users.command("add")
@click.option("--email", required=True, help="The user's work address.")
@click.option("--role", required=True, type=click.Choice(ROLE_NAMES))
def add_command(email: str, role: str) -> None:
    """Create a user and print their one-time setup link."""
    settings = get_settings()
    vault = open_vault(settings)
    with vault.sessions.begin() as session:
        _, link = create_user(
            session,
            vault.keyring,
            settings,
            email=email,
            role=parse_role(role),
            actor="cli",
        )
    click.echo(
        f"created a {role} account; one-time setup link (valid "
        f"{settings.console_setup_link_hours} h):"
    )
    click.echo(link)


@users.command("ensure-first-admin")
@click.option(
    "--email",
    default=DEFAULT_FIRST_ADMIN,
    envvar="LEADGUARD_FIRST_ADMIN_EMAIL",
    show_default=True,
    help="Address of the first admin, used only when no admin exists yet.",
)
def ensure_first_admin_command(email: str) -> None:
    """Create the first admin and print its setup link, once (idempotent)."""
    settings = get_settings()
    vault = open_vault(settings)
    with vault.sessions.begin() as session:
        link = ensure_first_admin(session, vault.keyring, settings, email)
    if link is None:
        click.echo("console: an admin account exists; no new setup link")
        return
    click.echo(f"console: first admin {email} created; set it up here (once):")
    click.echo(f"  {link}")


@users.command("reset")
@click.option("--email", required=True, help="The user's address.")
def reset_command(email: str) -> None:
    """Print a new setup link (new password and TOTP; sessions end)."""
    settings = get_settings()
    vault = open_vault(settings)
    with vault.sessions.begin() as session:
        user = find_user_by_email(session, vault.keyring, email)
        if user is None:
            raise click.ClickException(f"no console user with that address: {email}")
        link = issue_setup_link(session, vault.keyring, settings, user)
        record_audit(session, actor="cli", action="user.reset", target_id=str(user.id))
    click.echo("new one-time setup link (the old password and TOTP no longer work):")
    click.echo(link)


@users.command("list")
def list_command() -> None:
    """List console users: address, role and state."""
    settings = get_settings()
    vault = open_vault(settings)
    with vault.sessions() as session:
        query = select(ConsoleUser).order_by(ConsoleUser.created_at)
        accounts = list(session.scalars(query))
        for user in accounts:
            state = (
                "disabled"
                if user.disabled
                else ("active" if user.totp_confirmed else "setup pending")
            )
            click.echo(f"{user_email(vault.keyring, user):<40} {user.role:<16} {state}")
    if not accounts:
        click.echo("no console users yet; run: leadguard users ensure-first-admin")
