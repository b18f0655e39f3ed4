"""A counter the database bumps whenever a customer code stops meaning the same customer.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 17:00:00

An order or interaction import turns each line's customer code into the customer's id, and
remembers the answers: a million orders name the same 100k customers again and again.
What it remembers goes stale only when a customer's code, merge target or deletion changes,
or a customer row is deleted (an undone import). On SQLite, triggers on ``customers`` bump
``change_counters['customer_keys']`` in the same transaction as any such change, so an
import reads one row per batch to know whether to forget, whichever code path (or
hand-written SQL) made the change; there writers take turns anyway, so bumping one row
makes no one wait. Before this the import forgot every 5 s, as it still does on
PostgreSQL, where the table exists (one schema on both backends) but nothing bumps it:
see ``upgrade``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BUMP = "UPDATE change_counters SET value = value + 1 WHERE name = 'customer_keys'"


def upgrade() -> None:
    op.create_table(
        "change_counters",
        sa.Column("name", sa.String(length=32), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )
    op.execute("INSERT INTO change_counters (name, value) VALUES ('customer_keys', 0)")
    if op.get_bind().dialect.name == "postgresql":
        # No triggers here: every change of a customer's code, merge or deletion would lock
        # the one counter row until its transaction ends, queueing merges, soft-deletes and
        # code edits behind one another, and two merges into the same customer (each
        # updating the kept customer and bumping the counter, in opposite orders) would
        # deadlock. PostgreSQL imports relearn their customer ids on a timer instead.
        return
    # SQLite has row triggers only; the WHEN clause leaves unchanged rows alone.
    op.execute(
        "CREATE TRIGGER customers_keys_changed "
        "AFTER UPDATE OF code, merged_into_id, deleted_at ON customers "
        "WHEN old.code IS NOT new.code OR old.merged_into_id IS NOT new.merged_into_id "
        f"OR old.deleted_at IS NOT new.deleted_at BEGIN {BUMP}; END"
    )
    op.execute(f"CREATE TRIGGER customers_keys_deleted AFTER DELETE ON customers BEGIN {BUMP}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TRIGGER customers_keys_changed")
        op.execute("DROP TRIGGER customers_keys_deleted")
    else:  # what a first form of this revision left (see 0006)
        op.execute("DROP TRIGGER IF EXISTS customers_keys_changed ON customers")
        op.execute("DROP FUNCTION IF EXISTS tricrm_customer_keys_changed()")
    op.drop_table("change_counters")
