"""``tricrm feedback``: complaints (tickets with an SLA) and CSAT/NPS surveys."""

from __future__ import annotations

from typing import Annotated

import typer

from tricrm_tui.cli.figures import as_numbers
from tricrm_tui.cli.output import (
    EncodingOpt,
    Format,
    FormatOpt,
    SheetOpt,
    emit_record,
    emit_rows,
    info,
    page_caption,
)
from tricrm_tui.cli.state import ctx
from tricrm_tui.i18n import _

app = typer.Typer(help=_("Feedback: complaints and satisfaction surveys."), no_args_is_help=True)
complaint_app = typer.Typer(
    help=_("Complaints as tickets: log, list, progress, resolve and close."),
    no_args_is_help=True,
)
survey_app = typer.Typer(
    help=_("Surveys: CSAT (1–5) and NPS (0–10) answers and their summary."),
    no_args_is_help=True,
)
app.add_typer(complaint_app, name="complaint")
app.add_typer(survey_app, name="survey")

LimitOpt = Annotated[int, typer.Option("--limit", "-n", min=1, max=1000, help=_("Rows per page."))]
OffsetOpt = Annotated[int, typer.Option("--offset", min=0, help=_("Rows to skip."))]
CodeArg = Annotated[str, typer.Argument(help=_("Customer code."))]
IdArg = Annotated[int, typer.Argument(help=_("Complaint number."))]
TouchpointOpt = Annotated[
    str | None, typer.Option("--touchpoint", help=_("Journey touchpoint (id or name)."))
]
OrderOpt = Annotated[str | None, typer.Option("--order", help=_("Order number."))]

COMPLAINT_COLUMNS = [
    ("id", _("No.")),
    ("customer_code", _("Customer")),
    ("category", _("Category")),
    ("severity", _("Severity")),
    ("status", _("Status")),
    ("owner", _("Owner")),
    ("sla_due_at", _("SLA due")),
    ("overdue", _("Overdue")),
]


def _show(record: object, fmt: Format, message: str) -> None:
    if fmt is Format.table:
        info(message)
    else:
        emit_record(record, fmt)


@complaint_app.command(
    "add",
    help=_("Log a complaint; its SLA due time follows from the severity."),
    epilog=_(
        "Example: tricrm feedback complaint add C000123 --category 物流 --severity high "
        "--order SO-1001 --notes '包裹破损'"
    ),
)
def complaint_add(
    code: CodeArg,
    category: Annotated[str, typer.Option("--category", help=_("Category, e.g. delivery."))],
    severity: Annotated[
        str, typer.Option("--severity", help=_("low, medium, high or critical."))
    ] = "medium",
    touchpoint: TouchpointOpt = None,
    order: OrderOpt = None,
    notes: Annotated[str | None, typer.Option("--notes", help=_("What happened."))] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help=_("Who handles it (default: you)."))
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import feedback

    rec = feedback.add_complaint(
        ctx(),
        code,
        category=category,
        severity=severity,
        notes=notes,
        owner=owner,
        touchpoint=touchpoint,
        order=order,
    )
    _show(rec, fmt, _("logged complaint {id}").format(id=rec.id))


@complaint_app.command(
    "list",
    help=_("List complaints, open and most urgent first."),
    epilog=_("Example: tricrm feedback complaint list --overdue --format json"),
)
def complaint_list(
    status: Annotated[
        str | None,
        typer.Option("--status", help=_("open, in_progress, resolved or closed.")),
    ] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help=_("Only open complaints past their SLA."))
    ] = False,
    customer: Annotated[
        str | None, typer.Option("--customer", help=_("Only this customer's."))
    ] = None,
    limit: LimitOpt = 50,
    offset: OffsetOpt = 0,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import feedback

    page = feedback.list_complaints(
        ctx(), status=status, overdue=overdue, customer=customer, limit=limit, offset=offset
    )
    emit_rows(
        page.items,
        fmt,
        columns=COMPLAINT_COLUMNS,
        footer=page_caption(page),
    )


@complaint_app.command(
    "show",
    help=_("Show one complaint."),
    epilog=_("Example: tricrm feedback complaint show 12"),
)
def complaint_show(complaint_id: IdArg, fmt: FormatOpt = Format.table) -> None:
    from tricrm_tui.services import feedback

    rec = feedback.get_complaint(ctx(), complaint_id)
    emit_record(rec, fmt, title=_("Complaint {id}").format(id=rec.id))


@complaint_app.command(
    "update",
    help=_("Change a complaint's status (open → in_progress → resolved → closed)."),
    epilog=_("Example: tricrm feedback complaint update 12 --status in_progress"),
)
def complaint_update(
    complaint_id: IdArg,
    status: Annotated[str, typer.Option("--status", help=_("The new status."))],
    resolution: Annotated[
        str | None, typer.Option("--resolution", help=_("Resolution notes (to resolve)."))
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import feedback

    rec = feedback.set_status(ctx(), complaint_id, status, resolution=resolution)
    _show(rec, fmt, _("complaint {id} is now {status}").format(id=rec.id, status=rec.status))


@complaint_app.command(
    "resolve",
    help=_("Resolve a complaint with notes on what was done."),
    epilog=_("Example: tricrm feedback complaint resolve 12 --resolution '已补发并致歉'"),
)
def complaint_resolve(
    complaint_id: IdArg,
    resolution: Annotated[str, typer.Option("--resolution", help=_("What was done."))],
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import feedback

    rec = feedback.resolve(ctx(), complaint_id, resolution)
    _show(rec, fmt, _("complaint {id} is now {status}").format(id=rec.id, status=rec.status))


@complaint_app.command(
    "close",
    help=_("Close a resolved complaint."),
    epilog=_("Example: tricrm feedback complaint close 12"),
)
def complaint_close(complaint_id: IdArg, fmt: FormatOpt = Format.table) -> None:
    from tricrm_tui.services import feedback

    rec = feedback.close(ctx(), complaint_id)
    _show(rec, fmt, _("complaint {id} is now {status}").format(id=rec.id, status=rec.status))


@survey_app.command(
    "add",
    help=_("Record one survey answer."),
    epilog=_("Example: tricrm feedback survey add C000123 --kind nps --score 9 --touchpoint 售后"),
)
def survey_add(
    code: CodeArg,
    kind: Annotated[str, typer.Option("--kind", help=_("csat (1–5) or nps (0–10)."))],
    score: Annotated[int, typer.Option("--score", help=_("The score given."))],
    touchpoint: TouchpointOpt = None,
    order: OrderOpt = None,
    comment: Annotated[str | None, typer.Option("--comment", help=_("Free comment."))] = None,
    date: Annotated[
        str | None, typer.Option("--date", help=_("Answer date (default: now)."))
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import feedback
    from tricrm_tui.services.normalize import parse_date

    rec = feedback.add_survey(
        ctx(),
        code,
        kind=kind,
        score=score,
        touchpoint=touchpoint,
        order=order,
        comment=comment,
        day=parse_date(date, field="date") if date else None,
    )
    _show(rec, fmt, _("recorded survey answer {id}").format(id=rec.id))


@survey_app.command(
    "list",
    help=_("List survey answers, newest first."),
    epilog=_("Example: tricrm feedback survey list --customer C000123 --format json"),
)
def survey_list(
    customer: Annotated[
        str | None, typer.Option("--customer", help=_("Only this customer's."))
    ] = None,
    limit: LimitOpt = 50,
    offset: OffsetOpt = 0,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import feedback

    page = feedback.list_surveys(ctx(), customer=customer, limit=limit, offset=offset)
    emit_rows(
        page.items,
        fmt,
        columns=[
            ("id", _("No.")),
            ("customer_code", _("Customer")),
            ("kind", _("Kind")),
            ("score", _("Score")),
            ("touchpoint", _("Touchpoint")),
            ("answered_at", _("Answered")),
            ("comment", _("Comment")),
        ],
        footer=page_caption(page),
    )


@survey_app.command(
    "import",
    help=_(
        "Import survey answers from any file tricrm import reads: delimited text in any "
        "encoding, XLSX, old XLS, a web page's table, an XML spreadsheet or JSON Lines "
        "(columns: customer code, kind, score, touchpoint, date, comment). Bad rows are "
        "listed and skipped."
    ),
    epilog=_("Example: tricrm feedback survey import answers.xlsx --format json"),
)
def survey_import(
    path: Annotated[
        str,
        typer.Argument(help=_("File to import (.csv, .tsv, .txt, .xlsx, .xls, .xml, .jsonl).")),
    ],
    encoding: EncodingOpt = None,
    sheet: SheetOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import feedback

    result = feedback.import_surveys(ctx(), path, encoding=encoding, sheet=sheet)
    if fmt is Format.json:
        from tricrm_tui.cli.output import emit_json

        emit_json(result)
        return
    if result.rejects:
        emit_rows(
            result.rejects,
            fmt,
            columns=[("line", _("Line")), ("field", _("Field")), ("reason", _("Reason"))],
        )
    info(
        _("imported {n} answers, skipped {dup} already imported, rejected {bad}").format(
            n=result.imported, dup=result.duplicates, bad=len(result.rejects)
        )
    )


@survey_app.command(
    "summary",
    help=_("CSAT (share of 4–5 answers, and mean) and NPS (% promoters − % detractors)."),
    epilog=_("Example: tricrm feedback survey summary --by month --format csv"),
)
def survey_summary(
    by: Annotated[
        str | None, typer.Option("--by", help=_("touchpoint, segment, tier or month."))
    ] = None,
    date_from: Annotated[str | None, typer.Option("--from", help=_("First day."))] = None,
    date_to: Annotated[str | None, typer.Option("--to", help=_("Last day."))] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import feedback
    from tricrm_tui.services.normalize import parse_date

    rows = feedback.survey_summary(
        ctx(),
        by=by,
        date_from=parse_date(date_from, field="from") if date_from else None,
        date_to=parse_date(date_to, field="to") if date_to else None,
    )
    columns = [
        ("csat_responses", _("CSAT n")),
        ("csat", _("CSAT %")),
        ("csat_mean", _("CSAT mean")),
        ("nps_responses", _("NPS n")),
        ("promoters", _("Promoters")),
        ("passives", _("Passives")),
        ("detractors", _("Detractors")),
        ("nps", _("NPS")),
    ]
    if by:
        columns.insert(0, ("group", _("Group")))
    emit_rows(
        [as_numbers(r) for r in rows],
        fmt,
        columns=columns,
        footer=None if rows else _("no survey answers"),
    )
