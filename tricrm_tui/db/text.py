"""Case folding that means the same on both backends.

SQLite's built-in ``lower()`` folds only ASCII, so ``name:Özil`` or ``city:zürich`` could not
match a stored ``Özil``/``Zürich`` there while PostgreSQL (whose ``lower()`` knows Unicode)
found them. :func:`unicode_lower` compiles to ``lower()`` on PostgreSQL and to
``tricrm_lower()`` on SQLite, a function every SQLite connection of ours registers (see
:mod:`tricrm_tui.db.engine`) that lower-cases as Python does.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

SQLITE_LOWER = "tricrm_lower"


def _lower(value: Any) -> Any:
    # casefold, not lower: made for caseless matching (ΟΔΟΣ and Σ meet as οδοσ and σ, where
    # lower() gives the word a final ς).
    return value.casefold() if isinstance(value, str) else value


def register_sqlite_functions(dbapi_conn: Any) -> None:
    """Register :data:`SQLITE_LOWER` on a new sqlite3 connection (deterministic, so SQLite
    may use it in indexes and constant-fold it)."""
    dbapi_conn.create_function(SQLITE_LOWER, 1, _lower, deterministic=True)


class unicode_lower(FunctionElement[str]):  # noqa: N801  (reads as the SQL function it is)
    """``lower(expr)`` folding every script, on both backends."""

    type = sa.String()
    inherit_cache = True
    name = "unicode_lower"


@compiles(unicode_lower)
def _default_lower(element: unicode_lower, compiler: Any, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(unicode_lower, "sqlite")
def _sqlite_lower(element: unicode_lower, compiler: Any, **kw: Any) -> str:
    return f"{SQLITE_LOWER}({compiler.process(element.clauses, **kw)})"
