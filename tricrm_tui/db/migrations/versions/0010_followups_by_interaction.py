"""Follow-ups are found by their interaction through an index.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 03:00:00

An interactions import that gives a follow-up date looks up the follow-up each stored
interaction was logged with, batch by batch, and its undo asks which follow-ups refer to the
interactions it would remove; without an index each of those read the whole follow-ups table.
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_followups_interaction", "followups", ["interaction_id"])


def downgrade() -> None:
    op.drop_index("ix_followups_interaction", table_name="followups")
