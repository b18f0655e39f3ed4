"""The interaction commands end to end: interact, followups, plans, care, customers timeline."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.cli_runner import invoke
from tests.interact_helpers import utc_local  # noqa: F401
from tricrm_tui.cli.main import run
from tricrm_tui.cli.state import STATE
from tricrm_tui.services.errors import InvalidInput


@pytest.fixture
def cli(db_url: str, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run ``tricrm --db URL ARGS…`` in-process: (exit code, stdout, stderr)."""

    def invoke(*args: str) -> tuple[int, str, str]:
        STATE._ctx = None
        try:
            run(["--db", db_url, *args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0
        finally:
            if STATE._ctx is not None:
                STATE._ctx.db.dispose()
            STATE._ctx = None
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def _json(cli, *args: str):  # type: ignore[no-untyped-def]
    code, out, err = cli(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_log_list_and_follow_up_commands(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("customers", "add", "C1", "--name", "张三")[0] == 0
    code, _out, err = cli(
        "interact", "log", "C1", "--channel", "phone", "--subject", "回访", "--outcome", "满意",
        "--satisfaction", "4", "--at", "2026-03-01 10:00", "--follow-up", "2026-12-01",
    )  # fmt: skip
    assert code == 0 and "follow-up 1 created" in err
    rows = _json(cli, "interact", "list", "--customer", "C1")
    assert [(r["subject"], r["channel"], r["satisfaction"]) for r in rows] == [("回访", "phone", 4)]
    assert rows[0]["at"].startswith("2026-03-01")
    tasks = _json(cli, "followups", "list", "--customer", "C1")
    assert [(t["id"], t["customer_code"], t["status"], t["source"]) for t in tasks] == [
        (1, "C1", "open", "interaction")
    ]
    assert {
        "id",
        "customer_code",
        "due",
        "status",
        "owner",
        "reason",
        "tier",
        "last_contact",
    } <= set(tasks[0])
    added = _json(cli, "followups", "add", "C1", "--due", "2d", "--reason", "报价")
    assert added["reason"] == "报价" and added["owner"] == "tester"
    assert _json(cli, "followups", "snooze", str(added["id"]), "3d")["status"] == "snoozed"
    assert _json(cli, "followups", "list", "--mine", "--overdue") == []
    done = _json(cli, "followups", "done", "1", "--log", "已回访", "--channel", "wechat")
    assert done["status"] == "done"
    assert _json(cli, "followups", "cancel", str(added["id"]))["status"] == "cancelled"
    assert _json(cli, "followups", "list") == []
    assert [r["channel"] for r in _json(cli, "interact", "list", "--channel", "wechat")] == [
        "wechat"
    ]
    code, _out, err = cli("followups", "done", "1")
    assert code == 4 and "already done" in err
    code, _out, err = cli("interact", "log", "C1", "--channel", "fax", "--subject", "x")
    assert code == 4 and "unknown channel" in err
    code, out, _err = cli("followups", "list", "--status", "all", "--format", "csv")
    assert out.splitlines()[0].startswith("id,customer_code,customer_name,due,status")


def test_timeline_command(cli) -> None:  # type: ignore[no-untyped-def]
    cli("customers", "add", "C1", "--name", "张三")
    cli("interact", "log", "C1", "--channel", "sms", "--subject", "提醒", "--at", "2026-03-02")
    cli("interact", "log", "C1", "--channel", "visit", "--subject", "拜访", "--at", "2026-03-05")
    rows = _json(cli, "customers", "timeline", "C1", "--limit", "1")
    assert len(rows) == 1 and rows[0]["kind"] == "interaction" and "拜访" in rows[0]["summary"]
    assert set(rows[0]) >= {"at", "kind", "summary", "ref"}
    rows = _json(cli, "customers", "timeline", "C1", "--limit", "1", "--offset", "1")
    assert "提醒" in rows[0]["summary"]
    code, out, _err = cli("customers", "timeline", "C1")
    assert code == 0 and "rows 1–2 of 2" in out


def test_plans_and_care_commands(cli) -> None:  # type: ignore[no-untyped-def]
    cli("customers", "add", "C1", "--name", "张三", "--birthday", "1990-02-28")
    plans = _json(cli, "plans", "set", "--defaults")
    assert [p["name"] for p in plans] == ["at-risk-call", "high-value-call", "medium-value-email"]
    one = _json(
        cli, "plans", "set", "everyone", "--target", "all", "--every", "30d", "--cap", "4/30d",
        "--quiet", "21:00-09:00",
    )  # fmt: skip
    assert one[0]["target"] == "all" and one[0]["cap"] == "4/30d"
    first = _json(cli, "plans", "run", "--date", "2027-02-20")
    assert [(t["rule"], t["customer_code"]) for t in first["created"]] == [("everyone", "C1")]
    assert _json(cli, "plans", "run", "--date", "2027-02-20")["created"] == []
    code, _out, err = cli("plans", "run", "--date", "2027-02-20")
    assert code == 0 and "0 follow-ups created for 2027-02-20" in err
    cli("plans", "remove", "everyone")
    assert "everyone" not in [p["name"] for p in _json(cli, "plans", "list")]
    code, _out, err = cli("plans", "remove", "everyone")
    assert code == 3
    rule = _json(cli, "care", "rules", "set", "生日", "--kind", "birthday", "--days-ahead", "10")
    assert rule[0]["occasion_name"] == "birthday"
    cli("care", "rules", "set", "春节", "--kind", "lunar", "--occasion", "spring_festival")
    assert len(_json(cli, "care", "rules", "list")) == 2
    run1 = _json(cli, "care", "run", "--date", "2027-02-20")
    assert [(t["rule"], t["customer_code"]) for t in run1["created"]] == [("生日", "C1")]
    assert _json(cli, "care", "run", "--date", "2027-02-20")["created"] == []
    cli("care", "rules", "remove", "春节")
    assert [r["name"] for r in _json(cli, "care", "rules", "list")] == ["生日"]


def test_periods_in_chinese(db_url: str, utc_local: None) -> None:  # noqa: F811
    """``--follow-up 3天``, ``--due 2周``, ``snooze ID 2天`` and a plan ``--every 30天 --cap
    4/30天``, through Typer's runner as a shell runs them."""

    def json_of(*args: str):  # type: ignore[no-untyped-def]
        result = invoke(db_url, *args, "--format", "json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    assert invoke(db_url, "customers", "add", "C1", "--name", "张三").exit_code == 0
    logged = json_of(
        "interact", "log", "C1", "--channel", "phone", "--subject", "回访",
        "--at", "2026-03-01 10:00", "--follow-up", "3天",
    )  # fmt: skip
    task = json_of("followups", "list", "--customer", "C1")[0]
    assert task["id"] == logged["followup_id"]
    assert dt.datetime.fromisoformat(task["due"]) == dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)
    added = json_of("followups", "add", "C1", "--due", "2周", "--reason", "报价")
    start = dt.datetime.now(dt.UTC)
    weeks = dt.datetime.fromisoformat(added["due"]) - start
    assert dt.timedelta(days=13, hours=23) < weeks <= dt.timedelta(weeks=2)
    snoozed = json_of("followups", "snooze", str(task["id"]), "2天")
    assert snoozed["status"] == "snoozed"
    days = dt.datetime.fromisoformat(snoozed["due"]) - start
    assert dt.timedelta(days=1, hours=23) < days < dt.timedelta(days=2, minutes=1)
    plan = json_of("plans", "set", "p", "--target", "all", "--every", "30天", "--cap", "4/30天")
    assert (plan[0]["every_days"], plan[0]["cap"]) == (30, "4/30d")
    bad = invoke(db_url, "followups", "snooze", str(task["id"]), "3斤")
    assert isinstance(bad.exception, InvalidInput) and bad.exception.exit_code == 4
    assert str(bad.exception) == "not a period: 3斤 (use e.g. 4h, 3d, 2w or 3天)"
