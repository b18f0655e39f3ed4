"""Classification: region, enterprise size band and purchase behaviour for every customer.

Rules come from ``tricrm_tui/config/classify.toml`` (the shipped defaults), overridden key by
key by ``classify.toml`` in the user's config folder. The results are written to the
customers table (``region``, ``size_band``, ``frequency_band``, ``favourite_category``,
``preferred_channel``, ``aov_band``) so lists, filters and breakdowns read them without
joining the order history.

Work goes in chunks of customers by id: the per-customer order aggregates (favourite
category and preferred channel: the most frequent, ties broken by spend) are GROUP BY
queries over the chunk's id range, read from the orders' covering per-customer index, with
the pick made in the database; the new values go back in one executemany per chunk.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tricrm_tui.db import pending
from tricrm_tui.db.bulk import driver_executemany
from tricrm_tui.i18n import _
from tricrm_tui.models import Customer, CustomerTag, Order, Product, ProductCategory
from tricrm_tui.services import audit
from tricrm_tui.services.collector import paused_during
from tricrm_tui.services.context import ServiceContext
from tricrm_tui.services.errors import InvalidInput
from tricrm_tui.services.normalize import clean_text
from tricrm_tui.services.regions import canonical_province, province_of_city, region_of

C = Customer.__table__.c
O = Order.__table__.c  # noqa: E741
P = Product.__table__.c
K = ProductCategory.__table__.c

CHUNK = 5000
CLASS_COLUMNS = (
    "region",
    "size_band",
    "frequency_band",
    "favourite_category",
    "preferred_channel",
    "aov_band",
)


@dataclass(frozen=True)
class Band:
    label: str
    below: Decimal | None


@dataclass
class ClassifyRules:
    regions: dict[str, str] = field(default_factory=dict)
    size_bands: list[Band] = field(default_factory=list)
    size_custom_fields: list[str] = field(default_factory=list)
    frequency_bands: list[Band] = field(default_factory=list)
    min_tenure_days: int = 90
    aov_bands: list[Band] = field(default_factory=list)
    source: list[str] = field(default_factory=list)

    @property
    def size_labels(self) -> set[str]:
        return {b.label for b in self.size_bands}


def user_config_path() -> Path:
    from tricrm_tui.locations import config_dir

    return config_dir() / "classify.toml"


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


class _Config:
    """Reads the merged rules, naming the file and the key in every complaint
    (``classify.toml: aov.bands[0].below must be a number``): a wrong value must fail when
    the file is loaded, in words an operator can act on, not as a Python error halfway
    through a classification."""

    def __init__(self, data: dict[str, Any], file: str) -> None:
        self.data = data
        self.file = file

    def fail(self, message: str, key: str) -> InvalidInput:
        return InvalidInput(message.format(file=self.file, key=key), field="config")

    def table(self, value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(_("{file}: {key} must be a table"), key)
        return value

    def items(self, value: Any, key: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(_("{file}: {key} must be a list"), key)
        return value

    def text(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(_("{file}: {key} must be text"), key)
        return value

    def number(self, value: Any, key: str) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.fail(_("{file}: {key} must be a number"), key)
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise self.fail(_("{file}: {key} must be a number"), key) from None
        if not number.is_finite():
            raise self.fail(_("{file}: {key} must be a number"), key)
        return number

    def whole(self, value: Any) -> Decimal | None:
        """``value`` as a whole number, or None."""
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() and number == number.to_integral_value() else None

    def bands(self, section: str) -> list[Band]:
        raw = self.table(self.data.get(section), section)
        bands = []
        for i, item in enumerate(self.items(raw.get("bands"), f"{section}.bands")):
            key = f"{section}.bands[{i}]"
            item = self.table(item, key)
            if "label" not in item:
                raise self.fail(_("{file}: {key} needs a label"), key)
            below = item.get("below")
            label = item["label"]
            if isinstance(label, int | float) and not isinstance(label, bool):
                label = str(label)  # a label written as a number (label = 1), as files had it
            label = self.text(label, f"{key}.label")
            bands.append(Band(label, None if below is None else self.number(below, f"{key}.below")))
        return bands

    def rules(self, sources: list[str]) -> ClassifyRules:
        regions = {}
        for prov, region in self.table(self.data.get("regions") or {}, "regions").items():
            region = self.text(region, f"regions.{prov}")
            regions[canonical_province(prov) or prov] = region
        size = self.table(self.data.get("size"), "size")
        fields = self.items(size.get("custom_fields", []), "size.custom_fields")
        custom = [self.text(f, f"size.custom_fields[{i}]") for i, f in enumerate(fields)]
        frequency = self.table(self.data.get("frequency"), "frequency")
        # A whole number however written (90, 90.0, "90"), as files that loaded before had it.
        raw_tenure = frequency.get("min_tenure_days", 90)
        number = None if isinstance(raw_tenure, bool) else self.whole(raw_tenure)
        tenure = int(number) if number is not None else 0
        if number is None or tenure < 1:
            # The tenure divides the order count: 0 would fail every classification.
            raise self.fail(
                _("{file}: {key} must be a whole number of at least 1"),
                "frequency.min_tenure_days",
            )
        return ClassifyRules(
            regions=regions,
            size_bands=self.bands("size"),
            size_custom_fields=custom,
            frequency_bands=self.bands("frequency"),
            min_tenure_days=tenure,
            aov_bands=self.bands("aov"),
            source=sources,
        )


def load_rules(path: Path | None = None) -> ClassifyRules:
    """The shipped defaults, overridden by the user's file (or ``path``) when present."""
    text = resources.files("tricrm_tui.config").joinpath("classify.toml").read_text("utf-8")
    data = tomllib.loads(text)
    sources = ["(built-in defaults)"]
    user = path or user_config_path()
    if user.is_file():
        try:
            data = _merge(data, tomllib.loads(user.read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInput(
                _("cannot read {path}: {error}").format(path=user, error=exc), field="config"
            ) from exc
        sources.append(str(user))
    return _Config(data, str(user) if user.is_file() else "classify.toml").rules(sources)


def rules_or_none() -> ClassifyRules | None:
    """The rules, or None when the user's ``classify.toml`` cannot be read: adding, editing
    and importing customers go on without classifying them, and the classification (an
    import's follow-up, ``tricrm classify``) says what is wrong with the file."""
    try:
        return load_rules()
    except InvalidInput:
        return None


def band_for(value: Decimal | int | float, bands: list[Band]) -> str | None:
    v = Decimal(str(value))
    for band in bands:
        if band.below is None or v < band.below:
            return band.label
    return None


_FIRST_NUMBER = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(万|千|[wk](?![a-z]))?", re.IGNORECASE)
_MULTIPLIERS = {"万": 10_000, "w": 10_000, "千": 1_000, "k": 1_000}


def employee_count(text: str | None) -> Decimal | None:
    """The first number in a size text, with its multiplier: ``1万人以上`` → 10000,
    ``2.5万人`` → 25000, ``3.5k`` → 3500, ``100-299人`` → 100; None without a number."""
    m = _FIRST_NUMBER.search(text or "")
    if not m:
        return None
    count = Decimal(m.group(1).replace(",", ""))
    return count * _MULTIPLIERS.get((m.group(2) or "").lower(), 1)


def size_band_for(
    kind: str, size_text: str | None, custom: dict[str, Any] | None, rules: ClassifyRules
) -> str | None:
    """Enterprises: the band for their employee count; a band label already set is kept;
    text without a number is left as it is. Individuals: unchanged (None)."""
    if kind != "enterprise":
        return size_text
    if size_text and size_text in rules.size_labels:
        return size_text
    candidates = [size_text] + [str((custom or {}).get(k) or "") for k in rules.size_custom_fields]
    for text in candidates:
        count = employee_count(text)
        if count is not None:
            return band_for(count, rules.size_bands)
    return size_text


def size_text_kept(given: str | None, band: str | None) -> str | None:
    """The size as given, kept beside its band when it says more than the band
    (``1万人以上`` beside ``large``); None when it is the band itself. Classification reads
    it before the band, so a change of the band rules re-bands what was given."""
    return given if given and given != band else None


def stored_size(
    given: str | None,
    kind: str,
    custom: dict[str, Any] | None,
    rules: ClassifyRules | None,
    stored: tuple[str | None, str | None] = (None, None),
) -> tuple[str | None, str | None]:
    """The (band, size as given) that a size given for a customer is stored as, beside the
    ``stored`` pair: what an edit and an import both store, so "2000人" again is no change.

    Where the size is not banded (a person, or ``classify.toml`` unreadable), the size a
    customer shows again (a person's text kept from a time as an enterprise, as an export
    writes it) is no change either, rather than the band replaced by the text."""
    band_now, text_now = stored
    banded = rules is not None and kind == "enterprise"
    if not banded and given is not None and given == (text_now or band_now):
        return band_now, text_now
    band = given if rules is None else size_band_for(kind, given, custom, rules)
    return band, size_text_kept(given, band)


def frequency_band_for(
    order_count: int, first_order: dt.date | None, today: dt.date, rules: ClassifyRules
) -> str:
    if order_count <= 0:
        return "no_orders"
    if order_count == 1:
        return "one_time"
    days = max((today - first_order).days if first_order else 0, rules.min_tenure_days)
    per_year = Decimal(order_count) * Decimal(365) / Decimal(days)
    return band_for(per_year, rules.frequency_bands) or "frequent"


def aov_band_for(order_count: int, total: Decimal, rules: ClassifyRules) -> str | None:
    if order_count <= 0:
        return None
    return band_for(Decimal(total) / order_count, rules.aov_bands)


BEHAVIOUR_COLUMNS = ("frequency_band", "favourite_category", "preferred_channel", "aov_band")
"""The classes orders change; region and size come from the customer's own fields."""


def _top_in_sql(session: Session, query: sa.Select, key: Any, span: Any) -> dict[int, Any]:
    """customer → the key with most orders, then most spend, then the smallest key, picked by
    ``ROW_NUMBER()`` in the database, without sending every (customer, key) group to Python.
    Keys compare by code point on both backends (PostgreSQL's ``"C"`` collation, SQLite's
    binary one), as Python compares strings. Spend compares in cents: PostgreSQL sums
    ``numeric`` exactly; SQLite sums the REAL it stores, so its sum is rounded to two places
    first (0.10 + 0.20 and 0.15 + 0.15 are the same spend, though not the same double), as
    the Python pick did with the Decimal the driver returned."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    ordered = sa.collate(key, "C") if postgresql else key
    spend = sa.func.coalesce(sa.func.sum(O.amount), 0)
    rank = (
        sa.func.row_number()
        .over(
            partition_by=O.customer_id,
            order_by=(
                sa.func.count().desc(),
                (spend if postgresql else sa.func.round(spend, 2)).desc(),
                ordered,
            ),
        )
        .label("rank")
    )
    groups = query.add_columns(rank).where(span, key.is_not(None)).group_by(O.customer_id, key)
    sub = groups.subquery()
    return dict(
        session.execute(sa.select(sub.c.customer_id, sub.c.key).where(sub.c.rank == 1)).all()
    )


def _picks(session: Session, rows: Sequence[Any]) -> tuple[dict[int, Any], dict[int, Any]]:
    """(favourite category, preferred channel) of the customers in ``rows``' id range, not
    counting cancelled orders. Both queries read ``ix_orders_customer_date`` alone (it
    carries status, amount, channel, category and product: migration 0004)."""
    span = sa.and_(
        O.customer_id >= rows[0].id, O.customer_id <= rows[-1].id, O.status != "cancelled"
    )
    cat = sa.func.coalesce(O.category_id, P.category_id)
    categories = _top_in_sql(
        session,
        sa.select(O.customer_id, K.name.label("key")).select_from(
            Order.__table__.outerjoin(Product.__table__, P.id == O.product_id).join(
                ProductCategory.__table__, K.id == cat
            )
        ),
        K.name,
        span,
    )
    channels = _top_in_sql(
        session, sa.select(O.customer_id, O.channel.label("key")), O.channel, span
    )
    return categories, channels


def profile_classes(
    kind: str,
    province: str | None,
    city: str | None,
    size_band: str | None,
    custom_fields: dict[str, Any] | None,
    rules: ClassifyRules,
    size_text: str | None = None,
) -> dict[str, Any]:
    """The classes a customer's own fields decide: region and size band, with the size as
    given kept beside the band. The region comes from the province, or from the city when
    the province is empty or not one tricrm knows (未知, 中国); the band from the size as
    given, else the stored band. A size stored as it was given (a person's ``300人``, or
    one kept while ``classify.toml`` could not be read) stays as ``size_text`` once banded."""
    if kind == "enterprise":
        given = size_text or size_band
        band = size_band_for(kind, given, custom_fields, rules)
        size_text = size_text_kept(given, band)
    else:
        band = size_band  # kept as it is, for a change of kind back
    return {
        "region": region_of(province, rules.regions)
        or region_of(province_of_city(city), rules.regions),
        "size_band": band,
        "size_text": size_text,
    }


def new_customer_classes(
    row: dict[str, Any], today: dt.date, rules: ClassifyRules
) -> dict[str, Any]:
    """Every class of a customer about to be inserted, who has no orders yet: what
    :func:`classify_session` would give the row once stored. A bulk customer import sets
    them with the row, rather than insert 100k rows and then update each (1.8 s of a 100k
    import on SQLite; on PostgreSQL every update writes a new version of the row).
    ``size_band`` holds the size as given; ``size_text`` keeps it when it says more than
    its band."""
    profile = profile_classes(
        row["kind"], row["province"], row["city"], row["size_band"],
        row.get("custom_fields"), rules, row.get("size_text"),
    )  # fmt: skip
    return {
        **profile,
        "frequency_band": frequency_band_for(0, None, today, rules),
        "favourite_category": None,
        "preferred_channel": None,
        "aov_band": aov_band_for(0, Decimal(0), rules),
    }  # fmt: skip


def _chunk_changes(
    session: Session,
    rows: Sequence[Any],
    today: dt.date,
    rules: ClassifyRules,
    behaviour_only: bool = False,
) -> list[dict[str, Any]]:
    """The classes of one chunk of customers (only the behaviour classes when
    ``behaviour_only``); only the customers whose classes change."""
    categories, channels = _picks(session, rows)
    out = []
    for r in rows:
        values = {
            "frequency_band": frequency_band_for(r.order_count, r.first_order_on, today, rules),
            "favourite_category": categories.get(r.id),
            "preferred_channel": channels.get(r.id),
            "aov_band": aov_band_for(r.order_count, Decimal(r.total_spent or 0), rules),
        }
        if not behaviour_only:
            values.update(
                profile_classes(
                    r.kind, r.province, r.city, r.size_band, r.custom_fields, rules, r.size_text
                )
            )
        if any(getattr(r, k) != v for k, v in values.items()):
            out.append({"b_id": r.id, **values})
    return out


def classify_behaviour_session(
    session: Session, today: dt.date, customer_ids: Iterable[int], rules: ClassifyRules
) -> tuple[int, int]:
    """Refresh only the behaviour classes (:data:`BEHAVIOUR_COLUMNS`) of the given customers:
    what an order import changes. Region and size stay as the last full classification left
    them, and custom fields are not read; the changed rows go through the driver's own
    executemany; (seen, changed)."""
    wanted = sorted(set(customer_ids))
    cols = [C.id, C.order_count, C.total_spent, C.first_order_on]
    cols += [C[k] for k in BEHAVIOUR_COLUMNS]
    return _write_chunks(
        session, cols, BEHAVIOUR_COLUMNS, wanted,
        lambda rows: _chunk_changes(session, rows, today, rules, behaviour_only=True),
    )  # fmt: skip


@dataclass(frozen=True)
class ClassifyResult:
    customers: int
    changed: int
    rules: list[str]


def _chunks(
    session: Session, query: sa.Select, wanted: list[int] | None
) -> Iterable[Sequence[Any]]:
    """Rows of ``query`` in id order, CHUNK at a time (keyset paging, or the wanted ids).

    ``wanted`` (sorted) goes CHUNK ids at a time. Where those ids are dense — an import's own
    customers, most of the base — the chunk is read as an id range and the few rows not
    wanted are dropped here: a primary-key range reads at most twice the rows, where an
    ``IN`` list of 5,000 parameters is bound, sorted and probed one id at a time. Sparse
    ids keep the ``IN`` list. Either way the same rows come out, in the same chunks."""
    if wanted is not None:
        for i in range(0, len(wanted), CHUNK):
            part = wanted[i : i + CHUNK]
            if part[-1] - part[0] < 2 * len(part):
                span = query.where(C.id >= part[0], C.id <= part[-1]).order_by(C.id)
                keep = set(part)
                rows = [r for r in session.execute(span) if r.id in keep]
            else:
                rows = list(session.execute(query.where(C.id.in_(part)).order_by(C.id)))
            if rows:
                yield rows
        return
    last = 0
    while True:
        rows = list(session.execute(query.where(C.id > last).order_by(C.id).limit(CHUNK)))
        if not rows:
            return
        yield rows
        last = rows[-1].id


def classify_session(
    session: Session,
    today: dt.date,
    customer_ids: Iterable[int] | None = None,
    rules: ClassifyRules | None = None,
) -> tuple[int, int]:
    """Classify inside the caller's transaction (imports use this); (seen, changed).

    Custom fields are read for enterprises only: only their size band may come from one, and
    decoding every customer's JSON cost a sixth of the classification after a customer
    import. The changed rows go through the driver's own executemany."""
    rules = rules or load_rules()
    wanted = None if customer_ids is None else sorted(set(customer_ids))
    custom = sa.case((C.kind == "enterprise", C.custom_fields), else_=sa.null())
    cols = [C.id, C.kind, C.province, C.city, C.size_band, C.size_text]
    cols.append(custom.label("custom_fields"))
    cols += [C.order_count, C.total_spent, C.first_order_on]
    cols += [C[k] for k in CLASS_COLUMNS if k != "size_band"]
    return _write_chunks(
        session, cols, (*CLASS_COLUMNS, "size_text"), wanted,
        lambda rows: _chunk_changes(session, rows, today, rules),
    )  # fmt: skip


def _write_chunks(
    session: Session,
    cols: list[Any],
    columns: Sequence[str],
    wanted: list[int] | None,
    changes: Callable[[Sequence[Any]], list[dict[str, Any]]],
) -> tuple[int, int]:
    """Read the live customers (``wanted`` or all) a chunk at a time, work out each chunk's
    changed classes with ``changes`` and write them in one executemany; (seen, changed)."""
    update = (
        sa.update(Customer.__table__)
        .where(C.id == sa.bindparam("b_id"))
        .values({k: sa.bindparam(k) for k in columns})
    )
    seen = changed = 0
    for rows in _chunks(session, sa.select(*cols).where(C.deleted_at.is_(None)), wanted):
        updates = changes(rows)
        driver_executemany(session, update, updates)
        seen += len(rows)
        changed += len(updates)
    return seen, changed


@paused_during
def classify_customers(
    ctx: ServiceContext, customer_ids: Iterable[int] | None = None, *, behaviour_only: bool = False
) -> ClassifyResult:
    """Refresh the classification of the given customers (all when None); audited once.

    ``behaviour_only`` (for given customers, after their orders changed) refreshes only the
    classes orders decide (:func:`classify_behaviour_session`)."""
    rules = load_rules()
    with ctx.transaction() as s:
        return classify_in(s, ctx, customer_ids, rules, behaviour_only=behaviour_only)


def classify_in(
    session: Session,
    ctx: ServiceContext,
    customer_ids: Iterable[int] | None,
    rules: ClassifyRules,
    *,
    behaviour_only: bool = False,
) -> ClassifyResult:
    """:func:`classify_customers` inside the caller's transaction, so the classes change
    with what changed them (an import's undo)."""
    ids = None if customer_ids is None else list(customer_ids)
    owed = pending.count(session, pending.CLASSIFY) if ids is None else None
    if behaviour_only and ids is not None:
        seen, changed = classify_behaviour_session(session, ctx.today(), ids, rules)
    else:
        seen, changed = classify_session(session, ctx.today(), ids, rules)
    if ids is None:
        pending.settle(session, pending.CLASSIFY, owed)
    audit.record(
        session,
        ctx.actor,
        "classification",
        "all" if ids is None else f"{len(ids)} customers",
        "refresh",
        None,
        {"customers": seen, "changed": changed, "rules": rules.source},
    )
    return ClassifyResult(customers=seen, changed=changed, rules=rules.source)


# --- tags ------------------------------------------------------------------------------


TAG_MAX_LENGTH = 64


def checked_tags(tags: Iterable[str] | str) -> list[str]:
    """Tags cleaned, sorted and without repeats; one over 64 characters is refused.

    Shared by ``customers tag`` and a customer import's tags column."""
    from tricrm_tui.services.customers import _clean_tags

    wanted = _clean_tags(tags)
    for tag in wanted:
        if len(tag) > TAG_MAX_LENGTH:
            raise InvalidInput(
                _("a tag is at most 64 characters: {tag}").format(tag=tag), field="tags"
            )
    return wanted


def insert_tags(session: Session, added: Sequence[tuple[int, str]]) -> None:
    """Store (customer id, tag) pairs the customers do not have yet, in one executemany."""
    if added:
        session.execute(
            sa.insert(CustomerTag.__table__), [{"customer_id": c, "tag": t} for c, t in added]
        )


def _tag_change(ctx: ServiceContext, code: str, tags: list[str], add: bool) -> list[str]:
    from tricrm_tui.db.search import search_text_for
    from tricrm_tui.services.customers import _load_row, _tags_for

    # Taking a tag off needs no check of its text: a tag is removed as the customer holds it.
    wanted = checked_tags(tags) if add else sorted({clean_text(t) for t in tags if clean_text(t)})
    if not wanted:
        raise InvalidInput(_("give at least one tag"), field="tags")
    T = CustomerTag.__table__
    with ctx.transaction() as s:
        row = _load_row(s, code)
        old = _tags_for(s, [row.id])[row.id]
        new = sorted(set(old) | set(wanted)) if add else [t for t in old if t not in wanted]
        if new == old:
            return old
        if add:
            insert_tags(s, [(row.id, t) for t in new if t not in old])
        else:
            s.execute(sa.delete(T).where(T.c.customer_id == row.id, T.c.tag.in_(wanted)))
        s.execute(
            sa.update(Customer.__table__)
            .where(C.id == row.id)
            .values(
                search_text=search_text_for(
                    row.code, row.name, row.phone, row.email, new, row.notes
                ),
                updated_at=ctx.now(),
                version=row.version + 1,
            )
        )
        audit.record(
            s, ctx.actor, "customer", code, "tag" if add else "untag", {"tags": old}, {"tags": new}
        )
    return new


def tag_customer(ctx: ServiceContext, code: str, tags: list[str]) -> list[str]:
    """Add tags (kept sorted, no repeats); returns the customer's tags."""
    return _tag_change(ctx, code, tags, add=True)


def untag_customer(ctx: ServiceContext, code: str, tags: list[str]) -> list[str]:
    return _tag_change(ctx, code, tags, add=False)
