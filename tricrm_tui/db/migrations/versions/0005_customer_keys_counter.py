"""A counter the database bumps whenever a customer code stops meaning the same customer.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 17:00:00

An order or interaction import turns each line's customer code into the customer's id, and
remembers the answers: a million orders name the same 100k customers again and again.
What it remembers goes stale only when a customer's code, merge target or deletion changes,
or a customer row is deleted (an undone import). Triggers on ``customers`` bump
``change_counters['customer_keys']`` in the same transaction as any such change, so an
import reads one row per batch to know whether to forget, on both backends, whichever code
path (or hand-written SQL) made the change. Before this the import forgot every 5 s.

On PostgreSQL the counter row is also what a bulk order batch locks instead of checking
each order's customer by foreign key (``db/bulk.py``): a customer DELETE bumps the counter
before it deletes, so it waits for such a batch to commit, and then its own foreign-key
check sees the batch's orders.
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
        # One bump per statement: a statement-level trigger, which fires even when no row
        # actually changed (harmless: the import only forgets and asks again). BEFORE the
        # statement, so a DELETE queues behind a bulk order batch holding the counter row
        # FOR SHARE (``db/bulk.py``, ``lock_customer_keys``) before it removes any row.
        op.execute(
            "CREATE FUNCTION tricrm_customer_keys_changed() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN {BUMP}; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER customers_keys_changed "
            "BEFORE UPDATE OF code, merged_into_id, deleted_at OR DELETE OR TRUNCATE "
            "ON customers FOR EACH STATEMENT EXECUTE FUNCTION tricrm_customer_keys_changed()"
        )
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
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER customers_keys_changed ON customers")
        op.execute("DROP FUNCTION tricrm_customer_keys_changed()")
    else:
        op.execute("DROP TRIGGER customers_keys_changed")
        op.execute("DROP TRIGGER customers_keys_deleted")
    op.drop_table("change_counters")
