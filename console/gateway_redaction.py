"""The gateway's use of the bot's redaction (defence in depth).

The bot redacts card, MyKad, passport and bank account numbers in its own
input channel; the gateway redacts the same way before a message leaves it,
so that such numbers never reach Rasa even if the bot's channel changes.
Both use the one stdlib-only module ``bot/redaction.py``.

``bot/`` is not an installed package (it is the Rasa project), so the
module is imported as ``bot.redaction`` when the repository root is on the
path and otherwise loaded from its file next to this package. Without it
the gateway refuses to start: it never forwards unredacted text.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

from leads.errors import ConfigurationError

log = logging.getLogger(__name__)

REDACTION_FILE = Path(__file__).resolve().parent.parent / "bot" / "redaction.py"
Redactor = Callable[[str], Any]


def _load_module() -> Any:
    try:
        return importlib.import_module("bot.redaction")
    except ModuleNotFoundError:
        pass
    spec = importlib.util.spec_from_file_location(
        "leadguard_bot_redaction", REDACTION_FILE
    )
    if spec is None or spec.loader is None or not REDACTION_FILE.is_file():
        raise ConfigurationError(
            "bot/redaction.py: not found; the chat gateway needs it to redact"
        )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def redactor() -> Redactor:
    """Return ``bot.redaction.redact`` (text in, a ``Redaction`` out).

    Raises:
        ConfigurationError: the module or its ``redact`` function is missing.
    """
    function = getattr(_load_module(), "redact", None)
    if not callable(function):
        raise ConfigurationError("bot/redaction.py: has no redact() function")
    return cast(Redactor, function)


def redact_message(text: str) -> tuple[str, list[str]]:
    """Redact sensitive numbers from a visitor's message.

    Returns:
        The redacted text and the kinds found (for counting, never logging
        values).

    Raises:
        ConfigurationError: the redaction module is missing.
    """
    result = redactor()(text)
    kinds: Sequence[str] = result.kinds
    return str(result.text), [str(kind) for kind in kinds]
