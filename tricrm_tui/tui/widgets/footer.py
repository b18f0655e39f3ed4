"""Textual's footer, speaking the operator's language.

Binding descriptions are English msgids (marked with ``N_``) because class attributes are
built at import time, before the language may change; this footer translates them when it
draws, as the help screen and the command palette do.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from tricrm_tui.i18n import _


class TranslatedFooter(Footer):
    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey) and widget.description:
                widget.description = _(widget.description)
            yield widget
