"""How fast is ``tricrm value refresh`` at 100k customers / 1M orders?

Self-contained: builds a synthetic shop in a temporary SQLite file with Core inserts (or uses
``--db``), then reports

* ``value refresh`` in total and by part (query, RFM, model fit, predictions, storing);
* the RFM part (the grouped query + numpy scoring) against one raw ``GROUP BY`` over the same
  orders (goal: within 1.5×);
* the BG/NBD fit against the ``lifetimes`` package's ``BetaGeoFitter`` on the same summary
  (goal: faster).

    PYTHONPATH=. python benchmarks/bench_value.py [--customers 100000] [--orders 1000000]
                                                  [--db URL [--build]] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from tricrm_tui.models import Customer, Order
from tricrm_tui.services import clv, rfm, value
from tricrm_tui.services.context import Actor, open_context
from tricrm_tui.services.orders import refresh_customer_aggregates
from tricrm_tui.services.value_config import load_settings

AS_OF = dt.date(2025, 12, 31)
START = dt.date(2023, 1, 1)


def simulate(customers: int, mean_orders: float, seed: int) -> tuple[np.ndarray, ...]:
    """Customer ids, order days and amounts drawn from the BG/NBD and Gamma-Gamma stories:
    Poisson buying at a gamma-distributed rate, a beta-distributed chance to drop out after each
    purchase, first purchases spread over three years, ~10% same-day second orders."""
    rng = np.random.default_rng(seed)
    span = (AS_OF - START).days
    first = rng.integers(0, span, customers)
    T = span - first
    lam = rng.gamma(2.0, 1.0 / 60.0, customers) * mean_orders / 11.6
    p = rng.beta(1.0, 12.0, customers)
    spend = 60.0 / rng.gamma(4.0, 1.0 / 3.0, customers)  # per-customer mean spend ν
    ids, days = [np.arange(customers)], [first.astype(float)]
    now = np.zeros(customers)
    alive = np.ones(customers, bool)
    while alive.any():
        idx = np.flatnonzero(alive)
        now[idx] += rng.exponential(1.0 / lam[idx])
        bought = now[idx] <= T[idx]
        got = idx[bought]
        ids.append(got)
        days.append(first[got] + np.floor(now[got]))
        alive[idx[~bought]] = False
        alive[got[rng.random(got.size) < p[got]]] = False
    cid = np.concatenate(ids)
    day = np.concatenate(days).astype(int)
    twice = rng.random(cid.size) < 0.10
    cid = np.concatenate([cid, cid[twice]])
    day = np.concatenate([day, day[twice]])
    amount = np.round(rng.gamma(3.0, spend[cid] / 3.0), 2) + 0.01
    return cid + 1, day, amount


def build(ctx, customers: int, orders: int, seed: int = 7) -> int:  # type: ignore[no-untyped-def]
    """The synthetic shop, written with Core executemany in batches."""
    cid, day, amount = simulate(customers, orders / customers, seed)
    engine = ctx.db.engine
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Customer.__table__),
            [
                {
                    "code": f"B{i:06d}",
                    "name": f"客户{i}",
                    "search_text": f"b{i:06d}",
                    "custom_fields": {},
                }
                for i in range(1, customers + 1)
            ],
        )
    batch = 50_000
    with engine.begin() as conn:
        for start in range(0, cid.size, batch):
            conn.execute(
                sa.insert(Order.__table__),
                [
                    {
                        "order_no": f"O{k:08d}",
                        "customer_id": int(cid[k]),
                        "order_date": START + dt.timedelta(days=int(day[k])),
                        "amount": f"{amount[k]:.2f}",
                        "status": "completed",
                    }
                    for k in range(start, min(start + batch, cid.size))
                ],
            )
    with ctx.transaction() as s:
        refresh_customer_aggregates(s)
    # Planner statistics, as after any bulk load (PostgreSQL's autovacuum would get there
    # later; without them it plans a 1-row customers table).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
    return int(cid.size)


def best_of(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--db", help="use this database instead of a temporary SQLite file")
    ap.add_argument("--build", action="store_true", help="build the synthetic shop in --db")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    target = args.db or str(Path(tempfile.mkdtemp()) / "bench.db")
    ctx = open_context(target, Actor("bench"))
    if args.build or not args.db:
        t0 = time.perf_counter()
        n_orders = build(ctx, args.customers, args.orders)
        print(
            f"built {args.customers:,} customers / {n_orders:,} orders in {time.perf_counter() - t0:.1f} s ({ctx.db.display_url})"
        )
    backend = ctx.db.backend
    settings = load_settings()

    runs = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        result = value.value_refresh(ctx, AS_OF)
        runs.append((time.perf_counter() - t0, result.timings))
    total, parts = min(runs, key=lambda r: r[0])
    print(
        f"\nvalue refresh as of {AS_OF} ({result.customers:,} customers, {result.buyers:,} buyers, basis {result.basis})"
    )
    print(
        f"  total               {total:7.3f} s   (median of {args.repeat}: {statistics.median(r[0] for r in runs):.3f} s)"
    )
    for key in ("query", "rfm", "fit", "predict", "store"):
        print(f"  {key:<18}  {parts.get(key, 0):7.3f} s")

    def rfm_part() -> None:
        with ctx.session() as s:
            summary = rfm.order_summary(s, backend, AS_OF, repeat_spend=False)
        rfm.score(summary, settings.rfm)

    O = Order.__table__.c  # noqa: E741
    raw = (
        sa.select(
            O.customer_id, sa.func.max(O.order_date), sa.func.count(O.id), sa.func.sum(O.amount)
        )
        .where(O.order_date <= AS_OF)
        .group_by(O.customer_id)
    )

    def raw_group_by() -> None:
        with ctx.session() as s:
            s.execute(raw).all()

    t_rfm = best_of(rfm_part, args.repeat)
    t_raw = best_of(raw_group_by, args.repeat)
    print("\nRFM part vs one raw GROUP BY over the same orders (goal ≤ 1.5×)")
    print(f"  RFM (query + scores) {t_rfm:7.3f} s")
    print(f"  raw GROUP BY         {t_raw:7.3f} s")
    print(f"  ratio                {t_rfm / t_raw:7.2f}×")

    with ctx.session() as s:
        summary = rfm.order_summary(s, backend, AS_OF)
    x, t_x, T, _m = value._model_inputs(summary, settings.unit_days)
    b = summary.buyers
    x, t_x, T = x[b], t_x[b], T[b]
    t_ours = best_of(lambda: clv.fit_bgnbd(x, t_x, T), args.repeat)
    ours = clv.fit_bgnbd(x, t_x, T)
    print("\nBG/NBD fit on the same summary (goal: faster than lifetimes)")
    print(
        f"  tricrm (L-BFGS-B, analytic gradient)  {t_ours:7.3f} s  r={ours.r:.4f} α={ours.alpha:.4f} a={ours.a:.4f} b={ours.b:.4f} LL={ours.loglik:.2f}"
    )
    try:
        import pandas as pd
        from lifetimes import BetaGeoFitter
    except ImportError:
        print("  lifetimes not installed: pip install lifetimes")
        return
    frame = pd.DataFrame({"frequency": x, "recency": t_x, "T": T})
    holder = {}

    def fit_lifetimes() -> None:
        # Same conditions as ours: one BLAS thread (see clv.single_threaded_blas).
        with clv.single_threaded_blas():
            holder["f"] = BetaGeoFitter(penalizer_coef=0.0).fit(
                frame["frequency"], frame["recency"], frame["T"]
            )

    t_lt = best_of(fit_lifetimes, 1)
    p = holder["f"].params_
    print(
        f"  lifetimes 0.11 BetaGeoFitter           {t_lt:7.3f} s  r={p['r']:.4f} α={p['alpha']:.4f} a={p['a']:.4f} b={p['b']:.4f}"
    )
    print(f"  speed-up                              {t_lt / t_ours:7.1f}×")


if __name__ == "__main__":
    main()
