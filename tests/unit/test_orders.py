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


def test_refresh_rewrites_only_customers_whose_figures_changed(ctx) -> None:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa
    from sqlalchemy import event

    from tricrm_tui.models import Customer

    for code in ("R1", "R2", "R3"):
        add_customer(ctx, code)
        add_orders(ctx, code, [("2025-01-02", "10.10"), ("2025-02-03", "0.20")])
    C = Customer.__table__.c
    with ctx.transaction() as s:  # R2's figures go stale behind the service's back
        s.execute(sa.update(Customer.__table__).where(C.code == "R2").values(order_count=9))
    written: list[int] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("UPDATE CUSTOMERS"):
            written.append(len(parameters) if executemany else 1)

    event.listen(ctx.db.engine, "before_cursor_execute", count)
    try:
        with ctx.transaction() as s:
            checked = orders.refresh_customer_aggregates(s)
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", count)
    assert checked == 3
    assert sum(written) == 1  # R2 only
    r2 = customers.get_customer(ctx, "R2")
    assert (r2.order_count, r2.total_spent) == (2, Decimal("10.30"))
