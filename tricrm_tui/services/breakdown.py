"""Customer breakdowns: how many customers, what share, and how much revenue per group.

One GROUP BY over the customers table (the classification and order aggregates live there),
optionally narrowed by a filter expression. Province groups are folded by
:func:`~tricrm_tui.services.regions.canonical_province`, so 广东 and 广东省 count together.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from tricrm_tui.i18n import _
from tricrm_tui.models import Customer
from tricrm_tui.services.context import ServiceContext
from tricrm_tui.services.customers import active_condition
from tricrm_tui.services.errors import InvalidInput
from tricrm_tui.services.filters import SIZE_CLASS
from tricrm_tui.services.regions import canonical_province

C = Customer.__table__.c

DIMENSIONS = {
    "region": C.region,
    "province": C.province,
    "city": C.city,
    "industry": C.industry,
    "size": SIZE_CLASS,
    "behaviour": C.frequency_band,
    "category": C.favourite_category,
    "channel": C.preferred_channel,
    "aov": C.aov_band,
    "segment": C.rfm_segment,
    "tier": C.value_tier,
    "lifecycle": C.lifecycle,
}
NONE_LABEL = "(none)"


@dataclass(frozen=True)
class BreakdownRow:
    group: str
    customers: int
    share: float  # percent of customers (a ratio, not money)
    orders: int
    revenue: Decimal
    revenue_share: float  # percent of revenue
    revenue_per_customer: Decimal


def _pct(part: Decimal | int, whole: Decimal | int) -> float:
    if not whole:
        return 0.0
    return float((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP))


def breakdown(
    ctx: ServiceContext, by: str, *, where: str | None = None, segment: str | None = None
) -> list[BreakdownRow]:
    """Groups ordered by customer count (largest first), empty values as ``(none)``."""
    key = DIMENSIONS.get(by)
    if key is None:
        raise InvalidInput(
            _("cannot break down by {field}; choose one of: {choices}").format(
                field=by, choices=", ".join(DIMENSIONS)
            ),
            field="by",
        )
    from tricrm_tui.services.segments import condition_for

    conds = [active_condition()]
    extra = condition_for(ctx, where=where, segment=segment)
    if extra is not None:
        conds.append(extra)
    label = key.label("grp")
    q = (
        sa.select(
            label,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(C.order_count), 0),
            sa.func.coalesce(sa.func.sum(C.total_spent), 0),
        )
        .where(*conds)
        .group_by(key)
    )
    groups: dict[str, list] = {}
    with ctx.session() as s:
        for grp, n, orders, revenue in s.execute(q):
            name = grp or NONE_LABEL
            if by == "province" and grp:
                name = canonical_province(grp) or grp
            acc = groups.setdefault(name, [0, 0, Decimal(0)])
            acc[0] += n
            acc[1] += int(orders)
            acc[2] += Decimal(revenue)
    total_n = sum(v[0] for v in groups.values())
    total_rev = sum((v[2] for v in groups.values()), Decimal(0))
    cent = Decimal("0.01")
    rows = [
        BreakdownRow(
            group=name,
            customers=n,
            share=_pct(n, total_n),
            orders=orders,
            revenue=rev.quantize(cent),
            revenue_share=_pct(rev, total_rev),
            revenue_per_customer=(rev / n).quantize(cent, ROUND_HALF_UP) if n else Decimal("0.00"),
        )
        for name, (n, orders, rev) in groups.items()
    ]
    rows.sort(key=lambda r: (-r.customers, -r.revenue, r.group))
    return rows
