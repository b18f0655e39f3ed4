"""tricrm benchmarks: each figure beside a baseline measured in the same run on the same data.

Run by hand (not part of the test suite)::

    python benchmarks/run.py --backend sqlite --customers 100000
    python benchmarks/run.py --backend postgresql --customers 100000 \\
        --db postgresql+psycopg://postgres@127.0.0.1:5432/tricrm_bench
    python benchmarks/run.py --skip-build --only list_first_page,search_name --save

Every side of every measurement runs in its own fresh Python process, so start-up costs are
real and the peak RSS reported is that measurement's alone (``ru_maxrss`` of the child,
plus its own children for subprocess measurements). ``--save`` writes the table and the
machine facts into ``docs/PERFORMANCE.md`` between markers for the backend.

Adding a measurement: write a function ``def m_<name>(bench, side) -> Figure`` and decorate
it with ``@measurement(name, title, unit, target)``; ``side`` is ``"tricrm"`` or
``"baseline"``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

REPEAT = 7
PAGE = 50


@dataclass
class Figure:
    """One side's result: a number in the measurement's unit, and what it was."""

    value: float | None
    detail: str = ""
    rss_mb: float | None = None


@dataclass
class Measurement:
    name: str
    title: str
    unit: str  # "s" or "ms"
    target: str
    fn: Callable[[Bench, str], Figure]
    limit: float | None = None  # the tricrm figure must stay at or under this (unit)
    ratio_limit: float | None = None  # ... or within this many times the baseline


REGISTRY: dict[str, Measurement] = {}


def measurement(
    name: str,
    title: str,
    unit: str,
    target: str = "",
    *,
    limit: float | None = None,
    ratio_limit: float | None = None,
) -> Callable[[Callable[[Bench, str], Figure]], Callable[[Bench, str], Figure]]:
    def register(fn: Callable[[Bench, str], Figure]) -> Callable[[Bench, str], Figure]:
        REGISTRY[name] = Measurement(name, title, unit, target, fn, limit, ratio_limit)
        return fn

    return register


@dataclass
class Bench:
    backend: str
    db: str
    customers: int
    seed: int
    repeat: int = REPEAT
    facts: dict[str, Any] = field(default_factory=dict)

    # -- connections for the tricrm side and the raw side --------------------------------

    def context(self):  # type: ignore[no-untyped-def]
        from tricrm_tui.services.context import Actor, open_context

        return open_context(self.db, Actor("bench", "admin"))

    def raw(self) -> Any:
        """A plain DB-API connection: sqlite3, or psycopg without SQLAlchemy."""
        if self.backend == "sqlite":
            return sqlite3.connect(self.db)
        import psycopg

        return psycopg.connect(self.db.replace("postgresql+psycopg://", "postgresql://"))

    @property
    def like(self) -> str:
        return "?" if self.backend == "sqlite" else "%s"


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, list[float]]:
    """Median wall time in seconds over ``repeat`` runs, after one warm-up run."""
    fn()
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs), runs


# ------------------------------------------------------------------------- measurements


@measurement("demo_build", "demo build (customers + ~10 orders each)", "s")
def m_demo_build(b: Bench, side: str) -> Figure:
    """tricrm: ``build_demo`` into an empty database. Baseline: copying the same rows table
    by table into an empty copy of the schema (indexes and search objects included) with
    raw ``sqlite3`` executemany, or psycopg ``COPY`` on PostgreSQL: the cost of writing
    that much data without generating it."""
    if side == "tricrm":
        from tricrm_tui.services.demo import build_demo

        if b.backend == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(b.db + suffix).unlink(missing_ok=True)
        ctx = b.context()
        t0, cpu0 = time.perf_counter(), time.process_time()
        counts = build_demo(ctx, customers=b.customers, seed=b.seed, replace=True)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        return Figure(
            elapsed,
            f"{counts.orders:,} orders, {counts.order_lines:,} lines; "
            f"{cpu:.0f} s of CPU in the process (wall time includes waiting on a busy machine)",
        )
    from tricrm_tui.services.demo import DEMO_TABLES

    names = [t.name for t in DEMO_TABLES]
    if b.backend == "sqlite":
        target = b.db + ".baseline"
        Path(target).unlink(missing_ok=True)
        src = sqlite3.connect(b.db)
        dst = sqlite3.connect(target)
        dst.execute("PRAGMA journal_mode=WAL")
        dst.execute("PRAGMA synchronous=NORMAL")
        schema = [
            sql
            for (sql,) in src.execute(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL "
                "AND name NOT LIKE 'customer_fts_%' AND name NOT LIKE 'sqlite_%' "
                "ORDER BY type = 'trigger', rowid"
            )
        ]
        for sql in schema:
            dst.execute(sql)
        t0, cpu0 = time.perf_counter(), time.process_time()
        rows = 0
        with dst:
            for name in names:
                cur = src.execute(f'SELECT * FROM "{name}"')
                width = len(cur.description)
                insert = f'INSERT INTO "{name}" VALUES ({",".join("?" * width)})'
                while chunk := cur.fetchmany(10_000):
                    dst.executemany(insert, chunk)
                    rows += len(chunk)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        dst.close()
        for suffix in ("", "-wal", "-shm"):
            Path(target + suffix).unlink(missing_ok=True)
        return Figure(elapsed, f"{rows:,} rows via executemany; {cpu:.0f} s of CPU")
    src, dst = b.raw(), b.raw()
    dst.execute("DROP SCHEMA IF EXISTS bench_copy CASCADE")
    dst.execute("CREATE SCHEMA bench_copy")
    for name in names:
        dst.execute(f'CREATE TABLE bench_copy."{name}" (LIKE public."{name}" INCLUDING ALL)')
    dst.commit()
    t0 = time.perf_counter()
    with src.cursor() as sc, dst.cursor() as dc:
        for name in names:
            with (
                sc.copy(f'COPY public."{name}" TO STDOUT') as out,
                dc.copy(f'COPY bench_copy."{name}" FROM STDIN') as inp,
            ):
                for data in out:
                    inp.write(data)
    dst.commit()
    elapsed = time.perf_counter() - t0
    dst.execute("DROP SCHEMA bench_copy CASCADE")
    dst.commit()
    return Figure(elapsed, "psycopg COPY of the same rows")


@measurement("help", "`tricrm --help` start-up", "s", "< 0.3 s", limit=0.3)
def m_help(b: Bench, side: str) -> Figure:
    """Median of several cold starts. Baseline: ``python -c pass`` (the interpreter alone)."""
    cmd = (
        [sys.executable, "-m", "tricrm_tui", "--help"]
        if side == "tricrm"
        else [sys.executable, "-c", "pass"]
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100"}

    def once() -> None:
        subprocess.run(cmd, env=env, capture_output=True, check=True)

    median, runs = timed(once, b.repeat)
    return Figure(median, f"median of {len(runs)}")


def _list_page(b: Bench, side: str, offset: int) -> Figure:
    if side == "tricrm":
        from tricrm_tui.services.customers import list_customers

        ctx = b.context()
        median, _ = timed(lambda: list_customers(ctx, limit=PAGE, offset=offset), b.repeat)
        return Figure(median, f"offset {offset:,}")
    conn = b.raw()
    active = "deleted_at IS NULL AND merged_into_id IS NULL"

    def query() -> None:
        cur = conn.cursor()
        cur.execute(f"SELECT count(*) FROM customers WHERE {active}")
        cur.fetchone()
        cur.execute(
            f"SELECT * FROM customers WHERE {active} ORDER BY code, id LIMIT {PAGE} OFFSET {offset}"
        )
        cur.fetchall()

    median, _ = timed(query, b.repeat)
    return Figure(median, "count + ORDER BY code LIMIT/OFFSET")


@measurement(
    "list_first_page",
    "customer list: first page (50 rows + total)",
    "ms",
    "< 100 ms",
    limit=100,
)
def m_list_first(b: Bench, side: str) -> Figure:
    """``services.customers.list_customers`` vs the same two queries in raw SQL."""
    return _list_page(b, side, 0)


@measurement(
    "list_deep_page", "customer list: deep page (offset N−50)", "ms", "< 100 ms", limit=100
)
def m_list_deep(b: Bench, side: str) -> Figure:
    return _list_page(b, side, max(0, b.customers - PAGE))


def _sample_customer(b: Bench) -> tuple[str, str]:
    """A three-character Chinese name and a phone number that exist in the data."""
    conn = b.raw()
    cur = conn.cursor()
    cur.execute(
        "SELECT name, phone FROM customers WHERE phone IS NOT NULL AND kind = 'individual' "
        "AND length(name) = 3 ORDER BY id LIMIT 1 OFFSET " + str(b.customers // 2)
    )
    name, phone = cur.fetchone()
    return name, phone


def _typing(b: Bench, side: str, text: str) -> Figure:
    """Per keystroke: the list query for each prefix of ``text`` (what a search box runs)."""
    prefixes = [text[:i] for i in range(1, len(text) + 1)]
    if side == "tricrm":
        from tricrm_tui.services.customers import list_customers

        ctx = b.context()

        def search(q: str) -> Callable[[], Any]:
            return lambda: list_customers(ctx, search=q, limit=PAGE)

    else:
        from tricrm_tui.db.search import FTS_TABLE, normalise_query

        conn = b.raw()
        p = b.like

        def search(q: str) -> Callable[[], Any]:
            q = normalise_query(q)
            like = "%" + q + "%"
            if b.backend == "sqlite" and len(q) >= 3:
                cond = f"id IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH {p})"
                arg: str = '"' + q + '"'
            else:
                cond, arg = f"search_text LIKE {p}", like

            def run() -> None:
                cur = conn.cursor()
                cur.execute(f"SELECT count(*) FROM customers WHERE {cond}", (arg,))
                cur.fetchone()
                cur.execute(
                    f"SELECT * FROM customers WHERE {cond} ORDER BY code LIMIT {PAGE}", (arg,)
                )
                cur.fetchall()

            return run

    per_key = [timed(search(q), max(3, b.repeat // 2))[0] for q in prefixes]
    detail = " ".join(f"{q}:{t * 1000:.0f}" for q, t in zip(prefixes, per_key, strict=True))
    return Figure(max(per_key), f"worst keystroke; per key ms: {detail}")


@measurement(
    "search_name",
    "search as you type: Chinese name (worst keystroke)",
    "ms",
    "< 100 ms",
    limit=100,
)
def m_search_name(b: Bench, side: str) -> Figure:
    return _typing(b, side, _sample_customer(b)[0])


@measurement(
    "search_phone",
    "search as you type: phone digits (worst keystroke)",
    "ms",
    "< 100 ms",
    limit=100,
)
def m_search_phone(b: Bench, side: str) -> Figure:
    return _typing(b, side, _sample_customer(b)[1].removeprefix("+86"))


TUI_PROBE = """
import asyncio, sys, time
sys.path.insert(0, {root!r})
from tricrm_tui.services.context import Actor, open_context
from tricrm_tui.tui.app import TricrmApp
from textual.widgets import DataTable

async def main():
    app = TricrmApp(open_context({db!r}, Actor("bench", "admin")))
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.time() + 60
        while time.time() < deadline:
            tables = [t for t in app.screen.query(DataTable) if t.row_count > 0]
            if tables:
                print("FIRST_ROWS", time.time(), flush=True)
                break
            await pilot.pause(0.01)
        await app.action_quit()

asyncio.run(main())
"""

RAW_PROBE = """
import sqlite3, time
conn = sqlite3.connect({db!r})
rows = conn.execute("SELECT * FROM customers WHERE deleted_at IS NULL AND merged_into_id IS NULL ORDER BY code LIMIT 50").fetchall()
assert rows
print("FIRST_ROWS", time.time(), flush=True)
"""


@measurement("tui_first_rows", "TUI cold start to first rows", "s", "< 1 s", limit=1.0)
def m_tui_first_rows(b: Bench, side: str) -> Figure:
    """From spawning a fresh Python to the customer list showing rows (Textual headless,
    ``run_test``). Baseline: a fresh Python that opens the database with ``sqlite3`` and
    fetches the first page. ``n/a`` when this tree has no TUI yet."""
    if side == "tricrm":
        try:
            import tricrm_tui.tui.app  # noqa: F401
        except ImportError:
            return Figure(None, "n/a: no TUI in this tree")
        code = TUI_PROBE.format(root=str(ROOT), db=b.db)
    else:
        if b.backend != "sqlite":
            return Figure(None, "n/a: raw probe is sqlite3 only")
        code = RAW_PROBE.format(db=b.db)
    runs = []
    for _ in range(3):
        t0 = time.time()
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        match = re.search(r"FIRST_ROWS ([\d.]+)", out.stdout)
        if not match:
            return Figure(None, "failed: " + (out.stderr.strip().splitlines() or ["?"])[-1])
        runs.append(float(match.group(1)) - t0)
    return Figure(statistics.median(runs), "median of 3 cold starts")


@measurement(
    "order_aggregates",
    "order aggregate refresh (all customers)",
    "s",
    "within 1.5× of the GROUP BY",
    ratio_limit=1.5,
)
def m_order_aggregates(b: Bench, side: str) -> Figure:
    """``services.orders.refresh_customer_aggregates`` over every customer (one UPDATE … FROM
    every customer outer-joined with the orders' GROUP BY, writing those whose figures
    differ), rolled back. Baseline: the raw GROUP BY alone, fetched (without the distinct
    purchase-day count the refresh also keeps)."""
    if side == "tricrm":
        from tricrm_tui.services.orders import refresh_customer_aggregates

        ctx = b.context()

        def refresh() -> None:
            with ctx.session() as s:
                refresh_customer_aggregates(s)
                s.rollback()

        median, _ = timed(refresh, max(3, b.repeat // 2))
        return Figure(
            median,
            "UPDATE … FROM the GROUP BY (distinct purchase days included), changed customers only",
        )
    conn = b.raw()

    def group() -> None:
        cur = conn.cursor()
        cur.execute(
            "SELECT customer_id, count(id), coalesce(sum(amount), 0), min(order_date), "
            "max(order_date) FROM orders WHERE status != 'cancelled' GROUP BY customer_id"
        )
        cur.fetchall()

    median, _ = timed(group, max(3, b.repeat // 2))
    return Figure(median, "one GROUP BY, fetched")


def _as_of(b: Bench) -> dt.date:
    """The date the value measurements are taken as of: today, as the demo data's dates are."""
    return dt.datetime.now(dt.UTC).date()


def _date_arg(b: Bench, day: dt.date) -> Any:
    """SQLite keeps dates as ISO text; psycopg binds a ``date``."""
    return day.isoformat() if b.backend == "sqlite" else day


def _raw_group_by(b: Bench) -> Callable[[], Any]:
    """One raw ``GROUP BY customer_id`` over the orders the RFM counts: count, sum, last date."""
    conn = b.raw()
    sql = (
        "SELECT customer_id, count(id), sum(amount), max(order_date) FROM orders "
        f"WHERE status != 'cancelled' AND order_date <= {b.like} GROUP BY customer_id"
    )
    arg = _date_arg(b, _as_of(b))

    def group() -> list[Any]:
        cur = conn.cursor()
        cur.execute(sql, (arg,))
        return cur.fetchall()

    return group


def _rfm_part(b: Bench, sources: list[bool] | None = None) -> Callable[[], Any]:
    """tricrm's RFM: ``rfm.order_summary`` and ``rfm.score`` (numpy quintiles and the segment
    grid), as ``value.compute_valuation`` runs them, without the spend model's extra query.
    As of today the summary reads the customers' maintained order aggregates (one row per
    active customer, after two index probes saying no order is dated later and no import is
    running) rather than grouping the orders; ``sources`` records which it did."""
    from tricrm_tui.services import rfm
    from tricrm_tui.services.value_config import load_settings

    ctx, as_of, settings = b.context(), _as_of(b), load_settings()

    def run() -> Any:
        with ctx.session() as s:
            summary = rfm.order_summary(s, ctx.db.backend, as_of, repeat_spend=False)
        if sources is not None:
            sources.append(summary.from_aggregates)
        return rfm.score(summary, settings.rfm)

    return run


def _pandas_rfm(b: Bench) -> Callable[[], Any]:
    """pandas: ``read_sql`` of the same orders, ``groupby`` and ``qcut`` quintile scores."""
    import warnings

    import pandas as pd

    warnings.filterwarnings("ignore", message=".*pandas only supports SQLAlchemy.*")
    conn, as_of = b.raw(), _as_of(b)
    sql = (
        "SELECT customer_id, order_date, amount FROM orders "
        f"WHERE status != 'cancelled' AND order_date <= {b.like}"
    )

    def run() -> Any:
        orders = pd.read_sql(sql, conn, params=(_date_arg(b, as_of),))
        orders["order_date"] = pd.to_datetime(orders["order_date"])
        orders["amount"] = orders["amount"].astype(float)
        g = orders.groupby("customer_id").agg(
            last=("order_date", "max"), f=("order_date", "count"), m=("amount", "sum")
        )
        recency = (pd.Timestamp(as_of) - g["last"]).dt.days
        labels = [1, 2, 3, 4, 5]
        g["r"] = pd.qcut(recency.rank(method="first", ascending=False), 5, labels=labels)
        g["f_score"] = pd.qcut(g["f"].rank(method="first"), 5, labels=labels)
        g["m_score"] = pd.qcut(g["m"].rank(method="first"), 5, labels=labels)
        return g

    return run


def _rfm_side(b: Bench, side: str, baseline: Callable[[Bench], Callable[[], Any]], what: str):
    sources: list[bool] = []
    fn = _rfm_part(b, sources) if side == "tricrm" else baseline(b)
    median, _ = timed(fn, max(3, b.repeat // 2))
    if side != "tricrm":
        return Figure(median, what)
    read = (
        "the customers' maintained order aggregates"
        if all(sources)
        else "one GROUP BY over the orders"
    )
    return Figure(median, f"order_summary + score; summary read from {read}")


@measurement(
    "rfm_vs_groupby",
    "RFM refresh vs one raw GROUP BY",
    "s",
    "within 1.5× of the GROUP BY",
    ratio_limit=1.5,
)
def m_rfm_vs_groupby(b: Bench, side: str) -> Figure:
    """RFM (one grouped query + numpy scores) against the raw GROUP BY (count, sum, max date)
    over the same orders, fetched through sqlite3/psycopg."""
    return _rfm_side(b, side, _raw_group_by, "one GROUP BY customer_id, fetched")


@measurement("rfm_vs_pandas", "RFM refresh vs pandas", "s")
def m_rfm_vs_pandas(b: Bench, side: str) -> Figure:
    """The same RFM against pandas: ``read_sql`` of the orders, groupby, qcut scores."""
    return _rfm_side(b, side, _pandas_rfm, "read_sql + groupby + qcut")


@measurement(
    "value_refresh",
    "value refresh (RFM, tiers, lifecycle, fits, predictions, snapshots)",
    "s",
    "a few seconds (≤ 5 s)",
    limit=5.0,
)
def m_value_refresh(b: Bench, side: str) -> Figure:
    """``services.value.value_refresh`` as of today (it replaces that date's snapshots, so
    repeating is safe). Baseline: the raw GROUP BY, for scale only."""
    if side == "tricrm":
        from tricrm_tui.services.value import value_refresh

        ctx, as_of = b.context(), _as_of(b)
        parts: dict[str, float] = {}

        def run() -> None:
            parts.update(value_refresh(ctx, as_of).timings)

        median, _ = timed(run, 2)
        detail = ", ".join(f"{k} {v:.2f} s" for k, v in parts.items())
        return Figure(median, f"median of 2; last run's parts: {detail}")
    median, _ = timed(_raw_group_by(b), max(3, b.repeat // 2))
    return Figure(median, "one GROUP BY customer_id, fetched (for scale)")


@measurement("clv_fit", "BG/NBD fit vs `lifetimes` BetaGeoFitter", "ms", "faster", ratio_limit=1.0)
def m_clv_fit(b: Bench, side: str) -> Figure:
    """``services.clv.fit_bgnbd`` on the buyers' x / t_x / T the value service builds, against
    ``lifetimes.BetaGeoFitter`` on the same arrays (one BLAS thread for both)."""
    from tricrm_tui.services import clv, rfm
    from tricrm_tui.services.value import _model_inputs
    from tricrm_tui.services.value_config import load_settings

    ctx = b.context()
    with ctx.session() as s:
        summary = rfm.order_summary(s, ctx.db.backend, _as_of(b))
    x, t_x, T, _m = _model_inputs(summary, load_settings().unit_days)
    buyers = summary.buyers
    x, t_x, T = x[buyers], t_x[buyers], T[buyers]
    if side == "tricrm":
        median, _ = timed(lambda: clv.fit_bgnbd(x, t_x, T), 3)
        p = clv.fit_bgnbd(x, t_x, T)
        return Figure(
            median, f"{x.size:,} buyers; r={p.r:.3f} α={p.alpha:.2f} a={p.a:.3f} b={p.b:.3f}"
        )
    from lifetimes import BetaGeoFitter  # the reference implementation (the `bench` extra)

    out: dict[str, Any] = {}

    def fit() -> None:
        with clv.single_threaded_blas():
            out["f"] = BetaGeoFitter(penalizer_coef=0.0).fit(x, t_x, T)

    median, _ = timed(fit, 1)
    p = out["f"].params_
    return Figure(
        median,
        f"lifetimes BetaGeoFitter; r={p['r']:.3f} α={p['alpha']:.2f} a={p['a']:.3f} b={p['b']:.3f}",
    )


def _pg_copy_baseline(b: Bench, cpath: Path, opath: Path) -> float:
    """psycopg ``COPY … FROM STDIN`` of both files into bare tables with the same columns."""
    conn = b.raw()
    conn.execute("DROP SCHEMA IF EXISTS bench_import CASCADE")
    conn.execute("CREATE SCHEMA bench_import")
    cols = {
        "customers": "code text UNIQUE NOT NULL, name text, kind text, province text, "
        "city text, phone text, email text, registered_on text",
        "orders": "order_no text UNIQUE NOT NULL, customer_code text, order_date text, "
        "amount text, quantity integer, product text, category text, channel text",
    }
    for name, spec in cols.items():
        conn.execute(f"CREATE TABLE bench_import.{name} (id bigserial PRIMARY KEY, {spec})")
    conn.commit()
    t0 = time.perf_counter()
    for name, path in (("customers", cpath), ("orders", opath)):
        names = cols[name].replace(" UNIQUE NOT NULL", "").split(", ")
        columns = ", ".join(c.split()[0] for c in names)
        with (
            conn.cursor() as cur,
            cur.copy(f"COPY bench_import.{name} ({columns}) FROM STDIN (FORMAT csv, HEADER)") as cp,
            path.open("rb") as fh,
        ):
            while data := fh.read(1 << 20):
                cp.write(data)
        conn.commit()
    elapsed = time.perf_counter() - t0
    conn.execute("DROP SCHEMA bench_import CASCADE")
    conn.commit()
    return elapsed


def _pg_import_tricrm(b: Bench, cpath: Path, opath: Path) -> dict[str, Any]:
    """``import_file`` into an empty, freshly migrated schema of its own in the same
    PostgreSQL database (first on the ``search_path``; pg_trgm stays in ``public``), so the
    benchmark data stays untouched."""
    from tricrm_tui.services import importing
    from tricrm_tui.services.context import Actor, open_context

    conn = b.raw()
    conn.autocommit = True
    conn.execute("DROP SCHEMA IF EXISTS bench_import_tricrm CASCADE")
    conn.execute("CREATE SCHEMA bench_import_tricrm")
    # An empty version table in the schema that comes first makes the migrations run there
    # (without it Alembic finds the benchmark's own, up to date, and writes go to public).
    conn.execute(
        "CREATE TABLE bench_import_tricrm.alembic_version "
        "(version_num varchar(32) NOT NULL PRIMARY KEY)"
    )
    sep = "&" if "?" in b.db else "?"
    url = b.db + sep + "options=-csearch_path%3Dbench_import_tricrm,public"
    ctx = open_context(url, Actor("bench"))
    from benchmarks.bench_import import time_hooks

    hooks = list(importing.after_import_hooks)
    hook_times = time_hooks(importing)
    times, counts = {}, {}
    try:
        for kind, path in (("customers", cpath), ("orders", opath)):
            start = time.perf_counter()
            result = importing.import_file(ctx, kind, path, batch_size=5000)
            times[kind] = time.perf_counter() - start
            counts[kind] = (result.inserted, result.rejected_count)
    finally:
        importing.after_import_hooks[:] = hooks
    ctx.db.dispose()
    conn.execute("DROP SCHEMA bench_import_tricrm CASCADE")
    return {"times": times, "counts": counts, "hooks": hook_times}


@measurement(
    "import",
    "import of customers + orders CSV (N customers, 10N orders)",
    "s",
    "within 2× of its baseline",
    ratio_limit=2.0,
)
def m_import(b: Bench, side: str) -> Figure:
    """``services.importing.import_file`` of a customers and an orders CSV (the messy files
    ``bench_import.generate`` writes) into an empty migrated SQLite database, against the same
    files through ``csv`` + ``sqlite3.executemany`` into bare tables (``bench_import``'s
    baseline), or psycopg ``COPY`` on PostgreSQL (there tricrm imports into an empty schema
    of the benchmark database)."""
    from benchmarks import bench_import

    cpath, opath = bench_import.generate(b.customers, 10 * b.customers)
    work = Path(b.db + ".import") if b.backend == "sqlite" else Path("/tmp/tricrm-bench-import")
    if side == "tricrm":
        if b.backend == "sqlite":
            out = bench_import.run_tricrm(cpath, opath, Path(str(work) + ".tricrm.db"))
        else:
            out = _pg_import_tricrm(b, cpath, opath)
        times, counts, hooks = out["times"], out["counts"], out.get("hooks", {})
        follow = {k: sum(v for h, v in hooks.items() if h.startswith(f"{k}:")) for k in times}
        return Figure(
            sum(times.values()),
            ", ".join(
                f"{k} {v:.1f} s (rows {v - follow[k]:.1f} s + follow-ups {follow[k]:.1f} s; "
                f"{counts[k][0]:,} inserted, {counts[k][1]:,} rejected)"
                for k, v in times.items()
            )
            + "; follow-ups: "
            + ", ".join(f"{h} {v:.1f} s" for h, v in hooks.items() if v >= 0.05),
        )
    if b.backend == "sqlite":
        times = bench_import.run_baseline(cpath, opath, Path(str(work) + ".baseline.db"))
        schema = bench_import.run_schema_baseline(cpath, opath, Path(str(work) + ".schema.db"))
        return Figure(
            sum(times.values()),
            "csv + sqlite3 executemany into bare tables: "
            + ", ".join(f"{k} {v:.1f} s" for k, v in times.items())
            + "; the same raw rows into tricrm's schema (its indexes, FTS5), no cleaning: "
            + ", ".join(f"{k} {v:.1f} s" for k, v in schema.items()),
        )
    return Figure(_pg_copy_baseline(b, cpath, opath), "psycopg COPY into bare tables")


EXPORT_SQL = (
    "SELECT o.order_no, c.code, o.order_date, o.amount, o.currency, o.quantity, p.name, "
    "k.name, o.channel, o.status FROM orders o JOIN customers c ON c.id = o.customer_id "
    "LEFT JOIN products p ON p.id = o.product_id "
    "LEFT JOIN product_categories k ON k.id = o.category_id ORDER BY o.id"
)


@measurement(
    "export_orders",
    "export of every order to CSV",
    "s",
    "within 2× of its baseline",
    ratio_limit=2.0,
)
def m_export_orders(b: Bench, side: str) -> Figure:
    """``services.exporting.export_file`` of all orders to a UTF-8-with-BOM CSV (pages of
    2,000 by id, exact amounts, formula-safe cells). Baseline: the same join as one query
    through the bare driver, every row handed to ``csv.writer`` as it came."""
    import csv
    import tempfile

    out = Path(tempfile.gettempdir()) / f"tricrm-bench-export-{side}.csv"
    if side == "tricrm":
        from tricrm_tui.services import exporting

        ctx = b.context()
        median, _ = timed(lambda: exporting.export_file(ctx, "orders", out), 2)
        rows = exporting.export_file(ctx, "orders", out).rows
        return Figure(median, f"{rows:,} rows, {out.stat().st_size / 1e6:.0f} MB")
    conn = b.raw()

    def export() -> None:
        with out.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            cur = conn.cursor()
            cur.execute(EXPORT_SQL)
            while rows := cur.fetchmany(2000):
                writer.writerows(rows)

    median, _ = timed(export, 2)
    return Figure(median, f"one query, fetchmany + csv.writer, {out.stat().st_size / 1e6:.0f} MB")


@measurement(
    "dashboard_kpis",
    "dashboard KPIs + 12-month trend (services.kpis, services.trends) vs pandas",
    "ms",
)
def m_dashboard_kpis(b: Bench, side: str) -> Figure:
    """What the Dashboard screen loads: ``kpis.kpi_report`` (customers, buyers this month /
    30 / 90 days, new customers, orders, revenue and average order value against the same
    days of last month, repeat rate now and a month ago, at risk from the stored snapshot,
    open follow-ups and complaints, members per level) and ``trends.monthly_trend`` (12
    months). Baseline: pandas ``read_sql`` of the customers, the orders, the at-risk
    snapshot rows, the open follow-ups and complaints, computing the same figures (the
    repeat rate from the orders themselves, so the detail cross-checks the service's use of
    the maintained order counts)."""
    today = _as_of(b)
    if side == "tricrm":
        from tricrm_tui.services.kpis import kpi_report
        from tricrm_tui.services.trends import monthly_trend

        ctx = b.context()
        out: dict[str, Any] = {}

        def kpis() -> None:
            report = kpi_report(ctx, today)
            trend = monthly_trend(ctx, 12, today)
            v = {k.key: k.value for k in report.kpis}
            p = {k.key: k.previous for k in report.kpis}
            out.update(_dashboard_detail(v, p, sum(r.revenue for r in trend)))

        median, _ = timed(kpis, max(3, b.repeat // 2))
        return Figure(median, "; ".join(f"{k} {v}" for k, v in out.items()))
    import warnings

    import pandas as pd

    warnings.filterwarnings("ignore", message=".*pandas only supports SQLAlchemy.*")
    conn = b.raw()
    res: dict[str, Any] = {}
    day = dt.timedelta(days=1)
    month = today.replace(day=1)
    from tricrm_tui.services.loyalty_rules import add_months

    before = add_months(today, -1)
    windows = {
        "month": (month, today),
        "previous_month": (add_months(month, -1), before),
        "days30": (today - 29 * day, today),
        "previous_days30": (today - 59 * day, today - 30 * day),
        "days90": (today - 89 * day, today),
        "previous_days90": (today - 179 * day, today - 90 * day),
    }

    def frames() -> None:
        ts = pd.Timestamp
        cust = pd.read_sql(
            "SELECT id, registered_on, first_order_on, created_at, member_level FROM customers "
            "WHERE deleted_at IS NULL AND merged_into_id IS NULL",
            conn,
        )
        orders = pd.read_sql(
            "SELECT customer_id, order_date, amount FROM orders WHERE status <> 'cancelled'", conn
        )
        risk = pd.read_sql(
            "SELECT customer_id, as_of, clv, monetary FROM value_snapshots "
            "WHERE lifecycle = 'at_risk'",
            conn,
        )
        levels = pd.read_sql("SELECT name FROM member_levels ORDER BY rank", conn)
        tasks = pd.read_sql(
            "SELECT due_at FROM followups WHERE status IN ('open', 'snoozed')", conn
        )
        complaints = pd.read_sql(
            "SELECT sla_due_at FROM feedback WHERE kind = 'complaint' "
            "AND status IN ('open', 'in_progress')",
            conn,
        )
        orders = orders[orders["customer_id"].isin(cust["id"])]
        orders["day"] = pd.to_datetime(orders["order_date"])
        orders["amount"] = orders["amount"].astype(float)
        orders = orders[orders["day"] <= ts(today)]
        first = pd.to_datetime(cust["first_order_on"])
        joined = (
            pd.to_datetime(cust["registered_on"])
            .fillna(first)
            .fillna(
                pd.to_datetime(cust["created_at"], format="mixed", utc=True)
                .dt.tz_localize(None)
                .dt.normalize()
            )
        )
        v: dict[str, Any] = {"customers": int((joined <= ts(today)).sum())}
        p: dict[str, Any] = {"customers": int((joined <= ts(before)).sum())}
        figures = {}
        for name, (start, end) in windows.items():
            part = orders[(orders["day"] >= ts(start)) & (orders["day"] <= ts(end))]
            figures[name] = (
                len(part),
                round(part["amount"].sum(), 2),
                part["customer_id"].nunique(),
            )
        for key, (now, then), i in (
            ("orders_month", ("month", "previous_month"), 0),
            ("revenue_month", ("month", "previous_month"), 1),
            ("active_customers", ("month", "previous_month"), 2),
            ("buyers_30d", ("days30", "previous_days30"), 2),
            ("buyers_90d", ("days90", "previous_days90"), 2),
        ):
            v[key], p[key] = figures[now][i], figures[then][i]
        v["new_customers"] = int(((first >= ts(month)) & (first <= ts(today))).sum())
        counts = orders.groupby("customer_id").size()
        then = orders[orders["day"] <= ts(before)].groupby("customer_id").size()
        v["repeat_rate"] = round(100 * (counts >= 2).sum() / max(len(counts), 1), 1)
        p["repeat_rate"] = round(100 * (then >= 2).sum() / max(len(then), 1), 1)
        risk = risk[risk["customer_id"].isin(cust["id"])]
        dates = pd.to_datetime(risk["as_of"])
        latest = dates[dates <= ts(today)].max()
        at_risk = risk[dates == latest]
        v["at_risk"] = len(at_risk)
        v["at_risk_value"] = round(
            at_risk["clv"].fillna(at_risk["monetary"]).astype(float).sum(), 2
        )
        v["followups_overdue"] = len(tasks)  # counted, not split by day: same work
        v["complaints_open"] = len(complaints)
        names = list(levels["name"])
        per_level = cust["member_level"].where(
            cust["member_level"].isin(names), names[0] if names else None
        )
        v["levels"] = per_level.value_counts().to_dict()
        month_key = orders["day"].dt.to_period("M")
        last12 = orders[month_key >= pd.Period(add_months(month, -11), "M")]
        by_month = last12.groupby(last12["day"].dt.to_period("M")).agg(
            revenue=("amount", "sum"), n=("amount", "size"), buyers=("customer_id", "nunique")
        )
        new_by_month = first[first >= ts(add_months(month, -11))].dt.to_period("M").value_counts()
        res.update(_dashboard_detail(v, p, round(by_month["revenue"].sum(), 2)))
        res["months"] = f"{len(by_month)} (+{int(new_by_month.sum())} new)"

    median, _ = timed(frames, max(3, b.repeat // 2))
    return Figure(median, "read_sql + pandas; " + "; ".join(f"{k} {v}" for k, v in res.items()))


def _dashboard_detail(v: dict[str, Any], p: dict[str, Any], trend_revenue: Any) -> dict[str, Any]:
    """The figures both sides print, so the table shows that they agree."""
    return {
        "customers": f"{v['customers']:,}/{p['customers']:,}",
        "active": f"{v['active_customers']:,}/{p['active_customers']:,}",
        "new": f"{v['new_customers']:,}",
        "orders": f"{v['orders_month']:,}/{p['orders_month']:,}",
        "revenue": f"{float(v['revenue_month']):,.2f}/{float(p['revenue_month']):,.2f}",
        "buyers 30d/90d": f"{v['buyers_30d']:,}/{v['buyers_90d']:,}",
        "repeat": f"{v['repeat_rate']}/{p['repeat_rate']}",
        "at risk": f"{v['at_risk']} ({v['at_risk_value']})",
        "12-month revenue": f"{float(trend_revenue):,.2f}",
    }


# ---------------------------------------------------------------------------- the runner


def run_child(args: argparse.Namespace) -> None:
    """Inside a fresh process: one side of one measurement; prints JSON."""
    bench = Bench(args.backend, args.db, args.customers, args.seed, args.repeat)
    m = REGISTRY[args.child]
    try:
        fig = m.fn(bench, args.side)
    except Exception as exc:  # report, do not crash the table
        fig = Figure(None, f"failed: {type(exc).__name__}: {exc}"[:200])
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    fig.rss_mb = max(own, kids) / 1024
    print("RESULT " + json.dumps(fig.__dict__), flush=True)


def spawn(args: argparse.Namespace, name: str, side: str) -> Figure:
    cmd = [
        sys.executable, str(Path(__file__).resolve()), "--child", name, "--side", side,
        "--backend", args.backend, "--db", args.db, "--customers", str(args.customers),
        "--seed", str(args.seed), "--repeat", str(args.repeat),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return Figure(**json.loads(line[7:]))
    return Figure(None, "failed: " + (out.stderr.strip().splitlines() or ["?"])[-1][:200])


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "ms":
        return f"{value * 1000:.1f} ms"
    return f"{value:.2f} s"


def _verdict(m: Measurement, t: Figure, base: Figure) -> str:
    if t.value is None:
        return "–"
    ok = True
    if m.limit is not None:
        ok = t.value * (1000 if m.unit == "ms" else 1) <= m.limit
    if m.ratio_limit is not None and base.value:
        ok = ok and t.value / base.value <= m.ratio_limit
    if m.limit is None and m.ratio_limit is None:
        return "–"
    return "met" if ok else "MISSED"


def machine_facts(args: argparse.Namespace) -> dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "?"
    facts = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "backend": args.backend,
        "customers": f"{args.customers:,}",
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "os": platform.platform(),
        # Other work on the machine inflates wall times; say how busy it was.
        "load average (1/5/15 min)": " / ".join(f"{x:.1f}" for x in os.getloadavg()),
    }
    bench = Bench(args.backend, args.db, args.customers, args.seed)
    try:
        conn = bench.raw()
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM orders")
        facts["orders"] = f"{cur.fetchone()[0]:,}"
        if args.backend == "postgresql":
            cur.execute("SHOW server_version")
            facts["postgresql"] = cur.fetchone()[0]
    except Exception as exc:  # noqa: BLE001
        facts["orders"] = f"? ({type(exc).__name__})"
    return facts


def render(rows: list[tuple[Measurement, Figure, Figure]], facts: dict[str, str]) -> str:
    head = (
        "| measurement | tricrm | baseline | ratio | target | verdict | "
        "peak RSS tricrm | peak RSS baseline |\n|---|---:|---:|---:|---|---|---:|---:|"
    )
    lines = [head]
    for m, t, base in rows:
        ratio = f"{t.value / base.value:.2f}×" if t.value and base.value else "–"
        rss = [f"{f.rss_mb:.0f} MB" if f.rss_mb else "–" for f in (t, base)]
        lines.append(
            f"| {m.title} | {_fmt(t.value, m.unit)} | {_fmt(base.value, m.unit)} | {ratio} | "
            f"{m.target or '–'} | {_verdict(m, t, base)} | {rss[0]} | {rss[1]} |"
        )
    notes = [
        f"- **{m.name}**: tricrm: {t.detail}; baseline: {base.detail}"
        for m, t, base in rows
        if t.detail or base.detail
    ]
    fact_line = ", ".join(f"{k}: {v}" for k, v in facts.items())
    return "\n".join([fact_line, "", *lines, "", *notes])


def _merge(old: str, new: str) -> str:
    """A partial run (``--only``/``--skip-build``) updates its own rows and keeps the rest;
    its facts line is added under the full run's, so each figure keeps its context."""
    old_lines, new_lines = old.splitlines(), new.splitlines()

    def key(line: str) -> str | None:
        if line.startswith("| ") and not line.startswith("| measurement"):
            return "row:" + line.split(" | ")[0]
        if line.startswith("- **"):
            return "note:" + line.split("**")[1]
        return None

    fresh = {k: line for line in new_lines if (k := key(line))}
    merged = [fresh.pop(k, line) if (k := key(line)) else line for line in old_lines]
    for k, line in fresh.items():  # rows the full run did not have
        at = max(
            (i for i, x in enumerate(merged) if (key(x) or "").startswith(k[:4])),
            default=len(merged) - 1,
        )
        merged.insert(at + 1, line)
    facts = [x for x in old_lines if x.startswith("date:") or x.startswith("re-measured")]
    names = ", ".join(k[5:] for k in (key(x) for x in new_lines) if k and k.startswith("note:"))
    extra = f"re-measured ({names}): " + new_lines[0]
    return "\n".join([*facts, extra, *merged[len(facts) :]])


def save(text: str, backend: str, partial: bool = False) -> None:
    path = ROOT / "docs" / "PERFORMANCE.md"
    start, end = f"<!-- results:{backend} -->", f"<!-- /results:{backend} -->"
    doc = path.read_text(encoding="utf-8") if path.exists() else ""
    if start in doc and end in doc:
        old = doc[doc.index(start) + len(start) : doc.index(end)].strip("\n")
        if partial and old:
            text = _merge(old, text)
        doc = doc[: doc.index(start)] + f"{start}\n{text}\n{end}" + doc[doc.index(end) + len(end) :]
    else:
        doc = doc.rstrip() + f"\n\n## Results: {backend}\n\n{start}\n{text}\n{end}\n"
    path.write_text(doc, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--db", help="SQLite path or PostgreSQL URL (default: a file in /tmp)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--repeat", type=int, default=REPEAT, help="runs per timing (median)")
    ap.add_argument("--skip-build", action="store_true", help="reuse the database in --db")
    ap.add_argument("--only", help="comma-separated measurement names")
    ap.add_argument("--save", action="store_true", help="write the table to docs/PERFORMANCE.md")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--side", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.db is None:
        if args.backend == "postgresql":
            ap.error("--db postgresql+psycopg://… is required for --backend postgresql")
        args.db = f"/tmp/tricrm-bench-{args.customers}.db"
    if args.child:
        run_child(args)
        return
    names = args.only.split(",") if args.only else list(REGISTRY)
    if args.skip_build and "demo_build" in names:
        names.remove("demo_build")
    elif "demo_build" in names:  # the build makes the data the rest measure: first
        names.remove("demo_build")
        names.insert(0, "demo_build")
    rows = []
    for name in names:
        m = REGISTRY[name]
        figures = []
        for side in ("tricrm", "baseline"):
            sys.stderr.write(f"{name} [{side}] …\n")
            figures.append(spawn(args, name, side))
        rows.append((m, figures[0], figures[1]))
    text = render(rows, machine_facts(args))
    print(text)
    if args.save:
        save(text, args.backend, partial=bool(args.only or args.skip_build))


if __name__ == "__main__":
    main()
