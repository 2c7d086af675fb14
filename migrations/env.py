"""Alembic environment: one history for every leadguard table."""

from alembic import context

from leads.database import make_engine
from leads.models import Base
from leads.settings import get_settings

# Every package's models must be imported here so that autogenerate and the
# models-versus-migrations test see their tables.
MODEL_MODULES = [
    "leads.models",
    "leads.erasure_job",
    "nurture.models",
    "console.models",
    "console.selfservice_models",
]


def _import_models() -> None:
    import importlib

    for name in MODEL_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


_import_models()
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url")
        or get_settings().database_url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = (
        context.config.get_main_option("sqlalchemy.url") or get_settings().database_url
    )
    engine = make_engine(url)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
