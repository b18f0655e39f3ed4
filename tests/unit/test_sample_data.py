"""The sample files the README tour imports: as their script writes them, and importing
with the rows and rejects the tour shows, on both backends."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from tests.cli_runner import invoke

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"


def test_the_committed_samples_are_what_their_script_writes(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "HERE", tmp_path)
    module.main()
    for path in sorted(tmp_path.iterdir()):
        assert path.read_bytes() == (SAMPLES / path.name).read_bytes(), path.name


def _import(db_url: str, kind: str, name: str) -> dict:  # type: ignore[type-arg]
    res = invoke(db_url, "import", kind, str(SAMPLES / name), "--format", "json")
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


@pytest.mark.usefixtures("ctx")
def test_the_readme_tour_imports_the_samples(db_url: str) -> None:
    """GBK customers with their five bad rows, then the call log: four contacts, three of
    them with a next-contact date that becomes a follow-up, two lines refused; the undo of
    the call log takes its follow-ups with it."""
    customers = _import(db_url, "customers", "customers_gbk.csv")
    assert (customers["inserted"], customers["rejected_count"]) == (10, 5)
    calls = _import(db_url, "interactions", "interactions.csv")
    assert (calls["inserted"], calls["follow_ups_created"]) == (4, 3)
    assert [(r["line"], r["field"], r["code"]) for r in calls["rejected"]] == [
        (6, "follow_up", "missing_required"),
        (7, "customer_code", "unknown_customer"),
    ]
    listed = json.loads(invoke(db_url, "followups", "list", "--format", "json").stdout)
    items = listed["items"] if isinstance(listed, dict) else listed
    assert sorted(r["reason"] for r in items) == [
        "Follow up: 年度采购洽谈",
        "寄送礼盒报价",
        "确认补发",
    ]
    res = invoke(db_url, "import", "undo", str(calls["import_id"]))
    assert res.exit_code == 0, res.output
    after = json.loads(invoke(db_url, "followups", "list", "--format", "json").stdout)
    assert (after["items"] if isinstance(after, dict) else after) == []
