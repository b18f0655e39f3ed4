"""The customer timeline: every kind of history, newest first, paged in the database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from tests.factories import add_customer, add_orders
from tests.interact_helpers import clock, utc_local  # noqa: F401
from tricrm_tui.models import (
    Campaign,
    CampaignSend,
    Feedback,
    Journey,
    JourneyStage,
    LevelChange,
    LoyaltyEntry,
    StageEvent,
    ValueSnapshot,
)
from tricrm_tui.services import followups, interactions
from tricrm_tui.services.customers import get_customer
from tricrm_tui.services.timeline import customer_timeline


def at(day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, 0, tzinfo=dt.UTC)


def _history(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "C1", "张三")
    add_customer(ctx, "C2", "李四")
    cid = get_customer(ctx, "C1").id
    add_orders(ctx, "C1", [("2026-03-01", "120.50")])
    add_orders(ctx, "C2", [("2026-03-02", "99")])  # someone else's: never shown
    interactions.log_interaction(ctx, "C1", channel="phone", subject="回访", at=at(3), outcome="ok")
    followups.add_followup(ctx, "C1", due=at(20), reason="再次回访")
    with ctx.transaction() as s:
        s.execute(
            sa.insert(Feedback.__table__).values(
                customer_id=cid, kind="complaint", status="open", category="物流",
                extra={}, created_at=at(4),
            )
        )  # fmt: skip
        s.execute(
            sa.insert(Feedback.__table__).values(
                customer_id=cid, kind="nps", score=9, extra={}, created_at=at(5)
            )
        )
        camp = s.execute(
            sa.insert(Campaign.__table__).values(
                name="春季促销", channel="email", template="", status="sent", attribution_days=14,
                created_at=at(1),
            )
        ).inserted_primary_key[0]  # fmt: skip
        s.execute(
            sa.insert(CampaignSend.__table__).values(
                campaign_id=camp, customer_id=cid, channel="email", status="sent", sent_at=at(6)
            )
        )
        jid = s.execute(sa.insert(Journey.__table__).values(name="购买旅程")).inserted_primary_key[
            0
        ]
        sid = s.execute(
            sa.insert(JourneyStage.__table__).values(journey_id=jid, name="认知", position=1)
        ).inserted_primary_key[0]
        s.execute(
            sa.insert(StageEvent.__table__).values(
                customer_id=cid, journey_id=jid, stage_id=sid, entered_at=at(7)
            )
        )
        s.execute(
            sa.insert(LoyaltyEntry.__table__).values(
                customer_id=cid, at=at(8), kind="earn", points=120, source_key="o:1", reason="订单"
            )
        )
        s.execute(
            sa.insert(LevelChange.__table__).values(
                customer_id=cid, at=at(9), from_level="银卡", to_level="金卡", reason="积分"
            )
        )
        for day, tier in [(10, "medium"), (11, "medium"), (12, "high")]:
            s.execute(
                sa.insert(ValueSnapshot.__table__).values(
                    customer_id=cid, as_of=dt.date(2026, 3, day), tier=tier, segment="loyal",
                    frequency=1, monetary=Decimal("1"),
                )
            )  # fmt: skip


def test_every_kind_newest_first(ctx, clock) -> None:  # noqa: F811
    _history(ctx)
    page = customer_timeline(ctx, "C1", limit=50)
    assert [(e.kind, e.at.day) for e in page.items] == [
        ("followup", 20),
        (
            "change",
            12,
        ),  # value tier medium → high (the unchanged snapshot on the 11th is not shown)
        ("change", 9),
        ("points", 8),
        ("stage", 7),
        ("campaign", 6),
        ("feedback", 5),
        ("feedback", 4),
        ("interaction", 3),
        ("order", 1),
    ]
    assert page.total == 10
    text = [e.summary for e in page.items]
    assert "medium → high" in text[1] and "银卡 → 金卡" in text[2]
    assert "120" in text[3] and "认知" in text[4] and "春季促销" in text[5]
    assert "NPS" in text[6] and "物流" in text[7] and "回访" in text[8]
    assert "¥120.50" in text[9] and page.items[9].ref.startswith("T")


def test_paging_is_exact_across_kinds(ctx, clock) -> None:  # noqa: F811
    _history(ctx)
    everything = customer_timeline(ctx, "C1", limit=50).items
    pages = [customer_timeline(ctx, "C1", limit=3, offset=o) for o in (0, 3, 6, 9)]
    assert [len(p.items) for p in pages] == [3, 3, 3, 1]
    assert [e for p in pages for e in p.items] == everything
    assert all(p.total == 10 for p in pages)
    assert customer_timeline(ctx, "C2").total == 1
