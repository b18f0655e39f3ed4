"""The customer detail's "you may also like" panel: top products the customer has not
bought, with the reason ("bought with X"), loaded in a thread worker."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from textual import work
from textual.widgets import Static

from tricrm_tui.i18n import _


class RecommendationsPanel(Static):
    """Shows ``recommend(code)``; call :meth:`show` with another code to switch customer."""

    DEFAULT_CSS = """
    RecommendationsPanel { height: auto; padding: 0 1; }
    """

    def __init__(self, code: str | None = None, *, top: int = 5, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.code = code
        self.top = top

    def on_mount(self) -> None:
        if self.code:
            self.show(self.code)

    def show(self, code: str) -> None:
        self.code = code
        self.update(_("Loading recommendations…"))
        self._load(code, self.top)

    @work(thread=True, exclusive=True, group="recommendations")
    def _load(self, code: str, top: int) -> None:
        from tricrm_tui.services.errors import TricrmError
        from tricrm_tui.services.recommend import recommend

        try:
            items = recommend(self.app.ctx, code, top=top)
        except TricrmError as exc:
            self.app.call_from_thread(self.update, str(exc))
            return
        self.app.call_from_thread(self._render_items, items)

    def _render_items(self, items: list[Any]) -> None:
        if not items:
            self.update(_("No recommendations yet (no co-purchases)."))
            return
        lines = [_("You may also like:")]
        lines += [f"• {escape(r.name)}  [dim]{escape(r.reason)} · {r.score}[/dim]" for r in items]
        self.update("\n".join(lines))
