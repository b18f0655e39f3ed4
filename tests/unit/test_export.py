"""Exports: CSV with a BOM or in GBK, XLSX, JSON Lines; formulas neutralised, numbers kept."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.factories import add_customer, add_orders
from tricrm_tui.services import exporting, importing
from tricrm_tui.services.errors import InvalidInput

EVIL = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


def _seed(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "C1", "张三", city="深圳", notes=EVIL[0], province="广东")
    add_customer(ctx, "C2", EVIL[1], notes=EVIL[2], industry=EVIL[3])
    add_customer(ctx, "C3", "王五")
    add_orders(ctx, "C1", [("2024-01-02", "12.50"), ("2024-02-03", "-5.00")])


def test_csv_has_bom_and_neutralises_formulas(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _seed(ctx)
    out = tmp_path / "c.csv"
    result = exporting.export_file(ctx, "customers", out)
    assert result.rows == 3 and result.encoding == "utf-8-sig"
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    by_code = {r["code"]: r for r in rows}
    assert by_code["C1"]["notes"] == "'" + EVIL[0]
    assert by_code["C2"]["name"] == "'+1+1"
    assert by_code["C2"]["notes"] == "'-2+3"
    assert by_code["C2"]["industry"] == "'@SUM(A1)"
    assert by_code["C1"]["total_spent"] == "7.50"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_tab_and_carriage_return_are_neutralised_too() -> None:
    assert exporting.neutralise("\tTAB") == "'\tTAB"
    assert exporting.neutralise("\rCR") == "'\rCR"
    assert exporting.neutralise("张三") == "张三"
    assert exporting.neutralise(Decimal("-5.00")) == Decimal("-5.00")


def test_orders_keep_negative_numbers_as_numbers(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _seed(ctx)
    out = tmp_path / "o.csv"
    exporting.export_file(ctx, "orders", out)
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"), newline="")))
    assert sorted(r["amount"] for r in rows) == ["-5.00", "12.50"]

    from openpyxl import load_workbook

    xlsx = tmp_path / "o.xlsx"
    assert exporting.export_file(ctx, "orders", xlsx).rows == 2
    ws = load_workbook(xlsx).active
    header = [c.value for c in ws[1]]
    amounts = sorted(
        row[header.index("amount")] for row in ws.iter_rows(min_row=2, values_only=True)
    )
    assert amounts == [-5, 12.5]


def test_xlsx_neutralises_formulas(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _seed(ctx)
    out = tmp_path / "c.xlsx"
    exporting.export_file(ctx, "customers", out)
    from openpyxl import load_workbook

    ws = load_workbook(out).active
    header = [c.value for c in ws[1]]
    cells = {row[header.index("code")]: row for row in ws.iter_rows(min_row=2, values_only=True)}
    assert cells["C1"][header.index("notes")] == "'" + EVIL[0]
    assert cells["C2"][header.index("name")] == "'+1+1"
    for row in ws.iter_rows(min_row=2):
        for c in row:
            assert c.data_type != "f"


def test_gbk_and_jsonl_and_round_trip(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "C1", "张三", phone="13812345678", city="深圳", custom_fields={"卡": "V1"})
    gbk = tmp_path / "c_gbk.csv"
    assert exporting.export_file(ctx, "customers", gbk, encoding="gbk").encoding == "gbk"
    assert "张三" in gbk.read_bytes().decode("gbk")
    jl = tmp_path / "c.jsonl"
    exporting.export_file(ctx, "customers", jl)
    row = json.loads(jl.read_text("utf-8").splitlines()[0])
    assert (row["code"], row["phone"], row["total_spent"]) == ("C1", "+8613812345678", "0.00")
    add_customer(ctx, "C2", "𠀀")  # outside GBK
    with pytest.raises(InvalidInput, match="gbk"):
        exporting.export_file(ctx, "customers", tmp_path / "bad.csv", encoding="gbk")
    # What was exported imports back unchanged.
    again = importing.import_file(ctx, "customers", gbk)
    assert again.inserted == again.updated == 0 and again.unchanged == 1


def test_where_and_segment_need_the_filter_language(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _seed(ctx)
    try:
        import tricrm_tui.services.filters  # noqa: F401
    except ImportError:
        with pytest.raises(InvalidInput):
            exporting.export_file(ctx, "customers", tmp_path / "w.csv", where="city:深圳")
        return
    result = exporting.export_file(ctx, "customers", tmp_path / "w.csv", where="city:深圳")
    assert result.rows == 1


def test_amounts_are_exact_decimals(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "C1", "张三")
    add_orders(ctx, "C1", [("2024-01-02", Decimal("0.10")), ("2024-01-03", Decimal("0.20"))])
    out = tmp_path / "c.jsonl"
    exporting.export_file(ctx, "customers", out)
    assert json.loads(out.read_text("utf-8"))["total_spent"] == "0.30"


def test_a_page_at_a_time_gives_the_same_files(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Pages of one and two rows (every page boundary crossed) write what one page does."""
    _seed(ctx)
    add_customer(ctx, "C4", "=cmd|' /C calc'!A0", tags=["=tag"])
    add_orders(ctx, "C2", [("2024-03-04", "1.00")])
    for what in ("customers", "orders"):
        for suffix in ("csv", "jsonl"):
            whole = tmp_path / f"{what}.{suffix}"
            exporting.export_file(ctx, what, whole)
            for size in (1, 2):
                paged = tmp_path / f"{what}_{size}.{suffix}"
                exporting.export_file(ctx, what, paged, page_size=size)
                assert paged.read_bytes() == whole.read_bytes(), (what, suffix, size)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "customers.csv").read_text("utf-8-sig"))))
    c4 = next(r for r in rows if r["code"] == "C4")
    assert c4["name"].startswith("'=") and c4["tags"] == "'=tag"


def test_columns_are_neutralised_whole_or_cell_by_cell() -> None:
    """The column check finds a formula on any line of the joined column, and a cell that
    merely holds a line break before ``=`` is left as it is."""
    assert exporting._inert(["ok", "a\n=b", None]) == ["ok", "a\n=b", None]
    assert exporting._inert(["ok", "a\n=b", "=x"]) == ["ok", "a\n=b", "'=x"]
    assert exporting._inert(["-1", "ok"]) == ["'-1", "ok"]
    assert exporting._inert([None, "", "\tx"]) == [None, "", "'\tx"]
    assert exporting._inert([Decimal("-5.00"), 3, None]) == [Decimal("-5.00"), 3, None]
    assert exporting._inert([1, "@x", Decimal("-1")]) == [1, "'@x", Decimal("-1")]

    class Text(str):
        pass

    assert exporting._inert([Text("+1")]) == ["'+1"]


def test_csv_writes_times_in_iso_form() -> None:
    import datetime as dt

    out = io.StringIO()
    csv.writer(out).writerows(
        exporting._csv_rows([[dt.datetime(2024, 5, 1, 9, 30)], [dt.date(2024, 5, 1)], [None]])
    )
    assert out.getvalue() == "2024-05-01T09:30:00,2024-05-01,\r\n"


def test_a_failed_export_leaves_the_earlier_file_and_no_open_query(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A value the encoding cannot hold stops the export: the file of that name keeps its
    earlier content, no half-written file is left, and the export's query is closed even
    while the error is kept (on PostgreSQL an open one would hold its tables)."""
    add_customer(ctx, "C1", "张三")
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "c.csv"
    exporting.export_file(ctx, "customers", out, encoding="gbk")
    before = out.read_bytes()
    for i in range(2, 6):
        add_customer(ctx, f"C{i}", "𠀀" if i == 5 else f"客户{i}")  # 𠀀 is outside GBK
    with pytest.raises(InvalidInput, match="gbk") as raised:
        exporting.export_file(ctx, "customers", out, encoding="gbk", page_size=2)
    assert raised.value is not None and ctx.db.engine.pool.checkedout() == 0
    assert out.read_bytes() == before
    assert [p.name for p in folder.iterdir()] == ["c.csv"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".jsonl"])
def test_a_stopped_export_keeps_no_file_and_the_earlier_one(
    ctx, tmp_path: Path, suffix: str
) -> None:  # type: ignore[no-untyped-def]
    """``stop`` (tricrm quitting under an export) is asked before each page; a yes ends the
    export with ``Stopped``, its temporary file removed, an earlier file of that name as it
    was, and its query closed."""
    from tricrm_tui.services.errors import Stopped

    for i in range(1, 6):
        add_customer(ctx, f"C{i}", f"客户{i}")
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / f"c{suffix}"
    out.write_bytes(b"earlier")
    asked: list[int] = []

    def at_third_page() -> bool:
        asked.append(1)
        return len(asked) == 3

    with pytest.raises(Stopped, match="stopped before it ended"):
        exporting.export_file(ctx, "customers", out, page_size=2, stop=at_third_page)
    assert len(asked) == 3 and ctx.db.engine.pool.checkedout() == 0
    assert out.read_bytes() == b"earlier"
    assert [p.name for p in folder.iterdir()] == [out.name]
    done = exporting.export_file(ctx, "customers", out, page_size=2, stop=lambda: False)
    assert done.rows == 5 and out.read_bytes() != b"earlier"


def test_unreadable_text_in_the_database_is_a_database_error(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Text stored without being UTF-8 (written by some other tool) is met while the export
    streams; it is reported as the database's fault, like any other query's, not as a crash."""
    import sqlalchemy as sa

    from tricrm_tui.db.errors import DatabaseUnavailable

    if ctx.db.backend != "sqlite":
        pytest.skip("PostgreSQL refuses such text when it is written")
    for i in range(1, 5):
        add_customer(ctx, f"C{i}", f"客户{i}")
    with ctx.db.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE customers SET name = CAST(x'41ff42' AS TEXT) WHERE code = 'C4'")
        )
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(DatabaseUnavailable, match="UTF-8"):
        exporting.export_file(ctx, "customers", folder / "c.csv", page_size=2)
    assert list(folder.iterdir()) == []


def test_a_control_character_names_its_row_for_a_workbook(ctx, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The refusal names the row and field, and the workbook given up on leaves no file,
    not even the temporary one openpyxl streams rows to (in the TUI's long-lived process
    those would pile up until it ended)."""
    import tempfile

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    add_customer(ctx, "C1", "张三")
    add_customer(ctx, "C2", "bell\x07name")
    with pytest.raises(InvalidInput, match="name of C2") as raised:
        exporting.export_file(ctx, "customers", tmp_path / "c.xlsx")
    assert raised.value.field == "name" and not (tmp_path / "c.xlsx").exists()
    assert list(scratch.iterdir()) == []
    assert exporting.export_file(ctx, "customers", tmp_path / "c.csv").rows == 2
    assert "bell\x07name" in (tmp_path / "c.csv").read_text("utf-8-sig")


def test_search_and_a_service_condition_narrow_the_export(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """What the customer list shows (its search text and the condition its filter built)
    is what the export writes; for orders, the orders of those customers."""
    from tricrm_tui.models import Customer

    _seed(ctx)
    shenzhen = Customer.__table__.c.city == "深圳"
    out = tmp_path / "c.csv"
    assert exporting.export_file(ctx, "customers", out, condition=shenzhen).rows == 1
    assert exporting.export_file(ctx, "customers", out, search="王").rows == 1
    assert "王五" in out.read_text("utf-8-sig")
    assert exporting.export_file(ctx, "customers", out, search="王", condition=shenzhen).rows == 0
    assert exporting.export_file(ctx, "orders", out, search="张三").rows == 2
    assert exporting.export_file(ctx, "orders", out, search="王五").rows == 0


def test_a_file_that_cannot_be_written_is_named(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "C1", "张三")
    with pytest.raises(InvalidInput, match="cannot write") as raised:
        exporting.export_file(ctx, "customers", tmp_path)  # a folder
    assert raised.value.field == "path"
    with pytest.raises(InvalidInput, match="cannot write .*no/such/folder"):
        exporting.export_file(ctx, "customers", tmp_path / "no" / "such" / "folder" / "c.csv")
    assert ctx.db.engine.pool.checkedout() == 0


def test_customers_go_out_in_the_lists_sort(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _seed(ctx)
    out = tmp_path / "c.jsonl"
    exporting.export_file(ctx, "customers", out, sort="-spent")
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["code"] for r in rows] == ["C1", "C3", "C2"]  # 7.50, then 0.00 newest first
    exporting.export_file(ctx, "customers", out, sort="name")
    names = [json.loads(line)["name"] for line in out.read_text("utf-8").splitlines()]
    assert names == sorted(names)
    with pytest.raises(InvalidInput, match="cannot sort by"):
        exporting.export_file(ctx, "customers", out, sort="nonesuch")


def test_two_exports_to_one_name_never_write_into_each_other(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Each export writes a file of its own beside the name and takes the name when done:
    whichever finishes last wins, and the file is always one export, whole."""
    import threading

    for i in range(1, 41):
        add_customer(ctx, f"C{i:02d}", f"客户{i}")
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "c.csv"
    real_pages = exporting._pages
    started = threading.Barrier(2)

    def slow_pages(*args, **kwargs):  # type: ignore[no-untyped-def]
        import time

        started.wait(timeout=10)
        for page in real_pages(*args, **kwargs):
            time.sleep(0.01)
            yield page

    errors: list[BaseException] = []

    def export(search: str | None) -> None:
        try:
            exporting.export_file(ctx, "customers", out, search=search, page_size=3)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    import unittest.mock

    with unittest.mock.patch.object(exporting, "_pages", slow_pages):
        threads = [threading.Thread(target=export, args=(s,)) for s in (None, "客户1")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert not errors
    codes = [r["code"] for r in csv.DictReader(io.StringIO(out.read_text("utf-8-sig")))]
    everyone = [f"C{i:02d}" for i in range(1, 41)]
    ones = [c for c in everyone if "客户1" in f"客户{int(c[1:])}"]
    assert codes in (everyone, ones)
    assert [p.name for p in folder.iterdir()] == ["c.csv"]


def test_overwriting_keeps_the_files_mode_its_link_and_writes_a_pipe(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A customer file kept private (mode 600) stays private when exported again; a link
    keeps pointing at the file it names, which gets the export; a named pipe is written
    into as it goes."""
    import os
    import stat
    import threading

    add_customer(ctx, "C1", "张三", phone="13812345678")
    folder = tmp_path / "out"
    folder.mkdir()
    private = folder / "private.csv"
    private.write_text("old")
    private.chmod(0o600)
    exporting.export_file(ctx, "customers", private)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600 and "张三" in private.read_text(
        "utf-8-sig"
    )

    real = folder / "real.csv"
    real.write_text("old")
    link = folder / "link.csv"
    link.symlink_to(real.name)
    exporting.export_file(ctx, "customers", link)
    assert link.is_symlink() and "张三" in real.read_text("utf-8-sig")

    pipe = folder / "pipe.csv"
    os.mkfifo(pipe)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(pipe.read_text("utf-8-sig")))
    reader.start()
    assert exporting.export_file(ctx, "customers", pipe).rows == 1
    reader.join(timeout=30)
    assert "张三" in got[0] and stat.S_ISFIFO(pipe.stat().st_mode)
    assert sorted(p.name for p in folder.iterdir()) == [
        "link.csv",
        "pipe.csv",
        "private.csv",
        "real.csv",
    ]


def test_a_size_as_given_imports_exports_and_imports_back_unchanged(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """企业规模 ``1万人以上`` is classified ``large`` and kept as given; the export writes
    what was given, so importing it back changes nothing, and a band's own label or a
    person's size stays as it is."""
    src = tmp_path / "in.csv"
    src.write_text(
        "客户编号,客户名称,客户类型,企业规模\n"
        "E1,某集团,企业,1万人以上\nE2,某工作室,企业,small\nP1,王芳,个人,5人\n",
        encoding="gbk",
    )
    first = importing.import_file(ctx, "customers", src)
    assert first.inserted == 3
    from tricrm_tui.services import customers

    got = {c: customers.get_customer(ctx, c) for c in ("E1", "E2", "P1")}
    assert (got["E1"].size, got["E1"].size_text) == ("large", "1万人以上")
    assert (got["E2"].size, got["E2"].size_text) == ("small", None)
    assert (got["P1"].size, got["P1"].size_text) == ("individual", "5人")
    out = tmp_path / "out.csv"
    exporting.export_file(ctx, "customers", out)
    rows = {r["code"]: r for r in csv.DictReader(io.StringIO(out.read_text("utf-8-sig")))}
    assert [rows[c]["size"] for c in ("E1", "E2", "P1")] == ["1万人以上", "small", "5人"]
    again = importing.import_file(ctx, "customers", out)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert importing.import_file(ctx, "customers", src).unchanged == 3


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".jsonl"])
def test_a_person_who_was_an_enterprise_exports_and_imports_back_unchanged(  # type: ignore[no-untyped-def]
    ctx, tmp_path: Path, suffix: str
) -> None:
    """A person keeps the band and the size as given from a time as an enterprise; the
    export writes the size as given, and importing it back changed the band into that text
    (one customer updated, a new version, an entry in the audit log)."""
    from tricrm_tui.services import customers

    add_customer(ctx, "E1", "某集团", kind="企业", size="1万人以上")
    customers.edit_customer(ctx, "E1", {"kind": "个人"})
    before = customers.get_customer(ctx, "E1")
    out = tmp_path / f"out{suffix}"
    exporting.export_file(ctx, "customers", out)
    result = importing.import_file(ctx, "customers", out)
    assert (result.updated, result.unchanged) == (0, 1)
    after = customers.get_customer(ctx, "E1")
    assert (after.size, after.size_text, after.version) == (
        "individual",
        "1万人以上",
        before.version,
    )
    back = customers.edit_customer(ctx, "E1", {"kind": "企业"})
    assert (back.size, back.size_text) == ("large", "1万人以上")
