"""At-risk customers read from the latest stored value snapshot (what the Today screen shows)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from tests.factories import add_customer
from tricrm_tui.models import ValueSnapshot
from tricrm_tui.services import customers, value


def _snapshot(ctx, code: str, as_of: str, lifecycle: str, clv: str | None) -> None:  # type: ignore[no-untyped-def]
    with ctx.transaction() as s:
        cid = customers.customer_id_for(s, code)
        s.execute(
            sa.insert(ValueSnapshot.__table__).values(
                customer_id=cid,
                as_of=dt.date.fromisoformat(as_of),
                frequency=3,
                monetary=Decimal("100"),
                lifecycle=lifecycle,
                tier="high",
                p_alive=0.3,
                clv=None if clv is None else Decimal(clv),
            )
        )


def test_latest_snapshot_only_most_value_first(ctx) -> None:  # type: ignore[no-untyped-def]
    for code in ("A", "B", "C", "D"):
        add_customer(ctx, code, f"客户{code}")
    _snapshot(ctx, "A", "2026-01-01", "at_risk", "900")  # an older refresh: ignored
    _snapshot(ctx, "A", "2026-02-01", "active", "900")
    _snapshot(ctx, "B", "2026-02-01", "at_risk", "50.5")
    _snapshot(ctx, "C", "2026-02-01", "at_risk", "700")
    _snapshot(ctx, "D", "2026-02-01", "at_risk", None)
    page = value.at_risk_from_snapshot(ctx, limit=2)
    assert page.total == 3
    assert [r.code for r in page.items] == ["C", "B"]
    assert page.items[0].clv == Decimal("700.00")
    uncounted = value.at_risk_from_snapshot(ctx, limit=2, count=False)  # what Today reads
    assert (uncounted.items, uncounted.total) == (page.items, 2)
    customers.delete_customer(ctx, "C")
    assert [r.code for r in value.at_risk_from_snapshot(ctx).items] == ["B", "D"]


def test_no_snapshot_yet_is_an_empty_page(ctx) -> None:  # type: ignore[no-untyped-def]
    assert value.at_risk_from_snapshot(ctx).items == []


def _two_refreshes(ctx) -> None:  # type: ignore[no-untyped-def]
    """A February refresh with A and B at risk, a March one with only C."""
    for code in ("A", "B", "C"):
        add_customer(ctx, code, f"客户{code}")
    _snapshot(ctx, "A", "2026-02-01", "at_risk", "300")
    _snapshot(ctx, "B", "2026-02-01", "at_risk", "200")
    _snapshot(ctx, "C", "2026-02-01", "active", "100")
    _snapshot(ctx, "A", "2026-03-01", "active", "300")
    _snapshot(ctx, "B", "2026-03-01", "active", "200")
    _snapshot(ctx, "C", "2026-03-01", "at_risk", "100")


def test_a_past_date_reads_the_refresh_on_or_before_it(ctx) -> None:  # type: ignore[no-untyped-def]
    _two_refreshes(ctx)
    feb = value.at_risk_from_snapshot(ctx, as_of=dt.date(2026, 2, 20))
    assert [r.code for r in feb.items] == ["A", "B"]
    assert {r.as_of for r in feb.items} == {dt.date(2026, 2, 1)}
    on_the_day = value.at_risk_from_snapshot(ctx, as_of=dt.date(2026, 3, 1))
    assert [r.code for r in on_the_day.items] == ["C"]
    assert value.at_risk_from_snapshot(ctx, as_of=dt.date(2026, 1, 31)).items == []
    # Without a date: the newest refresh, as the Today screen has always read it.
    assert [r.code for r in value.at_risk_from_snapshot(ctx).items] == ["C"]
    second = value.at_risk_from_snapshot(ctx, as_of=dt.date(2026, 2, 20), limit=1, offset=1)
    assert (second.total, [r.code for r in second.items]) == (2, ["B"])


def test_dashboard_list_matches_its_card_for_a_past_date(ctx) -> None:  # type: ignore[no-untyped-def]
    from tricrm_tui.services import kpis
    from tricrm_tui.tui.screens.dashboard import load_dashboard

    _two_refreshes(ctx)
    data = load_dashboard(ctx, dt.date(2026, 2, 20))
    assert data.report.snapshot_as_of == dt.date(2026, 2, 1)
    assert data.report.get("at_risk").value == data.at_risk_total == 2
    assert [r.code for r in data.at_risk] == ["A", "B"]
    assert kpis.kpi_report(ctx, dt.date(2026, 3, 5), levels=False).get("at_risk").value == 1


def test_cli_stored_at_risk_follows_as_of(ctx, db_url) -> None:  # type: ignore[no-untyped-def]
    import json

    from tests.cli_runner import invoke

    _two_refreshes(ctx)
    out = invoke(db_url, "value", "at-risk", "--stored", "--as-of", "2026-02-20", "-f", "json")
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert [(r["code"], r["as_of"]) for r in rows] == [("A", "2026-02-01"), ("B", "2026-02-01")]
    table = invoke(db_url, "value", "at-risk", "--stored", "--as-of", "2026-03-02").stdout
    assert "客户C" in table and "客户A" not in table and "2026" in table
    refused = invoke(db_url, "value", "at-risk", "--stored", "--threshold", "0.3")
    assert refused.exit_code == 2
