"""Customer services on a real database (SQLite file and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tricrm_tui.services import audit, classify, customers
from tricrm_tui.services.errors import Conflict, InvalidInput, NotFound


def _add(ctx, code: str, name: str, **kw):  # type: ignore[no-untyped-def]
    return customers.add_customer(ctx, {"code": code, "name": name, **kw})


def test_add_normalises_and_show_returns_every_field(ctx) -> None:  # type: ignore[no-untyped-def]
    rec = _add(
        ctx,
        "C001",
        " 张伟明 ",
        phone="１３８ 1234 5678",
        email=" Zhang.Wei@Example.COM ",
        birthday="1990年5月1日",
        kind="企业",
        tags="vip，重点",
        province="广东",
        city="深圳",
    )
    assert rec.name == "张伟明"
    assert rec.phone == "+8613812345678"
    assert rec.email == "zhang.wei@example.com"
    assert rec.birthday == dt.date(1990, 5, 1)
    assert rec.kind == "enterprise"
    assert rec.tags == ["vip", "重点"]
    assert rec.total_spent == Decimal("0.00")
    shown = customers.get_customer(ctx, "C001").to_dict()
    for key in (
        "code",
        "name",
        "kind",
        "industry",
        "size",
        "province",
        "city",
        "phone",
        "email",
        "birthday",
        "registered",
        "tags",
        "owner",
        "notes",
        "consent",
        "version",
    ):
        assert key in shown
    assert shown["owner"] == "tester"


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("phone", "12345", "phone"),
        ("email", "bad@@x.com", "email"),
        ("birthday", "01/05/2023", "date"),
        ("kind", "alien", "kind"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(ctx, field, value, reason) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as err:
        _add(ctx, "C002", "李娜", **{field: value})
    assert err.value.field == field
    assert reason in str(err.value)
    assert customers.list_customers(ctx).total == 0
    assert audit.list_entries(ctx).total == 0


def test_duplicate_code_is_refused(ctx) -> None:  # type: ignore[no-untyped-def]
    _add(ctx, "C001", "A")
    with pytest.raises(InvalidInput) as err:
        _add(ctx, "C001", "B")
    assert err.value.code == "duplicate_key"


def test_search_by_chinese_part_phone_digits_email_and_tag(ctx) -> None:  # type: ignore[no-untyped-def]
    _add(ctx, "C001", "张伟明", phone="13812345678", email="wm@example.com", tags="vip")
    _add(ctx, "C002", "王芳", phone="13987654321", email="fang@example.org")
    _add(ctx, "C003", "Zhang Wei", email="zw@example.com")

    def codes(q: str) -> list[str]:
        return [c.code for c in customers.list_customers(ctx, search=q).items]

    assert codes("伟") == ["C001"]
    assert codes("伟明") == ["C001"]
    assert codes("张伟明") == ["C001"]
    assert codes("1234") == ["C001"]
    assert codes("138 1234 5678") == ["C001"]
    assert codes("fang@") == ["C002"]
    assert codes("ZHANG") == ["C003"]
    assert codes("vip") == ["C001"]
    assert codes("nobody") == []


def test_paging_and_sorting(ctx) -> None:  # type: ignore[no-untyped-def]
    for i in range(7):
        _add(ctx, f"C{i:03d}", f"N{6 - i}")
    page = customers.list_customers(ctx, limit=3, offset=3)
    assert [c.code for c in page.items] == ["C003", "C004", "C005"]
    assert page.total == 7 and page.has_more
    by_name = customers.list_customers(ctx, sort="-name", limit=2)
    assert [c.name for c in by_name.items] == ["N6", "N5"]
    with pytest.raises(InvalidInput):
        customers.list_customers(ctx, sort="password")


def test_edit_is_audited_with_before_and_after(ctx) -> None:  # type: ignore[no-untyped-def]
    _add(ctx, "C001", "张三", city="北京")
    rec = customers.edit_customer(ctx, "C001", {"city": "上海", "tags": "a,b"})
    assert rec.city == "上海" and rec.version == 2 and rec.tags == ["a", "b"]
    entry = audit.list_entries(ctx, entity="customer", entity_id="C001").items[0]
    assert entry.action == "update" and entry.actor == "tester"
    assert entry.before == {"city": "北京", "tags": []}
    assert entry.after == {"city": "上海", "tags": ["a", "b"], "version": 2}
    assert customers.list_customers(ctx, search="上海").total == 0  # city is not searched
    assert customers.list_customers(ctx, search="张三").total == 1


def test_stale_version_is_a_conflict_and_changes_nothing(ctx) -> None:  # type: ignore[no-untyped-def]
    _add(ctx, "C001", "张三")
    customers.edit_customer(ctx, "C001", {"city": "上海"}, expected_version=1)
    with pytest.raises(Conflict):
        customers.edit_customer(ctx, "C001", {"city": "广州"}, expected_version=1)
    assert customers.get_customer(ctx, "C001").city == "上海"


def test_delete_hides_the_customer_and_keeps_the_trail(ctx) -> None:  # type: ignore[no-untyped-def]
    _add(ctx, "C001", "张三")
    customers.delete_customer(ctx, "C001")
    with pytest.raises(NotFound):
        customers.get_customer(ctx, "C001")
    assert customers.list_customers(ctx).total == 0
    assert [e.action for e in audit.list_entries(ctx).items] == ["delete", "create"]


def test_a_new_or_moved_customer_is_classified_at_once(ctx) -> None:  # type: ignore[no-untyped-def]
    """Region and size band come with the customer, not at the next ``tricrm classify``, and
    follow an edit of the fields they come from; the edit's audit entry names only the
    fields the operator changed."""
    rec = _add(ctx, "E1", "深圳科技", kind="企业", city="深圳", size="300人")
    assert (rec.region, rec.size, rec.frequency_band) == ("华南", "medium", "no_orders")
    moved = customers.edit_customer(ctx, "E1", {"city": "成都"})
    assert (moved.region, moved.size) == ("西南", "medium")
    entry = audit.list_entries(ctx, entity="customer", entity_id="E1").items[0]
    assert entry.after == {"city": "成都", "version": 2}
    person = _add(ctx, "P1", "王芳")
    assert (person.region, person.size) == (None, "individual")
    assert customers.edit_customer(ctx, "P1", {"province": "北京"}).region == "华北"
    assert classify.classify_customers(ctx).changed == 0


def test_an_edited_size_is_stored_as_its_band_beside_the_size_as_given(ctx) -> None:  # type: ignore[no-untyped-def]
    """A size typed as a head count is classified to its band and kept as given beside it;
    the same again is no change, a band's own label keeps no text, and a change of kind to
    individual shows the person as ``individual`` (as ``size:`` and the breakdown do)."""
    _add(ctx, "E1", "某公司", kind="企业", custom_fields={"员工人数": "1500"})
    first = customers.get_customer(ctx, "E1")
    assert (first.size, first.size_text) == ("large", None)
    given = customers.edit_customer(ctx, "E1", {"size": "2000人"})
    assert (given.size, given.size_text, given.version) == ("large", "2000人", 2)
    same = customers.edit_customer(ctx, "E1", {"size": "2000人"})
    assert same.version == 2  # nothing changed, nothing audited
    smaller = customers.edit_customer(ctx, "E1", {"size": "500人"})
    assert (smaller.size, smaller.size_text) == ("medium", "500人")
    entry = audit.list_entries(ctx, entity="customer", entity_id="E1").items[0]
    assert (entry.before, entry.after) == (
        {"size": "large", "size_text": "2000人"},
        {"size": "medium", "size_text": "500人", "version": 3},
    )
    assert classify.classify_customers(ctx).changed == 0
    label = customers.edit_customer(ctx, "E1", {"size": "small"})
    assert (label.size, label.size_text) == ("small", None)
    person = customers.edit_customer(ctx, "E1", {"kind": "个人"})
    assert (person.size, person.size_text) == ("individual", "small")
    again = customers.edit_customer(ctx, "E1", {"kind": "企业"})
    assert (again.size, again.size_text) == ("small", None)


def test_unreadable_classification_rules_do_not_stop_adding_customers(ctx) -> None:  # type: ignore[no-untyped-def]
    """A broken ``classify.toml`` leaves new and edited customers unclassified (``tricrm
    classify`` says what is wrong) rather than refuse them."""
    config = classify.user_config_path()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[aov\n", encoding="utf-8")
    rec = _add(ctx, "P1", "王芳", city="深圳")
    assert (rec.city, rec.region) == ("深圳", None)
    assert customers.edit_customer(ctx, "P1", {"city": "成都"}).city == "成都"
    with pytest.raises(InvalidInput, match="classify.toml"):
        classify.classify_customers(ctx)


def test_a_size_longer_than_its_column_is_refused_as_an_import_refuses_it(ctx) -> None:  # type: ignore[no-untyped-def]
    """A size of more than 32 characters is kept as given beside its band: PostgreSQL
    refused the row with a raw database error, SQLite kept it whole."""
    long_size = "员工约2000人左右分布于全国三十多个城市及海外多个办事处和研发中心"
    assert len(long_size) > 32
    with pytest.raises(InvalidInput, match="size is longer than 32 characters") as exc:
        _add(ctx, "E1", "某公司", kind="企业", size=long_size)
    assert exc.value.field == "size"
    _add(ctx, "E1", "某公司", kind="企业", size=long_size[:32])
    with pytest.raises(InvalidInput, match="size is longer than 32 characters"):
        customers.edit_customer(ctx, "E1", {"size": long_size})
    assert customers.get_customer(ctx, "E1").size_text == long_size[:32]


def test_a_persons_size_edited_to_what_it_shows_is_no_change(ctx) -> None:  # type: ignore[no-untyped-def]
    """A person who kept an enterprise's band and its size as given shows that text; editing
    the size to the same text changes nothing (the band is not replaced by the text)."""
    _add(ctx, "E1", "某集团", kind="企业", size="1万人以上")
    person = customers.edit_customer(ctx, "E1", {"kind": "个人"})
    assert (person.size, person.size_text, person.version) == ("individual", "1万人以上", 2)
    same = customers.edit_customer(ctx, "E1", {"size": "1万人以上"})
    assert same.version == 2
    back = customers.edit_customer(ctx, "E1", {"kind": "企业"})
    assert (back.size, back.size_text) == ("large", "1万人以上")
