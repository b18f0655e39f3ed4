"""Loyalty ledger properties under random sequences of operations (hypothesis, SQLite).

Each example gets a fresh database copied from the migrated template inside the test body
(a function-scoped fixture would be shared by every example). A small reference model, written
from the rules in docs/LOYALTY.md and independent of the ledger replay, predicts every balance.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import add_customer, add_orders
from tricrm_tui.models import Customer, LevelChange, LoyaltyEntry
from tricrm_tui.services import loyalty
from tricrm_tui.services.context import Actor, open_context
from tricrm_tui.services.errors import InvalidInput
from tricrm_tui.services.loyalty_rules import (
    DEFAULT_LEVELS,
    Entry,
    LoyaltyConfig,
    add_months,
    replay_lots,
)

L = LoyaltyEntry.__table__
C = Customer.__table__
START = dt.date(2024, 1, 1)
CODES = ("A", "B")

# Level multipliers of 1 keep points = floor(amount): the model need not track levels.
CONFIG = LoyaltyConfig(
    expiry_months=1,
    window_months=2,
    hold_months=1,
    birthday_multiplier=Decimal("1"),
    levels=tuple(
        lv.__class__(lv.name, lv.rank, lv.min_points // 10, lv.min_spend / 10, Decimal("1"))
        for lv in DEFAULT_LEVELS
    ),
)


@dataclass
class Model:
    """Lots per customer as [expires_on, seq, remaining]; pending orders as (date, points)."""

    lots: dict[str, list[list]] = field(default_factory=lambda: {c: [] for c in CODES})
    pending: dict[str, list[tuple[dt.date, int]]] = field(
        default_factory=lambda: {c: [] for c in CODES}
    )
    seq: itertools.count = field(default_factory=itertools.count)

    def balance(self, code: str) -> int:
        return sum(lot[2] for lot in self.lots[code])

    def credit(self, code: str, points: int, expires: dt.date) -> None:
        self.lots[code].append([expires, next(self.seq), points])

    def debit(self, code: str, points: int) -> bool:
        if points > self.balance(code):
            return False
        for lot in sorted(self.lots[code], key=lambda lot: (lot[0], lot[1])):
            take = min(points, lot[2])
            lot[2] -= take
            points -= take
        return True

    def run(self, day: dt.date) -> None:
        for code in CODES:
            due = [o for o in self.pending[code] if o[0] <= day]
            self.pending[code] = [o for o in self.pending[code] if o[0] > day]
            for order_day, points in due:
                self.credit(code, points, add_months(order_day, CONFIG.expiry_months))
            for lot in self.lots[code]:
                if lot[0] <= day:
                    lot[2] = 0


operation = st.one_of(
    st.tuples(
        st.just("order"),
        st.sampled_from(CODES),
        st.integers(-45, 10),
        st.decimals(min_value=0, max_value=400, places=2),
    ),
    st.tuples(st.just("redeem"), st.sampled_from(CODES), st.integers(1, 300)),
    st.tuples(st.just("adjust"), st.sampled_from(CODES), st.integers(-300, 300).filter(bool)),
    st.tuples(st.just("wait"), st.integers(1, 40)),
    st.tuples(st.just("run")),
)


def snapshot(ctx) -> tuple:  # type: ignore[no-untyped-def]
    with ctx.session() as s:
        entries = s.execute(sa.select(L).order_by(L.c.id)).all()
        customers = s.execute(
            sa.select(C.c.code, C.c.points_balance, C.c.member_level).order_by(C.c.code)
        ).all()
        changes = s.execute(sa.select(sa.func.count()).select_from(LevelChange.__table__))
        return tuple(entries), tuple(customers), changes.scalar_one()


def check_ledger(ctx, model: Model, last_run: dt.date | None) -> None:  # type: ignore[no-untyped-def]
    with ctx.session() as s:
        for code in CODES:
            cid, kept = s.execute(
                sa.select(C.c.id, C.c.points_balance).where(C.c.code == code)
            ).one()
            rows = s.execute(sa.select(L).where(L.c.customer_id == cid).order_by(L.c.id)).all()
            total = sum(r.points for r in rows)
            assert kept == total == model.balance(code) >= 0, (code, kept, total)
            lots = replay_lots(
                Entry(r.id, r.kind, r.points, r.source_key, r.expires_on) for r in rows
            )
            assert sum(lot.remaining for lot in lots) == total
            assert all(0 <= lot.remaining <= lot.points for lot in lots)
            expired = {r.source_key.split(":")[1]: r for r in rows if r.kind == "expire"}
            for lot in lots:
                if last_run is not None and lot.expires_on and lot.expires_on <= last_run:
                    assert lot.remaining == 0  # every lot due by the last run is used up
                hit = expired.get(str(lot.id))
                if hit is not None:
                    # an expiry happens on the lot's own day, never before it
                    assert hit.at.astimezone(dt.UTC).date() == lot.expires_on
                    assert hit.source_key == f"expire:{lot.id}:{lot.expires_on.isoformat()}"
                    assert last_run is not None and lot.expires_on <= last_run


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(operation, min_size=4, max_size=40))
def test_random_operations_keep_the_ledger_exact(sqlite_template: Path, ops: list[tuple]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "t.db"
        shutil.copy(sqlite_template, target)
        ctx = open_context(str(target), Actor("prop", "admin"))
        try:
            _play(ctx, ops)
        finally:
            ctx.db.dispose()


def _play(ctx, ops: list[tuple]) -> None:  # type: ignore[no-untyped-def]
    today = START
    ctx.clock = lambda: dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC)
    for code in CODES:
        add_customer(ctx, code)
    model = Model()
    last_run: dt.date | None = None
    for op in ops:
        kind = op[0]
        if kind == "order":
            _k, code, offset, amount = op
            day = today + dt.timedelta(days=offset)
            add_orders(ctx, code, [(day, amount)])
            model.pending[code].append((day, int(amount)))
        elif kind in ("redeem", "adjust"):
            _k, code, points = op
            n = -points if kind == "redeem" else points
            if n > 0:
                model.credit(code, n, add_months(today, CONFIG.expiry_months))
                ok = True
            else:
                ok = model.debit(code, -n)
            try:
                if kind == "redeem":
                    loyalty.redeem_points(ctx, code, points, "prop", CONFIG)
                else:
                    loyalty.adjust_points(ctx, code, points, "prop", CONFIG)
                assert ok, "the service allowed a debit above the balance"
            except InvalidInput:
                assert not ok, "the service refused a debit within the balance"
        elif kind == "wait":
            today = today + dt.timedelta(days=op[1])
        else:
            loyalty.run_loyalty(ctx, today, CONFIG)
            model.run(today)
            last_run = today
            before = snapshot(ctx)
            assert not loyalty.run_loyalty(ctx, today, CONFIG).changed
            assert snapshot(ctx) == before
        check_ledger(ctx, model, last_run)
