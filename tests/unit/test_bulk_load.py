"""Bulk imports load with the table's secondary indexes down and build them at the end:
the same indexes come back, the same data goes in, and a killed or failed import never
leaves a database without them (on both backends)."""

from __future__ import annotations

import itertools
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from tests.unit.test_import_cli import ROOT, _content, _customers_file, _orders_file
from tricrm_tui.db import deferred
from tricrm_tui.db.search import FTS_TABLE
from tricrm_tui.db.url import resolve_db_url
from tricrm_tui.models import ImportBatch
from tricrm_tui.services import bulk_load, customers, import_liveness, importing, merge
from tricrm_tui.services.context import Actor, ServiceContext, open_context
from tricrm_tui.services.errors import InvalidInput

FORCE_BULK = (
    "import sys; from tricrm_tui.services import bulk_load; bulk_load.MIN_ROWS = 1; "
    "from tricrm_tui.cli.main import run; run(sys.argv[1:])"
)


def _definitions(url: str) -> dict[str, str]:
    """Every index and trigger on customers and orders, by name, as the database states it."""
    engine = sa.create_engine(resolve_db_url(url))
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            rows = conn.exec_driver_sql(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                "AND tablename IN ('customers', 'orders')"
            ).all()
        else:
            rows = conn.exec_driver_sql(
                "SELECT name, coalesce(sql, '') FROM sqlite_master "
                "WHERE type IN ('index', 'trigger') AND tbl_name IN ('customers', 'orders')"
            ).all()
    engine.dispose()
    return dict(rows)


def _missing(url: str) -> dict[str, list[str]]:
    engine = sa.create_engine(resolve_db_url(url))
    with engine.connect() as conn:
        gaps = deferred.missing(conn)
    engine.dispose()
    return gaps


def _force_bulk(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Every import takes the bulk path; returns the (table, taken down) calls made."""
    monkeypatch.setattr(bulk_load, "MIN_ROWS", 1)
    calls: list[tuple[str, bool]] = []
    real = bulk_load.take_down

    def spy(ctx: ServiceContext, table: str) -> bool:
        down = real(ctx, table)
        calls.append((table, down))
        if down:  # really down while the rows go in
            with ctx.db.engine.connect() as conn:
                assert table in deferred.missing(conn)
        return down

    monkeypatch.setattr(bulk_load, "take_down", spy)
    return calls


def _cli_bulk(
    db: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", FORCE_BULK, "--db", db, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        timeout=300,
    )


def test_a_bulk_import_builds_back_the_same_indexes_and_writes_the_same_data(
    db_url: str, tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _definitions(db_url)
    cfile = _customers_file(tmp_path / "c.csv", 300)
    ofile = _orders_file(tmp_path / "o.csv", 1000, 300)
    calls = _force_bulk(monkeypatch)
    ctx = open_context(db_url, Actor("tester", "admin"))
    importing.import_file(ctx, "customers", cfile, batch_size=120)
    importing.import_file(ctx, "orders", ofile, batch_size=400)
    bulk = [("customers", True), ("orders", True)]
    if ctx.db.backend == "postgresql":  # the order totals rewrite customers: theirs go too
        bulk.append(("customers", True))
    assert calls == bulk
    assert _definitions(db_url) == before
    # The search index holds the customers the import added while it was down.
    page = customers.list_customers(ctx, search="客户123")
    assert [c.code for c in page.items] == ["C00123"]
    page = customers.list_customers(ctx, search="13900000299")
    assert [c.code for c in page.items] == ["C00299"]
    ctx.db.dispose()

    # The same files through the ordinary path give the same rows, totals included.
    monkeypatch.setattr(bulk_load, "MIN_ROWS", 10**9)
    clean = tmp_path / "clean.db"
    clean.write_bytes(sqlite_template.read_bytes())
    other = open_context(str(clean), Actor("tester", "admin"))
    importing.import_file(other, "customers", cfile)
    importing.import_file(other, "orders", ofile)
    other.db.dispose()
    assert calls == bulk  # no further take-down
    assert _content(db_url) == _content(str(clean))


def test_a_killed_bulk_import_leaves_its_indexes_to_the_next_opener(
    db_url: str, tmp_path: Path
) -> None:
    cfile = _customers_file(tmp_path / "c.csv", 300)
    killed = _cli_bulk(
        db_url, "import", "customers", str(cfile), "--batch-size", "100",
        env={importing.CRASH_ENV: "2"},
    )  # fmt: skip
    assert killed.returncode == 17, killed.stderr
    gaps = _missing(db_url)
    assert set(gaps) == {"customers"}
    assert "ix_customers_phone" in gaps["customers"]

    ctx = open_context(db_url, Actor("tester", "admin"))  # no import is alive: built here
    assert _missing(db_url) == {}
    assert [c.code for c in customers.list_customers(ctx, search="客户150").items] == ["C00150"]
    ctx.db.dispose()

    ofile = _orders_file(tmp_path / "o.csv", 900, 200)
    killed = _cli_bulk(
        db_url, "import", "orders", str(ofile), "--batch-size", "300",
        env={importing.CRASH_ENV: "1"},
    )  # fmt: skip
    assert killed.returncode == 17, killed.stderr
    assert set(_missing(db_url)) == {"orders"}
    # Running the file again (through the ordinary path) completes it, indexes included.
    rerun = subprocess.run(
        [sys.executable, "-m", "tricrm_tui", "--db", db_url, "import", "orders", str(ofile)],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300,
    )  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr
    assert "interrupted import left down" in rerun.stderr  # the wait is explained
    assert _missing(db_url) == {}


def test_the_opener_leaves_indexes_down_while_their_import_is_alive(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = open_context(db_url, Actor("tester", "admin"))
    with ctx.transaction() as s:
        import_id = s.execute(
            sa.insert(ImportBatch.__table__).values(
                kind="orders", file="o.csv", file_hash="x", actor="tester",
                started_at=ctx.now(), status="running",
            )
        ).inserted_primary_key[0]  # fmt: skip
    with import_liveness.held(ctx, import_id):
        assert bulk_load.take_down(ctx, "orders")
        other = open_context(db_url, Actor("someone"))
        assert set(_missing(db_url)) == {"orders"}  # its import builds them at its end
        other.db.dispose()
    ctx.db.dispose()
    again = open_context(db_url, Actor("someone"))  # the import died without building them
    assert _missing(db_url) == {}
    again.db.dispose()


def test_an_import_that_fails_half_way_builds_its_indexes_before_it_raises(
    ctx: ServiceContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfile = _customers_file(tmp_path / "c.csv", 300)
    calls = _force_bulk(monkeypatch)

    def stop(done: int, total: int | None) -> None:
        if done > 150:
            raise InvalidInput("stopped by the test")

    with pytest.raises(InvalidInput):
        importing.import_file(ctx, "customers", cfile, batch_size=100, progress=stop)
    assert calls == [("customers", True)]
    with ctx.db.engine.connect() as conn:
        assert deferred.missing(conn) == {}
    assert [c.code for c in customers.list_customers(ctx, search="客户42").items][:1] == ["C00042"]


def test_only_large_imports_take_the_indexes_down(sqlite_ctx: ServiceContext) -> None:
    assert not bulk_load.worth_deferring(sqlite_ctx, "orders", bulk_load.MIN_ROWS - 1)
    assert bulk_load.worth_deferring(sqlite_ctx, "orders", bulk_load.MIN_ROWS)
    assert not bulk_load.worth_deferring(sqlite_ctx, "interactions", 10**6)
    assert not bulk_load.worth_deferring(sqlite_ctx, "orders", None)
    rows = bulk_load.MIN_ROWS * bulk_load.SHARE + 4  # a table holding more than SHARE files
    with sqlite_ctx.transaction() as s:
        s.execute(
            sa.text(
                "WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < :n) "
                "INSERT INTO customers (code, name, kind, custom_fields, consent_email, "
                "consent_sms, consent_phone, consent_wechat, order_count, total_spent, "
                "points_balance, search_text, created_at, updated_at, version) "
                "SELECT 'K' || v, 'n', 'individual', '{}', 1, 1, 1, 1, 0, 0, 0, '', "
                "'2026-01-01', '2026-01-01', 1 FROM n"
            ),
            {"n": rows},
        )
    assert not bulk_load.worth_deferring(sqlite_ctx, "customers", bulk_load.MIN_ROWS)
    assert bulk_load.worth_deferring(sqlite_ctx, "customers", rows // bulk_load.SHARE + 1)


def test_postgresql_keeps_the_indexes_when_readers_hold_the_table(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import truncate_all

    engine = sa.create_engine(pg_url)
    truncate_all(engine)
    monkeypatch.setattr(deferred, "PG_LOCK_TIMEOUT", "200ms")
    calls = _force_bulk(monkeypatch)
    ctx = open_context(pg_url, Actor("tester", "admin"))
    cfile = _customers_file(tmp_path / "c.csv", 50)
    with engine.connect() as reader, reader.begin():
        reader.exec_driver_sql("LOCK TABLE customers IN ACCESS SHARE MODE")
        result = importing.import_file(ctx, "customers", cfile)
    assert calls == [("customers", False)] and result.inserted == 50
    assert _missing(pg_url) == {}
    ctx.db.dispose()
    engine.dispose()


def test_seen_keys_find_every_key_across_spills() -> None:
    seen = importing._SeenKeys(spill=7)
    rng = np.random.default_rng(3)
    batches = [rng.integers(-(2**62), 2**62, 5) for _ in range(9)]
    for batch in batches:
        assert not seen.contains(batch).any()
        seen.add(batch)
    assert len(seen.merged) > 0  # some were merged
    for batch in batches:
        assert seen.contains(batch).all()
    assert not seen.contains(rng.integers(-(2**62), 2**62, 50)).any()
    assert np.all(np.diff(seen.merged) >= 0)
    # Known and new keys mixed in any order: each answer in its key's place.
    mixed = np.concatenate([batches[2][:3], rng.integers(-(2**62), 2**62, 4), batches[8][3:]])
    shuffle = rng.permutation(len(mixed))
    expected = np.array([True] * 3 + [False] * 4 + [True] * 2)[shuffle]
    assert seen.contains(mixed[shuffle]).tolist() == expected.tolist()


@pytest.mark.parametrize(("cap", "moved"), [(45, False), (10**6, True), (10**6, False)])
def test_the_customer_id_memory_is_bounded_and_changes_nothing(
    ctx: ServiceContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cap: int, moved: bool
) -> None:
    """Batches of 30 lines naming customers scattered over 90 codes (80 of them known), so
    each batch repeats codes an earlier one asked for; a memory of 45 codes overflows on
    most batches, and with the ``customer_keys`` counter moving after every batch (SQLite;
    on PostgreSQL, with no time to live) it forgets every batch."""
    monkeypatch.setattr(importing, "CUSTOMER_ID_CACHE", cap)
    monkeypatch.setattr(importing, "CUSTOMER_ID_TTL", 0.0 if moved else 60.0)
    sizes: list[int] = []
    real = importing._Importer._customer_ids

    def spy(self, s, codes):  # type: ignore[no-untyped-def]
        found = real(self, s, codes)
        sizes.append(len(self.customer_ids))
        return found

    monkeypatch.setattr(importing._Importer, "_customer_ids", spy)
    importing.import_file(ctx, "customers", _customers_file(tmp_path / "c.csv", 80))
    rng = random.Random(5)
    picks = [rng.randrange(90) for _ in range(400)]
    lines = ["订单编号,客户编号,下单日期,金额"] + [
        f"O{i:05d},C{pick:05d},2024-05-01,{i}.50" for i, pick in enumerate(picks)
    ]
    (tmp_path / "o.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    def bump(_line: int, _total: int | None) -> None:
        if moved:
            with ctx.transaction() as s:
                # A code changed and changed back: nothing to see but the counter.
                s.execute(sa.text("UPDATE customers SET code = 'X' WHERE code = 'C00001'"))
                s.execute(sa.text("UPDATE customers SET code = 'C00001' WHERE code = 'X'"))

    result = importing.import_file(ctx, "orders", tmp_path / "o.csv", batch_size=30, progress=bump)
    unknown = sum(1 for pick in picks if pick >= 80)  # codes C00080…C00089
    assert (result.inserted, result.rejected_count) == (400 - unknown, unknown)
    assert {r.code for r in result.rejected} == {"unknown_customer"}
    assert max(sizes) <= min(cap, 80) + 30  # one batch past the cap at most
    if cap < 80 or moved:
        assert any(b < a for a, b in itertools.pairwise(sizes))  # it did forget
    else:
        assert sizes == sorted(sizes)  # it learnt and never forgot


def _put_back_counter(ctx: ServiceContext) -> None:
    with ctx.transaction() as s:
        s.execute(sa.text("INSERT INTO change_counters (name, value) VALUES ('customer_keys', 0)"))


@pytest.mark.parametrize("counter_gone", [False, True])
def test_a_customer_merged_or_deleted_during_an_order_import_is_seen_by_the_next_batch(
    ctx: ServiceContext,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    counter_gone: bool,
) -> None:
    """After the first batch, A is merged into B and D is deleted: the rest of A's lines go
    to B, D's are refused as deleted. (An import that remembered ids for a while would
    have kept writing to A and D.) Without the counter row the import remembers nothing
    from one batch to the next, and gets the same answer. PostgreSQL has no counter: there
    the memory lasts ``CUSTOMER_ID_TTL`` seconds, none here."""
    monkeypatch.setattr(importing, "CUSTOMER_ID_TTL", 0.0)
    if counter_gone:
        with ctx.transaction() as s:
            s.execute(sa.text("DELETE FROM change_counters"))
        # Put back for the next test on this PostgreSQL database (tests leave it alone).
        request.addfinalizer(lambda: _put_back_counter(ctx))
    for code in ("A", "B", "D"):
        customers.add_customer(ctx, {"code": code, "name": f"客户{code}"})
    lines = ["订单编号,客户编号,下单日期,金额"] + [
        f"O{i:03d},{'A' if i % 2 else 'D'},2024-05-01,10" for i in range(40)
    ]
    (tmp_path / "o.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    done: list[int] = []

    def after_batch(_line: int, _total: int | None) -> None:
        if not done:
            merge.merge_customers(ctx, "B", ["A"])
            customers.delete_customer(ctx, "D")
        done.append(_line)

    result = importing.import_file(
        ctx, "orders", tmp_path / "o.csv", batch_size=10, progress=after_batch
    )
    assert len(done) == 4
    assert result.inserted == 5 + 5 + 15  # the first batch's ten, then A's fifteen
    assert {(r.code, r.key) for r in result.rejected} == {
        ("deleted_customer", f"O{i:03d}") for i in range(10, 40, 2)
    }
    b = customers.get_customer(ctx, "B")
    assert b.order_count == 20  # A's five moved by the merge, fifteen written to B
    with ctx.session() as s:
        a_orders = s.execute(
            sa.text(
                "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id "
                "WHERE c.code = 'A'"
            )
        ).scalar_one()
    assert a_orders == 0


def _gaps(ctx: ServiceContext) -> dict[str, list[str]]:
    with ctx.db.engine.connect() as conn:
        return deferred.missing(conn)


def _search_index_sound(ctx: ServiceContext) -> None:
    """SQLite: FTS5's own check that its index matches the customers table."""
    if ctx.db.backend == "sqlite":
        with ctx.db.engine.begin() as conn:
            conn.exec_driver_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('integrity-check')")


def test_a_restore_cut_short_builds_nothing_and_the_next_builds_everything(
    ctx: ServiceContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The search triggers must never come back without the index rebuilt: the next
    update's trigger would remove entries the index never held."""
    importing.import_file(ctx, "customers", _customers_file(tmp_path / "c.csv", 200))
    assert bulk_load.take_down(ctx, "customers")
    with ctx.transaction() as s:  # a row written while the search index is down
        s.execute(sa.text("UPDATE customers SET name = '改名客户' WHERE code = 'C00007'"))
    down = _gaps(ctx)
    real = deferred.build_search_index

    def cut(dialect: str, execute) -> None:  # type: ignore[no-untyped-def]
        real(dialect, execute)
        raise RuntimeError("the process stops here")

    monkeypatch.setattr(deferred, "build_search_index", cut)
    with pytest.raises(RuntimeError):
        bulk_load.restore(ctx)
    assert _gaps(ctx) == down  # nothing half-built
    monkeypatch.setattr(deferred, "build_search_index", real)
    assert sorted(bulk_load.restore_abandoned(ctx)) == sorted(sum(down.values(), []))
    assert _gaps(ctx) == {}
    customers.edit_customer(ctx, "C00007", {"name": "又改名"})
    _search_index_sound(ctx)
    assert [c.code for c in customers.list_customers(ctx, search="又改名").items] == ["C00007"]


def test_two_openers_after_a_killed_import_take_turns(
    db_url: str, ctx: ServiceContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    importing.import_file(ctx, "customers", _customers_file(tmp_path / "c.csv", 200))
    assert bulk_load.take_down(ctx, "customers")
    down = sorted(sum(_gaps(ctx).values(), []))
    building, release = threading.Event(), threading.Event()
    real = deferred.build_search_index

    def slow(dialect: str, execute) -> None:  # type: ignore[no-untyped-def]
        real(dialect, execute)
        building.set()
        assert release.wait(10)

    monkeypatch.setattr(deferred, "build_search_index", slow)
    built: dict[str, list[str]] = {}

    def first() -> None:
        built["first"] = bulk_load.restore_abandoned(ctx)

    def second() -> None:
        assert building.wait(10)
        other = open_context(db_url, Actor("someone"))  # restores on opening, if anything
        built["second"] = bulk_load.restore_abandoned(other)
        other.db.dispose()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert building.wait(10)
    time.sleep(0.5)  # the second is waiting for the first's lock by now
    release.set()
    for thread in threads:
        thread.join(30)
    assert sorted(built["first"]) == down and built["second"] == []
    assert _gaps(ctx) == {}
    _search_index_sound(ctx)


def test_a_bulk_import_into_a_database_this_process_just_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The migrations of a new SQLite file leave the pooled connection with its temporary
    database open, after which SQLite refuses to change where it sorts inside a transaction:
    the index build at the end of the first bulk import into a new file must still work."""
    _force_bulk(monkeypatch)
    ctx = open_context(str(tmp_path / "new.db"), Actor("tester", "admin"))
    cfile = _customers_file(tmp_path / "c.csv", 50)
    result = importing.import_file(ctx, "customers", cfile)
    assert result.inserted == 50
    with ctx.db.engine.connect() as conn:
        assert deferred.missing(conn) == {}
        # and the connection is back to sorting in memory
        assert conn.exec_driver_sql("PRAGMA temp_store").scalar() == 2
    ctx.db.dispose()


def test_order_batches_refer_only_to_what_is_there_and_leave_key_checks_on(
    ctx: ServiceContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An order import writes its rows without per-row foreign-key checks (SQLite: on the
    batch's own connection, with the write lock held from the batch's start), so it must
    refer only to what exists: a product removed between two batches is created again,
    not referred to. Afterwards every pooled connection checks foreign keys again."""
    customers.add_customer(ctx, {"code": "A", "name": "甲"})
    lines = ["订单编号,客户编号,下单日期,金额,商品名称,商品类别"] + [
        f"O{i:03d},A,2024-05-01,10,茶叶,食品" for i in range(20)
    ]
    (tmp_path / "o.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    checks: list[int] = []
    real = importing.driver_executemany

    def spy(s, stmt, rows):  # type: ignore[no-untyped-def]
        if getattr(stmt, "table", None) is not None and stmt.table.name == "orders":
            if ctx.db.backend == "sqlite":
                checks.append(s.execute(sa.text("PRAGMA foreign_keys")).scalar_one())
            else:
                role = s.execute(sa.text("SHOW session_replication_role")).scalar_one()
                checks.append(int(role == "origin"))
        return real(s, stmt, rows)

    monkeypatch.setattr(importing, "driver_executemany", spy)

    def remove_the_product(_line: int, _total: int | None) -> None:
        if len(checks) == 1:  # after the first batch: tidied away by someone
            with ctx.transaction() as s:
                s.execute(sa.text("UPDATE orders SET product_id = NULL"))
                s.execute(sa.text("DELETE FROM products"))

    result = importing.import_file(
        ctx, "orders", tmp_path / "o.csv", batch_size=10, progress=remove_the_product
    )
    assert (result.inserted, result.rejected_count) == (20, 0)
    assert checks == [0, 0]
    with ctx.session() as s:
        orphans = s.execute(
            sa.text(
                "SELECT count(*) FROM orders o LEFT JOIN products p ON p.id = o.product_id "
                "WHERE o.product_id IS NOT NULL AND p.id IS NULL"
            )
        ).scalar_one()
        assert orphans == 0
        assert s.execute(sa.text("SELECT count(*) FROM products")).scalar_one() == 1
    # Every connection the pool hands out checks foreign keys.
    conns = [ctx.db.engine.connect() for _ in range(3)]
    try:
        for conn in conns:
            if ctx.db.backend == "sqlite":
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                conn.rollback()
            with pytest.raises(sa.exc.IntegrityError), conn.begin():
                conn.exec_driver_sql(
                    "INSERT INTO orders (order_no, customer_id, order_date, amount, currency, "
                    "quantity, status, created_at, updated_at) VALUES ('X1', 999999, "
                    "'2024-01-01', 1, 'CNY', 1, 'completed', '2024-01-01', '2024-01-01')"
                )
    finally:
        for conn in conns:
            conn.close()


class _Deadlock(Exception):
    sqlstate = "40P01"


def test_a_batch_chosen_to_break_a_deadlock_is_written_again(
    ctx: ServiceContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL breaks a deadlock by failing one of the transactions in it; when that is
    an import's batch, the batch is planned and written again rather than the whole import
    failing as an unavailable database. Any other database failure still stops it."""
    from tricrm_tui.db.errors import DatabaseUnavailable

    customers.add_customer(ctx, {"code": "A", "name": "甲"})
    lines = ["订单编号,客户编号,下单日期,金额,商品名称"] + [
        f"O{i:03d},A,2024-05-01,{i}.50,茶叶" for i in range(30)
    ]
    (tmp_path / "o.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    real = importing._write_batch
    calls: list[int] = []

    def chosen_once(ctx, importer, items, result, dry_run):  # type: ignore[no-untyped-def]
        calls.append(len(items))
        if len(calls) == 2:  # the second batch fails after planning (its values became rows)
            with pytest.raises(RuntimeError), ctx.transaction() as s:
                importer.plan(s, items)
                raise RuntimeError("rolled back")
            cause = sa.exc.OperationalError("COPY", None, _Deadlock())
            raise DatabaseUnavailable("cannot use database: deadlock detected") from cause
        return real(ctx, importer, items, result, dry_run)

    monkeypatch.setattr(importing, "_write_batch", chosen_once)
    result = importing.import_file(ctx, "orders", tmp_path / "o.csv", batch_size=10)
    assert (result.inserted, result.rejected_count) == (30, 0)
    assert calls == [10, 10, 10, 10]
    assert customers.get_customer(ctx, "A").order_count == 30

    def always_down(ctx, importer, items, result, dry_run):  # type: ignore[no-untyped-def]
        cause = sa.exc.OperationalError("SELECT", None, Exception("server closed the connection"))
        raise DatabaseUnavailable("cannot use database: server closed") from cause

    monkeypatch.setattr(importing, "_write_batch", always_down)
    with pytest.raises(DatabaseUnavailable):
        importing.import_file(ctx, "orders", tmp_path / "o.csv", batch_size=10)


def test_an_order_import_meeting_a_database_held_by_another_writer_stops_and_says_so(
    tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite: an order batch waits for the write lock like every write, and when another
    writer holds it past the busy timeout the import stops with the database named, rather
    than refuse its lines one by one as if they were bad."""
    import shutil
    import sqlite3

    from tricrm_tui.db import engine as db_engine
    from tricrm_tui.db.errors import DatabaseUnavailable

    path = tmp_path / "held.db"
    shutil.copy(sqlite_template, path)
    monkeypatch.setattr(db_engine, "SQLITE_BUSY_TIMEOUT_MS", 200)
    ctx = open_context(str(path), Actor("tester", "admin"))
    customers.add_customer(ctx, {"code": "A", "name": "甲"})
    lines = ["订单编号,客户编号,下单日期,金额"] + [f"O{i:03d},A,2024-05-01,10" for i in range(5)]
    (tmp_path / "o.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    other = sqlite3.connect(path, isolation_level=None)

    def another_writer_starts(_line: int, _total: int | None) -> None:
        if not other.in_transaction:  # after the first batch, in the middle of its own
            other.execute("BEGIN IMMEDIATE")

    try:
        with pytest.raises(DatabaseUnavailable, match="locked"):
            importing.import_file(
                ctx,
                "orders",
                tmp_path / "o.csv",
                batch_size=2,
                progress=another_writer_starts,
                rejects_path=tmp_path / "rejects.csv",
            )
    finally:
        other.execute("ROLLBACK")
        other.close()
    with ctx.session() as s:  # the first batch, whole; nothing of the second
        assert s.execute(sa.text("SELECT count(*) FROM orders")).scalar_one() == 2
    # No line was refused: the lines are fine, the database was busy.
    assert (tmp_path / "rejects.csv").read_text(encoding="utf-8-sig").count("\n") <= 1
    ctx.db.dispose()


def test_a_remembered_product_whose_id_went_to_another_is_not_referred_to(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    """An import remembers 茶叶's id from a line it skipped; meanwhile the import that created
    茶叶 is undone (茶叶 unused, removed) and another product is added, which SQLite gives
    the freed id. The next 茶叶 order refers to a 茶叶, not to that other product."""
    customers.add_customer(ctx, {"code": "A", "name": "甲"})
    head = "订单编号,客户编号,下单日期,金额,商品名称\n"
    (tmp_path / "a.csv").write_text(head + "O1,A,2024-05-01,1.50,茶叶\n", encoding="utf-8")
    first = importing.import_file(ctx, "orders", tmp_path / "a.csv")
    (tmp_path / "x.csv").write_text(
        head + "O1,A,2024-05-01,1.50,茶叶\nO2,A,2024-05-02,2.50,茶叶\n", encoding="utf-8"
    )
    done: list[int] = []

    def meanwhile(_line: int, _total: int | None) -> None:
        if not done:
            done.append(1)
            importing.undo_import(ctx, first.import_id)
            with ctx.transaction() as s:
                s.execute(
                    sa.text(
                        "INSERT INTO products (sku, name, currency, active) "
                        "VALUES ('K1', '咖啡', 'CNY', true)"
                    )
                )

    importing.import_file(
        ctx, "orders", tmp_path / "x.csv", mode="skip", batch_size=1, progress=meanwhile
    )
    with ctx.session() as s:
        rows = s.execute(
            sa.text(
                "SELECT o.order_no, p.name FROM orders o JOIN products p ON p.id = o.product_id"
            )
        ).all()
    assert [tuple(r) for r in rows] == [("O2", "茶叶")]
