"""Fixtures shared by the whole suite.

``ctx`` is a service context on a real database, once per backend: a fresh SQLite file in a
temp folder (copied from a migrated template, so each test starts empty in milliseconds), and
PostgreSQL when ``TRICRM_TEST_PG_URL`` is set (one database per xdist worker, migrated once,
tables truncated between tests). Tests written against ``ctx`` run on both.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tricrm_tui.i18n import set_language

PG_URL = os.environ.get("TRICRM_TEST_PG_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the real user's files, and every test speaks English."""
    monkeypatch.setenv("TRICRM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TRICRM_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("TRICRM_USER", "tester")
    monkeypatch.delenv("TRICRM_DB", raising=False)
    monkeypatch.setenv("TRICRM_LANG", "en")
    set_language("en")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tricrm_tui.db.engine import open_database

    path = tmp_path_factory.mktemp("template") / "template.db"
    db = open_database(str(path))
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


def _worker_pg_url(worker: str) -> str:
    assert PG_URL
    url = sa.engine.make_url(PG_URL)
    name = f"{url.database}_{worker}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_url(worker_id: str) -> Iterator[str]:
    if not PG_URL:
        pytest.skip("TRICRM_TEST_PG_URL is not set")
    from tricrm_tui.db.engine import open_database

    url = _worker_pg_url(worker_id)
    open_database(url).dispose()
    yield url


def truncate_all(engine: sa.Engine) -> None:
    from tricrm_tui.models import metadata

    # The change counters (migration 0005) are the schema's, as a fresh database has them.
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables if t.name != "change_counters")
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        # Work a test left owed is about rows that are gone (``db.pending``).
        conn.execute(sa.text("DELETE FROM change_counters WHERE name LIKE 'owed:%'"))


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to an empty, migrated database, on each backend in turn."""
    if request.param == "sqlite":
        target = tmp_path / "tricrm.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        return str(target)
    url = request.getfixturevalue("pg_url")
    engine = sa.create_engine(url)
    truncate_all(engine)
    engine.dispose()
    return url


FIXED_NOW = dt.datetime(2026, 3, 15, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def ctx(db_url: str):  # type: ignore[no-untyped-def]
    """A service context acting as ``tester`` (admin) on an empty database."""
    from tricrm_tui.services.context import Actor, open_context

    context = open_context(db_url, Actor("tester", "admin"))
    yield context
    context.db.dispose()


@pytest.fixture
def sqlite_ctx(tmp_path: Path, sqlite_template: Path):  # type: ignore[no-untyped-def]
    """SQLite only: for tests about SQLite itself (files, WAL, pragmas)."""
    from tricrm_tui.services.context import Actor, open_context

    target = tmp_path / "tricrm.db"
    shutil.copy(sqlite_template, target)
    context = open_context(str(target), Actor("tester", "admin"))
    yield context
    context.db.dispose()
