"""Customers keep their size as it was given (``1万人以上``) beside its band (``large``).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 02:00:00

An enterprise's size text was replaced by the band it falls in, so what a file or an
operator had typed was lost, and a change of the band rules in ``classify.toml`` could only
re-band the band's own label. ``size_text`` holds the text when it says more than the band;
classification reads it first. Sizes stored before this revision are bands already and stay
as they are.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both backends: a batch (copy-and-move) rebuild of the customers
    # table on SQLite would rewrite 100k rows and drop the search triggers with the table.
    op.add_column("customers", sa.Column("size_text", sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.drop_column("customers", "size_text")
