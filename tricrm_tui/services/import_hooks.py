"""What every import triggers once its rows are in: classification, the duplicate check and,
for orders, today's value snapshot.

The import itself only knows rows; these follow-ups need the customers it touched, which the
audit trail records (every row an import writes carries its ``import_id``). Registered on
:data:`tricrm_tui.services.importing.after_import_hooks` by :func:`register`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tricrm_tui.models import AuditEntry, Customer, Order
from tricrm_tui.services.context import ServiceContext


def touched_customer_ids(ctx: ServiceContext, kind: str, import_id: int) -> list[int]:
    """Customers an import inserted or changed (customers), or gave orders to (orders).

    The import audits updates one entry per row (``entity_id`` is the key) and inserts one
    entry per batch (``after["keys"]`` lists them); both forms are read here.
    """
    entity = {"customers": "customer", "orders": "order"}.get(kind)
    if entity is None:
        return []
    A = AuditEntry.__table__.c
    C = Customer.__table__.c
    O = Order.__table__.c  # noqa: E741
    keys: set[str] = set()
    ids: set[int] = set()
    with ctx.session() as s:
        entries = s.execute(
            sa.select(A.entity_id, A.after).where(A.import_id == import_id, A.entity == entity)
        )
        for entity_id, after in entries:
            listed = after.get("keys") if isinstance(after, dict) else None
            keys.update(listed if isinstance(listed, list) else [entity_id])
        ordered = sorted(keys)
        for start in range(0, len(ordered), 5000):
            chunk = ordered[start : start + 5000]
            q = (
                sa.select(C.id).where(C.code.in_(chunk))
                if kind == "customers"
                else sa.select(O.customer_id).where(O.order_no.in_(chunk))
            )
            ids.update(s.execute(q).scalars())
    return sorted(ids)


def classify_after_import(ctx: ServiceContext, result: Any) -> dict[str, Any]:
    from tricrm_tui.services.classify import classify_customers

    if result.import_id is None or result.kind not in ("customers", "orders"):
        return {}
    ids = touched_customer_ids(ctx, result.kind, result.import_id)
    if not ids:
        return {}
    classify_customers(ctx, ids)
    return {"classified": len(ids)}


def duplicates_after_import(ctx: ServiceContext, result: Any) -> dict[str, Any]:
    from tricrm_tui.services.dedupe import probable_duplicates

    if result.import_id is None or result.kind != "customers":
        return {}
    ids = touched_customer_ids(ctx, "customers", result.import_id)
    if not ids:
        return {"new_duplicates": 0}
    return {"new_duplicates": len(probable_duplicates(ctx, customer_ids=ids))}


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
