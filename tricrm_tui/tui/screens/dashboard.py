"""The dashboard: key figures against the previous period, the revenue trend, the customers
most worth saving, and where the revenue comes from.

Everything is read in one thread worker (:func:`load_dashboard`: a handful of aggregate
queries, about a second at 100,000 customers), so the screen opens at once and fills in when
the figures arrive. ``r`` reads them again; Enter on an at-risk customer opens them. The
figures are those of ``tricrm report kpis``, ``report trend``, ``value at-risk`` and
``report breakdown --by tier|region``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker
from textual_plotext import PlotextPlot

from tricrm_tui.charts import compact, draw_month_bars
from tricrm_tui.i18n import _, format_date, format_money, format_number
from tricrm_tui.labels import N_
from tricrm_tui.services.breakdown import NONE_LABEL, BreakdownRow
from tricrm_tui.services.kpis import Kpi, KpiReport, display_change, display_number
from tricrm_tui.services.trends import MonthRow
from tricrm_tui.services.value import StoredAtRisk
from tricrm_tui.tui.widgets.footer import TranslatedFooter
from tricrm_tui.tui.workers import ReportsWorkerErrors

TREND_MONTHS = 12
AT_RISK_SHOWN = 8

CARDS: list[tuple[str, str]] = [
    ("customers", N_("Customers")),
    ("active_customers", N_("Active (month)")),
    ("new_customers", N_("New (month)")),
    ("revenue_month", N_("Revenue (month)")),
    ("orders_month", N_("Orders (month)")),
    ("aov_month", N_("Avg order value")),
    ("repeat_rate", N_("Repeat rate")),
    ("at_risk", N_("At risk")),
    ("buyers_30d", N_("Buyers 30 days")),
    ("buyers_90d", N_("Buyers 90 days")),
    ("followups_overdue", N_("Overdue tasks")),
    ("complaints_open", N_("Open complaints")),
]
"""(KPI key, short card title msgid): the KPI report's labels are too long for a card."""


@dataclass(frozen=True)
class DashboardData:
    report: KpiReport
    trend: list[MonthRow]
    at_risk: list[StoredAtRisk]
    at_risk_total: int
    tiers: list[BreakdownRow]
    regions: list[BreakdownRow]
    tier_names: dict[str, str]


def load_dashboard(ctx: Any, as_of: dt.date | None = None) -> DashboardData:
    """Every figure the screen shows (runs in the worker thread)."""
    from tricrm_tui.services import breakdown, kpis, trends, value, value_config

    report = kpis.kpi_report(ctx, as_of)
    # The list reads the same snapshot as the at-risk card: the latest on or before the date.
    risk = value.at_risk_from_snapshot(ctx, as_of=report.as_of, limit=AT_RISK_SHOWN)
    settings = value_config.load_settings()
    return DashboardData(
        report=report,
        trend=trends.monthly_trend(ctx, TREND_MONTHS, report.as_of),
        at_risk=risk.items,
        at_risk_total=risk.total,
        tiers=breakdown.breakdown(ctx, "tier"),
        regions=breakdown.breakdown(ctx, "region"),
        tier_names={t: settings.tier_name(t) for t in value_config.TIERS},
    )


def card_text(title: str, kpi: Kpi, extra: str = "") -> Text:
    """Title, figure, and ``extra`` or else the change against the previous period. Every
    card that shows a change counts something where more is better, so up is green."""
    text = Text(title + "\n", style="dim")
    text.append(display_number(kpi.kind, kpi.value) + "\n", style="bold")
    change = display_change(kpi)
    if extra:
        text.append(extra, style="dim")
    elif change:
        delta = kpi.delta or 0
        arrow = "▲" if delta > 0 else "▼" if delta < 0 else "="
        style = "green" if delta > 0 else "red" if delta < 0 else ""
        text.append(f"{arrow} {change}", style=style)
    elif kpi.previous is not None:
        previous = display_number(kpi.kind, kpi.previous)
        text.append(_("was {value}").format(value=previous), style="dim")
    else:
        text.append(_("no earlier figure"), style="dim")
    return text


def card_note(report: KpiReport, key: str) -> str:
    """The third line of the cards that say more than their change: value at stake, tasks
    due today, complaints past their SLA."""
    if key == "at_risk":
        stake = report.get("at_risk_value").value
        if stake is None:
            return _("run a value refresh")
        return _("¥{amount} at stake").format(amount=compact(float(stake)))
    if key == "followups_overdue":
        due = report.get("followups_due").value
        return _("{count} due today").format(count=format_number(due))  # type: ignore[arg-type]
    if key == "complaints_open":
        late = report.get("complaints_overdue").value
        return _("{count} past SLA").format(count=format_number(late))  # type: ignore[arg-type]
    return ""


class DashboardScreen(ReportsWorkerErrors, Screen[None]):
    """Key figures as of a date (default today); a child of the app's screen stack."""

    CSS_PATH = "dashboard.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "reload", N_("Refresh"), id="dashboard.refresh"),
        Binding("enter", "open_customer", N_("Open"), id="dashboard.open"),
        Binding("escape", "back", N_("Back"), id="dashboard.back"),
    ]

    class CustomerChosen(Message):
        """Enter on an at-risk customer, when the app has no ``open_customer``."""

        def __init__(self, code: str) -> None:
            super().__init__()
            self.code = code

    def __init__(
        self, as_of: dt.date | None = None, *, on_customer: Callable[[str], None] | None = None
    ) -> None:
        super().__init__()
        self.as_of = as_of
        self.on_customer = on_customer
        self.data: DashboardData | None = None

    def compose(self) -> ComposeResult:
        yield Static(_("Dashboard"), id="dash-title")
        with VerticalScroll(id="dash-body"):
            with Grid(id="dash-cards"):
                for key, _title in CARDS:
                    yield Static("", id=f"card-{key}", classes="card")
            yield Static("", id="dash-members")
            yield PlotextPlot(id="dash-trend")
            yield Static("", id="dash-risk-title", classes="section")
            risk: DataTable[Any] = DataTable(id="dash-risk", cursor_type="row")
            risk.add_column(_("Customer"), width=14, key="customer")
            risk.add_column(_("Tier"), width=12, key="tier")
            risk.add_column(_("P(alive)"), width=8, key="p_alive")
            risk.add_column(_("CLV"), width=16, key="clv")
            risk.add_column(_("Last order"), width=14, key="last")
            yield risk
            with Horizontal(id="dash-split"):
                for table_id, title, group in (
                    ("dash-tiers", _("Revenue by value tier"), _("Tier")),
                    ("dash-regions", _("Revenue by region"), _("Region")),
                ):
                    with Vertical():
                        yield Static(title, classes="section")
                        split: DataTable[Any] = DataTable(id=table_id, cursor_type="row")
                        split.add_column(group, width=12, key="group")
                        split.add_column(_("Customers"), width=9, key="customers")
                        split.add_column(_("Revenue %"), width=9, key="share")
                        yield split
        yield Static(_("Loading…"), id="dash-status")
        yield TranslatedFooter()

    def on_mount(self) -> None:
        self.query_one("#dash-risk", DataTable).focus(scroll_visible=False)
        self.load()

    @property
    def ctx(self) -> Any:
        return self.app.ctx  # type: ignore[attr-defined]

    @work(thread=True, exclusive=True, group="dashboard", exit_on_error=False)
    def load(self) -> None:
        data = load_dashboard(self.ctx, self.as_of)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, data)

    def _show(self, data: DashboardData) -> None:
        if not self.is_attached:
            return  # closed before the figures came
        self.data = data
        report = data.report
        self.query_one("#dash-title", Static).update(
            _("Dashboard · as of {date}").format(date=format_date(report.as_of))
        )
        for key, title in CARDS:
            self.query_one(f"#card-{key}", Static).update(
                card_text(_(title), report.get(key), card_note(report, key))
            )
        self._show_members(report)
        self._show_trend(data.trend)
        self._show_risk(data)
        self._show_split("#dash-tiers", data.tiers, data.tier_names)
        self._show_split("#dash-regions", data.regions, {})
        self.query_one("#dash-status", Static).update(
            _("Month to date {start} – {end}, against {p_start} – {p_end}").format(
                start=format_date(report.month_start),
                end=format_date(report.as_of),
                p_start=format_date(report.previous_start),
                p_end=format_date(report.previous_end),
            )
        )

    def _show_members(self, report: KpiReport) -> None:
        members = " · ".join(
            f"{k.key.split(':', 1)[1]} {format_number(k.value)}"  # type: ignore[arg-type]
            for k in report.kpis
            if k.key.startswith("members:")
        )
        self.query_one("#dash-members", Static).update(
            _("Members: {levels}").format(levels=members) if members else ""
        )

    def _show_trend(self, trend: list[MonthRow]) -> None:
        plot = self.query_one("#dash-trend", PlotextPlot)
        draw_month_bars(
            plot.plt,
            [r.month for r in trend],
            [float(r.revenue) for r in trend],
            _("Revenue per month"),
            max_labels=6,
        )
        plot.refresh()

    def _show_risk(self, data: DashboardData) -> None:
        table = self.query_one("#dash-risk", DataTable)
        table.clear()
        for r in data.at_risk:
            table.add_row(
                r.name,
                data.tier_names.get(r.tier or "", r.tier or "—"),
                "—" if r.p_alive is None else f"{r.p_alive:.0%}",
                format_money(r.clv) if r.clv is not None else "—",
                format_date(r.last_order) or "—",
                key=r.code,
            )
        title = (
            _("Most valuable customers at risk: {shown} of {total}").format(
                shown=len(data.at_risk), total=format_number(data.at_risk_total)
            )
            if data.at_risk
            else _("No customers at risk in the value refresh of {date}").format(
                date=format_date(data.report.snapshot_as_of)
            )
            if data.report.snapshot_as_of
            else _("No value refresh on or before this date")
        )
        self.query_one("#dash-risk-title", Static).update(title)

    def _show_split(self, selector: str, rows: list[BreakdownRow], names: dict[str, str]) -> None:
        table = self.query_one(selector, DataTable)
        table.clear()
        for r in rows:
            label = _("(none)") if r.group == NONE_LABEL else names.get(r.group, r.group)
            table.add_row(label, format_number(r.customers), f"{r.revenue_share:.1f}%")

    def action_reload(self) -> None:
        self.query_one("#dash-status", Static).update(_("Loading…"))
        self.load()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_open_customer(self) -> None:
        table = self.query_one("#dash-risk", DataTable)
        if not table.row_count:
            return
        code = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        if self.on_customer is not None:
            self.on_customer(code)
            return
        opener = getattr(self.app, "open_customer", None)
        if callable(opener):
            opener(code)
        else:
            self.post_message(self.CustomerChosen(code))

    @on(DataTable.RowSelected, "#dash-risk")
    def _risk_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_customer()
