"""Without a terminal (cron, a pipe, a background job) the TUI is refused and the demo builds
without opening it: a Textual app started without a terminal never gets a size and spins."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _tricrm(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    # stdin is /dev/null and stdout a pipe: neither is a terminal. The timeout turns a
    # spinning app into a failure instead of a hung suite.
    return subprocess.run(
        [sys.executable, "-m", "tricrm_tui", "--db", str(db), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TRICRM_LANG": "en"},
    )


def test_tui_without_a_terminal_is_refused(tmp_path: Path) -> None:
    done = _tricrm("tui", db=tmp_path / "t.db")
    assert done.returncode == 4
    assert "needs a terminal" in done.stderr


def test_demo_without_a_terminal_builds_and_does_not_open(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    done = _tricrm("demo", "--customers", "30", db=db)
    assert done.returncode == 0, done.stderr
    assert "Not opening the TUI" in done.stderr + done.stdout
    listed = _tricrm("customers", "list", "--limit", "1", "--format", "json", db=db)
    assert listed.returncode == 0 and '"code"' in listed.stdout
