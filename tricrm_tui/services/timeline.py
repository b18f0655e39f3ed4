"""A customer's timeline: every order, contact, task, feedback, campaign send, journey stage,
points entry and value change, newest first, one page at a time.

One ``UNION ALL`` over the history tables (each part uses its per-customer index), sorted and
paged by the database, so the tenth page of a customer with years of history costs no more
than the first. Each part projects the same neutral columns (``a``–``d`` as text); the
summary is written in Python so it follows the operator's language.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlmodel.sql.sqltypes import UTCDateTime

from tricrm_tui.i18n import _, format_money
from tricrm_tui.labels import N_
from tricrm_tui.models import (
    Campaign,
    CampaignSend,
    Feedback,
    FollowUp,
    Interaction,
    Journey,
    JourneyStage,
    LevelChange,
    LoyaltyEntry,
    Order,
    StageEvent,
    ValueSnapshot,
)
from tricrm_tui.services.context import ServiceContext
from tricrm_tui.services.customers import customer_id_for
from tricrm_tui.services.paging import Page, clamp_limit

KINDS = {
    "order": N_("order"),
    "interaction": N_("interaction"),
    "followup": N_("follow-up"),
    "feedback": N_("feedback"),
    "campaign": N_("campaign"),
    "stage": N_("stage"),
    "points": N_("points"),
    "change": N_("change"),
}

CODED_WORDS = (
    N_("inbound"), N_("outbound"),
    N_("phone"), N_("email"), N_("wechat"), N_("sms"), N_("chat"), N_("visit"), N_("social"),
    N_("other"),
    N_("open"), N_("done"), N_("snoozed"), N_("cancelled"), N_("in_progress"), N_("resolved"),
    N_("closed"), N_("sent"), N_("failed"), N_("exported"), N_("skipped_consent"),
    N_("skipped_cap"),
    N_("earn"), N_("redeem"), N_("adjust"), N_("expire"),
)  # fmt: skip
"""Coded values the summaries show, marked so the catalogs translate them."""


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    kind: str
    summary: str
    ref: str
    ref_id: int


def _text(col: Any) -> sa.ColumnElement[Any]:
    return sa.cast(col, sa.String)


def _day_start(backend: str, col: Any) -> sa.ColumnElement[Any]:
    """A date as that day's midnight UTC, in the same form the datetime columns are stored."""
    if backend == "sqlite":
        return sa.func.strftime("%Y-%m-%d 00:00:00.000000", col)
    return sa.func.timezone("UTC", sa.cast(col, sa.DateTime()))


def _part(at: Any, kind: str, ref: Any, ref_id: Any, *cols: Any) -> sa.Select:
    padded = [*cols, *([None] * (4 - len(cols)))]
    return sa.select(
        at.label("at"),
        sa.literal(kind, sa.String).label("kind"),
        _text(ref).label("ref"),
        ref_id.label("ref_id"),
        *[
            (_text(c) if c is not None else sa.null().cast(sa.String)).label(n)
            for c, n in zip(padded, "abcd", strict=True)
        ],
    )


def _parts(backend: str, cid: int) -> list[sa.Select]:
    o = Order.__table__.c
    i = Interaction.__table__.c
    f = FollowUp.__table__.c
    fb = Feedback.__table__.c
    cs = CampaignSend.__table__.c
    cp = Campaign.__table__.c
    se = StageEvent.__table__.c
    js = JourneyStage.__table__.c
    jn = Journey.__table__.c
    lg = LoyaltyEntry.__table__.c
    lc = LevelChange.__table__.c
    vs = ValueSnapshot.__table__.c
    changes = (
        sa.select(
            vs.id,
            vs.as_of,
            vs.tier,
            vs.segment,
            sa.func.lag(vs.tier).over(order_by=(vs.as_of, vs.id)).label("prev_tier"),
            sa.func.lag(vs.segment).over(order_by=(vs.as_of, vs.id)).label("prev_segment"),
            sa.func.row_number().over(order_by=(vs.as_of, vs.id)).label("n"),
        )
        .where(vs.customer_id == cid)
        .subquery()
    )
    v = changes.c
    return [
        _part(
            _day_start(backend, o.order_date),
            "order",
            o.order_no,
            o.id,
            o.amount,
            o.status,
            o.currency,
        ).where(o.customer_id == cid),
        _part(
            i.occurred_at, "interaction", i.id, i.id, i.channel, i.direction, i.subject, i.outcome
        ).where(i.customer_id == cid),
        _part(f.due_at, "followup", f.id, f.id, f.status, f.reason, f.source).where(
            f.customer_id == cid
        ),
        _part(
            fb.created_at, "feedback", fb.id, fb.id, fb.kind, fb.status, fb.score, fb.category
        ).where(fb.customer_id == cid),
        _part(cs.sent_at, "campaign", cp.name, cs.id, cp.name, cs.channel, cs.status)
        .select_from(CampaignSend.__table__.join(Campaign.__table__, cp.id == cs.campaign_id))
        .where(cs.customer_id == cid),
        _part(se.entered_at, "stage", js.name, se.id, js.name, jn.name)
        .select_from(
            StageEvent.__table__.join(JourneyStage.__table__, js.id == se.stage_id).join(
                Journey.__table__, jn.id == se.journey_id
            )
        )
        .where(se.customer_id == cid),
        _part(lg.at, "points", lg.id, lg.id, lg.kind, lg.points, lg.reason).where(
            lg.customer_id == cid
        ),
        _part(lc.at, "change", lc.id, lc.id, "level", lc.from_level, lc.to_level, lc.reason).where(
            lc.customer_id == cid
        ),
        _part(
            _day_start(backend, v.as_of),
            "change",
            v.id,
            v.id,
            "value",
            v.tier,
            v.segment,
            sa.func.coalesce(v.prev_tier, "") + "|" + sa.func.coalesce(v.prev_segment, ""),
        ).where(
            v.n > 1,
            sa.or_(
                sa.func.coalesce(v.tier, "") != sa.func.coalesce(v.prev_tier, ""),
                sa.func.coalesce(v.segment, "") != sa.func.coalesce(v.prev_segment, ""),
            ),
        ),
    ]


def _money(value: str | None, currency: str | None) -> str:
    try:
        return format_money(Decimal(value or "0").quantize(Decimal("0.01")), currency or "CNY")
    except InvalidOperation:
        return value or ""


def _summary(
    kind: str, a: str | None, b: str | None, c: str | None, d: str | None, ref: str
) -> str:
    if kind == "order":
        return _("Order {no}: {amount} ({status})").format(no=ref, amount=_money(a, c), status=b)
    if kind == "interaction":
        text = _("{direction} {channel}: {subject}").format(
            direction=_(b or ""), channel=_(a or ""), subject=c or ""
        )
        return f"{text} → {d}" if d else text
    if kind == "followup":
        return _("Follow-up ({status}): {reason}").format(status=_(a or ""), reason=b or "")
    if kind == "feedback":
        if a == "complaint":
            return _("Complaint ({status}): {category}").format(
                status=_(b or "open"), category=d or ""
            )
        return _("{survey} score {score}").format(survey=(a or "").upper(), score=c or "")
    if kind == "campaign":
        return _("Campaign {name} by {channel}: {status}").format(
            name=a, channel=_(b or ""), status=_(c or "")
        )
    if kind == "stage":
        return _("Entered stage {stage} of {journey}").format(stage=a, journey=b)
    if kind == "points":
        return _("{points} points ({kind}): {reason}").format(
            points=b, kind=_(a or ""), reason=c or ""
        )
    if a == "level":
        return _("Member level {before} → {after}").format(before=b or "—", after=c or "—")
    before_tier, _sep, before_segment = (d or "").partition("|")
    return _("Value tier {before_tier} → {tier}, segment {before_segment} → {segment}").format(
        before_tier=before_tier or "—",
        tier=b or "—",
        before_segment=before_segment or "—",
        segment=c or "—",
    )


def customer_timeline(
    ctx: ServiceContext, code: str, *, limit: int = 50, offset: int = 0
) -> Page[TimelineEntry]:
    """Everything that happened with one customer, newest first (ties: newest record first)."""
    limit = clamp_limit(limit)
    with ctx.session() as s:
        cid = customer_id_for(s, code)
        union = sa.union_all(*_parts(ctx.db.backend, cid)).subquery("timeline")
        total = s.execute(sa.select(sa.func.count()).select_from(union)).scalar_one()
        at = sa.type_coerce(union.c.at, UTCDateTime())
        rows = s.execute(
            sa.select(
                at.label("at"),
                union.c.kind,
                union.c.ref,
                union.c.ref_id,
                union.c.a,
                union.c.b,
                union.c.c,
                union.c.d,
            )
            .order_by(union.c.at.desc(), union.c.kind, union.c.ref_id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
    items = [
        TimelineEntry(
            at=r.at,
            kind=r.kind,
            summary=_summary(r.kind, r.a, r.b, r.c, r.d, r.ref),
            ref=r.ref,
            ref_id=r.ref_id,
        )
        for r in rows
    ]
    return Page(items=items, total=total, limit=limit, offset=offset)
