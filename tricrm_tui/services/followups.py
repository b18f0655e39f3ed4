"""Follow-ups: tasks to contact a customer, by hand, from an interaction, a plan or a care rule.

A task is *active* while ``open`` or ``snoozed``; snoozing moves its due time and keeps it on
the lists. Generated tasks carry a unique ``source_key`` (``plan:3:42:2026-11-24``,
``care:7:42:2027-02-06``) so that producing them again for the same date creates nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tricrm_tui.i18n import _
from tricrm_tui.models import Customer, Feedback, FollowUp, Interaction
from tricrm_tui.services import audit
from tricrm_tui.services.context import ServiceContext
from tricrm_tui.services.customers import customer_id_for
from tricrm_tui.services.errors import InvalidInput, NotFound
from tricrm_tui.services.normalize import clean_text
from tricrm_tui.services.paging import Page, clamp_limit
from tricrm_tui.services.timespec import day_bounds, parse_due

F = FollowUp.__table__.c
C = Customer.__table__.c
I = Interaction.__table__.c  # noqa: E741
FB = Feedback.__table__.c

ACTIVE = ("open", "snoozed")
SOURCES = ("manual", "interaction", "plan", "care", "complaint")
PRIORITIES = (1, 2, 3)
CLOSED_COMPLAINT = ("resolved", "closed")


@dataclass(frozen=True)
class FollowUpRow:
    id: int
    customer_code: str
    customer_name: str
    due: dt.datetime
    status: str
    owner: str | None
    priority: int
    reason: str
    source: str
    tier: str | None
    last_contact: dt.datetime | None
    source_key: str | None = None
    interaction_id: int | None = None
    done_at: dt.datetime | None = None


def last_contact_column(customer_id: Any) -> sa.ScalarSelect[Any]:
    """The customer's latest interaction time, as a correlated scalar subquery."""
    return (
        sa.select(sa.func.max(I.occurred_at)).where(I.customer_id == customer_id).scalar_subquery()
    )


def _select_rows() -> sa.Select:
    return sa.select(
        F.id,
        C.code.label("customer_code"),
        C.name.label("customer_name"),
        F.due_at.label("due"),
        F.status,
        F.owner,
        F.priority,
        F.reason,
        F.source,
        C.value_tier.label("tier"),
        sa.type_coerce(last_contact_column(F.customer_id), I.occurred_at.type).label(
            "last_contact"
        ),
        F.source_key,
        F.interaction_id,
        F.done_at,
    ).join(Customer.__table__, C.id == F.customer_id)


def _row(r: Any) -> FollowUpRow:
    return FollowUpRow(**{k: getattr(r, k) for k in FollowUpRow.__dataclass_fields__})


def list_followups(
    ctx: ServiceContext,
    *,
    customer: str | None = None,
    mine: bool = False,
    overdue: bool = False,
    due: str | dt.date | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[FollowUpRow]:
    """Tasks soonest first. ``status`` None means active (open or snoozed); ``all`` means any.

    ``overdue`` keeps active tasks due before now; ``due`` (``today`` or a date) keeps tasks
    due on that local day.
    """
    limit = clamp_limit(limit)
    conds: list[sa.ColumnElement[bool]] = []
    if status in (None, "", "active"):
        conds.append(F.status.in_(ACTIVE))
    elif status != "all":
        if status not in ("open", "done", "snoozed", "cancelled"):
            raise InvalidInput(_("unknown status: {value}").format(value=status), field="status")
        conds.append(F.status == status)
    if mine:
        conds.append(F.owner == ctx.actor.username)
    if overdue:
        conds += [F.status.in_(ACTIVE), F.due_at < ctx.now()]
    if due:
        from tricrm_tui.services.normalize import parse_date

        day = ctx.today() if due == "today" else parse_date(due, field="due")
        start, end = day_bounds(day)
        conds += [F.due_at >= start, F.due_at < end]
    with ctx.session() as s:
        if customer:
            conds.append(F.customer_id == customer_id_for(s, customer))
        total = s.execute(
            sa.select(sa.func.count()).select_from(FollowUp.__table__).where(*conds)
        ).scalar_one()
        rows = s.execute(
            _select_rows()
            .where(*conds)
            .order_by(F.due_at, F.priority, F.id)
            .limit(limit)
            .offset(offset)
        ).all()
    return Page(items=[_row(r) for r in rows], total=total, limit=limit, offset=offset)


def get_followup(ctx: ServiceContext, followup_id: int) -> FollowUpRow:
    with ctx.session() as s:
        return _get(s, followup_id)


def _get(session: Session, followup_id: int) -> FollowUpRow:
    row = session.execute(_select_rows().where(F.id == followup_id)).first()
    if row is None:
        raise NotFound(_("no follow-up with id {id}").format(id=followup_id))
    return _row(row)


def _check_priority(priority: int) -> int:
    if priority not in PRIORITIES:
        raise InvalidInput(_("priority must be 1 (high), 2 (normal) or 3 (low)"), field="priority")
    return priority


def stored_reason(reason: str) -> str:
    """A task's reason as it is stored: cleaned, cut to its column (400 characters). Every
    writer of a reason goes through it, so a reason compared with a stored one (an import's
    changed reason, a default reason renamed) is compared as stored."""
    return clean_text(reason)[: F.reason.type.length]


def followup_values(
    ctx: ServiceContext,
    *,
    customer_id: int,
    due_at: dt.datetime,
    reason: str,
    source: str = "manual",
    owner: str | None = None,
    priority: int = 2,
    interaction_id: int | None = None,
) -> dict[str, Any]:
    """The row a new task is stored as: open, owned by ``owner`` or the acting user."""
    return {
        "customer_id": customer_id,
        "due_at": due_at,
        "owner": owner or ctx.actor.username,
        "priority": _check_priority(priority),
        "status": "open",
        "reason": stored_reason(reason),
        "source": source,
        "interaction_id": interaction_id,
        "created_at": ctx.now(),
    }


def insert_followup(
    session: Session,
    ctx: ServiceContext,
    *,
    customer_id: int,
    customer_code: str,
    due_at: dt.datetime,
    reason: str,
    source: str = "manual",
    owner: str | None = None,
    priority: int = 2,
    interaction_id: int | None = None,
) -> int:
    """Insert one task inside the caller's transaction, audited; returns its id."""
    values = followup_values(
        ctx,
        customer_id=customer_id,
        due_at=due_at,
        reason=reason,
        source=source,
        owner=owner,
        priority=priority,
        interaction_id=interaction_id,
    )
    fid = session.execute(sa.insert(FollowUp.__table__).values(**values)).inserted_primary_key[0]
    audit.record(
        session,
        ctx.actor,
        "followup",
        fid,
        "create",
        None,
        {**values, "customer": customer_code},
    )
    return fid


def insert_followups(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert many tasks (:func:`followup_values` rows) in one statement; their ids in
    order. The caller audits them: an import writes its entries in one executemany, with
    its id."""
    if not rows:
        return []
    stmt = sa.insert(FollowUp.__table__).returning(F.id, sort_by_parameter_order=True)
    return list(session.execute(stmt, rows).scalars())


def add_followup(
    ctx: ServiceContext,
    code: str,
    *,
    due: object,
    reason: str,
    owner: str | None = None,
    priority: int = 2,
) -> FollowUpRow:
    """A task by hand; ``due`` is ``3d``/``2w`` from now, a date or a date and time."""
    due_at = parse_due(due, ctx.now())
    if not clean_text(reason):
        raise InvalidInput(_("a reason is required"), field="reason", code="missing_required")
    with ctx.transaction() as s:
        cid = customer_id_for(s, code)
        fid = insert_followup(
            s,
            ctx,
            customer_id=cid,
            customer_code=code,
            due_at=due_at,
            reason=reason,
            owner=owner,
            priority=priority,
        )
    return get_followup(ctx, fid)


def _change(
    session: Session, ctx: ServiceContext, followup_id: int, action: str, values: dict[str, Any]
) -> None:
    before = _get(session, followup_id)
    if before.status not in ACTIVE:
        raise InvalidInput(
            _("follow-up {id} is already {status}").format(id=followup_id, status=before.status),
            field="status",
            code="not_active",
        )
    session.execute(sa.update(FollowUp.__table__).where(F.id == followup_id).values(**values))
    audit.record(
        session,
        ctx.actor,
        "followup",
        followup_id,
        action,
        {k: getattr(before, {"due_at": "due"}.get(k, k), None) for k in values},
        values,
    )


def done(
    ctx: ServiceContext,
    followup_id: int,
    *,
    log: str | None = None,
    channel: str = "phone",
    outcome: str | None = None,
    notes: str | None = None,
) -> FollowUpRow:
    """Close a task; with ``log``, record the contact as an interaction in the same transaction."""
    from tricrm_tui.services.interactions import insert_interaction

    with ctx.transaction() as s:
        task = _get(s, followup_id)
        values: dict[str, Any] = {"status": "done", "done_at": ctx.now(), "snoozed_until": None}
        if log is not None or outcome or notes:
            cid = customer_id_for(s, task.customer_code)
            iid = insert_interaction(
                s,
                ctx,
                customer_id=cid,
                customer_code=task.customer_code,
                channel=channel,
                subject=clean_text(log) or task.reason,
                notes=notes,
                outcome=outcome,
            )
            if task.interaction_id is None:
                values["interaction_id"] = iid
        _change(s, ctx, followup_id, "done", values)
    return get_followup(ctx, followup_id)


def snooze(ctx: ServiceContext, followup_id: int, period: str = "1d") -> FollowUpRow:
    """Push a task back: ``2d`` from now, or to a date/time."""
    until = parse_due(period, ctx.now(), field="period")
    if until <= ctx.now():
        raise InvalidInput(_("snooze until a time in the future"), field="period")
    with ctx.transaction() as s:
        _change(
            s,
            ctx,
            followup_id,
            "snooze",
            {"status": "snoozed", "due_at": until, "snoozed_until": until},
        )
    return get_followup(ctx, followup_id)


def cancel(ctx: ServiceContext, followup_id: int) -> FollowUpRow:
    with ctx.transaction() as s:
        _change(s, ctx, followup_id, "cancel", {"status": "cancelled", "snoozed_until": None})
    return get_followup(ctx, followup_id)


@dataclass(frozen=True)
class OverdueComplaint:
    id: int
    customer_code: str
    customer_name: str
    category: str | None
    severity: str | None
    owner: str | None
    status: str | None
    sla_due_at: dt.datetime


def overdue_complaints(
    ctx: ServiceContext, now: dt.datetime | None = None, *, limit: int = 100
) -> list[OverdueComplaint]:
    """Complaints past their SLA and not yet resolved or closed, most overdue first."""
    now = now or ctx.now()
    q = (
        sa.select(
            FB.id,
            C.code.label("customer_code"),
            C.name.label("customer_name"),
            FB.category,
            FB.severity,
            FB.owner,
            FB.status,
            FB.sla_due_at,
        )
        .join(Customer.__table__, C.id == FB.customer_id)
        .where(
            FB.kind == "complaint",
            sa.or_(FB.status.is_(None), FB.status.not_in(CLOSED_COMPLAINT)),
            FB.sla_due_at < now,
        )
        .order_by(FB.sla_due_at, FB.id)
        .limit(clamp_limit(limit))
    )
    with ctx.session() as s:
        return [OverdueComplaint(**r._mapping) for r in s.execute(q)]


@dataclass(frozen=True)
class GeneratedTask:
    """A task a plan or care rule created (what ``plans run``/``care run`` report)."""

    id: int
    rule: str
    customer_code: str
    customer_name: str
    due: dt.datetime
    reason: str


def insert_generated(session: Session, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert generated tasks, skipping any whose ``source_key`` exists; returns the new
    tasks as ``source_key`` → id.

    ``ON CONFLICT DO NOTHING`` on the unique key makes two runs at once (the Today screen and
    a script) safe: each task is created exactly once.
    """
    if not rows:
        return {}
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = session.get_bind().dialect.name
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(FollowUp.__table__)
        .on_conflict_do_nothing(index_elements=["source_key"])
        .returning(F.source_key, F.id)
    )
    created: dict[str, int] = {}
    for i in range(0, len(rows), 5000):
        created.update((key, fid) for key, fid in session.execute(stmt, rows[i : i + 5000]))
    return created
