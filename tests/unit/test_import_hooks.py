"""After an import: classification refreshed for the customers it touched, duplicates counted."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.factories import add_customer
from tricrm_tui.services import audit, classify, customers, importing
from tricrm_tui.services.importing import import_file


def test_import_classifies_and_counts_new_duplicates(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "OLD1", "张伟", phone="13812345678", city="深圳")
    path = tmp_path / "c.csv"
    path.write_bytes(
        "客户编号,客户名称,手机号码,省份,城市\n"
        "N1,张伟,138 1234 5678,广东省,深圳\n"
        "N2,李娜,13987654321,四川,成都\n".encode("gbk")
    )
    result = import_file(ctx, "customers", path)
    assert result.inserted == 2
    assert result.extra["new_duplicates"] == 1
    assert result.extra["classified"] == 2
    assert customers.get_customer(ctx, "N1").region == "华南"
    assert customers.get_customer(ctx, "N2").region == "西南"
    again = import_file(ctx, "customers", path)
    assert again.unchanged == 2 and again.inserted == 0


def test_an_order_import_refreshes_value(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "C1", "甲")
    add_customer(ctx, "C2", "乙")
    path = tmp_path / "o.csv"
    path.write_text(
        '订单编号,客户编号,下单日期,订单金额\nO1,C1,2026年1月5日,"￥1,234.50"\nO2,C1,2026.2.1,99元\n'
        "O3,C2,20260301,10\n",
        encoding="utf-8-sig",
    )
    result = import_file(ctx, "orders", path)
    assert result.inserted == 3
    assert result.extra["value_refreshed"] == 2
    assert result.extra["classified"] == 2
    c1 = customers.get_customer(ctx, "C1")
    assert c1.rfm_segment is not None and c1.value_tier is not None
    assert c1.total_spent == Decimal("1333.50")  # the quoted ￥1,234.50 whole


def test_new_customers_are_inserted_with_the_classes_a_full_classification_gives(  # type: ignore[no-untyped-def]
    ctx, tmp_path: Path
) -> None:
    """A customer import sets each new customer's classes with its row; the classification
    follow-up then reclassifies only the customers it updated (one here), and a full
    classification afterwards finds nothing to change."""
    add_customer(ctx, "OLD1", "旧客户", city="成都")
    path = tmp_path / "c.csv"
    path.write_text(
        "客户编号,客户名称,客户类型,省份,城市,规模,员工人数\n"
        "OLD1,旧客户,个人,,杭州,,\n"  # an update: moved to 杭州
        "E1,深圳科技,企业,,深圳,,1500\n"  # region from the city, size from a custom field
        "E2,成都贸易,企业,四川,,120人,\n"
        "E3,某公司,企业,,,medium,\n"  # a band label already: kept
        "P1,王芳,个人,北京,,,\n"
        "P2,无地址,个人,,,,\n",
        encoding="utf-8",
    )
    result = import_file(ctx, "customers", path, mapping={"规模": "size"})
    assert (result.inserted, result.updated) == (5, 1)
    assert result.extra["classified"] == 6
    got = {
        code: (c.region, c.size, c.frequency_band, c.favourite_category, c.aov_band)
        for code in ("OLD1", "E1", "E2", "E3", "P1", "P2")
        for c in [customers.get_customer(ctx, code)]
    }
    assert got == {
        "OLD1": ("华东", "individual", "no_orders", None, None),
        "E1": ("华南", "large", "no_orders", None, None),
        "E2": ("西南", "small", "no_orders", None, None),
        "E3": (None, "medium", "no_orders", None, None),
        "P1": ("华北", "individual", "no_orders", None, None),
        "P2": (None, "individual", "no_orders", None, None),
    }
    # The follow-up classified the one updated customer, not the five inserted ones.
    entries = audit.list_entries(ctx, entity="classification").items
    assert [e.entity_id for e in entries][:1] == ["1 customers"]
    assert classify.classify_customers(ctx).changed == 0


def test_an_enterprise_line_repeated_or_imported_again_is_no_change(  # type: ignore[no-untyped-def]
    ctx, tmp_path: Path
) -> None:
    """The stored size is the band ("medium"), the line says "300人": the same line again, in
    a later batch or a later import, is the same customer, not a change or a conflict."""
    path = tmp_path / "c.csv"
    path.write_text(
        "客户编号,客户名称,客户类型,城市,规模\nE1,深圳科技,企业,深圳,300人\nE1,深圳科技,企业,深圳,300人\n",
        encoding="utf-8",
    )
    result = import_file(ctx, "customers", path, mapping={"规模": "size"}, batch_size=1)
    assert (result.inserted, result.duplicates, result.rejected_count) == (1, 1, 0)
    again = import_file(ctx, "customers", path, mapping={"规模": "size"})
    assert (again.updated, again.unchanged, again.rejected_count) == (0, 1, 0)
    assert customers.get_customer(ctx, "E1").size == "medium"


def test_a_customer_import_with_unreadable_rules_writes_its_rows_and_says_why_unclassified(  # type: ignore[no-untyped-def]
    ctx, tmp_path: Path
) -> None:
    """A broken ``classify.toml`` does not hold the rows back: they go in unclassified, the
    import is recorded as done, and the classification follow-up names the file."""
    from tricrm_tui.services.errors import InvalidInput

    config = classify.user_config_path()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[aov\n", encoding="utf-8")
    path = tmp_path / "c.csv"
    path.write_text("客户编号,客户名称,城市\nC1,甲,深圳\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="classify.toml"):
        import_file(ctx, "customers", path)
    assert customers.get_customer(ctx, "C1").region is None
    assert [r.status for r in importing.list_imports(ctx).items] == ["done"]
