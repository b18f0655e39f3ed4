"""Pick a saved segment for the customer list: a small modal listing segments by name.

Returns the chosen segment's name (or None on Escape). The filter bar opens it and puts
``saved:NAME`` in the filter, so a segment filters the list the way a typed expression does.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from tricrm_tui.i18n import _
from tricrm_tui.tui.workers import ReportsWorkerErrors


class SegmentPicker(ReportsWorkerErrors, ModalScreen[str | None]):
    DEFAULT_CSS = """
    SegmentPicker { align: center middle; }
    SegmentPicker > Vertical {
        width: 70; max-width: 95%; height: auto; max-height: 80%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    SegmentPicker #segment-title { text-style: bold; height: 1; }
    SegmentPicker OptionList { height: auto; max-height: 16; border: none; }
    """

    BINDINGS = [Binding("escape", "cancel", _("Cancel"), id="segments.cancel")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(_("Saved segments"), id="segment-title")
            yield OptionList(id="segment-list")

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="segment-picker", exit_on_error=False)
    def load(self) -> None:
        from tricrm_tui.services.segments import list_segments

        segments = list_segments(self.app.ctx)  # type: ignore[attr-defined]
        self.app.call_from_thread(self._show, segments)

    def _show(self, segments: list[Any]) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        if not segments:
            options.add_option(
                Option(Text(_("No saved segments yet (tricrm segments save NAME EXPR)")), id="")
            )
            options.disabled = True
            return
        for seg in segments:
            label = Text.assemble((seg.name, "bold"), "  ", (seg.expression, "dim"))
            options.add_option(Option(label, id=seg.name))
        options.highlighted = 0
        options.focus()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The segments could not be read: ReportsWorkerErrors tells why (Textual calls each
        class's handler), and an empty picker would only be in the way."""
        if event.state == WorkerState.ERROR:
            self.dismiss(None)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
