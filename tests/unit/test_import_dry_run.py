"""``--dry-run`` rejects the lines the real import rejects, with the same codes, and counts
what it counts, wherever the batches split: files of repeated keys (blanks, other values,
unknown or deleted customers, tags, follow-ups) in every mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.cli_runner import invoke
from tricrm_tui.models import Customer, CustomerTag, FollowUp, Interaction, Order
from tricrm_tui.services import classify, customers, importing

HEADERS = {
    "customers": "code,name,phone,tags\n",
    "orders": "order_no,customer_code,order_date,amount,quantity\n",
    "interactions": "external_key,customer_code,channel,occurred_at,subject,follow_up,"
    "follow_up_reason\n",
}

FILES: dict[str, tuple[str, str]] = {
    # A repeat naming a customer there is none of, after a first line that was written.
    "orders-unknown-customer": (
        "orders",
        "O1,A,2026-01-01,10,\nO1,ZZ,2026-01-01,10,\nO2,ZZ,2026-01-01,10,\nO2,ZZ,2026-01-01,11,\n",
    ),
    # Blanks where the first line had values (and a value the first left at its default).
    "orders-blanks": (
        "orders",
        "O3,A,2026-01-01,10,2\nO4,B,2026-01-01,10,\nO3,A,2026-01-01,10,\nO4,B,2026-01-01,10,1\n"
        "S1,A,2026-01-01,10,\nS1,A,2026-01-01,12,\n",
    ),
    # A deleted customer's stored order repeated, changed, and moved to it.
    "orders-deleted-customer": (
        "orders",
        "S2,D,2026-01-01,10,\nS2,D,2026-01-01,11,\nS1,D,2026-01-01,10,\nS2,D,2026-01-01,10,\n"
        "O5,D,2026-01-01,1,\nO5,A,2026-01-01,1,\n",
    ),
    # Tags and a blank phone on a stored and on a new customer; a new one without a name.
    "customers-tags": (
        "customers",
        "K2,Kim,13912345678,vip\nK2,Kim,13912345678,vip\nK1,Kay,,\nK2,Kim,,vip\n"
        "K1,Kay,13812345678,new\nK3,,,\nK3,Kit,,\nK1,Kay,,\n",
    ),
    # Follow-ups: blank subject and reason, a moved task, a customer unknown or deleted.
    "interactions-follow-ups": (
        "interactions",
        "I1,A,phone,2026-01-01,hi,2026-02-01,x\nT1,B,phone,2026-01-01,hi,,\n"
        "I1,A,phone,2026-01-01,,2026-02-01,\nT1,ZZ,phone,2026-01-01,hi,,\n"
        "I1,D,phone,2026-01-01,hi,2026-02-01,x\nT1,B,phone,2026-01-01,hi,2026-03-01,\n"
        "T2,D,phone,2026-01-01,yo,,\nT2,D,phone,2026-01-01,new,,\n",
    ),
}


@pytest.fixture
def stored(ctx: Any, tmp_path: Path) -> Any:
    """Customers A and B, D deleted after its order S2 and contact T2; S1 and T1 on A (T1
    with a follow-up); K1 with a phone and a tag."""
    for code in "ABD":
        customers.add_customer(ctx, {"code": code, "name": code})
    base = {
        "orders": "S1,A,2026-01-01,10,\nS2,D,2026-01-01,10,\n",
        "interactions": "T1,A,phone,2026-01-01,hi,2026-02-01,\nT2,D,phone,2026-01-01,yo,,\n",
        "customers": "K1,Kay,13812345678,\n",
    }
    for kind, body in base.items():
        path = tmp_path / f"base-{kind}.csv"
        path.write_text(HEADERS[kind] + body, "utf-8")
        assert importing.import_file(ctx, kind, path).rejected == []
    classify.tag_customer(ctx, "K1", ["old"])
    customers.delete_customer(ctx, "D")
    return ctx


def _outcome(result: importing.ImportResult) -> tuple[list[tuple[Any, ...]], dict[str, int]]:
    counts = (
        "inserted", "updated", "unchanged", "skipped", "duplicates", "rejected_count",
        "follow_ups_created", "follow_ups_moved",
    )  # fmt: skip
    return (
        [(r.line, r.key, r.field, r.code) for r in result.rejected],
        {name: getattr(result, name) for name in counts},
    )


def _dump(ctx: Any) -> list[Any]:
    tables = (Customer.__table__, CustomerTag.__table__, Order.__table__,
              Interaction.__table__, FollowUp.__table__)  # fmt: skip
    with ctx.session() as s:
        return [list(s.execute(sa.select(t).order_by(*t.primary_key.columns))) for t in tables]


@pytest.mark.parametrize("name", sorted(FILES))
def test_the_dry_run_rejects_and_counts_what_the_real_run_does(
    stored: Any, tmp_path: Path, name: str
) -> None:
    kind, body = FILES[name]
    path = tmp_path / f"{name}.csv"
    path.write_text(HEADERS[kind] + body, "utf-8")
    for mode in importing.MODES:
        for batch_size in (1, 2, 5000):
            before = _dump(stored)
            dry = importing.import_file(
                stored, kind, path, mode=mode, batch_size=batch_size, dry_run=True
            )
            assert _dump(stored) == before  # it wrote nothing
            real = importing.import_file(stored, kind, path, mode=mode, batch_size=batch_size)
            assert _outcome(dry) == _outcome(real), (mode, batch_size)
            importing.undo_import(stored, real.import_id)


def test_a_repeat_in_a_later_batch_is_judged_as_the_real_run_judges_it(
    stored: Any, tmp_path: Path
) -> None:
    """Across batches the dry run once compared a repeat with its first line's values
    alone: it refused a repeat with a blank cell the real run counts as a repeat, and
    refused as ``duplicate_key`` a repeat the real run refuses for its unknown customer."""
    path = tmp_path / "o.csv"
    path.write_text(
        HEADERS["orders"] + "O1,A,2026-01-01,10,2\nO1,A,2026-01-01,10,\nO1,ZZ,2026-01-01,10,2\n",
        "utf-8",
    )
    dry = importing.import_file(stored, "orders", path, batch_size=1, dry_run=True)
    assert (dry.inserted, dry.duplicates) == (1, 1)
    assert [(r.line, r.field, r.code) for r in dry.rejected] == [
        (4, "customer_code", "unknown_customer")
    ]


def test_skip_and_insert_only_count_an_identical_repeat_of_a_new_customers_tags(
    stored: Any, tmp_path: Path
) -> None:
    """Those modes read no stored tags, so a repeat in a later batch of a customer the
    file added with tags was refused as ``duplicate_key``: its tags looked new."""
    path = tmp_path / "c.csv"
    path.write_text(HEADERS["customers"] + "N1,Ann,,vip\nN1,Ann,,vip\n", "utf-8")
    for mode in ("skip", "insert-only"):
        result = importing.import_file(stored, "customers", path, mode=mode, batch_size=1)
        assert (result.rejected, result.duplicates) == ([], 1), mode
        importing.undo_import(stored, result.import_id)


def test_cli_dry_run_json_lists_the_rejects_of_the_real_run(db_url: str, tmp_path: Path) -> None:
    for code in "AB":
        assert invoke(db_url, "customers", "add", code, "--name", code).exit_code == 0
    kind, body = FILES["orders-unknown-customer"]
    path = tmp_path / "o.csv"
    path.write_text(HEADERS[kind] + body + "O3,B,2026-01-01,5,2\nO3,B,2026-01-01,5,\n", "utf-8")
    runs = []
    for extra in (["--dry-run"], []):
        res = invoke(db_url, "import", kind, str(path), "--batch-size", "1", "--format", "json",
                     *extra)  # fmt: skip
        assert res.exit_code == 0, res.output
        out = json.loads(res.stdout)
        runs.append(([(r["line"], r["code"]) for r in out["rejected"]], out["duplicates"]))
    assert runs[0] == runs[1]
    assert runs[1][1] == 1  # O3 with a blank quantity repeats its first line
    # Each line refused for its customer, the one its first line conflicts with included.
    assert runs[1][0] == [(3, "unknown_customer"), (4, "unknown_customer"),
                          (5, "unknown_customer")]  # fmt: skip


def test_a_workbook_is_read_twice_by_a_dry_run(stored: Any, tmp_path: Path) -> None:
    """The dry run's first pass reads the file before its batches do: a workbook, closed
    after one read, is opened again."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(HEADERS["orders"].strip().split(","))
    for row in (["O1", "A", "2026-01-01", 10, 2], ["O1", "A", "2026-01-01", 10, None],
                ["O1", "ZZ", "2026-01-01", 10, 2]):  # fmt: skip
        ws.append(row)
    path = tmp_path / "o.xlsx"
    wb.save(path)
    outcomes = [
        _outcome(importing.import_file(stored, "orders", path, batch_size=1, dry_run=dry))
        for dry in (True, False)
    ]
    assert outcomes[0] == outcomes[1]
    assert outcomes[1][0] == [(4, "O1", "customer_code", "unknown_customer")]


@pytest.mark.parametrize("mode", importing.MODES)
@pytest.mark.parametrize("batch_size", [1, 5000])
def test_a_repeat_naming_no_customer_is_rejected_for_that_wherever_the_batches_split(
    stored: Any, tmp_path: Path, mode: str, batch_size: int
) -> None:
    """A later line of a key with other values whose customer is unknown (or deleted, not
    holding the record) is rejected for its customer, not as ``duplicate_key``: that fault
    stays once the line it conflicts with is corrected or dropped. It was ``duplicate_key``
    within a batch, or after a first line that wrote nothing (rejected itself, skipped or
    refused as already there), and ``unknown_customer`` after one that was written."""
    path = tmp_path / "o.csv"
    path.write_text(
        HEADERS["orders"] + "O1,ZZ,2026-01-01,10,\nO1,ZZ,2026-01-01,11,\n"  # both unknown
        "O2,A,2026-01-01,10,\nO2,ZZ,2026-01-01,10,\n"  # the first one written
        "S1,A,2026-01-01,10,\nS1,YY,2026-01-01,10,\n"  # stored: skipped, refused, unchanged
        "O3,A,2026-01-01,10,\nO3,D,2026-01-01,10,\nO3,B,2026-01-01,10,\n",  # deleted, other
        "utf-8",
    )
    first = {"skip": [], "update": [], "insert-only": [(6, "order_no", "already_exists")]}
    for dry_run in (True, False):
        result = importing.import_file(
            stored, "orders", path, mode=mode, batch_size=batch_size, dry_run=dry_run
        )
        assert [(r.line, r.field, r.code) for r in result.rejected] == sorted(
            [
                (2, "customer_code", "unknown_customer"),
                (3, "customer_code", "unknown_customer"),
                (5, "customer_code", "unknown_customer"),
                (7, "customer_code", "unknown_customer"),
                (9, "customer_code", "deleted_customer"),
                (10, "order_no", "duplicate_key"),
                *first[mode],
            ]
        ), dry_run
