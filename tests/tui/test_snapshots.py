"""Snapshots of the list and the detail (80×24, one at 120×40, one in Chinese).

Fixed data, a fixed clock and UTC, the database shown by file name only: the pictures only
change when the screens do. Refresh with ``pytest tests/tui --snapshot-update`` and review.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.widgets import Input

from tests.tui.conftest import settle
from tricrm_tui.i18n import set_language
from tricrm_tui.tui.app import TricrmApp


async def _settled(pilot) -> None:  # type: ignore[no-untyped-def]
    for field in pilot.app.query(Input):
        field.cursor_blink = False
    await settle(pilot)


async def _open_second_customer(pilot) -> None:  # type: ignore[no-untyped-def]
    await _settled(pilot)
    await pilot.press("down", "enter")
    await settle(pilot)


@pytest.fixture
def chinese() -> Iterator[None]:
    set_language("zh_CN")
    yield
    set_language("en")


def test_list_80x24(snap_compare, tui_ctx) -> None:
    assert snap_compare(TricrmApp(tui_ctx), terminal_size=(80, 24), run_before=_settled)


def test_list_120x40(snap_compare, tui_ctx) -> None:
    assert snap_compare(TricrmApp(tui_ctx), terminal_size=(120, 40), run_before=_settled)


def test_detail_80x24(snap_compare, tui_ctx) -> None:
    assert snap_compare(
        TricrmApp(tui_ctx), terminal_size=(80, 24), run_before=_open_second_customer
    )


def test_search_result_80x24(snap_compare, tui_ctx) -> None:
    async def search(pilot) -> None:  # type: ignore[no-untyped-def]
        await _settled(pilot)
        await pilot.press("slash", *"阳明", "enter")
        await settle(pilot, 0.3)

    assert snap_compare(TricrmApp(tui_ctx), terminal_size=(80, 24), run_before=search)


def test_list_in_chinese_80x24(snap_compare, tui_ctx, chinese) -> None:
    """Chinese headers, names and cities stay aligned: widths are counted in terminal cells."""
    assert snap_compare(TricrmApp(tui_ctx), terminal_size=(80, 24), run_before=_settled)


def test_detail_in_chinese_80x24(snap_compare, tui_ctx, chinese) -> None:
    assert snap_compare(
        TricrmApp(tui_ctx), terminal_size=(80, 24), run_before=_open_second_customer
    )


def test_help_80x24(snap_compare, tui_ctx) -> None:
    async def help_screen(pilot) -> None:  # type: ignore[no-untyped-def]
        await _settled(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(TricrmApp(tui_ctx), terminal_size=(80, 24), run_before=help_screen)
