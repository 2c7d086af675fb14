"""Security checks run by ``make test`` (extended by the stack issue)."""

from __future__ import annotations

import subprocess
import sys


def main() -> int:
    """Run bandit over the application packages; return its exit status."""
    command = [
        sys.executable,
        "-m",
        "bandit",
        "-q",
        "-r",
        "leads",
        "actions",
        "nurture",
        "console",
        "-ll",
    ]
    return subprocess.call(command)  # noqa: S603 - fixed argument list


if __name__ == "__main__":
    raise SystemExit(main())
