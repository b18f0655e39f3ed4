"""Duplicates review: probable duplicate groups, one pair side by side, merge / skip / differ.

The top table lists the groups (strongest first); moving its cursor shows that group's
first pair in the bottom table, field by field (fields both customers leave empty are left
out), differing values highlighted, with the value each field will keep. Space or Enter on a
field row switches which customer's value is kept; ``m`` merges the right customer into the
left with those choices, ``n`` skips to the next pair, ``d`` records that the two are
different people, ``s`` swaps which customer is kept (the values chosen stay chosen).

A choice names the customer whose value is kept, and the merge is told every differing
field's choice, keeping's own included: so an empty value chosen stays empty (the merge
would otherwise fill it), and a swap cannot send a choice the merge refuses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from tricrm_tui.i18n import _
from tricrm_tui.labels import N_, field_label
from tricrm_tui.tui.widgets.footer import TranslatedFooter as Footer
from tricrm_tui.tui.workers import ReportsWorkerErrors

if TYPE_CHECKING:
    from tricrm_tui.services.customers import CustomerRecord

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
GROUP_CODES_MAX_WIDTH = 30
"""The groups table's Customers column grows with its codes up to this; a longer list ends
in "+N" (the pair title counts the group's pairs)."""


def _show(value: Any) -> str:
    from tricrm_tui.i18n import format_date

    if value is None:
        return ""
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return format_date(value)
    return str(value)


def _field(record: CustomerRecord, f: str) -> Any:
    """A compared field's value. A person has no size band to keep or take: their size
    (``individual``, as filters class them) is left out like an empty field."""
    if f == "size" and record.kind == "individual":
        return None
    return getattr(record, f)


def _codes_cell(codes: list[str], width: int) -> str:
    """The group's codes in ``width`` cells; those that do not fit counted as "+N"."""
    text = " ".join(codes)
    if cell_len(text) <= width:
        return text
    for shown in range(len(codes) - 1, 0, -1):
        text = " ".join(codes[:shown]) + f" +{len(codes) - shown}"
        if cell_len(text) <= width:
            return text
    return f"{codes[0]} +{len(codes) - 1}"


class DuplicatesScreen(ReportsWorkerErrors, Screen[None]):
    """Review probable duplicates. Reads ``self.app.ctx`` (a ServiceContext)."""

    DEFAULT_CSS = """
    DuplicatesScreen #groups { height: 7; border-bottom: solid $primary; }
    DuplicatesScreen #pair-title { height: 1; padding: 0 1; background: $boost; }
    DuplicatesScreen #compare { height: 1fr; }
    DuplicatesScreen #status { height: 1; padding: 0 1; color: $text-muted; }
    """

    BINDINGS = [
        Binding("m", "merge", N_("Merge"), id="duplicates.merge"),
        Binding("n", "next", N_("Skip"), id="duplicates.next"),
        Binding("d", "different", N_("Different"), id="duplicates.different"),
        Binding("space", "switch_value", N_("Keep other value"), id="duplicates.toggle"),
        Binding("s", "swap", N_("Swap kept"), id="duplicates.swap"),
        Binding("r", "reload", N_("Reload"), id="duplicates.reload"),
        Binding("escape", "close", N_("Back"), id="duplicates.close"),
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
        self.choice: dict[str, str] = {}
        """Differing field → code of the customer whose value the merge keeps."""
        self.chosen: set[str] = set()
        """Fields the operator switched: a swap keeps their choice, the rest follow the
        kept customer."""
        self.shown: list[str] = []
        """The compared fields on screen, in row order (both sides empty: left out)."""

    def compose(self) -> ComposeResult:
        yield DataTable(id="groups", cursor_type="row", zebra_stripes=True)
        yield Static("", id="pair-title")
        yield DataTable(id="compare", cursor_type="row")
        yield Static(_("Looking for duplicates…"), id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#compare", DataTable).add_columns(_("Field"), "", "", _("Keep"))
        self.action_reload()

    # --- loading -----------------------------------------------------------------------

    def action_reload(self) -> None:
        self._status(_("Looking for duplicates…"))
        self.load_groups()

    @work(thread=True, exclusive=True, group="duplicates-scan", exit_on_error=False)
    def load_groups(self) -> None:
        from tricrm_tui.services.dedupe import probable_duplicates

        groups = probable_duplicates(self.app.ctx, min_score=self.min_score)  # type: ignore[attr-defined]
        self.app.call_from_thread(self._show_groups, groups)

    def _show_groups(self, groups: list[Any]) -> None:
        self.groups = groups
        self.groups_loaded = True
        table = self.query_one("#groups", DataTable)
        table.clear(columns=True)
        # Fixed widths, from the rows and the screen: auto-sized columns are measured
        # lazily (the first frames after the rows arrive showed a narrow Reasons column),
        # and every code of a group and the start of its reasons must fit in 80 columns.
        codes_width = min(
            GROUP_CODES_MAX_WIDTH,
            max([cell_len(_("Customers"))] + [cell_len(" ".join(g.codes)) for g in groups]),
        )
        reasons_width = max(20, self.size.width - codes_width - 5 - 3 * 2 - 2)
        table.add_column(_("Customers"), width=codes_width)
        table.add_column(_("Score"), width=5)
        table.add_column(_("Reasons"), width=reasons_width)
        for i, g in enumerate(groups):
            table.add_row(
                _codes_cell(list(g.codes), codes_width),
                f"{g.score:.2f}",
                "; ".join(g.reasons),
                key=str(i),
            )
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

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # The pair follows the groups table's cursor, so m and d act on the group in view.
        if event.data_table.id != "groups" or event.row_key.value is None:
            return
        index = int(event.row_key.value)
        if index != self.group_index:
            self.group_index, self.pair_index = index, 0
            self._load_pair()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "groups" and event.row_key.value is not None:
            self.query_one("#compare", DataTable).focus()
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
            # Until the pair arrives there is nothing for m, d or space to act on.
            self.left = self.right = None
            self.load_pair(self.group_index, self.pair_index, *codes)

    @work(thread=True, exclusive=True, group="duplicates-pair", exit_on_error=False)
    def load_pair(self, group: int, pair: int, left: str, right: str) -> None:
        from tricrm_tui.services.customers import get_customer
        from tricrm_tui.services.errors import NotFound

        ctx = self.app.ctx  # type: ignore[attr-defined]
        try:
            customers = (get_customer(ctx, left), get_customer(ctx, right))
        except NotFound as exc:  # deleted since the scan
            self.app.call_from_thread(self._gone, str(exc))
            return
        if any(c.merged_into for c in customers):  # merged since the scan
            gone = next(c.code for c in customers if c.merged_into)
            self.app.call_from_thread(
                self._gone,
                _("customer {code} is already merged into another customer").format(code=gone),
            )
            return
        self.app.call_from_thread(self._show_pair, group, pair, *customers)

    def _gone(self, reason: str) -> None:
        """A customer of the pair changed since the scan: say so and scan again."""
        self.notify(reason + " " + _("(looking for duplicates again)"), markup=False)
        self.action_reload()

    def _show_pair(self, group_index: int, pair_index: int, left: Any, right: Any) -> None:
        if (group_index, pair_index) != (self.group_index, self.pair_index):
            return  # the cursor moved on while this pair was read
        self.left, self.right = left, right
        self.chosen = set()
        self.choice = self._defaults()
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
        self._render_compare(keep_row=0)
        self._status(
            _("Keeping {code}: m merge, n skip, d different, space switch value").format(
                code=left.code
            )
        )

    def _differs(self, f: str) -> bool:
        return _show(_field(self.left, f)) != _show(_field(self.right, f))

    def _defaults(self) -> dict[str, str]:
        """Each differing field keeps the kept (left) customer's value, or the other's where
        the kept one has none: what a merge without choices does."""
        out = {}
        for f in COMPARED_FIELDS:
            if self._differs(f):
                empty = _show(_field(self.left, f)) == ""
                out[f] = (self.right if empty else self.left).code
        return out

    def _render_compare(self, keep_row: int | None = None) -> None:
        table = self.query_one("#compare", DataTable)
        row = table.cursor_row if keep_row is None else keep_row
        self.shown = [
            f
            for f in COMPARED_FIELDS
            if _show(_field(self.left, f)) or _show(_field(self.right, f))
        ]
        rows = []
        for f in self.shown:
            lv, rv = _show(_field(self.left, f)), _show(_field(self.right, f))
            differs = lv != rv
            style = "bold yellow" if differs else ""
            right_kept = differs and self.choice.get(f) == self.right.code
            mark_l = "● " if differs and not right_kept else "  "
            mark_r = "● " if right_kept else "  "
            keep = rv if right_kept else lv
            rows.append(
                (
                    Text(field_label(f)),
                    Text(mark_l + lv, style=style),
                    Text(mark_r + rv, style=style),
                    Text(keep or "—", style="bold" if differs else ""),
                )
            )
        # Widths from the cells themselves: auto-sized columns are measured lazily, so the
        # first frames after a pair arrived could show every column cut to a few cells. The
        # three value columns share what the field names leave of the screen, so the Keep
        # column stays in view at 80 columns.
        headers = (_("Field"), self.left.code, self.right.code, _("Keep"))
        widths = [max([cell_len(h)] + [r[i].cell_len for r in rows]) for i, h in enumerate(headers)]
        share = max(8, (self.size.width - widths[0] - 4 * 2 - 2) // 3)
        table.clear(columns=True)
        for i, header in enumerate(headers):
            cap = widths[0] if i == 0 else min(share, COMPARE_MAX_WIDTH)
            table.add_column(header, width=min(widths[i], cap))
        for f, cells in zip(self.shown, rows, strict=True):
            table.add_row(*cells, key=f)
        if self.shown:
            table.move_cursor(row=max(0, min(row, len(self.shown) - 1)))

    def _status(self, text: str) -> None:
        self.query_one("#status", Static).update(text)

    # --- actions -----------------------------------------------------------------------

    def action_switch_value(self) -> None:
        if self.left is None or not self.shown:
            return
        table = self.query_one("#compare", DataTable)
        f = self.shown[min(table.cursor_row, len(self.shown) - 1)]
        if not self._differs(f):
            return
        kept = self.choice[f]
        self.choice[f] = self.left.code if kept == self.right.code else self.right.code
        self.chosen.add(f)
        self._render_compare()

    def action_swap(self) -> None:
        if self.left is None:
            return
        self.left, self.right = self.right, self.left
        self.choice = {
            f: (self.choice[f] if f in self.chosen else code)
            for f, code in self._defaults().items()
        }
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
        # Every differing field's choice, the kept customer's own included: an empty value
        # chosen stays empty rather than being filled from the other.
        prefer = dict(self.choice)
        self._status(
            _("Merging {other} into {keep}…").format(other=self.right.code, keep=self.left.code)
        )
        self.run_merge(self.left.code, self.right.code, prefer)

    @work(thread=True, exclusive=True, group="duplicates-write", exit_on_error=False)
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

    @work(thread=True, exclusive=True, group="duplicates-write", exit_on_error=False)
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
