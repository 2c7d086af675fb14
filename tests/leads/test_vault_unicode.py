"""Property-based round trips of arbitrary Unicode through the vault."""

import itertools
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.migrate import upgrade
from leads.validation import clean_text
from leads.vault import LeadInput, Vault
from tests.conftest import make_settings

_counter = itertools.count()
text_values = st.text(min_size=1, max_size=120).filter(
    lambda value: bool(" ".join(value.split()).strip())
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(name=text_values, company=text_values, need=text_values)
def test_any_unicode_survives_the_round_trip(
    tmp_path: Path, name: str, company: str, need: str
) -> None:
    try:
        expected = [clean_text(f, v) for f, v in (("name", name), ("company", company))]
        expected_need = clean_text("need", need)
    except ValueError:
        return  # values made only of control characters are rejected by design
    var = tmp_path / "var"
    if not (var / "leadguard.db").exists():
        upgrade(make_settings(var).database_url)
    vault = Vault.from_settings(make_settings(var))
    lead = LeadInput(
        name=name,
        email=f"u{next(_counter)}@example.com",
        company=company,
        job_title="CTO",
        need=need,
    )
    with vault.sessions.begin() as session:
        lead_id = vault.capture_lead(
            session, lead, score=1, tier="cold", source="test"
        ).lead_id
    with vault.sessions() as session:
        fields = vault.read_personal(session, lead_id)
    assert [fields["name"].reveal(), fields["company"].reveal()] == expected  # type: ignore[union-attr]
    assert fields["need"].reveal() == expected_need  # type: ignore[union-attr]
