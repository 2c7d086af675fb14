"""Sequence files: the shipped ones load; broken ones name file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from leads.errors import SequenceDefinitionError
from nurture.sequences import SEQUENCE_DIR, load_sequence, load_sequences

VALID = """\
version: 1
name: demo
steps:
  - id: first
    delay: 2 business days
    subject: "Hi {{ first_name }}"
    html: "<p>Hello</p>"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "seq.yml"
    path.write_text(text)
    return path


def test_shipped_sequences_load() -> None:
    sequences = load_sequences(SEQUENCE_DIR)
    welcome = sequences.get("welcome")
    assert welcome is not None
    assert [s.id for s in welcome.steps] == ["thank-you", "case-study", "check-in"]
    assert welcome.steps[1].delay.unit == "business_days"
    assert {"unsubscribed", "erased", "consent_withdrawn"} <= welcome.exits


def test_defaults_window_and_mandatory_exits(tmp_path: Path) -> None:
    sequence = load_sequence(_write(tmp_path, VALID))
    assert sorted(sequence.window.days) == [0, 1, 2, 3, 4]
    assert sequence.window.start.hour == 9 and sequence.window.end is not None
    assert "unsubscribed" in sequence.exits


@pytest.mark.parametrize(
    ("replace", "by", "line", "reason"),
    [
        ("delay: 2 business days", "delay: soon", 5, "delay must read like"),
        ("Hi {{ first_name }}", "Hi {{ first_name ", 6, "template error"),
        ("Hi {{ first_name }}", "Hi {{ email }}", 6, "unknown template variable"),
        ("name: demo", "name: Demo Sequence!", 2, "short slug"),
        ("version: 1", "version: 2", 1, "version: 1"),
        ("  - id: first", "  - id: first\n    colour: red", 4, "unknown step key"),
    ],
)
def test_broken_file_names_file_line_and_reason(
    tmp_path: Path, replace: str, by: str, line: int, reason: str
) -> None:
    path = _write(tmp_path, VALID.replace(replace, by))
    with pytest.raises(SequenceDefinitionError) as caught:
        load_sequence(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: ")
    assert reason in message


def test_not_yaml_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID + "  - id: [unclosed\n")
    with pytest.raises(SequenceDefinitionError, match=r"seq\.yml:\d+: not valid YAML"):
        load_sequence(path)


def test_html_template_error_line_inside_block(tmp_path: Path) -> None:
    text = VALID.replace(
        'html: "<p>Hello</p>"', "html: |\n      <p>one</p>\n      <p>{% if %}</p>"
    )
    with pytest.raises(SequenceDefinitionError) as caught:
        load_sequence(_write(tmp_path, text))
    assert str(caught.value).split(":")[1] == "9"


def test_duplicate_names_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(VALID)
    (tmp_path / "b.yml").write_text(VALID)
    with pytest.raises(SequenceDefinitionError, match="already used"):
        load_sequences(tmp_path)


def test_worker_start_up_stops_on_a_broken_file(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    (tmp_path / "bad.yml").write_text(VALID.replace("2 business days", "x"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADGUARD_")}
    env["LEADGUARD_VAR_DIR"] = str(tmp_path / "var")
    env["LEADGUARD_NURTURE_SEQUENCES_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", "import nurture.celery_app"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert f"{tmp_path / 'bad.yml'}:5: delay must read like" in result.stderr
