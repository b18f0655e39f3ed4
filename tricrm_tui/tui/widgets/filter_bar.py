"""A one-line filter for customer lists, in the filter language (``province:广东 tag:vip``).

The operator types an expression and presses Enter. A bad expression shows the service's
message with the caret under the bad token; a good one is explained in words and posted as
:class:`FilterBar.Applied` carrying the expression and the ready customer condition (built
in a thread worker, since ``saved:NAME`` reads the segment from the database). An empty
expression posts :class:`FilterBar.Cleared`. Escape clears the bar; Ctrl+G picks a saved
segment (:class:`~tricrm_tui.tui.widgets.segment_picker.SegmentPicker`).
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from tricrm_tui.i18n import _


class FilterBar(Vertical):
    """Filter input + a line for the error (with caret) or the expression's meaning."""

    DEFAULT_CSS = """
    FilterBar { height: auto; }
    FilterBar #filter-input { border: tall $primary; }
    FilterBar #filter-message { height: auto; max-height: 3; padding: 0 1; color: $text-muted; }
    FilterBar #filter-message.error { color: $error; }
    """

    BINDINGS = [
        Binding("escape", "clear", _("Clear filter"), id="filter.clear"),
        Binding("ctrl+g", "pick_segment", _("Segments"), id="filter.segments"),
    ]

    class Applied(Message):
        """A valid expression: ``condition`` goes to ``list_customers(where=...)``."""

        def __init__(self, expression: str, condition: Any, meaning: str) -> None:
            super().__init__()
            self.expression = expression
            self.condition = condition
            self.meaning = meaning

    class Cleared(Message):
        """The filter was emptied: show every customer again."""

    def __init__(self, value: str = "", *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._initial = value
        self.expression = ""

    def compose(self) -> ComposeResult:
        yield Input(
            value=self._initial,
            placeholder=_("Filter, e.g. province:广东 orders>=3 last_order<90d tag:vip"),
            id="filter-input",
        )
        yield Static(
            _("Enter applies, Esc clears · last_order<90d = ordered in the last 90 days"),
            id="filter-message",
        )

    def _message(self, text: str, *, error: bool = False) -> None:
        from rich.text import Text

        line = self.query_one("#filter-message", Static)
        line.update(Text(text))
        line.set_class(error, "error")

    def on_input_changed(self, event: Input.Changed) -> None:
        """Check as the operator types (parsing is pure and fast; no database)."""
        from tricrm_tui.services.errors import InvalidInput
        from tricrm_tui.services.filters import describe_filter, parse_filter

        event.stop()
        text = event.value.strip()
        if not text:
            self._message(
                _("Enter applies, Esc clears · last_order<90d = ordered in the last 90 days")
            )
            return
        try:
            node = parse_filter(text)
        except InvalidInput as exc:
            self._message(str(exc).replace("\n  ", "\n"), error=True)
            return
        self._message(describe_filter(node))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            self.expression = ""
            self.post_message(self.Cleared())
            return
        self.build_condition(text)

    @work(thread=True, exclusive=True, group="filter-bar")
    def build_condition(self, text: str) -> None:
        from tricrm_tui.services.errors import TricrmError
        from tricrm_tui.services.filters import describe_filter
        from tricrm_tui.services.segments import condition_for

        ctx = self.app.ctx  # type: ignore[attr-defined]
        try:
            condition = condition_for(ctx, where=text)
            meaning = describe_filter(text, today=ctx.today())
        except TricrmError as exc:
            self.app.call_from_thread(self._message, str(exc).replace("\n  ", "\n"), error=True)
            return
        self.app.call_from_thread(self._applied, text, condition, meaning)

    def _applied(self, text: str, condition: Any, meaning: str) -> None:
        self.expression = text
        self._message(meaning)
        self.post_message(self.Applied(text, condition, meaning))

    def action_clear(self) -> None:
        self.query_one("#filter-input", Input).value = ""
        self.expression = ""
        self.post_message(self.Cleared())

    def action_pick_segment(self) -> None:
        from tricrm_tui.tui.widgets.segment_picker import SegmentPicker

        self.app.push_screen(SegmentPicker(), self._segment_chosen)

    def _segment_chosen(self, name: str | None) -> None:
        if not name:
            return
        from tricrm_tui.services.filters import Term, format_filter

        field = self.query_one("#filter-input", Input)
        field.value = format_filter(Term("saved", ":", name))
        self.build_condition(field.value)

    def help_text(self) -> str:
        from tricrm_tui.services.filters import filter_help

        return filter_help()
