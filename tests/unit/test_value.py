"""RFM, tiers, lifecycle, snapshots and churn warnings on small hand-computed data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from tests.factories import add_customer, add_orders
from tricrm_tui.services import audit, customers, value
from tricrm_tui.services.errors import InvalidInput, NotFound
from tricrm_tui.services.rfm import fixed_scores, quintile_scores
from tricrm_tui.services.value_config import settings_from_mapping

AS_OF = dt.date(2025, 6, 30)


@pytest.fixture
def shop(ctx):  # type: ignore[no-untyped-def]
    """Five buyers and three prospects, worked out by hand in the tests below."""
    for code in ("A", "B", "C", "D", "E", "P", "Q", "X"):
        add_customer(ctx, code)
    # A: two orders on the same day (one purchase day), one earlier, one after the date.
    add_orders(
        ctx, "A", [("2025-06-30", 100), ("2025-06-30", 50), ("2025-05-01", 20), ("2025-07-05", 999)]
    )
    add_orders(ctx, "B", [("2025-06-01", "10.10"), ("2025-06-15", "10.20")])
    add_orders(ctx, "C", [("2025-06-15", 200)])
    add_orders(ctx, "D", [("2025-01-01", 5)])
    add_orders(
        ctx, "E", [("2025-03-01", 40), ("2025-04-01", 40), ("2025-05-01", 40), ("2025-06-01", 40)]
    )
    add_orders(ctx, "Q", [("2025-07-01", 30)])  # only after the date: a prospect then
    add_orders(ctx, "X", [("2025-06-20", 70)], status="cancelled")
    return ctx


def rows_by_code(ctx, as_of=AS_OF):  # type: ignore[no-untyped-def]
    return {r.code: r for r in value.value_rows(ctx, as_of, limit=100).items}


def test_rfm_by_hand(shop) -> None:  # type: ignore[no-untyped-def]
    rows = rows_by_code(shop)
    assert set(rows) == {"A", "B", "C", "D", "E", "P", "Q", "X"}
    got = {c: (r.recency_days, r.frequency, r.monetary) for c, r in rows.items()}
    assert got["A"] == (0, 3, Decimal("170.00"))  # the 999 after the date is ignored
    assert got["B"] == (15, 2, Decimal("20.30"))
    assert got["C"] == (15, 1, Decimal("200.00"))
    assert got["D"] == (180, 1, Decimal("5.00"))
    assert got["E"] == (29, 4, Decimal("160.00"))
    # Percent ranks among 5 buyers, p = (rank − 1)/4, score = 1 + ⌊5p⌋: B and C tie on
    # recency (both rank 3 → p = 0.5 → R = 3); C and D tie on frequency (rank 1 → F = 1).
    scores = {c: (r.r, r.f, r.m) for c, r in rows.items() if r.frequency}
    assert scores == {
        "A": (5, 4, 4),
        "B": (3, 3, 2),
        "C": (3, 1, 5),
        "D": (1, 1, 1),
        "E": (2, 5, 3),
    }
    segments = {c: r.segment for c, r in rows.items()}
    assert segments == {
        "A": "Champions",
        "B": "Need Attention",
        "C": "About to Sleep",
        "D": "Lost",
        "E": "Can't Lose Them",
        "P": "Prospect",
        "Q": "Prospect",
        "X": "Prospect",
    }
    for code in ("P", "Q", "X"):
        r = rows[code]
        assert (r.frequency, r.monetary, r.recency_days, r.r, r.lifecycle) == (
            0,
            Decimal("0.00"),
            None,
            None,
            "prospect",
        )
    # Too little data for the models: no prediction, never NaN, tiers by past spend.
    assert all(r.p_alive is None and r.clv is None for r in rows.values())
    assert rows["C"].tier == "high" and rows["P"].tier == "low"


def test_quintile_ties_do_not_depend_on_order() -> None:
    values = np.array([3, 1, 1, 2, 5, 5, 5, 4, 0, 1])
    base = quintile_scores(values)
    perm = np.random.default_rng(1).permutation(values.size)
    assert np.array_equal(quintile_scores(values[perm]), base[perm])
    assert len({int(s) for s in base[values == 5]}) == 1
    assert quintile_scores(np.full(7, 2)).tolist() == [1] * 7
    assert quintile_scores(np.arange(10)).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_fixed_thresholds() -> None:
    rec = fixed_scores(np.array([0, 30, 31, 365, 400]), (30, 90, 180, 365), lower_is_better=True)
    assert rec.tolist() == [5, 5, 4, 2, 1]
    freq = fixed_scores(np.array([1, 2, 7, 8, 20]), (2, 3, 5, 8), lower_is_better=False)
    assert freq.tolist() == [1, 2, 4, 5, 5]


def test_fixed_method_from_config(shop, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "value.toml").write_text(
        '[rfm]\nmethod = "fixed"\nrecency_days = [7, 30, 90, 180]\n'
        "frequency = [2, 3, 4, 5]\nmonetary = [10, 50, 100, 200]\n"
        '[tiers]\nnames = { high = "高价值" }\n'
    )
    monkeypatch.setenv("TRICRM_CONFIG_DIR", str(cfg))
    rows = rows_by_code(shop)
    assert (rows["A"].r, rows["A"].f, rows["A"].m) == (5, 3, 4)
    assert (rows["D"].r, rows["D"].f, rows["D"].m) == (2, 1, 1)  # 180 ≤ t4 = 180
    assert value.tiers_summary(shop, AS_OF).tiers[0].name == "高价值"


def test_bad_config_is_refused() -> None:
    with pytest.raises(InvalidInput, match="time_unit"):
        settings_from_mapping({"time_unit": "fortnights"})
    with pytest.raises(InvalidInput, match="25"):
        settings_from_mapping({"rfm": {"segments": {"Champions": ["55"]}}})
    with pytest.raises(InvalidInput):
        settings_from_mapping({"tiers": {"high_share": 0.8, "medium_share": 0.5}})


def test_tiers_cut_by_value_share() -> None:
    value_ = np.array([50.0, 30.0, 10.0, 5.0, 5.0, 0.0])
    tiers, thresholds = value.assign_tiers(value_, 0.2, 0.3)
    # 50 alone makes 50% ≥ 20% → high; 30 starts at 50% ≥ 50% → not medium.
    assert tiers.tolist() == ["high", "low", "low", "low", "low", "low"]
    tiers, thresholds = value.assign_tiers(np.array([10.0] * 10), 0.2, 0.3)
    assert tiers.tolist() == ["high"] * 2 + ["medium"] * 3 + ["low"] * 5
    assert thresholds == {"high": 10.0, "medium": 10.0, "low": 10.0}


def test_refresh_stores_replaces_and_updates_current(shop) -> None:  # type: ignore[no-untyped-def]
    first = value.value_refresh(shop, AS_OF)
    assert (first.customers, first.buyers, first.basis, first.current) == (8, 5, "monetary", True)
    assert customers.get_customer(shop, "A").rfm_segment == "Champions"
    again = value.value_refresh(shop, AS_OF)
    assert again.customers == 8
    hist = value.value_history(shop, "A")
    assert hist.total == 1 and hist.items[0].segment == "Champions"
    # An older date is history only: the current columns stay with the latest date.
    older = value.value_refresh(shop, dt.date(2025, 1, 31))
    assert older.current is False
    assert customers.get_customer(shop, "D").rfm_segment == "Lost"
    hist = value.value_history(shop, "D")
    assert [h.as_of for h in hist.items] == [AS_OF, dt.date(2025, 1, 31)]
    assert hist.items[1].recency_days == 30 and hist.items[1].frequency == 1
    entries = audit.list_entries(shop, entity="value_snapshots").items
    assert [e.action for e in entries] == ["refresh"] * 3
    assert entries[0].after["customers"] == 8
    with pytest.raises(NotFound):
        value.value_history(shop, "NOPE")


def test_won_back_after_churn(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "W")
    add_orders(ctx, "W", [("2024-01-01", 10), ("2024-01-31", 10), ("2024-03-01", 10)])
    value.value_refresh(ctx, dt.date(2024, 12, 31))
    assert value.value_history(ctx, "W").items[0].lifecycle == "churned"
    add_orders(ctx, "W", [("2025-01-15", 10)])
    value.value_refresh(ctx, dt.date(2025, 1, 20))
    assert value.value_history(ctx, "W").items[0].lifecycle == "won_back"
    assert customers.get_customer(ctx, "W").lifecycle == "won_back"


def test_at_risk_ranks_by_value_with_reasons(shop) -> None:  # type: ignore[no-untyped-def]
    page = value.at_risk(shop, factor=2.0, as_of=AS_OF)
    by_code = {r.code: r for r in page.items}
    # D bought once 180 days ago; the base's usual interval is the median of the repeat
    # buyers' (A 60, B 14, E 92/3 days → 30.7): 180 > 30.7 × 2.
    assert "D" in by_code and by_code["D"].reasons == ["overdue"]
    assert by_code["D"].usual_interval_days == 30.7
    assert "A" not in by_code and "P" not in by_code
    stakes = [r.value_at_stake for r in page.items]
    assert stakes == sorted(stakes, reverse=True)
    with pytest.raises(InvalidInput):
        value.at_risk(shop, threshold=2.0, as_of=AS_OF)


def test_selection_condition_reads_the_snapshot(shop) -> None:  # type: ignore[no-untyped-def]
    value.value_refresh(shop, AS_OF)
    sel = value.Selection(kind="segment", as_of=AS_OF, name="Need Attention")
    assert sel.expression == 'segment:"Need Attention"'
    page = customers.list_customers(shop, where=value.selection_condition(shop, sel))
    assert [c.code for c in page.items] == ["B"]
    tier = value.Selection(kind="tier", as_of=AS_OF, name="low")
    page = customers.list_customers(shop, where=value.selection_condition(shop, tier))
    # By spend: C 200 is high (20% of 555.30), A 170 medium (to 50%), the rest low.
    assert [c.code for c in page.items] == ["B", "D", "E", "P", "Q", "X"]
    cell = value.Selection(kind="cell", as_of=AS_OF, r=5, f=4)
    page = customers.list_customers(shop, where=value.selection_condition(shop, cell))
    assert [c.code for c in page.items] == ["A"]
    with pytest.raises(NotFound):
        value.selection_condition(
            shop, value.Selection(kind="tier", as_of=AS_OF.replace(day=1), name="high")
        )


def test_overview_grid_and_segments(shop) -> None:  # type: ignore[no-untyped-def]
    ov = value.overview(shop, AS_OF)
    assert len(ov.grid) == 25 and ov.stored is False
    cells = {(c.r, c.f): c for c in ov.grid}
    assert cells[(3, 1)].customers == 1 and cells[(3, 1)].revenue == Decimal("200.00")
    assert sum(c.customers for c in ov.grid) == 5
    seg = {s.segment: s for s in ov.segments}
    assert seg["Prospect"].customers == 3 and seg["About to Sleep"].customers == 1
    assert sum(s.share for s in ov.segments) == pytest.approx(1.0, abs=1e-3)


def test_where_needs_the_filter_language(shop) -> None:  # type: ignore[no-untyped-def]
    try:
        import tricrm_tui.services.filters  # noqa: F401
    except ImportError:
        with pytest.raises(InvalidInput, match="filter language"):
            value.value_rows(shop, AS_OF, where="segment:Lost")
    else:
        page = value.value_rows(shop, AS_OF, where="orders>=2")
        assert {r.code for r in page.items} <= {"A", "B", "E"}


def test_empty_database_gives_messages_not_errors(ctx) -> None:  # type: ignore[no-untyped-def]
    result = value.value_refresh(ctx, AS_OF)
    assert (result.customers, result.buyers, result.basis) == (0, 0, "monetary")
    assert any("too few customers" in m for m in result.messages)
    report = value.model_report(ctx, AS_OF)
    assert report["bgnbd"] is None and report["customers"] == 0
    ov = value.overview(ctx, AS_OF)
    assert sum(c.customers for c in ov.grid) == 0 and ov.at_risk.total == 0
    assert [t.customers for t in value.tiers_summary(ctx, AS_OF).tiers] == [0, 0, 0]


def test_repeat_spend_survives_a_stale_first_order_column(ctx) -> None:  # type: ignore[no-untyped-def]
    """The grouped summary (a past date: an order after it) looks the first day's spend up
    by the stored first order date, and from the orders where that column disagrees."""
    import sqlalchemy as sa

    from tricrm_tui.models import Customer

    add_customer(ctx, "S")
    add_orders(
        ctx,
        "S",
        [("2025-01-01", 10), ("2025-01-01", 5), ("2025-02-01", 40), ("2025-03-01", 60)]
        + [("2025-07-01", 1)],
    )
    v = value.compute_valuation(ctx, AS_OF)
    assert not v.summary.from_aggregates
    assert v.summary.repeat_cents.tolist() == [10000]  # 40 + 60 after the first day (15)
    assert v.summary.purchase_days.tolist() == [3]
    table = Customer.__table__
    with ctx.transaction() as s:
        s.execute(sa.update(table).values(first_order_on=dt.date(2025, 2, 1)))
    stale = value.compute_valuation(ctx, AS_OF)
    assert stale.summary.repeat_cents.tolist() == [10000]


def _stored_snapshots(ctx) -> list[tuple]:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    from tricrm_tui.models import ValueSnapshot

    t = ValueSnapshot.__table__
    cols = [c for c in t.c if c.name != "id"]
    with ctx.session() as s:
        return [tuple(r) for r in s.execute(sa.select(*cols).order_by(t.c.customer_id))]


def test_snapshots_written_in_blocks_are_the_same_rows(shop, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Blocks of 3 customers (eight customers: three blocks, the last one short) store the
    very rows one block stores; a deleted customer's orders count for nobody."""
    add_customer(shop, "GONE")
    add_orders(shop, "GONE", [("2025-06-29", 500)])
    customers.delete_customer(shop, "GONE")
    value.value_refresh(shop, AS_OF)
    whole = _stored_snapshots(shop)
    monkeypatch.setattr(value, "_SNAPSHOT_CHUNK", 3)
    value.value_refresh(shop, AS_OF)
    assert _stored_snapshots(shop) == whole
    assert len(whole) == 8
    rows = rows_by_code(shop)
    assert "GONE" not in rows
    by_id = {r[0]: r for r in whole}
    with shop.session() as s:
        from tricrm_tui.services.customers import customer_id_for

        a = by_id[customer_id_for(s, "A")]
    names = [c.name for c in value.ValueSnapshot.__table__.c if c.name != "id"]
    stored = dict(zip(names, a, strict=True))
    assert stored["frequency"] == rows["A"].frequency == 3
    assert Decimal(stored["monetary"]).quantize(value.CENT) == rows["A"].monetary
    clv = None if stored["clv"] is None else Decimal(stored["clv"]).quantize(value.CENT)
    assert clv == rows["A"].clv
    assert stored["segment"] == rows["A"].segment and stored["tier"] == rows["A"].tier
