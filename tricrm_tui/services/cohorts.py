"""Retention by cohort: customers grouped by the month of their first order, and the share of
each group that bought again one, two … N months later (the retention triangle).

One grouped query counts the distinct buyers per (cohort month, order month) pair; the cohort
sizes come from the customers' first-order month. A cell whose month lies after ``as_of``'s
is ``None`` (not yet known), never 0; the month of ``as_of`` itself counts up to that day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from tricrm_tui.models import Customer, Order
from tricrm_tui.services.context import ServiceContext
from tricrm_tui.services.customers import active_condition
from tricrm_tui.services.periods import (
    ORDERS_OF_CUSTOMERS,
    check_months,
    counted_orders,
    month_key,
    month_label,
    months_back,
    percent,
)

C = Customer.__table__.c
O = Order.__table__.c  # noqa: E741


@dataclass(frozen=True)
class CohortRow:
    cohort: str
    """First-order month, ``YYYY-MM``."""
    customers: int
    buyers: list[int | None]
    """Customers of the cohort who bought in month +1 … +N."""
    retention: list[float | None]
    """The same as a percent of the cohort."""


def _index(key: str) -> int:
    year, month = key.split("-")
    return int(year) * 12 + int(month) - 1


def cohorts(ctx: ServiceContext, months: int = 6, as_of: dt.date | None = None) -> list[CohortRow]:
    """The cohorts of the ``months`` months ending with ``as_of``'s (default today), oldest
    first, each with months +1 … +``months``."""
    as_of = as_of or ctx.today()
    firsts = months_back(as_of, check_months(months))
    backend = ctx.db.backend
    cohort = month_key(backend, C.first_order_on)
    bought = month_key(backend, O.order_date)
    in_cohorts = sa.and_(C.first_order_on >= firsts[0], C.first_order_on <= as_of)
    with ctx.session() as s:
        sizes = dict(
            s.execute(
                sa.select(cohort, sa.func.count())
                .where(active_condition(), in_cohorts)
                .group_by(cohort)
            ).all()
        )
        cells = {
            (c, m): int(n)
            for c, m, n in s.execute(
                sa.select(cohort, bought, sa.func.count(sa.distinct(O.customer_id)))
                .select_from(ORDERS_OF_CUSTOMERS)
                .where(*counted_orders(as_of, firsts[0]), in_cohorts)
                .group_by(cohort, bought)
            )
        }
    last = _index(month_label(as_of))
    rows = []
    for first in firsts:
        key = month_label(first)
        size = int(sizes.get(key, 0))
        start = _index(key)
        buyers: list[int | None] = []
        for k in range(1, months + 1):
            if start + k > last:
                buyers.append(None)
                continue
            y, m = divmod(start + k, 12)
            buyers.append(cells.get((key, f"{y:04d}-{m + 1:02d}"), 0))
        retention = [None if b is None else percent(b, size) for b in buyers]
        rows.append(CohortRow(key, size, buyers, retention))
    return rows
