"""``leadguard dev``: the helpers behind ``make run`` on the embedded defaults.

- ``first-start``: idempotent set-up run before every ``make run`` (opens
  the vault, which checks the key ring against the database; empties the
  metrics directory of the previous run).
- ``banner``: what starts and where to find it.
- ``wait-healthy``: poll every service until all are healthy (or time out,
  exit status 1 and name the ones that are not).
- ``health``: the ``health:`` process of the Procfile. It waits like
  ``wait-healthy``, prints the addresses once everything answers, then keeps
  watching and logs every change of a service's state. It never exits on
  its own while honcho runs, since honcho stops the whole stack when any
  process ends.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

import click
import httpx

from leads.settings import Settings, get_settings

PROBE_TIMEOUT_SECONDS = 2.0
POLL_SECONDS = 1.0
WATCH_SECONDS = 10.0


@dataclass(frozen=True)
class ServiceCheck:
    """How to tell that one service of the stack is healthy."""

    name: str
    target: str
    probe: Callable[[], bool]


def _http_ok(url: str) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            response = httpx.get(url, timeout=PROBE_TIMEOUT_SECONDS)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    return probe


def _smtp_greets(host: str, port: int) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            with socket.create_connection((host, port), PROBE_TIMEOUT_SECONDS) as conn:
                conn.settimeout(PROBE_TIMEOUT_SECONDS)
                greeting = conn.recv(512)
                conn.sendall(b"QUIT\r\n")
        except OSError:
            return False
        return greeting.startswith(b"220")

    return probe


def _heartbeat(name: str) -> Callable[[], bool]:
    def probe() -> bool:
        from leads.heartbeat import is_alive

        return is_alive(name)

    return probe


def console_url(settings: Settings) -> str:
    """Return the console's own address (not the public one behind a proxy)."""
    return f"http://{settings.console_host}:{settings.console_port}"


def service_checks(settings: Settings) -> list[ServiceCheck]:
    """Return the health check of every process ``make run`` starts."""
    console = console_url(settings)
    actions = f"http://127.0.0.1:{settings.action_server_port}/health"
    return [
        ServiceCheck("console", f"{console}/readyz", _http_ok(f"{console}/readyz")),
        ServiceCheck(
            "rasa", f"{settings.rasa_url}/", _http_ok(f"{settings.rasa_url}/")
        ),
        ServiceCheck("actions", actions, _http_ok(actions)),
        ServiceCheck(
            "mail",
            f"smtp://127.0.0.1:{settings.mail_sink_port}",
            _smtp_greets("127.0.0.1", settings.mail_sink_port),
        ),
        ServiceCheck("worker", "heartbeat file", _heartbeat("worker")),
        ServiceCheck("beat", "heartbeat file", _heartbeat("beat")),
    ]


def run_checks(checks: list[ServiceCheck]) -> dict[str, bool]:
    """Probe every service once; return name -> healthy."""
    return {check.name: check.probe() for check in checks}


def wait_until_healthy(
    checks: list[ServiceCheck],
    timeout: float,
    on_change: Callable[[str, bool], None] | None = None,
) -> dict[str, bool]:
    """Poll until every service is healthy or ``timeout`` seconds pass.

    Returns the last state seen. ``on_change`` is called whenever a
    service's state changes (first observation of a healthy one included).
    """
    deadline = time.monotonic() + timeout
    state: dict[str, bool] = {}
    while True:
        current = run_checks(checks)
        for name, healthy in current.items():
            if on_change and state.get(name) != healthy and (healthy or name in state):
                on_change(name, healthy)
        state = current
        if all(state.values()) or time.monotonic() >= deadline:
            return state
        time.sleep(POLL_SECONDS)


def web_paths() -> set[str]:
    """Return the path templates the console application serves.

    Read from the route lists themselves (no database is opened), so the
    banner names only pages that exist in this checkout.
    """
    try:
        from console.app import console_routes, contributed_modules
    except ImportError:
        return set()
    paths = {
        "/console" + str(route.path)
        for route in console_routes()
        if hasattr(route, "path")
    }
    for module in contributed_modules():
        paths |= {str(route.path) for route in module.routes if hasattr(route, "path")}
    return paths


def addresses(
    settings: Settings, paths: set[str] | None = None
) -> list[tuple[str, str]]:
    """Return the addresses a person opens, as (label, address) pairs."""
    base = console_url(settings)
    paths = web_paths() if paths is None else paths
    found: list[tuple[str, str]] = []
    if "/" in paths:
        found.append(("demo site", f"{base}/  (the chat widget is on it)"))
    if "/console/" in paths:
        found.append(("console", f"{base}/console/"))
    mailbox = sorted(
        path for path in paths if "mailbox" in path or path.endswith("/mail")
    )
    folder = (settings.var_dir / "mail").resolve()
    if mailbox:
        found.append(("dev mailbox", f"{base}{mailbox[0]}  (files in {folder}/)"))
    else:
        found.append(("dev mailbox", f"{folder}/  (one .eml file per message)"))
    found.append(("smtp sink", f"127.0.0.1:{settings.mail_sink_port}"))
    if "/metrics" in paths:
        found.append(("metrics", f"{base}/metrics  (loopback only)"))
    return found


def _print_addresses(settings: Settings) -> None:
    for label, url in addresses(settings):
        click.echo(f"  {label:<12} {url}")


@click.group()
def dev() -> None:
    """Development stack helpers (used by ``make run``)."""


@dev.command("first-start")
def first_start_command() -> None:
    """Set-up steps run before every start (idempotent)."""
    from leads.cli.context import open_vault
    from leads.metrics import multiprocess_dir, reset_multiprocess_dir

    open_vault()
    root = multiprocess_dir()
    if root is not None:
        reset_multiprocess_dir(root)
    _ensure_first_admin()


def _ensure_first_admin() -> None:
    """Create the console's first admin and print its link, once."""
    try:
        from console.cli import ensure_first_admin_command
    except ModuleNotFoundError as exc:
        if exc.name not in {"console", "console.cli"}:
            raise
        return
    ensure_first_admin_command.main(args=[], standalone_mode=False)


@dev.command("banner")
def banner_command() -> None:
    """Print what ``make run`` starts and where to find it."""
    settings = get_settings()
    click.echo("leadguard is starting on embedded defaults:")
    click.echo(f"  {'database':<12} {settings.database_url}")
    click.echo(f"  {'broker':<12} {settings.broker_url}")
    _print_addresses(settings)
    click.echo("Services are health-checked by the 'health' process; Ctrl-C stops all.")


@dev.command("wait-healthy")
@click.option("--timeout", default=180.0, show_default=True, help="Seconds.")
def wait_healthy_command(timeout: float) -> None:
    """Exit 0 once every service is healthy; 1 naming the others on timeout."""
    checks = service_checks(get_settings())
    state = wait_until_healthy(checks, timeout)
    failing = sorted(name for name, healthy in state.items() if not healthy)
    if failing:
        click.echo(f"not healthy after {timeout:.0f}s: {', '.join(failing)}", err=True)
        raise SystemExit(1)
    click.echo("all services healthy")


@dev.command("health")
@click.option("--timeout", default=300.0, show_default=True, help="Seconds.")
def health_command(timeout: float) -> None:
    """Wait for every service, print the addresses, then keep watching."""
    settings = get_settings()
    checks = service_checks(settings)
    targets = {check.name: check.target for check in checks}

    def report(name: str, healthy: bool) -> None:
        word = "healthy" if healthy else "UNHEALTHY"
        click.echo(f"{name} {word} ({targets[name]})")

    started = time.monotonic()
    state = wait_until_healthy(checks, timeout, on_change=report)
    failing = sorted(name for name, healthy in state.items() if not healthy)
    if failing:
        click.echo(
            f"still not healthy after {timeout:.0f}s: {', '.join(failing)}; "
            "see their log lines above (still watching)"
        )
    else:
        elapsed = time.monotonic() - started
        click.echo(f"all {len(checks)} services healthy after {elapsed:.0f}s:")
        _print_addresses(settings)
    while True:
        time.sleep(WATCH_SECONDS)
        current = run_checks(checks)
        for name, healthy in current.items():
            if healthy != state.get(name):
                report(name, healthy)
        state = current


@dev.command("heartbeat")
@click.argument("name", type=click.Choice(["worker", "beat"]))
@click.option("--max-age", default=30.0, show_default=True, help="Seconds.")
def heartbeat_command(name: str, max_age: float) -> None:
    """Exit 0 when NAME beat within --max-age seconds (container health)."""
    from leads.heartbeat import age_seconds

    age = age_seconds(name)
    if age is None or age > max_age:
        shown = "never" if age is None else f"{age:.0f}s ago"
        click.echo(f"{name}: last heartbeat {shown}", err=True)
        raise SystemExit(1)
    click.echo(f"{name}: alive ({age:.0f}s ago)")
