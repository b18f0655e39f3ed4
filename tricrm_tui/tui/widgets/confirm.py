"""Small modal dialogs: a yes/no confirmation and a one-line text prompt.

Both dismiss with their answer (``True``/``False``, or the text / ``None``), so a screen
pushes them with a callback and carries on there.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from tricrm_tui.i18n import _

DIALOG_CSS = """
ConfirmDialog, TextDialog { align: center middle; }
ConfirmDialog > Vertical, TextDialog > Vertical {
    width: 64; height: auto; border: thick $accent; background: $surface; padding: 1 2;
}
ConfirmDialog Label, TextDialog Label { width: 100%; }
"""


class ConfirmDialog(ModalScreen[bool]):
    """Ask a yes/no question; ``y`` confirms, ``n`` or Escape declines."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [
        Binding("y", "answer(True)", _("Yes"), id="confirm.yes"),
        Binding("n,escape", "answer(False)", _("No"), id="confirm.no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            # Not markup: a question quotes names and paths, and "[y]" would read as a tag.
            yield Label(self.question, id="question", markup=False)
            yield Label(_("[y] yes   [n] no"), id="keys", markup=False)

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class TextDialog(ModalScreen[str | None]):
    """Ask for one line of text; Enter submits (empty text is refused), Escape cancels."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [Binding("escape", "cancel", _("Cancel"), id="text.cancel")]

    def __init__(self, question: str, value: str = "") -> None:
        super().__init__()
        self.question = question
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question, markup=False)
            yield Input(self.value, id="answer")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if text:
            self.dismiss(text)
        else:
            self.notify(_("please type something, or press Escape"), severity="warning")

    def action_cancel(self) -> None:
        self.dismiss(None)
