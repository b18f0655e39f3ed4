"""The Today screen driven by keys at 80×24, and snapshots of it and of the timeline widget."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable

from tests.factories import add_customer, add_orders
from tests.interact_helpers import set_customer
from tricrm_tui.services import followups, interactions, plans
from tricrm_tui.tui.screens.today import LogContactModal, SnoozeModal, TodayScreen
from tricrm_tui.tui.widgets.timeline import TimelineView

NOW = dt.datetime(2026, 3, 15, 10, 30, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


class Host(App[None]):
    """A bare app with a service context, as the real app provides one."""

    def __init__(self, ctx, screen_factory=TodayScreen) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.ctx = ctx
        self.screen_factory = screen_factory
        self.opened: list[str] = []

    def on_mount(self) -> None:
        self.push_screen(self.screen_factory())

    def open_customer(self, code: str) -> None:
        self.opened.append(code)


def _seed(ctx) -> None:  # type: ignore[no-untyped-def]
    ctx.clock = lambda: NOW
    add_customer(ctx, "C1", "张三")
    add_customer(ctx, "C2", "李四")
    add_customer(ctx, "C3", "王五")
    set_customer(ctx, "C1", value_tier="high")
    set_customer(ctx, "C3", value_tier="medium")
    interactions.log_interaction(
        ctx, "C1", channel="phone", subject="报价", at="2026-03-10 10:00", follow_up="2026-03-13"
    )
    followups.add_followup(ctx, "C2", due="2026-03-15 15:00", reason="确认发货")
    followups.add_followup(ctx, "C3", due="2026-03-15 17:30", reason="生日问候")
    followups.add_followup(ctx, "C3", due="2026-03-18", reason="下周的任务")


async def _settle(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


@pytest.mark.asyncio
async def test_log_and_close_then_snooze_then_cancel(ctx) -> None:  # type: ignore[no-untyped-def]
    _seed(ctx)
    plans.set_plan(ctx, "vip", target="tier:high", every="30d")  # C1 has an open task: none new
    app = Host(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        screen = app.screen
        assert isinstance(screen, TodayScreen)
        table = screen.query_one("#tasks", DataTable)
        # Overdue first (C1's follow-up from the 13th), then today's in time order.
        assert [t.customer_code for t in screen.tasks.values()] == ["C1", "C2", "C3"]
        assert table.row_count == 3
        await pilot.press("enter")
        assert app.opened == ["C1"]
        # l: log the contact and close the task.
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, LogContactModal)
        await pilot.press(*"ok", "enter")
        await pilot.press(*"下周再联系", "enter")
        await _settle(pilot)
        assert [t.customer_code for t in app.screen.tasks.values()] == ["C2", "C3"]
        closed = followups.list_followups(ctx, customer="C1", status="done").items
        assert len(closed) == 1
        logged = interactions.list_interactions(ctx, customer="C1").items[0]
        assert (logged.channel, logged.outcome, logged.notes) == ("phone", "ok", "下周再联系")
        # z: snooze the highlighted task (C2) by the default, one day.
        await pilot.press("z")
        await pilot.pause()
        assert isinstance(app.screen, SnoozeModal)
        await pilot.press("enter")
        await _settle(pilot)
        assert [t.customer_code for t in app.screen.tasks.values()] == ["C3"]
        c2 = followups.list_followups(ctx, customer="C2").items[0]
        assert c2.status == "snoozed" and c2.due == NOW + dt.timedelta(days=1)
        # x: cancel the last one.
        await pilot.press("x")
        await _settle(pilot)
        assert app.screen.tasks == {}
        assert followups.list_followups(ctx, customer="C3", status="cancelled").total == 1


@pytest.mark.asyncio
async def test_escape_leaves_the_task_open(sqlite_ctx) -> None:  # type: ignore[no-untyped-def]
    _seed(sqlite_ctx)
    app = Host(sqlite_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("l")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.press("z")
        await pilot.pause()
        await pilot.press("escape")
        await _settle(pilot)
        assert len(app.screen.tasks) == 3
        assert followups.list_followups(sqlite_ctx).total == 4


@pytest.mark.asyncio
async def test_opening_runs_plans_and_shows_overdue_complaints(sqlite_ctx) -> None:  # type: ignore[no-untyped-def]
    ctx = sqlite_ctx
    _seed(ctx)
    add_customer(ctx, "C4", "赵六")
    set_customer(ctx, "C4", value_tier="high")
    plans.set_plan(ctx, "vip", target="tier:high", every="30d")
    _complaint(ctx, "C2")
    app = Host(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        codes = [t.customer_code for t in app.screen.tasks.values()]
        assert "C4" in codes  # the plan's task for today, created on opening
        complaints = app.screen.query_one("#complaints", DataTable)
        assert complaints.row_count == 1
        complaints.focus()
        await pilot.press("enter")
        assert app.opened == ["C2"]


async def test_most_valuable_at_risk_customers_are_listed_and_open(sqlite_ctx) -> None:  # type: ignore[no-untyped-def]
    from tests.unit.test_at_risk_snapshot import _snapshot

    _seed(sqlite_ctx)
    _snapshot(sqlite_ctx, "C2", "2026-03-01", "at_risk", "880")
    _snapshot(sqlite_ctx, "C1", "2026-03-01", "active", "990")
    app = Host(sqlite_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        table = app.screen.query_one("#at-risk", DataTable)
        assert table.display and table.row_count == 1
        assert "李四" in str(table.get_row_at(0)[0])
        table.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.opened == ["C2"]


def _complaint(ctx, code: str) -> None:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    from tricrm_tui.models import Feedback
    from tricrm_tui.services.customers import get_customer

    with ctx.transaction() as s:
        s.execute(
            sa.insert(Feedback.__table__).values(
                customer_id=get_customer(ctx, code).id, kind="complaint", status="open",
                category="物流延误", severity="high", sla_due_at=NOW - dt.timedelta(hours=5),
                extra={}, created_at=NOW - dt.timedelta(days=1),
            )
        )  # fmt: skip


def test_today_snapshot(sqlite_ctx, snap_compare) -> None:  # type: ignore[no-untyped-def]
    _seed(sqlite_ctx)
    _complaint(sqlite_ctx, "C2")
    assert snap_compare(Host(sqlite_ctx), terminal_size=(80, 24), run_before=_settle)


class TimelineScreen(Screen):
    def compose(self) -> ComposeResult:
        yield TimelineView("C1", page_size=8)


def test_timeline_snapshot(sqlite_ctx, snap_compare) -> None:  # type: ignore[no-untyped-def]
    ctx = sqlite_ctx
    _seed(ctx)
    add_orders(ctx, "C1", [("2026-02-01", "1280.00")], order_no="SO-1")
    add_orders(ctx, "C1", [("2026-03-01", "99.90")], order_no="SO-2")
    for day in range(1, 9):
        interactions.log_interaction(
            ctx, "C1", channel="wechat", subject=f"第{day}次沟通", at=f"2026-02-{day:02d} 11:00"
        )

    async def next_page(pilot) -> None:  # type: ignore[no-untyped-def]
        await _settle(pilot)
        await pilot.press("n")
        await _settle(pilot)

    app = Host(ctx, TimelineScreen)
    assert snap_compare(app, terminal_size=(80, 24), run_before=next_page)


@pytest.mark.asyncio
async def test_m_shows_only_my_tasks(sqlite_ctx) -> None:  # type: ignore[no-untyped-def]
    _seed(sqlite_ctx)
    followups.add_followup(sqlite_ctx, "C2", due="2026-03-15 12:00", reason="同事的", owner="amy")
    app = Host(sqlite_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        assert len(app.screen.tasks) == 4
        await pilot.press("m")
        await _settle(pilot)
        assert [t.owner for t in app.screen.tasks.values()] == ["tester"] * 3
        await pilot.press("m")
        await _settle(pilot)
        assert len(app.screen.tasks) == 4
