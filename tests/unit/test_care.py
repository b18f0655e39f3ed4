"""Care dates: lunar festivals on the right Gregorian dates, February 29, and care rules run
over a simulated calendar (idempotent, caught up after a missed day, targeted)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.factories import add_customer
from tests.interact_helpers import clock, set_customer, utc_local  # noqa: F401
from tricrm_tui.services import care, followups
from tricrm_tui.services.errors import InvalidInput, NotFound

D = dt.date.fromisoformat
UTC = dt.UTC

SPRING_FESTIVAL = {
    2020: "2020-01-25", 2021: "2021-02-12", 2022: "2022-02-01", 2023: "2023-01-22",
    2024: "2024-02-10", 2025: "2025-01-29", 2026: "2026-02-17", 2027: "2027-02-06",
    2028: "2028-01-26", 2029: "2029-02-13", 2030: "2030-02-03",
}  # fmt: skip


@pytest.mark.parametrize("year", sorted(SPRING_FESTIVAL))
def test_spring_festival(year: int) -> None:
    assert care.lunar_festival("spring_festival", year) == D(SPRING_FESTIVAL[year])


@pytest.mark.parametrize(
    ("occasion", "year", "expected"),
    [
        ("mid_autumn", 2024, "2024-09-17"),
        ("mid_autumn", 2025, "2025-10-06"),
        ("mid_autumn", 2026, "2026-09-25"),
        ("dragon_boat", 2025, "2025-05-31"),
        ("dragon_boat", 2026, "2026-06-19"),
        ("lantern", 2025, "2025-02-12"),
        ("lantern", 2026, "2026-03-03"),
        ("qixi", 2025, "2025-08-29"),
        ("double_ninth", 2025, "2025-10-29"),
    ],
)
def test_other_festivals(occasion: str, year: int, expected: str) -> None:
    assert care.lunar_festival(occasion, year) == D(expected)


def test_occasions_in_a_window_cross_the_year() -> None:
    assert care.occasion_dates("lunar", "spring_festival", D("2027-01-30"), D("2027-02-10")) == [
        D("2027-02-06")
    ]
    assert care.occasion_dates("solar", "01-01", D("2026-12-28"), D("2027-01-03")) == [
        D("2027-01-01")
    ]
    assert care.occasion_dates("solar", "10-01", D("2026-03-01"), D("2026-03-10")) == []


def test_feb_29_falls_on_feb_28_in_common_years() -> None:
    assert care.anniversary_in(2027, 2, 29) == D("2027-02-28")
    assert care.anniversary_in(2028, 2, 29) == D("2028-02-29")


def test_birthday_rule_over_a_calendar(ctx, clock) -> None:  # noqa: F811
    add_customer(ctx, "LEAP", "闰年生", birthday="2000-02-29")
    add_customer(ctx, "MAR", "三月生", birthday="1990-03-03")
    add_customer(ctx, "NONE", "无生日")
    care.set_care_rule(ctx, "生日问候", kind="birthday", days_ahead=3, message="送上祝福")
    # 2027 is a common year: the leap-day birthday is greeted for Feb 28, three days ahead.
    first = care.run_care(ctx, D("2027-02-25"))
    assert [(t.customer_code, t.due) for t in first.created] == [
        ("LEAP", dt.datetime(2027, 2, 25, 9, 0, tzinfo=UTC))
    ]
    assert "2027-02-28" in first.created[0].reason and "送上祝福" in first.created[0].reason
    assert care.run_care(ctx, D("2027-02-25")).created == []  # idempotent
    assert care.run_care(ctx, D("2027-02-26")).created == []  # same occasion, already done
    # A missed day is caught up: MAR's birthday (Mar 3) enters the window on Feb 28.
    third = care.run_care(ctx, D("2027-03-01"))
    assert [(t.customer_code, t.due.date()) for t in third.created] == [("MAR", D("2027-03-01"))]
    # In a leap year the birthday is Feb 29 itself.
    leap = care.run_care(ctx, D("2028-02-27"))
    assert [t.reason.split(" on ")[-1][:10] for t in leap.created] == ["2028-02-29"]
    tasks = followups.list_followups(ctx, customer="LEAP", status="all").items
    assert [t.source for t in tasks] == ["care", "care"]


def test_the_rule_channel_is_on_the_task(ctx, clock) -> None:  # noqa: F811
    from tricrm_tui.i18n import set_language

    add_customer(ctx, "W", "微信客户", birthday="1990-03-03")
    add_customer(ctx, "V", "拜访客户", birthday="1990-03-04")
    care.set_care_rule(
        ctx, "生日微信", kind="birthday", days_ahead=3, channel="微信", message="祝福"
    )
    first = care.run_care(ctx, D("2027-02-28"))
    assert [t.reason for t in first.created] == [
        "生日微信: birthday on 2027-03-03, by wechat — 祝福"
    ]
    stored = followups.list_followups(ctx, customer="W", status="all").items
    assert stored[0].reason.endswith(", by wechat — 祝福")
    care.set_care_rule(ctx, "生日拜访", kind="birthday", days_ahead=0, channel="visit")
    set_language("zh_CN")
    try:
        second = care.run_care(ctx, D("2027-03-04"))
    finally:
        set_language("en")
    visit = next(t for t in second.created if t.rule == "生日拜访")
    assert visit.reason.endswith("方式：拜访")


def test_anniversary_and_festival_rules(ctx, clock) -> None:  # noqa: F811
    add_customer(ctx, "OLD", "老客户", registered="2024-02-03")
    add_customer(ctx, "NEW", "新客户", registered="2027-02-01")
    add_customer(ctx, "VIP", "大客户", registered="2025-06-01")
    set_customer(ctx, "VIP", value_tier="high")
    care.set_care_rule(ctx, "周年", kind="anniversary", days_ahead=2)
    care.set_care_rule(
        ctx, "春节礼品", kind="lunar", occasion="spring_festival", days_ahead=7, target="tier:high"
    )
    care.set_care_rule(ctx, "国庆", kind="solar", occasion="10-1", days_ahead=5)
    report = care.run_care(ctx, D("2027-02-01"))
    assert sorted((t.rule, t.customer_code) for t in report.created) == [
        ("周年", "OLD"),
        ("春节礼品", "VIP"),
    ]
    spring = next(t for t in report.created if t.rule == "春节礼品")
    assert spring.due.date() == D("2027-02-01") and "2027-02-06" in spring.reason
    assert care.run_care(ctx, D("2027-02-01")).created == []
    assert care.run_care(ctx, D("2027-02-03")).created == []
    national = care.run_care(ctx, D("2027-09-28"))
    assert sorted(t.customer_code for t in national.created) == ["NEW", "OLD", "VIP"]
    assert {t.due.date() for t in national.created} == {D("2027-09-28")}
    # The next Spring Festival (2028-01-26) is a new occasion.
    assert [t.customer_code for t in care.run_care(ctx, D("2028-01-20")).created] == ["VIP"]


def test_rules_validate_and_list(ctx, clock) -> None:  # noqa: F811
    with pytest.raises(InvalidInput):
        care.set_care_rule(ctx, "x", kind="easter")
    with pytest.raises(InvalidInput):
        care.set_care_rule(ctx, "x", kind="lunar", occasion="christmas")
    with pytest.raises(InvalidInput):
        care.set_care_rule(ctx, "x", kind="solar", occasion="13-40")
    with pytest.raises(InvalidInput):
        care.set_care_rule(ctx, "x", kind="birthday", days_ahead=400)
    care.set_care_rule(ctx, "中秋", kind="lunar", occasion="mid-autumn", target="tier:high")
    care.set_care_rule(ctx, "中秋", kind="lunar", occasion="mid_autumn", days_ahead=10)
    rules = care.list_care_rules(ctx)
    assert [(r.name, r.occasion, r.days_ahead, r.target) for r in rules] == [
        ("中秋", "mid_autumn", 10, "all")
    ]
    assert rules[0].occasion_name == "Mid-Autumn Festival"
    care.remove_care_rule(ctx, "中秋")
    with pytest.raises(NotFound):
        care.remove_care_rule(ctx, "中秋")
