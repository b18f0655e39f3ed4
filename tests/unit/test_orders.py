"""Order aggregates and the order list."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from tests.factories import add_customer, add_orders
from tricrm_tui.services import customers, orders


def test_aggregates_follow_the_orders_exactly(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "C1")
    add_customer(ctx, "C2")
    add_orders(
        ctx, "C1", [("2025-01-02", "0.10"), ("2025-03-01", "0.20"), ("2024-12-31", "1234.50")]
    )
    c1 = customers.get_customer(ctx, "C1")
    assert c1.order_count == 3
    assert c1.total_spent == Decimal("1234.80")
    assert c1.first_order == dt.date(2024, 12, 31) and c1.last_order == dt.date(2025, 3, 1)
    assert customers.get_customer(ctx, "C2").order_count == 0
    page = orders.list_orders(ctx, customer_code="C1", date_from=dt.date(2025, 1, 1))
    assert [o.amount for o in page.items] == [Decimal("0.20"), Decimal("0.10")]
    assert page.total == 2
    top = customers.list_customers(ctx, sort="-spent", limit=1).items[0]
    assert top.code == "C1"
