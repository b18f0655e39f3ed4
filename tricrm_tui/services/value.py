"""Customer value as of a date: RFM, predicted lifetime value, tiers, lifecycle and churn risk.

Everything here is computed "as of" a date from the orders on or before it, so a report re-run
for a past date gives the same answer. :func:`value_refresh` stores the result per customer in
``value_snapshots`` (the history) and, when the date is the latest snapshot date, copies the
segment, tier and lifecycle onto ``customers`` (what lists filter on).

The pipeline (see ``docs/VALUE.md`` for every formula and its source):

1. :func:`tricrm_tui.services.rfm.order_summary`: one grouped query → numpy columns.
2. RFM scores and the R×F segment (:mod:`tricrm_tui.services.rfm`).
3. BG/NBD on (x, t_x, T) of the buyers, Gamma-Gamma on the repeat buyers' mean repeat spend
   (:mod:`tricrm_tui.services.clv`); P(alive), expected purchases in the next
   ``expected_days`` days and CLV over ``horizon_months`` discounted monthly. When a model
   cannot be fitted, the reason is reported and value falls back to monetary (past spend).
4. Tiers by value share, lifecycle against each customer's own rhythm, value at stake.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from tricrm_tui.db import pending
from tricrm_tui.i18n import _
from tricrm_tui.labels import N_
from tricrm_tui.models import Customer, ValueSnapshot
from tricrm_tui.services import audit
from tricrm_tui.services.collector import paused_during
from tricrm_tui.services.context import ServiceContext
from tricrm_tui.services.errors import InvalidInput, NotFound
from tricrm_tui.services.paging import Page, clamp_limit
from tricrm_tui.services.value_config import (
    DAYS_PER_MONTH,
    LIFECYCLE_NAMES,
    PROSPECT,
    TIERS,
    ValueSettings,
    load_settings,
)

if TYPE_CHECKING:
    import numpy as np

    from tricrm_tui.services.clv import BgNbdParams, GammaGammaParams
    from tricrm_tui.services.rfm import OrderSummary, RfmScores

C = Customer.__table__.c
VS = ValueSnapshot.__table__.c
CENT = Decimal("0.01")


# --- the valuation ------------------------------------------------------------------------


@dataclass
class Valuation:
    """Every active customer's value as of a date, as numpy columns aligned with ``summary``."""

    as_of: dt.date
    settings: ValueSettings
    summary: OrderSummary
    rfm: RfmScores
    bgnbd: BgNbdParams | None
    gamma_gamma: GammaGammaParams | None
    messages: list[str]
    p_alive: np.ndarray
    expected: np.ndarray
    clv: np.ndarray
    value: np.ndarray
    basis: str
    """``clv`` or ``monetary``: what the tiers and the value at stake are measured in."""
    tier: np.ndarray
    tier_thresholds: dict[str, float | None]
    interval_days: np.ndarray
    interval_is_own: np.ndarray
    lifecycle: np.ndarray
    at_stake: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.summary)


def _model_inputs(summary: OrderSummary, unit_days: float):
    import numpy as np

    from tricrm_tui.services.rfm import day_number

    buyers = summary.buyers
    as_of_day = day_number(summary.as_of)
    x = np.where(buyers, summary.purchase_days - 1, 0).astype(float)
    t_x = np.where(buyers, (summary.last_day - summary.first_day) / unit_days, 0.0)
    T = np.where(buyers, (as_of_day - summary.first_day) / unit_days, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.where(x > 0, summary.repeat_cents / 100.0 / np.maximum(x, 1), 0.0)
    return x, t_x, T, m


def assign_tiers(value: np.ndarray, high_share: float, medium_share: float):
    """High: the fewest top customers who together make ``high_share`` of the total value;
    medium: the next ones up to ``high_share + medium_share``; low: everyone else.

    Precisely, customers sorted by value (descending; ties by position, i.e. customer id)
    are high while the value of those ranked above them is below ``high_share × total``,
    medium while it is below ``(high_share + medium_share) × total``. A customer with no
    positive value is always low. Returns the tiers and each tier's lowest value.
    """
    import numpy as np

    n = value.size
    tiers = np.full(n, "low", dtype=object)
    thresholds: dict[str, float | None] = dict.fromkeys(TIERS)
    positive = np.where(np.isfinite(value) & (value > 0), value, 0.0)
    total = float(positive.sum())
    if n == 0 or total <= 0:
        return tiers, thresholds
    order = np.lexsort((np.arange(n), -positive))
    ranked = positive[order]
    before = np.cumsum(ranked) - ranked
    ranked_tier = np.where(
        ranked <= 0,
        "low",
        np.where(
            before < high_share * total,
            "high",
            np.where(before < (high_share + medium_share) * total, "medium", "low"),
        ),
    )
    tiers[order] = ranked_tier
    for key in TIERS:
        sel = ranked[ranked_tier == key]
        thresholds[key] = float(sel.min()) if sel.size else None
    return tiers, thresholds


def _lifecycle(
    summary: OrderSummary,
    recency: np.ndarray,
    p_alive: np.ndarray,
    settings: ValueSettings,
    previous: dict[int, str] | None,
    previous_as_of: dt.date | None,
):
    """Stages judged against each customer's own rhythm (see ``docs/VALUE.md``)."""
    import numpy as np

    from tricrm_tui.services.rfm import day_number

    life = settings.lifecycle
    buyers = summary.buyers
    repeat = summary.purchase_days >= 2
    with np.errstate(divide="ignore", invalid="ignore"):
        own = (summary.last_day - summary.first_day) / np.maximum(summary.purchase_days - 1, 1)
    own = np.where(repeat, own, np.nan).astype(float)
    if life.default_interval_days is not None:
        base = float(life.default_interval_days)
    elif repeat.any():
        base = float(np.median(own[repeat]))
    else:
        base = 30.0
    interval = np.where(repeat, own, base)
    interval = np.where(buyers, np.maximum(interval, 1.0), np.nan)
    ratio = np.where(buyers, recency / interval, 0.0)
    p = np.where(np.isnan(p_alive), 1.0, p_alive)
    churned = buyers & ((ratio > life.churn_factor) | (p < life.churn_p_alive))
    at_risk = buyers & ~churned & ((ratio > life.at_risk_factor) | (p < life.at_risk_p_alive))
    stage = np.where(
        ~buyers,
        "prospect",
        np.where(
            churned,
            "churned",
            np.where(at_risk, "at_risk", np.where(summary.purchase_days == 1, "new", "active")),
        ),
    ).astype(object)
    if previous and previous_as_of is not None:
        was_churned = np.fromiter(
            (previous.get(int(i)) == "churned" for i in summary.ids), bool, len(summary)
        )
        came_back = summary.last_day > day_number(previous_as_of)
        stage[was_churned & came_back & np.isin(stage, ["new", "active"])] = "won_back"
    return stage, interval, repeat


def _previous_lifecycle(session, as_of: dt.date) -> tuple[dt.date | None, dict[int, str]]:
    prev = session.execute(
        sa.select(sa.func.max(VS.as_of)).where(VS.as_of < as_of)
    ).scalar_one_or_none()
    if prev is None:
        return None, {}
    rows = session.execute(
        sa.select(VS.customer_id, VS.lifecycle).where(VS.as_of == prev, VS.lifecycle == "churned")
    )
    return prev, {cid: stage for cid, stage in rows}


SCAN_CACHE_KIB = 4_096
"""SQLite page cache while the whole base is read once (4 MB rather than 64 MB): a single
scan of every customer re-reads no page, and filling the usual cache cost the value refresh
after an import 58 MB of its peak (docs/PERFORMANCE.md, "Import, third round")."""


@contextlib.contextmanager
def scan_cache(session: Any) -> Iterator[None]:
    """On SQLite, a small page cache for the session's connection while it scans, the usual
    one after (shrinking it frees the pages); nothing on PostgreSQL, whose cache is the
    server's."""
    from tricrm_tui.db.engine import SQLITE_CACHE_KIB

    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        conn.exec_driver_sql(f"PRAGMA cache_size=-{SCAN_CACHE_KIB}")
    try:
        yield
    finally:
        if sqlite:
            conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")


def compute_valuation(
    ctx: ServiceContext, as_of: dt.date | None = None, settings: ValueSettings | None = None
) -> Valuation:
    """Value every active customer as of ``as_of`` (default: today) without storing anything."""
    import numpy as np

    from tricrm_tui.services import clv, rfm

    as_of = as_of or ctx.today()
    settings = settings or load_settings()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with ctx.session() as s, scan_cache(s):
        summary = rfm.order_summary(s, ctx.db.backend, as_of)
        prev_as_of, previous = _previous_lifecycle(s, as_of)
    timings["query"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    scores = rfm.score(summary, settings.rfm)
    timings["rfm"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    unit = settings.unit_days
    buyers = summary.buyers
    x, t_x, T, m = _model_inputs(summary, unit)
    messages: list[str] = []
    bg: clv.BgNbdParams | None = None
    gg: clv.GammaGammaParams | None = None
    try:
        bg = clv.fit_bgnbd(x[buyers], t_x[buyers], T[buyers])
    except clv.FitError as exc:
        messages.append(_("purchase model not fitted: {why}").format(why=exc))
    if bg is not None:
        try:
            gg = clv.fit_gamma_gamma(x[buyers], m[buyers])
        except clv.FitError as exc:
            messages.append(
                _("spend model not fitted ({why}): using each customer's own average").format(
                    why=exc
                )
            )
    timings["fit"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    n = len(summary)
    p_alive = np.full(n, np.nan)
    expected = np.full(n, np.nan)
    clv_value = np.full(n, np.nan)
    at_stake = np.where(buyers, summary.monetary_cents / 100.0, 0.0)
    if bg is not None:
        xb, txb, Tb = x[buyers], t_x[buyers], T[buyers]
        alive = clv.p_alive(bg, xb, txb, Tb)
        p_alive[buyers] = alive
        expected[buyers] = clv.conditional_expected_purchases(
            bg, settings.expected_days / unit, xb, txb, Tb
        )
        purchases = clv.discounted_expected_purchases(
            bg,
            xb,
            txb,
            Tb,
            periods=settings.horizon_months,
            period_length=DAYS_PER_MONTH / unit,
            discount_rate=settings.discount_rate,
        )
        if gg is not None:
            spend = clv.expected_average_spend(gg, xb, m[buyers])
        else:
            spend = summary.monetary_cents[buyers] / 100.0 / summary.purchase_days[buyers]
        clv_b = purchases * spend
        clv_value[buyers] = clv_b
        clv_value[~buyers] = 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            at_stake[buyers] = np.where(alive > 1e-12, clv_b / alive, 0.0)
        value = np.where(np.isfinite(clv_value), clv_value, 0.0)
        basis = "clv"
    else:
        messages.append(_("tiers use past spend (monetary) instead of predicted value"))
        value = summary.monetary_cents / 100.0
        basis = "monetary"
    tier, thresholds = assign_tiers(value, settings.high_share, settings.medium_share)
    stage, interval, own = _lifecycle(
        summary, scores.recency_days, p_alive, settings, previous, prev_as_of
    )
    timings["predict"] = time.perf_counter() - t0
    return Valuation(
        as_of=as_of,
        settings=settings,
        summary=summary,
        rfm=scores,
        bgnbd=bg,
        gamma_gamma=gg,
        messages=messages,
        p_alive=p_alive,
        expected=expected,
        clv=clv_value,
        value=value,
        basis=basis,
        tier=tier,
        tier_thresholds=thresholds,
        interval_days=interval,
        interval_is_own=own,
        lifecycle=stage,
        at_stake=at_stake,
        timings=timings,
    )


# --- rows ---------------------------------------------------------------------------------


def _money(cents: int) -> Decimal:
    return (Decimal(int(cents)) / 100).quantize(CENT)


def _money_float(value: float) -> Decimal | None:
    if value != value:  # NaN: no prediction
        return None
    return Decimal(f"{value:.2f}")


def _prob(value: float) -> float | None:
    return None if value != value else round(float(value), 6)


@dataclass(frozen=True)
class ValueRow:
    """One customer's value as of a date: the JSON row of ``tricrm value rfm``."""

    code: str
    name: str
    recency_days: int | None
    frequency: int
    monetary: Decimal
    r: int | None
    f: int | None
    m: int | None
    segment: str
    tier: str
    lifecycle: str
    p_alive: float | None
    expected_purchases: float | None
    clv: Decimal | None


def _row(v: Valuation, i: int, code: str, name: str) -> ValueRow:
    s = v.summary
    buyer = bool(s.orders[i] > 0)
    return ValueRow(
        code=code,
        name=name,
        recency_days=int(v.rfm.recency_days[i]) if buyer else None,
        frequency=int(s.orders[i]),
        monetary=_money(s.monetary_cents[i]),
        r=int(v.rfm.r[i]) if buyer else None,
        f=int(v.rfm.f[i]) if buyer else None,
        m=int(v.rfm.m[i]) if buyer else None,
        segment=str(v.rfm.segment[i]),
        tier=str(v.tier[i]),
        lifecycle=str(v.lifecycle[i]),
        p_alive=_prob(v.p_alive[i]),
        expected_purchases=None
        if v.expected[i] != v.expected[i]
        else round(float(v.expected[i]), 4),
        clv=_money_float(v.clv[i]),
    )


def _where_ids(ctx: ServiceContext, expr: str) -> set[int]:
    """Ids of the customers matching a filter-language expression."""
    from tricrm_tui.services.segments import condition_for

    cond = condition_for(ctx, where=expr)
    with ctx.session() as s:
        return {
            cid
            for (cid,) in s.execute(sa.select(C.id).where(cond if cond is not None else sa.true()))
        }


def value_rows(
    ctx: ServiceContext,
    as_of: dt.date | None = None,
    *,
    where: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[ValueRow]:
    """A page of customers' value as of a date, by code. Scores are quintiles of the whole
    base: ``where`` chooses which customers to show, not whom to compare them with."""
    import numpy as np

    from tricrm_tui.services.rfm import customer_labels

    v = compute_valuation(ctx, as_of)
    with ctx.session() as s:
        codes, _names = customer_labels(s, v.summary.ids)
    order = np.argsort(np.array(codes, dtype=object), kind="stable")
    if where:
        wanted = _where_ids(ctx, where)
        order = np.array([i for i in order if int(v.summary.ids[i]) in wanted], dtype=np.int64)
    limit = clamp_limit(limit)
    chosen = order[offset : offset + limit]
    with ctx.session() as s:
        page_codes, page_names = customer_labels(s, v.summary.ids[chosen])
    return Page(
        items=[
            _row(v, int(i), c, nm) for i, c, nm in zip(chosen, page_codes, page_names, strict=True)
        ],
        total=int(order.size),
        limit=limit,
        offset=offset,
    )


# --- refresh ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefreshResult:
    as_of: dt.date
    customers: int
    buyers: int
    basis: str
    current: bool
    """True when ``as_of`` is the latest snapshot date, so ``customers`` columns were updated."""
    messages: list[str]
    timings: dict[str, float]


def _snapshot_rows(v: Valuation, lo: int, hi: int, *, dates_as_text: bool) -> list[tuple[Any, ...]]:
    """Snapshot rows ``lo:hi`` in :data:`SNAPSHOT_COLUMNS` order, built from the arrays.

    Each column is sliced and converted with one ``tolist`` (not a numpy scalar per cell);
    money goes as the float rounded to cents, which SQLite stores as REAL anyway and
    PostgreSQL parses into ``numeric`` exactly (the shortest text of a double rounded to two
    places is those two places). SQLite gets dates as ISO text, the way SQLAlchemy stores
    them there."""
    import numpy as np

    s = v.summary
    part = slice(lo, hi)
    buyer = s.buyers[part].tolist()

    def opt_int(values: np.ndarray) -> list[int | None]:
        return [x if b else None for x, b in zip(values[part].tolist(), buyer, strict=True)]

    def opt_float(values: np.ndarray, digits: int | None = None) -> list[float | None]:
        vals = values[part] if digits is None else np.round(values[part], digits)
        return [None if x != x else x for x in vals.tolist()]

    def money(values: np.ndarray) -> list[float | None]:
        rounded = np.round(values[part], 2)
        finite = np.isfinite(rounded).tolist()
        return [x if ok else None for x, ok in zip(rounded.tolist(), finite, strict=True)]

    as_of: Any = v.as_of.isoformat() if dates_as_text else v.as_of
    columns = (
        s.ids[part].tolist(),
        [as_of] * (hi - lo),
        opt_int(v.rfm.recency_days),
        s.orders[part].tolist(),
        money(s.monetary_cents / 100.0),
        opt_int(v.rfm.r),
        opt_int(v.rfm.f),
        opt_int(v.rfm.m),
        v.rfm.segment[part].tolist(),
        v.tier[part].tolist(),
        v.lifecycle[part].tolist(),
        opt_float(v.p_alive, 6),
        opt_float(v.expected),
        money(v.clv),
    )
    return list(zip(*columns, strict=True))


SNAPSHOT_COLUMNS = (
    "customer_id",
    "as_of",
    "recency_days",
    "frequency",
    "monetary",
    "r",
    "f",
    "m",
    "segment",
    "tier",
    "lifecycle",
    "p_alive",
    "expected_purchases",
    "clv",
)
_SNAPSHOT_CHUNK = 5_000
"""Customers per block of snapshot rows: the rows of one block exist as Python objects at a
time, so the store's memory stays flat as the customer count grows (whole 100k: 306 MB peak
on SQLite; blocks of 20,000 cost 12 MB more than blocks of 5,000 at the same speed; see
docs/PERFORMANCE.md)."""


def _store_snapshots(session: Any, v: Valuation) -> None:
    """Write ``v``'s snapshot rows block by block: ``COPY`` on PostgreSQL, an executemany
    straight to the driver elsewhere (skipping Core's per-value processing: 4× faster on
    SQLite at 100k rows)."""
    from tricrm_tui.db.bulk import copy_applies, copy_rows

    conn = session.connection()
    table = ValueSnapshot.__table__
    sqlite = conn.dialect.name == "sqlite"
    copy = copy_applies(conn)
    sql = str(sa.insert(table).compile(dialect=conn.dialect, column_keys=list(SNAPSHOT_COLUMNS)))
    for lo in range(0, len(v), _SNAPSHOT_CHUNK):
        rows = _snapshot_rows(v, lo, min(len(v), lo + _SNAPSHOT_CHUNK), dates_as_text=sqlite)
        if copy:
            copy_rows(conn, table, SNAPSHOT_COLUMNS, rows)
        elif sqlite:
            conn.exec_driver_sql(sql, rows)
        else:
            conn.exec_driver_sql(sql, [dict(zip(SNAPSHOT_COLUMNS, r, strict=True)) for r in rows])


@paused_during
def value_refresh(ctx: ServiceContext, as_of: dt.date | None = None) -> RefreshResult:
    """Recompute and store every active customer's value as of ``as_of`` (default today).

    Re-running a date replaces that date's rows (delete + insert in one transaction, written
    in blocks of :data:`_SNAPSHOT_CHUNK` customers). One audit entry per refresh records the date, the counts and the model.
    """
    as_of = as_of or ctx.today()
    with ctx.session() as s:
        # Read before the orders are: an undo that commits while they are valued owes the
        # refresh again, and its marker outlives this one (``db.pending``).
        owed = pending.count(s, pending.VALUE)
    v = compute_valuation(ctx, as_of)
    t0 = time.perf_counter()
    count = len(v)
    table = ValueSnapshot.__table__
    with ctx.transaction() as s, scan_cache(s):
        s.execute(sa.delete(table).where(VS.as_of == as_of))
        _store_snapshots(s, v)
        latest = s.execute(sa.select(sa.func.max(VS.as_of))).scalar_one()
        current = latest == as_of
        if current:
            pending.settle(s, pending.VALUE, owed)
            # Only rows whose values change are written: a daily refresh touches few.
            s.execute(
                sa.update(Customer.__table__)
                .values(rfm_segment=VS.segment, value_tier=VS.tier, lifecycle=VS.lifecycle)
                .where(
                    VS.customer_id == C.id,
                    VS.as_of == as_of,
                    sa.or_(
                        C.rfm_segment.is_distinct_from(VS.segment),
                        C.value_tier.is_distinct_from(VS.tier),
                        C.lifecycle.is_distinct_from(VS.lifecycle),
                    ),
                )
            )
        audit.record(
            s,
            ctx.actor,
            "value_snapshots",
            as_of.isoformat(),
            "refresh",
            None,
            {
                "customers": count,
                "buyers": int(v.summary.buyers.sum()),
                "basis": v.basis,
                "bgnbd": v.bgnbd.as_dict() if v.bgnbd else None,
                "gamma_gamma": v.gamma_gamma.as_dict() if v.gamma_gamma else None,
                "messages": v.messages,
            },
        )
    timings = dict(v.timings)
    timings["store"] = time.perf_counter() - t0
    return RefreshResult(
        as_of=as_of,
        customers=count,
        buyers=int(v.summary.buyers.sum()),
        basis=v.basis,
        current=current,
        messages=v.messages,
        timings=timings,
    )


def refresh_current(ctx: ServiceContext) -> RefreshResult:
    """:func:`value_refresh` as of the date the customers' tier, segment and lifecycle come
    from: today, or the newest stored refresh when it is dated later (one run with
    ``--as-of`` ahead, or on a machine whose day had already turned). What an order import's
    undo owes: a refresh as of today, older than the newest, changes no customer and left
    the refresh owed, so every opening of the database ran it again."""
    with ctx.session() as s:
        latest = s.execute(sa.select(sa.func.max(VS.as_of))).scalar_one()
    today = ctx.today()
    return value_refresh(ctx, latest if latest is not None and latest > today else today)


# --- history ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotRecord:
    as_of: dt.date
    recency_days: int | None
    frequency: int
    monetary: Decimal
    r: int | None
    f: int | None
    m: int | None
    segment: str | None
    tier: str | None
    lifecycle: str | None
    p_alive: float | None
    expected_purchases: float | None
    clv: Decimal | None


def value_history(
    ctx: ServiceContext, code: str, *, limit: int = 50, offset: int = 0
) -> Page[SnapshotRecord]:
    """A customer's stored snapshots, newest first."""
    from tricrm_tui.services.customers import customer_id_for

    limit = clamp_limit(limit)
    with ctx.session() as s:
        cid = customer_id_for(s, code)
        total = s.execute(
            sa.select(sa.func.count())
            .select_from(ValueSnapshot.__table__)
            .where(VS.customer_id == cid)
        ).scalar_one()
        rows = s.execute(
            sa.select(*(VS[k] for k in SnapshotRecord.__dataclass_fields__))
            .where(VS.customer_id == cid)
            .order_by(VS.as_of.desc())
            .limit(limit)
            .offset(offset)
        ).mappings()
        items = [
            SnapshotRecord(
                **{
                    **r,
                    "monetary": Decimal(r["monetary"]).quantize(CENT),
                    "clv": None if r["clv"] is None else Decimal(r["clv"]).quantize(CENT),
                }
            )
            for r in rows
        ]
    return Page(items=items, total=total, limit=limit, offset=offset)


def latest_snapshot_date(ctx: ServiceContext) -> dt.date | None:
    with ctx.session() as s:
        return s.execute(sa.select(sa.func.max(VS.as_of))).scalar_one_or_none()


# --- churn early warning ------------------------------------------------------------------


@dataclass(frozen=True)
class AtRiskRow:
    code: str
    name: str
    recency_days: int
    usual_interval_days: float
    p_alive: float | None
    clv: Decimal | None
    value_at_stake: Decimal
    lifecycle: str
    reasons: list[str]
    """``p_alive`` and/or ``overdue``."""
    reason: str


def _at_risk_indices(v: Valuation, threshold: float, factor: float):
    import numpy as np

    buyers = v.summary.buyers
    low_p = buyers & np.isfinite(v.p_alive) & (v.p_alive < threshold)
    overdue = buyers & (v.rfm.recency_days > v.interval_days * factor)
    chosen = np.flatnonzero(low_p | overdue)
    order = np.lexsort((v.summary.ids[chosen], -v.at_stake[chosen]))
    return chosen[order], low_p, overdue


def _at_risk_row(
    v: Valuation, i: int, label: tuple[str, str], low_p, overdue, threshold: float, factor: float
):
    reasons, texts = [], []
    p = v.p_alive[i]
    if low_p[i]:
        reasons.append("p_alive")
        texts.append(_("P(alive) {p:.2f} < {t:.2f}").format(p=p, t=threshold))
    if overdue[i]:
        reasons.append("overdue")
        usual = (
            _("usually every {d:.0f} days")
            if v.interval_is_own[i]
            else _("base rhythm every {d:.0f} days")
        )
        texts.append(
            _("no order for {gap} days, {usual} (×{factor:g})").format(
                gap=int(v.rfm.recency_days[i]),
                usual=usual.format(d=v.interval_days[i]),
                factor=factor,
            )
        )
    return AtRiskRow(
        code=label[0],
        name=label[1],
        recency_days=int(v.rfm.recency_days[i]),
        usual_interval_days=round(float(v.interval_days[i]), 1),
        p_alive=_prob(p),
        clv=_money_float(v.clv[i]),
        value_at_stake=Decimal(f"{v.at_stake[i]:.2f}"),
        lifecycle=str(v.lifecycle[i]),
        reasons=reasons,
        reason="; ".join(texts),
    )


def at_risk(
    ctx: ServiceContext,
    threshold: float | None = None,
    factor: float | None = None,
    as_of: dt.date | None = None,
    *,
    limit: int = 50,
    offset: int = 0,
    valuation: Valuation | None = None,
) -> Page[AtRiskRow]:
    """Customers whose P(alive) is below ``threshold`` or whose time since the last order
    exceeds their usual interval × ``factor``, ranked by value at stake (the CLV they would
    bring if still active; past spend when no model could be fitted)."""
    v = valuation or compute_valuation(ctx, as_of)
    life = v.settings.lifecycle
    threshold = life.at_risk_p_alive if threshold is None else threshold
    factor = life.at_risk_factor if factor is None else factor
    if not 0 <= threshold <= 1:
        raise InvalidInput(_("the threshold is a probability between 0 and 1"), field="threshold")
    if factor <= 0:
        raise InvalidInput(_("the factor must be positive"), field="factor")
    from tricrm_tui.services.rfm import customer_labels

    chosen, low_p, overdue = _at_risk_indices(v, threshold, factor)
    limit = clamp_limit(limit)
    shown = chosen[offset : offset + limit]
    with ctx.session() as s:
        labels = customer_labels(s, v.summary.ids[shown])
    items = [
        _at_risk_row(v, int(i), label, low_p, overdue, threshold, factor)
        for i, label in zip(shown, zip(*labels, strict=True), strict=True)
    ]
    return Page(items=items, total=int(chosen.size), limit=limit, offset=offset)


# --- tiers, model, overview ---------------------------------------------------------------


@dataclass(frozen=True)
class TierRow:
    tier: str
    name: str
    customers: int
    value: Decimal
    share: float
    threshold: Decimal | None
    """The lowest value in the tier."""


@dataclass(frozen=True)
class TierSummary:
    as_of: dt.date
    basis: str
    total: Decimal
    tiers: list[TierRow]
    messages: list[str]


def tiers_summary(
    ctx: ServiceContext, as_of: dt.date | None = None, *, valuation: Valuation | None = None
) -> TierSummary:
    """Counts, value and value share per tier, and each tier's threshold."""
    v = valuation or compute_valuation(ctx, as_of)
    total = float(v.value[v.value > 0].sum()) if len(v) else 0.0
    rows = []
    for key in TIERS:
        sel = v.tier == key
        amount = float(v.value[sel & (v.value > 0)].sum())
        t = v.tier_thresholds.get(key)
        rows.append(
            TierRow(
                tier=key,
                name=v.settings.tier_name(key),
                customers=int(sel.sum()),
                value=Decimal(f"{amount:.2f}"),
                share=round(amount / total, 4) if total > 0 else 0.0,
                threshold=None if t is None else Decimal(f"{t:.2f}"),
            )
        )
    return TierSummary(
        as_of=v.as_of,
        basis=v.basis,
        total=Decimal(f"{total:.2f}"),
        tiers=rows,
        messages=list(v.messages),
    )


def model_report(ctx: ServiceContext, as_of: dt.date | None = None) -> dict[str, Any]:
    """The fitted parameters: ``{"as_of", "customers", "time_unit", "bgnbd", "gamma_gamma"}``;
    a model that could not be fitted is ``null`` and ``messages`` says why."""
    v = compute_valuation(ctx, as_of)
    return {
        "as_of": v.as_of,
        "customers": int(v.summary.buyers.sum()),
        "time_unit": v.settings.time_unit,
        "bgnbd": v.bgnbd.as_dict() if v.bgnbd else None,
        "gamma_gamma": v.gamma_gamma.as_dict() if v.gamma_gamma else None,
        "basis": v.basis,
        "messages": v.messages,
    }


@dataclass(frozen=True)
class GridCell:
    r: int
    f: int
    customers: int
    revenue: Decimal
    segment: str


@dataclass(frozen=True)
class SegmentRow:
    segment: str
    customers: int
    revenue: Decimal
    share: float


@dataclass(frozen=True)
class Overview:
    """What the value screen shows, from one valuation."""

    as_of: dt.date
    stored: bool
    """True when a snapshot of this date exists (selections can then open its customers)."""
    grid: list[GridCell]
    segments: list[SegmentRow]
    tiers: TierSummary
    at_risk: Page[AtRiskRow]


def overview(
    ctx: ServiceContext, as_of: dt.date | None = None, *, at_risk_limit: int = 50
) -> Overview:
    """The R×F grid, segments, tiers and at-risk list as of ``as_of`` (default: the latest
    snapshot date, else today)."""
    import numpy as np

    stored_date = latest_snapshot_date(ctx)
    as_of = as_of or stored_date or ctx.today()
    v = compute_valuation(ctx, as_of)
    with ctx.session() as s:
        stored = s.execute(sa.select(VS.id).where(VS.as_of == as_of).limit(1)).first() is not None
    cents = v.summary.monetary_cents
    buyers = v.summary.buyers
    from tricrm_tui.services.rfm import segment_grid

    names = segment_grid(v.settings.rfm)
    cell_index = v.rfm.r * 6 + v.rfm.f
    counts = np.bincount(cell_index[buyers], minlength=36)
    revenue = np.bincount(cell_index[buyers], weights=cents[buyers], minlength=36)
    grid = [
        GridCell(
            r=r,
            f=f,
            customers=int(counts[r * 6 + f]),
            revenue=_money(int(revenue[r * 6 + f])),
            segment=str(names[r, f]),
        )
        for r in range(5, 0, -1)
        for f in range(1, 6)
    ]
    total_cents = int(cents.sum())
    segments = []
    for name in [*v.settings.rfm.segments, PROSPECT]:
        sel = v.rfm.segment == name
        seg_cents = int(cents[sel].sum())
        segments.append(
            SegmentRow(
                segment=name,
                customers=int(sel.sum()),
                revenue=_money(seg_cents),
                share=round(seg_cents / total_cents, 4) if total_cents else 0.0,
            )
        )
    return Overview(
        as_of=as_of,
        stored=stored,
        grid=grid,
        segments=segments,
        tiers=tiers_summary(ctx, valuation=v),
        at_risk=at_risk(ctx, valuation=v, limit=at_risk_limit),
    )


# --- selections -------------------------------------------------------------------------


SELECTION_KINDS = {"segment": N_("segment"), "tier": N_("tier"), "lifecycle": N_("lifecycle")}


@dataclass(frozen=True)
class Selection:
    """ "Those customers" picked on the value screen: a grid cell, a segment, a tier, a
    lifecycle stage, or the at-risk list, as of a snapshot date."""

    kind: str  # cell | segment | tier | lifecycle
    as_of: dt.date
    r: int | None = None
    f: int | None = None
    name: str | None = None

    @property
    def expression(self) -> str | None:
        """The same choice in the filter language, when it has a term for it (current
        columns, i.e. the latest snapshot); grid cells have none."""
        if self.name is None:
            return None
        field_name = {"segment": "segment", "tier": "tier", "lifecycle": "lifecycle"}.get(self.kind)
        if field_name is None:
            return None
        quoted = '"' + self.name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"{field_name}:{quoted}"

    def describe(self) -> str:
        if self.kind == "cell":
            return _("R={r} F={f} as of {date}").format(r=self.r, f=self.f, date=self.as_of)
        return _("{kind} {name} as of {date}").format(
            kind=_(SELECTION_KINDS.get(self.kind, self.kind)), name=self.name, date=self.as_of
        )


def selection_condition(ctx: ServiceContext, selection: Selection) -> sa.ColumnElement[bool]:
    """A condition over ``customers`` for a selection, from that date's stored snapshot."""
    conds: list[sa.ColumnElement[bool]] = [VS.as_of == selection.as_of]
    if selection.kind == "cell":
        if selection.r not in range(1, 6) or selection.f not in range(1, 6):
            raise InvalidInput(_("R and F scores are 1 to 5"), field="selection")
        conds += [VS.r == selection.r, VS.f == selection.f]
    elif selection.kind in ("segment", "tier", "lifecycle"):
        conds.append(VS[selection.kind] == selection.name)
    else:
        raise InvalidInput(
            _("unknown selection {kind}").format(kind=selection.kind), field="selection"
        )
    with ctx.session() as s:
        if s.execute(sa.select(VS.id).where(VS.as_of == selection.as_of).limit(1)).first() is None:
            raise NotFound(
                _("no value snapshot as of {date}: run tricrm value refresh").format(
                    date=selection.as_of
                )
            )
    return C.id.in_(sa.select(VS.customer_id).where(*conds))


def lifecycle_label(key: str | None) -> str:
    return "" if key is None else _(LIFECYCLE_NAMES.get(key, key))


def segment_label(name: str | None) -> str:
    return "" if name is None else _(name)


@dataclass(frozen=True)
class StoredAtRisk:
    """An at-risk customer as the latest value refresh left them (no model is refitted)."""

    code: str
    name: str
    tier: str | None
    lifecycle: str
    p_alive: float | None
    clv: Decimal | None
    last_order: dt.date | None
    as_of: dt.date
    """The date of the snapshot that judged them at risk."""


def at_risk_from_snapshot(
    ctx: ServiceContext,
    *,
    as_of: dt.date | None = None,
    limit: int = 10,
    offset: int = 0,
    count: bool = True,
) -> Page[StoredAtRisk]:
    """Customers the latest refresh on or before ``as_of`` judged at risk, most value first
    (without ``as_of``: the newest refresh of all).

    For screens that open often (Today, Dashboard): one indexed query over the stored
    snapshot, where :func:`at_risk` recomputes the valuation (seconds at 100k customers). The
    snapshot is chosen as the dashboard's at-risk figure chooses it
    (:func:`tricrm_tui.services.kpis.kpi_report`), so a list for a past date matches its card.
    ``count=False`` skips counting them all (the page's ``total`` is then what it holds, at
    ``offset``): the Today screen shows its few and no total, and on PostgreSQL at 100k
    customers the count was half the query's time.
    """
    with ctx.session() as s:
        newest = sa.select(sa.func.max(VS.as_of))
        if as_of is not None:
            newest = newest.where(VS.as_of <= as_of)
        latest = s.execute(newest).scalar()
        if latest is None:
            return Page(items=[], total=0, limit=limit, offset=offset)
        cond = sa.and_(
            VS.as_of == latest,
            VS.lifecycle == "at_risk",
            C.deleted_at.is_(None),
            C.merged_into_id.is_(None),
        )
        base = ValueSnapshot.__table__.join(Customer.__table__, C.id == VS.customer_id)
        total = (
            s.execute(sa.select(sa.func.count()).select_from(base).where(cond)).scalar_one()
            if count
            else None
        )
        rows = s.execute(
            sa.select(C.code, C.name, VS.tier, VS.lifecycle, VS.p_alive, VS.clv, C.last_order_on)
            .select_from(base)
            .where(cond)
            .order_by(VS.clv.desc().nulls_last(), VS.monetary.desc(), C.code)
            .limit(clamp_limit(limit))
            .offset(offset)
        ).all()
    items = [
        StoredAtRisk(
            code=r.code,
            name=r.name,
            tier=r.tier,
            lifecycle=r.lifecycle,
            p_alive=r.p_alive,
            clv=None if r.clv is None else Decimal(r.clv),
            last_order=r.last_order_on,
            as_of=latest,
        )
        for r in rows
    ]
    return Page(
        items=items,
        total=offset + len(items) if total is None else total,
        limit=limit,
        offset=offset,
    )
