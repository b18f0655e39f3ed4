"""Editing from the detail screen: saved through the service, refused clearly on a conflict."""

from __future__ import annotations

from textual.widgets import Input, Static

from tests.tui.conftest import screen_text, settle
from tests.tui.test_customer_detail import Host
from tricrm_tui.services import customers
from tricrm_tui.tui.screens.customer_detail import CustomerDetailScreen
from tricrm_tui.tui.screens.customer_edit import CustomerEditScreen


async def _open_form(pilot) -> CustomerEditScreen:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("e")
    await pilot.pause()
    form = pilot.app.screen
    assert isinstance(form, CustomerEditScreen)
    return form


async def test_edit_saves_the_changed_fields(tui_ctx) -> None:
    app = Host(tui_ctx, "C0002")
    async with app.run_test(size=(80, 24)) as pilot:
        form = await _open_form(pilot)
        form.query_one("#edit-city", Input).value = "苏州"
        form.query_one("#edit-tags", Input).value = "vip, 回头客"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerDetailScreen)
        stored = customers.get_customer(tui_ctx, "C0002")
        assert stored.city == "苏州" and stored.tags == ["vip", "回头客"]
        assert stored.version == 2 and stored.name == "李娜"
        assert "苏州" in screen_text(app) and "vip, 回头客" in screen_text(app)


async def test_invalid_input_keeps_the_form_open(tui_ctx) -> None:
    app = Host(tui_ctx, "C0002")
    async with app.run_test(size=(80, 24)) as pilot:
        form = await _open_form(pilot)
        form.query_one("#edit-email", Input).value = "not-an-email"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is form
        assert app.focused is form.query_one("#edit-email", Input)
        assert customers.get_customer(tui_ctx, "C0002").email == "c2@example.com"


async def test_a_conflict_is_shown_and_nothing_is_overwritten(tui_ctx) -> None:
    app = Host(tui_ctx, "C0002")
    async with app.run_test(size=(80, 24)) as pilot:
        form = await _open_form(pilot)
        customers.edit_customer(tui_ctx, "C0002", {"city": "南京"})  # someone else saves first
        form.query_one("#edit-city", Input).value = "苏州"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is form
        message = form.query_one("#edit-error", Static)
        assert message.has_class("-conflict")
        assert "changed by someone else" in str(message.render())
        assert customers.get_customer(tui_ctx, "C0002").city == "南京"
        await pilot.press("escape")  # back on the detail, which now shows the stored value
        await settle(pilot)
        assert isinstance(app.screen, CustomerDetailScreen)
        assert "南京" in screen_text(app)
