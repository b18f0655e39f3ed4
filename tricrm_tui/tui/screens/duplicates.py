"""Duplicates review: probable duplicate groups, one pair side by side, merge / skip / differ.

The top table lists the groups (strongest first); the bottom one shows the current pair
field by field, differing values highlighted, with the value each field will keep. Space or
Enter on a field row switches which side's value is kept; ``m`` merges the right
customer into the left with those choices, ``n`` skips to the next pair, ``d`` records that
the two are different people, ``s`` swaps which customer is kept.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from tricrm_tui.i18n import _
from tricrm_tui.labels import field_label

COMPARED_FIELDS = (
    "name",
    "kind",
    "phone",
    "email",
    "birthday",
    "province",
    "city",
    "address",
    "industry",
    "size",
    "source",
    "owner",
    "notes",
    "registered",
)


COMPARE_MAX_WIDTH = 40
"""A compared value wider than this is cut in the table (the record shows it whole)."""


def _show(value: Any) -> str:
    from tricrm_tui.i18n import format_date

    if value is None:
        return ""
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return format_date(value)
    return str(value)


class DuplicatesScreen(Screen[None]):
    """Review probable duplicates. Reads ``self.app.ctx`` (a ServiceContext)."""

    DEFAULT_CSS = """
    DuplicatesScreen #groups { height: 7; border-bottom: solid $primary; }
    DuplicatesScreen #pair-title { height: 1; padding: 0 1; background: $boost; }
    DuplicatesScreen #compare { height: 1fr; }
    DuplicatesScreen #status { height: 1; padding: 0 1; color: $text-muted; }
    """

    BINDINGS = [
        Binding("m", "merge", _("Merge"), id="duplicates.merge"),
        Binding("n", "next", _("Skip"), id="duplicates.next"),
        Binding("d", "different", _("Different"), id="duplicates.different"),
        Binding("space", "switch_value", _("Keep other value"), id="duplicates.toggle"),
        Binding("s", "swap", _("Swap kept"), id="duplicates.swap"),
        Binding("r", "reload", _("Reload"), id="duplicates.reload"),
        Binding("escape", "close", _("Back"), id="duplicates.close"),
    ]

    def __init__(self, min_score: float = 0.7) -> None:
        super().__init__()
        self.min_score = min_score
        self.groups: list[Any] = []
        self.group_index = 0
        self.pair_index = 0
        self.left: Any = None
        self.groups_loaded = False
        """True once the first scan has answered (tests and the status line wait on it)."""
        self.right: Any = None
        self.choice: dict[str, str] = {}  # field → "left" | "right"

    def compose(self) -> ComposeResult:
        yield DataTable(id="groups", cursor_type="row", zebra_stripes=True)
        yield Static("", id="pair-title")
        yield DataTable(id="compare", cursor_type="row")
        yield Static(_("Looking for duplicates…"), id="status")
        yield Footer()

    def on_mount(self) -> None:
        groups = self.query_one("#groups", DataTable)
        # Fixed widths: auto-sized columns are measured lazily, so the first frames after
        # the rows arrive could show a narrow Reasons column.
        groups.add_column(_("Customers"), width=16)
        groups.add_column(_("Score"), width=5)
        groups.add_column(_("Reasons"), width=52)
        self.query_one("#compare", DataTable).add_columns(_("Field"), "", "", _("Keep"))
        self.action_reload()

    # --- loading -----------------------------------------------------------------------

    def action_reload(self) -> None:
        self._status(_("Looking for duplicates…"))
        self.load_groups()

    @work(thread=True, exclusive=True, group="duplicates-scan")
    def load_groups(self) -> None:
        from tricrm_tui.services.dedupe import probable_duplicates

        groups = probable_duplicates(self.app.ctx, min_score=self.min_score)  # type: ignore[attr-defined]
        self.app.call_from_thread(self._show_groups, groups)

    def _show_groups(self, groups: list[Any]) -> None:
        self.groups = groups
        self.groups_loaded = True
        table = self.query_one("#groups", DataTable)
        table.clear()
        for i, g in enumerate(groups):
            table.add_row(" ".join(g.codes), f"{g.score:.2f}", "; ".join(g.reasons), key=str(i))
        if not groups:
            self.left = self.right = None
            self.query_one("#compare", DataTable).clear()
            self.query_one("#pair-title", Static).update("")
            self._status(_("No probable duplicates."))
            return
        self.group_index = min(self.group_index, len(groups) - 1)
        self.pair_index = 0
        table.move_cursor(row=self.group_index)
        self._load_pair()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "groups" and event.row_key.value is not None:
            self.group_index = int(event.row_key.value)
            self.pair_index = 0
            self._load_pair()
        elif event.data_table.id == "compare":
            self.action_switch_value()

    def _current_pair(self) -> tuple[str, str] | None:
        if not self.groups:
            return None
        group = self.groups[self.group_index]
        pair = group.pairs[self.pair_index % len(group.pairs)]
        return pair.codes

    def _load_pair(self) -> None:
        codes = self._current_pair()
        if codes:
            self.load_pair(*codes)

    @work(thread=True, exclusive=True, group="duplicates-pair")
    def load_pair(self, left: str, right: str) -> None:
        from tricrm_tui.services.customers import get_customer

        ctx = self.app.ctx  # type: ignore[attr-defined]
        pair = (get_customer(ctx, left), get_customer(ctx, right))
        self.app.call_from_thread(self._show_pair, *pair)

    def _show_pair(self, left: Any, right: Any) -> None:
        self.left, self.right = left, right
        self.choice = {}
        for f in COMPARED_FIELDS:
            lv, rv = getattr(left, f), getattr(right, f)
            self.choice[f] = "right" if (lv in (None, "") and rv not in (None, "")) else "left"
        group = self.groups[self.group_index]
        pair = group.pairs[self.pair_index % len(group.pairs)]
        self.query_one("#pair-title", Static).update(
            _("Group {n}/{total} · pair {p}/{pairs} · score {score:.2f}").format(
                n=self.group_index + 1,
                total=len(self.groups),
                p=self.pair_index % len(group.pairs) + 1,
                pairs=len(group.pairs),
                score=pair.score,
            )
        )
        self._render_compare()
        self._status(
            _("Keeping {code}: m merge, n skip, d different, space switch value").format(
                code=left.code
            )
        )

    def _render_compare(self, keep_row: int | None = None) -> None:
        table = self.query_one("#compare", DataTable)
        row = table.cursor_row if keep_row is None else keep_row
        rows = []
        for f in COMPARED_FIELDS:
            lv, rv = _show(getattr(self.left, f)), _show(getattr(self.right, f))
            differs = lv != rv
            style = "bold yellow" if differs else ""
            chosen = self.choice[f]
            mark_l = "● " if chosen == "left" and differs else "  "
            mark_r = "● " if chosen == "right" and differs else "  "
            keep = (rv if chosen == "right" else lv) if differs else lv
            rows.append(
                (
                    Text(field_label(f)),
                    Text(mark_l + lv, style=style),
                    Text(mark_r + rv, style=style),
                    Text(keep, style="bold" if differs else ""),
                )
            )
        # Widths from the cells themselves: auto-sized columns are measured lazily, so the
        # first frames after a pair arrived could show every column cut to a few cells.
        headers = (_("Field"), self.left.code, self.right.code, _("Keep"))
        table.clear(columns=True)
        for i, header in enumerate(headers):
            width = max([cell_len(header)] + [r[i].cell_len for r in rows])
            table.add_column(header, width=min(width, COMPARE_MAX_WIDTH))
        for f, cells in zip(COMPARED_FIELDS, rows, strict=True):
            table.add_row(*cells, key=f)
        table.move_cursor(row=max(0, min(row, len(COMPARED_FIELDS) - 1)))

    def _status(self, text: str) -> None:
        self.query_one("#status", Static).update(text)

    # --- actions -----------------------------------------------------------------------

    def action_switch_value(self) -> None:
        if self.left is None:
            return
        table = self.query_one("#compare", DataTable)
        f = COMPARED_FIELDS[table.cursor_row]
        if _show(getattr(self.left, f)) == _show(getattr(self.right, f)):
            return
        self.choice[f] = "left" if self.choice[f] == "right" else "right"
        self._render_compare()

    def action_swap(self) -> None:
        if self.left is None:
            return
        self.left, self.right = self.right, self.left
        self.choice = {f: "right" if c == "left" else "left" for f, c in self.choice.items()}
        self._render_compare()
        self._status(_("Keeping {code}").format(code=self.left.code))

    def action_next(self) -> None:
        if not self.groups:
            return
        group = self.groups[self.group_index]
        if self.pair_index + 1 < len(group.pairs):
            self.pair_index += 1
        else:
            self.group_index = (self.group_index + 1) % len(self.groups)
            self.pair_index = 0
            self.query_one("#groups", DataTable).move_cursor(row=self.group_index)
        self._load_pair()

    def action_merge(self) -> None:
        if self.left is None:
            return
        prefer = {f: self.right.code for f, c in self.choice.items() if c == "right"}
        self._status(
            _("Merging {other} into {keep}…").format(other=self.right.code, keep=self.left.code)
        )
        self.run_merge(self.left.code, self.right.code, prefer)

    @work(thread=True, exclusive=True, group="duplicates-write")
    def run_merge(self, keep: str, other: str, prefer: dict[str, str]) -> None:
        from tricrm_tui.services.errors import TricrmError
        from tricrm_tui.services.merge import merge_customers

        try:
            merge_customers(self.app.ctx, keep, [other], prefer)  # type: ignore[attr-defined]
        except TricrmError as exc:
            self.app.call_from_thread(self._status, str(exc))
            return
        self.app.call_from_thread(
            self.notify, _("Merged {other} into {keep}").format(other=other, keep=keep)
        )
        self.app.call_from_thread(self.action_reload)

    def action_different(self) -> None:
        if self.left is None:
            return
        self.run_different(self.left.code, self.right.code)

    @work(thread=True, exclusive=True, group="duplicates-write")
    def run_different(self, a: str, b: str) -> None:
        from tricrm_tui.services.errors import TricrmError
        from tricrm_tui.services.merge import mark_not_duplicate

        try:
            mark_not_duplicate(self.app.ctx, a, b)  # type: ignore[attr-defined]
        except TricrmError as exc:
            self.app.call_from_thread(self._status, str(exc))
            return
        self.app.call_from_thread(
            self.notify, _("Recorded: {a} and {b} are different").format(a=a, b=b)
        )
        self.app.call_from_thread(self.action_reload)

    def action_close(self) -> None:
        self.dismiss(None)
