"""Every model module of the schema, imported so its tables are known.

The list lives once, in ``migrations/env.py`` (``MODEL_MODULES``); it is read
from that file's syntax tree rather than by importing it, because importing
an Alembic environment outside Alembic runs migrations.
"""

from __future__ import annotations

import ast
import functools
import importlib
from pathlib import Path

from sqlalchemy import Table

from leads.models import Base

ENV_FILE = Path(__file__).resolve().parent.parent / "migrations" / "env.py"


def model_module_names() -> list[str]:
    """Return ``MODEL_MODULES`` as ``migrations/env.py`` declares it."""
    tree = ast.parse(ENV_FILE.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and any(
                isinstance(t, ast.Name) and t.id == "MODEL_MODULES"
                for t in node.targets
            )
            and isinstance(node.value, ast.List)
        ):
            return [
                e.value
                for e in node.value.elts
                if isinstance(e, ast.Constant) and isinstance(e.value, str)
            ]
    return ["leads.models"]


@functools.cache
def all_tables() -> tuple[Table, ...]:
    """Import every model module that is installed; return all tables.

    A module listed but not present (a package not built yet) is skipped.
    """
    for name in model_module_names():
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return tuple(Base.metadata.sorted_tables)
