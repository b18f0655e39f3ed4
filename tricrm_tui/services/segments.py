"""Saved segments: named filter expressions (``vip-south = region:华南 tag:vip``).

A segment stores the expression, not its members, so it is always current: campaigns,
exports and reports evaluate it when they run. Segments may include other segments
(``saved:NAME``); cycles are refused when saving.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tricrm_tui.i18n import _
from tricrm_tui.models import Segment
from tricrm_tui.services import audit
from tricrm_tui.services.context import ServiceContext
from tricrm_tui.services.customers import CustomerRecord, list_customers
from tricrm_tui.services.errors import InvalidInput, NotFound
from tricrm_tui.services.filters import SegmentResolver, customer_filter, format_filter
from tricrm_tui.services.filters import parse_filter as _parse
from tricrm_tui.services.normalize import clean_text
from tricrm_tui.services.paging import Page

S = Segment.__table__.c


@dataclass(frozen=True)
class SegmentRecord:
    name: str
    expression: str
    description: str | None
    created_by: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class SegmentView:
    """A segment with its member count and the first page of members."""

    segment: SegmentRecord
    count: int
    members: Page[CustomerRecord]


def _record(row: object) -> SegmentRecord:
    return SegmentRecord(
        name=row.name,  # type: ignore[attr-defined]
        expression=row.expression,  # type: ignore[attr-defined]
        description=row.description,  # type: ignore[attr-defined]
        created_by=row.created_by,  # type: ignore[attr-defined]
        created_at=row.created_at,  # type: ignore[attr-defined]
        updated_at=row.updated_at,  # type: ignore[attr-defined]
    )


def segment_resolver(session: Session) -> SegmentResolver:
    """``saved:NAME`` → the segment's expression, read through ``session``: what every
    caller of :func:`~tricrm_tui.services.filters.customer_filter` passes as ``resolve``, so
    segments inside expressions work the same in lists, exports, campaigns, value reports,
    plans and care rules."""

    def resolve(name: str) -> str:
        expr = session.execute(sa.select(S.expression).where(S.name == name)).scalar_one_or_none()
        if expr is None:
            raise NotFound(_("no segment named {name}").format(name=name))
        return expr

    return resolve


def condition_for(
    ctx: ServiceContext, *, where: str | None = None, segment: str | None = None
) -> sa.ColumnElement[bool] | None:
    """The customer condition for a ``--where`` expression and/or a saved segment (ANDed);
    None when neither is given. ``saved:NAME`` inside ``where`` is resolved too."""
    parts: list[sa.ColumnElement[bool]] = []
    with ctx.session() as s:
        resolve = segment_resolver(s)
        if segment:
            parts.append(customer_filter(resolve(segment), today=ctx.today(), resolve=resolve))
        if where and where.strip():
            parts.append(customer_filter(where, today=ctx.today(), resolve=resolve))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else sa.and_(*parts)


def _clean_name(name: str) -> str:
    text = clean_text(name)
    if not text or len(text) > 100 or " " in text:
        raise InvalidInput(
            _("a segment name is 1 to 100 characters without spaces: {name}").format(name=name),
            field="name",
        )
    return text


def save_segment(
    ctx: ServiceContext,
    name: str,
    expression: str,
    *,
    description: str | None = None,
    replace: bool = False,
) -> SegmentRecord:
    """Save (or with ``replace`` overwrite) a segment; the expression must parse and every
    segment it names must exist, without cycles."""
    name = _clean_name(name)
    text = format_filter(_parse(expression))
    now = ctx.now()
    with ctx.transaction() as s:
        existing = s.execute(sa.select(Segment.__table__).where(S.name == name)).first()
        if existing is not None and not replace:
            raise InvalidInput(
                _("a segment named {name} already exists (use --replace)").format(name=name),
                field="name",
                code="duplicate_key",
            )
        base = segment_resolver(s)

        def resolve(n: str) -> str:
            return text if n == name else base(n)

        customer_filter(text, today=ctx.today(), resolve=resolve)  # checks names and cycles
        values = {"expression": text, "description": description, "updated_at": now}
        if existing is None:
            s.execute(
                sa.insert(Segment.__table__).values(
                    name=name, created_by=ctx.actor.username, created_at=now, **values
                )
            )
            audit.record(s, ctx.actor, "segment", name, "create", None, values)
        else:
            s.execute(sa.update(Segment.__table__).where(S.name == name).values(**values))
            before = {"expression": existing.expression, "description": existing.description}
            audit.record(s, ctx.actor, "segment", name, "update", before, values)
        row = s.execute(sa.select(Segment.__table__).where(S.name == name)).one()
        return _record(row)


def list_segments(ctx: ServiceContext) -> list[SegmentRecord]:
    with ctx.session() as s:
        return [_record(r) for r in s.execute(sa.select(Segment.__table__).order_by(S.name))]


def get_segment(ctx: ServiceContext, name: str) -> SegmentRecord:
    with ctx.session() as s:
        row = s.execute(sa.select(Segment.__table__).where(S.name == name)).first()
    if row is None:
        raise NotFound(_("no segment named {name}").format(name=name))
    return _record(row)


def show_segment(
    ctx: ServiceContext, name: str, *, limit: int = 20, offset: int = 0
) -> SegmentView:
    seg = get_segment(ctx, name)
    cond = condition_for(ctx, segment=name)
    page = list_customers(ctx, where=cond, limit=limit, offset=offset)
    return SegmentView(segment=seg, count=page.total, members=page)


def delete_segment(ctx: ServiceContext, name: str) -> None:
    """Delete a segment; refused while another segment (``saved:``), a campaign, or a
    communication plan or care rule whose target names it uses it (a plan's run failed
    on it afterwards)."""
    from tricrm_tui.models import Campaign, CareRule, CommunicationPlan
    from tricrm_tui.services.targets import split_target

    with ctx.transaction() as s:
        row = s.execute(sa.select(Segment.__table__).where(S.name == name)).first()
        if row is None:
            raise NotFound(_("no segment named {name}").format(name=name))
        users = [
            n
            for n, expr in s.execute(sa.select(S.name, S.expression).where(S.name != name))
            if _mentions(expr, name)
        ]
        users += [
            _("campaign {name}").format(name=n)
            for (n,) in s.execute(
                sa.select(Campaign.__table__.c.name).where(
                    Campaign.__table__.c.segment_id == row.id
                )
            )
        ]
        P, R = CommunicationPlan.__table__.c, CareRule.__table__.c
        targets = [
            (_("plan {name}"), n, join)
            for n, join in s.execute(
                sa.select(P.name, P.target_value).where(P.target_kind == "filter")
            )
        ]
        targets += [(_("care rule {name}"), n, t) for n, t in s.execute(
            sa.select(R.name, R.target_expr))]  # fmt: skip
        users += [
            label.format(name=n)
            for label, n, target in targets
            if target and split_target(target)[0] == "filter" and _mentions(target, name)
        ]
        if users:
            raise InvalidInput(
                _("segment {name} is used by: {users}").format(name=name, users=", ".join(users)),
                field="name",
                code="in_use",
            )
        s.execute(sa.delete(Segment.__table__).where(S.name == name))
        audit.record(
            s,
            ctx.actor,
            "segment",
            name,
            "delete",
            {"expression": row.expression, "description": row.description},
            None,
        )


def _mentions(expr: str, name: str) -> bool:
    from tricrm_tui.services.filters import And, Not, Or, Term

    def walk(node: object) -> bool:
        if isinstance(node, Term):
            return node.field == "saved" and node.value == name
        if isinstance(node, Not):
            return walk(node.operand)
        if isinstance(node, And | Or):
            return any(walk(i) for i in node.items)
        return False

    try:
        return walk(_parse(expr))
    except InvalidInput:
        return False
