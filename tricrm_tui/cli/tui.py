"""``tricrm tui`` (and ``tricrm`` alone): open the terminal UI on the selected database."""

from __future__ import annotations

from tricrm_tui.cli.state import STATE
from tricrm_tui.i18n import _


def launch() -> None:
    from tricrm_tui.services.context import Actor, open_context

    actor = Actor.from_environment()
    if STATE.user:
        actor = Actor(username=STATE.user, role=actor.role)
    context = open_context(STATE.db, actor)
    from tricrm_tui.tui.app import TricrmApp

    TricrmApp(context).run()


def open_tui() -> None:
    launch()


open_tui.__tricrm_help__ = _("Open the terminal UI (the same as running tricrm alone).")  # type: ignore[attr-defined]
open_tui.__tricrm_epilog__ = _("Example: tricrm --db ./shop.db tui")  # type: ignore[attr-defined]
