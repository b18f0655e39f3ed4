"""``tricrm import``, ``tricrm orders list``: the JSON contract, and an import killed half-way
through then run again, compared with a clean import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tricrm_tui.cli.main import build_app
from tricrm_tui.models import Customer, Order, Product, ProductCategory
from tricrm_tui.services import importing
from tricrm_tui.services.context import Actor, open_context

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_cli_state():  # type: ignore[no-untyped-def]
    """The CLI caches its service context per process; each test names its own database."""
    from tricrm_tui.cli.state import STATE

    STATE._ctx = None
    yield
    if STATE._ctx is not None:
        STATE._ctx.db.dispose()
    STATE._ctx = None


def _customers_file(path: Path, n: int) -> Path:
    lines = ["客户编号,姓名,手机,城市"] + [f"C{i:05d},客户{i},139{i:08d},深圳" for i in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="gbk")
    return path


def _orders_file(path: Path, n: int, customers: int) -> Path:
    lines = ["订单编号,客户编号,下单日期,金额,商品名称,商品类别"] + [
        f"O{i:06d},C{i % customers:05d},2024-{1 + i % 12:02d}-{1 + i % 28:02d},"
        f'"¥{i % 997},{i % 1000:03d}.{i % 100:02d}",商品{i % 7},类别{i % 3}'
        for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _cli(db: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tricrm_tui", "--db", db, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        timeout=300,
    )


def _content(url: str) -> list:
    """The domain tables without ids and timestamps, customers referred to by code."""
    ctx = open_context(url, Actor("tester"))
    C, O = Customer.__table__.c, Order.__table__.c  # noqa: E741
    P, K = Product.__table__.c, ProductCategory.__table__.c
    skip = {"id", "created_at", "updated_at"}
    with ctx.session() as s:
        cust = [
            tuple(v for k, v in r._mapping.items() if k not in skip)
            for r in s.execute(sa.select(Customer.__table__).order_by(C.code))
        ]
        orders = s.execute(
            sa.select(O.order_no, C.code, O.order_date, O.amount, P.name, K.name)
            .select_from(
                Order.__table__.join(Customer.__table__, C.id == O.customer_id)
                .outerjoin(Product.__table__, P.id == O.product_id)
                .outerjoin(ProductCategory.__table__, K.id == O.category_id)
            )
            .order_by(O.order_no)
        ).all()
    ctx.db.dispose()
    return [cust, [tuple(r) for r in orders]]


def test_killed_import_leaves_whole_batches_and_rerun_completes(
    db_url: str, tmp_path: Path, sqlite_template: Path
) -> None:
    cfile = _customers_file(tmp_path / "c.csv", 300)
    ofile = _orders_file(tmp_path / "o.csv", 1000, 300)
    assert _cli(db_url, "import", "customers", str(cfile), "--format", "json").returncode == 0
    killed = _cli(
        db_url,
        "import",
        "orders",
        str(ofile),
        "--batch-size",
        "150",
        "--format",
        "json",
        env={importing.CRASH_ENV: "3"},
    )
    assert killed.returncode == 17 and killed.stdout == ""
    ctx = open_context(db_url, Actor("tester"))
    with ctx.session() as s:
        n = s.execute(sa.select(sa.func.count()).select_from(Order.__table__)).scalar_one()
    ctx.db.dispose()
    assert n == 450  # three whole batches, no partial one
    listed = json.loads(_cli(db_url, "import", "list", "--format", "json").stdout)
    assert [r["status"] for r in listed] == ["interrupted", "done"]
    rerun = _cli(db_url, "import", "orders", str(ofile), "--batch-size", "150", "--format", "json")
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert (summary["inserted"], summary["unchanged"], summary["rejected"]) == (550, 450, [])
    listed = json.loads(_cli(db_url, "import", "list", "--format", "json").stdout)
    assert [r["status"] for r in listed] == ["done", "interrupted", "done"]

    clean = tmp_path / "clean.db"
    clean.write_bytes(sqlite_template.read_bytes())
    assert _cli(str(clean), "import", "customers", str(cfile)).returncode == 0
    assert _cli(str(clean), "import", "orders", str(ofile)).returncode == 0
    assert _content(db_url) == _content(str(clean))


def test_a_killed_order_import_is_put_right_by_the_next_import_of_any_file(
    db_url: str, tmp_path: Path
) -> None:
    """The order totals a killed import left stale are recomputed when any import starts,
    not only when the same file is run again."""
    cfile = _customers_file(tmp_path / "c.csv", 50)
    ofile = _orders_file(tmp_path / "o.csv", 400, 50)
    assert _cli(db_url, "import", "customers", str(cfile)).returncode == 0
    killed = _cli(
        db_url, "import", "orders", str(ofile), "--batch-size", "100",
        env={importing.CRASH_ENV: "2"},
    )  # fmt: skip
    assert killed.returncode == 17
    other = _customers_file(tmp_path / "c2.csv", 60)
    assert _cli(db_url, "import", "customers", str(other)).returncode == 0
    ctx = open_context(db_url, Actor("tester"))
    C, O = Customer.__table__.c, Order.__table__.c  # noqa: E741
    with ctx.session() as s:
        stored = dict(s.execute(sa.select(C.id, C.order_count)).all())
        counted = dict(
            s.execute(sa.select(O.customer_id, sa.func.count()).group_by(O.customer_id)).all()
        )
    ctx.db.dispose()
    assert sum(counted.values()) == 200
    assert stored == {cid: counted.get(cid, 0) for cid in stored}
    listed = json.loads(_cli(db_url, "import", "list", "--format", "json").stdout)
    assert [(r["kind"], r["status"]) for r in listed] == [
        ("customers", "done"), ("orders", "interrupted"), ("customers", "done"),
    ]  # fmt: skip


DIES_IN_FOLLOW_UPS = (
    "import os, sys; from tricrm_tui.services import importing; "
    "importing.after_import_hooks.insert(0, lambda ctx, result: os._exit(17)); "
    "from tricrm_tui.cli.main import run; run(sys.argv[1:])"
)
"""``tricrm`` killed once an import's rows are in, before its follow-ups (classification,
the value refresh) ran."""


def test_an_import_killed_in_its_follow_ups_has_them_run_when_the_file_is_run_again(
    db_url: str, tmp_path: Path
) -> None:
    cfile = _customers_file(tmp_path / "c.csv", 50)
    ofile = _orders_file(tmp_path / "o.csv", 400, 50)
    assert _cli(db_url, "import", "customers", str(cfile)).returncode == 0
    killed = subprocess.run(
        [sys.executable, "-c", DIES_IN_FOLLOW_UPS, "--db", db_url, "import", "orders", str(ofile)],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300,
    )  # fmt: skip
    assert killed.returncode == 17, killed.stderr
    C = Customer.__table__.c

    def bands() -> set[str | None]:
        ctx = open_context(db_url, Actor("tester"))
        with ctx.session() as s:
            found = set(s.execute(sa.select(C.frequency_band).where(C.order_count > 0)).scalars())
        ctx.db.dispose()
        return found

    assert bands() == {"no_orders"}  # the totals are in, the classes not yet
    rerun = _cli(db_url, "import", "orders", str(ofile), "--format", "json")
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert (summary["inserted"], summary["unchanged"], summary["classified"]) == (0, 400, 50)
    assert "no_orders" not in bands()
    listed = json.loads(_cli(db_url, "import", "list", "--format", "json").stdout)
    assert all(r["finished_at"] for r in listed)


DIES_AFTER_UNDO = (
    "import os, sys; from tricrm_tui.services import classify, value; "
    "classify.classify_customers = value.value_refresh = lambda *a, **k: os._exit(17); "
    "from tricrm_tui.cli.main import run; run(sys.argv[1:])"
)
"""``tricrm`` killed once an undo's transaction is in, before the steps that follow it."""


def test_an_undo_killed_once_its_rows_are_back_leaves_the_classes_right(
    db_url: str, tmp_path: Path
) -> None:
    """The classes orders decide follow the undo in its own transaction: killed after it,
    customers left without orders were still 'regular' buyers, and running the undo again
    only said it was done."""
    cfile = _customers_file(tmp_path / "c.csv", 50)
    ofile = _orders_file(tmp_path / "o.csv", 400, 50)
    assert _cli(db_url, "import", "customers", str(cfile)).returncode == 0
    orders = json.loads(_cli(db_url, "import", "orders", str(ofile), "-f", "json").stdout)
    killed = subprocess.run(
        [sys.executable, "-c", DIES_AFTER_UNDO, "--db", db_url,
         "import", "undo", str(orders["import_id"])],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300,
    )  # fmt: skip
    assert killed.returncode == 17, killed.stderr
    ctx = open_context(db_url, Actor("tester"))
    C = Customer.__table__.c
    with ctx.session() as s:
        left = s.execute(sa.select(C.order_count, C.frequency_band).distinct()).all()
    ctx.db.dispose()
    assert left == [(0, "no_orders")]


def test_import_json_is_one_object_and_show_mapping(tmp_path: Path, sqlite_template: Path) -> None:
    db = tmp_path / "t.db"
    db.write_bytes(sqlite_template.read_bytes())
    cfile = tmp_path / "c.csv"
    cfile.write_text("客户编号,姓名,手机\nA1,张三,13812345678\nA2,,x\n", encoding="utf-8-sig")
    runner = CliRunner()
    app = build_app()
    res = runner.invoke(
        app, ["--db", str(db), "import", "customers", str(cfile), "--format", "json"]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert {"import_id", "file", "encoding", "rows", "inserted", "updated", "unchanged"} <= set(
        data
    )
    assert data["encoding"] == "utf-8-sig" and data["inserted"] == 1
    assert data["rejected"] == [
        {
            "line": 3,
            "key": "A2",
            "field": "phone",
            "code": "invalid_value",
            "reason": "not a phone number: x",
        }
    ]
    res = runner.invoke(
        app,
        ["--db", str(db), "import", "customers", str(cfile), "--show-mapping", "-f", "json"],
    )
    mapping = json.loads(res.stdout)
    assert [c["field"] for c in mapping["columns"]] == ["code", "name", "phone"]
    listed = json.loads(
        runner.invoke(app, ["--db", str(db), "import", "list", "-f", "json"]).stdout
    )
    assert listed[0]["inserted"] == 1 and listed[0]["file_hash"]
    res = runner.invoke(app, ["--db", str(db), "import", "undo", str(data["import_id"])])
    assert res.exit_code == 0
    res = runner.invoke(app, ["--db", str(db), "import", "undo", str(data["import_id"])])
    assert type(res.exception).__name__ == "Conflict"
    assert res.exception.exit_code == 5


def test_orders_list_json(tmp_path: Path, sqlite_template: Path) -> None:
    db = tmp_path / "t.db"
    db.write_bytes(sqlite_template.read_bytes())
    ctx = open_context(str(db), Actor("tester"))
    importing.import_file(ctx, "customers", _customers_file(tmp_path / "c.csv", 5))
    importing.import_file(ctx, "orders", _orders_file(tmp_path / "o.csv", 40, 5))
    ctx.db.dispose()
    app = build_app()
    res = CliRunner().invoke(
        app,
        [
            "--db", str(db), "orders", "list", "--customer", "C00001", "--from", "2024-03-01",
            "--to", "2024-10-31", "--limit", "3", "--format", "json",
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert len(rows) == 3
    assert set(rows[0]) == {
        "order_no",
        "customer_code",
        "date",
        "amount",
        "quantity",
        "product",
        "category",
        "channel",
    }
    assert all(r["customer_code"] == "C00001" for r in rows)
    assert all("2024-03-01" <= r["date"] <= "2024-10-31" for r in rows)
    assert rows == sorted(rows, key=lambda r: r["date"], reverse=True)


def test_import_cli_names_mapping_entries_the_file_lacks(
    tmp_path: Path, sqlite_template: Path
) -> None:
    db = tmp_path / "t.db"
    db.write_bytes(sqlite_template.read_bytes())
    cfile = tmp_path / "c.csv"
    cfile.write_text("客户编号,姓名\nA1,张三\n", encoding="utf-8")
    mfile = tmp_path / "m.toml"
    mfile.write_text('"电 话" = "phone"\n', encoding="utf-8")
    runner = CliRunner()
    app = build_app()
    base = ["--db", str(db), "import", "customers", str(cfile), "--map", str(mfile)]
    res = runner.invoke(app, [*base, "--show-mapping", "-f", "json"])
    assert json.loads(res.stdout)["absent_map_columns"] == [{"column": "电 话", "field": "phone"}]
    res = runner.invoke(app, base)
    assert res.exit_code == 0, res.output
    assert "does not have: 电 话 → phone" in res.stderr
    res = runner.invoke(app, [*base, "-f", "json"])
    assert json.loads(res.stdout)["warnings"] == [
        "the mapping names column(s) this file does not have: 电 话 → phone"
    ]


def _tricrm(tmp_path: Path, sqlite_template: Path, name: str = "t.db") -> tuple[Path, Any]:
    """A copy of the migrated template and ``run(*args)``: ``tricrm --db COPY ARGS…`` in process."""
    db = tmp_path / name
    db.write_bytes(sqlite_template.read_bytes())
    runner, app = CliRunner(), build_app()

    def run(*args: str) -> Any:
        return runner.invoke(app, ["--db", str(db), *args])

    return db, run


def _refused(res: Any, code: int, message: str) -> bool:
    """An error the CLI turns into one line and exit ``code`` (in-process, it is raised)."""
    return getattr(res.exception, "exit_code", None) == code and message in str(res.exception)


def test_files_are_never_written_over_the_database(tmp_path: Path, sqlite_template: Path) -> None:
    """An export named after the SQLite file replaced the database with CSV text, and a
    rejects file named so truncated it; both said they had succeeded."""
    db, run = _tricrm(tmp_path, sqlite_template, "shop.db")
    run("customers", "add", "A1", "--name", "Ann")
    for target in (db, tmp_path / "shop.db-wal"):
        res = run("export", "customers", str(target))
        assert _refused(res, 4, "is the database tricrm is using")
    cfile = tmp_path / "c.csv"
    cfile.write_text("code,name,phone\nA2,Bo,x\n", encoding="utf-8")
    res = run("import", "customers", str(cfile), "--rejects", str(db))
    assert _refused(res, 4, "is the database tricrm is using")
    assert [c["code"] for c in json.loads(run("customers", "list", "-f", "json").stdout)] == ["A1"]


def test_an_unwritable_rejects_file_is_refused_before_anything_is_written(
    tmp_path: Path, sqlite_template: Path
) -> None:
    _db, run = _tricrm(tmp_path, sqlite_template)
    cfile = tmp_path / "c.csv"
    cfile.write_text("code,name,phone\nA1,Ann,13812345678\nA2,Bo,x\n", encoding="utf-8")
    for rejects in (tmp_path / "no" / "r.csv", tmp_path):
        res = run("import", "customers", str(cfile), "--rejects", str(rejects))
        assert _refused(res, 4, f"cannot write {rejects}")
    listed = run("import", "list", "-f", "json").stdout
    assert json.loads(listed) == []  # no import left "interrupted"


def test_an_import_whose_every_line_is_rejected_exits_4(
    tmp_path: Path, sqlite_template: Path
) -> None:
    _db, run = _tricrm(tmp_path, sqlite_template)
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,phone\nA1,Ann,x\nA2,Bo,y\n", encoding="utf-8")
    res = run("import", "customers", str(bad), "-f", "json")
    assert res.exit_code == 4 and json.loads(res.stdout)["rejected_count"] == 2
    assert "every line was rejected" in res.stderr
    good = tmp_path / "good.csv"
    good.write_text("code,name,phone\nA1,Ann,13812345678\nA2,Bo,y\n", encoding="utf-8")
    res = run("import", "customers", str(good))
    assert res.exit_code == 0  # some good rows: the rejects are reported, the import done
    res = run("import", "customers", str(good), "--mode", "insert-only")
    assert res.exit_code == 4  # A1 exists, A2 is bad: nothing imported


def test_rejects_from_json_lines_are_marked_like_an_export(
    tmp_path: Path, sqlite_template: Path
) -> None:
    """JSON Lines text is plain: its rejects CSV must mark formula-looking cells, or ``'=x``
    came back as ``=x`` and ``=SUM(1)`` sat live in the file."""
    _db, run = _tricrm(tmp_path, sqlite_template)
    src = tmp_path / "c.jsonl"
    src.write_text(
        '{"code": "Q1", "name": "\'=x", "phone": "bad"}\n'
        '{"code": "Q2", "name": "=SUM(1)", "phone": "bad"}\n',
        encoding="utf-8",
    )
    rejects = tmp_path / "r.csv"
    run("import", "customers", str(src), "--rejects", str(rejects))
    text = rejects.read_text("utf-8-sig")
    assert "''=x" in text and "'=SUM(1)" in text
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(text.replace("bad", "13812345678", 1).replace("bad", "13812345679"), "utf-8")
    res = run("import", "customers", str(fixed))
    assert res.exit_code == 0, res.output
    res = run("customers", "list", "-f", "json")
    assert sorted(c["name"] for c in json.loads(res.stdout)) == ["'=x", "=SUM(1)"]


def test_rejects_of_a_big5_file_keep_chinese_reasons_readable(
    tmp_path: Path, sqlite_template: Path
) -> None:
    """Chinese messages are simplified characters, most of which Big5 lacks: the reason
    column of a Big5 file's rejects read ``不是有效的????：12345``. That file is now written
    in UTF-8 (the warning says so) and imports again once fixed; in English it stays Big5."""
    from tricrm_tui.i18n import set_language

    _db, run = _tricrm(tmp_path, sqlite_template)
    src = tmp_path / "tw.csv"
    src.write_bytes(
        "客戶編號,姓名,手機號碼,備註\nT1,林美麗,0912345678,老客戶\nT2,陳大文,12345,壞資料\n".encode(
            "big5"
        )
    )
    english = tmp_path / "en.csv"
    run("import", "customers", str(src), "--region", "TW", "--dry-run", "--rejects", str(english))
    in_big5 = english.read_bytes().decode("cp950").splitlines()
    assert in_big5[1].endswith("not a valid phone number: 12345")
    rejects = tmp_path / "r.csv"
    set_language("zh_CN")
    try:
        res = run("import", "customers", str(src), "--region", "TW", "--rejects", str(rejects))
    finally:
        set_language("en")
    assert res.exit_code == 0, res.output
    assert f"{rejects} 以 UTF-8 写入" in res.stderr
    text = rejects.read_text("utf-8-sig")
    line = "T2,陳大文,12345,壞資料,3,invalid_value,phone,不是有效的电话号码：12345"
    assert text.splitlines()[1] == line
    rejects.write_text(text.replace(",12345,", ",0922345678,"), "utf-8-sig")
    res = run("import", "customers", str(rejects), "--region", "TW", "-f", "json")
    summary = json.loads(res.stdout)
    assert (summary["inserted"], summary["rejected_count"]) == (1, 0)


def test_a_damaged_file_is_named_with_what_to_do(db_url: str, tmp_path: Path) -> None:
    """A workbook cut short, or a file whose bytes break the encoding its BOM promised, was
    a bare ``BadZipFile``/``UnicodeDecodeError`` (exit 1, "run with --debug"); it is now one
    line naming the file (and the line), exit 4, with nothing written."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["客户编号", "客户名称"])
    for i in range(2000):
        sheet.append([f"C{i}", f"客户{i}"])
    whole = tmp_path / "whole.xlsx"
    book.save(whole)
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(whole.read_bytes()[:5000])
    for args in (
        ["import", "customers", str(cut)],
        ["import", "customers", str(cut), "--show-mapping"],
    ):
        res = _cli(db_url, *args)
        assert res.returncode == 4, res.stderr
        assert "cut.xlsx is not a whole workbook" in res.stderr and "--debug" not in res.stderr
    broken = tmp_path / "broken.csv"
    broken.write_bytes(
        "\ufeff客户编号,客户名称\n".encode()
        + "".join(f"B{i},名{i}\n" for i in range(5)).encode()
        + b"B9,\xff\xfe\n"
    )
    res = _cli(db_url, "import", "customers", str(broken), "--batch-size", "2")
    assert res.returncode == 4, res.stderr
    assert "line 7 of broken.csv is not utf-8" in res.stderr
