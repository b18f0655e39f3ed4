"""``tricrm tui`` (and ``tricrm`` alone): open the terminal UI on the selected database."""

from __future__ import annotations

from typing import Annotated

import typer

from tricrm_tui.cli.state import STATE
from tricrm_tui.i18n import _

START_SCREENS = ("today", "customers", "dashboard")


def has_terminal() -> bool:
    """Whether stdin and stdout are a terminal: a Textual app started without one (a cron job,
    a pipe, a background job) never gets a size and spins redrawing, so it is refused."""
    import sys

    return sys.stdin.isatty() and sys.stdout.isatty()


def launch(start: str | None = None) -> None:
    """Open the TUI; ``start`` (or ``TRICRM_START``) picks the first screen (default: Today)."""
    import os

    from tricrm_tui.services.context import Actor, open_context
    from tricrm_tui.services.errors import InvalidInput

    start = start or os.environ.get("TRICRM_START") or "today"
    if start not in START_SCREENS:
        raise InvalidInput(
            _("unknown start screen: {name} (today, customers or dashboard)").format(name=start),
            field="start",
        )
    if not has_terminal():
        raise InvalidInput(
            _(
                "the TUI needs a terminal (stdin and stdout are not one); "
                "use the commands, e.g. tricrm customers list"
            ),
            field="terminal",
        )

    actor = Actor.from_environment()
    if STATE.user:
        actor = Actor(username=STATE.user, role=actor.role)
    context = open_context(STATE.db, actor)
    from tricrm_tui.tui.app import TricrmApp

    TricrmApp(context, start=start).run()


def open_tui(
    start: Annotated[
        str | None,
        typer.Option("--start", help=_("First screen: today (default), customers or dashboard.")),
    ] = None,
) -> None:
    launch(start)


open_tui.__tricrm_help__ = _("Open the terminal UI (the same as running tricrm alone).")  # type: ignore[attr-defined]
open_tui.__tricrm_epilog__ = _("Example: tricrm --db ./shop.db tui")  # type: ignore[attr-defined]
