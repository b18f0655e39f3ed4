"""Messy files an operator is handed, written by the tests in their real encodings and
layouts: each case once imported wrong data without a word, lost cells, or stopped half-way
with a raw error. Both backends."""

from __future__ import annotations

import csv
import json
import re
import zipfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.cli_runner import invoke
from tricrm_tui.models import Customer, ImportBatch, Order, Product
from tricrm_tui.services import customers, exporting, importing
from tricrm_tui.services.errors import InvalidInput
from tricrm_tui.services.mapping import read_mapping_file


def _codes(ctx) -> list[str]:  # type: ignore[no-untyped-def]
    with ctx.session() as s:
        return sorted(s.execute(sa.select(Customer.__table__.c.code)).scalars())


def _rejected(result) -> list[tuple[int, str | None, str, str | None]]:  # type: ignore[no-untyped-def]
    return [(r.line, r.key, r.code, r.field) for r in result.rejected]


@pytest.mark.parametrize(
    ("codec", "names"),
    [
        ("big5hkscs", ["陳大文", "佢哋啲貨"]),
        ("cp950", ["王小明", "碁盤€商行"]),
        ("cp950", ["鮮の店", "①號門"]),  # Big5-HKSCS reads these bytes as other characters
    ],
)
def test_big5_flavours_are_read_as_themselves(ctx, tmp_path: Path, codec, names) -> None:  # type: ignore[no-untyped-def]
    """Hong Kong's HKSCS characters and Taiwan's Windows ones (€, 碁) fail strict Big5; the
    file was then read as GB18030 and stored as private-use garbage."""
    path = tmp_path / "hk.csv"
    path.write_bytes(f"code,name\nH1,{names[0]}\nH2,{names[1]}\n".encode(codec))
    result = importing.import_file(ctx, "customers", path)
    assert result.encoding == codec
    assert [customers.get_customer(ctx, c).name for c in ("H1", "H2")] == names


def test_utf16_without_a_bom_is_detected(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "u16.csv"
    path.write_bytes("code,name\r\nA1,Alice\r\nA2,Bob\r\n".encode("utf-16-le"))
    result = importing.import_file(ctx, "customers", path)
    assert (result.encoding, result.inserted) == ("utf-16-le", 2)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_holding_chinese_is_detected(ctx, tmp_path: Path, codec: str) -> None:  # type: ignore[no-untyped-def]
    """Only a file of ASCII had enough NULs to be taken for UTF-16: with Chinese names and
    cities it was read as GB18030, headers and all, into NUL-ridden garbage."""
    path = tmp_path / "u16.csv"
    text = "code,name,phone,city\r\n" + "".join(
        f"C{i:03d},张三,138{i:08d},深圳市\r\n" for i in range(100)
    )
    path.write_bytes(text.encode(codec))
    result = importing.import_file(ctx, "customers", path)
    assert (result.encoding, result.inserted, result.rejected_count) == (codec, 100, 0)
    c = customers.get_customer(ctx, "C007")
    assert (c.name, c.city, c.phone) == ("张三", "深圳市", "+8613800000007")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_han_only_utf16_without_a_bom_is_imported(ctx, tmp_path: Path, codec: str) -> None:  # type: ignore[no-untyped-def]
    """Tabs and line ends are the only ASCII: too few NULs to be taken for UTF-16, and the
    file was read as GB18030, its header as garbage (no column for the customer code)."""
    path = tmp_path / "客户.txt"
    path.write_bytes("客户编号\t客户名称\t城市\n甲一\t张三丰\t南京市鼓楼区中山北路\n".encode(codec))
    result = importing.import_file(ctx, "customers", path)
    assert (result.encoding, result.inserted, result.rejected_count) == (codec, 1, 0)
    c = customers.get_customer(ctx, "甲一")
    assert (c.name, c.city) == ("张三丰", "南京市鼓楼区中山北路")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("p.csv", "code,name,phone\nP1,Ann,13812345678.0\nP2,Bo,\nP3,Cy,8613812345679.0\n"),
        (
            "p.jsonl",
            '{"code":"P1","name":"Ann","phone":13812345678.0}\n'
            '{"code":"P2","name":"Bo","phone":null}\n'
            '{"code":"P3","name":"Cy","phone":8613812345679.0}\n',
        ),
    ],
    ids=["csv", "jsonl"],
)
def test_phones_written_as_floats_are_read_as_numbers(
    ctx, tmp_path: Path, name: str, text: str
) -> None:  # type: ignore[no-untyped-def]
    """pandas writes a phone column with empty cells as floats: every such phone was
    refused as "not a valid phone number: 13812345678.0"."""
    path = tmp_path / name
    path.write_text(text, "utf-8")
    result = importing.import_file(ctx, "customers", path)
    assert (result.inserted, result.rejected_count) == (3, 0)
    assert [customers.get_customer(ctx, c).phone for c in ("P1", "P2", "P3")] == [
        "+8613812345678", None, "+8613812345679",
    ]  # fmt: skip


def test_traditional_chinese_headers_map_as_simplified_ones(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "tw.csv"
    path.write_bytes(
        "客戶編號,客戶名稱,手機號碼,電子郵箱,備註\nT1,林美麗,0912345678,mei@example.tw,老客戶\n".encode(
            "big5"
        )
    )
    importing.import_file(ctx, "customers", path, region="TW")
    c = customers.get_customer(ctx, "T1")
    assert (c.name, c.phone, c.email, c.notes) == (
        "林美麗", "+886912345678", "mei@example.tw", "老客戶",
    )  # fmt: skip


def test_a_cell_past_the_csv_field_limit_is_refused_on_its_line(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "long.csv"
    path.write_text(
        "code,name,notes\n"
        + "".join(f"L{i},N{i},ok\n" for i in range(1, 6))
        + "L6,N6,"
        + "x" * 200_000
        + "\nL7,N7,ok\n",
        "utf-8",
    )
    result = importing.import_file(ctx, "customers", path, batch_size=2)
    assert _rejected(result) == [(7, "L6", "invalid_value", "notes")]
    assert _codes(ctx) == ["L1", "L2", "L3", "L4", "L5", "L7"]


def test_a_wrong_encoding_is_found_before_anything_is_written(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "gbk.csv"
    path.write_bytes(
        ("code,name\n" + "".join(f"G{i},N{i}\n" for i in range(3000)) + "G9,张三\n").encode("gbk")
    )
    with pytest.raises(InvalidInput, match="line 3002 of gbk.csv is not utf-8"):
        importing.import_file(ctx, "customers", path, encoding="utf-8", batch_size=500)
    assert _codes(ctx) == []
    with ctx.session() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(ImportBatch)).scalar_one() == 0


def test_a_line_wider_than_its_header_is_refused_with_its_text(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """An unquoted delimiter in a value shifted every later cell: the line was stored as
    address 深圳市, notes 南山区, and 老客户 lost. Trailing empty cells are harmless."""
    path = tmp_path / "ragged.csv"
    path.write_text(
        "code,name,address,notes\nR1,张三,深圳市,南山区,老客户\nR2,李四,杭州,vip,,\n", "utf-8"
    )
    rejects = tmp_path / "rejects.csv"
    result = importing.import_file(ctx, "customers", path, rejects_path=rejects)
    assert _rejected(result) == [(2, "R1", "invalid_value", None)]
    assert "5 cells but the header 4" in result.rejected[0].reason
    assert _codes(ctx) == ["R2"]
    row = next(csv.DictReader(rejects.read_text("utf-8-sig").splitlines()))
    assert row["code"] == "R1" and row["error_reason"].endswith("R1,张三,深圳市,南山区,老客户")


def test_lines_ending_in_a_bare_carriage_return_are_read(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Excel for Mac's "CSV (Macintosh)" ends lines with CR alone: the header was read from
    the sample as one line, and the import stopped with Python's "new-line character seen
    in unquoted field - do you need to open the file in universal-newline mode?"."""
    path = tmp_path / "mac.csv"
    path.write_bytes('客户编号,姓名,备注\rM1,张三,"两\r行"\rM2,李四,x\r'.encode("gbk"))
    result = importing.import_file(ctx, "customers", path)
    assert (result.inserted, result.rejected_count) == (2, 0)
    assert customers.get_customer(ctx, "M1").notes == "两 行"
    assert customers.get_customer(ctx, "M2").name == "李四"


def test_blank_lines_before_the_header_are_skipped(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "b.csv"
    path.write_text("\n\n,,\ncode,name\nB1,Bob\n", "utf-8")
    result = importing.import_file(ctx, "customers", path)
    assert (result.inserted, _codes(ctx)) == (1, ["B1"])


def test_a_json_lines_key_first_met_late_is_imported(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "late.jsonl"
    lines = [json.dumps({"code": f"K{i}", "name": f"N{i}"}) for i in range(300)]
    lines.append(json.dumps({"code": "K300", "name": "Late", "email": "late@x.com", "vip": "金"}))
    path.write_text("\n".join(lines) + "\n", "utf-8")
    importing.import_file(ctx, "customers", path)
    late = customers.get_customer(ctx, "K300")
    assert (late.email, late.custom_fields) == ("late@x.com", {"vip": "金"})


def test_a_broken_json_line_keeps_its_text_in_the_rejects_file(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "j.jsonl"
    path.write_text('{"code":"J1","name":"Ann"}\n{"code":"J2","name":"Bob"\n', "utf-8")
    rejects = tmp_path / "r.csv"
    importing.import_file(ctx, "customers", path, rejects_path=rejects)
    row = next(csv.DictReader(rejects.read_text("utf-8-sig").splitlines()))
    assert row["error_line"] == "2"
    assert row["error_reason"] == 'not a JSON object: {"code":"J2","name":"Bob"'


def test_a_workbook_with_a_stale_size_is_read_to_its_end(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A workbook written by another tool may record a smaller size than it holds;
    openpyxl's read-only mode trusted it and the import saw one row of six."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["code", "name", "phone", "email"])
    for i in range(5):
        ws.append([f"X{i}", f"N{i}", f"1381234567{i}", f"x{i}@example.com"])
    good = tmp_path / "good.xlsx"
    wb.save(good)
    stale = tmp_path / "stale.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(stale, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert b'<dimension ref="A1:D6" />' in data
                data = data.replace(b'<dimension ref="A1:D6" />', b'<dimension ref="A1:B2" />')
            dst.writestr(item, data)
    result = importing.import_file(ctx, "customers", stale)
    assert (result.rows, result.inserted) == (5, 5)
    assert customers.get_customer(ctx, "X4").email == "x4@example.com"


def test_a_workbook_formula_amount_reads_as_excel_shows_it(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """19.9 × 3 is stored as 59.699999999999996: Excel shows (and keeps) 15 digits."""
    import openpyxl

    customers.add_customer(ctx, {"code": "C1", "name": "Ann"})
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["order_no", "customer_code", "order_date", "amount"])
    ws.append(["O1", "C1", "2026-01-01", 19.9 * 3])
    ws.append(["O2", "C1", "2026-01-02", 0.1 + 0.2])
    path = tmp_path / "o.xlsx"
    wb.save(path)
    result = importing.import_file(ctx, "orders", path)
    assert result.rejected == []
    with ctx.session() as s:
        amounts = s.execute(sa.select(Order.amount).order_by(Order.order_no)).scalars().all()
    assert amounts == [Decimal("59.70"), Decimal("0.30")]


def test_workbook_numbers_of_more_than_15_digits_read_as_excel_keeps_them(
    ctx, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Excel keeps an 18-digit ID or order number to 15 significant digits
    (110101199001011000); the float holding that came out as 110101199001011008, digits
    no one had typed and Excel never shows, unlike the same sheet saved as CSV."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["code", "name", "id_number"])
    ws.append([1.10101199001011e17, "Ann", 4.40301198502020e17])
    ws.append(["C2", "Bo", 13812345678.0])
    path = tmp_path / "c.xlsx"
    wb.save(path)
    result = importing.import_file(ctx, "customers", path)
    assert (result.inserted, result.rejected_count) == (2, 0)
    assert _codes(ctx) == ["110101199001011000", "C2"]
    assert customers.get_customer(ctx, "110101199001011000").custom_fields == {
        "id_number": "440301198502020000"
    }
    assert customers.get_customer(ctx, "C2").custom_fields == {"id_number": "13812345678"}


def test_workbook_codes_shown_with_leading_zeros_keep_them(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A code column of numbers formatted ``00000`` shows 00123 in Excel; it was read as
    123, and the orders file naming customer 00123 then had every line refused."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["客户编号", "姓名", "邮编", "数量"])
    ws.append([123, "甲", 518000, 5])
    ws.append([45.0, "乙", 1000, 7])
    for row in (2, 3):
        ws.cell(row, 1).number_format = "00000"
        ws.cell(row, 3).number_format = "000000"
    path = tmp_path / "c.xlsx"
    wb.save(path)
    result = importing.import_file(ctx, "customers", path)
    assert (result.inserted, result.rejected_count) == (2, 0)
    assert _codes(ctx) == ["00045", "00123"]
    assert customers.get_customer(ctx, "00045").custom_fields == {"邮编": "001000", "数量": "7"}
    orders = tmp_path / "o.csv"
    orders.write_text("订单编号,客户编号,下单日期,金额\nO1,00123,2024-01-02,10\n", "utf-8")
    assert importing.import_file(ctx, "orders", orders).inserted == 1


UNSAVED = (
    "sheet 订单: 4 formula cells have no saved result (F2, F3, F4…) and are read as blank or "
    "0; open the workbook in Excel, WPS or LibreOffice and save it so that the results are "
    "stored, then import it"
)


def _formula_orders(path: Path) -> Path:
    """Orders O1–O4 whose 金额 is a formula (单价 × 数量) with no saved result, as openpyxl
    writes one (``<f>D2*E2</f><v />``, the workbook marked to be calculated on opening),
    and O5 with an amount typed in."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "订单"
    ws.append(["订单编号", "客户编号", "下单日期", "单价", "数量", "金额"])
    for i in range(1, 5):
        ws.append([f"O{i}", "C1", "2024-05-01", 19.9, i, f"=D{i + 1}*E{i + 1}"])
    ws.append(["O5", "C1", "2024-05-02", 10, 1, 10])
    wb.save(path)
    return path


def _results_stored(path: Path, result: Callable[[int], str], *, calculate: bool) -> Path:
    """``path`` with each formula's result stored as ``result(quantity)`` (Excel saves the
    one it calculated, XlsxWriter 0), and the request to calculate on opening kept or, as
    Excel and LibreOffice save a workbook, dropped."""

    def stored(m: re.Match[bytes]) -> bytes:  # row N holds quantity N - 1
        return m[0].replace(b"<v />", b"<v>%s</v>" % result(int(m[1]) - 1).encode())

    out = path.with_name("stored-" + path.name)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data, n = re.subn(rb"<f>D(\d+)\*E\1</f><v />", stored, data)
                assert n == 4
            if item.filename == "xl/workbook.xml" and not calculate:
                assert b' fullCalcOnLoad="1"' in data
                data = data.replace(b' fullCalcOnLoad="1"', b"")
            dst.writestr(item, data)
    return out


def _amounts(ctx) -> dict[str, Decimal]:  # type: ignore[no-untyped-def]
    with ctx.session() as s:
        return {no: amount for no, amount in s.execute(sa.select(Order.order_no, Order.amount))}


def test_workbook_formulas_with_no_saved_result_are_named(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """openpyxl reads a formula with no saved result as a blank cell: a column of amounts
    written by a library imported as missing amounts without a word about why."""
    customers.add_customer(ctx, {"code": "C1", "name": "Ann"})
    path = _formula_orders(tmp_path / "orders.xlsx")
    preview = importing.preview_file(path, "orders")
    assert preview.warnings == [
        "sheet 订单: formulas with no saved result (F2, F3, F4…) are read as blank or 0; open "
        "the workbook in Excel, WPS or LibreOffice and save it so that the results are "
        "stored, then import it"
    ]
    result = importing.import_file(ctx, "orders", path)
    assert result.warnings == [UNSAVED]
    assert _rejected(result) == [(line, f"O{line - 1}", "missing_required", "amount")
                                 for line in range(2, 6)]  # fmt: skip
    assert _amounts(ctx) == {"O5": Decimal("10.00")}


def test_one_workbook_formula_with_no_saved_result_among_values(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["code", "name", "city", "积分"])
    ws.append(["C1", "Ann", "深圳", "=LEN(B2)*10"])
    ws.append(["C2", "Bo", "杭州", 20])
    path = tmp_path / "c.xlsx"
    wb.save(path)
    result = importing.import_file(ctx, "customers", path)
    assert result.warnings == [
        "sheet Sheet: 1 formula cell has no saved result (D2) and is read as blank or 0; open "
        "the workbook in Excel, WPS or LibreOffice and save it so that the results are "
        "stored, then import it"
    ]
    assert (result.inserted, result.rejected_count) == (2, 0)
    ann, bo = customers.get_customer(ctx, "C1"), customers.get_customer(ctx, "C2")
    assert (ann.name, ann.city, ann.custom_fields) == ("Ann", "深圳", {})
    assert bo.custom_fields == {"积分": "20"}


def test_workbook_formulas_saved_by_a_spreadsheet_import_without_a_warning(
    ctx, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    customers.add_customer(ctx, {"code": "C1", "name": "Ann"})
    path = _results_stored(
        _formula_orders(tmp_path / "orders.xlsx"), lambda q: repr(19.9 * q), calculate=False
    )
    assert importing.preview_file(path, "orders").warnings == []
    result = importing.import_file(ctx, "orders", path)
    assert (result.warnings, result.inserted, result.rejected_count) == ([], 5, 0)
    assert _amounts(ctx) == {
        "O1": Decimal("19.90"), "O2": Decimal("39.80"), "O3": Decimal("59.70"),
        "O4": Decimal("79.60"), "O5": Decimal("10.00"),
    }  # fmt: skip


def test_workbook_formula_results_no_spreadsheet_calculated_are_named(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """XlsxWriter stores 0 as every formula's result and marks the workbook to be
    calculated on opening: the amounts read as 0, which no warning explained."""
    customers.add_customer(ctx, {"code": "C1", "name": "Ann"})
    path = _results_stored(_formula_orders(tmp_path / "zeros.xlsx"), lambda q: "0", calculate=True)
    assert [row["金额"] for _line, row in importing.preview_file(path, "orders").rows][:4] == [
        "0", "0", "0", "0",
    ]  # fmt: skip
    result = importing.import_file(ctx, "orders", path, dry_run=True)
    assert result.warnings == [UNSAVED]


def test_workbook_formulas_with_no_saved_result_on_the_command_line(
    ctx, tmp_path: Path, db_url: str
) -> None:  # type: ignore[no-untyped-def]
    customers.add_customer(ctx, {"code": "C1", "name": "Ann"})
    path = str(_formula_orders(tmp_path / "orders.xlsx"))
    res = invoke(db_url, "import", "orders", path, "--format", "json")
    out = json.loads(res.stdout)
    assert (out["warnings"], out["inserted"], out["rejected_count"]) == ([UNSAVED], 1, 4)
    res = invoke(db_url, "import", "orders", path, "--dry-run")
    assert res.exit_code == 0 and UNSAVED in " ".join(res.output.split())
    res = invoke(db_url, "import", "orders", path, "--show-mapping", "--format", "json")
    (said,) = json.loads(res.stdout)["warnings"]
    assert said.startswith("sheet 订单: formulas with no saved result (F2, F3, F4…)")


def test_rejects_naming_the_file_being_imported_is_refused(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "in.csv"
    path.write_text("code,name\nA1,Ann\n", "utf-8")
    before = path.read_bytes()
    with pytest.raises(InvalidInput, match="is the file being imported"):
        importing.import_file(ctx, "customers", path, rejects_path=tmp_path / "." / "in.csv")
    assert path.read_bytes() == before and _codes(ctx) == []


def test_a_rejects_file_of_a_rejects_file_keeps_one_set_of_error_columns(
    ctx, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    first = tmp_path / "in.csv"
    first.write_text("code,name,phone\nA1,Ann,12345\n", "utf-8")
    importing.import_file(ctx, "customers", first, rejects_path=tmp_path / "rej1.csv")
    rej1 = (tmp_path / "rej1.csv").read_text("utf-8-sig")
    (tmp_path / "fix1.csv").write_text(rej1.replace("12345", "99999"), "utf-8")  # still wrong
    importing.import_file(
        ctx, "customers", tmp_path / "fix1.csv", rejects_path=tmp_path / "rej2.csv"
    )
    rej2 = (tmp_path / "rej2.csv").read_text("utf-8-sig")
    header = rej2.splitlines()[0]
    assert header == "code,name,phone,error_line,error_code,error_field,error_reason"
    (tmp_path / "fix2.csv").write_text(rej2.replace("99999", "13812345678"), "utf-8")
    result = importing.import_file(ctx, "customers", tmp_path / "fix2.csv")
    assert result.inserted == 1
    assert customers.get_customer(ctx, "A1").custom_fields == {}


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_an_exported_file_imports_back_unchanged_even_with_formula_like_text(
    ctx, tmp_path: Path, suffix: str
) -> None:  # type: ignore[no-untyped-def]
    """The export's ``'`` keeps a spreadsheet from running ``=深圳``; the import reads it as
    the marker it is, not as part of the text."""
    source = tmp_path / "in.csv"
    source.write_text("code,name,notes,address\nT1,@小明,-已退款,=深圳\n", "utf-8")
    importing.import_file(ctx, "customers", source)
    # Typed text keeps its apostrophes, one before a formula sign included.
    customers.add_customer(ctx, {"code": "T2", "name": "'Kim", "notes": "'-' means no data"})
    marks = {"name": "''=x", "notes": "'" * 3 + "+1", "city": "'"}
    customers.add_customer(ctx, {"code": "T3", **marks})
    assert customers.get_customer(ctx, "T2").notes == "'-' means no data"
    out = tmp_path / f"out{suffix}"
    exporting.export_file(ctx, "customers", out)
    again = importing.import_file(ctx, "customers", out)
    assert (again.updated, again.unchanged) == (0, 3)
    c = customers.get_customer(ctx, "T1")
    assert (c.name, c.notes, c.address) == ("@小明", "-已退款", "=深圳")
    t2 = customers.get_customer(ctx, "T2")
    assert (t2.name, t2.notes) == ("'Kim", "'-' means no data")
    t3 = customers.get_customer(ctx, "T3")
    assert {"name": t3.name, "notes": t3.notes, "city": t3.city} == marks


def test_an_over_long_product_name_is_refused_not_cut(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Cut to 200 characters it was never found again: every import made a new product,
    then the cut name's SKU clashed and imports failed."""
    customers.add_customer(ctx, {"code": "C1", "name": "Ann"})
    path = tmp_path / "o.csv"
    path.write_text(
        "order_no,customer_code,order_date,amount,product\n"
        f"O1,C1,2026-01-01,10,{'长' * 260}\nO2,C1,2026-01-02,20,短名\n",
        "utf-8",
    )
    for _ in range(2):
        result = importing.import_file(ctx, "orders", path)
        assert _rejected(result) == [(2, "O1", "invalid_value", "product")]
    with ctx.session() as s:
        assert s.execute(sa.select(Product.name)).scalars().all() == ["短名"]


@pytest.mark.parametrize(
    ("column", "cell"),
    [
        ("birthday", "1985"),  # a year is not an Excel serial (it read as 1905-06-07)
        ("birthday", "2023-05-01 至 2023-05-31"),  # a range is not a date
        ("birthday", "2023/13/01"),
    ],
)
def test_near_miss_dates_are_refused_not_misread(ctx, tmp_path: Path, column, cell) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "c.csv"
    path.write_text(f"code,name,{column}\nY1,Ann,{cell}\n", "utf-8")
    result = importing.import_file(ctx, "customers", path)
    assert _rejected(result) == [(2, "Y1", "invalid_value", column)]


def _for_ann(ctx, tmp_path: Path, kind: str, text: str):  # type: ignore[no-untyped-def]
    """Import ``text`` as ``kind`` (orders, interactions) for customer C1, Ann."""
    customers.add_customer(ctx, {"code": "C1", "name": "Ann"})
    path = tmp_path / f"{kind}.csv"
    path.write_text(text, "utf-8")
    return importing.import_file(ctx, kind, path)


def test_a_decimal_comma_quantity_is_refused_and_thousands_are_read(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = _for_ann(
        ctx, tmp_path, "orders",
        "order_no,customer_code,order_date,amount,quantity\n"
        'O1,C1,2026-01-01,10,"1,5"\nO2,C1,2026-01-01,10,"1,500"\nO3,C1,2026-01-01,10,45000\n',
    )  # fmt: skip
    assert _rejected(result) == [(2, "O1", "invalid_value", "quantity")]
    with ctx.session() as s:
        got = s.execute(sa.select(Order.order_no, Order.quantity).order_by(Order.order_no)).all()
    assert [tuple(r) for r in got] == [("O2", 1500), ("O3", 45000)]


def test_undoing_an_order_import_classifies_its_customers_again(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Undone, the orders' customer is classed and valued as one who never had them (the
    behaviour classes and RFM segment the orders gave stayed)."""
    from tricrm_tui.services import import_hooks

    customers.add_customer(ctx, {"code": "C1", "name": "Ann"})
    customers.add_customer(ctx, {"code": "C2", "name": "Bea"})  # never orders
    path = tmp_path / "o.csv"
    path.write_text(
        "order_no,customer_code,order_date,amount,category,channel\n"
        + "".join(f"O{i},C1,2026-0{i}-01,500,茶叶,门店\n" for i in range(1, 7)),
        "utf-8",
    )
    import_hooks.register()
    result = importing.import_file(ctx, "orders", path)
    with_orders = customers.get_customer(ctx, "C1")
    assert with_orders.favourite_category == "茶叶" and with_orders.rfm_segment
    importing.undo_import(ctx, result.import_id)

    def classes(code: str) -> tuple:  # type: ignore[type-arg]
        c = customers.get_customer(ctx, code)
        return (c.order_count, c.frequency_band, c.favourite_category, c.preferred_channel,
                c.aov_band, c.rfm_segment)  # fmt: skip

    assert classes("C1") == classes("C2")
    assert classes("C1") != (6, with_orders.frequency_band, "茶叶", "门店",
                             with_orders.aov_band, with_orders.rfm_segment)  # fmt: skip


def test_mapping_files_say_what_is_wrong_with_them(tmp_path: Path) -> None:
    gbk = tmp_path / "gbk.toml"
    gbk.write_bytes('"会员卡" = "notes"\n'.encode("gbk"))
    with pytest.raises(InvalidInput, match="is not UTF-8; save it as UTF-8"):
        read_mapping_file(gbk)
    bom = tmp_path / "bom.toml"
    bom.write_bytes('\ufeff"会员卡" = "notes"\n'.encode())
    assert read_mapping_file(bom) == {"会员卡": "notes"}


def test_files_tricrm_cannot_read_are_named_with_what_to_do(
    ctx, tmp_path: Path, db_url: str
) -> None:  # type: ignore[no-untyped-def]
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)
    array = tmp_path / "a.json"
    array.write_text('[{"code": "A1", "name": "Ann"}]', "utf-8")
    ok = tmp_path / "ok.csv"
    ok.write_text("code,name,phone\nA1,Ann,13812345678\n", "utf-8")
    for args, said in (
        ([str(xls)], "old.xls cannot be read as an old Excel workbook (.xls)"),
        ([str(array)], "one JSON array; tricrm reads JSON Lines"),
        ([str(ok), "--region", "XX"], "unknown region: XX"),
    ):
        res = invoke(db_url, "import", "customers", *args)
        # The runner hands back what ``main`` turns into a message and exit code 4.
        assert isinstance(res.exception, InvalidInput) and said in str(res.exception), res.output
    assert _codes(ctx) == []


@pytest.mark.parametrize("batch_size", [1, 5000])
def test_a_repeated_key_counts_the_same_wherever_the_batches_split(
    ctx, tmp_path: Path, batch_size
) -> None:  # type: ignore[no-untyped-def]
    """A later line with blanks where the first had values is a repeat (blank cells never
    erase); one with other values is refused. It was refused inside a batch and counted a
    repeat across two."""
    path = tmp_path / "d.csv"
    path.write_text(
        "code,name,phone\nD1,Ann,13812345678\nE1,Eve,\nD1,Ann,\nE1,Eve,13912345678\n", "utf-8"
    )
    result = importing.import_file(ctx, "customers", path, batch_size=batch_size)
    assert (result.inserted, result.duplicates) == (2, 1)
    assert _rejected(result) == [(5, "E1", "duplicate_key", "code")]
    dry = importing.import_file(ctx, "customers", path, batch_size=5000, dry_run=True)
    assert _rejected(dry) == _rejected(result)  # lines in one batch: the dry run agrees


def test_a_quote_left_open_at_the_end_is_refused_not_swallowing_lines(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "q.csv"
    path.write_text('code,name,notes\nU0,Zed,ok\nU1,Ann,"重要\nU2,Bob,ok\nU3,Cy,ok\n', "utf-8")
    result = importing.import_file(ctx, "customers", path)
    assert _rejected(result) == [(3, "U1", "invalid_value", None)]
    assert "never closed" in result.rejected[0].reason
    assert _codes(ctx) == ["U0"]
    closed = tmp_path / "ok.csv"  # a last cell over several lines, properly closed
    closed.write_text('code,name,notes\nU1,Ann,"重要\n客户甲"\n', "utf-8")
    importing.import_file(ctx, "customers", closed)
    assert customers.get_customer(ctx, "U1").notes == "重要 客户甲"


def test_doubled_quotes_read_as_one_even_when_the_first_lines_have_none(
    ctx, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "dq.csv"
    path.write_text(
        "code,name,notes\n" + "".join(f"P{i},N{i},ok\n" for i in range(50))
        + 'Q1,Ann,"He said ""hi"""\nQ2,Bob,"重要\n客户 ""甲"""\n',
        "utf-8",
    )  # fmt: skip
    importing.import_file(ctx, "customers", path)
    assert customers.get_customer(ctx, "Q1").notes == 'He said "hi"'
    assert customers.get_customer(ctx, "Q2").notes == '重要 客户 "甲"'


def test_a_nul_in_a_cell_is_dropped_on_both_backends(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL cannot store a NUL: the row was refused as a database error naming no
    field (SQLite stored it)."""
    path = tmp_path / "nul.csv"
    path.write_text("code,name,notes\nN1,Ann,a\x00b\n", "utf-8")
    result = importing.import_file(ctx, "customers", path)
    assert result.rejected == []
    assert customers.get_customer(ctx, "N1").notes == "ab"


def test_a_literal_quote_in_the_last_line_is_not_an_open_quote(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """An inch mark in an unquoted cell, the file ending in blank or empty-cell lines (as
    Excel writes): both lines import."""
    for tail in ("\n", ",,\n,,\n"):
        path = tmp_path / "q.csv"
        path.write_text(f'code,name,notes\nA001,Alice,ok\nA002,Bob,27" monitor\n{tail}', "utf-8")
        result = importing.import_file(ctx, "customers", path)
        assert result.rejected == [] and result.rows == 2


def test_tab_separated_text_named_xls_is_read_as_text(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Many systems "export to Excel" as tab-separated text under an .xls name; only a real
    old workbook (its signature) is refused."""
    path = tmp_path / "export.xls"
    path.write_text("客户编号\t客户名称\nX1\t张三\n", "utf-8")
    assert importing.import_file(ctx, "customers", path).inserted == 1


def test_a_workbook_value_under_no_header_is_refused_naming_the_column(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["code", "name", "city"])
    ws.append(["X1", "Alice", "深圳"])
    ws.append(["X2", "Bob", "广州", None, "已核对"])
    path = tmp_path / "w.xlsx"
    wb.save(path)
    result = importing.import_file(ctx, "customers", path)
    assert _rejected(result) == [(3, "X2", "invalid_value", None)]
    assert "column E holds a value but has no header" in result.rejected[0].reason


def test_a_mapping_may_name_alternatives_but_not_two_columns_of_one_file(
    ctx, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    mapping = tmp_path / "m.toml"
    mapping.write_text('"会员号码" = "code"\n"会员卡号" = "code"\n', "utf-8")
    one = tmp_path / "one.csv"
    one.write_text("会员卡号,姓名\nM1,张三\n", "utf-8")
    assert importing.import_file(ctx, "customers", one, mapping=mapping).inserted == 1
    both = tmp_path / "both.csv"
    both.write_text("会员号码,会员卡号,姓名\nM2,M3,李四\n", "utf-8")
    with pytest.raises(InvalidInput, match="maps both 会员号码 and 会员卡号 of this file to code"):
        importing.import_file(ctx, "customers", both, mapping=mapping)


@pytest.mark.parametrize(
    ("cell", "moment"),
    [
        ("2023-05-01 10:30:00+08", "2023-05-01T02:30:00+00:00"),  # PostgreSQL's own output
        ("2023-05-01T10:30:00+08:00", "2023-05-01T02:30:00+00:00"),
        ("2023/5/1 下午 02:30:00", "2023-05-01T14:30:00+08:00"),  # zh-TW .NET exports
        ("2023/5/1 上午 12:05:00", "2023-05-01T00:05:00+08:00"),
        ("2023-05-01 10:30:00 UTC", "2023-05-01T10:30:00+00:00"),
        ("2023-05-01 10:30:00,123", "2023-05-01T10:30:00+08:00"),
        ("2023-05-01 02:30 PM", "2023-05-01T14:30:00+08:00"),
        ("2023年5月1日 10:30", "2023-05-01T10:30:00+08:00"),
    ],
)
def test_exported_timestamps_read_as_their_moment(monkeypatch, cell: str, moment: str) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt
    import time

    from tricrm_tui.services.normalize import parse_date, parse_datetime

    monkeypatch.setenv("TZ", "Asia/Shanghai")  # naive times are local
    time.tzset()
    try:
        assert parse_datetime(cell) == dt.datetime.fromisoformat(moment)
        assert parse_date(cell) == dt.date(2023, 5, 1)
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize("cell", ["00000", "01000", "2023-05-01 10:30 以后"])
def test_not_quite_dates_are_refused(cell: str) -> None:
    from tricrm_tui.services.normalize import parse_date

    with pytest.raises(InvalidInput, match="not a date"):
        parse_date(cell)


def test_the_first_unreadable_line_is_found_in_big_endian_utf16(tmp_path: Path) -> None:
    from tricrm_tui.services.readers import _undecodable_line

    lines = [f"C{i},客户{i}" for i in range(1, 60_001)]
    text = "\n".join(lines) + "\n"
    data = bytearray(b"\xfe\xff" + text.encode("utf-16-be"))
    at = len(b"\xfe\xff" + "\n".join(lines[:50_000]).encode("utf-16-be")) + 2  # line 50001
    data[at : at + 2] = b"\xdc\x00"  # a lone low surrogate
    path = tmp_path / "be.csv"
    path.write_bytes(bytes(data))
    assert path.stat().st_size > 1 << 20  # past the first chunk
    assert _undecodable_line(path, "utf-16") == 50_001


def test_json_lines_text_keeps_its_apostrophes(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """JSON Lines carries no formula marks: its cells are taken as they are, so a JSON
    export imports back unchanged too."""
    customers.add_customer(ctx, {"code": "C1", "name": "'=x", "industry": "'-"})
    out = tmp_path / "f.jsonl"
    exporting.export_file(ctx, "customers", out)
    again = importing.import_file(ctx, "customers", out)
    assert (again.updated, again.unchanged) == (0, 1)
    c = customers.get_customer(ctx, "C1")
    assert (c.name, c.industry) == ("'=x", "'-")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_orders_with_formula_like_keys_round_trip(ctx, tmp_path: Path, suffix: str) -> None:  # type: ignore[no-untyped-def]
    customers.add_customer(ctx, {"code": "-A1", "name": "Ann"})
    source = tmp_path / "o.csv"
    source.write_text(
        "order_no,customer_code,order_date,amount,product\n-100,-A1,2026-01-01,10,=x\n"
    )
    assert importing.import_file(ctx, "orders", source).inserted == 1
    out = tmp_path / f"orders{suffix}"
    exporting.export_file(ctx, "orders", out)
    again = importing.import_file(ctx, "orders", out)
    assert (again.rejected, again.updated, again.unchanged) == ([], 0, 1)


def test_a_file_quoted_with_apostrophes_is_read_with_them(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "sq.csv"
    path.write_text(
        "code,name,city\n" + "".join(f"'C{i}','Zhang San','Shenzhen'\n" for i in range(5))
        + "'C900','李四','北京,上海'\n",
        "utf-8",
    )  # fmt: skip
    result = importing.import_file(ctx, "customers", path)
    assert (result.inserted, result.rejected) == (6, [])
    assert customers.get_customer(ctx, "C900").city == "北京,上海"


def test_an_open_quote_is_found_after_another_malformed_one(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "q.csv"
    path.write_text('code,name,notes\nC1,a,b\nC2,"Li" Na,"notes start\nC3,x,y\nC4,z,w\n', "utf-8")
    result = importing.import_file(ctx, "customers", path)
    assert _rejected(result) == [(3, "C2", "invalid_value", None)]


def test_hong_kong_big5_with_common_characters_cp950_misreads(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """〇 and ［］ sit where cp950 has kana: the reading without kana wins."""
    path = tmp_path / "hk.csv"
    path.write_bytes("code,name,address\nH1,陳,香港九龍彌敦道一〇二號［A座］\n".encode("big5hkscs"))
    result = importing.import_file(ctx, "customers", path)
    assert result.encoding == "big5hkscs"
    assert customers.get_customer(ctx, "H1").address == "香港九龍彌敦道一〇二號［A座］"


def test_a_bad_offset_rejects_its_line_not_the_import(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = _for_ann(
        ctx, tmp_path, "interactions",
        "external_key,customer_code,channel,occurred_at,subject\n"
        "I1,C1,phone,2023-05-01 10:30:00 +99,bad\nI2,C1,phone,2023-05-01 11:00,ok\n",
    )  # fmt: skip
    assert [(r.line, r.field) for r in result.rejected] == [(2, "occurred_at")]
    assert result.inserted == 1


def test_a_moment_given_as_an_excel_serial_keeps_its_time(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A time cell that lost its format holds the serial 45000.4166666667: its fraction is
    10:00, and the interaction was stored at midnight."""
    import datetime as dt

    import openpyxl

    from tricrm_tui.models import Interaction
    from tricrm_tui.services.normalize import parse_datetime

    customers.add_customer(ctx, {"code": "C1", "name": "Ann"})
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["external_key", "customer_code", "channel", "occurred_at"])
    ws.append(["I1", "C1", "phone", 45000 + 10 / 24])
    ws.append(["I2", "C1", "phone", 45000])
    path = tmp_path / "i.xlsx"
    wb.save(path)
    assert importing.import_file(ctx, "interactions", path).inserted == 2
    with ctx.session() as s:
        rows = s.execute(
            sa.select(Interaction.occurred_at).order_by(Interaction.external_key)
        ).scalars()
        got = [m if m.tzinfo else m.replace(tzinfo=dt.UTC) for m in rows]
    assert got == [parse_datetime("2023-03-15 10:00"), parse_datetime("2023-03-15")]


def test_the_unreadable_line_is_right_after_a_bom(tmp_path: Path) -> None:
    from tricrm_tui.services.readers import _undecodable_line

    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfcode,name\nC1,Li\n" + "张三,C2\n".encode("gbk"))
    assert _undecodable_line(path, "utf-8-sig") == 3


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"<div><span>code</span></div>", "neither a web page table nor an Excel XML"),
        (b"<?xml version='1.0'?><rows/>", "neither a web page table nor an Excel XML"),
    ],
)
def test_xls_files_that_are_not_old_workbooks_say_what_they_are(
    ctx, tmp_path: Path, data: bytes, said: str
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "export.xls"
    path.write_bytes(data)
    with pytest.raises(InvalidInput, match=said):
        importing.import_file(ctx, "customers", path)


def test_tab_separated_text_under_an_xls_name_may_start_with_a_bracket(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A header written <客户编号> starts with "<" but opens no tag: the file is the
    tab-separated text it is, not markup to refuse."""
    path = tmp_path / "export.xls"
    path.write_text("<客户编号>\t<客户名称>\nC1\t张三\nC2\t李四\n", encoding="gbk")
    mapping = {"<客户编号>": "code", "<客户名称>": "name"}
    result = importing.import_file(ctx, "customers", path, mapping=mapping)
    assert (result.inserted, result.rejected_count) == (2, 0)


def test_text_with_apostrophes_bars_and_signs_round_trips_through_csv(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Each customer exported alone (a small file, sniffed whole) imports back unchanged:
    values like ``='`` (exported ``'='``) and ``||b中|`` once led the sniffer to ``'``
    quotes or a ``|`` delimiter. The cases a fuzzing review found, then seeded random ones."""
    import random

    values = [("||b中|", "='"), ("'-|-中", '中 c a"'), ("|-aaca", "'==a"), ("''-b", "a|'b'")]
    rng = random.Random(5)
    alphabet = "ab|'=,-\"c 中"
    for _ in range(40):
        name = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6))).strip(" ,") or "n"
        notes = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6))).strip() or "x"
        values.append((name, notes))
    for i, (name, notes) in enumerate(values):
        customers.add_customer(ctx, {"code": f"R{i:02d}", "name": name, "notes": notes})
    for i, (name, notes) in enumerate(values):
        out = tmp_path / f"r{i}.csv"
        exporting.export_file(ctx, "customers", out, where=f"code:R{i:02d}")
        again = importing.import_file(ctx, "customers", out)
        assert (again.rejected, again.updated, again.unchanged) == ([], 0, 1), (name, notes)
        back = customers.get_customer(ctx, f"R{i:02d}")
        assert (back.name, back.notes) == (name, notes)


def test_a_mapping_entry_naming_a_column_the_file_lacks_is_reported(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A misspelt column in --map used to vanish without a word and keep its field from the
    file's own synonym column, so the file then lacked its code."""
    mapping = tmp_path / "m.toml"
    mapping.write_text('"客户编码" = "code"\n"会员等级" = "custom:等级"\n', "utf-8")
    path = tmp_path / "c.csv"
    path.write_text("客户编号,姓名\nM1,张三\n", "utf-8")
    result = importing.import_file(ctx, "customers", path, mapping=mapping)
    assert result.inserted == 1  # 客户编号 still maps to code
    assert result.warnings == [
        "the mapping names column(s) this file does not have: 客户编码 → code, 会员等级 → custom:等级"
    ]
    assert result.to_json()["warnings"] == result.warnings
    preview = importing.preview_file(path, "customers", mapping=mapping)
    assert preview.mapping.absent == (("客户编码", "code"), ("会员等级", "custom:等级"))
    # Where no column can take the field, the refusal names the entry the file lacks.
    mapping.write_text('"会员号" = "code"\n', "utf-8")
    bare = tmp_path / "bare.csv"
    bare.write_text("编号X,姓名\nM1,张三\n", "utf-8")
    with pytest.raises(InvalidInput, match="does not have: 会员号 → code"):
        importing.import_file(ctx, "customers", bare, mapping=mapping)
    # Alternatives, one present: nothing to say.
    mapping.write_text('"会员号" = "code"\n"客户编号" = "code"\n', "utf-8")
    assert importing.import_file(ctx, "customers", path, mapping=mapping).warnings == []


def test_undo_works_in_chunks_of_customers(ctx, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The undo looks its rows up a chunk at a time (PostgreSQL takes at most 65,535
    parameters); with chunks of two, nine updated and four inserted customers span several
    chunks of every lookup, and all come back, classified as before."""
    from tricrm_tui.db import bulk
    from tricrm_tui.services import import_hooks

    monkeypatch.setattr(importing, "chunks", lambda values, size=2: bulk.chunks(values, 2))
    import_hooks.register()
    head = "code,name,province,notes\n"
    first = tmp_path / "a.csv"
    first.write_text(head + "".join(f"K{i},客户{i},广东,旧{i}\n" for i in range(9)), "utf-8")
    importing.import_file(ctx, "customers", first)
    second = tmp_path / "b.csv"
    second.write_text(head + "".join(f"K{i},客户{i},辽宁,新{i}\n" for i in range(13)), "utf-8")
    result = importing.import_file(ctx, "customers", second)
    assert (result.inserted, result.updated) == (4, 9)
    assert {customers.get_customer(ctx, f"K{i}").region for i in range(9)} == {"东北"}
    undone = importing.undo_import(ctx, result.import_id)
    assert (undone.removed, undone.restored) == (4, 9)
    rows = [customers.get_customer(ctx, f"K{i}") for i in range(9)]
    assert [(c.province, c.region, c.notes) for c in rows] == [
        ("广东", "华南", f"旧{i}") for i in range(9)
    ]
    assert customers.list_customers(ctx, search="新").total == 0
    assert customers.list_customers(ctx).total == 9


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_an_empty_file_imports_as_no_rows(ctx, tmp_path: Path, suffix: str) -> None:  # type: ignore[no-untyped-def]
    """A JSON Lines export of no rows is an empty file: importing it said "no column for
    required field(s): code"."""
    from tricrm_tui.services import exporting

    path = tmp_path / f"none{suffix}"
    exporting.export_file(ctx, "customers", path, where="code:NOPE")
    result = importing.import_file(ctx, "customers", path)
    assert (result.rows, result.inserted, result.rejected_count) == (0, 0, 0)
    blank = tmp_path / f"blank{suffix}"
    blank.write_text("\n\n", "utf-8")
    assert importing.import_file(ctx, "orders", blank).rows == 0


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".jsonl"])
def test_custom_fields_of_any_json_type_import_back_unchanged(
    ctx, tmp_path: Path, suffix: str
) -> None:  # type: ignore[no-untyped-def]
    """They came back as Python's text of them ('5', 'True', "{'a': 1}"), spaces folded."""
    from tricrm_tui.services import exporting

    fields = {"n": 5, "vip": True, "lst": [1, 2], "d": {"a": 1}, "memo": "a  b", "x": 1.5}
    customers.add_customer(ctx, {"code": "T1", "name": "Tee", "custom_fields": fields})
    path = tmp_path / f"c{suffix}"
    exporting.export_file(ctx, "customers", path)
    result = importing.import_file(ctx, "customers", path)
    assert (result.unchanged, result.updated) == (1, 0)
    assert customers.get_customer(ctx, "T1").custom_fields == fields
