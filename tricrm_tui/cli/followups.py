"""``tricrm followups``: the task list — list, add, done, snooze, cancel."""

from __future__ import annotations

from typing import Annotated

import typer

from tricrm_tui.cli.output import Format, FormatOpt, emit_record, emit_rows, info, page_caption
from tricrm_tui.cli.state import ctx
from tricrm_tui.i18n import _

app = typer.Typer(
    help=_("Follow-ups: tasks to contact customers, with due dates and owners."),
    no_args_is_help=True,
)

LimitOpt = Annotated[int, typer.Option("--limit", "-n", min=1, max=1000, help=_("Rows per page."))]
OffsetOpt = Annotated[int, typer.Option("--offset", min=0, help=_("Rows to skip."))]
IdArg = Annotated[int, typer.Argument(help=_("Follow-up id."))]

LIST_COLUMNS = [
    ("id", _("ID")),
    ("due", _("Due")),
    ("customer_code", _("Code")),
    ("customer_name", _("Name")),
    ("tier", _("Tier")),
    ("last_contact", _("Last contact")),
    ("reason", _("Reason")),
    ("status", _("Status")),
    ("owner", _("Owner")),
]


@app.command(
    "list",
    help=_("List follow-ups, soonest first (open and snoozed unless --status is given)."),
    epilog=_("Example: tricrm followups list --mine --overdue --format json"),
)
def list_cmd(
    customer: Annotated[
        str | None, typer.Option("--customer", help=_("Only this customer (code)."))
    ] = None,
    mine: Annotated[bool, typer.Option("--mine", help=_("Only tasks I own."))] = False,
    overdue: Annotated[bool, typer.Option("--overdue", help=_("Only tasks past due."))] = False,
    due: Annotated[
        str | None, typer.Option("--due", help=_("Only tasks due on a day: today or a date."))
    ] = None,
    status: Annotated[
        str | None,
        typer.Option("--status", help=_("open, snoozed, done, cancelled, active or all.")),
    ] = None,
    limit: LimitOpt = 50,
    offset: OffsetOpt = 0,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import followups

    page = followups.list_followups(
        ctx(),
        customer=customer,
        mine=mine,
        overdue=overdue,
        due=due,
        status=status,
        limit=limit,
        offset=offset,
    )
    emit_rows(
        page.items,
        fmt,
        columns=LIST_COLUMNS,
        footer=page_caption(page),
    )


@app.command(
    "add",
    help=_("Add a follow-up task for a customer."),
    epilog=_("Example: tricrm followups add C000123 --due 2026-12-01 --reason 报价跟进"),
)
def add_cmd(
    code: Annotated[str, typer.Argument(help=_("Customer code."))],
    due: Annotated[str, typer.Option("--due", help=_("3d, 2w, 3天, a date or 'DATE HH:MM'."))],
    reason: Annotated[str, typer.Option("--reason", help=_("What to do."))],
    owner: Annotated[str | None, typer.Option("--owner", help=_("Owner (default: you)."))] = None,
    priority: Annotated[
        int, typer.Option("--priority", min=1, max=3, help=_("1 high, 2 normal, 3 low."))
    ] = 2,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import followups

    row = followups.add_followup(
        ctx(), code, due=due, reason=reason, owner=owner, priority=priority
    )
    _report(row, fmt, _("added follow-up {id}"))


def _report(row: object, fmt: Format, message: str) -> None:
    if fmt is Format.table:
        info(message.format(id=getattr(row, "id", "")))
    else:
        emit_record(row, fmt)


@app.command(
    "done",
    help=_("Close a follow-up; with --log, also record the contact."),
    epilog=_("Example: tricrm followups done 42 --log '已回访，客户满意' --channel wechat"),
)
def done_cmd(
    followup_id: IdArg,
    log: Annotated[
        str | None, typer.Option("--log", help=_("Log the contact with this subject."))
    ] = None,
    channel: Annotated[
        str, typer.Option("--channel", "-c", help=_("Channel of the logged contact."))
    ] = "phone",
    outcome: Annotated[str | None, typer.Option("--outcome", help=_("Outcome."))] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import followups

    row = followups.done(ctx(), followup_id, log=log, channel=channel, outcome=outcome)
    _report(row, fmt, _("follow-up {id} done"))


@app.command(
    "snooze",
    help=_("Push a follow-up back by a period (1d, 4h, 2w, 2天) or to a date."),
    epilog=_("Example: tricrm followups snooze 42 2d"),
)
def snooze_cmd(
    followup_id: IdArg,
    period: Annotated[str, typer.Argument(help=_("How long: 4h, 2d, 1w, 2天 or a date."))] = "1d",
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import followups

    row = followups.snooze(ctx(), followup_id, period)
    _report(row, fmt, _("follow-up {id} snoozed"))


@app.command(
    "cancel",
    help=_("Cancel a follow-up."),
    epilog=_("Example: tricrm followups cancel 42"),
)
def cancel_cmd(followup_id: IdArg, fmt: FormatOpt = Format.table) -> None:
    from tricrm_tui.services import followups

    row = followups.cancel(ctx(), followup_id)
    _report(row, fmt, _("follow-up {id} cancelled"))
