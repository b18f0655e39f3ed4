"""Small builders for test data, through the real services or plain Core inserts.

``add_customer`` goes through the customer service (validated, audited); ``add_orders`` writes
orders with Core and refreshes the customer aggregates, as imports do.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import sqlalchemy as sa

from tricrm_tui.models import Order
from tricrm_tui.services import customers
from tricrm_tui.services.orders import refresh_customer_aggregates

_order_no = itertools.count(1)


def add_customer(ctx, code: str, name: str | None = None, **fields):  # type: ignore[no-untyped-def]
    return customers.add_customer(ctx, {"code": code, "name": name or f"客户{code}", **fields})


def add_orders(ctx, code: str, orders: list[tuple[str | dt.date, str | int | Decimal]], **extra):  # type: ignore[no-untyped-def]
    """Orders for one customer as (date, amount) pairs; returns their order numbers."""
    with ctx.transaction() as s:
        cid = customers.customer_id_for(s, code)
        rows = []
        for day, amount in orders:
            d = dt.date.fromisoformat(day) if isinstance(day, str) else day
            rows.append(
                {
                    "order_no": f"T{next(_order_no):07d}",
                    "customer_id": cid,
                    "order_date": d,
                    "amount": Decimal(str(amount)),
                    "currency": "CNY",
                    "quantity": 1,
                    "status": "completed",
                    **extra,
                }
            )
        s.execute(sa.insert(Order.__table__), rows)
        refresh_customer_aggregates(s, [cid])
    return [r["order_no"] for r in rows]
