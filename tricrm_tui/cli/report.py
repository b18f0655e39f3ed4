"""``tricrm report``: reports over the customer base."""

from __future__ import annotations

from typing import Annotated

import typer

from tricrm_tui.cli.output import Format, emit_rows
from tricrm_tui.cli.state import ctx
from tricrm_tui.i18n import _

app = typer.Typer(help=_("Reports over the customer base."), no_args_is_help=True)

BREAKDOWN_COLUMNS = [
    ("group", _("Group")),
    ("customers", _("Customers")),
    ("share", _("Share %")),
    ("orders", _("Orders")),
    ("revenue", _("Revenue")),
    ("revenue_share", _("Revenue %")),
    ("revenue_per_customer", _("Revenue per customer")),
]


@app.command(
    "breakdown",
    help=_(
        "Customers, share and revenue per group: region, province, city, industry, size, "
        "behaviour (purchase frequency), category, channel, aov, segment, tier or lifecycle."
    ),
    epilog=_(
        "Example: tricrm report breakdown --by region --where 'kind:enterprise' --format json"
    ),
)
def breakdown_cmd(
    by: Annotated[str, typer.Option("--by", help=_("What to group by."))] = "region",
    where: Annotated[
        str | None, typer.Option("--where", "-w", help=_("Only customers matching this filter."))
    ] = None,
    segment: Annotated[
        str | None, typer.Option("--segment", help=_("Only customers in this saved segment."))
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help=_("Output format."))] = Format.table,
) -> None:
    from tricrm_tui.services.breakdown import breakdown

    rows = breakdown(ctx(), by, where=where, segment=segment)
    title = _("Customers by {field}").format(field=by)
    emit_rows(rows, fmt, columns=BREAKDOWN_COLUMNS, title=title)
