"""Two operators merging, unmerging and marking pairs at once, on both backends: each
operation locks every customer row it writes, in one order, before it reads them; so the
second waits for the first and then works from what the first committed. Before, two
unmerges from one customer left it wrong on PostgreSQL, and a merge beside an unmerge or a
not-duplicate decision deadlocked (reported as "cannot use database")."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from tests.factories import add_customer
from tests.unit.test_merge import _snapshot
from tricrm_tui.services import customers, merge


def race(
    monkeypatch: pytest.MonkeyPatch,
    pause_in: str,
    first: Callable[[], Any],
    second: Callable[[], Any],
) -> dict[str, Any]:
    """Run ``first`` in a thread that stops for a second inside ``merge.<pause_in>`` (its
    locks held), and ``second`` meanwhile; what each returned or raised."""
    real, inside = getattr(merge, pause_in), threading.Event()

    def paused(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        if threading.current_thread().name == "first" and not inside.is_set():
            inside.set()
            threading.Event().wait(1.0)
        return out

    monkeypatch.setattr(merge, pause_in, paused)
    results: dict[str, Any] = {}

    def run(name: str, fn: Callable[[], Any]) -> None:
        try:
            results[name] = fn()
        except Exception as exc:  # noqa: BLE001 - what each ended with is the point
            results[name] = exc

    thread = threading.Thread(target=run, args=("first", first), name="first")
    thread.start()
    assert inside.wait(10)
    run("second", second)
    thread.join()
    assert not any("deadlock" in str(v) or "cannot use database" in str(v)
                   for v in results.values()), results  # fmt: skip
    return results


def test_two_unmerges_from_one_customer_at_once_restore_it_exactly(ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "K", "Keep", phone="13800002222")
    add_customer(ctx, "P", "Pee", tags="vip", custom_fields={"k": "v1"}, city="深圳")
    add_customer(ctx, "Q", "Queue", tags="vip", custom_fields={"k": "v2"}, city="深圳")
    start = _snapshot(ctx)
    merge.merge_customers(ctx, "K", ["P", "Q"])
    race(
        monkeypatch,
        "_ledger_sums",  # P's unmerge holds K, having handed Q what P brought
        lambda: merge.unmerge_customer(ctx, "P"),
        lambda: merge.unmerge_customer(ctx, "Q"),
    )
    kept = customers.get_customer(ctx, "K")
    assert (kept.tags, kept.custom_fields, kept.city) == ([], {}, None)
    assert _snapshot(ctx) == start


def test_a_merge_beside_an_unmerge_waits_and_is_then_refused_or_applied(ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for code in ("A", "B", "C"):
        add_customer(ctx, code)
    merge.merge_customers(ctx, "A", ["B"])
    results = race(
        monkeypatch,
        "_tags_for",  # the merge of A into C holds A, C and B (which it redirects)
        lambda: merge.merge_customers(ctx, "C", ["A"]),
        lambda: merge.unmerge_customer(ctx, "B"),
    )
    assert isinstance(results["first"], merge.MergeResult)
    assert "unmerge A first" in str(results["second"])


def test_a_not_duplicate_decision_beside_a_merge_does_not_deadlock(ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "A")
    add_customer(ctx, "B")
    results = race(
        monkeypatch,
        "_row",
        lambda: merge.mark_not_duplicate(ctx, "B", "A"),
        lambda: merge.merge_customers(ctx, "A", ["B"]),
    )
    assert results["first"] is True and isinstance(results["second"], merge.MergeResult)


def _lockable(ctx: Any, code: str) -> bool:
    """Whether another connection could lock ``code``'s row right now (PostgreSQL)."""
    import sqlalchemy as sa

    from tricrm_tui.models import Customer

    C = Customer.__table__.c
    with ctx.db.engine.connect() as conn:
        try:
            conn.execute(sa.select(C.id).where(C.code == code).with_for_update(nowait=True)).all()
        except sa.exc.OperationalError:
            return False
        finally:
            conn.rollback()
    return True


def test_a_merge_committed_while_the_lock_waits_is_locked_too(ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """O is merged into K while another operator, holding O, merges Y into O. PostgreSQL
    chose the rows of K's lock statement before it waited, so the statement misses Y, which
    the merge then redirects to K: the lock is asked again until it holds Y too."""
    for code in ("K", "O", "Y"):
        add_customer(ctx, code)
    real, lockable = merge._locked, []

    def checked(*args: Any) -> Any:
        found = real(*args)
        if threading.current_thread().name != "first":
            lockable.append(_lockable(ctx, "Y"))
        return found

    monkeypatch.setattr(merge, "_locked", checked)
    results = race(
        monkeypatch,
        "_tags_for",  # the merge of Y into O holds O and Y, and commits a second later
        lambda: merge.merge_customers(ctx, "O", ["Y"]),
        lambda: merge.merge_customers(ctx, "K", ["O"]),
    )
    assert isinstance(results["first"], merge.MergeResult), results
    assert isinstance(results["second"], merge.MergeResult), results
    if ctx.db.backend == "postgresql":  # SQLite's write lock is taken before anything is read
        assert lockable == [False]
    assert [customers.get_customer(ctx, c).merged_into for c in ("O", "Y")] == ["K", "K"]
