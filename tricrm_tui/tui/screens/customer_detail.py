"""One customer: every stored field on the first tab, then one tab per registered view.

Later capabilities add their view of a customer (timeline, value, journey…) by appending to
:data:`DETAIL_TABS` rather than editing this screen: a title msgid and a factory that builds
the tab's widget from the customer code. Each tab widget loads its own data in its own
worker, so a slow tab never holds up the others.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Header, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from tricrm_tui.i18n import _, format_number, format_value
from tricrm_tui.labels import N_, aov_label, field_label, frequency_label, size_label, value_label
from tricrm_tui.services import customers
from tricrm_tui.services.customers import CustomerRecord
from tricrm_tui.tui.widgets.customer_orders import CustomerOrders
from tricrm_tui.tui.widgets.footer import TranslatedFooter
from tricrm_tui.tui.workers import ReportsWorkerErrors

DetailTabFactory = Callable[[str], Widget]

DETAIL_TABS: list[tuple[str, DetailTabFactory]] = [
    (N_("Order history"), CustomerOrders),
]
"""Tabs after "Details", in order: (title msgid, factory(customer code) → widget)."""

CHANNEL_LABELS = {
    "email": N_("Email"),
    "sms": N_("SMS"),
    "phone": N_("Phone"),
    "wechat": N_("WeChat"),
}


def display_value(key: str, value: Any) -> str:
    """A stored value as the operator reads it: local dates, ¥ amounts, translated codes."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if key == "kind":
        return value_label(value)
    if key == "size":
        return size_label(value)
    if key == "frequency_band":
        return frequency_label(value)
    if key == "aov_band":
        return aov_label(value)
    if key == "version":
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return format_number(value)
    if key == "consent":
        return "  ".join(
            f"{_(CHANNEL_LABELS.get(ch, ch))} {'✓' if ok else '✗'}" for ch, ok in value.items()
        )
    return format_value(value)


def field_table(record: CustomerRecord) -> Table:
    """Label / value rows for every field of the record (the internal id aside)."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for f in dataclasses.fields(record):
        value = getattr(record, f.name)
        if f.name == "id" or (f.name == "size_text" and value is None):
            continue  # the size as given only where it says more than the size shown
        grid.add_row(field_label(f.name), Text(display_value(f.name, value)))
    return grid


class CustomerDetailScreen(ReportsWorkerErrors, Screen):
    """Customer ``code``: Details, then the tabs in :data:`DETAIL_TABS`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", N_("Back"), id="detail.back"),
        Binding("backspace", "back", N_("Back"), show=False, id="detail.back_alt"),
        Binding("right_square_bracket", "next_tab", N_("Next tab"), id="detail.next_tab"),
        Binding("left_square_bracket", "previous_tab", N_("Previous tab"), id="detail.prev_tab"),
        Binding("e", "edit", N_("Edit"), id="detail.edit"),
        Binding("u", "unmerge", N_("Unmerge"), id="detail.unmerge"),
    ]

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code
        self.record: CustomerRecord | None = None

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with TabbedContent(id="detail-tabs", initial="details"):
            with TabPane(_("Details"), id="details"), VerticalScroll(id="fields-scroll"):
                yield Static(_("loading…"), id="fields")
            for i, (title, factory) in enumerate(DETAIL_TABS):
                with TabPane(_(title), id=f"tab-{i}"):
                    yield factory(self.code)
        yield TranslatedFooter()

    def on_mount(self) -> None:
        self.sub_title = self.code
        self.query_one("#fields-scroll").focus()
        self._load()

    @work(thread=True, exclusive=True, group="customer-detail", exit_on_error=False)
    def _load(self) -> None:
        record = customers.get_customer(self.app.ctx, self.code)  # type: ignore[attr-defined]
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, record)

    def _show(self, record: CustomerRecord) -> None:
        if not self.is_attached:
            return  # closed before the answer came
        self.record = record
        self.sub_title = f"{record.name} ({record.code})"
        self.query_one("#fields", Static).update(field_table(record))

    def action_edit(self) -> None:
        from tricrm_tui.tui.screens.customer_edit import CustomerEditScreen

        if self.record is not None:
            self.app.push_screen(CustomerEditScreen(self.record), callback=self._edited)

    def _edited(self, saved: CustomerRecord | None) -> None:
        if saved is None:
            self._load()  # cancelled, perhaps after a conflict: show what is stored now
        else:
            self._show(saved)
            self.notify(_("Saved {code}").format(code=saved.code))

    # --- unmerge: give back a customer merged into this one ------------------------------

    def action_unmerge(self) -> None:
        self._merged_in()

    @work(thread=True, exclusive=True, group="customer-unmerge", exit_on_error=False)
    def _merged_in(self) -> None:
        from tricrm_tui.services import merge

        found = merge.merged_in(self.app.ctx, self.code)  # type: ignore[attr-defined]
        self.app.call_from_thread(self._ask_unmerge, [m.code for m in found])

    def _ask_unmerge(self, codes: list[str]) -> None:
        from tricrm_tui.tui.widgets.confirm import TextDialog

        if not codes:
            self.notify(_("no customer is merged into {code}").format(code=self.code))
            return

        def chosen(answer: str | None) -> None:
            if not answer:
                return
            if answer.strip() not in codes:  # only one merged into the customer shown
                self.notify(
                    _("{code} is not merged into {kept}").format(code=answer, kept=self.code),
                    severity="error",
                    markup=False,
                )
                return
            self._unmerge(answer.strip())

        question = _("Unmerge which customer from {code}? (merged in, latest first: {codes})")
        self.app.push_screen(
            TextDialog(question.format(code=self.code, codes=", ".join(codes)), codes[0]),
            chosen,
        )

    @work(thread=True, exclusive=True, group="customer-unmerge", exit_on_error=False)
    def _unmerge(self, code: str) -> None:
        from tricrm_tui.services import merge
        from tricrm_tui.services.errors import TricrmError

        try:
            result = merge.unmerge_customer(self.app.ctx, code)  # type: ignore[attr-defined]
        except TricrmError as exc:  # refused (a later merge first, points spent): say why
            self.app.call_from_thread(
                self.notify, str(exc), title=_("Unmerge"), severity="error", timeout=10,
                markup=False,
            )  # fmt: skip
            return
        said = "\n".join(result.lines())
        self.app.call_from_thread(self.notify, said, title=_("Unmerge"), markup=False)
        self.app.call_from_thread(self._load)

    def action_back(self) -> None:
        self.app.pop_screen()

    def _switch_tab(self, step: int) -> None:
        tabs = self.query_one(TabbedContent)
        ids = ["details"] + [f"tab-{i}" for i in range(len(DETAIL_TABS))]
        current = ids.index(tabs.active) if tabs.active in ids else 0
        tabs.active = ids[(current + step) % len(ids)]
        pane = tabs.get_pane(tabs.active)
        focusable = pane.query("VerticalScroll, DataTable") if pane else None
        if focusable:
            focusable.first().focus()

    def action_next_tab(self) -> None:
        self._switch_tab(1)

    def action_previous_tab(self) -> None:
        self._switch_tab(-1)
