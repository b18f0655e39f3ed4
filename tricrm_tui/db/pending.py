"""Work owed to the derived data, recorded with the change that owes it.

Some follow-ups run after the transaction that made them necessary: classifying every
customer again once an upgrade changed what the stored classes mean, refreshing the value
scores once an import's undo took orders away. A process killed between the two, or a
follow-up that could not run (a broken ``classify.toml``), left stale classes or scores with
nothing to say so. The change now records a marker row in ``change_counters`` in its own
transaction; the follow-up deletes it in its own; every opening of the database runs what is
still owed (``services.context.open_context``: one query when nothing is).

The rows sit beside the key counter in ``change_counters`` rather than in a table of their
own: a marker is a name and a count, and the table is there on every revision since 0005.
The count goes up each time the work is owed again. Work that reads the data outside the
transaction that settles it (the value refresh computes first, then stores) reads the count
before it reads the data and deletes the marker only if the count is still the one it read:
an undo that commits in between (another process) owes the work again, and its marker stays.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm

from tricrm_tui.models.customers import ChangeCounter

CLASSIFY = "owed:classify"
"""Every customer is to be classified again (the rules' meaning changed under them)."""
VALUE = "owed:value"
"""The value scores are to be refreshed (orders went away after the last refresh)."""

_T = ChangeCounter.__table__


def owe(conn: sa.Connection | sa.orm.Session, name: str) -> None:
    """Record ``name`` as owed, in the caller's transaction (owed twice, it is done once)."""
    bind = conn.get_bind() if isinstance(conn, sa.orm.Session) else conn
    if bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    stmt = insert(_T).values(name=name, value=1)
    conn.execute(
        stmt.on_conflict_do_update(index_elements=[_T.c.name], set_={"value": _T.c.value + 1})
    )


def count(conn: sa.Connection | sa.orm.Session, name: str) -> int | None:
    """How many times ``name`` was owed since it was last settled (None: it is not owed):
    read before the work reads the data, and handed to :func:`settle`."""
    found = conn.execute(sa.select(_T.c.value).where(_T.c.name == name)).scalar()
    return None if found is None else int(found)


def settle(conn: sa.Connection | sa.orm.Session, name: str, seen: int | None) -> None:
    """``name`` is done, in the transaction of the work that did it. ``seen`` is the
    :func:`count` read before the work read its data: a change that owed the work again
    since then was not seen by it, and its marker stays (None: nothing was owed then)."""
    if seen is not None:
        conn.execute(sa.delete(_T).where(_T.c.name == name, _T.c.value == seen))


def owed(conn: sa.Connection | sa.orm.Session) -> set[str]:
    """What is owed (one query)."""
    return set(conn.execute(sa.select(_T.c.name).where(_T.c.name.in_([CLASSIFY, VALUE]))).scalars())
