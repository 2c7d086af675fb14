"""The sandboxed Jinja2 environments every nurture template renders in.

Sandboxed (templates cannot reach Python internals), with undefined
variables as errors. The HTML environment escapes every value, so a lead
whose name is ``<b>{{ 7*7 }}</b>`` is shown exactly so, as text; values are
never parsed as templates in either environment.
"""

from __future__ import annotations

import functools

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

__all__ = ["html_environment", "text_environment"]


@functools.cache
def html_environment() -> SandboxedEnvironment:
    """Return the environment of HTML templates (autoescaped)."""
    return SandboxedEnvironment(
        autoescape=True, undefined=StrictUndefined, auto_reload=False
    )


@functools.cache
def text_environment() -> SandboxedEnvironment:
    """Return the environment of subjects and text parts (no escaping)."""
    return SandboxedEnvironment(
        autoescape=False, undefined=StrictUndefined, auto_reload=False
    )
