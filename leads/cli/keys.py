"""``leadguard keys``: create, rotate and inspect the key ring."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy import func, select

from leads.audit import record_audit
from leads.cli.context import open_vault
from leads.errors import KeyringError
from leads.keyring import add_key_version, new_keyring_document, write_keyring_file
from leads.models import SubjectKey
from leads.settings import get_settings


def _keyring_path() -> Path:
    settings = get_settings()
    if settings.keyring_file is None:
        raise KeyringError(
            "the key ring comes from LEADGUARD_KEYRING; manage it in your "
            "secret store, not with this command"
        )
    return settings.keyring_file


@click.group()
def keys() -> None:
    """Manage key-encryption keys."""


@keys.command("init")
def init_command() -> None:
    """Create a new key ring file (refuses to overwrite one)."""
    path = _keyring_path()
    if path.exists():
        raise KeyringError(f"{path}: a key ring already exists; refusing to overwrite")
    write_keyring_file(path, new_keyring_document())
    click.echo(f"created key ring {path} (mode 600, active version 1)")


@keys.command("rotate")
@click.option("--batch-size", default=1000, show_default=True)
def rotate_command(batch_size: int) -> None:
    """Add a new active KEK and re-wrap every data key under it.

    Runs in batches, each its own short transaction, so the system keeps
    serving; readers always find a key version the ring holds.
    """
    path = _keyring_path()
    open_vault()
    version = add_key_version(path)
    vault = open_vault()
    with vault.sessions() as session:
        total = session.scalar(
            select(func.count()).where(SubjectKey.kek_version != version)
        )
    columns = (
        TextColumn("re-wrapping data keys"),
        BarColumn(),
        MofNCompleteColumn(),
    )
    with Progress(*columns, transient=False) as progress:
        task = progress.add_task("rewrap", total=total or 0)
        done = vault.rewrap_all(
            batch_size, lambda n: progress.update(task, completed=n)
        )
    with vault.sessions.begin() as session:
        record_audit(
            session, actor="cli", action="keys.rotated", target_id=f"kek:{version}"
        )
    click.echo(f"active key version {version}; {done} data keys re-wrapped")


@keys.command("status")
def status_command() -> None:
    """Show the active version and how many data keys each version wraps."""
    vault = open_vault()
    with vault.sessions() as session:
        rows = session.execute(
            select(SubjectKey.kek_version, func.count()).group_by(
                SubjectKey.kek_version
            )
        ).all()
    counts = {int(version): int(count) for version, count in rows}
    click.echo(f"active version: {vault.keyring.active_version}")
    for version in vault.keyring.versions:
        click.echo(f"version {version}: {counts.get(version, 0)} data keys")
