"""Reading real files in real encodings and layouts, mapping their headers, cleaning values.

Every file here is written by the test in the encoding it names (GBK via Python's codec,
Big5, UTF-16 with BOM...), so a failure means the reader, not a fixture, is wrong.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from tricrm_tui.services import importing
from tricrm_tui.services.errors import InvalidInput
from tricrm_tui.services.mapping import build_mapping, read_mapping_file
from tricrm_tui.services.normalize import (
    normalise_email,
    normalise_kind,
    normalise_phone,
    parse_date,
    parse_datetime,
    parse_money,
)
from tricrm_tui.services.readers import detect_encoding, open_source

SHORT_GBK = "客户编号,姓名,地址\nC1,张三,北京市朝阳区\n"
LONG_CN = "客户编号,客户名称,城市,备注\n" + "".join(
    f"C{i:04d},客户{i}号,深圳市南山区,这是一位来自广东省的长期合作客户，偏好线上渠道购买\n"
    for i in range(300)
)


def _write(tmp_path: Path, name: str, text: str, encoding: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _rows(path: Path, **kw) -> list[tuple[int, dict]]:  # type: ignore[no-untyped-def]
    return list(open_source(path, **kw).rows())


@pytest.mark.parametrize(
    ("text", "encoding", "expected"),
    [
        (SHORT_GBK, "gbk", "gb18030"),
        ("编号,名\nA,张伟\n", "gbk", "gb18030"),
        (LONG_CN, "gbk", "gb18030"),
        (LONG_CN, "utf-8-sig", "utf-8-sig"),
        (LONG_CN, "utf-8", "utf-8"),
        (LONG_CN, "utf-16", "utf-16"),
    ],
)
def test_encodings_are_detected(tmp_path: Path, text: str, encoding: str, expected: str) -> None:
    path = _write(tmp_path, "f.csv", text, encoding)
    assert detect_encoding(path) == expected
    rows = _rows(path)
    first_header = text.split(",")[0]
    assert first_header in rows[0][1]
    assert rows[0][0] == 2


HAN_ONLY = "客户编号\t客户名称\t城市\t地址\r\n" + "".join(
    f"客户{'甲乙丙丁'[i % 4]}{'一二三四五六七八九十'[i // 4 % 10]}\t张三丰\t深圳市\t"
    "广东省深圳市南山区科技园南区高新南一道\r\n"
    for i in range(200)
)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize(
    "text",
    [
        "公司名称\n深圳市腾讯计算机系统有限公司\n比亚迪股份有限公司\n",
        "客户编号\t客户名称\t城市\n甲一\t张三丰\t南京市鼓楼区中山北路\n",
        "地址\r\n" + "上海市浦东新区陆家嘴\r\n" * 4,
        HAN_ONLY,
    ],
    ids=["companies", "one-row", "addresses", "long"],
)
def test_utf16_without_a_bom_of_almost_only_han_is_detected(
    tmp_path: Path, text: str, codec: str
) -> None:
    """Too little ASCII for a NUL in a fifth of one half's bytes: short files were read as
    GB18030 or Big5 (which read almost any byte pair), longer ones left to charset-normalizer."""
    path = _write(tmp_path, "f.csv", text, codec)
    assert detect_encoding(path) == codec
    lines = text.splitlines()
    headers = lines[0].split("\t")
    assert _rows(path)[-1] == (len(lines), dict(zip(headers, lines[-1].split("\t"), strict=True)))


@pytest.mark.parametrize(
    ("text", "codec", "expected"),
    [
        ("全是中文没有任何字母的文件内容\n", "gbk", "gb18030"),
        ("全是中文没有任何字母的文件内容\n" * 3, "gbk", "gb18030"),
        ("全是中文没有任何字母的文件内容\r\n" * 300, "gbk", "gb18030"),
        ("全是中文没有任何字母的文件内容\n" * 300, "utf-8", "utf-8"),
        ("全是中文沒有任何字母的檔案內容\r\n" * 300, "big5", "cp950"),
        ("张三\n", "gbk", "gb18030"),
        ("客户\n李四\n", "gbk", "gb18030"),
        ("zhangsan\nlisi\nwangwu\n", "ascii", "utf-8"),
    ],
)
@pytest.mark.parametrize("padding", [b"", b"\x00" * 64], ids=["plain", "nul-padded"])
def test_text_of_only_han_or_letters_is_not_taken_for_utf16(
    tmp_path: Path, text: str, codec: str, expected: str, padding: bytes
) -> None:
    """Line ends read as UTF-16 need a NUL after them: a broken export padded with NULs has
    one, but its text read as UTF-16 is Hangul and private-use characters (GBK, Big5,
    UTF-8), or Han made of ASCII bytes (``zh`` is U+687A)."""
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode(codec) + padding)
    assert detect_encoding(path) == expected


def test_big5_is_found_by_the_detector(tmp_path: Path) -> None:
    text = "客戶編號,姓名,地址,備註\n" + "".join(
        f"T{i:03d},陳大文,臺北市信義區市府路,這是一位來自臺灣的長期客戶，喜歡在網路上購買商品\n"
        for i in range(100)
    )
    path = _write(tmp_path, "big5.csv", text, "big5")
    enc = detect_encoding(path)
    assert enc in ("cp950", "big5hkscs")  # Big5 as Taiwan (cp950) or Hong Kong writes it
    rows = _rows(path)
    assert rows[0][1]["姓名"] == "陳大文"
    assert rows[-1][1]["客戶編號"] == "T099"


@pytest.mark.parametrize(
    ("codec", "expected"), [("big5", ("cp950", "big5hkscs")), ("gbk", ("gb18030",))]
)
def test_chinese_after_a_long_ascii_start_decides_the_encoding(
    tmp_path: Path, codec: str, expected: tuple[str, ...]
) -> None:
    """Big5 bytes are valid GB18030 too: the two were told apart on the file's first 256 KB,
    which here hold no Han character, and the Big5 names were stored as GB18030 garbage."""
    text = "code,name,address\n" + "".join(
        f"E{i:05d},Chen Da Wen,No. {i} Xinyi Road Taipei\n" for i in range(8000)
    )
    text += "".join(f"T{i:03d},陳大文,臺北市信義區市府路\n" for i in range(20))
    path = _write(tmp_path, "late.csv", text, codec)
    assert path.stat().st_size > 256 * 1024
    assert detect_encoding(path) in expected
    assert _rows(path)[-1][1] == {"code": "T019", "name": "陳大文", "address": "臺北市信義區市府路"}


def test_encoding_override_and_unknown_encoding(tmp_path: Path) -> None:
    path = _write(tmp_path, "f.csv", SHORT_GBK, "gbk")
    assert open_source(path, encoding="gbk").encoding == "gbk"
    with pytest.raises(InvalidInput):
        open_source(path, encoding="no-such-codec")


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("code\tname\tcity\nC1\t张三\t深圳\nC2\t李四\t杭州\n", "\t"),
        ("code;name;city\nC1;张三;深圳\nC2;李四;杭州\n", ";"),
        ("code|name|city\nC1|张三|深圳\nC2|李四|杭州\n", "|"),
        ('code,name,city\nC1,"张, 三",深圳\nC2,李四,"杭""州"\n', ","),
        ("code   name   city\nC1     张三   深圳\nC2     李四   杭州\n", " "),
    ],
)
def test_delimiters_are_sniffed(tmp_path: Path, text: str, delimiter: str) -> None:
    path = _write(tmp_path, "f.txt", text, "utf-8")
    src = open_source(path)
    assert src.info.delimiter == delimiter
    rows = list(src.rows())
    assert [r[1]["code"] for r in rows] == ["C1", "C2"]
    assert rows[0][1]["city"] == "深圳"
    if delimiter == ",":
        assert rows[0][1]["name"] == "张, 三"
        assert rows[1][1]["city"] == '杭"州'


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_a_header_longer_than_the_sniffed_sample_is_read_whole(
    tmp_path: Path, delimiter: str
) -> None:
    """The header came from the sniffed sample (64 K characters) only: 7,000 columns of
    Chinese names were cut to the first 6,000 or so, and every line was refused as wider
    than its header."""
    names = ["客户编号", "姓名"] + [f"附加属性第{i}项" for i in range(7000)]
    lines = [names] + [[f"W{r}", "张三"] + [f"值{i}" for i in range(7000)] for r in range(3)]
    text = "".join(delimiter.join(cells) + "\n" for cells in lines)
    path = _write(tmp_path, "wide.csv", text, "gbk")
    assert len(text.split("\n")[0]) > 64 * 1024
    src = open_source(path)
    assert (src.info.delimiter, len(src.headers)) == (delimiter, 7002)
    rows = _rows(path)
    assert [line for line, _r in rows] == [2, 3, 4]
    assert rows[2][1] == dict(zip(names, lines[3], strict=True))


def test_csv_line_numbers_count_physical_lines(tmp_path: Path) -> None:
    text = 'code,notes\nC1,"two\nlines"\n\nC2,x\n'
    rows = _rows(_write(tmp_path, "f.csv", text, "utf-8"))
    assert [(line, r["code"]) for line, r in rows] == [(2, "C1"), (5, "C2")]


def test_xlsx_dates_as_serials_and_as_dates(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "客户"
    ws.append(["客户编号", "生日", "注册日期", "金额"])
    ws.append(["C1", dt.datetime(1990, 5, 1), 45047, 1234.5])
    ws.append(["C2", dt.date(1985, 12, 31), "2023/5/1", 10])
    other = wb.create_sheet("订单")
    other.append(["订单编号"])
    other.append(["O1"])
    path = tmp_path / "c.xlsx"
    wb.save(path)
    rows = _rows(path)
    assert rows[0][0] == 2
    c1, c2 = rows[0][1], rows[1][1]
    assert parse_date(c1["生日"]) == dt.date(1990, 5, 1)
    assert parse_date(c1["注册日期"]) == dt.date(2023, 5, 1)
    assert parse_money(c1["金额"]) == Decimal("1234.50")
    assert parse_date(c2["生日"]) == dt.date(1985, 12, 31)
    assert _rows(path, sheet="订单")[0][1] == {"订单编号": "O1"}
    with pytest.raises(InvalidInput):
        open_source(path, sheet="nope")


@pytest.mark.parametrize("prefix", ["", "x:"])
def test_workbook_formulas_are_told_by_their_saved_results(tmp_path: Path, prefix: str) -> None:
    """Saved: a number, an empty text (``t="str"``, ``<v></v>``, what a formula giving ""
    keeps). Not: no ``<v>``, an empty one, a shared formula's ``<f …/>`` alone. Some
    writers prefix every element name (``<x:c>``)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["code", "total", "note"])
    ws.append(["A1", "=1+1", '=IF(1,"","")'])
    ws.append(["A2", "=B2*2", None])
    ws.append(["A3", 5, "x"])
    written = tmp_path / "written.xlsx"
    wb.save(written)
    saved = {
        b'<c r="B2"><f>1+1</f><v /></c>': b'<c r="B2"><f>1+1</f><v>2</v></c>',
        b'<c r="C2"><f>IF(1,"","")</f><v /></c>': b'<c r="C2" t="str"><f>IF(1,"","")</f><v></v></c>',
        b'<c r="B3"><f>B2*2</f><v /></c>': b'<c r="B3"><f t="shared" ref="B3:B4" si="0">B2*2</f></c>',
        b'<c r="B4" t="n"><v>5</v></c>': b'<c r="B4"><f t="shared" si="0"/><v></v></c>',
    }
    path = tmp_path / "w.xlsx"
    with zipfile.ZipFile(written) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                for old, new in saved.items():
                    assert old in data
                    data = data.replace(old, new)
                if prefix:
                    data = re.sub(rb"<(/?)(\w+)", rb"<\1x:\2", data).replace(b"xmlns=", b"xmlns:x=")
            if item.filename == "xl/workbook.xml":
                data = data.replace(b' fullCalcOnLoad="1"', b"")
            dst.writestr(item, data)
    source = open_source(path)
    assert str(source.unsaved_formulas()).startswith(
        "sheet Sheet: 2 formula cells have no saved result (B3, B4) and are read as blank or 0;"
    )
    assert str(source.unsaved_formulas(rows=2)).startswith(
        "sheet Sheet: formulas with no saved result (B3) are read as blank or 0;"
    )
    assert list(source.rows()) == [
        (2, {"code": "A1", "total": "2", "note": None}),
        (3, {"code": "A2", "total": None}),
        (4, {"code": "A3", "total": None, "note": "x"}),
    ]


def _stored_results(tmp_path: Path, cells: dict[bytes, bytes], *, calculate: bool) -> Path:
    """A workbook of codes A1–A3 and totals 1–3 whose cells ``cells`` replaces, marked to be
    calculated on opening (``fullCalcOnLoad``) or not."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["code", "total", "note"])
    for i in range(1, 4):
        ws.append([f"A{i}", i, "x"])
    written = tmp_path / "written.xlsx"
    wb.save(written)
    path = tmp_path / "w.xlsx"
    with zipfile.ZipFile(written) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                for old, new in cells.items():
                    assert old in data
                    data = data.replace(old, new)
            if item.filename == "xl/workbook.xml" and not calculate:
                data = data.replace(b' fullCalcOnLoad="1"', b"")
            dst.writestr(item, data)
    return path


def test_formula_results_a_writer_calculated_are_saved_results(tmp_path: Path) -> None:
    """PHPExcel marks every workbook to be calculated on opening and stores the results it
    calculated (``<v>2</v>``), 0 only where it calculated none, as XlsxWriter stores 0 for
    each. Every formula of such a workbook was named as having no saved result, with the
    advice to open and save it, though each read as its result."""
    path = _stored_results(
        tmp_path,
        {
            b'<c r="B2" t="n"><v>1</v></c>': b'<c r="B2"><f>0+1</f><v>1</v></c>',
            b'<c r="B3" t="n"><v>2</v></c>': b'<c r="B3"><f>1+1</f><v>2</v></c>',
            b'<c r="C3" t="inlineStr"><is><t>x</t></is></c>': (
                b'<c r="C3" t="str"><f>"y"</f><v>y</v></c>'
            ),
            b'<c r="B4" t="n"><v>3</v></c>': b'<c r="B4"><f>B3+1</f><v>0</v></c>',
        },
        calculate=True,
    )
    source = open_source(path)
    assert str(source.unsaved_formulas()).startswith(
        "sheet Sheet: 1 formula cell has no saved result (B4) and is read as blank or 0;"
    )
    assert [row["total"] for _line, row in source.rows()] == ["1", "2", "0"]


def test_a_formula_whose_result_is_an_inline_string_has_a_saved_result(tmp_path: Path) -> None:
    """A cell may hold its formula's text result as an inline string (``<is>``), which is
    read as that text: it was named as a formula with no saved result."""
    path = _stored_results(
        tmp_path,
        {
            b'<c r="C2" t="inlineStr"><is><t>x</t></is></c>': (
                b'<c r="C2" t="inlineStr"><f>"z"</f><is><t>z</t></is></c>'
            )
        },
        calculate=False,
    )
    source = open_source(path)
    assert source.unsaved_formulas() is None
    assert [row["note"] for _line, row in source.rows()] == ["z", "x", "x"]


def test_a_workbook_without_package_relationships_is_checked_for_formulas(
    tmp_path: Path,
) -> None:
    """openpyxl finds the workbook without ``_rels/.rels``; the formula check read it to learn
    whether the workbook is to be calculated on opening, and the import ended in a KeyError."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["code", "total"])
    ws.append(["A1", "=1+1"])
    written = tmp_path / "written.xlsx"
    wb.save(written)
    path = tmp_path / "w.xlsx"
    with zipfile.ZipFile(written) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            if item.filename != "_rels/.rels":
                dst.writestr(item, src.read(item.filename))
    source = open_source(path)
    assert list(source.rows()) == [(2, {"code": "A1", "total": None})]
    assert str(source.unsaved_formulas()).startswith(
        "sheet Sheet: 1 formula cell has no saved result (B2) and is read as blank or 0;"
    )


def test_json_lines_keep_numbers_exact(tmp_path: Path) -> None:
    text = '{"code": "C1", "amount": 0.1, "n": 3}\n\n{"code": "C2", "amount": "¥2"}\nnot json\n'
    rows = _rows(_write(tmp_path, "f.jsonl", text, "utf-8"))
    assert rows[0] == (1, {"code": "C1", "amount": "0.1", "n": "3"})
    assert rows[1][0] == 3
    assert rows[2][0] == 4 and "__invalid__" in rows[2][1]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("￥1,234.50", "1234.50"),
        ("¥1234.5", "1234.50"),
        ("1,234.50", "1234.50"),
        ("1234.5元", "1234.50"),
        ("１２３４.５", "1234.50"),
        ("0.1", "0.10"),
        (" 12 ", "12.00"),
        ("RMB 99", "99.00"),
    ],
)
def test_money_is_exact(raw: str, expected: str) -> None:
    assert parse_money(raw) == Decimal(expected)
    assert str(parse_money(raw)) == expected


@pytest.mark.parametrize("raw", ["abc", "1,23", "12.345", "1.2.3", "¥", "--5", "1e5"])
def test_money_garbage_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput):
        parse_money(raw)


def test_money_refuses_floats_and_negatives_unless_allowed() -> None:
    with pytest.raises(InvalidInput):
        parse_money(1234.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        parse_money("-5")
    assert parse_money("-5", allow_negative=True) == Decimal("-5.00")
    with pytest.raises(InvalidInput) as err:
        parse_money("")
    assert err.value.code == "missing_required"


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "138 1234 5678",
        "+86 138-1234-5678",
        "１３８１２３４５６７８",
        "0086 13812345678",
    ],
)
def test_phones_to_e164(raw: str) -> None:
    assert normalise_phone(raw) == "+8613812345678"


def test_phone_region_is_configurable() -> None:
    assert normalise_phone("(415) 555-2671", "US") == "+14155552671"
    with pytest.raises(InvalidInput):
        normalise_phone("12345678901")


def test_emails_and_kinds() -> None:
    assert normalise_email("  Zhang.San@Example.COM ") == "zhang.san@example.com"
    assert normalise_email("ｚｈａｎｇ@ｅｘａｍｐｌｅ.com") == "zhang@example.com"
    for bad in ("bad@@x.com", "a@b", "plain"):
        with pytest.raises(InvalidInput):
            normalise_email(bad)
    assert normalise_kind("个人") == "individual"
    assert normalise_kind("企业") == "enterprise"
    assert normalise_kind("公司") == "enterprise"
    assert normalise_kind("B2B") == "enterprise"


@pytest.mark.parametrize(
    "raw",
    ["2023-05-01", "2023/5/1", "2023.5.1", "2023年5月1日", "20230501", "45047", "２０２３-５-１"],
)
def test_dates(raw: str) -> None:
    assert parse_date(raw) == dt.date(2023, 5, 1)


def test_ambiguous_and_impossible_dates_are_refused() -> None:
    for bad in ("01/05/2023", "2023-02-30", "May 1", "5月1日"):
        with pytest.raises(InvalidInput):
            parse_date(bad)


def test_datetimes_are_utc() -> None:
    moment = parse_datetime("2023-05-01 10:30+08:00")
    assert moment == dt.datetime(2023, 5, 1, 2, 30, tzinfo=dt.UTC)
    assert parse_datetime("2023-05-01T10:30:00Z").hour == 10


def test_headers_map_in_both_languages_and_unknown_columns_stay() -> None:
    headers = [
        "客户编号", "客户名称", "客户类型", "所属行业", "省份", "城市", "地址", "手机号码",
        "电子邮箱", "出生日期", "注册日期", "备注", "会员卡号",
    ]  # fmt: skip
    m = build_mapping("customers", headers)
    assert m.field_columns() == {
        "code": "客户编号", "name": "客户名称", "kind": "客户类型", "industry": "所属行业",
        "province": "省份", "city": "城市", "address": "地址", "phone": "手机号码",
        "email": "电子邮箱", "birthday": "出生日期", "registered": "注册日期", "notes": "备注",
    }  # fmt: skip
    assert m.custom_columns() == {"会员卡号": "会员卡号"}
    english = build_mapping("customers", ["Customer Code", "Full Name", "Mobile", "E-mail", "DOB"])
    assert set(english.field_columns()) == {"code", "name", "phone", "email", "birthday"}
    for alias in ("姓名", "手机", "电话", "邮箱", "生日", "行业"):
        assert build_mapping("customers", [alias]).columns[0].how == "recognised header"
    orders = build_mapping(
        "orders",
        [
            "订单编号",
            "客户编号",
            "下单日期",
            "订单金额",
            "数量",
            "商品名称",
            "商品类别",
            "渠道",
            "x",
        ],
    )
    assert orders.field_columns()["customer_code"] == "客户编号"
    assert orders.field_columns()["date"] == "下单日期"
    assert orders.columns[-1].target is None and orders.missing_required() == []
    assert build_mapping("orders", ["订单日期", "金额"]).field_columns() == {
        "date": "订单日期",
        "amount": "金额",
    }


def test_mapping_file_overrides(tmp_path: Path) -> None:
    toml = tmp_path / "map.toml"
    toml.write_text(
        '[columns]\n"会员号码" = "code"\n"杂项" = "ignore"\n"等级" = "custom:level"\n', "utf-8"
    )
    m = build_mapping("customers", ["会员号码", "名字", "杂项", "等级"], read_mapping_file(toml))
    assert m.field_columns()["code"] == "会员号码"
    assert m.custom_columns() == {"名字": "名字", "level": "等级"}
    assert [c.target for c in m.columns if c.column == "杂项"] == [None]
    bad = tmp_path / "bad.toml"
    bad.write_text('"会员号码" = "nonsense"\n', "utf-8")
    with pytest.raises(InvalidInput):
        build_mapping("customers", ["会员号码"], read_mapping_file(bad))


def test_blank_csv_lines_are_skipped_and_lines_with_a_blank_first_cell_are_kept(
    tmp_path: Path,
) -> None:
    text = "code,name,city\n , ,\t\nC1,张三,深圳\n,李四,\n,,\n  ,, 杭州 \n"
    rows = _rows(_write(tmp_path, "f.csv", text, "utf-8"))
    assert [(line, r["name"], r["city"]) for line, r in rows] == [
        (3, "张三", "深圳"),
        (4, "李四", ""),
        (6, "", " 杭州 "),
    ]


@pytest.mark.parametrize(
    "encoding", ["utf-16", "base64", "rot13", "hex", "zlib", "idna", "undefined"]
)
def test_a_wrong_or_non_text_encoding_is_invalid_input(tmp_path: Path, encoding: str) -> None:
    """UTF-16 asked for a file without a BOM raised a bare UnicodeError, and codecs that are
    no text encoding (base64, rot13) raised TypeError: exit 1, "unexpected error" in the TUI."""
    path = tmp_path / "r.csv"
    path.write_text("code,name\nA,张三\n", "utf-8")
    with pytest.raises(InvalidInput) as caught:
        open_source(path, encoding=encoding)
    assert caught.value.field == "encoding"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_lines_are_counted_as_text(tmp_path: Path, encoding: str) -> None:
    """The progress total and the bulk-load threshold count a UTF-16 file's lines, not its
    0x0A bytes, which are also half of characters such as 上 (0x4E0A)."""
    path = tmp_path / "c.csv"
    path.write_text("客户编号,客户名称\n" + "".join(f"C{i},上官上\n" for i in range(50)), encoding)
    assert importing.count_lines(path, encoding) == 51
    assert importing.count_lines(path) > 51  # what counting bytes gave


def test_a_detected_encoding_is_named_as_people_write_it(tmp_path: Path) -> None:
    """The detector names codecs Python's way (``mac_latin2``, ``utf_16_le``); the summary
    and ``import list`` show the name ``--encoding`` takes (``mac-latin2``)."""
    import codecs

    from tricrm_tui.services.readers import _text_encoding

    path = tmp_path / "latin.csv"
    path.write_bytes(("Café Müller;Straße;Köln;Àéîõü\n" * 30).encode("latin-1"))
    name = _text_encoding(path, None)
    assert "_" not in name and codecs.lookup(name)


@pytest.mark.parametrize("name", ["people.csv", "people.jsonl", "page.xls"])
def test_a_fault_of_the_reading_code_is_not_said_as_a_damaged_workbook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """A KeyError out of reading a CSV, JSON Lines or web page is a fault of tricrm's, not a
    workbook missing a part: told to open the file in Excel and save it again, the operator
    would chase a fault the file does not have (a workbook's own is still said so)."""
    from tricrm_tui.services import readers, readers_legacy

    path = tmp_path / name
    path.write_text(
        {
            ".csv": "code,name\nC1,Li\n",
            ".jsonl": '{"code": "C1", "name": "Li"}\n',
            ".xls": "<table><tr><td>code<td>name<tr><td>C1<td>Li</table>",
        }[path.suffix],
        "utf-8",
    )

    def broken(*_args: object, **_kwargs: object) -> None:
        raise KeyError("name")

    monkeypatch.setattr(readers, "_json_value", broken)
    monkeypatch.setattr(readers, "_records", broken)
    monkeypatch.setattr(readers_legacy._Table, "end_cell", broken)
    with pytest.raises(KeyError):
        list(open_source(path).rows())
