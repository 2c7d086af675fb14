"""Lead scoring from a YAML rules file: a score of 0 to 100 and a tier.

The rules (``leads/scoring.yml`` by default) give points for the company
size band, the timeline, the budget band and the seniority of the job title.
An invalid file stops start-up with a :class:`ScoringRulesError` naming the
file, the line and the reason.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from leads.errors import ScoringRulesError
from leads.models import Tier

RULES_FILE = Path(__file__).with_name("scoring.yml")
BAND_GROUPS = ("company_size", "timeline", "budget")
MAX_SCORE = 100


@dataclass(frozen=True)
class LeadScore:
    """A score from 0 to 100 and the tier it falls into."""

    score: int
    tier: str


@dataclass(frozen=True)
class ScoringRules:
    """Validated scoring rules."""

    bands: dict[str, dict[str, int]]
    seniority: list[tuple[re.Pattern[str], int]]
    tiers: list[tuple[str, int]]
    disqualify_title: re.Pattern[str] | None
    free_mail_penalty: int = 0

    def band_choices(self, group: str) -> list[str]:
        """Return the answers a band question accepts, in file order."""
        return list(self.bands[group])

    def score(
        self,
        *,
        company_size: str | None,
        timeline: str | None,
        budget: str | None,
        job_title: str | None,
        free_mail: bool = False,
    ) -> LeadScore:
        """Score one lead; unknown or missing answers give no points.

        A lead that insisted on a free-mail address (gmail, yahoo...) loses
        the ``penalties.free_mail`` points of the rules file.
        """
        answers = {
            "company_size": company_size,
            "timeline": timeline,
            "budget": budget,
        }
        total = sum(
            self.bands[group].get(answer or "", 0) for group, answer in answers.items()
        )
        title = (job_title or "").lower()
        for pattern, points in self.seniority:
            if title and pattern.search(title):
                total += points
                break
        if free_mail:
            total -= self.free_mail_penalty
        total = max(0, min(MAX_SCORE, total))
        if self.disqualify_title and title and self.disqualify_title.search(title):
            return LeadScore(total, Tier.DISQUALIFIED.value)
        for tier, minimum in self.tiers:
            if total >= minimum:
                return LeadScore(total, tier)
        return LeadScore(total, Tier.COLD.value)


def _line(node: yaml.Node | None, path: tuple[Any, ...]) -> int:
    """Return the 1-based line of the node at ``path`` (or its parent)."""
    line = node.start_mark.line + 1 if node else 1
    for key in path:
        if isinstance(node, yaml.MappingNode):
            match = [v for k, v in node.value if k.value == key]
            if not match:
                break
            node = match[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if key >= len(node.value):
                break
            node = node.value[key]
        else:
            break
        line = node.start_mark.line + 1
    return line


def _compile(pattern: object, where: str) -> re.Pattern[str]:
    if not isinstance(pattern, str):
        raise ValueError(f"{where} must be a regular expression string")
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"{where} is not a valid regular expression: {exc}") from None


def _validated(data: Any) -> tuple[ScoringRules | None, tuple[Any, ...], str]:
    """Build the rules, or return the path and reason of the first problem."""
    if not isinstance(data, dict) or data.get("version") != 1:
        return None, ("version",), "the file must be a mapping with 'version: 1'"
    points = data.get("points")
    if not isinstance(points, dict):
        return None, ("points",), "'points' must be a mapping"
    bands: dict[str, dict[str, int]] = {}
    for group in BAND_GROUPS:
        table = points.get(group)
        if not isinstance(table, dict) or not table:
            return None, ("points", group), f"'{group}' must map answers to points"
        for answer, value in table.items():
            if not isinstance(value, int) or not 0 <= value <= MAX_SCORE:
                where = ("points", group, answer)
                return None, where, f"points for {answer!r} must be 0 to 100"
        bands[group] = {str(k): int(v) for k, v in table.items()}
    seniority = []
    raw_seniority = points.get("seniority")
    if not isinstance(raw_seniority, list) or not raw_seniority:
        return None, ("points", "seniority"), "'seniority' must be a list"
    for position, rule in enumerate(raw_seniority):
        where = ("points", "seniority", position)
        if not isinstance(rule, dict) or not isinstance(rule.get("points"), int):
            return None, where, "each seniority rule needs 'pattern' and 'points'"
        try:
            seniority.append((_compile(rule.get("pattern"), "pattern"), rule["points"]))
        except ValueError as exc:
            return None, where, str(exc)
    top = sum(max(t.values()) for t in bands.values()) + max(p for _, p in seniority)
    if top > MAX_SCORE:
        return None, ("points",), f"the best answers add up to {top}, over 100"
    tiers = data.get("tiers")
    expected = {Tier.HOT.value, Tier.WARM.value, Tier.COLD.value}
    if not isinstance(tiers, dict) or set(tiers) != expected:
        return None, ("tiers",), "'tiers' must give hot, warm and cold"
    if not all(isinstance(v, int) for v in tiers.values()) or not (
        tiers["hot"] > tiers["warm"] > tiers["cold"] >= 0
    ):
        return None, ("tiers",), "tier minimums must be integers, hot > warm > cold"
    disqualify = data.get("disqualify") or {}
    try:
        title = disqualify.get("job_title") if isinstance(disqualify, dict) else None
        disqualify_title = _compile(title, "job_title") if title else None
    except ValueError as exc:
        return None, ("disqualify", "job_title"), str(exc)
    penalties = data.get("penalties") or {}
    free_mail = penalties.get("free_mail", 0) if isinstance(penalties, dict) else None
    if not isinstance(free_mail, int) or not 0 <= free_mail <= MAX_SCORE:
        reason = "'penalties.free_mail' must be 0 to 100"
        return None, ("penalties", "free_mail"), reason
    ordered = sorted(tiers.items(), key=lambda item: -item[1])
    rules = ScoringRules(bands, seniority, ordered, disqualify_title, free_mail)
    return rules, (), ""


def load_rules(path: Path = RULES_FILE) -> ScoringRules:
    """Load and validate a rules file.

    Raises:
        ScoringRulesError: the file is missing, not YAML or not valid rules;
            the message reads ``<file>:<line>: <reason>``.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        raise ScoringRulesError(f"{path}: cannot be read") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise ScoringRulesError(f"{path}:{line}: not valid YAML") from None
    rules, where, reason = _validated(data)
    if rules is None:
        raise ScoringRulesError(f"{path}:{_line(node, where)}: {reason}")
    return rules


@functools.cache
def default_rules() -> ScoringRules:
    """Return the rules of the default file, loaded once per process."""
    return load_rules()


def score_lead(
    *,
    company_size: str | None,
    timeline: str | None,
    budget: str | None,
    job_title: str | None,
    free_mail: bool = False,
) -> LeadScore:
    """Score one lead with the default rules."""
    return default_rules().score(
        company_size=company_size,
        timeline=timeline,
        budget=budget,
        job_title=job_title,
        free_mail=free_mail,
    )
