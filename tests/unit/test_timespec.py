"""Periods written in Chinese (``3天``, ``2周``, ``4小时``) read wherever a period is read."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest

from tests.interact_helpers import utc_local  # noqa: F401
from tricrm_tui.services.errors import InvalidInput
from tricrm_tui.services.timespec import (
    parse_cap,
    parse_days,
    parse_due,
    parse_due_cell,
    parse_offset,
)

BASE = dt.datetime(2026, 3, 15, 8, 0, tzinfo=dt.UTC)

CHINESE_PERIODS = [
    ("3天", dt.timedelta(days=3)),
    ("32日", dt.timedelta(days=32)),  # past any day of the month
    ("2周", dt.timedelta(weeks=2)),
    ("2星期", dt.timedelta(weeks=2)),
    ("2个星期", dt.timedelta(weeks=2)),
    ("2礼拜", dt.timedelta(weeks=2)),
    ("2个礼拜", dt.timedelta(weeks=2)),
    ("4小时", dt.timedelta(hours=4)),
    ("4个小时", dt.timedelta(hours=4)),
    ("3 天", dt.timedelta(days=3)),
    ("３天", dt.timedelta(days=3)),  # full-width digit
    ("１０　个小时", dt.timedelta(hours=10)),  # full-width digits and space
]


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time in New York, where clocks go forward on 2026-03-08."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(("text", "period"), CHINESE_PERIODS)
def test_chinese_periods(text: str, period: dt.timedelta, utc_local: None) -> None:  # noqa: F811
    assert parse_offset(text) == period
    assert parse_due(text, BASE) == BASE + period
    assert parse_due_cell(text, BASE) == BASE + period


def test_chinese_days_and_weeks_keep_the_local_time_across_a_clock_change(
    new_york: None,
) -> None:
    base = dt.datetime(2026, 3, 3, 9, 0).astimezone()  # 09:00 EST
    for spec in ("7天", "1周", "1个星期", "1礼拜"):
        for reader in (parse_due, parse_due_cell):
            due = reader(spec, base).astimezone()
            assert (due.date(), due.time()) == (dt.date(2026, 3, 10), dt.time(9, 0)), spec
        assert parse_due(spec, base) == parse_due("7d", base)
    # Hours are elapsed time, as 168h is: 10:00 EDT.
    assert parse_due("168小时", base) == base + dt.timedelta(hours=168)


def test_a_bad_unit_is_refused_with_a_chinese_example(utc_local: None) -> None:  # noqa: F811
    for bad in ("3斤", "3月", "3个月", "天", "3天天"):
        with pytest.raises(InvalidInput) as err:
            parse_offset(bad, field="period")
        assert err.value.field == "period"
        assert "3天" in str(err.value) and bad in str(err.value)
        with pytest.raises(InvalidInput):
            parse_due(bad, BASE)
        with pytest.raises(InvalidInput):
            parse_due_cell(bad, BASE)


def test_a_follow_up_with_an_unknown_unit_is_refused_as_a_period() -> None:
    """``3斤`` is no date either: the message names the units, not "not a date"."""
    for bad in ("3斤", "3月", "3 weeks", "３ 斤"):
        for reader in (parse_due, parse_due_cell):
            with pytest.raises(InvalidInput) as err:
                reader(bad, BASE, field="period")
            assert str(err.value) == f"not a period: {bad} (use e.g. 4h, 3d, 2w or 3天)"
            assert err.value.field == "period"
    # Text with a digit after the word is a date the readers judge as before.
    with pytest.raises(InvalidInput, match="not a date"):
        parse_due("3月5日", BASE)


def test_a_day_of_the_month_is_not_read_as_days_where_a_date_is_read_too(
    utc_local: None,  # noqa: F811
) -> None:
    """``15日`` is the 15th of the month as much as 15 days: a follow-up meant for the 15th
    fell due 15 days on, without a word. Refused where a date is also read; days where
    none is (a plan's cadence, a cap) and past 31."""
    for text, n in (("15日", 15), ("1日", 1), ("31 日", 31), ("１５日", 15)):
        for reader in (parse_due, parse_due_cell):
            with pytest.raises(InvalidInput) as err:
                reader(text, BASE, field="due")
            assert str(err.value) == (
                f"{text} is a day of the month or a number of days: write {n}天 or {n}d for "
                "a period, or the whole date"
            )
            assert err.value.field == "due"
    assert parse_due("90日", BASE) == BASE + dt.timedelta(days=90)
    assert parse_offset("3日") == dt.timedelta(days=3)


def test_plan_cadence_and_cap_in_chinese() -> None:
    assert parse_days("30天") == 30
    assert parse_days("30日") == 30
    assert parse_days("4周") == 28
    assert parse_days("２个星期") == 14
    assert parse_cap("4/30天") == (4, 30)
    assert parse_cap("4 / 30 日") == (4, 30)
    assert parse_cap("４／３０天") == (4, 30)
    for bad in ("4/30斤", "4/4周", "4/30小时"):  # a cap's window is counted in days
        with pytest.raises(InvalidInput) as err:
            parse_cap(bad)
        assert "4/30天" in str(err.value)
    with pytest.raises(InvalidInput) as err:
        parse_days("30斤")
    assert "3天" in str(err.value)


def test_a_cadence_is_whole_days() -> None:
    """``36h`` used to become one day, silently; ``48h`` is two."""
    from tricrm_tui.services.timespec import parse_days

    assert parse_days("48h") == 2 and parse_days("48小时") == 2
    for bad in ("36h", "4小时"):
        with pytest.raises(InvalidInput, match="whole days"):
            parse_days(bad)
