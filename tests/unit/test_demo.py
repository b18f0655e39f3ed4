"""The demo database: realistic shape, consistent references, deterministic for a seed."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import phonenumbers
import pytest
import sqlalchemy as sa

from tests.factories import add_customer
from tricrm_tui.models import (
    AuditEntry,
    Customer,
    Feedback,
    FollowUp,
    LoyaltyEntry,
    Order,
    OrderLine,
    StageEvent,
)
from tricrm_tui.services import demo, demo_data
from tricrm_tui.services.demo import DEMO_TABLES, build_demo
from tricrm_tui.services.errors import Conflict
from tricrm_tui.services.normalize import normalise_email

AS_OF = dt.date(2026, 3, 15)
C = Customer.__table__.c
O = Order.__table__.c  # noqa: E741


def content_digest(ctx) -> str:  # type: ignore[no-untyped-def]
    """A hash of every demo table's rows in primary-key order (the audit trail excluded)."""
    h = hashlib.sha256()
    with ctx.session() as s:
        for table in DEMO_TABLES:
            rows = s.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
            h.update(table.name.encode())
            for row in rows:
                h.update(repr(tuple(row)).encode())
    return h.hexdigest()


def scalar(ctx, query):  # type: ignore[no-untyped-def]
    with ctx.session() as s:
        return s.execute(query).scalar_one()


def test_small_build_fills_every_table_in_range(ctx) -> None:  # type: ignore[no-untyped-def]
    counts = build_demo(ctx, customers=200, seed=1, as_of=AS_OF)
    assert counts.customers == 200
    assert 200 * 6 <= counts.orders <= 200 * 15  # about ten orders each
    assert counts.order_lines >= counts.orders
    for name, value in counts.to_dict().items():
        if name != "seconds":
            assert value > 0, name
    with ctx.session() as s:
        for table in DEMO_TABLES:
            n = s.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            assert n > 0, table.name
        demo_entries = s.execute(
            sa.select(AuditEntry.__table__.c.after).where(AuditEntry.__table__.c.action == "demo")
        ).all()
    # One audit entry for the whole build, carrying the counts.
    assert len(demo_entries) == 1
    assert demo_entries[0].after["orders"] == counts.orders


def test_same_seed_same_content_and_replace(ctx, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(demo, "ORDER_BLOCK", 50)
    build_demo(ctx, customers=150, seed=7, as_of=AS_OF)
    first = content_digest(ctx)
    build_demo(ctx, customers=150, seed=7, as_of=AS_OF, replace=True)
    assert content_digest(ctx) == first
    build_demo(ctx, customers=150, seed=8, as_of=AS_OF, replace=True)
    assert content_digest(ctx) != first


def test_refuses_a_database_with_customers(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "K1", "张三")
    with pytest.raises(Conflict, match="--replace"):
        build_demo(ctx, customers=50, as_of=AS_OF)
    assert scalar(ctx, sa.select(sa.func.count()).select_from(Customer.__table__)) == 1
    build_demo(ctx, customers=50, as_of=AS_OF, replace=True)
    with ctx.session() as s:
        codes = set(s.execute(sa.select(C.code)).scalars())
    assert "K1" not in codes and len(codes) == 50


def test_the_demo_writes_the_aggregates_the_refresh_would(ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Its own order aggregates, distinct purchase days included, without the refresh."""
    monkeypatch.setattr(demo, "ORDER_BLOCK", 64)
    monkeypatch.setattr(demo, "refresh_customer_aggregates", lambda *_a, **_k: 0)
    build_demo(ctx, customers=200, seed=5, as_of=AS_OF)
    with ctx.session() as s:
        grouped = {
            cid: (n, days, first, last)
            for cid, n, days, first, last in s.execute(
                sa.select(
                    O.customer_id,
                    sa.func.count(),
                    sa.func.count(sa.distinct(O.order_date)),
                    sa.func.min(O.order_date),
                    sa.func.max(O.order_date),
                )
                .where(O.status != "cancelled")
                .group_by(O.customer_id)
            )
        }
        stored = {
            cid: (n, days, first, last)
            for cid, n, days, first, last in s.execute(
                sa.select(C.id, C.order_count, C.purchase_days, C.first_order_on, C.last_order_on)
            )
            if n
        }
    assert stored == grouped
    assert any(n > days for n, days, _f, _l in stored.values())  # same-day orders occur


def test_references_and_aggregates_hold(ctx, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    # Orders are drawn per block of customers: make several blocks here.
    monkeypatch.setattr(demo, "ORDER_BLOCK", 64)
    build_demo(ctx, customers=200, seed=3, as_of=AS_OF)
    L = OrderLine.__table__.c
    E = LoyaltyEntry.__table__.c
    with ctx.session() as s:
        orphans = s.execute(
            sa.select(sa.func.count())
            .select_from(Order.__table__.outerjoin(Customer.__table__, C.id == O.customer_id))
            .where(C.id.is_(None))
        ).scalar_one()
        assert orphans == 0
        # Denormalised order aggregates agree with the orders themselves.
        agg = {
            cid: (n, Decimal(total))
            for cid, n, total in s.execute(
                sa.select(O.customer_id, sa.func.count(), sa.func.sum(O.amount))
                .where(O.status != "cancelled")
                .group_by(O.customer_id)
            )
        }
        for cid, n, total, first, last, registered in s.execute(
            sa.select(
                C.id,
                C.order_count,
                C.total_spent,
                C.first_order_on,
                C.last_order_on,
                C.registered_on,
            )
        ):
            expected_n, expected_total = agg.get(cid, (0, Decimal("0")))
            assert (n, Decimal(total).quantize(Decimal("0.01"))) == (
                expected_n,
                expected_total.quantize(Decimal("0.01")),
            )
            if n:
                assert registered <= first <= last <= AS_OF
        # An order's amount is the sum of its lines.
        mismatched = s.execute(
            sa.select(sa.func.count()).select_from(
                sa.select(O.id)
                .join(OrderLine.__table__, L.order_id == O.id)
                .group_by(O.id, O.amount)
                .having(sa.func.abs(sa.func.sum(L.amount) - O.amount) > Decimal("0.001"))
                .subquery()
            )
        ).scalar_one()
        assert mismatched == 0
        # Every earn entry names a completed order of the same customer.
        bad_earn = s.execute(
            sa.select(sa.func.count())
            .select_from(LoyaltyEntry.__table__)
            .outerjoin(
                Order.__table__,
                sa.and_(
                    E.source_key == sa.literal("order:") + O.order_no,
                    O.customer_id == E.customer_id,
                    O.status == "completed",
                ),
            )
            .where(E.kind == "earn", O.id.is_(None))
        ).scalar_one()
        assert bad_earn == 0
        # Points balances are the ledger's sums, and every balance is non-negative.
        ledger = dict(
            s.execute(sa.select(E.customer_id, sa.func.sum(E.points)).group_by(E.customer_id)).all()
        )
        for cid, points, level in s.execute(sa.select(C.id, C.points_balance, C.member_level)):
            assert points == ledger.get(cid, 0) and points >= 0
            assert level is None or level in {lv[0] for lv in demo_data.MEMBER_LEVELS}
        # Journey events are in stage order per customer: purchase only after consideration.
        S = StageEvent.__table__.c
        purchases = s.execute(sa.select(sa.func.count()).where(S.stage_id == 3)).scalar_one()
        buyers = s.execute(
            sa.select(sa.func.count()).select_from(Customer.__table__).where(C.order_count > 0)
        ).scalar_one()
        assert purchases == buyers


def test_people_places_and_contacts_look_real(ctx) -> None:  # type: ignore[no-untyped-def]
    build_demo(ctx, customers=300, seed=5, as_of=AS_OF)
    cities = {p[0]: set(p[2]) for p in demo_data.PROVINCES}
    with ctx.session() as s:
        rows = s.execute(
            sa.select(C.name, C.kind, C.size_band, C.province, C.city, C.phone, C.email, C.birthday)
        ).all()
        F = FollowUp.__table__.c
        due = [d for (d,) in s.execute(sa.select(F.due_at).where(F.status == "open"))]
        B = Feedback.__table__.c
        feedback = s.execute(sa.select(B.kind, B.score, B.severity)).all()
    names = [r.name for r in rows]
    assert any("\u4e00" <= n[0] <= "\u9fff" and len(n) <= 4 for n in names)  # 张伟
    assert any(n.isascii() and " " in n for n in names)  # Emily Chen
    traditional = {c for c, _p in demo_data.TRADITIONAL_GIVEN}
    assert any(set(n) & traditional for n in names)
    assert any(n.endswith("有限公司") for n in names)
    for r in rows:
        assert r.city in cities[r.province], (r.province, r.city)
        assert (r.size_band is not None) == (r.kind == "enterprise")
        if r.phone:
            number = phonenumbers.parse(r.phone)
            assert phonenumbers.is_valid_number(number), r.phone
            assert phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE
            assert r.phone == phonenumbers.format_number(
                number, phonenumbers.PhoneNumberFormat.E164
            )
        if r.email:
            assert normalise_email(r.email) == r.email
        if r.birthday:
            assert 17 <= (AS_OF - r.birthday).days // 365 <= 82
    # Follow-ups: some overdue, some due today, some ahead (local days).
    days = {d.astimezone().date() for d in due}
    assert any(d < AS_OF for d in days) and AS_OF in days and any(d > AS_OF for d in days)
    kinds = {k for k, _s, _v in feedback}
    assert kinds == {"complaint", "csat", "nps"}
    assert all(1 <= sc <= 5 for k, sc, _v in feedback if k == "csat")
    assert all(0 <= sc <= 10 for k, sc, _v in feedback if k == "nps")
    assert all(
        v in {"low", "medium", "high", "critical"} for k, _s, v in feedback if k == "complaint"
    )


def _tricrm(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tricrm_tui", "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_demo_then_list(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    built = _tricrm(db, "demo", "--customers", "100", "--no-open")
    assert built.returncode == 0, built.stderr
    assert "100" in built.stderr
    listed = _tricrm(db, "customers", "list", "--limit", "5", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert len(rows) == 5
    for row in rows:
        for key in ("code", "name", "kind", "province", "city", "phone", "registered", "tags"):
            assert key in row
        assert row["order_count"] >= 0 and row["province"] and row["city"]
    again = _tricrm(db, "demo", "--customers", "100", "--no-open")
    assert again.returncode == 5 and "--replace" in again.stderr
    assert "Traceback" not in again.stderr


def test_cli_demo_help_shows_options_and_example() -> None:
    from typer.testing import CliRunner

    from tricrm_tui.cli.main import build_app

    result = CliRunner().invoke(build_app(), ["demo", "--help"])
    assert result.exit_code == 0
    for text in ("--customers", "--seed", "--no-open", "--replace", "Example: tricrm"):
        assert text in result.output


def test_demo_segments_are_valid_filters() -> None:
    from tricrm_tui.services.filters import parse_filter

    for _name, expression, _description in demo_data.SEGMENTS:
        parse_filter(expression)  # raises InvalidInput on a bad expression


def test_demo_plans_and_care_rules_are_valid_targets() -> None:
    from tricrm_tui.services.targets import check_target, join_target

    saved = {name: expression for name, expression, _description in demo_data.SEGMENTS}
    for plan in demo_data.COMMUNICATION_PLANS:
        check_target(join_target(plan[1], plan[2]), today=AS_OF, resolve=saved.__getitem__)
    from tricrm_tui.services.care import KINDS, LUNAR_FESTIVALS

    for _name, kind, occasion, *_rest in demo_data.CARE_RULES:
        assert kind in KINDS
        assert kind != "lunar" or occasion in LUNAR_FESTIVALS
