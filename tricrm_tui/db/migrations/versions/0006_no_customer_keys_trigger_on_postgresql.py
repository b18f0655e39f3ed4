"""PostgreSQL: no trigger on customers bumping the ``customer_keys`` counter.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 18:00:00

A first form of 0005 put a statement trigger on PostgreSQL's ``customers`` that bumped
``change_counters['customer_keys']``: every change of a customer's code, merge or deletion
then locked that one row until its transaction ended, queueing such changes behind one
another, and two merges into the same customer could deadlock. 0005 no longer creates it
there; a database upgraded by that first form still has it, and loses it here. SQLite keeps
its triggers (writers take turns there anyway).
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS customers_keys_changed ON customers")
        op.execute("DROP FUNCTION IF EXISTS tricrm_customer_keys_changed()")


def downgrade() -> None:
    """Nothing to put back: the trigger was a mistake."""
