"""``tricrm db``: schema upgrade, current revision, history."""

from __future__ import annotations

import typer

from tricrm_tui.cli.output import Format, emit_json, emit_rows, info
from tricrm_tui.cli.state import STATE
from tricrm_tui.i18n import _

app = typer.Typer(
    help=_("Database: upgrade the schema, show its revision and history."), no_args_is_help=True
)


@app.command(
    "upgrade",
    help=_("Upgrade the database to this tricrm's schema."),
    epilog=_("Example: tricrm --db postgresql+psycopg://crm@db/crm db upgrade"),
)
def upgrade_cmd() -> None:
    from tricrm_tui.cli.state import ctx
    from tricrm_tui.db.migrate import current_revision

    db = ctx().db  # opened as every command opens it: upgraded, then what follows upgrades
    info(
        _("database {url} is at revision {rev}").format(
            url=db.display_url, rev=current_revision(db.engine)
        )
    )


@app.command(
    "current",
    help=_("Show the database's schema revision and the newest known."),
    epilog=_("Example: tricrm db current --format json"),
)
def current_cmd(fmt: Format = typer.Option(Format.table, "--format", "-f")) -> None:
    from tricrm_tui.db.engine import open_database
    from tricrm_tui.db.migrate import current_revision, head_revision

    db = open_database(STATE.db, upgrade=False)
    data = {
        "url": db.display_url,
        "backend": db.backend,
        "current": current_revision(db.engine),
        "head": head_revision(),
    }
    if fmt is Format.json:
        emit_json(data)
    else:
        emit_rows([data], fmt)


@app.command(
    "history",
    help=_("List the schema migrations this tricrm ships."),
    epilog=_("Example: tricrm db history --format json"),
)
def history_cmd(fmt: Format = typer.Option(Format.table, "--format", "-f")) -> None:
    from tricrm_tui.db.migrate import history

    emit_rows(history(), fmt)
