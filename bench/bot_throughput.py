"""Conversation turns per second and latency: fast pipeline vs rasa init's.

For each pipeline (``bot/config.yml`` and ``bot/config.default.yml``, both
trained on the same data and cached by hash), one run on this machine starts
a real Rasa server with the encrypted tracker store and a real action
server, then plays a full lead conversation (14 turns: greeting, privacy
question, consent, every field, the lead written to the vault) with 1, 10
and 50 conversations at once. A turn is one POST to the REST webhook and
its complete answer.

Usage::

    .venv/bin/python bench/bot_throughput.py [--levels 1,10,50] [--out FILE]

Prints JSON (and writes it to ``--out`` if given).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bot_stack import BOT_DIR, BotStack, bot_stack

PIPELINES = {"fast": "config.yml", "default": "config.default.yml"}
WEBHOOK = "/webhooks/redacting_rest/webhook"


QUESTIONS = [
    "hi",
    "are you a bot?",
    "what's the weather like",
    "tell me a joke",
    "thanks",
    "bye",
]


def script(number: int, workload: str = "lead") -> list[str]:
    """One conversation of the workload.

    ``lead``: the full lead conversation (the email is unique so every lead
    is new). ``questions``: small talk answered from the domain's responses,
    with no action-server call after the greeting, so the NLU and the
    policies weigh more.
    """
    if workload == "questions":
        return QUESTIONS
    return [
        "hello",
        "what data do you keep and why",
        "I'd like a demo for my team",
        "yes",
        "yes",
        "Ana Lim",
        f"ana.lim.{number}@acme-bench.com.my",
        "Acme Sdn Bhd",
        "Head of Operations",
        "51-200",
        "A CRM for our field sales team",
        "this_quarter",
        "50k_200k",
        "skip",
    ]


def train(pipeline: str) -> tuple[Path, float | None]:
    """Train (or reuse) a pipeline's model; return it and its training time."""
    done = subprocess.run(
        [
            sys.executable,
            str(BOT_DIR / "train_model.py"),
            "--config",
            PIPELINES[pipeline],
            "--name",
            pipeline,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    model = Path(done.stdout.strip().splitlines()[-1])
    seconds_file = model.with_name(model.name.replace(".tar.gz", ".train-seconds"))
    seconds = float(seconds_file.read_text()) if seconds_file.exists() else None
    return model, seconds


async def conversation(
    client: httpx.AsyncClient,
    url: str,
    number: int,
    latencies: list[float],
    workload: str,
) -> int:
    """Play one conversation; return the number of failed turns."""
    sender = secrets.token_urlsafe(18)
    errors = 0
    for text in script(number, workload):
        started = time.perf_counter()
        answer = await client.post(url, json={"sender": sender, "message": text})
        latencies.append(time.perf_counter() - started)
        if answer.status_code != 200 or not answer.json():
            errors += 1
    return errors


async def level(
    stack: BotStack, concurrency: int, rounds: int, base: int, workload: str
) -> dict[str, Any]:
    """Run ``concurrency`` workers, each playing ``rounds`` conversations."""
    url = stack.rasa_url + WEBHOOK
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency + 5)
    async with httpx.AsyncClient(timeout=600, limits=limits) as client:

        async def worker(index: int) -> int:
            failed = 0
            for round_number in range(rounds):
                number = base + index * rounds + round_number
                failed += await conversation(client, url, number, latencies, workload)
            return failed

        started = time.perf_counter()
        errors = sum(await asyncio.gather(*(worker(i) for i in range(concurrency))))
        elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "conversations": concurrency * rounds,
        "turns": len(latencies),
        "errors": errors,
        "seconds": round(elapsed, 2),
        "turns_per_sec": round(len(latencies) / elapsed, 2),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 1),
    }


def rounds_for(concurrency: int) -> int:
    """Enough conversations for a stable figure without a long run."""
    return {1: 6, 10: 3}.get(concurrency, 1)


async def measure(
    stack: BotStack, levels: list[int], workloads: list[str]
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for workload in workloads:
        await level(stack, 2, 1, base=900_000, workload=workload)  # warm-up
        results[workload] = {}
        for index, concurrency in enumerate(levels):
            results[workload][str(concurrency)] = await level(
                stack,
                concurrency,
                rounds_for(concurrency),
                base=(index + 1) * 100_000 + len(results) * 10_000,
                workload=workload,
            )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,10,50")
    parser.add_argument("--workloads", default="lead,questions")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    workloads = args.workloads.split(",")

    report: dict[str, Any] = {
        "benchmark": "bot_throughput",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": os.getloadavg(),
        },
        "workloads": {
            "lead": "14-turn lead conversation over the REST webhook, "
            "encrypted SQLite tracker store, real action server and vault",
            "questions": "6-turn small talk answered from domain responses "
            "(one action-server call), same stack",
        },
        "pipelines": {},
    }
    for pipeline in PIPELINES:
        model, train_seconds = train(pipeline)
        print(f"{pipeline}: serving {model.name}", file=sys.stderr)
        with (
            tempfile.TemporaryDirectory(prefix=f"bench-{pipeline}-") as tmp,
            bot_stack(model, Path(tmp)) as stack,
        ):
            levels_result = asyncio.run(measure(stack, levels, workloads))
            report["pipelines"][pipeline] = {
                "model": model.name,
                "train_seconds": train_seconds,
                "model_load_seconds": round(stack.rasa_start_seconds, 1),
                "levels": levels_result,
            }
        print(f"{pipeline}: {json.dumps(levels_result)}", file=sys.stderr)

    fast, default = report["pipelines"]["fast"], report["pipelines"]["default"]
    report["at_10_concurrent"] = {"goal": "throughput_ratio >= 3, p95_ratio <= 0.5"}
    for workload in workloads:
        if "10" in fast["levels"][workload]:
            f10 = fast["levels"][workload]["10"]
            d10 = default["levels"][workload]["10"]
            report["at_10_concurrent"][workload] = {
                "throughput_ratio": round(
                    f10["turns_per_sec"] / d10["turns_per_sec"], 2
                ),
                "p95_ratio": round(f10["p95_ms"] / d10["p95_ms"], 2),
            }
    report["machine"]["load_average_at_end"] = os.getloadavg()
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
