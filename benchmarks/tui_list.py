"""How fast the TUI customer list answers on a big SQLite file, beside raw sqlite3 doing the same.

    python benchmarks/tui_list.py --db /tmp/d.db            # e.g. after `tricrm demo --customers 100000`
    python benchmarks/tui_list.py --db /tmp/d.db --search 王明 --search 阳明

Start-up runs in a fresh process each time (imports included): from the interpreter's start
to the first rows drawn in a headless 80×24 app. The page and search figures are the service
calls the list screen makes, beside the equivalent hand-written sqlite3 query, so the ratio
shows what the layers cost. Goals from the design: start < 1 s, a page or a search < 100 ms.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FIRST_ROWS = """
import time
t0 = time.perf_counter()
import asyncio, sys
from tricrm_tui.services.context import Actor, open_context
from tricrm_tui.tui.app import TricrmApp

async def main():
    app = TricrmApp(open_context(sys.argv[1], Actor("bench")))
    async with app.run_test(size=(80, 24)):
        while not (hasattr(app.screen, "table") and app.screen.table.row_count):
            await asyncio.sleep(0.001)
        print(time.perf_counter() - t0, time.process_time())

asyncio.run(main())
"""

COLUMNS = "code, name, kind, city, phone, value_tier, total_spent, last_order_on"
ACTIVE = "deleted_at IS NULL AND merged_into_id IS NULL"


def median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm the page cache once, as an operator's second query would find it
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def first_rows_s(db: str, runs: int) -> tuple[float, float]:
    """Median (wall seconds, CPU seconds) from interpreter start to the first rows drawn.

    CPU time is given too because on a shared machine the wall clock mostly measures the
    neighbours.
    """
    wall, cpu = [], []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", FIRST_ROWS, db],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        w, c = done.stdout.strip().splitlines()[-1].split()
        wall.append(float(w))
        cpu.append(float(c))
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a SQLite file made by tricrm")
    parser.add_argument("--search", action="append", default=None, help="queries to time")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    searches = args.search or ["王明轩", "阳明"]

    sys.path.insert(0, str(ROOT))
    from tricrm_tui.services.context import Actor, open_context
    from tricrm_tui.services.customer_rows import list_customer_rows

    ctx = open_context(args.db, Actor("bench"))
    raw = sqlite3.connect(args.db)
    total = list_customer_rows(ctx, limit=1).total
    deep = max(0, total - 50)

    def raw_page(where: str = ACTIVE, params: tuple = (), offset: int = 0, count: bool = True):  # type: ignore[no-untyped-def,type-arg]
        if count:
            raw.execute(f"SELECT count(*) FROM customers WHERE {where}", params).fetchone()
        sql = f"SELECT {COLUMNS} FROM customers WHERE {where} ORDER BY code, id LIMIT 50 OFFSET ?"
        return raw.execute(sql, (*params, offset)).fetchall()

    rows: list[tuple[str, float, float]] = []
    rows.append(
        (
            "first page (count + 50 rows)",
            median_ms(lambda: list_customer_rows(ctx), args.runs),
            median_ms(lambda: raw_page(), args.runs),
        )
    )
    rows.append(
        (
            f"deep page (offset {deep:,}, total known)",
            median_ms(lambda: list_customer_rows(ctx, offset=deep, total=total), args.runs),
            median_ms(lambda: raw_page(offset=deep, count=False), args.runs),
        )
    )
    for q in searches:
        if len(q) >= 3:
            where = (
                f"{ACTIVE} AND id IN (SELECT rowid FROM customer_fts WHERE customer_fts MATCH ?)"
            )
            params: tuple = (f'"{q}"',)  # type: ignore[type-arg]
        else:
            where = f"{ACTIVE} AND search_text LIKE ?"
            params = (f"%{q}%",)
        rows.append(
            (
                f"search {q!r} (count + first page)",
                median_ms(lambda q=q: list_customer_rows(ctx, search=q), args.runs),
                median_ms(lambda w=where, p=params: raw_page(w, p), args.runs),
            )
        )

    wall, cpu = first_rows_s(args.db, max(1, args.runs // 2))
    print(f"{total:,} customers in {args.db}")
    print(f"process start → first rows in the TUI (80×24, headless): {wall:.2f} s, {cpu:.2f} s CPU")
    print(f"{'what':44} {'tricrm ms':>10} {'sqlite3 ms':>11} {'ratio':>6}")
    for what, ours, theirs in rows:
        print(f"{what:44} {ours:10.1f} {theirs:11.1f} {ours / max(theirs, 1e-6):6.1f}")


if __name__ == "__main__":
    main()
