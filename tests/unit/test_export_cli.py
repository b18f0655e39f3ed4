"""``tricrm export``: the commands, their options and their JSON summary, and what an operator
sees when the database or the chosen encoding cannot give a value."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.unit.test_export import _seed
from tricrm_tui.cli.main import build_app
from tricrm_tui.services import segments
from tricrm_tui.services.context import Actor, open_context

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_cli_state():  # type: ignore[no-untyped-def]
    """The CLI caches its service context per process; each test names its own database."""
    from tricrm_tui.cli.state import STATE

    STATE._ctx = None
    yield
    if STATE._ctx is not None:
        STATE._ctx.db.dispose()
    STATE._ctx = None


@pytest.fixture
def db(tmp_path: Path, sqlite_template: Path) -> Path:
    path = tmp_path / "t.db"
    path.write_bytes(sqlite_template.read_bytes())
    ctx = open_context(str(path), Actor("tester", "admin"))
    _seed(ctx)
    segments.save_segment(ctx, "深圳客户", "city:深圳")
    ctx.db.dispose()
    return path


def _csv_codes(path: Path, encoding: str = "utf-8-sig") -> list[str]:
    return [r["code"] for r in csv.DictReader(io.StringIO(path.read_text(encoding)))]


def test_export_commands_and_their_options(db: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    app = build_app()
    out = tmp_path / "out"
    out.mkdir()

    def run(*args: str) -> dict:  # type: ignore[type-arg]
        res = runner.invoke(app, ["--db", str(db), "export", *args, "-f", "json"])
        assert res.exit_code == 0, res.output
        return json.loads(res.stdout)

    summary = run("customers", str(out / "all.csv"))
    assert (summary["rows"], summary["format"], summary["encoding"]) == (3, "csv", "utf-8-sig")
    assert summary["path"] == str(out / "all.csv")
    assert _csv_codes(out / "all.csv") == ["C1", "C2", "C3"]

    assert run("customers", str(out / "s.csv"), "--search", "王")["rows"] == 1
    assert _csv_codes(out / "s.csv") == ["C3"]
    assert run("customers", str(out / "w.csv"), "--where", "city:深圳")["rows"] == 1
    assert (
        run("customers", str(out / "n.csv"), "--where", "city:深圳", "--search", "王")["rows"] == 0
    )

    gbk = run("orders", str(out / "o.csv"), "--encoding", "gbk", "--search", "张三")
    assert (gbk["rows"], gbk["encoding"]) == (2, "gbk")
    assert "C1" in (out / "o.csv").read_text("gbk")

    seg = run("segment", "深圳客户", str(out / "seg.jsonl"))
    assert (seg["rows"], seg["format"]) == (1, "jsonl")
    assert json.loads((out / "seg.jsonl").read_text("utf-8"))["code"] == "C1"

    res = runner.invoke(app, ["--db", str(db), "export", "customers", str(out / "x.csv"),
                              "--encoding", "nonesuch"])  # fmt: skip
    assert type(res.exception).__name__ == "InvalidInput" and "nonesuch" in str(res.exception)
    assert not (out / "x.csv").exists()


def test_unreadable_text_in_the_database_exits_as_a_database_error(
    db: Path, tmp_path: Path
) -> None:
    """Text some other tool stored without being UTF-8: one line naming the database's fault
    and exit code 6, as for any other query, and no file."""
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE customers SET name = CAST(x'41ff42' AS TEXT) WHERE code = 'C3'")
    target = tmp_path / "c.csv"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "tricrm_tui", "--db", str(db), "export", "customers", str(target)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 6, done.stderr
    assert "cannot use database" in done.stderr and "UTF-8" in done.stderr
    assert "Traceback" not in done.stderr and not target.exists()
