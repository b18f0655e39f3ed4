"""The value dimension: dated value snapshots, the loyalty ledger and member levels."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from tricrm_tui.models.types import MONEY, MONEY_TOTAL, utcnow


class ValueSnapshot(SQLModel, table=True):
    """A customer's value as of a date; re-running a date replaces that date's row."""

    __tablename__ = "value_snapshots"
    __table_args__ = (
        sa.UniqueConstraint("customer_id", "as_of"),
        sa.Index("ix_value_snapshots_as_of", "as_of"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id")
    as_of: dt.date
    recency_days: int | None = None
    frequency: int = 0
    monetary: Decimal = Field(default=Decimal("0"), sa_type=MONEY_TOTAL)
    r: int | None = None
    f: int | None = None
    m: int | None = None
    segment: str | None = Field(default=None, max_length=32)
    tier: str | None = Field(default=None, max_length=16)
    lifecycle: str | None = Field(default=None, max_length=16)
    p_alive: float | None = None  # a probability, not money
    expected_purchases: float | None = None
    clv: Decimal | None = Field(default=None, sa_type=MONEY_TOTAL)


class MemberLevel(SQLModel, table=True):
    __tablename__ = "member_levels"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=32, sa_column_kwargs={"unique": True, "nullable": False})
    rank: int = Field(sa_column_kwargs={"unique": True, "nullable": False})
    min_points: int = 0
    min_spend: Decimal = Field(default=Decimal("0"), sa_type=MONEY)
    multiplier: Decimal = Field(default=Decimal("1"), sa_type=sa.Numeric(6, 2))


class LoyaltyEntry(SQLModel, table=True):
    """Append-only points ledger. ``source_key`` makes every accrual idempotent."""

    __tablename__ = "loyalty_ledger"
    __table_args__ = (sa.Index("ix_loyalty_customer_at", "customer_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id")
    at: dt.datetime = Field(default_factory=utcnow)
    kind: str = Field(max_length=16)  # earn|redeem|adjust|expire
    points: int
    source_key: str = Field(max_length=128, sa_column_kwargs={"unique": True, "nullable": False})
    reason: str | None = Field(default=None, max_length=200)
    expires_on: dt.date | None = None
    actor: str | None = Field(default=None, max_length=64)


class LevelChange(SQLModel, table=True):
    __tablename__ = "level_changes"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    at: dt.datetime = Field(default_factory=utcnow)
    from_level: str | None = Field(default=None, max_length=32)
    to_level: str = Field(max_length=32)
    reason: str = Field(max_length=200)
