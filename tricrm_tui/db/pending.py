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
    """Record ``name`` as owed, in the caller's transaction (twice is once)."""
    bind = conn.get_bind() if isinstance(conn, sa.orm.Session) else conn
    if bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    conn.execute(insert(_T).values(name=name, value=1).on_conflict_do_nothing())


def settle(conn: sa.Connection | sa.orm.Session, name: str) -> None:
    """``name`` is done, in the transaction of the work that did it."""
    conn.execute(sa.delete(_T).where(_T.c.name == name))


def owed(conn: sa.Connection | sa.orm.Session) -> set[str]:
    """What is owed (one query)."""
    return set(conn.execute(sa.select(_T.c.name).where(_T.c.name.in_([CLASSIFY, VALUE]))).scalars())
