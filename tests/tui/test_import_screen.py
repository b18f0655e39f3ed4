"""The import screen, driven by keys in a small host app at 80×24, plus a snapshot.

The pilot tests run their own event loop (``asyncio.run``), so they need no async plugin."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import DataTable, Input, Label

from tests.tui.conftest import LongWork, capture_notifications, question_after
from tricrm_tui.services import customers
from tricrm_tui.services.errors import DatabaseUnavailable
from tricrm_tui.tui.screens.import_screen import ImportScreen

FILE = (
    "客户编号,姓名,手机,城市,会员卡\n"
    "C1,张三,13812345678,深圳,V1\n"
    "C2,李四,12345,杭州,V2\n"
    "C3,王五,13912345678,成都,V3\n"
)


class Host(App[None]):
    def __init__(self, ctx, path: str | None = None, kind: str = "customers") -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.ctx = ctx
        self.path = path
        self.kind = kind

    def on_mount(self) -> None:
        self.push_screen(ImportScreen(self.path, self.kind))


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


async def _previewed(pilot, path: Path, *, encoding: str = "") -> ImportScreen:  # type: ignore[no-untyped-def]
    """The import screen with ``path`` (and ``encoding``) typed and previewed, focus on the
    mapping table so keys reach the screen and the app."""
    app = pilot.app
    screen = app.screen
    assert isinstance(screen, ImportScreen)
    screen.query_one("#import-encoding", Input).value = encoding
    screen.query_one("#import-path", Input).value = str(path)
    screen.action_preview()
    await _settle(app, pilot)
    screen.query_one("#import-mapping", DataTable).focus()
    await pilot.pause()
    return screen


def _status(screen: ImportScreen) -> str:
    return str(screen.query_one("#import-status", Label).render())


async def test_every_way_out_of_a_running_import_asks(tui_ctx, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A number key, / (search) and the palette's Customers leave the import screen as
    Escape does, closing it and so stopping its import: each asks first. Without the
    question they stopped the import unseen."""
    from tricrm_tui.services import importing
    from tricrm_tui.tui.app import TricrmApp
    from tricrm_tui.tui.screens.today import TodayScreen

    held = LongWork()
    monkeypatch.setattr(importing, "import_file", held)
    path = tmp_path / "c.csv"
    path.write_bytes(FILE.encode("gbk"))
    app = TricrmApp(tui_ctx, start="import")
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        screen = await _previewed(pilot, path)
        await pilot.press("ctrl+r")
        assert await asyncio.to_thread(held.started.wait, 5)
        for key in ("1", "slash", "5"):
            assert "An import is running" in await question_after(pilot, key)
            await pilot.press("n")
            await pilot.pause()
            assert app.screen is screen and held.seen == []
        await app.run_action("show_customers")  # what the palette's "Customers" runs
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is screen and held.seen == []
        assert "An import is running" in await question_after(pilot, "2")
        await pilot.press("y")
        await _settle(app, pilot)
        assert isinstance(app.screen, TodayScreen)
        assert held.seen == ["stopped"]


async def test_a_second_run_during_an_import_is_refused(sqlite_ctx, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Ctrl+T or Ctrl+R while an import runs would cancel it (one import at a time) and
    leave it marked running: it is refused, and the import goes on."""
    from tricrm_tui.services import importing
    from tricrm_tui.tui.workers import IMPORT_GROUP, running_work

    held = LongWork()
    monkeypatch.setattr(importing, "import_file", held)
    path = tmp_path / "c.csv"
    path.write_bytes(FILE.encode("gbk"))
    app = Host(sqlite_ctx)
    notes = capture_notifications(app, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        screen = await _previewed(pilot, path)
        await pilot.press("ctrl+r")
        assert await asyncio.to_thread(held.started.wait, 5)
        worker = running_work(screen, IMPORT_GROUP)
        await pilot.press("ctrl+t", "ctrl+r")
        await pilot.pause(0.1)
        assert running_work(screen, IMPORT_GROUP) == worker and held.seen == []
        assert [severity for _m, severity in notes] == ["warning", "warning"]
        assert "An import is running" in notes[0][0]


async def test_an_empty_file_has_no_column_to_map(sqlite_ctx, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An empty file previews as no columns; the field selector has nothing to act on
    (choosing a field raised IndexError and ended tricrm)."""
    from textual.widgets import Select

    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    app = Host(sqlite_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        screen = await _previewed(pilot, path)
        assert "has no columns" in _status(screen)
        field = screen.query_one("#import-field", Select)
        assert field.disabled
        field.value = "code"  # as if chosen: nothing to point at it
        await _settle(app, pilot)
        assert app.is_running and app.screen is screen


async def test_a_run_never_uses_an_earlier_preview(sqlite_ctx, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A preview that failed, or one still being read, leaves nothing to run: Ctrl+R used
    to import the previous file, or the new kind with the previous kind's mapping."""
    import threading

    from tricrm_tui.services import importing

    runs: list[object] = []
    monkeypatch.setattr(importing, "import_file", lambda *a, **k: runs.append(a))
    path = tmp_path / "c.csv"
    path.write_bytes(FILE.encode("gbk"))
    app = Host(sqlite_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        screen = await _previewed(pilot, path)
        assert screen.source_path == path
        screen = await _previewed(pilot, tmp_path / "gone.csv")
        assert "no such file" in _status(screen)
        await pilot.press("ctrl+r")
        await _settle(app, pilot)
        assert runs == [] and "Preview a file first" in _status(screen)

        release = threading.Event()
        real = importing.preview_file

        def slow_preview(*args, **kwargs):  # type: ignore[no-untyped-def]
            release.wait(5)
            return real(*args, **kwargs)

        monkeypatch.setattr(importing, "preview_file", slow_preview)
        screen.query_one("#import-path", Input).value = str(path)
        screen.action_preview()
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert "still being read" in _status(screen)
        release.set()
        await _settle(app, pilot)
        assert runs == [] and screen.source_path == path


async def test_rejects_show_even_from_the_mapping_tab(sqlite_ctx, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A run started with focus in the Mapping tab ends on the Rejected tab (focus left in
    the hidden pane pulled Mapping back at once)."""
    from textual.widgets import TabbedContent

    path = tmp_path / "c.csv"
    path.write_bytes(FILE.encode("gbk"))
    app = Host(sqlite_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        screen = await _previewed(pilot, path)
        await pilot.press("ctrl+r")
        await _settle(app, pilot)
        await pilot.pause(0.1)
        assert screen.query_one(TabbedContent).active == "tab-rejects"
        assert app.focused is screen.query_one("#import-rejects", DataTable)


async def test_a_failed_import_stops_the_progress_bar(sqlite_ctx, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from textual.widgets import ProgressBar

    from tricrm_tui.services import importing

    def fails(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise DatabaseUnavailable("cannot use database tricrm.db: disk I/O error")

    monkeypatch.setattr(importing, "import_file", fails)
    path = tmp_path / "c.csv"
    path.write_bytes(FILE.encode("gbk"))
    app = Host(sqlite_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        screen = await _previewed(pilot, path)
        await pilot.press("ctrl+r")
        await _settle(app, pilot)
        assert "disk I/O error" in _status(screen)
        assert screen.query_one("#import-progress", ProgressBar).total is not None


async def test_rejects_beyond_those_listed_are_counted(sqlite_ctx, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The service keeps 1,000 rejects for the screen; the tab says how many more there
    are, and where to get them all."""
    from tricrm_tui.services import importing
    from tricrm_tui.services.importing import ImportResult, Reject

    def rejecting(ctx, kind, path, **kwargs):  # type: ignore[no-untyped-def]
        rejects = [Reject(i + 2, f"C{i}", "phone", "invalid_value", "bad") for i in range(1000)]
        return ImportResult(
            1, kind, str(path), "utf-8", "update", False, rows=1500,
            rejected_count=1500, rejected=rejects,
        )  # fmt: skip

    monkeypatch.setattr(importing, "import_file", rejecting)
    path = tmp_path / "c.csv"
    path.write_bytes(FILE.encode("gbk"))
    app = Host(sqlite_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        screen = await _previewed(pilot, path)
        await pilot.press("ctrl+r")
        await _settle(app, pilot)
        note = screen.query_one("#import-rejects-note", Label)
        assert note.display
        assert "1,000 of 1,500 rejected rows listed" in str(note.render())
        assert "--rejects" in str(note.render())
        assert screen.query_one("#import-rejects", DataTable).row_count == 1000


async def test_the_encoding_box_overrides_detection(sqlite_ctx, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """An encoding typed beside the file is used for the preview and the run; a wrong one
    is explained in this screen's terms, not only the command line's."""
    from tricrm_tui.services import importing

    runs: list[dict[str, object]] = []
    monkeypatch.setattr(importing, "import_file", lambda *a, **k: runs.append(k))
    path = tmp_path / "c.csv"
    path.write_bytes(FILE.encode("gbk"))
    app = Host(sqlite_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        screen = await _previewed(pilot, path, encoding="big5")
        assert "not big5" in _status(screen)
        assert "in the box beside the file" in _status(screen)
        screen = await _previewed(pilot, path, encoding="gbk")
        assert "encoding gbk" in _status(screen)
        mapping = screen.query_one("#import-mapping", DataTable)
        assert mapping.get_row_at(0)[:2] == ["客户编号", "code"]
        await pilot.press("ctrl+t")
        await _settle(app, pilot)
        assert runs and runs[0]["encoding"] == "gbk"


async def test_a_preview_names_workbook_formulas_with_no_saved_result(
    sqlite_ctx, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Its first rows show such a formula's cell blank: the screen says why before a run."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["客户编号", "姓名", "积分"])
    ws.append(["C1", "张三", "=LEN(B2)*10"])
    path = tmp_path / "c.xlsx"
    wb.save(path)
    app = Host(sqlite_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        notes = capture_notifications(app.screen, monkeypatch)
        await _previewed(pilot, path)
        assert [(m.split(";")[0], s) for m, s in notes] == [
            ("sheet Sheet: formulas with no saved result (C2) are read as blank or 0", "warning")
        ]


async def test_a_folder_is_said_to_be_a_folder(sqlite_ctx, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = Host(sqlite_ctx, str(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        assert "is a folder" in _status(app.screen)  # type: ignore[arg-type]


async def test_the_footer_speaks_chinese(sqlite_ctx) -> None:  # type: ignore[no-untyped-def]
    from tests.tui.conftest import screen_text
    from tricrm_tui.i18n import set_language

    set_language("zh_CN")
    try:
        app = Host(sqlite_ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await _settle(app, pilot)
            footer = screen_text(app).splitlines()[-1]
            assert "预览" in footer and "Preview" not in footer and "Back" not in footer
    finally:
        set_language("en")


def test_interaction_import_shows_follow_up_counts_and_warnings(
    sqlite_ctx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    asyncio.run(_interaction_follow_ups(sqlite_ctx, tmp_path, monkeypatch))


async def _interaction_follow_ups(sqlite_ctx, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tricrm_tui.services import followups, importing

    cfile = tmp_path / "c.csv"
    cfile.write_text("客户编号,姓名\nC1,张三\n", encoding="utf-8")
    importing.import_file(sqlite_ctx, "customers", cfile)
    log = "记录编号,客户编号,渠道,时间,下次跟进日期\nI1,C1,电话,2026-03-01 10:00,{due}\n"
    first = tmp_path / "log.csv"
    first.write_text(log.format(due="2026-03-05"), encoding="utf-8")
    importing.import_file(sqlite_ctx, "interactions", first)
    (task,) = followups.list_followups(sqlite_ctx).items
    followups.done(sqlite_ctx, task.id)
    path = tmp_path / "log2.csv"
    path.write_text(log.format(due="2026-03-09"), encoding="utf-8")
    app = Host(sqlite_ctx, str(path), "interactions")
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        notes = capture_notifications(app.screen, monkeypatch)
        await pilot.press("ctrl+r")
        await _settle(app, pilot)
        status = str(app.screen.query_one("#import-status", Label).render())
        assert "0 follow-ups created, 0 moved" in status
        # The task was done since: its new date is not applied, and the screen says why.
        assert [s for m, s in notes if "line 2" in m and "I1" in m] == ["warning"]


async def test_old_workbooks_and_web_pages_preview_and_run(
    sqlite_ctx, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """An .xls of any of its kinds previews with what it was read as, and runs; the
    encoding typed for a web page holds for the run."""
    from tricrm_tui.services import importing

    xls = tmp_path / "客户.xls"
    xls.write_bytes((Path(__file__).parents[1] / "data" / "legacy" / "customers.xls").read_bytes())
    page = tmp_path / "导出.xls"
    page.write_bytes(
        '<meta charset="gbk"><table><tr><th>客户编号</th><th>姓名</th></tr>'
        "<tr><td>W1</td><td>王五</td></tr></table>".encode("gbk")
    )
    app = Host(sqlite_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        screen = await _previewed(pilot, xls)
        assert "encoding xls · 9 columns" in _status(screen)
        assert screen.query_one("#import-preview", DataTable).row_count == 4
        mapping = screen.query_one("#import-mapping", DataTable)
        assert mapping.get_row_at(0)[:2] == ["客户编号", "code"]
        await pilot.press("ctrl+r")
        await _settle(app, pilot)
        rejects = screen.query_one("#import-rejects", DataTable)
        assert [rejects.get_row_at(i)[0] for i in range(rejects.row_count)] == ["6", "7"]
        assert customers.get_customer(sqlite_ctx, "00456").name == "李四"

        screen = await _previewed(pilot, page)
        assert "encoding html (gb18030)" in _status(screen)
        screen = await _previewed(pilot, page, encoding="gbk")
        assert "encoding html (gbk)" in _status(screen)
        runs: list[dict[str, object]] = []
        monkeypatch.setattr(importing, "import_file", lambda *a, **k: runs.append(k))
        await pilot.press("ctrl+t")
        await _settle(app, pilot)
        assert runs and runs[0]["encoding"] == "gbk"
