"""Train the Rasa model only when the bot's inputs changed.

The inputs (the configuration, the domain, every file under ``bot/data`` and
the installed Rasa version) are hashed; the model is cached as
``bot/models/<pipeline>/<hash>.tar.gz``. ``bot/models/leadguard.tar.gz``
points at the fast pipeline's model, the one ``make run`` serves.

Usage::

    .venv/bin/python bot/train_model.py                  # fast pipeline
    .venv/bin/python bot/train_model.py --config config.default.yml --name default

Prints the model's path on the last line of standard output. Standard
library only (it runs under either Python environment).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

BOT_DIR = Path(__file__).resolve().parent
REPO = BOT_DIR.parent
RASA_VENV = REPO / ".venv-rasa"
SERVED_MODEL = BOT_DIR / "models" / "leadguard.tar.gz"


def rasa_version(venv: Path = RASA_VENV) -> str:
    """Return the installed Rasa version, read from its package metadata."""
    found = sorted(venv.glob("lib/python*/site-packages/rasa-*.dist-info"))
    if not found:
        raise SystemExit(f"Rasa is not installed in {venv}; run 'make rasa-env'")
    return found[-1].name.removeprefix("rasa-").removesuffix(".dist-info")


def input_files(config: Path) -> list[Path]:
    """Return every file the model depends on, in a stable order."""
    data = sorted(p for p in (BOT_DIR / "data").rglob("*") if p.is_file())
    return [config, BOT_DIR / "domain.yml", *data]


def inputs_hash(config: Path) -> str:
    """Hash the bot's inputs (paths, contents and the Rasa version)."""
    digest = hashlib.sha256()
    digest.update(f"rasa={rasa_version()}\n".encode())
    for path in input_files(config):
        digest.update(str(path.relative_to(BOT_DIR)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def train(config: Path, out_dir: Path, name: str) -> float:
    """Run ``rasa train``; return the seconds it took."""
    # No cache of trained components: the recorded training time is honest.
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONHASHSEED": "0",
        "RASA_MAX_CACHE_SIZE": "0",
    }
    command = [
        str(RASA_VENV / "bin" / "rasa"),
        "train",
        "--config",
        str(config),
        "--domain",
        "domain.yml",
        "--data",
        "data",
        "--out",
        str(out_dir),
        "--fixed-model-name",
        name,
    ]
    started = time.perf_counter()
    subprocess.run(command, cwd=BOT_DIR, env=env, check=True)  # noqa: S603
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    """Train if needed and print the model path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config.yml")
    parser.add_argument("--name", default="fast")
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)

    config = (BOT_DIR / args.config).resolve()
    digest = inputs_hash(config)
    out_dir = BOT_DIR / "models" / args.name
    model = out_dir / f"{digest}.tar.gz"
    if model.exists() and not args.force:
        print(f"model up to date ({args.name}, {digest})", file=sys.stderr)
    else:
        print(f"training the {args.name} model ({digest})...", file=sys.stderr)
        if SERVED_MODEL.is_symlink() and not SERVED_MODEL.exists():
            SERVED_MODEL.unlink()  # rasa train trips over a dangling link
        seconds = train(config, out_dir, digest)
        print(f"trained in {seconds:.1f} s", file=sys.stderr)
        (out_dir / f"{digest}.train-seconds").write_text(f"{seconds:.1f}\n")
    if args.name == "fast":
        SERVED_MODEL.unlink(missing_ok=True)
        SERVED_MODEL.symlink_to(model.relative_to(SERVED_MODEL.parent))
    print(model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
