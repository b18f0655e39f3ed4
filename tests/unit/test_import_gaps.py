"""``tricrm import`` on both backends: a tags column applied as ``customers tag`` applies
tags (idempotent, audited, undone), and undo removing the products and categories an order
import created when nothing else refers to them."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.cli_runner import invoke
from tests.factories import add_customer, add_orders
from tricrm_tui.models import AuditEntry, CustomerTag, Product, ProductCategory
from tricrm_tui.services import classify, customers, importing


def _json(db_url: str, *args: str) -> dict:  # type: ignore[type-arg]
    res = invoke(db_url, *args, "--format", "json")
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def _tags(ctx, code: str) -> list[str]:  # type: ignore[no-untyped-def]
    return customers.get_customer(ctx, code).tags


def test_a_tags_column_adds_tags_idempotently_audited_and_undone(
    ctx, db_url: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "OLD", "老王")
    classify.tag_customer(ctx, "OLD", ["老客户"])
    path = tmp_path / "c.csv"
    path.write_text(
        '客户编号,客户名称,标签\nN1,张三,"vip, 重点；华南|vip"\nOLD,老王,重点、老客户\nN2,李四,\n',
        encoding="utf-8",
    )
    first = _json(db_url, "import", "customers", str(path))
    assert (first["inserted"], first["updated"], first["rejected"]) == (2, 1, [])
    assert _tags(ctx, "N1") == ["vip", "华南", "重点"]
    assert _tags(ctx, "OLD") == ["老客户", "重点"]
    assert _tags(ctx, "N2") == []
    # found by tag, as a tag added by hand is
    found = _json(db_url, "customers", "list", "--search", "重点")
    assert sorted(r["code"] for r in found) == ["N1", "OLD"]
    with ctx.session() as s:
        A = AuditEntry.__table__.c
        entries = s.execute(
            sa.select(A.entity_id, A.before, A.after)
            .where(A.import_id == first["import_id"], A.action == "tag")
            .order_by(A.entity_id)
        ).all()
    assert [(e.entity_id, e.before["tags"], e.after["tags"]) for e in entries] == [
        ("N1", [], ["vip", "华南", "重点"]),
        ("OLD", ["老客户"], ["老客户", "重点"]),
    ]
    again = _json(db_url, "import", "customers", str(path))
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert _tags(ctx, "OLD") == ["老客户", "重点"]

    res = invoke(db_url, "import", "undo", str(first["import_id"]))
    assert res.exit_code == 0, res.output
    assert _tags(ctx, "OLD") == ["老客户"]
    assert customers.get_customer(ctx, "OLD").tags == ["老客户"]
    assert _json(db_url, "customers", "list", "--search", "重点") == []
    with ctx.session() as s:
        n = s.execute(sa.select(sa.func.count()).select_from(CustomerTag.__table__)).scalar()
    assert n == 1


def test_an_over_long_tag_rejects_its_row(ctx, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "c.csv"
    path.write_text(f"code,name,tags\nA1,甲,ok\nA2,乙,{'x' * 65}\n", encoding="utf-8")
    out = _json(db_url, "import", "customers", str(path))
    assert out["inserted"] == 1
    assert [(r["key"], r["field"], r["code"]) for r in out["rejected"]] == [
        ("A2", "tags", "invalid_value")
    ]


def test_undo_removes_the_products_and_categories_the_import_created_unless_used(
    ctx, db_url: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "C1", "甲")
    add_customer(ctx, "C2", "乙")
    with ctx.transaction() as s:  # one product and category existed before the import
        kid = s.execute(
            sa.insert(ProductCategory.__table__).values(name="数码")
        ).inserted_primary_key[0]
        s.execute(sa.insert(Product.__table__).values(name="手机", sku="PHONE", category_id=kid))
    path = tmp_path / "o.csv"
    path.write_text(
        "订单编号,客户编号,下单日期,金额,商品名称,商品类别\n"
        "O1,C1,2024-01-02,10,手机,数码\n"
        "O2,C1,2024-01-03,20,耳机,数码\n"
        "O3,C2,2024-01-04,30,茶叶,食品\n"
        "O4,C2,2024-01-05,40,外套,服装\n",
        encoding="utf-8",
    )
    out = _json(db_url, "import", "orders", str(path))
    assert out["inserted"] == 4

    def names(table: sa.Table) -> list[str]:
        with ctx.session() as s:
            return sorted(s.execute(sa.select(table.c.name)).scalars())

    assert names(Product.__table__) == ["外套", "手机", "耳机", "茶叶"]
    assert names(ProductCategory.__table__) == ["数码", "服装", "食品"]
    # later work refers to 外套 (and so to its category 服装): those stay
    with ctx.session() as s:
        coat = s.execute(
            sa.select(Product.__table__.c.id).where(Product.__table__.c.name == "外套")
        ).scalar_one()
    add_orders(ctx, "C1", [("2024-02-01", 50)], product_id=coat)
    res = invoke(db_url, "import", "undo", str(out["import_id"]))
    assert res.exit_code == 0, res.output
    assert names(Product.__table__) == ["外套", "手机"]
    assert names(ProductCategory.__table__) == ["数码", "服装"]


def test_an_import_shows_running_while_its_process_holds_the_lock_then_interrupted(
    ctx, db_url: str
) -> None:  # type: ignore[no-untyped-def]
    from tricrm_tui.models import ImportBatch
    from tricrm_tui.services import import_liveness, importing

    with ctx.transaction() as s:
        import_id = s.execute(
            sa.insert(ImportBatch.__table__).values(
                kind="orders", file="o.csv", file_hash="x" * 64, actor="tester",
                started_at=ctx.now(), status="running",
            )
        ).inserted_primary_key[0]  # fmt: skip
    with import_liveness.held(ctx, import_id):
        assert importing.list_imports(ctx).items[0].status == "running"
        listed = _json(db_url, "import", "list")  # another context sees the lock held too
        assert listed[0]["status"] == "running"
        assert importing.repair_interrupted(ctx) == {}
    assert importing.list_imports(ctx).items[0].status == "interrupted"
    assert _json(db_url, "import", "list")[0]["status"] == "interrupted"
    assert importing.repair_interrupted(ctx) == {"orders": set()}
    with ctx.session() as s:
        stored = s.execute(sa.select(ImportBatch.__table__.c.status)).scalar_one()
    assert stored == "interrupted"


def test_a_stopped_import_keeps_whole_batches_is_interrupted_and_completes_when_run_again(
    ctx, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """``stop`` (the TUI's import screen left, or tricrm quit, under a running import) ends
    the import after the batch it was writing, as a kill would: those batches stay, it is
    listed interrupted, and importing the file again completes it. A stopped dry run says so
    and writes nothing."""
    from tricrm_tui.models import Customer
    from tricrm_tui.services import importing
    from tricrm_tui.services.errors import Stopped

    path = tmp_path / "c.csv"
    path.write_text(
        "客户编号,客户名称\n" + "".join(f"S{i:03d},客户{i}\n" for i in range(25)), "utf-8"
    )
    asked: list[int] = []

    def stop_at_second() -> bool:
        asked.append(1)
        return len(asked) >= 2

    def stored() -> list[str]:
        with ctx.session() as s:
            return list(s.execute(sa.select(Customer.__table__.c.code)).scalars())

    with pytest.raises(Stopped, match="dry run stopped after line 6"):
        importing.import_file(ctx, "customers", path, batch_size=5, dry_run=True, stop=lambda: True)
    assert stored() == []
    with pytest.raises(Stopped, match="after line 11; importing the file again completes it"):
        importing.import_file(ctx, "customers", path, batch_size=5, stop=stop_at_second)
    assert sorted(stored()) == [f"S{i:03d}" for i in range(10)]  # two whole batches
    assert [r.status for r in importing.list_imports(ctx).items] == ["interrupted"]
    again = importing.import_file(ctx, "customers", path, batch_size=5, stop=lambda: False)
    assert (again.inserted, again.unchanged) == (15, 10)
    assert sorted(stored()) == [f"S{i:03d}" for i in range(25)]
    assert [r.status for r in importing.list_imports(ctx).items] == ["done", "interrupted"]


def test_a_deleted_customers_orders_import_back_unchanged_and_take_no_changes(
    ctx, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Their orders stay (reports do not change) and an export of every order holds them:
    importing it back rejected them as unknown_customer."""
    from tricrm_tui.services import exporting, orders
    from tricrm_tui.services.errors import InvalidInput, NotFound

    for code in ("A", "B"):
        customers.add_customer(ctx, {"code": code, "name": code})
    path = tmp_path / "o.csv"
    path.write_text(
        "order_no,customer_code,order_date,amount\nO1,A,2026-01-01,10\nO2,B,2026-01-02,20\n",
        "utf-8",
    )
    importing.import_file(ctx, "orders", path)
    customers.delete_customer(ctx, "A")
    every = tmp_path / "all.csv"
    exporting.export_file(ctx, "orders", every)
    again = importing.import_file(ctx, "orders", every)
    assert (again.unchanged, again.rejected_count) == (2, 0)
    changed = tmp_path / "changed.csv"
    changed.write_text(
        "order_no,customer_code,order_date,amount\nO1,A,2026-01-01,11\nO3,A,2026-01-03,5\n",
        "utf-8",
    )
    result = importing.import_file(ctx, "orders", changed)
    assert [(r.line, r.code, r.reason) for r in result.rejected] == [
        (2, "deleted_customer", "customer A was deleted"),
        (3, "deleted_customer", "customer A was deleted"),
    ]
    assert [o.amount for o in orders.list_orders(ctx).items] == [Decimal("20.00"), Decimal("10.00")]
    # Asked for by code: a deleted customer's orders are listed (they stay); a typo or a
    # merged-away customer is said, not an empty list.
    assert [o.order_no for o in orders.list_orders(ctx, customer_code="A").items] == ["O1"]
    with pytest.raises(NotFound, match="no customer with code b"):
        orders.list_orders(ctx, customer_code="b")
    customers.add_customer(ctx, {"code": "C", "name": "C"})
    from tricrm_tui.services import merge

    merge.merge_customers(ctx, "C", ["B"])
    with pytest.raises(InvalidInput, match="B was merged into C; its orders are C's now"):
        orders.list_orders(ctx, customer_code="B")
    assert [o.order_no for o in orders.list_orders(ctx, customer_code="C").items] == ["O2"]


def test_a_tag_cannot_hold_what_separates_tags(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """``customers tag G1 'c,d'`` stored one tag that an export wrote as ``c,d`` and the
    import read back as two."""
    from tricrm_tui.services import exporting
    from tricrm_tui.services.errors import InvalidInput

    customers.add_customer(ctx, {"code": "G1", "name": "Gee", "tags": "vip；新客|华南"})
    assert customers.get_customer(ctx, "G1").tags == ["vip", "华南", "新客"]
    for tag in ("c,d", "a|b", "华南、华北", "x;y"):
        with pytest.raises(InvalidInput, match="a tag cannot hold"):
            classify.tag_customer(ctx, "G1", [tag])
    classify.tag_customer(ctx, "G1", ["重点 客户"])
    path = tmp_path / "c.csv"
    exporting.export_file(ctx, "customers", path)
    assert importing.import_file(ctx, "customers", path).unchanged == 1


def test_a_json_array_of_tags_gives_its_items(ctx, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A JSON Lines file's ``"tags": ["vip", "华南"]`` was split as its JSON text: the
    customer was tagged ``["vip"`` and ``"华南"]``."""
    path = tmp_path / "c.jsonl"
    path.write_text(
        '{"code": "J1", "name": "甲", "tags": ["vip", "华南"]}\n'
        '{"code": "J2", "name": "乙", "tags": []}\n'
        '{"code": "J3", "name": "丙", "tags": "[批发]"}\n',
        encoding="utf-8",
    )
    out = _json(db_url, "import", "customers", str(path))
    assert (out["inserted"], out["rejected_count"]) == (3, 0)
    assert [_tags(ctx, c) for c in ("J1", "J2", "J3")] == [["vip", "华南"], [], ["[批发]"]]


def test_json_numbers_in_exponent_form_are_read_as_the_numbers_they_are(
    ctx, db_url: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A JSON writer's ``1.5e2`` amount and ``2E0`` quantity were kept as the text
    ``1.5E+2`` and refused; they are 150 and 2, and ``12.50`` keeps its cents."""
    add_customer(ctx, "C1", "甲")
    path = tmp_path / "o.jsonl"
    path.write_text(
        '{"order_no": "O1", "customer_code": "C1", "date": "2024-01-02", "amount": 1.5e2, '
        '"quantity": 2E0}\n'
        '{"order_no": "O2", "customer_code": "C1", "date": "2024-01-03", "amount": 12.50}\n',
        encoding="utf-8",
    )
    out = _json(db_url, "import", "orders", str(path))
    assert (out["inserted"], out["rejected"]) == (2, [])
    listed = _json(db_url, "orders", "list")
    got = {o["order_no"]: (o["amount"], o["quantity"]) for o in listed}
    assert got == {"O1": ("150.00", 2), "O2": ("12.50", 1)}
