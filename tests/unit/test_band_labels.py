"""Purchase-frequency and order-value bands read in the operator's language: customer detail,
the breakdown table and the filter help; JSON, CSV and filters keep the stored band names."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.cli_runner import invoke
from tests.factories import add_customer, add_orders
from tricrm_tui.i18n import set_language
from tricrm_tui.labels import aov_label, frequency_label
from tricrm_tui.services import classify, customers
from tricrm_tui.tui.screens.customer_detail import display_value


@pytest.fixture
def chinese() -> Iterator[None]:
    set_language("zh_CN")
    yield
    set_language("en")


def test_shipped_bands_are_translated_and_own_bands_kept(chinese) -> None:
    assert [frequency_label(b) for b in ("no_orders", "one_time", "regular", "frequent")] == [
        "没有订单",
        "单次购买",
        "经常购买",
        "高频购买",
    ]
    assert [aov_label(b) for b in ("low", "medium", "premium")] == [
        "低客单价",
        "中客单价",
        "超高客单价",
    ]
    assert aov_label("批发") == "批发" and frequency_label(None) == ""
    assert display_value("frequency_band", "occasional") == "偶尔购买"
    assert display_value("aov_band", "high") == "高客单价"


def test_english_names_read_as_phrases() -> None:
    assert display_value("frequency_band", "one_time") == "one-time buyer"
    assert display_value("aov_band", "medium") == "medium order value"


def _classified(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "ONE")
    add_customer(ctx, "BIG")
    add_orders(ctx, "ONE", [("2026-01-05", "50")])
    add_orders(ctx, "BIG", [("2026-01-05", "3000"), ("2026-02-05", "2500")])
    classify.classify_customers(ctx)


def test_detail_record_keeps_codes(ctx) -> None:  # type: ignore[no-untyped-def]
    _classified(ctx)
    record = customers.get_customer(ctx, "ONE")
    assert (record.frequency_band, record.aov_band) == ("one_time", "low")


def test_breakdown_table_translates_json_keeps_codes(ctx, db_url, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _classified(ctx)
    behaviour = invoke(db_url, "report", "breakdown", "--by", "behaviour", "-f", "json").stdout
    assert {r["group"] for r in json.loads(behaviour)} == {"one_time", "regular"}
    aov = invoke(db_url, "report", "breakdown", "--by", "aov", "-f", "csv").stdout
    assert "premium" in aov and "low" in aov
    monkeypatch.setenv("COLUMNS", "120")
    set_language("zh_CN")
    try:
        by_behaviour = invoke(db_url, "report", "breakdown", "--by", "behaviour").stdout
        by_aov = invoke(db_url, "report", "breakdown", "--by", "aov").stdout
    finally:
        set_language("en")
    assert (
        "单次购买" in by_behaviour and "经常购买" in by_behaviour and "one_time" not in by_behaviour
    )
    assert "超高客单价" in by_aov and "低客单价" in by_aov and "premium" not in by_aov
    matched = invoke(db_url, "customers", "list", "--where", "aov:premium", "-f", "json").stdout
    assert [r["code"] for r in json.loads(matched)] == ["BIG"]


def test_filter_help_lists_what_to_type(chinese) -> None:
    from tricrm_tui.services.filters import filter_help

    text = filter_help()
    assert "regular（经常购买）" in text and "premium（超高客单价）" in text
    set_language("en")
    assert "frequency:no_orders, one_time, occasional, regular, frequent" in filter_help()
