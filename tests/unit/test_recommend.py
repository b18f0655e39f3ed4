"""'Customers who bought X also bought Y' on a hand-made basket fixture."""

from __future__ import annotations

import sqlalchemy as sa

from tests.factories import add_customer, add_orders
from tricrm_tui.models import Product
from tricrm_tui.services import recommend


def add_products(ctx, *names: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with ctx.transaction() as s:
        return {
            n: s.execute(
                sa.insert(Product.__table__).values(sku=f"SKU-{n}", name=n)
            ).inserted_primary_key[0]
            for n in names
        }


def baskets(ctx, spec: dict[str, list[str]], products: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    for code, items in spec.items():
        add_customer(ctx, code)
        for item in items:
            add_orders(ctx, code, [("2026-01-05", "10")], product_id=products[item])


def test_recommendations_from_cooccurrence(ctx) -> None:  # type: ignore[no-untyped-def]
    """Co-occurrence: milk–bread 2 (A, B), milk–butter 2 (B, C), bread–butter 1 (B),
    bread–jam 1 (D). E bought milk; F bought milk and jam."""
    products = add_products(ctx, "milk", "bread", "butter", "jam", "tea")
    baskets(
        ctx,
        {
            "A": ["milk", "bread", "milk"],
            "B": ["milk", "bread", "butter"],
            "C": ["milk", "butter"],
            "D": ["bread", "jam"],
            "E": ["milk"],
            "F": ["milk", "jam"],
            "G": [],
        },
        products,
    )
    e = recommend.recommend(ctx, "E", top=5)
    # E (milk) adds nothing new to the counts: milk–bread 2, milk–butter 2 (+ F: milk–jam 1).
    assert [(r.name, r.score, r.because_name) for r in e] == [
        ("bread", 2, "milk"),
        ("butter", 2, "milk"),
        ("jam", 1, "milk"),
    ]
    assert e[0].reason == "bought with milk"
    assert e[0].to_dict()["sku"] == "SKU-bread"

    f = recommend.recommend(ctx, "F", top=2)
    # bread: milk–bread 2 + jam–bread 1 = 3, mostly because of milk; butter: 2.
    assert [(r.name, r.score, r.because_name) for r in f] == [
        ("bread", 3, "milk"),
        ("butter", 2, "milk"),
    ]
    assert recommend.recommend(ctx, "G") == []


def test_cache_rebuilds_when_orders_change(ctx) -> None:  # type: ignore[no-untyped-def]
    products = add_products(ctx, "milk", "bread", "tea")
    baskets(ctx, {"A": ["milk", "bread"], "E": ["milk"]}, products)
    assert [r.name for r in recommend.recommend(ctx, "E")] == ["bread"]
    add_orders(ctx, "A", [("2026-02-01", "3")], product_id=products["tea"])
    assert [r.name for r in recommend.recommend(ctx, "E")] == ["bread", "tea"]
    add_orders(ctx, "E", [("2026-02-02", "3")], product_id=products["tea"], status="cancelled")
    assert [r.name for r in recommend.recommend(ctx, "E")] == ["bread", "tea"]


def test_no_orders_at_all(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "E")
    assert recommend.recommend(ctx, "E") == []
