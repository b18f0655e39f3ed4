"""Loyalty points and member levels over an append-only ledger.

Every ledger entry names its source in ``source_key`` (unique), so nothing is ever awarded or
expired twice:

===========  ==================================  ===========================================
kind         source_key                          written by
===========  ==================================  ===========================================
``earn``     ``order:<order_no>``                :func:`run_loyalty` (accrual)
``expire``   ``expire:<lot id>:<expires_on>``    :func:`run_loyalty` (expiry)
``redeem``   ``redeem:<uuid>``                   :func:`redeem_points`
``adjust``   ``adjust:<uuid>``                   :func:`adjust_points`
===========  ==================================  ===========================================

The balance is ``SUM(points)``; ``customers.points_balance`` holds the same number, changed in
the same transaction as every entry. A debit is applied with a guarded
``UPDATE … SET points_balance = points_balance - n WHERE points_balance >= n`` so two operators
redeeming at once can never take the balance below zero.

``at`` is the entry's business moment: the order date for ``earn``, the expiry date for
``expire`` (both at 00:00 UTC), the time of the action for ``redeem`` and ``adjust``.

How points are computed and how redemptions consume lots: :mod:`.loyalty_rules`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tricrm_tui.db.bulk import driver_executemany, driver_in
from tricrm_tui.i18n import _
from tricrm_tui.models import (
    Customer,
    LevelChange,
    LoyaltyEntry,
    MemberLevel,
    Order,
    Product,
    ProductCategory,
)
from tricrm_tui.services import audit
from tricrm_tui.services.context import ServiceContext
from tricrm_tui.services.customers import active_condition, customer_id_for
from tricrm_tui.services.errors import InvalidInput
from tricrm_tui.services.loyalty_rules import (
    Entry,
    LevelRule,
    LoyaltyConfig,
    add_months,
    expiry_for,
    load_config,
    order_points,
    replay_lots,
    target_level,
)
from tricrm_tui.services.normalize import clean_text
from tricrm_tui.services.paging import Page, clamp_limit

C = Customer.__table__.c
O = Order.__table__.c  # noqa: E741
L = LoyaltyEntry.__table__
ML = MemberLevel.__table__
LC = LevelChange.__table__

CHUNK = 10_000
"""Customers per slice of a run: bounds memory at 100k customers / 1M orders."""

_INSERT_BATCH = 20_000


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


# --- levels ----------------------------------------------------------------------------------


def ensure_levels(session: Session, ctx: ServiceContext, config: LoyaltyConfig) -> list[LevelRule]:
    """The member levels, lowest first; the configured ones are written when the table is empty.

    Later, the configuration stays the source of the *rules*: a level with a configured name
    takes that name's thresholds and multiplier, and a configured name that is new is added
    when its rank is free (both audited). Names are never changed or removed here, so a level
    customers hold is not renamed behind their back by a config edit.
    """
    rows = session.execute(sa.select(ML).order_by(ML.c.rank)).all()
    if rows:
        _sync_level_rules(session, ctx, config, rows)
        rows = session.execute(sa.select(ML).order_by(ML.c.rank)).all()
    if not rows:
        seed = [
            {
                "name": lv.name,
                "rank": lv.rank,
                "min_points": lv.min_points,
                "min_spend": lv.min_spend,
                "multiplier": lv.multiplier,
            }
            for lv in config.levels
        ]
        session.execute(sa.insert(ML), seed)
        audit.record(
            session, ctx.actor, "member_level", "*", "seed", None, {"levels": seed}, at=ctx.now()
        )
        return list(config.levels)
    return [_stored_rule(r) for r in rows]


def _sync_level_rules(session: Session, ctx: ServiceContext, config: LoyaltyConfig, rows) -> None:  # type: ignore[no-untyped-def]
    by_name = {r.name: r for r in rows}
    ranks = {r.rank for r in rows}
    for lv in config.levels:
        wanted = {
            "min_points": lv.min_points,
            "min_spend": Decimal(lv.min_spend),
            "multiplier": Decimal(lv.multiplier),
        }
        row = by_name.get(lv.name)
        if row is None:
            if lv.rank in ranks:
                continue
            session.execute(sa.insert(ML).values(name=lv.name, rank=lv.rank, **wanted))
            audit.record(session, ctx.actor, "member_level", lv.name, "create", None, wanted)
            continue
        current = {
            "min_points": row.min_points,
            "min_spend": Decimal(row.min_spend),
            "multiplier": Decimal(row.multiplier),
        }
        if current != wanted:
            session.execute(sa.update(ML).where(ML.c.name == lv.name).values(**wanted))
            audit.record(session, ctx.actor, "member_level", lv.name, "update", current, wanted)


def _stored_rule(r: Any) -> LevelRule:
    return LevelRule(
        name=r.name,
        rank=r.rank,
        min_points=r.min_points,
        min_spend=Decimal(r.min_spend),
        multiplier=Decimal(r.multiplier),
    )


def _as_stored(level: LevelRule) -> LevelRule:
    """A configured level with the precision its row will have (``×1.10``, not ``×1.1``), so
    a level reads the same before and after it is stored."""
    cent = Decimal("0.01")
    return replace(
        level, min_spend=level.min_spend.quantize(cent), multiplier=level.multiplier.quantize(cent)
    )


def read_levels(session: Session, config: LoyaltyConfig) -> list[LevelRule]:
    """The member levels, lowest first, as :func:`ensure_levels` would leave them, without
    writing: reads (a level list, a customer's status, the Dashboard) stay reads, and the
    rows are seeded and synced by the writes that use them (``loyalty run``) or by
    :func:`sync_levels`.

    Empty table: the configured levels. Otherwise the stored levels, each with its
    configured rules when the configuration names it, plus configured levels whose rank is
    free, exactly as the next sync will store them.
    """
    rows = session.execute(sa.select(ML).order_by(ML.c.rank)).all()
    configured = {lv.name: _as_stored(lv) for lv in config.levels}
    if not rows:
        return list(configured.values())
    ranks = {r.rank for r in rows}
    levels = [
        replace(configured[r.name], rank=r.rank) if r.name in configured else _stored_rule(r)
        for r in rows
    ]
    stored = {r.name for r in rows}
    levels += [lv for lv in configured.values() if lv.name not in stored and lv.rank not in ranks]
    return sorted(levels, key=lambda lv: lv.rank)


def sync_levels(ctx: ServiceContext, config: LoyaltyConfig | None = None) -> list[LevelRule]:
    """Store the configured levels (seeded when the table is empty, rules brought in line
    after a config edit), audited; a no-op when nothing differs."""
    with ctx.transaction() as s:
        return ensure_levels(s, ctx, config or load_config())


@dataclass(frozen=True)
class LevelRow:
    name: str
    rank: int
    min_points: int
    min_spend: Decimal
    multiplier: Decimal
    members: int


def list_levels(ctx: ServiceContext, config: LoyaltyConfig | None = None) -> list[LevelRow]:
    """Levels with thresholds and how many active customers hold each (no level = the lowest).

    A pure read (:func:`read_levels`): opening the Dashboard or listing levels writes nothing.
    """
    config = config or load_config()
    with ctx.session() as s:
        levels = read_levels(s, config)
        counts: dict[str | None, int] = dict(
            s.execute(
                sa.select(C.member_level, sa.func.count())
                .where(active_condition())
                .group_by(C.member_level)
            ).all()
        )
    known = {lv.name for lv in levels}
    floor = sum(n for name, n in counts.items() if name not in known)
    return [
        LevelRow(
            lv.name,
            lv.rank,
            lv.min_points,
            lv.min_spend,
            lv.multiplier,
            counts.get(lv.name, 0) + (floor if i == 0 else 0),
        )
        for i, lv in enumerate(levels)
    ]


def _level_of(levels: list[LevelRule], name: str | None) -> LevelRule:
    for lv in levels:
        if lv.name == name:
            return lv
    return levels[0]


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerRow:
    id: int
    at: dt.datetime
    kind: str
    points: int
    source_key: str
    reason: str | None
    expires_on: dt.date | None
    actor: str | None


def _ledger_row(r: Any) -> LedgerRow:
    return LedgerRow(r.id, r.at, r.kind, r.points, r.source_key, r.reason, r.expires_on, r.actor)


def list_ledger(
    ctx: ServiceContext, code: str, *, limit: int = 20, offset: int = 0
) -> Page[LedgerRow]:
    """A customer's ledger, newest first."""
    limit = clamp_limit(limit)
    with ctx.session() as s:
        cid = customer_id_for(s, code)
        total = s.execute(
            sa.select(sa.func.count()).select_from(L).where(L.c.customer_id == cid)
        ).scalar_one()
        rows = s.execute(
            sa.select(L)
            .where(L.c.customer_id == cid)
            .order_by(L.c.at.desc(), L.c.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
    return Page([_ledger_row(r) for r in rows], total, limit, offset)


@dataclass(frozen=True)
class LevelChangeRow:
    at: dt.datetime
    from_level: str | None
    to_level: str
    reason: str


def list_level_changes(
    ctx: ServiceContext, code: str, *, limit: int = 20, offset: int = 0
) -> Page[LevelChangeRow]:
    """A customer's level history, newest first (for the value tab's history)."""
    limit = clamp_limit(limit)
    with ctx.session() as s:
        cid = customer_id_for(s, code)
        total = s.execute(
            sa.select(sa.func.count()).select_from(LC).where(LC.c.customer_id == cid)
        ).scalar_one()
        rows = s.execute(
            sa.select(LC.c.at, LC.c.from_level, LC.c.to_level, LC.c.reason)
            .where(LC.c.customer_id == cid)
            .order_by(LC.c.at.desc(), LC.c.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
    return Page([LevelChangeRow(*r) for r in rows], total, limit, offset)


@dataclass(frozen=True)
class LoyaltyStatus:
    code: str
    name: str
    balance: int
    level: str
    level_rank: int
    multiplier: Decimal
    window_from: dt.date
    as_of: dt.date
    window_points: int
    window_spend: Decimal
    next_level: str | None
    points_to_next: int | None
    spend_to_next: Decimal | None
    next_expiry: dt.date | None
    next_expiry_points: int


def _window(day: dt.date, config: LoyaltyConfig) -> tuple[dt.date, dt.date]:
    """The review window (first day, last day): ``window_months`` months ending on ``day``."""
    return add_months(day, -config.window_months) + dt.timedelta(days=1), day


def _entries(session: Session, customer_ids: sa.ColumnElement[bool]) -> Any:
    return session.execute(
        sa.select(L.c.customer_id, L.c.id, L.c.kind, L.c.points, L.c.source_key, L.c.expires_on)
        .where(customer_ids)
        .order_by(L.c.customer_id, L.c.id)
    )


def get_status(
    ctx: ServiceContext, code: str, config: LoyaltyConfig | None = None
) -> LoyaltyStatus:
    """Balance, level, the next level and how far it is, and the next points to expire."""
    config = config or load_config()
    today = ctx.today()
    start, end = _window(today, config)
    with ctx.session() as s:
        levels = read_levels(s, config)
        cid = customer_id_for(s, code)
        row = s.execute(sa.select(C.code, C.name, C.member_level).where(C.id == cid)).one()
        balance = s.execute(
            sa.select(sa.func.coalesce(sa.func.sum(L.c.points), 0)).where(L.c.customer_id == cid)
        ).scalar_one()
        points = s.execute(
            sa.select(sa.func.coalesce(sa.func.sum(L.c.points), 0)).where(
                L.c.customer_id == cid,
                L.c.kind == "earn",
                L.c.at >= _midnight(start),
                L.c.at < _midnight(end + dt.timedelta(days=1)),
            )
        ).scalar_one()
        spend = Decimal(
            s.execute(
                sa.select(sa.func.coalesce(sa.func.sum(O.amount), 0)).where(
                    O.customer_id == cid,
                    O.order_date >= start,
                    O.order_date <= end,
                    O.status.not_in(config.excluded_statuses),
                )
            ).scalar_one()
        )
        lots = replay_lots(
            Entry(r.id, r.kind, r.points, r.source_key, r.expires_on)
            for r in _entries(s, L.c.customer_id == cid)
        )
    level = _level_of(levels, row.member_level)
    higher = [lv for lv in levels if lv.rank > level.rank]
    nxt = higher[0] if higher else None
    live = sorted(
        (lot for lot in lots if lot.remaining > 0 and lot.expires_on is not None),
        key=lambda lot: lot.expires_on or dt.date.max,
    )
    next_expiry = live[0].expires_on if live else None
    return LoyaltyStatus(
        code=row.code,
        name=row.name,
        balance=int(balance),
        level=level.name,
        level_rank=level.rank,
        multiplier=level.multiplier,
        window_from=start,
        as_of=end,
        window_points=int(points),
        window_spend=spend.quantize(Decimal("0.01")),
        next_level=nxt.name if nxt else None,
        points_to_next=max(0, nxt.min_points - int(points)) if nxt and nxt.min_points else None,
        spend_to_next=(
            max(Decimal("0"), nxt.min_spend - spend).quantize(Decimal("0.01"))
            if nxt and nxt.min_spend
            else None
        ),
        next_expiry=next_expiry,
        next_expiry_points=sum(lot.remaining for lot in live if lot.expires_on == next_expiry),
    )


# --- operator actions ------------------------------------------------------------------------


def _clean_reason(reason: str | None) -> str:
    text = clean_text(reason or "") or ""
    if not text:
        raise InvalidInput(_("a reason is required"), field="reason", code="required")
    if len(text) > 200:
        raise InvalidInput(
            _("the reason is too long (at most 200 characters)"), field="reason", code="too_long"
        )
    return text


def audit_entry(
    s: Session, ctx: ServiceContext, code: str, entry: dict[str, Any], balance: int
) -> None:
    """The audit entry of an operator's (or an unmerge's) ledger entry: its points, reason
    and key, with the customer's balance before (``balance``) and after."""
    audit.record(
        s,
        ctx.actor,
        "loyalty",
        code,
        entry["kind"],
        {"balance": balance},
        {
            "balance": balance + entry["points"],
            "points": entry["points"],
            "reason": entry["reason"],
            "source_key": entry["source_key"],
        },
        at=entry["at"],
    )


def _post(
    ctx: ServiceContext,
    code: str,
    kind: str,
    points: int,
    reason: str | None,
    config: LoyaltyConfig | None,
) -> LedgerRow:
    """Write one operator entry, guarding the balance, with its audit entry."""
    text = _clean_reason(reason)
    now = ctx.now()
    expires_on = None
    if points > 0:
        expires_on = expiry_for(ctx.today(), config or load_config())
    with ctx.transaction() as s:
        cid = customer_id_for(s, code)
        result = s.execute(
            sa.update(Customer.__table__)
            .where(C.id == cid, C.points_balance + points >= 0)
            .values(points_balance=C.points_balance + points)
        )
        changed = result.rowcount  # type: ignore[attr-defined]
        if not changed:
            balance = s.execute(sa.select(C.points_balance).where(C.id == cid)).scalar_one()
            raise InvalidInput(
                _("not enough points: the balance is {balance}, {points} requested").format(
                    balance=balance, points=-points
                ),
                field="points",
                code="insufficient_points",
            )
        after = s.execute(sa.select(C.points_balance).where(C.id == cid)).scalar_one()
        values = {
            "customer_id": cid,
            "at": now,
            "kind": kind,
            "points": points,
            "source_key": f"{kind}:{uuid.uuid4().hex}",
            "reason": text,
            "expires_on": expires_on,
            "actor": ctx.actor.username,
        }
        new_id = s.execute(sa.insert(L).values(**values).returning(L.c.id)).scalar_one()
        audit_entry(s, ctx, code, values, after - points)
    return LedgerRow(
        new_id, now, kind, points, str(values["source_key"]), text, expires_on, ctx.actor.username
    )


def _whole_points(points: Any) -> int:
    """Points as typed by a person or a script ("500", 500); never a fraction or a bool."""
    if isinstance(points, int) and not isinstance(points, bool):
        return points
    try:
        return int(str(points).strip())
    except ValueError as exc:
        raise InvalidInput(
            _("points must be a whole number"), field="points", code="not_integer"
        ) from exc


def redeem_points(
    ctx: ServiceContext,
    code: str,
    points: int,
    reason: str,
    config: LoyaltyConfig | None = None,
) -> LedgerRow:
    """Take ``points`` (> 0) from the balance; more than the balance is refused."""
    n = _whole_points(points)
    if n <= 0:
        raise InvalidInput(_("points to redeem must be above zero"), field="points")
    return _post(ctx, code, "redeem", -n, reason, config)


def adjust_points(
    ctx: ServiceContext,
    code: str,
    points: int,
    reason: str,
    config: LoyaltyConfig | None = None,
) -> LedgerRow:
    """Add (a new lot, expiring like earned points) or remove points; never below zero."""
    n = _whole_points(points)
    if n == 0:
        raise InvalidInput(_("an adjustment must not be zero"), field="points")
    return _post(ctx, code, "adjust", n, reason, config)


# --- the daily run ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSummary:
    date: dt.date
    customers: int
    orders_accrued: int
    points_earned: int
    lots_expired: int
    points_expired: int
    upgrades: int
    downgrades: int

    @property
    def changed(self) -> bool:
        return bool(self.orders_accrued or self.lots_expired or self.upgrades or self.downgrades)


def _insert_entries(session: Session, rows: list[dict[str, Any]]) -> None:
    """Append entries through ``driver_executemany``: COPY on PostgreSQL (twice as fast as
    executemany for the million rows of a first run, inside the same transaction), the
    driver's own executemany on SQLite, each column's values processed once rather than
    every row's parameters by SQLAlchemy (11 s of a million-order first run)."""
    for i in range(0, len(rows), _INSERT_BATCH):
        driver_executemany(session, sa.insert(L), rows[i : i + _INSERT_BATCH])


def _apply_deltas(session: Session, deltas: dict[int, int]) -> None:
    rows = [{"b_id": cid, "delta": d} for cid, d in deltas.items() if d]
    if rows:
        session.execute(
            sa.update(Customer.__table__)
            .where(C.id == sa.bindparam("b_id"))
            .values(points_balance=C.points_balance + sa.bindparam("delta")),
            rows,
        )


class _Run:
    """One run over one date, slice by slice of customer ids, in one transaction."""

    def __init__(
        self, ctx: ServiceContext, session: Session, day: dt.date, config: LoyaltyConfig
    ) -> None:
        self.ctx, self.s, self.day, self.config = ctx, session, day, config
        self.levels = ensure_levels(session, ctx, config)
        self.actor = ctx.actor.username
        self.counts: dict[str, int] = defaultdict(int)

    def slice(self, lo: int, hi: int) -> None:
        self.accrue(lo, hi)
        self.expire(lo, hi)
        self.review(lo, hi)

    def _in_ledger(self, keys: list[str]) -> set[str]:
        """Which of ``keys`` the ledger already holds, 1,000 at a time, in statements
        planned for each call (``bulk.driver_in``): a first run fills the ledger in this
        transaction, and a PostgreSQL plan kept from when it was empty took ~5 s a call, an
        hour and more for a million freshly imported orders."""
        known: set[str] = set()
        for i in range(0, len(keys), 1000):
            found = driver_in(self.s, "SELECT {column} FROM {table} WHERE", L, "source_key",
                              keys[i : i + 1000])  # fmt: skip
            known.update(key for (key,) in found)
        return known

    def accrue(self, lo: int, hi: int) -> None:
        """Points for every order up to the date that has no ``order:<no>`` entry yet."""
        P = Product.__table__.c
        K = ProductCategory.__table__.c
        key = sa.literal("order:") + O.order_no
        if self.ctx.db.backend == "postgresql":
            # An anti-join on this slice's own ledger: a hash anti-join, not 100k index probes.
            absent = ~(
                sa.select(L.c.id)
                .where(L.c.customer_id.between(lo, hi), L.c.source_key == key)
                .exists()
            )
        else:
            # SQLite probes the unique source_key index, which alone answers (covering).
            absent = ~sa.select(L.c.id).where(L.c.source_key == key).exists()
        q = (
            sa.select(
                O.order_no,
                O.customer_id,
                O.order_date,
                O.amount,
                K.name.label("category"),
                C.birthday,
                C.member_level,
            )
            .select_from(
                Order.__table__.join(Customer.__table__, C.id == O.customer_id)
                .outerjoin(Product.__table__, P.id == O.product_id)
                .outerjoin(
                    ProductCategory.__table__,
                    K.id == sa.func.coalesce(O.category_id, P.category_id),
                )
            )
            .where(
                C.id.between(lo, hi),
                active_condition(),
                O.order_date <= self.day,
                O.status.not_in(self.config.excluded_statuses),
                absent,
            )
        )
        found = self.s.execute(q).all()
        # The few orders left are checked against the whole ledger: an order moved here from
        # another customer (a merge) keeps the entry it earned there and earns nothing twice.
        known = self._in_ledger([f"order:{r.order_no}" for r in found])
        rows: list[dict[str, Any]] = []
        deltas: dict[int, int] = defaultdict(int)
        multipliers = {lv.name: lv.multiplier for lv in self.levels}
        base = self.levels[0].multiplier
        for r in found:
            if f"order:{r.order_no}" in known:
                continue
            points = order_points(
                Decimal(r.amount),
                self.config,
                category=r.category,
                level_multiplier=multipliers.get(r.member_level, base),
                birthday_month=r.birthday is not None and r.birthday.month == r.order_date.month,
            )
            rows.append(
                {
                    "customer_id": r.customer_id,
                    "at": _midnight(r.order_date),
                    "kind": "earn",
                    "points": points,
                    "source_key": f"order:{r.order_no}",
                    "reason": None,
                    "expires_on": expiry_for(r.order_date, self.config),
                    "actor": self.actor,
                }
            )
            deltas[r.customer_id] += points
        _insert_entries(self.s, rows)
        _apply_deltas(self.s, deltas)
        self.counts["orders_accrued"] += len(rows)
        self.counts["points_earned"] += sum(deltas.values())

    def expire(self, lo: int, hi: int) -> None:
        """The remainder of every lot whose ``expires_on`` is on or before the date."""
        lot = L.alias("lot")
        done = L.alias("done")
        key = (
            sa.literal("expire:")
            + sa.cast(lot.c.id, sa.String)
            + ":"
            + sa.cast(lot.c.expires_on, sa.String)
        )
        # Customers with a lot due and not yet expired (its expire:<id>:<date> key is absent).
        due = (
            sa.select(lot.c.customer_id)
            .select_from(
                lot.join(Customer.__table__, C.id == lot.c.customer_id).outerjoin(
                    done, done.c.source_key == key
                )
            )
            .where(
                lot.c.customer_id.between(lo, hi),
                lot.c.expires_on <= self.day,
                lot.c.points > 0,
                C.points_balance > 0,
                done.c.id.is_(None),
            )
            .distinct()
        )
        rows: list[dict[str, Any]] = []
        deltas: dict[int, int] = defaultdict(int)
        entries = _entries(self.s, L.c.customer_id.in_(due))
        for cid, group in itertools.groupby(entries, key=lambda r: r.customer_id):
            lots = replay_lots(
                Entry(r.id, r.kind, r.points, r.source_key, r.expires_on) for r in group
            )
            for lot in lots:
                if lot.remaining > 0 and lot.expires_on is not None and lot.expires_on <= self.day:
                    rows.append(
                        {
                            "customer_id": cid,
                            "at": _midnight(lot.expires_on),
                            "kind": "expire",
                            "points": -lot.remaining,
                            "source_key": f"expire:{lot.id}:{lot.expires_on.isoformat()}",
                            "reason": None,
                            "expires_on": None,
                            "actor": self.actor,
                        }
                    )
                    deltas[cid] -= lot.remaining
        _insert_entries(self.s, rows)
        _apply_deltas(self.s, deltas)
        self.counts["lots_expired"] += len(rows)
        self.counts["points_expired"] -= sum(deltas.values())

    def review(self, lo: int, hi: int) -> None:
        """Move each customer to the level the window reaches (downgrades after the hold)."""
        start, end = _window(self.day, self.config)
        spend: dict[int, Any] = dict(
            self.s.execute(
                sa.select(O.customer_id, sa.func.sum(O.amount))
                .where(
                    O.customer_id.between(lo, hi),
                    O.order_date >= start,
                    O.order_date <= end,
                    O.status.not_in(self.config.excluded_statuses),
                )
                .group_by(O.customer_id)
            ).all()
        )
        earned: dict[int, Any] = dict(
            self.s.execute(
                sa.select(L.c.customer_id, sa.func.sum(L.c.points))
                .where(
                    L.c.customer_id.between(lo, hi),
                    L.c.kind == "earn",
                    L.c.at >= _midnight(start),
                    L.c.at < _midnight(end + dt.timedelta(days=1)),
                )
                .group_by(L.c.customer_id)
            ).all()
        )
        since: dict[int, Any] = dict(
            self.s.execute(
                sa.select(LC.c.customer_id, sa.func.max(LC.c.at))
                .where(LC.c.customer_id.between(lo, hi))
                .group_by(LC.c.customer_id)
            ).all()
        )
        changes: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        customers = self.s.execute(
            sa.select(C.id, C.member_level).where(C.id.between(lo, hi), active_condition())
        ).all()
        self.counts["customers"] += len(customers)
        for cid, current_name in customers:
            current = _level_of(self.levels, current_name)
            points = int(earned.get(cid) or 0)
            money = Decimal(spend.get(cid) or 0).quantize(Decimal("0.01"))
            target = target_level(tuple(self.levels), points, money)
            if target.rank == current.rank:
                continue
            if target.rank < current.rank:
                held = since.get(cid)
                if held is not None and add_months(_as_date(held), self.config.hold_months) > end:
                    continue
                word = "downgrade"
                rule = f"level held {self.config.hold_months} months"
            else:
                word = "upgrade"
                rule = _needs(target)
            reason = (f"{word}: {points} points earned, {money} spent {start}..{end} ({rule})")[
                :200
            ]
            changes.append(
                {
                    "customer_id": cid,
                    "at": _midnight(self.day),
                    "from_level": current_name,
                    "to_level": target.name,
                    "reason": reason,
                }
            )
            updates.append({"b_id": cid, "level": target.name})
            self.counts[word + "s"] += 1
        if changes:
            self.s.execute(sa.insert(LC), changes)
            self.s.execute(
                sa.update(Customer.__table__)
                .where(C.id == sa.bindparam("b_id"))
                .values(member_level=sa.bindparam("level")),
                updates,
            )


def _needs(level: LevelRule) -> str:
    parts = []
    if level.min_points > 0:
        parts.append(f"{level.name} ≥ {level.min_points} points")
    if level.min_spend > 0:
        parts.append(f"≥ {level.min_spend} spend")
    return " or ".join(parts) or level.name


def _as_date(value: dt.datetime | dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).date()
    return value


def run_loyalty(
    ctx: ServiceContext, day: dt.date | None = None, config: LoyaltyConfig | None = None
) -> RunSummary:
    """Accrual for orders up to ``day``, expiry of lots due by ``day``, level review.

    Idempotent for a date: a second run finds every order accrued, every due lot expired and
    every level settled, writes nothing and records no audit entry. One audit entry sums up a
    run that changed something.
    """
    config = config or load_config()
    day = day or ctx.today()
    with ctx.transaction() as s:
        run = _Run(ctx, s, day, config)
        lo, hi = s.execute(sa.select(sa.func.min(C.id), sa.func.max(C.id))).one()
        if lo is not None:
            for start in range(lo, hi + 1, CHUNK):
                run.slice(start, min(start + CHUNK - 1, hi))
        summary = RunSummary(
            date=day,
            customers=run.counts["customers"],
            orders_accrued=run.counts["orders_accrued"],
            points_earned=run.counts["points_earned"],
            lots_expired=run.counts["lots_expired"],
            points_expired=run.counts["points_expired"],
            upgrades=run.counts["upgrades"],
            downgrades=run.counts["downgrades"],
        )
        if summary.changed:
            audit.record(
                s,
                ctx.actor,
                "loyalty",
                day.isoformat(),
                "run",
                None,
                summary.__dict__,
                at=ctx.now(),
            )
    return summary
