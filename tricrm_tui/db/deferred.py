"""Indexes a bulk load takes down before its rows and builds again after them.

Keeping a secondary index current costs every inserted row a B-tree insert at a random
place in it; building the same index afterwards is one sort. On SQLite, measured at
100k customers / 1M orders: the order rows took 35.6 s with their three secondary indexes
kept current and 21.4 s without, and building the three took 1.2 s; the customers' rows took
5.5 s with the 14 indexes and the trigram search index kept current, 0.9 s all told when
they were built afterwards. So an import much larger than what a table already holds
(``services/bulk_load.py`` decides) drops them first and builds them at its end.

What stays: unique keys (the import looks rows up by them, and they keep the data right).
Everything is worked out from the models' metadata, so an index added later is covered without a change
here; a test holds the rebuilt definitions to what the migrations made.

Between the two, lists that filter or sort on a dropped index scan the table instead, and
search misses rows added meanwhile. A load that dies in between leaves them missing until
:func:`restore` runs, which ``services/bulk_load.py`` does when any process opens the
database and no import is alive. That is after the migrations (the definitions here are the
newest schema's), so a migration that drops or renames one of these indexes must say
``IF EXISTS``: a killed bulk load may have left it missing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sqlalchemy as sa
from sqlmodel import SQLModel

from tricrm_tui.db.engine import SQLITE_TEMP_STORE
from tricrm_tui.db.search import build_search_index, search_index_parts, take_down_search_index

TABLES = ("customers", "orders")
"""The tables a bulk import may load with their indexes taken down."""
SEARCH_TABLE = "customers"
PG_LOCK_TIMEOUT = "2s"
"""On PostgreSQL, how long dropping an index may wait for its table's readers; past that the
load goes ahead with the indexes in place rather than queue every reader behind it."""
PG_RESTORE_LOCK = 0x7472_6462
"""The PostgreSQL advisory lock (single-key form) that makes restorers take turns: two
processes opening the database after a killed load would otherwise both build the same
index, and the second fail."""


def begin_immediate(conn: sa.Connection) -> None:
    """Make the DDL that follows part of the connection's transaction, on SQLite too.

    Python's ``sqlite3`` (its legacy transaction control, which SQLAlchemy uses) opens a
    transaction only before INSERT, UPDATE or DELETE, so each DROP or CREATE would commit on
    its own: a load killed half-way through a restore would leave the triggers back but the
    search index not rebuilt, which nothing would see as missing, and the next update of
    such a customer would corrupt the index. ``BEGIN IMMEDIATE`` also takes the write lock
    first, so two restorers take turns (each sees what the other built)."""
    if conn.dialect.name != "sqlite":
        return
    dbapi = conn.connection.dbapi_connection
    if dbapi is not None and not dbapi.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _lock_timeout(conn: sa.Connection, value: str | None) -> None:
    """PostgreSQL: bound (or, with None, stop bounding) this transaction's lock waits."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            f"SET LOCAL lock_timeout = '{value}'" if value else "SET LOCAL lock_timeout = DEFAULT"
        )


def _table(name: str) -> sa.Table:
    import tricrm_tui.models  # noqa: F401  (registers the tables on the metadata)

    return SQLModel.metadata.tables[name]


def deferrable(table: str) -> list[sa.Index]:
    """The indexes of ``table`` that a bulk load may drop, by name order."""
    return sorted(
        (i for i in _table(table).indexes if not i.unique),
        key=lambda i: str(i.name),
    )


def _parts(dialect: str, table: str) -> list[str]:
    names = [str(i.name) for i in deferrable(table)]
    return names + (search_index_parts(dialect) if table == SEARCH_TABLE else [])


def _present(conn: sa.Connection, names: list[str]) -> set[str]:
    if not names:
        return set()
    if conn.dialect.name == "postgresql":
        sql = (
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
            "AND indexname = ANY(%s)"
        )
        params: tuple = (names,)
    else:
        sql = f"SELECT name FROM sqlite_master WHERE name IN ({','.join('?' * len(names))})"
        params = tuple(names)
    return {row[0] for row in conn.exec_driver_sql(sql, params)}


def missing(conn: sa.Connection, tables: tuple[str, ...] = TABLES) -> dict[str, list[str]]:
    """By table, the deferrable objects absent from the database (one query)."""
    parts = {t: _parts(conn.dialect.name, t) for t in tables}
    present = _present(conn, [n for names in parts.values() for n in names])
    gaps = {t: [n for n in names if n not in present] for t, names in parts.items()}
    return {t: names for t, names in gaps.items() if names}


def take_down(conn: sa.Connection, table: str) -> bool:
    """Drop ``table``'s deferrable indexes (and, for customers, stop the search index) in
    the connection's transaction. On PostgreSQL a table busy past ``PG_LOCK_TIMEOUT``
    leaves everything in place and returns False (the transaction must then be rolled
    back); True once they are down."""
    dialect = conn.dialect.name
    quote = conn.dialect.identifier_preparer
    begin_immediate(conn)
    _lock_timeout(conn, PG_LOCK_TIMEOUT)
    try:
        for index in deferrable(table):
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {quote.quote(str(index.name))}")
        if table == SEARCH_TABLE:
            take_down_search_index(dialect, conn.exec_driver_sql)
    except sa.exc.OperationalError:
        if dialect == "postgresql":  # lock_timeout: readers held the table
            return False
        raise
    _lock_timeout(conn, None)
    return True


def restore(
    conn: sa.Connection, tables: tuple[str, ...] = TABLES, lock_timeout: str | None = None
) -> list[str]:
    """Build whatever deferrable object is missing, in the connection's transaction, one
    restorer at a time; returns the names built (none when everything is in place).

    ``lock_timeout`` (PostgreSQL) bounds the wait for the table and for another restorer:
    past it the statement fails (``OperationalError``) and nothing is built."""
    dialect = conn.dialect.name
    begin_immediate(conn)
    if dialect == "postgresql":
        _lock_timeout(conn, lock_timeout)
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_RESTORE_LOCK})")
    gaps = missing(conn, tables)  # asked under the lock: what another restorer built is seen
    for table, names in gaps.items():
        wanted = set(names)
        for index in deferrable(table):
            if index.name in wanted:
                conn.execute(sa.schema.CreateIndex(index, if_not_exists=True))
        if table == SEARCH_TABLE and wanted & set(search_index_parts(dialect)):
            build_search_index(dialect, conn.exec_driver_sql)
    _lock_timeout(conn, None)
    return [n for names in gaps.values() for n in names]


@contextlib.contextmanager
def sorts_on_disk(conn: sa.Connection) -> Iterator[None]:
    """SQLite: sort in temporary files while the block runs (around, not inside, the
    transaction of a :func:`restore`).

    The sorts behind CREATE INDEX run faster in temporary files (which the operating system
    caches) than in SQLite's in-memory store, and hold no memory of the process: 1.3 s
    against 2.0 s for the orders' three at a million rows. SQLite refuses to change the
    setting inside a transaction once the connection has used its temporary database (the
    migrations of a new file do), so it is set before ``BEGIN`` and put back after the
    commit."""
    if conn.dialect.name != "sqlite":
        yield
        return
    # On the driver's connection: through SQLAlchemy, the statement would begin the
    # Connection's transaction, which the caller's ``begin()`` then finds already started.
    driver = conn.connection.driver_connection
    assert driver is not None  # a checked-out connection
    driver.execute("PRAGMA temp_store=FILE")
    try:
        yield
    finally:
        # Never in place of the block's own error (a connection that broke mid-build): a
        # connection left sorting in files is only slower.
        with contextlib.suppress(Exception):
            driver.execute(f"PRAGMA temp_store={SQLITE_TEMP_STORE}")
