"""How long plans, care dates and the Today lists take at 100k customers.

    PYTHONPATH=. python benchmarks/bench_plans.py [--customers 100000] [--db URL]

Builds a fresh SQLite file (or uses ``--db``), 100k customers across tiers with birthdays and
one interaction for every second customer, then times: the first ``run_plans`` for a date,
the second (idempotent: nothing new), a Spring Festival care rule for every high-value
customer, a birthday rule for all, and the first page of overdue follow-ups.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from tricrm_tui.models import Customer, Interaction
from tricrm_tui.services import care, followups, plans
from tricrm_tui.services.context import Actor, open_context

NOW = dt.datetime(2027, 2, 1, 8, 0, tzinfo=dt.UTC)


def seed(ctx, n: int) -> None:  # type: ignore[no-untyped-def]
    rnd = random.Random(7)
    tiers = ["high", "medium", "low", None]
    rows = [
        {
            "code": f"B{i:06d}",
            "name": f"客户{i}",
            "value_tier": tiers[i % 4],
            "rfm_segment": "at_risk" if i % 10 == 0 else "loyal",
            "birthday": dt.date(1960 + i % 40, 1 + i % 12, 1 + i % 28),
            "registered_on": dt.date(2020 + i % 6, 1 + i % 12, 1 + i % 28),
            "owner": "agent",
            "created_at": NOW,
            "updated_at": NOW,
            "search_text": f"b{i:06d}",
        }
        for i in range(n)
    ]
    with ctx.transaction() as s:
        for i in range(0, n, 10_000):
            s.execute(sa.insert(Customer.__table__), rows[i : i + 10_000])
        ids = s.execute(sa.select(Customer.__table__.c.id)).scalars().all()
        contacts = [
            {
                "customer_id": cid,
                "channel": "phone",
                "direction": "outbound",
                "occurred_at": NOW - dt.timedelta(days=rnd.randint(1, 120)),
                "subject": "回访",
                "created_at": NOW,
            }
            for cid in ids[::2]
        ]
        for i in range(0, len(contacts), 10_000):
            s.execute(sa.insert(Interaction.__table__), contacts[i : i + 10_000])


def timed(label: str, fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn()
    print(f"{label:<48} {time.perf_counter() - start:8.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    url = args.db or str(Path(tempfile.mkdtemp()) / "bench.db")
    ctx = open_context(url, Actor("bench", "admin"))
    ctx.clock = lambda: NOW
    timed(f"seed {args.customers:,} customers", lambda: seed(ctx, args.customers))
    plans.seed_default_plans(ctx)
    day = NOW.date()
    r = timed("run_plans (first run)", lambda: plans.run_plans(ctx, day))
    print(f"  created {len(r.created):,}, capped {len(r.capped):,}")
    r = timed("run_plans (same date again)", lambda: plans.run_plans(ctx, day))
    print(f"  created {len(r.created):,}")
    care.set_care_rule(ctx, "spring", kind="lunar", occasion="spring_festival", days_ahead=7,
                       target="tier:high")  # fmt: skip
    care.set_care_rule(ctx, "birthday", kind="birthday", days_ahead=3)
    r = timed("run_care (first run)", lambda: care.run_care(ctx, day))
    print(f"  created {len(r.created):,}")
    r = timed("run_care (same date again)", lambda: care.run_care(ctx, day))
    print(f"  created {len(r.created):,}")
    page = timed(
        "list_followups(due today) first page of 200",
        lambda: followups.list_followups(ctx, due="today", limit=200),
    )
    print(f"  total {page.total:,}")
    ctx.db.dispose()


if __name__ == "__main__":
    main()
