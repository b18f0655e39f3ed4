"""Repeated keys in an import file: the real run and ``--dry-run`` judge a repeat against
what its first line wrote, in every mode and wherever the batches split."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tricrm_tui.services import classify, customers, importing

HEADERS = {
    "customers": "code,name,phone,tags\n",
    "orders": "order_no,customer_code,order_date,amount,quantity\n",
    "interactions": "external_key,customer_code,channel,occurred_at,subject,follow_up,"
    "follow_up_reason\n",
}

@pytest.fixture
def stored(ctx: Any, tmp_path: Path) -> Any:
    """Customers A and B, D deleted after its order S2 and contact T2; S1 and T1 on A (T1
    with a follow-up); K1 with a phone and a tag."""
    for code in "ABD":
        customers.add_customer(ctx, {"code": code, "name": code})
    base = {
        "orders": "S1,A,2026-01-01,10,\nS2,D,2026-01-01,10,\n",
        "interactions": "T1,A,phone,2026-01-01,hi,2026-02-01,\nT2,D,phone,2026-01-01,yo,,\n",
        "customers": "K1,Kay,13812345678,\n",
    }
    for kind, body in base.items():
        path = tmp_path / f"base-{kind}.csv"
        path.write_text(HEADERS[kind] + body, "utf-8")
        assert importing.import_file(ctx, kind, path).rejected == []
    classify.tag_customer(ctx, "K1", ["old"])
    customers.delete_customer(ctx, "D")
    return ctx


def test_skip_and_insert_only_count_an_identical_repeat_of_a_new_customers_tags(
    stored: Any, tmp_path: Path
) -> None:
    """Those modes read no stored tags, so a repeat in a later batch of a customer the
    file added with tags was refused as ``duplicate_key``: its tags looked new."""
    path = tmp_path / "c.csv"
    path.write_text(HEADERS["customers"] + "N1,Ann,,vip\nN1,Ann,,vip\n", "utf-8")
    for mode in ("skip", "insert-only"):
        result = importing.import_file(stored, "customers", path, mode=mode, batch_size=1)
        assert (result.rejected, result.duplicates) == ([], 1), mode
        importing.undo_import(stored, result.import_id)
