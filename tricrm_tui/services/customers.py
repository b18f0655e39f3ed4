"""Customers: list, search, show, add, edit, delete. Plain dataclasses out, audited writes.

Lists page in the database (LIMIT/OFFSET over an indexed sort key, ``id`` as tie-breaker)
with a separate count, and search goes through :mod:`tricrm_tui.db.search`, so a page costs
the same at 100 or 100,000 customers.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tricrm_tui.db.search import customer_match, search_text_for
from tricrm_tui.i18n import _
from tricrm_tui.models import CONSENT_CHANNELS, Customer, CustomerTag
from tricrm_tui.services import audit, classify
from tricrm_tui.services.context import ServiceContext
from tricrm_tui.services.errors import Conflict, InvalidInput, NotFound
from tricrm_tui.services.normalize import (
    clean_text,
    normalise_code,
    normalise_email,
    normalise_kind,
    normalise_phone,
    parse_date,
)
from tricrm_tui.services.paging import Page, clamp_limit

C = Customer.__table__.c
T = CustomerTag.__table__.c


@dataclass(frozen=True)
class CustomerRecord:
    """Everything stored about one customer, under the names the CLI's JSON uses."""

    id: int
    code: str
    name: str
    kind: str
    industry: str | None
    size: str | None
    size_text: str | None
    province: str | None
    city: str | None
    address: str | None
    phone: str | None
    email: str | None
    birthday: dt.date | None
    registered: dt.date | None
    source: str | None
    owner: str | None
    tags: list[str]
    notes: str | None
    custom_fields: dict[str, Any]
    consent: dict[str, bool]
    region: str | None
    frequency_band: str | None
    favourite_category: str | None
    preferred_channel: str | None
    aov_band: str | None
    order_count: int
    total_spent: Decimal
    first_order: dt.date | None
    last_order: dt.date | None
    rfm_segment: str | None
    value_tier: str | None
    lifecycle: str | None
    member_level: str | None
    points: int
    merged_into: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("id")
        return d


# Public field name → column, for the fields people set and sort by.
FIELD_COLUMNS = {
    "code": "code",
    "name": "name",
    "kind": "kind",
    "industry": "industry",
    "size": "size_band",
    "province": "province",
    "city": "city",
    "address": "address",
    "phone": "phone",
    "email": "email",
    "birthday": "birthday",
    "registered": "registered_on",
    "source": "source_channel",
    "owner": "owner",
    "notes": "notes",
}
EDITABLE = tuple(FIELD_COLUMNS) + ("tags", "custom_fields", "consent")
PROFILE_FIELDS = {"kind", "province", "city", "size_band", "size_text", "custom_fields"}
"""The columns a customer's region and size band are classified from."""

SORT_COLUMNS = {
    "code": C.code,
    "name": C.name,
    "kind": C.kind,
    "industry": C.industry,
    "province": C.province,
    "city": C.city,
    "registered": C.registered_on,
    "owner": C.owner,
    "orders": C.order_count,
    "spent": C.total_spent,
    "last_order": C.last_order_on,
    "tier": C.value_tier,
    "segment": C.rfm_segment,
    "lifecycle": C.lifecycle,
    "created": C.created_at,
    "updated": C.updated_at,
}


def _record(row: Any, tags: list[str], merged_code: str | None = None) -> CustomerRecord:
    return CustomerRecord(
        id=row.id,
        code=row.code,
        name=row.name,
        kind=row.kind,
        industry=row.industry,
        # As ``size:`` and the breakdown class it (``filters.SIZE_CLASS``): a person is
        # ``individual`` whatever band they kept from a time as an enterprise.
        size="individual" if row.kind == "individual" else row.size_band,
        size_text=row.size_text or (row.size_band if row.kind == "individual" else None),
        province=row.province,
        city=row.city,
        address=row.address,
        phone=row.phone,
        email=row.email,
        birthday=row.birthday,
        registered=row.registered_on,
        source=row.source_channel,
        owner=row.owner,
        tags=tags,
        notes=row.notes,
        custom_fields=dict(row.custom_fields or {}),
        consent={ch: bool(getattr(row, f"consent_{ch}")) for ch in CONSENT_CHANNELS},
        region=row.region,
        frequency_band=row.frequency_band,
        favourite_category=row.favourite_category,
        preferred_channel=row.preferred_channel,
        aov_band=row.aov_band,
        order_count=row.order_count,
        total_spent=Decimal(row.total_spent or 0).quantize(Decimal("0.01")),
        first_order=row.first_order_on,
        last_order=row.last_order_on,
        rfm_segment=row.rfm_segment,
        value_tier=row.value_tier,
        lifecycle=row.lifecycle,
        member_level=row.member_level,
        points=row.points_balance,
        merged_into=merged_code,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
    )


def _tags_for(session: Session, ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        q = sa.select(T.customer_id, T.tag).where(T.customer_id.in_(ids)).order_by(T.tag)
        for cid, tag in session.execute(q):
            out[cid].append(tag)
    return out


def _select_customers() -> sa.Select:
    merged = Customer.__table__.alias("merged")
    return sa.select(Customer.__table__, merged.c.code.label("merged_code")).outerjoin(
        merged, merged.c.id == C.merged_into_id
    )


def active_condition() -> sa.ColumnElement[bool]:
    """Customers that lists show: not deleted and not merged into another."""
    return sa.and_(C.deleted_at.is_(None), C.merged_into_id.is_(None))


def list_order(sort: str, descending: bool = False) -> list[sa.ColumnElement[Any]]:
    """ORDER BY for a public sort name (``-name`` = descending), ``id`` breaking ties.

    Empty values come last either way, on both backends: SQLite put them first going up and
    PostgreSQL first going down, so ``--sort -last_order`` began with the customers who
    never ordered on one and with the latest buyers on the other."""
    key = sort.lstrip("-")
    if sort.startswith("-"):
        descending = True
    col = SORT_COLUMNS.get(key)
    if col is None:
        raise InvalidInput(
            _("cannot sort by {field}; choose one of: {choices}").format(
                field=key, choices=", ".join(SORT_COLUMNS)
            ),
            field="sort",
        )
    first = col.desc() if descending else col.asc()
    if col.nullable:
        first = first.nulls_last()
    return [first, C.id.desc() if descending else C.id.asc()]


def list_conditions(
    ctx: ServiceContext,
    *,
    search: str | None = None,
    where: sa.ColumnElement[bool] | None = None,
    include_merged: bool = False,
) -> list[sa.ColumnElement[bool]]:
    """The WHERE of a customer list: active customers, the search, the caller's condition."""
    conds: list[sa.ColumnElement[bool]] = [] if include_merged else [active_condition()]
    if search:
        conds.append(customer_match(ctx.db.backend, search, C.id, C.search_text))
    if where is not None:
        conds.append(where)
    return conds


SEARCH_COUNT_CAP = 1000
"""A search counts its matches up to here and then says "1,000+" (``Page.total_capped``).

Counting every customer whose text contains "1" or "王" is a scan of the table on each
keystroke; a bounded count stops at the first 1,001 matches (raw SQLite: 69 → 8 ms for 王).
A page beyond the cap raises the cap to its own end, so "rows 2,001–2,050" is never said
to be "of 1,000+"."""


def count_matches(
    session: Session,
    conds: list[sa.ColumnElement[bool]],
    *,
    searching: bool,
    all_active: bool,
    page_end: int,
) -> tuple[int, bool]:
    """How many customers match ``conds``: ``(count, False)``; for a search, ``(cap, True)``
    when there are more than the cap (:data:`SEARCH_COUNT_CAP`, or ``page_end`` if the page
    asked for lies beyond it).

    ``all_active`` says the conditions are just :func:`active_condition`: the count then
    reads the partial index ``ix_customers_active_code``. SQLite considers a partial index
    for ``count(*)`` only when the query has a term on its columns, hence ``code >= ''``
    (true of every code); PostgreSQL finds it by itself.
    """
    table = Customer.__table__
    where = list(conds)
    if all_active and session.get_bind().dialect.name == "sqlite":
        where.append(C.code >= "")
    cap = max(SEARCH_COUNT_CAP, page_end) if searching else None
    if cap is None:
        count = sa.select(sa.func.count()).select_from(table).where(*where)
        return session.execute(count).scalar_one(), False
    first = sa.select(sa.literal(1)).select_from(table).where(*where).limit(cap + 1).subquery()
    found = session.execute(sa.select(sa.func.count()).select_from(first)).scalar_one()
    return (cap, True) if found > cap else (found, False)


def page_of(
    columns: sa.Select,
    conds: list[sa.ColumnElement[bool]],
    order: list[sa.ColumnElement[Any]],
    limit: int,
    offset: int,
) -> sa.Select:
    """``columns`` for one page: the page's ids are chosen first, then only their rows read.

    The offset walk then reads just the sort index (``code, id`` of the active customers,
    say) instead of fetching every skipped row, and the joins of ``columns`` run for the
    page's rows only. Same rows, same order as ``… ORDER BY … LIMIT … OFFSET …``.
    """
    ids = (
        sa.select(C.id)
        .where(*conds)
        .order_by(*order)
        .limit(limit)
        .offset(offset)
        .correlate(None)  # its own scan of customers, not the outer query's row
    )
    return columns.where(C.id.in_(ids.scalar_subquery())).order_by(*order)


def list_customers(
    ctx: ServiceContext,
    *,
    search: str | None = None,
    where: sa.ColumnElement[bool] | None = None,
    sort: str = "code",
    descending: bool = False,
    limit: int = 50,
    offset: int = 0,
    include_merged: bool = False,
) -> Page[CustomerRecord]:
    """One page of customers matching ``search`` (code, name, phone digits, email, tags, notes).

    A search's total is capped (:data:`SEARCH_COUNT_CAP`, ``Page.total_capped``); a list
    without one is counted exactly."""
    order = list_order(sort, descending)
    conds = list_conditions(ctx, search=search, where=where, include_merged=include_merged)
    limit = clamp_limit(limit)
    with ctx.session() as s:
        total, capped = count_matches(
            s,
            conds,
            searching=bool(search),
            all_active=not (search or where is not None or include_merged),
            page_end=offset + limit,
        )
        rows = s.execute(page_of(_select_customers(), conds, order, limit, offset)).all()
        tags = _tags_for(s, [r.id for r in rows])
    return Page(
        items=[_record(r, tags[r.id], r.merged_code) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
        total_capped=capped,
    )


def find_row(session: Session, code: str) -> Any | None:
    """Customer ``code``'s row, deleted or not, with ``merged_code``: the code of the
    customer it was merged into (one statement, for messages naming it)."""
    return session.execute(_select_customers().where(C.code == code)).first()


def _load_row(session: Session, code: str) -> Any:
    row = find_row(session, code)
    if row is None or row.deleted_at is not None:
        raise NotFound(_("no customer with code {code}").format(code=code))
    return row


def get_customer(ctx: ServiceContext, code: str) -> CustomerRecord:
    with ctx.session() as s:
        row = _load_row(s, code)
        return _record(row, _tags_for(s, [row.id])[row.id], row.merged_code)


def customer_id_for(session: Session, code: str) -> int:
    cid = session.execute(
        sa.select(C.id).where(C.code == code, C.deleted_at.is_(None))
    ).scalar_one_or_none()
    if cid is None:
        raise NotFound(_("no customer with code {code}").format(code=code))
    return cid


TAG_SEPARATORS = re.compile(r"[,;，；、|]")
"""What separates tags in one text (``--tags "vip,新客"``, a file's tags column, an
export's): so no tag may hold one, or an export of it would import back as several."""


def _clean_tags(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        items = TAG_SEPARATORS.split(value)
    else:
        items = list(value)
        for t in items:
            if TAG_SEPARATORS.search(str(t)):
                raise InvalidInput(
                    _("a tag cannot hold , ; ， ； 、 or | (they separate tags): {tag}").format(
                        tag=t
                    ),
                    field="tags",
                )
    return sorted({clean_text(t) for t in items if clean_text(t)})


def validate_fields(data: dict[str, Any], *, region: str = "CN") -> dict[str, Any]:
    """Public field names → clean column values; raises InvalidInput naming the field."""
    unknown = set(data) - set(EDITABLE)
    if unknown:
        raise InvalidInput(
            _("unknown field: {field}").format(field=", ".join(sorted(unknown))),
            field=sorted(unknown)[0],
        )
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("tags", "custom_fields", "consent"):
            continue
        col = FIELD_COLUMNS[key]
        text = clean_text(value) if value is not None else ""
        if key == "code":
            out[col] = normalise_code(value)
        elif key == "name":
            if not text:
                raise InvalidInput(_("name is required"), field="name", code="missing_required")
            if len(text) > 200:
                raise InvalidInput(_("name is longer than 200 characters"), field="name")
            out[col] = text
        elif not text:
            out[col] = "individual" if key == "kind" else None
        elif key == "kind":
            out[col] = normalise_kind(text)
        elif key == "phone":
            out[col] = normalise_phone(text, region)
        elif key == "email":
            out[col] = normalise_email(text)
        elif key in ("birthday", "registered"):
            day = parse_date(value, field=key)
            if key == "birthday" and day > dt.date.today():
                raise InvalidInput(_("birthday is in the future"), field="birthday")
            out[col] = day
        else:
            # As an import refuses it: PostgreSQL refused the row with a raw error (SQLite
            # kept it whole), and a size as given is stored beside its band as it came.
            limit = C[col].type.length
            if len(text) > limit:
                raise InvalidInput(
                    _("{field} is longer than {n} characters").format(field=key, n=limit),
                    field=key,
                )
            out[col] = text
    if "custom_fields" in data:
        cf = data["custom_fields"] or {}
        if not isinstance(cf, dict):
            raise InvalidInput(_("custom fields must be a mapping"), field="custom_fields")
        out["custom_fields"] = cf
    if "consent" in data:
        for ch, allowed in (data["consent"] or {}).items():
            if ch not in CONSENT_CHANNELS:
                raise InvalidInput(
                    _("unknown consent channel: {channel}").format(channel=ch), field="consent"
                )
            out[f"consent_{ch}"] = bool(allowed)
    return out


def _public(values: dict[str, Any]) -> dict[str, Any]:
    back = {v: k for k, v in FIELD_COLUMNS.items()}
    return {back.get(k, k): v for k, v in values.items() if k != "search_text"}


def add_customer(ctx: ServiceContext, data: dict[str, Any]) -> CustomerRecord:
    if not data.get("code"):
        raise InvalidInput(_("customer code is required"), field="code", code="missing_required")
    if not data.get("name"):
        raise InvalidInput(_("name is required"), field="name", code="missing_required")
    values = validate_fields(data)
    tags = _clean_tags(data.get("tags"))
    now = ctx.now()
    values.setdefault("kind", "individual")
    values.setdefault("registered_on", ctx.today())
    values.setdefault("owner", ctx.actor.username)
    values.update(created_at=now, updated_at=now, version=1)
    # Classified at once, as an import classifies its new customers, rather than left
    # without a region until the next ``tricrm classify``.
    rules = classify.rules_or_none()
    if rules is not None:
        row = {c: values.get(c) for c in PROFILE_FIELDS}
        values.update(classify.new_customer_classes(row, ctx.today(), rules))
    values["search_text"] = search_text_for(
        values["code"],
        values["name"],
        values.get("phone"),
        values.get("email"),
        tags,
        values.get("notes"),
    )
    with ctx.transaction() as s:
        exists = s.execute(sa.select(C.id).where(C.code == values["code"])).scalar_one_or_none()
        if exists is not None:
            raise InvalidInput(
                _("a customer with code {code} already exists").format(code=values["code"]),
                field="code",
                code="duplicate_key",
            )
        cid = s.execute(sa.insert(Customer.__table__).values(**values)).inserted_primary_key[0]
        if tags:
            s.execute(
                sa.insert(CustomerTag.__table__), [{"customer_id": cid, "tag": t} for t in tags]
            )
        audit.record(
            s,
            ctx.actor,
            "customer",
            values["code"],
            "create",
            None,
            {**_public(values), "tags": tags},
        )
    return get_customer(ctx, values["code"])


def edit_customer(
    ctx: ServiceContext,
    code: str,
    changes: dict[str, Any],
    *,
    expected_version: int | None = None,
) -> CustomerRecord:
    """Apply ``changes``; with ``expected_version``, refuse if someone saved in between."""
    values = validate_fields(changes)
    with ctx.transaction() as s:
        row = _load_row(s, code)
        if expected_version is not None and row.version != expected_version:
            raise _stale(s, code, expected_version, row.version)
        # The rules (two TOML files) are read only for an edit of what they classify.
        rules = classify.rules_or_none() if PROFILE_FIELDS & values.keys() else None
        if "size_band" in values:
            # Stored as its band, as classification would store it, with the size as
            # given beside it when it says more: "2000人" again is no change at all.
            values["size_band"], values["size_text"] = classify.stored_size(
                values["size_band"],
                values.get("kind", row.kind),
                values.get("custom_fields", row.custom_fields),
                rules,
                (row.size_band, row.size_text),
            )
        old_tags = _tags_for(s, [row.id])[row.id]
        new_tags = _clean_tags(changes["tags"]) if "tags" in changes else old_tags
        before = {k: getattr(row, k) for k in values if getattr(row, k) != values[k]}
        after = {k: values[k] for k in before}
        if new_tags != old_tags:
            before["tags"], after["tags"] = old_tags, new_tags
        if not after:
            return _record(row, old_tags, row.merged_code)
        if "code" in after:
            clash = s.execute(sa.select(C.id).where(C.code == after["code"])).scalar_one_or_none()
            if clash is not None:
                raise InvalidInput(
                    _("a customer with code {code} already exists").format(code=after["code"]),
                    field="code",
                    code="duplicate_key",
                )
        merged = {k: getattr(row, k) for k in ("code", "name", "phone", "email", "notes")}
        merged.update({k: v for k, v in values.items() if k in merged})
        col_changes = {k: v for k, v in after.items() if k != "tags"}
        col_changes["search_text"] = search_text_for(
            merged["code"],
            merged["name"],
            merged["phone"],
            merged["email"],
            new_tags,
            merged["notes"],
        )
        if rules is not None and PROFILE_FIELDS & col_changes.keys():
            # Region and size band follow the fields they come from.
            mine = {k: col_changes.get(k, getattr(row, k)) for k in PROFILE_FIELDS}
            classes = classify.profile_classes(**mine, rules=rules)
            now = {k: col_changes.get(k, getattr(row, k)) for k in classes}
            col_changes.update({k: v for k, v in classes.items() if now[k] != v})
        col_changes.update(updated_at=ctx.now(), version=row.version + 1)
        result = s.execute(
            sa.update(Customer.__table__)
            .where(C.id == row.id, C.version == row.version)
            .values(**col_changes)
        )
        if result.rowcount != 1:
            raise Conflict(
                _(
                    "customer {code} was changed by someone else while saving; reload and retry"
                ).format(code=code)
            )
        if "tags" in after:
            s.execute(sa.delete(CustomerTag.__table__).where(T.customer_id == row.id))
            if new_tags:
                s.execute(
                    sa.insert(CustomerTag.__table__),
                    [{"customer_id": row.id, "tag": t} for t in new_tags],
                )
        audit.record(
            s,
            ctx.actor,
            "customer",
            code,
            "update",
            _public(before),
            {**_public(after), "version": row.version + 1},
        )
    return get_customer(ctx, merged["code"])


def _stale(session: Session, code: str, mine: int, theirs: int) -> Conflict:
    """A Conflict naming what others changed since ``mine``, read from the audit trail."""
    from tricrm_tui.models import AuditEntry

    A = AuditEntry.__table__.c
    entries = session.execute(
        sa.select(A.actor, A.before, A.after)
        .where(A.entity == "customer", A.entity_id == code, A.action == "update")
        .order_by(A.id.desc())
        .limit(50)
    ).all()
    changes: dict[str, tuple[object, object]] = {}
    who: set[str] = set()
    for actor, before, after in reversed(entries):
        if not after or int(after.get("version", 0)) <= mine:
            continue
        who.add(actor)
        for key, value in after.items():
            if key == "version":
                continue
            old = changes[key][0] if key in changes else (before or {}).get(key)
            changes[key] = (old, value)
    detail = "; ".join(f"{k}: {b!s} → {a!s}" for k, (b, a) in changes.items())
    message = _(
        "customer {code} was changed by someone else since you opened it "
        "(version {theirs}, yours {mine}); reload and apply your change again"
    ).format(code=code, theirs=theirs, mine=mine)
    if detail:
        message += " — " + _("changed by {who}: {detail}").format(
            who=", ".join(sorted(who)), detail=detail
        )
    return Conflict(message, changes)


def delete_customer(ctx: ServiceContext, code: str) -> None:
    """Mark a customer deleted. Their orders and history stay, so reports do not change."""
    with ctx.transaction() as s:
        row = _load_row(s, code)
        if row.merged_into_id is not None:
            # Its records are the kept customer's now; deleted, it could never be unmerged.
            raise InvalidInput(
                _("customer {code} is merged into {kept}; unmerge it before deleting it").format(
                    code=code, kept=row.merged_code
                ),
                field="code",
            )
        s.execute(
            sa.update(Customer.__table__)
            .where(C.id == row.id)
            .values(deleted_at=ctx.now(), version=row.version + 1, updated_at=ctx.now())
        )
        audit.record(s, ctx.actor, "customer", code, "delete", {"name": row.name}, None)


@dataclass
class CustomerCounts:
    total: int = 0
    individuals: int = 0
    enterprises: int = 0
    by_province: dict[str, int] = field(default_factory=dict)


def count_customers(ctx: ServiceContext) -> int:
    with ctx.session() as s:
        return count_matches(s, [active_condition()], searching=False, all_active=True, page_end=0)[
            0
        ]
