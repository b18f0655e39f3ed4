"""Interactions: every contact with a customer, in any channel, with an optional follow-up.

Logging a contact and scheduling its follow-up happen in one transaction, so a task never
exists for a contact that failed to save (nor the other way round).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tricrm_tui.i18n import _, in_every_language
from tricrm_tui.labels import N_
from tricrm_tui.models import CHANNELS, Campaign, Customer, Interaction, Order, Touchpoint
from tricrm_tui.services import audit
from tricrm_tui.services.context import ServiceContext
from tricrm_tui.services.customers import customer_id_for
from tricrm_tui.services.errors import InvalidInput, NotFound
from tricrm_tui.services.followups import insert_followup, stored_reason
from tricrm_tui.services.normalize import clean_text, parse_date
from tricrm_tui.services.paging import Page, clamp_limit
from tricrm_tui.services.timespec import day_bounds, parse_due, parse_moment

I = Interaction.__table__.c  # noqa: E741
C = Customer.__table__.c
DIRECTIONS = ("inbound", "outbound")

CHANNEL_SYNONYMS = {
    "call": "phone",
    "tel": "phone",
    "电话": "phone",
    "mail": "email",
    "邮件": "email",
    "微信": "wechat",
    "weixin": "wechat",
    "短信": "sms",
    "text": "sms",
    "online": "chat",
    "在线": "chat",
    "客服": "chat",
    "拜访": "visit",
    "上门": "visit",
    "社交": "social",
    "social media": "social",
    "其他": "other",
}


def normalise_channel(value: object) -> str:
    raw = clean_text(value).lower()
    channel = raw if raw in CHANNELS else CHANNEL_SYNONYMS.get(raw)
    if channel is None:
        raise InvalidInput(
            _("unknown channel: {value} (one of: {choices})").format(
                value=value, choices=", ".join(CHANNELS)
            ),
            field="channel",
        )
    return channel


def _direction(value: object) -> str:
    raw = clean_text(value).lower() or "outbound"
    raw = {"in": "inbound", "out": "outbound", "呼入": "inbound", "呼出": "outbound"}.get(raw, raw)
    if raw not in DIRECTIONS:
        raise InvalidInput(
            _("direction must be inbound or outbound: {value}").format(value=value),
            field="direction",
        )
    return raw


def _satisfaction(value: object) -> int | None:
    if value is None or value == "":
        return None
    try:
        score = int(str(value))
    except ValueError:
        score = 0
    if not 1 <= score <= 5:
        raise InvalidInput(
            _("satisfaction must be a whole number from 1 to 5: {value}").format(value=value),
            field="satisfaction",
        )
    return score


@dataclass(frozen=True)
class InteractionRecord:
    id: int
    customer_code: str
    customer_name: str
    channel: str
    direction: str
    at: dt.datetime
    operator: str | None
    subject: str
    notes: str | None
    outcome: str | None
    satisfaction: int | None
    order_no: str | None
    campaign: str | None
    touchpoint_id: int | None
    followup_id: int | None = None


def insert_interaction(
    session: Session,
    ctx: ServiceContext,
    *,
    customer_id: int,
    customer_code: str,
    channel: object,
    subject: str,
    direction: object = "outbound",
    at: dt.datetime | None = None,
    notes: str | None = None,
    outcome: str | None = None,
    satisfaction: object = None,
    order_id: int | None = None,
    campaign_id: int | None = None,
    touchpoint_id: int | None = None,
) -> int:
    """Insert one contact inside the caller's transaction, audited; returns its id."""
    values = {
        "customer_id": customer_id,
        "channel": normalise_channel(channel),
        "direction": _direction(direction),
        "occurred_at": at or ctx.now(),
        "operator": ctx.actor.username,
        "subject": clean_text(subject)[:200],
        "notes": clean_text(notes) or None,
        "outcome": (clean_text(outcome) or None) and clean_text(outcome)[:200],
        "satisfaction": _satisfaction(satisfaction),
        "order_id": order_id,
        "campaign_id": campaign_id,
        "touchpoint_id": touchpoint_id,
        "created_at": ctx.now(),
    }
    iid = session.execute(sa.insert(Interaction.__table__).values(**values)).inserted_primary_key[0]
    audit.record(
        session,
        ctx.actor,
        "interaction",
        iid,
        "create",
        None,
        {**values, "customer": customer_code},
    )
    return iid


DEFAULT_REASON = N_("Follow up: {subject}")


def followup_reason(reason: str | None, subject: str | None) -> str:
    """A contact's follow-up reason: the one given, else "Follow up: <its subject>"."""
    return clean_text(reason) or _(DEFAULT_REASON).format(subject=clean_text(subject))


def default_reason_renamed(reason: str, old_subject: str, new_subject: str) -> str | None:
    """The default reason for ``new_subject`` when ``reason`` is still, exactly, the one a
    follow-up took by default from ``old_subject``; None when it is not (someone wrote it).

    The default was written in the language of whoever logged or imported the contact,
    which may not be the current one: it is recognised in each, and the new one is written
    in the same language (a task logged in Chinese keeps 跟进：…)."""
    for template in in_every_language(DEFAULT_REASON):
        if reason == _stored_default(template, old_subject):
            return _stored_default(template, new_subject)
    return None


def _stored_default(template: str, subject: str) -> str:
    """A default reason as ``followup_reason`` makes it and the follow-up stores it
    (cleaned, at most 400 characters)."""
    return stored_reason(template.format(subject=clean_text(subject)))


def _lookup(session: Session, table: Any, column: str, value: object, label: str) -> int:
    found = session.execute(
        sa.select(table.c.id).where(table.c[column] == value)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(_("no {what} {value}").format(what=label, value=value))
    return found


def log_interaction(
    ctx: ServiceContext,
    code: str,
    *,
    channel: str,
    subject: str,
    notes: str | None = None,
    outcome: str | None = None,
    direction: str = "outbound",
    satisfaction: object = None,
    at: object = None,
    order_no: str | None = None,
    campaign: str | None = None,
    touchpoint_id: int | None = None,
    follow_up: object = None,
    follow_up_reason: str | None = None,
) -> InteractionRecord:
    """Record a contact (operator = the acting user), with an optional follow-up.

    ``follow_up`` is ``3d``/``2w`` after the contact, or a date/datetime.
    """
    if not clean_text(subject):
        raise InvalidInput(_("a subject is required"), field="subject", code="missing_required")
    when = ctx.now() if at in (None, "") else parse_moment(at, field="at")
    with ctx.transaction() as s:
        cid = customer_id_for(s, code)
        order_id = (
            _lookup(s, Order.__table__, "order_no", order_no, _("order")) if order_no else None
        )
        campaign_id = (
            _lookup(s, Campaign.__table__, "name", campaign, _("campaign")) if campaign else None
        )
        if touchpoint_id is not None:
            _lookup(s, Touchpoint.__table__, "id", touchpoint_id, _("touchpoint"))
        iid = insert_interaction(
            s,
            ctx,
            customer_id=cid,
            customer_code=code,
            channel=channel,
            subject=subject,
            direction=direction,
            at=when,
            notes=notes,
            outcome=outcome,
            satisfaction=satisfaction,
            order_id=order_id,
            campaign_id=campaign_id,
            touchpoint_id=touchpoint_id,
        )
        fid = None
        if follow_up not in (None, ""):
            fid = insert_followup(
                s,
                ctx,
                customer_id=cid,
                customer_code=code,
                due_at=parse_due(follow_up, when, field="follow_up"),
                reason=followup_reason(follow_up_reason, subject),
                source="interaction",
                interaction_id=iid,
            )
        record = _get(s, iid)
    return InteractionRecord(**{**record.__dict__, "followup_id": fid})


def _select() -> sa.Select:
    O = Order.__table__.c  # noqa: E741, N806
    K = Campaign.__table__.c  # noqa: N806
    return (
        sa.select(
            I.id,
            C.code.label("customer_code"),
            C.name.label("customer_name"),
            I.channel,
            I.direction,
            I.occurred_at.label("at"),
            I.operator,
            I.subject,
            I.notes,
            I.outcome,
            I.satisfaction,
            O.order_no,
            K.name.label("campaign"),
            I.touchpoint_id,
        )
        .join(Customer.__table__, C.id == I.customer_id)
        .outerjoin(Order.__table__, O.id == I.order_id)
        .outerjoin(Campaign.__table__, K.id == I.campaign_id)
    )


def _get(session: Session, interaction_id: int) -> InteractionRecord:
    row = session.execute(_select().where(I.id == interaction_id)).first()
    if row is None:
        raise NotFound(_("no interaction with id {id}").format(id=interaction_id))
    return InteractionRecord(**row._mapping)


def list_interactions(
    ctx: ServiceContext,
    *,
    customer: str | None = None,
    channel: str | None = None,
    date_from: object = None,
    date_to: object = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[InteractionRecord]:
    """Contacts newest first; ``date_from``/``date_to`` are inclusive local days."""
    limit = clamp_limit(limit)
    conds: list[sa.ColumnElement[bool]] = []
    if channel:
        conds.append(I.channel == normalise_channel(channel))
    if date_from:
        conds.append(I.occurred_at >= day_bounds(parse_date(date_from, field="from"))[0])
    if date_to:
        conds.append(I.occurred_at < day_bounds(parse_date(date_to, field="to"))[1])
    with ctx.session() as s:
        if customer:
            conds.append(I.customer_id == customer_id_for(s, customer))
        total = s.execute(
            sa.select(sa.func.count()).select_from(Interaction.__table__).where(*conds)
        ).scalar_one()
        rows = s.execute(
            _select()
            .where(*conds)
            .order_by(I.occurred_at.desc(), I.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
    return Page(
        items=[InteractionRecord(**r._mapping) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )
