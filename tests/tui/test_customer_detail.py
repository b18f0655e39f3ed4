"""The customer detail: every field formatted, the orders tab, registered tabs, going back."""

from __future__ import annotations

from textual.app import App
from textual.widgets import DataTable, Static, TabbedContent

from tests.tui.conftest import capture_notifications, screen_text, settle
from tricrm_tui.i18n import format_date, format_money, set_language
from tricrm_tui.services import customers
from tricrm_tui.tui.screens import customer_detail
from tricrm_tui.tui.screens.customer_detail import CustomerDetailScreen, display_value


class Host(App):
    def __init__(self, ctx, code: str) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.ctx = ctx
        self.code = code

    def on_mount(self) -> None:
        self.push_screen(CustomerDetailScreen(self.code))


async def test_details_show_every_field_formatted(tui_ctx) -> None:
    record = customers.get_customer(tui_ctx, "C0001")
    app = Host(tui_ctx, "C0001")
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        for label in ("Code", "Name", "Phone", "Total spent", "Last order", "Consent", "Version"):
            assert label in text
        assert "王军 (C0001)" in text  # the title names the customer
        assert "¥1,736.40" in text  # three orders: 1,280.00 + 356.50 + 99.90
        assert "2026-02-28" in text and "2025-11-02" in text
        assert "2026-03-15 09:30" in text  # created, in local time (UTC in tests)
        assert "individual" in text
        assert record.phone in text


async def test_orders_tab_pages_from_the_service(tui_ctx) -> None:
    app = Host(tui_ctx, "C0001")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert app.screen.query_one(TabbedContent).active == "tab-0"
        table = app.screen.query_one(".orders-table", DataTable)
        assert table.row_count == 3
        assert app.focused is table
        text = screen_text(app)
        assert text.index("2026-02-28") < text.index("2025-11-02")  # newest first
        assert "¥1,280.00" in text and "orders 1–3 of 3" in text
        await pilot.press("left_square_bracket")
        assert app.screen.query_one(TabbedContent).active == "details"


async def test_later_work_adds_tabs_through_the_registry(tui_ctx, monkeypatch) -> None:
    monkeypatch.setattr(
        customer_detail,
        "DETAIL_TABS",
        [*customer_detail.DETAIL_TABS, ("Timeline", lambda code: Static(f"timeline of {code}"))],
    )
    app = Host(tui_ctx, "C0002")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # Details, then every registered tab: the new one is last.
        await pilot.press(*["right_square_bracket"] * len(customer_detail.DETAIL_TABS))
        await settle(pilot)
        text = screen_text(app)
        assert "Timeline" in text and "timeline of C0002" in text


async def test_backspace_and_escape_go_back(tui_ctx) -> None:
    app = Host(tui_ctx, "C0003")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("backspace")
        await pilot.pause()
        assert not isinstance(app.screen, CustomerDetailScreen)
        app.push_screen(CustomerDetailScreen("C0003"))
        await settle(pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, CustomerDetailScreen)


async def test_an_unknown_code_is_a_notification(tui_ctx, monkeypatch) -> None:
    app = Host(tui_ctx, "NOPE")
    notes = capture_notifications(app, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert ("no customer with code NOPE", "error") in notes
        assert app.is_running


def test_values_read_as_the_operator_expects() -> None:
    import datetime as dt
    from decimal import Decimal

    assert display_value("notes", None) == "—"
    assert display_value("kind", "enterprise") == "enterprise"
    assert display_value("total_spent", Decimal("1234.5")) == format_money(Decimal("1234.5"))
    assert display_value("birthday", dt.date(1990, 5, 1)) == format_date(dt.date(1990, 5, 1))
    assert display_value("tags", ["vip", "北京"]) == "vip, 北京"
    assert display_value("consent", {"email": True, "sms": False}) == "Email ✓  SMS ✗"
    set_language("zh_CN")
    try:
        assert display_value("consent", {"wechat": True}) == "微信 ✓"
        assert display_value("kind", "enterprise") == "企业"
    finally:
        set_language("en")


async def offered(pilot) -> str:  # type: ignore[no-untyped-def]
    """Press ``u``: the code the unmerge question offers."""
    from textual.widgets import Input

    await pilot.press("u")
    await settle(pilot)
    return str(pilot.app.screen.query_one("#answer", Input).value)


async def test_u_unmerges_a_customer_merged_into_this_one(tui_ctx, monkeypatch) -> None:
    """``u`` offers the customers merged in, latest first; Enter gives the offered one back
    and the notice says what moved. A refusal (a chain undone out of order) says why, and
    a customer with none merged in says so."""
    from tricrm_tui.services import merge

    merge.merge_customers(tui_ctx, "C0001", ["C0002"])
    merge.merge_customers(tui_ctx, "C0003", ["C0001"])  # C0001, holding C0002, into C0003
    app = Host(tui_ctx, "C0001")
    notes = capture_notifications(app, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert await offered(pilot) == "C0002"
        await pilot.press("enter")
        await settle(pilot)
        assert any("unmerge C0001 first" in m and sev == "error" for m, sev in notes), notes
        assert customers.get_customer(tui_ctx, "C0002").merged_into == "C0003"

        app.push_screen(CustomerDetailScreen("C0003"))
        await settle(pilot)
        assert await offered(pilot) == "C0001"
        await pilot.press("enter")
        await settle(pilot)
        assert any("C0001 restored from C0003" in m for m, _s in notes), notes
        await pilot.press("escape")  # back on C0001's screen: C0002 can come back now
        await settle(pilot)
        await pilot.press("u", "enter")
        await settle(pilot)
        assert customers.get_customer(tui_ctx, "C0002").merged_into is None
        await pilot.press("u")
        await settle(pilot)
        assert any("no customer is merged into C0001" in m for m, _s in notes), notes

        merge.merge_customers(tui_ctx, "C0005", ["C0006"])  # not into the customer shown
        merge.merge_customers(tui_ctx, "C0001", ["C0007"])
        assert await offered(pilot) == "C0007"
        pilot.app.screen.query_one("#answer").value = "C0006"
        await pilot.press("enter")
        await settle(pilot)
        assert any("C0006 is not merged into C0001" in m for m, _s in notes), notes
        assert customers.get_customer(tui_ctx, "C0006").merged_into == "C0005"


def test_cli_lists_the_customers_merged_into_one(tui_ctx) -> None:
    import json

    from tests.cli_runner import invoke
    from tricrm_tui.services import merge

    merge.merge_customers(tui_ctx, "C0001", ["C0002", "C0004"])
    url = str(tui_ctx.db.engine.url)
    res = invoke(url, "customers", "merged", "C0001", "--format", "json")
    assert res.exit_code == 0, res.output
    assert [r["code"] for r in json.loads(res.stdout)] == ["C0004", "C0002"]
