"""``leadguard demo seed``: synthetic leads for trying the product."""

from __future__ import annotations

import random

import click
from rich.progress import Progress

from leads.cli.context import open_vault
from leads.consent import ConsentAnswer
from leads.models import Purpose
from leads.notices import current_notice
from leads.scoring import default_rules, score_lead
from leads.vault import LeadInput

FIRST = ["Aisyah", "Wei Ling", "Arjun", "Nurul", "Daniel", "Mei", "Hafiz", "Priya"]
LAST = ["Rahman", "Tan", "Kumar", "Lim", "Wong", "Ismail", "Lee", "Nair"]
TITLES = ["CTO", "Head of IT", "Operations Manager", "Analyst", "Founder"]
COMPANIES = ["Synthetic Sdn Bhd", "Example Logistics", "Demo Foods", "Sample Tech"]


@click.group()
def demo() -> None:
    """Synthetic data for demos and benchmarks."""


@demo.command("seed")
@click.option("--leads", "count", default=20, show_default=True)
@click.option("--seed", default=7, show_default=True, help="Random seed.")
def seed_command(count: int, seed: int) -> None:
    """Create COUNT synthetic leads (addresses under example.com)."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    vault = open_vault()
    rules = default_rules()
    version = current_notice().version
    with Progress() as progress:
        task = progress.add_task("seeding leads", total=count)
        for number in range(count):
            lead = LeadInput(
                name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                email=f"demo{seed}-{number}@example.com",
                company=rng.choice(COMPANIES),
                job_title=rng.choice(TITLES),
                need="Wants to automate lead follow-up",
                company_size=rng.choice(rules.band_choices("company_size")),
                timeline=rng.choice(rules.band_choices("timeline")),
                budget=rng.choice(rules.band_choices("budget")),
            )
            scored = score_lead(
                company_size=lead.company_size,
                timeline=lead.timeline,
                budget=lead.budget,
                job_title=lead.job_title,
            )
            consents = [
                ConsentAnswer(purpose, True, version, "import")
                for purpose in (Purpose.SALES_CONTACT, Purpose.EMAIL_NURTURE)
            ]
            with vault.sessions.begin() as session:
                vault.capture_lead(
                    session,
                    lead,
                    score=scored.score,
                    tier=scored.tier,
                    source="demo",
                    consents=consents,
                    actor="demo",
                )
            progress.advance(task)
    click.echo(f"seeded {count} synthetic leads")
