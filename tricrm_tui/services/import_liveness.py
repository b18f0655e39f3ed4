"""Whether an import recorded as "running" is still running, or was killed.

An import's ``import_batches`` row says ``running`` from its first batch to its last; a
process killed in between (Ctrl-C twice, the machine losing power, an out-of-memory kill)
never gets to say otherwise. A pid or a heartbeat column would need the killer's host and a
clock to trust; a lock held for the import's lifetime is released by the operating system
or the server the moment its holder dies, wherever it ran:

* PostgreSQL: a session advisory lock keyed by the import id, held on a connection of its
  own (``pg_try_advisory_xact_lock`` from any other session tells whether it is held);
* SQLite: an exclusive ``flock`` on a small file beside the database file
  (``<db>-imports/<id>.lock``), which every process opening the same file sees.

An import whose lock nobody holds is *interrupted*: its whole batches are in, and running
the same file again completes it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import sqlalchemy as sa

from tricrm_tui.services.context import ServiceContext

LOCK_SPACE = 0x7472_696D
"""The first key of every import's PostgreSQL advisory lock (the second is the import id),
so the locks cannot collide with any other use of advisory locks on the same server."""


def _lock_dir(ctx: ServiceContext) -> Path | None:
    database = ctx.db.engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).with_name(Path(database).name + "-imports")


@contextlib.contextmanager
def held(ctx: ServiceContext, import_id: int) -> Iterator[None]:
    """Hold import ``import_id``'s liveness lock while the block runs."""
    if ctx.db.backend == "postgresql":
        with ctx.db.engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:space, :id)"),
                         {"space": LOCK_SPACE, "id": import_id})  # fmt: skip
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:space, :id)"),
                             {"space": LOCK_SPACE, "id": import_id})  # fmt: skip
                conn.commit()
        return
    folder = _lock_dir(ctx)
    if folder is None:
        yield
        return
    import fcntl

    folder.mkdir(exist_ok=True)
    path = folder / f"{import_id}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)


def forget(ctx: ServiceContext, import_id: int) -> None:
    """Remove the lock file a killed import left behind (SQLite; nothing to do otherwise)."""
    folder = _lock_dir(ctx)
    if ctx.db.backend == "sqlite" and folder is not None:
        (folder / f"{import_id}.lock").unlink(missing_ok=True)


def running(ctx: ServiceContext, import_ids: Iterable[int]) -> set[int]:
    """Those of ``import_ids`` whose importing process still holds its lock."""
    ids = sorted(set(import_ids))
    if not ids:
        return set()
    if ctx.db.backend == "postgresql":
        alive: set[int] = set()
        with ctx.db.engine.connect() as conn:
            for import_id in ids:
                with conn.begin():
                    free = conn.execute(
                        sa.text("SELECT pg_try_advisory_xact_lock(:space, :id)"),
                        {"space": LOCK_SPACE, "id": import_id},
                    ).scalar_one()
                if not free:
                    alive.add(import_id)
        return alive
    folder = _lock_dir(ctx)
    if folder is None:
        return set(ids)  # an in-memory database lives and dies with its one process
    import fcntl

    alive = set()
    for import_id in ids:
        path = folder / f"{import_id}.lock"
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            alive.add(import_id)
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
    return alive


def any_alive(ctx: ServiceContext) -> bool:
    """Whether some process is importing into this database now, whatever its import's row
    says (an import's lock is held through its follow-ups, after its row says "done").

    PostgreSQL: one look at ``pg_locks`` for a granted lock in ``LOCK_SPACE``. SQLite: the
    lock files in the folder beside the database, each tried without waiting."""
    if ctx.db.backend == "postgresql":
        with ctx.db.engine.connect() as conn:
            held = conn.execute(
                sa.text(
                    "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND classid::bigint = :space AND objsubid = 2 AND database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database()) LIMIT 1"
                ),
                {"space": LOCK_SPACE},
            ).first()
        return held is not None
    folder = _lock_dir(ctx)
    if folder is None:
        return False
    ids = [int(p.stem) for p in folder.glob("*.lock") if p.stem.isdigit()]
    return bool(running(ctx, ids))
