"""Full-stack load: concurrent visitors through the gateway while nurture sends.

Starts the real stack of the Procfile (Rasa, action server, console, Celery
worker and beat, SMTP sink) on PostgreSQL and Redis, with its own database,
Redis databases and var directory, then:

1. seeds synthetic leads so that the nurture pipeline is sending while the
   visitors chat (``--seed-leads``);
2. runs ``--visitors`` concurrent visitors, each from its own loopback
   address (127.0.1.x), who start a chat and complete the lead form with
   both consents, answering from a script and pressing the bot's quick
   reply buttons where it offers them;
3. waits until the nurture pipeline has sent the first step to every lead
   that consented (or ``--mail-timeout`` passes);
4. stops the stack and searches every store and log for the visitors'
   planted values (canaries): the PostgreSQL dump, every key and value of
   the Redis databases used, every file of the var directory (SQLite files,
   heartbeats, metrics) and every process log. The mail folder is the SMTP
   relay's side, outside our stores: it is reported separately.

Prints one JSON document. Exit status 0 only when every visitor completed,
no request failed and no canary was found.

    .venv/bin/python bench/fullstack_load.py --visitors 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SKIP_PROCESSES = {"health"}


@dataclass
class Visitor:
    """One scripted visitor and what happened to it."""

    number: int
    token: str = field(default_factory=lambda: secrets.token_hex(6))
    turns: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    completed: bool = False
    retries: int = 0
    transcript: list[str] = field(default_factory=list)

    @property
    def canaries(self) -> dict[str, str]:
        """Values only this visitor typed (searched for afterwards)."""
        return {
            "name": f"Nadia Zq{self.token}",
            "email": f"zq{self.token}@corp{self.number}.example.com",
            "company": f"Zqco{self.token} Sdn Bhd",
            "need": f"a zqneed{self.token} for our field team",
        }

    @property
    def needles(self) -> list[str]:
        """Lower-case substrings that must never appear in a store or log."""
        return [f"zq{self.token}", f"zqco{self.token}", f"zqneed{self.token}"]


# What a visitor says, in order; the bot's prompt decides which is used.
def answer_for(prompt: str, visitor: Visitor) -> str:
    """Pick the answer to the bot's latest prompt."""
    text = prompt.lower()
    values = visitor.canaries
    rules = [
        (("email", "e-mail"), values["email"]),
        (("your name", "call you", "who am i"), values["name"]),
        (("company size", "how many", "people", "employees"), "51-200"),
        (("company", "organisation", "organization", "work for"), values["company"]),
        (("title", "role", "position", "job"), "Head of Operations"),
        (("timeline", "when", "how soon"), "this quarter"),
        (("budget",), "RM 50k-200k"),
        (("phone", "number", "call"), "skip"),
        (("need", "looking for", "help", "problem", "challenge"), values["need"]),
    ]
    for keys, value in rules:
        if any(key in text for key in keys):
            return value
    return "yes"


BUTTON_PREFERENCES = (
    "yes",
    "51",
    "this quarter",
    "50k",
    "skip",
    "no thanks",
    "demo",
    "talk",
)


def pick_button(buttons: list[dict[str, Any]], wanted: str) -> dict[str, Any] | None:
    """Choose the quick reply matching the wanted answer, else a sensible one."""
    titles = [str(button.get("title", "")).lower() for button in buttons]
    for index, title in enumerate(titles):
        if wanted.lower() in title or title in wanted.lower():
            return buttons[index]
    for preference in BUTTON_PREFERENCES:
        for index, title in enumerate(titles):
            if preference in title:
                return buttons[index]
    return None


# A 503 with "retry": true is the gateway saying the bot was too slow; the
# widget keeps the visitor's text and sends it again. Each retry is counted
# (``retried_turns``); a turn still failing after the retries is an error.
RETRIES = 2
RETRY_PAUSE_SECONDS = 2.0
SUBMITTED = "passed your enquiry to our team"
FAILED = "couldn't pass your enquiry"


def is_done(said: str) -> bool:
    """Whether the bot confirmed the hand-off (raises on its failure text)."""
    if FAILED in said:
        raise RuntimeError("the bot could not pass the enquiry on")
    return SUBMITTED in said


@dataclass(frozen=True)
class Pace:
    """How a visitor paces the conversation (human typing, staggered arrival)."""

    think_min: float
    think_max: float
    ramp_seconds: float
    visitors: int

    def arrival(self, number: int) -> float:
        """Seconds after the start at which visitor ``number`` opens the chat."""
        return number * self.ramp_seconds / max(self.visitors, 1)

    def think(self, rng: random.Random) -> float:
        """Seconds a visitor takes to read and type the next answer."""
        return rng.uniform(self.think_min, self.think_max)


async def run_visitor(
    visitor: Visitor,
    base: str,
    origin: str,
    max_turns: int,
    timeout: float,
    pace: Pace,
) -> None:
    """Drive one conversation to the end of the lead form."""
    import httpx

    rng = random.Random(visitor.number)
    await asyncio.sleep(pace.arrival(visitor.number))

    # A browser drops an idle keep-alive connection before the server does
    # (uvicorn closes after 5 s); so does this client.
    transport = httpx.AsyncHTTPTransport(
        local_address=f"127.0.{1 + visitor.number // 250}.{1 + visitor.number % 250}",
        limits=httpx.Limits(keepalive_expiry=3.0),
    )
    headers = {"Origin": origin}
    async with httpx.AsyncClient(
        transport=transport, base_url=base, headers=headers, timeout=timeout
    ) as client:
        try:
            await converse(client, visitor, max_turns, pace, rng)
        except httpx.HTTPError as exc:
            visitor.errors.append(f"transport: {type(exc).__name__}")


async def converse(
    client: Any, visitor: Visitor, max_turns: int, pace: Pace, rng: random.Random
) -> None:
    """The conversation itself, over one client."""
    started = await client.post("/chat/session", json={"language": "en"})
    if started.status_code != 200:
        visitor.errors.append(f"session {started.status_code}")
        return
    body = started.json()
    session = body["session"]
    messages = body["messages"]
    opening = [
        {"text": "hello"},
        {"text": "I'd like a demo for my team"},
    ]
    for turn in range(max_turns):
        if turn < len(opening):
            payload: dict[str, Any] = dict(opening[turn])
            shown = payload["text"]
        else:
            last = messages[-1] if messages else {"text": "", "buttons": []}
            wanted = answer_for(str(last.get("text") or ""), visitor)
            button = pick_button(last.get("buttons") or [], wanted)
            if button:
                payload = {"reply": button["reply"]}
                shown = f"[{button.get('title')}]"
            else:
                payload = {"text": wanted}
                shown = wanted
        visitor.transcript.append(f"> {shown}")
        await asyncio.sleep(pace.think(rng))
        payload["session"] = session
        for attempt in range(RETRIES + 1):
            sent = time.perf_counter()
            response = await client.post("/chat/message", json=payload)
            visitor.turns.append(time.perf_counter() - sent)
            retry = response.status_code == 503 and response.json().get("retry")
            if not retry or attempt == RETRIES:
                break
            # what the widget offers: the text is kept and sent again
            visitor.retries += 1
            await asyncio.sleep(RETRY_PAUSE_SECONDS)
        if response.status_code != 200:
            visitor.errors.append(f"turn {turn}: {response.status_code}")
            return
        messages = response.json()["messages"]
        said = " | ".join(str(m.get("text") or "") for m in messages)
        titles = [str(b.get("title")) for m in messages for b in m.get("buttons") or []]
        visitor.transcript.append(f"< {said[:240]} {titles or ''}")
        try:
            done = is_done(said)
        except RuntimeError as exc:
            visitor.errors.append(f"turn {turn}: {exc}")
            return
        if done:
            visitor.completed = True
            return
    visitor.errors.append("form not completed within the turn limit")


class Stack:
    """The Procfile's processes, started with one environment."""

    def __init__(
        self, environment: dict[str, str], logs: Path, ports: dict[str, int]
    ) -> None:
        self.environment = environment
        self.logs = logs
        self.ports = ports
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def command_for(self, name: str, command: str) -> str:
        """The Procfile command with this run's ports (so it can run beside
        a development stack on the default ones). Nothing else changes."""
        if name == "rasa":
            endpoints = self.logs.parent / "rasa-endpoints.yml"
            original = (ROOT / "bot" / "endpoints.yml").read_text()
            endpoints.write_text(
                original.replace("127.0.0.1:5055", f"127.0.0.1:{self.ports['actions']}")
            )
            command = command.replace("-p 5005", f"-p {self.ports['rasa']}")
            command = command.replace(
                "--endpoints endpoints.yml", f"--endpoints {endpoints}"
            )
        return command

    def start(self) -> None:
        """Start every process of the Procfile except the health watcher."""
        self.logs.mkdir(parents=True, exist_ok=True)
        for line in (ROOT / "Procfile").read_text().splitlines():
            if ":" not in line or line.lstrip().startswith("#"):
                continue
            name, command = line.split(":", 1)
            if name.strip() in SKIP_PROCESSES:
                continue
            log = (self.logs / f"{name.strip()}.log").open("wb")
            shell_command = self.command_for(name.strip(), command.strip())
            self.processes[name.strip()] = subprocess.Popen(
                ["/bin/sh", "-c", shell_command],
                cwd=ROOT,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self) -> None:
        """SIGTERM each process group we started, then wait (bounded)."""
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in self.processes.values():
            remaining = max(deadline - time.monotonic(), 0.1)
            try:
                process.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far by each process group (all its children)."""
        ticks = os.sysconf("SC_CLK_TCK")
        groups = {p.pid: name for name, p in self.processes.items()}
        used = dict.fromkeys(self.processes, 0.0)
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            group = int(fields[2])
            if group in groups:
                used[groups[group]] += (int(fields[11]) + int(fields[12])) / ticks
        return {name: round(value, 1) for name, value in used.items()}

    def dead(self) -> list[str]:
        """Names of processes that exited."""
        return [name for name, p in self.processes.items() if p.poll() is not None]


def port_in_use(port: int) -> bool:
    """Whether something listens on 127.0.0.1:port."""
    import socket

    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def create_database() -> str:
    """Create an empty PostgreSQL database; return its name."""
    from sqlalchemy import create_engine, text

    name = f"lg_bench_{secrets.token_hex(4)}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name


def drop_database(name: str) -> None:
    """Drop the bench database."""
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def count_mail(folder: Path) -> int:
    """Messages the SMTP sink has written."""
    return len(list(folder.glob("*.eml"))) if folder.is_dir() else 0


def search_bytes(data: bytes, needles: list[bytes]) -> int:
    """How many needles occur in data (case-insensitive)."""
    lowered = data.lower()
    return sum(1 for needle in needles if needle in lowered)


def scan_stores(
    database: str, redis_dbs: list[int], var_dir: Path, needles: list[str]
) -> dict[str, Any]:
    """Search every store and log for the canaries; count hits per place."""
    import redis

    encoded = [needle.lower().encode() for needle in needles]
    hits: dict[str, Any] = {}
    dump = subprocess.run(
        ["pg_dump", "-h", "127.0.0.1", "-U", "postgres", "--no-owner", database],
        capture_output=True,
        check=True,
    ).stdout
    hits["postgresql"] = search_bytes(dump, encoded)
    hits["postgresql_dump_bytes"] = len(dump)
    redis_hits = 0
    redis_keys = 0
    for number in redis_dbs:
        client = redis.Redis(host="127.0.0.1", port=6379, db=number)
        for key in client.scan_iter(count=1000):
            redis_keys += 1
            value = client.dump(key) or b""
            redis_hits += search_bytes(key + b" " + value, encoded)
    hits["redis"] = redis_hits
    hits["redis_keys"] = redis_keys
    file_hits: dict[str, int] = {}
    mail_hits = 0
    for path in var_dir.rglob("*"):
        if not path.is_file():
            continue
        found = search_bytes(path.read_bytes(), encoded)
        if path.parent.name == "mail" or "mail" in path.relative_to(var_dir).parts:
            mail_hits += found
        elif found:
            file_hits[str(path.relative_to(var_dir))] = found
    hits["files_and_logs"] = sum(file_hits.values())
    hits["files_with_hits"] = file_hits
    hits["mail_folder_outside_stores"] = mail_hits
    return hits


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))
    return ordered[index]


def main() -> int:
    """Parse arguments, run the benchmark, always clean up after it."""
    cleanup: list[Any] = []
    try:
        return run(cleanup)
    finally:
        for action in reversed(cleanup):
            action()


def run(cleanup: list[Any]) -> int:
    """The benchmark; registers its clean-up actions in ``cleanup``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=50)
    parser.add_argument("--seed-leads", type=int, default=200)
    parser.add_argument("--max-turns", type=int, default=30)
    parser.add_argument("--turn-timeout", type=float, default=30.0)
    parser.add_argument("--mail-timeout", type=float, default=180.0)
    parser.add_argument("--think-min", type=float, default=2.0, help="seconds")
    parser.add_argument("--think-max", type=float, default=6.0, help="seconds")
    parser.add_argument("--ramp", type=float, default=15.0, help="arrivals spread")
    parser.add_argument(
        "--port", type=int, default=8100, help="console; Rasa, actions, mail +1..3"
    )
    parser.add_argument("--redis-db", type=int, default=12)
    parser.add_argument("--keep", action="store_true", help="keep var and database")
    parser.add_argument(
        "--transcript", action="store_true", help="show visitor 0's conversation"
    )
    arguments = parser.parse_args()

    ports = {
        "console": arguments.port,
        "rasa": arguments.port + 1,
        "actions": arguments.port + 2,
        "mail": arguments.port + 3,
    }
    busy = [port for port in ports.values() if port_in_use(port)]
    if busy:
        return finish(
            {"benchmark": "fullstack_load", "error": f"ports in use: {busy}"}, 1
        )
    var_dir = Path(tempfile.mkdtemp(prefix="leadguard-fullstack-"))
    database = create_database()
    if not arguments.keep:
        cleanup.append(lambda: subprocess.run(["rm", "-rf", str(var_dir)], check=False))
        cleanup.append(lambda: drop_database(database))
    pg_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"
    broker_db, limits_db = arguments.redis_db, arguments.redis_db + 1
    import redis

    for number in (broker_db, limits_db):
        redis.Redis(host="127.0.0.1", port=6379, db=number).flushdb()
    base = f"http://127.0.0.1:{arguments.port}"
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LEADGUARD_")},
        "LEADGUARD_VAR_DIR": str(var_dir),
        "LEADGUARD_DATABASE_URL": pg_url,
        "LEADGUARD_TRACKER_DB_URL": f"postgresql://postgres@127.0.0.1:5432/{database}",
        "LEADGUARD_BROKER_URL": f"redis://127.0.0.1:6379/{broker_db}",
        "LEADGUARD_CONSOLE_RATE_LIMIT_STORAGE": f"redis://127.0.0.1:6379/{limits_db}",
        "LEADGUARD_CONSOLE_PORT": str(ports["console"]),
        "LEADGUARD_RASA_URL": f"http://127.0.0.1:{ports['rasa']}",
        "LEADGUARD_ACTION_SERVER_PORT": str(ports["actions"]),
        "LEADGUARD_MAIL_SINK_PORT": str(ports["mail"]),
        "LEADGUARD_SMTP_PORT": str(ports["mail"]),
        "LEADGUARD_PUBLIC_BASE_URL": base,
        "LEADGUARD_NURTURE_DEMO": "true",
        "LEADGUARD_NURTURE_DEMO_DAY_SECONDS": "5",
        "LEADGUARD_NURTURE_TICK_SECONDS": "1",
        "LEADGUARD_NURTURE_RATE_GLOBAL": "200/second",
        "LEADGUARD_NURTURE_RATE_PER_DOMAIN": "50/second",
        "PROMETHEUS_MULTIPROC_DIR": str(var_dir / "metrics"),
    }
    os.environ.update(environment)
    (var_dir / "metrics").mkdir()
    leadguard = str(ROOT / ".venv" / "bin" / "leadguard")
    subprocess.run([leadguard, "keys", "init"], env=environment, check=True)
    subprocess.run(
        [leadguard, "db", "upgrade"], env=environment, check=True, capture_output=True
    )

    stack = Stack(environment, var_dir / "logs", ports)
    result: dict[str, Any] = {
        "benchmark": "fullstack_load",
        "database": "postgresql",
        "broker": "redis",
        "rate_limits": "redis",
        "visitors": arguments.visitors,
        "cores": os.cpu_count(),
    }
    visitors = [Visitor(number) for number in range(arguments.visitors)]
    try:
        stack.start()
        from leads.cli.dev import service_checks, wait_until_healthy
        from leads.settings import load_settings

        settings = load_settings()
        checks = service_checks(settings)
        waited = time.monotonic()
        state = wait_until_healthy(checks, timeout=240)
        result["startup_seconds"] = round(time.monotonic() - waited, 1)
        if not all(state.values()):
            result["error"] = (
                f"not healthy: {sorted(k for k, v in state.items() if not v)}"
            )
            result["dead_processes"] = stack.dead()
            return finish(result, 1)

        seeded_at = time.monotonic()
        if arguments.seed_leads:
            subprocess.run(
                [leadguard, "demo", "seed", "--leads", str(arguments.seed_leads)],
                env=environment,
                check=True,
                capture_output=True,
            )
        result["seed_leads"] = arguments.seed_leads
        result["seed_seconds"] = round(time.monotonic() - seeded_at, 1)
        mail_dir = var_dir / "mail"
        mail_before_chat = count_mail(mail_dir)

        pace = Pace(
            arguments.think_min, arguments.think_max, arguments.ramp, len(visitors)
        )
        result["pace"] = {
            "think_seconds": [arguments.think_min, arguments.think_max],
            "arrivals_over_seconds": arguments.ramp,
        }

        async def chat() -> None:
            await asyncio.gather(
                *(
                    run_visitor(
                        v, base, base, arguments.max_turns, arguments.turn_timeout, pace
                    )
                    for v in visitors
                )
            )

        result["load_average_before_chat"] = [round(x, 2) for x in os.getloadavg()]
        cpu_before = stack.cpu_seconds()
        chat_started = time.monotonic()
        asyncio.run(chat())
        chat_seconds = time.monotonic() - chat_started
        cpu_after = stack.cpu_seconds()
        result["cpu_seconds_during_chat"] = {
            name: round(cpu_after[name] - cpu_before.get(name, 0.0), 1)
            for name in cpu_after
        }
        mail_during_chat = count_mail(mail_dir) - mail_before_chat

        from sqlalchemy import create_engine, text

        engine = create_engine(pg_url)
        # Done when the outbox is drained, every enrollment's first step is
        # sent, and nothing changed for a few seconds.
        expected = 0
        stable_since = time.monotonic()
        last_seen: tuple[int, int, int] = (-1, -1, -1)
        waited = time.monotonic()
        while time.monotonic() - waited < arguments.mail_timeout:
            with engine.connect() as connection:
                pending = connection.execute(
                    text(
                        "SELECT count(*) FROM outbox_events WHERE processed_at IS NULL"
                    )
                ).scalar_one()
                expected = connection.execute(
                    text("SELECT count(*) FROM nurture_enrollments")
                ).scalar_one()
                sent = connection.execute(
                    text(
                        "SELECT count(DISTINCT enrollment_id) FROM nurture_sends "
                        "WHERE state IN ('sent', 'unconfirmed')"
                    )
                ).scalar_one()
            seen = (pending, expected, sent)
            if seen != last_seen:
                last_seen, stable_since = seen, time.monotonic()
            settled = time.monotonic() - stable_since >= 5
            if pending == 0 and expected and sent >= expected and settled:
                break
            time.sleep(1)
        with engine.connect() as connection:
            first_sent, last_sent, sent, failed = connection.execute(
                text(
                    "SELECT min(sent_at), max(sent_at), "
                    "count(*) FILTER (WHERE state IN ('sent', 'unconfirmed')), "
                    "count(*) FILTER (WHERE state IN ('failed', 'bounced')) "
                    "FROM nurture_sends"
                )
            ).one()
            leads_total = connection.execute(
                text("SELECT count(*) FROM leads")
            ).scalar_one()
            peak = connection.execute(
                text(
                    "SELECT count(*) FROM nurture_sends WHERE sent_at IS NOT NULL "
                    "GROUP BY date_trunc('second', sent_at) ORDER BY 1 DESC LIMIT 1"
                )
            ).scalar()
        engine.dispose()
        metrics_text = ""
        try:
            import httpx

            metrics_text = httpx.get(f"{base}/metrics", timeout=10).text
        except httpx.HTTPError as exc:
            metrics_text = f"unavailable: {type(exc).__name__}"
    finally:
        died = stack.dead()
        stack.stop()

    turns = [t for v in visitors for t in v.turns]
    completed = sum(v.completed for v in visitors)
    errors = [f"visitor {v.number}: {e}" for v in visitors for e in v.errors]
    send_span = (
        (last_sent - first_sent).total_seconds() if first_sent and last_sent else 0.0
    )
    result.update(
        {
            "completed_forms": completed,
            "errors": len(errors),
            "retried_turns": sum(v.retries for v in visitors),
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "error_samples": errors[:5],
            "turns": len(turns),
            "turns_per_visitor": round(len(turns) / max(len(visitors), 1), 1),
            "turn_p50_ms": round(statistics.median(turns) * 1000, 1) if turns else None,
            "turn_p95_ms": round(percentile(turns, 0.95) * 1000, 1) if turns else None,
            "turn_max_ms": round(max(turns) * 1000, 1) if turns else None,
            "chat_seconds": round(chat_seconds, 1),
            "leads_per_minute": round(completed / (chat_seconds / 60), 1)
            if chat_seconds
            else None,
            "leads_in_vault": leads_total,
            "enrollments": expected,
            "emails_sent": sent,
            "emails_failed": failed,
            "emails_sent_during_chat": mail_during_chat,
            "emails_per_second": round(sent / send_span, 1) if send_span else None,
            "emails_per_second_during_chat": round(mail_during_chat / chat_seconds, 1)
            if chat_seconds
            else None,
            "emails_peak_per_second": peak,
            "email_send_span_seconds": round(send_span, 1),
            "metrics_scrape_ok": "leadguard_chat_turns_total" in metrics_text,
            "died_during_run": died,
        }
    )
    if arguments.transcript and visitors:
        result["transcript"] = [
            line.replace(visitors[0].token, "<token>")
            for line in visitors[0].transcript
        ]
    if completed < len(visitors) and visitors:
        incomplete = next(v for v in visitors if not v.completed)
        result["incomplete_transcript_sample"] = [
            line.replace(incomplete.token, "<token>") for line in incomplete.transcript
        ][-4:]
    needles = [needle for v in visitors for needle in v.needles]
    result["canaries_planted"] = len(needles)
    result["canary_hits"] = scan_stores(
        database, [broker_db, limits_db], var_dir, needles
    )
    hits = result["canary_hits"]
    clean = (
        hits["postgresql"] == 0 and hits["redis"] == 0 and hits["files_and_logs"] == 0
    )
    result["zero_canaries"] = clean
    if arguments.keep:
        result["kept"] = {"var_dir": str(var_dir), "database": database}
    ok = clean and not errors and completed == len(visitors)
    return finish(result, 0 if ok else 1)


def finish(result: dict[str, Any], status: int) -> int:
    """Print the JSON result and return the exit status."""
    result["ok"] = status == 0
    print(json.dumps(result, indent=2, default=str))
    return status


if __name__ == "__main__":
    sys.exit(main())
