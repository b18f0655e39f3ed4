"""The ``feedback``, ``campaigns`` and ``customers recommend`` commands, end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tricrm_tui.cli.main import build_app
from tricrm_tui.cli.state import STATE


@pytest.fixture
def cli(db_url: str) -> Iterator[Callable[..., object]]:
    runner = CliRunner()
    app = build_app()

    def invoke(*args: str, ok: bool = True):  # type: ignore[no-untyped-def]
        STATE._ctx = None
        result = runner.invoke(app, ["--db", db_url, *args])
        if ok:
            assert result.exit_code == 0, (result.output, result.exception)
        return result

    yield invoke
    if STATE._ctx is not None:
        STATE._ctx.db.dispose()
    STATE._ctx = None


def test_complaint_commands(cli) -> None:  # type: ignore[no-untyped-def]
    cli("customers", "add", "C1", "--name", "张伟")
    added = json.loads(
        cli(
            "feedback",
            "complaint",
            "add",
            "C1",
            "--category",
            "物流",
            "--severity",
            "critical",
            "--notes",
            "破损",
            "--format",
            "json",
        ).stdout
    )
    cid = str(added["id"])
    assert added["status"] == "open" and added["severity"] == "critical"
    rows = json.loads(cli("feedback", "complaint", "list", "--status", "open", "-f", "json").stdout)
    assert [r["id"] for r in rows] == [added["id"]]
    assert json.loads(cli("feedback", "complaint", "list", "--overdue", "-f", "json").stdout) == []
    cli("feedback", "complaint", "update", cid, "--status", "in_progress")
    bad = cli("feedback", "complaint", "close", cid, ok=False)
    assert bad.exit_code != 0 and "cannot become closed" in str(bad.exception)
    cli("feedback", "complaint", "resolve", cid, "--resolution", "补发")
    closed = json.loads(cli("feedback", "complaint", "close", cid, "-f", "json").stdout)
    assert closed["status"] == "closed" and closed["resolution"] == "补发"


def test_survey_commands(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("customers", "add", "C1", "--name", "张伟")
    for kind, score in [("nps", "10"), ("nps", "3"), ("csat", "5"), ("csat", "2")]:
        cli(
            "feedback",
            "survey",
            "add",
            "C1",
            "--kind",
            kind,
            "--score",
            score,
            "--date",
            "2026-02-03",
        )
    path = tmp_path / "s.csv"
    path.write_text("code,kind,score,date\nC1,nps,9,2026-03-01\nC1,nps,99,2026-03-01\n", "utf-8")
    imported = json.loads(cli("feedback", "survey", "import", str(path), "-f", "json").stdout)
    assert imported["imported"] == 1
    assert imported["rejects"] == [
        {"line": 3, "field": "score", "reason": imported["rejects"][0]["reason"]}
    ]
    rows = json.loads(cli("feedback", "survey", "summary", "--by", "month", "-f", "json").stdout)
    assert [(r["group"], r["nps"], r["csat"]) for r in rows] == [
        ("2026-02", "0.0", "50.0"),
        ("2026-03", "100.0", None),
    ]
    listed = json.loads(cli("feedback", "survey", "list", "--customer", "C1", "-f", "json").stdout)
    assert len(listed) == 5 and listed[0]["score"] == 9  # newest answer first
    table = cli("feedback", "survey", "summary").stdout
    assert "50.0" in table and "¥" not in table


def test_campaign_commands(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("customers", "add", "C1", "--name", "张伟", "--phone", "13800138000")
    cli("customers", "add", "C2", "--name", "李娜")
    template = tmp_path / "t.txt"
    template.write_text("{{ name }}您好，积分{{ points }}", encoding="utf-8")
    cli(
        "campaigns",
        "create",
        "春",
        "--channel",
        "sms",
        "--template",
        str(template),
        "--attribution-days",
        "7",
    )
    preview = cli("campaigns", "preview", "春", "--customer", "C1").stdout
    assert "张伟您好，积分0" in preview
    listed = json.loads(cli("campaigns", "preview", "春", "--limit", "5", "-f", "json").stdout)
    assert [(p["code"], p["status"]) for p in listed] == [("C1", "ready"), ("C2", "no_address")]
    dry = json.loads(cli("campaigns", "send", "春", "--dry-run", "-f", "json").stdout)
    assert dry["counts"] == {"ready": 1, "failed": 1}
    out = tmp_path / "sms.csv"
    sent = json.loads(cli("campaigns", "send", "春", "--export", str(out), "-f", "json").stdout)
    assert sent["counts"] == {"exported": 1, "failed": 1}
    assert "张伟您好" in out.read_text(encoding="utf-8-sig")
    report = json.loads(cli("campaigns", "report", "春", "-f", "json").stdout)
    assert (report["exported"], report["failed"], report["revenue"]) == (1, 1, "0.00")
    names = json.loads(cli("campaigns", "list", "-f", "json").stdout)
    assert [c["name"] for c in names] == ["春"]
    bad = cli("campaigns", "create", "x", "--channel", "sms", "--template", "{{ nope }}", ok=False)
    assert bad.exit_code != 0


def test_recommend_command(cli) -> None:  # type: ignore[no-untyped-def]
    cli("customers", "add", "C1", "--name", "张伟")
    rows = json.loads(cli("customers", "recommend", "C1", "-f", "json").stdout)
    assert rows == []


def test_errors_are_one_line_with_exit_code(tmp_path: Path) -> None:
    db = str(tmp_path / "x.db")
    run = subprocess.run(
        [sys.executable, "-m", "tricrm_tui", "--db", db, "feedback", "complaint", "close", "99"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 3 and run.stderr.strip() == "error: no complaint 99"
