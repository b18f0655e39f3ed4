"""Orders: the per-customer aggregates lists filter on, and the order list.

``customers.order_count/total_spent/first_order_on/last_order_on/purchase_days`` are
denormalised so that filters such as ``orders>=3 last_order<90d`` and sorting by spend stay
index-fast at 100k customers, and the RFM summary as of today reads one row per customer. Every service that writes orders (import, demo, merge, undo) calls
:func:`refresh_customer_aggregates` in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tricrm_tui.i18n import _
from tricrm_tui.models import Customer, Order, Product, ProductCategory
from tricrm_tui.services.context import ServiceContext
from tricrm_tui.services.customers import find_row
from tricrm_tui.services.errors import InvalidInput, NotFound
from tricrm_tui.services.paging import Page, clamp_limit

C = Customer.__table__.c
O = Order.__table__.c  # noqa: E741

_CHUNK = 5000


def refresh_customer_aggregates(session: Session, customer_ids: Iterable[int] | None = None) -> int:
    """Recompute order count, spend, first/last order date and the number of distinct purchase
    days (what the RFM summary reads, :func:`tricrm_tui.services.rfm.order_summary`), over
    the orders that are not cancelled; all customers when ids is None.

    The comparison happens in the database: one ``UPDATE … FROM`` every customer outer-joined
    with their grouped orders writes only the customers whose stored figures differ (a
    customer who lost all orders gets zeros). Nothing but a count comes back to Python, and customers whose figures are already
    right are not rewritten (rewriting all 100k rows cost 2× the GROUP BY on SQLite and 18×
    on PostgreSQL, where every UPDATE is a new row version; fetching the stored figures to
    compare them in Python still cost 1.8× there; see docs/PERFORMANCE.md). Deleted and
    merged customers are refreshed too (a merged one has lost its orders to the survivor).
    Like the order writes that call it, it is not audited on its own and leaves
    ``version`` alone: the figures follow the orders, nobody edited the customer.
    Returns how many customers were checked.
    """
    ids = None if customer_ids is None else sorted(set(customer_ids))
    chunks: list[list[int] | None] = (
        [None] if ids is None else [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]
    )
    sqlite = session.get_bind().dialect.name == "sqlite"
    customers = Customer.__table__
    done = 0
    for chunk in chunks:
        agg = sa.select(
            O.customer_id.label("cid"),
            sa.func.count(O.id).label("n"),
            sa.func.sum(O.amount).label("total"),
            sa.func.min(O.order_date).label("first"),
            sa.func.max(O.order_date).label("last"),
            sa.func.count(sa.distinct(O.order_date)).label("days"),
        ).where(O.status != "cancelled")
        if chunk is not None:
            agg = agg.where(O.customer_id.in_(chunk))
        a = agg.group_by(O.customer_id).subquery("a")
        # Every customer (of the chunk) with its orders' figures, zeros when it has none:
        # the outer join is what catches a customer who lost all their orders.
        c = customers.alias("c")
        fresh = (
            sa.select(
                c.c.id,
                sa.func.coalesce(a.c.n, 0).label("n"),
                _to_cents(sa.func.coalesce(a.c.total, 0), sqlite).label("total"),
                a.c.first,
                a.c.last,
                sa.func.coalesce(a.c.days, 0).label("days"),
            )
            .select_from(c.outerjoin(a, a.c.cid == c.c.id))
            .where(*([] if chunk is None else [c.c.id.in_(chunk)]))
            .subquery("fresh")
        )
        f = fresh.c
        session.execute(
            sa.update(customers)
            .where(
                C.id == f.id,
                sa.or_(
                    C.order_count.is_distinct_from(f.n),
                    _to_cents(C.total_spent, sqlite).is_distinct_from(f.total),
                    C.first_order_on.is_distinct_from(f.first),
                    C.last_order_on.is_distinct_from(f.last),
                    C.purchase_days.is_distinct_from(f.days),
                ),
            )
            .values(
                order_count=f.n,
                total_spent=f.total,
                first_order_on=f.first,
                last_order_on=f.last,
                purchase_days=f.days,
            )
        )
        done += session.execute(
            sa.select(sa.func.count())
            .select_from(customers)
            .where(*([] if chunk is None else [C.id.in_(chunk)]))
        ).scalar_one()
    return done


def _to_cents(amount: sa.ColumnElement[Any], sqlite: bool) -> sa.ColumnElement[Any]:
    """Amounts compared and stored to the cent. PostgreSQL's numeric sums are exact; SQLite
    keeps Numeric as a float, so a sum can wobble in the last bits: rounded to two places."""
    return sa.func.round(amount, 2) if sqlite else amount


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


def _customer_id(ctx: ServiceContext, code: str) -> int:
    """The id of customer ``code``, for listing its orders: a typo or a customer merged away
    printed an empty list, which read as "no orders". A deleted customer's orders stay (as
    reports keep them), so they are listed."""
    with ctx.session() as s:
        row = find_row(s, code)
    if row is None:
        raise NotFound(_("no customer with code {code}").format(code=code))
    if row.merged_into_id is not None:
        raise InvalidInput(
            _("customer {code} was merged into {kept}; its orders are {kept}'s now").format(
                code=code, kept=row.merged_code
            ),
            field="customer",
        )
    return int(row.id)


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
        conds.append(C.id == _customer_id(ctx, customer_code))
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
