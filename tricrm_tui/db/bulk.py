"""Bulk writes of many rows inside the caller's transaction.

PostgreSQL loads rows fastest through ``COPY … FROM STDIN``: an executemany costs a round of
statement parsing and planning per row there (100k value snapshots: 1.8 s executemany against
a fraction of that with ``COPY``). SQLite has no ``COPY``; its executemany on the raw
connection is already the cheap path.

Rows given a column at a time (:func:`copy_columns`, the importer's way) go in COPY's binary
format when every value is of the Python type its column's binary form takes: psycopg then
packs each value in C from the column's type, where the text format turns every value into
text in the client and parses it back in the server (200k order rows: 0.3 s against 0.9 s).
Binary COPY does not cast, so a value of another type is an error or, for an integer too
large for ``int4``, silently wrong: each column's values are checked first (their types, and
integers' range), and any doubt sends the whole batch through the text format as before.

A bulk order load on PostgreSQL may also skip the per-row foreign-key checks
(:func:`references_held`, :func:`references_unchecked`): each order row's three checks
(customer, product, category) are each a lookup and a row lock run through the trigger
machinery, and cost more than the rest of the row's insert (200k orders: 4.6–6.2 s with
them, 0.9 s without). What they guarantee is kept by locking, once a batch, what the
batch refers to.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

NONE = type(None)
_INT_RANGE = {"int2": 2**15, "int4": 2**31, "int8": 2**63}
_BINARY_TYPES: dict[str, frozenset[type]] = {
    **{name: frozenset({int, NONE}) for name in _INT_RANGE},
    "numeric": frozenset({Decimal, int, NONE}),
    "bool": frozenset({bool, NONE}),
    "date": frozenset({dt.date, NONE}),
    "timestamptz": frozenset({dt.datetime, NONE}),
    "timestamp": frozenset({dt.datetime, NONE}),
    "varchar": frozenset({str, NONE}),
    "text": frozenset({str, NONE}),
}
"""PostgreSQL type name → the Python types its binary COPY form is given here (exact
types: ``bool`` is not taken for an integer, nor a ``datetime`` for a date). Only types
psycopg has a binary dumper for: not ``char(n)`` (``bpchar``), for one."""


def copy_applies(conn: sa.Connection) -> bool:
    """``COPY`` is available: PostgreSQL through psycopg (3)."""
    return conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg"


def copy_rows(
    conn: sa.Connection, table: sa.Table, names: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """``COPY table (names) FROM STDIN`` (text format) on the connection's own DB-API
    connection, so the rows join its transaction. Values go as psycopg adapts them for
    ``executemany`` (dates, Decimals, floats for numeric columns, ``None`` for NULL); values
    that need a column type's bind processing (JSON, ciphered personal fields) must be
    processed by the caller. A refused row surfaces as SQLAlchemy's ``DBAPIError``, like an
    executemany failure."""
    _copy(conn, table, names, rows, None)


def copy_columns(
    conn: sa.Connection, table: sa.Table, columns: Mapping[str, Sequence[Any]]
) -> None:
    """:func:`copy_rows` for values given a column at a time (equal lengths), in the binary
    format where :func:`binary_types` allows it."""
    names = list(columns)
    rows = zip(*columns.values(), strict=True)
    _copy(conn, table, names, rows, binary_types(conn, table, columns))


def binary_types(
    conn: sa.Connection, table: sa.Table, columns: Mapping[str, Sequence[Any]]
) -> list[int] | None:
    """The type OIDs of ``columns`` for a binary COPY, or None when some column's type or
    values call for the text format."""
    found = _column_types(conn, table)
    oids: list[int] = []
    for name, values in columns.items():
        oid, typname = found.get(table.c[name].name, (0, ""))
        allowed = _BINARY_TYPES.get(typname)
        if allowed is None or not set(map(type, values)) <= allowed:
            return None
        if typname in _INT_RANGE or typname == "timestamptz" or typname == "timestamp":
            present = [v for v in set(values) if v is not None]
            if typname in _INT_RANGE:
                bound = _INT_RANGE[typname]
                if present and not (-bound <= min(present) and max(present) < bound):
                    return None
            elif any((v.utcoffset() is None) == (typname == "timestamptz") for v in present):
                return None  # a naive time for timestamptz, or an aware one for timestamp
        oids.append(oid)
    return oids


def _column_types(conn: sa.Connection, table: sa.Table) -> dict[str, tuple[int, str]]:
    """Column name → (type OID, type name), as the database has them (one catalogue query;
    each COPY asks again, so a migration that changes a type is seen)."""
    quote = conn.dialect.identifier_preparer
    rows = conn.exec_driver_sql(
        "SELECT a.attname, a.atttypid, t.typname FROM pg_attribute a "
        "JOIN pg_type t ON t.oid = a.atttypid "
        "WHERE a.attrelid = %(table)s::regclass AND a.attnum > 0 AND NOT a.attisdropped",
        {"table": quote.format_table(table)},
    )
    return {name: (int(oid), typname) for name, oid, typname in rows}


def _copy(
    conn: sa.Connection,
    table: sa.Table,
    names: Sequence[str],
    rows: Iterable[Sequence[Any]],
    binary: list[int] | None,
) -> None:
    import psycopg  # only on PostgreSQL

    quote = conn.dialect.identifier_preparer
    sql = "COPY {} ({}) FROM STDIN{}".format(
        quote.format_table(table),
        ", ".join(quote.quote(table.c[n].name) for n in names),
        " (FORMAT BINARY)" if binary else "",
    )
    raw = conn.connection.driver_connection
    assert raw is not None
    try:
        with raw.cursor() as cur, cur.copy(sql) as copy:
            if binary:
                copy.set_types(binary)
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as exc:
        raise sa.exc.DBAPIError.instance(sql, None, exc, psycopg.Error) from exc


def may_skip_reference_checks(engine: sa.Engine, table: sa.Table) -> bool:
    """PostgreSQL: whether writes to ``table`` may go without their foreign-key checks:
    this login may turn them off in its own transactions (``session_replication_role``,
    which superusers may set, and on PostgreSQL 15 a role granted ``SET ON PARAMETER``),
    and ``table`` has no trigger of its own (that setting silences every trigger, and one
    an administrator added must keep firing). Tried in a transaction that is rolled back."""
    if engine.dialect.name != "postgresql":
        return False
    with engine.connect() as conn:
        try:
            own = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                (conn.dialect.identifier_preparer.format_table(table),),
            ).scalar_one()
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        except sa.exc.DBAPIError:
            return False
        finally:
            conn.rollback()
    return own == 0


def references_held(conn: sa.Connection, refs: Mapping[sa.Table, set[int]]) -> bool:
    """Lock, until the transaction ends, the rows that rows about to be written refer to
    (``FOR KEY SHARE``, the lock a foreign-key check takes), and say whether all of them
    are there; False means: write with the foreign-key checks on. Locked up front, they
    cannot be deleted before the written rows are committed, and a DELETE then meets those
    rows in its own foreign-key check. One statement a table: a batch of 5,000 orders names
    ~4,900 customers (200k orders: 2.1–2.3 s with these locks against 4.6–6.2 s with the
    checks)."""
    quote = conn.dialect.identifier_preparer
    for table, ids in refs.items():
        if not ids:
            continue
        found = conn.exec_driver_sql(
            f"SELECT id FROM {quote.format_table(table)} WHERE id = ANY(%s) FOR KEY SHARE",
            (sorted(ids),),
        ).all()
        if len(found) != len(ids):
            return False
    return True


@contextlib.contextmanager
def references_unchecked(conn: sa.Connection) -> Iterator[None]:
    """PostgreSQL: the block's writes skip foreign-key checks (and every other trigger:
    call it only around writes to a table with none of its own, after
    :func:`references_held`). ``SET LOCAL``: a transaction that fails takes the setting
    with it."""
    conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
    yield
    conn.exec_driver_sql("SET LOCAL session_replication_role = DEFAULT")


@contextlib.contextmanager
def sqlite_references_unchecked(engine: sa.Engine) -> Iterator[sa.Connection]:
    """SQLite: a connection whose transactions skip foreign-key checks, for a caller that
    takes the write lock at the start of its transaction (``deferred.begin_immediate``) and
    writes only references it found inside it: SQLite lets no other writer in meanwhile,
    so what it found stays there. An order row's three checks cost ~2.2 µs: 2.2 s of a
    million-order import.

    ``PRAGMA foreign_keys`` is a no-op inside a transaction, so it is set on the driver's
    connection before the caller's transaction and put back after it. Should that fail,
    the connection is thrown away rather than go back to the pool without its checks."""
    with engine.connect() as conn:
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None and not dbapi.in_transaction
        dbapi.execute("PRAGMA foreign_keys=OFF")
        try:
            yield conn
        finally:
            try:
                if dbapi.in_transaction:  # the caller's transaction ends before this
                    dbapi.rollback()
                dbapi.execute("PRAGMA foreign_keys=ON")
                back = dbapi.execute("PRAGMA foreign_keys").fetchone()
            except Exception:  # noqa: BLE001 - whatever went wrong, never pool it unchecked
                back = None
            if not back or back[0] != 1:
                conn.invalidate()


IN_STEP = 500
"""IN lists are padded to a multiple of this many values (:func:`padded`)."""


def chunks(values: list[Any], size: int = 1000) -> Iterator[list[Any]]:
    """``values`` a list of at most ``size`` at a time: IN lists a statement can bind on
    every backend (PostgreSQL takes at most 65,535 parameters)."""
    for i in range(0, len(values), size):
        yield values[i : i + size]


def padded(values: list[Any]) -> list[Any]:
    """``values`` for an ``IN`` list, lengthened to a multiple of ``IN_STEP`` by repeating its
    first value (the same set, so the same answer).

    An ``IN`` of n values is a statement of its own, and the SQLite driver keeps the last
    128 prepared statements per connection: a batch's lookups came with a new count every
    time (4,873 distinct customers, then 4,861…), so each batch left a prepared statement
    of thousands of parameters in that cache, ~20 MB more per 100,000 orders. Padded, a
    lookup is one of ten statements whatever the batch."""
    short = -len(values) % IN_STEP
    return values + values[:1] * short if values and short else values


def driver_in(
    s: Session, select: str, table: sa.Table, column: str, values: list[Any]
) -> list[Any]:
    """``select`` (naming ``{table}`` and ``{column}``, ending in ``WHERE`` or ``AND``) with
    ``column IN values``, sent through the driver as plain text and parameters.

    A batch's lookups pass thousands of keys, and SQLAlchemy's expanding ``IN`` processes
    and renders each of them (about a tenth of an order import's time). These lookups read
    and return plain text and integers, which need none of that. PostgreSQL takes the keys
    as one array (``= ANY``); SQLite gets a padded ``IN`` list (see :func:`padded`).

    The answer is fetched in one ``fetchall`` of the driver's cursor, as plain tuples:
    iterating a SQLAlchemy result fetches and wraps one row at a time, which at a million
    orders cost more than the queries."""
    if not values:
        return []
    conn = s.connection()
    quote = conn.dialect.identifier_preparer
    col = quote.quote(column)
    head = select.format(table=quote.format_table(table), column=col)
    if conn.dialect.name == "postgresql":
        sql, params = f"{head} {col} = ANY(%s)", (list(values),)
    else:
        values = padded(values)
        sql, params = f"{head} {col} IN ({','.join('?' * len(values))})", tuple(values)
    # Not prepared on PostgreSQL: psycopg prepares a statement it has run five times, and
    # PostgreSQL may then keep a plan made when the table was small. A caller asking again
    # and again while its own transaction fills the table (the loyalty run's ledger) got a
    # sequential scan checking every row against each value in turn, ~5 s a call at a few
    # hundred thousand rows; planned with the values in hand, the lookup reads the index.
    options = {"prepare": False} if conn.dialect.name == "postgresql" else {}
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, params, **options)
        return list(cursor.fetchall())
    except conn.dialect.loaded_dbapi.Error as exc:  # raised as SQLAlchemy would raise it
        error = conn.dialect.loaded_dbapi.Error
        raise sa.exc.DBAPIError.instance(sql, params, exc, error) from exc
    finally:
        cursor.close()


def driver_executemany(s: Session, stmt: Any, rows: list[dict[str, Any]]) -> None:
    """Run a Core statement for many rows through the driver's own ``executemany``.

    SQLAlchemy's executemany processes every parameter of every row in Python, which costs
    more than the insert itself at a million rows. Here the statement is compiled once,
    each column's bind processor (the same ones SQLAlchemy would apply: Decimal, dates, JSON,
    the personal-field cipher) is looked up once, and values that repeat (dates, the batch's
    timestamp) are processed once."""
    if not rows:
        return
    conn = s.connection()
    dialect = conn.dialect
    compiled = stmt.compile(dialect=dialect, column_keys=list(rows[0]))
    names = list(compiled.positiontup) if compiled.positional else list(compiled.binds)
    procs: dict[str, Any] = {}
    for name in set(names):
        proc = compiled.binds[name].type._cached_bind_processor(dialect)
        if proc is not None:
            procs[name] = proc
    # Columns the rows leave out take their column default, worked out once per call.
    table = getattr(stmt, "table", None)
    defaults: dict[str, Any] = {}
    for name in set(names) - set(rows[0]):
        default = table.c[name].default if table is not None and name in table.c else None
        if default is None:
            defaults[name] = None
        elif default.is_scalar:
            defaults[name] = default.arg
        elif default.is_callable:
            defaults[name] = default.arg(None)
        else:
            raise ValueError(f"no client-side default for {name}")
    if defaults:
        rows = [{**defaults, **row} for row in rows]
    columns: dict[str, list[Any]] = {}
    for name in dict.fromkeys(names):
        values = [row[name] for row in rows]
        proc = procs.get(name)
        if proc is not None:
            memo: dict[Any, Any] = {}
            out: list[Any] = []
            for v in values:
                if v is None:
                    out.append(None)
                elif isinstance(v, dt.date):  # dates and timestamps repeat: process once
                    if v not in memo:
                        memo[v] = proc(v)
                    out.append(memo[v])
                else:
                    out.append(proc(v))
            values = out
        columns[name] = values
    insert = isinstance(stmt, sa.sql.dml.Insert) and not stmt._returning
    if insert and isinstance(table, sa.Table) and copy_applies(conn):
        # COPY does an INSERT's work without a round of parsing and planning per row.
        copy_columns(conn, table, columns)
        return
    if compiled.positional:
        params: list[Any] = list(zip(*(columns[n] for n in names), strict=True))
    else:
        keys = list(columns)
        params = [
            dict(zip(keys, vals, strict=True)) for vals in zip(*columns.values(), strict=True)
        ]
    conn.exec_driver_sql(compiled.string, params)
