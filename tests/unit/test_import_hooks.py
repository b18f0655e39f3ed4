"""After an import: classification refreshed for the customers it touched, duplicates counted."""

from __future__ import annotations

from pathlib import Path

from tests.factories import add_customer
from tricrm_tui.services import customers
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
        "订单编号,客户编号,下单日期,订单金额\nO1,C1,2026年1月5日,￥1,234.50\nO2,C1,2026.2.1,99元\n"
        "O3,C2,20260301,10\n",
        encoding="utf-8-sig",
    )
    result = import_file(ctx, "orders", path)
    assert result.inserted == 3
    assert result.extra["value_refreshed"] == 2
    assert result.extra["classified"] == 2
    c1 = customers.get_customer(ctx, "C1")
    assert c1.rfm_segment is not None and c1.value_tier is not None
