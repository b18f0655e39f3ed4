"""``tricrm orders``: the order list."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from tricrm_tui.cli.output import Format, emit_rows, page_caption
from tricrm_tui.cli.state import ctx
from tricrm_tui.i18n import _

app = typer.Typer(help=_("Orders: list and filter."), no_args_is_help=True)

ORDER_COLUMNS = [
    ("order_no", _("Order")),
    ("customer_code", _("Customer")),
    ("date", _("Date")),
    ("amount", _("Amount")),
    ("quantity", _("Qty")),
    ("product", _("Product")),
    ("category", _("Category")),
    ("channel", _("Channel")),
]


def _day(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    from tricrm_tui.services.normalize import parse_date

    return parse_date(value, field=option)


@app.command(
    "list",
    help=_("List orders, newest first."),
    epilog=_("Example: tricrm orders list --customer C000123 --from 2026-01-01 --format json"),
)
def list_cmd(
    customer: Annotated[
        str | None, typer.Option("--customer", "-c", help=_("Only this customer's orders (code)."))
    ] = None,
    date_from: Annotated[
        str | None, typer.Option("--from", help=_("From this date (inclusive)."))
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help=_("To this date (inclusive)."))
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=1000, help=_("Rows per page."))
    ] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0, help=_("Rows to skip."))] = 0,
    fmt: Annotated[Format, typer.Option("--format", "-f", help=_("Output format."))] = Format.table,
) -> None:
    from tricrm_tui.services import orders

    page = orders.list_orders(
        ctx(),
        customer_code=customer,
        date_from=_day(date_from, "from"),
        date_to=_day(date_to, "to"),
        limit=limit,
        offset=offset,
    )
    rows = [{k: getattr(o, k) for k, _h in ORDER_COLUMNS} for o in page.items]
    emit_rows(
        rows,
        fmt,
        columns=ORDER_COLUMNS,
        footer=page_caption(page),
    )
