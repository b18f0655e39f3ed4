"""Merge and unmerge keep every related record: moved on merge, put back exactly on unmerge."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.cli_runner import invoke
from tests.factories import add_customer, add_orders
from tricrm_tui.models import (
    Campaign,
    CampaignSend,
    Customer,
    CustomerTag,
    Feedback,
    FollowUp,
    Interaction,
    Journey,
    JourneyStage,
    LevelChange,
    LoyaltyEntry,
    MergeRecord,
    OrderLine,
    StageEvent,
    ValueSnapshot,
)
from tricrm_tui.services import audit, customers, merge
from tricrm_tui.services.errors import InvalidInput

NOW = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
RELATED = {
    "orders": None,
    "order_lines": OrderLine.__table__,
    "interactions": Interaction.__table__,
    "followups": FollowUp.__table__,
    "feedback": Feedback.__table__,
    "loyalty_ledger": LoyaltyEntry.__table__,
    "stage_events": StageEvent.__table__,
    "campaign_sends": CampaignSend.__table__,
    "customer_tags": CustomerTag.__table__,
    "value_snapshots": ValueSnapshot.__table__,
    "level_changes": LevelChange.__table__,
}


def _history(ctx, code: str, campaigns: list[int], journey: tuple[int, int], n: int) -> None:  # type: ignore[no-untyped-def]
    """One or more rows in every table that refers to a customer."""
    order_nos = add_orders(
        ctx, code, [("2025-06-01", "120.00"), ("2025-07-01", "80.50")], channel="shop"
    )
    with ctx.transaction() as s:
        cid = customers.customer_id_for(s, code)
        from tricrm_tui.models import Order

        oid = s.execute(
            sa.select(Order.__table__.c.id).where(Order.__table__.c.order_no == order_nos[0])
        ).scalar_one()
        s.execute(
            sa.insert(OrderLine.__table__).values(
                order_id=oid, quantity=1, unit_price=Decimal("120"), amount=Decimal("120")
            )
        )
        iid = s.execute(
            sa.insert(Interaction.__table__).values(
                customer_id=cid, channel="phone", occurred_at=NOW, subject=f"call {code}"
            )
        ).inserted_primary_key[0]
        s.execute(
            sa.insert(FollowUp.__table__).values(
                customer_id=cid, due_at=NOW, reason="call back", interaction_id=iid
            )
        )
        s.execute(
            sa.insert(Feedback.__table__).values(
                customer_id=cid, kind="csat", score=4, order_id=oid
            )
        )
        s.execute(
            sa.insert(LoyaltyEntry.__table__).values(
                customer_id=cid, kind="earn", points=100 * n, source_key=f"order:{code}"
            )
        )
        s.execute(
            sa.insert(StageEvent.__table__).values(
                customer_id=cid, journey_id=journey[0], stage_id=journey[1], entered_at=NOW
            )
        )
        for camp in campaigns:
            s.execute(
                sa.insert(CampaignSend.__table__).values(
                    campaign_id=camp, customer_id=cid, channel="sms", status="sent"
                )
            )
        s.execute(
            sa.insert(ValueSnapshot.__table__).values(
                customer_id=cid, as_of=dt.date(2026, 1, 1), frequency=2, monetary=Decimal("200.50")
            )
        )
        s.execute(
            sa.insert(LevelChange.__table__).values(
                customer_id=cid, to_level="gold", reason="spend"
            )
        )
        s.execute(
            sa.update(Customer.__table__)
            .where(Customer.__table__.c.id == cid)
            .values(points_balance=100 * n)
        )


def _snapshot(ctx) -> dict[str, list[tuple]]:  # type: ignore[no-untyped-def]
    from tricrm_tui.models import Order

    tables = dict(RELATED, orders=Order.__table__)
    out = {}
    with ctx.session() as s:
        for name, t in tables.items():
            out[name] = sorted(tuple(r) for r in s.execute(sa.select(t)))
        skip = {"updated_at", "version"}
        cols = [c for c in Customer.__table__.c if c.name not in skip]
        out["customers"] = sorted(tuple(r) for r in s.execute(sa.select(*cols)))
    return out


@pytest.fixture
def family(ctx):  # type: ignore[no-untyped-def]
    ctx.clock = lambda: NOW
    add_customer(ctx, "K", "张伟", phone="13800138000", tags="vip", custom_fields={"vip_card": "1"})
    add_customer(
        ctx,
        "M1",
        "張偉",
        email="zw@example.com",
        birthday="1990-05-01",
        city="深圳",
        tags="vip,老客",
        custom_fields={"wechat": "zw90"},
    )
    add_customer(ctx, "M2", "Zhang Wei", phone="13900139000", city="广州", notes="from shop")
    with ctx.transaction() as s:
        c1 = s.execute(
            sa.insert(Campaign.__table__).values(name="spring", channel="sms")
        ).inserted_primary_key[0]
        c2 = s.execute(
            sa.insert(Campaign.__table__).values(name="summer", channel="sms")
        ).inserted_primary_key[0]
        j = s.execute(sa.insert(Journey.__table__).values(name="onboarding")).inserted_primary_key[
            0
        ]
        st = s.execute(
            sa.insert(JourneyStage.__table__).values(journey_id=j, name="new", position=1)
        ).inserted_primary_key[0]
    _history(ctx, "K", [c1], (j, st), 1)
    _history(ctx, "M1", [c1, c2], (j, st), 2)  # spring: K has its own send
    _history(ctx, "M2", [], (j, st), 3)
    from tricrm_tui.services.classify import classify_customers

    classify_customers(ctx)  # so the snapshots compare classified customers
    return ctx


def _owned(ctx, code: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    from tricrm_tui.models import Order

    tables = dict(RELATED, orders=Order.__table__)
    tables.pop("order_lines")
    with ctx.session() as s:
        cid = s.execute(
            sa.select(Customer.__table__.c.id).where(Customer.__table__.c.code == code)
        ).scalar_one()
        return {
            n: s.execute(
                sa.select(sa.func.count()).select_from(t).where(t.c.customer_id == cid)
            ).scalar_one()
            for n, t in tables.items()
        }


def test_merge_moves_everything_and_unmerge_restores_exactly(family) -> None:  # type: ignore[no-untyped-def]
    ctx = family
    before = _snapshot(ctx)
    result = merge.merge_customers(ctx, "K", ["M1", "M2"], prefer={"city": "M2"})
    assert result.moved == {
        "orders": 4,
        "interactions": 2,
        "followups": 2,
        "feedback": 2,
        "loyalty_ledger": 2,
        "stage_events": 2,
        "campaign_sends": 1,
    }
    assert result.sends_left == 1
    kept = _owned(ctx, "K")
    assert kept["orders"] == 6 and kept["interactions"] == 3 and kept["followups"] == 3
    assert kept["feedback"] == 3 and kept["loyalty_ledger"] == 3 and kept["stage_events"] == 3
    assert kept["campaign_sends"] == 2  # K's spring send + M1's summer send
    assert kept["value_snapshots"] == 1 and kept["level_changes"] == 1  # left with their owner
    m1 = _owned(ctx, "M1")
    assert m1["campaign_sends"] == 1 and m1["orders"] == 0 and m1["value_snapshots"] == 1
    k = customers.get_customer(ctx, "K")
    assert k.phone == "+8613800138000"  # kept's own value stays
    assert k.email == "zw@example.com" and k.birthday == dt.date(1990, 5, 1)  # filled from M1
    assert k.city == "广州"  # --prefer city=M2
    assert k.notes == "from shop"
    assert k.tags == ["vip", "老客"]
    assert k.custom_fields == {"vip_card": "1", "wechat": "zw90"}
    assert k.order_count == 6 and k.total_spent == Decimal("601.50")
    assert k.points == 600
    assert customers.get_customer(ctx, "M1").merged_into == "K"
    assert [c.code for c in customers.list_customers(ctx).items] == ["K"]
    assert "zw@example.com" in [
        c.email for c in customers.list_customers(ctx, search="zw@ex").items
    ]
    with ctx.session() as s:
        recs = s.execute(sa.select(MergeRecord.__table__)).all()
    assert len(recs) == 2 and set(recs[0].moved) >= {"orders", "tags_added", "campaign_sends_left"}
    assert recs[0].filled["email"] == {"before": None, "after": "zw@example.com"}
    actions = {(e.entity_id, e.action) for e in audit.list_entries(ctx, entity="customer").items}
    assert {("M1", "merge"), ("M2", "merge"), ("K", "merge_keep")} <= actions

    merge.unmerge_customer(ctx, "M2")
    merge.unmerge_customer(ctx, "M1")
    after = _snapshot(ctx)
    for name in before:
        if name == "customers":
            continue
        assert after[name] == before[name], name
    # customers: identical apart from updated_at/version
    assert after["customers"] == before["customers"]
    with ctx.session() as s:
        assert all(r.undone_at is not None for r in s.execute(sa.select(MergeRecord.__table__)))


def test_unmerge_keeps_later_edits(family) -> None:  # type: ignore[no-untyped-def]
    ctx = family
    merge.merge_customers(ctx, "K", ["M1"])
    customers.edit_customer(ctx, "K", {"email": "new@example.com"})
    result = merge.unmerge_customer(ctx, "M1")
    assert result.fields_kept == ["email"] and "birthday" in result.fields_restored
    k = customers.get_customer(ctx, "K")
    assert k.email == "new@example.com" and k.birthday is None


def test_merge_refusals(family) -> None:  # type: ignore[no-untyped-def]
    ctx = family
    with pytest.raises(InvalidInput):
        merge.merge_customers(ctx, "K", ["K"])
    with pytest.raises(InvalidInput, match="cannot prefer"):
        merge.merge_customers(ctx, "K", ["M1"], prefer={"colour": "M1"})
    with pytest.raises(InvalidInput, match="not one of"):
        merge.merge_customers(ctx, "K", ["M1"], prefer={"city": "M2"})
    merge.merge_customers(ctx, "K", ["M1"])
    with pytest.raises(InvalidInput, match="already merged"):
        merge.merge_customers(ctx, "M2", ["M1"])
    with pytest.raises(InvalidInput, match="not merged"):
        merge.unmerge_customer(ctx, "M2")


def test_cli_merge_unmerge_not_duplicate(family, db_url) -> None:  # type: ignore[no-untyped-def]
    def run(*args: str):  # type: ignore[no-untyped-def]
        return invoke(db_url, *args)

    r = run("customers", "merge", "K", "M1", "M2", "--prefer", "city=M1", "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert (
        data["kept"] == "K" and data["merged"] == ["M1", "M2"] and data["filled"]["city"] == "深圳"
    )
    r = run("customers", "merge", "K", "M1", "--prefer", "city")
    assert isinstance(r.exception, InvalidInput)
    r = run("customers", "unmerge", "M1", "--format", "json")
    assert json.loads(r.stdout)["moved_back"]["orders"] == 2
    r = run("customers", "unmerge", "M2")
    assert r.exit_code == 0 and "M2 restored from K" in r.stderr
    r = run("customers", "not-duplicate", "K", "M1")
    assert r.exit_code == 0 and "recorded" in r.stderr
    r = run("customers", "duplicates", "--format", "json")
    assert all(set(g["codes"]) != {"K", "M1"} for g in json.loads(r.stdout))


def test_a_filled_size_brings_the_size_as_given_and_unmerge_takes_both_back(ctx) -> None:  # type: ignore[no-untyped-def]
    """The kept customer without a size takes the other's band with what was given for it
    (``1万人以上``), so the pair stays whole; unmerging empties both again."""
    add_customer(ctx, "K", "某集团", kind="企业")
    add_customer(ctx, "O", "某集团有限公司", kind="企业", size="1万人以上")
    result = merge.merge_customers(ctx, "K", ["O"])
    assert set(result.filled) >= {"size", "size_text"}
    kept = customers.get_customer(ctx, "K")
    assert (kept.size, kept.size_text) == ("large", "1万人以上")
    merge.unmerge_customer(ctx, "O")
    back = customers.get_customer(ctx, "K")
    assert (back.size, back.size_text) == (None, None)
    assert customers.get_customer(ctx, "O").size_text == "1万人以上"


def test_a_preferred_size_of_the_same_band_brings_its_size_as_given(ctx) -> None:  # type: ignore[no-untyped-def]
    """``--prefer size=O`` takes O's size as given (``1万人以上``) even when both customers'
    sizes fall in the same band: the kept one's ``2000人`` stayed, and the export wrote it."""
    add_customer(ctx, "K", "某集团", kind="企业", size="2000人")
    add_customer(ctx, "O", "某集团有限公司", kind="企业", size="1万人以上")
    result = merge.merge_customers(ctx, "K", ["O"], prefer={"size": "O"})
    assert "size_text" in result.filled
    kept = customers.get_customer(ctx, "K")
    assert (kept.size, kept.size_text) == ("large", "1万人以上")
    merge.unmerge_customer(ctx, "O")
    back = customers.get_customer(ctx, "K")
    assert (back.size, back.size_text) == ("large", "2000人")
