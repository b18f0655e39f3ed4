"""Merges meeting later work: chains of merges, undone imports, deletions, re-imports,
several customers merged into one, points spent or earned after the merge, and two
operators merging at once. Each case once corrupted data or lied; all on both backends."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.cli_runner import invoke
from tests.factories import add_customer
from tests.unit.test_merge import _snapshot, family  # noqa: F401  (a fixture)
from tricrm_tui.models import AuditEntry, Customer, LoyaltyEntry, Order
from tricrm_tui.services import customers, importing, loyalty, merge
from tricrm_tui.services.errors import Conflict, InvalidInput

C = Customer.__table__.c


def _orders_of(ctx, code: str) -> list[str]:  # type: ignore[no-untyped-def]
    OT = Order.__table__.c
    with ctx.session() as s:
        return sorted(
            s.execute(
                sa.select(OT.order_no)
                .join(Customer.__table__, C.id == OT.customer_id)
                .where(C.code == code)
            ).scalars()
        )


def _orders_file(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    path.write_text(
        "order_no,customer_code,order_date,amount\n" + "".join(",".join(r) + "\n" for r in rows),
        "utf-8",
    )
    return path


def _balance_is_ledger(ctx, *codes: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Each customer's stored balance, checked against the sum of its ledger and against
    what its lots have left (the run expires those remainders), and never below zero."""
    from tricrm_tui.services.loyalty_rules import Entry, replay_lots

    L = LoyaltyEntry.__table__.c  # noqa: N806
    out = {}
    with ctx.session() as s:
        for code in codes:
            cid, stored = s.execute(sa.select(C.id, C.points_balance).where(C.code == code)).one()
            entries = s.execute(
                sa.select(L.id, L.kind, L.points, L.source_key, L.expires_on)
                .where(L.customer_id == cid)
                .order_by(L.id)
            ).all()
            total = sum(e.points for e in entries)
            lots = replay_lots(Entry(*e) for e in entries)
            left = sum(lot.remaining for lot in lots)
            assert stored == total == left >= 0, (code, stored, total, left)
            assert all(lot.remaining >= 0 for lot in lots), (code, lots)
            out[code] = stored
    return out


def test_a_chain_of_merges_is_undone_in_reverse_order_exactly(family) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """M1 into K, then K into M2: an order for M1 goes to M2, which holds its records;
    unmerging M1 first is refused naming K; K then M1 gives back exactly the start."""
    ctx = family
    start = _snapshot(ctx)
    merge.merge_customers(ctx, "K", ["M1"])
    merge.merge_customers(ctx, "M2", ["K"])
    with ctx.session() as s:
        pointing = dict(s.execute(sa.select(C.code, C.merged_into_id).where(C.code != "M2")).all())
        m2 = s.execute(sa.select(C.id).where(C.code == "M2")).scalar_one()
    assert pointing == {"K": m2, "M1": m2}  # M1's code leads to the customer with its orders
    with pytest.raises(Conflict, match="merged into K, which has since been merged into M2"):
        merge.unmerge_customer(ctx, "M1")
    merge.unmerge_customer(ctx, "K")
    merge.unmerge_customer(ctx, "M1")
    assert _snapshot(ctx) == start
    _balance_is_ledger(ctx, "K", "M1", "M2")


def test_order_imports_follow_merges_to_an_active_customer(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for code in ("A", "B", "C", "D", "E"):
        add_customer(ctx, code)
    merge.merge_customers(ctx, "A", ["B"])
    merge.merge_customers(ctx, "C", ["A"])
    merge.merge_customers(ctx, "D", ["E"])
    customers.delete_customer(ctx, "D")
    path = _orders_file(
        tmp_path / "o.csv", [("O1", "B", "2026-01-01", "10"), ("O2", "E", "2026-01-02", "20")]
    )
    result = importing.import_file(ctx, "orders", path)
    assert _orders_of(ctx, "C") == ["O1"]  # B → A → C, the one holding B's records
    assert [(r.line, r.code, r.reason) for r in result.rejected] == [
        (3, "deleted_customer", "customer E was merged into D, which was deleted")
    ]


def test_an_import_whose_orders_a_merge_moved_cannot_be_undone_until_unmerged(
    ctx, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Undoing it would delete rows the merge record names; SQLite gives their ids to the
    next rows, which an unmerge then moved to the wrong customer."""
    for code in ("A", "B", "C"):
        add_customer(ctx, code)
    first = importing.import_file(
        ctx,
        "orders",
        _orders_file(tmp_path / "b.csv", [("OB1", "B", "2026-01-01", "100")]),
    )
    merge.merge_customers(ctx, "A", ["B"])
    with pytest.raises(Conflict, match="OB1 was moved by merging B into A; unmerge B first"):
        importing.undo_import(ctx, first.import_id)
    importing.import_file(
        ctx, "orders", _orders_file(tmp_path / "c.csv", [("OC1", "C", "2026-02-01", "10")])
    )
    merge.unmerge_customer(ctx, "B")
    assert (_orders_of(ctx, "B"), _orders_of(ctx, "C")) == (["OB1"], ["OC1"])
    importing.undo_import(ctx, first.import_id)  # unmerged: nothing stands in the way
    assert _orders_of(ctx, "B") == []


def test_undo_of_a_customer_import_names_every_kind_of_dependant(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "A1", "Alpha")
    path = tmp_path / "c.csv"
    path.write_text("code,name\nN2,Two\nN3,Three\nN4,Four\n", "utf-8")
    result = importing.import_file(ctx, "customers", path)
    merge.mark_not_duplicate(ctx, "A1", "N2")
    loyalty.adjust_points(ctx, "N3", 100, "welcome")
    merge.merge_customers(ctx, "A1", ["N4"])
    with pytest.raises(Conflict) as refused:
        importing.undo_import(ctx, result.import_id)
    said = str(refused.value)
    assert "customer N2 now has 1 not-duplicate decisions" in said
    assert "customer N3 now has 1 loyalty ledger entries" in said
    assert "customer N4 now has 1 merges" in said


def test_a_merged_or_deleted_customer_takes_no_changes_from_a_file(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "c.csv"
    path.write_text("code,name,city\nK,Keep,深圳\nB,Bee,杭州\nD,Dee,广州\n", "utf-8")
    importing.import_file(ctx, "customers", path)
    merge.merge_customers(ctx, "K", ["B"])
    customers.delete_customer(ctx, "D")
    again = importing.import_file(ctx, "customers", path)  # the same file: all unchanged
    assert (again.updated, again.unchanged, again.rejected) == (0, 3, [])
    path.write_text("code,name,city\nB,Renamed,杭州\nD,Dee,上海\n", "utf-8")
    changed = importing.import_file(ctx, "customers", path)
    assert [(r.key, r.code, r.reason) for r in changed.rejected] == [
        ("B", "merged_customer", "customer B was merged into K; change K instead"),
        ("D", "deleted_customer", "customer D was deleted"),
    ]
    assert customers.get_customer(ctx, "B").name == "Bee"


def test_a_merged_customer_cannot_be_deleted(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "A")
    add_customer(ctx, "B")
    merge.merge_customers(ctx, "A", ["B"])
    with pytest.raises(InvalidInput, match="B is merged into A; unmerge it before deleting it"):
        customers.delete_customer(ctx, "B")
    merge.unmerge_customer(ctx, "B")
    customers.delete_customer(ctx, "B")


def test_unmerging_one_of_several_keeps_what_the_others_brought(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "K", "Keep", phone="13800002222")
    add_customer(ctx, "P", "Pee", tags="vip", custom_fields={"k": "v1"}, city="深圳")
    add_customer(ctx, "Q", "Queue", tags="vip", custom_fields={"k": "v2"}, city="深圳")
    merge.merge_customers(ctx, "K", ["P", "Q"])
    kept = customers.get_customer(ctx, "K")
    assert (kept.tags, kept.custom_fields, kept.city) == (["vip"], {"k": "v1"}, "深圳")
    merge.unmerge_customer(ctx, "P")
    kept = customers.get_customer(ctx, "K")
    # Q, still merged, brought the tag, the city and a value for k too.
    assert (kept.tags, kept.custom_fields, kept.city) == (["vip"], {"k": "v2"}, "深圳")
    merge.unmerge_customer(ctx, "Q")
    kept = customers.get_customer(ctx, "K")
    assert (kept.tags, kept.custom_fields, kept.city) == ([], {}, None)


def test_preferring_an_empty_value_is_refused(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "K", "Keep", phone="13800002222")
    add_customer(ctx, "P", "Pee")
    with pytest.raises(InvalidInput, match="--prefer phone=P: P has no phone"):
        merge.merge_customers(ctx, "K", ["P"], prefer={"phone": "P"})
    assert customers.get_customer(ctx, "K").phone == "+8613800002222"


def test_points_follow_their_orders_back_and_spent_points_are_settled(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Points earned on A for B's order go back with it; what A spent of B's points while
    merged comes out of B's, as a pair of adjustments, so neither balance goes below zero
    and each is the sum of its ledger."""
    add_customer(ctx, "A")
    add_customer(ctx, "B")
    importing.import_file(
        ctx, "orders", _orders_file(tmp_path / "o.csv", [("Z9", "B", "2026-01-05", "1250")])
    )
    loyalty.adjust_points(ctx, "B", 300, "welcome")
    merge.merge_customers(ctx, "A", ["B"])
    loyalty.run_loyalty(ctx, dt.date(2026, 2, 1))  # Z9 earns on A, which holds it now
    earned = _balance_is_ledger(ctx, "A", "B")["A"] - 300
    loyalty.redeem_points(ctx, "A", 1000, "gift")
    result = merge.unmerge_customer(ctx, "B")
    assert result.points_settled == 1000  # from B, to cover A's redemption
    assert "1000 points of B's cover what A spent of them while merged" in result.lines()
    assert _balance_is_ledger(ctx, "A", "B") == {"A": 0, "B": 300 + earned - 1000}
    assert loyalty.run_loyalty(ctx, dt.date(2026, 2, 1)).orders_accrued == 0  # Z9 not again
    # Later runs expire what the lots have left, no more: the settling entry on A covered
    # a debt, it is not fresh points (a run two years on once took A below zero).
    importing.import_file(
        ctx, "orders", _orders_file(tmp_path / "a.csv", [("OA", "A", "2026-03-01", "50")])
    )
    loyalty.run_loyalty(ctx, dt.date(2026, 3, 2))
    loyalty.run_loyalty(ctx, dt.date(2029, 1, 1))
    assert _balance_is_ledger(ctx, "A", "B") == {"A": 0, "B": 0}
    with ctx.session() as s:
        A = AuditEntry.__table__.c  # noqa: N806
        settled = s.execute(
            sa.select(A.entity_id, A.before, A.after)
            .where(A.entity == "loyalty", A.action == "adjust", A.after["points"].as_integer() != 0)
            .order_by(A.id)
        ).all()
    assert [(e.entity_id, e.after["points"]) for e in settled][-2:] == [("B", -1000), ("A", 1000)]


def test_a_merged_customers_own_spending_is_settled_from_the_kept_one(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """B redeemed before the merge; on the merged ledger that redemption drew on A's lot
    (expiring first), so B's own lot expired whole: back on its own, B is short what it
    spent, and A over by as much. The kept customer was blamed and the advice did not help."""
    add_customer(ctx, "A")
    add_customer(ctx, "B")
    importing.import_file(
        ctx,
        "orders",
        _orders_file(
            tmp_path / "o.csv",
            [("OA", "A", "2024-01-05", "1000"), ("OB", "B", "2024-06-05", "1000")],
        ),
    )
    loyalty.run_loyalty(ctx, dt.date(2024, 7, 1))
    loyalty.redeem_points(ctx, "B", 50, "gift")
    merge.merge_customers(ctx, "A", ["B"])
    loyalty.run_loyalty(ctx, dt.date(2030, 1, 1))  # every lot expires
    result = merge.unmerge_customer(ctx, "B")
    assert result.points_settled == -50
    assert _balance_is_ledger(ctx, "A", "B") == {"A": 0, "B": 0}
    # B's lots have as much left as its balance (its settled debt paid, not fresh points):
    # a goodwill lot is B's in full, for the run to expire when it is due and not before.
    loyalty.adjust_points(ctx, "B", 20, "goodwill")
    assert _balance_is_ledger(ctx, "A", "B") == {"A": 0, "B": 20}


def test_a_later_preferred_value_goes_back_to_what_was_there_before_both(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "K", "Keep")
    add_customer(ctx, "A", "Aa", email="a@example.com")
    add_customer(ctx, "D", "Dd", email="d@example.com")
    start = _snapshot(ctx)
    merge.merge_customers(ctx, "K", ["A"])  # A fills K's email
    merge.merge_customers(ctx, "K", ["D"], prefer={"email": "D"})  # D's replaces it
    first = merge.unmerge_customer(ctx, "A")
    assert first.fields_kept == []  # only a merge changed it: nothing to warn about
    assert customers.get_customer(ctx, "K").email == "d@example.com"
    merge.unmerge_customer(ctx, "D")
    assert customers.get_customer(ctx, "K").email is None
    assert _snapshot(ctx) == start


@pytest.mark.parametrize("order", ["ADE", "AED", "DAE", "DEA", "EAD", "EDA"])
def test_preferred_values_along_three_merges_unmerge_in_any_order(ctx, order: str) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "K", "Keep")
    for code in "ADE":
        add_customer(ctx, code, f"N{code}", email=f"{code.lower()}@example.com")
    start = _snapshot(ctx)
    merge.merge_customers(ctx, "K", ["A"])
    merge.merge_customers(ctx, "K", ["D"], prefer={"email": "D"})
    merge.merge_customers(ctx, "K", ["E"], prefer={"email": "E"})
    for code in order:
        assert merge.unmerge_customer(ctx, code).fields_kept == []  # only merges changed it
    assert _snapshot(ctx) == start


def test_a_merge_made_on_a_slow_clock_still_stops_the_undo(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Which merges moved an import's rows is read from where the rows are, not from the
    times two machines' clocks gave the import and the merge."""
    add_customer(ctx, "A")
    add_customer(ctx, "B")
    first = importing.import_file(
        ctx, "orders", _orders_file(tmp_path / "b.csv", [("OB1", "B", "2026-01-01", "100")])
    )
    real = ctx.clock
    ctx.clock = lambda: real() - dt.timedelta(minutes=2)
    merge.merge_customers(ctx, "A", ["B"])
    ctx.clock = real
    with pytest.raises(Conflict, match="OB1 was moved by merging B into A"):
        importing.undo_import(ctx, first.import_id)


def test_merge_and_unmerge_are_audited_with_before_values_on_both_sides(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "K", "Keep")
    add_customer(ctx, "P", "Pee", phone="13800002222", tags="vip")
    loyalty.adjust_points(ctx, "P", 50, "welcome")
    merge.merge_customers(ctx, "K", ["P"])
    merge.unmerge_customer(ctx, "P")
    A = AuditEntry.__table__.c  # noqa: N806
    with ctx.session() as s:
        entries = {
            action: (before, after)
            for action, before, after in s.execute(
                sa.select(A.action, A.before, A.after).where(A.entity_id == "K")
            )
        }
    before, after = entries["merge_keep"]
    assert before == {"phone": None, "points_balance": 0, "tags": []}
    assert (after["points_balance"], after["tags"]) == (50, ["vip"])
    before, after = entries["unmerge_keep"]
    assert (before["phone"], before["points_balance"], before["tags"]) == (
        "+8613800002222", 50, ["vip"],
    )  # fmt: skip
    assert (after["phone"], after["points_balance"], after["tags"]) == (None, 0, [])


def test_two_merges_at_once_cannot_merge_into_a_customer_being_merged(ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Merge C11 into C10 holds its transaction open; merge C12 into C11 meanwhile waits
    for it and is then refused: C11 is merged. (Without row locks on PostgreSQL both
    committed and C12's records went to the hidden C11.)"""
    for code in ("C10", "C11", "C12"):
        add_customer(ctx, code)
    real, inside = merge._refresh, threading.Event()

    def slow(s, ctx_, ids):  # type: ignore[no-untyped-def]
        real(s, ctx_, ids)
        if threading.current_thread().name == "first":
            inside.set()
            threading.Event().wait(1.0)

    monkeypatch.setattr(merge, "_refresh", slow)
    errors: list[Exception] = []
    first = threading.Thread(target=merge.merge_customers, args=(ctx, "C10", ["C11"]), name="first")
    first.start()
    assert inside.wait(10)
    try:
        merge.merge_customers(ctx, "C11", ["C12"])
    except Exception as exc:  # noqa: BLE001 - which one is the point
        errors.append(exc)
    first.join()
    assert len(errors) == 1
    assert isinstance(errors[0], InvalidInput) or "locked" in str(errors[0]), errors
    with ctx.session() as s:
        assert s.execute(sa.select(C.merged_into_id).where(C.code == "C12")).scalar_one() is None


def test_cli_merge_in_json_names_the_merged(ctx, db_url: str) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "K")
    add_customer(ctx, "P")
    res = invoke(db_url, "customers", "merge", "K", "P", "--format", "json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["merged"] == ["P"]


def test_cli_merge_and_unmerge_in_csv_print_field_value_rows(ctx, db_url: str) -> None:  # type: ignore[no-untyped-def]
    """Scripts asking for CSV got nothing on standard output."""
    import csv as csv_module

    add_customer(ctx, "K")
    add_customer(ctx, "P")
    for args in (("merge", "K", "P"), ("unmerge", "P")):
        res = invoke(db_url, "customers", *args, "--format", "csv")
        assert res.exit_code == 0, res.output
        rows = dict(list(csv_module.reader(res.stdout.splitlines()))[1:])
        assert rows.get("merged", rows.get("restored")) in ('["P"]', "P"), rows
