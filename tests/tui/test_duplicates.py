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
from tricrm_tui.tui.screens.duplicates import DuplicatesScreen
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
        assert screen.choice["email"] == "D2" and screen.choice["city"] == "D1"
        compare = screen.query_one("#compare", DataTable)
        compare.focus()
        compare.move_cursor(row=screen.shown.index("city"))
        await pilot.press("space")
        assert screen.choice["city"] == "D2"
        compare.move_cursor(row=screen.shown.index("name"))
        await pilot.press("enter")
        assert screen.choice["name"] == "D2"
        await pilot.press("enter")  # and back
        assert screen.choice["name"] == "D1"
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


def test_swap_then_merge_keeps_the_other_customer(dup_ctx) -> None:  # type: ignore[no-untyped-def]
    asyncio.run(_test_swap_then_merge_keeps_the_other_customer(dup_ctx))


async def _test_swap_then_merge_keeps_the_other_customer(dup_ctx) -> None:  # type: ignore[no-untyped-def]
    """A swap used to flip every field's choice, fields both leave empty included, so the
    merge was refused ("D1 has no industry")."""
    app = Host(dup_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        compare = screen.query_one("#compare", DataTable)
        compare.focus()
        compare.move_cursor(row=screen.shown.index("name"))
        await pilot.press("space")  # 張偉 chosen by hand: a swap keeps it chosen
        await pilot.press("s")
        assert (screen.left.code, screen.right.code) == ("D2", "D1")
        assert screen.choice == {"name": "D2", "email": "D2", "city": "D2", "birthday": "D2"}
        await pilot.press("m")
        await settle(pilot)
    assert customers.get_customer(dup_ctx, "D1").merged_into == "D2"
    kept = customers.get_customer(dup_ctx, "D2")
    assert (kept.name, kept.city, kept.email) == ("張偉", "广州", "zw@example.com")


def test_an_empty_value_chosen_stays_empty(dup_ctx) -> None:  # type: ignore[no-untyped-def]
    asyncio.run(_test_an_empty_value_chosen_stays_empty(dup_ctx))


async def _test_an_empty_value_chosen_stays_empty(dup_ctx) -> None:  # type: ignore[no-untyped-def]
    app = Host(dup_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        compare = screen.query_one("#compare", DataTable)
        compare.focus()
        compare.move_cursor(row=screen.shown.index("email"))
        await pilot.press("space")
        assert screen.choice["email"] == "D1"
        await pilot.press("m")
        await settle(pilot)
    kept = customers.get_customer(dup_ctx, "D1")
    assert kept.email is None and kept.birthday == dt.date(1990, 5, 1)  # filled, as not chosen


def test_the_pair_follows_the_groups_cursor(dup_ctx) -> None:  # type: ignore[no-untyped-def]
    asyncio.run(_test_the_pair_follows_the_groups_cursor(dup_ctx))


async def _test_the_pair_follows_the_groups_cursor(dup_ctx) -> None:  # type: ignore[no-untyped-def]
    """Only Enter used to load a group: d then marked the pair still shown, not the one
    highlighted."""
    app = Host(dup_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.query_one("#groups", DataTable).focus()
        await pilot.press("down")
        await settle(pilot)
        assert (screen.left.code, screen.right.code) == ("E1", "E2")
        await pilot.press("d")
        await settle(pilot)
    assert [g.codes for g in dedupe.probable_duplicates(dup_ctx)] == [["D1", "D2"]]


def test_a_customer_gone_since_the_scan_is_said_and_scanned_again(dup_ctx) -> None:  # type: ignore[no-untyped-def]
    asyncio.run(_test_a_customer_gone_since_the_scan(dup_ctx))


async def _test_a_customer_gone_since_the_scan(dup_ctx) -> None:  # type: ignore[no-untyped-def]
    """Deleted or merged by someone else: the screen used to end the whole TUI."""
    from tricrm_tui.services import merge

    app = Host(dup_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        customers.delete_customer(dup_ctx, "E2")
        merge.merge_customers(dup_ctx, "D1", ["D2"])
        await pilot.press("n")  # E1 / E2
        await settle(pilot)
        assert isinstance(app.screen, DuplicatesScreen) and app.is_running
        assert any("no customer with code E2" in str(n.message) for n in app._notifications)
        assert screen.groups == [] and screen.left is None  # scanned again: none left


def test_every_code_and_the_keep_column_fit_80_columns(dup_ctx) -> None:  # type: ignore[no-untyped-def]
    asyncio.run(_test_every_code_and_the_keep_column_fit(dup_ctx))


async def _test_every_code_and_the_keep_column_fit(dup_ctx) -> None:  # type: ignore[no-untyped-def]
    address = "广东省深圳市南山区科技园科发路8号金融基地1栋11楼"
    for code, name in (
        ("C000123", "欧阳娜娜"),
        ("C000456", "歐陽娜娜"),
        ("C000789", "Ouyang Nana"),
    ):
        add_customer(dup_ctx, code, name, phone="13900139000", address=address + code)
    app = Host(dup_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        groups = screen.query_one("#groups", DataTable)
        assert groups.get_row_at(0)[0] == "C000123 C000456 C000789"
        for table in (groups, screen.query_one("#compare", DataTable)):
            widths = [c.get_render_width(table) for c in table.columns.values()]
            assert sum(widths) <= 80, widths
        assert "birthday" not in screen.shown  # empty on both sides


def test_a_customer_merged_since_the_scan_is_said(dup_ctx) -> None:  # type: ignore[no-untyped-def]
    asyncio.run(_test_a_customer_merged_since_the_scan(dup_ctx))


async def _test_a_customer_merged_since_the_scan(dup_ctx) -> None:  # type: ignore[no-untyped-def]
    from tricrm_tui.services import merge

    app = Host(dup_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        merge.merge_customers(dup_ctx, "Z9", ["E2"])
        await pilot.press("n")  # E1 / E2
        await settle(pilot)
        said = [str(n.message) for n in app._notifications]
        assert any("customer E2 is already merged" in m for m in said), said
        # Scanned again: Z9 holds E2's email now, but a shared email beside different
        # names is no evidence.
        assert [g.codes for g in screen.groups] == [["D1", "D2"]]
