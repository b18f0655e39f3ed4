"""The list projection pages exactly like the full customer list, on both backends."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.factories import add_customer, add_orders
from tricrm_tui.models import Customer
from tricrm_tui.services import customers
from tricrm_tui.services.customer_rows import list_customer_rows
from tricrm_tui.services.errors import InvalidInput


@pytest.fixture
def some_customers(ctx):  # type: ignore[no-untyped-def]
    names = ["张伟", "王芳", "李娜", "Zoe Adams", "欧阳明月", "赵敏", "Bob Lee"]
    for i, name in enumerate(names, start=1):
        add_customer(
            ctx, f"K{i:03d}", name, city="北京" if i % 2 else "上海", phone=f"1380000{i:04d}"
        )
    add_orders(ctx, "K002", [("2026-01-05", "10.50"), ("2026-02-01", "20.00")])
    customers.delete_customer(ctx, "K006")
    return ctx


@pytest.mark.parametrize("sort", ["code", "name", "-name", "city", "spent", "last_order"])
def test_pages_match_the_full_list(some_customers, sort: str) -> None:
    ctx = some_customers
    for offset in (0, 3):
        full = customers.list_customers(ctx, sort=sort, limit=3, offset=offset)
        rows = list_customer_rows(ctx, sort=sort, limit=3, offset=offset)
        assert [r.code for r in rows.items] == [r.code for r in full.items]
        assert rows.total == full.total == 6  # the deleted one is not listed


def test_fields_search_where_and_a_known_total(some_customers) -> None:
    ctx = some_customers
    page = list_customer_rows(ctx, search="阳明")
    assert [(r.code, r.name, r.city) for r in page.items] == [("K005", "欧阳明月", "北京")]
    wang = list_customer_rows(ctx, search="王芳").items[0]
    assert wang.total_spent == Decimal("30.50") and str(wang.last_order) == "2026-02-01"
    assert wang.phone == "+8613800000002"
    shanghai = list_customer_rows(ctx, where=Customer.__table__.c.city == "上海")
    assert [r.code for r in shanghai.items] == ["K002", "K004"]
    assert list_customer_rows(ctx, limit=2, offset=2, total=6).total == 6
    assert list_customer_rows(ctx, limit=2, offset=2, total=999).total == 999  # not recounted


def test_an_unknown_sort_is_invalid_input(some_customers) -> None:
    with pytest.raises(InvalidInput):
        list_customer_rows(some_customers, sort="shoe_size")


@pytest.mark.parametrize("sort", ["last_order", "-last_order", "industry", "-industry"])
def test_empty_values_sort_last_either_way_on_both_backends(ctx, sort: str) -> None:  # type: ignore[no-untyped-def]
    """SQLite put them first going up and PostgreSQL first going down."""
    add_customer(ctx, "N1", "None")
    add_customer(ctx, "E1", "Early", industry="零售")
    add_customer(ctx, "L1", "Late", industry="制造")
    add_orders(ctx, "E1", [("2026-01-05", "10.50")])
    add_orders(ctx, "L1", [("2026-03-05", "10.50")])
    codes = [r.code for r in list_customer_rows(ctx, sort=sort).items]
    assert codes[-1] == "N1" and set(codes[:2]) == {"E1", "L1"}
    assert [c.code for c in customers.list_customers(ctx, sort=sort).items] == codes
