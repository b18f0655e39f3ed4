"""Running ``tricrm`` in-process against a test database, one fresh service context per call."""

from __future__ import annotations

from click.testing import Result
from typer.testing import CliRunner


def invoke(db_url: str, *args: str) -> Result:
    """``tricrm --db DB_URL ARGS…`` through Typer's runner (exceptions land in ``.exception``)."""
    from tricrm_tui.cli.main import build_app
    from tricrm_tui.cli.state import STATE

    STATE._ctx = None  # each invocation opens its own context, as a new process would
    return CliRunner().invoke(build_app(), ["--db", db_url, *args])
