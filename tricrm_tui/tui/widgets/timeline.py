"""The customer timeline as a paged table: for the Timeline tab of the customer detail.

One page (50 entries) at a time from :func:`tricrm_tui.services.timeline.customer_timeline`,
loaded in a thread worker; ``n``/``p`` move between pages.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState, get_current_worker

from tricrm_tui.i18n import _, format_datetime
from tricrm_tui.labels import N_
from tricrm_tui.services.paging import Page
from tricrm_tui.services.timeline import KINDS, TimelineEntry, customer_timeline

TAB_TITLE = N_("Timeline")
"""Title of the customer detail tab: ``DETAIL_TABS.append((TAB_TITLE, TimelineView))``."""


class TimelineView(Vertical):
    """Everything that happened with customer ``code``, newest first."""

    DEFAULT_CSS = """
    TimelineView { height: 1fr; }
    TimelineView DataTable { height: 1fr; }
    TimelineView .timeline-status { height: 1; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "next_page", N_("Next page"), id="timeline.next"),
        Binding("p", "previous_page", N_("Previous page"), id="timeline.previous"),
    ]

    def __init__(self, code: str, *, page_size: int = 50, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.code = code
        self.page_size = page_size
        self.page_offset = 0
        self.row_total = 0

    def compose(self) -> ComposeResult:
        table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True)
        table.add_column(_("When"), width=16, key="at")
        table.add_column(_("Kind"), width=11, key="kind")
        table.add_column(_("Summary"), key="summary")
        yield table
        yield Static(_("loading…"), classes="timeline-status")

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="timeline", exit_on_error=False)
    def load(self) -> None:
        page = customer_timeline(
            self.app.ctx,  # type: ignore[attr-defined]
            self.code,
            limit=self.page_size,
            offset=self.page_offset,
        )
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, page)

    def _show(self, page: Page[TimelineEntry]) -> None:
        self.row_total = page.total
        table = self.query_one(DataTable)
        table.clear()
        for entry in page.items:
            table.add_row(
                format_datetime(entry.at.astimezone()),
                _(KINDS.get(entry.kind, entry.kind)),
                entry.summary,
                key=f"{entry.kind}-{entry.ref_id}",
            )
        status = self.query_one(".timeline-status", Static)
        if not page.items:
            status.update(_("nothing recorded yet"))
        else:
            status.update(
                _("entries {start}–{end} of {total} · n/p: next/previous page").format(
                    start=page.offset + 1, end=page.offset + len(page.items), total=page.total
                )
            )

    def action_next_page(self) -> None:
        if self.page_offset + self.page_size < self.row_total:
            self.page_offset += self.page_size
            self.load()

    def action_previous_page(self) -> None:
        if self.page_offset > 0:
            self.page_offset = max(0, self.page_offset - self.page_size)
            self.load()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.app.notify(str(event.worker.error), title=_("Database"), severity="error")
