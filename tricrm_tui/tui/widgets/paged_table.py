"""A DataTable that holds one page of a longer list and asks its owner for the neighbours.

Textual's DataTable has no lazy mode (textual#1892): handing it 100,000 rows costs seconds
and memory. So the table holds the page on screen only; page keys, and moving past the first
or last row, post :class:`PagedTable.PageRequested` and the owner fetches that page from the
database.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from tricrm_tui.i18n import format_number
from tricrm_tui.labels import N_
from tricrm_tui.services.paging import Page


class PagedTable(DataTable):
    BINDINGS: ClassVar[list[BindingType]] = [
        # Not in the footer (it has no room at 80 columns for them and ? help); ? lists them.
        Binding("pagedown", "next_page", N_("Next page"), show=False, id="table.next_page"),
        Binding(
            "pageup", "previous_page", N_("Previous page"), show=False, id="table.previous_page"
        ),
    ]

    class PageRequested(Message):
        """The owner should load the page ``step`` pages away and put the cursor at ``cursor``."""

        def __init__(
            self, table: PagedTable, step: int, cursor: Literal["first", "last", "same"]
        ) -> None:
            super().__init__()
            self.table = table
            self.step = step
            self.cursor = cursor

        @property
        def control(self) -> PagedTable:
            return self.table

    def __init__(self, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)
        self.has_next = False
        self.has_previous = False

    def action_next_page(self) -> None:
        if self.has_next:
            self.post_message(self.PageRequested(self, 1, "same"))
        elif self.row_count:
            self.move_cursor(row=self.row_count - 1)

    def action_previous_page(self) -> None:
        if self.has_previous:
            self.post_message(self.PageRequested(self, -1, "same"))
        elif self.row_count:
            self.move_cursor(row=0)

    def action_cursor_down(self) -> None:
        if self.has_next and self.row_count and self.cursor_row >= self.row_count - 1:
            self.post_message(self.PageRequested(self, 1, "first"))
        else:
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.has_previous and self.cursor_row <= 0:
            self.post_message(self.PageRequested(self, -1, "last"))
        else:
            super().action_cursor_up()


def page_span(template: str, page: Page[Any]) -> str:
    """``template`` (translated, with {first} {last} {total}) filled in for ``page``; a
    capped total reads "1,000+"."""
    return template.format(
        first=format_number(page.offset + 1),
        last=format_number(page.offset + len(page.items)),
        total=format_number(page.total) + ("+" if page.total_capped else ""),
    )
