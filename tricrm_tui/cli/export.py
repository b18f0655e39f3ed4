"""``tricrm export``: customers, orders or a saved segment to CSV, XLSX or JSON Lines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tricrm_tui.cli.output import Format, emit_json, info
from tricrm_tui.cli.state import ctx
from tricrm_tui.i18n import _

app = typer.Typer(
    help=_("Export customers, orders or a segment to CSV, XLSX or JSON Lines (by extension)."),
    no_args_is_help=True,
)

WhereOpt = Annotated[
    str | None,
    typer.Option("--where", help=_('Filter expression, e.g. "province:广东 orders>=3".')),
]
SearchOpt = Annotated[
    str | None,
    typer.Option(
        "--search",
        help=_("Only customers whose code, name, phone, email, tags or notes hold this text."),
    ),
]
SortOpt = Annotated[
    str | None,
    typer.Option("--sort", help=_("Sort field; prefix with - for descending (e.g. -spent).")),
]
EncodingOpt = Annotated[
    str | None,
    typer.Option("--encoding", help=_("CSV encoding (default: UTF-8 with BOM; e.g. gbk).")),
]
FormatOpt = Annotated[
    Format, typer.Option("--format", "-f", help=_("Format of the summary (table or json)."))
]
PathArg = Annotated[Path, typer.Argument(help=_("Output file: .csv, .xlsx or .jsonl."))]


def _export(what: str, path: Path, segment: str | None, where: str | None,
            search: str | None, encoding: str | None, fmt: Format,
            sort: str | None = None) -> None:  # fmt: skip
    from tricrm_tui.services import exporting

    result = exporting.export_file(
        ctx(), what, path, segment=segment, where=where, search=search, sort=sort,
        encoding=encoding,
    )  # fmt: skip
    if fmt is Format.json:
        emit_json(result)
    else:
        info(_("{n} rows written to {file}").format(n=result.rows, file=result.path))


@app.command(
    "customers",
    help=_("Export customers."),
    epilog=_('Example: tricrm export customers 客户.xlsx --where "province:广东"'),
)
def customers_cmd(path: PathArg, where: WhereOpt = None, search: SearchOpt = None,
                  sort: SortOpt = None, encoding: EncodingOpt = None,
                  fmt: FormatOpt = Format.table) -> None:  # fmt: skip
    _export("customers", path, None, where, search, encoding, fmt, sort)


@app.command(
    "orders",
    help=_("Export orders (with --where, the orders of matching customers)."),
    epilog=_("Example: tricrm export orders orders.csv --encoding gbk"),
)
def orders_cmd(path: PathArg, where: WhereOpt = None, search: SearchOpt = None,
               encoding: EncodingOpt = None, fmt: FormatOpt = Format.table) -> None:  # fmt: skip
    _export("orders", path, None, where, search, encoding, fmt)


@app.command(
    "segment",
    help=_("Export the customers of a saved segment."),
    epilog=_("Example: tricrm export segment vip vip.jsonl"),
)
def segment_cmd(
    name: Annotated[str, typer.Argument(help=_("Segment name."))],
    path: PathArg,
    where: WhereOpt = None,
    search: SearchOpt = None,
    sort: SortOpt = None,
    encoding: EncodingOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    _export("segment", path, name, where, search, encoding, fmt, sort)
