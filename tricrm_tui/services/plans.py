"""Communication plans: how often each kind of customer should hear from us, and how often
at most.

A plan targets a tier, segment, lifecycle stage or filter expression and sets a cadence
("call high-value customers every 30 days"), the channel, quiet hours and a contact cap.
:func:`run_plans` turns the plans into follow-ups for one date:

* a customer is due when their last contact is older than the cadence and no task from the
  same plan is still open;
* the task falls due at the start of the working day, moved to the end of the plan's quiet
  hours if it lands inside them;
* a customer who already has ``cap`` contacts in the cap window (logged interactions in the
  window before the due time, plus open plan/care tasks due within the window either side)
  is skipped and reported as capped, so nobody is over-contacted;
* each task's ``source_key`` is ``plan:{plan_id}:{customer_id}:{date}``, so running the
  same date twice creates nothing new.

Each plan reads a few whole sets (targeted customers, recently contacted, open tasks, contact
counts) and the tasks go in with one executemany: no per-customer queries, so 100k customers
take seconds (see ``benchmarks/bench_plans.py``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tricrm_tui.i18n import _
from tricrm_tui.models import CONSENT_CHANNELS, CommunicationPlan, Customer, FollowUp, Interaction
from tricrm_tui.services import audit
from tricrm_tui.services.context import ServiceContext
from tricrm_tui.services.errors import InvalidInput
from tricrm_tui.services.followups import ACTIVE, GeneratedTask, insert_generated
from tricrm_tui.services.interactions import normalise_channel
from tricrm_tui.services.normalize import clean_text
from tricrm_tui.services.segments import segment_resolver
from tricrm_tui.services.targets import check_target, join_target, target_condition
from tricrm_tui.services.timespec import (
    local_datetime,
    outside_quiet_hours,
    parse_cap,
    parse_days,
    parse_quiet_hours,
)

P = CommunicationPlan.__table__.c
C = Customer.__table__.c
F = FollowUp.__table__.c
I = Interaction.__table__.c  # noqa: E741


@dataclass(frozen=True)
class PlanRecord:
    id: int
    name: str
    target: str
    every_days: int
    channel: str
    quiet: str | None
    cap: str | None
    active: bool


DEFAULT_PLANS: list[dict[str, Any]] = [
    # High value: a personal call every month, never more than 4 contacts a month.
    {"name": "high-value-call", "target": "tier:high", "every": "30d", "channel": "phone",
     "cap": "4/30d", "quiet": "21:00-09:00"},
    # Medium value: an email every two months.
    {"name": "medium-value-email", "target": "tier:medium", "every": "60d", "channel": "email",
     "cap": "2/30d", "quiet": None},
    # At risk: call within a week to win them back.
    {"name": "at-risk-call", "target": "segment:at_risk", "every": "7d", "channel": "phone",
     "cap": "3/30d", "quiet": "21:00-09:00"},
]  # fmt: skip
"""Shipped plans, written by :func:`seed_default_plans` (``tricrm plans set --defaults``)."""


def _fmt_time(t: dt.time) -> str:
    return t.strftime("%H:%M")


def _record(r: Any) -> PlanRecord:
    quiet = (
        f"{_fmt_time(r.quiet_start)}-{_fmt_time(r.quiet_end)}"
        if r.quiet_start is not None and r.quiet_end is not None
        else None
    )
    cap = f"{r.cap_count}/{r.cap_period_days}d" if r.cap_count else None
    return PlanRecord(
        id=r.id,
        name=r.name,
        target=join_target(r.target_kind, r.target_value),
        every_days=r.cadence_days,
        channel=r.channel,
        quiet=quiet,
        cap=cap,
        active=bool(r.active),
    )


def list_plans(ctx: ServiceContext) -> list[PlanRecord]:
    """Every plan (a handful: no paging needed), by name."""
    with ctx.session() as s:
        return [
            _record(r) for r in s.execute(sa.select(CommunicationPlan.__table__).order_by(P.name))
        ]


def set_plan(
    ctx: ServiceContext,
    name: str,
    *,
    target: str,
    every: str,
    channel: str = "phone",
    cap: str | None = None,
    quiet: str | None = None,
    active: bool = True,
) -> PlanRecord:
    """Create or replace the plan called ``name``."""
    name = clean_text(name)
    if not name or len(name) > 100:
        raise InvalidInput(_("a plan needs a name of at most 100 characters"), field="name")
    with ctx.session() as s:
        kind, value = check_target(target, today=ctx.today(), resolve=segment_resolver(s))
    if len(value) > 100:  # communication_plans.target_value is VARCHAR(100)
        raise InvalidInput(_("target is longer than 100 characters"), field="target")
    quiet_hours = parse_quiet_hours(quiet)
    caps = parse_cap(cap)
    values = {
        "name": name,
        "target_kind": kind,
        "target_value": value,
        "cadence_days": parse_days(every),
        "channel": normalise_channel(channel),
        "quiet_start": quiet_hours[0] if quiet_hours else None,
        "quiet_end": quiet_hours[1] if quiet_hours else None,
        "cap_count": caps[0] if caps else None,
        "cap_period_days": caps[1] if caps else None,
        "active": active,
    }
    with ctx.transaction() as s:
        row = audit.upsert_by_name(s, ctx.actor, CommunicationPlan.__table__, "plan", name, values)
    return _record(row)


def seed_default_plans(ctx: ServiceContext) -> list[PlanRecord]:
    """Write the shipped plans that do not exist yet (existing ones are left as edited)."""
    existing = {p.name for p in list_plans(ctx)}
    for plan in DEFAULT_PLANS:
        if plan["name"] not in existing:
            set_plan(ctx, plan["name"], **{k: v for k, v in plan.items() if k != "name"})
    return list_plans(ctx)


def remove_plan(ctx: ServiceContext, name: str) -> None:
    """Delete a plan. Tasks it created stay (their reason names the plan)."""
    with ctx.transaction() as s:
        audit.delete_by_name(
            s,
            ctx.actor,
            CommunicationPlan.__table__,
            "plan",
            name,
            not_found=_("no plan called {name}").format(name=name),
            describe=lambda row: _record(row).__dict__,
        )


@dataclass
class RunReport:
    """What a plans or care run did for one date."""

    date: dt.date
    created: list[GeneratedTask] = field(default_factory=list)
    capped: list[tuple[str, str]] = field(default_factory=list)  # (rule, customer code)


def contacts_in_window(session: Session, start: dt.datetime, end: dt.datetime) -> dict[int, int]:
    """Per customer, the contacts counted against a cap: interactions logged in [start, end)
    plus open plan/care tasks due in [start, end + (end - start)) — a task is a contact about
    to happen. One grouped query; customers with none are absent."""
    logged = (
        sa.select(I.customer_id.label("cid"), sa.func.count().label("n"))
        .where(I.occurred_at >= start, I.occurred_at < end)
        .group_by(I.customer_id)
    )
    planned = (
        sa.select(F.customer_id.label("cid"), sa.func.count().label("n"))
        .where(
            F.source.in_(("plan", "care")),
            F.status.in_(ACTIVE),
            F.due_at >= start,
            F.due_at < end + (end - start),
        )
        .group_by(F.customer_id)
    )
    both = sa.union_all(logged, planned).subquery("contacts")
    q = sa.select(both.c.cid, sa.func.sum(both.c.n)).group_by(both.c.cid)
    return {cid: int(n) for cid, n in session.execute(q)}


def _run_plan(
    session: Session, ctx: ServiceContext, plan: Any, day: dt.date, report: RunReport
) -> None:
    """One plan for one date.

    A handful of whole-set queries — targeted customers, customers contacted since the
    cutoff, customers with an open task from this plan, contact counts in the cap window —
    combined in memory as id sets. Joining them in SQL was 70× slower on PostgreSQL tables
    without fresh statistics (a nested loop re-aggregating per customer); plain scans and
    index range reads behave the same on both backends whatever the planner believes.
    """
    quiet = (plan.quiet_start, plan.quiet_end) if plan.quiet_start and plan.quiet_end else None
    due_at = outside_quiet_hours(local_datetime(day), quiet)
    cutoff = due_at - dt.timedelta(days=plan.cadence_days)
    prefix = f"plan:{plan.id}:"
    recent = set(
        session.execute(
            sa.select(I.customer_id).where(I.occurred_at >= cutoff).distinct()
        ).scalars()
    )
    pending = set(
        session.execute(
            sa.select(F.customer_id)
            .where(F.source == "plan", F.status.in_(ACTIVE), F.source_key.like(prefix + "%"))
            .distinct()
        ).scalars()
    )
    resolve = segment_resolver(session)
    conds = [target_condition(plan.target_kind, plan.target_value, today=day, resolve=resolve)]
    if plan.channel in CONSENT_CHANNELS:
        conds.append(C[f"consent_{plan.channel}"].is_(True))
    counts: dict[int, int] = {}
    if plan.cap_count:
        start = due_at - dt.timedelta(days=plan.cap_period_days or 30)
        counts = contacts_in_window(session, start, due_at)
    reason = _("Plan {name}: {channel} every {days} days").format(
        name=plan.name, channel=_(plan.channel), days=plan.cadence_days
    )
    rows, names = [], {}
    targeted = session.execute(
        sa.select(C.id, C.code, C.name, C.owner).where(*conds).order_by(C.id)
    )
    for r in targeted:
        if r.id in recent or r.id in pending:
            continue
        if plan.cap_count and counts.get(r.id, 0) >= plan.cap_count:
            report.capped.append((plan.name, r.code))
            continue
        names[r.id] = (r.code, r.name)
        rows.append(
            {
                "customer_id": r.id,
                "due_at": due_at,
                "owner": r.owner or ctx.actor.username,
                "priority": 2,
                "status": "open",
                "reason": reason[:400],
                "source": "plan",
                "source_key": f"{prefix}{r.id}:{day.isoformat()}",
                "created_at": ctx.now(),
            }
        )
    created = insert_generated(session, rows)
    for row in rows:
        fid = created.get(row["source_key"])
        if fid is not None:
            code, name = names[row["customer_id"]]
            report.created.append(GeneratedTask(fid, plan.name, code, name, due_at, reason))
    capped = sum(1 for p, _c in report.capped if p == plan.name)
    if created or capped:
        audit.record(
            session, ctx.actor, "plan", plan.name, "run", None,
            {"date": day, "created": len(created), "capped": capped},
        )  # fmt: skip


def run_plans(ctx: ServiceContext, day: dt.date | None = None) -> RunReport:
    """Create the follow-ups the active plans call for on ``day`` (default today)."""
    day = day or ctx.today()
    report = RunReport(date=day)
    with ctx.transaction() as s:
        plans = s.execute(
            sa.select(CommunicationPlan.__table__).where(P.active.is_(True)).order_by(P.id)
        ).all()
        for plan in plans:
            _run_plan(s, ctx, plan, day, report)
    report.created.sort(key=lambda t: (t.rule, t.customer_code))
    return report
