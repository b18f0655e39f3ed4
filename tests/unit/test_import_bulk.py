"""The import's fast paths give the same answers as the plain ones they stand in for."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from tricrm_tui.models import ProductCategory
from tricrm_tui.services import importing
from tricrm_tui.services.errors import InvalidInput
from tricrm_tui.services.importing import (
    _ColumnMemo,
    _driver_in,
    _padded,
    _SeenKeys,
    driver_executemany,
)
from tricrm_tui.services.normalize import parse_money

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


def test_column_memo_remembers_text_only_and_never_failures() -> None:
    calls: list[object] = []

    def clean(value: object) -> str:
        calls.append(value)
        if value == "bad":
            raise InvalidInput("bad", field="x")
        return str(value).strip()

    memo = _ColumnMemo(limit=2)
    assert memo("c", clean, " a ") == "a"
    assert memo("c", clean, " a ") == "a"
    assert calls == [" a "]
    assert memo("c", clean, 1) == "1" and memo("c", clean, 1) == "1"
    assert calls == [" a ", 1, 1]  # non-text cells are cleaned every time
    for _ in range(2):
        with pytest.raises(InvalidInput):
            memo("c", clean, "bad")
    assert calls.count("bad") == 2
    memo("c", clean, "b")
    memo("c", clean, "c")  # over the limit: the column starts afresh
    assert len(memo.columns["c"]) <= 2


def test_seen_keys_survive_spills() -> None:
    seen = _SeenKeys(spill=3)
    keys = [hash(f"K{i}") for i in range(10)]
    for h in keys:
        assert not seen.contains(h)
        seen.add(h)
    assert all(seen.contains(h) for h in keys)
    assert not seen.contains(hash("other"))
    assert len(seen.merged) == 9 and len(seen.recent) == 1


def test_bulk_insert_writes_rows_and_a_refusal_is_a_database_error(ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    copies: list[int] = []
    real_copy = importing.copy_rows

    def counting_copy(conn, table, names, rows):  # type: ignore[no-untyped-def]
        rows = list(rows)
        copies.append(len(rows))
        real_copy(conn, table, names, rows)

    monkeypatch.setattr(importing, "copy_rows", counting_copy)
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
    assert _padded([]) == []
    assert _padded(["a", "b"]) == ["a", "b"] + ["a"] * 498
    assert _padded(list(range(500))) == list(range(500))
    lengths = {len(_padded(list(range(n)))) for n in range(4000, 5001)}
    assert lengths == {4000, 4500, 5000}


def test_driver_lookups_find_exactly_the_stored_keys(ctx) -> None:  # type: ignore[no-untyped-def]
    with ctx.transaction() as s:
        driver_executemany(s, sa.insert(KT), [{"name": f"k{i}"} for i in range(700)])
    wanted = [f"k{i}" for i in range(0, 1400, 2)]  # half of them stored
    with ctx.session() as s:
        rows = _driver_in(s, "SELECT {column}, id FROM {table} WHERE", KT, "name", wanted)
        assert sorted(name for name, _id in rows) == sorted(f"k{i}" for i in range(0, 700, 2))
        assert _driver_in(s, "SELECT {column} FROM {table} WHERE", KT, "name", []) == []


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
