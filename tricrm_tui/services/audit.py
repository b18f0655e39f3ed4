"""The audit trail: every write records who, when, what, and the values before and after.

Callers pass the session of their own transaction, so the entry commits or rolls back
together with the change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tricrm_tui.models import AuditEntry
from tricrm_tui.services.context import Actor, ServiceContext
from tricrm_tui.services.paging import Page


def jsonable(value: Any) -> Any:
    """Decimals as strings and dates as ISO text, so JSON columns hold exact values."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        # An import's entry lists every key of its batch: plain text needs no walk.
        if all(v.__class__ is str for v in value):
            return list(value)
        return [jsonable(v) for v in value]
    return value


def record(
    session: Session,
    actor: Actor,
    entity: str,
    entity_id: object,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    *,
    import_id: int | None = None,
    at: dt.datetime | None = None,
) -> None:
    values: dict[str, Any] = {
        "actor": actor.username,
        "role": actor.role,
        "entity": entity,
        "entity_id": str(entity_id),
        "action": action,
        "before": jsonable(before),
        "after": jsonable(after),
        "import_id": import_id,
    }
    if at is not None:
        values["at"] = at
    session.add(AuditEntry(**values))


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: dt.datetime
    actor: str
    role: str
    entity: str
    entity_id: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    import_id: int | None


def list_entries(
    ctx: ServiceContext,
    *,
    entity: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[AuditRow]:
    t = AuditEntry.__table__
    cond = []
    if entity:
        cond.append(t.c.entity == entity)
    if entity_id:
        cond.append(t.c.entity_id == entity_id)
    if actor:
        cond.append(t.c.actor == actor)
    with ctx.session() as s:
        total = s.execute(sa.select(sa.func.count()).select_from(t).where(*cond)).scalar_one()
        rows = s.execute(
            sa.select(t).where(*cond).order_by(t.c.id.desc()).limit(limit).offset(offset)
        ).mappings()
        items = [AuditRow(**{k: r[k] for k in AuditRow.__dataclass_fields__}) for r in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


def upsert_by_name(
    session: Session,
    actor: Actor,
    table: sa.Table,
    entity: str,
    name: str,
    values: dict[str, Any],
) -> Any:
    """Create or update the row of ``table`` called ``name`` and audit it; returns the row.

    For named settings (plans, care rules): the audit entry of an update carries only the
    fields that changed, with their old and new values.
    """
    name_col = table.c.name
    old = session.execute(sa.select(table).where(name_col == name)).first()
    if old is None:
        session.execute(sa.insert(table).values(**values))
        record(session, actor, entity, name, "create", None, values)
    else:
        session.execute(sa.update(table).where(table.c.id == old.id).values(**values))
        before = {k: getattr(old, k) for k in values if getattr(old, k) != values[k]}
        record(session, actor, entity, name, "update", before, {k: values[k] for k in before})
    return session.execute(sa.select(table).where(name_col == name)).one()


def delete_by_name(
    session: Session,
    actor: Actor,
    table: sa.Table,
    entity: str,
    name: str,
    *,
    not_found: str,
    describe: Callable[[Any], dict[str, Any]],
) -> None:
    """Delete the row of ``table`` called ``name``, auditing ``describe(row)`` as its before.

    The twin of :func:`upsert_by_name`; ``not_found`` is the message when there is no such row.
    """
    from tricrm_tui.services.errors import NotFound

    old = session.execute(sa.select(table).where(table.c.name == name)).first()
    if old is None:
        raise NotFound(not_found)
    session.execute(sa.delete(table).where(table.c.id == old.id))
    record(session, actor, entity, name, "delete", describe(old), None)
