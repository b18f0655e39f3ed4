"""Complaints: the ticket list (open and most urgent first), details, and status changes.

Every database call runs in a thread worker; results come back with ``call_from_thread``.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.screen import Screen
from textual.widgets import DataTable, Static

from tricrm_tui.i18n import _, format_datetime
from tricrm_tui.labels import N_
from tricrm_tui.tui.widgets.confirm import TextDialog
from tricrm_tui.tui.widgets.footer import TranslatedFooter as Footer

PAGE = 200
FILTERS = (None, "open", "in_progress", "resolved", "closed")
STATUS_LABELS = {
    "open": N_("open"),
    "in_progress": N_("in progress"),
    "resolved": N_("resolved"),
    "closed": N_("closed"),
}
SEVERITY_LABELS = {
    "low": N_("low"),
    "medium": N_("medium"),
    "high": N_("high"),
    "critical": N_("critical"),
}


def status_label(status: str) -> str:
    return _(STATUS_LABELS.get(status, status))


class ComplaintsScreen(Screen[None]):
    """Complaint tickets: ``i`` in progress, ``r`` resolve (asks for notes), ``c`` close."""

    DEFAULT_CSS = """
    ComplaintsScreen #title { height: 1; background: $boost; padding: 0 1; }
    ComplaintsScreen DataTable { height: 1fr; }
    ComplaintsScreen #detail { height: 7; border-top: solid $accent; padding: 0 1; }
    """
    BINDINGS = [
        Binding("i", "progress", N_("In progress"), id="complaints.progress"),
        Binding("r", "resolve", N_("Resolve"), id="complaints.resolve"),
        Binding("c", "close_ticket", N_("Close"), id="complaints.close"),
        Binding("f", "cycle_filter", N_("Filter"), id="complaints.filter"),
        Binding("o", "toggle_overdue", N_("Overdue"), id="complaints.overdue"),
        Binding("g", "reload", N_("Reload"), id="complaints.reload"),
        Binding("escape", "app.pop_screen", N_("Back"), id="complaints.back"),
    ]

    def __init__(self, *, status: str | None = None, overdue: bool = False) -> None:
        super().__init__()
        self.status = status
        self.overdue = overdue
        self.records: dict[int, Any] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="title")
        table: DataTable[str] = DataTable(id="complaints", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static(id="detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column(_("No."), key="id", width=4)
        table.add_column(_("Customer"), key="customer", width=12)
        table.add_column(_("Category"), key="category", width=9)
        table.add_column(_("Severity"), key="severity", width=9)
        table.add_column(_("Status"), key="status", width=11)
        # Fixed widths: auto-sized columns are measured lazily (a first frame could be narrow).
        table.add_column(_("SLA due"), key="due", width=18)
        self.action_reload()

    # -- loading ------------------------------------------------------------------------

    def action_reload(self) -> None:
        self._load(self.status, self.overdue)

    @work(thread=True, exclusive=True, group="complaints")
    def _load(self, status: str | None, overdue: bool) -> None:
        from tricrm_tui.services import feedback
        from tricrm_tui.services.errors import TricrmError

        try:
            page = feedback.list_complaints(
                self.app.ctx, status=status, overdue=overdue, limit=PAGE
            )
        except TricrmError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.app.call_from_thread(self._show, page)

    def _show(self, page: Any) -> None:
        table = self.query_one(DataTable)
        keep = table.cursor_row
        current = self.selected()
        table.clear()
        self.records = {r.id: r for r in page.items}
        for r in page.items:
            due = format_datetime(r.sla_due_at.astimezone()) if r.sla_due_at else ""
            table.add_row(
                str(r.id),
                f"{r.customer_code} {r.customer_name}",
                r.category or "",
                _(SEVERITY_LABELS.get(r.severity, r.severity)),
                status_label(r.status),
                ("! " if r.overdue else "") + due,
                key=str(r.id),
            )
        if current is not None and current.id in self.records:
            # The cursor follows the ticket the operator was working on, wherever it sorts.
            table.move_cursor(row=table.get_row_index(str(current.id)))
        elif page.items:
            table.move_cursor(row=min(max(keep, 0), len(page.items) - 1))
        label = _("all") if self.status is None else status_label(self.status)
        title = _("Complaints: {filter} — {shown} of {total}").format(
            filter=label + (" · " + _("overdue") if self.overdue else ""),
            shown=len(page.items),
            total=page.total,
        )
        self.query_one("#title", Static).update(title)
        self._show_detail()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def selected(self) -> Any | None:
        table = self.query_one(DataTable)
        if not self.records or table.cursor_row < 0:
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        return self.records.get(int(key)) if key is not None else None

    def _show_detail(self) -> None:
        r = self.selected()
        detail = self.query_one("#detail", Static)
        if r is None:
            detail.update(_("no complaints"))
            return
        lines = [
            _("{code} {name} · owner {owner} · logged {at}").format(
                code=r.customer_code,
                name=r.customer_name,
                owner=r.owner or "",
                at=format_datetime(r.created_at.astimezone()),
            ),
            _("Touchpoint: {tp}  Order: {order}").format(
                tp=r.touchpoint or "—", order=r.order_no or "—"
            ),
            _("Notes: {notes}").format(notes=r.notes or "—"),
            _("Resolution: {text}").format(text=r.resolution or "—"),
        ]
        detail.update("\n".join(lines))

    # -- actions ------------------------------------------------------------------------

    def action_cycle_filter(self) -> None:
        self.status = FILTERS[(FILTERS.index(self.status) + 1) % len(FILTERS)]
        self.action_reload()

    def action_toggle_overdue(self) -> None:
        self.overdue = not self.overdue
        self.action_reload()

    def action_progress(self) -> None:
        if (r := self.selected()) is not None:
            self._change(r.id, "in_progress", None)

    def action_close_ticket(self) -> None:
        if (r := self.selected()) is not None:
            self._change(r.id, "closed", None)

    def action_resolve(self) -> None:
        r = self.selected()
        if r is None:
            return

        def done(text: str | None) -> None:
            if text:
                self._change(r.id, "resolved", text)

        self.app.push_screen(
            TextDialog(_("Resolution notes for complaint {id}:").format(id=r.id)), done
        )

    @work(thread=True, exclusive=True, group="complaints-write")
    def _change(self, complaint_id: int, status: str, resolution: str | None) -> None:
        from tricrm_tui.services import feedback
        from tricrm_tui.services.errors import TricrmError

        try:
            rec = feedback.set_status(self.app.ctx, complaint_id, status, resolution=resolution)
        except TricrmError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.app.call_from_thread(
            self.notify,
            _("complaint {id} is now {status}").format(id=rec.id, status=status_label(rec.status)),
        )
        self.app.call_from_thread(self.action_reload)
