"""A partial index on the active customers' code: deep list pages and the list count.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 06:00:00

``customers(code, id) WHERE deleted_at IS NULL AND merged_into_id IS NULL`` holds exactly
the rows the customer list shows, in its default order. ``OFFSET 99950`` then walks index
entries only, and ``count(*)`` of the active customers reads the index rather than the
table (docs/PERFORMANCE.md, "Deep page").
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ACTIVE = "deleted_at IS NULL AND merged_into_id IS NULL"


def upgrade() -> None:
    op.create_index(
        "ix_customers_active_code",
        "customers",
        ["code", "id"],
        unique=False,
        sqlite_where=sa.text(ACTIVE),
        postgresql_where=sa.text(ACTIVE),
    )
    # A database with customers gets fresh statistics, so the planner weighs the new index
    # against the others at once. An empty one is left alone: statistics of an empty table
    # would outlive the first import and mislead the planner (SQLite keeps them).
    conn = op.get_bind()
    if conn.execute(sa.text("SELECT 1 FROM customers LIMIT 1")).first() is not None:
        op.execute("ANALYZE customers")


def downgrade() -> None:
    op.drop_index("ix_customers_active_code", table_name="customers")
