"""The migrations build the schema the models describe, on both backends."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tricrm_tui.db.engine import create_db_engine, open_database
from tricrm_tui.db.errors import SchemaTooNew
from tricrm_tui.db.migrate import SCHEMA_HEAD, current_revision, head_revision
from tricrm_tui.db.search import is_search_object
from tricrm_tui.models import metadata


def test_upgrade_from_empty_to_head_matches_the_models(db_url: str) -> None:
    db = open_database(db_url)
    assert current_revision(db.engine) == head_revision()
    with db.engine.connect() as conn:
        mc = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_object": lambda o, name, *a: not is_search_object(name),
            },
        )
        diff = compare_metadata(mc, metadata)
    assert diff == []
    db.dispose()


def test_a_database_from_a_newer_tricrm_is_refused_clearly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "new.db"
    open_database(str(path)).dispose()
    engine = create_db_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'ffff_from_the_future'"))
    engine.dispose()
    try:
        open_database(str(path))
    except SchemaTooNew as exc:
        assert "newer tricrm" in str(exc)
    else:
        raise AssertionError("expected SchemaTooNew")


def test_sqlite_opens_with_wal_foreign_keys_and_busy_timeout(sqlite_ctx) -> None:  # type: ignore[no-untyped-def]
    with sqlite_ctx.db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_the_fast_path_constant_is_the_newest_migration() -> None:
    assert head_revision() == SCHEMA_HEAD
