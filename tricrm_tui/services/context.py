"""Who is acting, on which database, at what time: every service call takes one of these.

Services use ``ctx.transaction()`` for writes, so the audit entry they record lands in the
same transaction as the change it describes.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from tricrm_tui.db.engine import Database
from tricrm_tui.db.errors import translate_db_errors
from tricrm_tui.models.types import utcnow


@dataclass(frozen=True)
class Actor:
    username: str
    role: str = "admin"

    @classmethod
    def from_environment(cls) -> Actor:
        """``TRICRM_USER`` (and ``TRICRM_ROLE``), else the OS account: scripts need no login."""
        try:
            name = os.environ.get("TRICRM_USER") or getpass.getuser()
        except Exception:  # no passwd entry in some containers
            name = "operator"
        return cls(username=name, role=os.environ.get("TRICRM_ROLE", "admin"))


@dataclass
class ServiceContext:
    db: Database
    actor: Actor
    clock: Callable[[], dt.datetime] = field(default=utcnow)

    def now(self) -> dt.datetime:
        return self.clock()

    def today(self) -> dt.date:
        """Today in the operator's local time zone ("due today" means the local day)."""
        return self.clock().astimezone().date()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with translate_db_errors(self.db.display_url), self.db.session() as s:
            yield s

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with translate_db_errors(self.db.display_url), self.db.transaction() as s:
            yield s


def open_context(db_value: str | None = None, actor: Actor | None = None) -> ServiceContext:
    from tricrm_tui.db.engine import open_database
    from tricrm_tui.services.bulk_load import restore_abandoned

    ctx = ServiceContext(db=open_database(db_value), actor=actor or Actor.from_environment())
    restore_abandoned(ctx)  # what a killed bulk import left down (one query otherwise)
    settle_owed(ctx)
    return ctx


def settle_owed(ctx: ServiceContext) -> None:
    """Run the follow-ups a change recorded as owed and that never ran (``db.pending``): the
    classification after an upgrade that changed what classes mean, the value refresh after
    an undo killed before it. One query when nothing is owed.

    Never stops the opening: work that cannot run now (a broken ``classify.toml``, a role
    that may only read, another process holding the database's write lock past the busy
    timeout) stays owed, is said on stderr, and is tried again at the next opening."""
    import logging

    from tricrm_tui.db import pending
    from tricrm_tui.i18n import _

    with ctx.db.engine.connect() as conn:
        owed = pending.owed(conn)
    if not owed:
        return
    log = logging.getLogger(__name__)
    if pending.CLASSIFY in owed:
        from tricrm_tui.services.classify import classify_customers

        log.warning(_("classifying the customers again, as the upgraded database asks…"))
        try:
            classify_customers(ctx)  # settles what is owed in its transaction
        except Exception as exc:  # the command the operator asked for runs all the same
            log.warning(
                _("customers not classified again: {reason} (`tricrm classify` does it)").format(
                    reason=_one_line(exc)
                )
            )
    if pending.VALUE in owed:
        from tricrm_tui.services.value import refresh_current

        log.warning(_("refreshing the value scores an interrupted undo left stale…"))
        try:
            refresh_current(ctx)  # settles what is owed in its transaction
        except Exception as exc:
            log.warning(
                _("value scores not refreshed: {reason} (`tricrm value refresh` does it)").format(
                    reason=_one_line(exc)
                )
            )


def _one_line(exc: Exception) -> str:
    """What went wrong, in one line: the driver's own message for a database error (not the
    statement and its parameters SQLAlchemy adds)."""
    import sqlalchemy.exc

    text = str(exc.orig) if isinstance(exc, sqlalchemy.exc.DBAPIError) else str(exc)
    return (text.strip().splitlines() or [type(exc).__name__])[0]


def refuse_database_file(ctx: ServiceContext, path: Path, field: str) -> None:
    """Refuse to write a file over the SQLite database in use: an export named after it
    replaced the database with CSV text (and said "rows written"); a rejects file truncated
    it."""
    from tricrm_tui.i18n import _
    from tricrm_tui.services.errors import InvalidInput

    if ctx.db.holds_file(path):
        raise InvalidInput(
            _("{file} is the database tricrm is using; name another file").format(file=path),
            field=field,
        )
