"""The "Excel" files legacy systems write: old binary workbooks, web pages and XML
spreadsheets, under .xls (or .xml) names, read as the sheets they show.

The old workbook is a committed file (``tests/data/legacy/customers.xls``; its README and
``make_customers_xls.py`` say how it was made); the web pages and XML spreadsheets are
written by each test in the encoding it names. Both backends."""

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


def test_an_error_cell_of_todays_workbook_is_blank_too(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The same sheet saved as .xlsx holds the #N/A as an error cell, which the XLSX reader
    gave as the text #N/A: stored as a customer's data, or refusing a phone, where the .xls
    imported it blank. Also under no header, and in a workbook without zero-padding formats
    (read a row of values at a time)."""
    import openpyxl

    xlsx = tmp_path / "same.xlsx"
    _same_sheet_as_xlsx(xlsx)
    wb = openpyxl.load_workbook(xlsx)
    wb.active["G4"] = "#N/A"
    wb.save(xlsx)
    assert list(open_source(xlsx).rows()) == list(open_source(XLS).rows())

    plain = tmp_path / "plain.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["code", "name", "phone", "notes"])
    wb.active.append(["C1", "Li", "#N/A", "#DIV/0!", "#REF!"])
    wb.save(plain)
    assert list(open_source(plain).rows()) == [
        (2, {"code": "C1", "name": "Li", "phone": None, "notes": None})
    ]
    result = importing.import_file(ctx, "customers", plain)
    assert (result.inserted, result.rejected) == (1, [])
    assert customers.get_customer(ctx, "C1").phone is None


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


def test_todays_workbook_under_an_xls_name_reads_again_for_a_dry_run(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A dry run reads the file twice (its first pass finds keys whose lines differ): the
    second reading opens the workbook again, under the same .xls name."""
    path = tmp_path / "new.xls"
    _same_sheet_as_xlsx(path)
    source = open_source(path)
    assert list(source.rows()) == list(source.rows())
    result = importing.import_file(ctx, "customers", path, dry_run=True)
    assert (result.encoding, result.inserted) == ("xlsx", 2)


# -- web pages ----------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html><head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>客户导出</title>
<style>td {{ mso-number-format:"\\@"; }} .n {{ mso-number-format:"0\\.00"; }}</style>
<script>document.write("<table><tr><td>不是数据</td></tr></table>");</script>
</head><body>
<table><tr><td>   </td></tr></table>
<table border="1">
<thead><tr><th>客户编号</th><th>客户
  名称</th><th>手机号码</th><th colspan="2">地址</th><th>备注</th></tr></thead>
<tbody>
<tr><td style="mso-number-format:'\\@'">00123</td><td>张三 &amp; 李四</td>
    <td>138&nbsp;1234&nbsp;5678</td><td>北京市</td><td>朝阳区</td><td>老客户<br>VIP&#20013;</td></tr>
<tr><td>&nbsp;</td><td></td><td></td><td></td><td></td><td></td></tr>
<tr><td>C2<td>=HYPERLINK("x")<td>12345<td colspan=2>上海市<td>坏号码
<tr><td>C3</td><td>王五</td><td>13912345678</td><td></td><td></td><td></td><td>多余</td></tr>
</tbody></table>
<table><tr><td>第二张表</td></tr></table>
</body></html>
"""


def _page(tmp_path: Path, charset: str, codec: str, name: str = "export.xls") -> Path:
    path = tmp_path / name
    path.write_bytes(PAGE.format(charset=charset).encode(codec))
    return path


def test_a_web_page_reads_its_first_table_with_a_value(tmp_path: Path) -> None:
    """A spacer table of blank cells before it and a table after it are passed over, as
    are the script's and the style's text; cells are their text as a browser shows it,
    a colspan is followed by a blank, and line numbers count the table's rows."""
    source = open_source(_page(tmp_path, "gb2312", "gbk"))
    assert source.info.format == "html" and source.info.encoding == "gb18030"
    assert source.headers == ["客户编号", "客户 名称", "手机号码", "地址", "column_5", "备注"]
    rows = list(source.rows())
    assert [line for line, _row in rows] == [2, 4, 5]
    first = rows[0][1]
    assert first == {
        "客户编号": "00123", "客户 名称": "张三 & 李四", "手机号码": "138 1234 5678",
        "地址": "北京市", "column_5": "朝阳区", "备注": "老客户\nVIP中",
    }  # fmt: skip
    assert rows[1][1]["地址"] == "上海市" and rows[1][1]["column_5"] == ""
    assert "column G holds a value but has no header" in rows[2][1]["__reason__"]


def test_a_page_of_only_blank_tables_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.xls"
    path.write_text("<html><body><p>没有数据</p><table></table></body></html>", "utf-8")
    with pytest.raises(InvalidInput, match="empty.xls is a web page with no table holding a"):
        open_source(path)


def test_rowspan_keeps_the_columns_below_in_place(tmp_path: Path) -> None:
    path = tmp_path / "span.xls"
    path.write_text(
        "<table><tr><th>客户编号</th><th>客户名称</th><th>城市</th></tr>"
        "<tr><td rowspan=2>门店A</td><td>张三</td><td>深圳</td></tr>"
        "<tr><td>李四</td><td>广州</td></tr></table>",
        "utf-8",
    )
    assert [row for _line, row in open_source(path).rows()] == [
        {"客户编号": "门店A", "客户名称": "张三", "城市": "深圳"},
        {"客户编号": "", "客户名称": "李四", "城市": "广州"},
    ]


@pytest.mark.parametrize(
    ("charset", "codec", "read_as"),
    [
        ("gb2312", "gbk", "html (gb18030)"),  # GBK pages say GB2312 as often as GBK
        ("utf-8", "utf-8", "html (utf-8)"),
        ("gbk", "utf-8", "html (utf-8)"),  # a template's meta over UTF-8 data
    ],
)
def test_a_web_page_imports_in_its_encoding(ctx, tmp_path: Path, charset, codec, read_as) -> None:  # type: ignore[no-untyped-def]
    rejects = tmp_path / "rejects.csv"
    path = _page(tmp_path, charset, codec)
    result = importing.import_file(ctx, "customers", path, rejects_path=rejects)
    assert result.encoding == read_as
    assert result.inserted == 1
    assert _rejected(result) == [
        (4, "C2", "invalid_value", "phone"),
        (5, "C3", "invalid_value", None),
    ]
    ann = customers.get_customer(ctx, "00123")
    assert (ann.name, ann.phone, ann.address) == ("张三 & 李四", "+8613812345678", "北京市")
    assert ann.notes == "老客户 VIP中"
    text = rejects.read_text("utf-8-sig")  # as an XLSX file's rejects, whatever the page's
    # A cell that would run as a formula in the rejects file is marked, as a workbook's is.
    assert 'C2,"\'=HYPERLINK(""x"")",12345,上海市,,坏号码,4,invalid_value,phone,' in text


def test_a_web_page_without_a_charset_is_detected_as_csv_is(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "nometa.xls"
    path.write_bytes(
        "<table><tr><td>客户编号</td><td>姓名</td></tr><tr><td>A1</td><td>张三</td></tr></table>".encode(
            "gbk"
        )
    )
    result = importing.import_file(ctx, "customers", path)
    assert (result.encoding, result.inserted) == ("html (gb18030)", 1)
    assert customers.get_customer(ctx, "A1").name == "张三"
    forced = importing.import_file(ctx, "customers", path, encoding="gbk", dry_run=True)
    assert forced.encoding == "html (gbk)"


def test_a_web_page_through_the_cli(db_url: str, tmp_path: Path) -> None:
    path = _page(tmp_path, "gbk", "gbk", "导出.html")
    res = invoke(db_url, "import", "customers", str(path), "--show-mapping", "-f", "json")
    mapping = json.loads(res.stdout)
    assert (mapping["format"], mapping["encoding"], mapping["read_as"]) == (
        "html", "gb18030", "html (gb18030)",
    )  # fmt: skip
    res = invoke(db_url, "import", "customers", str(path), "-f", "json")
    data = json.loads(res.stdout)
    assert (data["encoding"], data["inserted"]) == ("html (gb18030)", 1)
    assert [r["line"] for r in data["rejected"]] == [4, 5]
    res = invoke(db_url, "import", "customers", str(path), "--sheet", "2")
    assert isinstance(res.exception, InvalidInput)
    assert "tricrm reads its first table" in str(res.exception)


def test_a_big_web_page_reads_a_row_at_a_time(tmp_path: Path) -> None:
    """The parse is fed a chunk at a time: a row cut by a chunk's end is whole, and the
    progress total counts the page's rows."""
    path = tmp_path / "big.xls"
    rows = "".join(f"<tr><td>C{i:05d}</td><td>客户{i}</td></tr>\n" for i in range(5000))
    path.write_text(
        f"<meta charset=utf-8><table><tr><th>code</th><th>name</th></tr>{rows}</table>", "utf-8"
    )
    source = open_source(path)
    got = list(source.rows())
    assert len(got) == 5000 and got[-1] == (5001, {"code": "C04999", "name": "客户4999"})
    assert source.last_line() == 5001


# -- XML Spreadsheet 2003 -----------------------------------------------------------------

SPREADSHEET = """<?xml version="1.0" encoding="{charset}"?>
<?mso-application progid="Excel.Sheet"?>
<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"
 xmlns:o="urn:schemas-microsoft-com:office:office"
 xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"
 xmlns:html="http://www.w3.org/TR/REC-html40">
 <Styles>
  <Style ss:ID="Default" ss:Name="Normal"><Alignment ss:Vertical="Bottom"/></Style>
  <Style ss:ID="code"><NumberFormat ss:Format="00000"/></Style>
  <Style ss:ID="day"><NumberFormat ss:Format="Short Date"/></Style>
 </Styles>
 <Worksheet ss:Name="客户">
  <Table ss:ExpandedColumnCount="7" ss:ExpandedRowCount="7" x:FullRows="1"
   xmlns:x="urn:schemas-microsoft-com:office:excel">
   <Column ss:Width="60"/>
   <Row ss:Index="2">
    <Cell><Data ss:Type="String">客户编号</Data></Cell>
    <Cell><Data ss:Type="String">客户名称</Data></Cell>
    <Cell><Data ss:Type="String">手机号码</Data></Cell>
    <Cell><Data ss:Type="String">注册日期</Data></Cell>
    <Cell><Data ss:Type="String">积分</Data></Cell>
    <Cell><Data ss:Type="String">会员</Data></Cell>
   </Row>
   <Row>
    <Cell ss:StyleID="code"><Data ss:Type="Number">123</Data></Cell>
    <Cell><ss:Data ss:Type="String" xmlns="http://www.w3.org/TR/REC-html40"><B>张</B>三</ss:Data></Cell>
    <Cell><Data ss:Type="Number">13812345678</Data></Cell>
    <Cell ss:StyleID="day"><Data ss:Type="DateTime">2023-05-01T00:00:00.000</Data></Cell>
    <Cell><Data ss:Type="Number">1500</Data></Cell>
    <Cell><Data ss:Type="Boolean">1</Data></Cell>
   </Row>
   <Row>
    <Cell><Data ss:Type="String">00456</Data></Cell>
    <Cell><Data ss:Type="String">李四</Data></Cell>
    <Cell ss:Index="4"><Data ss:Type="DateTime">2023-05-01T10:30:00.000</Data></Cell>
    <Cell><Data ss:Type="Number">1234.5</Data></Cell>
    <Cell><Data ss:Type="Error">#N/A</Data></Cell>
   </Row>
   <Row ss:Index="6">
    <Cell><Data ss:Type="String">C0789</Data></Cell>
    <Cell ss:MergeAcross="1"><Data ss:Type="String">王五</Data></Cell>
    <Cell><Data ss:Type="String">不是日期</Data></Cell>
   </Row>
   <Row>
    <Cell><Data ss:Type="String">C0790</Data></Cell>
    <Cell><Data ss:Type="String">赵六</Data></Cell>
    <Cell ss:Index="7"><Data ss:Type="String">多余</Data></Cell>
   </Row>
  </Table>
 </Worksheet>
 <Worksheet ss:Name="订单">
  <Table>
   <Row><Cell><Data ss:Type="String">订单编号</Data></Cell><Cell><Data ss:Type="String">客户编号</Data></Cell>
    <Cell><Data ss:Type="String">下单日期</Data></Cell><Cell><Data ss:Type="String">金额</Data></Cell></Row>
   <Row><Cell><Data ss:Type="String">O1</Data></Cell><Cell><Data ss:Type="String">00123</Data></Cell>
    <Cell><Data ss:Type="DateTime">2024-03-01T00:00:00.000</Data></Cell><Cell><Data ss:Type="Number">99.5</Data></Cell></Row>
  </Table>
 </Worksheet>
</Workbook>
"""


def _spreadsheet(
    tmp_path: Path, name: str = "export.xml", charset: str = "UTF-8", codec: str = "utf-8"
) -> Path:
    path = tmp_path / name
    path.write_bytes(SPREADSHEET.format(charset=charset).encode(codec))
    return path


def test_an_xml_spreadsheet_reads_as_a_sheet(tmp_path: Path) -> None:
    source = open_source(_spreadsheet(tmp_path))
    assert (source.info.format, source.info.sheet) == ("xml spreadsheet", "客户")
    assert source.headers == ["客户编号", "客户名称", "手机号码", "注册日期", "积分", "会员"]
    rows = list(source.rows())
    assert [line for line, _row in rows] == [3, 4, 6, 7]
    assert rows[0][1] == {
        "客户编号": "00123", "客户名称": "张三", "手机号码": "13812345678",
        "注册日期": dt.datetime(2023, 5, 1), "积分": "1500", "会员": "true",
    }  # fmt: skip
    assert rows[1][1] == {
        "客户编号": "00456", "客户名称": "李四", "手机号码": None,
        "注册日期": dt.datetime(2023, 5, 1, 10, 30), "积分": "1234.5", "会员": None,
    }  # fmt: skip
    assert rows[2][1] == {"客户编号": "C0789", "客户名称": "王五", "手机号码": None,
                          "注册日期": "不是日期"}  # fmt: skip
    assert "column G holds a value but has no header" in rows[3][1]["__reason__"]
    assert source.last_line() == 7  # its ss:ExpandedRowCount
    # A sheet without one: the rows of every sheet (5 + 2), a bound for the progress bar.
    assert open_source(_spreadsheet(tmp_path), sheet="订单").last_line() == 7


@pytest.mark.parametrize(
    ("name", "charset", "codec"),
    [("export.xml", "UTF-8", "utf-8"), ("export.xls", "gb2312", "gbk")],
)
def test_an_xml_spreadsheet_imports(ctx, tmp_path: Path, name, charset, codec) -> None:  # type: ignore[no-untyped-def]
    """Under an .xml or an .xls name, in UTF-8 or in the GBK a Chinese system declares
    (which the XML parser alone cannot read)."""
    path = _spreadsheet(tmp_path, name, charset, codec)
    rejects = tmp_path / "rejects.csv"
    result = importing.import_file(ctx, "customers", path, rejects_path=rejects)
    assert (result.encoding, result.inserted) == ("xml spreadsheet", 2)
    assert _rejected(result) == [(6, "C0789", "invalid_value", "registered"),
                                 (7, "C0790", "invalid_value", None)]  # fmt: skip
    ann = customers.get_customer(ctx, "00123")
    assert (ann.name, ann.phone, ann.registered) == ("张三", "+8613812345678", dt.date(2023, 5, 1))
    assert ann.custom_fields == {"积分": "1500", "会员": "true"}
    lines = rejects.read_text("utf-8-sig").splitlines()
    assert lines[1].startswith("C0789,王五,,不是日期,,,6,invalid_value,registered,")
    result = importing.import_file(ctx, "orders", path, sheet="订单")
    assert (result.inserted, result.rejected) == (1, [])
    with pytest.raises(InvalidInput, match=r"no sheet 产品 in export.\w+ \(sheets: 客户, 订单\)"):
        importing.import_file(ctx, "orders", path, sheet="产品")


@pytest.mark.parametrize("name", ["export.xml", "export.xls"])
def test_an_xml_spreadsheet_without_the_xml_declaration_is_one(ctx, tmp_path: Path, name) -> None:  # type: ignore[no-untyped-def]
    """The declaration is optional in XML, and some systems writing the format leave it out:
    the file starts at its Workbook element (an .xml was read as delimited text, an .xls
    refused as markup)."""
    path = tmp_path / name
    text = SPREADSHEET.format(charset="UTF-8")
    path.write_text(text[text.index("<Workbook") :], encoding="utf-8")
    assert file_format(path) == "xml spreadsheet"
    result = importing.import_file(ctx, "customers", path)
    assert (result.encoding, result.inserted) == ("xml spreadsheet", 2)


def test_an_xml_spreadsheet_through_the_cli(db_url: str, tmp_path: Path) -> None:
    path = _spreadsheet(tmp_path, "export.xls")
    res = invoke(db_url, "import", "customers", str(path), "--show-mapping")
    assert "encoding: xml spreadsheet" in res.stderr
    res = invoke(db_url, "import", "customers", str(path))
    assert "│ xml spreadsheet " in res.stdout, res.output
    res = invoke(db_url, "import", "orders", str(path), "--sheet", "订单", "-f", "json")
    assert json.loads(res.stdout)["inserted"] == 1


def test_a_broken_xml_spreadsheet_is_named_with_its_line(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "broken.xml"
    path.write_text(SPREADSHEET.format(charset="UTF-8").replace("</Row>", "</Rows>", 1), "utf-8")
    with pytest.raises(
        InvalidInput,
        match=r"broken.xml is not well-formed XML \(line 23, column 5\): mismatched tag$",
    ):
        importing.import_file(ctx, "customers", path)
