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

from tests.cli_runner import invoke
from tests.unit.test_export import _seed
from tricrm_tui.services import segments

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def seeded(ctx):  # type: ignore[no-untyped-def]
    """Three customers, two orders and a saved segment, on each backend in turn."""
    _seed(ctx)
    segments.save_segment(ctx, "深圳客户", "city:深圳")
    return ctx


def _csv_codes(path: Path, encoding: str = "utf-8-sig") -> list[str]:
    return [r["code"] for r in csv.DictReader(io.StringIO(path.read_text(encoding)))]


def test_export_commands_and_their_options(seeded, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    out.mkdir()

    def run(*args: str) -> dict:  # type: ignore[type-arg]
        res = invoke(db_url, "export", *args, "-f", "json")
        assert res.exit_code == 0, res.output
        return json.loads(res.stdout)

    summary = run("customers", str(out / "all.csv"))
    assert (summary["rows"], summary["format"], summary["encoding"]) == (3, "csv", "utf-8-sig")
    assert summary["path"] == str(out / "all.csv")
    assert _csv_codes(out / "all.csv") == ["C1", "C2", "C3"]

    run("customers", str(out / "by_spend.csv"), "--sort", "-spent")
    assert _csv_codes(out / "by_spend.csv") == ["C1", "C3", "C2"]
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

    res = invoke(db_url, "export", "customers", str(out / "x.csv"), "--encoding", "nonesuch")
    assert type(res.exception).__name__ == "InvalidInput" and "nonesuch" in str(res.exception)
    assert not (out / "x.csv").exists()


def test_unreadable_text_in_the_database_exits_as_a_database_error(
    seeded, db_url: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Text some other tool stored without being UTF-8: one line naming the database's fault
    and exit code 6, as for any other query, and no file."""
    if seeded.db.backend != "sqlite":
        pytest.skip("PostgreSQL refuses such text when it is written")
    seeded.db.dispose()
    with sqlite3.connect(db_url) as conn:
        conn.execute("UPDATE customers SET name = CAST(x'41ff42' AS TEXT) WHERE code = 'C3'")
    target = tmp_path / "c.csv"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "tricrm_tui", "--db", db_url, "export", "customers", str(target)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 6, done.stderr
    assert "cannot use database" in done.stderr and "UTF-8" in done.stderr
    assert "Traceback" not in done.stderr and not target.exists()
