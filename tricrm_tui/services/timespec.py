"""Reading the times people type: ``3d``, ``2w``, ``4h``, a date, a date and time, quiet hours.

A period is a number and a unit, in English or in Chinese as operators say it: hours ``4h``
(``4小时``, ``4个小时``), days ``3d`` (``3天``, ``3日``), weeks ``2w`` (``2周``, ``2星期``,
``2个星期``, ``2礼拜``, ``2个礼拜``); full-width digits and a space before the unit are read too.

There are no months. A month has no fixed length, so "a month after 31 January" has no one
answer a timedelta could give, and ``3月`` is March in Chinese, not three months: a period
read as months would misplace some tasks. A date, or weeks, says it exactly. (The filter
language does have calendar months, for ages: ``last_order<6m``.) For the same reason a
follow-up's due time, which may also be a date, refuses ``15日`` (1 to 31): it is the 15th
of the month as much as 15 days. Where no date is read (a plan's cadence, a cap) and past
31 (``90日``), ``日`` is days.

A bare date means that day at :data:`DEFAULT_DUE_TIME` local time: a follow-up "on
2026-12-01" is a task for the working day, not for midnight. Everything returned is an aware
UTC datetime, as stored.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import NamedTuple

from tricrm_tui.i18n import _
from tricrm_tui.services.errors import InvalidInput
from tricrm_tui.services.normalize import (
    TIME_TAIL,
    clean_text,
    fold_width,
    is_excel_serial,
    parse_date,
    parse_datetime,
)

DEFAULT_DUE_TIME = dt.time(9, 0)
"""When a task given only a date falls due (local time): the start of the working day."""

PERIOD_UNITS: dict[str, str] = {
    "h": "h",
    "小时": "h",
    "个小时": "h",
    "d": "d",
    "天": "d",
    "日": "d",
    "w": "w",
    "周": "w",
    "星期": "w",
    "个星期": "w",
    "礼拜": "w",
    "个礼拜": "w",
}
"""How a period's unit is written → ``h``, ``d`` or ``w``."""
_OFFSET = re.compile(r"(\d{1,4})\s*(" + "|".join(PERIOD_UNITS) + ")")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}
_DATETIME = re.compile(r"^(.+?)[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")


class Period(NamedTuple):
    """A number of hours, days or weeks (``unit`` is ``h``, ``d`` or ``w``)."""

    amount: int
    unit: str

    @property
    def delta(self) -> dt.timedelta:
        return dt.timedelta(**{_UNITS[self.unit]: self.amount})


def _period(value: object) -> Period | None:
    """The period ``value`` writes (``3d``, ``3天``, ``３ 天``), or None when it writes none
    (a date, a moment, anything else): the one place a period's text is matched."""
    if not isinstance(value, str):
        return None
    m = _OFFSET.fullmatch(fold_width(clean_text(value)).lower())
    return Period(int(m.group(1)), PERIOD_UNITS[m.group(2)]) if m else None


_UNKNOWN_UNIT = re.compile(r"\d{1,4}\s*\D+")


def _unknown_unit(value: object) -> bool:
    """Whether ``value`` is a number and a word that is no unit (``3斤``, ``3 weeks``, ``3月``:
    March, not three months). No date or time is written so: refused as a period, the
    operator learns which units there are, where "not a date" would puzzle."""
    if not isinstance(value, str):
        return False
    return _UNKNOWN_UNIT.fullmatch(fold_width(clean_text(value))) is not None


_DAY_OF_MONTH = re.compile(r"(\d{1,2})\s*日")


def _refuse_day_of_month(value: object, field: str) -> None:
    """Refuse ``15日`` where a date is read too: the 15th of the month, or 15 days after.
    Read as days, a task meant for the 15th fell due on another day without a word."""
    if not isinstance(value, str):
        return
    m = _DAY_OF_MONTH.fullmatch(fold_width(clean_text(value)))
    if m and 1 <= int(m.group(1)) <= 31:
        raise InvalidInput(
            _(
                "{value} is a day of the month or a number of days: write {n}天 or {n}d for "
                "a period, or the whole date"
            ).format(value=value, n=int(m.group(1))),
            field=field,
        )


def _not_a_period(value: object, field: str) -> InvalidInput:
    return InvalidInput(
        _("not a period: {value} (use e.g. 4h, 3d, 2w or 3天)").format(value=value), field=field
    )


def parse_offset(value: str, *, field: str = "when") -> dt.timedelta:
    """``4h``, ``3d``, ``2w`` (hours, days, weeks; ``4小时``, ``3天``, ``2周``) as a timedelta."""
    period = _period(value)
    if period is None:
        raise _not_a_period(value, field)
    return period.delta


def local_datetime(day: dt.date, time: dt.time = DEFAULT_DUE_TIME) -> dt.datetime:
    """``day`` at ``time`` in the local time zone, as aware UTC."""
    return dt.datetime.combine(day, time).astimezone().astimezone(dt.UTC)


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The local day as a half-open UTC range [start, end)."""
    return local_datetime(day, dt.time(0)), local_datetime(day + dt.timedelta(days=1), dt.time(0))


def parse_moment(value: object, *, field: str = "at") -> dt.datetime:
    """A date (→ :data:`DEFAULT_DUE_TIME`), ``YYYY-MM-DD HH:MM[:SS]`` or an aware datetime."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.astimezone()
    if isinstance(value, dt.date):
        return local_datetime(value)
    raw = fold_width(clean_text(value))
    m = _DATETIME.match(raw)
    if m:
        day = parse_date(m.group(1), field=field)
        hour, minute, second = int(m.group(2)), int(m.group(3)), int(m.group(4) or 0)
        try:
            return local_datetime(day, dt.time(hour, minute, second))
        except ValueError as exc:
            raise InvalidInput(_("not a time: {value}").format(value=value), field=field) from exc
    return local_datetime(parse_date(raw, field=field))


def parse_due(value: object, base: dt.datetime, *, field: str = "due") -> dt.datetime:
    """A period after ``base`` (``3d``, ``3天``) or a moment (``2026-12-01``,
    ``2026-12-01 14:30``). ``15日`` is refused: the 15th, or 15 days?"""
    due = _period_after(value, base, field)
    return due if due is not None else parse_moment(value, field=field)


def _period_after(value: object, base: dt.datetime, field: str) -> dt.datetime | None:
    """When ``value`` is a period, the moment it gives after ``base``; None when it is not
    one. A day of the month (``15日``) and a number with a unit no period has (``3斤``) are
    refused rather than read as a date."""
    _refuse_day_of_month(value, field)
    period = _period(value)
    if period is not None:
        return _after(base, period)
    if _unknown_unit(value):
        raise _not_a_period(value, field)
    return None


def _after(base: dt.datetime, period: Period) -> dt.datetime:
    """``period`` after ``base``. Days and weeks keep the local time of day across a
    daylight-saving change (a contact at 09:00 with ``1w`` falls due at 09:00 a week on);
    hours are elapsed time."""
    if period.unit == "h":
        return base + period.delta
    local = base.astimezone().replace(tzinfo=None) + period.delta
    return local_datetime(local.date(), local.time())


def parse_due_cell(value: object, base: dt.datetime, *, field: str = "follow_up") -> dt.datetime:
    """An import file's follow-up cell: a period after ``base`` (``3d``, ``3天``, as
    :func:`parse_due` reads it) or a moment in any form the import reads times in
    (``2026/12/1``, ``2026年12月1日 14:30``, an Excel serial or date cell). A date alone falls
    due at :data:`DEFAULT_DUE_TIME`, as a follow-up given a date by hand does. ``15日`` is
    refused, as :func:`parse_due` refuses it."""
    due = _period_after(value, base, field)
    if due is not None:
        return due
    if isinstance(value, dt.datetime):
        if value.tzinfo is None and value.time() == dt.time():  # a workbook's date cell
            return local_datetime(value.date())
        return parse_datetime(value, field=field)
    if isinstance(value, dt.date):
        return local_datetime(value)
    raw = fold_width(clean_text(value))
    # ``parse_date`` also reads a date followed by a time (dropping the time): a cell that
    # gives a time of day, or a serial with a fraction, is that moment. A local midnight
    # (``2026-03-05 00:00:00``, a date column exported as a timestamp) is a date alone, as
    # a workbook's date cell is.
    tail = TIME_TAIL.match(raw)
    if tail or (is_excel_serial(raw) and float(raw) % 1):
        moment = parse_datetime(value, field=field)
        local = moment.astimezone()
        if tail is None or tail.group("tz") or local.time() != dt.time():
            return moment
        return local_datetime(local.date())
    return local_datetime(parse_date(value, field=field))


def parse_quiet_hours(value: str | None) -> tuple[dt.time, dt.time] | None:
    """``21:00-09:00`` → (start, end); the range may wrap past midnight. Empty → None."""
    raw = fold_width(clean_text(value)) if value else ""
    if not raw:
        return None
    m = re.fullmatch(r"(\d{1,2}):(\d{2})\s*[-–~]\s*(\d{1,2}):(\d{2})", raw)
    try:
        if not m:
            raise ValueError(raw)
        a, b, c, d = (int(g) for g in m.groups())
        return dt.time(a, b), dt.time(c, d)
    except ValueError as exc:
        raise InvalidInput(
            _("not quiet hours: {value} (use e.g. 21:00-09:00)").format(value=value),
            field="quiet",
        ) from exc


_CAP = re.compile(r"(\d{1,4})\s*/\s*(\d{1,4})\s*(\D*)")
"""A cap: contacts / days, the days' unit (``d``, ``天``, ``日``) optional."""


def parse_cap(value: str | None) -> tuple[int, int] | None:
    """``4/30d`` (``4/30天``, ``4/30``) → at most 4 contacts in any 30 days. Empty → None
    (no cap)."""
    raw = fold_width(clean_text(value)) if value else ""
    if not raw:
        return None
    m = _CAP.fullmatch(raw.lower())
    if (
        not m
        or (m.group(3) and PERIOD_UNITS.get(m.group(3)) != "d")
        or int(m.group(1)) < 1
        or int(m.group(2)) < 1
    ):
        raise InvalidInput(
            _("not a contact cap: {value} (use e.g. 4/30d or 4/30天)").format(value=value),
            field="cap",
        )
    return int(m.group(1)), int(m.group(2))


def parse_days(value: str, *, field: str = "every") -> int:
    """``30d``, ``30天``, ``30`` or ``4w`` (``4周``) as a whole number of days (at least one)."""
    raw = fold_width(clean_text(value))
    period = dt.timedelta(days=int(raw)) if raw.isdigit() else parse_offset(value, field=field)
    if period % dt.timedelta(days=1):
        # ``36h`` is not a day and a half of cadence: plans count whole days.
        raise InvalidInput(
            _("a period here is whole days: {value} (use e.g. 30d or 30天)").format(value=value),
            field=field,
        )
    days = period.days
    if days < 1:
        raise InvalidInput(_("a period must be at least one day"), field=field)
    return days


def outside_quiet_hours(moment: dt.datetime, quiet: tuple[dt.time, dt.time] | None) -> dt.datetime:
    """Move a moment that falls inside the (local) quiet hours to their end.

    Quiet hours are half-open [start, end): a task due exactly at the end is not moved. A
    range such as 21:00–09:00 wraps midnight, so 23:00 moves to 09:00 the next morning.
    """
    if quiet is None or quiet[0] == quiet[1]:
        return moment
    start, end = quiet
    local = moment.astimezone()
    t = local.time().replace(tzinfo=None)
    wraps = start > end
    inside = (t >= start or t < end) if wraps else (start <= t < end)
    if not inside:
        return moment
    day = local.date() + dt.timedelta(days=1) if wraps and t >= start else local.date()
    return local_datetime(day, end)
