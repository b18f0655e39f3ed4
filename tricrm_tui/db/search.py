"""Customer search behind one small interface, per backend.

SQLite: an FTS5 table with the ``trigram`` tokenizer over ``customers.search_text`` (Chinese
names have no word boundaries, so word tokenizers cannot find 伟 inside 张伟明), kept in sync
by triggers, so Core bulk inserts stay in sync too. PostgreSQL: a ``pg_trgm`` GIN index on
the same column. Trigrams need three characters; shorter queries fall back to a substring
scan of ``search_text``, which is still quick at 100k rows.

``search_text`` is built by :func:`search_text_for` from code, name, phone digits, email,
tags and notes; every service that writes a customer calls it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

FTS_TABLE = "customer_fts"
PG_TRGM_INDEX = "ix_customers_search_trgm"

_DIGITS = re.compile(r"\D+")


def is_search_object(name: str | None) -> bool:
    """Objects the migrations make by hand, which autogenerate must not compare."""
    return name is not None and (name.startswith(FTS_TABLE) or name == PG_TRGM_INDEX)


def search_text_for(
    code: str | None,
    name: str | None,
    phone: str | None = None,
    email: str | None = None,
    tags: Iterable[str] = (),
    notes: str | None = None,
) -> str:
    parts = [code or "", name or ""]
    if phone:
        parts.append(_DIGITS.sub("", phone))
    parts += [email or "", " ".join(tags), notes or ""]
    return " ".join(p for p in parts if p).lower()


def normalise_query(query: str) -> str:
    """Lower-case, trimmed; a query made of a phone number keeps its digits only."""
    q = query.strip().lower()
    if q and _DIGITS.sub("", q) and re.fullmatch(r"[\d\s+()\-]+", q):
        q = _DIGITS.sub("", q)
    return q


def _like_pattern(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def customer_match(
    dialect: str, query: str, id_col: sa.ColumnElement, text_col
) -> ColumnElement[bool]:  # type: ignore[no-untyped-def]
    """A WHERE condition selecting customers whose search text contains ``query``."""
    q = normalise_query(query)
    if not q:
        return sa.true()
    if dialect == "sqlite" and len(q) >= 3:
        phrase = '"' + q.replace('"', '""') + '"'
        fts = sa.text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :fts_q").bindparams(
            fts_q=phrase
        )
        return id_col.in_(fts)
    return text_col.like(_like_pattern(q), escape="\\")


SQLITE_DDL = [
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(search_text, content='customers', "
    "content_rowid='id', tokenize='trigram')",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ai AFTER INSERT ON customers BEGIN
        INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ad AFTER DELETE ON customers BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_au AFTER UPDATE OF search_text ON customers BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
        INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text);
    END""",
]
SQLITE_TRIGGERS = [f"{FTS_TABLE}_ai", f"{FTS_TABLE}_ad", f"{FTS_TABLE}_au"]
"""What keeps the FTS5 index current (``SQLITE_DDL[1:]``)."""
SQLITE_DROP_TRIGGERS = [f"DROP TRIGGER IF EXISTS {name}" for name in reversed(SQLITE_TRIGGERS)]
SQLITE_DROP = [*SQLITE_DROP_TRIGGERS, f"DROP TABLE IF EXISTS {FTS_TABLE}"]
PG_DDL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX IF NOT EXISTS {PG_TRGM_INDEX} ON customers USING gin (search_text gin_trgm_ops)",
]
PG_DROP = [f"DROP INDEX IF EXISTS {PG_TRGM_INDEX}"]


def search_index_parts(dialect: str) -> list[str]:
    """The objects that keep the search index current, which a bulk load takes down:
    SQLite's three sync triggers, PostgreSQL's trigram index."""
    return list(SQLITE_TRIGGERS) if dialect == "sqlite" else [PG_TRGM_INDEX]


def take_down_search_index(dialect: str, execute) -> None:  # type: ignore[no-untyped-def]
    """Stop keeping the search index current, for a bulk load (see ``db/deferred.py``).

    SQLite loses all three triggers, not only the insert one: with rows missing from the
    index, an update's or a delete's trigger would tell FTS5 to remove entries it never
    held, which corrupts an external-content index."""
    for stmt in SQLITE_DROP_TRIGGERS if dialect == "sqlite" else PG_DROP:
        execute(stmt)


def build_search_index(dialect: str, execute) -> None:  # type: ignore[no-untyped-def]
    """Put back what :func:`take_down_search_index` removed, and index every row again.

    FTS5's ``rebuild`` reads the whole content table once: 100k customers in about 0.1 s,
    where keeping the index current row by row had cost an import 4.4 s."""
    if dialect == "sqlite":
        for stmt in SQLITE_DDL[1:]:
            execute(stmt)
        execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
    else:
        execute(PG_DDL[1])


def create_search_objects(dialect: str, execute) -> None:  # type: ignore[no-untyped-def]
    for stmt in SQLITE_DDL if dialect == "sqlite" else PG_DDL:
        execute(stmt)


def drop_search_objects(dialect: str, execute) -> None:  # type: ignore[no-untyped-def]
    for stmt in SQLITE_DROP if dialect == "sqlite" else PG_DROP:
        execute(stmt)
