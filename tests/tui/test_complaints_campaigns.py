"""The complaints and campaigns screens, driven by keys in a tiny host app at 80×24."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from textual.app import App
from textual.widgets import DataTable, Input, Static

from tests.factories import add_customer, add_orders
from tricrm_tui.models import CampaignSend, Customer, Product
from tricrm_tui.services import campaigns, feedback
from tricrm_tui.tui.screens.campaigns import CampaignsScreen
from tricrm_tui.tui.screens.complaints import ComplaintsScreen
from tricrm_tui.tui.widgets.recommendations import RecommendationsPanel

NOW = dt.datetime(2026, 3, 15, 1, 0, tzinfo=dt.UTC)


class Host(App[None]):
    def __init__(self, ctx, screen_factory) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.ctx = ctx
        self.screen_factory = screen_factory

    def on_mount(self) -> None:
        self.push_screen(self.screen_factory())


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def fixed(ctx):  # type: ignore[no-untyped-def]
    return dataclasses.replace(ctx, clock=lambda: NOW)


def seed_complaints(ctx) -> list[int]:  # type: ignore[no-untyped-def]
    add_customer(ctx, "C1", "张伟")
    add_customer(ctx, "C2", "李娜")
    early = dataclasses.replace(ctx, clock=lambda: NOW - dt.timedelta(hours=10))
    a = feedback.add_complaint(early, "C1", category="物流", severity="critical", notes="包裹破损")
    b = feedback.add_complaint(ctx, "C2", category="服务", severity="low", notes="态度不好")
    return [a.id, b.id]


def seed_campaign(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "C1", "张伟", phone="13800138000", city="上海")
    add_customer(ctx, "C2", "李娜", phone="13900139000", consent={"sms": False})
    add_customer(ctx, "C3", "王芳", phone="13700137000")
    campaigns.create_campaign(
        ctx, "春季回馈", channel="sms", template="{{ name }}您好，{{ city or '门店' }}欢迎您"
    )


@pytest.mark.asyncio
async def test_complaints_screen_changes_status_by_keys(ctx) -> None:  # type: ignore[no-untyped-def]
    ctx = fixed(ctx)
    first, second = seed_complaints(ctx)
    app = Host(ctx, ComplaintsScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        table = screen.query_one(DataTable)
        assert table.row_count == 2
        detail = str(screen.query_one("#detail", Static).render())
        assert "包裹破损" in detail  # the overdue critical one is first
        await pilot.press("i")
        await settle(pilot)
        assert feedback.get_complaint(ctx, first).status == "in_progress"
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen.focused, Input)
        await pilot.press(*"已补发", "enter")
        await settle(pilot)
        rec = feedback.get_complaint(ctx, first)
        assert rec.status == "resolved" and rec.resolution == "已补发"
        await pilot.press("c")
        await settle(pilot)
        assert feedback.get_complaint(ctx, first).status == "closed"
        await pilot.press("f")  # filter: open only
        await settle(pilot)
        assert screen.query_one(DataTable).row_count == 1
        assert feedback.get_complaint(ctx, second).status == "open"


@pytest.mark.asyncio
async def test_campaign_preview_cycles_and_sends(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ctx = fixed(ctx)
    seed_campaign(ctx)
    app = Host(ctx, CampaignsScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        pane = app.screen.query_one("#pane", Static)
        assert "Recipient 1 of 3" in str(pane.render()) and "张伟您好，上海欢迎您" in str(
            pane.render()
        )
        await pilot.press("n")
        await settle(pilot)
        text = str(pane.render())
        assert "Recipient 2 of 3" in text and "no consent" in text
        await pilot.press("n", "n")  # stops at the last one
        await settle(pilot)
        assert "Recipient 3 of 3" in str(pane.render())
        await pilot.press("p")
        await settle(pilot)
        assert "Recipient 2 of 3" in str(pane.render())
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("n")  # declined: nothing happens
        await settle(pilot)
        with ctx.session() as s:
            assert s.execute(sa.select(sa.func.count()).select_from(CampaignSend)).scalar() == 0
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        with ctx.session() as s:
            statuses = dict(
                s.execute(
                    sa.select(Customer.code, CampaignSend.status).join(
                        Customer, Customer.id == CampaignSend.customer_id
                    )
                ).all()
            )
        assert statuses == {"C1": "exported", "C2": "skipped_consent", "C3": "exported"}
        exports = list((tmp_path / "data" / "exports").glob("*.csv"))
        assert len(exports) == 1
        await pilot.press("r")
        await settle(pilot)
        assert "Delivered 2" in str(pane.render())


@pytest.mark.asyncio
async def test_recommendations_panel(ctx) -> None:  # type: ignore[no-untyped-def]
    with ctx.transaction() as s:
        ids = [
            s.execute(sa.insert(Product.__table__).values(sku=n, name=n)).inserted_primary_key[0]
            for n in ("绿茶", "茶杯")
        ]
    add_customer(ctx, "A")
    add_customer(ctx, "E")
    for pid in ids:
        add_orders(ctx, "A", [("2026-01-01", "1")], product_id=pid)
    add_orders(ctx, "E", [("2026-01-01", "1")], product_id=ids[0])

    class PanelHost(App[None]):
        def __init__(self) -> None:
            super().__init__()
            self.ctx = ctx

        def compose(self):  # type: ignore[no-untyped-def]
            yield RecommendationsPanel("E", id="rec")

    app = PanelHost()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = str(app.query_one(RecommendationsPanel).render())
        assert "茶杯" in text and "bought with 绿茶" in text
        app.query_one(RecommendationsPanel).show("A")
        await settle(pilot)
        assert "No recommendations" in str(app.query_one(RecommendationsPanel).render())


@pytest.fixture
def snapshot_ctx(sqlite_ctx, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Times on screen are local: pin the zone so the snapshots match anywhere."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield fixed(sqlite_ctx)
    monkeypatch.undo()
    time.tzset()


def test_complaints_snapshot(snap_compare, snapshot_ctx) -> None:  # type: ignore[no-untyped-def]
    seed_complaints(snapshot_ctx)
    assert snap_compare(
        Host(snapshot_ctx, ComplaintsScreen), terminal_size=(80, 24), run_before=settle
    )


def test_campaigns_snapshot(snap_compare, snapshot_ctx) -> None:  # type: ignore[no-untyped-def]
    seed_campaign(snapshot_ctx)

    async def cycle(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)

    assert snap_compare(
        Host(snapshot_ctx, CampaignsScreen), terminal_size=(80, 24), run_before=cycle
    )


async def test_c_creates_a_campaign_with_errors_shown_in_the_form(ctx) -> None:  # type: ignore[no-untyped-def]
    from textual.widgets import TextArea

    from tricrm_tui.models import AuditEntry
    from tricrm_tui.services import segments
    from tricrm_tui.tui.screens.campaign_form import CampaignForm

    ctx = fixed(ctx)
    seed_campaign(ctx)
    segments.save_segment(ctx, "上海客户", "city:上海")
    app = Host(ctx, CampaignsScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, CampaignForm)
        await pilot.press(*"回访", "tab", *"没有的分群", "tab")
        form.query_one("#campaign-template", TextArea).text = "{{ nmae }}您好"
        await pilot.press("ctrl+s")
        await settle(pilot)
        error = form.query_one("#campaign-error", Static)
        assert "unknown template field nmae" in str(error.render())
        assert isinstance(form.focused, TextArea)
        form.query_one("#campaign-template", TextArea).text = "{{ name }}您好"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "no segment 没有的分群" in str(error.render())
        assert form.focused is form.query_one("#campaign-segment", Input)
        form.query_one("#campaign-segment", Input).value = ""
        await pilot.press(*"上海客户", "ctrl+s")
        await settle(pilot)
        assert app.screen is not form
        table = app.screen.query_one(DataTable)
        assert table.get_row_at(table.cursor_row)[0] == "回访"
        await settle(pilot)
        pane = str(app.screen.query_one("#pane", Static).render())
        assert "Recipient 1 of 1" in pane and "张伟您好" in pane  # preview of the new campaign
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CampaignsScreen)
    record = campaigns.get_campaign(ctx, "回访")
    assert (record.segment, record.channel) == ("上海客户", "sms")
    with ctx.session() as s:
        audited = s.execute(
            sa.select(AuditEntry.entity_id).where(
                AuditEntry.entity == "campaign", AuditEntry.action == "create"
            )
        ).scalars()
        assert "回访" in list(audited)


def test_campaign_form_snapshot(snap_compare, snapshot_ctx) -> None:  # type: ignore[no-untyped-def]
    seed_campaign(snapshot_ctx)

    async def open_form(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause()
        await pilot.press(*"回访", "tab", *"missing", "ctrl+s")
        await settle(pilot)

    assert snap_compare(
        Host(snapshot_ctx, CampaignsScreen), terminal_size=(80, 24), run_before=open_form
    )
