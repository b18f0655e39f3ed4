"""Classification rules (regions, size, behaviour), tags and breakdown numbers."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.cli_runner import invoke
from tests.conftest import FIXED_NOW
from tests.factories import add_customer, add_orders
from tricrm_tui.models import Customer, ProductCategory
from tricrm_tui.services import audit, classify, customers
from tricrm_tui.services.breakdown import breakdown
from tricrm_tui.services.errors import InvalidInput
from tricrm_tui.services.regions import PROVINCES, canonical_province, region_of


@pytest.mark.parametrize(
    ("form", "short", "region"),
    [
        ("广东", "广东", "华南"),
        ("广东省", "广东", "华南"),
        ("廣東", "广东", "华南"),
        ("Guangdong Province", "广东", "华南"),
        ("内蒙古", "内蒙古", "华北"),
        ("内蒙古自治区", "内蒙古", "华北"),
        ("广西壮族自治区", "广西", "华南"),
        ("新疆维吾尔自治区", "新疆", "西北"),
        ("北京市", "北京", "华北"),
        ("香港特别行政区", "香港", "华南"),
        ("澳門", "澳门", "华南"),
        ("台湾省", "台湾", "华东"),
        ("臺灣", "台湾", "华东"),
        ("黑龙江省", "黑龙江", "东北"),
        ("重庆", "重庆", "西南"),
        ("湖北省", "湖北", "华中"),
        ("shaanxi", "陕西", "西北"),
        ("粤", "广东", "华南"),
        ("沪", "上海", "华东"),
        ("蜀", "四川", "西南"),
        ("陇", "甘肃", "西北"),
        ("中国台湾", "台湾", "华东"),
        ("中國廣東省", "广东", "华南"),
        ("新疆维吾尔族自治区", "新疆", "西北"),
        ("新疆維吾爾族自治區", "新疆", "西北"),
        ("Guangdong Province", "广东", "华南"),
        ("Hong Kong SAR", "香港", "华南"),
    ],
)
def test_province_forms_map_to_regions(form: str, short: str, region: str) -> None:
    assert canonical_province(form) == short
    assert region_of(form) == region


def test_every_abbreviation_names_its_province() -> None:
    abbreviations = "粤沪京津渝冀晋蒙辽吉黑苏浙皖闽赣鲁豫鄂湘桂琼川蜀贵黔云滇藏陕秦甘陇青宁新港澳台"
    assert all(canonical_province(a) is not None for a in abbreviations)
    assert canonical_province("中国") is None and canonical_province("guangdong省") is None


def test_region_falls_back_to_the_city_when_the_province_is_not_known() -> None:
    rules = classify.load_rules()
    for province in (None, "", "未知", "中国", "N/A"):
        classes = classify.profile_classes("individual", province, "深圳", None, None, rules)
        assert classes["region"] == "华南", province
    classes = classify.profile_classes("individual", "浙江", "深圳", None, None, rules)
    assert classes["region"] == "华东"  # a known province wins over the city


def test_city_without_province() -> None:
    from tricrm_tui.services.regions import province_of_city

    assert province_of_city("深圳市") == "广东" and province_of_city("北京") == "北京"
    assert province_of_city("乌鲁木齐") == "新疆" and province_of_city("小镇") is None


def test_all_34_divisions_have_a_region() -> None:
    assert len(PROVINCES) == 34
    regions = {p[0] for p in PROVINCES.values()}
    assert regions == {"华北", "东北", "华东", "华中", "华南", "西南", "西北"}
    assert canonical_province("火星") is None and region_of(None) is None


def test_bands_and_user_override(ctx, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    rules = classify.load_rules()
    assert classify.size_band_for("enterprise", "120人", None, rules) == "small"
    assert classify.size_band_for("enterprise", None, {"员工人数": "1,500"}, rules) == "large"
    assert classify.size_band_for("enterprise", "medium", None, rules) == "medium"
    assert classify.size_band_for("individual", None, {"employees": 5}, rules) is None
    today = dt.date(2026, 3, 15)
    assert classify.frequency_band_for(0, None, today, rules) == "no_orders"
    assert classify.frequency_band_for(1, today, today, rules) == "one_time"
    # 2 orders over 400 days: 1.8 a year
    assert (
        classify.frequency_band_for(2, today - dt.timedelta(days=400), today, rules) == "occasional"
    )
    # 3 orders in 10 days: tenure floored at 90 days, 12 a year
    assert classify.frequency_band_for(3, today - dt.timedelta(days=10), today, rules) == "frequent"
    assert classify.aov_band_for(2, Decimal("199.98"), rules) == "low"
    assert classify.aov_band_for(1, Decimal("100"), rules) == "medium"
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    (config / "classify.toml").write_text(
        '[regions]\n"江西" = "华中"\n[aov]\nbands = [{below = 50, label = "small"}, {label = "big"}]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("TRICRM_CONFIG_DIR", str(config))
    rules = classify.load_rules()
    assert rules.regions["江西"] == "华中"
    assert classify.aov_band_for(1, Decimal("60"), rules) == "big"
    assert classify.size_band_for("enterprise", "15", None, rules) == "micro"  # default kept
    (config / "classify.toml").write_text("[aov\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="classify.toml"):
        classify.load_rules()


def test_classify_writes_back_behaviour(ctx) -> None:  # type: ignore[no-untyped-def]
    with ctx.transaction() as s:
        tea = s.execute(
            sa.insert(ProductCategory.__table__).values(name="茶叶")
        ).inserted_primary_key[0]
        cup = s.execute(
            sa.insert(ProductCategory.__table__).values(name="茶具")
        ).inserted_primary_key[0]
    add_customer(ctx, "K1", "张三", province="廣東省")
    add_customer(ctx, "K2", "某公司", kind="企业", size="50-99人", city="上海")
    add_customer(ctx, "K3", "李四")
    add_orders(
        ctx, "K1", [("2025-01-01", "100"), ("2025-02-01", "100")], category_id=tea, channel="shop"
    )
    add_orders(ctx, "K1", [("2025-03-01", "700")], category_id=cup, channel="tmall")
    result = classify.classify_customers(ctx)
    # K2 and K3 were classified when added; K1's orders came since.
    assert result.customers == 3 and result.changed == 1
    k1, k2, k3 = (customers.get_customer(ctx, c) for c in ("K1", "K2", "K3"))
    assert k1.region == "华南"
    assert k1.favourite_category == "茶叶" and k1.preferred_channel == "shop"
    assert k1.aov_band == "medium"  # 900 / 3
    assert k1.frequency_band in ("occasional", "regular")
    assert k2.region == "华东" and k2.size == "small" and k2.frequency_band == "no_orders"
    assert k3.region is None and k3.aov_band is None
    again = classify.classify_customers(ctx, [k1.id])
    assert again.customers == 1 and again.changed == 0
    assert audit.list_entries(ctx, entity="classification").total == 2


def test_tags_are_audited_and_searchable(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "G1", "张三", tags="old")
    assert classify.tag_customer(ctx, "G1", ["vip", "重点", "vip"]) == ["old", "vip", "重点"]
    assert classify.untag_customer(ctx, "G1", ["old"]) == ["vip", "重点"]
    assert [c.code for c in customers.list_customers(ctx, search="重点").items] == ["G1"]
    actions = [e.action for e in audit.list_entries(ctx, entity="customer").items]
    assert actions[:2] == ["untag", "tag"]
    with pytest.raises(InvalidInput):
        classify.tag_customer(ctx, "G1", [" "])


def test_breakdown_numbers_on_a_hand_made_base(ctx) -> None:  # type: ignore[no-untyped-def]
    ctx.clock = lambda: FIXED_NOW  # 2026-03-15
    add_customer(ctx, "B1", "甲", province="广东", kind="企业", size="10", industry="零售")
    add_customer(ctx, "B2", "乙", province="广东省", industry="零售")
    add_customer(ctx, "B3", "丙", province="浙江")
    add_customer(ctx, "B4", "丁")
    add_orders(ctx, "B1", [("2026-01-01", "300.00")])
    add_orders(ctx, "B2", [("2026-01-01", "100.00"), ("2026-01-05", "100.00")])
    add_orders(ctx, "B3", [("2026-01-01", "500.00")])
    classify.classify_customers(ctx)
    rows = {r.group: r for r in breakdown(ctx, "region")}
    assert rows["华南"].customers == 2 and rows["华南"].share == 50.0
    assert rows["华南"].revenue == Decimal("500.00") and rows["华南"].revenue_share == 50.0
    assert rows["华南"].orders == 3 and rows["华南"].revenue_per_customer == Decimal("250.00")
    assert rows["华东"].revenue == Decimal("500.00") and rows["(none)"].customers == 1
    prov = {r.group: r.customers for r in breakdown(ctx, "province")}
    assert prov == {"广东": 2, "浙江": 1, "(none)": 1}
    size = {r.group: r.customers for r in breakdown(ctx, "size")}
    assert size == {"individual": 3, "micro": 1}
    behaviour = {r.group: r.customers for r in breakdown(ctx, "behaviour")}
    # B2: 2 orders 4 days apart, tenure floored at 90 days = 8.1 a year
    assert behaviour == {"one_time": 2, "frequent": 1, "no_orders": 1}
    only = breakdown(ctx, "industry", where="region:华南")
    assert [(r.group, r.customers, r.share) for r in only] == [("零售", 2, 100.0)]
    with pytest.raises(InvalidInput):
        breakdown(ctx, "colour")


def test_cli_classify_tag_and_breakdown(ctx, db_url) -> None:  # type: ignore[no-untyped-def]
    def run(*args: str):  # type: ignore[no-untyped-def]
        return invoke(db_url, *args)

    add_customer(ctx, "B1", "甲", province="广东")
    add_customer(ctx, "B2", "乙", province="湖南")
    r = run("classify", "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["customers"] == 2
    r = run("classify", "--show-config")
    assert "classify.toml" in r.stderr and "(built-in defaults)" in r.stderr
    assert run("customers", "tag", "B1", "vip", "重点").exit_code == 0
    assert run("customers", "untag", "B1", "重点").exit_code == 0
    assert customers.get_customer(ctx, "B1").tags == ["vip"]
    r = run("report", "breakdown", "--by", "region", "--format", "json")
    data = json.loads(r.stdout)
    assert {(d["group"], d["customers"], d["share"]) for d in data} == {
        ("华南", 1, 50.0),
        ("华中", 1, 50.0),
    }
    r = run("report", "breakdown", "--by", "region", "--where", "tag:vip", "--format", "csv")
    assert r.stdout.splitlines()[0].startswith("group,customers,share")
    assert r.stdout.splitlines()[1].startswith("华南,1,100.0")
    assert run("report", "breakdown", "--by", "region").exit_code == 0


def test_behaviour_after_orders_matches_full_classification(ctx) -> None:  # type: ignore[no-untyped-def]
    """The order-import path picks the top category and channel in SQL; on ties of count and
    spend it must pick what the full classification picks (smallest name by code point, not
    by the database's locale), on both backends."""
    names = ["a", "B", "茶叶", "茶具", "Zeta", "zeta"]
    with ctx.transaction() as s:
        cat = {
            n: s.execute(sa.insert(ProductCategory.__table__).values(name=n)).inserted_primary_key[
                0
            ]
            for n in names
        }
    plans = {
        # (category, channel, amount, status) per order
        "T1": [("a", "shop", "50", "completed"), ("B", "Shop", "50", "completed")],
        "T2": [("茶叶", "tmall", "80", "completed"), ("茶具", "jd", "80", "completed")],
        "T3": [("zeta", "b", "10", "completed"), ("Zeta", "a", "30", "completed")],
        "T4": [("a", "x", "10", "completed"), ("a", "x", "10", "completed")]
        + [("B", "y", "500", "completed")],
        "T5": [("B", "y", "900", "cancelled"), ("a", None, "10", "completed")],
        # the same spend in cents, not as doubles (0.1 + 0.2 > 0.15 + 0.15 in floats): a tie
        "T7": [("zeta", "q", "0.1", "completed"), ("zeta", "q", "0.2", "completed")]
        + [("Zeta", "p", "0.15", "completed"), ("Zeta", "p", "0.15", "completed")],
        "T6": [],
    }
    for code, orders in plans.items():
        add_customer(ctx, code, province="广东")
        for i, (category, channel, amount, status) in enumerate(orders):
            add_orders(
                ctx,
                code,
                [(dt.date(2025, 1, 1) + dt.timedelta(days=40 * i), amount)],
                category_id=cat[category],
                channel=channel,
                status=status,
            )
    C = classify.C
    columns = [C.code, C.region, *(C[k] for k in classify.BEHAVIOUR_COLUMNS)]

    def read() -> dict[str, tuple]:
        with ctx.session() as s:
            return {r[0]: tuple(r[1:]) for r in s.execute(sa.select(*columns))}

    classify.classify_customers(ctx)
    full = read()
    assert full["T1"][2:4] == ("B", "Shop")  # ties: code point order, not the locale's
    assert full["T2"][2:4] == ("茶具", "jd")
    assert full["T3"][2:4] == ("Zeta", "a")  # more spend wins the tie of counts
    assert full["T4"][2:4] == ("a", "x")  # more orders win over more spend
    assert full["T5"][2:4] == ("a", None)  # cancelled orders do not count
    assert full["T7"][2:4] == ("Zeta", "p")  # spend compares in cents
    with ctx.transaction() as s:
        s.execute(
            sa.update(Customer.__table__).values({k: None for k in classify.BEHAVIOUR_COLUMNS})
        )
        ids = list(s.execute(sa.select(C.id)).scalars())
    result = classify.classify_customers(ctx, ids, behaviour_only=True)
    assert read() == full
    assert result.customers == 7 and result.changed == 7  # T6 too: "no_orders"
    again = classify.classify_customers(ctx, ids, behaviour_only=True)
    assert again.changed == 0


def _top_reference(rows: list[tuple[int, str | None, Decimal]]) -> dict[int, str]:
    """customer → the key with most orders, then most spend, then the smallest key by code
    point: the rule, in Python, for checking the picks the database makes."""
    groups: dict[tuple[int, str], list[Decimal]] = {}
    for cid, key, amount in rows:
        if key is not None:
            groups.setdefault((cid, key), []).append(amount)
    best: dict[int, tuple[int, Decimal, str]] = {}
    for (cid, key), amounts in groups.items():
        cand = (len(amounts), sum(amounts, Decimal(0)), key)
        cur = best.get(cid)
        if (
            cur is None
            or (cand[0], cand[1]) > (cur[0], cur[1])
            or ((cand[0], cand[1]) == (cur[0], cur[1]) and cand[2] < cur[2])
        ):
            best[cid] = cand
    return {cid: v[2] for cid, v in best.items()}


def test_every_path_gives_the_same_classes(ctx, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The whole base (keyset pages), a dense id list (read as id ranges), a sparse one (read
    through IN lists) and the order-import path (behaviour only) classify alike, and the
    picks follow the rule. Small chunks, so every path crosses chunk boundaries."""
    import random

    monkeypatch.setattr(classify, "CHUNK", 7)
    rnd = random.Random(11)
    names = ["a", "B", "茶叶", "茶具", "Zeta", "zeta"]
    with ctx.transaction() as s:
        cat = {
            n: s.execute(sa.insert(ProductCategory.__table__).values(name=n)).inserted_primary_key[
                0
            ]
            for n in names
        }
    codes = [f"R{i:02d}" for i in range(40)]
    orders: list[tuple[str, str, str | None, Decimal, str]] = []
    for i, code in enumerate(codes):
        extra = {"kind": "enterprise", "custom_fields": {"员工人数": str(30 * i)}} if i % 5 else {}
        add_customer(ctx, code, province=["广东", "四川", "湖北"][i % 3], **extra)
        for n in range(rnd.randrange(0, 6)):
            category, channel = rnd.choice(names), rnd.choice(["shop", "Shop", "jd", None])
            amount = Decimal(rnd.choice(["10", "10", "25.50", "99"]))
            status = "cancelled" if rnd.random() < 0.15 else "completed"
            add_orders(
                ctx,
                code,
                [(dt.date(2025, 1, 1) + dt.timedelta(days=30 * n), amount)],
                category_id=cat[category],
                channel=channel,
                status=status,
            )
            orders.append((code, category, channel, amount, status))
    C = classify.C
    with ctx.session() as s:
        ids = dict(s.execute(sa.select(C.code, C.id)).all())

    def read() -> dict[str, tuple]:
        with ctx.session() as s:
            return {
                r[0]: tuple(r[1:])
                for r in s.execute(sa.select(C.code, *(C[k] for k in classify.CLASS_COLUMNS)))
            }

    def clear() -> None:
        with ctx.transaction() as s:
            s.execute(
                sa.update(Customer.__table__).values({k: None for k in classify.CLASS_COLUMNS})
            )

    classify.classify_customers(ctx)
    whole = read()
    live = [(ids[c], k, ch, a) for c, k, ch, a, st in orders if st != "cancelled"]
    favourite = _top_reference([(c, k, a) for c, k, _ch, a in live])
    channel = _top_reference([(c, ch, a) for c, _k, ch, a in live])
    for code in codes:
        assert whole[code][3:5] == (favourite.get(ids[code]), channel.get(ids[code])), code
    assert len(favourite) > 20 and len(channel) > 20
    assert {v[0] for v in whole.values()} == {"华南", "西南", "华中"}
    # the enterprises' size bands come from their custom fields (read for them alone)
    assert {whole[c][1] for i, c in enumerate(codes) if i % 5} == {"small", "medium", "large"}
    assert all(whole[c][1] is None for i, c in enumerate(codes) if not i % 5)
    everyone = sorted(ids.values())
    holes = [i for n, i in enumerate(everyone) if n % 5]  # dense, some left out: ranges
    sparse = everyone[::3]  # IN lists
    for wanted in (everyone, holes, sparse):
        clear()
        result = classify.classify_customers(ctx, wanted)
        assert result.customers == len(wanted)
        got = read()
        assert {c: got[c] for c in codes if ids[c] in wanted} == {
            c: whole[c] for c in codes if ids[c] in wanted
        }
        assert all(got[c] == (None,) * 6 for c in codes if ids[c] not in wanted)
    for wanted in (everyone, holes, sparse):
        classify.classify_customers(ctx)
        with ctx.transaction() as s:
            s.execute(
                sa.update(Customer.__table__).values({k: None for k in classify.BEHAVIOUR_COLUMNS})
            )
        classify.classify_customers(ctx, wanted, behaviour_only=True)
        got = read()
        assert {c: got[c] for c in codes if ids[c] in wanted} == {
            c: whole[c] for c in codes if ids[c] in wanted
        }


@pytest.mark.parametrize(
    "text",
    [
        '[frequency]\nmin_tenure_days = "ninety"\n',
        '[[size.bands]]\nlabel = "x"\nbelow = "many"\n',
        "size = 3\n",
    ],
)
def test_rules_of_the_wrong_shape_are_named_like_unreadable_ones(ctx, text: str) -> None:  # type: ignore[no-untyped-def]
    """Valid TOML of the wrong shape is reported as the file it is, and adding a customer
    goes on without classifying."""
    config = classify.user_config_path()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput, match="classify.toml"):
        classify.load_rules()
    assert add_customer(ctx, "P1", "王芳", city="深圳").region is None


@pytest.mark.parametrize(
    ("text", "band"),
    [
        ("1万人以上", "large"),
        ("2.5万人", "large"),
        ("0.5万", "large"),
        ("3.5k", "large"),
        ("1.2K staff", "large"),
        ("5千人", "large"),
        ("15.5", "micro"),
        ("100 workers", "small"),
        ("1,500人", "large"),
        ("100-299人", "small"),
    ],
)
def test_size_text_with_wan_thousands_and_decimals(text: str, band: str) -> None:
    rules = classify.load_rules()
    assert classify.size_band_for("enterprise", text, None, rules) == band


def test_size_filter_and_breakdown_agree_after_a_kind_change(ctx) -> None:  # type: ignore[no-untyped-def]
    """One definition of a customer's size class serves ``size:`` and the breakdown."""
    from tricrm_tui.services.filters import customer_filter

    customers.add_customer(ctx, {"code": "S1", "name": "甲", "kind": "enterprise", "size": "500"})
    customers.add_customer(ctx, {"code": "S2", "name": "乙"})
    customers.add_customer(ctx, {"code": "S3", "name": "丙", "kind": "enterprise", "size": "800"})
    customers.edit_customer(ctx, "S1", {"kind": "individual"})
    classify.classify_customers(ctx)

    def codes(expr: str) -> list[str]:
        cond = customer_filter(expr, today=ctx.today())
        return [c.code for c in customers.list_customers(ctx, where=cond).items]

    groups = {r.group: r.customers for r in breakdown(ctx, "size")}
    assert groups == {"individual": 2, "medium": 1}
    assert codes("size:individual") == ["S1", "S2"] and codes("size:medium") == ["S3"]
    assert codes("-size:medium") == ["S1", "S2"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[aov]\nbands = [{ below = "many", label = "x" }]\n',
            "aov.bands[0].below must be a number",
        ),
        ('[aov]\nbands = [{ below = nan, label = "x" }]\n', "aov.bands[0].below must be a number"),
        ('[aov]\nbands = [{ below = inf, label = "x" }]\n', "aov.bands[0].below must be a number"),
        ("[aov]\nbands = [{ below = 5 }]\n", "aov.bands[0] needs a label"),
        ("[aov]\nbands = 5\n", "aov.bands must be a list"),
        ('[frequency]\nmin_tenure_days = "ninety"\n', "frequency.min_tenure_days must be a whole"),
        ("[frequency]\nmin_tenure_days = 0\n", "frequency.min_tenure_days must be a whole"),
        ("[frequency]\nmin_tenure_days = 1.5\n", "frequency.min_tenure_days must be a whole"),
        ("size = 3\n", "size must be a table"),
        ('regions = "x"\n', "regions must be a table"),
        ('[regions]\n"江西" = 3\n', "regions.江西 must be text"),
        ('[size]\ncustom_fields = "staff"\n', "size.custom_fields must be a list"),
    ],
)
def test_rule_mistakes_name_the_file_and_key(text: str, message: str) -> None:
    config = classify.user_config_path()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        classify.load_rules()
    assert str(err.value).startswith(f"{config}: {message}")


@pytest.mark.parametrize("tenure", ["90.0", '"60"', "45"])
def test_files_that_loaded_before_still_load(tenure: str) -> None:
    """A whole-number tenure written as a float or text, and a numeric band label, loaded
    before the file was checked; refusing them left every new customer without a region."""
    config = classify.user_config_path()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f"[frequency]\nmin_tenure_days = {tenure}\n"
        "[aov]\nbands = [{ below = 100, label = 1 }, { label = 2 }]\n",
        encoding="utf-8",
    )
    rules = classify.load_rules()
    assert rules.min_tenure_days == int(float(tenure.strip('"')))
    assert [b.label for b in rules.aov_bands] == ["1", "2"]


def test_a_quoted_number_still_reads_as_a_band_limit() -> None:
    config = classify.user_config_path()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[aov]\nbands = [{ below = "50", label = "a" }, { label = "b" }]\n', "utf-8")
    assert classify.load_rules().aov_bands[0].below == Decimal(50)


def test_merge_goes_on_when_the_rules_cannot_be_read(ctx) -> None:  # type: ignore[no-untyped-def]
    """As adding and editing do: the merge happens, the classes stay as they were."""
    from tricrm_tui.services.merge import merge_customers

    add_customer(ctx, "K1", "王芳", city="深圳", phone="13800000001")
    add_customer(ctx, "K2", "王芳", city="深圳", phone="13800000001")
    config = classify.user_config_path()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[frequency]\nmin_tenure_days = 0\n", encoding="utf-8")
    merge_customers(ctx, "K1", ["K2"])
    kept = customers.get_customer(ctx, "K1")
    assert kept.region == "华南"
    with pytest.raises(InvalidInput, match="min_tenure_days"):
        classify.classify_customers(ctx)


def test_a_city_named_like_an_abbreviation_is_not_that_municipality(ctx) -> None:  # type: ignore[no-untyped-def]
    """津市 is a city in Hunan; read through the abbreviation 津 it went to 天津 / 华北."""
    from tricrm_tui.services import customers

    customers.add_customer(ctx, {"code": "J1", "name": "J", "city": "津市"})
    customers.add_customer(ctx, {"code": "J2", "name": "J", "province": "未知", "city": "津市市"})
    customers.add_customer(ctx, {"code": "J3", "name": "J", "province": "未知", "city": "天津市"})
    assert [customers.get_customer(ctx, c).region for c in ("J1", "J2", "J3")] == [
        None, None, "华北",
    ]  # fmt: skip


def test_a_change_of_the_size_bands_rebands_the_size_as_given(ctx) -> None:  # type: ignore[no-untyped-def]
    """The band is classified again from what was given (``1万人以上``), not from the old
    band's label, when the rules in ``classify.toml`` change."""
    add_customer(ctx, "E1", "某集团", kind="企业", size="1万人以上")
    assert customers.get_customer(ctx, "E1").size == "large"
    config = classify.user_config_path()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        '[size]\nbands = [{ below = 5000, label = "large" }, { label = "giant" }]\n',
        encoding="utf-8",
    )
    assert classify.classify_customers(ctx).changed == 1
    rec = customers.get_customer(ctx, "E1")
    assert (rec.size, rec.size_text) == ("giant", "1万人以上")


def test_a_size_banded_later_is_kept_as_given(ctx) -> None:  # type: ignore[no-untyped-def]
    """A size stored as it was given — a person's ``300人``, or an enterprise's added while
    ``classify.toml`` could not be read — is kept as given when a later classification bands
    it, as an import or an edit keeps it: it was replaced by the band and lost."""
    add_customer(ctx, "P1", "王芳", size="300人")
    person = customers.edit_customer(ctx, "P1", {"kind": "企业"})
    assert (person.size, person.size_text) == ("medium", "300人")
    config = classify.user_config_path()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[aov\n", encoding="utf-8")
    add_customer(ctx, "E1", "某集团", kind="企业", size="1万人以上")
    assert customers.get_customer(ctx, "E1").size == "1万人以上"
    config.unlink()
    assert classify.classify_customers(ctx).changed == 1
    rec = customers.get_customer(ctx, "E1")
    assert (rec.size, rec.size_text) == ("large", "1万人以上")
    assert classify.classify_customers(ctx).changed == 0
