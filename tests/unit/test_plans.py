"""Communication plans over a simulated calendar: due customers, idempotence per date, contact
caps, quiet hours and consent."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.factories import add_customer
from tests.interact_helpers import clock, set_customer, utc_local  # noqa: F401
from tricrm_tui.services import followups, interactions, plans
from tricrm_tui.services.errors import InvalidInput, NotFound

UTC = dt.UTC
D = dt.date.fromisoformat


def _codes(report) -> list[str]:  # type: ignore[no-untyped-def]
    return [t.customer_code for t in report.created]


@pytest.fixture
def shop(ctx, clock):  # type: ignore[no-untyped-def]  # noqa: F811
    for code, tier in [("H1", "high"), ("H2", "high"), ("H3", "high"), ("M1", "medium")]:
        add_customer(ctx, code, registered="2025-01-01")
        set_customer(ctx, code, value_tier=tier)
    return ctx


def test_plans_run_over_a_calendar(shop, clock) -> None:  # noqa: F811
    ctx = shop
    plans.set_plan(ctx, "vip", target="tier:high", every="30d", channel="phone")
    # H2 was called 10 days ago: not due yet. H3 was called 40 days ago: due.
    interactions.log_interaction(ctx, "H2", channel="phone", subject="hi", at="2026-03-05 10:00")
    interactions.log_interaction(ctx, "H3", channel="phone", subject="hi", at="2026-02-03 10:00")
    first = plans.run_plans(ctx, D("2026-03-15"))
    assert _codes(first) == ["H1", "H3"]
    assert first.created[0].due == dt.datetime(2026, 3, 15, 9, 0, tzinfo=UTC)
    task = followups.get_followup(ctx, first.created[0].id)
    assert task.source == "plan" and "vip" in task.reason
    assert task.source_key == f"plan:{plans.list_plans(ctx)[0].id}:{_id(ctx, 'H1')}:2026-03-15"
    # Idempotent for a date, and no second task while one is open.
    assert plans.run_plans(ctx, D("2026-03-15")).created == []
    assert plans.run_plans(ctx, D("2026-03-16")).created == []
    # H1's task is done with a call; a week later H2 falls due (last contact 37 days back).
    clock.set("2026-03-16", "10:00")
    followups.done(ctx, first.created[0].id, log="called")
    later = plans.run_plans(ctx, D("2026-04-11"))
    assert _codes(later) == ["H2"]
    # A month after H1's call it is due again.
    assert "H1" in _codes(plans.run_plans(ctx, D("2026-04-16")))
    assert len(followups.list_followups(ctx, status="all").items) == 4


def _id(ctx, code: str) -> int:  # type: ignore[no-untyped-def]
    from tricrm_tui.services.customers import get_customer

    return get_customer(ctx, code).id


def test_caps_skip_and_report_over_contacted_customers(shop, clock) -> None:  # noqa: F811
    ctx = shop
    plans.set_plan(ctx, "vip", target="tier:high", every="30d", channel="phone", cap="2/30d")
    plans.set_plan(ctx, "gifts", target="tier:high", every="7d", channel="visit", cap="2/30d")
    # H1 had two contacts in the 30 days before the run, both older than a week.
    for day in ("2026-03-05", "2026-03-10"):
        interactions.log_interaction(ctx, "H1", channel="email", subject="news", at=day)
    report = plans.run_plans(ctx, D("2026-03-30"))
    # vip: H1 is not due (contacted 20 days ago); gifts: H1 is due but at its cap of 2.
    assert report.capped == [("gifts", "H1")]
    # H2/H3 get the vip task; the gifts task is a second contact in the window: still allowed.
    assert sorted((t.rule, t.customer_code) for t in report.created) == [
        ("gifts", "H2"),
        ("gifts", "H3"),
        ("vip", "H2"),
        ("vip", "H3"),
    ]
    plans.set_plan(ctx, "third", target="tier:high", every="7d", channel="sms", cap="2/30d")
    third = plans.run_plans(ctx, D("2026-03-30"))
    assert third.created == [] and {c for p, c in third.capped if p == "third"} == {
        "H1",
        "H2",
        "H3",
    }


def test_quiet_hours_move_the_due_time(shop, clock) -> None:  # noqa: F811
    ctx = shop
    plans.set_plan(ctx, "vip", target="tier:high", every="30d", quiet="20:00-10:30")
    report = plans.run_plans(ctx, D("2026-03-15"))
    assert {t.due for t in report.created} == {dt.datetime(2026, 3, 15, 10, 30, tzinfo=UTC)}


def test_consent_and_inactive_and_merged(shop, clock) -> None:  # noqa: F811
    ctx = shop
    set_customer(ctx, "H1", consent_phone=False)
    plans.set_plan(ctx, "vip", target="tier:high", every="30d", channel="phone")
    plans.set_plan(ctx, "off", target="tier:medium", every="30d", active=False)
    assert _codes(plans.run_plans(ctx, D("2026-03-15"))) == ["H2", "H3"]


def test_plan_set_validates_and_defaults_seed(ctx, clock) -> None:  # noqa: F811
    for bad in (
        {"target": "tier:high", "every": "often"},
        {"target": "tier:high", "every": "30d", "cap": "lots"},
        {"target": "tier:high", "every": "30d", "quiet": "late"},
        {"target": "tier:high", "every": "30d", "channel": "pigeon"},
    ):
        with pytest.raises(InvalidInput):
            plans.set_plan(ctx, "x", **bad)
    p = plans.set_plan(
        ctx, "x", target="segment:at_risk", every="1w", cap="3/30", quiet="22:00-08:00"
    )
    assert (p.target, p.every_days, p.cap, p.quiet) == (
        "segment:at_risk",
        7,
        "3/30d",
        "22:00-08:00",
    )
    p = plans.set_plan(ctx, "x", target="tier:low", every="90d")
    assert (p.target, p.cap, p.quiet) == ("tier:low", None, None)
    names = [p.name for p in plans.seed_default_plans(ctx)]
    assert names == ["at-risk-call", "high-value-call", "medium-value-email", "x"]
    assert len(plans.seed_default_plans(ctx)) == 4
    plans.remove_plan(ctx, "x")
    with pytest.raises(NotFound):
        plans.remove_plan(ctx, "x")


def test_filter_expression_targets(ctx, clock) -> None:  # noqa: F811
    """A target that is not ``kind:value`` is a customer filter expression, when the filter
    language is installed; without it the plan is refused at once, not at run time."""
    from tests.factories import add_orders

    add_customer(ctx, "F1")
    add_customer(ctx, "F2")
    add_orders(ctx, "F1", [("2026-01-01", 10), ("2026-01-02", 10), ("2026-01-03", 10)])
    add_orders(ctx, "F2", [("2026-01-01", 10)])
    try:
        import tricrm_tui.services.filters  # noqa: F401
    except ImportError:
        with pytest.raises(InvalidInput):
            plans.set_plan(ctx, "loyal", target="orders>=3", every="30d")
        return
    assert plans.set_plan(ctx, "loyal", target="orders>=3", every="30d").target == "orders>=3"
    assert _codes(plans.run_plans(ctx, D("2026-03-15"))) == ["F1"]
    with pytest.raises(InvalidInput):
        plans.set_plan(ctx, "long", target="orders>=3 " + "x" * 100, every="30d")
