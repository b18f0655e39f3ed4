"""Journey maps: stages in order, touchpoints, and each customer's stage events."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from tricrm_tui.models.types import utcnow


class Journey(SQLModel, table=True):
    __tablename__ = "journeys"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, sa_column_kwargs={"unique": True, "nullable": False})
    description: str | None = Field(default=None, max_length=400)


class JourneyStage(SQLModel, table=True):
    __tablename__ = "journey_stages"
    __table_args__ = (sa.UniqueConstraint("journey_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    journey_id: int = Field(foreign_key="journeys.id")
    name: str = Field(max_length=100)
    position: int


class Touchpoint(SQLModel, table=True):
    __tablename__ = "touchpoints"

    id: int | None = Field(default=None, primary_key=True)
    journey_id: int = Field(foreign_key="journeys.id", index=True)
    stage_id: int | None = Field(default=None, foreign_key="journey_stages.id")
    name: str = Field(max_length=100)
    channel: str | None = Field(default=None, max_length=16)


class StageEvent(SQLModel, table=True):
    """A customer entered a stage (optionally at a touchpoint). Time in stage is derived."""

    __tablename__ = "stage_events"
    __table_args__ = (
        sa.Index("ix_stage_events_customer_at", "customer_id", "entered_at"),
        sa.Index("ix_stage_events_stage", "stage_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id")
    journey_id: int = Field(foreign_key="journeys.id")
    stage_id: int = Field(foreign_key="journey_stages.id")
    touchpoint_id: int | None = Field(default=None, foreign_key="touchpoints.id")
    entered_at: dt.datetime = Field(default_factory=utcnow)
    source: str | None = Field(default=None, max_length=32)
