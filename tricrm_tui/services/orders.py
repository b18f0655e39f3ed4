"""Orders: the per-customer aggregates lists filter on, and the order list.

``customers.order_count/total_spent/first_order_on/last_order_on`` are denormalised so that
filters such as ``orders>=3 last_order<90d`` and sorting by spend stay index-fast at 100k
customers. Every service that writes orders (import, demo, merge, undo) calls
:func:`refresh_customer_aggregates` in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tricrm_tui.models import Customer, Order, Product, ProductCategory
from tricrm_tui.services.context import ServiceContext
from tricrm_tui.services.paging import Page, clamp_limit

C = Customer.__table__.c
O = Order.__table__.c  # noqa: E741

_CHUNK = 5000


def refresh_customer_aggregates(session: Session, customer_ids: Iterable[int] | None = None) -> int:
    """Recompute order count, spend and first/last order date; all customers when ids is None.

    One grouped query per chunk, then an executemany of the values that changed: no
    per-customer round trip, and customers whose figures are already right are not
    rewritten (rewriting all 100k rows cost 2× the GROUP BY on SQLite and 18× on
    PostgreSQL, where every UPDATE is a statement and a new row version; see
    docs/PERFORMANCE.md). Returns how many customers were checked.
    """
    ids = None if customer_ids is None else sorted(set(customer_ids))
    chunks: list[list[int] | None] = (
        [None] if ids is None else [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]
    )
    done = 0
    for chunk in chunks:
        agg = sa.select(
            O.customer_id,
            sa.func.count(O.id),
            sa.func.coalesce(sa.func.sum(O.amount), 0),
            sa.func.min(O.order_date),
            sa.func.max(O.order_date),
        ).where(O.status != "cancelled")
        target = sa.select(C.id, C.order_count, C.total_spent, C.first_order_on, C.last_order_on)
        if chunk is not None:
            agg = agg.where(O.customer_id.in_(chunk))
            target = target.where(C.id.in_(chunk))
        found = {
            cid: (n, _cents(total), first, last)
            for cid, n, total, first, last in session.execute(agg.group_by(O.customer_id))
        }
        rows = []
        checked = 0
        for cid, *stored in session.execute(target):
            checked += 1
            n, total, first, last = found.get(cid, (0, Decimal("0.00"), None, None))
            if (stored[0], _cents(stored[1]), stored[2], stored[3]) != (n, total, first, last):
                rows.append({"b_id": cid, "n": n, "total": total, "first": first, "last": last})
        if rows:
            session.execute(
                sa.update(Customer.__table__)
                .where(C.id == sa.bindparam("b_id"))
                .values(
                    order_count=sa.bindparam("n"),
                    total_spent=sa.bindparam("total"),
                    first_order_on=sa.bindparam("first"),
                    last_order_on=sa.bindparam("last"),
                ),
                rows,
            )
        done += checked
    return done


def _cents(value: object) -> Decimal:
    """Amounts compared to the cent (SQLite keeps Numeric as a float, so sums wobble)."""
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class OrderRecord:
    order_no: str
    customer_code: str
    date: dt.date
    amount: Decimal
    currency: str
    quantity: int
    product: str | None
    category: str | None
    channel: str | None
    status: str


def list_orders(
    ctx: ServiceContext,
    *,
    customer_code: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[OrderRecord]:
    """A page of orders, newest first."""
    P = Product.__table__.c
    K = ProductCategory.__table__.c
    conds = []
    if customer_code:
        conds.append(C.code == customer_code)
    if date_from:
        conds.append(O.order_date >= date_from)
    if date_to:
        conds.append(O.order_date <= date_to)
    base = Order.__table__.join(Customer.__table__, C.id == O.customer_id)
    q = (
        sa.select(
            O.order_no,
            C.code.label("customer_code"),
            O.order_date,
            O.amount,
            O.currency,
            O.quantity,
            P.name.label("product"),
            K.name.label("category"),
            O.channel,
            O.status,
        )
        .select_from(
            base.outerjoin(Product.__table__, P.id == O.product_id).outerjoin(
                ProductCategory.__table__, K.id == O.category_id
            )
        )
        .where(*conds)
        .order_by(O.order_date.desc(), O.id.desc())
        .limit(clamp_limit(limit))
        .offset(offset)
    )
    with ctx.session() as s:
        total = s.execute(sa.select(sa.func.count()).select_from(base).where(*conds)).scalar_one()
        items = [
            OrderRecord(
                order_no=r.order_no,
                customer_code=r.customer_code,
                date=r.order_date,
                amount=Decimal(r.amount).quantize(Decimal("0.01")),
                currency=r.currency,
                quantity=r.quantity,
                product=r.product,
                category=r.category,
                channel=r.channel,
                status=r.status,
            )
            for r in s.execute(q)
        ]
    return Page(items=items, total=total, limit=clamp_limit(limit), offset=offset)
