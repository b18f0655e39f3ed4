"""Work owed to derived data (``db.pending``): recorded with the change that owes it, run by
the next opening of the database, settled by the work that did it. Both backends unless
named: the read-only role is PostgreSQL's, the held write lock SQLite's."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from tricrm_tui.db import pending
from tricrm_tui.services import customers, import_hooks, importing, value
from tricrm_tui.services.context import Actor, ServiceContext, open_context


def _killed(*args: object, **kwargs: object) -> None:
    raise KeyboardInterrupt


def _orders_of_c1(ctx: ServiceContext, tmp_path: Path) -> int:
    """C1 with six orders (imported, so undoable), C2 with none; the import's id."""
    customers.add_customer(ctx, {"code": "C1", "name": "Ann"})
    customers.add_customer(ctx, {"code": "C2", "name": "Bea"})
    path = tmp_path / "o.csv"
    path.write_text(
        "order_no,customer_code,order_date,amount\n"
        + "".join(f"O{i},C1,2026-0{i}-01,500\n" for i in range(1, 7)),
        "utf-8",
    )
    import_hooks.register()
    result = importing.import_file(ctx, "orders", path)
    assert result.inserted == 6
    return result.import_id


def _undo_killed_before_its_refresh(
    ctx: ServiceContext, import_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as m:
        m.setattr(value, "value_refresh", _killed)
        with pytest.raises(KeyboardInterrupt):
            importing.undo_import(ctx, import_id)


def _owed(ctx: ServiceContext) -> set[str]:
    with ctx.db.engine.connect() as conn:
        return pending.owed(conn)


def _segments(ctx: ServiceContext) -> tuple[str | None, str | None]:
    return tuple(customers.get_customer(ctx, c).rfm_segment for c in ("C1", "C2"))  # type: ignore[return-value]


def test_an_undo_killed_before_its_value_refresh_has_the_next_opening_do_it(
    ctx: ServiceContext, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The undo's transaction commits before the value scores are refreshed; a process
    ended between the two left the orders' RFM segment on their customer until the next
    order import. The undo records the refresh as owed, and the next opening does it."""
    import_id = _orders_of_c1(ctx, tmp_path)
    stale, never = _segments(ctx)
    assert stale and stale != never
    _undo_killed_before_its_refresh(ctx, import_id, monkeypatch)
    assert _segments(ctx) == (stale, never) and _owed(ctx) == {pending.VALUE}
    reopened = open_context(db_url, Actor("tester", "admin"))
    try:
        assert _segments(reopened) == (never, never) and _owed(reopened) == set()
    finally:
        reopened.db.dispose()


def test_an_owed_refresh_when_the_newest_refresh_is_dated_ahead_is_done_once(
    ctx: ServiceContext, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The customers show the newest stored refresh; one dated after today (``value refresh
    --as-of`` ahead, or a machine whose day had turned) made the owed refresh, done as of
    today, change no customer and stay owed: every opening of the database valued every
    customer again, and C1 kept the segment of the orders the undo took away."""
    import_id = _orders_of_c1(ctx, tmp_path)
    value.value_refresh(ctx, ctx.today() + dt.timedelta(days=30))
    stale = _segments(ctx)
    assert stale[0] != stale[1]
    _undo_killed_before_its_refresh(ctx, import_id, monkeypatch)
    assert _owed(ctx) == {pending.VALUE}
    reopened = open_context(db_url, Actor("tester", "admin"))
    try:
        assert _owed(reopened) == set()
        c1, c2 = _segments(reopened)
        assert c1 == c2
    finally:
        reopened.db.dispose()


def test_an_undo_when_the_newest_refresh_is_dated_ahead_refreshes_that_one(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    import_id = _orders_of_c1(ctx, tmp_path)
    value.value_refresh(ctx, ctx.today() + dt.timedelta(days=1))
    importing.undo_import(ctx, import_id)
    c1, c2 = _segments(ctx)
    assert c1 == c2
    assert _owed(ctx) == set()


def test_a_refresh_valuing_the_orders_before_an_undo_leaves_the_undo_owed(
    ctx: ServiceContext, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refresh values the orders, then stores the values. An undo (another process) that
    commits in between and is stopped before its own refresh owes one; the refresh that
    stored the values of the orders the undo took away deleted that marker all the same,
    and nothing was left to say the scores were stale."""
    import_id = _orders_of_c1(ctx, tmp_path)
    value.value_refresh(ctx)
    stale = _segments(ctx)
    valued = value.compute_valuation

    def valued_then_undone(*args, **kwargs):  # type: ignore[no-untyped-def]
        valuation = valued(*args, **kwargs)
        _undo_killed_before_its_refresh(ctx, import_id, monkeypatch)
        return valuation

    with monkeypatch.context() as m:
        m.setattr(value, "compute_valuation", valued_then_undone)
        value.value_refresh(ctx)
    assert _segments(ctx) == stale
    assert _owed(ctx) == {pending.VALUE}
    reopened = open_context(db_url, Actor("tester", "admin"))
    try:
        c1, c2 = _segments(reopened)
        assert c1 == c2
        assert _owed(reopened) == set()
    finally:
        reopened.db.dispose()


def test_work_owed_while_another_process_holds_the_write_lock_does_not_stop_the_opening(
    tmp_path: Path,
    sqlite_template: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A long import holds SQLite's write lock; the opening's refresh waited the busy
    timeout and failed with "database is locked", and so did every command, reads too,
    until the import ended. The opening says so and goes on; the next one does the work."""
    from tricrm_tui.db import engine

    path = tmp_path / "tricrm.db"
    shutil.copy(sqlite_template, path)
    ctx = open_context(str(path), Actor("tester", "admin"))
    import_id = _orders_of_c1(ctx, tmp_path)
    _undo_killed_before_its_refresh(ctx, import_id, monkeypatch)
    ctx.db.dispose()
    monkeypatch.setattr(engine, "SQLITE_BUSY_TIMEOUT_MS", 200)
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        opened = open_context(str(path), Actor("tester", "admin"))
        try:
            said = caplog.text
            assert "value scores not refreshed: cannot use database" in said
            assert "database is locked" in said
            assert customers.get_customer(opened, "C1").name == "Ann"
            assert _owed(opened) == {pending.VALUE}
        finally:
            opened.db.dispose()
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    again = open_context(str(path), Actor("tester", "admin"))
    try:
        assert _owed(again) == set()
        c1, c2 = _segments(again)
        assert c1 == c2
    finally:
        again.db.dispose()


def test_work_owed_does_not_stop_a_role_that_may_only_read(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A reporting role granted SELECT only: while a refresh was owed, every command it ran
    ended in "permission denied for table value_snapshots", a raw database error."""
    from tests.conftest import truncate_all

    engine = sa.create_engine(pg_url)
    truncate_all(engine)
    ctx = open_context(pg_url, Actor("tester", "admin"))
    role = "tricrm_test_reader"
    try:
        import_id = _orders_of_c1(ctx, tmp_path)
        _undo_killed_before_its_refresh(ctx, import_id, monkeypatch)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
            conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
            conn.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
        url = sa.engine.make_url(pg_url).set(username=role, password=None)
        reader = open_context(url.render_as_string(hide_password=False), Actor("reader"))
        try:
            assert "value scores not refreshed: permission denied" in caplog.text
            assert customers.get_customer(reader, "C1").name == "Ann"
            assert _owed(reader) == {pending.VALUE}
        finally:
            reader.db.dispose()
    finally:
        ctx.db.dispose()
        with engine.begin() as conn:
            conn.exec_driver_sql(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}")
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        truncate_all(engine)
        engine.dispose()
