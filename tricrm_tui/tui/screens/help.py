"""``?``: every key the current screen and the app answer to, read from their bindings.

Generated, never hand-written: a key added to a screen's ``BINDINGS`` shows up here (and in
the command palette's keys) without anyone remembering to document it.
"""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from tricrm_tui.i18n import _
from tricrm_tui.labels import N_


def key_rows(screen: Screen) -> list[tuple[str, str, str]]:
    """(keys, what they do, where) for every binding active on ``screen``, hidden ones too.

    Several keys bound to one action on one node (Esc and Backspace for "back") share a row.
    """
    app = screen.app
    rows: dict[tuple[str, str], list[str]] = {}
    ours: set[tuple[str, str]] = set()  # rows with a tricrm binding id: listed before Textual's
    # Every node from the focused widget up to the app, each with all its bindings: unlike
    # ``active_bindings`` this keeps a screen's Enter even where the focused table has one.
    for node, bindings in screen._modal_binding_chain:
        for _key, binding in bindings:
            if binding.system and not binding.description:
                continue
            row = _add(rows, app, screen, node, binding)
            if binding.id:
                ours.add(row)
    order = {_("this screen"): 0, _("everywhere"): 1}
    ranked = sorted(rows.items(), key=lambda item: (order.get(item[0][1], 2), item[0] not in ours))
    return [(" / ".join(keys), what, where) for (what, where), keys in ranked]


def _add(
    rows: dict[tuple[str, str], list[str]], app, screen, node, binding: Binding
) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    if node is app:
        where = _("everywhere")
    elif node is screen:
        where = _("this screen")
    else:
        where = _("focused widget")
    what = _(binding.description) if binding.description else binding.action
    keys = rows.setdefault((what, where), [])
    display = app.get_key_display(binding)
    if display not in keys:
        keys.append(display)
    return what, where


class HelpScreen(ModalScreen[None]):
    """The keys of the screen underneath, over it; any of Esc, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", N_("Close help"), id="help.close"),
    ]

    def __init__(self, rows: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        table = Table(title=_("Keys"), expand=True, show_edge=False, pad_edge=False)
        table.add_column(_("Key"), style="bold", no_wrap=True)
        table.add_column(_("Action"))
        table.add_column(_("Where"), style="dim")
        for keys, what, where in self.rows:
            table.add_row(keys, what, where)
        with VerticalScroll(id="help-body"):
            yield Static(table, id="help-keys")
            yield Static(_("Esc closes this help."), id="help-hint")

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()
