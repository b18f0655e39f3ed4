"""An interaction import's follow-up column: a task per contact, as ``interact log
--follow-up`` creates one, idempotent on re-import, moved by a changed line while open, and
taken away by the import's undo."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tricrm_tui.models import FollowUp, Interaction
from tricrm_tui.services import followups, importing, interactions
from tricrm_tui.services.errors import Conflict
from tricrm_tui.services.timespec import local_datetime

F = FollowUp.__table__
I = Interaction.__table__  # noqa: E741

CUSTOMERS = "客户编号,客户名称\nC001,张三\nC002,李四\n"

LOG = (
    "记录编号,客户编号,渠道,时间,主题,下次跟进日期,跟进事项\n"
    "I1,C001,电话,2026-03-01 10:00,报价,2026-03-05,发送报价单\n"
    "I2,C001,微信,2026-03-02 14:00,回访,3d,\n"
    "I3,C002,电话,2026-03-03 09:00,咨询,,\n"
    "I1,C001,电话,2026-03-01 10:00,报价,2026-03-05,发送报价单\n"
)


def write(tmp_path: Path, name: str, text: str, encoding: str = "gbk") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def tasks(ctx: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Interaction key → its follow-up row (every follow-up is checked to have one)."""
    with ctx.session() as s:
        rows = s.execute(
            sa.select(F, I.c.external_key).join(I, I.c.id == F.c.interaction_id).order_by(F.c.id)
        ).all()
        total = s.execute(sa.select(sa.func.count()).select_from(F)).scalar_one()
    assert total == len(rows)
    out: dict[str, Any] = {}
    for r in rows:
        assert r.external_key not in out, "one follow-up per interaction"
        out[r.external_key] = r
    return out


@pytest.fixture
def log_file(ctx: Any, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    importing.import_file(ctx, "customers", write(tmp_path, "c.csv", CUSTOMERS, "utf-8"))
    return write(tmp_path, "联系记录.csv", LOG)


def test_gbk_log_creates_follow_ups_as_interact_log_does(ctx, log_file: Path) -> None:  # type: ignore[no-untyped-def]
    result = importing.import_file(ctx, "interactions", log_file)
    assert result.encoding == "gb18030"
    assert (result.inserted, result.duplicates, result.follow_ups_created) == (3, 1, 2)
    got = tasks(ctx)
    assert set(got) == {"I1", "I2"}
    one, two = got["I1"], got["I2"]
    # A date alone falls due at the working day's start; 3d counts from the contact itself.
    assert utc(one.due_at) == local_datetime(dt.date(2026, 3, 5))
    assert utc(two.due_at) == utc(dt.datetime(2026, 3, 5, 14, 0).astimezone())
    assert one.reason == "发送报价单"
    # The same task ``interact log --follow-up`` makes: default reason, owner, source, status.
    logged = interactions.log_interaction(
        ctx, "C001", channel="微信", subject="回访", at="2026-03-02 14:00", follow_up="3d"
    )
    by_hand = followups.get_followup(ctx, logged.followup_id)
    assert (two.reason, two.owner, two.source, two.status, two.priority) == (
        by_hand.reason,
        by_hand.owner,
        by_hand.source,
        by_hand.status,
        by_hand.priority,
    )
    assert utc(two.due_at) == utc(by_hand.due)
    with ctx.session() as s:
        audited = s.execute(
            sa.text(
                "SELECT count(*) FROM audit_log WHERE entity = 'followup' "
                "AND action = 'create' AND import_id = :i"
            ),
            {"i": result.import_id},
        ).scalar_one()
    assert audited == 2


def test_excel_serial_in_a_workbook(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import Workbook

    importing.import_file(ctx, "customers", write(tmp_path, "c.csv", CUSTOMERS, "utf-8"))
    wb = Workbook()
    ws = wb.active
    ws.append(["记录编号", "客户编号", "渠道", "时间", "回访日期"])
    ws.append(["X1", "C001", "电话", "2026-03-01 10:00", "46091"])  # 2026-03-10 as text
    ws.append(["X2", "C002", "电话", "2026-03-01 10:00", dt.datetime(2026, 3, 12)])  # date cell
    path = tmp_path / "log.xlsx"
    wb.save(path)
    result = importing.import_file(ctx, "interactions", path)
    assert (result.inserted, result.follow_ups_created, result.rejected_count) == (2, 2, 0)
    got = tasks(ctx)
    assert utc(got["X1"].due_at) == local_datetime(dt.date(2026, 3, 10))
    assert utc(got["X2"].due_at) == local_datetime(dt.date(2026, 3, 12))


def test_a_date_with_a_time_falls_due_at_that_time(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    importing.import_file(ctx, "customers", write(tmp_path, "c.csv", CUSTOMERS, "utf-8"))
    log = (
        "记录编号,客户编号,渠道,时间,下次跟进时间\n"
        "T1,C001,电话,2026-03-01 10:00,2026-03-05 14:30\n"
        "T2,C001,电话,2026-03-01 10:00,2026年3月6日 下午 3:00\n"
        "T3,C002,电话,2026-03-01 10:00,46086.5\n"  # 2026-03-05 at noon
        "T4,C002,电话,2026-03-01 10:00,46086\n"
        "T5,C002,电话,2026-03-01 10:00,2026-03-07 00:00:00\n"  # a date exported as a time
    )
    result = importing.import_file(ctx, "interactions", write(tmp_path, "t.csv", log))
    assert (result.follow_ups_created, result.rejected_count) == (5, 0)
    got = tasks(ctx)
    assert utc(got["T1"].due_at) == local_datetime(dt.date(2026, 3, 5), dt.time(14, 30))
    assert utc(got["T2"].due_at) == local_datetime(dt.date(2026, 3, 6), dt.time(15, 0))
    assert utc(got["T3"].due_at) == local_datetime(dt.date(2026, 3, 5), dt.time(12, 0))
    assert utc(got["T4"].due_at) == local_datetime(dt.date(2026, 3, 5))
    assert utc(got["T5"].due_at) == local_datetime(dt.date(2026, 3, 7))


def test_a_period_in_chinese_counts_from_the_contact(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    importing.import_file(ctx, "customers", write(tmp_path, "c.csv", CUSTOMERS, "utf-8"))
    log = (
        "记录编号,客户编号,渠道,时间,下次跟进\n"
        "P1,C001,电话,2026-03-02 14:00,3天\n"
        "P2,C001,电话,2026-03-02 14:00,2个星期\n"
        "P3,C002,电话,2026-03-02 14:00,４小时\n"  # full-width digit
        "P4,C002,电话,2026-03-02 14:00,3斤\n"
    )
    result = importing.import_file(ctx, "interactions", write(tmp_path, "p.csv", log))
    assert {(r.key, r.field, r.code) for r in result.rejected} == {
        ("P4", "follow_up", "invalid_value")
    }
    assert result.follow_ups_created == 3
    got = tasks(ctx)
    contact = utc(dt.datetime(2026, 3, 2, 14, 0).astimezone())
    assert utc(got["P1"].due_at) == utc(dt.datetime(2026, 3, 5, 14, 0).astimezone())
    assert utc(got["P2"].due_at) == utc(dt.datetime(2026, 3, 16, 14, 0).astimezone())
    assert utc(got["P3"].due_at) == contact + dt.timedelta(hours=4)


def test_reimport_unchanged_creates_nothing_and_dry_run_counts(ctx, log_file: Path) -> None:  # type: ignore[no-untyped-def]
    dry = importing.import_file(ctx, "interactions", log_file, dry_run=True)
    assert dry.follow_ups_created == 2 and dry.inserted == 3
    assert tasks(ctx) == {}
    first = importing.import_file(ctx, "interactions", log_file)
    before = tasks(ctx)
    again = importing.import_file(ctx, "interactions", log_file)
    assert (again.inserted, again.updated, again.follow_ups_created) == (0, 0, 0)
    assert again.unchanged == 3 and again.duplicates == 1
    assert tasks(ctx) == before
    dry_again = importing.import_file(ctx, "interactions", log_file, dry_run=True)
    assert (dry_again.follow_ups_created, dry_again.updated) == (0, 0)
    assert first.follow_ups_created == 2


def test_changed_date_moves_the_open_follow_up_and_undo_puts_it_back(
    ctx, log_file: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    importing.import_file(ctx, "interactions", log_file)
    created = tasks(ctx)
    changed = write(
        tmp_path,
        "changed.csv",
        LOG.replace("2026-03-05,发送报价单", "2026-03-20,再次报价").replace("咨询,,", "咨询,1w,"),
    )
    second = importing.import_file(ctx, "interactions", changed)
    assert (second.follow_ups_moved, second.follow_ups_created) == (1, 1)
    assert second.updated == 2  # I1's task moved, I3 gained one: the interactions are as stored
    got = tasks(ctx)
    assert got["I1"].id == created["I1"].id
    assert utc(got["I1"].due_at) == local_datetime(dt.date(2026, 3, 20))
    assert got["I1"].reason == "再次报价"
    assert utc(got["I3"].due_at) == utc(dt.datetime(2026, 3, 10, 9, 0).astimezone())
    with ctx.session() as s:
        entry = s.execute(
            sa.text(
                "SELECT before, after FROM audit_log WHERE entity = 'followup' "
                "AND action = 'import_update' AND import_id = :i"
            ),
            {"i": second.import_id},
        ).one()
    before, after = (json.loads(v) if isinstance(v, str) else v for v in entry)
    assert before["reason"] == "发送报价单" and after["reason"] == "再次报价"
    assert utc(dt.datetime.fromisoformat(after["due_at"])) == local_datetime(dt.date(2026, 3, 20))
    # --mode skip and insert-only leave the follow-ups as they leave the interactions.
    skip = importing.import_file(ctx, "interactions", log_file, mode="skip")
    assert (skip.follow_ups_moved, skip.follow_ups_created, skip.skipped) == (0, 0, 3)
    only = importing.import_file(ctx, "interactions", log_file, mode="insert-only")
    assert only.follow_ups_moved == 0 and {r.code for r in only.rejected} == {"already_exists"}
    # Undo: I3's task goes, I1's goes back to its first date and reason.
    undone = importing.undo_import(ctx, second.import_id)
    assert (undone.follow_ups_removed, undone.follow_ups_restored) == (1, 1)
    got = tasks(ctx)
    assert set(got) == {"I1", "I2"}
    assert utc(got["I1"].due_at) == utc(created["I1"].due_at)
    assert got["I1"].reason == "发送报价单"


def test_a_line_moving_its_interaction_takes_the_open_follow_up_along(
    ctx: Any, log_file: Path, tmp_path: Path
) -> None:
    importing.import_file(ctx, "interactions", log_file)
    with ctx.session() as s:
        c1, c2 = (
            s.execute(sa.text("SELECT id FROM customers WHERE code = :c"), {"c": c}).scalar_one()
            for c in ("C001", "C002")
        )
    # I1 with its date as before, I2 without the follow-up column: both now logged for C002.
    moved = (
        "记录编号,客户编号,渠道,时间,主题,下次跟进日期\n"
        "I1,C002,电话,2026-03-01 10:00,报价,2026-03-05\n"
    )
    result = importing.import_file(ctx, "interactions", write(tmp_path, "m.csv", moved))
    only = "记录编号,客户编号,渠道,时间,主题\nI2,C002,微信,2026-03-02 14:00,回访\n"
    second = importing.import_file(ctx, "interactions", write(tmp_path, "o.csv", only))
    assert (result.updated, result.follow_ups_moved) == (1, 1)
    assert (second.updated, second.follow_ups_moved) == (1, 1)
    got = tasks(ctx)
    assert (got["I1"].customer_id, got["I2"].customer_id) == (c2, c2)
    assert utc(got["I1"].due_at) == local_datetime(dt.date(2026, 3, 5))
    importing.undo_import(ctx, second.import_id)
    importing.undo_import(ctx, result.import_id)
    got = tasks(ctx)
    assert (got["I1"].customer_id, got["I2"].customer_id) == (c1, c1)


def test_done_follow_up_is_not_recreated_nor_moved(ctx, log_file: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    importing.import_file(ctx, "interactions", log_file)
    followups.done(ctx, tasks(ctx)["I1"].id)
    unchanged = importing.import_file(ctx, "interactions", log_file)
    assert (unchanged.follow_ups_created, unchanged.updated, unchanged.warnings) == (0, 0, [])
    changed = write(tmp_path, "changed.csv", LOG.replace("2026-03-05,", "2026-03-25,"))
    result = importing.import_file(ctx, "interactions", changed)
    assert (result.follow_ups_created, result.follow_ups_moved, result.updated) == (0, 0, 0)
    assert result.unchanged == 3
    assert any("I1" in w and "done" in w for w in result.warnings)
    got = tasks(ctx)
    assert got["I1"].status == "done"
    assert utc(got["I1"].due_at) == local_datetime(dt.date(2026, 3, 5))


def test_bad_date_and_reason_without_date_are_rejected_whole(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    importing.import_file(ctx, "customers", write(tmp_path, "c.csv", CUSTOMERS, "utf-8"))
    text = (
        "记录编号,客户编号,渠道,时间,下次跟进,跟进事项\n"
        "B1,C001,电话,2026-03-01,下周吧,打电话\n"
        "B2,C001,电话,2026-03-01,,打电话\n"
        "B3,C001,电话,2026-03-01,2026-02-30,\n"
        "B4,C001,电话,2026-03-01,2w,\n"
    )
    result = importing.import_file(ctx, "interactions", write(tmp_path, "bad.csv", text))
    assert {(r.line, r.key, r.field, r.code) for r in result.rejected} == {
        (2, "B1", "follow_up", "invalid_value"),
        (3, "B2", "follow_up", "missing_required"),
        (4, "B3", "follow_up", "invalid_value"),
    }
    assert (result.inserted, result.follow_ups_created) == (1, 1)
    with ctx.session() as s:
        keys = set(s.execute(sa.select(I.c.external_key)).scalars())
    assert keys == {"B4"}  # no rejected line's interaction was written without its task


def test_undo_removes_its_follow_ups_and_refuses_after_one_was_completed(
    ctx, log_file: Path
) -> None:  # type: ignore[no-untyped-def]
    first = importing.import_file(ctx, "interactions", log_file)
    done_id = tasks(ctx)["I2"].id
    followups.done(ctx, done_id)
    with pytest.raises(Conflict, match=f"follow-up {done_id} changed later") as refused:
        importing.undo_import(ctx, first.import_id)
    # Only what stands in the way is named: I1's task is the import's own, not later work.
    assert "I1" not in str(refused.value)
    assert set(tasks(ctx)) == {"I1", "I2"}
    # Without that, the undo takes the interactions and their follow-ups together.
    with ctx.session() as s, s.begin():
        s.execute(sa.delete(F).where(F.c.id == done_id))
        s.execute(sa.text("DELETE FROM audit_log WHERE entity = 'followup' AND action = 'done'"))
    undone = importing.undo_import(ctx, first.import_id)
    assert (undone.removed, undone.follow_ups_removed) == (3, 1)
    assert tasks(ctx) == {}


def test_undo_of_a_fresh_import_removes_everything(ctx, log_file: Path) -> None:  # type: ignore[no-untyped-def]
    first = importing.import_file(ctx, "interactions", log_file)
    undone = importing.undo_import(ctx, first.import_id)
    assert (undone.removed, undone.follow_ups_removed) == (3, 2)
    assert tasks(ctx) == {}
    with ctx.session() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(I)).scalar_one() == 0


def test_follow_ups_across_batches(ctx, log_file: Path) -> None:  # type: ignore[no-untyped-def]
    result = importing.import_file(ctx, "interactions", log_file, batch_size=1)
    assert (result.follow_ups_created, result.duplicates) == (2, 1)
    again = importing.import_file(ctx, "interactions", log_file, batch_size=2)
    assert again.follow_ups_created == 0
    assert len(tasks(ctx)) == 2


def test_cli_json_counts_follow_ups(tmp_path: Path, sqlite_template: Path) -> None:
    from tricrm_tui.cli.main import build_app

    db = tmp_path / "t.db"
    db.write_bytes(sqlite_template.read_bytes())
    runner = CliRunner()
    app = build_app()
    cfile = write(tmp_path, "c.csv", CUSTOMERS, "utf-8")
    res = runner.invoke(app, ["--db", str(db), "import", "customers", str(cfile)])
    assert res.exit_code == 0, res.output
    log = write(tmp_path, "log.csv", LOG)
    res = runner.invoke(
        app, ["--db", str(db), "import", "interactions", str(log), "--format", "json"]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert (data["follow_ups_created"], data["inserted"]) == (2, 3)
    res = runner.invoke(
        app, ["--db", str(db), "import", "interactions", str(log), "--format", "json"]
    )
    assert json.loads(res.stdout)["follow_ups_created"] == 0


def test_killed_import_rerun_creates_each_follow_up_once(db_url: str, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from tricrm_tui.services.context import Actor, open_context

    root = Path(__file__).resolve().parents[2]

    def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "tricrm_tui", "--db", db_url, *args],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(root), **(env or {})},
            timeout=300,
        )

    customers = "客户编号,客户名称\n" + "".join(f"C{i:03d},客户{i}\n" for i in range(20))
    log = "记录编号,客户编号,渠道,时间,下次跟进\n" + "".join(
        f"K{i:03d},C{i % 20:03d},电话,2026-03-01 10:00,{1 + i % 9}d\n" for i in range(100)
    )
    assert cli("import", "customers", str(write(tmp_path, "c.csv", customers))).returncode == 0
    path = write(tmp_path, "log.csv", log)
    base = ("import", "interactions", str(path), "--batch-size", "30", "--format", "json")
    killed = cli(*base, env={importing.CRASH_ENV: "2"})
    assert killed.returncode == 17
    ctx = open_context(db_url, Actor("tester"))
    try:
        assert len(tasks(ctx)) == 60  # two whole batches, each with its follow-ups
        rerun = cli(*base)
        assert rerun.returncode == 0, rerun.stderr
        summary = json.loads(rerun.stdout)
        assert (summary["inserted"], summary["follow_ups_created"]) == (40, 40)
        got = tasks(ctx)
        assert len(got) == 100
        assert utc(got["K005"].due_at) == utc(dt.datetime(2026, 3, 7, 10, 0).astimezone())
    finally:
        ctx.db.dispose()


def _customer_ids(ctx: Any) -> dict[str, int]:
    with ctx.session() as s:
        return dict(s.execute(sa.text("SELECT code, id FROM customers")).all())


def test_closed_follow_ups_move_with_their_interaction_and_undo_puts_them_back(
    ctx: Any, log_file: Path, tmp_path: Path
) -> None:
    """A follow-up belongs to its interaction: a line moving the interaction to another
    customer takes every follow-up of it along, done and cancelled ones too (only the open
    one went, so the old customer's history kept tasks of a contact that is no longer
    theirs). A closed task keeps its date and state; the undo puts each back, and the
    import's own move of a done task does not stand in its way."""
    importing.import_file(ctx, "interactions", log_file)
    ids = _customer_ids(ctx)
    first = tasks(ctx)
    followups.done(ctx, first["I1"].id)
    followups.cancel(ctx, first["I2"].id)
    moved = (
        "记录编号,客户编号,渠道,时间,主题,下次跟进日期\n"
        "I1,C002,电话,2026-03-01 10:00,报价,2026-03-25\n"  # a new date too: not applied
        "I2,C002,微信,2026-03-02 14:00,回访,\n"
    )
    path = write(tmp_path, "moved.csv", moved)
    dry = importing.import_file(ctx, "interactions", path, dry_run=True)
    result = importing.import_file(ctx, "interactions", path)
    assert (result.updated, result.follow_ups_moved, result.follow_ups_created) == (2, 2, 0)
    assert (dry.updated, dry.follow_ups_moved, dry.warnings) == (2, 2, result.warnings)
    assert any("I1" in w and "done" in w for w in result.warnings)
    got = tasks(ctx)
    assert (got["I1"].customer_id, got["I2"].customer_id) == (ids["C002"], ids["C002"])
    assert (got["I1"].status, got["I2"].status) == ("done", "cancelled")
    assert utc(got["I1"].due_at) == utc(first["I1"].due_at)  # the new date was not applied
    history = followups.list_followups(ctx, customer="C002", status="all").items
    assert sorted(f.id for f in history) == sorted([got["I1"].id, got["I2"].id])
    assert followups.list_followups(ctx, customer="C001", status="all").items == []
    with ctx.session() as s:
        audited = s.execute(
            sa.text(
                "SELECT entity_id, before, after FROM audit_log WHERE entity = 'followup' "
                "AND action = 'import_update' AND import_id = :i ORDER BY entity_id"
            ),
            {"i": result.import_id},
        ).all()
    assert [
        (int(e), *(json.loads(v) if isinstance(v, str) else v for v in (b, a)))
        for e, b, a in audited
    ] == sorted(
        (got[k].id, {"customer_id": ids["C001"]}, {"customer_id": ids["C002"]})
        for k in ("I1", "I2")
    )
    # Importing it again changes nothing.
    again = importing.import_file(ctx, "interactions", path)
    assert (again.updated, again.follow_ups_moved, again.unchanged) == (0, 0, 2)
    undone = importing.undo_import(ctx, result.import_id)
    assert undone.follow_ups_restored == 2
    got = tasks(ctx)
    assert (got["I1"].customer_id, got["I2"].customer_id) == (ids["C001"], ids["C001"])
    assert (got["I1"].status, got["I2"].status) == ("done", "cancelled")


def test_cli_moves_a_done_follow_up_with_its_interaction_and_undoes_it(
    db_url: str, tmp_path: Path
) -> None:
    from tests.cli_runner import invoke

    assert (
        invoke(db_url, "import", "customers", str(write(tmp_path, "c.csv", CUSTOMERS))).exit_code
        == 0
    )
    log = write(tmp_path, "log.csv", LOG)
    assert invoke(db_url, "import", "interactions", str(log)).exit_code == 0
    listed = json.loads(invoke(db_url, "followups", "list", "--format", "json").stdout)
    task = next(f for f in listed if f["reason"] == "发送报价单")
    assert invoke(db_url, "followups", "done", str(task["id"])).exit_code == 0
    moved = write(tmp_path, "m.csv", LOG.replace("I1,C001", "I1,C002"))
    res = invoke(db_url, "import", "interactions", str(moved), "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert (out["updated"], out["follow_ups_moved"]) == (1, 1)

    def done_of(code: str) -> list[int]:
        res = invoke(db_url, "followups", "list", "--customer", code, "--status", "done",
                     "--format", "json")  # fmt: skip
        assert res.exit_code == 0, res.output
        return [f["id"] for f in json.loads(res.stdout)]

    assert (done_of("C001"), done_of("C002")) == ([], [task["id"]])
    res = invoke(db_url, "import", "undo", str(out["import_id"]))
    assert res.exit_code == 0, res.output
    assert (done_of("C001"), done_of("C002")) == ([task["id"]], [])


def test_a_merge_and_unmerge_leave_a_moved_interaction_and_its_follow_ups_together(
    ctx: Any, log_file: Path, tmp_path: Path
) -> None:
    """A merge moves a customer's tasks, closed ones too, with its contacts, and an unmerge
    moves back those still on the kept customer: once an import has moved a contact on,
    its done task has gone with it and stays with it."""
    from tricrm_tui.services import customers, merge

    importing.import_file(ctx, "interactions", log_file)
    customers.add_customer(ctx, {"code": "C003", "name": "王五"})
    followups.done(ctx, tasks(ctx)["I1"].id)
    merge.merge_customers(ctx, "C003", ["C001"])
    ids = _customer_ids(ctx)
    assert tasks(ctx)["I1"].customer_id == ids["C003"]
    moved = "记录编号,客户编号,渠道,时间,主题\nI1,C002,电话,2026-03-01 10:00,报价\n"
    importing.import_file(ctx, "interactions", write(tmp_path, "m.csv", moved))
    merge.unmerge_customer(ctx, "C001")
    got = tasks(ctx)
    with ctx.session() as s:
        on = s.execute(sa.select(I.c.customer_id).where(I.c.external_key == "I1")).scalar_one()
    assert got["I1"].customer_id == on == ids["C002"]
    assert got["I2"].customer_id == ids["C001"]  # back with its contact


def test_a_default_reason_follows_a_changed_subject_a_written_one_stays(
    ctx: Any, tmp_path: Path
) -> None:
    """A follow-up created without a reason is "Follow up: <subject>": a line changing
    the subject gives an open one still reading so the new subject's (in the language it
    was written in), audited and undone; a reason someone wrote, or a closed task, stays."""
    from tricrm_tui.i18n import set_language

    importing.import_file(ctx, "customers", write(tmp_path, "c.csv", CUSTOMERS, "utf-8"))
    log = (
        "记录编号,客户编号,渠道,时间,主题,下次跟进日期,跟进事项\n"
        "I1,C001,电话,2026-03-01 10:00,报价,2026-03-05,发送报价单\n"  # written by hand
        "I2,C001,微信,2026-03-02 14:00,回访,3d,\n"  # the default
        "I3,C002,电话,2026-03-03 09:00,,2026-03-06,\n"  # no subject: the default names I3
        "I4,C002,电话,2026-03-03 09:00,咨询,2026-03-06,\n"  # done below
    )
    importing.import_file(ctx, "interactions", write(tmp_path, "log.csv", log))
    set_language("zh_CN")  # someone importing in Chinese
    zh = log.split("\n", 1)[0] + "\nZ1,C001,电话,2026-03-04 09:00,对账,2026-03-08,\n"
    importing.import_file(ctx, "interactions", write(tmp_path, "zh.csv", zh))
    set_language("en")
    first = tasks(ctx)
    assert (first["I2"].reason, first["I3"].reason) == ("Follow up: 回访", "Follow up: I3")
    assert first["Z1"].reason == "跟进：对账"
    followups.done(ctx, first["I4"].id)
    renamed = (
        "记录编号,客户编号,渠道,时间,主题\n"
        "I1,C001,电话,2026-03-01 10:00,二次报价\n"
        "I2,C001,微信,2026-03-02 14:00,电话回访\n"
        "I3,C002,电话,2026-03-03 09:00,首次咨询\n"
        "I4,C002,电话,2026-03-03 09:00,售后\n"
        "Z1,C001,电话,2026-03-04 09:00,年度对账\n"
    )
    path = write(tmp_path, "renamed.csv", renamed)
    dry = importing.import_file(ctx, "interactions", path, dry_run=True)
    result = importing.import_file(ctx, "interactions", path)
    assert (result.updated, result.follow_ups_moved, result.warnings) == (5, 3, [])
    assert (dry.updated, dry.follow_ups_moved) == (5, 3)
    got = tasks(ctx)
    assert {k: got[k].reason for k in got} == {
        "I1": "发送报价单",
        "I2": "Follow up: 电话回访",
        "I3": "Follow up: 首次咨询",
        "I4": "Follow up: 咨询",  # done: left as it was
        "Z1": "跟进：年度对账",
    }
    with ctx.session() as s:
        audited = s.execute(
            sa.text(
                "SELECT before, after FROM audit_log WHERE entity = 'followup' "
                "AND action = 'import_update' AND import_id = :i AND entity_id = :f"
            ),
            {"i": result.import_id, "f": str(got["I2"].id)},
        ).one()
    assert [json.loads(v) if isinstance(v, str) else v for v in audited] == [
        {"reason": "Follow up: 回访"},
        {"reason": "Follow up: 电话回访"},
    ]
    # A reason the line gives wins over the default.
    given = (
        "记录编号,客户编号,渠道,时间,主题,下次跟进日期,跟进事项\n"
        "I2,C001,微信,2026-03-02 14:00,再次回访,2026-03-05 14:00,带样品\n"
    )
    importing.import_file(ctx, "interactions", write(tmp_path, "given.csv", given))
    assert tasks(ctx)["I2"].reason == "带样品"
    importing.undo_import(ctx, importing.list_imports(ctx).items[0].id)
    undone = importing.undo_import(ctx, result.import_id)
    assert undone.follow_ups_restored == 3
    got = tasks(ctx)
    assert {k: got[k].reason for k in ("I2", "I3", "Z1")} == {
        "I2": "Follow up: 回访",
        "I3": "Follow up: I3",
        "Z1": "跟进：对账",
    }


def test_cli_reimport_with_a_new_subject_renames_the_default_reason(
    db_url: str, tmp_path: Path
) -> None:
    from tests.cli_runner import invoke

    assert (
        invoke(db_url, "import", "customers", str(write(tmp_path, "c.csv", CUSTOMERS))).exit_code
        == 0
    )
    assert (
        invoke(db_url, "import", "interactions", str(write(tmp_path, "l.csv", LOG))).exit_code == 0
    )

    def reasons() -> list[str]:
        res = invoke(db_url, "followups", "list", "--format", "json")
        assert res.exit_code == 0, res.output
        return sorted(f["reason"] for f in json.loads(res.stdout))

    assert reasons() == ["Follow up: 回访", "发送报价单"]
    renamed = write(
        tmp_path, "r.csv", LOG.replace(",回访,", ",上门回访,").replace(",报价,", ",新报价,")
    )
    res = invoke(db_url, "import", "interactions", str(renamed), "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert (out["updated"], out["follow_ups_moved"]) == (2, 1)
    assert reasons() == ["Follow up: 上门回访", "发送报价单"]
    assert invoke(db_url, "import", "undo", str(out["import_id"])).exit_code == 0
    assert reasons() == ["Follow up: 回访", "发送报价单"]
