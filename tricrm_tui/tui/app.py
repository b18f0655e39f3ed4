"""The tricrm terminal UI: the app shell, its keys and its command palette.

Keys are data: every binding has an ``id`` (so ``keys.toml`` can rebind it, see
:mod:`tricrm_tui.tui.keymap`) and a description
(so the footer, the ``?`` help screen and the palette can list it). No binding uses a chord
that tmux or common terminals swallow (``ctrl+b``, ``ctrl+s``, ``ctrl+q``, ``ctrl+j``).

The command palette (``ctrl+p``) offers every action: the app's own and any screen that
registers itself in :data:`SCREEN_COMMANDS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from tricrm_tui.i18n import _
from tricrm_tui.labels import N_
from tricrm_tui.services.context import ServiceContext
from tricrm_tui.tui.keymap import load_keymap
from tricrm_tui.tui.navigation import navigation_bindings, register, screen_factory
from tricrm_tui.tui.screens.customer_list import CustomerListScreen
from tricrm_tui.tui.screens.help import HelpScreen, key_rows

ScreenCommand = tuple[str, str, Callable[["TricrmApp"], Any]]

SCREEN_COMMANDS: list[ScreenCommand] = []
"""Palette entries other screens add: (title msgid, help msgid, callable(app)).

For example ``SCREEN_COMMANDS.append((N_("Today"), N_("Follow-ups due today"),
lambda app: app.push_screen(TodayScreen())))``.
"""


def database_label(ctx: ServiceContext) -> str:
    """The file name for SQLite (the folder is noise in a title bar); the URL otherwise."""
    if ctx.db.backend == "sqlite":
        return Path(ctx.db.engine.url.database or ":memory:").name
    return ctx.db.display_url


class TricrmCommands(Provider):
    """The palette's tricrm entries: the app's actions, then every registered screen command."""

    def _commands(self) -> Iterator[tuple[str, str, Callable[[], Any]]]:
        app = self.app
        assert isinstance(app, TricrmApp)
        yield _("Customers"), _("Open the customer list"), app.action_show_customers
        yield (
            _("Search customers"),
            _("Find customers by code, name, phone or email"),
            (app.action_search_customers),
        )
        yield _("Help: keys"), _("List every key of this screen"), app.action_help
        yield _("Quit"), _("Leave tricrm"), app.action_quit
        for title, help_text, run in SCREEN_COMMANDS:
            yield _(title), _(help_text), partial(run, app)

    async def discover(self) -> Hits:
        for title, help_text, run in self._commands():
            yield DiscoveryHit(title, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, run in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), run, help=help_text)


class TricrmApp(App[None]):
    CSS_PATH = "app.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", N_("Quit"), id="app.quit"),
        Binding("question_mark", "help", N_("Help"), id="app.help"),
        Binding("slash", "search_customers", N_("Search customers"), show=False, id="app.search"),
        *navigation_bindings(),
    ]
    COMMANDS = App.COMMANDS | {TricrmCommands}

    def __init__(self, ctx: ServiceContext, *, start: str = "customers") -> None:
        super().__init__()
        register()
        self.ctx = ctx
        self.start = start
        # Screens set their own sub-title; the title always says which data, and who.
        self.title = f"tricrm · {database_label(ctx)} · {ctx.actor.username}"

    async def on_mount(self) -> None:
        if self.start != "customers":
            # The customer list stays at the root, so "back" from any screen lands there.
            await self.push_screen(screen_factory(f"nav.{self.start}")())
        keymap, problem = load_keymap()
        if keymap:
            self.set_keymap(keymap)
        if problem:
            self.notify(problem, severity="warning", timeout=10, markup=False)

    async def action_quit(self) -> None:
        """Quit, asking first while an import or export is under way: quitting stops it (the
        export keeps no file; the import keeps its written batches and completes when the
        file is imported again), where without the question the terminal would come back
        and the process linger, silent, until the work ended."""
        from tricrm_tui.tui.widgets.confirm import ConfirmDialog
        from tricrm_tui.tui.workers import (
            EXPORT_GROUP,
            IMPORT_GROUP,
            STOP_EXPORT,
            STOP_IMPORT,
            running_work,
        )

        if any(isinstance(s, ConfirmDialog) for s in self.screen_stack):
            return  # already asking (q pressed twice): the dialog's n declines
        importing = running_work(self, IMPORT_GROUP)
        if not importing and not running_work(self, EXPORT_GROUP):
            self.exit()
            return

        def answered(stop: bool | None) -> None:
            if stop:
                self.exit()  # which cancels every worker; each stops at its next step

        question = _(STOP_IMPORT) if importing else _(STOP_EXPORT)
        self.push_screen(ConfirmDialog(question + "\n" + _("Quit tricrm?")), answered)

    def get_default_screen(self) -> Screen:
        return CustomerListScreen()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Quit and help are ours (translated); keep Textual's theme switcher.
        for command in super().get_system_commands(screen):
            if command.title == "Theme":
                yield command

    async def action_open_screen(self, binding_id: str) -> None:
        """Open a top-level screen (number keys, palette): on top of the root screen."""
        if not self._asked_before_stopping_an_import(partial(self._open_screen, binding_id)):
            await self._open_screen(binding_id)

    async def _open_screen(self, binding_id: str) -> None:
        await self._back_to_root()
        if binding_id != "nav.customers":
            await self.push_screen(screen_factory(binding_id)())

    def _asked_before_stopping_an_import(self, leave: Callable[[], Any]) -> bool:
        """Whether leaving had to ask first: going back to the root closes the screens above
        it, and closing the import screen stops its import (after the batch it is writing).
        Every way of leaving asks the question Escape on that screen asks; ``leave`` runs
        once the operator says yes."""
        from tricrm_tui.tui.widgets.confirm import ConfirmDialog
        from tricrm_tui.tui.workers import IMPORT_GROUP, STOP_IMPORT, running_work

        if not any(running_work(s, IMPORT_GROUP) for s in self.screen_stack[1:]):
            return False
        if any(isinstance(s, ConfirmDialog) for s in self.screen_stack):
            return True  # already asking

        def answered(stop: bool | None) -> None:
            if stop:
                self.call_later(leave)

        self.push_screen(ConfirmDialog(_(STOP_IMPORT)), answered)
        return True

    def open_customer(self, code: str) -> None:
        """Open a customer's detail from any screen (Today, Value, Duplicates…)."""
        from tricrm_tui.tui.screens.customer_detail import CustomerDetailScreen

        self.push_screen(CustomerDetailScreen(code))

    def on_value_screen_selection_chosen(self, message: Any) -> None:
        """Enter on an R×F cell, a segment or a tier: open those customers."""
        self._open_selection(message.selection, message.description)

    def on_value_screen_customer_chosen(self, message: Any) -> None:
        self.open_customer(message.code)

    @work(thread=True, exclusive=True, group="navigation", exit_on_error=False)
    def _open_selection(self, selection: Any, description: str) -> None:
        from tricrm_tui.services.errors import TricrmError
        from tricrm_tui.services.value import selection_condition

        try:
            condition = selection_condition(self.ctx, selection)
        except TricrmError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error", markup=False)
            return
        self.call_from_thread(
            self.push_screen, CustomerListScreen(where=condition, title=description)
        )

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(key_rows(self.screen)))

    async def action_show_customers(self) -> None:
        """Back to the customer list at the bottom of the stack."""
        if not self._asked_before_stopping_an_import(self._back_to_root):
            await self._back_to_root()

    async def _back_to_root(self) -> None:
        while len(self.screen_stack) > 1:
            await self.pop_screen()

    async def action_search_customers(self) -> None:
        if not self._asked_before_stopping_an_import(self._search_customers):
            await self._search_customers()

    async def _search_customers(self) -> None:
        await self._back_to_root()
        screen = self.screen
        if isinstance(screen, CustomerListScreen):
            screen.action_focus_search()
