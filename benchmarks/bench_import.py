"""Import speed and memory against a bare baseline.

Generates a customer file and an order file (GBK-free UTF-8 CSV with the messy values real
exports carry: spaced phones, ``￥1,234.50`` amounts, ``2023/5/1`` dates), then in separate
child processes (so each peak RSS is its own):

* baseline: ``csv`` reader + ``sqlite3`` ``executemany`` into equivalent bare tables;
* tricrm: ``tricrm_tui.services.importing.import_file`` on a fresh SQLite database
  (cleaning, mapping, upsert lookups, audit, aggregates).

Usage: ``python benchmarks/bench_import.py [--customers 100000] [--orders 1000000]``.
The target is tricrm within 2× of the baseline, peak RSS under 300 MB.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORK = Path(tempfile.gettempdir()) / "tricrm_bench_import"
CITIES = [("广东", "深圳"), ("浙江", "杭州"), ("北京", "北京"), ("四川", "成都"), ("湖北", "武汉")]
PRODUCTS = [
    ("手机", "数码"),
    ("耳机", "数码"),
    ("茶叶", "食品"),
    ("外套", "服装"),
    ("台灯", "家居"),
]


def _steal() -> float:
    """Seconds of CPU the machine's host took from it since boot (``/proc/stat``'s steal),
    0 where that is not known. A virtual machine's speed wanders with it."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _mark() -> tuple[float, float, float]:
    """(wall clock, this process's CPU time, the machine's stolen time), in seconds."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), ru.ru_utime + ru.ru_stime, _steal()


def _record(out: dict, name: str, mark: tuple[float, float, float]) -> None:
    """Store the wall time, CPU time and stolen time of step ``name`` since ``mark``.

    The process's CPU time leaves out what the host stole, so it compares across runs on a
    machine whose speed wanders better than the wall clock does (SQLite works in the
    process; on PostgreSQL it would leave out the server)."""
    now = _mark()
    for key, i in (("times", 0), ("cpu", 1), ("steal", 2)):
        out.setdefault(key, {})[name] = now[i] - mark[i]


def generate(customers: int, orders: int) -> tuple[Path, Path]:
    WORK.mkdir(exist_ok=True)
    cpath = WORK / f"customers_{customers}.csv"
    opath = WORK / f"orders_{orders}.csv"
    rnd = random.Random(7)
    if not cpath.exists():
        with cpath.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(
                [
                    "客户编号",
                    "客户名称",
                    "客户类型",
                    "省份",
                    "城市",
                    "手机号码",
                    "电子邮箱",
                    "注册日期",
                ]
            )
            for i in range(customers):
                prov, city = CITIES[i % len(CITIES)]
                phone = f"139{i:08d}"
                phone = f"{phone[:3]} {phone[3:7]} {phone[7:]}" if i % 3 == 0 else phone
                w.writerow(
                    [
                        f"C{i:07d}",
                        f"客户{i}",
                        "企业" if i % 10 == 0 else "个人",
                        prov,
                        city,
                        phone,
                        f"User{i}@Example.com" if i % 2 else "",
                        f"20{10 + i % 14}/{1 + i % 12}/{1 + i % 28}",
                    ]
                )
    if not opath.exists():
        with opath.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(
                [
                    "订单编号",
                    "客户编号",
                    "下单日期",
                    "订单金额",
                    "数量",
                    "商品名称",
                    "商品类别",
                    "渠道",
                ]
            )
            for i in range(orders):
                product, category = PRODUCTS[i % len(PRODUCTS)]
                cents = rnd.randrange(100, 500000)
                amount = f"￥{cents // 100:,}.{cents % 100:02d}" if i % 2 else f"{cents / 100:.2f}"
                w.writerow(
                    [
                        f"O{i:08d}",
                        f"C{rnd.randrange(customers):07d}",
                        f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
                        amount,
                        1 + i % 3,
                        product,
                        category,
                        "天猫" if i % 2 else "门店",
                    ]
                )
    return cpath, opath


def run_baseline(cpath: Path, opath: Path, db: Path) -> dict:
    out: dict = {}
    db.unlink(missing_ok=True)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, code TEXT UNIQUE NOT NULL, name TEXT, "
        "kind TEXT, province TEXT, city TEXT, phone TEXT, email TEXT, registered_on TEXT)"
    )
    conn.execute(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, order_no TEXT UNIQUE NOT NULL, "
        "customer_code TEXT, order_date TEXT, amount TEXT, quantity INTEGER, product TEXT, "
        "category TEXT, channel TEXT)"
    )
    for name, path, sql in (
        ("customers", cpath, "INSERT INTO customers (code, name, kind, province, city, phone, email, registered_on) VALUES (?,?,?,?,?,?,?,?)"),
        ("orders", opath, "INSERT INTO orders (order_no, customer_code, order_date, amount, quantity, product, category, channel) VALUES (?,?,?,?,?,?,?,?)"),
    ):  # fmt: skip
        mark = _mark()
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            next(reader)
            batch = []
            for row in reader:
                batch.append(row)
                if len(batch) >= 5000:
                    conn.executemany(sql, batch)
                    batch = []
            if batch:
                conn.executemany(sql, batch)
        conn.commit()
        _record(out, name, mark)
    conn.close()
    return out


def run_schema_baseline(cpath: Path, opath: Path, db: Path) -> dict:
    """The same raw rows through ``sqlite3`` into tricrm's real schema (its indexes and the
    FTS5 trigram index on customers): what the database alone costs, without any cleaning."""
    sys.path.insert(0, str(ROOT))
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    from tricrm_tui.db.engine import open_database

    open_database(str(db)).dispose()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    now = "2026-01-01 00:00:00.000000"
    out: dict = {}
    mark = _mark()
    sql = (
        "INSERT INTO customers (code, name, kind, province, city, phone, email, registered_on, "
        "search_text, custom_fields, consent_email, consent_sms, consent_phone, consent_wechat, "
        "order_count, total_spent, points_balance, created_at, updated_at, version) "
        "VALUES (?,?,?,?,?,?,?,?,?,'{}',1,1,1,1,0,0,0,?,?,1)"
    )
    with cpath.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        batch = []
        for code, name, kind, prov, city, phone, email, reg in reader:
            batch.append(
                (code, name, kind, prov, city, phone, email, reg, f"{code} {name}", now, now)
            )
            if len(batch) >= 5000:
                conn.executemany(sql, batch)
                batch = []
        conn.executemany(sql, batch)
    conn.commit()
    _record(out, "customers", mark)
    mark = _mark()
    ids = dict(conn.execute("SELECT code, id FROM customers"))
    sql = (
        "INSERT INTO orders (order_no, customer_id, order_date, amount, currency, quantity, "
        "channel, status, created_at, updated_at) VALUES (?,?,?,?,'CNY',?,?,'completed',?,?)"
    )
    with opath.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        batch = []
        for order_no, code, day, amount, qty, _product, _category, channel in reader:
            batch.append((order_no, ids[code], day, amount, qty, channel, now, now))
            if len(batch) >= 5000:
                conn.executemany(sql, batch)
                batch = []
        conn.executemany(sql, batch)
    conn.commit()
    _record(out, "orders", mark)
    conn.close()
    return out


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_hooks(importing: Any, peaks: dict[str, float] | None = None) -> dict[str, float]:
    """Wrap the post-import hooks so each one's time (and the peak RSS after it) is recorded,
    by ``"kind: hook"``; returns the dict the times accumulate in."""
    hook_times: dict[str, float] = {}

    def timed(hook):  # type: ignore[no-untyped-def]
        def run(ctx, result):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            try:
                return hook(ctx, result)
            finally:
                key = f"{result.kind}: {hook.__name__}"
                hook_times[key] = hook_times.get(key, 0.0) + time.perf_counter() - start
                if peaks is not None:
                    peaks[key] = _peak_mb()

        return run

    importing.after_import_hooks[:] = [timed(h) for h in importing.after_import_hooks]
    return hook_times


def run_tricrm(cpath: Path, opath: Path, db: Path, batch_size: int | None = None) -> dict:
    sys.path.insert(0, str(ROOT))
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    from tricrm_tui.services import importing
    from tricrm_tui.services.context import Actor, open_context

    ctx = open_context(str(db), Actor("bench"))
    counts = {}
    peaks: dict[str, float] = {"opened": _peak_mb()}

    hook_times = time_hooks(importing, peaks)
    first_hook = importing.after_import_hooks[0] if importing.after_import_hooks else None

    def rows_written(ctx, result):  # the peak before the follow-ups start
        peaks[f"{result.kind}: rows"] = _peak_mb()
        return first_hook(ctx, result) if first_hook else {}

    if first_hook:
        importing.after_import_hooks[0] = rows_written
    size = batch_size or importing.DEFAULT_BATCH
    out: dict = {"counts": counts, "hooks": hook_times, "peaks": peaks}
    for kind, path in (("customers", cpath), ("orders", opath)):
        mark = _mark()
        result = importing.import_file(ctx, kind, path, batch_size=size)
        _record(out, kind, mark)
        counts[kind] = (result.inserted, result.rejected_count)
    ctx.db.dispose()
    return out


def child(which: str, cpath: str, opath: str, batch_size: int | None = None) -> None:
    db = WORK / f"{which}.db"
    if which == "baseline":
        out = run_baseline(Path(cpath), Path(opath), db)
    elif which == "schema":
        out = run_schema_baseline(Path(cpath), Path(opath), db)
    else:
        out = run_tricrm(Path(cpath), Path(opath), db, batch_size)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def _print_steps(key: str, base: dict, schema: dict, ours: dict) -> None:
    """One line per step (and the total) of the ``key`` seconds of the three sides, with
    tricrm's ratios to the two baselines."""
    for step in ("customers", "orders", "total"):
        if step == "total":
            b, sc, t = (sum(r[key].values()) for r in (base, schema, ours))
        else:
            b, sc, t = base[key][step], schema[key][step], ours[key][step]
        print(f"{step:<11}{b:>14.2f}{sc:>14.2f}{t:>14.2f}{t / b:>14.1f}{t / sc:>14.1f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--child", choices=["baseline", "schema", "tricrm"])
    parser.add_argument("--files", nargs=2)
    parser.add_argument("--batch-size", type=int, help="rows per batch (default: tricrm's)")
    parser.add_argument("--only", help="comma-separated sides: baseline,schema,tricrm")
    args = parser.parse_args()
    if args.child:
        child(args.child, *args.files, batch_size=args.batch_size)
        return
    cpath, opath = generate(args.customers, args.orders)
    results = {}
    sides = args.only.split(",") if args.only else ["baseline", "schema", "tricrm"]
    for which in sides:
        extra = ["--batch-size", str(args.batch_size)] if args.batch_size else []
        proc = subprocess.run(
            [sys.executable, __file__, "--child", which, "--files", str(cpath), str(opath), *extra],
            capture_output=True,
            text=True,
            check=True,
        )
        results[which] = json.loads(proc.stdout.strip().splitlines()[-1])
    if len(results) < 3:
        print(json.dumps(results, indent=1))
        return
    base, schema, ours = results["baseline"], results["schema"], results["tricrm"]
    print(f"import benchmark: {args.customers:,} customers + {args.orders:,} orders (SQLite)")
    print("baseline: csv + sqlite3 executemany into bare tables; schema: the same into")
    print("tricrm's schema (indexes, FTS5 trigram), no cleaning; tricrm: import_file")
    head = ["step", "baseline s", "schema s", "tricrm s", "tricrm/base", "tricrm/schema"]
    print(f"{head[0]:<11}" + "".join(f"{h:>14}" for h in head[1:]))
    _print_steps("times", base, schema, ours)
    print("the same in CPU seconds of each process (leaves out time the host stole):")
    _print_steps("cpu", base, schema, ours)
    stolen = sum(sum(r["steal"].values()) for r in (base, schema, ours))
    wall = sum(sum(r["times"].values()) for r in (base, schema, ours))
    print(f"stolen by the host meanwhile: {stolen:.1f} s of CPU over {wall:.1f} s")
    print(
        f"peak RSS MB: baseline {base['peak_rss_mb']:.0f}, schema {schema['peak_rss_mb']:.0f}, "
        f"tricrm {ours['peak_rss_mb']:.0f}"
    )
    print(f"tricrm inserted/rejected: {ours['counts']}")
    hooks = ours.get("hooks", {})
    if hooks:
        print(
            "of which post-import hooks (in the tricrm column): "
            + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in hooks.items())
        )
    peaks = ours.get("peaks", {})
    if peaks:
        print("tricrm peak RSS so far, MB: " + ", ".join(f"{k} {v:.0f}" for k, v in peaks.items()))
    print(f"load average: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
