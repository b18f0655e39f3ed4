"""The import service on SQLite and PostgreSQL: upsert, rejects, modes, dry run, undo."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tricrm_tui.models import (
    AuditEntry,
    Customer,
    Feedback,
    ImportBatch,
    Interaction,
    Order,
    Product,
    ProductCategory,
)
from tricrm_tui.services import customers, feedback, importing, interactions, loyalty, merge
from tricrm_tui.services.errors import Conflict, InvalidInput
from tricrm_tui.services.orders import list_orders

CUSTOMERS = """客户编号,客户名称,客户类型,所属行业,省份,城市,手机号码,电子邮箱,生日,注册日期,备注,会员卡
C001,张三,个人,零售,广东,深圳,138 1234 5678, Zhang@Example.COM ,1990年5月1日,20230501,老客户,VIP1
C002,李四贸易公司,企业,制造,浙江,杭州,+86 138-1234-5679,li@x.com,,45047,,
C003,,个人,,,,,,,,,
C004,王五,个人,,,,12345,,,,,
C005,赵六,个人,,,,,bad@@x.com,,,,
C006,钱七,外星人,,,,,,,,,
C007,孙八,个人,,,,,,2023-02-30,,,
C001,张三,个人,零售,广东,深圳,138 1234 5678, Zhang@Example.COM ,1990年5月1日,20230501,老客户,VIP1
C002,李四贸易公司X,企业,制造,浙江,杭州,+86 138-1234-5679,li@x.com,,45047,,
ＣＯ０８,周九,个人,,,,１３８１２３４５６７０,,,,,
"""

ORDERS = """订单编号,客户编号,下单日期,订单金额,数量,商品名称,商品类别,渠道
O1,C001,2023-05-01,"￥1,234.50",1,手机,数码,天猫
O2,C002,2023.5.2,1234.5元,2,电脑,数码,京东
O3,C001,2023/5/3,¥99,1,耳机,,门店
O4,C999,2023-05-04,10,1,手机,数码,天猫
O5,C001,2023-05-05,-5,1,手机,数码,天猫
O6,C001,,10,1,手机,数码,天猫
O7,C001,2023-05-07,abc,1,手机,数码,天猫
"""


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def dump(ctx, *tables: sa.Table) -> list[Any]:  # type: ignore[no-untyped-def]
    """Every row of the domain tables, in key order: two equal dumps mean equal databases."""
    tables = tables or (
        Customer.__table__,
        Order.__table__,
        Product.__table__,
        ProductCategory.__table__,
    )
    out = []
    with ctx.session() as s:
        for t in tables:
            out.append([tuple(r) for r in s.execute(sa.select(t).order_by(t.c.id))])
    return out


def test_customers_import_normalises_and_rejects(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, "客户.csv", CUSTOMERS, "gbk")
    rejects = tmp_path / "rejects.csv"
    result = importing.import_file(ctx, "customers", path, rejects_path=rejects)
    assert result.encoding == "gb18030"
    assert (result.rows, result.inserted, result.updated, result.duplicates) == (10, 3, 0, 1)
    got = {(r.line, r.key, r.field, r.code) for r in result.rejected}
    assert got == {
        (4, "C003", "name", "missing_required"),
        (5, "C004", "phone", "invalid_value"),
        (6, "C005", "email", "invalid_value"),
        (7, "C006", "kind", "invalid_value"),
        (8, "C007", "birthday", "invalid_value"),
        (10, "C002", "code", "duplicate_key"),
    }
    assert all(r.reason for r in result.rejected)
    c1 = customers.get_customer(ctx, "C001")
    assert (c1.phone, c1.email, c1.birthday, c1.registered) == (
        "+8613812345678",
        "zhang@example.com",
        dt.date(1990, 5, 1),
        dt.date(2023, 5, 1),
    )
    assert (c1.kind, c1.province, c1.notes, c1.custom_fields) == (
        "individual",
        "广东",
        "老客户",
        {"会员卡": "VIP1"},
    )
    c2 = customers.get_customer(ctx, "C002")
    assert (c2.kind, c2.registered, c2.name) == ("enterprise", dt.date(2023, 5, 1), "李四贸易公司")
    c8 = customers.get_customer(ctx, "CO08")
    assert c8.phone == "+8613812345670"
    assert customers.list_customers(ctx, search="8123456").total >= 1

    # The rejects file: original columns plus the error, in the source's encoding, and
    # re-importable once fixed.
    text = rejects.read_bytes().decode("gb18030")
    lines = list(csv.reader(text.splitlines()))
    assert lines[0][:3] == ["客户编号", "客户名称", "客户类型"]
    assert lines[0][-4:] == ["error_line", "error_code", "error_field", "error_reason"]
    assert [row[0] for row in lines[1:]] == ["C003", "C004", "C005", "C006", "C007", "C002"]
    fixed = text.replace("C003,,", "C003,吴十,").replace(",12345,", ",13912345678,")
    rejects.write_bytes(fixed.encode("gb18030"))
    again = importing.import_file(ctx, "customers", rejects)
    assert again.inserted == 2  # C003 and C004 now pass; the rest still fail
    assert customers.get_customer(ctx, "C003").name == "吴十"
    assert customers.get_customer(ctx, "C001").custom_fields == {"会员卡": "VIP1"}


def test_same_file_twice_changes_nothing(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cpath = write(tmp_path, "c.csv", CUSTOMERS, "utf-8-sig")
    opath = write(tmp_path, "o.csv", ORDERS)
    importing.import_file(ctx, "customers", cpath)
    first = importing.import_file(ctx, "orders", opath)
    assert (first.inserted, first.rejected_count) == (3, 4)
    before = dump(ctx)
    again_c = importing.import_file(ctx, "customers", cpath)
    again_o = importing.import_file(ctx, "orders", opath)
    assert again_c.inserted == again_c.updated == 0 and again_c.unchanged == 3
    assert again_o.inserted == again_o.updated == 0 and again_o.unchanged == 3
    assert dump(ctx) == before
    codes = {(r.line, r.code) for r in first.rejected}
    assert codes == {
        (5, "unknown_customer"),
        (6, "invalid_value"),
        (7, "missing_required"),
        (8, "invalid_value"),
    }
    c1 = customers.get_customer(ctx, "C001")
    assert (c1.order_count, c1.total_spent, c1.last_order) == (
        2,
        Decimal("1333.50"),
        dt.date(2023, 5, 3),
    )
    page = list_orders(ctx, customer_code="C002")
    assert [
        (o.order_no, o.amount, o.quantity, o.product, o.category, o.channel) for o in page.items
    ] == [("O2", Decimal("1234.50"), 2, "电脑", "数码", "京东")]


def test_changed_rows_update_with_audit_and_undo_restores(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = importing.import_file(ctx, "customers", write(tmp_path, "a.csv", CUSTOMERS))
    changed = CUSTOMERS.replace("老客户", "大客户").replace("VIP1", "VIP2")
    second = importing.import_file(ctx, "customers", write(tmp_path, "b.csv", changed))
    assert (second.updated, second.unchanged) == (1, 2)
    c1 = customers.get_customer(ctx, "C001")
    assert (c1.notes, c1.custom_fields, c1.version) == ("大客户", {"会员卡": "VIP2"}, 2)
    with ctx.session() as s:
        entry = s.execute(
            sa.select(AuditEntry.__table__).where(AuditEntry.__table__.c.action == "import_update")
        ).one()
    assert entry.import_id == second.import_id and entry.entity_id == "C001"
    assert entry.before["notes"] == "老客户" and entry.after["notes"] == "大客户"

    # The first import cannot be undone while the second one's change stands.
    with pytest.raises(Conflict, match="C001"):
        importing.undo_import(ctx, first.import_id)
    undone = importing.undo_import(ctx, second.import_id)
    assert (undone.removed, undone.restored) == (0, 1)
    c1 = customers.get_customer(ctx, "C001")
    assert (c1.notes, c1.custom_fields) == ("老客户", {"会员卡": "VIP1"})
    assert customers.list_customers(ctx, search="老客户").total == 1
    with pytest.raises(Conflict):
        importing.undo_import(ctx, second.import_id)
    importing.undo_import(ctx, first.import_id)
    assert customers.list_customers(ctx).total == 0


def test_undo_refused_when_later_orders_hang_on_imported_customers(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = importing.import_file(ctx, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    orders = importing.import_file(ctx, "orders", write(tmp_path, "o.csv", ORDERS))
    with pytest.raises(Conflict, match="C001 now has 2"):
        importing.undo_import(ctx, first.import_id)
    # Undoing the orders import removes its orders and refreshes the aggregates.
    assert importing.undo_import(ctx, orders.import_id).removed == 3
    assert customers.get_customer(ctx, "C001").order_count == 0
    importing.undo_import(ctx, first.import_id)
    statuses = [r.status for r in importing.list_imports(ctx).items]
    assert statuses == ["undone", "undone"]


def test_order_update_moves_aggregates_and_undo_restores_them(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    importing.import_file(ctx, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    importing.import_file(ctx, "orders", write(tmp_path, "o.csv", ORDERS))
    moved = ORDERS.replace("O3,C001,2023/5/3,¥99", "O3,C002,2023/5/3,¥100")
    second = importing.import_file(ctx, "orders", write(tmp_path, "o2.csv", moved))
    assert second.updated == 1
    c2 = customers.get_customer(ctx, "C002")
    assert (c2.order_count, c2.total_spent) == (2, Decimal("1334.50"))
    assert customers.get_customer(ctx, "C001").order_count == 1
    importing.undo_import(ctx, second.import_id)
    assert customers.get_customer(ctx, "C001").total_spent == Decimal("1333.50")
    assert customers.get_customer(ctx, "C002").order_count == 1


def test_undo_of_an_order_move_refreshes_the_customer_a_merge_moved_it_to(
    ctx, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """An import moves O3 from C001 to CO08, CO08 is merged into C002 (O3 goes with it), and
    the import is undone: O3 goes back to C001, and C002 no longer counts it."""
    importing.import_file(ctx, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    importing.import_file(ctx, "orders", write(tmp_path, "o.csv", ORDERS))
    moved = ORDERS.replace("O3,C001,", "O3,CO08,")
    second = importing.import_file(ctx, "orders", write(tmp_path, "o2.csv", moved))
    assert second.updated == 1
    merge.merge_customers(ctx, "C002", ["CO08"])
    c2 = customers.get_customer(ctx, "C002")
    assert (c2.order_count, c2.total_spent) == (2, Decimal("1333.50"))
    importing.undo_import(ctx, second.import_id)
    assert [o.order_no for o in list_orders(ctx, customer_code="C001").items] == ["O3", "O1"]
    c2 = customers.get_customer(ctx, "C002")
    assert (c2.order_count, c2.total_spent, c2.first_order) == (
        1,
        Decimal("1234.50"),
        dt.date(2023, 5, 2),
    )
    assert customers.get_customer(ctx, "C001").order_count == 2


def test_undo_refuses_to_put_an_order_back_on_a_customer_merged_since(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """An import moves O3 from C001 to C002, then C001 is merged into CO08: undone, O3 went
    back to C001, which holds no records any more, and CO08's totals missed it."""
    importing.import_file(ctx, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    importing.import_file(ctx, "orders", write(tmp_path, "o.csv", ORDERS))
    moved = ORDERS.replace("O3,C001,", "O3,C002,")
    second = importing.import_file(ctx, "orders", write(tmp_path, "o2.csv", moved))
    merge.merge_customers(ctx, "CO08", ["C001"])
    with pytest.raises(Conflict, match="O3 would go back to C001, merged into CO08 since"):
        importing.undo_import(ctx, second.import_id)
    merge.unmerge_customer(ctx, "C001")
    importing.undo_import(ctx, second.import_id)
    c1 = customers.get_customer(ctx, "C001")
    assert (c1.order_count, c1.total_spent) == (2, Decimal("1333.50"))
    assert customers.get_customer(ctx, "CO08").order_count == 0


def test_an_import_still_running_cannot_be_undone(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Undone between two batches, the import wrote on and then marked itself done over
    the undo, with part of its rows gone."""
    importing.import_file(ctx, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    refused: list[str] = []

    def undo_meanwhile(_line: int, _total: int | None) -> None:
        running = importing.list_imports(ctx).items[0]
        with pytest.raises(Conflict, match="still running") as exc:
            importing.undo_import(ctx, running.id)
        refused.append(str(exc.value))

    result = importing.import_file(
        ctx, "orders", write(tmp_path, "o.csv", ORDERS), batch_size=2, progress=undo_meanwhile
    )
    assert len(refused) == 4 and result.inserted == 3
    assert importing.list_imports(ctx).items[0].status == "done"
    assert importing.undo_import(ctx, result.import_id).removed == 3
    assert customers.get_customer(ctx, "C001").order_count == 0


def test_undo_names_what_refers_to_the_orders_it_would_remove(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A contact or a complaint naming an imported order, or the points it earned, stand in
    the way of undoing the import, named (the points stayed with the customer, and the
    order imported again, corrected, earned none)."""
    importing.import_file(ctx, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    first = importing.import_file(ctx, "orders", write(tmp_path, "o.csv", ORDERS))
    interactions.log_interaction(ctx, "C002", channel="phone", subject="发货", order_no="O2")
    feedback.add_complaint(ctx, "C001", category="质量", severity="high", order="O3")
    with pytest.raises(Conflict) as refused:
        importing.undo_import(ctx, first.import_id)
    assert "order O2 now has 1 interactions" in str(refused.value)
    assert "order O3 now has 1 feedback entries" in str(refused.value)
    with ctx.transaction() as s:
        for t in (Interaction.__table__, Feedback.__table__):
            s.execute(sa.delete(t))
    second = importing.import_file(
        ctx,
        "orders",
        write(tmp_path, "o2.csv", "订单编号,客户编号,下单日期,订单金额\nO9,C002,2026-03-01,300\n"),
    )
    loyalty.run_loyalty(ctx, dt.date(2026, 3, 15))
    with pytest.raises(Conflict, match="order O9 earned 300 loyalty points"):
        importing.undo_import(ctx, second.import_id)
    assert customers.get_customer(ctx, "C002").order_count == 2


def test_dry_run_writes_nothing(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, "c.csv", CUSTOMERS)
    before = dump(ctx, Customer.__table__, AuditEntry.__table__, ImportBatch.__table__)
    result = importing.import_file(ctx, "customers", path, dry_run=True)
    assert result.import_id is None
    assert (result.inserted, result.rejected_count, result.duplicates) == (3, 6, 1)
    assert dump(ctx, Customer.__table__, AuditEntry.__table__, ImportBatch.__table__) == before
    orders = importing.import_file(ctx, "orders", write(tmp_path, "o.csv", ORDERS), dry_run=True)
    assert orders.inserted == 0 and {r.code for r in orders.rejected} >= {"unknown_customer"}
    assert dump(ctx, Product.__table__, Order.__table__) == [[], []]


def test_modes_skip_and_insert_only(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    importing.import_file(ctx, "customers", write(tmp_path, "a.csv", CUSTOMERS))
    changed = CUSTOMERS.replace("老客户", "大客户") + "C010,新客户,个人,,,,,,,,,\n"
    path = write(tmp_path, "b.csv", changed)
    skip = importing.import_file(ctx, "customers", path, mode="skip")
    assert (skip.inserted, skip.updated, skip.skipped) == (1, 0, 3)
    assert customers.get_customer(ctx, "C001").notes == "老客户"
    path2 = write(tmp_path, "c.csv", changed + "C011,又一个,个人,,,,,,,,,\n")
    only = importing.import_file(ctx, "customers", path2, mode="insert-only")
    assert only.inserted == 1 and only.updated == 0
    assert {r.key for r in only.rejected if r.code == "already_exists"} == {
        "C001",
        "C002",
        "CO08",
        "C010",
    }
    with pytest.raises(InvalidInput):
        importing.import_file(ctx, "customers", path, mode="bogus")


def test_batches_are_independent_and_small_batches_give_the_same_result(
    ctx, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    lines = ["code,name,phone"] + [f"K{i:03d},客户{i},1381234{i:04d}" for i in range(25)]
    lines.insert(5, "K002,客户2,13812340002")  # an identical repeat across batches
    lines.insert(9, "K003,别人,13812340003")  # a conflicting repeat across batches
    result = importing.import_file(
        ctx, "customers", write(tmp_path, "k.csv", "\n".join(lines) + "\n"), batch_size=4
    )
    assert (result.inserted, result.duplicates, result.batches) == (25, 1, 7)
    assert [(r.line, r.code) for r in result.rejected] == [(10, "duplicate_key")]
    with ctx.session() as s:
        row = s.execute(sa.select(ImportBatch.__table__)).one()
    assert (row.rows, row.inserted, row.rejected, row.status) == (27, 25, 1, "done")


def test_missing_required_column_is_refused_before_writing(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput, match="order_no"):
        importing.import_file(ctx, "orders", write(tmp_path, "o.csv", "客户编号,金额\nC1,1\n"))
    assert importing.list_imports(ctx).total == 0


def test_interactions_import(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    importing.import_file(ctx, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    text = (
        '{"id": "I1", "客户编号": "C001", "渠道": "电话", "时间": "2023-05-01 10:30+08:00", "满意度": 5}\n'
        '{"id": "I2", "客户编号": "C002", "渠道": "微信", "时间": "2023-05-02"}\n'
        '{"id": "I3", "客户编号": "C002", "渠道": "信鸽", "时间": "2023-05-02"}\n'
        '{"id": "I4", "客户编号": "C404", "渠道": "email", "时间": "2023-05-02"}\n'
    )
    path = write(tmp_path, "i.jsonl", text)
    result = importing.import_file(ctx, "interactions", path)
    assert result.inserted == 2
    assert {(r.line, r.code) for r in result.rejected} == {
        (3, "invalid_value"),
        (4, "unknown_customer"),
    }
    again = importing.import_file(ctx, "interactions", path)
    assert again.unchanged == 2 and again.inserted == again.updated == 0
    # A changed line updates the stored interaction (interactions keep no update time).
    changed = write(tmp_path, "i2.jsonl", text.replace('"满意度": 5', '"满意度": 3'))
    third = importing.import_file(ctx, "interactions", changed)
    assert (third.updated, third.unchanged) == (1, 1)
    assert [r.code for r in third.rejected] == ["invalid_value", "unknown_customer"]
    with ctx.session() as s:
        stored = s.execute(
            sa.select(Interaction.__table__.c.satisfaction).where(
                Interaction.__table__.c.external_key == "I1"
            )
        ).scalar_one()
    assert stored == 3


def test_after_import_hooks_are_called(
    ctx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    seen = []

    def hook(context, result):  # type: ignore[no-untyped-def]
        seen.append(result.import_id)
        return {"new_duplicates": 0}

    monkeypatch.setattr(importing, "after_import_hooks", [hook])
    result = importing.import_file(ctx, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    assert seen == [result.import_id] and result.to_json()["new_duplicates"] == 0


def test_import_leaves_the_cyclic_collector_on_even_when_a_follow_up_fails(
    ctx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The importer pauses the collector while it reads, writes and runs each follow-up; it
    must come back on, whether the import ends well or a follow-up raises, or the process
    (the TUI runs imports in a worker) would never free a reference cycle again."""
    import gc

    during: list[bool] = []

    def failing(context, result):  # type: ignore[no-untyped-def]
        during.append(gc.isenabled())
        raise RuntimeError("follow-up failed")

    assert gc.isenabled()
    importing.import_file(ctx, "customers", write(tmp_path, "c.csv", CUSTOMERS), batch_size=2)
    assert gc.isenabled()
    monkeypatch.setattr(importing, "after_import_hooks", [failing])
    with pytest.raises(RuntimeError, match="follow-up failed"):
        importing.import_file(ctx, "orders", write(tmp_path, "o.csv", ORDERS), batch_size=2)
    assert during == [False] and gc.isenabled()


def test_xlsx_and_utf16_tsv_imports(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "说明"
    ws = wb.create_sheet("客户")
    ws.append(["客户编号", "姓名", "生日", "注册日期", "手机"])
    ws.append(["X1", "张三", dt.datetime(1990, 5, 1), 45047, 13812345678])
    ws.append(["X2", "李四", "1985/12/31", dt.date(2023, 5, 2), "+86 139 1234 5678"])
    path = tmp_path / "c.xlsx"
    wb.save(path)
    result = importing.import_file(ctx, "customers", path, sheet="客户")
    assert (result.inserted, result.encoding) == (2, "xlsx")
    x1 = customers.get_customer(ctx, "X1")
    assert (x1.birthday, x1.registered, x1.phone) == (
        dt.date(1990, 5, 1),
        dt.date(2023, 5, 1),
        "+8613812345678",
    )
    assert customers.get_customer(ctx, "X2").registered == dt.date(2023, 5, 2)

    tsv = write(tmp_path, "c.tsv", "客户编号\t姓名\t城市\nX3\t王五\t成都\n", "utf-16")
    result = importing.import_file(ctx, "customers", tsv)
    assert (result.inserted, result.encoding) == (1, "utf-16")
    assert customers.get_customer(ctx, "X3").city == "成都"


def test_a_batch_the_database_refuses_is_retried_line_by_line(
    ctx, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """A fault no cleaning foresaw (here: the database refusing order O3) costs that line
    only: the batch is rolled back and each line is cleaned and written again alone, so
    the other lines land exactly as a clean import writes them."""
    importing.import_file(ctx, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    good = ORDERS.replace("O3,C001,2023/5/3", "O3,C002,2023/5/3")
    real = importing.driver_executemany

    def refusing(s, stmt, rows):  # type: ignore[no-untyped-def]
        if any(r.get("order_no") == "O3" for r in rows):
            raise sa.exc.IntegrityError("INSERT", {}, Exception("refused"))
        real(s, stmt, rows)

    monkeypatch.setattr(importing, "driver_executemany", refusing)
    res = importing.import_file(ctx, "orders", write(tmp_path, "o.csv", good))
    assert (res.inserted, res.rejected_count) == (2, 5)
    assert [(r.line, r.key, r.code) for r in res.rejected] == [
        (4, "O3", "database_error"),
        (5, "O4", "unknown_customer"),
        (6, "O5", "invalid_value"),
        (7, "O6", "missing_required"),
        (8, "O7", "invalid_value"),
    ]
    monkeypatch.setattr(importing, "driver_executemany", real)
    again = importing.import_file(ctx, "orders", write(tmp_path, "o2.csv", good))
    assert (again.inserted, again.unchanged) == (1, 2)
    rows = [
        (o.order_no, o.customer_code, o.amount, o.product, o.category, o.channel)
        for o in list_orders(ctx).items
    ]
    assert sorted(rows) == [
        ("O1", "C001", Decimal("1234.50"), "手机", "数码", "天猫"),
        ("O2", "C002", Decimal("1234.50"), "电脑", "数码", "京东"),
        ("O3", "C002", Decimal("99.00"), "耳机", None, "门店"),
    ]


@pytest.mark.parametrize(("touched", "whole_base"), [(1, False), (2, True), (4, True)])
def test_order_totals_after_an_import_whether_refreshed_for_its_customers_or_all(
    ctx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, touched: int, whole_base: bool
) -> None:  # type: ignore[no-untyped-def]
    """An import that touched half the customers or more refreshes every customer's totals
    in one pass; fewer, only theirs. Either way the figures are the orders' own."""
    people = "code,name\n" + "".join(f"K{i},客户{i}\n" for i in range(4))
    importing.import_file(ctx, "customers", write(tmp_path, "c.csv", people))
    calls: list[object] = []
    real = importing.refresh_customer_aggregates

    def spy(s, ids=None):  # type: ignore[no-untyped-def]
        calls.append(None if ids is None else len(ids))
        return real(s, ids)

    monkeypatch.setattr(importing, "refresh_customer_aggregates", spy)
    lines = "".join(
        f"O{i}{n},K{i},2026-0{n + 1}-1{i},{10 * (i + 1)}.5{n}\n"
        for i in range(touched)
        for n in range(2)
    )
    importing.import_file(
        ctx, "orders", write(tmp_path, "o.csv", "订单编号,客户编号,下单日期,金额\n" + lines)
    )
    assert calls == [None if whole_base else touched]
    for i in range(4):
        c = customers.get_customer(ctx, f"K{i}")
        if i < touched:
            expected = (2, Decimal(20 * (i + 1)) + Decimal("1.01"), dt.date(2026, 1, 10 + i))
        else:
            expected = (0, Decimal("0"), None)
        assert (c.order_count, c.total_spent, c.first_order) == expected


@pytest.mark.parametrize("kind", ["customers", "orders"])
def test_batches_of_new_keys_stop_asking_and_a_stored_key_after_all_is_still_an_update(
    ctx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:  # type: ignore[no-untyped-def]
    """Once a batch finds none of its keys stored, the next batches do not look theirs up;
    a key that is stored after all (here, imported earlier, late in the file) is refused by
    the unique key, and its batch is planned again: updated, unchanged, nothing lost."""
    people = "code,name\n" + "".join(f"K{i:02d},客户{i}\n" for i in range(20))
    head = "订单编号,客户编号,下单日期,金额\n"

    def line(i: int, amount: int = 10) -> str:
        if kind == "customers":
            return f"K{i:02d},客户{i}{'改' if amount != 10 else ''}\n"
        return f"O{i:02d},K{i % 20:02d},2026-01-0{1 + i % 9},{amount}\n"

    importing.import_file(ctx, "customers", write(tmp_path, "p.csv", people))
    header = "code,name\n" if kind == "customers" else head
    if kind == "customers":
        earlier = "".join(f"K{i:02d},客户{i}\n" for i in (50, 51))  # stored before the file
        importing.import_file(ctx, "customers", write(tmp_path, "e.csv", header + earlier))
        body = "".join(line(i) for i in range(52, 64)) + "K50,客户50改\nK51,客户51\n"
    else:
        earlier = line(50) + line(51)
        importing.import_file(ctx, "orders", write(tmp_path, "e.csv", header + earlier))
        body = "".join(line(i) for i in range(52, 64)) + line(50, 99) + line(51)
    lookups: list[int] = []
    real = importing.driver_in

    def spy(s, select, table, column, values):  # type: ignore[no-untyped-def]
        if column == importing.KEY_COLUMN[kind] and table is importing.TABLE[kind]:
            lookups.append(len(values))
        return real(s, select, table, column, values)

    monkeypatch.setattr(importing, "driver_in", spy)
    before = dump(ctx)
    result = importing.import_file(ctx, kind, write(tmp_path, "f.csv", header + body), batch_size=4)
    assert (result.inserted, result.updated, result.unchanged, result.rejected) == (12, 1, 1, [])
    # Asked in the first batch only, then again for the batch that met stored keys.
    assert lookups == [4, 2]
    assert dump(ctx) != before
    if kind == "customers":
        assert customers.get_customer(ctx, "K50").name == "客户50改"
    else:
        assert [o.amount for o in list_orders(ctx, limit=100).items if o.order_no == "O50"] == [
            Decimal("99.00")
        ]
    with ctx.session() as s:
        updates = (
            s.execute(
                sa.select(AuditEntry.__table__.c.entity_id).where(
                    AuditEntry.__table__.c.import_id == result.import_id,
                    AuditEntry.__table__.c.action == "import_update",
                )
            )
            .scalars()
            .all()
        )
    assert updates == ["K50" if kind == "customers" else "O50"]
    # The same file again changes nothing (every batch asks: its first finds its keys).
    again = importing.import_file(ctx, kind, write(tmp_path, "f.csv", header + body), batch_size=4)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 14)


@pytest.mark.parametrize("mode", ["skip", "insert-only"])
def test_a_stored_key_repeated_in_a_later_batch_counts_as_within_one_batch(
    ctx, tmp_path: Path, mode: str
) -> None:  # type: ignore[no-untyped-def]
    """A key the mode leaves unwritten (skipped, or refused as already there) and repeated
    further down the file is checked against its first line, not against the stored row that
    line did not write: an identical repeat is a duplicate wherever the batches split, and
    the dry run counts what the real run does."""
    importing.import_file(ctx, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    importing.import_file(ctx, "orders", write(tmp_path, "o.csv", ORDERS))
    files = {
        "customers": "客户编号,客户名称,备注,标签\n"
        "C001,张三,新备注,vip\nC100,新人,,\nC001,张三,新备注,vip\nC001,张三,另一个,\n",
        "orders": "订单编号,客户编号,下单日期,订单金额\n"
        "O1,C001,2023-05-01,99\nO100,C001,2023-06-01,5\nO1,C001,2023-05-01,99\n"
        "O1,C001,2023-05-01,98\n",
    }
    for kind, text in files.items():
        path = write(tmp_path, f"{kind}-again.csv", text)
        counts = []
        for batch_size, dry_run in ((100, True), (1, True), (1, False)):
            r = importing.import_file(
                ctx, kind, path, mode=mode, batch_size=batch_size, dry_run=dry_run
            )
            rejects = [(x.line, x.code) for x in r.rejected]
            counts.append((r.inserted, r.skipped, r.duplicates, rejects))
        first = "already_exists" if mode == "insert-only" else None
        expected = (1, int(mode == "skip"), 1, [(2, first)] * bool(first) + [(5, "duplicate_key")])
        assert counts == [expected] * 3, kind
    c1 = customers.get_customer(ctx, "C001")
    assert (c1.notes, c1.tags) == ("老客户", [])
    assert [
        o.amount for o in list_orders(ctx, customer_code="C001").items if o.order_no == "O1"
    ] == [Decimal("1234.50")]


def test_a_rejected_line_repeated_in_a_later_batch_counts_as_within_one_batch(
    ctx, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A line rejected once cleaned (its customer deleted or unknown) and repeated further
    down is compared with that line: the same line again is a duplicate, as within one
    batch and in the dry run, not rejected a second time (as 'appears earlier in the file
    with other values' for a deleted customer's line, when it appears with the same)."""
    importing.import_file(ctx, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    customers.delete_customer(ctx, "C002")
    files = {
        "customers": "客户编号,客户名称,备注\nC002,改名,x\nC100,新人,\nC002,改名,x\n",
        "orders": "订单编号,客户编号,下单日期,订单金额\n"
        "O9,C999,2023-05-01,99\nO100,C001,2023-06-01,5\nO9,C999,2023-05-01,99\n",
    }
    for kind, text in files.items():
        path = write(tmp_path, f"{kind}-again.csv", text)
        counts = []
        for batch_size, dry_run in ((100, True), (1, True), (1, False)):
            r = importing.import_file(ctx, kind, path, batch_size=batch_size, dry_run=dry_run)
            counts.append((r.inserted, r.duplicates, [(x.line, x.code) for x in r.rejected]))
        first = "deleted_customer" if kind == "customers" else "unknown_customer"
        assert counts == [(1, 1, [(2, first)])] * 3, kind


def test_a_stored_customer_without_a_name_after_batches_of_new_ones_is_updated(
    ctx, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Batches of new customers stop asking which keys are stored; a later line for a
    stored customer that leaves the name blank (a partial update: a blank never erases)
    was taken for a new customer and rejected as 'name is required'."""
    importing.import_file(ctx, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    text = "客户编号,客户名称,手机号码\n" + "".join(f"N{i},新{i},\n" for i in range(4))
    text += "C001,,13912345678\n"
    path = write(tmp_path, "n.csv", text)
    dry = importing.import_file(ctx, "customers", path, batch_size=2, dry_run=True)
    real = importing.import_file(ctx, "customers", path, batch_size=2)
    for r in (dry, real):
        assert (r.inserted, r.updated, r.rejected) == (4, 1, [])
    c1 = customers.get_customer(ctx, "C001")
    assert (c1.name, c1.phone) == ("张三", "+8613912345678")


def _undo_refusal_in_chinese(ctx, import_id: int) -> str:  # type: ignore[no-untyped-def]
    from tricrm_tui.i18n import set_language

    set_language("zh_CN")
    try:
        with pytest.raises(Conflict) as refused:
            importing.undo_import(ctx, import_id)
    finally:
        set_language("en")
    return str(refused.value)


def test_what_stands_in_an_undos_way_reads_naturally_in_chinese(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The record changed later is named in the operator's language, not as ``customer``;
    each count carries its own measure word (2 个订单, not 2 条订单)."""
    first = importing.import_file(ctx, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    orders = importing.import_file(ctx, "orders", write(tmp_path, "o.csv", ORDERS))
    assert "客户 C001 现在有 2 个订单" in _undo_refusal_in_chinese(ctx, first.import_id)
    importing.undo_import(ctx, orders.import_id)
    changed = CUSTOMERS.replace("老客户", "大客户")
    importing.import_file(ctx, "customers", write(tmp_path, "b.csv", changed))
    said = _undo_refusal_in_chinese(ctx, first.import_id)
    assert "客户 C001 之后被修改过" in said and "customer" not in said
