"""PostgreSQL: customers' spend and value snapshots' sums get 20 digits.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 00:00:00

One order may hold up to 999,999,999,999.99, which is all ``numeric(14,2)`` holds: a
customer's second such order overflowed ``customers.total_spent`` when the import refreshed
the totals, leaving the import interrupted and every later import failing as it tried to
finish it. Raising a numeric column's precision at the same scale does not rewrite the table
on PostgreSQL. SQLite keeps any number of digits whatever a column declares, so it has
nothing to change.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

COLUMNS = (
    ("customers", "total_spent"),
    ("value_snapshots", "monetary"),
    ("value_snapshots", "clv"),
)


def _retype(precision: int, was: int) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in COLUMNS:
        op.alter_column(
            table, column, type_=sa.Numeric(precision, 2), existing_type=sa.Numeric(was, 2)
        )


def upgrade() -> None:
    _retype(20, was=14)


def downgrade() -> None:
    _retype(14, was=20)
