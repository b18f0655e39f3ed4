"""The import screen, driven by keys in a small host app at 80×24, plus a snapshot.

The pilot tests run their own event loop (``asyncio.run``), so they need no async plugin."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import DataTable, Input, Label

from tests.tui.conftest import LongWork, question_after
from tricrm_tui.services import customers
from tricrm_tui.tui.screens.import_screen import ImportScreen

FILE = (
    "客户编号,姓名,手机,城市,会员卡\n"
    "C1,张三,13812345678,深圳,V1\n"
    "C2,李四,12345,杭州,V2\n"
    "C3,王五,13912345678,成都,V3\n"
)


class Host(App[None]):
    def __init__(self, ctx, path: str | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.ctx = ctx
        self.path = path

    def on_mount(self) -> None:
        self.push_screen(ImportScreen(self.path))


async def _settle(app: App, pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def test_preview_adjust_run_and_rejects(sqlite_ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    asyncio.run(_preview_adjust_run_and_rejects(sqlite_ctx, tmp_path))


async def _preview_adjust_run_and_rejects(sqlite_ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "客户.csv"
    path.write_bytes(FILE.encode("gbk"))
    app = Host(sqlite_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        screen.query_one("#import-path", Input).focus()
        await pilot.press(*str(path))
        await pilot.press("enter")
        await _settle(app, pilot)
        status = str(screen.query_one("#import-status", Label).render())
        assert "gb18030" in status
        mapping = screen.query_one("#import-mapping", DataTable)
        assert [mapping.get_row_at(i)[1] for i in range(mapping.row_count)] == [
            "code", "name", "phone", "city", "custom:会员卡",
        ]  # fmt: skip
        preview = screen.query_one("#import-preview", DataTable)
        assert preview.row_count == 3
        # Point the 城市 column at "notes" instead, through the field selector.
        mapping.focus()
        mapping.move_cursor(row=3)
        await pilot.pause()
        screen.choose_field("城市", "notes")
        await pilot.pause()
        assert mapping.get_row_at(3)[1] == "notes"
        await pilot.press("ctrl+r")
        await _settle(app, pilot)
        rejects = screen.query_one("#import-rejects", DataTable)
        assert rejects.row_count == 1
        assert rejects.get_row_at(0)[:4] == ["3", "C2", "phone", "invalid_value"]
        assert "2 new" in str(screen.query_one("#import-status", Label).render())
    c1 = customers.get_customer(sqlite_ctx, "C1")
    assert (c1.notes, c1.city, c1.custom_fields) == ("深圳", None, {"会员卡": "V1"})


def test_missing_file_is_reported(sqlite_ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    asyncio.run(_missing_file_is_reported(sqlite_ctx, tmp_path))


async def _missing_file_is_reported(sqlite_ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = Host(sqlite_ctx, str(tmp_path / "nope.csv"))
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        assert "no such file" in str(app.screen.query_one("#import-status", Label).render())


SNAP_DIR = Path("/tmp/tricrm-import-snapshot")


@pytest.fixture
def snapshot_file() -> Path:
    """A fixed path, because the path shows on screen."""
    SNAP_DIR.mkdir(exist_ok=True)
    path = SNAP_DIR / "customers.csv"
    path.write_bytes(FILE.encode("gbk"))
    yield path
    shutil.rmtree(SNAP_DIR, ignore_errors=True)


def test_snapshot(snap_compare, sqlite_ctx, snapshot_file: Path) -> None:  # type: ignore[no-untyped-def]
    async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        pilot.app.screen.query_one("#import-path", Input).cursor_blink = False
        await pilot.app.workers.wait_for_complete()
        table = pilot.app.screen.query_one("#import-mapping", DataTable)
        for _ in range(100):
            await pilot.pause(0.05)
            if table.row_count:
                break
        await pilot.pause(0.2)

    assert snap_compare(
        Host(sqlite_ctx, str(snapshot_file)), terminal_size=(80, 24), run_before=settle
    )


def test_leaving_a_running_import_asks_then_stops_it(sqlite_ctx, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    asyncio.run(_leaving_a_running_import_asks_then_stops_it(sqlite_ctx, tmp_path, monkeypatch))


async def _leaving_a_running_import_asks_then_stops_it(sqlite_ctx, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Escape during an import asks first; ``n`` stays with the import running, ``y`` leaves
    and the import is asked to stop (after its batch: the service's own tests show what a
    stopped import keeps). Without the question the import went on unseen and its result
    was lost with the screen."""
    from tricrm_tui.services import importing
    from tricrm_tui.tui.widgets.confirm import ConfirmDialog

    held = LongWork()
    monkeypatch.setattr(importing, "import_file", held)
    path = tmp_path / "c.csv"
    path.write_bytes(FILE.encode("gbk"))
    app = Host(sqlite_ctx, str(path))
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        screen = app.screen
        await pilot.press("ctrl+r")
        assert await asyncio.to_thread(held.started.wait, 5)
        assert "An import is running" in await question_after(pilot, "escape")
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is screen and held.seen == []
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("y")
        await _settle(app, pilot)
        assert app.screen is not screen and not isinstance(app.screen, ConfirmDialog)
        assert held.seen == ["stopped"]
