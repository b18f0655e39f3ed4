"""One place that turns a failed database worker into a notification.

Workers run with ``exit_on_error=False``: a dropped PostgreSQL connection or a locked SQLite
file must cost the operator one red message, not the session they were working in.
``Worker.StateChanged`` does not bubble, so every node that starts workers mixes this in.
"""

from __future__ import annotations

from textual.dom import DOMNode
from textual.worker import Worker, WorkerState

from tricrm_tui.i18n import _
from tricrm_tui.labels import N_
from tricrm_tui.services.errors import DatabaseError, TricrmError

IMPORT_GROUP = "import-run"
"""The import screen's run: stopped after its batch if the operator leaves, having said yes."""
EXPORT_GROUP = "customer-export"
"""Exports the app runs for its screens: stopped before their next page if tricrm quits."""
STOP_IMPORT = N_(
    "An import is running. Stop it after the batch it is writing? "
    "What it wrote stays; importing the file again completes it."
)
STOP_EXPORT = N_("An export is being written. Stop it? Its file is not kept.")


def running_work(node: DOMNode, *groups: str) -> list[Worker]:
    """The workers of ``groups`` still to finish: the app's for the app, else ``node``'s."""
    app = node.app
    return [
        w
        for w in app.workers
        if w.group in groups
        and (node is app or w.node is node)
        and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
    ]


def error_message(error: BaseException) -> str:
    """Our own errors already read as one sentence; anything else gets its type named."""
    if isinstance(error, TricrmError | DatabaseError):
        return str(error)
    return _("unexpected error: {error}").format(error=f"{type(error).__name__}: {error}")


class ReportsWorkerErrors:
    """Mixin for screens and widgets: a worker that raised becomes an error notification."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.app.notify(  # type: ignore[attr-defined]
                error_message(event.worker.error),
                title=_("Database"),
                severity="error",
                timeout=8,
                markup=False,  # messages quote paths and user input
            )
