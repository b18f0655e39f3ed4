"""The customer list, driven by keys on a real 200-customer SQLite file (and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from tests.tui.conftest import (
    LongWork,
    capture_notifications,
    question_after,
    screen_text,
    settle,
)
from tests.tui.data import UNIQUE_CODE, UNIQUE_NAME, seed_customers
from tricrm_tui.models import Customer
from tricrm_tui.services import customer_rows, customers
from tricrm_tui.services.errors import DatabaseUnavailable
from tricrm_tui.services.paging import Page
from tricrm_tui.tui.app import TricrmApp
from tricrm_tui.tui.screens.customer_detail import CustomerDetailScreen
from tricrm_tui.tui.screens.customer_list import PAGE_SIZE, CustomerListScreen
from tricrm_tui.tui.screens.help import HelpScreen


def row_codes(screen: CustomerListScreen) -> list[str]:
    table = screen.table
    return [str(table.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(table.row_count)]


def status(screen: CustomerListScreen) -> str:
    return str(screen.query_one("#status").render())


async def open_these(app, pilot, where, title: str) -> CustomerListScreen:  # type: ignore[no-untyped-def]
    """Push a list of "these customers" (as the Value screen does) and wait for its rows."""
    await settle(pilot)
    await app.push_screen(CustomerListScreen(where=where, title=title))
    await settle(pilot)
    return app.screen  # type: ignore[no-any-return]


async def test_opens_on_the_first_page_only(tui_ctx) -> None:
    app = TricrmApp(tui_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CustomerListScreen)
        codes = row_codes(screen)
        assert len(codes) == PAGE_SIZE
        assert codes[0] == "C0001" and codes[-1] == "C0050"
        assert "rows 1–50 of 200" in status(screen)
        assert "tricrm.db" in app.title and "tester" in app.title


async def test_page_keys_and_moving_past_the_edges_fetch_pages(tui_ctx) -> None:
    app = TricrmApp(tui_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("pagedown")
        await settle(pilot)
        assert row_codes(screen)[0] == "C0051"
        assert "rows 51–100 of 200" in status(screen)
        assert screen.table.row_count == PAGE_SIZE  # still one page, never the whole list

        screen.table.move_cursor(row=PAGE_SIZE - 1)
        await pilot.press("down")
        await settle(pilot)
        assert row_codes(screen)[0] == "C0101"
        assert screen.table.cursor_row == 0

        await pilot.press("up")
        await settle(pilot)
        assert row_codes(screen)[0] == "C0051"
        assert screen.table.cursor_row == PAGE_SIZE - 1

        await pilot.press("pageup")
        await settle(pilot)
        assert "rows 1–50 of 200" in status(screen)

        for _ in range(4):
            await pilot.press("pagedown")
            await settle(pilot)
        assert "rows 151–200 of 200" in status(screen)
        await pilot.press("pagedown")  # past the end: the cursor goes to the last row
        await settle(pilot)
        assert "rows 151–200 of 200" in status(screen)
        assert screen.table.cursor_row == PAGE_SIZE - 1


async def test_search_finds_part_of_a_chinese_name_and_escape_clears_it(tui_ctx) -> None:
    app = TricrmApp(tui_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"阳明")
        await settle(pilot, 0.3)
        assert row_codes(screen) == [UNIQUE_CODE]
        assert UNIQUE_NAME in screen_text(app)
        assert "rows 1–1 of 1" in status(screen)
        await pilot.press("down")  # from the search box down into the results
        assert app.focused is screen.table
        await pilot.press("slash")

        await pilot.press("escape")  # leaves the search box, keeps the result
        assert app.focused is screen.table
        assert row_codes(screen) == [UNIQUE_CODE]
        await pilot.press("escape")  # clears the search
        await settle(pilot, 0.3)
        assert "rows 1–50 of 200" in status(screen)
        assert screen.search_input.value == ""


async def test_phone_digits_and_no_match(tui_ctx) -> None:
    app = TricrmApp(tui_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("slash", *"13800000199", "enter")
        await settle(pilot, 0.3)
        assert row_codes(screen) == ["C0199"]
        assert app.focused is screen.table  # Enter in the search box goes to the results
        screen.search_input.value = "zzzz-nobody"
        await settle(pilot, 0.3)
        assert row_codes(screen) == []
        assert "no customers match" in status(screen)


async def test_an_older_answer_never_overwrites_a_newer_one(tui_ctx) -> None:
    app = TricrmApp(tui_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        stale = Page(items=[], total=0, limit=PAGE_SIZE, offset=0)
        screen._show_page(screen._generation - 1, stale, "first")
        await pilot.pause()
        assert len(row_codes(screen)) == PAGE_SIZE
        assert "rows 1–50 of 200" in status(screen)


async def test_enter_opens_the_detail_and_escape_comes_back(tui_ctx) -> None:
    app = TricrmApp(tui_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("pagedown")
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, CustomerDetailScreen)
        assert detail.code == "C0052"
        text = screen_text(app)
        assert "C0052" in text and "+8613800000052" in text and "c52@example.com" in text
        customers.edit_customer(tui_ctx, "C0052", {"name": "改名客户"})  # saved meanwhile
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CustomerListScreen)
        assert app.screen.table.cursor_row == 1
        assert "rows 51–100 of 200" in status(app.screen)
        assert "改名客户" in screen_text(app)  # the page was refreshed on return


async def test_sort_keys_change_the_order(tui_ctx) -> None:
    app = TricrmApp(tui_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("s")
        await settle(pilot)
        assert screen.query_state.sort == "name"
        first = customers.list_customers(tui_ctx, sort="name", limit=PAGE_SIZE)
        assert row_codes(screen) == [r.code for r in first.items]
        assert "sorted by Name ▲" in status(screen)

        await pilot.press("S")
        await settle(pilot)
        last = customers.list_customers(tui_ctx, sort="name", descending=True, limit=PAGE_SIZE)
        assert row_codes(screen) == [r.code for r in last.items]
        assert row_codes(screen) != [r.code for r in first.items]
        assert "sorted by Name ▼" in status(screen)
        assert "Name ▼" in screen_text(app)  # the header shows the sort too


async def test_clicking_a_header_sorts_by_it(tui_ctx) -> None:
    app = TricrmApp(tui_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        widths = screen.layout_columns
        x = widths["code"] + 2 + widths["name"] + 2 + 2  # inside the City header
        await pilot.click("#customers", offset=(x, 0))
        await settle(pilot)
        assert screen.query_state.sort == "city"
        await pilot.click("#customers", offset=(x, 0))
        await settle(pilot)
        assert screen.query_state.descending


async def test_columns_follow_the_terminal_width(tui_ctx) -> None:
    app = TricrmApp(tui_ctx)
    async with app.run_test(size=(60, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        narrow = list(screen.layout_columns)
        assert narrow[:2] == ["code", "name"] and "last_order" not in narrow
        await pilot.resize_terminal(140, 40)
        await settle(pilot)
        wide = list(screen.layout_columns)
        assert wide == ["code", "name", "city", "phone", "tier", "spent", "last_order"]
        assert screen.table.row_count == PAGE_SIZE
        assert "2026-02-28" in screen_text(app)  # C0001's last order, in the new column


async def test_help_lists_every_key_of_the_screen_and_the_app(tui_ctx) -> None:
    app = TricrmApp(tui_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        list_screen = app.screen
        await pilot.press("question_mark")
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        described = {what for _keys, what, _where in help_screen.rows}
        for binding in [*CustomerListScreen.BINDINGS, *TricrmApp.BINDINGS]:
            assert binding.description in described, binding.description  # type: ignore[union-attr]
        assert ("/", "Search", "this screen") in help_screen.rows
        assert any(keys.endswith("q") and what == "Quit" for keys, what, _ in help_screen.rows)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is list_screen


async def test_q_quits(tui_ctx) -> None:
    app = TricrmApp(tui_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert app._exit
    assert app.return_code == 0


async def test_a_database_error_is_a_notification_not_a_crash(tui_ctx, monkeypatch) -> None:
    real = customer_rows.list_customer_rows
    down = False

    def flaky(*args, **kwargs):  # type: ignore[no-untyped-def]
        if down:
            raise DatabaseUnavailable("cannot use database tricrm.db: disk I/O error")
        return real(*args, **kwargs)

    monkeypatch.setattr(customer_rows, "list_customer_rows", flaky)
    app = TricrmApp(tui_ctx)
    notes = capture_notifications(app, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        down = True
        await pilot.press("r")
        await settle(pilot)
        assert notes == [("cannot use database tricrm.db: disk I/O error", "error")]
        assert app.is_running
        down = False  # the database is back: the same key works again
        await pilot.press("r")
        await settle(pilot)
        assert "rows 1–50 of 200" in status(app.screen)
        assert len(notes) == 1


async def test_a_list_of_these_customers_from_a_service_condition(tui_ctx) -> None:
    beijing = Customer.__table__.c.city == "北京"  # what a filter service would hand over
    expected = customers.list_customers(tui_ctx, where=beijing, limit=PAGE_SIZE)
    app = TricrmApp(tui_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_these(app, pilot, beijing, "北京的客户")
        assert row_codes(screen) == [r.code for r in expected.items]
        assert f"of {expected.total}" in status(screen)
        assert "北京的客户" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.where is None  # back on the full list


async def test_command_palette_offers_search_and_registered_commands(tui_ctx, monkeypatch) -> None:
    from tricrm_tui.tui import app as app_module

    opened: list[str] = []
    monkeypatch.setattr(
        app_module,
        "SCREEN_COMMANDS",
        [("Frobnicate", "A command a later screen registers", lambda a: opened.append("yes"))],
    )
    app = TricrmApp(tui_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"frobn")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert opened == ["yes"]

        await pilot.press("ctrl+p", *"search cust")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert isinstance(app.focused, Input) and app.focused.id == "search"


@pytest.mark.parametrize("query", ["阳明", "欧阳明"])
async def test_page_search_and_open_on_each_backend(ctx, query: str) -> None:
    """Two characters take the substring path, three the trigram index: both find her."""
    seed_customers(ctx)
    app = TricrmApp(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("pagedown")
        await settle(pilot)
        assert "rows 51–100 of 200" in status(app.screen)
        await pilot.press("slash", *query)
        await settle(pilot, 0.3)
        assert row_codes(app.screen) == [UNIQUE_CODE]
        await pilot.press("enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerDetailScreen)
        assert UNIQUE_NAME in screen_text(app)


async def test_brackets_in_names_and_searches_are_text_not_markup(tui_ctx) -> None:
    from tests.factories import add_customer

    add_customer(tui_ctx, "Z0001", "ACME [HK] [bold]Trading[/bold]", notes="see [red]")
    app = TricrmApp(tui_ctx)
    async with app.run_test(size=(140, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"[hk]", "enter")
        await settle(pilot, 0.3)
        assert row_codes(app.screen) == ["Z0001"]
        assert "ACME [HK] [bold]Trading[/bold]" in screen_text(app)
        assert "search: [hk]" in status(app.screen)
        await pilot.press("enter")
        await settle(pilot)
        assert "see [red]" in screen_text(app)


def _exported(path) -> list[str]:  # type: ignore[no-untyped-def]
    import csv
    import json

    text = path.read_text("utf-8-sig")
    if path.suffix == ".jsonl":
        return [json.loads(line)["code"] for line in text.splitlines()]
    return [r["code"] for r in csv.DictReader(text.splitlines())]


async def test_x_exports_what_the_list_shows(tui_ctx, tmp_path, monkeypatch) -> None:
    """``x`` offers a file in the data folder's exports; Enter writes every customer the
    list shows (its filter, search and sort, all pages, not only the one on screen) and an
    "Export" notice says how many and where. A bare name goes to the exports folder;
    Escape writes nothing."""
    exports = tmp_path / "data" / "exports"  # the data folder the tests point tricrm at
    app = TricrmApp(tui_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        notes = capture_notifications(app, monkeypatch)
        await pilot.press("x")
        await pilot.pause()
        offered = Path(app.screen.query_one("#answer", Input).value)
        assert offered.parent == exports and offered.suffix == ".csv"
        await pilot.press("enter")
        await settle(pilot)
        assert _exported(offered) == [f"C{i:04d}" for i in range(1, 201)]  # 200 > one page
        assert any(f"200 rows written to {offered}" in m for m, _s in notes)

        # The filter bar's own condition, a search and the reversed sort.
        await pilot.press("f", *"province:广东", "enter")
        await settle(pilot)
        await pilot.press("slash", *"example", "enter")
        await settle(pilot, 0.3)
        await pilot.press("S")
        await settle(pilot)
        shown = customer_rows.list_customer_rows(
            tui_ctx, search="example", where=screen.where, sort="code", descending=True,
            limit=1000,
        )  # fmt: skip
        assert row_codes(screen) == [r.code for r in shown.items][:PAGE_SIZE]
        await pilot.press("x")
        await pilot.pause()
        app.screen.query_one("#answer", Input).value = "广东.jsonl"  # a bare name
        await pilot.press("enter")
        await settle(pilot)
        codes = _exported(exports / "广东.jsonl")
        assert codes == [r.code for r in shown.items] and len(codes) == 100
        assert codes[0] == "C0199"  # odd codes are 广东; reversed

        before = {p.name: p.read_bytes() for p in exports.iterdir()}
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("escape")  # Escape: nothing written
        await settle(pilot)
        assert {p.name: p.read_bytes() for p in exports.iterdir()} == before


async def test_an_export_outlives_its_list_and_says_why_it_failed(
    tui_ctx, tmp_path, monkeypatch
) -> None:
    """The answer reaches the operator after the list it came from is closed, and a failure
    is told as the export's, not the database's, with the reason."""
    from tricrm_tui.services import exporting

    beijing = Customer.__table__.c.city == "北京"
    expected = customers.list_customers(tui_ctx, where=beijing, limit=1000)
    real = exporting.export_file

    def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        import time

        time.sleep(0.5)  # long enough for the list to be closed meanwhile
        return real(*args, **kwargs)

    monkeypatch.setattr(exporting, "export_file", slow)
    app = TricrmApp(tui_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        notes = capture_notifications(app, monkeypatch)
        await open_these(app, pilot, beijing, "北京的客户")
        await pilot.press("x")
        await pilot.pause()
        target = tmp_path / "out" / "北京.csv"
        app.screen.query_one("#answer", Input).value = str(target)
        await pilot.press("enter", "escape")  # export, and close the list at once
        await pilot.pause()
        assert app.screen.where is None  # back on the full list
        await settle(pilot, 0.8)
        assert _exported(target) == [r.code for r in expected.items]
        assert any(f"{expected.total} rows written to {target}" in m for m, _s in notes)

        (tmp_path / "afile").write_text("")
        await pilot.press("x")
        await pilot.pause()
        app.screen.query_one("#answer", Input).value = str(tmp_path / "afile" / "c.csv")
        await pilot.press("enter")
        await settle(pilot, 0.8)
        assert any("cannot write" in m and sev == "error" for m, sev in notes), notes


async def test_a_filter_narrows_a_list_opened_on_some_customers(tui_ctx) -> None:
    """On "these customers" (a value cell, a segment) the filter bar narrows the list, the
    title says both, and clearing the filter gives the customers it was opened on back."""
    import sqlalchemy as sa

    c = Customer.__table__.c
    beijing = c.city == "北京"
    both = customers.list_customers(tui_ctx, where=sa.and_(beijing, c.kind == "enterprise"))
    only_beijing = customers.list_customers(tui_ctx, where=beijing)
    assert 0 < both.total < only_beijing.total
    app = TricrmApp(tui_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_these(app, pilot, beijing, "北京的客户")
        await pilot.press("f", *"kind:enterprise", "enter")
        await settle(pilot)
        assert row_codes(screen) == [r.code for r in both.items]
        assert screen.sub_title.startswith("北京的客户 · ")
        await pilot.press("escape")  # clears the filter: back to the customers of 北京
        await settle(pilot)
        assert f"of {only_beijing.total}" in status(screen)
        assert screen.sub_title == "北京的客户"


async def test_quitting_under_an_export_asks_then_stops_it(tui_ctx, tmp_path, monkeypatch) -> None:
    """``q`` while an export is written asks first; ``n`` carries on, ``y`` quits and the
    export is asked to stop before its next page (the service's own tests show it keeps no
    file). Without the question the terminal came back while the process lingered."""
    import asyncio

    from tricrm_tui.services import exporting
    from tricrm_tui.tui.widgets.confirm import ConfirmDialog

    held = LongWork()
    monkeypatch.setattr(exporting, "export_file", held)
    app = TricrmApp(tui_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        notes = capture_notifications(app, monkeypatch)
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("enter")
        assert await asyncio.to_thread(held.started.wait, 5)
        assert "export is being written" in await question_after(pilot, "q")
        assert "[y] yes   [n] no" in screen_text(app)  # the keys, not read as markup
        await pilot.press("q")  # a second q does not quit past the question
        await pilot.pause()
        assert not app._exit and isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await pilot.pause()
        assert not app._exit and isinstance(app.screen, CustomerListScreen) and held.seen == []
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert app._exit
    for _ in range(100):  # the worker's thread sees the cancellation on its next ask
        if held.seen:
            break
        await asyncio.sleep(0.02)
    assert held.seen == ["stopped"]
    assert not [m for m, _s in notes if "stopped" in m]  # no one is left to tell


async def test_a_database_error_in_the_filter_or_segments_is_a_notification(
    tui_ctx, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The filter bar's worker and the segment picker read the database too: a failure
    there costs one red message, as the list's own does, not the session."""
    from tricrm_tui.services import segments
    from tricrm_tui.tui.widgets.segment_picker import SegmentPicker

    def down(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise DatabaseUnavailable("cannot use database tricrm.db: disk I/O error")

    monkeypatch.setattr(segments, "condition_for", down)
    monkeypatch.setattr(segments, "list_segments", down)
    app = TricrmApp(tui_ctx)
    notes = capture_notifications(app, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f", *"kind:enterprise", "enter")
        await settle(pilot)
        assert notes == [("cannot use database tricrm.db: disk I/O error", "error")]
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert len(notes) == 2 and notes[1][1] == "error"
        assert app.is_running and not isinstance(app.screen, SegmentPicker)


async def test_an_unexpected_filter_failure_is_the_filters_message(tui_ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tricrm_tui.services import segments

    def odd(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("year 0 is out of range")

    monkeypatch.setattr(segments, "condition_for", odd)
    app = TricrmApp(tui_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f", *"kind:enterprise", "enter")
        await settle(pilot)
        assert app.is_running
        assert "year 0 is out of range" in str(app.screen.query_one("#filter-message").render())


async def test_a_filter_errors_caret_shows_at_80_columns(tui_ctx) -> None:
    """The reason, the expression and the caret under the bad token all show, also when
    the reason wraps and the expression is longer than the line."""
    app = TricrmApp(tui_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        expression = (
            "city:Shenzhen orders>=3 tag:vip tag:new tag:returning spent>100 kind:person "
            "last_order<9zd"
        )
        await pilot.press("f", *expression)
        await settle(pilot)
        lines = screen_text(app).splitlines()
        carets = [i for i, line in enumerate(lines) if line.strip() and set(line.strip()) == {"^"}]
        assert carets, "\n".join(lines[:12])
        above = lines[carets[0] - 1]
        column = lines[carets[0]].index("^")
        assert above[column:].startswith("9zd")
        assert "at column 88" in "".join(lines[carets[0] - 3 : carets[0] - 1])


async def test_escape_in_the_filter_bar_gives_the_table_the_keys(tui_ctx) -> None:
    app = TricrmApp(tui_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f", *"orders>=1", "escape")
        await settle(pilot)
        assert app.focused is app.screen.table
        await pilot.press("pagedown")
        await settle(pilot)
        assert "rows 51–100 of 200" in status(app.screen)


async def test_the_total_is_counted_again_on_coming_back(tui_ctx) -> None:
    """Back from another screen (an import, say), the total includes the rows added
    meanwhile, so the new last page can be reached without r."""
    from tests.factories import add_customer
    from tricrm_tui.tui.screens.import_screen import ImportScreen

    app = TricrmApp(tui_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "of 200" in status(app.screen)
        await app.push_screen(ImportScreen())
        await settle(pilot)
        add_customer(tui_ctx, "Z0001")
        app.pop_screen()
        await settle(pilot)
        assert "of 201" in status(app.screen)


async def test_tiers_show_by_their_names(tui_ctx) -> None:
    """In Chinese the tier column reads 高价值, as the value screen and dashboard do, not
    the stored code."""
    from tests.interact_helpers import set_customer
    from tricrm_tui.i18n import set_language

    set_customer(tui_ctx, "C0001", value_tier="high")
    set_language("zh_CN")
    try:
        app = TricrmApp(tui_ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            table = app.screen.table
            row = table.get_row("C0001")
            tier = list(app.screen.layout_columns).index("tier")
            assert str(row[tier]) == "高价值"
    finally:
        set_language("en")
