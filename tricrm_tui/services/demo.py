"""A realistic demo database, deterministic for a seed, fast enough for 100k customers.

Why it is built this way:

* Every random draw comes from one :class:`numpy.random.Generator` seeded by ``seed`` and is
  made for all rows at once (vectorised), so the same seed and anchor date give the same
  database, and 1M orders are drawn in about a second. numpy is already a dependency for the
  value models; the standard ``random`` module would need a Python loop per row.
* Rows are written in batches of :data:`BATCH`, materialised one batch at a time from the
  numpy columns, so memory stays flat however many orders there are. Each batch goes to
  the driver on the session's connection after the column types' own bind processing
  (see :meth:`_Writer._write`): executemany on SQLite, ``COPY`` on PostgreSQL. Ids are
  assigned here (the tables must be empty), which lets orders, lines, ledger entries and
  stage events refer to each other without a round trip; on PostgreSQL the id sequences
  are moved past them afterwards.
* The shape follows how retail customer bases look: a third buy once, a loyal tenth place
  most of the orders, a fifth of repeat buyers have stopped (churned), enterprises buy in
  bulk; complaints and surveys hang off real orders; journey stages follow the order history.
* The whole build is one transaction with one audit entry (action ``demo``, the counts
  after), not one per row: a failed build leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tricrm_tui.db.search import search_text_for
from tricrm_tui.i18n import _
from tricrm_tui.models import (
    CareRule,
    CommunicationPlan,
    Customer,
    CustomerTag,
    Feedback,
    FollowUp,
    Interaction,
    Journey,
    JourneyStage,
    LevelChange,
    LoyaltyEntry,
    MemberLevel,
    Order,
    OrderLine,
    Product,
    ProductCategory,
    Segment,
    StageEvent,
    Touchpoint,
    metadata,
)
from tricrm_tui.services import audit
from tricrm_tui.services import demo_data as D
from tricrm_tui.services.context import ServiceContext
from tricrm_tui.services.errors import Conflict, InvalidInput
from tricrm_tui.services.orders import refresh_customer_aggregates

BATCH = 10_000
DEFAULT_CUSTOMERS = 3000
DEFAULT_SEED = 2026
MAX_CUSTOMERS = 2_000_000
HISTORY_DAYS = 730  # orders span the two years before the anchor date
REGISTRATION_DAYS = 1095  # customers registered over the three years before it

# Tables the demo fills; it refuses to write into a database where any of them has rows.
DEMO_TABLES: list[sa.Table] = [
    ProductCategory.__table__,
    Product.__table__,
    MemberLevel.__table__,
    Journey.__table__,
    JourneyStage.__table__,
    Touchpoint.__table__,
    Customer.__table__,
    CustomerTag.__table__,
    Order.__table__,
    OrderLine.__table__,
    Interaction.__table__,
    FollowUp.__table__,
    Feedback.__table__,
    StageEvent.__table__,
    LoyaltyEntry.__table__,
    LevelChange.__table__,
    Segment.__table__,
    CommunicationPlan.__table__,
    CareRule.__table__,
]
# What ``replace`` keeps: the audit trail and import log (history), operators and roles,
# and the database's change counters (migration 0005), which are not data.
KEPT_TABLES = {"audit_log", "import_batches", "operators", "roles", "change_counters"}

ORDER_BLOCK = 20_000  # customers whose orders are drawn and written together

ProgressFn = Callable[[str, int, int], None]
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


@dataclass(frozen=True)
class DemoCounts:
    """How many rows of each kind the demo wrote, and how long it took."""

    customers: int
    categories: int
    products: int
    orders: int
    order_lines: int
    interactions: int
    followups: int
    feedback: int
    journeys: int
    touchpoints: int
    stage_events: int
    member_levels: int
    loyalty_entries: int
    level_changes: int
    tags: int
    segments: int
    communication_plans: int
    care_rules: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------------- helpers


def _pick(rng: np.random.Generator, weights: Sequence[float], size: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum())


def _dates(ordinals: np.ndarray) -> list[dt.date]:
    return [dt.date.fromordinal(o) for o in ordinals.tolist()]


def _optional_dates(ordinals: np.ndarray) -> list[dt.date | None]:
    return [dt.date.fromordinal(o) if o > 0 else None for o in ordinals.tolist()]


def _order_numbers(days: np.ndarray, ids: np.ndarray) -> list[str]:
    """``SO`` + order date + id, e.g. ``SO202405010001234``."""
    return [
        f"SO{dt.date.fromordinal(d):%Y%m%d}{i:07d}"
        for d, i in zip(days.tolist(), ids.tolist(), strict=True)
    ]


def _datetimes(seconds: np.ndarray) -> list[dt.datetime]:
    """Seconds since the Unix epoch → aware UTC datetimes."""
    return [dt.datetime.fromtimestamp(s, dt.UTC) for s in seconds.tolist()]


def _money(cents: np.ndarray) -> list[Decimal]:
    return [Decimal(c).scaleb(-2) for c in cents.tolist()]


def _seconds(ordinals: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A moment on each day between 01:00 and 13:00 UTC (09:00–21:00 China time)."""
    day = (ordinals.astype(np.int64) - _EPOCH_ORDINAL) * 86400
    return day + rng.integers(3600, 13 * 3600, size=len(ordinals))


Column = np.ndarray | list[Any] | Callable[[int, int], list[Any]]


class _Writer:
    """Batched Core inserts with progress; columns are materialised one batch at a time."""

    def __init__(self, session: Session, progress: ProgressFn | None) -> None:
        self.session = session
        self.progress = progress
        self.counts: dict[str, int] = {}
        self.dialect = session.get_bind().dialect
        self.postgresql = self.dialect.name == "postgresql"

    def _write(self, table: sa.Table, keys: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
        """Hand one batch to the driver on the session's own connection (same transaction).

        Values pass through each column type's bind processing first, exactly as a Core
        ``insert()`` would do it, so dates, money, JSON and the personal fields' at-rest
        treatment are the same as for any other write. What is skipped is the per-row
        statement machinery, which was 45% of the time at a million orders on SQLite.
        PostgreSQL gets ``COPY … FROM STDIN``: executemany costs one statement per row
        there (~6k rows/s on two cores), COPY is PostgreSQL's documented bulk-load path.
        """
        procs = [
            table.c[k].type.dialect_impl(self.dialect).bind_processor(self.dialect) for k in keys
        ]
        processed = (
            tuple(p(v) if p else v for p, v in zip(procs, row, strict=True)) for row in rows
        )
        raw: Any = self.session.connection().connection.dbapi_connection
        columns = ", ".join(f'"{k}"' for k in keys)
        if self.postgresql:
            with (
                raw.cursor() as cur,
                cur.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy,
            ):
                for row in processed:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(keys))
            raw.executemany(f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})', processed)

    def insert(
        self,
        table: sa.Table,
        n: int,
        columns: dict[str, Column],
        batch: Callable[[int, int], dict[str, list[Any]]] | None = None,
        *,
        done: int = 0,
        total: int | None = None,
    ) -> None:
        """Insert ``n`` rows; ``batch(a, b)`` may add columns composed per batch.
        ``done``/``total`` place a block of a larger table in the progress report."""
        for start in range(0, n, BATCH):
            stop = min(n, start + BATCH)
            extra = batch(start, stop) if batch else {}
            keys = list(extra) + list(columns)
            values = list(extra.values())
            for k in columns:
                col = columns[k]
                if callable(col):
                    values.append(col(start, stop))
                elif isinstance(col, np.ndarray):
                    values.append(col[start:stop].tolist())
                else:
                    values.append(col[start:stop])
            self._write(table, keys, zip(*values, strict=True))
            if self.progress:
                self.progress(table.name, done + stop, total if total is not None else n)
        self.counts[table.name] = self.counts.get(table.name, 0) + n


def _constant(value: Any) -> Callable[[int, int], list[Any]]:
    return lambda a, b: [value] * (b - a)


def _mapped(arr: np.ndarray, convert: Callable[[np.ndarray], list[Any]]) -> Column:
    return lambda a, b: convert(arr[a:b])


def _labels(arr: np.ndarray, names: Sequence[Any]) -> Column:
    """Indexes into ``names`` (−1 → None), converted per batch."""
    table = list(names) + [None]
    return lambda a, b: [table[i] for i in arr[a:b].tolist()]


# ------------------------------------------------------------------------------ the build


def table_counts(session: Session, tables: Sequence[sa.Table]) -> dict[str, int]:
    return {
        t.name: session.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
        for t in tables
    }


def _empty_tables(session: Session) -> dict[str, int]:
    """Delete every domain row (children first); returns what was there."""
    before = {k: v for k, v in table_counts(session, DEMO_TABLES).items() if v}
    doomed = [t for t in reversed(metadata.sorted_tables) if t.name not in KEPT_TABLES]
    if session.get_bind().dialect.name == "postgresql":
        # One TRUNCATE instead of row-by-row deletes with a foreign-key check per row.
        session.execute(sa.text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in doomed)))
    else:
        for table in doomed:
            session.execute(sa.delete(table))
    return before


def _move_sequences(session: Session) -> None:
    """PostgreSQL: explicit ids do not advance serial sequences, so advance them here."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in DEMO_TABLES:
        if "id" in table.c and table.c.id.primary_key:
            session.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"COALESCE((SELECT max(id) FROM {table.name}), 0) + 1, false)"
                )
            )


@contextmanager
def _small_sqlite_cache(session: Session) -> Iterator[None]:
    """Appending rows in id order needs little page cache; a 16 MB cache instead of the
    connection's usual 64 MB keeps the build of a million orders under 300 MB of memory.
    The connection's setting is restored afterwards (connections are pooled)."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    before = session.execute(sa.text("PRAGMA cache_size")).scalar_one()
    session.execute(sa.text("PRAGMA cache_size=-16384"))
    try:
        yield
    finally:
        session.execute(sa.text(f"PRAGMA cache_size={int(before)}"))


def build_demo(
    ctx: ServiceContext,
    *,
    customers: int = DEFAULT_CUSTOMERS,
    seed: int = DEFAULT_SEED,
    as_of: dt.date | None = None,
    replace: bool = False,
    progress: ProgressFn | None = None,
) -> DemoCounts:
    """Fill the database with a demo customer base of ``customers`` customers.

    ``as_of`` (default: today) anchors every date: orders fall in the two years before it,
    follow-ups are due around it. Refuses a database that already holds demo-table rows
    unless ``replace`` (which empties the domain tables first; the audit trail stays).
    """
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise InvalidInput(
            _("customers must be between 1 and {n}").format(n=MAX_CUSTOMERS), field="customers"
        )
    started = time.perf_counter()
    anchor = as_of or ctx.today()
    with ctx.transaction() as session, _small_sqlite_cache(session):
        counted = table_counts(session, DEMO_TABLES)
        # Customers first: that is the table the operator recognises.
        existing = {
            k: counted[k] for k in sorted(counted, key=lambda k: k != "customers") if counted[k]
        }
        replaced: dict[str, int] = {}
        if existing and not replace:
            raise Conflict(
                _(
                    "the database already holds data ({what}); use --replace to empty it "
                    "first, or choose another --db"
                ).format(what=", ".join(f"{k}: {v}" for k, v in list(existing.items())[:3]))
            )
        if existing:
            replaced = _empty_tables(session)
        writer = _Writer(session, progress)
        _Generator(seed, anchor, customers, ctx, writer).run()
        if progress:
            progress("aggregates", 0, 1)
        refresh_customer_aggregates(session)
        if progress:
            progress("aggregates", 1, 1)
        _move_sequences(session)
        # Fresh planner statistics: without them SQLite picks the (all-NULL) merged_into_id
        # index for the customer list and sorts 100k rows per page (67 ms, not 0.2 ms).
        session.execute(sa.text("ANALYZE"))
        c = writer.counts
        counts = DemoCounts(
            customers=c.get("customers", 0),
            categories=c.get("product_categories", 0),
            products=c.get("products", 0),
            orders=c.get("orders", 0),
            order_lines=c.get("order_lines", 0),
            interactions=c.get("interactions", 0),
            followups=c.get("followups", 0),
            feedback=c.get("feedback", 0),
            journeys=c.get("journeys", 0),
            touchpoints=c.get("touchpoints", 0),
            stage_events=c.get("stage_events", 0),
            member_levels=c.get("member_levels", 0),
            loyalty_entries=c.get("loyalty_ledger", 0),
            level_changes=c.get("level_changes", 0),
            tags=c.get("customer_tags", 0),
            segments=c.get("segments", 0),
            communication_plans=c.get("communication_plans", 0),
            care_rules=c.get("care_rules", 0),
            seconds=0.0,
        )
        after = {k: v for k, v in counts.to_dict().items() if k != "seconds"}
        after.update(seed=seed, as_of=anchor)
        audit.record(session, ctx.actor, "database", "demo", "demo", replaced or None, after)
    if ctx.db.backend == "postgresql":
        # PostgreSQL's index-only scans need the visibility map a VACUUM sets: without it a
        # deep list page visits every skipped row and the count scans the table (150 ms
        # instead of 20 ms at 100k customers). Autovacuum would get there later; a bulk
        # load is the moment PostgreSQL's documentation says to do it by hand.
        with ctx.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM customers")
    seconds = round(time.perf_counter() - started, 2)
    return DemoCounts(**{**counts.to_dict(), "seconds": seconds})


@dataclass
class _OrderBlock:
    """The orders (and their lines) of one block of customers, as numpy columns."""

    cust: np.ndarray
    day: np.ndarray
    seconds: np.ndarray
    amount: np.ndarray
    qty: np.ndarray
    product: np.ndarray
    cancelled: np.ndarray
    channel: np.ndarray
    line_order: np.ndarray
    line_product: np.ndarray
    line_qty: np.ndarray
    line_unit: np.ndarray
    line_amount: np.ndarray

    @property
    def m(self) -> int:
        return len(self.cust)


class _Generator:
    """Draws the whole customer base with numpy, then writes it table by table."""

    def __init__(
        self,
        seed: int,
        anchor: dt.date,
        n: int,
        ctx: ServiceContext,
        writer: _Writer,
    ) -> None:
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.anchor = anchor.toordinal()
        self.n = n
        self.ctx = ctx
        self.w = writer
        self.local_tz = ctx.now().astimezone().tzinfo

    def run(self) -> None:
        self.reference_tables()
        self.draw_customers()
        self.draw_orders()
        self.draw_loyalty()
        self.write_customers()
        self.write_orders()
        self.write_loyalty()
        self.write_interactions()
        self.write_followups()
        self.write_feedback()
        self.write_journey_events()

    # -- small tables ------------------------------------------------------------------

    def reference_tables(self) -> None:
        rng, w = self.rng, self.w
        cat_names: list[str] = []
        cat_parent: list[int | None] = []
        prod_sku: list[str] = []
        prod_name: list[str] = []
        prod_cat: list[int] = []
        prod_cents: list[int] = []
        for parent, children in D.CATEGORIES:
            cat_names.append(parent)
            cat_parent.append(None)
            parent_id = len(cat_names)
            for child, low, high, names in children:
                cat_names.append(child)
                cat_parent.append(parent_id)
                for name in names:
                    for variant in ("标准装", "礼盒装"):
                        price = np.exp(rng.uniform(np.log(low), np.log(high)))
                        yuan = max(1, int(price)) // 10 * 10 + 9 if price > 20 else int(price)
                        prod_sku.append(f"SKU{len(prod_sku) + 1:05d}")
                        prod_name.append(f"{name}（{variant}）")
                        prod_cat.append(len(cat_names))
                        prod_cents.append(yuan * 100 * (2 if variant == "礼盒装" else 1))
        w.insert(
            ProductCategory.__table__,
            len(cat_names),
            {"id": list(range(1, len(cat_names) + 1)), "name": cat_names, "parent_id": cat_parent},
        )
        self.product_cat = np.array(prod_cat)
        self.product_cents = np.array(prod_cents, dtype=np.int64)
        self.category_names = cat_names
        n_prod = len(prod_sku)
        w.insert(
            Product.__table__,
            n_prod,
            {
                "id": list(range(1, n_prod + 1)),
                "sku": prod_sku,
                "name": prod_name,
                "category_id": prod_cat,
                "price": _money(self.product_cents),
                "currency": _constant("CNY"),
                "active": _constant(True),
            },
        )
        # Popularity: a Zipf-like tail, shuffled so the best sellers spread over categories.
        pop = 1.0 / np.arange(1, n_prod + 1) ** 0.9
        self.product_p = rng.permutation(pop) / pop.sum()

        levels = D.MEMBER_LEVELS
        w.insert(
            MemberLevel.__table__,
            len(levels),
            {
                "id": list(range(1, len(levels) + 1)),
                "name": [lv[0] for lv in levels],
                "rank": [lv[1] for lv in levels],
                "min_points": [lv[2] for lv in levels],
                "min_spend": [Decimal(lv[3]) for lv in levels],
                "multiplier": [Decimal(lv[4]) for lv in levels],
            },
        )
        w.insert(
            Journey.__table__,
            1,
            {
                "id": [1],
                "name": [D.JOURNEY_NAME],
                "description": ["awareness → consideration → purchase → retention → advocacy"],
            },
        )
        stages = D.JOURNEY_STAGES
        w.insert(
            JourneyStage.__table__,
            len(stages),
            {
                "id": list(range(1, len(stages) + 1)),
                "journey_id": _constant(1),
                "name": stages,
                "position": list(range(1, len(stages) + 1)),
            },
        )
        tps = D.TOUCHPOINTS
        w.insert(
            Touchpoint.__table__,
            len(tps),
            {
                "id": list(range(1, len(tps) + 1)),
                "journey_id": _constant(1),
                "stage_id": [tp[1] + 1 for tp in tps],
                "name": [tp[0] for tp in tps],
                "channel": [tp[2] for tp in tps],
            },
        )
        # Touchpoint ids per stage (0-based stage position).
        self.stage_touchpoints = [
            np.array([i + 1 for i, tp in enumerate(tps) if tp[1] == s]) for s in range(len(stages))
        ]
        segs = D.SEGMENTS
        w.insert(
            Segment.__table__,
            len(segs),
            {
                "id": list(range(1, len(segs) + 1)),
                "name": [s[0] for s in segs],
                "expression": [s[1] for s in segs],
                "description": [s[2] for s in segs],
                "created_by": _constant(self.ctx.actor.username),
                "created_at": _constant(self._anchor_dt()),
                "updated_at": _constant(self._anchor_dt()),
            },
        )
        plans = D.COMMUNICATION_PLANS
        w.insert(
            CommunicationPlan.__table__,
            len(plans),
            {
                "id": list(range(1, len(plans) + 1)),
                "name": [p[0] for p in plans],
                "target_kind": [p[1] for p in plans],
                "target_value": [p[2] for p in plans],
                "cadence_days": [p[3] for p in plans],
                "channel": [p[4] for p in plans],
                "quiet_start": _constant(dt.time(21, 0)),
                "quiet_end": _constant(dt.time(9, 0)),
                "cap_count": [p[5] for p in plans],
                "cap_period_days": [p[6] for p in plans],
                "active": _constant(True),
            },
        )
        rules = D.CARE_RULES
        w.insert(
            CareRule.__table__,
            len(rules),
            {
                "id": list(range(1, len(rules) + 1)),
                "name": [r[0] for r in rules],
                "kind": [r[1] for r in rules],
                "occasion": [r[2] for r in rules],
                "days_ahead": [r[3] for r in rules],
                "target_expr": _constant(""),
                "channel": [r[4] for r in rules],
                "message": [r[5] for r in rules],
                "active": _constant(True),
            },
        )

    def _anchor_dt(self) -> dt.datetime:
        return dt.datetime.combine(dt.date.fromordinal(self.anchor), dt.time(1, 0), tzinfo=dt.UTC)

    # -- customers ---------------------------------------------------------------------

    def draw_customers(self) -> None:
        rng, n = self.rng, self.n
        self.ids = np.arange(1, n + 1)
        self.enterprise = rng.random(n) < 0.15
        self.province = _pick(rng, [p[1] for p in D.PROVINCES], n)
        n_cities = np.array([len(p[2]) for p in D.PROVINCES])[self.province]
        # Capitals and big cities first in each list: weight toward them.
        self.city = np.minimum((rng.random(n) ** 1.6 * n_cities).astype(int), n_cities - 1)
        self.registered = self.anchor - rng.integers(1, REGISTRATION_DAYS, size=n)
        # Customer behaviour: never bought, one-time, casual, regular, loyal head.
        self.segment = _pick(rng, [0.05, 0.33, 0.30, 0.22, 0.10], n)
        self.owner = np.where(rng.random(n) < 0.6, rng.integers(0, len(D.OWNERS), n), -1)

    def draw_people(self) -> None:
        """Every random choice behind names, contacts and tags, drawn up front (numpy);
        the strings are composed one batch at a time by :meth:`people_batch`."""
        rng, n = self.rng, self.n
        d: dict[str, np.ndarray] = {
            "style": _pick(rng, [0.85, 0.05, 0.10], n),  # simplified, traditional, Latin
            "surname": _pick(rng, [s[2] for s in D.SURNAMES], n),
            "g1": rng.integers(0, len(D.GIVEN_CHARS), n),
            "g2": np.where(rng.random(n) < 0.7, rng.integers(0, len(D.GIVEN_CHARS), n), -1),
            "t_s": rng.integers(0, len(D.TRADITIONAL_SURNAMES), n),
            "t_g1": rng.integers(0, len(D.TRADITIONAL_GIVEN), n),
            "t_g2": rng.integers(0, len(D.TRADITIONAL_GIVEN), n),
            "l_first": rng.integers(0, len(D.LATIN_FIRST), n),
            "l_last": rng.integers(0, len(D.LATIN_LAST), n),
            "brand": rng.integers(0, len(D.BRAND_WORDS), n),
            "industry": _pick(rng, [i[2] for i in D.INDUSTRIES], n),
            "latin_co": rng.random(n) < 0.05,
            "domain": rng.integers(0, len(D.EMAIL_DOMAINS), n),
            "email_num": rng.integers(1, 1000, n),
            "has_email": rng.random(n) < 0.85,
            "prefix": rng.integers(0, len(D.MOBILE_PREFIXES), n),
            "subscriber": rng.integers(0, 10**8, n),
            "has_phone": rng.random(n) < 0.97,
            "road": rng.integers(0, len(D.ROADS), n),
            "number": rng.integers(1, 999, n),
            "has_address": rng.random(n) < 0.7,
            "tagged": rng.random(n) < 0.3,
            "tag_pick": rng.integers(0, len(D.CUSTOMER_TAGS), n),
            "notes": np.where(rng.random(n) < 0.05, rng.integers(0, len(NOTE_TEXTS), n), -1),
        }
        self.industry = np.where(self.enterprise, d["industry"], -1)
        self.people = d

    def _name_email(self, i: int) -> tuple[str, str]:
        d = self.people
        if self.enterprise[i]:
            word, py = D.BRAND_WORDS[d["brand"][i]]
            if d["latin_co"][i]:
                name = D.LATIN_COMPANIES[d["brand"][i] % len(D.LATIN_COMPANIES)]
            else:
                city = D.PROVINCES[self.province[i]][2][self.city[i]]
                business = D.INDUSTRIES[d["industry"][i]][1]
                name = f"{city.removesuffix('市')}{word}{business}有限公司"
            return name, f"sales{d['email_num'][i]}@{py}.com.cn"
        domain = D.EMAIL_DOMAINS[d["domain"][i]]
        if d["style"][i] == 0:
            s, spy, _w = D.SURNAMES[d["surname"][i]]
            c1, p1 = D.GIVEN_CHARS[d["g1"][i]]
            c2, p2 = D.GIVEN_CHARS[d["g2"][i]] if d["g2"][i] >= 0 else ("", "")
            return s + c1 + c2, f"{spy}{p1}{p2}{d['email_num'][i]}@{domain}"
        if d["style"][i] == 1:
            s, spy = D.TRADITIONAL_SURNAMES[d["t_s"][i]]
            c1, p1 = D.TRADITIONAL_GIVEN[d["t_g1"][i]]
            c2, p2 = D.TRADITIONAL_GIVEN[d["t_g2"][i]]
            return s + c1 + c2, f"{p1}{p2}.{spy}@{domain}"
        first, last = D.LATIN_FIRST[d["l_first"][i]], D.LATIN_LAST[d["l_last"][i]]
        ascii_last = last.lower().replace("ü", "ue")
        return f"{first} {last}", f"{first.lower()}.{ascii_last}{d['email_num'][i]}@{domain}"

    def _tags(self, i: int) -> list[str]:
        """VIP for the big spenders of the loyal head, 企业采购 for regular companies, and a
        sprinkling of the rest."""
        tags = set()
        if self.segment[i] == 4 and self.spend_cents[i] > 1_000_000:
            tags.add("VIP")
        if self.enterprise[i] and self.segment[i] >= 3:
            tags.add("企业采购")
        if self.people["tagged"][i]:
            tags.add(D.CUSTOMER_TAGS[self.people["tag_pick"][i]])
        return sorted(tags)

    def people_batch(self, a: int, b: int) -> dict[str, list[Any]]:
        """The text columns of customers a..b (names, contacts, places, search text)."""
        d = self.people
        out: dict[str, list[Any]] = {
            k: []
            for k in ("code", "name", "email", "phone", "province", "city", "address", "notes")
        }
        out["search_text"] = []
        for i in range(a, b):
            name, address_email = self._name_email(i)
            email = address_email if d["has_email"][i] else None
            phone = (
                f"+86{D.MOBILE_PREFIXES[d['prefix'][i]]}{d['subscriber'][i]:08d}"
                if d["has_phone"][i]
                else None
            )
            prov, _share, city_list = D.PROVINCES[self.province[i]]
            city = city_list[self.city[i]]
            place = city if prov == city else prov + city
            address = (
                f"{place}{D.ROADS[d['road'][i]]}{d['number'][i]}号" if d["has_address"][i] else None
            )
            note = NOTE_TEXTS[d["notes"][i]] if d["notes"][i] >= 0 else None
            code = f"C{i + 1:06d}"
            for key, value in (
                ("code", code),
                ("name", name),
                ("email", email),
                ("phone", phone),
                ("province", prov),
                ("city", city),
                ("address", address),
                ("notes", note),
            ):
                out[key].append(value)
            out["search_text"].append(
                search_text_for(code, name, phone, email, self._tags(i), note)
            )
        return out

    def write_customers(self) -> None:
        rng, n = self.rng, self.n
        self.draw_people()
        age_days = (rng.normal(38, 11, n).clip(18, 80) * 365.25).astype(int)
        birthday = np.where(
            ~self.enterprise & (rng.random(n) < 0.85),
            self.anchor - age_days - rng.integers(0, 365, n),
            -1,
        )
        created = _seconds(self.registered, rng)
        size = _pick(rng, [s[1] for s in D.SIZE_BANDS], n)
        self.w.insert(
            Customer.__table__,
            n,
            {
                "id": self.ids,
                "kind": _labels(self.enterprise.astype(int), ["individual", "enterprise"]),
                "industry": _labels(self.industry, [i[0] for i in D.INDUSTRIES]),
                "size_band": _labels(
                    np.where(self.enterprise, size, -1), [s[0] for s in D.SIZE_BANDS]
                ),
                "birthday": _mapped(birthday, _optional_dates),
                "registered_on": _mapped(self.registered, _dates),
                "source_channel": _labels(
                    _pick(rng, [s[1] for s in D.SOURCE_CHANNELS], n),
                    [s[0] for s in D.SOURCE_CHANNELS],
                ),
                "owner": _labels(self.owner, D.OWNERS),
                "custom_fields": _constant({}),
                "consent_email": rng.random(n) < 0.85,
                "consent_sms": rng.random(n) < 0.75,
                "consent_phone": rng.random(n) < 0.92,
                "consent_wechat": rng.random(n) < 0.8,
                "member_level": _labels(self.level, [lv[0] for lv in D.MEMBER_LEVELS]),
                "points_balance": self.balance,
                "created_at": _mapped(created, _datetimes),
                "updated_at": _mapped(created, _datetimes),
                "version": _constant(1),
                # The order aggregates, known from the first pass; the service's refresh
                # afterwards then only checks them.
                "order_count": self.valid_counts,
                "total_spent": _mapped(self.spend_cents, _money),
                "first_order_on": _mapped(self.first_day, _optional_dates),
                "last_order_on": _mapped(self.last_day, _optional_dates),
                "purchase_days": self.purchase_days,
            },
            batch=self.people_batch,
        )
        tag_cust: list[int] = []
        tag_names: list[str] = []
        for i in range(n):
            for tag in self._tags(i):
                tag_cust.append(i + 1)
                tag_names.append(tag)
        self.w.insert(
            CustomerTag.__table__, len(tag_cust), {"customer_id": tag_cust, "tag": tag_names}
        )
        del self.people

    # -- orders ------------------------------------------------------------------------

    def draw_orders(self) -> None:
        """How many orders each customer places and when (per customer), then a first pass
        over the orders, block by block, keeping only per-customer summaries."""
        rng, n = self.rng, self.n
        seg = self.segment
        counts = np.select(
            [seg == 0, seg == 1, seg == 2, seg == 3],
            [0, 1, rng.integers(2, 6, n), rng.integers(6, 26, n)],
            rng.integers(30, 81, n),
        )
        start = np.maximum(self.registered, self.anchor - HISTORY_DAYS)
        length = self.anchor - start
        churned = (counts >= 2) & (rng.random(n) < 0.2)
        length = np.where(churned, (length * rng.uniform(0.2, 0.6, n)).astype(int), length)
        self.order_counts, self.o_start, self.o_length = counts, start, length
        self.preferred = _pick(rng, [c[1] for c in D.ORDER_CHANNELS], n).astype(np.int8)
        self.spend_cents = np.zeros(n, dtype=np.int64)
        self.points_all = np.zeros(n, dtype=np.int64)
        self.valid_counts = np.zeros(n, dtype=np.int64)
        self.first_id = np.full(n, -1, dtype=np.int64)
        self.second_id = np.full(n, -1, dtype=np.int64)
        self.first_day = np.zeros(n, dtype=np.int64)
        self.second_day = np.zeros(n, dtype=np.int64)
        self.first_seconds = np.zeros(n, dtype=np.int64)
        self.last_day = np.zeros(n, dtype=np.int64)
        self.purchase_days = np.zeros(n, dtype=np.int64)
        self.block_base: list[tuple[int, int]] = []
        order_base = line_base = 1
        for index, (a, b) in enumerate(self.blocks()):
            blk = self._block(index, a, b)
            self.block_base.append((order_base, line_base))
            valid = ~blk.cancelled
            local = blk.cust - a
            size = b - a
            self.spend_cents[a:b] = np.bincount(
                local[valid], weights=blk.amount[valid], minlength=size
            )
            self.points_all[a:b] = np.bincount(
                local[valid], weights=blk.amount[valid] // 100, minlength=size
            )
            # Each customer's first and second completed order, for journeys and surveys.
            by = np.lexsort((blk.day, local))
            by = by[valid[by]]
            n_valid = np.bincount(local[by], minlength=size)
            self.valid_counts[a:b] = n_valid
            # Distinct purchase days: in (customer, day) order, each change of either starts one.
            new_day = np.ones(len(by), dtype=bool)
            new_day[1:] = (np.diff(local[by]) != 0) | (np.diff(blk.day[by]) != 0)
            self.purchase_days[a:b] = np.bincount(local[by][new_day], minlength=size)
            if len(by):
                firsts = np.searchsorted(local[by], np.arange(size))
                i1 = by[np.minimum(firsts, len(by) - 1)]
                i2 = by[np.minimum(firsts + 1, len(by) - 1)]
                one, two = n_valid >= 1, n_valid >= 2
                self.first_id[a:b] = np.where(one, order_base + i1, -1)
                self.second_id[a:b] = np.where(two, order_base + i2, -1)
                self.first_day[a:b] = np.where(one, blk.day[i1], 0)
                self.second_day[a:b] = np.where(two, blk.day[i2], 0)
                self.first_seconds[a:b] = np.where(one, blk.seconds[i1], 0)
                i_last = by[np.clip(firsts + n_valid - 1, 0, len(by) - 1)]
                self.last_day[a:b] = np.where(one, blk.day[i_last], 0)
            order_base += blk.m
            line_base += len(blk.line_order)
        self.m, self.k = order_base - 1, line_base - 1

    def blocks(self) -> list[tuple[int, int]]:
        return [(a, min(self.n, a + ORDER_BLOCK)) for a in range(0, self.n, ORDER_BLOCK)]

    def _block(self, index: int, a: int, b: int) -> _OrderBlock:
        """The orders and lines of customers a..b. Each block has its own random stream
        (seed, block), so the second pass regenerates exactly what the first one saw and
        memory holds one block, not a million orders."""
        rng = np.random.default_rng([self.seed, index])
        cust = np.repeat(np.arange(a, b, dtype=np.int32), self.order_counts[a:b])
        m = len(cust)
        day = self.o_start[cust] + (rng.random(m) * (self.o_length[cust] + 1)).astype(np.int64)
        day = np.minimum(day, self.anchor)
        # Orders in time order (within the block) get ascending ids, as a shop's would.
        order = np.lexsort((cust, day))
        cust, day = cust[order], day[order]
        # Lines: mostly one, some baskets of two or three.
        n_lines = _pick(rng, [0.8, 0.15, 0.05], m) + 1
        line_order = np.repeat(np.arange(m, dtype=np.int32), n_lines)
        k = len(line_order)
        product = rng.choice(len(self.product_p), size=k, p=self.product_p).astype(np.int16)
        qty = _pick(rng, [0.75, 0.17, 0.04, 0.02, 0.02], k) + 1
        bulk = self.enterprise[cust[line_order]]
        qty = np.where(bulk, qty * rng.integers(1, 11, k), qty)
        discount = np.array([100, 90, 80])[_pick(rng, [0.7, 0.2, 0.1], k)]
        unit = self.product_cents[product] * discount // 100
        amount = unit * qty
        first_line = np.concatenate(([0], np.cumsum(n_lines)[:-1])).astype(np.int64)
        has = m > 0
        other = _pick(rng, [c[1] for c in D.ORDER_CHANNELS], m)
        return _OrderBlock(
            cust=cust,
            day=day,
            seconds=_seconds(day, rng),
            amount=np.add.reduceat(amount, first_line) if has else amount[:0],
            qty=np.add.reduceat(qty, first_line) if has else qty[:0],
            product=product[first_line] if has else product[:0],
            cancelled=rng.random(m) < 0.03,
            channel=np.where(rng.random(m) < 0.7, self.preferred[cust], other),
            line_order=line_order,
            line_product=product,
            line_qty=qty,
            line_unit=unit,
            line_amount=amount,
        )

    def write_orders(self) -> None:
        """Second pass: orders, their lines and the points they earned, block by block."""
        ledger_id = 1
        earn_total = int(self.valid_counts[self.member].sum())
        channels = [c[0] for c in D.ORDER_CHANNELS]
        for index, (a, b) in enumerate(self.blocks()):
            blk = self._block(index, a, b)
            order_base, line_base = self.block_base[index]
            ids = np.arange(order_base, order_base + blk.m)

            def order_no(lo: int, hi: int, ids: np.ndarray = ids, blk: _OrderBlock = blk) -> list:
                return _order_numbers(blk.day[lo:hi], ids[lo:hi])

            self.w.insert(
                Order.__table__,
                blk.m,
                {
                    "id": ids,
                    "order_no": order_no,
                    "customer_id": blk.cust + 1,
                    "order_date": _mapped(blk.day, _dates),
                    "amount": _mapped(blk.amount, _money),
                    "currency": _constant("CNY"),
                    "quantity": blk.qty,
                    "channel": _labels(blk.channel, channels),
                    "status": _labels(blk.cancelled.astype(int), ["completed", "cancelled"]),
                    "product_id": blk.product + 1,
                    "category_id": self.product_cat[blk.product],
                    "created_at": _mapped(blk.seconds, _datetimes),
                    "updated_at": _mapped(blk.seconds, _datetimes),
                },
                done=order_base - 1,
                total=self.m,
            )
            k = len(blk.line_order)
            self.w.insert(
                OrderLine.__table__,
                k,
                {
                    "id": np.arange(line_base, line_base + k),
                    "order_id": blk.line_order + order_base,
                    "product_id": blk.line_product + 1,
                    "quantity": blk.line_qty,
                    "unit_price": _mapped(blk.line_unit, _money),
                    "amount": _mapped(blk.line_amount, _money),
                },
                done=line_base - 1,
                total=self.k,
            )
            # One point per yuan on every completed order of an enrolled member.
            earn = np.flatnonzero(~blk.cancelled & self.member[blk.cust])
            e = len(earn)

            def earn_keys(
                lo: int, hi: int, days: np.ndarray = blk.day[earn], nos: np.ndarray = ids[earn]
            ) -> list[str]:
                """The loyalty service's key for an order's points (``order:<order no>``),
                so accruing again later never awards a demo order twice."""
                return [f"order:{no}" for no in _order_numbers(days[lo:hi], nos[lo:hi])]

            self.w.insert(
                LoyaltyEntry.__table__,
                e,
                {
                    "id": np.arange(ledger_id, ledger_id + e),
                    "customer_id": blk.cust[earn] + 1,
                    "at": _mapped(blk.seconds[earn], _datetimes),
                    "kind": _constant("earn"),
                    "points": blk.amount[earn] // 100,
                    "source_key": earn_keys,
                    "reason": _constant("order"),
                    "expires_on": _mapped(blk.day[earn] + 730, _dates),
                    "actor": _constant("demo"),
                },
                done=ledger_id - 1,
                total=earn_total,
            )
            ledger_id += e
        self.next_ledger_id = ledger_id

    # -- loyalty -----------------------------------------------------------------------

    def draw_loyalty(self) -> None:
        """Who is an enrolled member, their points, level and the odd redemption."""
        rng, n = self.rng, self.n
        self.member = (self.valid_counts > 0) & (rng.random(n) < 0.75)
        earned = np.where(self.member, self.points_all, 0)
        thresholds = np.array([lv[2] for lv in D.MEMBER_LEVELS])
        self.level = np.where(
            self.member, np.searchsorted(thresholds, earned, side="right") - 1, -1
        )
        redeem = self.member & (earned >= 1000) & (rng.random(n) < 0.15)
        amount = np.minimum(earned, rng.integers(5, 51, n) * 100)
        self.redeem_cust = np.flatnonzero(redeem)
        self.redeem_points = amount[self.redeem_cust]
        self.balance = earned - np.where(redeem, amount, 0)

    def write_loyalty(self) -> None:
        rng = self.rng
        e = self.next_ledger_id - 1
        r = len(self.redeem_cust)
        first = self.first_day[self.redeem_cust]
        when = first + ((self.anchor - first) * rng.random(r)).astype(np.int64)
        self.w.insert(
            LoyaltyEntry.__table__,
            r,
            {
                "id": np.arange(e + 1, e + r + 1),
                "customer_id": self.redeem_cust + 1,
                "at": _mapped(_seconds(when, rng), _datetimes),
                "kind": _constant("redeem"),
                "points": -self.redeem_points,
                "source_key": _mapped(
                    self.redeem_cust + 1, lambda a: [f"redeem:{i}" for i in a.tolist()]
                ),
                "reason": _constant("兑换礼品"),
                "expires_on": _constant(None),
                "actor": _constant("demo"),
            },
        )
        up = np.flatnonzero(self.level > 0)
        names = [lv[0] for lv in D.MEMBER_LEVELS]
        reached = self.first_seconds[up] + 86400 * 30
        self.w.insert(
            LevelChange.__table__,
            len(up),
            {
                "id": np.arange(1, len(up) + 1),
                "customer_id": up + 1,
                "at": _mapped(np.minimum(reached, self._anchor_seconds()), _datetimes),
                "from_level": _constant(names[0]),
                "to_level": _labels(self.level[up], names),
                "reason": _constant("points"),
            },
        )

    def _anchor_seconds(self) -> int:
        return (self.anchor - _EPOCH_ORDINAL) * 86400

    # -- interactions, follow-ups, feedback, journey -----------------------------------

    def write_interactions(self) -> None:
        rng, n = self.rng, self.n
        lam = np.minimum(0.5 + 0.25 * self.order_counts, 12)
        per = rng.poisson(lam)
        cust = np.repeat(np.arange(n), per)
        k = len(cust)
        day = self.registered[cust] + (
            rng.random(k) * (self.anchor - self.registered[cust] + 1)
        ).astype(np.int64)
        order = np.lexsort((cust, day))
        cust, day = cust[order], np.minimum(day[order], self.anchor)
        channels = list(D.INTERACTION_SUBJECTS)
        channel = _pick(rng, [0.3, 0.15, 0.3, 0.08, 0.1, 0.07], k)
        subj = rng.integers(0, 4, k)
        owner = np.where(self.owner[cust] >= 0, self.owner[cust], rng.integers(0, len(D.OWNERS), k))
        satisfaction = np.where(rng.random(k) < 0.3, rng.integers(1, 6, k), -1)
        occurred = _seconds(day, rng)
        outcome = rng.integers(0, len(D.INTERACTION_OUTCOMES), k)

        def subjects(a: int, b: int) -> list[str]:
            out = []
            for c, s in zip(channel[a:b].tolist(), subj[a:b].tolist(), strict=True):
                options = D.INTERACTION_SUBJECTS[channels[c]]
                out.append(options[s % len(options)])
            return out

        self.w.insert(
            Interaction.__table__,
            k,
            {
                "id": np.arange(1, k + 1),
                "customer_id": cust + 1,
                "channel": _labels(channel, channels),
                "direction": _labels((rng.random(k) < 0.4).astype(int), ["outbound", "inbound"]),
                "occurred_at": _mapped(occurred, _datetimes),
                "operator": _labels(owner, D.OWNERS),
                "subject": subjects,
                "notes": _constant(None),
                "outcome": _labels(outcome, D.INTERACTION_OUTCOMES),
                "satisfaction": _labels(satisfaction, [None, 1, 2, 3, 4, 5]),
                "created_at": _mapped(occurred + 600, _datetimes),
            },
        )

    def _local(self, ordinal: int, hour: int) -> dt.datetime:
        """A local wall-clock time on a day, stored in UTC ("due today" is a local day)."""
        local = dt.datetime.combine(
            dt.date.fromordinal(ordinal), dt.time(hour), tzinfo=self.local_tz
        )
        return local.astimezone(dt.UTC)

    def write_followups(self) -> None:
        rng, n = self.rng, self.n
        open_c = np.flatnonzero(rng.random(n) < 0.10)
        done_c = np.flatnonzero(rng.random(n) < 0.10)
        k_open, k_done = len(open_c), len(done_c)
        when = _pick(rng, [0.35, 0.15, 0.5], k_open)  # overdue, today, upcoming
        offset = np.select(
            [when == 0, when == 1], [-rng.integers(1, 31, k_open), 0], rng.integers(1, 46, k_open)
        )
        snoozed = (when == 0) & (rng.random(k_open) < 0.1)
        done_day = self.anchor - rng.integers(1, 365, k_done)
        cust = np.concatenate([open_c, done_c])
        days = np.concatenate([self.anchor + offset, done_day])
        hours = rng.integers(9, 18, len(cust))
        status = np.concatenate([np.where(snoozed, 2, 0), np.ones(k_done, dtype=int)])
        due = [self._local(d, h) for d, h in zip(days.tolist(), hours.tolist(), strict=True)]
        owners = np.where(
            self.owner[cust] >= 0, self.owner[cust], rng.integers(0, len(D.OWNERS), len(cust))
        )
        reason = rng.integers(0, len(D.FOLLOWUP_REASONS), len(cust))
        k = len(cust)
        self.w.insert(
            FollowUp.__table__,
            k,
            {
                "id": np.arange(1, k + 1),
                "customer_id": cust + 1,
                "due_at": due,
                "owner": _labels(owners, D.OWNERS),
                "priority": rng.integers(1, 4, k),
                "status": _labels(status, ["open", "done", "snoozed"]),
                "reason": _labels(reason, D.FOLLOWUP_REASONS),
                "source": _constant("manual"),
                "snoozed_until": [
                    d + dt.timedelta(days=3) if s == 2 else None
                    for d, s in zip(due, status.tolist(), strict=True)
                ],
                "done_at": [
                    d + dt.timedelta(hours=2) if s == 1 else None
                    for d, s in zip(due, status.tolist(), strict=True)
                ],
                "created_at": [d - dt.timedelta(days=7) for d in due],
            },
        )

    def _order_of(self, cust: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A completed order of each customer (the first, or the second when there is one):
        its id and its day."""
        second = (self.second_id[cust] >= 0) & (self.rng.random(len(cust)) < 0.5)
        ids = np.where(second, self.second_id[cust], self.first_id[cust])
        return ids, np.where(second, self.second_day[cust], self.first_day[cust])

    def write_feedback(self) -> None:
        rng, n = self.rng, self.n
        buyers = self.valid_counts > 0
        complaint = np.flatnonzero(buyers & (rng.random(n) < 0.04))
        csat = np.flatnonzero(buyers & (rng.random(n) < 0.2))
        nps = np.flatnonzero(buyers & (rng.random(n) < 0.15))
        cust = np.concatenate([complaint, csat, nps])
        kind = np.concatenate(
            [np.zeros(len(complaint), int), np.ones(len(csat), int), np.full(len(nps), 2)]
        )
        k = len(cust)
        order_ids, order_days = self._order_of(cust)
        day = np.minimum(order_days + rng.integers(1, 11, k), self.anchor)
        created = _seconds(day, rng)
        is_c = kind == 0
        category = np.where(is_c, rng.integers(0, len(D.COMPLAINT_CATEGORIES), k), -1)
        severity = np.where(is_c, _pick(rng, [0.4, 0.35, 0.2, 0.05], k), -1)
        sla_days = np.array([5, 3, 2, 1])[np.maximum(severity, 0)]
        age = self.anchor - day
        # Old complaints are mostly closed; recent ones still open or being worked on.
        c_status = np.where(
            age > 30,
            _pick(rng, [0.02, 0.03, 0.25, 0.7], k),
            _pick(rng, [0.35, 0.3, 0.25, 0.1], k),
        )
        status = np.where(is_c, c_status, -1)
        resolved = np.where(status >= 2, created + rng.integers(3600, 5 * 86400, k), -1)
        closed = np.where(status == 3, resolved + 86400, -1)
        score = np.select(
            [kind == 1, kind == 2],
            [_pick(rng, [0.04, 0.06, 0.15, 0.35, 0.40], k) + 1, _pick(rng, NPS_WEIGHTS, k)],
            -1,
        )
        comment_pick = rng.integers(0, len(D.SURVEY_COMMENTS), k)
        with_comment = rng.random(k) < 0.4
        owners = rng.integers(0, len(D.OWNERS), k)
        cats = D.COMPLAINT_CATEGORIES
        # Surveys come from the after-sales call touchpoint (stage "retention").
        survey_tp = int(self.stage_touchpoints[3][0])

        def comments(a: int, b: int) -> list[str | None]:
            out: list[str | None] = []
            for i in range(a, b):
                if kind[i] == 0:
                    out.append(D.COMPLAINT_COMMENTS[cats[category[i]]])
                else:
                    out.append(D.SURVEY_COMMENTS[comment_pick[i]] if with_comment[i] else None)
            return out

        def optional_dt(arr: np.ndarray) -> Column:
            return lambda a, b: [
                dt.datetime.fromtimestamp(s, dt.UTC) if s >= 0 else None for s in arr[a:b].tolist()
            ]

        self.w.insert(
            Feedback.__table__,
            k,
            {
                "id": np.arange(1, k + 1),
                "customer_id": cust + 1,
                "kind": _labels(kind, ["complaint", "csat", "nps"]),
                "category": _labels(category, cats),
                "severity": _labels(severity, ["low", "medium", "high", "critical"]),
                "owner": _labels(np.where(is_c, owners, -1), D.OWNERS),
                "status": _labels(status, ["open", "in_progress", "resolved", "closed"]),
                "score": _labels(score, list(range(11))),
                "comment": comments,
                "resolution": _labels(np.where(status >= 2, 0, -1), ["已与客户沟通并处理"]),
                "sla_due_at": optional_dt(np.where(is_c, created + sla_days * 86400, -1)),
                "touchpoint_id": _labels(np.where(is_c, -1, 0), [survey_tp]),
                "order_id": order_ids,
                "extra": _constant({}),
                "created_at": _mapped(created, _datetimes),
                "resolved_at": optional_dt(resolved),
                "closed_at": optional_dt(closed),
            },
        )
        self.promoter = np.zeros(n, dtype=bool)
        self.promoter[cust[(kind == 2) & (score >= 9)]] = True

    def write_journey_events(self) -> None:
        """Awareness before registering, consideration at it, purchase at the first order,
        retention at the second, advocacy for the loyal head and NPS promoters."""
        rng, n = self.rng, self.n
        all_c = np.arange(n)
        bought = np.flatnonzero(self.first_id >= 0)
        repeat = np.flatnonzero(self.second_id >= 0)
        advocate = np.flatnonzero((self.second_id >= 0) & ((self.segment == 4) | self.promoter))
        parts = [
            (all_c, 0, self.registered - rng.integers(0, 30, n)),
            (all_c, 1, self.registered),
            (bought, 2, self.first_day[bought]),
            (repeat, 3, self.second_day[repeat]),
            (advocate, 4, np.minimum(self.second_day[advocate] + 30, self.anchor)),
        ]
        cust = np.concatenate([p[0] for p in parts])
        stage = np.concatenate([np.full(len(p[0]), p[1]) for p in parts])
        day = np.concatenate([p[2] for p in parts])
        order = np.lexsort((stage, cust))
        cust, stage, day = cust[order], stage[order], day[order]
        k = len(cust)
        tp = np.full(k, -1)
        for s, choices in enumerate(self.stage_touchpoints):
            mask = (stage == s) & (rng.random(k) < 0.7)
            tp[mask] = rng.choice(choices, size=int(mask.sum()))
        self.w.insert(
            StageEvent.__table__,
            k,
            {
                "id": np.arange(1, k + 1),
                "customer_id": cust + 1,
                "journey_id": _constant(1),
                "stage_id": stage + 1,
                "touchpoint_id": lambda a, b: [t if t > 0 else None for t in tp[a:b].tolist()],
                "entered_at": _mapped(_seconds(day, rng), _datetimes),
                "source": _constant("demo"),
            },
        )


NOTE_TEXTS = ["喜欢绿茶，不喝咖啡", "只在工作日联系", "老客户介绍", "对价格敏感，关注促销"]
# NPS answers lean positive, as in most consumer panels: P(score = 0 … 10).
NPS_WEIGHTS = [0.02, 0.01, 0.02, 0.03, 0.03, 0.06, 0.08, 0.15, 0.2, 0.2, 0.2]
