"""The RFM summary read from the customers' maintained aggregates equals the one grouped from
the orders, after every kind of order write; and the grouped one is used whenever the
aggregates could not describe the date (an order after it, an import half done)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tests.factories import add_customer, add_orders
from tricrm_tui.cli.main import build_app
from tricrm_tui.cli.state import STATE
from tricrm_tui.models import ImportBatch
from tricrm_tui.services import customers, importing, merge, rfm, value

AS_OF = dt.date(2025, 7, 31)
FIELDS = ("ids", "first_day", "last_day", "orders", "purchase_days", "monetary_cents",
          "repeat_cents")  # fmt: skip


@pytest.fixture
def shop(ctx):  # type: ignore[no-untyped-def]
    """Same-day orders, cancelled orders, customers without orders, a deleted buyer."""
    for code in ("A", "B", "C", "D", "P", "X", "Z"):
        add_customer(ctx, code)
    add_orders(ctx, "A", [("2025-06-30", 100), ("2025-06-30", 50), ("2025-05-01", "20.05")])
    add_orders(ctx, "A", [("2025-06-29", 999)], status="cancelled")
    add_orders(ctx, "B", [("2025-06-01", "10.10"), ("2025-06-15", "10.20")])
    add_orders(ctx, "C", [("2025-06-15", 200), ("2025-06-15", "0.01")])
    add_orders(ctx, "D", [("2025-01-01", 5), ("2025-07-31", "33.33")])
    add_orders(ctx, "X", [("2025-06-20", 70)], status="cancelled")  # only cancelled
    add_orders(ctx, "Z", [("2025-02-02", 12)])
    customers.delete_customer(ctx, "Z")
    return ctx


def codes_of(ctx, ids: np.ndarray) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
    with ctx.session() as s:
        return rfm.customer_labels(s, ids)


def summaries(ctx, monkeypatch, as_of: dt.date = AS_OF) -> tuple[Any, Any]:  # type: ignore[no-untyped-def]
    """The summary as the service chooses it, and the one grouped from the orders."""
    with ctx.session() as s:
        chosen = rfm.order_summary(s, ctx.db.backend, as_of)
    with monkeypatch.context() as m:
        m.setattr(rfm, "aggregates_current", lambda _s, _d: False)
        with ctx.session() as s:
            grouped = rfm.order_summary(s, ctx.db.backend, as_of)
    assert not grouped.from_aggregates
    return chosen, grouped


def assert_same(ctx, monkeypatch, as_of: dt.date = AS_OF) -> Any:  # type: ignore[no-untyped-def]
    chosen, grouped = summaries(ctx, monkeypatch, as_of)
    assert chosen.from_aggregates
    for name in FIELDS:
        assert np.array_equal(getattr(chosen, name), getattr(grouped, name)), name
    return chosen


def rfm_json(ctx, db_url: str, monkeypatch, *, grouped: bool) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    with monkeypatch.context() as m:
        if grouped:
            m.setattr(rfm, "aggregates_current", lambda _s, _d: False)
        STATE._ctx = None
        result = CliRunner().invoke(
            build_app(),
            ["--db", db_url, "value", "rfm", "--as-of", AS_OF.isoformat(), "--format", "json"],
        )
        if STATE._ctx is not None:
            STATE._ctx.db.dispose()
        STATE._ctx = None
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_both_summaries_agree_on_the_hand_built_shop(shop, db_url, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    s = assert_same(shop, monkeypatch)
    codes, _names = codes_of(shop, s.ids)
    got = dict(zip(codes, zip(s.orders.tolist(), s.purchase_days.tolist(), strict=True),
                   strict=True))  # fmt: skip
    assert got == {"A": (3, 2), "B": (2, 2), "C": (2, 1), "D": (2, 2), "P": (0, 0), "X": (0, 0)}
    assert s.monetary_cents.tolist()[codes.index("A")] == 17005
    assert s.repeat_cents.tolist()[codes.index("A")] == 15000
    fast = rfm_json(shop, db_url, monkeypatch, grouped=False)
    slow = rfm_json(shop, db_url, monkeypatch, grouped=True)
    assert fast == slow and [r["code"] for r in fast] == ["A", "B", "C", "D", "P", "X"]


def test_an_order_after_the_date_takes_the_grouped_summary(shop, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert_same(shop, monkeypatch)
    add_orders(shop, "B", [("2025-08-01", 1)], status="cancelled")
    with shop.session() as s:
        assert not rfm.aggregates_current(s, AS_OF)
        summary = rfm.order_summary(s, shop.db.backend, AS_OF)
        assert not summary.from_aggregates
        assert rfm.order_summary(s, shop.db.backend, dt.date(2025, 8, 1)).from_aggregates
    # The day of the newest order itself still reads the aggregates.
    assert_same(shop, monkeypatch, dt.date(2025, 8, 1))
    v = value.compute_valuation(shop, dt.date(2025, 6, 30))  # D's 07-31 order not counted
    codes, _n = codes_of(shop, v.summary.ids)
    assert v.summary.orders.tolist()[codes.index("D")] == 1


def test_an_import_marked_running_takes_the_grouped_summary(shop, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Alive or killed, an import still marked running may have orders in whose customers'
    totals it has not refreshed yet."""
    with shop.transaction() as s:
        s.execute(
            sa.insert(ImportBatch.__table__).values(
                kind="orders", file="o.csv", file_hash="x", actor="t", status="running"
            )
        )
    chosen, grouped = summaries(shop, monkeypatch)
    assert not chosen.from_aggregates
    with shop.transaction() as s:
        s.execute(sa.update(ImportBatch.__table__).values(status="interrupted"))
    assert_same(shop, monkeypatch)


def test_after_order_writes_an_import_and_its_undo(shop, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    add_orders(shop, "P", [("2025-07-01", 8), ("2025-07-01", 2)])  # a prospect buys twice a day
    assert_same(shop, monkeypatch)
    path = tmp_path / "o.csv"
    path.write_text(
        "order_no,customer_code,order_date,amount,status\n"
        "N1,B,2025-07-02,5,completed\n"
        "N2,B,2025-06-15,6,completed\n"  # a day B already bought on
        "N3,X,2025-07-03,7,completed\n"
        "N4,C,2025-07-04,9,cancelled\n",
        encoding="utf-8",
    )
    result = importing.import_file(shop, "orders", path)
    assert result.inserted == 4, result.rejected
    s = assert_same(shop, monkeypatch)
    codes, _n = codes_of(shop, s.ids)
    assert s.purchase_days.tolist()[codes.index("B")] == 3
    assert s.purchase_days.tolist()[codes.index("X")] == 1
    assert s.orders.tolist()[codes.index("C")] == 2
    assert result.import_id is not None
    importing.undo_import(shop, result.import_id)
    s = assert_same(shop, monkeypatch)
    assert s.purchase_days.tolist()[codes.index("B")] == 2


def test_after_merge_and_unmerge(shop, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    before = assert_same(shop, monkeypatch)
    merge.merge_customers(shop, "B", ["C"])  # B 06-01, 06-15 + C 06-15 ×2 → 2 days, 4 orders
    s = assert_same(shop, monkeypatch)
    codes, _n = codes_of(shop, s.ids)
    assert "C" not in codes
    assert (s.orders[codes.index("B")], s.purchase_days[codes.index("B")]) == (4, 2)
    merge.unmerge_customer(shop, "C")
    after = assert_same(shop, monkeypatch)
    for name in FIELDS:
        assert np.array_equal(getattr(before, name), getattr(after, name)), name
