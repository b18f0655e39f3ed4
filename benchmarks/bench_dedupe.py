"""Duplicate search over 100k customers: time and recall on planted duplicates.

Builds (or reuses) a SQLite database of synthetic customers with Chinese names drawn from
common surnames and given-name characters (so common names form large blocks, as in real
bases), then plants duplicate pairs of four kinds: the same phone, the same email (in other
case), the name in traditional characters with the same birthday, and the name in pinyin
with the same birthday. Reports the time of ``probable_duplicates`` and the share of
planted pairs it finds (recall), plus how many groups it reports beyond them.

    PYTHONPATH=. python benchmarks/bench_dedupe.py [--customers 100000] [--pairs 2000]
        [--distinct-names 300]   # skewed: every name shared by hundreds (block caps)
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from pathlib import Path

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐韩冯邓曹彭曾肖田董袁潘蔡蒋余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国文斌宇浩凯欣怡婷雪梅琳晨阳子轩涵博然诗雨"
TRAD = str.maketrans(
    {
        "张": "張",
        "伟": "偉",
        "刘": "劉",
        "陈": "陳",
        "杨": "楊",
        "黄": "黃",
        "赵": "趙",
        "吴": "吳",
        "周": "周",
        "孙": "孫",
        "马": "馬",
        "郭": "郭",
        "罗": "羅",
        "郑": "鄭",
        "梁": "梁",
        "谢": "謝",
        "韩": "韓",
        "冯": "馮",
        "邓": "鄧",
        "丽": "麗",
        "强": "強",
        "军": "軍",
        "艳": "豔",
        "杰": "傑",
        "涛": "濤",
        "刚": "剛",
        "华": "華",
        "兰": "蘭",
        "红": "紅",
        "鹏": "鵬",
        "辉": "輝",
        "国": "國",
        "斌": "斌",
        "浩": "浩",
        "凯": "凱",
        "婷": "婷",
        "晨": "晨",
        "阳": "陽",
        "轩": "軒",
        "诗": "詩",
    }
)
CITIES = [
    "北京",
    "上海",
    "广州",
    "深圳",
    "杭州",
    "成都",
    "武汉",
    "西安",
    "南京",
    "重庆",
    "天津",
    "苏州",
]


def build(
    path: Path, n: int, pairs: int, distinct_names: int = 0, seed: int = 7
) -> list[tuple[str, str]]:
    import sqlalchemy as sa

    from tricrm_tui.db.engine import open_database
    from tricrm_tui.models import Customer
    from tricrm_tui.services.names import SURNAME_READINGS, char_pinyin

    rng = random.Random(seed)
    db = open_database(str(path))
    rows = []
    used_phones: set[str] = set()

    def phone() -> str:
        while True:
            p = f"+861{rng.choice('3589')}{rng.randrange(10**9):09d}"
            if p not in used_phones:
                used_phones.add(p)
                return p

    def new_name() -> str:
        return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))

    pool = [new_name() for _ in range(distinct_names)]

    def person(i: int) -> dict:
        name = rng.choice(pool) if pool else new_name()
        return {
            "code": f"C{i:07d}",
            "name": name,
            "kind": "individual",
            "phone": phone() if rng.random() < 0.8 else None,
            "email": f"u{i}@example.com" if rng.random() < 0.4 else None,
            "birthday": dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(20000))
            if rng.random() < 0.6
            else None,
            "city": rng.choice(CITIES),
            "search_text": "",
        }

    for i in range(n - pairs):
        rows.append(person(i))
    planted = []
    for k in range(pairs):
        original = rng.choice(rows[: n - pairs])
        dup = dict(original)
        dup["code"] = f"D{k:07d}"
        kind = k % 4
        if kind == 0:  # same phone, name typed the same
            dup["phone"] = original["phone"] or phone()
            original["phone"] = dup["phone"]
            dup["email"] = None
        elif kind == 1:  # same email, other case; no phone
            dup["email"] = (original["email"] or f"x{k}@example.com").upper()
            original["email"] = dup["email"].lower()
            dup["phone"] = None
        elif kind == 2:  # traditional characters, same birthday, no contact
            dup["name"] = original["name"].translate(TRAD)
            dup["birthday"] = original["birthday"] or dt.date(1980, 1, 1) + dt.timedelta(days=k)
            original["birthday"] = dup["birthday"]
            dup["phone"] = dup["email"] = None
        else:  # pinyin, same birthday
            name = original["name"]
            surname = SURNAME_READINGS.get(name[0]) or char_pinyin(name[0])
            given = "".join(char_pinyin(c) for c in name[1:])
            dup["name"] = f"{surname.title()} {given.title()}"
            dup["birthday"] = original["birthday"] or dt.date(1980, 1, 1) + dt.timedelta(days=k)
            original["birthday"] = dup["birthday"]
            dup["phone"] = dup["email"] = None
        if dup["email"]:
            dup["email"] = dup["email"].lower()
        rows.append(dup)
        planted.append((original["code"], dup["code"]))
    t = Customer.__table__
    with db.engine.begin() as conn:
        for i in range(0, len(rows), 10000):
            conn.execute(sa.insert(t), rows[i : i + 10000])
    db.dispose()
    return planted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--pairs", type=int, default=2_000)
    parser.add_argument(
        "--distinct-names",
        type=int,
        default=0,
        help="draw names from this many (e.g. 300: ~330 customers per name, every name "
        "block over the cap); 0 = random names",
    )
    parser.add_argument("--db", type=Path, default=Path("/tmp/tricrm_bench_dedupe.db"))
    args = parser.parse_args()
    for suffix in ("", "-wal", "-shm"):
        Path(str(args.db) + suffix).unlink(missing_ok=True)
    t0 = time.perf_counter()
    planted = build(args.db, args.customers, args.pairs, args.distinct_names)
    print(
        f"built {args.customers:,} customers with {len(planted):,} planted pairs "
        f"in {time.perf_counter() - t0:.1f} s"
    )

    from tricrm_tui.services import dedupe
    from tricrm_tui.services.context import Actor, open_context

    ctx = open_context(str(args.db), Actor("bench"))
    t0 = time.perf_counter()
    scan = dedupe.scan_duplicates(ctx, min_score=dedupe.DEFAULT_MIN_SCORE)
    elapsed = time.perf_counter() - t0
    together = set()
    for g in scan.groups:
        for a in g.codes:
            for b in g.codes:
                together.add((a, b))
    found = sum((a, b) in together for a, b in planted)
    kinds = ["phone", "email", "traditional", "pinyin"]
    per_kind = {k: [0, 0] for k in kinds}
    for i, (a, b) in enumerate(planted):
        per_kind[kinds[i % 4]][1] += 1
        per_kind[kinds[i % 4]][0] += (a, b) in together
    planted_codes = {c for p in planted for c in p}
    extra = sum(1 for g in scan.groups if not set(g.codes) & planted_codes)
    print(
        f"probable_duplicates: {elapsed:.2f} s over {scan.customers:,} customers, "
        f"{scan.pairs_compared:,} pairs compared, {len(scan.groups):,} groups"
    )
    print(
        f"recall: {found}/{len(planted)} = {found / len(planted):.1%}  "
        + ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in per_kind.items())
    )
    print(f"groups without a planted pair (chance look-alikes): {extra}")
    print(f"capped blocks: {len(scan.capped_blocks)}")
    for note in scan.capped_blocks[:5]:
        print("   ", note)
    print("goal: < 10 s —", "met" if elapsed < 10 else "NOT met")


if __name__ == "__main__":
    main()
