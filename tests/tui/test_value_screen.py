"""The value screen and the customer detail's Value tab, on the CDNOW sample."""

from __future__ import annotations

import datetime as dt

import pytest
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Static, TabbedContent

from tests.cdnow import load_cdnow
from tricrm_tui.services import customers, value
from tricrm_tui.tui.screens.value import ValueScreen
from tricrm_tui.tui.widgets.value_tab import ValueTab

AS_OF = dt.date(1997, 9, 30)


class Host(App[None]):
    def __init__(self, ctx, screen: ValueScreen | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.ctx = ctx
        self.screen_to_show = screen
        self.chosen: list[object] = []

    def on_mount(self) -> None:
        if self.screen_to_show is not None:
            self.push_screen(self.screen_to_show)

    def on_value_screen_selection_chosen(self, message: ValueScreen.SelectionChosen) -> None:
        self.chosen.append(message.description)


class TabHost(App[None]):
    def __init__(self, ctx, code: str) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.ctx = ctx
        self.code = code

    def compose(self) -> ComposeResult:
        yield ValueTab(self.code)


@pytest.fixture
def cdnow(sqlite_ctx):  # type: ignore[no-untyped-def]
    load_cdnow(sqlite_ctx)
    value.value_refresh(sqlite_ctx, AS_OF)
    return sqlite_ctx


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_grid_cell_and_segment_open_their_customers(cdnow) -> None:  # type: ignore[no-untyped-def]
    picked: list[value.Selection] = []
    app = Host(cdnow, ValueScreen(AS_OF, on_select=picked.append))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ValueScreen)
        grid = screen.query_one("#value-grid", DataTable)
        assert grid.row_count == 5
        # Cursor starts on the R5 row's label; move to F5 (Champions' corner) and open it.
        for _ in range(5):
            await pilot.press("right")
        await pilot.press("enter")
        await pilot.pause()
        assert picked[-1] == value.Selection(kind="cell", as_of=AS_OF, r=5, f=5)
        status = str(screen.query_one("#value-status", Static).render())
        assert "Champions" in status
        # The selection becomes a customer condition: exactly the cell's customers.
        cond = value.selection_condition(cdnow, picked[-1])
        cell = next(c for c in screen.overview.grid if (c.r, c.f) == (5, 5))
        assert customers.list_customers(cdnow, where=cond).total == cell.customers > 0
        await pilot.press("s")
        assert screen.query_one(TabbedContent).active == "segments"
        await pilot.press("enter")
        await pilot.pause()
        assert picked[-1].kind == "segment" and picked[-1].name == "Champions"
        assert picked[-1].expression == 'segment:"Champions"'
        await pilot.press("t", "down", "enter")
        await pilot.pause()
        assert picked[-1] == value.Selection(kind="tier", as_of=AS_OF, name="medium")
        assert app.chosen[-1] == "tier medium as of 1997-09-30"


async def test_at_risk_tab_and_refresh_key(sqlite_ctx) -> None:  # type: ignore[no-untyped-def]
    load_cdnow(sqlite_ctx)
    codes: list[str] = []
    app = Host(sqlite_ctx, ValueScreen(AS_OF, on_customer=codes.append))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert "not stored" in str(screen.query_one("#value-status", Static).render())
        await pilot.press("a")
        risk = screen.query_one("#value-risk", DataTable)
        assert risk.row_count == 100
        await pilot.press("enter")
        assert codes == ["CD1901"]
        await pilot.press("r")
        await settle(pilot)
        assert "not stored" not in str(screen.query_one("#value-status", Static).render())
    assert value.latest_snapshot_date(sqlite_ctx) == AS_OF


async def test_value_tab_shows_scores_and_history(cdnow) -> None:  # type: ignore[no-untyped-def]
    value.value_refresh(cdnow, dt.date(1997, 6, 30))
    app = TabHost(cdnow, "CD0001")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        facts = str(app.query_one("#value-facts", Static).render())
        assert "R5 F4 M4" in facts and "Champions" in facts and "Points 0" in facts
        table = app.query_one("#value-history", DataTable)
        assert table.row_count == 2


@pytest.mark.parametrize(
    ("keys", "size"),
    [((), (80, 24)), (("s",), (80, 24)), (("a",), (120, 30))],
    ids=["grid", "segments", "at-risk-wide"],
)
def test_value_screen_snapshot(cdnow, snap_compare, keys, size) -> None:  # type: ignore[no-untyped-def]
    async def ready(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press(*keys)
        await pilot.pause()

    assert snap_compare(Host(cdnow, ValueScreen(AS_OF)), terminal_size=size, run_before=ready)


def test_value_tab_snapshot(cdnow, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def ready(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)

    assert snap_compare(TabHost(cdnow, "CD0001"), terminal_size=(80, 24), run_before=ready)
