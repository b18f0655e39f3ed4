"""Fixed customers for the TUI tests: the same 200 rows every run, Chinese and Latin names.

Written with one Core ``executemany`` (the FTS triggers keep search in sync) rather than 200
audited service calls, so building them costs milliseconds on either backend.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from tricrm_tui.db.search import search_text_for
from tricrm_tui.models import Customer

FIXED_NOW = dt.datetime(2026, 3, 15, 9, 30, tzinfo=dt.UTC)

SURNAMES = "张王李赵刘陈杨黄周吴"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽强", "磊", "军", "洋", "明轩", "秀英", "建国"]
LATIN = ["Alice Martin", "Bruno Silva", "Chloé Dubois", "David Kim", "Emma Rossi"]
CITIES = ["北京", "上海", "广州", "深圳", "杭州", "成都", "Hong Kong", None]
TIERS = ["A", "B", "C", None]

UNIQUE_NAME = "欧阳明月"
"""The one customer a search for 阳明 (or 欧阳明) must find."""
UNIQUE_CODE = "C0042"


def customer_row(i: int) -> dict:
    code = f"C{i:04d}"
    if code == UNIQUE_CODE:
        name = UNIQUE_NAME
    elif i % 5 == 0:
        name = f"{LATIN[(i // 5) % len(LATIN)]} {i}"
    else:
        name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7) % len(GIVEN)]
    phone = f"+86138{i:08d}"
    email = f"c{i}@example.com"
    spent = Decimal(i * 137 % 5000) + Decimal("0.50")
    return {
        "code": code,
        "name": name,
        "kind": "enterprise" if i % 7 == 0 else "individual",
        "province": "广东" if i % 2 else "浙江",
        "city": CITIES[i % len(CITIES)],
        "phone": phone,
        "email": email,
        "registered_on": dt.date(2024, 1, 1) + dt.timedelta(days=i),
        "owner": "tester",
        "order_count": i % 9,
        "total_spent": spent,
        "last_order_on": dt.date(2026, 3, 1) - dt.timedelta(days=i * 3),
        "value_tier": TIERS[i % len(TIERS)],
        "search_text": search_text_for(code, name, phone, email),
        "created_at": FIXED_NOW,
        "updated_at": FIXED_NOW,
        "version": 1,
    }


def seed_customers(ctx, count: int = 200) -> None:  # type: ignore[no-untyped-def]
    with ctx.transaction() as s:
        s.execute(sa.insert(Customer.__table__), [customer_row(i) for i in range(1, count + 1)])
