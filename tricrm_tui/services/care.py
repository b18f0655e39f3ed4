"""Care dates: birthdays, registration anniversaries and holidays, each turned into a care
follow-up (a greeting call, a gift) some days ahead, for the customers a rule targets.

Chinese festivals follow the lunar calendar, so their Gregorian date moves every year. They
are converted with ``lunardate``: a small pure-Python library with no dependencies, kept up to
date (0.3, 2026), whose tables (1900–2099) come from the Hong Kong Observatory's published
calendar; its Spring Festival dates for 2020–2030 are checked in the tests. Heavier options
(``lunar-python``, ``cnlunar``) add almanac features tricrm does not use.

A run for a date looks at the window ``[date, date + days_ahead]`` and creates a task for
every occurrence inside it that has none yet (``source_key`` =
``care:{rule_id}:{customer_id}:{occurrence date}``), due ``days_ahead`` before the occasion
(or today, if that is already past). So a missed day is caught up on the next run, and
running twice creates nothing new. A February 29 birthday is celebrated on February 28 in
common years.

Follow-ups have no channel column, so the rule's channel ends the task's reason:
``生日问候: birthday on 2027-02-28, by phone`` (then `` — message`` when the rule has one),
in the operator's language when the task is created.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tricrm_tui.i18n import _
from tricrm_tui.labels import N_
from tricrm_tui.models import CareRule, Customer, FollowUp
from tricrm_tui.services import audit
from tricrm_tui.services.context import ServiceContext
from tricrm_tui.services.errors import InvalidInput
from tricrm_tui.services.followups import GeneratedTask, insert_generated
from tricrm_tui.services.interactions import normalise_channel
from tricrm_tui.services.normalize import clean_text
from tricrm_tui.services.plans import RunReport
from tricrm_tui.services.segments import segment_resolver
from tricrm_tui.services.targets import check_target, split_target, target_condition
from tricrm_tui.services.timespec import local_datetime

R = CareRule.__table__.c
C = Customer.__table__.c
F = FollowUp.__table__.c

KINDS = ("birthday", "anniversary", "lunar", "solar")
LUNAR_FESTIVALS: dict[str, tuple[int, int, str]] = {
    "spring_festival": (1, 1, N_("Spring Festival")),
    "lantern": (1, 15, N_("Lantern Festival")),
    "dragon_boat": (5, 5, N_("Dragon Boat Festival")),
    "qixi": (7, 7, N_("Qixi Festival")),
    "mid_autumn": (8, 15, N_("Mid-Autumn Festival")),
    "double_ninth": (9, 9, N_("Double Ninth Festival")),
}
"""Festival → (lunar month, lunar day, name). Always in the regular (non-leap) month."""

SOLAR_NAMES = {
    "01-01": N_("New Year's Day"),
    "05-01": N_("Labour Day"),
    "10-01": N_("National Day"),
}
MAX_DAYS_AHEAD = 60


def lunar_festival(occasion: str, year: int) -> dt.date:
    """The Gregorian date of a lunar festival in the lunar year ``year``."""
    from lunardate import LunarDate

    month, day, _name = LUNAR_FESTIVALS[occasion]
    return LunarDate(year, month, day).to_solar_date()


def anniversary_in(year: int, month: int, day: int) -> dt.date:
    """Month/day in ``year``; February 29 falls on February 28 in common years."""
    if month == 2 and day == 29:
        try:
            return dt.date(year, 2, 29)
        except ValueError:
            return dt.date(year, 2, 28)
    return dt.date(year, month, day)


def occasion_dates(kind: str, occasion: str | None, start: dt.date, end: dt.date) -> list[dt.date]:
    """Dates of a fixed (lunar or solar) occasion falling in [start, end]."""
    found = []
    for year in range(start.year - 1, end.year + 1):
        if kind == "lunar":
            when = lunar_festival(occasion or "", year)
        else:
            month, day = (int(p) for p in (occasion or "").split("-"))
            when = anniversary_in(year, month, day)
        if start <= when <= end:
            found.append(when)
    return found


def occasion_label(kind: str, occasion: str | None) -> str:
    if kind == "birthday":
        return _("birthday")
    if kind == "anniversary":
        return _("registration anniversary")
    if kind == "lunar":
        return _(LUNAR_FESTIVALS[occasion or ""][2])
    return _(SOLAR_NAMES[occasion]) if occasion in SOLAR_NAMES else (occasion or "")


@dataclass(frozen=True)
class CareRuleRecord:
    id: int
    name: str
    kind: str
    occasion: str | None
    occasion_name: str
    days_ahead: int
    target: str
    channel: str
    message: str | None
    active: bool


def _record(r: Any) -> CareRuleRecord:
    return CareRuleRecord(
        id=r.id,
        name=r.name,
        kind=r.kind,
        occasion=r.occasion,
        occasion_name=occasion_label(r.kind, r.occasion),
        days_ahead=r.days_ahead,
        target=r.target_expr or "all",
        channel=r.channel,
        message=r.message,
        active=bool(r.active),
    )


def _check_occasion(kind: str, occasion: str | None) -> str | None:
    if kind not in KINDS:
        raise InvalidInput(
            _("unknown care kind: {value} (one of: {choices})").format(
                value=kind, choices=", ".join(KINDS)
            ),
            field="kind",
        )
    if kind in ("birthday", "anniversary"):
        return None
    occasion = (
        clean_text(occasion).lower().replace("-", "_") if kind == "lunar" else clean_text(occasion)
    )
    if kind == "lunar" and occasion not in LUNAR_FESTIVALS:
        raise InvalidInput(
            _("unknown lunar festival: {value} (one of: {choices})").format(
                value=occasion, choices=", ".join(LUNAR_FESTIVALS)
            ),
            field="occasion",
        )
    if kind == "solar":
        m = re.fullmatch(r"(\d{1,2})-(\d{1,2})", occasion or "")
        try:
            if not m:
                raise ValueError(occasion)
            anniversary_in(2024, int(m.group(1)), int(m.group(2)))
        except ValueError as exc:
            raise InvalidInput(
                _("a solar holiday is a month and day such as 10-01: {value}").format(
                    value=occasion
                ),
                field="occasion",
            ) from exc
        occasion = f"{int(m.group(1)):02d}-{int(m.group(2)):02d}"
    return occasion


def list_care_rules(ctx: ServiceContext) -> list[CareRuleRecord]:
    with ctx.session() as s:
        return [_record(r) for r in s.execute(sa.select(CareRule.__table__).order_by(R.name))]


def set_care_rule(
    ctx: ServiceContext,
    name: str,
    *,
    kind: str,
    occasion: str | None = None,
    days_ahead: int = 3,
    target: str = "all",
    channel: str = "phone",
    message: str | None = None,
    active: bool = True,
) -> CareRuleRecord:
    """Create or replace the care rule called ``name``."""
    name = clean_text(name)
    if not name or len(name) > 100:
        raise InvalidInput(_("a care rule needs a name of at most 100 characters"), field="name")
    if not 0 <= days_ahead <= MAX_DAYS_AHEAD:
        raise InvalidInput(
            _("days ahead must be between 0 and {max}").format(max=MAX_DAYS_AHEAD),
            field="days_ahead",
        )
    kind = clean_text(kind).lower()
    occasion = _check_occasion(kind, occasion)
    with ctx.session() as s:
        check_target(target, today=ctx.today(), resolve=segment_resolver(s))
    t_kind, t_value = split_target(target)
    values = {
        "name": name,
        "kind": kind,
        "occasion": occasion,
        "days_ahead": days_ahead,
        "target_expr": "" if t_kind == "all" else clean_text(target),
        "channel": normalise_channel(channel),
        "message": clean_text(message) or None,
        "active": active,
    }
    with ctx.transaction() as s:
        row = audit.upsert_by_name(s, ctx.actor, CareRule.__table__, "care_rule", name, values)
        return _record(row)


def remove_care_rule(ctx: ServiceContext, name: str) -> None:
    with ctx.transaction() as s:
        audit.delete_by_name(
            s,
            ctx.actor,
            CareRule.__table__,
            "care_rule",
            name,
            not_found=_("no care rule called {name}").format(name=name),
            describe=lambda row: _record(row).__dict__,
        )


def _month_day(backend: str, col: Any) -> sa.ColumnElement[str]:
    if backend == "sqlite":
        return sa.func.strftime("%m-%d", col)
    return sa.func.to_char(col, "MM-DD")


def _window_month_days(start: dt.date, end: dt.date) -> dict[str, list[dt.date]]:
    """``MM-DD`` → dates in [start, end] it falls on (``02-29`` → Feb 28 in common years)."""
    out: dict[str, list[dt.date]] = {}
    day = start
    while day <= end:
        out.setdefault(day.strftime("%m-%d"), []).append(day)
        if day.month == 2 and day.day == 28 and anniversary_in(day.year, 2, 29) == day:
            out.setdefault("02-29", []).append(day)
        day += dt.timedelta(days=1)
    return out


def _task(ctx: ServiceContext, rule: Any, r: Any, when: dt.date, day: dt.date) -> dict[str, Any]:
    due_day = max(when - dt.timedelta(days=rule.days_ahead), day)
    # Follow-ups have no channel column: the rule's channel is the reason's last words.
    reason = _("{rule}: {occasion} on {date}, by {channel}").format(
        rule=rule.name,
        occasion=occasion_label(rule.kind, rule.occasion),
        date=when.isoformat(),
        channel=_(rule.channel),
    )
    if rule.message:
        reason = f"{reason} — {rule.message}"
    return {
        "customer_id": r.id,
        "due_at": local_datetime(due_day),
        "owner": r.owner or ctx.actor.username,
        "priority": 2,
        "status": "open",
        "reason": reason[:400],
        "source": "care",
        "source_key": f"care:{rule.id}:{r.id}:{when.isoformat()}",
        "created_at": ctx.now(),
    }


def _candidates(
    session: Session, ctx: ServiceContext, rule: Any, day: dt.date
) -> tuple[list[dict[str, Any]], dict[int, tuple[str, str]]]:
    """The tasks a rule calls for in its window, and who each customer is (for the report)."""
    end = day + dt.timedelta(days=rule.days_ahead)
    t_kind, t_value = split_target(rule.target_expr)
    target = target_condition(t_kind, t_value, today=day, resolve=segment_resolver(session))
    cols = [C.id, C.code, C.name, C.owner]
    rows: list[dict[str, Any]] = []
    who: dict[int, tuple[str, str]] = {}
    if rule.kind in ("birthday", "anniversary"):
        col = C.birthday if rule.kind == "birthday" else C.registered_on
        days = _window_month_days(day, end)
        q = sa.select(*cols, col.label("origin")).where(
            target, col.is_not(None), _month_day(ctx.db.backend, col).in_(sorted(days))
        )
        for r in session.execute(q.order_by(C.id)):
            for when in days[r.origin.strftime("%m-%d")]:
                # Anniversaries start one year after registration; nobody before their birth.
                if when.year <= r.origin.year:
                    continue
                rows.append(_task(ctx, rule, r, when, day))
                who[r.id] = (r.code, r.name)
        return rows, who
    for when in occasion_dates(rule.kind, rule.occasion, day, end):
        key = (
            sa.literal(f"care:{rule.id}:")
            + sa.cast(C.id, sa.String)
            + sa.literal(f":{when.isoformat()}")
        )
        done = sa.exists().where(F.source_key == key)
        for r in session.execute(sa.select(*cols).where(target, ~done).order_by(C.id)):
            rows.append(_task(ctx, rule, r, when, day))
            who[r.id] = (r.code, r.name)
    return rows, who


def run_care(ctx: ServiceContext, day: dt.date | None = None) -> RunReport:
    """Create the care follow-ups due for occasions in each active rule's window from ``day``."""
    day = day or ctx.today()
    report = RunReport(date=day)
    with ctx.transaction() as s:
        rules = s.execute(
            sa.select(CareRule.__table__).where(R.active.is_(True)).order_by(R.id)
        ).all()
        for rule in rules:
            rows, who = _candidates(s, ctx, rule, day)
            created = insert_generated(s, rows)
            if not created:
                continue
            for row in rows:
                fid = created.get(row["source_key"])
                if fid is not None:
                    code, name = who[row["customer_id"]]
                    report.created.append(
                        GeneratedTask(fid, rule.name, code, name, row["due_at"], row["reason"])
                    )
            audit.record(
                s, ctx.actor, "care_rule", rule.name, "run", None,
                {"date": day, "created": len(created)},
            )  # fmt: skip
    report.created.sort(key=lambda t: (t.due, t.rule, t.customer_code))
    return report
