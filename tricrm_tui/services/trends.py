"""Month by month: revenue, orders, new and active customers for the last N months.

Two grouped queries: the orders by month (revenue, count, distinct buyers) and the customers
by the month of their first order. Months without a single order are listed with zeros, so a
chart's bars stay one month apart. The last month is the month of ``as_of``, counted up to
that day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from tricrm_tui.models import Customer, Order
from tricrm_tui.services.context import ServiceContext
from tricrm_tui.services.customers import active_condition
from tricrm_tui.services.periods import (
    check_months,
    counted_orders,
    money,
    month_key,
    month_label,
    months_back,
)

C = Customer.__table__.c
O = Order.__table__.c  # noqa: E741

METRICS = ("revenue", "orders", "new", "active")


@dataclass(frozen=True)
class MonthRow:
    month: str
    """``YYYY-MM``."""
    revenue: Decimal
    orders: int
    new_customers: int
    """Customers whose first order fell in the month."""
    active_customers: int
    """Customers with at least one order in the month."""

    def metric(self, name: str) -> Decimal | int:
        if name == "revenue":
            return self.revenue
        return {"orders": self.orders, "new": self.new_customers}.get(name, self.active_customers)


def monthly_trend(
    ctx: ServiceContext, months: int = 12, as_of: dt.date | None = None
) -> list[MonthRow]:
    """The ``months`` calendar months ending with ``as_of``'s (default today), oldest first."""
    as_of = as_of or ctx.today()
    firsts = months_back(as_of, check_months(months))
    backend = ctx.db.backend
    order_month = month_key(backend, O.order_date)
    first_month = month_key(backend, C.first_order_on)
    with ctx.session() as s:
        by_month = {
            key: (money(revenue), int(n), int(buyers))
            for key, n, revenue, buyers in s.execute(
                sa.select(
                    order_month,
                    sa.func.count(),
                    sa.func.sum(O.amount),
                    sa.func.count(sa.distinct(O.customer_id)),
                )
                .where(*counted_orders(as_of, firsts[0]))
                .group_by(order_month)
            )
        }
        new_by_month = dict(
            s.execute(
                sa.select(first_month, sa.func.count())
                .where(
                    active_condition(),
                    C.first_order_on >= firsts[0],
                    C.first_order_on <= as_of,
                )
                .group_by(first_month)
            ).all()
        )
    rows = []
    for first in firsts:
        key = month_label(first)
        revenue, n, buyers = by_month.get(key, (Decimal("0.00"), 0, 0))
        rows.append(MonthRow(key, revenue, n, int(new_by_month.get(key, 0)), buyers))
    return rows
