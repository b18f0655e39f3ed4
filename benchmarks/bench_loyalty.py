"""Time ``loyalty run`` on a synthetic shop: 100k customers, 1M orders over two years.

    PYTHONPATH=. python benchmarks/bench_loyalty.py [--db URL_OR_PATH] [--customers N] [--orders N]

Phases timed: the first run (accrues every order, expires the lots already due, reviews every
level), a second run for the same date (idempotent: finds nothing to do), and a run a month later
(the daily case: a month of expiries and a level review). The baseline is one plain
``GROUP BY customer_id`` over the same orders, for scale.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from tricrm_tui.models import Customer, LoyaltyEntry, Order
from tricrm_tui.services import loyalty
from tricrm_tui.services.context import Actor, open_context

END = dt.date(2026, 3, 31)


def build(ctx, customers: int, orders: int) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    now = ctx.now()
    with ctx.transaction() as s:
        rows = []
        for i in range(1, customers + 1):
            code = f"B{i:07d}"
            rows.append(
                {
                    "code": code,
                    "name": f"客户{i}",
                    "kind": "individual",
                    "birthday": dt.date(1970 + i % 40, 1 + i % 12, 1 + i % 28) if i % 3 else None,
                    "consent_email": True,
                    "consent_sms": True,
                    "consent_phone": True,
                    "consent_wechat": True,
                    "order_count": 0,
                    "total_spent": Decimal("0"),
                    "points_balance": 0,
                    "search_text": code.lower(),
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
            )
            if len(rows) == 20_000:
                s.execute(sa.insert(Customer.__table__), rows)
                rows = []
        if rows:
            s.execute(sa.insert(Customer.__table__), rows)
        lo = s.execute(sa.select(sa.func.min(Customer.__table__.c.id))).scalar_one()
        batch = []
        for n in range(orders):
            day = END - dt.timedelta(days=rng.randrange(730))
            batch.append(
                {
                    "order_no": f"BO{n:08d}",
                    "customer_id": lo + rng.randrange(customers),
                    "order_date": day,
                    "amount": Decimal(rng.randrange(500, 200_000)) / 100,
                    "currency": "CNY",
                    "quantity": 1,
                    "status": "cancelled" if n % 50 == 0 else "completed",
                    "created_at": now,
                    "updated_at": now,
                }
            )
            if len(batch) == 50_000:
                s.execute(sa.insert(Order.__table__), batch)
                batch = []
        if batch:
            s.execute(sa.insert(Order.__table__), batch)


def timed(label: str, fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    print(f"{label:<38} {seconds:8.2f} s   {result}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", help="database (default: a temporary SQLite file)")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    args = parser.parse_args()
    db = args.db or str(Path(tempfile.mkdtemp()) / "bench.db")
    ctx = open_context(db, Actor("bench", "admin"))
    print(f"database: {ctx.db.display_url}")
    timed(
        f"build {args.customers:,} customers / {args.orders:,} orders",
        lambda: build(ctx, args.customers, args.orders),
    )
    O = Order.__table__.c  # noqa: E741

    def baseline() -> int:
        with ctx.session() as s:
            q = sa.select(O.customer_id, sa.func.sum(O.amount)).group_by(O.customer_id)
            return len(s.execute(q).all())

    def analyze() -> None:
        """What autovacuum does after a bulk load (it is off on some test servers)."""
        if ctx.db.backend == "postgresql":
            with ctx.db.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
                conn.commit()

    analyze()
    timed("baseline: one GROUP BY over orders", baseline)
    first = timed("loyalty run (first: all history)", lambda: loyalty.run_loyalty(ctx, END))
    analyze()
    timed("loyalty run (same date again)", lambda: loyalty.run_loyalty(ctx, END).changed)
    timed(
        "loyalty run (a month later)",
        lambda: loyalty.run_loyalty(ctx, dt.date(2026, 4, 30)),
    )
    with ctx.session() as s:
        entries = s.execute(sa.select(sa.func.count()).select_from(LoyaltyEntry.__table__))
        print(f"ledger entries: {entries.scalar_one():,}; first run: {first}")
    ctx.db.dispose()


if __name__ == "__main__":
    main()
