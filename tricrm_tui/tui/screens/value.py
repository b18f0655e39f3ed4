"""The value screen: the R×F grid, segments, tiers and the at-risk list, as of a date.

The date is the one given, else the latest stored snapshot (``tricrm value refresh``), else
today; ``r`` stores a fresh snapshot as of the date given, else as of today. Enter on a grid cell, a segment, a tier or an at-risk customer
reports "those customers" as a :class:`~tricrm_tui.services.value.Selection` (or a customer
code): through the ``on_select`` / ``on_customer`` callbacks when given, and always as a
:class:`ValueScreen.SelectionChosen` / :class:`ValueScreen.CustomerChosen` message, so the app
can open the customer list with :func:`tricrm_tui.services.value.selection_condition`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from tricrm_tui.i18n import _, format_date, format_money, format_number
from tricrm_tui.labels import N_
from tricrm_tui.tui.widgets.footer import TranslatedFooter as Footer

if TYPE_CHECKING:
    from tricrm_tui.services.value import Overview, Selection

# Cell backgrounds from cold (little revenue) to warm (much), by the cell's revenue rank.
HEAT = ("#1d2b3a", "#1f4e5f", "#2f6f4f", "#8a6d1f", "#a8431f")


def compact_money(amount: Decimal) -> str:
    """Short money for grid cells: ¥950, ¥12.3k, ¥4.5M."""
    value = float(amount)
    for limit, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"¥{value / limit:.1f}{suffix}"
    return f"¥{value:.0f}"


class ValueScreen(Screen[None]):
    """Customer value at a glance; a child of the app's screen stack."""

    BINDINGS = [
        Binding("g", "show('grid')", N_("Grid"), id="value.grid"),
        Binding("s", "show('segments')", N_("Segments"), id="value.segments"),
        Binding("t", "show('tiers')", N_("Tiers"), id="value.tiers"),
        Binding("a", "show('risk')", N_("At risk"), id="value.at_risk"),
        Binding("r", "refresh_value", N_("Refresh"), id="value.refresh"),
        Binding("escape", "close", N_("Back"), id="value.back"),
    ]

    DEFAULT_CSS = """
    ValueScreen { layout: vertical; }
    ValueScreen #value-title { height: 1; padding: 0 1; background: $boost; }
    ValueScreen #value-status { height: 1; padding: 0 1; color: $text-muted; }
    ValueScreen TabbedContent { height: 1fr; }
    ValueScreen DataTable { height: 1fr; }
    """

    class SelectionChosen(Message):
        """Enter on a cell, segment or tier: open these customers."""

        def __init__(self, selection: Selection, description: str) -> None:
            super().__init__()
            self.selection = selection
            self.description = description

    class CustomerChosen(Message):
        """Enter on an at-risk customer: open that customer."""

        def __init__(self, code: str) -> None:
            super().__init__()
            self.code = code

    def __init__(
        self,
        as_of: dt.date | None = None,
        *,
        on_select: Callable[[Selection], None] | None = None,
        on_customer: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__()
        self.as_of = as_of
        self.refresh_date = as_of
        """What ``r`` recomputes: the date the screen was opened for, else today."""
        self.on_select = on_select
        self.on_customer = on_customer
        self.overview: Overview | None = None

    def compose(self) -> ComposeResult:
        yield Static(_("Customer value"), id="value-title")
        with TabbedContent(initial="grid"):
            with TabPane(_("R×F grid"), id="grid"):
                yield DataTable(id="value-grid", cursor_type="cell", zebra_stripes=False)
            with TabPane(_("Segments"), id="segments"):
                yield DataTable(id="value-segments", cursor_type="row")
            with TabPane(_("Tiers"), id="tiers"):
                yield DataTable(id="value-tiers", cursor_type="row")
            with TabPane(_("At risk"), id="risk"):
                yield DataTable(id="value-risk", cursor_type="row")
        yield Static(_("Loading…"), id="value-status")
        yield Footer()

    def on_mount(self) -> None:
        grid = self.query_one("#value-grid", DataTable)
        grid.add_column(_("R \\ F"), key="r")
        for f in range(1, 6):
            grid.add_column(f"F{f}", key=f"f{f}", width=11)
        self.query_one("#value-segments", DataTable).add_columns(
            _("Segment"), _("Customers"), _("Revenue"), _("Share")
        )
        self.query_one("#value-tiers", DataTable).add_columns(
            _("Tier"), _("Customers"), _("Value"), _("Share"), _("Threshold")
        )
        self.query_one("#value-risk", DataTable).add_columns(
            _("Code"), _("Name"), _("At stake"), _("P(alive)"), _("Reason")
        )
        grid.focus()
        self.load()

    # --- data ---------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="value", exit_on_error=False)
    def load(self) -> None:
        from tricrm_tui.services import value

        ov = value.overview(self.app.ctx, self.as_of, at_risk_limit=100)  # type: ignore[attr-defined]
        self.app.call_from_thread(self._show, ov)

    @work(thread=True, exclusive=True, group="value", exit_on_error=False)
    def refresh_snapshot(self) -> None:
        from tricrm_tui.services import value

        ctx = self.app.ctx  # type: ignore[attr-defined]
        result = value.value_refresh(ctx, self.refresh_date or ctx.today())
        ov = value.overview(ctx, result.as_of, at_risk_limit=100)
        self.app.call_from_thread(self._show, ov)
        self.app.call_from_thread(
            self.notify,
            _("valued {n} customers as of {date}").format(
                n=result.customers, date=format_date(result.as_of)
            ),
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.query_one("#value-status", Static).update(str(event.worker.error))
            self.notify(str(event.worker.error), severity="error", timeout=8)

    def _show(self, ov: Overview) -> None:
        self.overview = ov
        self.as_of = ov.as_of
        title = _("Customer value as of {date}").format(date=format_date(ov.as_of))
        self.query_one("#value-title", Static).update(title)
        basis = (
            _("tiers by predicted lifetime value")
            if ov.tiers.basis == "clv"
            else _("tiers by past spend")
        )
        stored = "" if ov.stored else " · " + _("not stored: r to refresh")
        self.query_one("#value-status", Static).update(basis + stored)
        self._fill_grid(ov)
        self._fill_segments(ov)
        self._fill_tiers(ov)
        self._fill_risk(ov)

    def _fill_grid(self, ov: Overview) -> None:

        table = self.query_one("#value-grid", DataTable)
        table.clear()
        ranked = sorted({c.revenue for c in ov.grid if c.customers})
        for r in range(5, 0, -1):
            cells: list[Text | str] = [Text(f"R{r}", style="bold")]
            for f in range(1, 6):
                cell = next(c for c in ov.grid if c.r == r and c.f == f)
                if not cell.customers:
                    cells.append(Text("·", style="dim"))
                    continue
                heat = HEAT[
                    min(len(HEAT) - 1, ranked.index(cell.revenue) * len(HEAT) // len(ranked))
                ]
                label = f"{cell.customers} {compact_money(cell.revenue)}"
                cells.append(Text(label, style=f"on {heat}"))
            table.add_row(*cells, key=f"r{r}")

    def _fill_segments(self, ov: Overview) -> None:
        from tricrm_tui.services.value import segment_label

        table = self.query_one("#value-segments", DataTable)
        table.clear()
        for row in ov.segments:
            table.add_row(
                segment_label(row.segment),
                format_number(row.customers),
                format_money(row.revenue),
                f"{row.share:.1%}",
                key=row.segment,
            )

    def _fill_tiers(self, ov: Overview) -> None:
        table = self.query_one("#value-tiers", DataTable)
        table.clear()
        for row in ov.tiers.tiers:
            table.add_row(
                row.name,
                format_number(row.customers),
                format_money(row.value),
                f"{row.share:.1%}",
                format_money(row.threshold) if row.threshold is not None else "",
                key=row.tier,
            )

    def _fill_risk(self, ov: Overview) -> None:
        table = self.query_one("#value-risk", DataTable)
        table.clear()
        for row in ov.at_risk.items:
            table.add_row(
                row.code,
                row.name,
                format_money(row.value_at_stake),
                "" if row.p_alive is None else f"{row.p_alive:.2f}",
                row.reason,
                key=row.code,
            )

    # --- keys ---------------------------------------------------------------------------

    def action_show(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        target = {"grid": "#value-grid", "segments": "#value-segments", "tiers": "#value-tiers"}
        self.query_one(target.get(tab, "#value-risk"), DataTable).focus()

    def action_refresh_value(self) -> None:
        self.query_one("#value-status", Static).update(_("Refreshing…"))
        self.refresh_snapshot()

    def action_close(self) -> None:
        self.dismiss()

    def _choose(self, selection: Selection) -> None:
        if self.on_select is not None:
            self.on_select(selection)
        self.post_message(self.SelectionChosen(selection, selection.describe()))

    @on(DataTable.CellSelected, "#value-grid")
    def _cell(self, event: DataTable.CellSelected) -> None:
        from tricrm_tui.services.value import Selection

        row, col = event.coordinate.row, event.coordinate.column
        if self.overview is None or col == 0:
            return
        self._choose(Selection(kind="cell", as_of=self.overview.as_of, r=5 - row, f=col))

    @on(DataTable.CellHighlighted, "#value-grid")
    def _cell_hint(self, event: DataTable.CellHighlighted) -> None:
        """Name the highlighted cell's segment and totals on the status line."""
        from tricrm_tui.services.value import segment_label

        row, col = event.coordinate.row, event.coordinate.column
        if self.overview is None or col == 0:
            return
        r, f = 5 - row, col
        cell = next(c for c in self.overview.grid if c.r == r and c.f == f)
        self.query_one("#value-status", Static).update(
            _("R{r} F{f} · {segment} · {n} customers · {revenue}").format(
                r=r,
                f=f,
                segment=segment_label(cell.segment),
                n=format_number(cell.customers),
                revenue=format_money(cell.revenue),
            )
        )

    @on(DataTable.RowSelected, "#value-segments")
    def _segment(self, event: DataTable.RowSelected) -> None:
        from tricrm_tui.services.value import Selection

        if self.overview is not None and event.row_key.value is not None:
            self._choose(
                Selection(kind="segment", as_of=self.overview.as_of, name=event.row_key.value)
            )

    @on(DataTable.RowSelected, "#value-tiers")
    def _tier(self, event: DataTable.RowSelected) -> None:
        from tricrm_tui.services.value import Selection

        if self.overview is not None and event.row_key.value is not None:
            self._choose(
                Selection(kind="tier", as_of=self.overview.as_of, name=event.row_key.value)
            )

    @on(DataTable.RowSelected, "#value-risk")
    def _customer(self, event: DataTable.RowSelected) -> None:
        code = event.row_key.value
        if code is None:
            return
        if self.on_customer is not None:
            self.on_customer(code)
        self.post_message(self.CustomerChosen(code))
