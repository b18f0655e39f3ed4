"""Survey answers imported through the readers every other import uses: any encoding and
delimiter, workbooks with real date and number cells, JSON Lines, lines refused with their
own line numbers, damaged files refused whole; through the service and the CLI."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from tests.cli_runner import invoke
from tests.factories import add_customer
from tricrm_tui.models import Journey, Touchpoint
from tricrm_tui.services import feedback, readers
from tricrm_tui.services.errors import InvalidInput

Answer = tuple[str, str, int, str | None, dt.date, str | None]


def setup(ctx, *codes: str, touchpoints: tuple[str, ...] = ()) -> None:  # type: ignore[no-untyped-def]
    for code in codes:
        add_customer(ctx, code)
    if touchpoints:
        with ctx.transaction() as s:
            jid = s.execute(
                sa.insert(Journey.__table__).values(name="purchase")
            ).inserted_primary_key[0]
            for name in touchpoints:
                s.execute(sa.insert(Touchpoint.__table__).values(journey_id=jid, name=name))


def answers(ctx) -> set[Answer]:  # type: ignore[no-untyped-def]
    page = feedback.list_surveys(ctx, limit=1000)
    return {
        (a.customer_code, a.kind, a.score, a.touchpoint, a.answered_at.date(), a.comment)
        for a in page.items
    }


def test_gbk_tab_separated_with_chinese_headers_and_again(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    setup(ctx, "C1", "C2", touchpoints=("门店",))
    path = tmp_path / "答卷.txt"
    path.write_bytes(
        "客户编号\t类型\t评分\t触点\t日期\t评论\n"
        "C1\tcsat\t5\t门店\t2026/1/5\t服务很好,下次还来\n"
        "C2\tNPS\t9\t门店\t2026年1月6日\t推荐给朋友\n".encode("gbk")
    )
    result = feedback.import_surveys(ctx, path)
    assert (result.imported, result.duplicates, result.rejects) == (2, 0, [])
    assert answers(ctx) == {
        ("C1", "csat", 5, "门店", dt.date(2026, 1, 5), "服务很好,下次还来"),
        ("C2", "nps", 9, "门店", dt.date(2026, 1, 6), "推荐给朋友"),
    }
    again = feedback.import_surveys(ctx, path)
    assert (again.imported, again.duplicates, again.rejects) == (0, 2, [])
    assert len(answers(ctx)) == 2


@pytest.mark.parametrize(
    ("codec", "text"),
    [
        # Excel's "Unicode text": UTF-16 with a BOM, tab-separated, CRLF.
        ("utf-16", "customer code\tkind\tscore\tdate\r\nC1\tnps\t10\t2026-02-01\r\n"),
        # A European Excel's CSV: semicolons, a quoted cell holding one.
        ("utf-8-sig", 'code;kind;score;date;comment\nC1;nps;10;2026-02-01;"ok; fine"\n'),
        # A Taiwan export: Big5, traditional headers.
        ("big5", "客戶編號,類型,評分,日期,評論\nC1,nps,10,2026-02-01,服務親切\n"),
    ],
    ids=["utf-16-tabs", "semicolons", "big5"],
)
def test_encodings_and_delimiters(ctx, tmp_path: Path, codec: str, text: str) -> None:  # type: ignore[no-untyped-def]
    setup(ctx, "C1")
    path = tmp_path / "answers.csv"
    path.write_bytes(text.encode(codec))
    result = feedback.import_surveys(ctx, path)
    assert (result.imported, result.rejects) == (1, [])
    ((code, kind, score, _tp, day, _comment),) = answers(ctx)
    assert (code, kind, score, day) == ("C1", "nps", 10, dt.date(2026, 2, 1))


def _rewrite(path: Path, member: str, old: bytes, new: bytes) -> None:
    """Replace bytes in one part of a workbook (as another program would have written it)."""
    with zipfile.ZipFile(path) as zin:
        parts = [(info, zin.read(info.filename)) for info in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in parts:
            if info.filename == member:
                assert old in data
                data = data.replace(old, new)
            zout.writestr(info, data)


def test_xlsx_date_cells_numbers_and_a_named_sheet(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    setup(ctx, "C1", "C2", "C3", "1001")
    wb = Workbook()
    wb.active.title = "说明"
    wb.active.append(["第二页是答卷"])
    ws = wb.create_sheet("答卷")
    ws.append(["客户编号", "类型", "评分", "日期", "评论"])
    ws.append(["C1", "csat", 5, dt.datetime(2026, 1, 5), "好"])
    ws.append(["C2", "nps", 7, dt.datetime(2026, 1, 6, 18, 45), None])
    ws.append(["C3", "csat", 3.5, dt.datetime(2026, 1, 7), None])
    ws.append([1001, "nps", 10, dt.datetime(2026, 1, 8), 42])
    ws.append(["C1", "nps", 8, dt.datetime(2026, 1, 9), None, "多出来的"])
    for row in ws.iter_rows(min_row=2, min_col=4, max_col=4):
        row[0].number_format = "yyyy-mm-dd"
    path = tmp_path / "answers.xlsx"
    wb.save(path)
    # A Java export (Apache POI) writes a whole number as 7.0.
    _rewrite(path, "xl/worksheets/sheet2.xml", b"<v>7</v>", b"<v>7.0</v>")

    with pytest.raises(InvalidInput, match="missing column code"):
        feedback.import_surveys(ctx, path)  # the first sheet holds no answers
    result = feedback.import_surveys(ctx, path, sheet="答卷")
    assert result.imported == 3
    assert [(r.line, r.field) for r in result.rejects] == [(4, "score"), (6, None)]
    assert "column F" in result.rejects[1].reason
    assert answers(ctx) == {
        ("C1", "csat", 5, None, dt.date(2026, 1, 5), "好"),
        ("C2", "nps", 7, None, dt.date(2026, 1, 6), None),
        ("1001", "nps", 10, None, dt.date(2026, 1, 8), "42"),
    }
    with pytest.raises(InvalidInput, match="no sheet 答案"):
        feedback.import_surveys(ctx, path, sheet="答案")


def test_json_lines(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    setup(ctx, "C1", "C2")
    path = tmp_path / "answers.jsonl"
    lines = [
        {"客户编号": "C1", "类型": "nps", "评分": 10, "日期": "2026-03-01", "评论": "很满意"},
        {"客户编号": "C2", "类型": "csat", "评分": 4.0, "日期": "2026-03-02"},
        {"客户编号": "C2", "类型": "csat", "评分": 4.5, "日期": "2026-03-03"},
    ]
    path.write_text(
        "\n".join(json.dumps(x, ensure_ascii=False) for x in lines)
        + '\n\n{"客户编号": "C1", "类型": \n[1, 2]\n',
        encoding="utf-8",
    )
    result = feedback.import_surveys(ctx, path)
    assert result.imported == 2
    assert [(r.line, r.field) for r in result.rejects] == [(3, "score"), (5, None), (6, None)]
    assert "JSON" in result.rejects[1].reason
    assert answers(ctx) == {
        ("C1", "nps", 10, None, dt.date(2026, 3, 1), "很满意"),
        ("C2", "csat", 4, None, dt.date(2026, 3, 2), None),
    }


def test_a_line_wider_than_the_header_is_rejected_by_its_own_line(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    setup(ctx, "C1")
    path = tmp_path / "answers.csv"
    path.write_text(
        "code,kind,score,date,comment\n"
        'C1,csat,5,2026-01-05,"很好\n下次再来"\n'  # one record on lines 2 and 3
        "C1,nps,9,2026-01-05,\n"
        "C1,csat,4,2026-01-06,深圳市,南山区\n"  # the comma should have been quoted
        "C1,nps,8,2026-01-07,'=不是公式\n",
        encoding="utf-8",
    )
    result = feedback.import_surveys(ctx, path)
    assert result.imported == 3
    assert [(r.line, r.field) for r in result.rejects] == [(5, None)]
    assert "6 cells" in result.rejects[0].reason
    assert answers(ctx) == {
        ("C1", "csat", 5, None, dt.date(2026, 1, 5), "很好 下次再来"),
        ("C1", "nps", 9, None, dt.date(2026, 1, 5), None),
        ("C1", "nps", 8, None, dt.date(2026, 1, 7), "=不是公式"),
    }


def test_damaged_files_and_wrong_encodings_write_nothing(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    setup(ctx, "C1")
    wb = Workbook()
    wb.active.append(["code", "kind", "score"])
    wb.active.append(["C1", "csat", 5])
    whole = tmp_path / "whole.xlsx"
    wb.save(whole)
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(whole.read_bytes()[:-200])  # a download stopped short
    with pytest.raises(InvalidInput, match="cut.xlsx is not a whole workbook") as err:
        feedback.import_surveys(ctx, cut)
    assert err.value.field == "path"

    text = tmp_path / "answers.csv"
    text.write_bytes("code,kind,score,comment\nC1,csat,5,好\nC1,nps,9,很好\n".encode("gbk"))
    with pytest.raises(InvalidInput, match="unknown encoding: klingon") as err:
        feedback.import_surveys(ctx, text, encoding="klingon")
    assert err.value.field == "encoding"
    with pytest.raises(InvalidInput, match="line 2 of answers.csv is not utf-8"):
        feedback.import_surveys(ctx, text, encoding="utf-8")
    odd = tmp_path / "odd.csv"  # UTF-16 by its BOM, one byte short at the end
    odd.write_bytes(b"\xff\xfe" + "code,kind,score\nC1,csat,5\n".encode("utf-16-le") + b"\x00")
    with pytest.raises(InvalidInput, match="line 3 of odd.csv is not utf-16-le"):
        feedback.import_surveys(ctx, odd)
    assert answers(ctx) == set()
    assert feedback.import_surveys(ctx, text, encoding="gbk").imported == 2


def test_batches_share_one_transaction(ctx, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    setup(ctx, "C1")
    monkeypatch.setattr(feedback, "_IMPORT_BATCH", 2)
    path = tmp_path / "answers.csv"
    path.write_text(
        "code,kind,score,date\n"
        + "".join(f"C1,nps,{n},2026-01-0{n}\n" for n in range(1, 6))
        + "C1,nps,1,2026-01-01\n",  # line 2 again, in another batch
        encoding="utf-8",
    )
    result = feedback.import_surveys(ctx, path)
    assert (result.imported, result.duplicates) == (5, 1)

    # A file that fails half-way, after batches were inserted, leaves none of them.
    other = tmp_path / "other.csv"
    other.write_text(
        "code,kind,score,date\n" + "".join(f"C1,csat,{n},2026-02-0{n}\n" for n in range(1, 6)),
        encoding="utf-8",
    )
    rows = readers.CsvSource.rows.__wrapped__  # type: ignore[attr-defined]

    def failing(self: readers.CsvSource) -> Iterator[tuple[int, dict[str, Any]]]:
        for line, row in rows(self):
            if line == 5:
                raise OSError(5, "Input/output error")
            yield line, row

    # The reader's own rows fail (guarded as every source's are): a disk error half-way.
    monkeypatch.setattr(readers.CsvSource, "rows", readers.guarded(failing))
    with pytest.raises(InvalidInput, match="cannot read .*other.csv: Input/output error"):
        feedback.import_surveys(ctx, other)
    assert {kind for _c, kind, *_ in answers(ctx)} == {"nps"}


def test_cli_encoding_sheet_and_json(ctx, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    setup(ctx, "C1")
    path = tmp_path / "answers.tsv"
    path.write_bytes(
        "客户编号\t类型\t评分\t日期\nC1\tnps\t9\t2026-01-05\nC1\tnps\t99\t\n".encode("gbk")
    )
    res = invoke(
        db_url, "feedback", "survey", "import", str(path), "--encoding", "gbk", "--format", "json"
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert (out["imported"], out["duplicates"]) == (1, 0)
    assert [(r["line"], r["field"]) for r in out["rejects"]] == [(3, "score")]

    wb = Workbook()
    wb.active.append(["封面"])
    wb.create_sheet("答卷").append(["code", "kind", "score", "date"])
    wb["答卷"].append(["C1", "csat", 4, dt.datetime(2026, 1, 6)])
    book = tmp_path / "answers.xlsx"
    wb.save(book)
    res = invoke(db_url, "feedback", "survey", "import", str(book), "--sheet", "答卷")
    assert res.exit_code == 0, res.output
    assert "imported 1 answers" in res.output

    res = invoke(db_url, "feedback", "survey", "import", str(path), "--encoding", "klingon")
    assert isinstance(res.exception, InvalidInput)
    assert "unknown encoding: klingon" in str(res.exception)
    assert len(answers(ctx)) == 2
