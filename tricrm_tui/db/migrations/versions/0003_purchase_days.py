"""Each customer's count of distinct purchase days, kept with the other order aggregates.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 06:00:00

``customers.purchase_days`` is the number of distinct days with a completed (not cancelled)
order: the value models' transactions. With it beside ``order_count``, ``total_spent`` and
the first and last order dates, the RFM summary as of today reads one row per customer
instead of grouping every order (docs/PERFORMANCE.md, "RFM refresh"). Existing databases are
backfilled from their orders here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both backends (no table rebuild: SQLite's search triggers stay).
    op.add_column(
        "customers",
        sa.Column("purchase_days", sa.Integer(), nullable=False, server_default="0"),
    )
    # One correlated count per customer with orders (read from the orders' customer_id
    # index); the rest keep the default. Same definition as the refresh in services/orders.
    op.execute(
        "UPDATE customers SET purchase_days = ("
        " SELECT count(DISTINCT o.order_date) FROM orders o"
        " WHERE o.customer_id = customers.id AND o.status != 'cancelled')"
        " WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = customers.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch_op:
        batch_op.drop_column("purchase_days")
