"""Nurture sequences defined in YAML files under ``nurture/sequences/``.

A sequence names its audience (tiers, score range), a send window in the
lead's time zone, its exit conditions and its steps. Each step has a delay
(``4 hours``, ``2 days``, ``3 business days``), a subject, an HTML template,
an optional text template (derived from the HTML when absent) and optional
conditions on tier, score and the lead's non-personal qualifying fields.

Every template is compiled when the file is loaded, and may use only the
variables in :data:`TEMPLATE_VARIABLES`. A broken file stops start-up with a
:class:`~leads.errors.SequenceDefinitionError` reading
``<file>:<line>: <reason>``.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from jinja2 import TemplateSyntaxError, meta

from leads.errors import SequenceDefinitionError
from leads.models import Tier
from nurture.template_env import html_environment, text_environment

__all__ = [
    "TEMPLATE_VARIABLES",
    "Delay",
    "Sequence",
    "SequenceSet",
    "Step",
    "StepCondition",
    "Window",
    "load_sequence",
    "load_sequences",
]

SEQUENCE_DIR = Path(__file__).resolve().parent / "sequences"
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
QUALIFYING_FIELDS = ("company_size", "timeline", "budget")
TEMPLATE_VARIABLES = frozenset(
    {
        "name",
        "first_name",
        "company",
        "job_title",
        "tier",
        "score",
        "company_size",
        "timeline",
        "budget",
        "unsubscribe_url",
        "sender_name",
    }
)
MANDATORY_EXITS = frozenset({"unsubscribed", "erased", "consent_withdrawn"})
OPTIONAL_EXITS = frozenset({"replied", "converted", "status_changed"})
_DELAY = re.compile(r"^\s*(\d{1,4})\s+(hours?|days?|business days?)\s*$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")


@dataclass(frozen=True)
class Delay:
    """How long after the previous step (or enrollment) a step is due."""

    amount: int
    unit: str  # "hours", "days" or "business_days"


@dataclass(frozen=True)
class Window:
    """When emails may go out, in the lead's local time.

    ``time_zone`` None means the lead's own zone (falling back to
    ``LEADGUARD_DEFAULT_TIME_ZONE``).
    """

    days: frozenset[int]
    start: dt.time
    end: dt.time | None  # None means midnight at the end of the day
    time_zone: str | None = None


@dataclass(frozen=True)
class StepCondition:
    """Who gets a step: tiers, a score range, qualifying field values."""

    tiers: frozenset[str] | None = None
    min_score: int | None = None
    max_score: int | None = None
    fields: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def matches(
        self, *, tier: str, score: int, qualifying: Mapping[str, str | None]
    ) -> bool:
        """Whether a lead with these non-personal values qualifies."""
        if self.tiers is not None and tier not in self.tiers:
            return False
        if self.min_score is not None and score < self.min_score:
            return False
        if self.max_score is not None and score > self.max_score:
            return False
        return all(qualifying.get(k) in allowed for k, allowed in self.fields.items())


@dataclass(frozen=True)
class Step:
    """One email of a sequence."""

    id: str
    delay: Delay
    subject: str
    html: str
    text: str | None
    when: StepCondition


@dataclass(frozen=True)
class Sequence:
    """A validated sequence."""

    name: str
    path: Path
    audience: StepCondition
    window: Window
    exits: frozenset[str]
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class SequenceSet:
    """Every loaded sequence, by name."""

    by_name: Mapping[str, Sequence]

    def get(self, name: str) -> Sequence | None:
        """Return a sequence, or None when no file defines it any more."""
        return self.by_name.get(name)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.by_name.values())


class _Problem(Exception):  # noqa: N818 - internal control flow, never escapes
    def __init__(self, path: tuple[Any, ...], reason: str, offset: int = 0) -> None:
        super().__init__(reason)
        self.path = path
        self.reason = reason
        self.offset = offset


def _node_line(node: yaml.Node | None, path: tuple[Any, ...]) -> int:
    """Return the 1-based line of the node at ``path``, or its nearest parent."""
    if node is None:
        return 1
    line = node.start_mark.line + 1
    for key in path:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            child = node.value[key] if key < len(node.value) else None
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
        if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
            line += 1
    return line


def _parse_delay(raw: Any, where: tuple[Any, ...]) -> Delay:
    match = _DELAY.match(str(raw)) if isinstance(raw, str | int) else None
    if isinstance(raw, int) and not isinstance(raw, bool):
        match = _DELAY.match(f"{raw} hours")
    if match is None:
        raise _Problem(
            where, "delay must read like '4 hours', '2 days', '3 business days'"
        )
    unit = match.group(2)
    unit = "business_days" if unit.startswith("business") else unit.rstrip("s") + "s"
    return Delay(int(match.group(1)), unit)


def _parse_clock(raw: Any, where: tuple[Any, ...]) -> dt.time | None:
    if not isinstance(raw, str) or not _CLOCK.match(raw):
        raise _Problem(where, "times must be 'HH:MM' (00:00 to 24:00)")
    if raw == "24:00":
        return None
    hours, minutes = raw.split(":")
    return dt.time(int(hours), int(minutes))


def _parse_window(raw: Any) -> Window:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise _Problem(("window",), "'window' must be a mapping")
    days_raw = raw.get("days", list(DAY_NAMES[:5]))
    if not isinstance(days_raw, list) or not days_raw:
        raise _Problem(("window", "days"), "'days' must list days like mon, tue")
    days: set[int] = set()
    for position, day in enumerate(days_raw):
        if str(day).lower() not in DAY_NAMES:
            raise _Problem(("window", "days", position), f"unknown day {day!r}")
        days.add(DAY_NAMES.index(str(day).lower()))
    start = _parse_clock(raw.get("start", "09:00"), ("window", "start"))
    end = _parse_clock(raw.get("end", "17:00"), ("window", "end"))
    if start is None or (end is not None and end <= start):
        raise _Problem(("window",), "the window must end after it starts")
    zone = raw.get("time_zone", "lead")
    if zone != "lead":
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise _Problem(
                ("window", "time_zone"), f"unknown time zone {zone!r}"
            ) from None
    return Window(frozenset(days), start, end, None if zone == "lead" else str(zone))


def _parse_condition(raw: Any, where: tuple[Any, ...]) -> StepCondition:
    if raw is None:
        return StepCondition()
    if not isinstance(raw, dict):
        raise _Problem(where, "conditions must be a mapping")
    unknown = set(raw) - {"tiers", "min_score", "max_score", "fields"}
    if unknown:
        raise _Problem(where, f"unknown condition {sorted(unknown)[0]!r}")
    tiers = raw.get("tiers")
    known_tiers = {t.value for t in Tier}
    if tiers is not None and (
        not isinstance(tiers, list) or not set(map(str, tiers)) <= known_tiers
    ):
        raise _Problem((*where, "tiers"), f"tiers must be among {sorted(known_tiers)}")
    scores = {}
    for key in ("min_score", "max_score"):
        value = raw.get(key)
        if value is not None and (not isinstance(value, int) or not 0 <= value <= 100):
            raise _Problem((*where, key), f"{key} must be an integer from 0 to 100")
        scores[key] = value
    fields_raw = raw.get("fields") or {}
    if not isinstance(fields_raw, dict):
        raise _Problem((*where, "fields"), "'fields' must map a field to values")
    fields: dict[str, frozenset[str]] = {}
    for name, values in fields_raw.items():
        if name not in QUALIFYING_FIELDS:
            raise _Problem(
                (*where, "fields", name),
                f"conditions may use only {', '.join(QUALIFYING_FIELDS)}",
            )
        if not isinstance(values, list) or not values:
            raise _Problem((*where, "fields", name), "give a list of values")
        fields[name] = frozenset(str(v) for v in values)
    return StepCondition(
        frozenset(map(str, tiers)) if tiers is not None else None,
        scores["min_score"],
        scores["max_score"],
        fields,
    )


def _check_template(source: Any, where: tuple[Any, ...], html: bool) -> str:
    if not isinstance(source, str) or not source.strip():
        raise _Problem(where, "must be a non-empty template string")
    environment = html_environment() if html else text_environment()
    try:
        parsed = environment.parse(source)
    except TemplateSyntaxError as exc:
        raise _Problem(
            where, f"template error: {exc.message}", exc.lineno - 1
        ) from None
    unknown = meta.find_undeclared_variables(parsed) - TEMPLATE_VARIABLES
    if unknown:
        raise _Problem(where, f"unknown template variable {sorted(unknown)[0]!r}")
    return source


def _parse_step(raw: Any, position: int, seen: set[str]) -> Step:
    where: tuple[Any, ...] = ("steps", position)
    if not isinstance(raw, dict):
        raise _Problem(where, "each step must be a mapping")
    unknown = set(raw) - {"id", "delay", "subject", "html", "text", "when"}
    if unknown:
        raise _Problem(where, f"unknown step key {sorted(unknown)[0]!r}")
    step_id = raw.get("id")
    if not isinstance(step_id, str) or not _NAME.match(step_id) or step_id in seen:
        raise _Problem((*where, "id"), "each step needs a unique id (a-z, 0-9, - _)")
    seen.add(step_id)
    if "delay" not in raw:
        raise _Problem(where, "each step needs a delay")
    text = raw.get("text")
    return Step(
        id=step_id,
        delay=_parse_delay(raw["delay"], (*where, "delay")),
        subject=_check_template(raw.get("subject"), (*where, "subject"), False),
        html=_check_template(raw.get("html"), (*where, "html"), True),
        text=_check_template(text, (*where, "text"), False) if text else None,
        when=_parse_condition(raw.get("when"), (*where, "when")),
    )


def _parse(data: Any, path: Path) -> Sequence:
    if not isinstance(data, dict) or data.get("version") != 1:
        raise _Problem(("version",), "the file must be a mapping with 'version: 1'")
    unknown = set(data) - {
        "version",
        "name",
        "description",
        "audience",
        "window",
        "exit_on",
        "steps",
    }
    if unknown:
        raise _Problem((sorted(unknown)[0],), f"unknown key {sorted(unknown)[0]!r}")
    name = data.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise _Problem(("name",), "'name' must be a short slug (a-z, 0-9, - _)")
    exits_raw = data.get("exit_on", sorted(MANDATORY_EXITS | OPTIONAL_EXITS))
    if not isinstance(exits_raw, list):
        raise _Problem(("exit_on",), "'exit_on' must be a list")
    for position, item in enumerate(exits_raw):
        if item not in MANDATORY_EXITS | OPTIONAL_EXITS:
            raise _Problem(("exit_on", position), f"unknown exit condition {item!r}")
    steps_raw = data.get("steps")
    if not isinstance(steps_raw, list) or not steps_raw:
        raise _Problem(("steps",), "'steps' must be a non-empty list")
    seen: set[str] = set()
    steps = tuple(_parse_step(s, i, seen) for i, s in enumerate(steps_raw))
    return Sequence(
        name=name,
        path=path,
        audience=_parse_condition(data.get("audience"), ("audience",)),
        window=_parse_window(data.get("window")),
        exits=frozenset(exits_raw) | MANDATORY_EXITS,
        steps=steps,
    )


def load_sequence(path: Path) -> Sequence:
    """Load and validate one sequence file.

    Raises:
        SequenceDefinitionError: the file cannot be read, is not YAML or
            is not a valid sequence; the message reads
            ``<file>:<line>: <reason>``.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        raise SequenceDefinitionError(f"{path}: cannot be read") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise SequenceDefinitionError(f"{path}:{line}: not valid YAML") from None
    try:
        return _parse(data, path)
    except _Problem as problem:
        line = _node_line(node, problem.path) + problem.offset
        raise SequenceDefinitionError(f"{path}:{line}: {problem.reason}") from None


def load_sequences(directory: Path = SEQUENCE_DIR) -> SequenceSet:
    """Load every ``*.yml`` file of a directory; names must be unique.

    Raises:
        SequenceDefinitionError: a file is invalid, or two files share a name.
    """
    found: dict[str, Sequence] = {}
    for path in sorted(directory.glob("*.yml")):
        sequence = load_sequence(path)
        if sequence.name in found:
            raise SequenceDefinitionError(
                f"{path}:1: sequence name {sequence.name!r} is already used by "
                f"{found[sequence.name].path.name}"
            )
        found[sequence.name] = sequence
    return SequenceSet(found)


@functools.cache
def _cached(directory: Path) -> SequenceSet:
    return load_sequences(directory)


def default_sequences() -> SequenceSet:
    """Return the configured sequences, loaded once per process.

    ``LEADGUARD_NURTURE_SEQUENCES_DIR`` overrides the shipped
    ``nurture/sequences/`` folder.

    Raises:
        SequenceDefinitionError: a file is invalid (start-up stops).
    """
    from leads.settings import get_settings

    return _cached(get_settings().nurture_sequences_dir or SEQUENCE_DIR)
