"""``tricrm value`` commands end to end through the Typer app."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from tests.factories import add_customer, add_orders
from tricrm_tui.cli.main import build_app
from tricrm_tui.cli.state import STATE


@pytest.fixture
def run(ctx, db_url):  # type: ignore[no-untyped-def]
    for code in ("A", "B", "C", "P"):
        add_customer(ctx, code)
    add_orders(ctx, "A", [("2025-06-30", 100), ("2025-05-01", 20)])
    add_orders(ctx, "B", [("2025-06-01", "10.10"), ("2025-06-15", "10.20")])
    add_orders(ctx, "C", [("2025-01-15", 200)])
    runner = CliRunner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        STATE._ctx = None
        result = runner.invoke(build_app(), ["--db", db_url, *args])
        if STATE._ctx is not None:
            STATE._ctx.db.dispose()
        STATE._ctx = None
        return result

    return invoke


def test_rfm_json_rows(run) -> None:  # type: ignore[no-untyped-def]
    result = run("value", "rfm", "--as-of", "2025-06-30", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["code"] for r in rows] == ["A", "B", "C", "P"]
    assert list(rows[0]) == [
        "code",
        "name",
        "recency_days",
        "frequency",
        "monetary",
        "r",
        "f",
        "m",
        "segment",
        "tier",
        "lifecycle",
        "p_alive",
        "expected_purchases",
        "clv",
    ]
    assert rows[0]["monetary"] == "120.00" and rows[0]["recency_days"] == 0
    assert rows[3]["segment"] == "Prospect" and rows[3]["frequency"] == 0


def test_rfm_csv_and_paging(run) -> None:  # type: ignore[no-untyped-def]
    result = run(
        "value", "rfm", "--as-of", "2025-06-30", "-f", "csv", "--limit", "2", "--offset", "1"
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["code"] for r in rows] == ["B", "C"]


def test_refresh_history_tiers_model_and_at_risk(run) -> None:  # type: ignore[no-untyped-def]
    result = run("value", "refresh", "--as-of", "2025-06-30")
    assert result.exit_code == 0, result.output
    assert "valued 4 customers (3 with orders)" in result.stderr
    assert "purchase model not fitted" in result.stderr
    history = json.loads(run("value", "history", "A", "-f", "json").stdout)
    assert [h["as_of"] for h in history] == ["2025-06-30"]
    tiers = json.loads(run("value", "tiers", "--as-of", "2025-06-30", "-f", "json").stdout)
    assert tiers["basis"] == "monetary"
    assert [t["tier"] for t in tiers["tiers"]] == ["high", "medium", "low"]
    assert sum(t["customers"] for t in tiers["tiers"]) == 4
    model = run("value", "model", "--as-of", "2025-06-30")
    assert model.exit_code == 0
    report = json.loads(model.stdout)
    assert report["bgnbd"] is None and report["gamma_gamma"] is None
    risk = run("value", "at-risk", "--as-of", "2025-06-30", "--factor", "2", "-f", "json")
    assert risk.exit_code == 0, risk.output
    assert [r["code"] for r in json.loads(risk.stdout)] == ["C"]
    table = run("value", "at-risk", "--as-of", "2025-06-30", "--factor", "2")
    assert "C" in table.stdout and "no order for 166 days" in table.stdout


def test_errors_are_one_line(run) -> None:  # type: ignore[no-untyped-def]
    bad = run("value", "at-risk", "--threshold", "1.5")
    assert bad.exit_code != 0
    missing = run("value", "history", "NOPE")
    assert missing.exit_code != 0
