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
from tricrm_tui.tui.workers import ReportsWorkerErrors

EXPRESSION_MARGIN = 4
"""Cells of the message line the expression may not use: the padding and its indent."""


def error_text(exc: Exception, width: int) -> str:
    """An invalid expression's message for a line ``width`` cells wide: the reason, then as
    much of the expression as fits around the bad token, and the caret under that token.

    A long expression would wrap, and the caret line under it would point at the wrong
    place, or fall below what the bar shows at 80 columns."""
    from rich.cells import cell_len

    from tricrm_tui.services.filters import FilterError, caret_line

    if not isinstance(exc, FilterError):
        return str(exc).replace("\n  ", "\n")
    expr, start, end = exc.expr, 0, len(exc.expr)
    room = max(10, width - EXPRESSION_MARGIN)
    # Drop characters from whichever end is further from the bad token until it fits.
    while cell_len(expr[start:end]) > room and end - start > 1:
        if exc.position - start > end - (exc.position + exc.length):
            start += 1
        else:
            end -= 1
    shown = ("…" if start else "") + expr[start:end] + ("…" if end < len(expr) else "")
    caret = caret_line(shown, exc.position - start + (1 if start else 0), exc.length)
    head = str(exc).split("\n", 1)[0]
    return f"{head}\n{shown}\n{caret}"


class FilterBar(ReportsWorkerErrors, Vertical):
    """Filter input + a line for the error (with caret) or the expression's meaning."""

    DEFAULT_CSS = """
    FilterBar { height: auto; }
    FilterBar #filter-input { border: tall $primary; }
    FilterBar #filter-message { height: auto; max-height: 6; padding: 0 1; color: $text-muted; }
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
            self._message(self._error_text(exc), error=True)
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

    def _error_text(self, exc: Exception) -> str:
        return error_text(exc, self.size.width or self.app.size.width)

    @work(thread=True, exclusive=True, group="filter-bar", exit_on_error=False)
    def build_condition(self, text: str) -> None:
        """A database failure propagates, to be told as one (ReportsWorkerErrors); anything
        else the expression set off (a bad value, a saved segment gone) is the filter's
        message: the operator can edit the expression and press Enter again."""
        from tricrm_tui.services.errors import DatabaseError, TricrmError
        from tricrm_tui.services.filters import describe_filter
        from tricrm_tui.services.segments import condition_for
        from tricrm_tui.tui.workers import error_message

        ctx = self.app.ctx  # type: ignore[attr-defined]
        try:
            condition = condition_for(ctx, where=text)
            meaning = describe_filter(text, today=ctx.today())
        except DatabaseError:
            raise
        except TricrmError as exc:
            self.app.call_from_thread(self._message, self._error_text(exc), error=True)
            return
        except Exception as exc:  # noqa: BLE001 - a filter value must not end the session
            self.app.call_from_thread(self._message, error_message(exc), error=True)
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
