"""Recommendations at scale: build time of the co-occurrence model and time per customer.

    PYTHONPATH=. python benchmarks/recommend_cooccurrence.py [--orders 1000000] [--db URL]

Generates customers, a catalogue with popular and long-tail products (Zipf-like), and
orders on an empty SQLite file (or the database given), then measures:
the one-query build of Bᵀ·B, a cached per-customer recommendation, and a cold one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from tricrm_tui.models import Customer, Order, Product
from tricrm_tui.services import recommend
from tricrm_tui.services.context import Actor, open_context


def populate(ctx, n_orders: int, n_customers: int, n_products: int, seed: int = 7) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    now = dt.datetime.now(dt.UTC)
    with ctx.transaction() as s:
        s.execute(
            sa.insert(Product.__table__),
            [{"sku": f"P{i:05d}", "name": f"商品{i}"} for i in range(1, n_products + 1)],
        )
        for start in range(0, n_customers, 20000):
            s.execute(
                sa.insert(Customer.__table__),
                [
                    {
                        "code": f"C{i:07d}",
                        "name": f"客户{i}",
                        "created_at": now,
                        "updated_at": now,
                        "search_text": "",
                    }
                    for i in range(start + 1, min(start + 20000, n_customers) + 1)
                ],
            )
    weights = 1 / np.arange(1, n_products + 1) ** 0.9
    weights /= weights.sum()
    customers = rng.integers(1, n_customers + 1, n_orders)
    products = rng.choice(np.arange(1, n_products + 1), n_orders, p=weights)
    day0 = dt.date(2025, 1, 1)
    days = rng.integers(0, 365, n_orders)
    chunk = 50000
    for start in range(0, n_orders, chunk):
        with ctx.transaction() as s:
            s.execute(
                sa.insert(Order.__table__),
                [
                    {
                        "order_no": f"O{i:08d}",
                        "customer_id": int(customers[i]),
                        "order_date": day0 + dt.timedelta(days=int(days[i])),
                        "amount": Decimal("10.00"),
                        "product_id": int(products[i]),
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in range(start, min(start + chunk, n_orders))
                ],
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=2_000)
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    db = args.db or str(Path(tempfile.mkdtemp()) / "bench.db")
    ctx = open_context(db, Actor("bench"))
    with ctx.session() as s:
        existing = s.execute(sa.select(sa.func.count()).select_from(Order.__table__)).scalar()
    if existing:
        print(f"reusing {existing:,} orders in {db}")
    else:
        t = time.perf_counter()
        populate(ctx, args.orders, args.customers, args.products)
        print(f"populate {args.orders:,} orders: {time.perf_counter() - t:.1f} s")

    t = time.perf_counter()
    model = recommend.build_model(ctx)
    build = time.perf_counter() - t
    print(
        f"build model (one query + Bᵀ·B): {build:.2f} s; "
        f"{len(model.product_ids):,} products, {model.counts.nnz:,} co-occurring pairs"
    )
    recommend.cooccurrence(ctx)  # warm the cache
    codes = [f"C{i:07d}" for i in range(1, 201)]
    t = time.perf_counter()
    for code in codes:
        recommend.recommend(ctx, code, top=5)
    per = (time.perf_counter() - t) / len(codes)
    print(f"recommend per customer (cached model): {per * 1000:.1f} ms")
    model = recommend.cooccurrence(ctx)
    t = time.perf_counter()
    for cid in range(1, 201):
        recommend.recommend_for_id(ctx, cid, top=5, model=model)
    per = (time.perf_counter() - t) / 200
    print(f"recommend per customer, model passed in (campaign rendering): {per * 1000:.1f} ms")
    example = recommend.recommend(ctx, codes[0], top=3)
    print("example:", [(r.name, r.score, r.reason) for r in example])


if __name__ == "__main__":
    main()
