"""The interaction dimension: contacts, follow-ups, plans, care rules, campaigns, feedback."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from tricrm_tui.models.types import JSONType, PersonalText, utcnow

CHANNELS = ("phone", "email", "wechat", "sms", "chat", "visit", "social", "other")
FOLLOWUP_STATUSES = ("open", "done", "snoozed", "cancelled")


class Interaction(SQLModel, table=True):
    __tablename__ = "interactions"
    __table_args__ = (
        sa.Index("ix_interactions_customer_at", "customer_id", "occurred_at"),
        sa.Index("ix_interactions_occurred_at", "occurred_at"),
        sa.Index("ix_interactions_campaign", "campaign_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id")
    channel: str = Field(max_length=16)
    direction: str = Field(default="outbound", max_length=8)
    occurred_at: dt.datetime
    operator: str | None = Field(default=None, max_length=64)
    subject: str = Field(default="", max_length=200)
    notes: str | None = Field(default=None, sa_type=PersonalText(4000))
    outcome: str | None = Field(default=None, max_length=200)
    satisfaction: int | None = None
    order_id: int | None = Field(default=None, foreign_key="orders.id")
    campaign_id: int | None = Field(default=None, foreign_key="campaigns.id")
    touchpoint_id: int | None = Field(default=None, foreign_key="touchpoints.id")
    external_key: str | None = Field(default=None, max_length=64, sa_column_kwargs={"unique": True})
    created_at: dt.datetime = Field(default_factory=utcnow)


class FollowUp(SQLModel, table=True):
    __tablename__ = "followups"
    __table_args__ = (
        sa.Index("ix_followups_status_due", "status", "due_at"),
        sa.Index("ix_followups_owner_status_due", "owner", "status", "due_at"),
        sa.Index("ix_followups_customer", "customer_id"),
        sa.Index("ix_followups_interaction", "interaction_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id")
    due_at: dt.datetime
    owner: str | None = Field(default=None, max_length=64)
    priority: int = 2  # 1 high, 2 normal, 3 low
    status: str = Field(default="open", max_length=16)
    reason: str = Field(default="", max_length=400)
    source: str = Field(default="manual", max_length=16)  # manual|interaction|plan|care|complaint
    # Idempotency key for generated tasks, e.g. "plan:3:2026-11-24" or "care:birthday:42:2026".
    source_key: str | None = Field(default=None, max_length=128, sa_column_kwargs={"unique": True})
    interaction_id: int | None = Field(default=None, foreign_key="interactions.id")
    snoozed_until: dt.datetime | None = None
    done_at: dt.datetime | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)


class CommunicationPlan(SQLModel, table=True):
    """A contact cadence for a tier, segment or lifecycle stage, with quiet hours and a cap."""

    __tablename__ = "communication_plans"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, sa_column_kwargs={"unique": True, "nullable": False})
    target_kind: str = Field(max_length=16)  # tier|segment|lifecycle|rfm_segment
    target_value: str = Field(max_length=100)
    cadence_days: int
    channel: str = Field(max_length=16)
    quiet_start: dt.time | None = None
    quiet_end: dt.time | None = None
    cap_count: int | None = None
    cap_period_days: int | None = None
    active: bool = True


class CareRule(SQLModel, table=True):
    """Birthday, anniversary and holiday care: who gets what, how many days ahead."""

    __tablename__ = "care_rules"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, sa_column_kwargs={"unique": True, "nullable": False})
    kind: str = Field(max_length=16)  # birthday|anniversary|lunar|solar
    occasion: str | None = Field(default=None, max_length=32)  # spring_festival, 10-01, ...
    days_ahead: int = 3
    target_expr: str = Field(default="", sa_type=sa.Text)
    channel: str = Field(default="phone", max_length=16)
    message: str | None = Field(default=None, sa_type=sa.Text)
    active: bool = True


class Campaign(SQLModel, table=True):
    __tablename__ = "campaigns"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, sa_column_kwargs={"unique": True, "nullable": False})
    segment_id: int | None = Field(default=None, foreign_key="segments.id")
    channel: str = Field(max_length=16)
    subject: str | None = Field(default=None, max_length=200)
    template: str = Field(default="", sa_type=sa.Text)
    status: str = Field(default="draft", max_length=16)
    attribution_days: int = 14
    created_by: str | None = Field(default=None, max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow)
    sent_at: dt.datetime | None = None


class CampaignSend(SQLModel, table=True):
    __tablename__ = "campaign_sends"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "customer_id"),
        sa.Index("ix_campaign_sends_customer", "customer_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaigns.id")
    customer_id: int = Field(foreign_key="customers.id")
    channel: str = Field(max_length=16)
    status: str = Field(max_length=24)  # sent|failed|skipped_consent|skipped_cap|exported
    error: str | None = Field(default=None, max_length=400)
    sent_at: dt.datetime = Field(default_factory=utcnow)


class Feedback(SQLModel, table=True):
    """Complaints (tickets with an SLA) and survey answers (CSAT 1–5, NPS 0–10)."""

    __tablename__ = "feedback"
    __table_args__ = (
        sa.Index("ix_feedback_customer", "customer_id"),
        sa.Index("ix_feedback_kind_status", "kind", "status"),
        sa.Index("ix_feedback_touchpoint", "touchpoint_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id")
    kind: str = Field(max_length=16)  # complaint|csat|nps
    category: str | None = Field(default=None, max_length=64)
    severity: str | None = Field(default=None, max_length=16)
    owner: str | None = Field(default=None, max_length=64)
    status: str | None = Field(default=None, max_length=16)
    score: int | None = None
    comment: str | None = Field(default=None, sa_type=PersonalText(4000))
    resolution: str | None = Field(default=None, sa_type=sa.Text)
    sla_due_at: dt.datetime | None = None
    touchpoint_id: int | None = Field(default=None, foreign_key="touchpoints.id")
    order_id: int | None = Field(default=None, foreign_key="orders.id")
    extra: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    created_at: dt.datetime = Field(default_factory=utcnow)
    resolved_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
