"""Intent and entity F1 on the held-out NLU file: fast pipeline vs rasa init's.

Both models are trained on ``bot/data`` (cached by hash; ``--retrain``
trains them again and records an honest training time) and evaluated with
``rasa test nlu`` on ``bot/evaluation/nlu_holdout.yml``, which training
never sees.

Usage::

    .venv/bin/python bench/bot_nlu_compare.py [--retrain] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BOT_DIR = REPO / "bot"
RASA_CLI = REPO / ".venv-rasa" / "bin" / "rasa"
HOLDOUT = BOT_DIR / "evaluation" / "nlu_holdout.yml"
PIPELINES = {"fast": "config.yml", "default": "config.default.yml"}


def train(pipeline: str, retrain: bool) -> tuple[Path, float | None]:
    command = [
        sys.executable,
        str(BOT_DIR / "train_model.py"),
        "--config",
        PIPELINES[pipeline],
        "--name",
        pipeline,
    ]
    if retrain:
        command.append("--force")
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    model = Path(done.stdout.strip().splitlines()[-1])
    seconds_file = model.with_name(model.name.replace(".tar.gz", ".train-seconds"))
    seconds = float(seconds_file.read_text()) if seconds_file.exists() else None
    return model, seconds


def evaluate(model: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="nlu-eval-") as out:
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}
        subprocess.run(
            [
                str(RASA_CLI),
                "test",
                "nlu",
                "--model",
                str(model),
                "--nlu",
                str(HOLDOUT),
                "--out",
                out,
            ],
            cwd=BOT_DIR,
            env=env,
            capture_output=True,
            check=True,
        )
        intents = json.loads((Path(out) / "intent_report.json").read_text())
        extractor = next(
            name
            for name in ("CRFEntityExtractor", "DIETClassifier")
            if (Path(out) / f"{name}_report.json").exists()
        )
        entities = json.loads((Path(out) / f"{extractor}_report.json").read_text())
    return {
        "entity_extractor": extractor,
        "intent_accuracy": round(intents["accuracy"], 3),
        "intent_f1_weighted": round(intents["weighted avg"]["f1-score"], 3),
        "intent_f1_macro": round(intents["macro avg"]["f1-score"], 3),
        "entity_f1_weighted": round(entities["weighted avg"]["f1-score"], 3),
        "entity_f1_email": round(entities.get("email", {}).get("f1-score", 0.0), 3),
        "examples": intents["weighted avg"]["support"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--retrain", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    report: dict[str, Any] = {"benchmark": "bot_nlu_compare", "pipelines": {}}
    for pipeline in PIPELINES:
        model, seconds = train(pipeline, args.retrain)
        report["pipelines"][pipeline] = {
            "model": model.name,
            "train_seconds": seconds,
            **evaluate(model),
        }
        print(pipeline, report["pipelines"][pipeline], file=sys.stderr)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
