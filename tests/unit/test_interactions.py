"""Logging contacts, follow-ups from contacts, the task list and its actions."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.factories import add_customer
from tests.interact_helpers import clock, utc_local  # noqa: F401
from tricrm_tui.models import AuditEntry, Feedback, FollowUp, Interaction
from tricrm_tui.services import followups, interactions
from tricrm_tui.services.errors import InvalidInput, NotFound
from tricrm_tui.services.timespec import outside_quiet_hours, parse_cap, parse_due

UTC = dt.UTC


def _count(ctx, table) -> int:  # type: ignore[no-untyped-def]
    with ctx.session() as s:
        return s.execute(sa.select(sa.func.count()).select_from(table.__table__)).scalar_one()


def test_log_with_follow_up_in_days_and_on_a_date(ctx, clock) -> None:  # noqa: F811
    add_customer(ctx, "C1", "张三")
    rec = interactions.log_interaction(
        ctx, "C1", channel="电话", subject="回访", outcome="满意", satisfaction=5, follow_up="3d"
    )
    assert rec.channel == "phone" and rec.operator == "tester" and rec.satisfaction == 5
    task = followups.get_followup(ctx, rec.followup_id)
    assert task.due == dt.datetime(2026, 3, 18, 8, 0, tzinfo=UTC)
    assert task.source == "interaction" and task.interaction_id == rec.id
    assert task.last_contact == clock.now
    rec2 = interactions.log_interaction(
        ctx, "C1", channel="wechat", subject="报价", at="2026-03-01 10:00", follow_up="2026-12-01"
    )
    assert rec2.at == dt.datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert followups.get_followup(ctx, rec2.followup_id).due == dt.datetime(
        2026, 12, 1, 9, 0, tzinfo=UTC
    )
    with ctx.session() as s:
        actions = s.execute(
            sa.select(AuditEntry.__table__.c.entity).order_by(AuditEntry.__table__.c.id)
        ).scalars()
        assert [a for a in actions if a != "customer"] == [
            "interaction",
            "followup",
            "interaction",
            "followup",
        ]


def test_a_bad_follow_up_saves_neither_contact_nor_task(ctx, clock) -> None:  # noqa: F811
    add_customer(ctx, "C1")
    with pytest.raises(InvalidInput) as err:
        interactions.log_interaction(ctx, "C1", channel="phone", subject="x", follow_up="soon")
    assert err.value.field == "follow_up"
    assert _count(ctx, Interaction) == 0 and _count(ctx, FollowUp) == 0
    with pytest.raises(InvalidInput):
        interactions.log_interaction(ctx, "C1", channel="pigeon", subject="x")
    with pytest.raises(InvalidInput):
        interactions.log_interaction(ctx, "C1", channel="sms", subject="x", satisfaction=6)
    with pytest.raises(NotFound):
        interactions.log_interaction(ctx, "NOPE", channel="sms", subject="x")


def test_list_interactions_filters_and_pages(ctx, clock) -> None:  # noqa: F811
    add_customer(ctx, "C1")
    add_customer(ctx, "C2")
    for day in range(1, 8):
        interactions.log_interaction(
            ctx, "C1", channel="phone" if day % 2 else "email", subject=f"d{day}",
            at=f"2026-03-{day:02d} 12:00",
        )  # fmt: skip
    interactions.log_interaction(ctx, "C2", channel="phone", subject="other", at="2026-03-03")
    page = interactions.list_interactions(ctx, customer="C1", limit=3)
    assert page.total == 7 and [r.subject for r in page.items] == ["d7", "d6", "d5"]
    page2 = interactions.list_interactions(ctx, customer="C1", limit=3, offset=3)
    assert [r.subject for r in page2.items] == ["d4", "d3", "d2"]
    phone = interactions.list_interactions(
        ctx, channel="phone", date_from="2026-03-03", date_to="2026-03-05"
    )
    assert sorted(r.subject for r in phone.items) == ["d3", "d5", "other"]


def test_followup_list_filters(ctx, clock) -> None:  # noqa: F811
    add_customer(ctx, "C1", "甲")
    add_customer(ctx, "C2", "乙")
    late = followups.add_followup(ctx, "C1", due="2026-03-14", reason="late")
    today = followups.add_followup(ctx, "C2", due="2026-03-15 16:00", reason="today")
    later = followups.add_followup(ctx, "C2", due="2026-03-20", reason="later", owner="someone")
    assert [t.id for t in followups.list_followups(ctx).items] == [late.id, today.id, later.id]
    assert [t.id for t in followups.list_followups(ctx, overdue=True).items] == [late.id]
    assert [t.id for t in followups.list_followups(ctx, due="today").items] == [today.id]
    assert [t.id for t in followups.list_followups(ctx, due="2026-03-20").items] == [later.id]
    assert [t.id for t in followups.list_followups(ctx, mine=True).items] == [late.id, today.id]
    assert [t.id for t in followups.list_followups(ctx, customer="C2").items] == [
        today.id,
        later.id,
    ]
    page = followups.list_followups(ctx, limit=1, offset=1)
    assert page.total == 3 and page.items[0].id == today.id
    with pytest.raises(InvalidInput):
        followups.list_followups(ctx, status="maybe")


def test_done_with_log_snooze_and_cancel(ctx, clock) -> None:  # noqa: F811
    add_customer(ctx, "C1")
    a = followups.add_followup(ctx, "C1", due="1d", reason="call back")
    b = followups.add_followup(ctx, "C1", due="1d", reason="send quote")
    c = followups.add_followup(ctx, "C1", due="1d", reason="visit")
    closed = followups.done(ctx, a.id, log="called, all good", channel="wechat", outcome="ok")
    assert closed.status == "done" and closed.done_at == clock.now
    logged = interactions.list_interactions(ctx, customer="C1").items
    assert [(i.subject, i.channel, i.outcome) for i in logged] == [
        ("called, all good", "wechat", "ok")
    ]
    assert closed.interaction_id == logged[0].id
    snoozed = followups.snooze(ctx, b.id, "2d")
    assert snoozed.status == "snoozed" and snoozed.due == clock.now + dt.timedelta(days=2)
    assert b.id in [t.id for t in followups.list_followups(ctx).items]  # still active
    assert followups.cancel(ctx, c.id).status == "cancelled"
    assert [t.id for t in followups.list_followups(ctx).items] == [b.id]
    assert [t.id for t in followups.list_followups(ctx, status="done").items] == [a.id]
    with pytest.raises(InvalidInput):
        followups.done(ctx, a.id)
    with pytest.raises(InvalidInput):
        followups.snooze(ctx, c.id, "1d")
    with pytest.raises(NotFound):
        followups.cancel(ctx, 999)
    assert followups.done(ctx, b.id).status == "done"  # closing without a log logs nothing
    assert len(interactions.list_interactions(ctx, customer="C1").items) == 1


def test_overdue_complaints(ctx, clock) -> None:  # noqa: F811
    add_customer(ctx, "C1", "投诉人")
    from tricrm_tui.services.customers import get_customer

    customer_id = get_customer(ctx, "C1").id
    now = clock.now
    rows = [
        ("open", now - dt.timedelta(hours=1), "late"),
        ("in_progress", now - dt.timedelta(days=2), "later"),
        ("resolved", now - dt.timedelta(days=3), "done"),
        ("open", now + dt.timedelta(hours=1), "not yet"),
    ]
    with ctx.transaction() as s:
        for status, due, category in rows:
            s.execute(
                sa.insert(Feedback.__table__).values(
                    customer_id=customer_id, kind="complaint", status=status, sla_due_at=due,
                    category=category, severity="high", extra={}, created_at=now,
                )
            )  # fmt: skip
        s.execute(
            sa.insert(Feedback.__table__).values(
                customer_id=customer_id, kind="csat", score=2, extra={}, created_at=now
            )
        )
    got = followups.overdue_complaints(ctx, now)
    assert [c.category for c in got] == ["later", "late"]
    assert got[0].customer_name == "投诉人"


def test_time_parsing(utc_local) -> None:  # noqa: F811
    base = dt.datetime(2026, 3, 15, 8, 0, tzinfo=UTC)
    assert parse_due("2w", base) == base + dt.timedelta(weeks=2)
    assert parse_due("4h", base) == base + dt.timedelta(hours=4)
    assert parse_due("2026-12-01 14:30", base) == dt.datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
    assert parse_due("2026年12月1日", base) == dt.datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert parse_cap("4/30d") == (4, 30)
    quiet = (dt.time(21), dt.time(9))
    at = dt.datetime(2026, 3, 15, 22, 0, tzinfo=UTC)
    assert outside_quiet_hours(at, quiet) == dt.datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
    early = dt.datetime(2026, 3, 15, 6, 0, tzinfo=UTC)
    assert outside_quiet_hours(early, quiet) == dt.datetime(2026, 3, 15, 9, 0, tzinfo=UTC)
    noon = dt.datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
    assert outside_quiet_hours(noon, quiet) == noon
    assert outside_quiet_hours(noon, (dt.time(12), dt.time(14))).hour == 14
    for bad in ("soon", "3x", ""):
        with pytest.raises(InvalidInput):
            parse_due(bad, base)


def test_days_keep_the_local_time_across_a_clock_change(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "America/New_York")  # clocks go forward on 2026-03-08
    time.tzset()
    try:
        base = dt.datetime(2026, 3, 3, 9, 0).astimezone()  # 09:00 EST
        for spec in ("1w", "7d"):
            due = parse_due(spec, base).astimezone()
            assert (due.date(), due.time()) == (dt.date(2026, 3, 10), dt.time(9, 0))
        assert parse_due("168h", base) == base + dt.timedelta(hours=168)  # elapsed: 10:00 EDT
    finally:
        monkeypatch.undo()
        time.tzset()
