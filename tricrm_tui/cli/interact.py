"""``tricrm interact``: log a contact with a customer, list contacts."""

from __future__ import annotations

from typing import Annotated

import typer

from tricrm_tui.cli.output import Format, FormatOpt, emit_record, emit_rows, info, page_caption
from tricrm_tui.cli.state import ctx
from tricrm_tui.i18n import _

app = typer.Typer(
    help=_("Interactions: log and list contacts with customers."), no_args_is_help=True
)

LimitOpt = Annotated[int, typer.Option("--limit", "-n", min=1, max=1000, help=_("Rows per page."))]
OffsetOpt = Annotated[int, typer.Option("--offset", min=0, help=_("Rows to skip."))]
ChannelHelp = _("Channel: phone, email, wechat, sms, chat, visit, social or other.")

LIST_COLUMNS = [
    ("id", _("ID")),
    ("at", _("When")),
    ("customer_code", _("Code")),
    ("customer_name", _("Name")),
    ("channel", _("Channel")),
    ("direction", _("Direction")),
    ("subject", _("Subject")),
    ("outcome", _("Outcome")),
    ("operator", _("Operator")),
]


@app.command(
    "log",
    help=_("Log a contact with a customer, optionally with a follow-up task."),
    epilog=_(
        "Example: tricrm interact log C000123 --channel phone --subject 回访 "
        "--outcome 满意 --follow-up 3d"
    ),
)
def log_cmd(
    code: Annotated[str, typer.Argument(help=_("Customer code."))],
    channel: Annotated[str, typer.Option("--channel", "-c", help=ChannelHelp)],
    subject: Annotated[str, typer.Option("--subject", "-s", help=_("What the contact was about."))],
    notes: Annotated[str | None, typer.Option("--notes", help=_("Notes."))] = None,
    outcome: Annotated[str | None, typer.Option("--outcome", help=_("Outcome."))] = None,
    direction: Annotated[
        str, typer.Option("--direction", help=_("inbound or outbound."))
    ] = "outbound",
    satisfaction: Annotated[
        int | None,
        typer.Option("--satisfaction", min=1, max=5, help=_("Satisfaction score, 1 to 5.")),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option("--at", help=_("When it happened: DATE or 'DATE HH:MM' (default: now).")),
    ] = None,
    order: Annotated[str | None, typer.Option("--order", help=_("Linked order number."))] = None,
    campaign: Annotated[
        str | None, typer.Option("--campaign", help=_("Linked campaign name."))
    ] = None,
    touchpoint: Annotated[
        int | None, typer.Option("--touchpoint", help=_("Linked journey touchpoint id."))
    ] = None,
    follow_up: Annotated[
        str | None,
        typer.Option(
            "--follow-up",
            help=_("Create a follow-up: 3d or 2w (3天, 2周) after the contact, or a date."),
        ),
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import interactions

    record = interactions.log_interaction(
        ctx(),
        code,
        channel=channel,
        subject=subject,
        notes=notes,
        outcome=outcome,
        direction=direction,
        satisfaction=satisfaction,
        at=at,
        order_no=order,
        campaign=campaign,
        touchpoint_id=touchpoint,
        follow_up=follow_up,
    )
    if fmt is Format.table:
        info(_("logged interaction {id} with {code}").format(id=record.id, code=code))
        if record.followup_id:
            info(_("follow-up {id} created").format(id=record.followup_id))
    else:
        emit_record(record, fmt)


@app.command(
    "list",
    help=_("List contacts, newest first."),
    epilog=_("Example: tricrm interact list --customer C000123 --from 2026-01-01 --format json"),
)
def list_cmd(
    customer: Annotated[
        str | None, typer.Option("--customer", help=_("Only this customer (code)."))
    ] = None,
    channel: Annotated[str | None, typer.Option("--channel", "-c", help=ChannelHelp)] = None,
    date_from: Annotated[str | None, typer.Option("--from", help=_("From this date."))] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help=_("Up to and including this date."))
    ] = None,
    limit: LimitOpt = 50,
    offset: OffsetOpt = 0,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import interactions

    page = interactions.list_interactions(
        ctx(),
        customer=customer,
        channel=channel,
        date_from=date_from,
        date_to=date_to,
        limit=limit,
        offset=offset,
    )
    emit_rows(
        page.items,
        fmt,
        columns=LIST_COLUMNS,
        footer=page_caption(page),
    )
