"""Saved segments and ``customers list --where/--segment`` on both backends."""

from __future__ import annotations

import json

import pytest

from tests.cli_runner import invoke
from tests.factories import add_customer, add_orders
from tricrm_tui.services import audit, customers, filters, segments
from tricrm_tui.services.errors import InvalidInput, NotFound


@pytest.fixture
def people(ctx):  # type: ignore[no-untyped-def]
    add_customer(ctx, "S1", "张三", province="广东", tags="vip")
    add_customer(ctx, "S2", "李四", province="广东省")
    add_customer(ctx, "S3", "王五", province="浙江", tags="vip")
    add_orders(ctx, "S1", [("2026-01-01", "10"), ("2026-01-02", "10"), ("2026-01-03", "10")])
    return ctx


def test_save_list_show_delete_audited(people) -> None:  # type: ignore[no-untyped-def]
    ctx = people
    rec = segments.save_segment(ctx, "gd", "province:广东", description="South")
    assert rec.expression == "province:广东" and rec.created_by == "tester"
    segments.save_segment(ctx, "gd-vip", "saved:gd   tag:vip")
    assert [s.name for s in segments.list_segments(ctx)] == ["gd", "gd-vip"]
    view = segments.show_segment(ctx, "gd")
    assert view.count == 2 and [m.code for m in view.members.items] == ["S1", "S2"]
    assert segments.show_segment(ctx, "gd-vip").count == 1
    assert segments.get_segment(ctx, "gd-vip").expression == "saved:gd tag:vip"
    with pytest.raises(InvalidInput, match="used by: gd-vip"):
        segments.delete_segment(ctx, "gd")
    segments.delete_segment(ctx, "gd-vip")
    with pytest.raises(NotFound):
        segments.get_segment(ctx, "gd-vip")
    actions = [(e.entity_id, e.action) for e in audit.list_entries(ctx, entity="segment").items]
    assert actions == [("gd-vip", "delete"), ("gd-vip", "create"), ("gd", "create")]


def test_save_refuses_bad_expressions_unknown_segments_and_cycles(people) -> None:  # type: ignore[no-untyped-def]
    ctx = people
    with pytest.raises(InvalidInput, match="at column 1"):
        segments.save_segment(ctx, "bad", "provnce:广东")
    with pytest.raises(NotFound):
        segments.save_segment(ctx, "x", "saved:nothing")
    segments.save_segment(ctx, "a", "tag:vip")
    segments.save_segment(ctx, "b", "saved:a orders>1")
    with pytest.raises(InvalidInput, match="refers to itself"):
        segments.save_segment(ctx, "a", "saved:b", replace=True)
    with pytest.raises(InvalidInput, match="already exists"):
        segments.save_segment(ctx, "a", "tag:x")
    segments.save_segment(ctx, "a", "tag:x", replace=True)
    assert segments.get_segment(ctx, "a").expression == "tag:x"


def test_condition_for_combines_where_and_segment(people) -> None:  # type: ignore[no-untyped-def]
    ctx = people
    segments.save_segment(ctx, "vip", "tag:vip")
    cond = segments.condition_for(ctx, where="province:广东", segment="vip")
    assert [c.code for c in customers.list_customers(ctx, where=cond).items] == ["S1"]
    assert segments.condition_for(ctx) is None


def test_cli_segments_and_list_where(people, db_url) -> None:  # type: ignore[no-untyped-def]
    def run(*args: str):  # type: ignore[no-untyped-def]
        return invoke(db_url, *args)

    r = run("segments", "save", "gd", "province:广东 orders>=3", "--description", "South")
    assert r.exit_code == 0, r.output
    r = run("segments", "list", "--format", "json")
    assert json.loads(r.stdout)[0]["expression"] == "province:广东 orders>=3"
    r = run("segments", "show", "gd", "--format", "json")
    data = json.loads(r.stdout)
    assert data["count"] == 1 and data["members"][0]["code"] == "S1"
    assert data["meaning"] == "province is 广东 and orders at least 3"
    r = run("customers", "list", "--where", "province:广东", "--format", "json")
    assert [c["code"] for c in json.loads(r.stdout)] == ["S1", "S2"]
    r = run("customers", "list", "--segment", "gd", "--where", "tag:vip", "--format", "json")
    assert [c["code"] for c in json.loads(r.stdout)] == ["S1"]
    r = run("customers", "list", "--where", "saved:gd OR name:王", "--format", "json")
    assert [c["code"] for c in json.loads(r.stdout)] == ["S1", "S3"]
    r = run("customers", "list", "--where", "provnce:广东")
    assert isinstance(r.exception, InvalidInput) and r.exception.exit_code == 4
    assert "^^^^^^^" in str(r.exception)
    r = run("segments", "syntax")
    assert "last_order<90d" in r.stdout
    r = run("segments", "delete", "gd")
    assert r.exit_code == 0
    r = run("segments", "show", "gd")
    assert isinstance(r.exception, NotFound)


def test_saved_segments_inside_expressions_work_in_every_service(people, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``saved:NAME`` is read the same way by exports, campaigns, value reports, plans and
    care rules as by the customer list."""
    from tricrm_tui.services import campaigns, care, exporting, plans, value

    ctx = people
    segments.save_segment(ctx, "vipx", "tag:vip")
    segments.save_segment(ctx, "vip3", "saved:vipx orders>=3")
    out = exporting.export_file(ctx, "segment", tmp_path / "a.csv", segment="vip3")
    assert out.rows == 1
    out = exporting.export_file(ctx, "customers", tmp_path / "b.csv", where="saved:vipx")
    assert out.rows == 2
    campaigns.create_campaign(ctx, "c1", channel="sms", template="Hi {{ name }}", segment="vip3")
    assert campaigns.preview_page(ctx, "c1").total == 1
    assert [r.code for r in value.value_rows(ctx, where="saved:vipx").items] == ["S1", "S3"]
    plans.set_plan(ctx, "p1", target="saved:vip3", every="30d")
    assert [t.customer_code for t in plans.run_plans(ctx).created] == ["S1"]
    care.set_care_rule(ctx, "r1", kind="birthday", target="saved:vipx")
    care.run_care(ctx)


def test_a_segment_a_plan_or_care_rule_names_cannot_be_deleted(people) -> None:  # type: ignore[no-untyped-def]
    """``plans set p1 --target saved:vip``, then deleting vip, left ``plans run`` failing."""
    from tricrm_tui.services import care, plans

    ctx = people
    segments.save_segment(ctx, "vip", "tag:vip")
    plans.set_plan(ctx, "p1", target="saved:vip province:广东", every="30d")
    with pytest.raises(InvalidInput, match="used by: plan p1"):
        segments.delete_segment(ctx, "vip")
    plans.set_plan(ctx, "p1", target="tier:high", every="30d")
    care.set_care_rule(ctx, "生日", kind="birthday", target="NOT saved:vip")
    with pytest.raises(InvalidInput, match="used by: care rule 生日"):
        segments.delete_segment(ctx, "vip")
    care.remove_care_rule(ctx, "生日")
    segments.delete_segment(ctx, "vip")


def test_segments_doubling_at_every_level_are_refused_when_saved_and_used(
    people, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Segments that each name the one below twice double the condition at every level; past
    the expansion limit saving one is refused with a message, and so is using one saved
    before the limit was lowered, instead of spending seconds building the SQL."""
    ctx = people
    monkeypatch.setattr(filters, "MAX_SEGMENT_EXPANSIONS", 20)
    segments.save_segment(ctx, "l0", "tag:vip")
    for i in range(1, 4):  # 2 + 4 + 8 = 14 expansions: within the limit
        segments.save_segment(ctx, f"l{i}", f"saved:l{i - 1} OR saved:l{i - 1}")
    assert segments.show_segment(ctx, "l3").count == 2
    with pytest.raises(InvalidInput, match="nest too deeply"):
        segments.save_segment(ctx, "l4", "saved:l3 OR saved:l3")  # 30
    monkeypatch.setattr(filters, "MAX_SEGMENT_EXPANSIONS", 10)
    with pytest.raises(InvalidInput, match="nest too deeply"):
        segments.condition_for(ctx, where="saved:l3")
