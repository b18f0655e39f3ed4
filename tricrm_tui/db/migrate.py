"""Alembic, run from inside the package: the migrations ship in ``db/migrations``.

Opening a database compares its revision with the newest shipped one and upgrades if it is
behind. A revision we do not know means a newer tricrm wrote it: we refuse with a clear
message rather than guess.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import sqlalchemy as sa

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

SCHEMA_HEAD = "0010"
"""The newest shipped revision. Opening an up-to-date database compares against this
constant, so the common case skips loading Alembic and parsing every migration script
(0.2–0.4 s of start-up). ``tests/unit/test_migrations.py`` keeps it equal to the scripts' head."""


def alembic_config(engine: sa.Engine | None = None):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


@cache
def _script():  # type: ignore[no-untyped-def]
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    head = _script().get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    return {rev.revision for rev in _script().walk_revisions()}


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def _quick_revision(engine: sa.Engine) -> str | None:
    """The stored revision in one query; None when there is no version table yet."""
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.ProgrammingError:  # PostgreSQL: no such table
        return None
    except sa.exc.OperationalError as exc:  # SQLite says "no such table"; others are real
        if "no such table" in str(exc):
            return None
        raise


def ensure_schema(engine: sa.Engine) -> str | None:
    """Upgrade the database to the newest revision; the revision it was upgraded from (None
    when it was up to date or new), for what must follow an upgrade (see
    ``services.context.open_context``)."""
    from tricrm_tui.db.errors import SchemaTooNew

    current = _quick_revision(engine)
    if current == SCHEMA_HEAD:
        return None
    head = head_revision()
    if current == head:
        return None
    if current is not None and current not in known_revisions():
        raise SchemaTooNew(
            f"this database is at schema revision {current}, made by a newer tricrm; "
            f"this tricrm knows up to {head}. Upgrade tricrm to open it."
        )
    upgrade(engine, then=lambda conn: _owed_after(conn, current))
    return current


CLASSES_STALE_BEFORE = "0009"
"""A database upgraded from an older revision is classified again (``db.pending``): the
classes it stored were given by older rules (provinces written 粤 or 未知 with a city had no
region; sizes as given were not kept). The rules in use (``classify.toml``) decide."""


def _owed_after(conn: sa.Connection, upgraded_from: str | None) -> None:
    from tricrm_tui.db import pending

    if upgraded_from is None or upgraded_from >= CLASSES_STALE_BEFORE:
        return
    if conn.execute(sa.text("SELECT 1 FROM customers LIMIT 1")).first() is not None:
        pending.owe(conn, pending.CLASSIFY)


def upgrade(
    engine: sa.Engine,
    revision: str = "head",
    *,
    then: Callable[[sa.Connection], None] | None = None,
) -> None:
    """Upgrade to ``revision``; ``then`` runs in the upgrade's transaction, after it."""
    from alembic import command

    cfg = alembic_config(engine)
    if then is not None:
        cfg.attributes["then"] = then
    command.upgrade(cfg, revision)


def history() -> list[dict[str, str | None]]:
    return [
        {"revision": r.revision, "down_revision": str(r.down_revision or ""), "message": r.doc}
        for r in _script().walk_revisions()
    ]
