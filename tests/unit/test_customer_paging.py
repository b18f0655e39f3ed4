"""Paging the customer list: the partial index behind the default order, the same rows in
every sort order and at every offset, and the capped count of a search."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.factories import add_customer
from tricrm_tui.cli.output import page_footer
from tricrm_tui.models import Customer
from tricrm_tui.services import customer_rows, customers
from tricrm_tui.services.paging import Page

C = Customer.__table__.c
CITIES = ["杭州", "上海", None, "北京"]


@pytest.fixture
def base(ctx):  # type: ignore[no-untyped-def]
    """23 customers shown by the list, one deleted and one merged (never shown); names,
    cities and spend repeat so that ties need the id to order them."""
    for i in range(25):
        add_customer(ctx, f"K{(i * 7) % 25:03d}", name=f"王{i % 4}", city=CITIES[i % 4])
    customers.delete_customer(ctx, "K003")
    with ctx.transaction() as s:
        keep = s.execute(sa.select(C.id).where(C.code == "K000")).scalar_one()
        s.execute(sa.update(Customer.__table__).where(C.code == "K010").values(merged_into_id=keep))
        for i, cid in enumerate(s.execute(sa.select(C.id).order_by(C.id)).scalars()):
            s.execute(
                sa.update(Customer.__table__)
                .where(C.id == cid)
                .values(
                    total_spent=Decimal(i % 5),
                    last_order_on=dt.date(2025, 1, 1 + i % 3) if i % 6 else None,
                )
            )
    return ctx


def _expected_codes(ctx, sort: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The whole list in one plain query: ORDER BY the sort, no paging."""
    with ctx.session() as s:
        return list(
            s.execute(
                sa.select(C.code)
                .where(customers.active_condition())
                .order_by(*customers.list_order(sort))
            ).scalars()
        )


@pytest.mark.parametrize("sort", ["code", "-code", "name", "-name", "city", "-spent", "last_order"])
def test_pages_in_every_sort_order_put_together_give_the_whole_list(base, sort: str) -> None:  # type: ignore[no-untyped-def]
    expected = _expected_codes(base, sort)
    assert len(expected) == 23 and "K003" not in expected and "K010" not in expected
    for size in (1, 5, 50):
        got: list[str] = []
        rows: list[str] = []
        for offset in range(0, 25, size):
            page = customers.list_customers(base, sort=sort, limit=size, offset=offset)
            assert page.total == 23 and not page.total_capped
            got += [c.code for c in page.items]
            rows += [
                r.code
                for r in customer_rows.list_customer_rows(
                    base, sort=sort, limit=size, offset=offset
                ).items
            ]
        assert got == expected
        assert rows == expected


def test_the_page_and_the_count_can_use_the_partial_index(base) -> None:  # type: ignore[no-untyped-def]
    """On a table this small the planner may rightly prefer another path, so it is told to
    take the index (SQLite: ``INDEXED BY``, which fails when the index cannot answer the
    query; PostgreSQL: every other path switched off): what is checked is that the list's
    count and page match the index's WHERE and order."""
    import re

    seen: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if re.search(r"FROM customers\s+WHERE", statement):
            seen.append((statement, parameters))

    engine = base.db.engine
    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        customers.list_customers(base, limit=5, offset=10)
        customers.list_customers(base, sort="-code", limit=5, offset=10)
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    assert len(seen) == 4  # count, page, count, page
    plans = []
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        cur = raw.cursor()
        for statement, parameters in seen:
            if engine.dialect.name == "sqlite":
                statement = re.sub(
                    r"FROM customers\s+WHERE",
                    "FROM customers INDEXED BY ix_customers_active_code WHERE",
                    statement,
                )
                cur.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            else:
                for setting in ("seqscan", "sort", "incremental_sort", "bitmapscan"):
                    cur.execute(f"SET enable_{setting} = off")
                cur.execute("EXPLAIN " + statement, parameters)
            plans.append(" ".join(str(r) for r in cur.fetchall()))
        raw.rollback()
    for plan in plans:
        assert "ix_customers_active_code" in plan


def test_a_search_counts_up_to_the_cap(base, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(customers, "SEARCH_COUNT_CAP", 4)
    # "王" matches every shown customer (23): counting stops after the cap.
    page = customers.list_customers(base, search="王", limit=2)
    assert (page.total, page.total_capped) == (4, True)
    assert [c.code for c in page.items] == ["K000", "K001"]
    assert page.has_more
    # A page past the cap raises the cap to the page's end: still capped, never below it.
    page = customers.list_customers(base, search="王", limit=3, offset=6)
    assert (page.total, page.total_capped) == (9, True)
    assert [c.code for c in page.items] == ["K007", "K008", "K009"]
    # Near the end the count is exact again, and says where the list stops.
    page = customers.list_customers(base, search="王", limit=3, offset=21)
    assert (page.total, page.total_capped, page.has_more) == (23, False, False)
    # Fewer matches than the cap: exact.
    monkeypatch.setattr(customers, "SEARCH_COUNT_CAP", 5)
    page = customers.list_customers(base, search="王1", limit=2)
    assert (page.total, page.total_capped) == (5, False)
    # The screen's rows count the same way.
    rows = customer_rows.list_customer_rows(base, search="王", limit=2)
    assert (rows.total, rows.total_capped) == (5, True)
    # A list without a search is always counted exactly.
    page = customers.list_customers(base, limit=2)
    assert (page.total, page.total_capped) == (23, False)


def test_a_capped_total_reads_as_a_lower_bound() -> None:
    from tricrm_tui.tui.widgets.paged_table import page_span

    capped: Page[int] = Page(items=[1] * 50, total=1000, limit=50, offset=0, total_capped=True)
    exact: Page[int] = Page(items=[1] * 50, total=1000, limit=50, offset=950)
    assert page_footer(0, 50, 1000, capped=True) == "rows 1–50 of 1,000+"
    assert page_footer(950, 50, 1000) == "rows 951–1000 of 1000"
    assert page_span("rows {first}–{last} of {total}", capped) == "rows 1–50 of 1,000+"
    assert page_span("rows {first}–{last} of {total}", exact) == "rows 951–1,000 of 1,000"
    full_last: Page[int] = Page(items=[1] * 50, total=1000, limit=50, offset=950, total_capped=True)
    assert capped.has_more and full_last.has_more and not exact.has_more
