"""TUI fixtures: a seeded SQLite file, a fixed clock and time zone, and a worker-settling helper."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import add_orders
from tests.tui.data import FIXED_NOW, seed_customers


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Created/updated times show in local time; pin it so snapshots match on any machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(scope="session")
def seeded_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tricrm_tui.services.context import Actor, open_context

    path = tmp_path_factory.mktemp("tui") / "tricrm.db"
    shutil.copy(sqlite_template, path)
    context = open_context(
        str(path),
        Actor("tester", "admin"),
    )
    context.clock = lambda: FIXED_NOW
    seed_customers(context)
    add_orders(
        context,
        "C0001",
        [("2025-11-02", "1280.00"), ("2026-01-15", "356.50"), ("2026-02-28", "99.90")],
    )
    with context.db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    context.db.dispose()
    return path


@pytest.fixture
def tui_ctx(seeded_template: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A service context on a fresh copy of the 200-customer file, with a fixed clock."""
    from tricrm_tui.services.context import Actor, open_context

    target = tmp_path / "tricrm.db"
    shutil.copy(seeded_template, target)
    context = open_context(str(target), Actor("tester", "admin"))
    context.clock = lambda: FIXED_NOW
    yield context
    context.db.dispose()


async def settle(pilot, wait: float = 0.0) -> None:  # type: ignore[no-untyped-def]
    """Let timers (the search debounce) fire, workers finish and their results reach widgets."""
    await pilot.pause(wait or None)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def screen_text(app) -> str:  # type: ignore[no-untyped-def]
    """What the terminal shows right now, as plain text lines."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def capture_notifications(app, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(message, severity) of every notification ``app`` shows from now on."""
    notes: list[tuple[str, str]] = []
    monkeypatch.setattr(
        app, "notify", lambda message, **kw: notes.append((message, kw.get("severity", "")))
    )
    return notes


class LongWork:
    """Stands in for a long import or export service call: it runs until its ``stop`` says
    yes (then raises ``Stopped``, as the services do) or five seconds pass, and records
    which, so a test can tell whether the TUI asked it to stop."""

    def __init__(self) -> None:
        import threading

        self.started = threading.Event()
        self.seen: list[str] = []

    def __call__(self, *args: object, stop, **kwargs: object) -> None:  # type: ignore[no-untyped-def]
        import threading

        from tricrm_tui.services.errors import Stopped

        self.started.set()
        for _ in range(500):
            if stop():
                self.seen.append("stopped")
                raise Stopped("stopped")
            threading.Event().wait(0.01)
        self.seen.append("ran to its end")


async def question_after(pilot, *keys: str) -> str:  # type: ignore[no-untyped-def]
    """Press ``keys``, which must raise a yes/no question; the question's text."""
    from textual.widgets import Label

    from tricrm_tui.tui.widgets.confirm import ConfirmDialog

    await pilot.press(*keys)
    await pilot.pause()
    assert isinstance(pilot.app.screen, ConfirmDialog)
    return str(pilot.app.screen.query_one("#question", Label).render())
