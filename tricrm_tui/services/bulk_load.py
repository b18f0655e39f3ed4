"""Whether an import loads with its table's secondary indexes down, and putting them back.

An import much larger than what its table holds writes faster with the table's secondary
indexes (and, for customers, the search index) dropped and built once at its end: see
``db/deferred.py`` for the measurements. A small import into a large table would pay a
full rebuild for little, and leave other users' lists without their indexes meanwhile,
so it keeps them current as it goes.

If the importing process dies in between, the next process to open the database builds
what is missing, unless an import is still alive (it will build them at its own end).
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from tricrm_tui.db import deferred
from tricrm_tui.services.context import ServiceContext

log = logging.getLogger(__name__)

MIN_ROWS = 20_000
"""Below this many lines an import keeps the indexes current: the time it could save is
under a second or two, less than the rebuild of a large table."""
SHARE = 4
"""...and it takes them down only if its lines number at least a quarter of the rows the
table already holds. Keeping an index current cost ~13 µs a row at a million orders and
building one ~1.2 µs a row of the whole table, so this is well inside the break-even, with
room for files that update more than they insert."""


def worth_deferring(ctx: ServiceContext, table: str, lines: int | None) -> bool:
    """An import of ``lines`` lines into ``table`` should load with its indexes down."""
    if table not in deferred.TABLES or lines is None or lines < MIN_ROWS:
        return False
    with ctx.session() as s:
        held = s.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
    return lines * SHARE >= held


def worth_deferring_follow_ups(ctx: ServiceContext, touched: int) -> bool:
    """A bulk order import's follow-ups (the order totals, classification, the value refresh)
    should rewrite the customers with their secondary indexes down: PostgreSQL only.

    Each follow-up rewrites every touched customer, and PostgreSQL writes a new version of
    a row into every index of the table unless the update is "HOT" (no indexed column
    changed and room on the page), which these are not: one full pass over 100k customers
    took 4.1 s with their 15 indexes and 0.7 s without, and building them all again takes
    1.3 s. SQLite only touches the indexes whose columns changed (0.48 s against 0.17 s for
    the same pass), which a rebuild would not win back."""
    if ctx.db.backend != "postgresql" or touched < MIN_ROWS:
        return False
    return worth_deferring(ctx, "customers", touched)


def take_down(ctx: ServiceContext, table: str) -> bool:
    """Drop ``table``'s secondary indexes for a bulk load; False when they stay (PostgreSQL
    could not get the table from its readers in time)."""
    with ctx.db.engine.connect() as conn, conn.begin() as tx:
        if deferred.take_down(conn, table):
            return True
        tx.rollback()
    return False


def restore(
    ctx: ServiceContext,
    tables: tuple[str, ...] = deferred.TABLES,
    lock_timeout: str | None = None,
) -> list[str]:
    """Build whatever deferrable index is missing, in a transaction of its own; returns
    their names."""
    with ctx.db.engine.connect() as conn, deferred.sorts_on_disk(conn), conn.begin():
        return deferred.restore(conn, tables, lock_timeout)


def restore_abandoned(ctx: ServiceContext) -> list[str]:
    """On opening the database and before each import: build the indexes a killed bulk
    import left missing, unless some import is still running (it builds them itself at its
    end). One query when nothing is missing.

    Never stops the caller: when another process holds the tables or is building them
    itself (past ``PG_LOCK_TIMEOUT`` on PostgreSQL, SQLite's busy timeout), this leaves the
    work to it or to the next opener, and says so in the log."""
    with ctx.db.engine.connect() as conn:
        if not deferred.missing(conn):
            return []
    from tricrm_tui.services import import_liveness

    if import_liveness.any_alive(ctx):
        return []
    # Said on stderr (the last-resort handler when nothing configured logging), since it
    # holds up the command or the TUI's start for a few seconds at 100k customers.
    log.warning("building the indexes an interrupted import left down…")
    try:
        return restore(ctx, lock_timeout=deferred.PG_LOCK_TIMEOUT)
    except sa.exc.OperationalError as exc:
        log.warning("indexes left by an interrupted import not rebuilt yet: %s", exc.orig)
        return []
