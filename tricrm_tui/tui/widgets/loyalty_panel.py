"""A customer's points and member level (a tab of the customer detail).

Shows the balance, the level and how far the next one is, the next points to expire and the
ledger a page at a time; ``r`` redeems and ``a`` adjusts through a small form that insists on
a reason. Every read and write is a service call in a thread worker.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, Static
from textual.worker import Worker, WorkerState, get_current_worker

from tricrm_tui.i18n import _, format_date, format_datetime, format_money, format_number
from tricrm_tui.labels import N_
from tricrm_tui.services import loyalty
from tricrm_tui.services.errors import InvalidInput, TricrmError
from tricrm_tui.services.paging import Page

LEDGER_PAGE_SIZE = 10

KIND_LABELS = {
    "earn": N_("earned"),
    "redeem": N_("redeemed"),
    "adjust": N_("adjusted"),
    "expire": N_("expired"),
}


class LedgerTable(DataTable[Any]):
    """The ledger rows; page keys ask the panel for the next or previous page."""

    BINDINGS = [
        Binding("pagedown", "page(1)", N_("Next page"), id="loyalty.next_page"),
        Binding("pageup", "page(-1)", N_("Previous page"), id="loyalty.previous_page"),
    ]

    class PageRequested(Message):
        def __init__(self, step: int) -> None:
            super().__init__()
            self.step = step

    def action_page(self, step: int) -> None:
        self.post_message(self.PageRequested(step))


class PointsForm(ModalScreen[tuple[int, str] | None]):
    """Points and a reason; Enter saves, Escape cancels. Dismisses with (points, reason)."""

    BINDINGS = [Binding("escape", "cancel", N_("Cancel"), id="loyalty.form.cancel")]

    DEFAULT_CSS = """
    PointsForm { align: center middle; }
    PointsForm > Vertical {
        width: 60; max-width: 100%; height: auto; padding: 1 2;
        border: thick $accent; background: $surface;
    }
    PointsForm Input { margin-bottom: 1; }
    PointsForm .error { color: $error; height: auto; }
    PointsForm Horizontal { height: auto; align-horizontal: right; }
    PointsForm Button { margin-left: 1; }
    """

    def __init__(self, title: str, *, allow_negative: bool) -> None:
        super().__init__()
        self.title_text = title
        self.allow_negative = allow_negative

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="title")
            yield Label(_("Points (negative to remove)") if self.allow_negative else _("Points"))
            yield Input(type="integer", id="points")
            yield Label(_("Reason (required)"))
            yield Input(id="reason", max_length=200)
            yield Static("", classes="error")
            with Horizontal():
                yield Button(_("Save"), variant="primary", id="save")
                yield Button(_("Cancel"), id="cancel")

    def on_mount(self) -> None:
        self.query_one("#points", Input).focus()

    def _error(self, message: str) -> None:
        self.query_one(".error", Static).update(message)

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        raw = self.query_one("#points", Input).value.strip()
        reason = self.query_one("#reason", Input).value.strip()
        try:
            points = int(raw)
        except ValueError:
            self._error(_("points must be a whole number"))
            self.query_one("#points", Input).focus()
            return
        if points == 0 or (points < 0 and not self.allow_negative):
            self._error(_("points must be above zero"))
            self.query_one("#points", Input).focus()
            return
        if not reason:
            self._error(_("a reason is required"))
            self.query_one("#reason", Input).focus()
            return
        self.dismiss((points, reason))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class LoyaltyPanel(Vertical):
    """Points and level of customer ``code``."""

    BINDINGS = [
        Binding("r", "redeem", N_("Redeem"), id="loyalty.redeem"),
        Binding("a", "adjust", N_("Adjust points"), id="loyalty.adjust"),
    ]

    DEFAULT_CSS = """
    LoyaltyPanel { height: 1fr; }
    LoyaltyPanel #loyalty-summary { height: auto; padding: 0 1; }
    LoyaltyPanel LedgerTable { height: 1fr; }
    LoyaltyPanel #loyalty-status { height: 1; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, code: str) -> None:
        super().__init__(classes="loyalty-panel")
        self.code = code
        self.status: loyalty.LoyaltyStatus | None = None
        self.page: Page[loyalty.LedgerRow] | None = None
        self._offset = 0

    def compose(self) -> ComposeResult:
        yield Static(_("loading…"), id="loyalty-summary")
        yield LedgerTable(id="loyalty-ledger", cursor_type="row", zebra_stripes=True)
        yield Static("", id="loyalty-status")

    def on_mount(self) -> None:
        table = self.query_one(LedgerTable)
        table.add_column(_("When"), key="at", width=16)
        table.add_column(_("Kind"), key="kind", width=8)
        table.add_column(Text(_("Points"), justify="right"), key="points", width=8)
        table.add_column(_("Reason / source"), key="reason")
        self.refresh_data()

    # --- reading ---------------------------------------------------------------------------

    def refresh_data(self, offset: int | None = None) -> None:
        if offset is not None:
            self._offset = offset
        self._fetch(self._offset)

    @work(thread=True, exclusive=True, group="loyalty-panel", exit_on_error=False)
    def _fetch(self, offset: int) -> None:
        ctx = self.app.ctx  # type: ignore[attr-defined]
        status = loyalty.get_status(ctx, self.code)
        page = loyalty.list_ledger(ctx, self.code, limit=LEDGER_PAGE_SIZE, offset=offset)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, status, page)

    def _show(self, status: loyalty.LoyaltyStatus, page: Page[loyalty.LedgerRow]) -> None:
        self.status, self.page, self._offset = status, page, page.offset
        self.query_one("#loyalty-summary", Static).update(summary_text(status))
        table = self.query_one(LedgerTable)
        table.clear()
        for row in page.items:
            points = Text(f"{row.points:+,}", justify="right")
            points.stylize("green" if row.points > 0 else "red" if row.points < 0 else "")
            table.add_row(
                when(row),
                _(KIND_LABELS.get(row.kind, row.kind)),
                points,
                row.reason or row.source_key,
                key=str(row.id),
            )
        footer = self.query_one("#loyalty-status", Static)
        if page.total == 0:
            footer.update(_("no points yet"))
        else:
            footer.update(
                _("entries {first}–{last} of {total}").format(
                    first=format_number(page.offset + 1),
                    last=format_number(page.offset + len(page.items)),
                    total=format_number(page.total),
                )
            )

    @on(LedgerTable.PageRequested)
    def _page(self, event: LedgerTable.PageRequested) -> None:
        event.stop()
        if self.page is None:
            return
        target = self._offset + event.step * LEDGER_PAGE_SIZE
        if 0 <= target < max(self.page.total, 1):
            self.refresh_data(target)

    # --- writing ---------------------------------------------------------------------------

    def action_redeem(self) -> None:
        self.app.push_screen(
            PointsForm(_("Redeem points of {code}").format(code=self.code), allow_negative=False),
            lambda result: self._post("redeem", result),
        )

    def action_adjust(self) -> None:
        self.app.push_screen(
            PointsForm(_("Adjust points of {code}").format(code=self.code), allow_negative=True),
            lambda result: self._post("adjust", result),
        )

    def _post(self, kind: str, result: tuple[int, str] | None) -> None:
        if result is not None:
            self._write(kind, *result)

    @work(thread=True, exclusive=True, group="loyalty-write", exit_on_error=False)
    def _write(self, kind: str, points: int, reason: str) -> None:
        ctx = self.app.ctx  # type: ignore[attr-defined]
        if kind == "redeem":
            entry = loyalty.redeem_points(ctx, self.code, points, reason)
        else:
            entry = loyalty.adjust_points(ctx, self.code, points, reason)
        self.app.call_from_thread(self._written, entry)

    def _written(self, entry: loyalty.LedgerRow) -> None:
        self.app.notify(_("{points:+,} points recorded").format(points=entry.points))
        self.refresh_data(0)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A refused redemption or a database failure becomes one notification."""
        error = event.worker.error
        if event.state != WorkerState.ERROR or error is None:
            return
        if isinstance(error, TricrmError):
            message = str(error)
        else:
            message = _("unexpected error: {error}").format(
                error=f"{type(error).__name__}: {error}"
            )
        self.app.notify(
            message,
            title=_("Points") if isinstance(error, InvalidInput) else _("Database"),
            severity="error",
            timeout=8,
        )


def when(row: loyalty.LedgerRow) -> str:
    """Earned and expired points carry their business date (00:00 UTC), shown as that date;
    redemptions and adjustments carry the moment they were made, shown in local time."""
    if row.kind in ("earn", "expire"):
        return format_date(row.at.astimezone(dt.UTC).date())
    return format_datetime(row.at.astimezone())


def summary_text(status: loyalty.LoyaltyStatus) -> Text:
    """Balance, level, the way to the next level and the next expiry, for 80 columns."""
    text = Text()
    text.append(_("Balance") + " ", style="bold")
    text.append(_("{points} points").format(points=format_number(status.balance)), style="bold")
    text.append("   " + _("Level") + " ")
    text.append(status.level, style="bold")
    text.append(f" (×{status.multiplier})")
    if status.next_level is None:
        text.append("\n" + _("Highest level reached"))
    else:
        needs = []
        if status.points_to_next is not None:
            needs.append(_("{points} points").format(points=format_number(status.points_to_next)))
        if status.spend_to_next is not None:
            needs.append(format_money(status.spend_to_next))
        text.append(
            "\n"
            + _("Next: {level}, {needs} to go").format(
                level=status.next_level, needs=" / ".join(needs)
            )
        )
    text.append(
        "\n"
        + _("Since {date}: {points} points earned, {spend} spent").format(
            date=format_date(status.window_from),
            points=format_number(status.window_points),
            spend=format_money(status.window_spend),
        )
    )
    if status.next_expiry is not None:
        text.append(
            "\n"
            + _("{points} points expire on {date}").format(
                points=format_number(status.next_expiry_points),
                date=format_date(status.next_expiry),
            )
        )
    return text
