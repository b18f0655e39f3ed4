"""Recency, frequency and monetary value per customer, scored 1–5, and the R×F segment.

Every buyer's order summary as of a date comes from the customers' maintained order aggregates
when they describe that date, else from one grouped query over the orders; the active
customers come from their own table, and customers without orders appear as prospects with
frequency 0; numpy does the rest. Dates come back as day numbers and money as integer cents, so nothing is
parsed row by row and the sums are exact (see :func:`_cents`).

Scores (``method = "quintile"``): customers who have bought are ranked on each measure, best
last (most recent, most orders, most spend), and cut into fifths of the base by their percent
rank, SQL's ``PERCENT_RANK()``: ``p = (rank − 1) / (n − 1)`` with ``rank`` the 1-based rank in
which tied values share the LOWEST rank of their group, and ``score = min(5, 1 + ⌊5·p⌋)``
(``p = 1`` when there is a single buyer). So a score says how much of the base is strictly
below: tied customers always share one score and the result does not depend on row order
(``qcut`` on raw values fails on tied edges; ``NTILE`` splits equals arbitrarily), and the
usual majority of one-order customers all get F = 1, so recent first-time buyers read as New
Customers rather than being lifted into a higher fifth. With ``method = "fixed"`` the four
configured thresholds per measure give the score instead: recency ≤ t1 → 5 … > t4 → 1;
frequency and monetary ≥ t_i adds one to a base of 1. Prospects get no scores and the segment ``Prospect``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tricrm_tui.models import Customer, ImportBatch, Order
from tricrm_tui.services.customers import active_condition
from tricrm_tui.services.value_config import PROSPECT, RfmSettings

C = Customer.__table__.c
O = Order.__table__.c  # noqa: E741
BT = ImportBatch.__table__.c

EPOCH = dt.date(1970, 1, 1)
NO_DAY = -(2**31)
"""Day number of "no such date" (prospects' first and last order)."""


def day_number(d: dt.date) -> int:
    return (d - EPOCH).days


def from_day_number(n: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(n))


@dataclass
class OrderSummary:
    """Per-customer order summary as of a date, one array element per active customer."""

    as_of: dt.date
    ids: np.ndarray
    """Customer ids, ascending. Codes and names are not carried: 100k strings per refresh
    that only the rows on screen need (:func:`customer_labels`)."""
    first_day: np.ndarray
    last_day: np.ndarray
    orders: np.ndarray
    purchase_days: np.ndarray
    """Distinct days with an order: the papers' transactions (same-day orders merged)."""
    monetary_cents: np.ndarray
    repeat_cents: np.ndarray
    """Spend after the first purchase day (the Gamma-Gamma's repeat transactions)."""
    from_aggregates: bool = False
    """Read from the customers' maintained order aggregates rather than grouped from the
    orders (:func:`aggregates_current`)."""

    @property
    def buyers(self) -> np.ndarray:
        return self.orders > 0

    def __len__(self) -> int:
        return int(self.ids.size)


def _days(backend: str, expr: sa.ColumnElement) -> sa.ColumnElement[Any]:
    """A date as a day number on PostgreSQL (integer arithmetic in the server); on SQLite the
    ISO text as stored, which numpy parses in one vectorised call (:func:`_day_numbers`) —
    cheaper than ``julianday()`` per group."""
    if backend == "sqlite":
        return expr
    return sa.cast(expr - sa.literal(EPOCH, sa.Date), sa.Integer)


def _day_numbers(values: tuple[Any, ...]) -> np.ndarray:
    """Day numbers from ISO date text or integers; ``NO_DAY`` where there is none."""
    if any(isinstance(v, str) for v in values):
        parsed = np.array([v or "NaT" for v in values], dtype="datetime64[D]")
        out = parsed.astype(np.int64)
        out[np.isnat(parsed)] = NO_DAY
        return out
    numbers = np.array(values, dtype=float)
    return np.where(np.isnan(numbers), NO_DAY, numbers).astype(np.int64)


def _cents(backend: str, amount: sa.ColumnElement) -> sa.ColumnElement[int]:
    """``sum(amount)`` of a group as whole cents.

    PostgreSQL sums ``numeric`` exactly. SQLite stores NUMERIC as REAL: the per-customer sum of
    two-decimal amounts is rounded to cents once per group, exact while a customer's float
    error stays under half a cent (totals below ~10^11 over thousands of orders), and cheaper
    than converting every row.
    """
    total = sa.func.coalesce(sa.func.sum(amount), 0)
    if backend == "sqlite":
        return sa.cast(sa.func.round(total * 100), sa.Integer)
    return sa.cast(total * 100, sa.BigInteger)


def order_summary(
    session: Session,
    backend: str,
    as_of: dt.date,
    *,
    repeat_spend: bool = True,
) -> OrderSummary:
    """Every active customer's orders up to and including ``as_of`` (cancelled ones excluded),
    all RFM needs.

    When the customers' maintained order aggregates describe ``as_of`` (no order dated after
    it, no import half done: :func:`aggregates_current`), they are read as they are: one row
    per customer, no order touched (on PostgreSQL the grouped query cost 1.95× a bare
    ``GROUP BY``, docs/PERFORMANCE.md "RFM refresh"). Otherwise — a past ``as_of`` — one
    grouped query over the orders gives the same figures.

    ``repeat_spend`` adds what the spend model needs: the spend after the first purchase day.
    The first day's spend comes from a second, index-driven query on ``(customer_id,
    order_date) = (id, customers.first_order_on)``: a customer's first order on or before
    ``as_of`` is their first order at all. If that maintained column is stale for someone (it
    disagrees with the orders), their first day is looked up from the orders instead.
    """
    if aggregates_current(session, as_of):
        query = (
            sa.select(
                C.id,
                _days(backend, C.first_order_on),
                _days(backend, C.last_order_on),
                C.order_count,
                C.purchase_days,
                _stored_cents(backend, C.total_spent),
            )
            .where(active_condition())
            .order_by(C.id)
        )

        def whole(values: tuple[Any, ...]) -> np.ndarray:
            return np.array(values, dtype=float).astype(np.int64)

        ids, first, last, orders, days, cents = _fetch_columns(
            session, query, (whole, _day_numbers, _day_numbers, whole, whole, whole)
        )
        n = int(ids.size)
        summary = OrderSummary(
            as_of=as_of,
            ids=ids,
            first_day=first,
            last_day=last,
            orders=orders,
            purchase_days=days,
            monetary_cents=cents,
            repeat_cents=np.zeros(n, np.int64),
            from_aggregates=True,
        )
        if repeat_spend and n:
            first_spend = _stored_first_day_cents(session, backend, as_of, summary.ids)
            summary.repeat_cents = np.where(summary.buyers, summary.monetary_cents - first_spend, 0)
        return summary
    live = sa.and_(O.order_date <= as_of, O.status != "cancelled")
    # Two plain queries instead of customers LEFT JOIN orders: the orders are grouped on
    # their own, as a bare GROUP BY is, and the active customers come from their table;
    # numpy puts the two together. The join cost PostgreSQL a merge of 100k customers
    # into the million-row scan (docs/PERFORMANCE.md, "RFM refresh").
    people = _fetch_rows(
        session,
        sa.select(C.id, _days(backend, C.first_order_on)).where(active_condition()).order_by(C.id),
    )
    grouped = _fetch_rows(
        session,
        sa.select(
            O.customer_id,
            _days(backend, sa.func.min(O.order_date)),
            _days(backend, sa.func.max(O.order_date)),
            sa.func.count(O.id),
            sa.func.count(sa.distinct(O.order_date)),
            _cents(backend, O.amount),
        )
        .where(live)
        .group_by(O.customer_id)
        .order_by(O.customer_id),
    )
    n = len(people)
    ids = np.fromiter((r[0] for r in people), np.int64, n)
    cols = list(zip(*grouped, strict=True)) if grouped else [()] * 6
    cid = np.fromiter(cols[0], np.int64, len(grouped))
    # Orders of customers the list does not show (deleted, merged) have no place: dropped.
    pos = np.searchsorted(ids, cid)
    mine = (pos < n) & (ids[np.minimum(pos, max(n - 1, 0))] == cid) if n else pos < 0
    at = pos[mine]

    def spread(values: np.ndarray, missing: int) -> np.ndarray:
        out = np.full(n, missing, np.int64)
        out[at] = values[mine]
        return out

    def ints(i: int) -> np.ndarray:
        # Whole days and cents: exact in a double far beyond any real total.
        return np.array(cols[i], dtype=float).astype(np.int64)

    summary = OrderSummary(
        as_of=as_of,
        ids=ids,
        first_day=spread(_day_numbers(cols[1]), NO_DAY),
        last_day=spread(_day_numbers(cols[2]), NO_DAY),
        orders=spread(ints(3), 0),
        purchase_days=spread(ints(4), 0),
        monetary_cents=spread(ints(5), 0),
        repeat_cents=np.zeros(n, np.int64),
    )
    if repeat_spend and n:
        buyers = summary.orders > 0
        first_spend = _stored_first_day_cents(session, backend, as_of, summary.ids)
        stored_first = _day_numbers(tuple(r[1] for r in people))
        stale = buyers & (stored_first != summary.first_day)
        if stale.any():
            first_spend[stale] = _first_day_cents(session, backend, as_of, summary.ids[stale])
        summary.repeat_cents = np.where(buyers, summary.monetary_cents - first_spend, 0)
    return summary


def aggregates_current(session: Session, as_of: dt.date) -> bool:
    """Whether the customers' maintained order aggregates are the summary as of ``as_of``.

    They cover every order that is not cancelled, whatever its date, so they answer for
    ``as_of`` only when no order is dated after it (one probe of the order-date index). And
    an order import refreshes its customers' aggregates only at its end: while any import
    is recorded as running — still working, or killed and not yet repaired (the next
    import repairs it, :func:`tricrm_tui.services.importing.repair_interrupted`) — some
    may lag behind its committed orders. Every other order write refreshes them in its
    own transaction (:func:`tricrm_tui.services.orders.refresh_customer_aggregates`).
    """
    later = sa.select(sa.literal(1)).select_from(Order.__table__).where(O.order_date > as_of)
    running = (
        sa.select(sa.literal(1)).select_from(ImportBatch.__table__).where(BT.status == "running")
    )
    stale = session.execute(sa.select(sa.or_(later.exists(), running.exists()))).scalar()
    return not stale


def _stored_cents(backend: str, amount: sa.ColumnElement) -> sa.ColumnElement[int]:
    """A stored two-decimal amount (``customers.total_spent``) as whole cents; SQLite keeps it
    as a float, rounded to the cent as :func:`_cents` rounds a sum."""
    if backend == "sqlite":
        return sa.cast(sa.func.round(amount * 100), sa.Integer)
    return sa.cast(amount * 100, sa.BigInteger)


def customer_labels(session: Session, ids: np.ndarray) -> tuple[list[str], list[str]]:
    """Codes and names of the given customers, aligned with ``ids`` (the rows a screen or a
    report is about to show, not the whole base)."""
    found: dict[int, tuple[str, str]] = {}
    id_list = [int(i) for i in ids]
    for start in range(0, len(id_list), 5000):
        chunk = id_list[start : start + 5000]
        found.update(
            {
                i: (c, nm)
                for i, c, nm in session.execute(
                    sa.select(C.id, C.code, C.name).where(C.id.in_(chunk))
                )
            }
        )
    labels = [found.get(i, ("", "")) for i in id_list]
    return [c for c, _n in labels], [nm for _c, nm in labels]


def _fetch_rows(session: Session, query: sa.Select) -> list[tuple[Any, ...]]:
    """All rows of an aggregate over the whole base, straight from the driver's cursor.

    At 100k rows, Core's Row objects cost a tenth of the query itself; these columns need no
    result processing (integers and text). Only dates and constants are bound, rendered as
    literals by the dialect.
    """
    connection = session.connection()
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


FETCH_CHUNK = 20_000
"""Rows per ``fetchmany`` when a whole-base query goes straight into arrays: only one block
exists as Python tuples at a time (the summary of 100k customers read at once peaked at 59 MB
of Python objects; docs/PERFORMANCE.md, "Import, third round")."""


def _fetch_columns(
    session: Session, query: sa.Select, convert: tuple[Callable[[tuple[Any, ...]], np.ndarray], ...]
) -> list[np.ndarray]:
    """The columns of ``query`` as arrays, read :data:`FETCH_CHUNK` rows at a time from the
    driver's cursor; ``convert[i]`` turns one block's values of column ``i`` into an array."""
    connection = session.connection()
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    parts: list[list[np.ndarray]] = [[] for _ in convert]
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(FETCH_CHUNK):
            for part, fn, values in zip(parts, convert, zip(*rows, strict=True), strict=True):
                part.append(fn(values))
            del rows
    finally:
        cursor.close()
    return [
        np.concatenate(part) if part else fn(()).astype(np.int64)
        for part, fn in zip(parts, convert, strict=True)
    ]


def _stored_first_day_cents(
    session: Session, backend: str, as_of: dt.date, ids: np.ndarray
) -> np.ndarray:
    """Spend on ``customers.first_order_on``, aligned with ``ids`` (sorted)."""
    q = (
        sa.select(O.customer_id, _cents(backend, O.amount))
        .select_from(
            Customer.__table__.join(
                Order.__table__,
                sa.and_(O.customer_id == C.id, O.order_date == C.first_order_on),
            )
        )
        .where(active_condition(), O.order_date <= as_of, O.status != "cancelled")
        .group_by(O.customer_id)
    )
    out = np.zeros(ids.size, np.int64)

    def ints(values: tuple[Any, ...]) -> np.ndarray:
        return np.fromiter((int(v) for v in values), np.int64, len(values))

    cid, cents = _fetch_columns(session, q, (ints, ints))
    if cid.size:
        pos = np.searchsorted(ids, cid)
        ok = (pos < ids.size) & (ids[np.minimum(pos, ids.size - 1)] == cid)
        out[pos[ok]] = cents[ok]
    return out


def _first_day_cents(session: Session, backend: str, as_of: dt.date, ids: np.ndarray) -> np.ndarray:
    """Spend on the first purchase day, from the orders themselves, for the given customers."""
    out: dict[int, int] = {}
    id_list = [int(i) for i in ids]
    for start in range(0, len(id_list), 5000):
        chunk = id_list[start : start + 5000]
        live = sa.and_(O.order_date <= as_of, O.status != "cancelled")
        firsts = (
            sa.select(O.customer_id.label("cid"), sa.func.min(O.order_date).label("first"))
            .where(live, O.customer_id.in_(chunk))
            .group_by(O.customer_id)
            .subquery()
        )
        q = (
            sa.select(O.customer_id, _cents(backend, O.amount))
            .join(firsts, sa.and_(firsts.c.cid == O.customer_id, firsts.c.first == O.order_date))
            .where(live)
            .group_by(O.customer_id)
        )
        out.update({cid: int(v) for cid, v in session.execute(q)})
    return np.array([out.get(i, 0) for i in id_list], dtype=np.int64)


@dataclass
class RfmScores:
    recency_days: np.ndarray
    """Days since the last order; -1 for prospects."""
    r: np.ndarray
    f: np.ndarray
    m: np.ndarray
    """Scores 1–5; 0 for prospects."""
    segment: np.ndarray
    """Segment name per customer (object array)."""


def quintile_scores(values: np.ndarray) -> np.ndarray:
    """Scores 1–5 by percent rank, higher value = higher score (see module docstring)."""
    n = values.size
    if n == 0:
        return np.zeros(0, np.int64)
    _uniq, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    below = (np.cumsum(counts) - counts).astype(float)  # rank − 1 of each distinct value
    pct = below / (n - 1) if n > 1 else np.ones_like(below)
    scores = np.minimum(5, 1 + np.floor(5.0 * pct + 1e-9)).astype(np.int64)
    return scores[inverse.ravel()]


def fixed_scores(values: np.ndarray, thresholds: tuple[float, ...], *, lower_is_better: bool):
    """Scores 1–5 against four ascending thresholds."""
    edges = np.asarray(thresholds, dtype=float)
    if lower_is_better:
        # recency ≤ t1 → 5, ≤ t2 → 4, ≤ t3 → 3, ≤ t4 → 2, beyond → 1
        return 5 - np.searchsorted(edges, values, side="left")
    return 1 + np.searchsorted(edges, values, side="right")


def segment_grid(settings: RfmSettings) -> np.ndarray:
    """A 6×6 lookup (index 0 unused) from (R, F) to the segment name."""
    grid = np.full((6, 6), PROSPECT, dtype=object)
    for name, cells in settings.segments.items():
        for cell in cells:
            grid[int(cell[0]), int(cell[1])] = name
    return grid


def score(summary: OrderSummary, settings: RfmSettings) -> RfmScores:
    n = len(summary)
    buyers = summary.buyers
    as_of_day = day_number(summary.as_of)
    recency = np.where(buyers, as_of_day - summary.last_day, -1)
    r = np.zeros(n, np.int64)
    f = np.zeros(n, np.int64)
    m = np.zeros(n, np.int64)
    if buyers.any():
        rec, freq, mon = recency[buyers], summary.orders[buyers], summary.monetary_cents[buyers]
        if settings.method == "fixed":
            r[buyers] = fixed_scores(rec, settings.recency_days, lower_is_better=True)
            f[buyers] = fixed_scores(freq, settings.frequency, lower_is_better=False)
            m[buyers] = fixed_scores(mon / 100.0, settings.monetary, lower_is_better=False)
        else:
            r[buyers] = quintile_scores(-rec)
            f[buyers] = quintile_scores(freq)
            m[buyers] = quintile_scores(mon)
    segment = segment_grid(settings)[r, f]
    return RfmScores(recency_days=recency, r=r, f=f, m=m, segment=segment)
