"""The Alembic history and the models agree, and it runs both ways."""

import ast
import importlib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from leads.database import make_engine
from leads.migrate import MIGRATIONS_DIR, downgrade, upgrade
from leads.models import Base
from tests.conftest import create_pg_database, drop_pg_database


def _model_modules() -> list[str]:
    tree = ast.parse((MIGRATIONS_DIR / "env.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == (
            "MODEL_MODULES"
        ):
            return list(ast.literal_eval(node.value))
    raise AssertionError("migrations/env.py lists no MODEL_MODULES")


def _import_models() -> None:
    for name in _model_modules():
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    url = create_pg_database("lgmig")
    yield url
    drop_pg_database(url)


def _diff(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True}
            )
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_matches_models_and_downgrade_empties(empty_url: str) -> None:
    _import_models()
    upgrade(empty_url)
    assert _diff(empty_url) == []
    assert "leads" in _tables(empty_url)
    downgrade(empty_url)
    assert _tables(empty_url) <= {"alembic_version"}
    upgrade(empty_url)
    assert _diff(empty_url) == []


def test_every_revision_says_why() -> None:
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        if path.name == "__init__.py":
            continue
        docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
        assert "Why:" in docstring or "why" in docstring.lower(), path.name
