"""The loyalty panel of the customer detail: summary, paged ledger, redeem and adjust forms."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from tests.factories import add_customer, add_orders
from tricrm_tui.services import loyalty
from tricrm_tui.tui.widgets.loyalty_panel import LoyaltyPanel, PointsForm

NOW = dt.datetime(2026, 3, 15, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def panel_ctx(sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """A customer with three orders accrued on 2026-03-15 (1,735 points, 银卡), clock fixed."""
    from tricrm_tui.services.context import Actor, open_context

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    target = tmp_path / "tricrm.db"
    shutil.copy(sqlite_template, target)
    ctx = open_context(str(target), Actor("tester", "admin"))
    ctx.clock = lambda: NOW
    add_customer(ctx, "C0001", name="王军")
    # fixed order numbers: the ledger shows them, and the snapshot must not depend on test order
    for no, day, amount in [
        ("SO-1001", "2025-11-02", "1280.00"),
        ("SO-1002", "2026-01-15", "356.50"),
        ("SO-1003", "2026-02-28", "99.90"),
    ]:
        add_orders(ctx, "C0001", [(day, amount)], order_no=no)
    loyalty.run_loyalty(ctx, NOW.date())
    yield ctx
    ctx.db.dispose()
    monkeypatch.undo()
    time.tzset()


class Host(App):
    def __init__(self, ctx) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.ctx = ctx

    def compose(self) -> ComposeResult:
        yield LoyaltyPanel("C0001")

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    for _round in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def shown(app: App) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def fill_form(pilot, points: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press(*points)
    await pilot.press("tab")
    await pilot.press(*reason) if reason else None
    await pilot.press("enter")
    await settle(pilot)


@pytest.mark.asyncio
async def test_panel_shows_balance_level_and_ledger(panel_ctx) -> None:  # type: ignore[no-untyped-def]
    app = Host(panel_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = shown(app)
        assert "1,735 points" in text and "银卡" in text
        assert "Next: 金卡, 3,265 points / ¥3,263.60 to go" in text
        assert "Since 2025-03-16: 1,735 points earned, ¥1,736.40 spent" in text
        assert "1,280 points expire on 2027-11-02" in text
        assert app.query_one(DataTable).row_count == 3
        assert "entries 1–3 of 3" in text


@pytest.mark.asyncio
async def test_redeem_and_adjust_through_the_form(panel_ctx) -> None:  # type: ignore[no-untyped-def]
    app = Host(panel_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("r")
        assert isinstance(app.screen, PointsForm)
        await fill_form(pilot, "100", "")
        assert isinstance(app.screen, PointsForm)  # no reason: the form stays, says why
        assert "a reason is required" in shown(app)
        await pilot.press(*"gift")
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, PointsForm)
        assert loyalty.get_status(panel_ctx, "C0001").balance == 1635
        assert "1,635 points" in shown(app) and "-100" in shown(app)

        await pilot.press("a")
        await fill_form(pilot, "-35", "更正")
        assert loyalty.get_status(panel_ctx, "C0001").balance == 1600

        await pilot.press("r")
        await fill_form(pilot, "99999", "too much")
        assert loyalty.get_status(panel_ctx, "C0001").balance == 1600
        assert any("not enough points" in n.message for n in app._notifications)

        await pilot.press("r", "escape")
        assert not isinstance(app.screen, PointsForm)
        assert [e.reason for e in loyalty.list_ledger(panel_ctx, "C0001").items[:2]] == [
            "更正",
            "gift",
        ]


@pytest.mark.asyncio
async def test_ledger_pages(panel_ctx) -> None:  # type: ignore[no-untyped-def]
    for i in range(12):
        loyalty.adjust_points(panel_ctx, "C0001", 1, f"bonus {i}")
    app = Host(panel_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "entries 1–10 of 15" in shown(app)
        await pilot.press("pagedown")
        await settle(pilot)
        assert "entries 11–15 of 15" in shown(app)
        assert app.query_one(DataTable).row_count == 5
        await pilot.press("pagedown")
        await settle(pilot)
        assert "entries 11–15 of 15" in shown(app)
        await pilot.press("pageup")
        await settle(pilot)
        assert "entries 1–10 of 15" in shown(app)


def test_snapshot(panel_ctx, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(Host(panel_ctx), terminal_size=(80, 24), run_before=settle)


@pytest.mark.asyncio
async def test_panel_speaks_chinese(panel_ctx) -> None:  # type: ignore[no-untyped-def]
    from tricrm_tui.i18n import set_language

    set_language("zh_CN")
    try:
        app = Host(panel_ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            text = shown(app)
            assert "余额 1,735 积分" in text and "下一等级：金卡" in text
            assert "获得" in text and "第 1–3 条，共 3 条" in text
            await pilot.press("r")
            assert "兑换 C0001 的积分" in shown(app) and "原因（必填）" in shown(app)
    finally:
        set_language("en")
