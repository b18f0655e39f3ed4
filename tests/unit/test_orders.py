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


def _rows_written(ctx, fn):  # type: ignore[no-untyped-def]
    """Run ``fn(session)`` in a transaction; how many customer rows its UPDATEs wrote."""
    from sqlalchemy import event

    written: list[int] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("UPDATE CUSTOMERS"):
            written.append(cursor.rowcount)

    event.listen(ctx.db.engine, "after_cursor_execute", count)
    try:
        with ctx.transaction() as s:
            result = fn(s)
    finally:
        event.remove(ctx.db.engine, "after_cursor_execute", count)
    return result, sum(written)


def _stored(ctx, code: str):  # type: ignore[no-untyped-def]
    """The stored aggregates and version of a customer, deleted or merged ones included."""
    import sqlalchemy as sa

    from tricrm_tui.models import Customer

    C = Customer.__table__.c
    with ctx.session() as s:
        row = s.execute(
            sa.select(
                C.order_count, C.total_spent, C.first_order_on, C.last_order_on, C.version
            ).where(C.code == code)
        ).one()
    n, total, first, last, version = row
    return (n, Decimal(total).quantize(Decimal("0.01")), first, last), version


def _make_stale(ctx, code: str, **values) -> None:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    from tricrm_tui.models import Customer

    C = Customer.__table__.c
    with ctx.transaction() as s:
        s.execute(sa.update(Customer.__table__).where(C.code == code).values(**values))


def test_refresh_rewrites_only_customers_whose_figures_changed(ctx) -> None:  # type: ignore[no-untyped-def]
    for code in ("R1", "R2", "R3"):
        add_customer(ctx, code)
        add_orders(ctx, code, [("2025-01-02", "10.10"), ("2025-02-03", "0.20")])
    _make_stale(ctx, "R2", order_count=9)  # behind the service's back
    checked, written = _rows_written(ctx, orders.refresh_customer_aggregates)
    assert checked == 3
    assert written == 1  # R2 only
    r2 = customers.get_customer(ctx, "R2")
    assert (r2.order_count, r2.total_spent) == (2, Decimal("10.30"))
    _checked, again = _rows_written(ctx, orders.refresh_customer_aggregates)
    assert again == 0


def test_refresh_corrects_every_figure_and_every_kind_of_customer(ctx) -> None:  # type: ignore[no-untyped-def]
    """Changed, unchanged, lost all orders, only cancelled orders, deleted and merged
    customers: each ends with the figures of its non-cancelled orders, and the version
    (an edit's optimistic lock) and the audit trail are left alone."""
    import sqlalchemy as sa

    from tricrm_tui.models import AuditEntry, Customer, Order

    for code in ("OK", "SPEND", "DATES", "GONE", "CANCEL", "DEL", "MERGED"):
        add_customer(ctx, code)
    add_orders(ctx, "OK", [("2025-01-02", "10.10"), ("2025-02-03", "0.20")])
    add_orders(ctx, "SPEND", [("2025-01-02", "99.99")])
    add_orders(ctx, "DATES", [("2024-06-01", "1.00"), ("2025-06-01", "2.00")])
    add_orders(ctx, "GONE", [("2025-01-02", "5.00")])
    add_orders(ctx, "CANCEL", [("2025-03-03", "7.00")], status="cancelled")
    add_orders(ctx, "DEL", [("2025-04-04", "4.00")])
    add_orders(ctx, "MERGED", [("2025-05-05", "3.00")])
    customers.delete_customer(ctx, "DEL")
    C = Customer.__table__.c
    with ctx.transaction() as s:
        keep = s.execute(sa.select(C.id).where(C.code == "OK")).scalar_one()
        gone = s.execute(sa.select(C.id).where(C.code == "GONE")).scalar_one()
        merged = s.execute(sa.select(C.id).where(C.code == "MERGED")).scalar_one()
        s.execute(sa.update(Customer.__table__).where(C.id == merged).values(merged_into_id=keep))
        s.execute(sa.delete(Order.__table__).where(Order.__table__.c.customer_id == gone))
    _make_stale(ctx, "SPEND", total_spent=Decimal("99.98"))
    _make_stale(ctx, "DATES", first_order_on=dt.date(2024, 6, 2), last_order_on=None)
    _make_stale(ctx, "DEL", order_count=0, total_spent=0)
    _make_stale(ctx, "CANCEL", order_count=1, total_spent=Decimal("7.00"))
    versions = {code: _stored(ctx, code)[1] for code in ("OK", "SPEND", "GONE", "DEL")}
    with ctx.session() as s:
        audited = s.execute(sa.select(sa.func.count()).select_from(AuditEntry.__table__)).scalar()

    checked, written = _rows_written(ctx, orders.refresh_customer_aggregates)

    assert checked == 7
    assert written == 5  # SPEND, DATES, GONE, CANCEL, DEL
    d = dt.date
    assert _stored(ctx, "OK")[0] == (2, Decimal("10.30"), d(2025, 1, 2), d(2025, 2, 3))
    assert _stored(ctx, "SPEND")[0] == (1, Decimal("99.99"), d(2025, 1, 2), d(2025, 1, 2))
    assert _stored(ctx, "DATES")[0] == (2, Decimal("3.00"), d(2024, 6, 1), d(2025, 6, 1))
    assert _stored(ctx, "GONE")[0] == (0, Decimal("0.00"), None, None)
    assert _stored(ctx, "CANCEL")[0] == (0, Decimal("0.00"), None, None)
    assert _stored(ctx, "DEL")[0] == (1, Decimal("4.00"), d(2025, 4, 4), d(2025, 4, 4))
    assert _stored(ctx, "MERGED")[0] == (1, Decimal("3.00"), d(2025, 5, 5), d(2025, 5, 5))
    assert {code: _stored(ctx, code)[1] for code in versions} == versions
    with ctx.session() as s:
        assert (
            s.execute(sa.select(sa.func.count()).select_from(AuditEntry.__table__)).scalar()
            == audited
        )


def test_refresh_of_some_customers_leaves_the_others(ctx) -> None:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    from tricrm_tui.models import Customer, Order

    for code in ("A", "B"):
        add_customer(ctx, code)
        add_orders(ctx, code, [("2025-01-02", "1.00")])
    C = Customer.__table__.c
    with ctx.transaction() as s:
        ids = dict(s.execute(sa.select(C.code, C.id)).all())
        s.execute(sa.delete(Order.__table__))
    checked, written = _rows_written(
        ctx, lambda s: orders.refresh_customer_aggregates(s, [ids["A"], ids["A"]])
    )
    assert (checked, written) == (1, 1)
    assert _stored(ctx, "A")[0] == (0, Decimal("0.00"), None, None)
    assert _stored(ctx, "B")[0][0] == 1  # not asked for: still the old figure
