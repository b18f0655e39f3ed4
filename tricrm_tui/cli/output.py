"""Printing lists and records as a Rich table, JSON or CSV.

JSON has stable keys, Decimals as strings (exact) and dates in ISO 8601; CSV has a header
row; tables fit the terminal (columns shrink or fold, CJK widths measured by Rich).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import enum
import json
import sys
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Annotated, Any

import typer

from tricrm_tui.i18n import _
from tricrm_tui.labels import field_label


class Format(enum.StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help=_("Output format."))]
"""``--format``/``-f``, as every list and report takes it."""
EncodingOpt = Annotated[
    str | None, typer.Option("--encoding", help=_("Text encoding (default: detected)."))
]
"""An import's ``--encoding``: every command that reads an operator's file takes it."""
SheetOpt = Annotated[
    str | None, typer.Option("--sheet", help=_("Worksheet to read (default: the first)."))
]
"""An import's ``--sheet``."""


def plain(value: Any) -> Any:
    """A JSON-ready copy: Decimal → str, date/datetime → ISO text, dataclass → dict."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if hasattr(value, "to_dict"):
            return plain(value.to_dict())
        return plain(dataclasses.asdict(value))
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    return value


def cell(value: Any) -> str:
    from tricrm_tui.i18n import format_value

    return format_value(value)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(plain(data), ensure_ascii=False, indent=2) + "\n")


def emit_rows(
    rows: Iterable[Any],
    fmt: Format,
    *,
    columns: Sequence[tuple[str, str]] | None = None,
    title: str | None = None,
    footer: str | None = None,
) -> None:
    """``columns`` is (key, header) pairs for the table; JSON and CSV carry every key."""
    rows = list(rows)
    data = [plain(r) for r in rows]
    if fmt is Format.json:
        emit_json(data)
        return
    if fmt is Format.csv:
        keys = list(data[0].keys()) if data else [k for k, _h in columns or []]
        writer = csv.DictWriter(sys.stdout, fieldnames=keys, lineterminator="\n")
        writer.writeheader()
        for row in data:
            writer.writerow(
                {
                    k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v
                    for k, v in row.items()
                }
            )
        return
    from rich.console import Console
    from rich.table import Table

    cols = columns or [(k, k) for k in (data[0].keys() if data else [])]
    table = Table(title=title, caption=footer, expand=False, header_style="bold")
    for i, (_key, header) in enumerate(cols):
        table.add_column(header, overflow="fold", no_wrap=i == 0)
    for original in rows:
        table.add_row(*[cell(_get(original, key)) for key, _h in cols])
    Console().print(table)


def _get(obj: Any, key: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, key, None)


def emit_record(record: Any, fmt: Format, *, title: str | None = None) -> None:
    """One record: JSON object, a two-column CSV, or a field/value table."""
    data = plain(record)
    if fmt is Format.json:
        emit_json(data)
        return
    original = record.to_dict() if hasattr(record, "to_dict") else record
    if not isinstance(original, dict):
        original = dataclasses.asdict(original)
    if fmt is Format.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["field", "value"])
        for k, v in data.items():
            writer.writerow(
                [k, json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v]
            )
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_header=False, box=None)
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column(overflow="fold")
    for k, v in original.items():
        table.add_row(field_label(k), cell(v))
    Console().print(table)


def page_footer(offset: int, count: int, total: int, *, capped: bool = False) -> str:
    """ "rows 51–100 of 1000"; ``capped`` (counting stopped at ``total``) gives "of 1,000+"."""
    if count == 0:
        return _("no rows")
    shown: int | str = f"{total:,}+" if capped else total
    return _("rows {start}–{end} of {total}").format(
        start=offset + 1, end=offset + count, total=shown
    )


def page_caption(page: Any) -> str:
    """The footer of a listed :class:`~tricrm_tui.services.paging.Page`: "rows 51–100 of 1,000"."""
    return page_footer(
        page.offset, len(page.items), page.total, capped=getattr(page, "total_capped", False)
    )


def parse_as_of(text: str | None) -> dt.date | None:
    """The ``--as-of DATE`` of reports (any date form people type); ``None`` means today."""
    if text is None:
        return None
    from tricrm_tui.services.normalize import parse_date

    return parse_date(text, field="as_of")


def info(message: str) -> None:
    """A status line on stderr, so stdout stays clean for JSON and CSV."""
    sys.stderr.write(message + "\n")
