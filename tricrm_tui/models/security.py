"""Trust: operators, roles, the audit trail and the import log (which import undo reads)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from tricrm_tui.models.types import JSONType, utcnow


class Role(SQLModel, table=True):
    __tablename__ = "roles"

    name: str = Field(max_length=32, primary_key=True)
    permissions: list[str] = Field(default_factory=list, sa_type=JSONType)
    description: str | None = Field(default=None, max_length=200)


class Operator(SQLModel, table=True):
    __tablename__ = "operators"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, sa_column_kwargs={"unique": True, "nullable": False})
    display_name: str | None = Field(default=None, max_length=100)
    role: str = Field(default="agent", max_length=32, foreign_key="roles.name")
    password_hash: str | None = Field(default=None, max_length=200)
    active: bool = True
    created_at: dt.datetime = Field(default_factory=utcnow)


class AuditEntry(SQLModel, table=True):
    """Who did what to which record, with the values before and after, in the same transaction."""

    __tablename__ = "audit_log"
    __table_args__ = (
        sa.Index("ix_audit_entity", "entity", "entity_id"),
        sa.Index("ix_audit_at", "at"),
        sa.Index("ix_audit_import", "import_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=utcnow)
    actor: str = Field(max_length=64)
    role: str = Field(max_length=32)
    entity: str = Field(max_length=32)
    entity_id: str = Field(max_length=64)
    action: str = Field(max_length=32)
    before: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    import_id: int | None = Field(default=None, foreign_key="import_batches.id")


class ImportBatch(SQLModel, table=True):
    __tablename__ = "import_batches"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # customers|orders|interactions|surveys
    file: str = Field(max_length=500)
    file_hash: str = Field(max_length=64, index=True)
    encoding: str | None = Field(default=None, max_length=32)
    actor: str = Field(max_length=64)
    started_at: dt.datetime = Field(default_factory=utcnow)
    finished_at: dt.datetime | None = None
    status: str = Field(default="running", max_length=16)  # running|done|undone|failed
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    undone_at: dt.datetime | None = None
