"""Engines and sessions for SQLite and PostgreSQL.

SQLite is opened with WAL, foreign keys on and a busy timeout, so the TUI and a scheduled
script can share one file. Opening a database upgrades it to the schema this tricrm ships
(see :mod:`tricrm_tui.db.migrate`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from tricrm_tui.db.text import register_sqlite_functions
from tricrm_tui.db.url import redacted, resolve_db_url

SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_TEMP_STORE = "MEMORY"
SQLITE_CACHE_KIB = 65_536
"""Page cache per SQLite connection (64 MB): lists and reports re-read the same index pages.
Bulk writers that append (the demo build, imports) lower it for their own connection."""


def _sqlite_on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cur.execute(f"PRAGMA temp_store={SQLITE_TEMP_STORE}")
    cur.close()
    register_sqlite_functions(dbapi_conn)


def create_db_engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    return sa.create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        connect_args={"connect_timeout": 5, "application_name": "tricrm"},
    )


@dataclass
class Database:
    """An opened, migrated database: the engine and a session factory."""

    url: str
    engine: sa.Engine
    _sessions: sessionmaker[Session] = field(init=False, repr=False)
    upgraded_from: str | None = None
    """The schema revision opening this database upgraded it from (None: no upgrade)."""

    def __post_init__(self) -> None:
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``: what backend-specific code branches on."""
        return self.engine.dialect.name

    def holds_file(self, path: Path | str) -> bool:
        """Whether ``path`` is this SQLite database's file or one of its companions (``-wal``,
        ``-shm``, ``-journal``): what an export or a rejects file must never overwrite."""
        name = self.engine.url.database
        if self.backend != "sqlite" or not name or name == ":memory:" or name.startswith("file:"):
            return False
        base = Path(name).resolve()
        candidates = {base, *(base.with_name(base.name + s) for s in ("-wal", "-shm", "-journal"))}
        target = Path(path)
        if target.resolve() in candidates:
            return True
        try:  # another name for the same file (a hard link)
            return target.exists() and base.exists() and target.samefile(base)
        except OSError:
            return False

    @property
    def display_url(self) -> str:
        return redacted(self.url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read session (rolled back at the end)."""
        with self._sessions() as s:
            yield s

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write session: committed if the block succeeds, rolled back if it raises."""
        with self._sessions() as s, s.begin():
            yield s

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(value: str | None = None, *, upgrade: bool = True) -> Database:
    """Open (create or upgrade) the database named by ``--db``/``TRICRM_DB``/the default.

    Connection problems become :class:`~tricrm_tui.db.errors.DatabaseUnavailable` with one
    readable line; a schema newer than this tricrm becomes ``SchemaTooNew``.
    """
    from tricrm_tui.db.errors import translate_db_errors
    from tricrm_tui.db.migrate import ensure_schema

    url = resolve_db_url(value)
    engine = create_db_engine(url)
    db = Database(url=url, engine=engine)
    with translate_db_errors(db.display_url):
        if upgrade:
            db.upgraded_from = ensure_schema(engine)
        else:
            with engine.connect():
                pass
    return db
