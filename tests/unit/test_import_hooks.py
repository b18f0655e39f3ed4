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
