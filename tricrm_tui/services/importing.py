"""Importing customers, orders and interactions from messy files, safely and repeatably.

The rules an operator can rely on:

* **Idempotent upsert by external key** (``customers.code``, ``orders.order_no``,
  ``interactions.external_key``): an identical row changes nothing, a changed row updates the
  record with an audit entry holding the values before and after, so importing one file
  twice leaves the database as after once. An empty cell leaves the stored value alone (a
  partial export must not erase what is known).
* **Bad rows never stop good ones and are never half-written**: each row is cleaned in full
  before anything is written; a rejected row carries its line, key, field, an error code and
  a reason, and ``--rejects`` writes it back out in its own columns, ready to fix.
* **Batches**: each batch is one transaction holding its rows, their audit entries and the
  updated counts of its ``import_batches`` row. A killed import leaves whole batches only,
  and running it again completes it (the rows already in are simply "unchanged").
* **Undo** restores the before values from the audit entries carrying the import's id and
  removes the rows it inserted, unless something later depends on them.

Speed: per batch, one ``IN`` query finds the existing keys, inserts and updates go out as
Core executemany, and no ORM object is built per row; the file is streamed, so memory stays
flat whatever its size.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import errno
import gc
import hashlib
import itertools
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tricrm_tui.db import bulk, deferred, pending
from tricrm_tui.db.bulk import chunks, driver_executemany, driver_in, padded
from tricrm_tui.db.engine import SQLITE_CACHE_KIB
from tricrm_tui.db.errors import DatabaseUnavailable, translate_db_errors
from tricrm_tui.db.search import search_text_for
from tricrm_tui.i18n import _
from tricrm_tui.labels import N_
from tricrm_tui.models import (
    AuditEntry,
    ChangeCounter,
    Customer,
    CustomerTag,
    FollowUp,
    ImportBatch,
    LoyaltyEntry,
    MergeRecord,
    Order,
    Product,
    ProductCategory,
    ValueSnapshot,
)
from tricrm_tui.services import bulk_load, collector, import_liveness
from tricrm_tui.services.audit import jsonable
from tricrm_tui.services.classify import (
    classify_in,
    insert_tags,
    new_customer_classes,
    rules_or_none,
    stored_size,
)
from tricrm_tui.services.context import ServiceContext, refuse_database_file
from tricrm_tui.services.customers import FIELD_COLUMNS
from tricrm_tui.services.errors import Conflict, InvalidInput, NotFound, Stopped, cannot_write
from tricrm_tui.services.exporting import FORMULA_START, neutralise
from tricrm_tui.services.followups import followup_values, insert_followups, stored_reason
from tricrm_tui.services.import_cleaning import (
    TABLE,
    OrderColumns,
    RowError,
    carries_marks,
    check_lengths,
    clean_customer,
    clean_interaction,
    clean_key,
    invalid_line,
    json_object,
    parse_tags,
    unmark,
)
from tricrm_tui.services.interactions import default_reason_renamed, followup_reason
from tricrm_tui.services.mapping import (
    KEY_FIELD,
    REJECT_COLUMNS,
    ColumnMapping,
    build_mapping,
    check_kind,
    is_reject_column,
    read_mapping_file,
)
from tricrm_tui.services.normalize import (
    DEFAULT_REGION,
    clean_text,
)
from tricrm_tui.services.orders import refresh_customer_aggregates
from tricrm_tui.services.paging import Page, clamp_limit
from tricrm_tui.services.readers import INVALID, Source, XlsxSource, file_format, open_source
from tricrm_tui.services.readers_legacy import SHEET_FORMATS, SheetSource

MODES = ("update", "skip", "insert-only")
DEFAULT_BATCH = 5000
MAX_REPORTED_REJECTS = 10_000
"""Rejects kept in the result (all of them go to the rejects file; the count is exact)."""
CRASH_ENV = "TRICRM_TEST_CRASH_AFTER_BATCHES"
"""Tests set this to kill the process after N committed batches, to prove resumability."""

CT = Customer.__table__
OT = Order.__table__
PT = Product.__table__
KT = ProductCategory.__table__
AT = AuditEntry.__table__
BT = ImportBatch.__table__
FT = FollowUp.__table__

ORDER_DEFAULTS: dict[str, Any] = {
    "quantity": 1, "currency": "CNY", "channel": None, "status": "completed",
    "product_id": None, "category_id": None,
}  # fmt: skip
"""What an inserted order takes for a field its line leaves blank."""
INTERACTION_DEFAULTS: dict[str, Any] = {
    "direction": "outbound", "operator": None, "subject": "", "notes": None, "outcome": None,
    "satisfaction": None,
}  # fmt: skip

ENTITY = {"customers": "customer", "orders": "order", "interactions": "interaction"}
KEY_COLUMN = {"customers": "code", "orders": "order_no", "interactions": "external_key"}


@dataclass(frozen=True)
class Reject:
    line: int
    key: str | None
    field: str | None
    code: str
    reason: str


@dataclass
class ImportResult:
    import_id: int | None
    kind: str
    file: str
    encoding: str | None
    mode: str
    dry_run: bool
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    duplicates: int = 0
    rejected_count: int = 0
    rejected: list[Reject] = field(default_factory=list)
    batches: int = 0
    follow_ups_created: int = 0
    """Interactions only: follow-ups created from the file's follow-up column."""
    follow_ups_moved: int = 0
    """Interactions only: follow-ups a changed line gave a new date or reason (open ones), or
    moved to another customer with their interaction (any)."""
    extra: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    """What the operator should know that rejected no row (a mapping entry the file lacks)."""
    touched_customer_ids: set[int] | None = None
    """Customers the import wrote or gave rows to (set once its rows are in), for the
    follow-ups; None for a dry run."""
    classified_customer_ids: set[int] = field(default_factory=set)
    """Of those, the new customers it inserted with their classes set: the classification
    follow-up skips them."""

    def to_json(self) -> dict[str, Any]:
        """The one JSON object ``tricrm import --format json`` prints."""
        return {
            "import_id": self.import_id,
            "file": self.file,
            "encoding": self.encoding,
            "kind": self.kind,
            "mode": self.mode,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "duplicates": self.duplicates,
            "rejected_count": self.rejected_count,
            "rejected": [r.__dict__ for r in self.rejected],
            "warnings": self.warnings,
            **(
                {
                    "follow_ups_created": self.follow_ups_created,
                    "follow_ups_moved": self.follow_ups_moved,
                }
                if self.kind == "interactions"
                else {}
            ),
            **self.extra,
        }


Progress = Callable[[int, int | None], None]
"""Called after each batch with (lines read so far, total lines or None)."""

after_import_hooks: list[Callable[[ServiceContext, ImportResult], dict[str, Any]]] = []
"""Run after every real (not dry-run) import that wrote something; each returns facts merged
into the result (e.g. ``{"new_duplicates": 3}``), such as the duplicate finder and the
classification refresh."""


class _SeenKeys:
    """The hashes of every key met so far, in 8 bytes each.

    A set of Python ints costs about 100 bytes a key (the int object plus its slot), which
    at a million orders is a third of the memory budget. Each batch's hashes arrive as one
    sorted numpy array; every ``spill`` of them are merged into one sorted array. A batch
    is checked against them all at once (a vectorised bisection per array), not a key at a
    time. The batch is sorted first: numpy's bisection narrows each search from the last
    one when the needles come in order, and reads the arrays in order (a million orders:
    0.16 s of checks, against 0.77 s unsorted with spills of 100,000)."""

    def __init__(self, spill: int = 25_000) -> None:
        self.spill = spill
        self.recent: list[np.ndarray] = []
        self.merged = np.empty(0, dtype=np.int64)

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        """Which of ``hashes`` were added before (a boolean array, in their order)."""
        order = np.argsort(hashes)
        needles = hashes[order]
        found = np.zeros(len(hashes), dtype=bool)
        for known in (self.merged, *self.recent):
            if len(known):
                at = known.searchsorted(needles).clip(max=len(known) - 1)
                found |= known[at] == needles
        out = np.empty_like(found)
        out[order] = found
        return out

    def add(self, hashes: np.ndarray) -> None:
        self.recent.append(np.sort(hashes))
        if sum(len(r) for r in self.recent) >= self.spill:
            # A merge of two sorted arrays (``union1d`` sorted the whole again: 0.56 s
            # against 6 ms at a million keys). A key added twice is harmless here.
            spilled = np.sort(np.concatenate(self.recent))
            self.merged = np.insert(self.merged, self.merged.searchsorted(spilled), spilled)
            self.recent = []


# ----------------------------------------------------------------------------- the pipeline


@dataclass(slots=True)
class _Item:
    line: int
    raw: dict[str, Any]
    key: str
    values: dict[str, Any]
    repeat: bool = False  # the key came earlier in the file, in a batch already written
    gone: RowError | None = None
    """Why the line's customer takes no new rows (deleted): it may only repeat what is
    stored, so an export of every order imports back unchanged."""


@dataclass
class _Plan:
    """What one batch will write; built fully before the first statement runs."""

    inserts: list[dict[str, Any]] = field(default_factory=list)
    insert_keys: list[str] = field(default_factory=list)
    updates: list[tuple[int, str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    unchanged: int = 0
    skipped: int = 0
    duplicates: int = 0
    rejects: list[tuple[_Item, RowError]] = field(default_factory=list)
    touched_customers: set[int] = field(default_factory=set)
    """Customers whose rows or orders this batch writes (the follow-ups' and the final
    aggregate refresh's work list)."""
    classified_customers: set[int] = field(default_factory=set)
    """New customers this batch inserts with their classes already set."""
    new_names: dict[tuple[str, str], int] = field(default_factory=dict)
    insert_tags: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """New customers' tags, by code (their ids are known once they are inserted)."""
    tag_changes: list[tuple[int, str, list[str], list[str]]] = field(default_factory=list)
    """(customer id, code, tags before, tags after) of existing customers gaining tags."""
    unwritten: list[tuple[int, int]] = field(default_factory=list)
    """(key hash, hash of the line's values as cleaned) of the lines met first in the file
    that this batch writes nothing of: skipped, refused as already there, or rejected."""
    new_followups: list[_NewFollowUp] = field(default_factory=list)
    """Follow-ups of interaction lines, to create once their interactions are in."""
    moved_followups: list[tuple[int, str, dict[str, Any], dict[str, Any]]] = field(
        default_factory=list
    )
    """(follow-up id, interaction key, before, after) of the follow-ups changed lines move:
    open ones to a new date or reason, any to the customer their interaction moves to."""
    followup_only: int = 0
    """Lines whose interaction is as stored but whose follow-up is created or moved: updated."""
    notes: list[str] = field(default_factory=list)
    """Warnings for the result (a changed follow-up date for a task already closed)."""


@dataclass(slots=True)
class _FollowUpChange:
    """What a line of a stored interaction asks of its follow-ups (``_followup_change``)."""

    new: _NewFollowUp | None = None
    moves: list[tuple[int, str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    """(follow-up id, interaction key, before, after) of the follow-ups it changes."""
    note: str | None = None
    """Why the line's date or reason was not applied (its task was closed since)."""

    @property
    def writes(self) -> bool:
        return self.new is not None or bool(self.moves)


@dataclass(slots=True)
class _NewFollowUp:
    key: str
    customer_id: int
    customer_code: str
    due_at: dt.datetime
    reason: str
    interaction_id: int | None = None  # known for a stored interaction; else found once inserted


class _Importer:
    def __init__(
        self,
        ctx: ServiceContext,
        kind: str,
        mapping: ColumnMapping,
        *,
        mode: str,
        region: str,
        import_id: int | None,
        marked: bool = True,
    ) -> None:
        self.ctx, self.kind, self.mode, self.region = ctx, kind, mode, region
        self.import_id = import_id
        self.table = TABLE[kind]
        self.key_col = KEY_COLUMN[kind]
        self.fields = mapping.field_columns()
        # Timestamps are never compared, and reading them back costs a conversion per row.
        self.compare_columns = [
            c for c in self.table.c if c.name not in ("created_at", "updated_at")
        ]
        self.custom = mapping.custom_columns()
        # Committed lookups only: a rolled-back batch must not leave ids behind here.
        self.products: dict[str, int] = {}
        self.categories: dict[str, int] = {}
        self.customer_ids: dict[str, int] = {}
        self.customer_keys: int | None = None  # SQLite: the counter's value they were learnt at
        self.customer_ids_since = time.monotonic()  # PostgreSQL: when they were first learnt
        self.may_skip_checks: bool | None = None  # PostgreSQL: see ``_references_held``
        # Keys met so far (as hashes, 8 bytes of information each): a repeated key is checked
        # against what its first line wrote.
        self.seen = _SeenKeys()
        # Keys whose first line in the file wrote nothing (``skip`` left the row as it was,
        # ``insert-only`` refused it, or it was rejected once cleaned: its customer unknown
        # or deleted, a new customer without a name): a repeat of one in a later batch is
        # compared with that line (as a hash of its key and cleaned values), not with a
        # stored row it did not write, as a repeat within one batch is.
        self.unwritten_keys = _SeenKeys()
        self.unwritten_lines = _SeenKeys()
        # A dry run rolls each batch back, so a later batch finds no row written by a key's
        # first line: it writes that line again first (``replay_first_lines``), and keeps
        # the lines to do so with, for the keys whose lines differ (``differing``, found by
        # a first pass over the file; a line the same as its first is a repeat whatever is
        # stored). ``failed_keys``: first lines the database refused, which wrote nothing.
        self.differing: set[int] = set()
        self.first_lines: dict[int, tuple[int, dict[str, Any]]] = {}
        self.failed_keys: set[int] = set()
        # Cells of a CSV or a workbook may carry an export's formula marks; JSON's do not.
        self.marked = marked
        self.order_columns = OrderColumns(self.fields, marked=marked) if kind == "orders" else None
        self.touched: set[int] = set()
        # New customers get their classes with their row (``new_customer_classes``): the
        # rules are read once, and the classification follow-up leaves those customers out.
        self.rules = rules_or_none() if kind == "customers" else None
        self.classified: set[int] = set()
        # Whether the next batch may skip asking which of its keys exist (see ``plan``), and
        # whether the batch being written did.
        self.trust_new_keys = False
        self.trusted_batch = False
        self.keys_refused = False  # a trusted batch met a stored key: ask for the rest

    # -- cleaning

    def clean_batch(self, batch: list[tuple[int, dict[str, Any]]]) -> list[_Item | RowError]:
        """Each line of a batch cleaned: orders a column at a time (see
        :class:`~tricrm_tui.services.import_cleaning.OrderColumns`), the others a row at a time."""
        if self.order_columns is not None:
            cleaned = self.order_columns.clean([raw for _line, raw in batch])
            return [
                c if isinstance(c, RowError) else _Item(line, raw, c[0], c[1])
                for (line, raw), c in zip(batch, cleaned, strict=True)
            ]
        out: list[_Item | RowError] = []
        for line, raw in batch:
            try:
                out.append(self.clean(line, raw))
            except RowError as err:
                out.append(err)
        return out

    def clean(self, line: int, raw: dict[str, Any]) -> _Item:
        key_field = KEY_FIELD[self.kind]
        if INVALID in raw:
            raise invalid_line(raw)
        cell = unmark if self.marked else _as_is
        by_field = {f: cell(raw.get(col)) for f, col in self.fields.items()}
        key = clean_key(by_field.get(key_field), key_field)
        if self.kind == "customers":
            custom = {name: cell(raw.get(col)) for name, col in self.custom.items() if name != "*"}
            exported = json_object(raw.get(self.custom["*"])) if "*" in self.custom else None
            tags = parse_tags(by_field.pop("tags", None))
            values = clean_customer(
                {f: v for f, v in by_field.items() if f != "code"}, custom, self.region, exported
            )
            if tags:
                values["tags"] = tags
        else:
            values = clean_interaction(by_field, self.region)
        check_lengths(self.kind, values)
        return _Item(line, raw, key, values)

    # -- lookups

    def _customer_ids(self, s: Session, codes: Iterable[str]) -> dict[str, int]:
        """Code → id; a customer merged into another resolves to the one it was merged into.

        Found ids are remembered: an order file names the same customers again and again (a
        million orders, 100k customers), and asking for every batch's codes cost 2.2 s of a
        million-order import. On SQLite they are forgotten when the database's
        ``customer_keys`` counter moved (a customer's code, merge or deletion changed, by
        anyone: triggers bump it, migration 0005), read once a batch, so the next batch sees
        such a change, as a batch's own lookup sees it at its start. PostgreSQL has no such
        counter (see the migration) and forgets them every ``CUSTOMER_ID_TTL`` seconds. At
        most ``CUSTOMER_ID_CACHE`` codes (plus one batch's) are remembered."""
        known = self.customer_ids
        codes = set(codes)
        if s.get_bind().dialect.name == "sqlite":
            counter = s.execute(CUSTOMER_KEYS).scalar_one_or_none()
            if counter is None or counter != self.customer_keys:  # no counter: trust nothing
                known.clear()
                self.customer_keys = counter
        elif time.monotonic() - self.customer_ids_since > CUSTOMER_ID_TTL:
            known.clear()
            self.customer_ids_since = time.monotonic()
        # Not ``codes - known.keys()``: a set minus a dict's keys view copies the set and
        # walks all the remembered codes (100k), batch after batch (1 s of a million orders).
        wanted = {c for c in codes if c not in known}
        if len(known) + len(wanted) > CUSTOMER_ID_CACHE:
            known.clear()  # and this batch's codes all asked again, not only the new ones
            self.customer_ids_since = time.monotonic()
            wanted = codes
        if wanted:
            # Merges keep ``merged_into_id`` pointing at the customer holding the records
            # (``merge.merge_customers`` redirects earlier ones); a deleted one holds none.
            rows = driver_in(
                s,
                "SELECT code, coalesce(merged_into_id, id) FROM {table} "
                "WHERE deleted_at IS NULL AND (merged_into_id IS NULL OR EXISTS ("
                "SELECT 1 FROM {table} AS k WHERE k.id = {table}.merged_into_id "
                "AND k.deleted_at IS NULL)) AND",
                CT,
                "code",
                sorted(wanted),
            )
            known.update(rows)
        return known

    def _name_ids(self, s: Session, plan: _Plan, table: sa.Table, names: set[str]) -> None:
        cache = self.products if table is PT else self.categories
        # Remembered ids are checked first: someone may have removed one since (an undo
        # of the import that created it), and this batch must not refer to it, nor to
        # another row that took its id (SQLite may give a freed id out again).
        known = {cache[n] for n in names if n in cache}
        if known:
            there = dict(driver_in(s, "SELECT id, name FROM {table} WHERE", table, "id",
                                    sorted(known)))  # fmt: skip
            for name in [n for n in names if n in cache and there.get(cache[n]) != n[:200]]:
                del cache[name]
        wanted = {n for n in names if n and n not in cache}
        if not wanted:
            return
        kind = "product" if table is PT else "category"
        found = dict(
            s.execute(sa.select(table.c.name, table.c.id).where(table.c.name.in_(wanted))).all()
        )
        for name in sorted(wanted - set(found)):
            values: dict[str, Any] = {"name": name[:200]}
            if table is PT:
                values["sku"] = name[:64]
                taken = s.execute(sa.select(PT.c.id).where(PT.c.sku == values["sku"])).first()
                if taken:
                    values["sku"] = hashlib.sha1(name.encode()).hexdigest()[:16]
            found[name] = s.execute(sa.insert(table).values(**values)).inserted_primary_key[0]
            self._audit(s, [(kind, name, "create", None, values)])
        for name, pid in found.items():
            plan.new_names[(kind, name)] = pid

    def _name_id(self, plan: _Plan, kind: str, name: str | None) -> int | None:
        if not name:
            return None
        cache = self.products if kind == "product" else self.categories
        return cache.get(name) or plan.new_names.get((kind, name))

    # -- planning

    def plan(self, s: Session, items: list[_Item]) -> _Plan:
        # The items' values are turned into rows in place (a batch the database refuses is
        # cleaned again from its lines, see ``_run_batch``).
        plan = _Plan()
        items = self._repeats_of_unwritten(s, plan, items)
        if not items:
            return plan
        # As cleaned, to remember the lines that turn out to write nothing.
        cleaned = {it.key: it.values.copy() for it in items}
        wanted_tags = {it.key: it.values.pop("tags") for it in items if "tags" in it.values}
        # An interaction line's follow-up (due, reason as given) goes to the follow-ups table.
        wanted_followups: dict[str, tuple[dt.datetime, str | None]] = {}
        if self.kind == "interactions":
            for it in items:
                due = it.values.pop("follow_up", None)
                reason = it.values.pop("follow_up_reason", None)
                if due is not None:
                    wanted_followups[it.key] = (due, reason or None)
        key_col = self.table.c[self.key_col]
        # Which keys exist, as plain strings through the driver; the stored rows (typed, for
        # the comparison) only for those, so a new file's batch stops at the first query.
        keys = [it.key for it in items]
        # A file of new records (the usual bulk load) finds none of its keys stored, batch
        # after batch. Once a batch found none, the next ones do not ask: their inserts meet
        # the table's unique key anyway, and should one of them exist after all, the
        # database refuses the batch and it is planned again, asking (``_run_batch``). Keys
        # met earlier in the file exist by then, so such a batch always asks; a dry run
        # inserts nothing, so it always asks.
        self.trusted_batch = (
            self.trust_new_keys
            and self.import_id is not None
            and not any(it.repeat for it in items)
            # A customer line without a name can only change a stored customer: a new one
            # it would be refused before its insert met the unique key. So it asks.
            and not (self.kind == "customers" and any(not it.values.get("name") for it in items))
        )
        found = [] if self.trusted_batch else [
            k for (k,) in driver_in(s, "SELECT {column} FROM {table} WHERE", self.table,
                                     self.key_col, keys)
        ]  # fmt: skip
        if not found and not self.trusted_batch and not self.keys_refused:
            self.trust_new_keys = True
        existing = (
            {
                r._mapping[self.key_col]: r._mapping
                for r in s.execute(
                    sa.select(*self.compare_columns).where(key_col.in_(padded(found)))
                )
            }
            if found
            else {}
        )
        if self.kind != "customers":
            ids = self._customer_ids(s, [it.values["customer_code"] for it in items])
            # Looked up one by one: a set minus ``ids.keys()`` walks every remembered code
            # (100k) for every batch (see ``_customer_ids``).
            missing = {c for it in items if (c := it.values["customer_code"]) not in ids}
            deleted = self._deleted_customers(s, missing) if missing else {}
            if deleted and self.trusted_batch:  # keys not asked: ask for these lines'
                asked = [it.key for it in items if it.values["customer_code"] in deleted]
                existing.update(
                    (r._mapping[self.key_col], r._mapping)
                    for r in s.execute(
                        sa.select(*self.compare_columns).where(key_col.in_(padded(asked)))
                    )
                )
            kept = []
            for it in items:
                code = it.values.pop("customer_code")
                cid = self._customer_of(it, code, ids, deleted, existing.get(it.key))
                if isinstance(cid, RowError):
                    plan.rejects.append((it, cid))
                    continue
                it.values["customer_id"] = cid
                kept.append(it)
            items = kept
        if self.kind == "orders":
            self._name_ids(s, plan, KT, {it.values.get("category") or "" for it in items})
            self._resolve_products(s, plan, items)
        tags: dict[int, list[str]] = {}
        if self.kind == "customers":
            # Those a line may change, and those of repeats, in any mode: a repeat is judged
            # against its first line's row, tags included (skip and insert-only read none,
            # and rejected an identical repeat of a new customer's tags as duplicate_key).
            customer_ids = [
                existing[it.key]["id"]
                for it in items
                if it.key in existing and (self.mode == "update" or it.repeat)
            ]
            if customer_ids:
                for cid, tag in s.execute(
                    sa.select(CustomerTag.__table__.c.customer_id, CustomerTag.__table__.c.tag)
                    .where(CustomerTag.__table__.c.customer_id.in_(padded(customer_ids)))
                    .order_by(CustomerTag.__table__.c.tag)
                ):
                    tags.setdefault(cid, []).append(tag)
        # The stored follow-ups of the lines that give one, of those that move their
        # interaction to another customer (its follow-ups go with it), and of those that
        # change its subject (a default reason follows it).
        stored_followups = (
            _stored_followups(
                s,
                [
                    row["id"]
                    for it in items
                    if (row := existing.get(it.key)) is not None
                    and (
                        it.key in wanted_followups
                        or row["customer_id"] != it.values["customer_id"]
                        or _new_subject(row, it.values) is not None
                    )
                ],
            )
            if self.kind == "interactions" and existing
            else {}
        )
        now = self.ctx.now()
        skipped: list[_Item] = []
        for it in items:
            row = existing.get(it.key)
            new_tags = wanted_tags.get(it.key, ())
            wanted = wanted_followups.get(it.key)
            followup = (
                self._followup_change(
                    it, row, wanted, stored_followups.get(row["id"], []), cleaned[it.key]
                )
                if row is not None and (wanted is not None or row["id"] in stored_followups)
                else _FollowUpChange()
            )
            if row is not None and "size_band" in it.values:
                # Compared as its band and the size as given, as the stored row holds them
                # (classified when inserted): the same "300人" again is no change.
                v = it.values
                v["size_band"], v["size_text"] = stored_size(
                    v["size_band"],
                    v.get("kind", row["kind"]),
                    {**(row["custom_fields"] or {}), **v.get("custom_fields", {})},
                    self.rules,
                    (row["size_band"], row["size_text"]),
                )
            if row is None:
                try:
                    plan.inserts.append(self._insert_values(it, now, new_tags))
                except RowError as err:
                    plan.rejects.append((it, err))
                    continue
                plan.insert_keys.append(it.key)
                if new_tags:
                    plan.insert_tags[it.key] = new_tags
                if wanted is not None:
                    due, reason = wanted
                    plan.new_followups.append(
                        _NewFollowUp(
                            it.key,
                            it.values["customer_id"],
                            cleaned[it.key]["customer_code"],
                            due,
                            followup_reason(reason, it.values.get("subject") or it.key),
                        )
                    )
                if self.kind != "customers":
                    plan.touched_customers.add(it.values["customer_id"])
            elif it.repeat:
                # Written from an earlier line of this file: the same values count once,
                # other values are a conflict the operator must settle.
                old_tags = tags.get(row["id"], [])
                if (
                    self._diff(row, it.values, old_tags)[1]
                    or set(new_tags) - set(old_tags)
                    or followup.writes
                ):
                    plan.rejects.append((it, _duplicate_key(self.kind, it.key)))
                else:
                    plan.duplicates += 1
            elif self.mode == "skip":
                plan.skipped += 1
                skipped.append(it)
            elif self.mode == "insert-only":
                plan.rejects.append(
                    (
                        it,
                        RowError(
                            "already_exists",
                            KEY_FIELD[self.kind],
                            _("{key} already exists (insert-only mode)").format(key=it.key),
                        ),
                    )
                )
            else:
                old_tags = tags.get(row["id"], [])
                all_tags = sorted(set(old_tags) | set(new_tags))
                before, after = self._diff(row, it.values, all_tags, all_tags != old_tags)
                if followup.note:  # its task closed since: its date and reason left as they are
                    plan.notes.append(followup.note)
                if not after and not followup.writes:
                    plan.unchanged += 1
                    continue
                if self.kind == "customers" and (gone := self._gone(s, row)) is not None:
                    plan.rejects.append((it, gone))
                    continue
                if it.gone is not None:
                    plan.rejects.append((it, it.gone))
                    continue
                if followup.new is not None:
                    plan.new_followups.append(followup.new)
                plan.moved_followups += followup.moves
                if not after:  # only its follow-ups change
                    plan.followup_only += 1
                    continue
                if all_tags != old_tags:
                    plan.tag_changes.append((row["id"], it.key, old_tags, all_tags))
                if "updated_at" in self.table.c:  # interactions keep no such time
                    after["updated_at"] = now
                if self.kind == "customers":
                    after["version"] = row["version"] + 1
                plan.updates.append((row["id"], it.key, before, after))
                if self.kind == "customers":
                    plan.touched_customers.add(row["id"])
                else:
                    plan.touched_customers.update({row["customer_id"], it.values["customer_id"]})
        plan.unwritten = [
            (hash(it.key), _content_hash(cleaned[it.key]))
            for it in itertools.chain(skipped, (it for it, _err in plan.rejects))
            if not it.repeat
        ]
        return plan

    def _followup_change(
        self,
        it: _Item,
        row: Any,
        wanted: tuple[dt.datetime, str | None] | None,
        stored: list[Any],
        cleaned: dict[str, Any],
    ) -> _FollowUpChange:
        """What a line asks of the follow-ups of its stored interaction (``stored``: every
        follow-up linked to it, oldest first).

        Its task (the first of source ``interaction``) is as the line's follow-up cells say:
        created when the interaction has none; given the new date and reason while open (a
        blank reason leaves the stored one alone); when done, cancelled or snoozed since,
        left as it is, with a warning. And when the line moves the interaction to another
        customer, every follow-up of it goes along, whatever its state: a task belongs to
        the contact it came from, as a merge moves a customer's tasks with its contacts, so
        the customer's history and the interaction agree. A closed task's customer is all
        that changes: never its date or state.

        When the line changes the interaction's subject, an open follow-up whose reason is
        still the default the old subject gave ("Follow up: <subject>") takes the new
        subject's, unless the line gives its task a reason; a reason someone wrote stays."""
        due, reason = wanted if wanted is not None else (None, None)
        customer_id = it.values["customer_id"]  # the line's, which the row may move to
        change = _FollowUpChange()
        task = next((f.id for f in stored if f.source == "interaction"), None)
        renamed = _new_subject(row, it.values)
        if task is None and due is not None:
            subject = it.values.get("subject") or row["subject"] or it.key
            change.new = _NewFollowUp(
                it.key,
                customer_id,
                cleaned["customer_code"],
                due,
                followup_reason(reason, subject),
                row["id"],
            )
        for f in stored:
            before: dict[str, Any] = {}
            after: dict[str, Any] = {}
            if f.id == task:
                if due is not None and not _same(f.due_at, due):
                    before["due_at"], after["due_at"] = f.due_at, due
                text = stored_reason(followup_reason(reason, None)) if reason is not None else None
                if text is not None and text != f.reason:
                    before["reason"], after["reason"] = f.reason, text
                if after and f.status != "open":
                    change.note = _(
                        "line {line}: the follow-up of interaction {key} (task {id}) is "
                        "{status} since; its new date or reason was not applied"
                    ).format(line=it.line, key=it.key, id=f.id, status=_(f.status))
                    before, after = {}, {}
            if (
                renamed is not None
                and f.status == "open"
                and "reason" not in after
                and (f.id != task or reason is None)
            ):
                text = default_reason_renamed(f.reason, row["subject"] or it.key, renamed)
                if text is not None and text != f.reason:
                    before["reason"], after["reason"] = f.reason, text
            if row["customer_id"] != customer_id and f.customer_id != customer_id:
                before["customer_id"], after["customer_id"] = f.customer_id, customer_id
            if after:
                change.moves.append((f.id, it.key, before, after))
        return change

    def _repeats_of_unwritten(self, s: Session, plan: _Plan, items: list[_Item]) -> list[_Item]:
        """``items`` less the repeats of keys whose first line wrote nothing, counted here:
        the same values as that line once (``duplicates``), other values rejected (see
        ``refuse_repeats``), as a repeat within one batch is."""
        repeats = [it for it in items if it.repeat]
        if not repeats:
            return items
        hashes = np.fromiter((hash(it.key) for it in repeats), dtype=np.int64, count=len(repeats))
        settled: set[str] = set()
        conflicts: list[_Item] = []
        for it in itertools.compress(repeats, self.unwritten_keys.contains(hashes)):
            line = hash((hash(it.key), _content_hash(it.values)))
            if self.unwritten_lines.contains(np.array([line], dtype=np.int64))[0]:
                plan.duplicates += 1
            else:
                conflicts.append(it)
            settled.add(it.key)
        plan.rejects += self.refuse_repeats(s, conflicts)
        return [it for it in items if it.key not in settled] if settled else items

    def refuse_repeats(self, s: Session, repeats: list[_Item]) -> list[tuple[_Item, RowError]]:
        """Why each of ``repeats`` (later lines of a key with other values than the line
        they are compared with) is rejected: for its customer when that takes no rows
        whatever the line says (no customer has the code, or it was deleted and does not
        hold the record), else as ``duplicate_key``.

        A repeat of a line that was written meets the customer check in ``plan`` before its
        values are compared; a repeat judged before ``plan`` (within its batch, or of a
        first line that wrote nothing) is checked here the same way, so its code does not
        depend on where the batches split or on whether the first line was written. The
        line's own fault comes first because it is the one that still holds once the lines
        are reconciled: whoever fixes the rejects file may correct or drop the line this one
        conflicts with, and ``duplicate_key`` is then gone while the unknown customer is
        not; told only ``duplicate_key``, they would import it again to meet the other
        fault. It is how a repeat with a date that cannot be read is reported, too."""
        if self.kind == "customers" or not repeats:
            return [(it, _duplicate_key(self.kind, it.key)) for it in repeats]
        codes = {it.values["customer_code"] for it in repeats}
        ids = self._customer_ids(s, codes)
        missing = {c for c in codes if c not in ids}
        deleted = self._deleted_customers(s, missing) if missing else {}
        key_col = self.table.c[self.key_col]
        asked = sorted({it.key for it in repeats if it.values["customer_code"] in deleted})
        rows = {
            r._mapping[self.key_col]: r._mapping
            for r in s.execute(
                sa.select(key_col, self.table.c.customer_id).where(key_col.in_(padded(asked)))
            )
        } if asked else {}  # fmt: skip
        refused = []
        for it in repeats:
            cid = self._customer_of(it, it.values["customer_code"], ids, deleted, rows.get(it.key))
            refused.append(
                (it, cid if isinstance(cid, RowError) else _duplicate_key(self.kind, it.key))
            )
        return refused

    def _customer_of(
        self,
        it: _Item,
        code: str,
        ids: dict[str, int],
        deleted: dict[str, tuple[int, str]],
        row: Any,
    ) -> int | RowError:
        """The id of the customer an order or interaction line names, or why the line is
        rejected whatever else it says: no customer has the code, or it was deleted (or
        merged into one that was) and does not hold the line's stored record. Such a
        customer's own record may still be repeated as stored: ``it.gone`` then says why it
        takes no change."""
        cid = ids.get(code)
        if cid is not None:
            return cid
        if code in deleted:
            holder, why = deleted[code]
            it.gone = RowError("deleted_customer", "customer_code", why)
            return holder if row is not None and row["customer_id"] == holder else it.gone
        return RowError(
            "unknown_customer",
            "customer_code",
            _("no customer with code {code}").format(
                code=by_field_value(it, self.fields, "customer_code")
            ),
        )

    def _deleted_customers(self, s: Session, codes: set[str]) -> dict[str, tuple[int, str]]:
        """Code → (id holding its records, why it takes none) of the customers among
        ``codes`` (those the lookup did not find) that were deleted or merged into one that
        was: asked only for a batch naming such codes."""
        K = CT.alias("kept")
        rows = s.execute(
            sa.select(
                CT.c.code, CT.c.id, CT.c.deleted_at, K.c.id.label("kept_id"), K.c.code.label("kept")
            )
            .outerjoin(K, K.c.id == CT.c.merged_into_id)
            .where(
                CT.c.code.in_(padded(sorted(codes))),
                sa.or_(CT.c.deleted_at.is_not(None), K.c.deleted_at.is_not(None)),
            )
        ).all()
        return {
            r.code: (r.id, _("customer {code} was deleted").format(code=r.code))
            if r.deleted_at is not None
            else (
                r.kept_id,
                _("customer {code} was merged into {kept}, which was deleted").format(
                    code=r.code, kept=r.kept
                ),
            )
            for r in rows
        }

    def _gone(self, s: Session, row: Any) -> RowError | None:
        """Why a stored customer a line would change takes no changes: merged into another
        (which holds its records now) or deleted. Unchanged lines still count unchanged, so
        the file that created them imports again cleanly."""
        if row["merged_into_id"] is not None:
            kept = s.execute(sa.select(CT.c.code).where(CT.c.id == row["merged_into_id"]))
            return RowError(
                "merged_customer",
                "code",
                _("customer {code} was merged into {kept}; change {kept} instead").format(
                    code=row["code"], kept=kept.scalar_one()
                ),
            )
        if row["deleted_at"] is not None:
            return RowError(
                "deleted_customer",
                "code",
                _("customer {code} was deleted").format(code=row["code"]),
            )
        return None

    def _resolve_products(self, s: Session, plan: _Plan, items: list[_Item]) -> None:
        names = {it.values.get("product") or "" for it in items}
        self._name_ids(s, plan, PT, names)
        # A product created here belongs to the category of its first order.
        first_category: dict[int, int | None] = {}
        for it in items:
            product, category = it.values.get("product"), it.values.get("category")
            if product and category and ("product", product) in plan.new_names:
                pid = plan.new_names[("product", product)]
                first_category.setdefault(pid, self._name_id(plan, "category", category))
        for pid, cid in first_category.items():
            s.execute(
                sa.update(PT)
                .where(PT.c.id == pid, PT.c.category_id.is_(None))
                .values(category_id=cid)
            )
        for it in items:
            v = it.values
            product, category = v.pop("product", None), v.pop("category", None)
            if product is not None:
                v["product_id"] = self._name_id(plan, "product", product)
            if category is not None:
                v["category_id"] = self._name_id(plan, "category", category)

    def _insert_values(
        self, it: _Item, now: dt.datetime, tags: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        v = it.values  # already the plan's own copy
        if self.kind == "customers":
            if not v.get("name"):
                raise RowError("missing_required", "name", _("name is required"))
            row: dict[str, Any] = {c: None for c in FIELD_COLUMNS.values()}
            row.update(kind="individual", custom_fields={}, size_text=None)
            row.update(v)
            if self.rules is not None:
                row.update(new_customer_classes(row, self.ctx.today(), self.rules))
            row.update(
                code=it.key,
                created_at=now,
                updated_at=now,
                version=1,
                search_text=search_text_for(
                    it.key, row["name"], row["phone"], row["email"], tags, row["notes"]
                ),
            )
            return row
        if self.kind == "orders":
            return {**ORDER_DEFAULTS, **v, "order_no": it.key, "created_at": now, "updated_at": now}
        return {**INTERACTION_DEFAULTS, **v, "external_key": it.key, "created_at": now}

    def _diff(
        self, row: Any, values: dict[str, Any], tags: list[str], tags_changed: bool = False
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        for col, new in values.items():
            old = row[col]
            if col == "custom_fields":
                merged = {**(old or {}), **new}
                if merged != (old or {}):
                    before[col], after[col] = old or {}, merged
            elif not _same(old, new):
                before[col], after[col] = old, new
        if self.kind == "customers" and (
            tags_changed or set(after) & {"name", "phone", "email", "notes"}
        ):
            merged_row = {**dict(row), **after}
            text = search_text_for(
                row["code"],
                merged_row["name"],
                merged_row["phone"],
                merged_row["email"],
                tags,
                merged_row["notes"],
            )
            if text != row["search_text"]:
                before["search_text"], after["search_text"] = row["search_text"], text
        return before, after

    # -- writing

    def write(self, s: Session, plan: _Plan) -> None:
        if plan.inserts:
            unchecked = self._references_held(s, plan)
            with bulk.references_unchecked(s.connection()) if unchecked else _NO_CONTEXT:
                driver_executemany(s, sa.insert(self.table), plan.inserts)
            self._audit(
                s, [(ENTITY[self.kind], f"import:{self.import_id}", "import_insert", None,
                     {"keys": plan.insert_keys})]
            )  # fmt: skip
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row_id, _key_value, _before, after in plan.updates:
            cols = tuple(sorted(after))
            by_columns.setdefault(cols, []).append({"b_id": row_id, **after})
        for cols, rows in by_columns.items():
            stmt = (
                sa.update(self.table)
                .where(self.table.c.id == sa.bindparam("b_id"))
                .values({c: sa.bindparam(c) for c in cols})
            )
            s.execute(stmt, rows)
        self._audit(
            s,
            [
                (ENTITY[self.kind], key, "import_update", before, after)
                for _id, key, before, after in plan.updates
            ],
        )
        if plan.new_followups or plan.moved_followups:
            self._write_followups(s, plan)
        if self.kind == "customers" and plan.insert_keys:
            ids: dict[str, int] = {
                code: cid
                for code, cid in s.execute(
                    sa.select(CT.c.code, CT.c.id).where(CT.c.code.in_(padded(plan.insert_keys)))
                )
            }
            plan.touched_customers.update(ids.values())
            if self.rules is not None:
                plan.classified_customers.update(ids.values())
            plan.tag_changes += [
                (ids[code], code, [], list(tags)) for code, tags in plan.insert_tags.items()
            ]
        if plan.tag_changes:
            insert_tags(
                s, [(cid, t) for cid, _c, old, new in plan.tag_changes for t in new if t not in old]
            )
            # The same entries ``customers tag`` writes, so undo and the audit trail read
            # one form whichever way a tag came.
            self._audit(
                s,
                [
                    ("customer", code, "tag", {"tags": old}, {"tags": new})
                    for _cid, code, old, new in plan.tag_changes
                ],
            )

    def _write_followups(self, s: Session, plan: _Plan) -> None:
        """The batch's follow-ups: created as ``interact log --follow-up`` creates one (an
        open task of the importing user, linked to its interaction), audited with the
        import's id; those a changed line moves, audited before and after."""
        if any(f.interaction_id is None for f in plan.new_followups):
            key_col = self.table.c[self.key_col]
            new_keys = [f.key for f in plan.new_followups if f.interaction_id is None]
            ids = {
                k: i
                for k, i in s.execute(
                    sa.select(key_col, self.table.c.id).where(key_col.in_(padded(new_keys)))
                )
            }
            for f in plan.new_followups:
                if f.interaction_id is None:
                    f.interaction_id = ids[f.key]
        rows = [
            followup_values(
                self.ctx,
                customer_id=f.customer_id,
                due_at=f.due_at,
                reason=f.reason,
                source="interaction",
                interaction_id=f.interaction_id,
            )
            for f in plan.new_followups
        ]
        created = insert_followups(s, rows)
        for fid, _key, _before, after in plan.moved_followups:
            # A new date or reason only while it is open (it was, when planned); a closed
            # task moved with its interaction takes its new customer alone.
            still_open = [FT.c.status == "open"] if after.keys() & {"due_at", "reason"} else []
            s.execute(sa.update(FT).where(FT.c.id == fid, *still_open).values(**after))
        self._audit(
            s,
            [
                ("followup", str(fid), "create", None, {**values, "customer": f.customer_code})
                for fid, values, f in zip(created, rows, plan.new_followups, strict=True)
            ]
            + [
                ("followup", str(fid), "import_update", before, after)
                for fid, _key, before, after in plan.moved_followups
            ],
        )

    def _references_held(self, s: Session, plan: _Plan) -> bool:
        """PostgreSQL, order rows: whether this batch's inserts may skip their foreign-key
        checks, having locked what they refer to (``bulk.references_held``). Only for a
        batch that updates nothing."""
        if self.kind != "orders" or plan.updates or self.import_id is None:
            return False
        if self.may_skip_checks is None:
            self.may_skip_checks = bulk.may_skip_reference_checks(self.ctx.db.engine, self.table)
        if not self.may_skip_checks:
            return False
        refs = {
            CT: {r["customer_id"] for r in plan.inserts},
            PT: {r["product_id"] for r in plan.inserts if r.get("product_id") is not None},
            KT: {r["category_id"] for r in plan.inserts if r.get("category_id") is not None},
        }
        return bulk.references_held(s.connection(), refs)

    def _audit(self, s: Session, entries: list[tuple[str, str, str, Any, Any]]) -> None:
        """Audit rows in one executemany (the import's volume rules out one ORM object each)."""
        if not entries:
            return
        now = self.ctx.now()
        actor = self.ctx.actor
        driver_executemany(
            s,
            sa.insert(AT),
            [
                {
                    "at": now,
                    "actor": actor.username,
                    "role": actor.role,
                    "entity": entity,
                    "entity_id": str(key)[:64],
                    "action": action,
                    "before": jsonable(before),
                    "after": jsonable(
                        {k: v for k, v in after.items() if k != "search_text"}
                        if isinstance(after, dict)
                        else after
                    ),
                    "import_id": self.import_id,
                }
                for entity, key, action, before, after in entries
            ],
        )

    def commit_lookups(self, plan: _Plan) -> None:
        """What a committed batch teaches the rest of the import: its new products and
        categories, and the customers it touched."""
        self.touched.update(plan.touched_customers)
        self.classified.update(plan.classified_customers)
        self.remember_unwritten(plan)
        for (kind, name), pid in plan.new_names.items():
            (self.products if kind == "product" else self.categories)[name] = pid

    def remember_unwritten(self, plan: _Plan) -> None:
        """The first lines a batch wrote nothing of, for their repeats in later batches (a
        dry run's too: what it would have written nothing of)."""
        if plan.unwritten:
            keys = np.array([k for k, _line in plan.unwritten], dtype=np.int64)
            self.unwritten_keys.add(keys)
            lines = [hash((k, line)) for k, line in plan.unwritten]
            self.unwritten_lines.add(np.array(lines, dtype=np.int64))

    def replay_first_lines(self, s: Session, items: list[_Item]) -> None:
        """Dry run: the first lines of the keys this batch repeats, written again in its
        transaction (rolled back with it), counting nothing.

        The real run judges a key repeated in a later batch against the row its first line
        wrote (the stored values with that line's over them: a blank cell erases nothing);
        a dry run rolled that batch back. It once judged such a repeat against the first
        line's values alone, and so rejected as ``duplicate_key`` lines the real run counts
        as repeats (a blank where the first line had a value), and as ``duplicate_key``
        lines the real run refuses for their own customer. Written again here, the repeat
        meets the row the real run would show it. First lines that wrote nothing are
        compared by ``_repeats_of_unwritten`` instead, as in the real run."""
        repeats = [hash(it.key) for it in items if it.repeat]
        if not repeats:
            return
        unwritten = self.unwritten_keys.contains(np.array(repeats, dtype=np.int64))
        firsts = [
            self.first_lines[h]
            for h, gone in zip(repeats, unwritten, strict=True)
            if not gone and h in self.first_lines and h not in self.failed_keys
        ]
        if firsts:
            again = [c for c in self.clean_batch(firsts) if isinstance(c, _Item)]
            self.write(s, self.plan(s, again))


_NO_CONTEXT = contextlib.nullcontext()
CUSTOMER_ID_CACHE = 200_000
"""Customer codes an order or interaction import remembers the ids of (~100 bytes each)."""
CUSTOMER_KEYS = sa.select(ChangeCounter.__table__.c.value).where(
    ChangeCounter.__table__.c.name == "customer_keys"
)
"""The counter that moves when a remembered code → id answer may have gone stale (SQLite)."""
CUSTOMER_ID_TTL = 5.0
"""PostgreSQL: seconds an import trusts a remembered id; a customer merged or deleted
meanwhile is seen within that, rather than keep receiving rows for the rest of the import."""


def _as_is(value: Any) -> Any:
    return value


def _stored_followups(s: Session, interaction_ids: list[int]) -> dict[int, list[Any]]:
    """Interaction id → every follow-up linked to it, oldest first (id, customer_id,
    due_at, reason, status, source), for those that have any: the first of source
    ``interaction`` is the one it was logged with."""
    out: dict[int, list[Any]] = {}
    for chunk in chunks(interaction_ids):
        for r in s.execute(
            sa.select(
                FT.c.id,
                FT.c.interaction_id,
                FT.c.customer_id,
                FT.c.due_at,
                FT.c.reason,
                FT.c.status,
                FT.c.source,
            )
            .where(FT.c.interaction_id.in_(padded(chunk)))
            .order_by(FT.c.id)
        ):
            out.setdefault(r.interaction_id, []).append(r)
    return out


def _new_subject(row: Any, values: dict[str, Any]) -> str | None:
    """The subject an interaction line gives its stored row, when it is another one."""
    subject = values.get("subject")
    return subject if subject and subject != row["subject"] else None


def by_field_value(it: _Item, fields: dict[str, str], name: str) -> Any:
    col = fields.get(name)
    return it.raw.get(col) if col else None


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, dt.datetime) and isinstance(new, dt.datetime):
        return _utc(old) == _utc(new)
    if isinstance(new, Decimal) and old is not None:
        return Decimal(str(old)) == new
    return old == new


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _says_nothing_new(later: dict[str, Any], earlier: dict[str, Any]) -> bool:
    """Whether a repeated key's later line only repeats its earlier one: each value it holds
    is the earlier line's (a blank cell holds none), its custom fields and tags among the
    earlier ones'."""
    for name, value in later.items():
        before = earlier.get(name)
        if name == "custom_fields":
            if any((before or {}).get(k) != v for k, v in value.items()):
                return False
        elif name == "tags":
            if set(value) - set(before or ()):
                return False
        elif before is None or not _same(before, value):
            return False
    return True


def _content_hash(values: dict[str, Any]) -> int:
    try:
        return hash(tuple(sorted(values.items())))
    except TypeError:  # a dict value (custom fields)
        return hash(tuple(sorted((k, repr(v)) for k, v in values.items())))


class _RejectsWriter:
    """Rejected rows in their original columns plus the error, in the source's encoding, so
    the file can be fixed and imported again (the error columns are ignored on re-import).

    A reason the source's encoding cannot hold (Chinese messages are simplified characters,
    which Big5 lacks) was written as ``????``: at the first such row the file is rewritten
    in UTF-8 with a BOM, which every encoding's text fits and the import detects, and
    ``fell_back`` says so."""

    def __init__(
        self, path: Path, headers: list[str], encoding: str | None, source_format: str
    ) -> None:
        self.path = path
        self.encoding = encoding or "utf-8-sig"
        self.fell_back = False
        try:
            self.fh = path.open("w", encoding=self.encoding, newline="")
        except OSError as exc:
            raise cannot_write(path, exc, "rejects") from exc
        self.mark = _rejects_mark(source_format)
        # A rejects file imported again brings its own error columns: written once, anew.
        self.headers = [h for h in headers if not is_reject_column(h)]
        self.writer = csv.writer(self.fh)
        self._row([*self.headers, *REJECT_COLUMNS])

    def write(self, line: int, raw: dict[str, Any], err: RowError) -> None:
        values = ["" if raw.get(h) is None else self.mark(_cell(raw.get(h))) for h in self.headers]
        reason = err.reason
        if raw.get(INVALID):  # a line that made no record: its text, to fix
            reason = f"{reason}: {raw[INVALID]}"
        self._row([*values, line, err.code, err.field or "", reason])

    def _row(self, cells: list[Any]) -> None:
        try:
            self.writer.writerow(cells)  # one write: a row that cannot be encoded leaves none
        except UnicodeEncodeError:
            if self.fell_back:
                raise
            self._to_utf8()
            self.writer.writerow(cells)

    def _to_utf8(self) -> None:
        self.fh.close()
        with self.path.open(encoding=self.encoding, newline="") as fh:
            written = fh.read()
        try:
            self.fh = self.path.open("w", encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise cannot_write(self.path, exc, "rejects") from exc
        self.fh.write(written)
        self.writer = csv.writer(self.fh)
        self.fell_back = True

    def close(self) -> None:
        self.fh.close()


def _rejects_mark(source_format: str) -> Callable[[str], str]:
    """How a rejected cell is written to the rejects CSV so that importing that file gives
    the text the source meant, and no cell is a live formula for whoever opens it to fix.

    A CSV's cells are written as read: their apostrophes are the file's own marks. A
    workbook's text was taken as written, less one apostrophe before a formula sign: text
    that starts with the sign itself gets one. JSON Lines text is plain: it is marked as an
    export marks it (before, ``'=x`` came back as ``=x`` and ``=SUM(1)`` went out live)."""
    if source_format == "csv":
        return str
    if source_format in ("xlsx", *SHEET_FORMATS):
        return lambda v: "'" + v if v.startswith(FORMULA_START) else v
    return neutralise


def _cell(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def count_lines(path: Path, encoding: str | None = None) -> int | None:
    """Lines in a text file (one fast pass over bytes), for the progress bar's total and
    the bulk-load threshold; None for a workbook (told by its content: an .xls name may
    hold one). UTF-16 is counted as text: a byte 0x0A is also half of many characters there
    (上 is 0x4E0A), which made a 1,000-line file count thousands."""
    if file_format(path) not in ("csv", "jsonl"):
        return None
    n = 0
    if encoding and encoding.lower().replace("_", "-").startswith("utf-16"):
        with path.open("r", encoding=encoding, errors="replace", newline="") as text:
            while part := text.read(1 << 20):
                n += part.count("\n")
        return n
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            n += chunk.count(b"\n")
    return n


def last_line(path: Path, source: Source) -> int | None:
    """The progress bar's total and the bulk-load threshold's size: a text file's lines,
    or the last row of an old workbook, a web page's table or an XML spreadsheet, which
    their readers know (an XLSX sheet's is not known)."""
    if isinstance(source, SheetSource):
        return source.last_line()
    return count_lines(path, source.encoding)


def read_as(source: Source) -> str:
    """What a file was read as, for the summary's Encoding line and the import list: a text
    file's encoding; else its format, with the encoding of a web page's text."""
    info = source.info
    if source.encoding:
        return source.encoding
    return f"{info.format} ({info.encoding})" if info.encoding else info.format


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class Preview:
    """What the import screen and ``--show-mapping`` show before anything is written."""

    format: str
    encoding: str | None
    headers: list[str]
    mapping: ColumnMapping
    rows: list[tuple[int, dict[str, Any]]]
    missing_required: list[str]
    warnings: list[str] = field(default_factory=list)
    """What the operator should know before importing (formulas with no saved result)."""
    read_as: str = ""
    """What the file was read as (:func:`read_as`): ``gb18030``, ``xlsx``, ``html (gbk)``."""


PREVIEW_CHECKED_ROWS = 10
"""Rows after the header a preview checks for formulas with no saved result, at the least:
``--show-mapping`` shows none, but its mapping of a column of such formulas misleads."""


def preview_file(
    path: Path | str,
    kind: str,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    mapping: dict[str, str | None] | Path | str | None = None,
    limit: int = 10,
) -> Preview:
    source = open_source(path, encoding=encoding, sheet=sheet)
    cm = _mapping_for(kind, source, mapping)
    rows: list[tuple[int, dict[str, Any]]] = []
    for line, raw in source.rows():
        rows.append((line, raw))
        if len(rows) >= limit:
            break
    warnings = []
    # The first rows only: the import checks the whole sheet.
    checked = max(limit, PREVIEW_CHECKED_ROWS)
    if isinstance(source, XlsxSource) and (note := source.unsaved_formulas(rows=checked)):
        warnings.append(note)
    # A web page's encoding (a sheet source's ``encoding`` is None): the TUI hands it back
    # to the import, so an encoding typed for the preview holds for the run too.
    encoding = source.encoding or source.info.encoding
    return Preview(
        source.info.format,
        encoding,
        source.headers,
        cm,
        rows,
        cm.missing_required(),
        warnings,
        read_as(source),
    )


def _mapping_for(
    kind: str, source: Source, mapping: dict[str, str | None] | ColumnMapping | Path | str | None
) -> ColumnMapping:
    if isinstance(mapping, ColumnMapping):
        return mapping
    overrides = read_mapping_file(mapping) if isinstance(mapping, Path | str) else mapping
    return build_mapping(kind, source.headers, overrides)


def _batches(rows: Iterator[tuple[int, dict[str, Any]]], size: int) -> Iterator[list]:
    """``rows`` ``size`` at a time, each batch read with the cyclic collector paused.

    Reading a batch allocates a dict per line, and with the collector on those allocations
    set off collections that walked everything the process holds (SQLAlchemy's metadata,
    the importer's memories): 1.1 s of a million-order import, half the cost of reading
    the file. The caller pauses it again for cleaning and writing the batch, which cost
    about a sixth of an order import's CPU with it on, and for each follow-up, between
    which ``give_back_memory`` collects."""
    while True:
        with collector.paused():
            batch = list(itertools.islice(rows, size))
        if not batch:
            return
        yield batch


def import_file(
    ctx: ServiceContext,
    kind: str,
    path: Path | str,
    *,
    mode: str = "update",
    dry_run: bool = False,
    encoding: str | None = None,
    sheet: str | None = None,
    mapping: dict[str, str | None] | ColumnMapping | Path | str | None = None,
    region: str = DEFAULT_REGION,
    batch_size: int = DEFAULT_BATCH,
    rejects_path: Path | str | None = None,
    progress: Progress | None = None,
    stop: Callable[[], bool] | None = None,
) -> ImportResult:
    """Import ``path`` as ``kind`` (customers, orders or interactions); see the module doc.

    ``stop`` is asked after each batch: when it answers yes (the operator left the TUI's
    import) the import ends there with :class:`Stopped`, as if killed: its committed
    batches stay, it is listed as interrupted, and importing the file again completes it."""
    check_kind(kind)
    if mode not in MODES:
        raise InvalidInput(
            _("unknown mode: {mode} (update, skip or insert-only)").format(mode=mode),
            field="mode",
        )
    import phonenumbers  # the phone library's own list of regions

    if region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput(
            _("unknown region: {region} (a two-letter country code such as CN, HK, TW, US)")
            .format(region=region),
            field="region",
        )  # fmt: skip
    region = region.upper()
    path = Path(path)
    if rejects_path is not None:
        if _same_file(Path(rejects_path), path):
            raise InvalidInput(
                _("--rejects {file} is the file being imported; name another file").format(
                    file=rejects_path
                ),
                field="rejects",
            )
        refuse_database_file(ctx, Path(rejects_path), "rejects")
        _check_writable(Path(rejects_path))
    source = open_source(path, encoding=encoding, sheet=sheet)
    cm = _mapping_for(kind, source, mapping)
    missing = cm.missing_required()
    if missing and not source.headers and next(iter(source.rows()), None) is None:
        # An empty file (a JSON Lines export of no rows is one): nothing to import, which
        # is no error; a CSV of a header and no rows reads the same.
        empty = ImportResult(None, kind, str(path), read_as(source), mode, dry_run)
        empty.warnings.append(_("{file} holds no rows").format(file=path))
        return empty
    if missing:
        message = _("no column for required field(s): {fields}; name them with --map").format(
            fields=", ".join(missing)
        )
        note = cm.absent_note()
        raise InvalidInput(
            f"{message} ({note})" if note else message, field=missing[0], code="missing_required"
        )
    total_lines = last_line(path, source)
    import_id: int | None = None
    with contextlib.ExitStack() as liveness:
        repaired: dict[str, set[int]] = {}
        if not dry_run:
            repaired = repair_interrupted(ctx)
            with ctx.transaction() as s:
                import_id = s.execute(
                    sa.insert(BT).values(
                        kind=kind,
                        file=str(path.resolve())[:500],
                        file_hash=file_sha256(path),
                        encoding=read_as(source),
                        actor=ctx.actor.username,
                        started_at=ctx.now(),
                        status="running",
                    )
                ).inserted_primary_key[0]
                # Held before the row is visible: no one ever sees it "running" unheld.
                liveness.enter_context(import_liveness.held(ctx, import_id))
        table = str(TABLE[kind].name)
        indexes_down = False
        try:
            # Taken down only while this import is seen alive, so no one opening the
            # database meanwhile builds them under it (``bulk_load.restore_abandoned``).
            # All or nothing: a failed take-down leaves every index in place.
            indexes_down = (
                not dry_run
                and bulk_load.worth_deferring(ctx, table, total_lines)
                and bulk_load.take_down(ctx, table)
            )
            return _import_rows(
                ctx, kind, path, source, cm, import_id, repaired.get(kind, set()),
                mode=mode, dry_run=dry_run, region=region, batch_size=batch_size,
                rejects_path=rejects_path, progress=progress, stop=stop,
                total_lines=total_lines, indexes_down=indexes_down,
            )  # fmt: skip
        except BaseException:
            if indexes_down:  # the normal end builds them before its last transaction
                # If this fails too, the next import or the next process to open the
                # database builds them.
                with contextlib.suppress(sa.exc.SQLAlchemyError):
                    bulk_load.restore(ctx, (table,))
            raise


def _check_writable(path: Path) -> None:
    """Refuse a rejects file that cannot be written before anything is: found only when the
    first bad line came, it ended the import with a raw Python error and left it listed as
    interrupted."""
    reason = None
    if path.is_dir():
        reason = os.strerror(errno.EISDIR)
    elif not path.parent.is_dir():
        reason = os.strerror(errno.ENOENT)
    elif not os.access(path if path.exists() else path.parent, os.W_OK):
        reason = os.strerror(errno.EACCES)
    if reason:
        raise cannot_write(path, reason, "rejects")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return a.resolve() == b.resolve()


def _import_rows(
    ctx: ServiceContext,
    kind: str,
    path: Path,
    source: Source,
    cm: ColumnMapping,
    import_id: int | None,
    repaired: set[int],
    *,
    mode: str,
    dry_run: bool,
    region: str,
    batch_size: int,
    rejects_path: Path | str | None,
    progress: Progress | None,
    stop: Callable[[], bool] | None,
    total_lines: int | None,
    indexes_down: bool = False,
) -> ImportResult:
    result = ImportResult(import_id, kind, str(path), read_as(source), mode, dry_run)
    if note := cm.absent_note():
        result.warnings.append(note)
    if isinstance(source, XlsxSource) and (note := source.unsaved_formulas()):
        result.warnings.append(note)
    importer = _Importer(
        ctx, kind, cm, mode=mode, region=region, import_id=import_id,
        marked=carries_marks(source.info.format),
    )  # fmt: skip
    rejects = (
        _RejectsWriter(Path(rejects_path), source.headers, source.encoding, source.info.format)
        if rejects_path
        else None
    )
    crash_after = int(os.environ.get(CRASH_ENV, "0") or 0)

    pending: list[tuple[int, dict[str, Any], str | None, RowError]] = []
    conflicts: list[_Item] = []  # a batch's repeats with other values than its first line

    def reject(line: int, raw: dict[str, Any], key: str | None, err: RowError) -> None:
        result.rejected_count += 1
        pending.append((line, raw, key, err))

    def flush_rejects() -> None:
        # In line order, whichever stage (cleaning or writing) found the fault.
        for line, raw, key, err in sorted(pending, key=lambda p: p[0]):
            if len(result.rejected) < MAX_REPORTED_REJECTS:
                result.rejected.append(Reject(line, key, err.field, err.code, err.reason))
            if rejects:
                rejects.write(line, raw, err)
        pending.clear()

    key_col = cm.field_columns().get(KEY_FIELD[kind])
    if dry_run:
        importer.differing = _differing_keys(source, key_col, kind, importer.marked)
    try:
        last_line = 0
        for batch in _batches(source.rows(), max(1, batch_size)):
            with collector.paused():
                items: dict[str, _Item] = {}
                result.rows += len(batch)
                last_line = batch[-1][0]
                for (line, raw), item in zip(batch, importer.clean_batch(batch), strict=True):
                    if isinstance(item, RowError):
                        key = clean_text(raw.get(key_col)) if key_col else None
                        reject(line, raw, key or None, item)
                        continue
                    earlier = items.get(item.key)
                    if earlier is not None:
                        # As a line of a later batch is checked against what the first wrote
                        # (``plan``): the same, or blanks where it had values, is a repeat.
                        if _says_nothing_new(item.values, earlier.values):
                            result.duplicates += 1
                        else:
                            conflicts.append(item)
                        continue
                    items[item.key] = item
                if conflicts:
                    with ctx.session() as s:
                        for it, err in importer.refuse_repeats(s, conflicts):
                            reject(it.line, it.raw, it.key, err)
                    conflicts.clear()
                if items:
                    # Keys met in an earlier batch: checked against what that batch wrote.
                    hashes = np.fromiter(map(hash, items), dtype=np.int64, count=len(items))
                    for it in itertools.compress(items.values(), importer.seen.contains(hashes)):
                        it.repeat = True
                    importer.seen.add(hashes)
                if dry_run:
                    _dry_repeats(importer, items, result)
                _run_batch(ctx, importer, list(items.values()), result, reject, dry_run)
            flush_rejects()
            result.batches += 1
            if progress:
                progress(last_line, total_lines)
            if crash_after and result.batches >= crash_after:
                os._exit(17)
            if stop is not None and stop():
                said = _("import stopped after line {line}; importing the file again completes it")
                if dry_run:
                    said = _("dry run stopped after line {line}")
                raise Stopped(said.format(line=last_line))
    finally:
        if rejects:
            rejects.close()
            if rejects.fell_back:
                result.warnings.append(
                    _("{file} is written in UTF-8, as some reasons cannot be written in "
                      "{encoding}").format(file=rejects_path, encoding=rejects.encoding)
                )  # fmt: skip
    if import_id is not None:
        touched = result.touched_customer_ids = importer.touched | repaired
        result.classified_customer_ids = importer.classified - repaired
        # The importer's memories (keys seen, customer ids, cleaned cells: ~30 MB at a
        # million orders) are not needed by the follow-ups, whose peaks they would add to.
        del importer
        table = str(TABLE[kind].name)
        # Customers whose every row the follow-ups rewrite get their indexes back after
        # them (PostgreSQL; see ``bulk_load.worth_deferring_follow_ups``); orders before the
        # aggregate refresh, which reads them. New customers, classified as they were
        # inserted, are not rewritten.
        rewritten = len(touched) - len(result.classified_customer_ids)
        customers_late = (
            indexes_down
            and bulk_load.worth_deferring_follow_ups(ctx, rewritten)
            and (
                kind == "customers" or (kind == "orders" and bulk_load.take_down(ctx, "customers"))
            )
        )
        try:
            if indexes_down and not (customers_late and kind == "customers"):
                # In a transaction of its own: on PostgreSQL building an index blocks writes
                # to its table until commit, which the aggregate refresh would prolong.
                bulk_load.restore(ctx, (table,))
            with ctx.transaction() as s:
                if kind == "orders" and touched:
                    _refresh_aggregates(s, touched)
                # Done: its rows and totals are in. Its finish time waits for the follow-ups:
                # one killed before it has them run by the next import (``repair_interrupted``).
                s.execute(
                    sa.update(BT)
                    .where(BT.c.id == import_id)
                    .values(status="done", **_counts(result))
                )
                _import_settings(s, importing=False)
            if result.inserted + result.updated >= BULK_ROWS:
                _vacuum_analyze(ctx, kind)
            if result.inserted or result.updated or repaired:
                for hook in after_import_hooks:
                    give_back_memory(ctx)
                    with collector.paused():
                        result.extra.update(hook(ctx, result) or {})
        finally:
            if customers_late:
                bulk_load.restore(ctx, ("customers",))
        with ctx.transaction() as s:
            s.execute(sa.update(BT).where(BT.c.id == import_id).values(finished_at=ctx.now()))
        give_back_memory(ctx)
    return result


def _differing_keys(source: Source, key_col: str | None, kind: str, marked: bool) -> set[int]:
    """A dry run's first pass over the file: the hashes of the keys whose lines are not
    all the same, whose first lines it keeps to write again under their repeats (see
    ``_Importer.replay_first_lines``). The rest repeat their first line exactly, which
    the real run counts as a repeat whatever that line wrote, so only their keys' hashes
    are held meanwhile."""
    if key_col is None:
        return set()
    cell = unmark if marked else _as_is
    key_field = KEY_FIELD[kind]
    first: dict[int, int] = {}
    differing: set[int] = set()
    for batch in _batches(source.rows(), DEFAULT_BATCH):
        with collector.paused():
            for _line, raw in batch:
                try:
                    key = hash(clean_key(cell(raw.get(key_col)), key_field))
                except RowError:  # rejected whatever its key: no first line of any
                    continue
                try:
                    line = hash(tuple(raw.items()))
                except TypeError:  # a JSON list or object in a cell
                    line = hash(repr(sorted(raw.items(), key=lambda kv: kv[0])))
                if first.setdefault(key, line) != line:
                    differing.add(key)
    return differing


def _dry_repeats(importer: _Importer, items: dict[str, _Item], result: ImportResult) -> None:
    """Dry run: a key met in an earlier batch whose every line is the same counts as a
    repeat here, as the real run counts it; the first line of a key whose lines differ is
    kept, to be written again under its repeats (``_Importer.replay_first_lines``)."""
    for key, it in list(items.items()):
        h = hash(key)
        if h not in importer.differing:
            if it.repeat:
                result.duplicates += 1
                del items[key]
        elif not it.repeat:
            importer.first_lines[h] = (it.line, it.raw)


BULK_ROWS = 10_000
"""Rows an import must write before it refreshes PostgreSQL's statistics at its end."""


def _vacuum_analyze(ctx: ServiceContext, kind: str) -> None:
    """On PostgreSQL, ``VACUUM (ANALYZE)`` the tables a bulk import wrote.

    The planner reads the row counts and value spreads ``ANALYZE`` last recorded: straight
    after loading a million orders into a table it believed empty it picks sequential scans
    and nested loops for the follow-ups and for the next lists, until autovacuum comes round
    (later, or never on a server where it is off). ``VACUUM`` also marks the new pages
    all-visible, which index-only scans need, and clears the row versions the aggregate
    refresh replaced. It cannot run in a transaction, so it gets an autocommit connection
    of its own; SQLite's planner needs nothing here."""
    if ctx.db.backend != "postgresql":
        return
    tables = [TABLE[kind]] + ([CT] if kind != "customers" else [])
    with ctx.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        quote = conn.dialect.identifier_preparer
        for table in tables:
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {quote.format_table(table)}")


def give_back_memory(ctx: ServiceContext) -> None:
    """Return what the last phase of an import held to the operating system.

    Each phase (the batches, then each follow-up) needs its own working memory, but freed
    memory stays in the process — in the page cache of every pooled SQLite connection
    (64 MB each) and in the C allocator's free lists — so the peaks added up: customers,
    the duplicate check, orders and the value refresh ended at 470 MB where no phase
    needs 200 MB. Closing the idle SQLite connections (reopened on demand in about a
    millisecond) and trimming the allocator makes the process's peak that of its largest
    phase. On PostgreSQL the cache lives in the server."""
    gc.collect()
    database = ctx.db.engine.url.database or ""
    if ctx.db.backend == "sqlite" and database not in ("", ":memory:"):
        ctx.db.engine.dispose()  # never an in-memory database: it lives in its connection
    _trim_allocator()


def _trim_allocator() -> None:
    """glibc's ``malloc_trim``: hand free heap pages back (a no-op elsewhere)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


WHOLE_BASE_SHARE = 2
"""An import that touched at least 1/this of the customers refreshes every customer's order
totals in one statement (see :func:`_refresh_aggregates`)."""


def _refresh_aggregates(s: Session, customer_ids: set[int]) -> None:
    """The order totals of the customers an order import touched, once, at its end.

    Kept per batch they cost an UPDATE of every touched customer in every batch (a customer
    with ten orders spread over a file was rewritten ten times). Done here, in the
    transaction that marks the import done, a killed import leaves totals behind only for
    an import still marked running, which :func:`repair_interrupted` puts right.

    When the import touched most of the customers (a first load of an order history), the
    whole base is refreshed in one statement: the customers of a chunk of ids have their
    orders all over the table, and PostgreSQL read the whole orders table for each chunk of
    5,000 (100k customers, 1M orders: 13 s against 19 s with the customers' indexes in
    place; SQLite 1.8 s against 2.0 s). Customers the import did not touch are compared
    too, and rewritten only if their stored totals were wrong."""
    if not customer_ids:
        return
    held = s.execute(sa.select(sa.func.count()).select_from(CT)).scalar_one()
    if len(customer_ids) * WHOLE_BASE_SHARE >= held:
        refresh_customer_aggregates(s, None)
    else:
        refresh_customer_aggregates(s, sorted(customer_ids))


def repair_interrupted(ctx: ServiceContext) -> dict[str, set[int]]:
    """Mark imports whose process died "interrupted", putting right what they left undone.

    Such an import's committed batches are whole, but it never reached its end: the order
    totals of its customers were not refreshed and its follow-ups never ran. Their totals
    are recomputed here (from the orders themselves, so running this twice is harmless) and
    the customers are returned by kind, for the next import of that kind to include in its
    follow-ups. Runs before every import, so running the killed file again completes it.

    An import killed after it was marked done, while its follow-ups ran (done, with no
    finish time), has its customers returned the same way, and its finish time set."""
    from tricrm_tui.services.import_hooks import touched_customer_ids

    with ctx.session() as s:
        stale = s.execute(
            sa.select(BT.c.id, BT.c.kind, BT.c.status)
            .where(
                sa.or_(
                    BT.c.status == "running",
                    sa.and_(BT.c.status == "done", BT.c.finished_at.is_(None)),
                )
            )
            .order_by(BT.c.id)
        ).all()
    alive = import_liveness.running(ctx, [i for i, _kind, _status in stale])
    found: dict[str, set[int]] = {}
    for import_id, kind, status in stale:
        if import_id in alive:
            continue
        ids = touched_customer_ids(ctx, kind, import_id)
        with ctx.transaction() as s:
            if status == "done":
                s.execute(
                    sa.update(BT)
                    .where(BT.c.id == import_id, BT.c.finished_at.is_(None))
                    .values(finished_at=ctx.now())
                )
            else:
                if kind == "orders" and ids:
                    _refresh_aggregates(s, set(ids))
                s.execute(
                    sa.update(BT)
                    .where(BT.c.id == import_id, BT.c.status == "running")
                    .values(status="interrupted")
                )
        import_liveness.forget(ctx, import_id)
        found.setdefault(kind, set()).update(ids)
    # A process that stays open (the TUI) would otherwise keep what a failed bulk import
    # could not build back until some other process opened the database.
    bulk_load.restore_abandoned(ctx)
    return found


SQLITE_WAL_PAGES = 1000
"""SQLite's own default for ``wal_autocheckpoint``."""
IMPORT_WAL_PAGES = 20_000
"""During an import: checkpoint once the write-ahead log holds ~80 MB rather than ~4 MB."""
IMPORT_CACHE_KIB = 16_384
"""During an import: the batch connection's SQLite page cache (16 MB rather than 64 MB)."""


def _import_settings(s: Session, importing: bool) -> None:
    """On SQLite, the batch connection's settings while an import writes, or back to normal.

    The write-ahead log may grow to ``IMPORT_WAL_PAGES`` before a commit copies it back:
    each batch rewrites pages all over the customers' and orders' indexes, and with the
    default every commit checkpointed (and fsynced) them, a third of a million-order
    import. Durability is untouched: a commit is as safe in the log as in the file.

    The page cache shrinks to 16 MB: a batch appends rows and index entries, so a large
    cache buys few hits, and at a million orders the 64 MB one, with what the allocator
    kept around it, was ~120 MB of the import's peak (296 → 177 MB at 300,000 orders).
    Both go back to the defaults in the transaction that ends the import (the connection
    is pooled)."""
    if s.get_bind().dialect.name != "sqlite":
        return
    pages, cache = (
        (IMPORT_WAL_PAGES, IMPORT_CACHE_KIB) if importing else (SQLITE_WAL_PAGES, SQLITE_CACHE_KIB)
    )
    s.execute(sa.text(f"PRAGMA wal_autocheckpoint={int(pages)}"))
    s.execute(sa.text(f"PRAGMA cache_size=-{int(cache)}"))


def _duplicate_key(kind: str, key: str) -> RowError:
    return RowError(
        "duplicate_key",
        KEY_FIELD[kind],
        _("{key} appears earlier in the file with other values").format(key=key),
    )


def _counts(result: ImportResult) -> dict[str, int]:
    return {
        "rows": result.rows,
        "inserted": result.inserted,
        "updated": result.updated,
        "unchanged": result.unchanged + result.skipped + result.duplicates,
        "rejected": result.rejected_count,
    }


def _run_batch(
    ctx: ServiceContext,
    importer: _Importer,
    items: list[_Item],
    result: ImportResult,
    reject: Callable[[int, dict[str, Any], str | None, RowError], None],
    dry_run: bool,
) -> None:
    """One transaction: plan, write, count. Should the database refuse the batch (a
    constraint no row check foresaw), each row is retried alone so only the bad one fails."""
    try:
        plan = _write_batch_again_after_deadlocks(ctx, importer, items, result, dry_run)
    except sa.exc.SQLAlchemyError as exc:
        # Planning turned the items' values into rows: a retry cleans the lines again.
        cleaned = _cleaned_again(importer, items)
        if importer.trusted_batch and isinstance(exc, sa.exc.IntegrityError):
            # Some key of a batch that did not ask was stored after all (an earlier import,
            # or another user meanwhile): plan it again, asking, and ask from now on.
            importer.trust_new_keys, importer.keys_refused = False, True
            whole = [c for c in cleaned if isinstance(c, _Item)]
            if len(whole) == len(items):
                _run_batch(ctx, importer, whole, result, reject, dry_run)
                return
        if len(items) == 1:
            importer.failed_keys.add(hash(items[0].key))
            reject(
                items[0].line,
                items[0].raw,
                items[0].key,
                RowError("database_error", None, _("the database refused this row")),
            )
            return
        # Each line alone, so only the bad one fails.
        for it, again in zip(items, cleaned, strict=True):
            if isinstance(again, RowError):  # cleaned once already, so never expected
                reject(it.line, it.raw, it.key, again)
                continue
            _run_batch(ctx, importer, [again], result, reject, dry_run)
        return
    for it, err in plan.rejects:
        reject(it.line, it.raw, it.key, err)


DEADLOCK_RETRIES = 3
TRANSIENT_SQLSTATES = ("40P01", "40001")
"""PostgreSQL's deadlock and serialization failures: the transaction was chosen to give
way, and the same work run again normally goes through."""


def _write_batch_again_after_deadlocks(
    ctx: ServiceContext,
    importer: _Importer,
    items: list[_Item],
    result: ImportResult,
    dry_run: bool,
) -> _Plan:
    """``_write_batch``, run again (up to ``DEADLOCK_RETRIES`` times) when PostgreSQL
    chose the batch's transaction to break a deadlock with another user's, instead of
    failing the whole import as an unavailable database."""
    for attempt in itertools.count(1):
        try:
            return _write_batch(ctx, importer, items, result, dry_run)
        except DatabaseUnavailable as exc:
            state = getattr(getattr(exc.__cause__, "orig", None), "sqlstate", None)
            if attempt > DEADLOCK_RETRIES or state not in TRANSIENT_SQLSTATES:
                raise
            again = _cleaned_again(importer, items)  # planning made the values rows
            items = [it for it in again if isinstance(it, _Item)]
            if len(items) != len(again):  # cleaned once already, so never expected
                raise
    raise AssertionError("unreachable")


def _cleaned_again(importer: _Importer, items: list[_Item]) -> list[_Item | RowError]:
    """``items`` cleaned again from their lines, keeping their repeat marks."""
    cleaned = importer.clean_batch([(i.line, i.raw) for i in items])
    for it, again in zip(items, cleaned, strict=True):
        if isinstance(again, _Item):
            again.repeat = it.repeat
    return cleaned


@contextlib.contextmanager
def _sqlite_order_batch(ctx: ServiceContext) -> Iterator[Session]:
    """SQLite: an order batch's transaction, holding the write lock from its start and
    without per-row foreign-key checks (``bulk.sqlite_references_unchecked``). Everything
    the batch refers to it finds inside it: its customers by code, or remembered at a
    ``customer_keys`` value it reads inside it (``_customer_ids``); its products and
    categories looked up, created, or remembered and checked (``_name_ids``)."""
    with (
        translate_db_errors(ctx.db.display_url),  # as ``ctx.transaction()`` does
        bulk.sqlite_references_unchecked(ctx.db.engine) as conn,
        Session(bind=conn, expire_on_commit=False) as s,
        s.begin(),
    ):
        # Through the session, whose transaction then is the connection's (begun on the
        # connection itself, the session would join it and leave it uncommitted).
        deferred.begin_immediate(s.connection())
        yield s


def _write_batch(
    ctx: ServiceContext,
    importer: _Importer,
    items: list[_Item],
    result: ImportResult,
    dry_run: bool,
) -> _Plan:
    if dry_run:
        manager = ctx.session()
    elif importer.kind == "orders" and ctx.db.backend == "sqlite":
        manager = _sqlite_order_batch(ctx)
    else:
        manager = ctx.transaction()
    with manager as s:
        if not dry_run:
            _import_settings(s, importing=True)
        else:
            importer.replay_first_lines(s, items)
        plan = importer.plan(s, items) if items else _Plan()
        importer.write(s, plan)
        inserted, updated = len(plan.inserts), len(plan.updates) + plan.followup_only
        if importer.import_id is not None:
            counts = _counts(result)
            counts["inserted"] += inserted
            counts["updated"] += updated
            counts["unchanged"] += plan.unchanged + plan.skipped + plan.duplicates
            counts["rejected"] += len(plan.rejects)
            s.execute(sa.update(BT).where(BT.c.id == importer.import_id).values(**counts))
        if dry_run:
            s.rollback()
    if not dry_run:
        importer.commit_lookups(plan)
    else:
        importer.remember_unwritten(plan)
    result.inserted += inserted
    result.updated += updated
    result.unchanged += plan.unchanged
    result.skipped += plan.skipped
    result.duplicates += plan.duplicates
    result.follow_ups_created += len(plan.new_followups)
    result.follow_ups_moved += len(plan.moved_followups)
    result.warnings += plan.notes
    return plan


# ----------------------------------------------------------------------------- history, undo


@dataclass(frozen=True)
class ImportRecord:
    id: int
    kind: str
    file: str
    file_hash: str
    encoding: str | None
    actor: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    status: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    undone_at: dt.datetime | None


def list_imports(ctx: ServiceContext, *, limit: int = 50, offset: int = 0) -> Page[ImportRecord]:
    """Past imports, newest first. One recorded as running whose process is gone shows as
    ``interrupted`` (see :mod:`~tricrm_tui.services.import_liveness`)."""
    with ctx.session() as s:
        total = s.execute(sa.select(sa.func.count()).select_from(BT)).scalar_one()
        rows = s.execute(
            sa.select(BT).order_by(BT.c.id.desc()).limit(clamp_limit(limit)).offset(offset)
        ).mappings()
        items = [ImportRecord(**{k: r[k] for k in ImportRecord.__dataclass_fields__}) for r in rows]
    started = [r.id for r in items if r.status == "running"]
    if started:
        alive = import_liveness.running(ctx, started)
        items = [
            dataclasses.replace(r, status="interrupted")
            if r.status == "running" and r.id not in alive
            else r
            for r in items
        ]
    return Page(items=items, total=total, limit=clamp_limit(limit), offset=offset)


@dataclass(frozen=True)
class UndoResult:
    import_id: int
    removed: int
    restored: int
    follow_ups_removed: int = 0
    follow_ups_restored: int = 0
    """Follow-ups the import had moved, given back their date, reason and customer."""


def _from_json(table: sa.Table, values: dict[str, Any]) -> dict[str, Any]:
    """Audit JSON back to column values (ISO text → dates, strings → Decimal)."""
    out: dict[str, Any] = {}
    for col, v in values.items():
        if col not in table.c:
            continue
        t = table.c[col].type
        if v is not None and isinstance(v, str):
            if isinstance(t, sa.DateTime) or "DateTime" in type(t).__name__:
                v = dt.datetime.fromisoformat(v)
            elif isinstance(t, sa.Date) or "Date" in type(t).__name__:
                v = dt.date.fromisoformat(v)
            elif isinstance(t, sa.Numeric):
                v = Decimal(v)
        out[col] = v
    return out


def undo_import(ctx: ServiceContext, import_id: int) -> UndoResult:
    """Revert an import: remove what it inserted, put back what it changed.

    Refused (with the records named) when later work depends on it: another change to a
    record it touched, or orders, interactions or follow-ups hanging on a customer it added.
    """
    try:
        result, kind, touched, classified = _undo(ctx, import_id)
    except sa.exc.IntegrityError as exc:
        raise Conflict(
            _("import {id} cannot be undone: other records still refer to rows it added").format(
                id=import_id
            )
        ) from exc
    # The classes and value the import's rows gave are worked out again without them, as
    # the import's own follow-ups worked them out with them: the classes in the undo's own
    # transaction (unless the rules cannot be read: then the classification says why).
    if touched:
        from tricrm_tui.services.classify import classify_customers
        from tricrm_tui.services.value import refresh_current

        with collector.paused():
            if not classified:
                classify_customers(ctx, sorted(touched), behaviour_only=kind == "orders")
            if kind == "orders":
                refresh_current(ctx)
    return result


def _undo(ctx: ServiceContext, import_id: int) -> tuple[UndoResult, str, set[int], bool]:
    """The undo, its kind, the still-present customers whose classes it changed, and
    whether it classified them again."""
    with ctx.transaction() as s:
        batch = s.execute(sa.select(BT).where(BT.c.id == import_id)).mappings().first()
        if batch is None:
            raise NotFound(_("no import {id}").format(id=import_id))
        if batch["status"] == "undone":
            raise Conflict(_("import {id} was already undone").format(id=import_id))
        if batch["finished_at"] is None and import_liveness.running(ctx, [import_id]):
            # Its next batches would write on, and its end mark it done over the undo (or
            # its follow-ups classify its customers after the undo did).
            raise Conflict(
                _("import {id} is still running; undo it once it has ended").format(id=import_id)
            )
        kind = batch["kind"]
        table = TABLE[kind]
        key_col = table.c[KEY_COLUMN[kind]]
        entity = ENTITY[kind]
        entries = s.execute(
            sa.select(AT.c.id, AT.c.entity, AT.c.entity_id, AT.c.action, AT.c.before, AT.c.after)
            .where(AT.c.import_id == import_id)
            .order_by(AT.c.id)
        ).all()
        inserted: list[str] = []
        updates: list[Any] = []
        for e in entries:
            if e.entity != entity:
                continue
            if e.action == "import_insert":
                inserted += list((e.after or {}).get("keys", []))
            elif e.action == "import_update":
                updates.append(e)
        first_entry = entries[0].id if entries else None
        blockers = _later_changes(
            s, entity, inserted + [u.entity_id for u in updates], import_id, first_entry
        )
        # The follow-ups an interaction import created go with it, and those it moved go
        # back, unless someone worked on them since (done, snoozed, cancelled, moved again).
        created_followups = [
            int(e.entity_id) for e in entries if e.entity == "followup" and e.action == "create"
        ]
        moved_followups = [
            e for e in entries if e.entity == "followup" and e.action == "import_update"
        ]
        blockers += _later_changes(
            s,
            "followup",
            [str(i) for i in created_followups] + [e.entity_id for e in moved_followups],
            import_id,
            first_entry,
        )
        # Before the interactions' dependants are counted: they are not later work. (Should
        # anything stand in the way, the refusal below rolls this back.)
        followups_removed = 0
        for chunk in chunks(created_followups):
            followups_removed += s.execute(sa.delete(FT).where(FT.c.id.in_(chunk))).rowcount or 0
        if kind == "customers" and inserted:
            blockers += _dependants(s, inserted)
        elif inserted:
            blockers += _merged_away(s, table, kind, inserted)
            blockers += _row_dependants(s, table, kind, inserted)
        if kind != "customers" and updates:
            blockers += _back_to_merged(s, updates)
        if blockers:
            raise Conflict(
                _("import {id} cannot be undone: later changes depend on it: {what}").format(
                    id=import_id, what="; ".join(blockers[:10])
                )
            )
        touched: set[int] = set()
        now = ctx.now()
        if kind == "customers":
            _remove_added_tags(s, [e for e in entries if e.action == "tag"], inserted)
        followups_restored = 0
        for e in reversed(moved_followups):
            followups_restored += (
                s.execute(
                    sa.update(FT)
                    .where(FT.c.id == int(e.entity_id))
                    .values(**_from_json(FT, e.before or {}))
                ).rowcount
                or 0
            )
        for e in reversed(updates):
            values = _from_json(table, e.before or {})
            if kind == "orders":
                touched.update(
                    v for v in (values.get("customer_id"), (e.after or {}).get("customer_id")) if v
                )
                # And the customer it is on now, which a merge may have moved it to since.
                touched.update(
                    s.execute(sa.select(OT.c.customer_id).where(key_col == e.entity_id)).scalars()
                )
            if kind == "customers":
                values["version"] = table.c.version + 1
            if "updated_at" in table.c:
                values["updated_at"] = now
            s.execute(sa.update(table).where(key_col == e.entity_id).values(**values))
            if kind == "customers":
                _refresh_search_text(s, e.entity_id)
        removed = 0
        for chunk in chunks(inserted):
            if kind == "orders":
                touched.update(
                    s.execute(sa.select(OT.c.customer_id).where(key_col.in_(chunk))).scalars()
                )
            if kind == "customers":
                # Value snapshots are derived (recomputed by every refresh), not later work
                # that depends on the customer: they go with it.
                s.execute(
                    sa.delete(ValueSnapshot.__table__).where(
                        ValueSnapshot.__table__.c.customer_id.in_(
                            sa.select(table.c.id).where(key_col.in_(chunk))
                        )
                    )
                )
            removed += s.execute(sa.delete(table).where(key_col.in_(chunk))).rowcount or 0
        if touched:
            refresh_customer_aggregates(s, touched)
            if kind == "orders":
                # Refreshed after this transaction (``undo_import``); owed until then, so an
                # undo killed between the two has the next opening of the database do it.
                pending.owe(s, pending.VALUE)
        created = {
            kind: [(e.after or {}).get("name") for e in entries if e.entity == kind]
            for kind in ("product", "category")
        }
        dropped = _remove_unused(s, PT, created["product"]) + _remove_unused(
            s, KT, created["category"]
        )
        s.execute(sa.update(BT).where(BT.c.id == import_id).values(status="undone", undone_at=now))
        s.execute(
            sa.insert(AT).values(
                at=now,
                actor=ctx.actor.username,
                role=ctx.actor.role,
                entity="import",
                entity_id=str(import_id),
                action="undo",
                before={"status": batch["status"]},
                after={
                    "removed": removed,
                    "restored": len(updates),
                    "dropped": dropped,
                    **({"follow_ups_removed": followups_removed} if followups_removed else {}),
                    **({"follow_ups_restored": followups_restored} if followups_restored else {}),
                },
            )
        )
        if kind == "customers" and updates:
            for chunk in chunks([u.entity_id for u in updates]):
                touched.update(s.execute(sa.select(CT.c.id).where(CT.c.code.in_(chunk))).scalars())
        rules = rules_or_none() if touched else None
        if rules is not None:
            with collector.paused():
                classify_in(s, ctx, sorted(touched), rules, behaviour_only=kind == "orders")
    return (
        UndoResult(import_id, removed, len(updates), followups_removed, followups_restored),
        kind,
        touched,
        rules is not None,
    )


def _remove_added_tags(s: Session, entries: list[Any], inserted: list[str]) -> None:
    """Take off the tags an import added (its ``tag`` entries, as ``customers tag`` writes
    them), before the customers' values and search text are put back; new customers lose
    all theirs, as they go."""
    T = CustomerTag.__table__
    for e in entries:
        added = set((e.after or {}).get("tags", [])) - set((e.before or {}).get("tags", []))
        if added:
            s.execute(
                sa.delete(T).where(
                    T.c.customer_id.in_(sa.select(CT.c.id).where(CT.c.code == e.entity_id)),
                    T.c.tag.in_(sorted(added)),
                )
            )
    for chunk in chunks(inserted):
        s.execute(
            sa.delete(T).where(T.c.customer_id.in_(sa.select(CT.c.id).where(CT.c.code.in_(chunk))))
        )


def _remove_unused(s: Session, table: sa.Table, names: list[str | None]) -> list[str]:
    """Delete the named rows (products or categories an import created) that no row of any
    table refers to any more; returns the names deleted. Those something still uses stay,
    as they would have had the operator created them by hand."""
    from tricrm_tui.models import metadata

    referring = [
        (t, fk.parent)
        for t in metadata.sorted_tables
        for fk in t.foreign_keys
        if fk.column.table is table
    ]
    dropped: list[str] = []
    for chunk in chunks(sorted({n for n in names if n})):
        unused = sa.select(table.c.id, table.c.name).where(
            table.c.name.in_(chunk),
            *(~sa.exists().where(col == table.c.id) for _t, col in referring),
        )
        found = s.execute(unused).all()
        if found:
            s.execute(sa.delete(table).where(table.c.id.in_([i for i, _n in found])))
            dropped += [n for _i, n in found]
    return dropped


ENTITY_LABELS = {
    "customer": N_("customer"),
    "order": N_("order"),
    "interaction": N_("interaction"),
    "followup": N_("follow-up"),
}


def _later_changes(
    s: Session, entity: str, keys: list[str], import_id: int, first_entry: int | None
) -> list[str]:
    if first_entry is None:
        return []
    found: list[str] = []
    undone = sa.select(BT.c.id).where(BT.c.status == "undone")
    for chunk in chunks(sorted(set(keys))):
        q = (
            sa.select(AT.c.entity_id, AT.c.action, AT.c.import_id)
            .where(
                AT.c.entity == entity,
                AT.c.entity_id.in_(chunk),
                AT.c.id > first_entry,
                # Changes by imports since undone no longer stand in the way.
                sa.or_(
                    AT.c.import_id.is_(None),
                    sa.and_(AT.c.import_id != import_id, AT.c.import_id.not_in(undone)),
                ),
            )
            .limit(10)
        )
        for key, action, other in s.execute(q):
            found.append(
                _("{entity} {key} changed later ({action}{by})").format(
                    entity=_(ENTITY_LABELS.get(entity, entity)),
                    key=key,
                    action=action,
                    by=_(", by import {id}").format(id=other) if other else "",
                )
            )
        if len(found) >= 10:
            break
    return found


DEPENDANT_LABELS = {
    "orders": N_("{n} orders"),
    "interactions": N_("{n} interactions"),
    "followups": N_("{n} follow-ups"),
    "feedback": N_("{n} feedback entries"),
    "loyalty_ledger": N_("{n} loyalty ledger entries"),
    "level_changes": N_("{n} member level changes"),
    "stage_events": N_("{n} journey stage events"),
    "campaign_sends": N_("{n} campaign sends"),
    "merge_records": N_("{n} merges"),
    "not_duplicates": N_("{n} not-duplicate decisions"),
    "customers": N_("{n} customers merged into it"),
}
"""What may refer to a customer, as an undo that would remove it names them, counted (the
count is in each message, so a language puts its own measure word with it: 3 条反馈,
2 次合并). Tags go with the customer and value snapshots are recomputed, so neither stands
in the way."""


def _counted(table: str, n: int) -> str:
    label = DEPENDANT_LABELS.get(table)
    return _(label).format(n=n) if label else f"{n} {table}"


NOT_DEPENDANTS = {"customer_tags", "value_snapshots"}


def _dependants(s: Session, codes: list[str]) -> list[str]:
    """Records that point at customers the import added (they would be orphaned): every
    table with a reference to customers, found from the schema, so a new one is not missed."""
    from tricrm_tui.models import metadata

    referring = [
        (t, fk.parent)
        for t in metadata.sorted_tables
        for fk in t.foreign_keys
        if fk.column.table is CT and t.name not in NOT_DEPENDANTS
    ]
    found: list[str] = []
    for chunk in chunks(codes):
        for table, col in referring:
            target = CT.alias("target")
            q = (
                sa.select(target.c.code, sa.func.count())
                .select_from(table.join(target, target.c.id == col))
                .where(target.c.code.in_(chunk))
                .group_by(target.c.code)
                .limit(10)
            )
            for code, n in s.execute(q):
                found.append(
                    _("customer {code} now has {what}").format(
                        code=code, what=_counted(table.name, n)
                    )
                )
            if len(found) >= 10:
                return found
    return found


def _row_dependants(s: Session, table: sa.Table, kind: str, keys: list[str]) -> list[str]:
    """Records that refer to orders or interactions the import added (an interaction or a
    complaint naming an order, a follow-up of an interaction, the points an order earned),
    which removing them would orphan: every table with a reference to them, found from the
    schema, less those whose rows go with them (an order's lines).

    The referring tables hold few such references and have no index on them: each is read
    once, not once per thousand keys. The points an order earned are found by their ledger
    key (``order:<no>``), which is unique."""
    from tricrm_tui.models import metadata

    key_col = table.c[KEY_COLUMN[kind]]
    wanted = set(keys)
    found: list[str] = []
    for referring in metadata.sorted_tables:
        for fk in referring.foreign_keys:
            if fk.column.table is not table or fk.ondelete is not None:
                continue
            counts = s.execute(
                sa.select(key_col, sa.func.count())
                .select_from(referring.join(table, table.c.id == fk.parent))
                .group_by(key_col)
            )
            for key, n in counts:
                if key in wanted:
                    text = (
                        _("order {key} now has {what}")
                        if kind == "orders"
                        else _("interaction {key} now has {what}")
                    )
                    found.append(text.format(key=key, what=_counted(str(referring.name), n)))
                    if len(found) >= 10:
                        return found
    if kind == "orders":
        L = LoyaltyEntry.__table__  # noqa: N806
        for chunk in chunks(keys):
            earned = s.execute(
                sa.select(L.c.source_key, L.c.points)
                .where(L.c.source_key.in_([f"order:{k}" for k in chunk]))
                .limit(10)
            )
            for source_key, points in earned:
                found.append(
                    _("order {key} earned {points} loyalty points").format(
                        key=source_key.removeprefix("order:"), points=points
                    )
                )
                if len(found) >= 10:
                    return found
    return found


def _back_to_merged(s: Session, updates: list[Any]) -> list[str]:
    """Orders or interactions the import moved to another customer whose first customer
    has since been merged into another: put back, they would sit on a customer that holds
    no records (its code leads to the customer it was merged into), missing from that
    customer's totals."""
    back = {
        u.entity_id: cid
        for u in updates
        if (cid := (u.before or {}).get("customer_id")) is not None
    }
    K = CT.alias("kept")
    merged: dict[int, tuple[str, str]] = {}
    for chunk in chunks(sorted(set(back.values()))):
        rows = s.execute(
            sa.select(CT.c.id, CT.c.code, K.c.code)
            .join(K, K.c.id == CT.c.merged_into_id)
            .where(CT.c.id.in_(chunk))
        )
        merged.update((cid, (code, kept)) for cid, code, kept in rows)
    found: list[str] = []
    for key, cid in back.items():
        if cid in merged:
            code, kept = merged[cid]
            found.append(
                _("{key} would go back to {code}, merged into {kept} since; unmerge {code} first")
                .format(key=key, code=code, kept=kept)
            )  # fmt: skip
            if len(found) >= 10:
                break
    return found


def _merged_away(s: Session, table: sa.Table, kind: str, keys: list[str]) -> list[str]:
    """Rows of ``keys`` a merge moved to another customer and has not given back: removing
    them would leave that merge unable to be undone exactly. A moved row sits on the kept
    customer of the merge that moved it last, so only the merge records of the customers
    the rows are on now are read (not every merge ever made, nor by the clocks of the
    machines that made them)."""
    name = str(table.name)
    key_col = table.c[KEY_COLUMN[kind]]
    M = MergeRecord.__table__  # noqa: N806
    K = CT.alias("kept")
    found: list[str] = []
    for chunk in chunks(keys):
        rows = s.execute(
            sa.select(table.c.id, key_col, table.c.customer_id).where(key_col.in_(chunk))
        ).all()
        moved: dict[int, tuple[str, str]] = {}
        for merged_code, kept_code, record in s.execute(
            sa.select(CT.c.code, K.c.code, M.c.moved)
            .select_from(M.join(CT, CT.c.id == M.c.merged_id).join(K, K.c.id == M.c.kept_id))
            .where(M.c.undone_at.is_(None), M.c.kept_id.in_(sorted({r[2] for r in rows})))
        ):
            for row_id in (record or {}).get(name) or []:
                moved[row_id] = (merged_code, kept_code)
        for row_id, key, _customer in rows:
            if row_id in moved:
                merged_code, kept_code = moved[row_id]
                found.append(
                    _("{key} was moved by merging {code} into {kept}; unmerge {code} first").format(
                        key=key, code=merged_code, kept=kept_code
                    )
                )
                if len(found) >= 10:
                    return found
    return found


def _refresh_search_text(s: Session, code: str) -> None:
    row = s.execute(sa.select(CT).where(CT.c.code == code)).mappings().first()
    if row is None:
        return
    tags = s.execute(
        sa.select(CustomerTag.__table__.c.tag)
        .where(CustomerTag.__table__.c.customer_id == row["id"])
        .order_by(CustomerTag.__table__.c.tag)
    ).scalars()
    text = search_text_for(
        row["code"], row["name"], row["phone"], row["email"], list(tags), row["notes"]
    )
    s.execute(sa.update(CT).where(CT.c.id == row["id"]).values(search_text=text))


def _register_default_hooks() -> None:
    """Classification refresh and the new-duplicates count follow every import."""
    from tricrm_tui.services import import_hooks

    import_hooks.register()


_register_default_hooks()
