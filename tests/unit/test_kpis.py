"""Dashboard figures (KPIs, monthly trend, cohorts) on a small base worked out by hand.

As of 2026-03-15 the counted orders are::

    A  registered 2025-12-01   2026-01-10 100.00   2026-02-10 50.00   2026-03-05 30.00
    B  registered 2026-02-20   2026-02-25 200.00   (2026-03-16 999.00: after the date)
    C  registered 2026-03-01   2026-03-15 80.50    (2026-03-10 500.00: cancelled)
    D  registered 2025-10-01   2025-11-30 40.00    2025-12-01 60.00
    E  registered 2026-03-20   no orders (joins after the date)
    F  deleted                 2026-03-02 1000.00 (a deleted customer's orders never count)

This month is 03-01 … 03-15 against 02-01 … 02-15; the last 30 days 02-14 … 03-15 against
01-15 … 02-13; the last 90 days 12-16 … 03-15 against 09-17 … 12-15. No order in 2025-10.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.factories import add_customer, add_orders
from tricrm_tui.models import ValueSnapshot
from tricrm_tui.services import cohorts, customers, feedback, followups, kpis, trends
from tricrm_tui.services.errors import InvalidInput

AS_OF = dt.date(2026, 3, 15)
NOW = dt.datetime(2026, 3, 15, 9, 30, tzinfo=dt.UTC)


def _snapshot(ctx, code: str, as_of: str, lifecycle: str, clv: str | None, monetary: str) -> None:  # type: ignore[no-untyped-def]
    with ctx.transaction() as s:
        s.execute(
            sa.insert(ValueSnapshot.__table__).values(
                customer_id=customers.customer_id_for(s, code),
                as_of=dt.date.fromisoformat(as_of),
                frequency=2,
                monetary=Decimal(monetary),
                lifecycle=lifecycle,
                clv=None if clv is None else Decimal(clv),
            )
        )


@pytest.fixture
def base(ctx):  # type: ignore[no-untyped-def]
    add_customer(ctx, "A", registered="2025-12-01")
    add_customer(ctx, "B", registered="2026-02-20")
    add_customer(ctx, "C", registered="2026-03-01")
    add_customer(ctx, "D", registered="2025-10-01")
    add_customer(ctx, "E", registered="2026-03-20")
    add_customer(ctx, "F", registered="2025-01-01")
    add_orders(ctx, "A", [("2026-01-10", "100.00"), ("2026-02-10", "50.00"), ("2026-03-05", "30")])
    add_orders(ctx, "B", [("2026-02-25", "200.00"), ("2026-03-16", "999.00")])
    add_orders(ctx, "C", [("2026-03-15", "80.50")])
    add_orders(ctx, "C", [("2026-03-10", "500.00")], status="cancelled")
    add_orders(ctx, "D", [("2025-11-30", "40.00"), ("2025-12-01", "60.00")])
    add_orders(ctx, "F", [("2026-03-02", "1000.00")])
    customers.delete_customer(ctx, "F")
    ctx.clock = lambda: NOW
    return ctx


def test_order_and_customer_kpis_against_the_same_days_of_last_month(base) -> None:  # type: ignore[no-untyped-def]
    report = kpis.kpi_report(base, AS_OF, levels=False)
    assert (report.month_start, report.previous_start, report.previous_end) == (
        dt.date(2026, 3, 1),
        dt.date(2026, 2, 1),
        dt.date(2026, 2, 15),
    )
    got = {k.key: (k.value, k.previous) for k in report.kpis}
    assert got["customers"] == (4, 2)  # E joins after the date, F is deleted
    assert got["active_customers"] == (2, 1)  # A, C against A
    assert got["new_customers"] == (1, 0)  # C; B's first order is 02-25
    assert got["buyers_30d"] == (3, 1)
    assert got["buyers_90d"] == (3, 1)  # D's 12-01 order is one day outside
    assert got["orders_month"] == (2, 1)
    assert got["revenue_month"] == (Decimal("110.50"), Decimal("50.00"))
    assert got["aov_month"] == (Decimal("55.25"), Decimal("50.00"))
    # Repeat buyers: A and D of A, B, C, D; a month earlier A and D were the only buyers.
    assert got["repeat_rate"] == (50.0, 100.0)
    rate = report.get("repeat_rate")
    assert rate.delta == -50.0 and rate.change_pct is None
    revenue = report.get("revenue_month")
    assert revenue.delta == Decimal("60.50") and revenue.change_pct == 121.0
    assert report.get("new_customers").change_pct is None  # nothing to compare with


def test_month_end_clamps_the_previous_period(base) -> None:  # type: ignore[no-untyped-def]
    report = kpis.kpi_report(base, dt.date(2025, 12, 31), levels=False)
    assert (report.previous_start, report.previous_end) == (
        dt.date(2025, 11, 1),
        dt.date(2025, 11, 30),
    )
    got = {k.key: (k.value, k.previous) for k in report.kpis}
    assert got["orders_month"] == (1, 1)  # D's 12-01 against D's 11-30
    assert got["revenue_month"] == (Decimal("60.00"), Decimal("40.00"))
    assert got["customers"] == (2, 1)  # A and D; a month earlier only D
    march = kpis.kpi_report(base, dt.date(2026, 3, 31), levels=False)
    assert march.previous_end == dt.date(2026, 2, 28)


def test_at_risk_open_work_and_levels(base) -> None:  # type: ignore[no-untyped-def]
    _snapshot(base, "D", "2026-02-10", "at_risk", "75.00", "100")
    _snapshot(base, "A", "2026-03-10", "at_risk", "120.00", "180")
    _snapshot(base, "D", "2026-03-10", "at_risk", None, "100.00")  # no model: past spend
    _snapshot(base, "B", "2026-03-10", "active", "900", "200")
    _snapshot(base, "B", "2026-03-20", "at_risk", "900", "200")  # after the date
    followups.add_followup(base, "A", due="2026-03-10", reason="late")
    followups.add_followup(base, "B", due="2026-03-15 12:00", reason="today")
    followups.add_followup(base, "C", due="2026-03-20", reason="later")
    done = followups.add_followup(base, "D", due="2026-03-01", reason="done")
    followups.done(base, done.id, log="")
    feedback.add_complaint(base, "A", category="物流", severity="critical")  # SLA 13:30
    base.clock = lambda: NOW - dt.timedelta(days=2)
    feedback.add_complaint(base, "B", category="质量", severity="high")  # SLA 03-14 09:30
    closed = feedback.add_complaint(base, "C", category="质量", severity="low")
    feedback.resolve(base, closed.id, "已处理")
    base.clock = lambda: NOW

    report = kpis.kpi_report(base, AS_OF)
    got = {k.key: (k.value, k.previous) for k in report.kpis}
    assert report.snapshot_as_of == dt.date(2026, 3, 10)
    assert got["at_risk"] == (2, 1)
    assert got["at_risk_value"] == (Decimal("220.00"), Decimal("75.00"))
    assert got["followups_overdue"] == (1, None)
    assert got["followups_due"] == (1, None)
    assert got["complaints_open"] == (2, None)
    assert got["complaints_overdue"] == (1, None)
    levels = [k for k in report.kpis if k.key.startswith("members:")]
    assert levels and sum(k.value for k in levels) == 5  # type: ignore[misc]


def test_no_snapshot_means_no_at_risk_figure(base) -> None:  # type: ignore[no-untyped-def]
    report = kpis.kpi_report(base, AS_OF, levels=False)
    assert report.snapshot_as_of is None
    assert report.get("at_risk").value is None and report.get("at_risk_value").value is None
    assert kpis.display_number("money", None) == "—"


def test_monthly_trend_fills_months_without_orders(base) -> None:  # type: ignore[no-untyped-def]
    rows = trends.monthly_trend(base, 6, AS_OF)
    assert [(r.month, r.revenue, r.orders, r.new_customers, r.active_customers) for r in rows] == [
        ("2025-10", Decimal("0.00"), 0, 0, 0),
        ("2025-11", Decimal("40.00"), 1, 1, 1),
        ("2025-12", Decimal("60.00"), 1, 0, 1),
        ("2026-01", Decimal("100.00"), 1, 1, 1),
        ("2026-02", Decimal("250.00"), 2, 1, 2),
        ("2026-03", Decimal("110.50"), 2, 1, 2),  # B's 03-16 order is after the date
    ]
    assert rows[-1].metric("revenue") == Decimal("110.50") and rows[-1].metric("new") == 1
    with pytest.raises(InvalidInput):
        trends.monthly_trend(base, 0, AS_OF)


def test_cohort_triangle(base) -> None:  # type: ignore[no-untyped-def]
    rows = cohorts.cohorts(base, 5, AS_OF)
    assert [(r.cohort, r.customers, r.buyers, r.retention) for r in rows] == [
        # D: bought again in December only.
        ("2025-11", 1, [1, 0, 0, 0, None], [100.0, 0.0, 0.0, 0.0, None]),
        ("2025-12", 0, [0, 0, 0, None, None], [None, None, None, None, None]),
        # A: first order in January, again in February and March.
        ("2026-01", 1, [1, 1, None, None, None], [100.0, 100.0, None, None, None]),
        # B: bought again on 03-16, after the date.
        ("2026-02", 1, [0, None, None, None, None], [0.0, None, None, None, None]),
        ("2026-03", 1, [None] * 5, [None] * 5),
    ]
