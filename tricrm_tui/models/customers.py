"""Customers: who they are (the data dimension), plus the classification and value
columns that lists filter and sort on at 100k rows without joining the history tables."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from tricrm_tui.models.types import MONEY_TOTAL, JSONType, PersonalDate, PersonalText, utcnow

CUSTOMER_KINDS = ("individual", "enterprise")
CONSENT_CHANNELS = ("email", "sms", "phone", "wechat")
ACTIVE_SQL = "deleted_at IS NULL AND merged_into_id IS NULL"
"""The customers lists show: not deleted, not merged into another (a partial index's WHERE)."""


class Customer(SQLModel, table=True):
    __tablename__ = "customers"
    __table_args__ = (
        sa.Index("ix_customers_name", "name"),
        sa.Index("ix_customers_province_city", "province", "city"),
        sa.Index("ix_customers_industry", "industry"),
        sa.Index("ix_customers_kind", "kind"),
        sa.Index("ix_customers_registered_on", "registered_on"),
        sa.Index("ix_customers_phone", "phone"),
        sa.Index("ix_customers_email", "email"),
        sa.Index("ix_customers_owner", "owner"),
        sa.Index("ix_customers_merged_into_id", "merged_into_id"),
        sa.Index("ix_customers_value_tier", "value_tier"),
        sa.Index("ix_customers_rfm_segment", "rfm_segment"),
        sa.Index("ix_customers_lifecycle", "lifecycle"),
        sa.Index("ix_customers_last_order_on", "last_order_on"),
        sa.Index("ix_customers_total_spent", "total_spent"),
        # The list's default order over the customers it shows: a deep page walks this
        # index alone instead of visiting every row to test deleted/merged, and it serves
        # the count of active customers (see docs/PERFORMANCE.md, "Deep page").
        sa.Index(
            "ix_customers_active_code",
            "code",
            "id",
            sqlite_where=sa.text(ACTIVE_SQL),
            postgresql_where=sa.text(ACTIVE_SQL),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, sa_column_kwargs={"unique": True, "nullable": False})
    name: str = Field(max_length=200)
    kind: str = Field(default="individual", max_length=16)
    industry: str | None = Field(default=None, max_length=64)
    size_band: str | None = Field(default=None, max_length=32)
    size_text: str | None = Field(default=None, max_length=32)
    """The size as given (``1万人以上``) when it says more than ``size_band`` (``large``)."""
    province: str | None = Field(default=None, max_length=32)
    city: str | None = Field(default=None, max_length=64)
    address: str | None = Field(default=None, sa_type=PersonalText(400))
    phone: str | None = Field(default=None, sa_type=PersonalText(32))
    email: str | None = Field(default=None, sa_type=PersonalText(254))
    birthday: dt.date | None = Field(default=None, sa_type=PersonalDate())
    registered_on: dt.date | None = None
    source_channel: str | None = Field(default=None, max_length=32)
    owner: str | None = Field(default=None, max_length=64)
    notes: str | None = Field(default=None, sa_type=PersonalText(4000))
    custom_fields: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    consent_email: bool = True
    consent_sms: bool = True
    consent_phone: bool = True
    consent_wechat: bool = True
    # Classification (refreshed by the classify service).
    region: str | None = Field(default=None, max_length=16)
    frequency_band: str | None = Field(default=None, max_length=16)
    favourite_category: str | None = Field(default=None, max_length=64)
    preferred_channel: str | None = Field(default=None, max_length=32)
    aov_band: str | None = Field(default=None, max_length=16)
    # Order aggregates, kept current by the order services (filters like ``orders>=3``).
    order_count: int = 0
    total_spent: Decimal = Field(default=Decimal("0"), sa_type=MONEY_TOTAL)
    first_order_on: dt.date | None = None
    last_order_on: dt.date | None = None
    purchase_days: int = 0
    """Distinct days with a completed order (same-day orders merged): the value models'
    transactions, kept with the other aggregates so the RFM summary can read them."""
    # Value (refreshed by the value service; history lives in value_snapshots).
    rfm_segment: str | None = Field(default=None, max_length=32)
    value_tier: str | None = Field(default=None, max_length=16)
    lifecycle: str | None = Field(default=None, max_length=16)
    member_level: str | None = Field(default=None, max_length=32)
    points_balance: int = 0
    # Search text: code, name, phone digits, email, tags and notes, lower-cased; indexed by
    # FTS5 trigram on SQLite and pg_trgm on PostgreSQL (see tricrm_tui.db.search).
    search_text: str = Field(default="", sa_type=sa.Text)
    merged_into_id: int | None = Field(default=None, foreign_key="customers.id")
    deleted_at: dt.datetime | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)
    version: int = 1


class CustomerTag(SQLModel, table=True):
    __tablename__ = "customer_tags"
    __table_args__ = (sa.Index("ix_customer_tags_tag", "tag"),)

    customer_id: int = Field(foreign_key="customers.id", primary_key=True, ondelete="CASCADE")
    tag: str = Field(max_length=64, primary_key=True)


class NotDuplicate(SQLModel, table=True):
    """An operator's decision that two customers are different people."""

    __tablename__ = "not_duplicates"
    __table_args__ = (sa.UniqueConstraint("customer_a_id", "customer_b_id"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_a_id: int = Field(foreign_key="customers.id")
    customer_b_id: int = Field(foreign_key="customers.id")
    decided_by: str = Field(max_length=64)
    decided_at: dt.datetime = Field(default_factory=utcnow)


class MergeRecord(SQLModel, table=True):
    """One customer merged into another: what moved and what was filled, so unmerge is exact."""

    __tablename__ = "merge_records"

    id: int | None = Field(default=None, primary_key=True)
    kept_id: int = Field(foreign_key="customers.id", index=True)
    merged_id: int = Field(foreign_key="customers.id", index=True)
    moved: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    filled: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    actor: str = Field(max_length=64)
    merged_at: dt.datetime = Field(default_factory=utcnow)
    undone_at: dt.datetime | None = None


class Segment(SQLModel, table=True):
    """A saved filter, written in the filter language (``province:广东 orders>=3``)."""

    __tablename__ = "segments"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, sa_column_kwargs={"unique": True, "nullable": False})
    expression: str = Field(sa_type=sa.Text)
    description: str | None = Field(default=None, max_length=400)
    created_by: str | None = Field(default=None, max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class ChangeCounter(SQLModel, table=True):
    """Counters the database itself bumps, by triggers (migration 0005; SQLite only).

    ``customer_keys`` moves whenever a customer's code, merge target or deletion changes or
    a customer row is deleted: a long import that remembers which id each customer code
    means reads it once a batch and forgets when it moved."""

    __tablename__ = "change_counters"

    name: str = Field(max_length=32, primary_key=True)
    value: int = Field(sa_type=sa.BigInteger)
