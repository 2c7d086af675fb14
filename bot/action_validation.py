"""Validate action-server answers against Rasa's schema, compiled once.

Rasa 3.6 checks every answer of the action server with
``jsonschema.validate``, which first re-checks the (constant) schema itself
against the JSON Schema meta-schema. Measured here, that re-check is about
70% of the Rasa server's time per turn of a form conversation (tens of
milliseconds per action call). :func:`install` replaces
``RemoteAction._validate_action_result`` with a version that checks the
schema once and keeps the compiled validator: the same schema, the same
errors (``jsonschema.ValidationError`` with Rasa's message), without the
repeated meta-schema check.

The server installs it when it loads :mod:`bot.channel`. It touches nothing
else in Rasa; if the method it replaces is missing (another Rasa version),
it leaves Rasa alone and logs so.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction

log = logging.getLogger(__name__)

_HINT = (
    ". Failed to validate Action server response from API, make sure your "
    "response from the Action endpoint is valid."
)


@functools.cache
def _validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(_action: Any, result: dict[str, Any]) -> bool:
    """Validate one action-server answer; raise like Rasa does.

    Raises:
        ValidationError: the answer does not match Rasa's schema.
    """
    error = best_match(_validator().iter_errors(result))
    if error is not None:
        error.message += _HINT
        raise error
    return True


def install() -> bool:
    """Replace Rasa's per-call schema check; return whether it was installed."""
    if not hasattr(RemoteAction, "_validate_action_result"):
        log.warning("action_validation.not_installed reason=unknown_rasa_version")
        return False
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
    _validator()
    log.info("action_validation.installed")
    return True


__all__ = ["ValidationError", "install", "validate_action_result"]
