"""At-risk customers read from the latest stored value snapshot (what the Today screen shows)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from tests.factories import add_customer
from tricrm_tui.models import ValueSnapshot
from tricrm_tui.services import customers, value


def _snapshot(ctx, code: str, as_of: str, lifecycle: str, clv: str | None) -> None:  # type: ignore[no-untyped-def]
    with ctx.transaction() as s:
        cid = customers.customer_id_for(s, code)
        s.execute(
            sa.insert(ValueSnapshot.__table__).values(
                customer_id=cid,
                as_of=dt.date.fromisoformat(as_of),
                frequency=3,
                monetary=Decimal("100"),
                lifecycle=lifecycle,
                tier="high",
                p_alive=0.3,
                clv=None if clv is None else Decimal(clv),
            )
        )


def test_latest_snapshot_only_most_value_first(ctx) -> None:  # type: ignore[no-untyped-def]
    for code in ("A", "B", "C", "D"):
        add_customer(ctx, code, f"客户{code}")
    _snapshot(ctx, "A", "2026-01-01", "at_risk", "900")  # an older refresh: ignored
    _snapshot(ctx, "A", "2026-02-01", "active", "900")
    _snapshot(ctx, "B", "2026-02-01", "at_risk", "50.5")
    _snapshot(ctx, "C", "2026-02-01", "at_risk", "700")
    _snapshot(ctx, "D", "2026-02-01", "at_risk", None)
    page = value.at_risk_from_snapshot(ctx, limit=2)
    assert page.total == 3
    assert [r.code for r in page.items] == ["C", "B"]
    assert page.items[0].clv == Decimal("700.00")
    customers.delete_customer(ctx, "C")
    assert [r.code for r in value.at_risk_from_snapshot(ctx).items] == ["B", "D"]


def test_no_snapshot_yet_is_an_empty_page(ctx) -> None:  # type: ignore[no-untyped-def]
    assert value.at_risk_from_snapshot(ctx).items == []
