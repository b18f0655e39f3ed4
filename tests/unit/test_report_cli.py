"""``tricrm report kpis|trend|cohorts`` end to end through the Typer app."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.cli_runner import invoke
from tests.factories import add_customer, add_orders


@pytest.fixture
def run(ctx, db_url):  # type: ignore[no-untyped-def]
    add_customer(ctx, "A", registered="2026-01-01")
    add_customer(ctx, "B", registered="2026-02-01")
    add_orders(ctx, "A", [("2026-01-20", "100.00"), ("2026-02-03", "20.10")])
    add_orders(ctx, "B", [("2026-02-14", "30.20"), ("2026-03-02", "5.00")])
    return lambda *args: invoke(db_url, *args)


def test_kpis_json(run) -> None:  # type: ignore[no-untyped-def]
    result = run("report", "kpis", "--as-of", "2026-02-28", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["as_of"] == "2026-02-28"
    assert (data["previous_start"], data["previous_end"]) == ("2026-01-01", "2026-01-28")
    by_key = {k["key"]: k for k in data["kpis"]}
    revenue = by_key["revenue_month"]
    assert revenue == {
        "key": "revenue_month",
        "label": "Revenue this month",
        "kind": "money",
        "value": "50.30",
        "previous": "100.00",
        "delta": "-49.70",
        "change_pct": -49.7,
    }
    assert by_key["orders_month"]["value"] == 2 and by_key["customers"]["value"] == 2
    assert by_key["repeat_rate"]["value"] == 50.0
    assert by_key["at_risk"]["value"] is None


def test_kpis_csv_and_table(run) -> None:  # type: ignore[no-untyped-def]
    result = run("report", "kpis", "--as-of", "2026-02-28", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[0]["key"] == "customers"
    assert next(r for r in rows if r["key"] == "revenue_month")["value"] == "50.30"
    table = run("report", "kpis", "--as-of", "2026-02-28")
    assert table.exit_code == 0, table.output
    assert "¥50.30" in table.stdout and "-49.7%" in table.stdout


def test_trend_json_has_every_month(run) -> None:  # type: ignore[no-untyped-def]
    result = run("report", "trend", "--months", "4", "--as-of", "2026-03-31", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {
            "month": "2025-12",
            "revenue": "0.00",
            "orders": 0,
            "new_customers": 0,
            "active_customers": 0,
        },
        {
            "month": "2026-01",
            "revenue": "100.00",
            "orders": 1,
            "new_customers": 1,
            "active_customers": 1,
        },
        {
            "month": "2026-02",
            "revenue": "50.30",
            "orders": 2,
            "new_customers": 1,
            "active_customers": 2,
        },
        {
            "month": "2026-03",
            "revenue": "5.00",
            "orders": 1,
            "new_customers": 0,
            "active_customers": 1,
        },
    ]
    bad = run("report", "trend", "--metric", "profit")
    assert bad.exit_code == 2


def test_cohorts_json_and_csv(run) -> None:  # type: ignore[no-untyped-def]
    result = run("report", "cohorts", "--months", "3", "--as-of", "2026-03-31", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {"cohort": "2026-01", "customers": 1, "buyers": [1, 0, None], "retention": [100.0, 0.0, None]},
        {"cohort": "2026-02", "customers": 1, "buyers": [1, None, None], "retention": [100.0, None, None]},
        {"cohort": "2026-03", "customers": 0, "buyers": [None, None, None], "retention": [None, None, None]},
    ]  # fmt: skip
    flat = run("report", "cohorts", "--months", "3", "--as-of", "2026-03-31", "--format", "csv")
    assert flat.stdout.splitlines()[:2] == [
        "cohort,customers,month_1,month_2,month_3",
        "2026-01,1,100.0,0.0,",
    ]


def test_bar_chart_draws_every_month_scaled() -> None:
    from tricrm_tui.cli.report import bar_chart

    text = bar_chart(["2026-01", "2026-02", "2026-03"], [100.0, 2500.0, 0.0], "Revenue", height=10)
    assert "Revenue" in text and "2026-01" in text and "3k" in text
