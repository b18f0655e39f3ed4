"""Calendar months and the order rows the dashboard reports count, shared by KPIs, trends
and cohorts so the three agree on what an order is.

An order counts when it is not cancelled, is dated on or before the report's ``as_of`` and
belongs to a live customer (not deleted, not merged away): the same rule as the RFM summary
and the maintained order aggregates. Months are grouped in the database by their ``YYYY-MM``
key, so a monthly figure is one ``GROUP BY`` however many orders there are.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa

from tricrm_tui.i18n import _
from tricrm_tui.models import Customer, Order
from tricrm_tui.services.customers import active_condition
from tricrm_tui.services.errors import InvalidInput
from tricrm_tui.services.loyalty_rules import add_months

C = Customer.__table__.c
O = Order.__table__.c  # noqa: E741

CENT = Decimal("0.01")
MAX_MONTHS = 120
"""Ten years of months: more would not fit a chart or a table anyway."""

ORDERS_OF_CUSTOMERS = Order.__table__.join(Customer.__table__, C.id == O.customer_id)
"""Orders joined to their customer, for figures that need the customer's columns."""


def of_live_customers() -> sa.ColumnElement[bool]:
    """Orders whose customer is live, as ``NOT IN`` the few deleted or merged ones: a set the
    database builds once, where a join looks up the customer of every order (3× slower over
    a year of orders at 100k customers on SQLite)."""
    return O.customer_id.not_in(sa.select(C.id).where(sa.not_(active_condition())))


def counted_orders(as_of: dt.date, start: dt.date | None = None) -> list[sa.ColumnElement[bool]]:
    """Conditions over ``orders``: the orders that count, from ``start`` to ``as_of``."""
    conds = [O.status != "cancelled", O.order_date <= as_of, of_live_customers()]
    if start is not None:
        conds.append(O.order_date >= start)
    return conds


def month_key(backend: str, column: Any) -> sa.ColumnElement[str]:
    """``YYYY-MM`` of a date column, computed by the database."""
    if backend == "sqlite":
        return sa.func.strftime("%Y-%m", column)
    return sa.func.to_char(column, "YYYY-MM")


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_label(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def months_back(as_of: dt.date, months: int) -> list[dt.date]:
    """The first days of the ``months`` calendar months ending with ``as_of``'s, oldest first."""
    first = month_start(as_of)
    return [add_months(first, -k) for k in range(months - 1, -1, -1)]


def check_months(months: int) -> int:
    if not 1 <= months <= MAX_MONTHS:
        raise InvalidInput(
            _("months must be between 1 and {most}").format(most=MAX_MONTHS), field="months"
        )
    return months


def money(value: object) -> Decimal:
    """A database sum as exact cents (SQLite sums NUMERIC as a float; PostgreSQL exactly)."""
    return Decimal(str(value or 0)).quantize(CENT)


def percent(part: int, whole: int) -> float | None:
    """A share in percent with one decimal; ``None`` when there is nothing to divide by."""
    if not whole:
        return None
    return float((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP))
