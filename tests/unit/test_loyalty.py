"""Loyalty points and member levels on hand-computed fixtures (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tests.factories import add_customer, add_orders
from tricrm_tui.models import (
    AuditEntry,
    Customer,
    LevelChange,
    LoyaltyEntry,
    MemberLevel,
    ProductCategory,
)
from tricrm_tui.services import kpis, loyalty
from tricrm_tui.services.errors import InvalidInput
from tricrm_tui.services.loyalty_rules import (
    DEFAULTS,
    LoyaltyConfig,
    add_months,
    config_from_mapping,
    load_config,
    order_points,
)

L = LoyaltyEntry.__table__
C = Customer.__table__
ML = MemberLevel.__table__


def at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=dt.UTC)


def set_clock(ctx, day: str) -> None:  # type: ignore[no-untyped-def]
    ctx.clock = lambda: at(day)


def ledger(ctx, code: str) -> list[tuple[str, int, str]]:  # type: ignore[no-untyped-def]
    with ctx.session() as s:
        rows = s.execute(
            sa.select(L.c.kind, L.c.points, L.c.source_key)
            .join(C, C.c.id == L.c.customer_id)
            .where(C.c.code == code)
            .order_by(L.c.id)
        ).all()
    return [tuple(r) for r in rows]


def stored_balance(ctx, code: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(SUM of the ledger, customers.points_balance): always equal."""
    with ctx.session() as s:
        cid, kept = s.execute(sa.select(C.c.id, C.c.points_balance).where(C.c.code == code)).one()
        total = s.execute(
            sa.select(sa.func.coalesce(sa.func.sum(L.c.points), 0)).where(L.c.customer_id == cid)
        ).scalar_one()
    return int(total), kept


def set_level(ctx, code: str, level: str) -> None:  # type: ignore[no-untyped-def]
    with ctx.transaction() as s:
        s.execute(sa.update(C).where(C.c.code == code).values(member_level=level))


def audit_actions(ctx) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    t = AuditEntry.__table__
    with ctx.session() as s:
        rows = s.execute(
            sa.select(t.c.entity, t.c.entity_id, t.c.action)
            .where(t.c.entity.in_(["loyalty", "member_level"]))
            .order_by(t.c.id)
        ).all()
    return [tuple(r) for r in rows]


# --- the formula ----------------------------------------------------------------------------


def test_order_points_formula_rounds_down_once() -> None:
    config = LoyaltyConfig(
        points_per_unit=Decimal("2"),
        category_multipliers={"家电": Decimal("1.5")},
        birthday_multiplier=Decimal("2"),
    )
    # 100.50 × 2 × 2 (birthday month) = 402
    assert order_points(Decimal("100.50"), config, birthday_month=True) == 402
    # 33.33 × 2 × 1.5 = 99.99 → 99 (rounded down at the end, not per factor)
    assert order_points(Decimal("33.33"), config, category="家电") == 99
    # unknown category: multiplier 1; level ×1.25: 80 × 2 × 1.25 = 200
    assert (
        order_points(Decimal("80"), config, category="书", level_multiplier=Decimal("1.25")) == 200
    )
    # all factors: 10.01 × 2 × 1.5 × 1.1 × 2 = 66.066 → 66
    assert (
        order_points(
            Decimal("10.01"),
            config,
            category="家电",
            level_multiplier=Decimal("1.1"),
            birthday_month=True,
        )
        == 66
    )
    assert order_points(Decimal("0.49"), config) == 0
    assert order_points(Decimal("-50"), config) == 0


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2025, 3, 31), -1) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2025, 12, 15), 24) == dt.date(2027, 12, 15)


def test_config_file_overrides_defaults(tmp_path: Path) -> None:
    (tmp_path / "loyalty.toml").write_text(
        """
points_per_unit = 0.5
expiry_months = 6
window_months = 3
[category_multipliers]
"母婴" = 3
[[levels]]
name = "Basic"
[[levels]]
name = "Gold"
min_points = 100
multiplier = 2
""",
        encoding="utf-8",
    )
    config = load_config(tmp_path)
    assert config.points_per_unit == Decimal("0.5")
    assert config.expiry_months == 6 and config.window_months == 3
    assert config.hold_months == DEFAULTS.hold_months
    assert config.category_multipliers == {"母婴": Decimal("3")}
    assert [(lv.name, lv.rank, lv.min_points) for lv in config.levels] == [
        ("Basic", 0, 0),
        ("Gold", 1, 100),
    ]
    assert load_config(tmp_path / "none") == DEFAULTS


def test_config_rejects_bad_values() -> None:
    with pytest.raises(InvalidInput):
        config_from_mapping({"points_per_unit": "lots"})
    with pytest.raises(InvalidInput):
        config_from_mapping({"expiry_months": -1})
    with pytest.raises(InvalidInput):
        config_from_mapping({"levels": []})


# --- accrual ---------------------------------------------------------------------------------

RULES = LoyaltyConfig(
    points_per_unit=Decimal("2"),
    category_multipliers={"家电": Decimal("1.5")},
    birthday_multiplier=Decimal("2"),
)


def test_accrual_applies_every_rule_and_never_awards_twice(ctx) -> None:  # type: ignore[no-untyped-def]
    with ctx.transaction() as s:
        cat = s.execute(
            sa.insert(ProductCategory.__table__).values(name="家电").returning(sa.column("id"))
        ).scalar_one()
    add_customer(ctx, "A", birthday="1990-06-15")
    add_customer(ctx, "B")
    add_orders(ctx, "A", [("2025-06-03", "100.50")])
    add_orders(ctx, "A", [("2025-07-01", "33.33")], category_id=cat)
    add_orders(ctx, "A", [("2025-07-02", "500")], status="cancelled")
    add_orders(ctx, "A", [("2025-08-01", "10")])  # after the run date
    add_orders(ctx, "B", [("2025-07-01", "80")])
    set_level(ctx, "B", "金卡")

    summary = loyalty.run_loyalty(ctx, dt.date(2025, 7, 31), RULES)

    assert [(k, p) for k, p, _s in ledger(ctx, "A")] == [("earn", 402), ("earn", 99)]
    assert [(k, p) for k, p, _s in ledger(ctx, "B")] == [("earn", 200)]  # 金卡 ×1.25
    assert all(key.startswith("order:") for _k, _p, key in ledger(ctx, "A"))
    assert summary.orders_accrued == 3 and summary.points_earned == 701
    assert stored_balance(ctx, "A") == (501, 501)
    # Re-running the same date, or a later one, awards nothing twice.
    again = loyalty.run_loyalty(ctx, dt.date(2025, 7, 31), RULES)
    assert not again.changed
    loyalty.run_loyalty(ctx, dt.date(2025, 8, 1), RULES)
    assert [p for _k, p, _s in ledger(ctx, "A")] == [402, 99, 20]
    assert stored_balance(ctx, "A") == (521, 521)


def test_an_order_moved_to_another_customer_is_not_awarded_again(ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tricrm_tui.models import Order

    monkeypatch.setattr(loyalty, "CHUNK", 1)  # A and B in different slices of the run

    add_customer(ctx, "A")
    add_customer(ctx, "B")
    [order_no] = add_orders(ctx, "A", [("2025-01-05", "300")])
    add_orders(ctx, "B", [("2025-01-06", "20")])
    loyalty.run_loyalty(ctx, dt.date(2025, 1, 31))
    with ctx.transaction() as s:  # as a merge of A into B moves A's orders
        b_id = s.execute(sa.select(C.c.id).where(C.c.code == "B")).scalar_one()
        s.execute(
            sa.update(Order.__table__)
            .where(Order.__table__.c.order_no == order_no)
            .values(customer_id=b_id)
        )
    assert not loyalty.run_loyalty(ctx, dt.date(2025, 2, 1)).orders_accrued
    assert stored_balance(ctx, "A") == (300, 300) and stored_balance(ctx, "B") == (20, 20)


def test_earned_lot_expires_exactly_on_its_day(ctx) -> None:  # type: ignore[no-untyped-def]
    config = LoyaltyConfig(expiry_months=12)
    add_customer(ctx, "A")
    add_orders(ctx, "A", [("2024-02-29", "100")])
    loyalty.run_loyalty(ctx, dt.date(2025, 2, 27), config)
    lot_id = ledger(ctx, "A")
    assert stored_balance(ctx, "A") == (100, 100)
    loyalty.run_loyalty(ctx, dt.date(2025, 2, 27), config)
    assert len(ledger(ctx, "A")) == 1  # the day before: nothing expires
    loyalty.run_loyalty(ctx, dt.date(2025, 2, 28), config)  # 29 Feb + 12 months
    rows = ledger(ctx, "A")
    assert rows[-1][:2] == ("expire", -100)
    assert rows[-1][2].endswith(":2025-02-28")
    assert stored_balance(ctx, "A") == (0, 0)
    assert len(lot_id) == 1
    assert not loyalty.run_loyalty(ctx, dt.date(2025, 2, 28), config).changed


def test_redemptions_consume_the_soonest_expiring_lot_first(ctx) -> None:  # type: ignore[no-untyped-def]
    config = LoyaltyConfig(expiry_months=12)
    add_customer(ctx, "A")
    add_orders(ctx, "A", [("2024-01-10", "100"), ("2024-03-10", "100")])
    loyalty.run_loyalty(ctx, dt.date(2024, 12, 31), config)
    set_clock(ctx, "2025-01-02")
    loyalty.redeem_points(ctx, "A", 150, "保温杯", config)  # lot 1: 100, lot 2: 50
    status = loyalty.get_status(ctx, "A", config)
    assert (status.next_expiry, status.next_expiry_points) == (dt.date(2025, 3, 10), 50)
    assert not loyalty.run_loyalty(ctx, dt.date(2025, 1, 10), config).lots_expired
    summary = loyalty.run_loyalty(ctx, dt.date(2025, 3, 10), config)
    assert (summary.lots_expired, summary.points_expired) == (1, 50)
    assert stored_balance(ctx, "A") == (0, 0)


def test_positive_adjustment_is_a_lot_that_expires(ctx) -> None:  # type: ignore[no-untyped-def]
    config = LoyaltyConfig(expiry_months=6)
    add_customer(ctx, "A")
    set_clock(ctx, "2025-01-31")
    entry = loyalty.adjust_points(ctx, "A", 300, "活动补发", config)
    assert entry.expires_on == dt.date(2025, 7, 31) and entry.source_key.startswith("adjust:")
    loyalty.adjust_points(ctx, "A", -100, "更正", config)
    loyalty.run_loyalty(ctx, dt.date(2025, 7, 31), config)
    assert [(k, p) for k, p, _s in ledger(ctx, "A")] == [
        ("adjust", 300),
        ("adjust", -100),
        ("expire", -200),
    ]


def test_balance_never_goes_negative(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "A")
    set_clock(ctx, "2025-01-01")
    loyalty.adjust_points(ctx, "A", 50, "开卡礼")
    with pytest.raises(InvalidInput) as exc:
        loyalty.redeem_points(ctx, "A", 51, "兑换")
    assert exc.value.code == "insufficient_points"
    with pytest.raises(InvalidInput):
        loyalty.adjust_points(ctx, "A", -51, "更正")
    with pytest.raises(InvalidInput):
        loyalty.redeem_points(ctx, "A", 0, "兑换")
    with pytest.raises(InvalidInput):
        loyalty.redeem_points(ctx, "A", 10, "  ")
    with pytest.raises(InvalidInput):
        loyalty.adjust_points(ctx, "A", 0, "x")
    with pytest.raises(InvalidInput) as exc:
        loyalty.redeem_points(ctx, "A", "1.5", "兑换")  # type: ignore[arg-type]
    assert exc.value.code == "not_integer"
    loyalty.redeem_points(ctx, "A", " 10 ", "兑换")  # type: ignore[arg-type]
    loyalty.redeem_points(ctx, "A", 40, "兑换")
    assert stored_balance(ctx, "A") == (0, 0)


def test_two_redemptions_at_once_cannot_overdraw(ctx) -> None:  # type: ignore[no-untyped-def]
    import threading

    add_customer(ctx, "A")
    loyalty.adjust_points(ctx, "A", 100, "开卡礼")
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def redeem() -> None:
        barrier.wait()
        try:
            loyalty.redeem_points(ctx, "A", 60, "兑换")
            outcomes.append("ok")
        except InvalidInput:
            outcomes.append("refused")

    threads = [threading.Thread(target=redeem) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused", "refused", "refused"]
    assert stored_balance(ctx, "A") == (40, 40)


def test_every_action_is_audited_once_and_a_quiet_run_not_at_all(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "A")
    add_orders(ctx, "A", [("2025-01-05", "20")])
    set_clock(ctx, "2025-02-01")
    loyalty.run_loyalty(ctx, dt.date(2025, 2, 1))
    loyalty.redeem_points(ctx, "A", 5, "兑换")
    loyalty.adjust_points(ctx, "A", 3, "补发")
    loyalty.run_loyalty(ctx, dt.date(2025, 2, 1))
    assert audit_actions(ctx) == [
        ("member_level", "*", "seed"),
        ("loyalty", "2025-02-01", "run"),
        ("loyalty", "A", "redeem"),
        ("loyalty", "A", "adjust"),
    ]


# --- levels ----------------------------------------------------------------------------------


def level_changes(ctx, code: str) -> list[tuple[str | None, str, str]]:  # type: ignore[no-untyped-def]
    t = LevelChange.__table__
    with ctx.session() as s:
        rows = s.execute(
            sa.select(t.c.from_level, t.c.to_level, t.c.reason)
            .join(C, C.c.id == t.c.customer_id)
            .where(C.c.code == code)
            .order_by(t.c.id)
        ).all()
    return [tuple(r) for r in rows]


def member_level(ctx, code: str) -> str | None:  # type: ignore[no-untyped-def]
    with ctx.session() as s:
        return s.execute(sa.select(C.c.member_level).where(C.c.code == code)).scalar_one()


def test_levels_go_up_at_once_and_down_after_the_hold(ctx) -> None:  # type: ignore[no-untyped-def]
    config = LoyaltyConfig(expiry_months=0, window_months=12, hold_months=12)
    add_customer(ctx, "A")
    add_customer(ctx, "Quiet")
    add_orders(ctx, "A", [("2025-01-10", "800"), ("2025-02-10", "300")])

    loyalty.run_loyalty(ctx, dt.date(2025, 1, 31), config)
    assert member_level(ctx, "A") is None  # 800 < 1000: still the lowest level, no change row
    loyalty.run_loyalty(ctx, dt.date(2025, 2, 10), config)
    assert member_level(ctx, "A") == "银卡"
    [(before, after, reason)] = level_changes(ctx, "A")
    assert (before, after) == (None, "银卡")
    assert reason.startswith("upgrade: 1100 points earned, 1100.00 spent 2024-02-11..2025-02-10")
    assert member_level(ctx, "Quiet") is None and level_changes(ctx, "Quiet") == []

    # The window has passed both orders but the level is held 12 months from 2025-02-10.
    loyalty.run_loyalty(ctx, dt.date(2026, 2, 9), config)
    assert member_level(ctx, "A") == "银卡"
    loyalty.run_loyalty(ctx, dt.date(2026, 2, 10), config)
    assert member_level(ctx, "A") == "普通"
    assert level_changes(ctx, "A")[-1][:2] == ("银卡", "普通")
    assert level_changes(ctx, "A")[-1][2].startswith("downgrade: 0 points earned")
    assert not loyalty.run_loyalty(ctx, dt.date(2026, 2, 10), config).changed
    history = loyalty.list_level_changes(ctx, "A")
    assert history.total == 2
    assert [(h.to_level, h.at.astimezone(dt.UTC).date()) for h in history.items] == [
        ("普通", dt.date(2026, 2, 10)),
        ("银卡", dt.date(2025, 2, 10)),
    ]


def test_upgrade_by_spend_skips_levels_and_the_multiplier_follows(ctx) -> None:  # type: ignore[no-untyped-def]
    config = LoyaltyConfig(expiry_months=0, points_per_unit=Decimal("0.1"))
    add_customer(ctx, "A")
    add_orders(ctx, "A", [("2025-03-01", "6000")])  # 600 points, but ¥6,000 spend → 金卡
    loyalty.run_loyalty(ctx, dt.date(2025, 3, 1), config)
    assert member_level(ctx, "A") == "金卡"
    add_orders(ctx, "A", [("2025-03-02", "100")])  # 100 × 0.1 × 1.25 = 12.5 → 12
    loyalty.run_loyalty(ctx, dt.date(2025, 3, 2), config)
    assert ledger(ctx, "A")[-1][:2] == ("earn", 12)


def level_rows(ctx) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    with ctx.session() as s:
        return [tuple(r) for r in s.execute(sa.select(ML.c.name, ML.c.rank).order_by(ML.c.rank))]


def test_levels_are_seeded_once_and_counted(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "A")
    add_customer(ctx, "B")
    set_level(ctx, "B", "金卡")
    rows = loyalty.list_levels(ctx)
    assert [(r.name, r.members) for r in rows] == [
        ("普通", 1),
        ("银卡", 0),
        ("金卡", 1),
        ("钻石", 0),
    ]
    assert rows[2].min_spend == Decimal("5000") and rows[2].multiplier == Decimal("1.25")
    loyalty.get_status(ctx, "A")
    kpis.kpi_report(ctx)  # what opening the Dashboard reads
    # Reads are reads: the configured levels are shown, nothing is written or audited.
    assert level_rows(ctx) == [] and audit_actions(ctx) == []
    loyalty.sync_levels(ctx)
    loyalty.sync_levels(ctx)
    assert audit_actions(ctx) == [("member_level", "*", "seed")]
    assert [r.name for r in loyalty.list_levels(ctx)] == ["普通", "银卡", "金卡", "钻石"]


def test_status_shows_the_way_to_the_next_level(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "A", name="李娜")
    add_orders(ctx, "A", [("2025-03-01", "400")])
    set_clock(ctx, "2025-03-10")
    loyalty.run_loyalty(ctx, dt.date(2025, 3, 10))
    status = loyalty.get_status(ctx, "A")
    assert (status.balance, status.level, status.next_level) == (400, "普通", "银卡")
    assert (status.points_to_next, status.spend_to_next) == (600, Decimal("600.00"))
    assert status.next_expiry == dt.date(2027, 3, 1)
    page = loyalty.list_ledger(ctx, "A", limit=1)
    assert page.total == 1 and page.items[0].source_key.startswith("order:")


# --- the CLI ---------------------------------------------------------------------------------


def cli(db_url: str, *args: str):  # type: ignore[no-untyped-def]
    from tricrm_tui.cli.main import build_app
    from tricrm_tui.cli.state import STATE

    STATE._ctx = None
    result = CliRunner().invoke(build_app(), ["--db", db_url, *args])
    STATE._ctx = None
    return result


def test_cli_commands(ctx, db_url: str) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "C1")
    add_orders(ctx, "C1", [("2025-05-01", "1200.40")])

    run = cli(db_url, "loyalty", "run", "--date", "2025-05-31", "--format", "json")
    assert run.exit_code == 0, run.output
    summary = json.loads(run.stdout)
    assert (summary["orders_accrued"], summary["points_earned"], summary["upgrades"]) == (
        1,
        1200,
        1,
    )
    again = json.loads(cli(db_url, "loyalty", "run", "--date", "2025-05-31", "-f", "json").stdout)
    assert again["orders_accrued"] == 0 and again["upgrades"] == 0

    red = cli(db_url, "loyalty", "redeem", "C1", "200", "--reason", "兑换", "-f", "json")
    assert red.exit_code == 0, red.output
    assert json.loads(red.stdout)["points"] == -200
    adj = cli(db_url, "loyalty", "adjust", "C1", "-100", "--reason", "更正", "-f", "json")
    assert adj.exit_code == 0, adj.output
    too_much = cli(db_url, "loyalty", "redeem", "C1", "5000", "--reason", "兑换")
    assert too_much.exit_code != 0
    no_reason = cli(db_url, "loyalty", "redeem", "C1", "5")
    assert no_reason.exit_code == 2

    bal = json.loads(cli(db_url, "loyalty", "balance", "C1", "-f", "json").stdout)
    assert (bal["balance"], bal["level"]) == (900, "银卡")
    rows = json.loads(cli(db_url, "loyalty", "ledger", "C1", "--limit", "2", "-f", "json").stdout)
    assert [r["kind"] for r in rows] == ["adjust", "redeem"]
    csv_out = cli(db_url, "loyalty", "ledger", "C1", "--offset", "2", "-f", "csv").stdout
    assert csv_out.splitlines()[0].startswith("id,at,kind,points") and "order:" in csv_out
    levels = json.loads(cli(db_url, "loyalty", "levels", "-f", "json").stdout)
    assert {r["name"]: r["members"] for r in levels}["银卡"] == 1
    table = cli(db_url, "loyalty", "levels")
    assert "×1.25" in table.stdout


def test_cli_reports_errors_as_one_line(tmp_path: Path, sqlite_template: Path) -> None:
    import shutil
    import subprocess
    import sys

    db = tmp_path / "cli.db"
    shutil.copy(sqlite_template, db)
    out = subprocess.run(
        [sys.executable, "-m", "tricrm_tui", "--db", str(db), "loyalty", "balance", "NOPE"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 3
    assert out.stderr.strip().startswith("error:") and len(out.stderr.strip().splitlines()) == 1


def test_configured_thresholds_apply_to_existing_levels(ctx, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "A")
    loyalty.sync_levels(ctx)  # seeded from the defaults
    config = tmp_path / "cfg"
    config.mkdir()
    (config / "loyalty.toml").write_text(
        "[[levels]]\nname = '普通'\n\n"
        "[[levels]]\nname = '银卡'\nmin_points = 500\nmultiplier = 1.2\n\n"
        "[[levels]]\nname = '金卡'\nmin_spend = 5000\nmultiplier = 1.25\n\n"
        "[[levels]]\nname = '钻石'\nmin_spend = 20000\nmultiplier = 1.5\n\n"
        "[[levels]]\nname = '黑卡'\nmin_spend = 100000\nmultiplier = 2\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("TRICRM_CONFIG_DIR", str(config))
    rows = {r.name: r for r in loyalty.list_levels(ctx)}
    assert rows["银卡"].min_points == 500 and rows["银卡"].multiplier == Decimal("1.2")
    assert rows["黑卡"].min_spend == Decimal("100000") and rows["黑卡"].rank == 4
    # The list shows the edited rules before they are stored; storing them is a write.
    assert ("member_level", "银卡", "update") not in audit_actions(ctx)
    assert ("黑卡", 4) not in level_rows(ctx)
    loyalty.sync_levels(ctx)
    assert ("member_level", "银卡", "update") in audit_actions(ctx)
    assert ("黑卡", 4) in level_rows(ctx)
    assert {r.name: r for r in loyalty.list_levels(ctx)} == rows
    loyalty.sync_levels(ctx)
    assert audit_actions(ctx).count(("member_level", "银卡", "update")) == 1
