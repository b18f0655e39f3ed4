"""The customer list: one page from the database at a time, search as you type, sort by column.

The table never holds more than :data:`PAGE_SIZE` rows, so opening it on 100,000 customers
costs one indexed page query and one count. Every query runs in an exclusive thread worker;
each request carries a generation number and only the newest one may fill the table, so a
slow search for "张" can never overwrite the faster answer for "张伟".

Columns are chosen by terminal width (code and name always, then city, phone, tier, spent,
last order as room allows) and re-chosen on resize: an operator over SSH at 80×24 sees a
readable table rather than a cropped one. Widths are measured in terminal cells, so Chinese
names (two cells per character) stay aligned.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Literal

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Header, Input, Static
from textual.worker import get_current_worker

from tricrm_tui.i18n import _, format_date, format_money
from tricrm_tui.labels import N_
from tricrm_tui.services import customer_rows
from tricrm_tui.services.customer_rows import CustomerRow
from tricrm_tui.services.paging import Page
from tricrm_tui.tui.widgets.filter_bar import FilterBar
from tricrm_tui.tui.widgets.footer import TranslatedFooter
from tricrm_tui.tui.widgets.paged_table import PagedTable, page_span
from tricrm_tui.tui.workers import EXPORT_GROUP, ReportsWorkerErrors

PAGE_SIZE = 50
"""Rows per page: about two screens at 80×24, small enough to fetch in a few milliseconds."""

SEARCH_DEBOUNCE_S = 0.15
"""Typing 张伟明 quickly sends one query, not three."""

SCROLLBAR_AND_MARGIN = 2
CELL_PADDING = 2  # DataTable pads each cell by one cell on either side
NAME_MIN_WIDTH = 14
NAME_MAX_WIDTH = 40


@dataclass(frozen=True)
class Column:
    """A column the list can show: its header msgid, how wide, how to sort and draw it."""

    key: str
    label: str
    width: Callable[[], int]
    render: Callable[[CustomerRow], Text]
    sort: str | None = None


def _fixed(n: int) -> Callable[[], int]:
    return lambda: n


def _date_width() -> int:
    return cell_len(format_date(dt.date(2026, 12, 31)))


def _plain(text: str | None) -> Text:
    """Cell text taken literally: a name like "ACME [HK]" is not Rich markup."""
    return Text(text or "")


def _right(text: str) -> Text:
    return Text(text, justify="right")


def _tier_width() -> int:
    """As wide as the longest default tier name in the operator's language (高价值: 6)."""
    from tricrm_tui.services.value_config import DEFAULT_TIER_NAMES

    return max(cell_len(_(name)) for name in DEFAULT_TIER_NAMES.values())


def tier_names() -> dict[str, str]:
    """Tier code → the name the value screen and dashboard show (value.toml may rename
    them), read in the list's worker. A broken value.toml is the value screen's to report;
    the list falls back to the default names."""
    from tricrm_tui.services import value_config
    from tricrm_tui.services.errors import TricrmError

    try:
        settings = value_config.load_settings()
    except TricrmError:
        settings = value_config.ValueSettings()
    return {tier: settings.tier_name(tier) for tier in value_config.TIERS}


COLUMNS: dict[str, Column] = {
    c.key: c
    for c in (
        Column("code", N_("Code"), _fixed(10), lambda r: _plain(r.code), sort="code"),
        Column("name", N_("Name"), _fixed(NAME_MIN_WIDTH), lambda r: _plain(r.name), sort="name"),
        Column("city", N_("City"), _fixed(8), lambda r: _plain(r.city), sort="city"),
        Column("phone", N_("Phone"), _fixed(14), lambda r: _plain(r.phone)),
        Column("tier", N_("Tier"), _tier_width, lambda r: _plain(r.value_tier), sort="tier"),
        Column(
            "spent",
            N_("Spent"),
            _fixed(12),
            lambda r: _right(format_money(r.total_spent)),
            sort="spent",
        ),
        Column(
            "last_order",
            N_("Last order"),
            _date_width,
            lambda r: _plain(format_date(r.last_order)),
            sort="last_order",
        ),
    )
}
ALWAYS = ("code", "name")
BY_PRIORITY = ("city", "phone", "spent", "tier", "last_order")


def column_width(column: Column) -> int:
    """Wide enough for the values and for the header (with room for a sort arrow)."""
    arrow = 2 if column.sort else 0
    return max(column.width(), cell_len(_(column.label)) + arrow)


def choose_columns(width: int) -> dict[str, int]:
    """Column key → content width for a table ``width`` cells wide, in display order.

    Code and name always; the others join in priority order while they fit; the name column
    takes the room left over (up to a readable maximum).
    """
    room = width - SCROLLBAR_AND_MARGIN
    chosen = {key: column_width(COLUMNS[key]) for key in ALWAYS}
    used = sum(w + CELL_PADDING for w in chosen.values())
    for key in BY_PRIORITY:
        w = column_width(COLUMNS[key])
        if used + w + CELL_PADDING <= room:
            chosen[key] = w
            used += w + CELL_PADDING
    chosen["name"] = min(NAME_MAX_WIDTH, chosen["name"] + max(0, room - used))
    return {key: chosen[key] for key in COLUMNS if key in chosen}


@dataclass(frozen=True)
class ListQuery:
    """What the list shows: everything needed to ask the service for one page."""

    search: str = ""
    sort: str = "code"
    descending: bool = False
    offset: int = 0


class CustomerListScreen(ReportsWorkerErrors, Screen):
    """All customers, or those matching ``where`` (a condition a service built), one page at a time."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_search", N_("Search"), id="customers.search"),
        Binding("enter", "open_customer", N_("Open"), id="customers.open"),
        Binding("s", "cycle_sort", N_("Sort"), id="customers.sort"),
        Binding("S", "flip_sort", N_("Reverse"), id="customers.reverse"),
        Binding("f", "filter", N_("Filter"), id="customers.filter"),
        Binding("x", "export", N_("Export"), id="customers.export"),
        Binding("r", "reload", N_("Reload"), show=False, id="customers.reload"),
        Binding("escape", "escape", N_("Clear search / back"), show=False, id="customers.escape"),
        # Only reached from the search box: the table answers ↓ itself.
        Binding("down", "to_results", N_("Go to the results"), show=False, id="customers.results"),
    ]

    def __init__(self, *, where: Any = None, title: str | None = None) -> None:
        super().__init__()
        self.where = where
        self.base_where = where
        self.filter_active = False
        self.list_title = title
        self.query_state = ListQuery()
        self.page: Page[CustomerRow] | None = None
        self.layout_columns: dict[str, int] = {}
        self._generation = 0
        self._debounce: Timer | None = None
        self._loading = False
        self._header_sort: tuple[str, bool] | None = None
        self._page_search = ""
        self.tier_names: dict[str, str] = {}

    # --- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Input(placeholder=_("/ search: code, name, phone, email, tag"), id="search")
        yield FilterBar(id="filter")
        yield PagedTable(id="customers")
        yield Static("", id="status", markup=False)
        yield TranslatedFooter()

    @property
    def table(self) -> PagedTable:
        return self.query_one("#customers", PagedTable)

    @property
    def search_input(self) -> Input:
        return self.query_one("#search", Input)

    def on_mount(self) -> None:
        self.sub_title = self.list_title or _("Customers")
        self._relayout()
        self.table.focus()
        self._request(self.query_state, "first")

    def on_screen_resume(self) -> None:
        """Back from a customer (perhaps edited) or an import: refresh the page in place,
        counted again (one count), so rows added meanwhile can be paged to."""
        if self.page is not None:
            self._request(self.query_state, "same", recount=True)

    def on_resize(self) -> None:
        self._relayout()

    def _relayout(self, *, force: bool = False) -> None:
        columns = choose_columns(self.size.width)
        if columns == self.layout_columns and not force:
            return
        self.layout_columns = columns
        self._header_sort = (self.query_state.sort, self.query_state.descending)
        table = self.table
        cursor = table.cursor_row
        table.clear(columns=True)
        for key, width in columns.items():
            table.add_column(self._header(key), width=width, key=key)
        self._fill_rows(cursor)

    def _header(self, key: str) -> Text:
        label = _(COLUMNS[key].label)
        if COLUMNS[key].sort == self.query_state.sort:
            label += " ▼" if self.query_state.descending else " ▲"
        return Text(label, justify="right" if key == "spent" else "left")

    # --- loading ----------------------------------------------------------------------------

    def _request(
        self, query: ListQuery, cursor: Literal["first", "last", "same"], *, recount: bool = False
    ) -> None:
        # Paging or re-sorting one search keeps its total: no need to count 100k rows again.
        # A capped total ("1,000+") is counted again: a page past the cap raises the cap.
        same_matches = (
            self.page is not None
            and query.search == self._page_search
            and not self.page.total_capped
        )
        known_total = self.page.total if same_matches and not recount else None  # type: ignore[union-attr]
        self.query_state = query
        self._generation += 1
        self._loading = True
        self._show_status()
        self._fetch(self._generation, query, cursor, known_total)

    @work(thread=True, exclusive=True, group="customer-list", exit_on_error=False)
    def _fetch(
        self,
        generation: int,
        query: ListQuery,
        cursor: Literal["first", "last", "same"],
        known_total: int | None,
    ) -> None:
        page = customer_rows.list_customer_rows(
            self.app.ctx,  # type: ignore[attr-defined]
            search=query.search or None,
            where=self.where,
            sort=query.sort,
            descending=query.descending,
            limit=PAGE_SIZE,
            offset=query.offset,
            total=known_total,
        )
        names = self.tier_names or tier_names()
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_page, generation, page, cursor, names)

    def _show_page(
        self,
        generation: int,
        page: Page[CustomerRow],
        cursor: Literal["first", "last", "same"],
        names: dict[str, str] | None = None,
    ) -> None:
        if generation != self._generation or not self.is_attached:
            return  # an older answer arriving after a newer question, or a closed screen
        self._loading = False
        self.tier_names = names or self.tier_names
        if page.total and page.offset >= page.total and not page.total_capped:
            # The list shrank under us (a narrower search, a delete elsewhere): last page.
            last = (page.total - 1) // PAGE_SIZE * PAGE_SIZE
            self._request(replace(self.query_state, offset=last), "last", recount=True)
            return
        self.page = page
        self._page_search = self.query_state.search
        table = self.table
        table.has_next = page.has_more
        table.has_previous = page.offset > 0
        target = {"first": 0, "last": len(page.items) - 1, "same": table.cursor_row}[cursor]
        if self._header_sort != (self.query_state.sort, self.query_state.descending):
            self._relayout(force=True)  # the sort arrow moved to another header
        self._fill_rows(target)
        self._show_status()

    def _fill_rows(self, cursor_row: int) -> None:
        table = self.table
        table.clear()
        if self.page is None:
            return
        keys = list(self.layout_columns)
        for record in self.page.items:
            table.add_row(*(self._cell(k, record) for k in keys), key=record.code)
        if table.row_count:
            table.move_cursor(row=max(0, min(cursor_row, table.row_count - 1)), animate=False)

    def _cell(self, key: str, record: CustomerRow) -> Text:
        if key == "tier" and record.value_tier in self.tier_names:
            return _plain(self.tier_names[record.value_tier])
        return COLUMNS[key].render(record)

    def _show_status(self) -> None:
        status = self.query_one("#status", Static)
        page = self.page
        parts: list[str] = []
        if page is None:
            parts.append(_("loading…"))
        elif page.total == 0:
            parts.append(_("no customers match") if self.query_state.search else _("no customers"))
        else:
            parts.append(page_span(_("rows {first}–{last} of {total}"), page))
        sort_col = next(c for c in COLUMNS.values() if c.sort == self.query_state.sort)
        parts.append(
            _("sorted by {field}").format(field=_(sort_col.label))
            + (" ▼" if self.query_state.descending else " ▲")
        )
        if self.query_state.search:
            parts.append(_("search: {text}").format(text=self.query_state.search))
        if self._loading and page is not None:
            parts.append(_("loading…"))
        status.update(" · ".join(parts))

    # --- search -----------------------------------------------------------------------------

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(SEARCH_DEBOUNCE_S, self._search_now)

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self._search_now()
        self.table.focus()

    def _search_now(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        text = self.search_input.value.strip()
        if text != self.query_state.search:
            self._request(replace(self.query_state, search=text, offset=0), "first")

    def action_to_results(self) -> None:
        self.table.focus()

    def action_focus_search(self) -> None:
        self.search_input.focus()

    def action_escape(self) -> None:
        """Esc leaves the search box; a second Esc clears the search, then the filter; then back."""
        bar = self.query_one(FilterBar)
        if self.search_input.has_focus or (
            self.focused is not None and bar in self.focused.ancestors
        ):
            self.table.focus()
        elif self.search_input.value:
            self.search_input.value = ""
            self._search_now()
        elif self.filter_active:
            self._set_filter(None, None)
        elif self.base_where is not None:
            self.app.pop_screen()  # a "these customers" list opened from another screen

    # --- filter (the filter language, validated and compiled by the services) ---------------

    def action_filter(self) -> None:
        bar = self.query_one(FilterBar)
        bar.display = True
        bar.query_one(Input).focus()

    @on(FilterBar.Applied)
    def _filter_applied(self, event: FilterBar.Applied) -> None:
        event.stop()
        self._set_filter(event.condition, event.meaning)
        self.table.focus()

    @on(FilterBar.Cleared)
    def _filter_cleared(self, event: FilterBar.Cleared) -> None:
        event.stop()
        self._set_filter(None, None)
        self.table.focus()  # the bar hides: its input would leave nothing focused

    def _set_filter(self, condition: Any, meaning: str | None) -> None:
        """A filter narrows what the list was opened on (a segment, a value cell's
        customers); clearing it gives that back."""
        self.filter_active = condition is not None
        self.where = customer_rows.narrowed(self.base_where, condition)
        bar = self.query_one(FilterBar)
        bar.display = self.filter_active
        titles = [self.list_title if self.base_where is not None else None, meaning]
        self.sub_title = " · ".join(t for t in titles if t) or self.list_title or _("Customers")
        self._request(replace(self.query_state, offset=0), "first", recount=True)

    # --- export (what the list shows: its filter, search and sort, every page) ---------------

    def action_export(self) -> None:
        from tricrm_tui.locations import data_dir
        from tricrm_tui.tui.widgets.confirm import TextDialog

        folder = data_dir() / "exports"
        stamp = self.app.ctx.now().astimezone().strftime("%Y%m%d-%H%M%S")  # type: ignore[attr-defined]
        q = self.query_state  # as the list shows now, whatever it shows by the answer
        search, where = q.search or None, self.where
        sort = ("-" if q.descending else "") + q.sort

        def chosen(answer: str | None) -> None:
            if not answer:
                return
            path = Path(answer).expanduser()
            path = path if path.is_absolute() else folder / path  # a bare name: the exports
            self.notify(_("exporting to {file}…").format(file=path), markup=False)
            # On the app, not this screen: closing the list must not drop the result.
            self.app.run_worker(
                partial(export_customers, self.app, path, search, where, sort),
                thread=True,
                group=EXPORT_GROUP,
                exit_on_error=False,
            )

        self.app.push_screen(
            TextDialog(
                _("Export these customers to (.csv, .xlsx or .jsonl):"),
                str(folder / f"customers-{stamp}.csv"),
            ),
            chosen,
        )

    # --- paging and sorting -----------------------------------------------------------------

    @on(PagedTable.PageRequested)
    def _page_requested(self, event: PagedTable.PageRequested) -> None:
        offset = max(0, self.query_state.offset + event.step * PAGE_SIZE)
        self._request(replace(self.query_state, offset=offset), event.cursor)

    def _sortable_columns(self) -> list[str]:
        return [s for k in self.layout_columns if (s := COLUMNS[k].sort)]

    def action_cycle_sort(self) -> None:
        sortable = self._sortable_columns()
        current = self.query_state.sort
        nxt = (
            sortable[(sortable.index(current) + 1) % len(sortable)]
            if current in sortable
            else sortable[0]
        )
        self._request(replace(self.query_state, sort=nxt, descending=False, offset=0), "first")

    def action_flip_sort(self) -> None:
        q = self.query_state
        self._request(replace(q, descending=not q.descending, offset=0), "first")

    @on(DataTable.HeaderSelected)
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        sort = COLUMNS[str(event.column_key.value)].sort
        if sort is None:
            self.notify(_("this column cannot be sorted"), severity="warning")
        elif sort == self.query_state.sort:
            self.action_flip_sort()
        else:
            self._request(replace(self.query_state, sort=sort, descending=False, offset=0), "first")

    def action_reload(self) -> None:
        self._request(self.query_state, "same", recount=True)

    # --- opening ----------------------------------------------------------------------------

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self._open(str(event.row_key.value))

    def action_open_customer(self) -> None:
        table = self.table
        if table.row_count:
            row_key, _col = table.coordinate_to_cell_key(table.cursor_coordinate)
            self._open(str(row_key.value))

    def _open(self, code: str) -> None:
        from tricrm_tui.tui.screens.customer_detail import CustomerDetailScreen

        self.app.push_screen(CustomerDetailScreen(code))


def export_customers(app: Any, path: Path, search: str | None, where: Any, sort: str) -> None:
    """In a worker thread: write the customers a list shows to ``path`` and say how it went.

    It tells the operator itself, as an "Export" notice, so a failure is not reported as the
    database's (a folder that cannot be made, a control character a workbook cannot hold),
    and the answer reaches the operator whichever screen is open by then."""
    from textual.worker import get_current_worker

    from tricrm_tui.services import exporting
    from tricrm_tui.services.errors import Stopped
    from tricrm_tui.tui.workers import error_message

    worker = get_current_worker()
    # A folder typed with the name is made; one that cannot be is the export's to say.
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        result = exporting.export_file(
            app.ctx, "customers", path, search=search, condition=where, sort=sort,
            stop=lambda: worker.is_cancelled,  # tricrm quitting, the operator having said yes
        )  # fmt: skip
    except Stopped:
        return  # no one is left to tell
    except Exception as exc:  # noqa: BLE001 - every failure is told, none kills the app
        app.call_from_thread(app.notify, error_message(exc), title=_("Export"),
                             severity="error", timeout=10, markup=False)  # fmt: skip
        return
    message = _("{n} rows written to {file}").format(n=result.rows, file=result.path)
    app.call_from_thread(app.notify, message, title=_("Export"), timeout=10, markup=False)
