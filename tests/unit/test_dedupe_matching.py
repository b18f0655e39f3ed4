"""Probable duplicates the name keys, the blocking and the grouping must not miss or invent:
typos, romanisations, polyphones, city spellings, mixed scripts, placeholder contacts,
not-duplicate decisions inside a group, and what an import reports as new."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import add_customer
from tricrm_tui.services import dedupe, merge
from tricrm_tui.services.importing import import_file
from tricrm_tui.services.names import name_key, name_keys
from tricrm_tui.services.regions import city_key


def _pairs(ctx, min_score: float = 0.7) -> set[tuple[str, ...]]:  # type: ignore[no-untyped-def]
    return {tuple(g.codes) for g in dedupe.probable_duplicates(ctx, min_score=min_score)}


def test_close_spellings_meet_through_birthday_and_city_blocks(ctx) -> None:  # type: ignore[no-untyped-def]
    """Names one typo apart share no name key; they meet in the birthday block, or, with no
    birthday, among the same city and industry's names sharing a first or last affix."""
    cases = [
        ("John Smith", "Jon Smith"),
        ("Catherine Lee", "Katherine Lee"),
        ("陈晓明", "陈晓敏"),
        ("Zhang Wei", "Zhang Wie"),
    ]
    for i, (a, b) in enumerate(cases):
        add_customer(ctx, f"B{i}a", a, birthday=f"1985-06-0{i + 1}")
        add_customer(ctx, f"B{i}b", b, birthday=f"1985-06-0{i + 1}")
        add_customer(ctx, f"C{i}a", a, city="上海", industry="金融")
        add_customer(ctx, f"C{i}b", b, city="上海市", industry="金融")
    # 0.6: a typo agreeing on the city and industry alone scores 0.55 × similarity + 0.2
    found = _pairs(ctx, 0.6)
    for i in range(len(cases)):
        assert (f"B{i}a", f"B{i}b") in found
        assert (f"C{i}a", f"C{i}b") in found
    assert len(found) == 2 * len(cases)


def test_same_birthday_strangers_and_fuzzy_blocks_stay_quiet(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "S1", "王芳", birthday="1990-05-01", phone="13812345678")
    add_customer(ctx, "S2", "李强", birthday="1990-05-01", phone="13987654321")
    add_customer(ctx, "S3", "张伟", city="北京", industry="零售", phone="13711112222")
    add_customer(ctx, "S4", "张伟", city="北京", industry="零售", phone="13733334444")
    add_customer(ctx, "S5", "张伟", city="北京", birthday="1990-01-01", phone="13755556666")
    add_customer(ctx, "S6", "张伟", city="北京", birthday="1991-02-02", phone="13777778888")
    scan = dedupe.scan_duplicates(ctx)
    assert scan.groups == []


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("张伟明", "Zhang Wei-Ming"),
        ("张伟明", "Zhang Wei Ming"),
        ("张伟明", "Wei Ming Zhang"),
        ("吕伟", "Lü Wei"),
        ("吕伟", "Lyu Wei"),
        ("吕伟", "LV WEI"),
        ("李娜", "Lina"),
        ("李宁", "Lining"),
        ("黄伟", "huangwei"),
        ("José García", "Jose Garcia"),
    ],
)
def test_romanisations_meet_the_han_name(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


@pytest.mark.parametrize(
    ("han", "latin"),
    [("李长春", "Li Changchun"), ("任长霞", "Ren Changxia"), ("王重阳", "Wang Chongyang")],
)
def test_given_name_polyphones_meet_their_usual_romanisation(ctx, han: str, latin: str) -> None:  # type: ignore[no-untyped-def]
    assert name_key(latin) in name_keys(han)
    add_customer(ctx, "Y1", han, birthday="1970-02-01", city="长春")
    add_customer(ctx, "Y2", latin, birthday="1970-02-01")
    groups = dedupe.probable_duplicates(ctx)
    assert [g.codes for g in groups] == [["Y1", "Y2"]]
    assert any("same pinyin" in r and latin.lower() in r for r in groups[0].reasons)


def test_everyday_readings_are_not_all_accepted() -> None:
    """Only the readings given names take: 明 is never read meng, so 王明 is not 王萌."""
    assert set(name_keys("王明")).isdisjoint(name_keys("王萌"))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("杭州", "杭州市"),
        ("杭州", "浙江省杭州市"),
        ("北京", "北京市朝阳区"),
        ("延边", "延边朝鲜族自治州"),
    ],
)
def test_city_spellings_count_as_one_city(a: str, b: str) -> None:
    assert city_key(a) == city_key(b)


def test_city_keys_keep_short_names_and_different_cities_apart() -> None:
    assert city_key("沙市") == "沙市"  # not 沙
    assert city_key("吉林市") != city_key("长春")
    assert city_key("福州") != city_key("抚州")


def test_a_city_written_with_its_suffix_supports_a_match(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "A1", "赵敏", city="杭州", industry="零售")
    add_customer(ctx, "A2", "赵敏", city="杭州市", industry="零售")
    groups = dedupe.probable_duplicates(ctx)
    assert [g.codes for g in groups] == [["A1", "A2"]]
    assert "city: same (杭州)" in groups[0].reasons


def test_mixed_script_names_keep_both_scripts(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "K1", "ABC贸易有限公司", kind="enterprise", city="上海", industry="贸易")
    add_customer(ctx, "K2", "XYZ贸易有限公司", kind="enterprise", city="上海", industry="贸易")
    add_customer(
        ctx, "T1", "TCL科技集团股份有限公司", kind="enterprise", city="深圳", industry="电子"
    )
    add_customer(ctx, "T2", "OKB科技有限公司", kind="enterprise", city="深圳", industry="电子")
    add_customer(ctx, "P1", "Kevin张", birthday="1990-03-03")
    add_customer(ctx, "P2", "Kevin李", birthday="1990-03-03")
    add_customer(ctx, "M1", "Amy 王小明", birthday="1991-04-04")
    add_customer(ctx, "M2", "AMY 王小明", birthday="1991-04-04")
    assert _pairs(ctx, 0.5) == {("M1", "M2")}


def test_placeholder_contacts_are_no_evidence(ctx) -> None:  # type: ignore[no-untyped-def]
    for i, name in enumerate(["王芳", "李强", "赵敏", "陈杰"]):
        add_customer(ctx, f"P{i}", name, phone="13800000000")
    add_customer(ctx, "R1", "周杰", phone="13888888888")
    add_customer(ctx, "R2", "吴磊", phone="13888888888")
    for i, name in enumerate(["Tom Lee", "Mary Wang", "Bob Chen"]):
        add_customer(ctx, f"M{i}", name, email="n/a@example.com")
    # the same person typed a placeholder twice: the name and birthday still match
    add_customer(ctx, "H1", "何静", phone="13800000000", birthday="1980-01-01")
    add_customer(ctx, "H2", "何静", phone="13800000000", birthday="1980-01-01")
    groups = dedupe.probable_duplicates(ctx)
    assert [g.codes for g in groups] == [["H1", "H2"]]
    assert not any("13800000000" in r for r in groups[0].reasons)
    assert dedupe.placeholder_phone("+8613800000000")
    assert dedupe.placeholder_phone("12345678901")
    assert not dedupe.placeholder_phone("+8613800138000")
    assert dedupe.placeholder_email("none@company.cn")
    assert not dedupe.placeholder_email("lina@example.com")


def test_a_shared_real_contact_with_different_names_is_not_a_group(ctx) -> None:  # type: ignore[no-untyped-def]
    """A family's landline or an office inbox: the same value, different people."""
    add_customer(ctx, "F1", "王芳", phone="13912345678")
    add_customer(ctx, "F2", "李强", phone="13912345678")
    add_customer(ctx, "F3", "王 芳", phone="+86 139-1234-5678")
    groups = dedupe.probable_duplicates(ctx)
    assert [g.codes for g in groups] == [["F1", "F3"]]


def test_a_pair_recorded_as_different_splits_its_group(ctx) -> None:  # type: ignore[no-untyped-def]
    for code in ("A1", "A2", "A3"):
        add_customer(ctx, code, "王芳", phone="13812345678")
    assert _pairs(ctx) == {("A1", "A2", "A3")}
    merge.mark_not_duplicate(ctx, "A1", "A2")
    groups = dedupe.probable_duplicates(ctx)
    assert sorted(g.codes for g in groups) == [["A1", "A3"], ["A2", "A3"]]
    for g in groups:
        assert g.to_dict().keys() == {"codes", "score", "reasons"}
    merge.mark_not_duplicate(ctx, "A1", "A3")
    assert _pairs(ctx) == {("A2", "A3")}


def test_a_group_never_holds_a_pair_recorded_as_different(ctx) -> None:  # type: ignore[no-untyped-def]
    """A chain A-B-C-D where A and D were recorded as different: B and C stay together with
    the one of them it matches best, and no group holds both A and D."""
    add_customer(ctx, "A", "王芳", phone="13811112345", email="a@corp.cn")
    add_customer(ctx, "B", "王芳", phone="13811112345", email="b@corp.cn")
    add_customer(ctx, "C", "王芳", phone="13822223456", email="b@corp.cn")
    add_customer(ctx, "D", "王芳", phone="13822223456")
    merge.mark_not_duplicate(ctx, "A", "D")
    groups = dedupe.probable_duplicates(ctx)
    assert groups and all(not {"A", "D"} <= set(g.codes) for g in groups)
    covered = {p.codes for g in groups for p in g.pairs}
    assert covered == {("A", "B"), ("B", "C"), ("C", "D")}


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_an_import_counts_only_the_duplicates_it_made(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = import_file(
        ctx,
        "customers",
        _write(
            tmp_path / "a.csv",
            "code,name,phone,city\nA1,王芳,13812345678,深圳\nA2,王芳,13812345678,深圳\n",
        ),
    )
    assert first.extra["new_duplicates"] == 1
    # only A1's city changes: A1/A2 were probable duplicates before
    moved = import_file(
        ctx,
        "customers",
        _write(tmp_path / "b.csv", "code,name,phone,city\nA1,王芳,13812345678,广州\n"),
    )
    assert moved.updated == 1 and moved.extra["new_duplicates"] == 0
    # a new customer matching both: two new pairs
    added = import_file(
        ctx, "customers", _write(tmp_path / "c.csv", "code,name,phone,city\nA3,王芳,13812345678,\n")
    )
    assert added.inserted == 1 and added.extra["new_duplicates"] == 2
    # an update that makes a new match: B1 takes A1's phone
    add_customer(ctx, "B1", "王芳", phone="13900001111")
    taken = import_file(
        ctx, "customers", _write(tmp_path / "d.csv", "code,name,phone,city\nB1,王芳,13812345678,\n")
    )
    assert taken.updated == 1 and taken.extra["new_duplicates"] == 3


def test_a_customer_is_never_its_own_duplicate(ctx) -> None:  # type: ignore[no-untyped-def]
    """王重阳 reads chongyang and zhongyang: both keys end in "ang", so the customer sat
    twice in one affix block and was offered as a duplicate of itself (0.75, or 1.0 with a
    phone), which neither merge nor not-duplicate could clear."""
    add_customer(ctx, "ONLY", "王重阳", city="上海", industry="零售", phone="13812345678")
    add_customer(ctx, "ZCY", "张朝阳", city="上海", industry="零售", birthday="1980-01-01")
    assert dedupe.probable_duplicates(ctx, min_score=0.1) == []
    add_customer(ctx, "NEAR", "王中阳", city="上海", industry="零售")
    groups = dedupe.probable_duplicates(ctx, min_score=0.6)
    assert [(g.codes, g.score) for g in groups] == [(["ONLY", "NEAR"], 0.722)]
    assert not any(r.startswith("name: same (") for r in groups[0].reasons)


def test_names_without_a_spelling_are_not_alike(ctx) -> None:  # type: ignore[no-untyped-def]
    """Two empty spellings (Korean, kana, emoji, punctuation) rated 95% alike."""
    pairs = [("김민준", "이서연"), ("やまだ", "すずき"), ("😀", "🎉"), ("!!!", "???")]
    for i, (a, b) in enumerate(pairs):
        add_customer(ctx, f"K{i}a", a, birthday=f"1990-01-0{i + 1}")
        add_customer(ctx, f"K{i}b", b, birthday=f"1990-01-0{i + 1}")
    add_customer(ctx, "P1", "김민준", phone="13812345678")
    add_customer(ctx, "P2", "이서연", phone="13812345678")
    assert dedupe.probable_duplicates(ctx, min_score=0.5) == []
    add_customer(ctx, "K9", "김민준", birthday="1990-01-01")  # the same written name still meets
    assert [g.codes for g in dedupe.probable_duplicates(ctx)] == [["K0a", "K9"]]


def test_a_default_birthday_is_no_evidence(ctx) -> None:  # type: ignore[no-untyped-def]
    """A date on more customers than a name block holds (everyone given 1900-01-01, or any
    one date) made two strangers called 张伟 with different phones look like one person."""
    add_customer(ctx, "A", "张伟", birthday="1900-01-01", phone="13812340001")
    add_customer(ctx, "B", "张伟", birthday="1900-01-01", phone="13812340002")
    assert dedupe.probable_duplicates(ctx) == []
    for i in range(dedupe.MAX_NAME_BLOCK + 1):
        add_customer(ctx, f"X{i:03d}", f"客户{i}", birthday="1985-05-05")
    add_customer(ctx, "C", "李娜", birthday="1985-05-05", phone="13812340003")
    add_customer(ctx, "D", "李娜", birthday="1985-05-05", phone="13812340004")
    assert dedupe.probable_duplicates(ctx) == []


@pytest.mark.parametrize(
    ("spelled", "key"),
    [
        ("海南藏族自治州", "海南"),
        ("青海省海南藏族自治州", "海南"),
        ("吉林市", "吉林"),
        ("吉林省吉林市", "吉林"),
        ("海口市", "海口"),
        ("廣東省廣州市", "广州"),  # traditional characters fold to simplified
        ("臺北", "台北"),
    ],
)
def test_a_province_in_front_goes_only_when_a_city_is_left(spelled: str, key: str) -> None:
    assert city_key(spelled) == key


def test_a_city_in_traditional_characters_is_the_same_city(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "H1", "陈晓明", city="廣州", industry="零售")
    add_customer(ctx, "H2", "陳曉明", city="广州市", industry="零售")
    assert [(g.codes, g.score) for g in dedupe.probable_duplicates(ctx, min_score=0.6)] == [
        (["H1", "H2"], 0.722)
    ]
