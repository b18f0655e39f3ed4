"""Two operators, two real connections, one customer; and connections that fail."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import PG_URL
from tests.factories import add_customer
from tricrm_tui.services import customers
from tricrm_tui.services.context import Actor, open_context
from tricrm_tui.services.errors import Conflict, DatabaseUnavailable


def test_second_save_of_a_stale_record_is_refused_and_says_what_changed(db_url: str) -> None:
    alice = open_context(db_url, Actor("alice", "agent"))
    bob = open_context(db_url, Actor("bob", "agent"))
    try:
        add_customer(alice, "C1", "张三", city="北京")
        seen_by_alice = customers.get_customer(alice, "C1")
        seen_by_bob = customers.get_customer(bob, "C1")
        customers.edit_customer(bob, "C1", {"city": "上海"}, expected_version=seen_by_bob.version)
        with pytest.raises(Conflict) as err:
            customers.edit_customer(
                alice, "C1", {"notes": "VIP"}, expected_version=seen_by_alice.version
            )
        assert "bob" in str(err.value) and "上海" in str(err.value)
        assert err.value.changes == {"city": ("北京", "上海")}
        final = customers.get_customer(alice, "C1")
        assert (final.city, final.notes, final.version) == ("上海", None, 2)
    finally:
        alice.db.dispose()
        bob.db.dispose()


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL")
def test_connection_killed_mid_transaction_leaves_nothing_half_written(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    ctx = open_context(db_url, Actor("tester", "admin"))
    admin = sa.create_engine(db_url, isolation_level="AUTOCOMMIT")
    try:
        add_customer(ctx, "C1", "甲")
        with pytest.raises(DatabaseUnavailable), ctx.transaction() as s:
            s.execute(sa.text("UPDATE customers SET name = '乙' WHERE code = 'C1'"))
            pid = s.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
            with admin.connect() as conn:
                conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            s.execute(sa.text("UPDATE customers SET city = 'x' WHERE code = 'C1'"))
        # The pool notices the dead connection; the next call works and sees the old data.
        assert customers.get_customer(ctx, "C1").name == "甲"
    finally:
        admin.dispose()
        ctx.db.dispose()
