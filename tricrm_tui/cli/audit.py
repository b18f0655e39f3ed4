"""``tricrm audit``: read the audit trail."""

from __future__ import annotations

from typing import Annotated

import typer

from tricrm_tui.cli.output import Format, emit_rows, page_caption
from tricrm_tui.cli.state import ctx
from tricrm_tui.i18n import _

app = typer.Typer(help=_("Audit trail: who changed what, and when."), no_args_is_help=True)


@app.command(
    "list",
    help=_("List audit entries, newest first."),
    epilog=_("Example: tricrm audit list --entity customer --id C000001 --format json"),
)
def list_cmd(
    entity: Annotated[
        str | None, typer.Option("--entity", help=_("Entity kind, e.g. customer."))
    ] = None,
    entity_id: Annotated[
        str | None, typer.Option("--id", help=_("Entity key, e.g. a customer code."))
    ] = None,
    actor: Annotated[str | None, typer.Option("--actor", help=_("Operator name."))] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000)] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
) -> None:
    from tricrm_tui.services import audit

    page = audit.list_entries(
        ctx(), entity=entity, entity_id=entity_id, actor=actor, limit=limit, offset=offset
    )
    emit_rows(
        page.items,
        fmt,
        columns=[
            ("at", _("When")),
            ("actor", _("Operator")),
            ("entity", _("Entity")),
            ("entity_id", _("Key")),
            ("action", _("Action")),
            ("after", _("After")),
        ],
        footer=page_caption(page),
    )
