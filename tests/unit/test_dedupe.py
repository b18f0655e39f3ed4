"""Probable duplicates: phone, email, pinyin (simplified, traditional, Latin) and strangers."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from tests.cli_runner import invoke
from tests.factories import add_customer
from tricrm_tui.models import Customer
from tricrm_tui.services import dedupe, merge
from tricrm_tui.services.names import name_key


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("张伟", "張偉"),
        ("张伟", "Zhang Wei"),
        ("张伟", "WEI ZHANG"),
        ("张伟", "zhangwei"),
        ("欧阳娜娜", "Ouyang Nana"),
        ("单雄信", "Shan Xiongxin"),
        ("曾国藩", "Zeng Guofan"),
    ],
)
def test_name_keys_meet_across_scripts(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


def test_company_words_do_not_count() -> None:
    assert name_key("深圳华强有限公司", True) == name_key("深圳华强集团", True)


def _codes(groups) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return [g.codes for g in groups]


def test_phone_email_and_pinyin_matches(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "P1", "王芳", phone="13800138000")
    add_customer(ctx, "P2", "王 芳", phone="+86 138-0013-8000")
    add_customer(ctx, "E1", "李娜", email="lina@example.com")
    add_customer(ctx, "E2", "Li Na", email="LiNa@Example.com")
    add_customer(ctx, "N1", "张伟", birthday="1990-05-01", city="深圳")
    add_customer(ctx, "N2", "張偉", birthday="1990-05-01")
    add_customer(ctx, "N3", "Zhang Wei", birthday="1990-05-01")
    add_customer(ctx, "Q1", "赵敏", city="杭州", industry="零售")
    add_customer(ctx, "Q2", "赵敏", city="杭州", industry="零售")
    groups = dedupe.probable_duplicates(ctx, min_score=0.7)
    by_codes = {tuple(g.codes): g for g in groups}
    assert set(by_codes) == {("P1", "P2"), ("E1", "E2"), ("N1", "N2", "N3"), ("Q1", "Q2")}
    assert by_codes[("P1", "P2")].score == 1.0
    assert any(r.startswith("phone: same") for r in by_codes[("P1", "P2")].reasons)
    assert any(r.startswith("email: same") for r in by_codes[("E1", "E2")].reasons)
    names = by_codes[("N1", "N2", "N3")]
    assert any("same pinyin" in r for r in names.reasons)
    assert any(r.startswith("birthday: same") for r in names.reasons)
    assert 0.7 <= names.score <= 1.0
    # a higher bar leaves only the strong ones
    strong = _codes(dedupe.probable_duplicates(ctx, min_score=0.95))
    assert ["P1", "P2"] in strong and ["Q1", "Q2"] not in strong
    # restricted to some customers: only their groups
    n1 = [g for g in groups if "N1" in g.codes][0]
    ids = dedupe.scan_duplicates(ctx, customer_ids=[_id(ctx, "E1")]).groups
    assert _codes(ids) == [["E1", "E2"]] and n1


def _id(ctx, code: str) -> int:  # type: ignore[no-untyped-def]
    from tricrm_tui.services.customers import get_customer

    return get_customer(ctx, code).id


def test_same_name_strangers_are_not_flagged(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "S1", "张伟", phone="13800138000", birthday="1990-05-01", city="北京")
    add_customer(ctx, "S2", "张伟", phone="13900139000", birthday="1985-02-03", city="北京")
    add_customer(ctx, "S3", "张伟")  # nothing to support a match
    add_customer(
        ctx, "S4", "張偉", phone="13700137000", city="北京"
    )  # only the city, phones differ
    assert dedupe.probable_duplicates(ctx, min_score=0.7) == []


def test_not_duplicate_is_remembered(ctx, db_url) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "D1", "王芳", phone="13800138000")
    add_customer(ctx, "D2", "王芳", phone="13800138000")
    assert len(dedupe.probable_duplicates(ctx)) == 1
    assert merge.mark_not_duplicate(ctx, "D2", "D1") is True
    assert merge.mark_not_duplicate(ctx, "D1", "D2") is False
    assert dedupe.probable_duplicates(ctx) == []
    r = invoke(db_url, "customers", "duplicates", "-f", "json")
    assert r.exit_code == 0 and json.loads(r.stdout) == []


def test_blocking_cap_splits_a_common_name(ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(dedupe, "MAX_NAME_BLOCK", 3)
    monkeypatch.setattr(dedupe, "MAX_CONTACT_BLOCK", 2)
    for i in range(5):
        add_customer(ctx, f"W{i}", "王伟", city=f"城{i}", industry="零售" if i == 0 else None)
    # W0/W8 meet in the 城0+零售 sub-block, W8/W9 in the birthday sub-block
    add_customer(ctx, "W8", "王伟", birthday="1990-01-01", city="城0", industry="零售")
    add_customer(ctx, "W9", "王伟", birthday="1990-01-01")
    for i in range(3):
        add_customer(ctx, f"T{i}", "店员" + "甲乙丙"[i], phone="02088888888")
    scan = dedupe.scan_duplicates(ctx)
    assert sorted(_codes(scan.groups)) == [["W0", "W8", "W9"]]
    assert any(c.startswith("name wangwei: 7 customers") for c in scan.capped_blocks)
    assert any(c.startswith("phone +862088888888: 3 customers") for c in scan.capped_blocks)
    # inside the cap the same customers are compared in one block
    monkeypatch.setattr(dedupe, "MAX_NAME_BLOCK", 200)
    assert dedupe.scan_duplicates(ctx).pairs_compared > scan.pairs_compared


def test_cli_duplicates_json_shape(ctx, db_url) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "J1", "李娜", email="lina@example.com")
    add_customer(ctx, "J2", "李娜", email="lina@example.com")
    r = invoke(db_url, "customers", "duplicates", "--min-score", "0.5", "-f", "json")
    data = json.loads(r.stdout)
    assert data == [{"codes": ["J1", "J2"], "score": 1.0, "reasons": data[0]["reasons"]}]
    assert "email: same (lina@example.com)" in data[0]["reasons"]
    r = invoke(db_url, "customers", "duplicates")
    assert r.exit_code == 0 and "J1 J2" in r.stdout


def test_a_scan_around_some_customers_finds_what_the_whole_scan_finds_for_them(
    ctx, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The check after an import reads only the rows that can pair with the imported
    customers; with small caps, every rule (shared line, capped name block split by
    birthday and by city with industry, phone, email) must still give the same groups."""
    monkeypatch.setattr(dedupe, "MAX_NAME_BLOCK", 4)
    monkeypatch.setattr(dedupe, "MAX_CONTACT_BLOCK", 3)
    for i in range(6):  # a capped name block: only the birthday and city/industry pairs count
        extra = {"birthday": "1990-05-01", "city": "杭州"} if i < 2 else {}
        if i in (2, 3):
            extra = {"city": "杭州", "industry": "零售"}
        else:
            extra["phone"] = f"1380013800{i}"
        add_customer(ctx, f"W{i}", "张伟", **extra)
    for i in range(4):  # a shared switchboard line: evidence of nothing
        add_customer(ctx, f"S{i}", f"顾客{'甲乙丙丁'[i]}", phone="13900139000")
    add_customer(ctx, "P1", "王芳", phone="13700137000")
    add_customer(ctx, "P2", "王 芳", phone="+86 137-0013-7000")
    add_customer(ctx, "E1", "李娜", email="lina@example.com")
    add_customer(ctx, "E2", "Li Na", email="LiNa@Example.com")
    add_customer(ctx, "L1", "Zhao Min", city="深圳", industry="教育")
    add_customer(ctx, "L2", "赵敏", city="深圳", industry="教育")
    # 0.6 lets a same-name pair agreeing on the city alone count, which only a block
    # compared whole (not split) would offer
    whole = dedupe.scan_duplicates(ctx, min_score=0.6)
    assert len(whole.groups) >= 5
    codes = [c for g in whole.groups for c in g.codes] + ["S0", "W5"]
    for code in codes:
        around = dedupe.scan_duplicates(ctx, min_score=0.6, customer_ids=[_id(ctx, code)])
        expected = [g for g in whole.groups if code in g.codes]
        assert [(g.codes, g.score, g.reasons) for g in around.groups] == [
            (g.codes, g.score, g.reasons) for g in expected
        ], code
        assert around.customers == whole.customers
    # around every customer (an import of the whole base): the whole scan's groups
    with ctx.session() as s:
        everyone = list(s.execute(sa.select(Customer.__table__.c.id)).scalars())
    around = dedupe.scan_duplicates(ctx, min_score=0.6, customer_ids=everyone)
    assert [(g.codes, g.score, g.reasons, g.pairs) for g in around.groups] == [
        (g.codes, g.score, g.reasons, g.pairs) for g in whole.groups
    ]


def test_customers_left_out_of_every_affix_block_are_counted(ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Where a city and industry gather more customers sharing a name's first and last
    letters than an affix block compares, the scan says how many were never compared for a
    misspelt name; a customer with one affix block small enough is not counted."""
    monkeypatch.setattr(dedupe, "MAX_FUZZY_BLOCK", 3)
    for i in range(4):
        add_customer(ctx, f"Z{i}", "Zhangwei Li", city="深圳", industry="零售")
    # A pair of their own: one affix block they share with nobody else, compared.
    add_customer(ctx, "X1", "Wang Xiaoming", city="深圳", industry="零售")
    add_customer(ctx, "X2", "Wang Xiaomin", city="深圳", industry="零售")
    notes = dedupe.scan_duplicates(ctx).capped_blocks
    assert [n for n in notes if "misspelt" in n] == [
        "4 customers not compared for misspelt names: more than 3 others of their city and "
        "industry share each of their name's first and last letters"
    ]
    around = dedupe.scan_duplicates(ctx, customer_ids=[1]).capped_blocks  # that one only
    assert any(n.startswith("1 customers not compared") for n in around)
    monkeypatch.setattr(dedupe, "MAX_FUZZY_BLOCK", 30)
    assert not any("misspelt" in n for n in dedupe.scan_duplicates(ctx).capped_blocks)


def test_a_scan_around_a_customer_counts_them_when_no_affix_block_compared_them(
    ctx, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Around a customer whose name shares its letters with too many others of their city
    and industry (an import's new customer), the scan says so as the whole scan does: the
    others of those blocks are not read, and the customer was not counted."""
    monkeypatch.setattr(dedupe, "MAX_FUZZY_BLOCK", 3)
    for i, name in enumerate(
        ["Zhangwei Li", "Zhangwen Li", "Zhangwu Li", "Zhangwa Li", "Zhangwo Li"]
    ):
        add_customer(ctx, f"Z{i}", name, city="深圳", industry="零售")
    whole = [n for n in dedupe.scan_duplicates(ctx).capped_blocks if "misspelt" in n]
    assert [n.split(" customers")[0] for n in whole] == ["5"]
    around = dedupe.scan_duplicates(ctx, customer_ids=[1]).capped_blocks
    assert [n.split(" customers")[0] for n in around if "misspelt" in n] == ["1"]
