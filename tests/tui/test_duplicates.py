"""The duplicates review screen and the filter bar, driven by keys in a tiny host app.

Async bodies run under ``asyncio.run`` so the tests need no async pytest plugin.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Input, Static

from tests.factories import add_customer
from tricrm_tui.services import customers, dedupe
from tricrm_tui.tui.screens.duplicates import COMPARED_FIELDS, DuplicatesScreen
from tricrm_tui.tui.widgets.filter_bar import FilterBar

NOW = dt.datetime(2026, 3, 15, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def dup_ctx(tmp_path: Path, sqlite_template: Path):  # type: ignore[no-untyped-def]
    from tricrm_tui.services.context import Actor, open_context

    target = tmp_path / "tricrm.db"
    shutil.copy(sqlite_template, target)
    ctx = open_context(str(target), Actor("tester", "admin"))
    ctx.clock = lambda: NOW
    add_customer(ctx, "D1", "张伟", phone="13800138000", city="深圳", registered="2025-01-01")
    add_customer(
        ctx,
        "D2",
        "張偉",
        phone="13800138000",
        email="zw@example.com",
        city="广州",
        birthday="1990-05-01",
        registered="2025-01-01",
    )
    add_customer(ctx, "E1", "李娜", email="lina@example.com", registered="2025-01-01")
    add_customer(ctx, "E2", "Li Na", email="lina@example.com", registered="2025-01-01")
    add_customer(ctx, "Z9", "王芳", province="广东", tags="vip", registered="2025-01-01")
    yield ctx
    ctx.db.dispose()


class Host(App[None]):
    def __init__(self, ctx, screen=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.ctx = ctx
        self._screen = screen

    def on_mount(self) -> None:
        self.push_screen(self._screen or DuplicatesScreen())


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    """Workers start workers (groups → pair): wait until all are done and, when there are
    groups, until the pair is on screen (a busy machine may start the second worker late)."""
    for _ in range(200):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        screen = pilot.app.screen
        loaded = getattr(screen, "groups_loaded", True)
        groups = getattr(screen, "groups", None)
        busy = any(w.is_running for w in pilot.app.workers)
        if not busy and loaded and (not groups or getattr(screen, "left", None) is not None):
            await pilot.pause()
            return
        await pilot.pause(0.02)


def test_review_merge_and_mark_different(dup_ctx) -> None:  # type: ignore[no-untyped-def]
    asyncio.run(_test_review_merge_and_mark_different(dup_ctx))


async def _test_review_merge_and_mark_different(dup_ctx) -> None:  # type: ignore[no-untyped-def]
    app = Host(dup_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DuplicatesScreen)
        groups = screen.query_one("#groups", DataTable)
        assert groups.row_count == 2
        assert (screen.left.code, screen.right.code) == ("D1", "D2")
        # empty on the left, so the right value is pre-chosen; differing values chosen left
        assert screen.choice["email"] == "right" and screen.choice["city"] == "left"
        compare = screen.query_one("#compare", DataTable)
        compare.focus()
        compare.move_cursor(row=COMPARED_FIELDS.index("city"))
        await pilot.press("space")
        assert screen.choice["city"] == "right"
        compare.move_cursor(row=COMPARED_FIELDS.index("name"))
        await pilot.press("enter")
        assert screen.choice["name"] == "right"
        await pilot.press("enter")  # and back
        assert screen.choice["name"] == "left"
        await pilot.press("m")
        await settle(pilot)
        kept = customers.get_customer(dup_ctx, "D1")
        assert kept.city == "广州" and kept.email == "zw@example.com" and kept.name == "张伟"
        assert customers.get_customer(dup_ctx, "D2").merged_into == "D1"
        assert groups.row_count == 1
        assert (screen.left.code, screen.right.code) == ("E1", "E2")
        await pilot.press("d")
        await settle(pilot)
        assert groups.row_count == 0
        assert "No probable duplicates" in str(screen.query_one("#status", Static).render())
    assert dedupe.probable_duplicates(dup_ctx) == []


def test_skip_and_swap(dup_ctx) -> None:  # type: ignore[no-untyped-def]
    asyncio.run(_test_skip_and_swap(dup_ctx))


async def _test_skip_and_swap(dup_ctx) -> None:  # type: ignore[no-untyped-def]
    app = Host(dup_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("n")
        await settle(pilot)
        assert screen.left.code == "E1"
        await pilot.press("s")
        assert (screen.left.code, screen.right.code) == ("E2", "E1")
        await pilot.press("n")
        await settle(pilot)
        assert screen.left.code == "D1"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, DuplicatesScreen)


class FilterHost(App[None]):
    def __init__(self, ctx) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.ctx = ctx
        self.events: list[object] = []

    def compose(self) -> ComposeResult:
        yield FilterBar()

    def on_filter_bar_applied(self, event: FilterBar.Applied) -> None:
        self.events.append(event)

    def on_filter_bar_cleared(self, event: FilterBar.Cleared) -> None:
        self.events.append("cleared")


def test_filter_bar_validates_and_returns_a_condition(dup_ctx) -> None:  # type: ignore[no-untyped-def]
    asyncio.run(_test_filter_bar_validates_and_returns_a_condition(dup_ctx))


async def _test_filter_bar_validates_and_returns_a_condition(dup_ctx) -> None:  # type: ignore[no-untyped-def]
    from tricrm_tui.services.segments import save_segment

    save_segment(dup_ctx, "south", "province:广东")
    app = FilterHost(dup_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        bar = app.query_one(FilterBar)
        field = bar.query_one(Input)
        field.focus()
        await pilot.press(*"provnce:x")
        message = str(bar.query_one("#filter-message", Static).render())
        assert "unknown field provnce" in message and "^^^^^^^" in message
        assert bar.query_one("#filter-message").has_class("error")
        field.value = ""
        await pilot.press(*"saved:south tag:vip", "enter")
        await settle(pilot)
        event = app.events[-1]
        assert isinstance(event, FilterBar.Applied)
        assert event.meaning == "in segment south and tagged vip"
        page = customers.list_customers(dup_ctx, where=event.condition)
        assert [c.code for c in page.items] == ["Z9"]
        await pilot.press("escape")
        await pilot.pause()
        assert app.events[-1] == "cleared" and field.value == ""


def test_duplicates_snapshot(snap_compare, dup_ctx) -> None:  # type: ignore[no-untyped-def]
    async def ready(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)

    assert snap_compare(Host(dup_ctx), terminal_size=(80, 24), run_before=ready)


def test_filter_bar_snapshot(snap_compare, dup_ctx) -> None:  # type: ignore[no-untyped-def]
    async def typed(pilot) -> None:  # type: ignore[no-untyped-def]
        field = pilot.app.query_one(Input)
        field.cursor_blink = False
        field.focus()
        await pilot.press(*"province:广东 orders>=x")
        await pilot.pause()

    assert snap_compare(FilterHost(dup_ctx), terminal_size=(80, 24), run_before=typed)


def test_filter_bar_picks_a_saved_segment(dup_ctx) -> None:  # type: ignore[no-untyped-def]
    asyncio.run(_test_filter_bar_picks_a_saved_segment(dup_ctx))


async def _test_filter_bar_picks_a_saved_segment(dup_ctx) -> None:  # type: ignore[no-untyped-def]
    from tricrm_tui.services.segments import save_segment
    from tricrm_tui.tui.widgets.segment_picker import SegmentPicker

    save_segment(dup_ctx, "alpha", "tag:none")
    save_segment(dup_ctx, "south", "province:广东")
    app = FilterHost(dup_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        app.query_one(Input).focus()
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert isinstance(app.screen, SegmentPicker)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.query_one(Input).value == "saved:south"
        event = app.events[-1]
        assert isinstance(event, FilterBar.Applied)
        assert [c.code for c in customers.list_customers(dup_ctx, where=event.condition).items] == [
            "Z9"
        ]
        await pilot.press("ctrl+g")
        await settle(pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SegmentPicker)
