"""The Dashboard screen: reached by key 8 and the palette, cards, chart, at-risk list, splits.

Fixed data (the 200 TUI customers, 60 of them with orders spread over a year by formula,
a stored value snapshot), a fixed clock (2026-03-15) and UTC, so the snapshot only changes
when the screen does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa
from textual.app import App
from textual.widgets import DataTable, Static

from tests.factories import add_orders
from tests.tui.conftest import capture_notifications, screen_text, settle
from tricrm_tui.i18n import set_language
from tricrm_tui.models import ValueSnapshot
from tricrm_tui.services import customers
from tricrm_tui.services.orders import refresh_customer_aggregates
from tricrm_tui.tui.app import TricrmApp
from tricrm_tui.tui.screens.customer_detail import CustomerDetailScreen
from tricrm_tui.tui.screens.dashboard import DashboardScreen

AS_OF = dt.date(2026, 3, 15)
AT_RISK = {"C0007": "880.00", "C0011": "1200.00", "C0023": None}


@pytest.fixture
def dash_ctx(tui_ctx):  # type: ignore[no-untyped-def]
    start = dt.date(2025, 4, 1)
    for i in range(1, 61):
        days = sorted({(i * 37 + k * 53) % 349 for k in range(1 + i % 4)})
        add_orders(
            tui_ctx,
            f"C{i:04d}",
            [(start + dt.timedelta(days=d), Decimal(i * 13 % 500) + Decimal("9.90")) for d in days],
        )
    with tui_ctx.transaction() as s:
        refresh_customer_aggregates(s)
        for code, clv in AT_RISK.items():
            s.execute(
                sa.insert(ValueSnapshot.__table__).values(
                    customer_id=customers.customer_id_for(s, code),
                    as_of=dt.date(2026, 3, 10),
                    frequency=2,
                    monetary=Decimal("300.00"),
                    lifecycle="at_risk",
                    tier="high",
                    p_alive=0.25,
                    clv=None if clv is None else Decimal(clv),
                )
            )
    return tui_ctx


class Host(App[None]):
    def __init__(self, ctx, screen: DashboardScreen) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.ctx = ctx
        self.dashboard = screen

    def on_mount(self) -> None:
        self.push_screen(self.dashboard)


def card(screen: DashboardScreen, key: str) -> str:
    return str(screen.query_one(f"#card-{key}", Static).render())


async def test_key_8_opens_the_dashboard_and_enter_opens_a_customer(dash_ctx) -> None:  # type: ignore[no-untyped-def]
    app = TricrmApp(dash_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("8")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        assert "as of 2026-03-15" in str(screen.query_one("#dash-title", Static).render())
        assert "200" in card(screen, "customers")
        assert "Revenue (month)" in card(screen, "revenue_month")
        assert "¥2.4k at stake" in card(screen, "at_risk")  # 880 + 1,200 + past spend 300
        risk = screen.query_one("#dash-risk", DataTable)
        assert [str(k.value) for k in risk.rows] == ["C0011", "C0007", "C0023"]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerDetailScreen) and app.screen.code == "C0011"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("r")
        await settle(pilot)
        assert screen.data is not None
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, DashboardScreen)


async def test_palette_opens_the_dashboard(dash_ctx) -> None:  # type: ignore[no-untyped-def]
    app = TricrmApp(dash_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"dashboard")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)


async def test_a_failing_load_notifies_and_the_screen_stays(dash_ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tricrm_tui.services import kpis
    from tricrm_tui.services.errors import DatabaseError

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise DatabaseError("database is locked")

    monkeypatch.setattr(kpis, "kpi_report", broken)
    app = Host(dash_ctx, DashboardScreen(AS_OF))
    notes = capture_notifications(app, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert notes and notes[-1] == ("database is locked", "error")


async def test_enter_reports_the_customer_when_asked(dash_ctx) -> None:  # type: ignore[no-untyped-def]
    codes: list[str] = []
    app = Host(dash_ctx, DashboardScreen(AS_OF, on_customer=codes.append))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        assert codes == ["C0007"]
        tiers = app.screen.query_one("#dash-tiers", DataTable)
        assert tiers.row_count == 4  # A, B, C and no tier in the TUI data


async def test_a_past_date_lists_who_its_card_counts(dash_ctx) -> None:  # type: ignore[no-untyped-def]
    """A later refresh (after the screen's date) judges someone else at risk: the list on
    the 15th still shows the refresh of the 10th, as the card does."""
    with dash_ctx.transaction() as s:
        s.execute(
            sa.insert(ValueSnapshot.__table__).values(
                customer_id=customers.customer_id_for(s, "C0030"),
                as_of=dt.date(2026, 3, 20),
                frequency=2,
                monetary=Decimal("300.00"),
                lifecycle="at_risk",
                tier="high",
                p_alive=0.2,
                clv=Decimal("5000.00"),
            )
        )
    app = Host(dash_ctx, DashboardScreen(AS_OF))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        risk = app.screen.query_one("#dash-risk", DataTable)
        assert [str(k.value) for k in risk.rows] == ["C0011", "C0007", "C0023"]
        assert card(app.screen, "at_risk").splitlines()[1] == "3"
    later = Host(dash_ctx, DashboardScreen(dt.date(2026, 3, 25)))
    async with later.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        risk = later.screen.query_one("#dash-risk", DataTable)
        assert [str(k.value) for k in risk.rows] == ["C0030"]
    early = Host(dash_ctx, DashboardScreen(dt.date(2026, 3, 1)))
    async with early.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        title = str(early.screen.query_one("#dash-risk-title", Static).render())
        assert title == "No value refresh on or before this date"


@pytest.fixture
def chinese() -> Iterator[None]:
    set_language("zh_CN")
    yield
    set_language("en")


async def test_chinese_cards(dash_ctx, chinese) -> None:  # type: ignore[no-untyped-def]
    app = Host(dash_ctx, DashboardScreen(AS_OF))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "仪表盘 · 截至 2026年3月15日" in text and "本月收入" in text
        assert "Revenue" not in text


def test_dashboard_snapshot_80x24(dash_ctx, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        Host(dash_ctx, DashboardScreen(AS_OF)), terminal_size=(80, 24), run_before=settle
    )


def test_dashboard_snapshot_scrolled_80x24(dash_ctx, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def scrolled(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        pilot.app.screen.query_one("#dash-body").scroll_end(animate=False)
        await pilot.pause()

    assert snap_compare(
        Host(dash_ctx, DashboardScreen(AS_OF)), terminal_size=(80, 24), run_before=scrolled
    )


def test_cards_show_the_change_or_what_they_say_instead() -> None:
    from tricrm_tui.services.kpis import Kpi
    from tricrm_tui.tui.screens.dashboard import card_text

    up = card_text("Orders", Kpi("orders_month", "Orders", "count", 120, 100))
    assert up.plain == "Orders\n120\n▲ +20.0%" and up.spans[-1].style == "green"
    rate = card_text("Repeat", Kpi("repeat_rate", "Repeat", "percent", 40.0, 42.5))
    assert rate.plain.endswith("▼ -2.5 pt") and rate.spans[-1].style == "red"
    risk = card_text("At risk", Kpi("at_risk", "At risk", "count", 12, 10), "¥2.4k at stake")
    assert risk.plain.endswith("¥2.4k at stake")
    assert card_text("New", Kpi("new_customers", "New", "count", 3, 0)).plain.endswith("was 0")
