"""The "Excel" files legacy systems write: old binary workbooks under .xls names, read as
the sheets they show.

The old workbook is a committed file (``tests/data/legacy/customers.xls``; its README and
``make_customers_xls.py`` say how it was made). Both backends."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.cli_runner import invoke
from tricrm_tui.models import Customer
from tricrm_tui.services import customers, importing, orders
from tricrm_tui.services.errors import InvalidInput
from tricrm_tui.services.readers import file_format, open_source

XLS = Path(__file__).resolve().parents[1] / "data" / "legacy" / "customers.xls"


def _rejected(result: Any) -> list[tuple[int, str | None, str, str | None]]:
    return [(r.line, r.key, r.code, r.field) for r in result.rejected]


def _codes(ctx: Any) -> list[str]:
    with ctx.session() as s:
        return sorted(s.execute(sa.select(Customer.__table__.c.code)).scalars())


def _copy(tmp_path: Path, name: str = "客户.xls") -> Path:
    path = tmp_path / name
    path.write_bytes(XLS.read_bytes())
    return path


# -- old binary workbooks -----------------------------------------------------------------


def _same_sheet_as_xlsx(path: Path) -> None:
    """The fixture's first sheet as an XLSX file, cell for cell, number formats and all."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "客户"
    ws.append([])
    ws.append(["客户编号", "客户名称", "手机号码", "注册日期", "积分", "会员", "身份证号", "备注"])
    # Excel writes a merged range's other cells as empty cells with a style, as the .xls
    # holds them (openpyxl's merge writes none, which makes the header a column shorter).
    ws["I2"].number_format = "@"
    ws.append(["00123", "张三", 13812345678, dt.datetime(2023, 5, 1), 1500, True,
               1.10101199001011234e17, "老客户"])  # fmt: skip
    ws.append([456, "李四", "139-1234-5678", dt.datetime(2023, 5, 1, 10, 30), 1234.5, False,
               None, "北京市", "朝阳区"])  # fmt: skip
    ws["A4"].number_format = "00000"
    ws.append([])
    ws.append(["C0789", "王五", 12345, dt.datetime(2024, 2, 29)])
    ws.append(["C0790", "赵六", 13912345678, *[None] * 6, "多余"])
    wb.save(path)


def test_an_old_workbook_reads_as_the_same_sheet_saved_as_xlsx(tmp_path: Path) -> None:
    """Line numbers, the header after a blank row, a merged header's blank half, codes
    kept as text or shown through a 00000 format, phones as whole numbers, dates, the 15
    digits Excel keeps, booleans, a value under no header: cell for cell what the XLSX
    reader gives for the same sheet (where the .xls has an #N/A, the XLSX has an empty cell)."""
    xlsx = tmp_path / "same.xlsx"
    _same_sheet_as_xlsx(xlsx)
    old = list(open_source(XLS).rows())
    assert old == list(open_source(xlsx).rows())
    assert [line for line, _row in old] == [3, 4, 6, 7]
    first = old[0][1]
    assert first["客户编号"] == "00123" and first["手机号码"] == "13812345678"
    assert first["注册日期"] == dt.datetime(2023, 5, 1) and first["积分"] == "1500"
    assert first["会员"] == "true" and first["身份证号"] == "110101199001011000"
    assert old[1][1]["客户编号"] == "00456" and old[1][1]["column_9"] == "朝阳区"


def test_an_error_cell_is_blank(tmp_path: Path) -> None:
    """#N/A (a lookup that found nothing) holds no value; read as text, it was refused as
    a phone or stored as a customer's data."""
    rows = dict(open_source(XLS).rows())
    assert rows[4]["身份证号"] is None


def test_an_old_workbook_imports_with_rejects_by_sheet_row(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rejects = tmp_path / "rejects.csv"
    result = importing.import_file(ctx, "customers", _copy(tmp_path), rejects_path=rejects)
    assert (result.encoding, result.rows, result.inserted) == ("xls", 4, 2)
    assert _rejected(result) == [
        (6, "C0789", "invalid_value", "phone"),
        (7, "C0790", "invalid_value", None),
    ]
    assert "column J holds a value but has no header" in result.rejected[1].reason
    ann = customers.get_customer(ctx, "00123")
    assert (ann.name, ann.phone, ann.registered) == ("张三", "+8613812345678", dt.date(2023, 5, 1))
    assert ann.custom_fields == {"积分": "1500", "会员": "true", "身份证号": "110101199001011000"}
    bob = customers.get_customer(ctx, "00456")
    assert (bob.phone, bob.registered, bob.notes) == (
        "+8613912345678",
        dt.date(2023, 5, 1),
        "北京市",
    )
    # As an XLSX file's: CSV in UTF-8 with a BOM, the sheet's row numbers.
    lines = rejects.read_text("utf-8-sig").splitlines()
    assert lines[0].startswith("客户编号,客户名称,手机号码,注册日期,")
    assert lines[1].startswith("C0789,王五,12345,2024-02-29T00:00:00,")
    assert ",6,invalid_value,phone," in lines[1]


def test_an_old_workbook_reports_progress_against_its_last_row(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seen: list[tuple[int, int | None]] = []
    importing.import_file(
        ctx, "customers", _copy(tmp_path), batch_size=2,
        progress=lambda done, total: seen.append((done, total)),
    )  # fmt: skip
    assert seen == [(4, 7), (7, 7)]


def test_sheet_picks_a_sheet_of_an_old_workbook(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _copy(tmp_path)
    importing.import_file(ctx, "customers", path)
    result = importing.import_file(ctx, "orders", path, sheet="订单")
    assert (result.inserted, result.rejected) == (2, [])
    got = {o.order_no: (o.customer_code, o.date, o.amount) for o in orders.list_orders(ctx).items}
    assert got == {
        "O1": ("00123", dt.date(2024, 3, 1), Decimal("99.50")),
        "O2": ("00456", dt.date(2024, 3, 2), Decimal("1200.00")),
    }
    with pytest.raises(InvalidInput, match=r"no sheet 客户2 in 客户.xls \(sheets: 客户, 订单\)"):
        importing.import_file(ctx, "orders", path, sheet="客户2")


def test_an_old_workbook_through_the_cli(db_url: str, tmp_path: Path) -> None:
    path = _copy(tmp_path)
    res = invoke(db_url, "import", "customers", str(path), "--show-mapping", "-f", "json")
    mapping = json.loads(res.stdout)
    assert (mapping["format"], mapping["read_as"]) == ("xls", "xls")
    assert [c["field"] for c in mapping["columns"]][:4] == ["code", "name", "phone", "registered"]
    res = invoke(db_url, "import", "customers", str(path), "--show-mapping")
    assert "encoding: xls" in res.stderr
    rejects = tmp_path / "bad.csv"
    res = invoke(db_url, "import", "customers", str(path), "--rejects", str(rejects))
    assert res.exit_code == 0, res.output
    assert "│ Encoding " in res.stdout and "│ xls " in res.stdout
    assert [ln.split(",")[-4] for ln in rejects.read_text("utf-8-sig").splitlines()[1:]] == [
        "6", "7",
    ]  # fmt: skip
    res = invoke(db_url, "import", "orders", str(path), "--sheet", "订单", "-f", "json")
    assert json.loads(res.stdout)["inserted"] == 2
    res = invoke(db_url, "import", "orders", str(path), "--sheet", "nope")
    assert isinstance(res.exception, InvalidInput) and "no sheet nope" in str(res.exception)


def test_a_password_protected_workbook_is_named_with_what_to_do(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "locked.xls"
    # The fixture with its WINDOWPROTECT record (type 0x19, 2 bytes) turned into a
    # FILEPASS one (0x2F), the record an encrypted workbook carries first.
    path.write_bytes(XLS.read_bytes().replace(b"\x19\x00\x02\x00", b"\x2f\x00\x02\x00", 1))
    with pytest.raises(InvalidInput, match="locked.xls is protected with a password"):
        importing.import_file(ctx, "customers", path)


@pytest.mark.parametrize(
    "data",
    [
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504,  # the signature, then nothing
        XLS.read_bytes()[:3000],  # cut short
    ],
    ids=["signature-only", "cut-short"],
)
def test_a_damaged_workbook_is_named(ctx, tmp_path: Path, data: bytes) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "old.xls"
    path.write_bytes(data)
    with pytest.raises(InvalidInput, match=r"old.xls cannot be read as an old Excel workbook"):
        importing.import_file(ctx, "customers", path)
    assert _codes(ctx) == []


def test_todays_workbook_under_an_xls_name_is_read(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """It was refused with advice to rename it, which an operator could do; now it reads,
    and is not counted as lines of text (its bytes held a few newlines by chance)."""
    path = tmp_path / "new.xls"
    _same_sheet_as_xlsx(path)
    assert file_format(path) == "xlsx"
    assert importing.count_lines(path) is None
    result = importing.import_file(ctx, "customers", path)
    assert (result.encoding, result.inserted) == ("xlsx", 2)
