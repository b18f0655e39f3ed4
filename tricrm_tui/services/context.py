"""Who is acting, on which database, at what time: every service call takes one of these.

Services use ``ctx.transaction()`` for writes, so the audit entry they record lands in the
same transaction as the change it describes.
"""

from __future__ import annotations

import contextlib
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
    if ctx.db.upgraded_from is not None and ctx.db.upgraded_from < RECLASSIFY_BEFORE:
        _classify_after_upgrade(ctx)
    return ctx


RECLASSIFY_BEFORE = "0009"
"""A database upgraded from an older revision is classified again once, as it opens: the
classes it stored were given by older rules (provinces written 粤 or 未知 with a city had no
region; sizes as given were not kept). The rules in use (``classify.toml``) decide."""


def _classify_after_upgrade(ctx: ServiceContext) -> None:
    from tricrm_tui.services import classify
    from tricrm_tui.services.errors import InvalidInput

    # A broken classify.toml: `tricrm classify` names it; opening goes on.
    with contextlib.suppress(InvalidInput):
        classify.classify_customers(ctx)


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
