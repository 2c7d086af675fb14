"""The data map classifies every column of every table, and says so in Markdown."""

from __future__ import annotations

from sqlalchemy import Column, Integer, LargeBinary, MetaData, String, Table

from leads.data_map import DATA_MAP, map_problems, render_records_markdown
from leads.model_registry import all_tables, model_module_names
from leads.settings import Settings


def test_every_column_of_every_model_is_in_the_data_map() -> None:
    tables = all_tables()
    assert {"leads", "lead_personal", "erasure_jobs"} <= {t.name for t in tables}
    assert map_problems(tables) == []


def test_model_modules_are_read_from_the_migration_environment() -> None:
    names = model_module_names()
    assert names[0] == "leads.models" and "leads.erasure_job" in names


def _schema_with(*extra: Column[object]) -> list[Table]:
    metadata = MetaData()
    real = next(t for t in all_tables() if t.name == "leads")
    columns = [Column(c.name, c.type) for c in real.columns]
    others = [t for t in all_tables() if t.name != "leads"]
    return [*others, Table("leads", metadata, *columns, *extra)]


def test_a_new_personal_column_fails_the_check() -> None:
    problems = map_problems(_schema_with(Column("phone_sealed", LargeBinary)))
    assert problems == ["leads.phone_sealed: column missing from the data map"]


def test_a_new_plaintext_column_with_a_personal_name_fails() -> None:
    problems = map_problems(_schema_with(Column("contact_email", String(200))))
    assert problems == ["leads.contact_email: column missing from the data map"]


def test_a_new_table_fails_the_check() -> None:
    table = Table(
        "webinar_signups", MetaData(), Column("id", Integer, primary_key=True)
    )
    problems = map_problems([*all_tables(), table])
    assert problems == ["webinar_signups: table missing from the data map"]


def test_records_render_as_markdown_with_the_retention_settings(
    settings: Settings,
) -> None:
    text = render_records_markdown(settings)
    assert text.startswith("# Record of processing activities")
    for record in DATA_MAP:
        assert f"### `{record.table}`" in text
    assert "| `email` | sealed personal data |" in text
    assert f"{settings.transcript_retention_days} days" in text
    assert "LEADGUARD_RETENTION_UNQUALIFIED_LEADS_DAYS" in text
