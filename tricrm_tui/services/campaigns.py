"""Campaigns: a personalised message to a saved segment, sent once per customer, and what
it brought back.

Who receives it: the active customers of the campaign's segment (all active customers when it
has none), minus those who did not consent to the channel (``skipped_consent``) and those
already contacted ``cap`` times within the cap window by campaigns or outbound interactions
(``skipped_cap``), so nobody is over-contacted. Every outcome is one ``campaign_sends`` row
per customer; customers already ``sent`` or ``exported`` are never sent again, so a send can
be repeated safely after a failure.

Attribution (last touch, fixed window): a response is an interaction linked to the campaign;
a conversion is an order by a recipient placed on the send day or within
``attribution_days`` after it. Revenue is the sum of those orders, exact (Decimal).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tricrm_tui.i18n import _
from tricrm_tui.models import (
    Campaign,
    CampaignSend,
    Customer,
    CustomerTag,
    Interaction,
    Order,
    Segment,
)
from tricrm_tui.services import audit, templating
from tricrm_tui.services.config_files import read_toml
from tricrm_tui.services.context import ServiceContext, refuse_database_file
from tricrm_tui.services.customers import active_condition
from tricrm_tui.services.errors import InvalidInput, NotFound, cannot_write
from tricrm_tui.services.exporting import neutralise
from tricrm_tui.services.normalize import clean_text
from tricrm_tui.services.paging import Page, clamp_limit

CA = Campaign.__table__.c
CS = CampaignSend.__table__.c
C = Customer.__table__.c
I = Interaction.__table__.c  # noqa: E741
O = Order.__table__.c  # noqa: E741
SG = Segment.__table__.c
TAG = CustomerTag.__table__.c

CAMPAIGN_CHANNELS = ("email", "sms", "phone")
DELIVERED = ("sent", "exported")
DEFAULT_CAP = (4, 30)
"""At most 4 contacts (campaign messages and outbound interactions) per customer in 30 days."""
TEMPLATE_FIELDS = ("name", "code", "tier", "points", "level", "city", "recommended", "operator")
_BATCH = 200


@dataclass(frozen=True)
class CampaignRecord:
    name: str
    channel: str
    segment: str | None
    subject: str | None
    template: str
    status: str
    attribution_days: int
    created_by: str | None
    created_at: dt.datetime
    sent_at: dt.datetime | None
    delivered: int


@dataclass(frozen=True)
class Preview:
    code: str
    name: str
    address: str | None
    status: str  # ready|skipped_consent|skipped_cap|no_address|sent|exported|not_in_segment
    subject: str
    body: str


@dataclass
class SendResult:
    campaign: str
    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)
    export_path: str | None = None

    def add(self, status: str) -> None:
        self.counts[status] = self.counts.get(status, 0) + 1


@dataclass(frozen=True)
class CampaignReport:
    name: str
    channel: str
    sent: int
    exported: int
    failed: int
    skipped_consent: int
    skipped_cap: int
    skipped: int
    delivered: int
    responses: int
    response_rate: Decimal | None
    conversions: int
    conversion_rate: Decimal | None
    revenue: Decimal
    attribution_days: int


def contact_cap() -> tuple[int, int]:
    """(count, days) from ``[contact_cap]`` in ``campaigns.toml``, else :data:`DEFAULT_CAP`."""
    data = read_toml("campaigns.toml", field="contact_cap").get("contact_cap", {})
    return int(data.get("count", DEFAULT_CAP[0])), int(data.get("days", DEFAULT_CAP[1]))


# ----------------------------------------------------------------------------- audience


def audience_condition(ctx: ServiceContext, expression: str | None) -> sa.ColumnElement[bool]:
    """Active customers matching a segment expression (all active customers if none)."""
    base = active_condition()
    if not expression or not expression.strip():
        return base
    from tricrm_tui.services.segments import condition_for

    cond = condition_for(ctx, where=expression)
    return base if cond is None else sa.and_(base, cond)


# ----------------------------------------------------------------------------- campaigns


def _load(session: Session, name: str) -> Any:
    row = session.execute(
        sa.select(Campaign.__table__, SG.name.label("segment_name"), SG.expression)
        .outerjoin(Segment.__table__, SG.id == CA.segment_id)
        .where(CA.name == name)
    ).first()
    if row is None:
        raise NotFound(_("no campaign {name}").format(name=name))
    return row


def _record(row: Any, delivered: int) -> CampaignRecord:
    return CampaignRecord(
        name=row.name,
        channel=row.channel,
        segment=row.segment_name,
        subject=row.subject,
        template=row.template,
        status=row.status,
        attribution_days=row.attribution_days,
        created_by=row.created_by,
        created_at=row.created_at,
        sent_at=row.sent_at,
        delivered=delivered,
    )


def create_campaign(
    ctx: ServiceContext,
    name: str,
    *,
    channel: str,
    template: str,
    segment: str | None = None,
    subject: str | None = None,
    attribution_days: int = 14,
) -> CampaignRecord:
    """A draft campaign; the template (and subject) must parse and use only known fields."""
    title = clean_text(name)
    if not title:
        raise InvalidInput(_("campaign name is required"), field="name", code="missing_required")
    if channel not in CAMPAIGN_CHANNELS:
        raise InvalidInput(
            _("channel must be one of: {choices}").format(choices=", ".join(CAMPAIGN_CHANNELS)),
            field="channel",
        )
    if channel == "email" and not clean_text(subject):
        raise InvalidInput(_("an email campaign needs a subject"), field="subject")
    if not template.strip():
        raise InvalidInput(_("the template is empty"), field="template", code="missing_required")
    if not 0 <= attribution_days <= 365:
        raise InvalidInput(
            _("attribution days must be between 0 and 365"), field="attribution_days"
        )
    for text, fld in ((template, "template"), (subject or "", "subject")):
        unknown = templating.check(text, field=fld) - set(TEMPLATE_FIELDS)
        if unknown:
            raise InvalidInput(
                _("unknown template field {name}; available: {choices}").format(
                    name=", ".join(sorted(unknown)), choices=", ".join(TEMPLATE_FIELDS)
                ),
                field=fld,
                code="undefined_field",
            )
    with ctx.transaction() as s:
        if s.execute(sa.select(CA.id).where(CA.name == title)).first() is not None:
            raise InvalidInput(
                _("a campaign named {name} already exists").format(name=title),
                field="name",
                code="duplicate_key",
            )
        segment_id = None
        if segment:
            segment_id = s.execute(sa.select(SG.id).where(SG.name == segment)).scalar_one_or_none()
            if segment_id is None:
                raise NotFound(_("no segment {name}").format(name=segment))
        values = {
            "name": title,
            "segment_id": segment_id,
            "channel": channel,
            "subject": clean_text(subject) or None,
            "template": template,
            "status": "draft",
            "attribution_days": attribution_days,
            "created_by": ctx.actor.username,
            "created_at": ctx.now(),
        }
        s.execute(sa.insert(Campaign.__table__).values(**values))
        audit.record(s, ctx.actor, "campaign", title, "create", None, values)
    return get_campaign(ctx, title)


def _delivered_count(session: Session, campaign_ids: list[int]) -> dict[int, int]:
    if not campaign_ids:
        return {}
    q = (
        sa.select(CS.campaign_id, sa.func.count())
        .where(CS.campaign_id.in_(campaign_ids), CS.status.in_(DELIVERED))
        .group_by(CS.campaign_id)
    )
    return dict(session.execute(q).all())  # type: ignore[arg-type]


def get_campaign(ctx: ServiceContext, name: str) -> CampaignRecord:
    with ctx.session() as s:
        row = _load(s, name)
        return _record(row, _delivered_count(s, [row.id]).get(row.id, 0))


def list_campaigns(
    ctx: ServiceContext, *, limit: int = 50, offset: int = 0
) -> Page[CampaignRecord]:
    limit = clamp_limit(limit)
    with ctx.session() as s:
        total = s.execute(sa.select(sa.func.count()).select_from(Campaign.__table__)).scalar_one()
        rows = s.execute(
            sa.select(Campaign.__table__, SG.name.label("segment_name"))
            .outerjoin(Segment.__table__, SG.id == CA.segment_id)
            .order_by(CA.created_at.desc(), CA.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        counts = _delivered_count(s, [r.id for r in rows])
    return Page([_record(r, counts.get(r.id, 0)) for r in rows], total, limit, offset)


# ----------------------------------------------------------------------------- rendering

_RECIPIENT_COLUMNS = (
    C.id,
    C.code,
    C.name,
    C.email,
    C.phone,
    C.city,
    C.value_tier,
    C.member_level,
    C.points_balance,
    C.consent_email,
    C.consent_sms,
    C.consent_phone,
)


def _fields(ctx: ServiceContext, row: Any, model: Any | None) -> dict[str, Any]:
    """The template fields for one customer; ``model`` is the co-occurrence model when the
    template uses ``recommended`` (None otherwise, so nothing is computed for it)."""
    recommended: list[dict[str, Any]] = []
    if model is not None:
        from tricrm_tui.services.recommend import recommend_for_id

        recommended = [r.to_dict() for r in recommend_for_id(ctx, row.id, top=3, model=model)]
    return {
        "name": row.name,
        "code": row.code,
        "tier": row.value_tier or "",
        "points": row.points_balance,
        "level": row.member_level or "",
        "city": row.city or "",
        "recommended": recommended,
        "operator": ctx.actor.username,
    }


class _Renderer:
    """Renders a campaign's subject and body per customer (recommendations only if used)."""

    def __init__(self, ctx: ServiceContext, campaign: Any) -> None:
        self.ctx = ctx
        self.campaign = campaign
        used = templating.check(campaign.template) | templating.check(campaign.subject or "")
        self.model: Any | None = None
        if "recommended" in used:
            from tricrm_tui.services.recommend import cooccurrence

            self.model = cooccurrence(ctx)

    def __call__(self, row: Any) -> tuple[str, str]:
        fields = _fields(self.ctx, row, self.model)
        subject = templating.render(self.campaign.subject or "", fields, field="subject")
        return " ".join(subject.split()), templating.render(self.campaign.template, fields)


def _address(channel: str, row: Any) -> str | None:
    return row.email if channel == "email" else row.phone


def _consented(channel: str, row: Any) -> bool:
    return bool(getattr(row, f"consent_{channel}"))


def _recent_contacts(
    session: Session, ids: list[int], since: dt.datetime, campaign_id: int
) -> dict[int, int]:
    """Contacts per customer since ``since``: messages of other campaigns that went out plus
    outbound interactions."""
    counts: dict[int, int] = dict.fromkeys(ids, 0)
    sends = (
        sa.select(CS.customer_id, sa.func.count())
        .where(
            CS.customer_id.in_(ids),
            CS.status.in_(DELIVERED),
            CS.sent_at >= since,
            CS.campaign_id != campaign_id,
        )
        .group_by(CS.customer_id)
    )
    contacts = (
        sa.select(I.customer_id, sa.func.count())
        .where(I.customer_id.in_(ids), I.direction == "outbound", I.occurred_at >= since)
        .group_by(I.customer_id)
    )
    for query in (sends, contacts):
        for cid, n in session.execute(query):
            counts[cid] += n
    return counts


def _previous_status(session: Session, campaign_id: int, ids: list[int]) -> dict[int, str]:
    rows = session.execute(
        sa.select(CS.customer_id, CS.status).where(
            CS.campaign_id == campaign_id, CS.customer_id.in_(ids)
        )
    )
    return dict(rows.all())  # type: ignore[arg-type]


def _plan(
    ctx: ServiceContext,
    s: Session,
    campaign: Any,
    rows: Sequence[Any],
    cap: tuple[int, int],
) -> list[tuple[Any, str]]:
    """(customer row, status before delivery) for a batch: consent, address and cap checked."""
    count, days = cap
    ids = [r.id for r in rows]
    recent = _recent_contacts(s, ids, ctx.now() - dt.timedelta(days=days), campaign.id)
    before = _previous_status(s, campaign.id, ids)
    out = []
    for r in rows:
        if before.get(r.id) in DELIVERED:
            status = before[r.id]
        elif not _consented(campaign.channel, r):
            status = "skipped_consent"
        elif recent[r.id] >= count:
            status = "skipped_cap"
        elif not _address(campaign.channel, r):
            status = "no_address"
        else:
            status = "ready"
        out.append((r, status))
    return out


def _audience_select(ctx: ServiceContext, campaign: Any) -> sa.Select:
    return sa.select(*_RECIPIENT_COLUMNS).where(audience_condition(ctx, campaign.expression))


def preview_page(
    ctx: ServiceContext,
    name: str,
    *,
    limit: int = 3,
    offset: int = 0,
    cap: tuple[int, int] | None = None,
) -> Page[Preview]:
    """The message each recipient would get, in code order, with what would happen to them."""
    limit = clamp_limit(limit)
    with ctx.session() as s:
        campaign = _load(s, name)
        query = _audience_select(ctx, campaign)
        total = s.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
        rows = s.execute(query.order_by(C.code).limit(limit).offset(offset)).all()
        planned = _plan(ctx, s, campaign, rows, cap or contact_cap())
    render = _Renderer(ctx, campaign)
    items = []
    for row, status in planned:
        subject, body = render(row)
        items.append(
            Preview(row.code, row.name, _address(campaign.channel, row), status, subject, body)
        )
    return Page(items, total, limit, offset)


def preview(ctx: ServiceContext, name: str, code: str) -> Preview:
    """One customer's message, even outside the segment (then marked ``not_in_segment``)."""
    with ctx.session() as s:
        campaign = _load(s, name)
        row = s.execute(
            sa.select(*_RECIPIENT_COLUMNS).where(C.code == code, C.deleted_at.is_(None))
        ).first()
        if row is None:
            raise NotFound(_("no customer with code {code}").format(code=code))
        member = s.execute(
            sa.select(C.id).where(C.id == row.id, audience_condition(ctx, campaign.expression))
        ).first()
        ((_r, status),) = _plan(ctx, s, campaign, [row], contact_cap())
    subject, body = _Renderer(ctx, campaign)(row)
    return Preview(
        row.code,
        row.name,
        _address(campaign.channel, row),
        status if member else "not_in_segment",
        subject,
        body,
    )


# ----------------------------------------------------------------------------- sending


def _batches(ctx: ServiceContext, campaign: Any) -> Iterator[Sequence[Any]]:
    """The audience in id order, one batch per read session (keyset paging)."""
    last = 0
    while True:
        with ctx.session() as s:
            rows = s.execute(
                _audience_select(ctx, campaign).where(C.id > last).order_by(C.id).limit(_BATCH)
            ).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id


def _record_batch(
    ctx: ServiceContext, campaign: Any, outcomes: list[tuple[int, str, str | None]]
) -> None:
    """Replace earlier not-delivered outcomes and write this run's, in one transaction."""
    if not outcomes:
        return
    now = ctx.now()
    with ctx.transaction() as s:
        ids = [cid for cid, _st, _e in outcomes]
        s.execute(
            sa.delete(CampaignSend.__table__).where(
                CS.campaign_id == campaign.id,
                CS.customer_id.in_(ids),
                CS.status.not_in(DELIVERED),
            )
        )
        s.execute(
            sa.insert(CampaignSend.__table__),
            [
                {
                    "campaign_id": campaign.id,
                    "customer_id": cid,
                    "channel": campaign.channel,
                    "status": status,
                    "error": (error or "")[:400] or None,
                    "sent_at": now,
                }
                for cid, status, error in outcomes
            ],
        )


def send(
    ctx: ServiceContext,
    name: str,
    *,
    dry_run: bool = False,
    export: str | Path | None = None,
    cap: tuple[int, int] | None = None,
) -> SendResult:
    """Send (email) or export (CSV call or SMS list) the campaign to everyone not yet reached.

    Email goes over one SMTP session opened first; with ``export`` (required for sms and
    phone) the messages are written to a CSV file for another system instead and recorded
    as ``exported``. ``dry_run`` renders and counts without sending or recording anything.
    """
    with ctx.session() as s:
        campaign = _load(s, name)
    if campaign.channel != "email" and export is None and not dry_run:
        raise InvalidInput(
            _("{channel} campaigns are exported: give --export FILE.csv").format(
                channel=campaign.channel
            ),
            field="export",
        )
    cap = cap or contact_cap()
    render = _Renderer(ctx, campaign)
    result = SendResult(campaign=campaign.name, dry_run=dry_run)
    with ExitStack() as stack:
        mailer = None
        writer = None
        if export is not None and not dry_run:
            path = Path(export)
            refuse_database_file(ctx, path, "export")
            try:
                handle = stack.enter_context(path.open("w", encoding="utf-8-sig", newline=""))
            except OSError as exc:
                raise cannot_write(path, exc, "export") from exc
            writer = csv.writer(handle)
            writer.writerow(["code", "name", "phone", "email", "subject", "message"])
            result.export_path = str(path)
        elif campaign.channel == "email" and not dry_run:
            from tricrm_tui.services.mailer import Mailer, smtp_settings

            settings = smtp_settings()
            mailer = stack.enter_context(Mailer(settings))
        for rows in _batches(ctx, campaign):
            with ctx.session() as s:
                planned = _plan(ctx, s, campaign, rows, cap)
            outcomes: list[tuple[int, str, str | None]] = []
            try:
                for row, status in planned:
                    if status in DELIVERED:
                        result.add("already_" + status)
                        continue
                    outcome, error = _deliver(
                        render, campaign, row, status, dry_run, writer, mailer
                    )
                    result.add(outcome)
                    if not dry_run:
                        outcomes.append((row.id, outcome, error))
            finally:
                # What went out before a dropped connection is recorded as sent.
                if not dry_run:
                    _record_batch(ctx, campaign, outcomes)
        if not dry_run:
            with ctx.transaction() as s:
                s.execute(
                    sa.update(Campaign.__table__)
                    .where(CA.id == campaign.id)
                    .values(status="sent", sent_at=ctx.now())
                )
                audit.record(s, ctx.actor, "campaign", campaign.name, "send", None, result.counts)
    return result


def _deliver(
    render: _Renderer,
    campaign: Any,
    row: Any,
    status: str,
    dry_run: bool,
    writer: Any,
    mailer: Any,
) -> tuple[str, str | None]:
    """One customer: returns (recorded status, error)."""
    if status == "no_address":
        return "failed", (_("no email address") if campaign.channel == "email" else _("no phone"))
    if status != "ready":
        return status, None
    try:
        subject, body = render(row)
    except InvalidInput as exc:
        return "failed", str(exc)
    if dry_run:
        return "ready", None
    if writer is not None:
        # A spreadsheet never runs a cell; the phone stays as stored (E.164 digits after
        # its "+", which a dialer reads and no spreadsheet runs as more than a number).
        cells = [neutralise(row.code), neutralise(row.name), row.phone or "",
                 neutralise(row.email or ""), neutralise(subject), neutralise(body)]  # fmt: skip
        writer.writerow(cells)
        return "exported", None
    from tricrm_tui.services.mailer import RecipientFailed, build_message

    msg = build_message(
        mailer.settings, row.email, subject, body, html=templating.is_html(campaign.template)
    )
    try:
        mailer.send(msg)
    except RecipientFailed as exc:
        return "failed", exc.reason
    return "sent", None


# ----------------------------------------------------------------------------- report


def _rate(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1")) if whole else None


def report(ctx: ServiceContext, name: str) -> CampaignReport:
    """Outcome counts, responses and conversions within the attribution window."""
    with ctx.session() as s:
        campaign = _load(s, name)
        counts: dict[str, int] = dict(
            s.execute(  # type: ignore[arg-type]
                sa.select(CS.status, sa.func.count())
                .where(CS.campaign_id == campaign.id)
                .group_by(CS.status)
            ).all()
        )
        delivered_ids = sa.select(CS.customer_id).where(
            CS.campaign_id == campaign.id, CS.status.in_(DELIVERED)
        )
        responses = s.execute(
            sa.select(sa.func.count(sa.distinct(I.customer_id))).where(
                I.campaign_id == campaign.id, I.customer_id.in_(delivered_ids)
            )
        ).scalar_one()
        conversions, revenue = _conversions(s, campaign.id, campaign.attribution_days)
    delivered = counts.get("sent", 0) + counts.get("exported", 0)
    return CampaignReport(
        name=campaign.name,
        channel=campaign.channel,
        sent=counts.get("sent", 0),
        exported=counts.get("exported", 0),
        failed=counts.get("failed", 0),
        skipped_consent=counts.get("skipped_consent", 0),
        skipped_cap=counts.get("skipped_cap", 0),
        skipped=counts.get("skipped_consent", 0) + counts.get("skipped_cap", 0),
        delivered=delivered,
        responses=responses,
        response_rate=_rate(responses, delivered),
        conversions=conversions,
        conversion_rate=_rate(conversions, delivered),
        revenue=revenue,
        attribution_days=campaign.attribution_days,
    )


def _conversions(session: Session, campaign_id: int, days: int) -> tuple[int, Decimal]:
    """Recipients with orders from their send day (local) to ``days`` after it, and the sum
    of those orders; read in chunks of recipients, each with one bounded order query."""
    converted = 0
    revenue = Decimal("0")
    last = 0
    while True:
        sends = session.execute(
            sa.select(CS.id, CS.customer_id, CS.sent_at)
            .where(CS.campaign_id == campaign_id, CS.status.in_(DELIVERED), CS.id > last)
            .order_by(CS.id)
            .limit(5000)
        ).all()
        if not sends:
            return converted, revenue.quantize(Decimal("0.01"))
        last = sends[-1].id
        window = {
            r.customer_id: (
                r.sent_at.astimezone().date(),
                r.sent_at.astimezone().date() + dt.timedelta(days=days),
            )
            for r in sends
        }
        start = min(w[0] for w in window.values())
        end = max(w[1] for w in window.values())
        orders = session.execute(
            sa.select(O.customer_id, O.order_date, O.amount).where(
                O.customer_id.in_(list(window)),
                O.order_date >= start,
                O.order_date <= end,
                O.status != "cancelled",
            )
        )
        buyers: set[int] = set()
        for cid, day, amount in orders:
            first, final = window[cid]
            if first <= day <= final:
                buyers.add(cid)
                revenue += Decimal(amount)
        converted += len(buyers)
