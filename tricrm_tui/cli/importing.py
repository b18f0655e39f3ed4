"""``tricrm import``: customers, orders or interactions from CSV/TSV, XLSX, old .xls
workbooks, web-page tables, XML spreadsheets or JSON Lines;
``import list`` shows past imports and ``import undo`` reverts one."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from tricrm_tui.cli.output import (
    EncodingOpt,
    Format,
    FormatOpt,
    SheetOpt,
    emit_json,
    emit_rows,
    info,
    page_caption,
    page_footer,
)
from tricrm_tui.cli.state import ctx
from tricrm_tui.i18n import _

app = typer.Typer(
    help=_(
        "Import customers, orders or interactions from CSV, XLSX, XLS (also web pages and XML "
        "spreadsheets saved as .xls) or JSON Lines files."
    ),
    no_args_is_help=True,
)


KIND_HELP = {
    "customers": (
        _("Import customers (upsert by customer code)."),
        _("Example: tricrm import customers 客户.csv --rejects bad.csv --format json"),
    ),
    "orders": (
        _("Import orders (upsert by order number; customers by code)."),
        _("Example: tricrm import orders orders.xlsx --sheet 订单 --dry-run"),
    ),
    "interactions": (
        _("Import interactions (upsert by external key; customers by code)."),
        _("Example: tricrm import interactions calls.jsonl --format json"),
    ),
}


def _run(
    kind: str,
    path: Path,
    mode: str,
    dry_run: bool,
    encoding: str | None,
    sheet: str | None,
    map_file: Path | None,
    show_mapping: bool,
    region: str,
    rejects: Path | None,
    batch_size: int,
    fmt: Format,
) -> None:
    from tricrm_tui.services import importing

    if show_mapping:
        preview = importing.preview_file(
            path, kind, encoding=encoding, sheet=sheet, mapping=map_file, limit=0
        )
        rows = [
            {"column": c.column, "field": c.target or "", "how": _(c.how)}
            for c in preview.mapping.columns
        ]
        if fmt is Format.json:
            emit_json(
                {
                    "file": str(path),
                    "format": preview.format,
                    "encoding": preview.encoding,
                    "read_as": preview.read_as,
                    "columns": rows,
                    "missing_required": preview.missing_required,
                    "absent_map_columns": [
                        {"column": c, "field": t or ""} for c, t in preview.mapping.absent
                    ],
                    "warnings": preview.warnings,
                }
            )
            return
        if note := preview.mapping.absent_note():
            info(note)
        for warning in preview.warnings:
            info(warning)
        info(_("encoding: {encoding}").format(encoding=preview.read_as))
        emit_rows(
            rows, fmt, columns=[("column", _("Column")), ("field", _("Field")), ("how", _("How"))]
        )
        if preview.missing_required:
            info(
                _("missing required fields: {fields}").format(
                    fields=", ".join(preview.missing_required)
                )
            )
        return
    progress = None
    bar = None
    if sys.stderr.isatty() and fmt is not Format.json:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        bar = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        task = bar.add_task(_("Importing {file}").format(file=path.name), total=None)

        def progress(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        bar.start()
    try:
        result = importing.import_file(
            ctx(),
            kind,
            path,
            mode=mode,
            dry_run=dry_run,
            encoding=encoding,
            sheet=sheet,
            mapping=map_file,
            region=region,
            batch_size=batch_size,
            rejects_path=rejects,
            progress=progress,
        )
    finally:
        if bar is not None:
            bar.stop()
    if fmt is Format.json:
        emit_json(result.to_json())
        _exit_if_all_rejected(result)
        return
    for warning in result.warnings:
        info(warning)
    summary = [
        {"what": _("File"), "value": result.file},
        {"what": _("Encoding"), "value": result.encoding or ""},
        {"what": _("Import id"), "value": result.import_id or _("dry run: nothing written")},
        {"what": _("Rows read"), "value": result.rows},
        {"what": _("Inserted"), "value": result.inserted},
        {"what": _("Updated"), "value": result.updated},
        {"what": _("Unchanged"), "value": result.unchanged},
        {"what": _("Skipped (existing)"), "value": result.skipped},
        {"what": _("Repeated lines"), "value": result.duplicates},
        {"what": _("Rejected"), "value": result.rejected_count},
    ]
    if result.kind == "interactions":
        summary += [
            {"what": _("Follow-ups created"), "value": result.follow_ups_created},
            {"what": _("Follow-ups moved"), "value": result.follow_ups_moved},
        ]
    summary += [{"what": k, "value": v} for k, v in result.extra.items()]
    emit_rows(summary, fmt, columns=[("what", _("Import")), ("value", "")])
    if result.rejected and fmt is Format.table:
        emit_rows(
            result.rejected[:50],
            fmt,
            columns=[
                ("line", _("Line")),
                ("key", _("Key")),
                ("field", _("Field")),
                ("code", _("Error")),
                ("reason", _("Reason")),
            ],
            title=_("Rejected rows"),
            footer=page_footer(0, min(50, len(result.rejected)), result.rejected_count),
        )
    if rejects and result.rejected_count:
        info(_("rejected rows written to {file}").format(file=rejects))
    _exit_if_all_rejected(result)


def _exit_if_all_rejected(result: Any) -> None:
    """Exit 4 (invalid input) when lines were read and every one was rejected, so a script's
    ``tricrm import … && next-step`` stops; some rejected among good rows still exit 0."""
    accepted = result.inserted + result.updated + result.unchanged + result.skipped
    if result.rejected_count and not accepted:
        info(_("every line was rejected; nothing was imported"))
        raise typer.Exit(4)


def _make(kind: str) -> None:
    help_text, epilog = KIND_HELP[kind]

    @app.command(kind, help=help_text, epilog=epilog)
    def command(
        path: Annotated[
            Path,
            typer.Argument(help=_("File to import (.csv, .tsv, .txt, .xlsx, .xls, .xml, .jsonl).")),
        ],
        mode: Annotated[
            str,
            typer.Option(
                "--mode",
                help=_(
                    "update: add new rows and update changed ones; skip: add new rows, leave "
                    "existing ones; insert-only: add new rows, reject existing keys."
                ),
            ),
        ] = "update",
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help=_("Check and report everything; write nothing."))
        ] = False,
        encoding: EncodingOpt = None,
        sheet: SheetOpt = None,
        map_file: Annotated[
            Path | None,
            typer.Option("--map", help=_("TOML file mapping column names to fields.")),
        ] = None,
        show_mapping: Annotated[
            bool,
            typer.Option("--show-mapping", help=_("Print the column mapping and stop.")),
        ] = False,
        region: Annotated[
            str, typer.Option("--region", help=_("Default region for phone numbers."))
        ] = "CN",
        rejects: Annotated[
            Path | None,
            typer.Option("--rejects", help=_("Write rejected rows, with the reason, to this CSV.")),
        ] = None,
        batch_size: Annotated[
            int, typer.Option("--batch-size", min=1, help=_("Rows per transaction."))
        ] = 5000,
        fmt: FormatOpt = Format.table,
    ) -> None:
        _run(
            kind, path, mode, dry_run, encoding, sheet, map_file, show_mapping,
            region.upper(), rejects, batch_size, fmt,
        )  # fmt: skip


for _kind in KIND_HELP:
    _make(_kind)


IMPORT_COLUMNS = [
    ("id", _("Id")),
    ("kind", _("Kind")),
    ("name", _("File")),
    ("started_at", _("Started")),
    ("status", _("Status")),
    ("inserted", _("Inserted")),
    ("updated", _("Updated")),
    ("rejected", _("Rejected")),
]


@app.command(
    "list",
    help=_("List past imports, newest first."),
    epilog=_("Example: tricrm import list --format json"),
)
def list_cmd(
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=1000, help=_("Rows per page."))
    ] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0, help=_("Rows to skip."))] = 0,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import importing

    page = importing.list_imports(ctx(), limit=limit, offset=offset)
    rows = (
        page.items
        if fmt is not Format.table
        else [{**r.__dict__, "name": Path(r.file).name} for r in page.items]
    )
    emit_rows(
        rows,
        fmt,
        columns=IMPORT_COLUMNS,
        footer=page_caption(page),
    )


@app.command(
    "undo",
    help=_("Undo an import: remove the rows it added and restore the rows it changed."),
    epilog=_("Example: tricrm import undo 12"),
)
def undo_cmd(
    import_id: Annotated[int, typer.Argument(help=_("Import id (see tricrm import list)."))],
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import importing

    result = importing.undo_import(ctx(), import_id)
    if fmt is Format.json:
        emit_json(result)
        return
    info(
        _("import {id} undone: {removed} rows removed, {restored} rows restored").format(
            id=result.import_id, removed=result.removed, restored=result.restored
        )
    )
    if result.follow_ups_removed:
        info(_("{n} follow-ups it created removed").format(n=result.follow_ups_removed))
    if result.follow_ups_restored:
        info(_("{n} follow-ups it moved put back").format(n=result.follow_ups_restored))
