from pathlib import Path

import pytest

from leads.errors import ScoringRulesError
from leads.scoring import RULES_FILE, load_rules


def test_default_rules_score_and_tier() -> None:
    rules = load_rules()
    best = rules.score(
        company_size="201-1000",
        timeline="this_month",
        budget="over_200k",
        job_title="Chief Technology Officer",
    )
    assert (best.score, best.tier) == (100, "hot")
    weak = rules.score(
        company_size="1-10", timeline="exploring", budget=None, job_title="Analyst"
    )
    assert weak.tier == "cold" and 0 <= weak.score < 45
    assert (
        rules.score(
            company_size="1000+",
            timeline="this_month",
            budget="over_200k",
            job_title="Marketing intern",
        ).tier
        == "disqualified"
    )
    kept_free_mail = rules.score(
        company_size="201-1000",
        timeline="this_month",
        budget="over_200k",
        job_title="CTO",
        free_mail=True,
    )
    assert kept_free_mail.score == 90


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = RULES_FILE.read_text()
    assert old in text
    path = tmp_path / "rules.yml"
    path.write_text(text.replace(old, new, 1))
    return path


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


@pytest.mark.parametrize(
    ("old", "new", "needle", "reason"),
    [
        ('"51-200": 25', '"51-200": 250', '"51-200": 250', "must be 0 to 100"),
        ("pattern: '.'", "pattern: '(unclosed'", "(unclosed", "regular expression"),
        ("hot: 70", "hot: 30", "hot: 30", "hot > warm > cold"),
        ("budget:\n    under_10k", "budget: []\n    under_10k", "budget: []", "YAML"),
    ],
)
def test_invalid_rules_name_file_line_and_reason(
    tmp_path: Path, old: str, new: str, needle: str, reason: str
) -> None:
    path = _broken(tmp_path, old, new)
    with pytest.raises(ScoringRulesError) as caught:
        load_rules(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:")
    assert reason in message
    line = int(message.split(":")[1])
    if reason != "YAML":
        assert line == _line_of(path, needle)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ScoringRulesError, match="cannot be read"):
        load_rules(tmp_path / "absent.yml")
