"""The import's fast paths give the same answers as the plain ones they stand in for."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import numpy as np
import pytest
import sqlalchemy as sa

from tricrm_tui.db import bulk
from tricrm_tui.db.bulk import driver_in, padded
from tricrm_tui.models import ProductCategory
from tricrm_tui.services import import_cleaning, importing
from tricrm_tui.services.errors import InvalidInput
from tricrm_tui.services.import_cleaning import (
    OrderColumns,
    RowError,
    check_lengths,
    clean_key,
    parse_currency,
    parse_quantity,
    present,
    reject_from,
)
from tricrm_tui.services.importing import _SeenKeys, driver_executemany
from tricrm_tui.services.normalize import clean_text, parse_date, parse_money

KT = ProductCategory.__table__


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234.5", "1234.50"),
        ("￥1,234.50", "1234.50"),
        ("¥12", "12.00"),
        ("0.10", "0.10"),
        ("123,456,789,012.99", "123456789012.99"),
        (" ￥1,234.50 ", "1234.50"),
        ("１２３", "123.00"),
    ],
)
def test_common_amounts_parse_as_before(raw: str, expected: str) -> None:
    assert parse_money(raw) == Decimal(expected)
    assert str(parse_money(raw)) == expected


@pytest.mark.parametrize("raw", ["1,23", "12.345", "1234567890123", "1,234,567,890,123", "1.2.3"])
def test_uncommon_amounts_still_take_the_full_checks(raw: str) -> None:
    with pytest.raises(InvalidInput):
        parse_money(raw)


def _one_order(raw: dict[str, object]) -> object:
    """One order line cleaned the plain way, a cell at a time: the reference the columnar
    cleaner must match (its result, or its first fault as (code, field, reason))."""
    try:
        if "__invalid__" in raw:
            raise RowError("invalid_value", None, "not a JSON object")
        key = clean_key(raw.get("order_no"), "order_no")
        data = present(raw)
        values: dict[str, object] = {
            "customer_code": clean_key(data.get("customer_code"), "customer_code")
        }
        try:
            if "date" not in data:
                raise InvalidInput("date is required", field="date", code="missing_required")
            values["order_date"] = parse_date(data["date"])
            if "amount" not in data:
                raise InvalidInput("amount is required", field="amount", code="missing_required")
            values["amount"] = parse_money(data["amount"])
            if "quantity" in data:
                values["quantity"] = parse_quantity(data["quantity"])
            for name in ("product", "category", "channel", "status"):
                if name in data:
                    values[name] = clean_text(data[name])
            if "currency" in data:
                values["currency"] = parse_currency(data["currency"])
        except InvalidInput as exc:
            raise reject_from(exc) from exc
        check_lengths("orders", values)
    except RowError as err:
        return (err.code, err.field, err.reason)
    return (key, values)


CELLS = {
    "order_no": ["O1", " O2 ", "Ｏ３", "", None, "has space", "x" * 65, "O4"],
    "customer_code": ["C1", "C 2", "", None, "Ｃ３", "C4"],
    "date": ["2024-05-01", "2024/5/1", "2024年5月1日", "", "  ", None, "31/12/2024", "2024-02-30",
             "45000", "20240501"],
    "amount": ["￥1,234.50", "1234.5元", "1,23", "", None, "12.345", "-5", "0.10"],
    "quantity": ["1", "３", "0", "", None, "2.0", "x"],
    "product": ["手机", " 手机 ", "", None],
    "category": ["数码", "", None],
    "channel": ["天猫", "门店", "", None, "c" * 40],
    "status": ["completed", "", None],
    "currency": ["CNY", "rmb", "人民币", "US", "", None],
}  # fmt: skip


def test_order_columns_clean_every_line_as_the_plain_way_does() -> None:
    """Random messy batches, repeated texts included (so the per-column dictionaries are hit),
    give each line the plain per-line result: same values, or the same first fault."""
    rnd = random.Random(11)
    fields = {name: name for name in CELLS}
    columns = OrderColumns(fields, limit=7)  # small: the dictionaries start afresh often
    for _ in range(30):
        rows = [{name: rnd.choice(cells) for name, cells in CELLS.items()} for _ in range(60)]
        rows[rnd.randrange(60)]["__invalid__"] = "{"
        got = columns.clean(rows)
        for raw, mine in zip(rows, got, strict=True):
            if isinstance(mine, RowError):
                mine = (mine.code, mine.field, mine.reason)
            assert mine == _one_order(raw), raw


def test_order_columns_remember_text_only_and_never_failures(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls: list[object] = []
    real = import_cleaning.parse_date

    def counting(value: object, field: str = "date") -> object:
        calls.append(value)
        return real(value, field)

    spec = list(OrderColumns.SPEC)
    spec[0] = ("date", "order_date", counting, spec[0][3])
    monkeypatch.setattr(OrderColumns, "SPEC", tuple(spec))
    columns = OrderColumns({"order_no": "n", "customer_code": "c", "date": "d", "amount": "a"})
    base = {"n": "O1", "c": "C1", "a": "1"}
    day = dt.date(2024, 5, 1)
    out = columns.clean(
        [{**base, "d": d} for d in ("2024-05-01", "2024-05-01", "bad", "bad", day, day)]
    )
    assert calls == ["2024-05-01", "bad", "bad", day, day]
    assert [o.code if isinstance(o, RowError) else o[1]["order_date"] for o in out] == [
        day,
        day,
        "invalid_value",
        "invalid_value",
        day,
        day,
    ]


def test_seen_keys_survive_spills() -> None:
    seen = _SeenKeys(spill=6)
    batches = [np.array([hash(f"K{b}-{i}") for i in range(3)], dtype=np.int64) for b in range(5)]
    for hashes in batches:
        assert not seen.contains(hashes).any()
        seen.add(hashes)
    everything = np.concatenate(batches)
    assert seen.contains(everything).all()
    other = np.array([hash("other"), hash("K0-0")], dtype=np.int64)
    assert seen.contains(other).tolist() == [False, True]
    assert len(seen.merged) == 12 and [len(r) for r in seen.recent] == [3]


def test_bulk_insert_writes_rows_and_a_refusal_is_a_database_error(ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    copies: list[int] = []
    real_copy = bulk.copy_columns

    def counting_copy(conn, table, columns):  # type: ignore[no-untyped-def]
        copies.append(len(next(iter(columns.values()))))
        real_copy(conn, table, columns)

    monkeypatch.setattr(bulk, "copy_columns", counting_copy)
    rows = [{"name": f"类别{i}"} for i in range(3)]
    with ctx.transaction() as s:
        driver_executemany(s, sa.insert(KT), rows)
        on_postgres = s.connection().dialect.name == "postgresql"
    assert copies == ([3] if on_postgres else [])  # COPY on PostgreSQL only
    with ctx.session() as s:
        names = s.execute(sa.select(KT.c.name).order_by(KT.c.name)).scalars().all()
    assert names == ["类别0", "类别1", "类别2"]
    # A unique name again: the batch is refused as a whole, as SQLAlchemy reports it (the
    # import then retries row by row), and nothing of it stays.
    with pytest.raises(sa.exc.DBAPIError), ctx.transaction() as s:
        driver_executemany(s, sa.insert(KT), [{"name": "新类别"}, {"name": "类别1"}])
    with ctx.session() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(KT)).scalar_one() == 3


def test_in_lists_are_padded_to_a_few_lengths_with_the_same_values() -> None:
    assert padded([]) == []
    assert padded(["a", "b"]) == ["a", "b"] + ["a"] * 498
    assert padded(list(range(500))) == list(range(500))
    lengths = {len(padded(list(range(n)))) for n in range(4000, 5001)}
    assert lengths == {4000, 4500, 5000}


def test_driver_lookups_find_exactly_the_stored_keys(ctx) -> None:  # type: ignore[no-untyped-def]
    with ctx.transaction() as s:
        driver_executemany(s, sa.insert(KT), [{"name": f"k{i}"} for i in range(700)])
    wanted = [f"k{i}" for i in range(0, 1400, 2)]  # half of them stored
    with ctx.session() as s:
        rows = driver_in(s, "SELECT {column}, id FROM {table} WHERE", KT, "name", wanted)
        assert sorted(name for name, _id in rows) == sorted(f"k{i}" for i in range(0, 700, 2))
        assert driver_in(s, "SELECT {column} FROM {table} WHERE", KT, "name", []) == []


def test_a_bulk_import_leaves_postgres_statistics_fresh(ctx, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import add_customer

    add_customer(ctx, "C1", "甲")
    path = tmp_path / "o.csv"
    path.write_text("订单编号,客户编号,下单日期,订单金额\nO1,C1,2026-01-05,10\n", encoding="utf-8")
    monkeypatch.setattr(importing, "BULK_ROWS", 1)
    with ctx.session() as s:
        on_postgres = s.connection().dialect.name == "postgresql"
        start = s.execute(sa.text("SELECT now()" if on_postgres else "SELECT 1")).scalar_one()
    assert importing.import_file(ctx, "orders", path).inserted == 1
    if not on_postgres:
        return  # SQLite has no statistics to refresh; nothing may fail there
    with ctx.session() as s:
        done = {
            name: (vacuumed, analyzed)
            for name, vacuumed, analyzed in s.execute(
                sa.text(
                    "SELECT relname, last_vacuum, last_analyze FROM pg_stat_user_tables "
                    "WHERE relname IN ('orders', 'customers')"
                )
            )
        }
    assert set(done) == {"orders", "customers"}
    assert all(when is not None and when >= start for pair in done.values() for when in pair)


def test_the_batch_connection_settings_go_back_after_the_import(sqlite_ctx) -> None:  # type: ignore[no-untyped-def]
    from tricrm_tui.db.engine import SQLITE_CACHE_KIB

    with sqlite_ctx.session() as s:

        def pragma(name: str) -> int:
            return int(s.execute(sa.text(f"PRAGMA {name}")).scalar_one())

        assert pragma("cache_size") == -SQLITE_CACHE_KIB
        importing._import_settings(s, importing=True)
        assert pragma("cache_size") == -importing.IMPORT_CACHE_KIB
        assert pragma("wal_autocheckpoint") == importing.IMPORT_WAL_PAGES
        importing._import_settings(s, importing=False)
        assert pragma("cache_size") == -SQLITE_CACHE_KIB
        assert pragma("wal_autocheckpoint") == importing.SQLITE_WAL_PAGES


def _pg_only(ctx) -> None:  # type: ignore[no-untyped-def]
    if ctx.db.backend != "postgresql":
        pytest.skip("COPY is PostgreSQL's")


def test_binary_copy_writes_exactly_what_the_text_format_writes(ctx) -> None:  # type: ignore[no-untyped-def]
    """Order rows (Decimal amounts, dates, aware timestamps with microseconds, Chinese text,
    NULLs) written through binary COPY read back as written, and as the same rows written
    through the text format read back."""
    _pg_only(ctx)
    from tests.factories import add_customer
    from tricrm_tui.models import Order

    ot = Order.__table__
    cid = add_customer(ctx, "C1", "甲").id
    now = dt.datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=dt.UTC)
    east = dt.timezone(dt.timedelta(hours=8))

    def columns(prefix: str) -> dict[str, list]:
        n = 4
        return {
            "order_no": [f"{prefix}{i}" for i in range(n)],
            "customer_id": [cid] * n,
            "order_date": [
                dt.date(2024, 2, 29),
                dt.date(1999, 12, 31),
                dt.date(2024, 1, 1),
                dt.date(1970, 1, 1),
            ],  # fmt: skip
            "amount": [Decimal("1234.50"), Decimal("0.01"), Decimal("99999999.99"), 7],
            "currency": ["CNY"] * n,
            "quantity": [1, 2, 1_000_000, 3],
            "channel": ["天猫", None, "门店", "ｗｅｂ"],
            "status": ["completed"] * n,
            "created_at": [now, now.astimezone(east), now, now],
            "updated_at": [now] * n,
        }

    read = sa.select(*[c for c in ot.c if c.name not in ("id", "order_no")], ot.c.order_no)
    with ctx.transaction() as s:
        conn = s.connection()
        assert bulk.binary_types(conn, ot, columns("B")) is not None
        bulk.copy_columns(conn, ot, columns("B"))
        bulk.copy_rows(conn, ot, list(columns("T")), zip(*columns("T").values(), strict=True))
    with ctx.session() as s:
        rows = {r.order_no: r._asdict() for r in s.execute(read)}
    for i in range(4):
        b, t = rows[f"B{i}"], rows[f"T{i}"]
        assert {**b, "order_no": ""} == {**t, "order_no": ""}
    assert rows["B0"]["amount"] == Decimal("1234.50") and rows["B3"]["amount"] == Decimal("7.00")
    assert rows["B1"]["created_at"] == now and rows["B2"]["quantity"] == 1_000_000
    assert rows["B1"]["channel"] is None and rows["B3"]["channel"] == "ｗｅｂ"


class _NoOffset(dt.tzinfo):
    """A time zone that knows no offset: such a time is naive, whatever its tzinfo."""

    def utcoffset(self, _moment: dt.datetime | None) -> None:
        return None

    def dst(self, _moment: dt.datetime | None) -> None:
        return None


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("quantity", [1, 2**31]),  # binary int4 would keep the low bits: silently wrong
        ("quantity", [1, True]),
        ("quantity", ["2"]),
        ("amount", [Decimal("1"), 1.5]),  # a float is not money
        ("order_date", [dt.datetime(2024, 1, 1, 12, 0)]),
        ("created_at", [dt.datetime(2024, 1, 1, 12, 0)]),  # naive, for a timestamptz
        ("created_at", [dt.datetime(2024, 1, 1, 12, 0, tzinfo=_NoOffset())]),  # naive too
        ("channel", [3]),
    ],
)
def test_binary_copy_gives_way_to_text_for_values_it_would_not_take_as_they_are(
    ctx, column: str, values: list
) -> None:  # type: ignore[no-untyped-def]
    _pg_only(ctx)
    from tricrm_tui.models import AuditEntry, Order

    with ctx.session() as s:
        conn = s.connection()
        assert bulk.binary_types(conn, Order.__table__, {"order_no": ["x"], column: values}) is None
        assert bulk.binary_types(conn, Order.__table__, {"order_no": ["x"]}) is not None
        # JSON columns always go as text (their values are already JSON text).
        assert bulk.binary_types(conn, AuditEntry.__table__, {"before": ['{"a": 1}']}) is None


def test_an_integer_too_large_for_its_column_is_refused_not_stored_wrong(ctx) -> None:  # type: ignore[no-untyped-def]
    _pg_only(ctx)
    from tests.factories import add_customer
    from tricrm_tui.models import Order

    cid = add_customer(ctx, "C1", "甲").id
    now = ctx.now()
    row = {"order_no": "O1", "customer_id": cid, "order_date": dt.date(2024, 1, 1),
           "amount": Decimal("1.00"), "currency": "CNY", "quantity": 2**32 + 5,
           "status": "completed", "created_at": now, "updated_at": now}  # fmt: skip
    with pytest.raises(sa.exc.DBAPIError, match="out of range"), ctx.transaction() as s:
        driver_executemany(s, sa.insert(Order.__table__), [row])


def test_every_type_binary_copy_may_choose_has_a_binary_dumper(ctx) -> None:  # type: ignore[no-untyped-def]
    """``set_types`` fails for a type psycopg cannot write in binary (``char(n)``): the
    choice must never offer one, or every batch into such a column would be refused."""
    _pg_only(ctx)
    from psycopg.pq import Format

    with ctx.session() as s:
        raw = s.connection().connection.driver_connection
        for name in bulk._BINARY_TYPES:
            oid = raw.adapters.types[name].oid
            raw.adapters.get_dumper_by_oid(oid, Format.BINARY)  # raises when there is none


def test_order_batches_skip_reference_checks_with_what_they_refer_to_locked(  # type: ignore[no-untyped-def]
    ctx, tmp_path, monkeypatch
) -> None:
    """PostgreSQL: an order batch that only inserts writes without per-row foreign-key
    checks, holding what it refers to ``FOR KEY SHARE`` instead. A customer DELETE
    meanwhile waits for the batch (here it gives up after its lock timeout) rather than
    leave orders referring to nothing, and once the batch is in, the database refuses it as
    it would have anyway."""
    from tricrm_tui.services import customers

    _pg_only(ctx)
    for code in ("A", "D"):
        customers.add_customer(ctx, {"code": code, "name": f"客户{code}"})
    lines = ["订单编号,客户编号,下单日期,金额,商品名称,商品类别"] + [
        f"O{i:03d},{'D' if i % 4 == 0 else 'A'},2024-05-01,10,茶叶,食品" for i in range(20)
    ]
    (tmp_path / "o.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    unchecked: list[bool] = []
    attempts: list[str] = []
    real_copy = bulk.copy_columns

    def copy_then_try_a_delete(conn, table, columns) -> None:  # type: ignore[no-untyped-def]
        real_copy(conn, table, columns)
        if table.name != "orders":
            return
        unchecked.append(
            conn.exec_driver_sql("SHOW session_replication_role").scalar() == "replica"
        )
        other = sa.create_engine(ctx.db.url)
        try:
            with other.begin() as c:
                c.exec_driver_sql("SET LOCAL lock_timeout = '300ms'")
                c.exec_driver_sql("DELETE FROM customers WHERE code = 'D'")
            attempts.append("deleted")
        except sa.exc.OperationalError as exc:
            attempts.append(type(exc.orig).__name__)
        finally:
            other.dispose()

    monkeypatch.setattr(bulk, "copy_columns", copy_then_try_a_delete)
    result = importing.import_file(ctx, "orders", tmp_path / "o.csv", batch_size=10)
    assert (result.inserted, result.rejected_count) == (20, 0)
    assert unchecked == [True, True]
    assert attempts == ["LockNotAvailable", "LockNotAvailable"]
    assert customers.get_customer(ctx, "D").order_count == 5
    with pytest.raises(sa.exc.IntegrityError), ctx.transaction() as s:
        s.execute(sa.text("DELETE FROM customers WHERE code = 'D'"))
    with ctx.session() as s:  # every order's customer, product and category is there
        orphans = s.execute(
            sa.text(
                "SELECT count(*) FROM orders o LEFT JOIN customers c ON c.id = o.customer_id "
                "LEFT JOIN products p ON p.id = o.product_id "
                "LEFT JOIN product_categories k ON k.id = o.category_id "
                "WHERE c.id IS NULL OR p.id IS NULL OR k.id IS NULL"
            )
        ).scalar_one()
    assert orphans == 0
    orders = importing.TABLE["orders"]
    assert bulk.may_skip_reference_checks(ctx.db.engine, orders)  # tests log in as superuser
    # A trigger of its own on the table keeps the checks (and so the trigger) on.
    with ctx.db.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE FUNCTION pg_temp.noop() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RETURN NEW; END $$"
        )
        conn.exec_driver_sql(
            "CREATE TRIGGER audit_orders BEFORE INSERT ON orders "
            "FOR EACH ROW EXECUTE FUNCTION pg_temp.noop()"
        )
    try:
        assert not bulk.may_skip_reference_checks(ctx.db.engine, orders)
    finally:
        with ctx.db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TRIGGER audit_orders ON orders")


def test_a_login_that_may_not_skip_reference_checks_is_told_so(ctx) -> None:  # type: ignore[no-untyped-def]
    """A role that is no superuser may not set ``session_replication_role``: its imports keep
    the foreign-key checks (the path every SQLite import takes)."""

    _pg_only(ctx)
    role = "tricrm_test_plain"
    with ctx.db.engine.begin() as conn:
        conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
    plain = sa.create_engine(sa.engine.make_url(ctx.db.url).set(username=role))
    try:
        orders = importing.TABLE["orders"]
        assert not bulk.may_skip_reference_checks(plain, orders)
        assert not bulk.may_skip_reference_checks(sa.create_engine("sqlite://"), orders)
    finally:
        plain.dispose()
        with ctx.db.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP ROLE {role}")


def test_driver_in_is_planned_each_call_and_fails_as_the_database(ctx) -> None:  # type: ignore[no-untyped-def]
    """``bulk.driver_in`` answers which values a column holds and is never prepared (a
    plan kept from when the table was empty made the loyalty run's first accrual take over
    an hour); a lock it cannot get is the database's error, as for any statement."""
    _pg_only(ctx)
    from tricrm_tui.db.errors import DatabaseUnavailable
    from tricrm_tui.models import ProductCategory

    table = ProductCategory.__table__
    ask = "SELECT {column} FROM {table} WHERE"
    with ctx.transaction() as s:
        for i in range(8):  # psycopg prepares what it has run five times
            assert bulk.driver_in(s, ask, table, "name", [f"k{i}", "none"]) == []
        s.execute(sa.insert(table), [{"name": f"k{i}"} for i in range(3)])
        held = bulk.driver_in(s, ask, table, "name", ["k0", "k2", "none"])
        assert sorted(name for (name,) in held) == ["k0", "k2"]
        prepared = s.execute(sa.text("SELECT statement FROM pg_prepared_statements")).scalars()
        assert not [q for q in prepared if "= ANY(" in q]
    with ctx.db.engine.connect() as other, other.begin():
        other.exec_driver_sql(f"LOCK TABLE {table.name} IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(DatabaseUnavailable, match="lock timeout"), ctx.transaction() as s:
            s.execute(sa.text("SET LOCAL lock_timeout = '200ms'"))
            bulk.driver_in(s, ask, table, "name", ["k0"])
