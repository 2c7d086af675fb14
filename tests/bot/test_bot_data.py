"""The Rasa project: data validates, test stories pass, NLU holds out.

``rasa test core`` (the test stories) and ``rasa test nlu`` (the held-out
file) run once for the module, side by side, with the cached fast model;
each test reads its part of the results.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.bot.conftest import BOT_DIR, RASA_CLI, rasa_env

pytestmark = [pytest.mark.rasa, pytest.mark.slow]

INTENT_F1_FLOOR = 0.88
ENTITY_F1_FLOOR = 0.75
HOLDOUT = BOT_DIR / "evaluation" / "nlu_holdout.yml"
TEST_STORIES = BOT_DIR / "tests" / "test_stories.yml"
REQUIRED_STORIES = (
    "happy path",
    "consent refused",
    "consent for sales contact but not for emails",
    "skip",
    "correct an earlier answer",
    "privacy question",
    "stop in the middle",
    "talk to a human",
    "sensitive number pasted",
    "erasure request",
)


def test_data_validates_without_warnings(
    rasa_available: None, bot_var_dir: Path
) -> None:
    done = subprocess.run(
        [
            str(RASA_CLI),
            "data",
            "validate",
            "--fail-on-warnings",
            "--domain",
            "domain.yml",
            "--data",
            "data",
            str(TEST_STORIES),
        ],
        cwd=BOT_DIR,
        env=rasa_env(bot_var_dir),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "UserWarning" not in done.stderr


@pytest.fixture(scope="module")
def results(
    trained_model: Path, bot_var_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """Run ``rasa test core`` and ``rasa test nlu`` side by side (two cores)."""
    out = tmp_path_factory.mktemp("rasa-test")
    common = ["--model", str(trained_model)]
    commands = {
        "core": [
            str(RASA_CLI),
            "test",
            "core",
            *common,
            "--stories",
            str(TEST_STORIES),
            "--fail-on-prediction-errors",
            "--out",
            str(out / "core"),
        ],
        "nlu": [
            str(RASA_CLI),
            "test",
            "nlu",
            *common,
            "--nlu",
            str(HOLDOUT),
            "--out",
            str(out / "nlu"),
        ],
    }
    running = {
        name: subprocess.Popen(
            command,
            cwd=BOT_DIR,
            env=rasa_env(bot_var_dir),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name, command in commands.items()
    }
    finished = {}
    for name, process in running.items():
        output, _ = process.communicate(timeout=1200)
        finished[name] = subprocess.CompletedProcess(
            commands[name], process.returncode, output, ""
        )
    assert finished["nlu"].returncode == 0, finished["nlu"].stdout[-3000:]
    return out, finished["core"]


def _report(out: Path, name: str) -> dict[str, Any]:
    path = out / name
    assert path.exists(), f"{name} was not written"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def test_the_test_stories_cover_every_required_path() -> None:
    text = TEST_STORIES.read_text(encoding="utf-8")
    titles = [
        line.split("story:", 1)[1] for line in text.splitlines() if "story:" in line
    ]
    for required in REQUIRED_STORIES:
        assert any(required in title for title in titles), required


def test_every_test_story_passes(
    results: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, done = results
    assert done.returncode == 0, done.stdout[-3000:]
    report = _report(out / "core", "story_report.json")
    failed = (out / "core" / "failed_test_stories.yml").read_text(encoding="utf-8")
    assert "story:" not in failed, failed[:3000]
    assert report["weighted avg"]["f1-score"] == pytest.approx(1.0)


def test_held_out_intents_stay_above_the_floor(
    results: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, _done = results
    report = _report(out / "nlu", "intent_report.json")
    assert report["weighted avg"]["f1-score"] >= INTENT_F1_FLOOR
    assert HOLDOUT.parent.name == "evaluation"  # never under bot/data


def test_held_out_entities_stay_above_the_floor(
    results: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, _done = results
    report = _report(out / "nlu", "CRFEntityExtractor_report.json")
    assert report["weighted avg"]["f1-score"] >= ENTITY_F1_FLOOR
    assert report["email"]["f1-score"] >= 0.9
