"""What every import triggers once its rows are in: classification, the duplicate check and,
for orders, today's value snapshot.

The import collects the customers it touches while it writes its batches and hands them over
on its result (``touched_customer_ids``); the audit trail, where every row an import writes
carries its ``import_id``, is read back only for an import that was killed before its end. Registered on
:data:`tricrm_tui.services.importing.after_import_hooks` by :func:`register`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tricrm_tui.models import AuditEntry, Customer, Order
from tricrm_tui.services.context import ServiceContext

_CHUNK = 5000


def touched_customer_ids(ctx: ServiceContext, kind: str, import_id: int) -> list[int]:
    """Customers an import inserted or changed (customers), or gave orders to (orders), read
    back from the audit trail.

    An import hands its follow-ups the customers it touched on its result; this is for an
    import that never got that far (killed, see ``importing.repair_interrupted``). The
    import audits updates one entry per row (``entity_id`` is the key) and inserts one entry
    per batch (``after["keys"]`` lists them); both forms are read, one entry at a time, so
    memory holds the customer ids and one batch of keys, not every key of the import.
    """
    entity = {"customers": "customer", "orders": "order"}.get(kind)
    if entity is None:
        return []
    A = AuditEntry.__table__.c
    C = Customer.__table__.c
    O = Order.__table__.c  # noqa: E741
    ids: set[int] = set()
    single: list[str] = []

    def resolve(s: Session, keys: list[str]) -> None:
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            q = (
                sa.select(C.id).where(C.code.in_(chunk))
                if kind == "customers"
                else sa.select(O.customer_id).where(O.order_no.in_(chunk))
            )
            ids.update(s.execute(q).scalars())

    with ctx.session() as s, ctx.session() as lookups:
        entries = s.execute(
            sa.select(A.entity_id, A.after)
            .where(A.import_id == import_id, A.entity == entity)
            .execution_options(yield_per=100)
        )
        for entity_id, after in entries:
            listed = after.get("keys") if isinstance(after, dict) else None
            if isinstance(listed, list):
                resolve(lookups, listed)
            else:
                single.append(entity_id)
                if len(single) >= _CHUNK:
                    resolve(lookups, single)
                    single = []
        resolve(lookups, single)
    return sorted(ids)


def _touched(ctx: ServiceContext, result: Any) -> list[int]:
    """The customers the import reports touching, else (an older caller) the audit trail's."""
    if result.touched_customer_ids is not None:
        return sorted(result.touched_customer_ids)
    return touched_customer_ids(ctx, result.kind, result.import_id)


def classify_after_import(ctx: ServiceContext, result: Any) -> dict[str, Any]:
    from tricrm_tui.services.classify import classify_customers

    if result.import_id is None or result.kind not in ("customers", "orders"):
        return {}
    touched = _touched(ctx, result)
    # New customers were inserted with their classes (``classify.new_customer_classes``).
    done: set[int] = getattr(result, "classified_customer_ids", set())
    ids = [i for i in touched if i not in done]
    if ids:
        # Orders change only the behaviour classes; region and size need the customer rows.
        classify_customers(ctx, ids, behaviour_only=result.kind == "orders")
    return {"classified": len(touched)} if touched else {}


def duplicates_after_import(ctx: ServiceContext, result: Any) -> dict[str, Any]:
    """How many probable-duplicate pairs the import made (``new_duplicates``).

    A pair counts when one of its customers is new (inserted by this import), or when the
    import changed one of them and the pair, scored with the changed fields' values before
    the import (the audit's ``before``), was not a probable duplicate then. So importing a
    file that only moves A1 to another city does not report A1/A2 again, and an update that
    gives A1 the phone of A2 does."""
    from tricrm_tui.services.dedupe import DEFAULT_MIN_SCORE, probable_duplicates, scores_before

    if result.import_id is None or result.kind != "customers":
        return {}
    ids = _touched(ctx, result)
    if not ids:
        return {"new_duplicates": 0}
    pairs = [p.codes for g in probable_duplicates(ctx, customer_ids=ids) for p in g.pairs]
    if not pairs:
        return {"new_duplicates": 0}
    inserted, before = _import_changes(ctx, result.import_id, {c for p in pairs for c in p})
    new = [p for p in pairs if p[0] in inserted or p[1] in inserted]
    changed = [p for p in pairs if p not in new and (p[0] in before or p[1] in before)]
    if changed:
        old = scores_before(ctx, changed, before)
        new += [p for p in changed if old[p] < DEFAULT_MIN_SCORE]
    return {"new_duplicates": len(new)}


def _import_changes(
    ctx: ServiceContext, import_id: int, codes: set[str]
) -> tuple[set[str], dict[str, dict[str, Any]]]:
    """Of ``codes``: those the import inserted, and for those it updated the old values of
    the fields it changed (code → field → value), read from the import's audit entries
    (one entry per inserted batch, one per updated row: only those of ``codes`` are read)."""
    A = AuditEntry.__table__.c
    inserted: set[str] = set()
    before: dict[str, dict[str, Any]] = {}
    wanted = sorted(codes)
    with ctx.session() as s:
        batches = s.execute(
            sa.select(A.after)
            .where(A.import_id == import_id, A.entity == "customer", A.action == "import_insert")
            .execution_options(yield_per=100)
        )
        for (after,) in batches:
            listed = after.get("keys") if isinstance(after, dict) else None
            if isinstance(listed, list):
                inserted.update(codes.intersection(listed))
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            updates = s.execute(
                sa.select(A.entity_id, A.before)
                .where(
                    A.import_id == import_id,
                    A.entity == "customer",
                    A.action == "import_update",
                    A.entity_id.in_(chunk),
                )
                .order_by(A.id.desc())  # the earliest entry's values win
            )
            for code, old in updates:
                if isinstance(old, dict):
                    before.setdefault(code, {}).update(old)
    return inserted, before


def value_after_import(ctx: ServiceContext, result: Any) -> dict[str, Any]:
    """New orders change recency, frequency and value: refresh today's snapshot."""
    from tricrm_tui.services.value import value_refresh

    if result.import_id is None or result.kind != "orders":
        return {}
    refreshed = value_refresh(ctx)
    return {"value_refreshed": refreshed.customers}


def register() -> None:
    from tricrm_tui.services import importing

    for hook in (classify_after_import, duplicates_after_import, value_after_import):
        if hook not in importing.after_import_hooks:
            importing.after_import_hooks.append(hook)
