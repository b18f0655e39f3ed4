"""The ``tricrm`` command as a user and a script meet it: help, exit codes, --db, formats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tricrm_tui import __version__
from tricrm_tui.cli.main import GROUPS, build_app, hoist_global_options


def tricrm(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "tricrm_tui", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
    )


def test_version_and_help_list_every_group() -> None:
    out = tricrm("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"tricrm {__version__}"
    help_text = tricrm("--help").stdout
    for name, _module in GROUPS:
        assert name in help_text


def _all_commands():  # type: ignore[no-untyped-def]
    """(path, command, is_group) for every command and group, however deeply nested."""
    import typer.main

    def walk(prefix, cmd):  # type: ignore[no-untyped-def]
        subs = getattr(cmd, "commands", None)
        yield prefix, cmd, bool(subs)
        for name, sub in (subs or {}).items():
            yield from walk(f"{prefix} {name}".strip(), sub)

    yield from walk("", typer.main.get_command(build_app()))


def test_every_command_has_help_and_an_example() -> None:
    missing = [
        path or "tricrm"
        for path, cmd, is_group in _all_commands()
        if not cmd.help or (not is_group and (not cmd.epilog or "tricrm" not in cmd.epilog))
    ]
    assert missing == []


def test_add_list_show_json_round_trip(tmp_path: Path) -> None:
    db = str(tmp_path / "c.db")
    out = tricrm(
        "--db",
        db,
        "customers",
        "add",
        "C1",
        "--name",
        "王芳",
        "--phone",
        "13912345678",
        "--tags",
        "vip",
        "--birthday",
        "1988-02-29",
    )
    assert out.returncode == 0, out.stderr
    rows = json.loads(tricrm("--db", db, "customers", "list", "--format", "json").stdout)
    assert [r["code"] for r in rows] == ["C1"]
    row = rows[0]
    assert row["phone"] == "+8613912345678" and row["birthday"] == "1988-02-29"
    assert row["total_spent"] == "0.00" and row["tags"] == ["vip"]
    shown = json.loads(tricrm("--db", db, "customers", "show", "C1", "-f", "json").stdout)
    assert shown == row
    csv_out = tricrm("--db", db, "customers", "list", "--format", "csv").stdout.splitlines()
    assert csv_out[0].startswith("code,name,kind") and csv_out[1].startswith("C1,王芳,individual")


def test_errors_are_one_line_with_documented_exit_codes(tmp_path: Path) -> None:
    db = str(tmp_path / "c.db")
    missing = tricrm("--db", db, "customers", "show", "NOPE")
    assert missing.returncode == 3
    assert missing.stderr.strip() == "error: no customer with code NOPE"
    bad = tricrm("--db", db, "customers", "add", "C2", "--name", "x", "--email", "bad@@x")
    assert bad.returncode == 4 and "email" in bad.stderr and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    usage = tricrm("--db", db, "customers", "list", "--limit", "0")
    assert usage.returncode == 2


def test_unreachable_postgresql_is_one_clear_line_without_the_password() -> None:
    out = tricrm("--db", "postgresql+psycopg://crm:s3cret@127.0.0.1:1/crm", "customers", "list")
    assert out.returncode == 6
    assert "cannot use database" in out.stderr and "s3cret" not in out.stderr
    assert "Traceback" not in out.stderr


def test_db_choice_option_then_env_then_default(tmp_path: Path) -> None:
    env_db = tmp_path / "env.db"
    data_dir = tmp_path / "data"
    env = {"TRICRM_DB": str(env_db), "TRICRM_DATA_DIR": str(data_dir)}
    assert tricrm("customers", "add", "E1", "--name", "env", env=env).returncode == 0
    assert env_db.exists()
    opt_db = tmp_path / "opt.db"
    assert (
        tricrm("--db", str(opt_db), "customers", "add", "O1", "--name", "o", env=env).returncode
        == 0
    )
    no_env = {"TRICRM_DATA_DIR": str(data_dir), "TRICRM_DB": ""}
    assert tricrm("customers", "add", "D1", "--name", "d", env=no_env).returncode == 0
    assert (data_dir / "tricrm.db").exists()
    listed = tricrm("customers", "list", "-f", "json", "--db", str(opt_db), env=env)
    assert [r["code"] for r in json.loads(listed.stdout)] == ["O1"]


def test_global_options_may_follow_the_subcommand() -> None:
    assert hoist_global_options(
        ["customers", "list", "--db", "x.db", "--lang=zh_CN", "-n", "3"]
    ) == [
        "--db",
        "x.db",
        "--lang=zh_CN",
        "customers",
        "list",
        "-n",
        "3",
    ]


def test_chinese_interface(tmp_path: Path) -> None:
    out = tricrm("--lang", "zh_CN", "--db", str(tmp_path / "c.db"), "customers", "show", "X")
    assert out.stderr.strip() == "错误：没有编号为 X 的客户"
    assert "客户" in tricrm("--lang", "zh_CN", "--help").stdout


def test_cli_works_on_each_backend(db_url: str) -> None:
    url = db_url
    assert tricrm("--db", url, "customers", "add", "B1", "--name", "后端").returncode == 0
    rows = json.loads(tricrm("--db", url, "customers", "list", "-f", "json").stdout)
    assert rows[0]["name"] == "后端"
    current = json.loads(tricrm("--db", url, "db", "current", "-f", "json").stdout)
    assert current["current"] == current["head"]


def test_a_second_command_in_one_process_opens_its_own_database(tmp_path, sqlite_template) -> None:  # type: ignore[no-untyped-def]
    """``--db`` of a later command in the same process was ignored once a context was open:
    it kept writing to the first command's database."""
    from typer.testing import CliRunner

    from tricrm_tui.cli.main import build_app

    first, second = tmp_path / "a.db", tmp_path / "b.db"
    for path in (first, second):
        path.write_bytes(sqlite_template.read_bytes())
    runner, app = CliRunner(), build_app()
    assert (
        runner.invoke(app, ["--db", str(first), "customers", "add", "A1", "--name", "甲"]).exit_code
        == 0
    )
    assert (
        runner.invoke(
            app, ["--db", str(second), "customers", "add", "B1", "--name", "乙"]
        ).exit_code
        == 0
    )
    listed = runner.invoke(app, ["--db", str(second), "customers", "list", "--format", "json"])
    assert [c["code"] for c in json.loads(listed.stdout)] == ["B1"]
