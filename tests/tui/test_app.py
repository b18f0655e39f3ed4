"""The app shell: keys rebound from the config folder, a bad keymap file only warns."""

from __future__ import annotations

import os
from pathlib import Path

from tests.tui.conftest import capture_notifications, settle
from tricrm_tui.tui.app import TricrmApp
from tricrm_tui.tui.keymap import load_keymap


def _write_keys(text: str) -> Path:
    path = Path(os.environ["TRICRM_CONFIG_DIR"]) / "keys.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


async def test_keys_toml_rebinds_a_key(tui_ctx) -> None:
    _write_keys('[keys]\n"customers.sort" = "o"\n')
    app = TricrmApp(tui_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert app.screen.query_state.sort == "code"  # s no longer sorts
        await pilot.press("o")
        await settle(pilot)
        assert app.screen.query_state.sort == "name"


async def test_a_broken_keymap_warns_and_the_app_runs(tui_ctx, monkeypatch) -> None:
    _write_keys("[keys\n")
    app = TricrmApp(tui_ctx)
    notes = capture_notifications(app, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert len(notes) == 1 and notes[0][1] == "warning" and "keys.toml" in notes[0][0]
        assert app.screen.table.row_count == 50


def test_keymap_values_must_be_key_strings() -> None:
    assert load_keymap() == ({}, None)  # no file: nothing to say
    _write_keys('[keys]\n"app.quit" = 3\n')
    keymap, problem = load_keymap()
    assert keymap == {} and problem and "binding ids" in problem
