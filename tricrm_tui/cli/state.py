"""Global options (``--db``, ``--lang``, ``--debug``, ``--user``) shared by every command.

The service context is opened lazily, on the first command that needs the database, so
``tricrm --help`` never touches SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tricrm_tui.services.context import ServiceContext


@dataclass
class CliState:
    db: str | None = None
    debug: bool = False
    user: str | None = None
    _ctx: ServiceContext | None = None

    def context(self) -> ServiceContext:
        if self._ctx is None:
            from tricrm_tui.services.context import Actor, open_context

            actor = Actor.from_environment()
            if self.user:
                actor = Actor(username=self.user, role=actor.role)
            self._ctx = open_context(self.db, actor)
        return self._ctx


STATE = CliState()


def ctx() -> ServiceContext:
    """The service context for the running command (opens and upgrades the database)."""
    return STATE.context()
