"""Enterprise size bands read in the operator's language; JSON keeps the stored band names."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.cli_runner import invoke
from tests.factories import add_customer
from tricrm_tui.i18n import set_language
from tricrm_tui.labels import size_label
from tricrm_tui.tui.screens.customer_detail import display_value


@pytest.fixture
def chinese() -> Iterator[None]:
    set_language("zh_CN")
    yield
    set_language("en")


def test_shipped_bands_are_translated_and_own_bands_kept(chinese) -> None:
    assert [size_label(b) for b in ("micro", "small", "medium", "large")] == [
        "微型企业",
        "小型企业",
        "中型企业",
        "大型企业",
    ]
    assert size_label("individual") == "个人"
    assert size_label("50-99人") == "50-99人"  # a band named in the operator's classify.toml
    assert display_value("size", "small") == "小型企业"


def test_english_names_the_band_as_a_business() -> None:
    assert display_value("size", "large") == "large business"


def test_breakdown_table_translates_json_keeps_codes(ctx, db_url, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "E1", kind="enterprise", size="120")
    add_customer(ctx, "P1")
    from tricrm_tui.services import classify

    classify.classify_customers(ctx)
    rows = json.loads(invoke(db_url, "report", "breakdown", "--by", "size", "-f", "json").stdout)
    assert {r["group"] for r in rows} == {"small", "individual"}
    monkeypatch.setenv("COLUMNS", "120")
    set_language("zh_CN")  # what ``tricrm --lang zh_CN`` does before the command runs
    try:
        table = invoke(db_url, "report", "breakdown", "--by", "size").stdout
    finally:
        set_language("en")
    assert "小型企业" in table and "个人" in table and "small" not in table
