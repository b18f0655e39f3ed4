"""One customer's orders, newest first, a page at a time (a tab of the customer detail)."""

from __future__ import annotations

import datetime as dt

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static
from textual.worker import get_current_worker

from tricrm_tui.i18n import _, format_date, format_money
from tricrm_tui.services.errors import InvalidInput
from tricrm_tui.services.orders import OrderRecord, list_orders
from tricrm_tui.services.paging import Page
from tricrm_tui.tui.widgets.paged_table import PagedTable, page_span
from tricrm_tui.tui.workers import ReportsWorkerErrors

ORDERS_PAGE_SIZE = 50


class CustomerOrders(ReportsWorkerErrors, Vertical):
    """The orders of customer ``code``; page keys fetch the next or previous page."""

    def __init__(self, code: str) -> None:
        super().__init__(classes="customer-orders")
        self.code = code
        self.page: Page[OrderRecord] | None = None
        self._offset = 0
        self._generation = 0

    def compose(self) -> ComposeResult:
        yield PagedTable(classes="orders-table")
        yield Static(_("loading…"), classes="status", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(PagedTable)
        date_width = cell_len(format_date(dt.date(2026, 12, 31)))
        table.add_column(_("Date"), width=date_width, key="date")
        table.add_column(_("Order"), width=10, key="order_no")
        table.add_column(Text(_("Amount"), justify="right"), width=12, key="amount")
        table.add_column(_("Product"), key="product")
        table.add_column(_("Status"), key="status")
        self._load(0, "first")

    def _load(self, offset: int, cursor: str) -> None:
        self._generation += 1
        self._fetch(self._generation, offset, cursor)

    @work(thread=True, exclusive=True, group="customer-orders", exit_on_error=False)
    def _fetch(self, generation: int, offset: int, cursor: str) -> None:
        try:
            page = list_orders(
                self.app.ctx,  # type: ignore[attr-defined]
                customer_code=self.code,
                limit=ORDERS_PAGE_SIZE,
                offset=offset,
            )
        except InvalidInput:  # merged into another: its orders went with it
            page = Page(items=[], total=0, limit=ORDERS_PAGE_SIZE, offset=0)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, generation, page, cursor)

    def _show(self, generation: int, page: Page[OrderRecord], cursor: str) -> None:
        if generation != self._generation or not self.is_attached:
            return
        self.page = page
        self._offset = page.offset
        table = self.query_one(PagedTable)
        keep = table.cursor_row
        table.clear()
        table.has_next = page.has_more
        table.has_previous = page.offset > 0
        for order in page.items:
            table.add_row(
                format_date(order.date),
                Text(order.order_no),
                Text(format_money(order.amount, order.currency), justify="right"),
                Text(order.product or order.category or ""),
                Text(order.status),
                key=order.order_no,
            )
        row = {"first": 0, "last": table.row_count - 1}.get(cursor, keep)
        if table.row_count:
            table.move_cursor(row=max(0, min(row, table.row_count - 1)), animate=False)
        status = self.query_one(".status", Static)
        if page.total == 0:
            status.update(_("no orders"))
        else:
            status.update(page_span(_("orders {first}–{last} of {total}"), page))

    @on(PagedTable.PageRequested)
    def _page_requested(self, event: PagedTable.PageRequested) -> None:
        event.stop()
        self._load(max(0, self._offset + event.step * ORDERS_PAGE_SIZE), event.cursor)
