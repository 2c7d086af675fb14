"""``leadguard nurture``: preview a step, show counts, run a tick by hand."""

from __future__ import annotations

import uuid

import click
from sqlalchemy import func, select

from leads.audit import record_audit
from leads.cli.context import open_vault
from leads.errors import InvalidInputError, NotFoundError
from leads.models import Lead
from leads.settings import get_settings

__all__ = ["nurture"]


@click.group()
def nurture() -> None:
    """Email nurture sequences: preview, status, tick."""


@nurture.command("preview")
@click.argument("sequence_name", metavar="SEQUENCE")
@click.option("--lead", "lead_ref", required=True, help="The lead's id (UUID).")
@click.option("--step", "step_ref", default=None, help="Step id (default: all).")
@click.option("--html/--no-html", default=False, help="Also print the HTML part.")
def preview_command(
    sequence_name: str, lead_ref: str, step_ref: str | None, html: bool
) -> None:
    """Render SEQUENCE for one lead without sending anything.

    The output holds the lead's personal data; the preview is recorded in
    the audit log.
    """
    from nurture.rendering import render_step
    from nurture.sequences import default_sequences
    from nurture.tokens import unsubscribe_token
    from nurture.web import unsubscribe_url

    try:
        lead_id = uuid.UUID(lead_ref)
    except ValueError:
        raise InvalidInputError("--lead", "must be a lead id (UUID)") from None
    sequence = default_sequences().get(sequence_name)
    if sequence is None:
        raise NotFoundError(f"no sequence named {sequence_name!r}")
    steps = [s for s in sequence.steps if step_ref in (None, s.id)]
    if not steps:
        raise NotFoundError(f"no step {step_ref!r} in {sequence_name!r}")
    settings = get_settings()
    vault = open_vault(settings)
    with vault.sessions.begin() as session:
        lead = session.get(Lead, lead_id)
        if lead is None:
            raise NotFoundError("no such lead")
        personal = vault.read_personal(session, lead_id)
        qualifying: dict[str, object] = {
            "tier": lead.tier,
            "score": lead.score,
            "company_size": lead.company_size,
            "timeline": lead.timeline,
            "budget": lead.budget,
        }
        record_audit(
            session, actor="cli", action="nurture.previewed", target_id=str(lead_id)
        )
    url = unsubscribe_url(settings, unsubscribe_token(vault.keyring, lead_id))
    for step in steps:
        rendered = render_step(
            step,
            personal=personal,
            qualifying=qualifying,
            unsubscribe_url=url,
            sender_name="leadguard",
        )
        click.echo(
            f"=== {sequence.name} / {step.id} (delay {step.delay.amount} "
            f"{step.delay.unit.replace('_', ' ')}) ==="
        )
        click.echo(f"Subject: {rendered.subject.reveal()}\n")
        click.echo(rendered.text.reveal())
        if html:
            click.echo(rendered.html.reveal())


@nurture.command("status")
def status_command() -> None:
    """Print enrollments and send records counted by state."""
    from nurture.models import NurtureEnrollment, NurtureSend

    vault = open_vault()
    with vault.sessions() as session:
        enrollments: list[tuple[str, int]] = [
            (str(state), int(count))
            for state, count in session.execute(
                select(NurtureEnrollment.state, func.count()).group_by(
                    NurtureEnrollment.state
                )
            )
        ]
        sends: list[tuple[str, int]] = [
            (str(state), int(count))
            for state, count in session.execute(
                select(NurtureSend.state, func.count()).group_by(NurtureSend.state)
            )
        ]
    click.echo("enrollments:")
    for state, count in sorted(enrollments) or [("(none)", 0)]:
        click.echo(f"  {state:<12} {count}")
    click.echo("sends:")
    for state, count in sorted(sends) or [("(none)", 0)]:
        click.echo(f"  {state:<12} {count}")


@nurture.command("tick")
def tick_command() -> None:
    """Run one beat tick now: enroll, claim due steps, dispatch, sweep."""
    from nurture.tasks import tick_once

    report = tick_once()
    click.echo(
        f"enrolled {report.enrolled}, claimed {report.claimed}, "
        f"dispatched {report.dispatched}, swept {report.swept}"
    )
