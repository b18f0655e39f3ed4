"""The dashboard's key figures as of a date, each beside the same figure one period earlier.

Periods are like for like, so the third of a month does not read as a collapse against the
whole of last month: "this month" is the month to date (1st … ``as_of``) and its previous
period the same days of the month before (1st … the same day, clamped to that month's end);
"the last 30/90 days" end on ``as_of`` and their previous periods are the 30/90 days before.
Stock figures (customers, repeat rate, at risk) are compared with their value on the same day
a month earlier.

Every figure family is one aggregate query (orders, customers, repeat buyers, value
snapshots, loyalty levels, open work), so the report costs a handful of round trips however
large the base. Only orders on or before ``as_of`` count (see
:mod:`tricrm_tui.services.periods`). Follow-ups, complaints and member levels are what the
database holds now: they have no history to compare with.

At risk: the customers the latest value refresh on or before the date judged at risk (the
stored snapshot, as the Today screen reads it, not a refit), and their value at stake: the
predicted lifetime value, or past spend where no model could be fitted, as in
:func:`tricrm_tui.services.value.at_risk`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa

from tricrm_tui.i18n import _, format_money, format_number
from tricrm_tui.labels import N_
from tricrm_tui.models import Customer, Feedback, FollowUp, Order, ValueSnapshot
from tricrm_tui.services.context import ServiceContext
from tricrm_tui.services.customers import active_condition
from tricrm_tui.services.loyalty_rules import add_months
from tricrm_tui.services.periods import (
    CENT,
    counted_orders,
    money,
    month_start,
    percent,
)
from tricrm_tui.services.timespec import day_bounds

C = Customer.__table__.c
O = Order.__table__.c  # noqa: E741
F = FollowUp.__table__.c
FB = Feedback.__table__.c
VS = ValueSnapshot.__table__.c

Number = int | Decimal | float

LABELS = {
    "customers": N_("Customers"),
    "active_customers": N_("Active customers (bought this month)"),
    "new_customers": N_("New customers (first order this month)"),
    "buyers_30d": N_("Bought in the last 30 days"),
    "buyers_90d": N_("Bought in the last 90 days"),
    "orders_month": N_("Orders this month"),
    "revenue_month": N_("Revenue this month"),
    "aov_month": N_("Average order value this month"),
    "repeat_rate": N_("Repeat-purchase rate"),
    "at_risk": N_("Customers at risk"),
    "at_risk_value": N_("Value at stake"),
    "followups_overdue": N_("Follow-ups overdue"),
    "followups_due": N_("Follow-ups due today"),
    "complaints_open": N_("Open complaints"),
    "complaints_overdue": N_("Complaints past their SLA"),
}
"""Every KPI key and its label msgid, in the order the report lists them."""


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    kind: str
    """``count``, ``money`` or ``percent`` (a share already in percent, e.g. 41.7)."""
    value: Number | None
    previous: Number | None = None

    @property
    def delta(self) -> Number | None:
        if self.value is None or self.previous is None:
            return None
        if self.kind == "percent":
            return round(float(self.value) - float(self.previous), 1)
        return self.value - self.previous  # type: ignore[operator]

    @property
    def change_pct(self) -> float | None:
        """Relative change in percent; for a percent KPI the change is :attr:`delta` (points)."""
        if self.kind == "percent" or self.value is None or not self.previous:
            return None
        return percent(self.value - self.previous, self.previous)  # type: ignore[operator, arg-type]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "delta": self.delta, "change_pct": self.change_pct}


@dataclass(frozen=True)
class KpiReport:
    as_of: dt.date
    month_start: dt.date
    previous_start: dt.date
    previous_end: dt.date
    """The previous month's window: its 1st to the same day as ``as_of`` (clamped)."""
    snapshot_as_of: dt.date | None
    """The value snapshot the at-risk figures come from (``None``: never refreshed)."""
    kpis: list[Kpi]

    def get(self, key: str) -> Kpi:
        return next(k for k in self.kpis if k.key == key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of,
            "month_start": self.month_start,
            "previous_start": self.previous_start,
            "previous_end": self.previous_end,
            "snapshot_as_of": self.snapshot_as_of,
            "kpis": [k.to_dict() for k in self.kpis],
        }


@dataclass(frozen=True)
class _Windows:
    as_of: dt.date
    month: tuple[dt.date, dt.date]
    previous_month: tuple[dt.date, dt.date]
    days30: tuple[dt.date, dt.date]
    previous_days30: tuple[dt.date, dt.date]
    days90: tuple[dt.date, dt.date]
    previous_days90: tuple[dt.date, dt.date]

    @property
    def month_earlier(self) -> dt.date:
        """The day stock figures are compared with."""
        return self.previous_month[1]

    @classmethod
    def of(cls, as_of: dt.date) -> _Windows:
        first = month_start(as_of)
        day = dt.timedelta(days=1)
        return cls(
            as_of=as_of,
            month=(first, as_of),
            previous_month=(add_months(first, -1), add_months(as_of, -1)),
            days30=(as_of - 29 * day, as_of),
            previous_days30=(as_of - 59 * day, as_of - 30 * day),
            days90=(as_of - 89 * day, as_of),
            previous_days90=(as_of - 179 * day, as_of - 90 * day),
        )

    def order_windows(self) -> dict[str, tuple[dt.date, dt.date]]:
        return {
            "month": self.month,
            "previous_month": self.previous_month,
            "days30": self.days30,
            "previous_days30": self.previous_days30,
            "days90": self.days90,
            "previous_days90": self.previous_days90,
        }


_Risk = tuple[int, Decimal] | None


def _count_if(cond: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)


def _within(column: Any, window: tuple[dt.date, dt.date]) -> sa.ColumnElement[bool]:
    return column.between(window[0], window[1])


def _order_figures(session: Any, w: _Windows) -> dict[str, Any]:
    """Orders, revenue and buyers per window, and the repeat buyers as of both dates.

    Orders and revenue come from the orders grouped by day (a few hundred rows, summed per
    window here). Buyers need one pass grouped by customer over the orders since the earliest
    window (about six months), joined to the live customers: a customer is a buyer in a
    window when they have an order in it. Repeat buyers need every order up to the date, but
    the customer's maintained order count holds them all: orders up to a date = the count −
    the orders after it, and the orders after the date are in this pass. So the repeat rate
    costs no scan of the whole order history.
    """
    windows = w.order_windows()
    start = min(window[0] for window in windows.values())
    out: dict[str, Any] = {}
    days = session.execute(
        sa.select(O.order_date, sa.func.count(), sa.func.sum(O.amount))
        .where(*counted_orders(w.as_of, start))
        .group_by(O.order_date)
    ).all()
    for name, (first, last) in windows.items():
        inside = [(n, money(amount)) for day, n, amount in days if first <= _as_date(day) <= last]
        out[f"{name}_orders"] = sum(n for n, _a in inside)
        out[f"{name}_revenue"] = sum((a for _n, a in inside), Decimal("0.00"))
    cols: list[Any] = [O.customer_id.label("cid")]
    cols += [
        sa.func.max(sa.case((_within(O.order_date, window), 1), else_=0)).label(name)
        for name, window in windows.items()
    ]
    cols += [
        _count_if(O.order_date > w.as_of).label("after_now"),
        _count_if(O.order_date > w.month_earlier).label("after_then"),
    ]
    per_customer = (
        sa.select(*cols)
        .where(O.status != "cancelled", O.order_date >= start)
        .group_by(O.customer_id)
        .subquery()
    )
    pc = per_customer.c
    figures: list[Any] = [sa.func.sum(pc[name]).label(f"{name}_buyers") for name in windows]
    up_to_now = C.order_count - sa.func.coalesce(pc.after_now, 0)
    up_to_then = C.order_count - sa.func.coalesce(pc.after_then, 0)
    figures += [
        _count_if(up_to_now >= 1).label("buyers"),
        _count_if(up_to_now >= 2).label("repeat"),
        _count_if(up_to_then >= 1).label("previous_buyers"),
        _count_if(up_to_then >= 2).label("previous_repeat"),
    ]
    row = session.execute(
        sa.select(*figures)
        .select_from(Customer.__table__.outerjoin(per_customer, pc.cid == C.id))
        .where(active_condition())
    ).one()
    # PostgreSQL sums counts as numeric: they are whole numbers.
    out.update({k: int(v or 0) for k, v in row._mapping.items()})
    return out


def _as_date(value: Any) -> dt.date:
    """SQLite returns a grouped date column as ISO text."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _joined_on(backend: str) -> sa.ColumnElement[Any]:
    """When a customer joined the base: registration, else first order, else the record's day."""
    created = sa.func.date(C.created_at) if backend == "sqlite" else sa.cast(C.created_at, sa.Date)
    return sa.func.coalesce(C.registered_on, C.first_order_on, created)


def _customer_figures(session: Any, backend: str, w: _Windows) -> dict[str, int]:
    joined = _joined_on(backend)

    row = session.execute(
        sa.select(
            _count_if(joined <= w.as_of).label("customers"),
            _count_if(joined <= w.month_earlier).label("previous_customers"),
            _count_if(_within(C.first_order_on, w.month)).label("new"),
            _count_if(_within(C.first_order_on, w.previous_month)).label("previous_new"),
        ).where(active_condition())
    ).one()
    return {k: int(v) for k, v in row._mapping.items()}


def _at_risk_figures(session: Any, w: _Windows) -> tuple[dt.date | None, _Risk, _Risk]:
    """(snapshot used, its (customers at risk, value at stake), the same a month earlier)."""
    now, then = session.execute(
        sa.select(
            sa.select(sa.func.max(VS.as_of)).where(VS.as_of <= w.as_of).scalar_subquery(),
            sa.select(sa.func.max(VS.as_of)).where(VS.as_of <= w.month_earlier).scalar_subquery(),
        )
    ).one()
    if now is None:
        return None, None, None
    wanted = {now} if then is None else {now, then}
    rows = session.execute(
        sa.select(VS.as_of, sa.func.count(), sa.func.sum(sa.func.coalesce(VS.clv, VS.monetary)))
        .select_from(ValueSnapshot.__table__.join(Customer.__table__, C.id == VS.customer_id))
        .where(VS.as_of.in_(wanted), VS.lifecycle == "at_risk", active_condition())
        .group_by(VS.as_of)
    ).all()
    found = {d: (int(n), money(v)) for d, n, v in rows}
    none = (0, Decimal("0.00"))
    return now, found.get(now, none), None if then is None else found.get(then, none)


def _open_work(session: Any, ctx: ServiceContext, as_of: dt.date) -> dict[str, int]:
    """Follow-ups overdue (due before the day) and due on the day; complaints open and late."""
    from tricrm_tui.services.feedback import OPEN_STATUSES
    from tricrm_tui.services.followups import ACTIVE

    start, end = day_bounds(as_of)
    moment = min(ctx.now(), end)

    tasks = session.execute(
        sa.select(
            _count_if(F.due_at < start).label("overdue"),
            _count_if(sa.and_(F.due_at >= start, F.due_at < end)).label("due"),
        ).where(F.status.in_(ACTIVE))
    ).one()
    complaints = session.execute(
        sa.select(
            sa.func.count().label("open"),
            _count_if(FB.sla_due_at < moment).label("late"),
        ).where(FB.kind == "complaint", FB.status.in_(OPEN_STATUSES))
    ).one()
    return {
        "followups_overdue": int(tasks.overdue),
        "followups_due": int(tasks.due),
        "complaints_open": int(complaints.open),
        "complaints_overdue": int(complaints.late),
    }


def _aov(revenue: Decimal, orders: int) -> Decimal | None:
    return (revenue / orders).quantize(CENT, ROUND_HALF_UP) if orders else None


def kpi_report(
    ctx: ServiceContext, as_of: dt.date | None = None, *, levels: bool = True
) -> KpiReport:
    """Every dashboard KPI as of ``as_of`` (default: today), in :data:`LABELS` order, then one
    ``members:<level>`` row per loyalty level when ``levels``."""
    w = _Windows.of(as_of or ctx.today())
    backend = ctx.db.backend
    with ctx.session() as s:
        orders = _order_figures(s, w)
        people = _customer_figures(s, backend, w)
        snapshot, now_risk, then_risk = _at_risk_figures(s, w)
        work = _open_work(s, ctx, w.as_of)

    def revenue(name: str) -> Decimal:
        return orders[f"{name}_revenue"]

    values: dict[str, tuple[str, Number | None, Number | None]] = {
        "customers": ("count", people["customers"], people["previous_customers"]),
        "active_customers": ("count", orders["month_buyers"], orders["previous_month_buyers"]),
        "new_customers": ("count", people["new"], people["previous_new"]),
        "buyers_30d": ("count", orders["days30_buyers"], orders["previous_days30_buyers"]),
        "buyers_90d": ("count", orders["days90_buyers"], orders["previous_days90_buyers"]),
        "orders_month": ("count", orders["month_orders"], orders["previous_month_orders"]),
        "revenue_month": ("money", revenue("month"), revenue("previous_month")),
        "aov_month": (
            "money",
            _aov(revenue("month"), orders["month_orders"]),
            _aov(revenue("previous_month"), orders["previous_month_orders"]),
        ),
        "repeat_rate": (
            "percent",
            percent(orders["repeat"], orders["buyers"]),
            percent(orders["previous_repeat"], orders["previous_buyers"]),
        ),
        "at_risk": (
            "count",
            now_risk[0] if now_risk else None,
            then_risk[0] if then_risk else None,
        ),
        "at_risk_value": (
            "money",
            now_risk[1] if now_risk else None,
            then_risk[1] if then_risk else None,
        ),
        **{key: ("count", n, None) for key, n in work.items()},
    }
    kpis = [
        Kpi(key, _(LABELS[key]), kind, value, previous)
        for key, (kind, value, previous) in values.items()
    ]
    if levels:
        kpis += member_levels(ctx)
    return KpiReport(
        as_of=w.as_of,
        month_start=w.month[0],
        previous_start=w.previous_month[0],
        previous_end=w.previous_month[1],
        snapshot_as_of=snapshot,
        kpis=kpis,
    )


def member_levels(ctx: ServiceContext) -> list[Kpi]:
    """Customers per loyalty level, lowest level first (no level counts as the lowest)."""
    from tricrm_tui.services.loyalty import list_levels

    return [
        Kpi(f"members:{lv.name}", _("Members: {level}").format(level=lv.name), "count", lv.members)
        for lv in list_levels(ctx)
    ]


def display_number(kind: str, value: Number | None) -> str:
    """A KPI value as people read it: 1,234 · ¥1,234.50 · 41.7%; ``—`` when unknown."""
    if value is None:
        return "—"
    if kind == "money":
        return format_money(Decimal(value))
    if kind == "percent":
        return f"{value}%"
    return format_number(value)


def display_change(kpi: Kpi) -> str:
    """``+9.8%`` (relative), ``-0.7 pt`` for a percent KPI, empty without a previous value."""
    if kpi.kind == "percent":
        delta = kpi.delta
        return "" if delta is None else _("{delta:+.1f} pt").format(delta=delta)
    change = kpi.change_pct
    return "" if change is None else f"{change:+.1f}%"
