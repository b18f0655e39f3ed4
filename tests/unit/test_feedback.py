"""Complaints as tickets (lifecycle, SLA by severity, overdue) and CSAT/NPS surveys."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from tests.factories import add_customer, add_orders
from tricrm_tui.models import AuditEntry, Journey, Touchpoint
from tricrm_tui.services import feedback
from tricrm_tui.services.errors import InvalidInput, NotFound

NOW = dt.datetime(2026, 3, 15, 9, 30, tzinfo=dt.UTC)


def at(ctx, when: dt.datetime):  # type: ignore[no-untyped-def]
    return dataclasses.replace(ctx, clock=lambda: when)


def add_touchpoints(ctx, *names: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with ctx.transaction() as s:
        jid = s.execute(sa.insert(Journey.__table__).values(name="purchase")).inserted_primary_key[
            0
        ]
        return {
            n: s.execute(
                sa.insert(Touchpoint.__table__).values(journey_id=jid, name=n)
            ).inserted_primary_key[0]
            for n in names
        }


def test_complaint_lifecycle_and_sla(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "C1", "张伟")
    (order_no,) = add_orders(ctx, "C1", [("2026-03-01", "99.00")])
    add_touchpoints(ctx, "delivery")
    c = at(ctx, NOW)
    rec = feedback.add_complaint(
        c,
        "C1",
        category="物流",
        severity="high",
        notes="包裹破损",
        touchpoint="delivery",
        order=order_no,
    )
    assert rec.status == "open" and rec.owner == "tester"
    assert rec.sla_due_at == NOW + dt.timedelta(hours=24)
    assert rec.touchpoint == "delivery" and rec.order_no == order_no and rec.notes == "包裹破损"

    with pytest.raises(InvalidInput) as err:
        feedback.close(c, rec.id)
    assert err.value.code == "invalid_transition"
    with pytest.raises(InvalidInput) as err:
        feedback.resolve(c, rec.id, "  ")
    assert err.value.field == "resolution"

    assert feedback.set_status(c, rec.id, "in_progress").status == "in_progress"
    later = at(ctx, NOW + dt.timedelta(hours=30))
    done = feedback.resolve(later, rec.id, "补发新品")
    assert done.status == "resolved" and done.resolution == "补发新品"
    assert done.resolved_at == NOW + dt.timedelta(hours=30)
    closed = feedback.close(later, rec.id)
    assert closed.status == "closed" and closed.closed_at is not None
    with pytest.raises(InvalidInput):
        feedback.set_status(later, rec.id, "open")

    with ctx.session() as s:
        actions = s.execute(
            sa.select(AuditEntry.__table__.c.action).where(
                AuditEntry.__table__.c.entity == "complaint"
            )
        ).scalars()
        assert sorted(actions) == ["create", "status", "status", "status"]


@pytest.mark.parametrize(
    ("severity", "hours"), [("critical", 4), ("high", 24), ("medium", 72), ("low", 168)]
)
def test_sla_by_severity(ctx, severity: str, hours: int) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "C1")
    rec = feedback.add_complaint(at(ctx, NOW), "C1", category="x", severity=severity)
    assert rec.sla_due_at == NOW + dt.timedelta(hours=hours)


def test_sla_hours_from_config(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "config"
    folder.mkdir(exist_ok=True)
    (folder / "feedback.toml").write_text("[sla_hours]\ncritical = 2\n", encoding="utf-8")
    add_customer(ctx, "C1")
    rec = feedback.add_complaint(at(ctx, NOW), "C1", category="x", severity="critical")
    assert rec.sla_due_at == NOW + dt.timedelta(hours=2)


def test_overdue_complaints(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "C1")
    c = at(ctx, NOW)
    crit = feedback.add_complaint(c, "C1", category="a", severity="critical")
    low = feedback.add_complaint(c, "C1", category="b", severity="low")
    fixed = feedback.add_complaint(c, "C1", category="c", severity="critical")
    feedback.resolve(c, fixed.id, "done")
    five_hours = at(ctx, NOW + dt.timedelta(hours=5))
    assert [r.id for r in feedback.overdue_complaints(five_hours)] == [crit.id]
    assert feedback.get_complaint(five_hours, crit.id).overdue
    assert not feedback.get_complaint(five_hours, low.id).overdue
    page = feedback.list_complaints(five_hours, status="open")
    assert [r.id for r in page.items] == [crit.id, low.id] and page.total == 2
    assert feedback.overdue_complaints(at(ctx, NOW + dt.timedelta(hours=1))) == []


def test_complaint_validation(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "C1")
    add_customer(ctx, "C2")
    (other,) = add_orders(ctx, "C2", [("2026-03-01", "5")])
    with pytest.raises(InvalidInput):
        feedback.add_complaint(ctx, "C1", category="x", severity="urgent")
    with pytest.raises(NotFound):
        feedback.add_complaint(ctx, "NOPE", category="x", severity="low")
    with pytest.raises(InvalidInput, match="another customer"):
        feedback.add_complaint(ctx, "C1", category="x", severity="low", order=other)
    with pytest.raises(NotFound):
        feedback.add_complaint(ctx, "C1", category="x", severity="low", touchpoint="nowhere")


def _answers(ctx, tps) -> None:  # type: ignore[no-untyped-def]
    """CSAT: web 5,4,2 (2 of 3 satisfied, mean 3.67), store 3 (0 of 1, mean 3).
    NPS, all in store: 10,9,8,6,0 → 2 promoters, 1 passive, 2 detractors → NPS 0;
    in March 10,9,8 → 66.7, in April 6,0 → −100."""
    for code in ("C1", "C2"):
        add_customer(ctx, code)
    march, april = dt.date(2026, 3, 10), dt.date(2026, 4, 2)
    for score, tp, day in [(5, "web", march), (4, "web", march), (2, "web", april)]:
        feedback.add_survey(ctx, "C1", kind="csat", score=score, touchpoint=tp, day=day)
    feedback.add_survey(ctx, "C2", kind="csat", score=3, touchpoint="store", day=march)
    for score, day in [(10, march), (9, march), (8, march), (6, april), (0, april)]:
        feedback.add_survey(ctx, "C2", kind="nps", score=score, touchpoint="store", day=day)


def test_csat_and_nps_summary(ctx) -> None:  # type: ignore[no-untyped-def]
    tps = add_touchpoints(ctx, "web", "store")
    _answers(ctx, tps)
    (overall,) = feedback.survey_summary(ctx)
    assert (overall.csat_responses, overall.csat_satisfied) == (4, 2)
    assert overall.csat == Decimal("50.0") and overall.csat_mean == Decimal("3.50")
    assert (overall.promoters, overall.passives, overall.detractors) == (2, 1, 2)
    assert overall.nps == Decimal("0.0")

    by_tp = {r.group: r for r in feedback.survey_summary(ctx, by="touchpoint")}
    assert by_tp["web"].csat == Decimal("66.7") and by_tp["web"].csat_mean == Decimal("3.67")
    assert by_tp["web"].nps is None and by_tp["web"].nps_responses == 0
    assert by_tp["store"].csat == Decimal("0.0") and by_tp["store"].nps == Decimal("0.0")

    by_month = {r.group: r for r in feedback.survey_summary(ctx, by="month")}
    assert set(by_month) == {"2026-03", "2026-04"}
    assert by_month["2026-03"].nps == Decimal("66.7")
    assert by_month["2026-04"].nps == Decimal("-100.0")
    assert by_month["2026-03"].csat == Decimal("66.7")  # 5, 4, 3
    assert by_month["2026-04"].csat == Decimal("0.0")  # 2

    (march_only,) = feedback.survey_summary(
        ctx, date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 3, 31)
    )
    assert march_only.nps_responses == 3
    with pytest.raises(InvalidInput):
        feedback.survey_summary(ctx, by="colour")


def test_survey_score_ranges(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "C1")
    for kind, score in [("csat", 0), ("csat", 6), ("nps", 11), ("nps", "x"), ("ces", 3)]:
        with pytest.raises(InvalidInput):
            feedback.add_survey(ctx, "C1", kind=kind, score=score)
    assert feedback.add_survey(ctx, "C1", kind="NPS", score="0").score == 0
    # As files write a whole number: a workbook's or JSON number, text saved from one.
    for score in ("4.0", " 4 ", "４", 4.0, Decimal("4.00"), 4):
        assert feedback.add_survey(ctx, "C1", kind="csat", score=score).score == 4
    for score in ("4.5", 4.5, Decimal("4.5"), True, "NaN", "Infinity", "", None, "1e999999"):
        with pytest.raises(InvalidInput, match="whole number"):
            feedback.add_survey(ctx, "C1", kind="csat", score=score)


def test_survey_import_csv_with_rejects(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "C1")
    add_touchpoints(ctx, "web")
    path = tmp_path / "answers.csv"
    path.write_text(
        "customer code,kind,score,touchpoint,date,comment\n"
        "C1,csat,5,web,2026-03-01,很好\n"
        "C1,nps,11,web,2026-03-01,\n"
        "C9,csat,4,,2026-03-01,\n"
        "C1,csat,4,nowhere,2026-03-01,\n"
        "C1,nps,9,,2026年3月2日,\n"
        "C1,nps,7,,not a date,\n"
        ",,,,,\n",
        encoding="utf-8-sig",
    )
    result = feedback.import_surveys(ctx, path)
    assert result.imported == 2
    assert [(r.line, r.field) for r in result.rejects] == [
        (3, "score"),
        (4, "code"),
        (5, "touchpoint"),
        (7, "date"),
    ]
    page = feedback.list_surveys(ctx, customer="C1")
    assert page.total == 2
    again = feedback.import_surveys(ctx, path)
    assert (again.imported, again.duplicates, len(again.rejects)) == (0, 2, 4)
    assert feedback.list_surveys(ctx, customer="C1").total == 2
    assert {(s.kind, s.score, s.comment) for s in page.items} == {
        ("csat", 5, "很好"),
        ("nps", 9, None),
    }


def test_survey_import_xlsx(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "C1")
    wb = Workbook()
    ws = wb.active
    ws.append(["code", "kind", "score", "touchpoint", "date", "comment"])
    ws.append(["C1", "nps", 10, None, dt.date(2026, 2, 1), "推荐"])
    path = tmp_path / "answers.xlsx"
    wb.save(path)
    result = feedback.import_surveys(ctx, path)
    assert (result.imported, result.rejects) == (1, [])
    (row,) = feedback.survey_summary(ctx, by="month")
    assert row.group == "2026-02" and row.nps == Decimal("100.0")


def test_survey_import_needs_columns(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.csv"
    path.write_text("code,score\nC1,3\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="kind"):
        feedback.import_surveys(ctx, path)
