"""Bulk writes of many rows inside the caller's transaction.

PostgreSQL loads rows fastest through ``COPY … FROM STDIN``: an executemany costs a round of
statement parsing and planning per row there (100k value snapshots: 1.8 s executemany against
a fraction of that with ``COPY``). SQLite has no ``COPY``; its executemany on the raw
connection is already the cheap path.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa


def copy_applies(conn: sa.Connection) -> bool:
    """``COPY`` is available: PostgreSQL through psycopg (3)."""
    return conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg"


def copy_rows(
    conn: sa.Connection, table: sa.Table, names: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """``COPY table (names) FROM STDIN`` on the connection's own DB-API connection, so the
    rows join its transaction. Values go as psycopg adapts them for ``executemany`` (dates,
    Decimals, floats for numeric columns, ``None`` for NULL); values that need a column
    type's bind processing (JSON, ciphered personal fields) must be processed by the caller.
    A refused row surfaces as SQLAlchemy's ``DBAPIError``, like an executemany failure."""
    import psycopg  # only on PostgreSQL

    quote = conn.dialect.identifier_preparer
    sql = "COPY {} ({}) FROM STDIN".format(
        quote.format_table(table), ", ".join(quote.quote(table.c[n].name) for n in names)
    )
    raw = conn.connection.driver_connection
    assert raw is not None
    try:
        with raw.cursor() as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as exc:
        raise sa.exc.DBAPIError.instance(sql, None, exc, psycopg.Error) from exc
