"""Alembic environment for tricrm.

The engine comes from the caller (``cfg.attributes["engine"]``, set by
:func:`tricrm_tui.db.migrate.upgrade`) or, for the ``alembic`` command line during
development, from ``TRICRM_DB``. SQLite gets ``render_as_batch`` so ALTERs work.
"""

from __future__ import annotations

from alembic import context

import tricrm_tui.models  # noqa: F401  (registers every table)
from tricrm_tui.db.search import is_search_object
from tricrm_tui.models import metadata

config = context.config


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    # The full-text objects are backend-specific and made by hand in the migrations.
    return not is_search_object(name)


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from tricrm_tui.db.engine import create_db_engine
        from tricrm_tui.db.url import resolve_db_url

        engine = create_db_engine(resolve_db_url())
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_object=include_object,
        )
        context.run_migrations()
        # What the caller owes once the schema moved (``migrate.ensure_schema``), in the
        # upgrade's transaction so a kill cannot leave the new schema without it.
        if (then := config.attributes.get("then")) is not None:
            then(connection)


run_migrations_online()
